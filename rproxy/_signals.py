"""Stop signals (Ctrl-C, SIGTERM, the terminal closing): how a run ends when they arrive, also
in bursts (a closing terminal sends SIGHUP then SIGTERM; people press Ctrl-C twice).

The rule: the first stop signal of a run raises `Interrupted` in the main thread, exactly once.
Every later one is only remembered: raising again would land inside the cleanup that the first
one started (a lock's `finally`, a record being written) and replace the interrupt by an
unrelated error. Inside `deferred()` even the first one waits until the block is done, so a
step that must not be cut in half (a record and the rename it vouches for, a job's result) never
is. Running FFmpeg processes are stopped by the handler itself, so that a clip running in
another thread (doit -P thread) learns of the interrupt too.

The state is per process, as signal handlers are; `handling()` installs and restores it."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType

# Ctrl-C, `kill`, and the terminal closing (an ssh session dropped at 2 a.m.) all stop a run
# the same way: ffmpeg stopped, no partial file, the result written.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(SystemExit):
    """A stop signal arrived. A SystemExit with the shell's code (128 + the signal's number), so
    that whatever unwinds (rproxy's code, doit's, the interpreter) ends quietly with that code.

    Takes the signal's number or name; also the exit code as text, which is how doit's process
    workers hand an exception back to the main process (`cls(str(exc))`)."""

    def __init__(self, signal_or_name: int | str = signal.SIGINT) -> None:
        signum = _signal_number(signal_or_name)
        super().__init__(128 + signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal_name(self.signum)

    def __str__(self) -> str:
        return f"interrupted by {self.name}"


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _signal_number(value: int | str) -> int:
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.startswith("SIG") and text in signal.Signals.__members__:
        return int(signal.Signals[text])
    with contextlib.suppress(ValueError):
        number = int(text)
        return number - 128 if number > 128 else number
    for word in text.split():  # "interrupted by SIGTERM"
        if word in signal.Signals.__members__:
            return int(signal.Signals[word])
    return int(signal.SIGINT)


def signal_of(exc: BaseException) -> int:
    """The signal behind an interrupt: Interrupted knows it; a bare KeyboardInterrupt is Ctrl-C."""
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)


INTERRUPTS = (Interrupted, KeyboardInterrupt)


@dataclass
class _State:
    first: int | None = None  # the first stop signal since the last reset
    later: list[int] = field(default_factory=list)
    raised: bool = False  # Interrupted has been raised for `first`
    depth: int = 0  # nesting of deferred() blocks
    installed: int = 0  # nesting of handling() blocks
    on_stop: list[Callable[[], None]] = field(default_factory=list)


_STATE = _State()


def _in_main_thread() -> bool:
    # Python runs signal handlers, and lets them be set, only in the main thread.
    return threading.current_thread() is threading.main_thread()


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    state = _STATE
    for stop in list(state.on_stop):
        with contextlib.suppress(Exception):
            stop()
    if state.first is not None:
        state.later.append(signum)
        return
    state.first = signum
    if state.depth == 0:
        state.raised = True
        raise Interrupted(signum)


def pending() -> int | None:
    """The first stop signal that arrived since the last reset, raised or not."""
    return _STATE.first


def reset() -> None:
    """Forget the signals of a run whose interrupt has been handled (the API returns, and the
    caller's program goes on: its next Ctrl-C must interrupt again)."""
    _STATE.first = None
    _STATE.later.clear()
    _STATE.raised = False


def raise_if_pending() -> None:
    """Raise the interrupt that arrived while it could not be raised (once)."""
    state = _STATE
    if state.first is not None and not state.raised and state.depth == 0:
        state.raised = True
        raise Interrupted(state.first)


def on_stop(callback: Callable[[], None]) -> None:
    """Call `callback` from the handler of every stop signal (it must be quick and safe there)."""
    if callback not in _STATE.on_stop:
        _STATE.on_stop.append(callback)


def install() -> None:
    """Handle the stop signals this way for the rest of the process (doit's own process)."""
    if _in_main_thread():
        for signum in STOP_SIGNALS:
            signal.signal(signum, _on_signal)


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Within the block the stop signals raise Interrupted once (see the module's docstring);
    the previous handlers come back after it. Main thread only; a no-op elsewhere."""
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    if _STATE.installed == 0:
        reset()
    install()
    _STATE.installed += 1
    try:
        yield
    finally:
        _STATE.installed -= 1
        if _STATE.installed == 0:
            for signum, handler in previous.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            reset()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A stop signal waits until the block is done; then it is raised, unless an exception is
    already on its way (that one carries the run to its end anyway)."""
    state = _STATE
    state.depth += 1
    try:
        yield
    finally:
        state.depth -= 1
        if sys.exc_info()[1] is None:
            raise_if_pending()


@contextlib.contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """The stop signals blocked (not handled) within the block, e.g. across a fork: one
    arriving between fork and exec would run Python's handler inside the child. They arrive
    right after the block, in this process, where they interrupt as usual."""
    if not _in_main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def block_for_good() -> None:
    """Block the stop signals for the rest of the process: once a run's result is final, a late
    signal must not make the exit code disagree with it."""
    if _in_main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
