"""Stop signals (Ctrl-C, SIGTERM, the terminal closing): how a run ends when they arrive, also
in bursts (a closing terminal sends SIGHUP then SIGTERM; people press Ctrl-C twice).

The rule: the first stop signal of a run raises `Interrupted` in the main thread, exactly once.
Every later one is only remembered: raising again would land inside the cleanup that the first
one started (a lock's `finally`, a record being written) and replace the interrupt by an
unrelated error. Inside `deferred()` even the first one waits until the block is done, so a
step that must not be cut in half (a record and the rename it vouches for, a job's result) never
is. Running FFmpeg processes are stopped by the handler itself, so that a clip running in
another thread (doit -P thread) learns of the interrupt too.

"First" means first to arrive. Python runs the handlers of signals that arrived together in the
order of their numbers (SIGHUP 1, SIGINT 2, SIGTERM 15), not of their arrival, and a burst a
few microseconds apart arrives together whenever the main thread is busy in C or waiting for the
GIL. So the handlers also keep a wakeup pipe (`signal.set_wakeup_fd`), into which the C-level
handler writes each signal's number the moment it arrives: the first byte is the first signal.

The kernel has two ways to hand a later signal over first, when the main thread waits for a CPU
(a loaded machine) at the moment a signal reaches it: it can give the next one to another
thread, or stack it on top of the first, whose C-level handler has not run yet. So only the
main thread takes stop signals (`side_threads()`), and while one's C-level handler runs the
kernel holds the others back (`_handle`). What is left: signals that all wait for the main
thread to get a CPU reach it together, and the kernel gives them lowest number first.

The state is per process, as signal handlers are; `handling()` installs and restores it."""

from __future__ import annotations

import _thread
import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType

from ._libc import LIBC

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


_NUMBERS = frozenset(int(s) for s in STOP_SIGNALS)


@dataclass
class _State:
    first: int | None = None  # the first stop signal since the last reset
    later: list[int] = field(default_factory=list)
    raised: bool = False  # Interrupted has been raised for `first` (or never will be)
    settled: bool = False  # the outcome is final: stop signals are only remembered
    depth: int = 0  # nesting of deferred() blocks in the main thread
    installed: int = 0  # nesting of handling() blocks
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    busy: bool = False  # a handler is running
    spawning: int = 0  # threads of `spawner` between fork and exec of a child (spawning())
    spawner: int = 0
    forking: int = 0  # threads of `fork_parent` inside os.fork() (its at-fork hooks included)
    fork_parent: int = 0
    # The wakeup pipe (read end, write end) and the process it belongs to (a forked doit
    # worker makes its own, see _after_fork).
    pipe: tuple[int, int] | None = None
    pipe_pid: int = 0
    # Stop signals this process was started with ignored (`nohup` ignores SIGHUP; a shell's
    # background job SIGINT): they stay ignored, as the one who started us asked.
    ignored: frozenset[int] | None = None


_STATE = _State()


def _handled() -> list[signal.Signals]:
    """The stop signals rproxy handles: all but those ignored when it first looked."""
    if _STATE.ignored is None:
        _STATE.ignored = frozenset(int(signum) for signum in STOP_SIGNALS
                                   if signal.getsignal(signum) is signal.SIG_IGN)
    return [signum for signum in STOP_SIGNALS if int(signum) not in _STATE.ignored]


def _in_main_thread() -> bool:
    # Python runs signal handlers, and lets them be set, only in the main thread.
    return threading.current_thread() is threading.main_thread()


def _arrivals() -> list[int]:
    """The stop signals that arrived since the last look, in the order they arrived (read
    from the wakeup pipe; empty when there is none, or another process emptied it)."""
    state = _STATE
    if state.pipe is None or state.pipe_pid != os.getpid():
        return []
    found: list[int] = []
    while True:
        try:
            data = os.read(state.pipe[0], 512)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            return found
        if not data:
            break
        found.extend(byte for byte in data if byte in _NUMBERS)
        if len(data) < 512:
            break
    return found


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    state = _STATE
    if state.spawning and os.getpid() != state.spawner:
        return  # a child between fork and exec (see spawning()): the parent handles it
    if state.forking and os.getpid() != state.fork_parent:
        return  # a child before its at-fork hook made it a process of its own (_after_fork)
    if state.busy:
        # A handler is running below this one on the stack (Python runs a handler's code
        # like any other, and the next signal's handler can start inside it): that one
        # reads the pipe and decides; this one must not raise inside it.
        state.later.append(signum)
        return
    state.busy = True
    try:
        arrived = _arrivals() or [signum]
        if state.first is None:
            state.first = arrived[0]
            state.later.extend(arrived[1:])
        else:
            state.later.extend(arrived)
        for stop in list(state.on_stop):
            with contextlib.suppress(Exception):
                stop()
        # Not inside os.fork(): Python runs the handler in whatever at-fork hook is running
        # (logging's, threading's), which prints the interrupt and drops it. It is raised
        # again once the fork is done (_after_fork_parent).
        in_hook = _in_fork_hook(_frame)
        now = (state.depth == 0 and not state.raised and not state.settled
               and not state.forking and not _ending(_frame) and not in_hook)
        if in_hook and not state.raised and not state.settled:
            _raise_soon(state.first)
        if now:
            state.raised = True
    finally:
        state.busy = False
    if now:
        raise Interrupted(state.first)


def _in_fork_hook(frame: FrameType | None) -> bool:
    """Is the handler running inside an at-fork hook (rproxy's _after_fork_parent, logging's
    or threading's reinit in a new doit worker)? An exception raised there is printed and
    dropped, so the interrupt must wait until the hook is over. The hooks are the only code
    whose names say "fork" that runs inside os.fork()."""
    while frame is not None:
        if "fork" in frame.f_code.co_name:
            return True
        frame = frame.f_back
    return False


def _ending(frame: FrameType | None) -> bool:
    """The interpreter is ending (Python joins its threads before the atexit handlers run):
    nothing is left to stop, and an exception here is only printed ("Exception ignored in
    threading._shutdown"). The signal is remembered for the exit handlers instead."""
    return frame is not None and frame.f_code is threading._shutdown.__code__  # type: ignore[attr-defined]


def pending() -> int | None:
    """The first stop signal that arrived since the last reset, raised or not."""
    return _STATE.first


def reset() -> None:
    """Forget the signals of a run whose interrupt has been handled (the API returns, and the
    caller's program goes on: its next Ctrl-C must interrupt again)."""
    _arrivals()  # bytes of that run's signals: not the next run's first
    _STATE.first = None
    _STATE.later.clear()
    _STATE.raised = False
    _STATE.settled = False


def settle() -> None:
    """The run's outcome is final (its result is written): from now until the next reset, a
    stop signal, also one that arrived while the result was being written, is only
    remembered. Raising it would make the exit code disagree with what was written."""
    _STATE.settled = True


def raise_if_pending() -> None:
    """Raise the interrupt that arrived while it could not be raised (once; main thread only:
    that is where the handler would have raised it)."""
    state = _STATE
    if (state.first is not None and not state.raised and not state.settled
            and state.depth == 0 and _in_main_thread()):
        state.raised = True
        raise Interrupted(state.first)


def on_stop(callback: Callable[[], None]) -> None:
    """Call `callback` from the handler of every stop signal (it must be quick and safe there)."""
    if callback not in _STATE.on_stop:
        _STATE.on_stop.append(callback)


def _open_pipe() -> int:
    """Make this process's wakeup pipe and hand its write end to the C-level handler; returns
    the wakeup fd it replaces (-1: none). Main thread only."""
    state = _STATE
    if state.pipe is not None and state.pipe_pid == os.getpid():
        return signal.set_wakeup_fd(state.pipe[1], warn_on_full_buffer=False)
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)  # required by set_wakeup_fd: a full pipe must not block
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except (ValueError, OSError):
        os.close(read)
        os.close(write)
        return -1
    state.pipe, state.pipe_pid = (read, write), os.getpid()
    return previous


def _before_fork() -> None:
    _STATE.forking += 1
    _STATE.fork_parent = os.getpid()


def _after_fork_parent() -> None:
    state = _STATE
    state.forking = max(0, state.forking - 1)
    if state.forking or state.first is None or state.raised or state.settled:
        return
    # A stop signal came during the fork: have the handler raise it once os.fork() has
    # returned. Not from here: Python runs a handler at its next check, which can be inside
    # this hook, and an exception raised in an at-fork hook is printed and dropped.
    _raise_soon(state.first)


def _raise_soon(signum: int) -> None:
    """Deliver `signum` again from another thread: the main thread's handler then runs at its
    next check, past the hook it is in now."""
    # The low-level thread start: threading's waits for the thread to run, and a handler
    # could run inside that wait, still in the hook. Sent to the main thread: a signal raised
    # in the helper thread would not wake the main thread from a wait (a sleep, doit's queue).
    main = threading.main_thread().ident
    if main is not None:  # always, once the thread runs
        _thread.start_new_thread(_signal_main, (main, signum))


def _signal_main(main: int, signum: int) -> None:
    # This thread lives a few microseconds; then no stop signal can come here. Blocked
    # directly: asking threading which thread this is would register a dummy Thread object
    # for it, one per call, that is never removed.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    signal.pthread_kill(main, signum)


def _after_fork() -> None:
    """In a forked child. One that will exec (FFmpeg, inside spawning()) keeps everything: it
    ignores stop signals until the exec. Any other (a doit -n N worker) is a process of its
    own: its own wakeup pipe (else parent and child would read each other's signals), and none
    of the parent's signals (a worker forked just after the parent's Ctrl-C must still stop
    at the SIGTERM doit sends it, instead of taking it for a later signal of that burst; one
    that reached the child itself during the fork is dropped: the parent has it too, and
    decides)."""
    state = _STATE
    if state.spawning:
        return
    state.first, state.raised, state.settled, state.busy = None, False, False, False
    state.later = []
    state.depth = 0  # the child runs no further in the parent's deferred blocks
    state.forking = 0
    if state.pipe is None or state.pipe_pid == os.getpid():
        return
    # Off the parent's pipe first: a signal meanwhile must not be written to a closed fd.
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    with contextlib.suppress(OSError):
        os.close(state.pipe[0])
    with contextlib.suppress(OSError):
        os.close(state.pipe[1])
    state.pipe = None
    with contextlib.suppress(Exception):
        _open_pipe()


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent,
                    after_in_child=_after_fork)


def _on_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Python drops an exception raised where nothing can catch it (a finalizer, a weakref
    callback such as importlib's module locks, an at-fork or exit hook) and prints "Exception
    ignored in". The handler can raise the interrupt in any of them: then it is not printed but
    raised again once that code is over, so that it still ends the run."""
    state = _STATE
    if not isinstance(unraisable.exc_value, Interrupted):
        _previous_unraisablehook(unraisable)
        return
    if state.raised and state.first is not None and not state.settled:
        state.raised = False
        if not state.forking and _in_main_thread():
            _raise_soon(state.first)


_previous_unraisablehook = sys.unraisablehook


def _catch_dropped_interrupts() -> Callable[[sys.UnraisableHookArgs], object]:
    """Install _on_unraisable; returns the hook it replaces."""
    global _previous_unraisablehook
    previous = sys.unraisablehook
    if previous is not _on_unraisable:
        _previous_unraisablehook = previous
        sys.unraisablehook = _on_unraisable
    return previous


class _Sigaction(ctypes.Structure):
    """struct sigaction as Linux's C libraries (glibc, musl) lay it out on x86-64 and arm64."""

    _fields_ = [("handler", ctypes.c_void_p),
                ("mask", ctypes.c_ulong * (128 // ctypes.sizeof(ctypes.c_ulong))),
                ("flags", ctypes.c_int),
                ("restorer", ctypes.c_void_p)]


_HOLDS_OTHERS = (LIBC is not None and sys.platform.startswith("linux")
                 and os.uname().machine in ("x86_64", "aarch64"))


def _handle(signum: int) -> None:
    """Handle `signum` with _on_signal; and while Python's C-level handler for it runs, the
    kernel holds the other stop signals back (Python installs it with an empty mask). Else a
    signal arriving then is stacked on top and its C-level handler runs first: the main thread
    can lose its CPU just as the kernel hands it a signal, and the next signal of the burst,
    40 ms later, would read as the first."""
    signal.signal(signum, _on_signal)
    if not _HOLDS_OTHERS:
        return
    assert LIBC is not None
    action = _Sigaction()
    if LIBC.sigaction(signum, None, ctypes.byref(action)) != 0:
        return
    for other in STOP_SIGNALS:
        LIBC.sigaddset(ctypes.byref(action.mask), int(other))
    LIBC.sigaction(signum, ctypes.byref(action), None)


def install() -> None:
    """Handle the stop signals this way for the rest of the process (doit's own process)."""
    if _in_main_thread():
        _catch_dropped_interrupts()
        _open_pipe()
        for signum in _handled():
            _handle(signum)


@contextlib.contextmanager
def handling(*, final: bool = False) -> Iterator[None]:
    """Within the block the stop signals raise Interrupted once (see the module's docstring);
    the previous handlers come back after it. Main thread only; a no-op elsewhere.

    `final`: the process ends after the block (the `rproxy` command). Then the handlers are
    not given back: the stop signals stay blocked, because a burst's later signals are still
    arriving, and the default action of one would kill the process with another exit code
    (or print a KeyboardInterrupt traceback) after the first was handled."""
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    outermost = _STATE.installed == 0
    if outermost:
        reset()
        previous_hook = _catch_dropped_interrupts()
        previous_fd = _open_pipe()
    for signum in _handled():
        _handle(signum)
    _STATE.installed += 1
    try:
        yield
    finally:
        _STATE.installed -= 1
        if outermost:
            if final:
                block_for_good()
            else:
                for signum, handler in previous.items():
                    signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
                with contextlib.suppress(ValueError, OSError):
                    signal.set_wakeup_fd(previous_fd)
                sys.unraisablehook = previous_hook
                reset()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A stop signal waits until the block is done; then it is raised, unless an exception is
    already on its way (that one carries the run to its end anyway).

    Only the main thread's blocks count: that is where the handler raises. A block in a doit
    worker thread (-P thread) must not hold the main thread's interrupt back (doit would go
    on dispatching clips), nor raise it in the worker; the main thread ends the run while the
    worker finishes its block."""
    if not _in_main_thread():
        yield
        return
    state = _STATE
    state.depth += 1
    try:
        yield
    finally:
        state.depth = max(0, state.depth - 1)
        if sys.exc_info()[1] is None:
            raise_if_pending()


@contextlib.contextmanager
def spawning() -> Iterator[None]:
    """Around starting a child process that execs (FFmpeg through Popen with a preexec_fn).
    Python code runs in the child between fork and exec, and with it this module's handler:
    there a stop signal is ignored (the parent has it too, and stops the child once it is
    registered). The signals are not blocked instead: the kernel delivers blocked signals
    lowest number first, which would lose the order of a burst that arrives meanwhile."""
    state = _STATE
    state.spawner = os.getpid()
    state.spawning += 1
    try:
        yield
    finally:
        state.spawning -= 1


@contextlib.contextmanager
def side_threads() -> Iterator[None]:
    """Threads started within the block never take a stop signal. The kernel gives a signal
    sent to the process to a thread that does not block it. It prefers the main thread, but not
    while the main thread waits for a CPU with an earlier signal pending: then a later signal
    of the burst goes to another thread, and on a second CPU its handler can run first, so the
    later signal reads as the first.

    Blocked around the start, not by the thread itself: a thread inherits its starter's mask,
    so it has no moment without them blocked. Leaving the block may raise an interrupt that
    arrived meanwhile, once the threads have started."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def leave_to_main_thread() -> None:
    """In a thread rproxy did not start (doit's -P thread workers, which run clips): block the
    stop signals here for good, for the reason side_threads() gives. A no-op in the main
    thread."""
    if not _in_main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def block_for_good() -> None:
    """Block the stop signals for the rest of the process: once a run's result is final, a late
    signal must not make the exit code disagree with it."""
    if _in_main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
