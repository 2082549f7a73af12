"""SIGTERM handled like Ctrl-C, so both stop ffmpeg, leave no partial file and still write
the job's result."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when rproxy receives SIGTERM (or SIGINT)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_of(exc: BaseException) -> int:
    return exc.signum if isinstance(exc, Interrupted) else signal.SIGINT


# Ctrl-C, `kill`, and the terminal closing (an ssh session dropped at 2 a.m.) all stop a run
# the same way: ffmpeg stopped, no partial file, the result written.
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


def _in_main_thread() -> bool:
    # Python runs signal handlers, and lets them be set, only in the main thread.
    return threading.current_thread() is threading.main_thread()


def raise_interrupted(signum: int, _frame: object) -> None:
    """A signal handler: raise Interrupted in the main thread."""
    raise Interrupted(signum)


@contextlib.contextmanager
def deferred_signals(*, reraise: bool = True) -> Iterator[list[int]]:
    """SIGINT and SIGTERM wait until the block is done, so that a step that must not be cut
    in half (a record and the rename it vouches for, a job's result) is never cut in half.

    Yields the list of signals that arrived meanwhile. At the end the first of them is
    delivered to the handler that was in place before (raising KeyboardInterrupt or
    Interrupted as usual) unless `reraise` is false or an interrupt is already on its way.
    Main thread only; a no-op elsewhere (Python runs handlers in the main thread)."""
    pending: list[int] = []
    if not _in_main_thread():
        yield pending
        return

    def remember(signum: int, _frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {signum: signal.signal(signum, remember) for signum in STOP_SIGNALS}
    try:
        yield pending
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending and reraise and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            _deliver(pending[0], previous[signal.Signals(pending[0])])


def _deliver(signum: int, handler: object) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within this block SIGTERM and SIGHUP raise Interrupted, as SIGINT raises
    KeyboardInterrupt (main thread only; a no-op elsewhere)."""
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, raise_interrupted)
                for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """The stop signals blocked (not handled) within the block, e.g. across a fork: one
    arriving between fork and exec would raise KeyboardInterrupt inside the child's Python
    code. They arrive right after the block, in this process, where they interrupt as usual."""
    if not _in_main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
