"""Reading media with a time limit. PyAV's reads block in C, and a source on a network mount
that stops answering would hang rproxy with no message; run there, a read can be given up on.
The thread it ran in is left behind (a read stuck in the kernel cannot be cancelled), which is
harmless: it is a daemon, and the clip has failed with a reason that says what stalled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from ._errors import StallError

T = TypeVar("T")

# The longest a probe or a verification may take before the source (or proxy) is called
# stalled; a clip's own clip_timeout_s lowers it. A probe reads headers, a frame, and at most
# the packet index of the file: two minutes is far beyond that on any working disk or network.
STALL_LIMIT_S = 120.0


def bounded(call: Callable[[], T], limit_s: float, what: str) -> T:
    """`call()`, or StallError when it has not returned after `limit_s` seconds. Exceptions
    (and interrupts, which arrive in the waiting thread) pass through as they are."""
    outcome: list[tuple[bool, object]] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed to the waiting thread, which decides
            outcome.append((False, exc))
        finally:
            done.set()

    worker = threading.Thread(target=run, name=f"rproxy {what}", daemon=True)
    worker.start()
    if not done.wait(limit_s):
        raise StallError(f"{what} did not answer within {limit_s:g} s (a network mount or a "
                         "device that stopped responding?); nothing was written")
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[return-value]
    assert isinstance(value, BaseException)
    raise value


def stall_limit(clip_timeout_s: float) -> float:
    return min(clip_timeout_s, STALL_LIMIT_S)
