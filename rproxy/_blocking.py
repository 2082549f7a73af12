"""System calls that the kernel lets no signal interrupt (an fsync, reading a file that is not
in memory, starting a child process without a preexec_fn: a vfork that waits for the child's
exec), made outside the main thread.

Why: only the main thread takes stop signals (rproxy._signals says why). A main thread inside
such a call cannot take one until the call returns (an fsync behind FFmpeg's writes, a child
that waits for a CPU before its exec, easily 50 ms on a loaded machine), and every signal of a
burst that arrives meanwhile waits too. The kernel then delivers them all at once, lowest
number first, and which one came first is lost: a SIGTERM and the Ctrl-C after it would be
reported as Ctrl-C. While another thread makes the call, the main thread waits in a way any
signal interrupts, and takes each one the moment it arrives."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ._signals import side_threads

T = TypeVar("T")


class _Call:
    def __init__(self, call: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.call, self.args = call, args
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.call(*self.args)
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            self.done.set()


class _Worker:
    """One thread per process that makes these calls, one at a time, in the order asked."""

    def __init__(self) -> None:
        self.calls: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._serve, name="rproxy blocking calls",
                                       daemon=True)

    def start(self) -> None:
        # Stop signals are the main thread's to take (side_threads() says why). Also: one
        # given to this thread would be taken late whenever it is inside a call, and once
        # rproxy blocks them for good in the main thread (its outcome is final) this thread
        # would take a late one during Python's shutdown, which gives them their default
        # actions back, and die of it.
        with side_threads():
            self.thread.start()

    def _serve(self) -> None:
        while True:
            self.calls.get().run()


_WORKER: _Worker | None = None
_START = threading.Lock()


def _worker() -> _Worker:
    global _WORKER
    with _START:
        if _WORKER is None or _WORKER.pid != os.getpid():  # a forked child has no such thread
            _WORKER = _Worker()
            _WORKER.start()
        return _WORKER


def _after_fork() -> None:
    global _START
    _START = threading.Lock()  # it may have been held by a thread the child does not have


os.register_at_fork(after_in_child=_after_fork)


def outside_main(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)`, made by another thread when this is the main thread. A stop signal while
    it waits is handled as anywhere else (raised, or held inside a deferred block); an interrupt
    raised while it waits leaves the call to finish on its own."""
    if threading.current_thread() is not threading.main_thread():
        return call(*args)
    job = _Call(call, args)
    _worker().calls.put(job)
    job.done.wait()
    if job.error is not None:
        raise job.error
    return job.value  # type: ignore[no-any-return]
