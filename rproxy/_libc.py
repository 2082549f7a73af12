"""The process's own C library, for the few calls Python has no function for (renameat2, prctl,
a signal handler's mask)."""

from __future__ import annotations

import ctypes


def _load() -> ctypes.CDLL | None:
    # The process's own symbols, which hold the C library's: find_library("c") would run
    # ldconfig in a child process, at every start.
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


LIBC = _load()
