"""One lock per job, so the same job started twice refuses at once instead of racing."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ._errors import CouldNotStartError, JobLockedError


class JobLock:
    """An exclusive, non-blocking flock on `<state_dir>/lock`. The OS releases it when the
    process dies, so a crashed run never leaves the job locked."""

    def __init__(self, path: Path, job_id: str) -> None:
        self.path = path
        self.job_id = job_id
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise CouldNotStartError(
                f"job {self.job_id}: cannot create its lock {self.path}: "
                f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise JobLockedError(
                f"job {self.job_id} is already running (pid {holder}); wait for it to finish "
                f"(lock: {self.path})") from None
        with contextlib.suppress(OSError):  # the pid is only a hint (a full disk refuses it)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None
