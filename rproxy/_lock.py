"""Locks, both flock(2) so that the OS releases them when a process dies (a crashed run never
leaves anything locked).

- A job's lock (`<state>/<job>/lock`) is held for a whole run, so the same job started twice
  refuses at once instead of racing. A run can span processes (doit -n N forks workers, and a
  job's clips may run in different ones): the lock file names the run, and a process of that
  run finds it held by its own run and goes on.
- An output folder's lock (`<output_dir>/.rproxy/lock`) is held for a moment, while the folder's
  record of whose file each proxy is changes: any number of jobs, runs and `doit clean`s agree."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ._errors import CouldNotStartError, JobLockedError
from ._files import make_dirs


class JobLock:
    """An exclusive, non-blocking lock on one job for one run (`run_id`)."""

    def __init__(self, path: Path, job_id: str, run_id: str) -> None:
        self.path = path
        self.job_id = job_id
        self.run_id = run_id
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Hold the lock, or find it held by this run (another process of it); else raise
        JobLockedError naming the process that has it."""
        if self._fd is not None:
            return
        try:
            # <output_dir>/.rproxy/<job>/lock: the state folders only, never the output folder
            # itself (a drive that is not mounted must not become a folder on the system disk).
            make_dirs(self.path.parent, within=self.path.parent.parent.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CouldNotStartError(
                f"job {self.job_id}: cannot create its lock {self.path}: "
                f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("ascii", "replace").split()
            os.close(fd)
            if holder[1:2] == [self.run_id]:
                return  # a sibling process of this run holds it
            pid = holder[0] if holder else "another process"
            raise JobLockedError(
                f"job {self.job_id} is already running (pid {pid}); wait for it to finish "
                f"(lock: {self.path})") from None
        with contextlib.suppress(OSError):  # the holder is a hint (a full disk refuses it)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {self.run_id}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None


def job_is_locked(path: Path) -> bool:
    """Is some live process holding this job lock right now (a run, or a `doit clean`)?"""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# A folder's lock is held for milliseconds (a few small writes and a rename); waiting longer
# than this means something is wrong with the file system, not that another job is busy.
FOLDER_LOCK_WAIT_S = 60.0


@contextlib.contextmanager
def folder_lock(state_root: Path) -> Iterator[None]:
    """Hold `<state_root>/lock` exclusively for the block, waiting for other holders."""
    make_dirs(state_root, within=state_root.parent)  # never the output folder itself
    fd = os.open(state_root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + FOLDER_LOCK_WAIT_S
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CouldNotStartError(
                        f"the output folder's lock {state_root / 'lock'} has been held for "
                        f"{FOLDER_LOCK_WAIT_S:g} s; is a file system hanging?") from None
                time.sleep(delay)  # polled, not blocking: Ctrl-C must still get through
                delay = min(delay * 2, 0.05)
        yield
    finally:
        os.close(fd)  # closing releases the flock
