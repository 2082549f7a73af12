"""Finding and running the FFmpeg binary: timeouts, signals, stderr capture, progress."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from . import _signals
from ._blocking import outside_main
from ._errors import FFmpegNotFoundError
from ._libc import LIBC
from ._signals import Interrupted

ENV_FFMPEG = "RPROXY_FFMPEG"
STDERR_KEEP = 32 * 1024  # bytes kept from each end of a long stderr
_PR_SET_PDEATHSIG = 1


def ffmpeg_binary() -> str:
    """`RPROXY_FFMPEG` when set, else the binary that the imageio-ffmpeg wheel ships."""
    override = os.environ.get(ENV_FFMPEG)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise FFmpegNotFoundError(f"{ENV_FFMPEG}={override} is not an executable file")
        return override
    bundled = _wheel_binary()
    if bundled is not None:
        return bundled
    try:
        import imageio_ffmpeg

        path = str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise FFmpegNotFoundError(
            f"no FFmpeg: the imageio-ffmpeg wheel has none for this machine ({exc}); "
            f"set {ENV_FFMPEG}=/path/to/ffmpeg") from None
    return path


def _wheel_binary() -> str | None:
    """The binary in the imageio-ffmpeg wheel, found the way its get_ffmpeg_exe() looks first,
    but proven by the `-version` run rproxy needs anyway for the audit record (cached).
    get_ffmpeg_exe() runs its own `ffmpeg -version` to test it: one process less per run.
    None (then get_ffmpeg_exe() decides, with its conda and PATH fallbacks) when
    IMAGEIO_FFMPEG_EXE is set, the wheel has no binary here, or the binary does not run."""
    if os.environ.get("IMAGEIO_FFMPEG_EXE"):
        return None
    try:
        from imageio_ffmpeg._definitions import FNAME_PER_PLATFORM, get_platform
        from imageio_ffmpeg._utils import _get_bin_dir

        name = FNAME_PER_PLATFORM.get(get_platform(), "")
        path = os.path.join(_get_bin_dir(), name) if name else ""
    except Exception:  # a future imageio-ffmpeg without these helpers: its public API decides
        return None
    if not (path and os.path.isfile(path) and os.access(path, os.X_OK)):
        return None
    try:
        ffmpeg_version(path)
    except FFmpegNotFoundError:
        return None
    return path


@lru_cache(maxsize=8)
def ffmpeg_version(binary: str) -> str:
    """The first line of `ffmpeg -version` (for the audit record)."""
    def run() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([binary, "-version"], capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL, check=False)

    try:
        done = outside_main(run)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FFmpegNotFoundError(f"cannot run FFmpeg at {binary}: {exc}") from None
    line = done.stdout.decode("utf-8", "replace").splitlines()[:1]
    if done.returncode != 0 or not line:
        raise FFmpegNotFoundError(f"{binary} -version failed (exit {done.returncode})")
    return line[0].strip()


@dataclass
class FFmpegRun:
    """What one ffmpeg process did."""

    exit_code: int  # negative: killed by that signal (subprocess convention)
    stderr: str
    duration_s: float
    timed_out: bool = False


def _child_setup(parent: int) -> None:
    # Own process group, so a timeout can stop ffmpeg and anything it started; and die with
    # the parent, so a SIGKILLed rproxy does not leave ffmpeg writing on its own. When the
    # parent died before prctl took effect, nobody would send that signal: go now.
    # A stop signal that reaches this child before the exec is ignored by rproxy's handler
    # (_signals.spawning); the exec gives FFmpeg the default actions again (a user's `kill`
    # must still stop it), and from setsid() on the terminal's signals are not its own.
    os.setsid()
    if LIBC is not None:
        with contextlib.suppress(Exception):
            LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    # Started by a thread that leaves the stop signals to rproxy's main thread (a doit -P
    # thread worker): FFmpeg inherits the mask, and is its own process, to be stopped by them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _signals.STOP_SIGNALS)


# FFmpeg's progress lines are short ("out_time_us=41000000"); anything longer is not one.
_PROGRESS_LINE_MAX = 4096
# How long the reader keeps draining the pipe once FFmpeg has exited (what it wrote before it
# exited is all there already; more would come only from a leftover child holding the pipe).
_DRAIN_AFTER_EXIT_S = 1.0
_POLL_S = 0.2


def _progress_value(line: bytes) -> float | None:
    """Seconds of media done, from one `-progress` line, or None for any other line."""
    key, _, value = line.strip().partition(b"=")
    # A 19-digit value is past 300,000 years of media: the rest is not a time (and int() of
    # thousands of digits raises, past Python's conversion limit).
    if key == b"out_time_us" and value.isdigit() and len(value) <= 18:
        return int(value) / 1_000_000
    return None


def _read_progress(fd: int, on_progress: Callable[[float], None] | None,
                   exited: threading.Event) -> None:
    """Drain FFmpeg's progress pipe (a stalled reader would fill the pipe and hang FFmpeg)
    until its end, or shortly after FFmpeg exited (a child it left behind may hold the pipe
    open forever). Reads the descriptor itself, never through a buffered file: closing one of
    those while this thread is inside its readline() blocks the closer. Nothing FFmpeg prints
    and nothing the display does with it may end this loop early or raise out of it."""
    pending = b""
    drain_until: float | None = None
    poller = select.poll()  # not select(): that fails on a descriptor past 1023
    poller.register(fd, select.POLLIN)
    while True:
        if exited.is_set() and drain_until is None:
            drain_until = time.monotonic() + _DRAIN_AFTER_EXIT_S
        if drain_until is not None and time.monotonic() > drain_until:
            return
        try:
            if not poller.poll(_POLL_S * 1000):
                if drain_until is not None:
                    return  # FFmpeg is gone and the pipe is empty
                continue
            chunk = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            continue
        except (OSError, ValueError):  # the pipe was closed under us
            return
        if not chunk:
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if len(pending) > _PROGRESS_LINE_MAX:  # a "line" that never ends: not progress
            pending = b""
        if on_progress is None:
            continue
        for line in lines:
            if len(line) > _PROGRESS_LINE_MAX:
                continue
            done = _progress_value(line)
            if done is not None:
                with contextlib.suppress(Exception):
                    on_progress(done)


def _timer_seconds(timeout_s: float) -> float:
    """A delay threading.Timer accepts for any timeout: a week (the spec's maximum) is fine,
    but infinity, NaN or a value past TIMEOUT_MAX would kill the timer thread (and then
    nothing would stop a hung FFmpeg)."""
    if not math.isfinite(timeout_s):
        return threading.TIMEOUT_MAX if timeout_s > 0 else 0.0
    return min(max(timeout_s, 0.0), threading.TIMEOUT_MAX)


def _stderr_text(handle: IO[bytes]) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    if size <= 2 * STDERR_KEEP:
        data = handle.read()
        return data.decode("utf-8", "replace")
    head = handle.read(STDERR_KEEP)
    handle.seek(size - STDERR_KEEP)
    tail = handle.read()
    skipped = size - 2 * STDERR_KEEP
    return (head.decode("utf-8", "replace") + f"\n[... {skipped} bytes of stderr omitted ...]\n"
            + tail.decode("utf-8", "replace"))


# FFmpeg processes running now, in any thread: a stop signal stops them all at once (a clip in
# a doit worker thread cannot receive the signal itself).
_RUNNING: set[subprocess.Popen[bytes]] = set()


def stop_running() -> None:
    """Kill every FFmpeg this process started and that is still running (signal-safe)."""
    for proc in list(_RUNNING):
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(proc.pid, signal.SIGKILL)


_signals.on_stop(stop_running)


def _expire(proc: subprocess.Popen[bytes], expired: threading.Event) -> None:
    """The clip timed out: stop ffmpeg and everything in its process group."""
    expired.set()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_ffmpeg(
    argv: Sequence[str],
    timeout_s: float,
    on_progress: Callable[[float], None] | None = None,
) -> FFmpegRun:
    """Run ffmpeg to completion or timeout. On KeyboardInterrupt (and rproxy's SIGTERM, which
    arrives as one) ffmpeg is stopped before the exception goes on."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc: subprocess.Popen[bytes] | None = None
        reader: threading.Thread | None = None
        exited = threading.Event()
        timed_out = False
        try:
            # An interrupt raised inside Popen (after the fork, before Popen returned) would
            # leave an FFmpeg that nobody knows of, writing its partial file after the clip was
            # cleaned up: it waits until the process is registered, where it stops it.
            with _signals.deferred(), _signals.spawning():
                try:
                    proc = subprocess.Popen(
                        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=err, preexec_fn=functools.partial(_child_setup, os.getpid()),
                    )
                except OSError as exc:
                    raise FFmpegNotFoundError(
                        f"cannot start FFmpeg {argv[0]}: {exc.strerror}") from None
                _RUNNING.add(proc)
            stopped_by = _signals.pending()
            if stopped_by is not None:
                # The handler ran in the main thread while this one (doit -P thread) was
                # starting FFmpeg, before stop_running() could see it.
                raise Interrupted(stopped_by)
            assert proc.stdout is not None
            reader = threading.Thread(target=_read_progress, name="rproxy ffmpeg progress",
                                      args=(proc.stdout.fileno(), on_progress, exited),
                                      daemon=True)
            # A timer, not wait(timeout=...): that polls with sleeps of up to 50 ms, which
            # would add to every clip; a plain wait() returns the moment ffmpeg exits.
            expired = threading.Event()
            timer = threading.Timer(_timer_seconds(timeout_s), _expire, args=(proc, expired))
            timer.daemon = True
            try:
                with _signals.side_threads():
                    reader.start()
                    timer.start()
                proc.wait()
            finally:
                timer.cancel()
            # ffmpeg that finished just as the timer fired did not time out.
            timed_out = expired.is_set() and proc.returncode != 0
            stopped_by = _signals.pending()
            if stopped_by is not None and proc.returncode != 0:
                # Killed by a stop signal that landed in another thread (doit -P thread):
                # this clip is interrupted, not failed.
                raise Interrupted(stopped_by)
        except BaseException:
            if proc is not None:
                _stop(proc)
            raise
        finally:
            exited.set()
            if proc is not None:
                _RUNNING.discard(proc)
            if reader is not None and reader.is_alive():
                reader.join(timeout=_DRAIN_AFTER_EXIT_S + 2 * _POLL_S + 1)
            if proc is not None and proc.stdout and (reader is None or not reader.is_alive()):
                with contextlib.suppress(OSError, ValueError):
                    proc.stdout.close()
        return FFmpegRun(
            exit_code=proc.returncode,
            stderr=_stderr_text(err),
            duration_s=time.monotonic() - started,
            timed_out=timed_out,
        )


def describe_exit(run: FFmpegRun, timeout_s: float) -> str:
    """'timed out after 30 s', 'killed by SIGKILL', 'exited with code 1'."""
    if run.timed_out:
        return f"timed out after {timeout_s:g} s (clip_timeout_s); ffmpeg was stopped"
    if run.exit_code < 0:
        try:
            name = signal.Signals(-run.exit_code).name
        except ValueError:
            name = f"signal {-run.exit_code}"
        return f"ffmpeg was killed by {name}"
    return f"ffmpeg exited with code {run.exit_code}{_os_error(run)}"


def _os_error(run: FFmpegRun) -> str:
    """ffmpeg exits with an OS error as 256 - errno (a full disk: 228, ENOSPC). Name it when
    stderr confirms it, since the line that says so is often not among the last ones."""
    errno_ = 256 - run.exit_code
    if not 0 < errno_ < 134:
        return ""
    text = os.strerror(errno_)
    return f" ({text})" if text in run.stderr else ""


def stderr_tail(stderr: str, lines: int = 5) -> str:
    kept = [line for line in stderr.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(kept)
