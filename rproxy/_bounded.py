"""Reading media with a time limit. PyAV's reads block in C, and a source on a network mount
that stops answering would hang rproxy with no message. So probes and verifications run in a
helper process (a "reader"), which can be given up on: the clip fails with a reason that says
what stalled, and rproxy goes on, or ends.

A process, not a thread: a read that a FUSE server (sshfs, rclone, a cloud file system) has
taken and never answers is waited out by the kernel, uninterruptibly, as on a hard NFS mount,
and a process with a thread inside it cannot exit at all, not even when killed. The reader
stuck there is left behind (killed; the kernel ends it when the mount answers or goes), and
rproxy itself still exits. A crash inside FFmpeg's libraries on a hostile file ends only the
reader, too.

Readers serve one call at a time and are kept for the next (starting one costs an
interpreter and PyAV's import, about 0.2 s, once per process). They run in a session of their
own, so a terminal's Ctrl-C reaches only rproxy, which decides; a reader ends when rproxy's end
of its pipe closes, whichever way rproxy ended."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any, TypeVar

from . import _signals as interrupts
from ._blocking import outside_main
from ._errors import ProbeError, StallError

T = TypeVar("T")

# The longest a probe or a verification may take before the source (or proxy) is called
# stalled; a clip's own clip_timeout_s lowers it. A probe reads headers, a frame, and at most
# the packet index of the file: two minutes is far beyond that on any working disk or network.
STALL_LIMIT_S = 120.0
# A reader's own start (an interpreter, PyAV): not counted against a call's limit, which may be
# a few seconds; only a machine that cannot start Python at all takes this long.
START_LIMIT_S = 60.0

_HEADER = struct.Struct(">Q")  # each message: its length, then the pickle
_READY = b"R"  # a reader's first byte: its modules are imported, it takes calls


def bounded(call: Callable[..., T], args: tuple[Any, ...], limit_s: float, what: str) -> T:
    """`call(*args)` in a reader process, or StallError when it has not returned after
    `limit_s` seconds. `call` is a module-level function, and its arguments and result can be
    pickled. Its exceptions come back as they were raised; an interrupt of rproxy's (a signal
    raised in this thread while it waits) stops the reader and goes on up."""
    reader = _POOL.take()
    try:
        try:
            ok, value = reader.call(call, args, limit_s, what)
        except BrokenPipeError:
            # The reader was gone before the call reached it (it was killed while idle):
            # nothing of this call ran yet, so it is made again by a new one.
            _POOL.drop(reader)
            reader = _POOL.take()
            ok, value = reader.call(call, args, limit_s, what)
    except BaseException as exc:
        _POOL.drop(reader)  # mid-call or dead: never handed out again
        stopped_by = interrupts.pending()
        if stopped_by is not None and not isinstance(exc, interrupts.INTERRUPTS):
            # A stop signal, handled in the main thread, stopped this reader (doit -P thread
            # runs the clip in another): the clip is interrupted, not failed.
            raise interrupts.Interrupted(stopped_by) from None
        raise
    _POOL.give_back(reader)
    if ok:
        return value  # type: ignore[return-value]
    assert isinstance(value, BaseException)
    raise value


def prestart() -> None:
    """Start a reader now, to be ready by the first probe: its start-up (an interpreter and
    PyAV, ~0.15 s) then runs beside rproxy's own instead of after it."""
    _POOL.prestart()


def stall_limit(clip_timeout_s: float) -> float:
    return min(clip_timeout_s, STALL_LIMIT_S)


class _Reader:
    """One reader process, and rproxy's ends of its pipes."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        # A file, not a pipe: a pipe that nobody reads fills, and the reader would block.
        self.errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  (closed by stop())
        # This very rproxy, wherever it was imported from (an editable install, a checkout
        # beside a dodo.py), then the parent's import path, whatever made it.
        path = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), *sys.path]
        bootstrap = (f"import sys; sys.path[:] = {path!r}; "
                     "from rproxy._bounded import serve; serve()")

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen([sys.executable, "-c", bootstrap], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=self.errors,
                                    start_new_session=True)

        try:
            self.proc = outside_main(start)  # a vfork: see _blocking
        except OSError as exc:
            self.errors.close()
            raise ProbeError(f"cannot start a reader process ({sys.executable}): "
                             f"{exc.strerror or exc}") from None
        self.ready = False

    def call(self, call: Callable[..., Any], args: tuple[Any, ...], limit_s: float,
             what: str) -> tuple[bool, object]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        if not self.ready:
            if self._receive(1, time.monotonic() + START_LIMIT_S) != _READY:
                raise self._ended(f"could not start the reader for {what}")
            self.ready = True
        request = pickle.dumps((os.getcwd(), call, args))
        stdin.write(_HEADER.pack(len(request)) + request)
        stdin.flush()
        deadline = time.monotonic() + limit_s
        header = self._receive(_HEADER.size, deadline, limit_s, what)
        if len(header) < _HEADER.size:
            raise self._ended(f"{what} failed")
        reply = self._receive(_HEADER.unpack(header)[0], deadline, limit_s, what)
        outcome = pickle.loads(reply)
        assert isinstance(outcome, tuple) and len(outcome) == 2
        return bool(outcome[0]), outcome[1]

    def _receive(self, size: int, deadline: float, limit_s: float | None = None,
                 what: str = "") -> bytes:
        """`size` bytes from the reader, or fewer if it ended; StallError at `deadline`."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        data = bytearray()
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                if limit_s is None:
                    raise ProbeError(f"a reader process did not start within "
                                     f"{START_LIMIT_S:g} s")
                raise StallError(f"{what} did not answer within {limit_s:g} s (a network "
                                 "mount or a device that stopped responding?); nothing was "
                                 "written")
            chunk = os.read(fd, size - len(data))
            if not chunk:
                break
            data += chunk
        return bytes(data)

    def _ended(self, doing: str) -> ProbeError:
        """The reader ended when it should have answered: a crash in FFmpeg's libraries on
        this file (a signal), or a Python that cannot import rproxy (its message)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        code = self.proc.returncode
        how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
               and -code in signal.Signals._value2member_map_ else f"exit code {code}")
        self.errors.seek(0)
        said = self.errors.read()[-400:].decode("utf-8", "replace").strip()
        return ProbeError(f"{doing}: the reader process ended ({how})"
                          + (f": {said.splitlines()[-1]}" if said else ""))

    def stop(self) -> None:
        """End the reader, without waiting for it: one stuck in a stalled read cannot end until
        the kernel gives the read back. Only its owner stops it (a forked doit worker that
        inherited this object closes its copies of the pipes and leaves the process alone)."""
        if self.owner == os.getpid():
            with contextlib.suppress(OSError):
                os.kill(self.proc.pid, signal.SIGKILL)
            _ENDED.append(self.proc)
        for stream in (self.proc.stdin, self.proc.stdout, self.errors):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()


# Stopped readers, reaped once they are gone (a stuck one only when its read returns).
_ENDED: list[subprocess.Popen[bytes]] = []


class _Pool:
    """This process's readers: each call takes an idle one or starts one (doit -P thread runs
    two jobs' clips at once), and gives it back. A forked doit worker starts its own."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Reader] = []
        self.busy: set[_Reader] = set()

    def take(self) -> _Reader:
        with self.lock:
            _ENDED[:] = [proc for proc in _ENDED if proc.poll() is None]
            while self.idle:
                reader = self.idle.pop()
                if reader.owner == os.getpid() and reader.proc.poll() is None:
                    self.busy.add(reader)
                    return reader
                reader.stop()
        reader = _Reader()
        with self.lock:
            self.busy.add(reader)
        return reader

    def prestart(self) -> None:
        with self.lock:
            if any(reader.owner == os.getpid() for reader in self.idle):
                return
        try:
            reader = _Reader()
        except ProbeError:
            return  # the first probe tries again, and says why it cannot
        self.give_back(reader)

    def give_back(self, reader: _Reader) -> None:
        with self.lock:
            self.busy.discard(reader)
            self.idle.append(reader)

    def drop(self, reader: _Reader) -> None:
        with self.lock:
            self.busy.discard(reader)
        reader.stop()

    def stop_busy(self) -> None:
        """Kill the readers in the middle of a call (from the stop signals' handler: a clip in
        a doit worker thread must not wait out its verification after Ctrl-C)."""
        for reader in list(self.busy):
            if reader.owner == os.getpid():
                with contextlib.suppress(OSError):
                    os.kill(reader.proc.pid, signal.SIGKILL)

    def after_fork(self) -> None:
        # The lock may have been held by a thread that does not exist in the child.
        self.lock = threading.Lock()
        self.busy = set()


_POOL = _Pool()
os.register_at_fork(after_in_child=_POOL.after_fork)
interrupts.on_stop(_POOL.stop_busy)


def serve() -> None:
    """A reader's main loop: calls from rproxy on stdin, their outcomes on stdout, until
    rproxy's end of the pipe closes."""
    # Started by rproxy's thread for blocking calls, which keeps the stop signals blocked:
    # this process takes them as any other does (a `kill` ends it).
    signal.pthread_sigmask(signal.SIG_SETMASK, ())
    # Only rproxy writes to the terminal: what FFmpeg's libraries or a warning would print on
    # stdout must not end up inside a reply.
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    requests = sys.stdin.buffer
    try:
        # The modules its calls live in, before it says it is ready: their import is not
        # counted against the first call's time limit.
        from . import _probe, _verify  # noqa: F401

        replies.write(_READY)
        replies.flush()
        while True:
            header = requests.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return  # rproxy closed its end: it is done, or gone
            cwd, call, args = pickle.loads(requests.read(_HEADER.unpack(header)[0]))
            try:
                os.chdir(cwd)  # relative paths mean what they mean in rproxy
                outcome: tuple[bool, object] = (True, call(*args))
            except Exception as exc:  # handed back to rproxy, which decides
                outcome = (False, exc)
            try:
                reply = pickle.dumps(outcome)
            except Exception as exc:  # an exception that cannot be pickled: its words
                reply = pickle.dumps((False, ProbeError(f"{type(outcome[1]).__name__}: "
                                                        f"{outcome[1]} ({exc})")))
            replies.write(_HEADER.pack(len(reply)) + reply)
            replies.flush()
    except (BrokenPipeError, KeyboardInterrupt):
        return  # rproxy is gone
