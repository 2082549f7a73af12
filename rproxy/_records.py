"""Audit records on disk: one ClipExecutionResult per clip, one JobExecutionResult per job.

Records are written atomically (temp file, fsync, rename), so a reader never sees half of one
and a killed run never leaves one that claims more than happened."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from doit.dependency import DatabaseException, JsonDB
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._media import RecordedProbe
from ._verification import RecordedVerification


class ClipStatus(StrEnum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class JobStatus(StrEnum):
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


class ClipExecutionResult(BaseModel):
    """What happened to one clip, with everything needed to audit and reproduce it."""

    model_config = ConfigDict(extra="ignore")

    index: int = Field(description="Position of the clip in the spec's sources, from 0.")
    source_path: str = Field(description="Absolute path of the source clip.")
    output_path: str = Field(description="Absolute path of the proxy.")
    status: ClipStatus
    up_to_date: bool = Field(
        default=False, description="True when the proxy was reused from an earlier run.")
    ffmpeg_command: list[str] | None = Field(
        default=None, description="The exact argv that ran (never through a shell).")
    command_line: str | None = Field(
        default=None, description="ffmpeg_command shell-quoted, ready to paste.")
    exit_code: int | None = Field(
        default=None, description="ffmpeg's exit code; negative: killed by that signal.")
    output_exists: bool = False
    output_size_bytes: int | None = None
    failure_reason: str | None = None
    stderr: str = Field(default="", description="ffmpeg's stderr (head and tail if long).")
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    verification: RecordedVerification = Field(
        default=None, description="What was checked on the output and what was found.")
    # Bookkeeping that lets the next run decide what is up to date without hashing media.
    task: str | None = None
    fingerprint: str | None = None
    source_size_bytes: int | None = None
    source_mtime_ns: int | None = None
    output_mtime_ns: int | None = None
    ffmpeg_version: str | None = None
    probe: RecordedProbe = Field(default=None, description="What the source probe found.")


class JobExecutionResult(BaseModel):
    """The outcome of one run of a job: every clip of the spec, in order."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    status: JobStatus
    clips: list[ClipExecutionResult]
    completed_count: int
    failed_count: int
    skipped_count: int
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    interrupted_by: str | None = Field(
        default=None, description="SIGINT or SIGTERM when the run was interrupted.")
    result_path: str | None = None


def write_json_atomic(path: Path, data: dict[str, Any] | BaseModel) -> None:
    """Write JSON so that `path` holds either the old content or all of the new. A model is
    serialised by pydantic-core (json.dump with indent is pure Python: seconds for the result
    of a 2,000-clip job)."""
    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, text + "\n")


def replace_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, fsync it, and rename it over `path`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_clip_record(path: Path, record: ClipExecutionResult) -> None:
    write_json_atomic(path, record)


def read_clip_record(path: Path | str) -> ClipExecutionResult | None:
    """The record at `path`, or None when there is none or it is unreadable."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        return ClipExecutionResult.model_validate_json(data)
    except (OSError, ValidationError, ValueError):
        return None


def read_job_result(path: Path) -> JobExecutionResult:
    return JobExecutionResult.model_validate_json(path.read_bytes())


class DoitStateDB(JsonDB):  # type: ignore[misc]
    """doit's JSON dependency DB for `rproxy run`, written atomically and never fatal.

    doit's own JsonDB truncates the file and then writes it: a full disk or a kill leaves an
    empty or half file, and the next run stops with "Invalid JSON data". Here a DB that cannot
    be read starts empty and one that cannot be written keeps the old file: the clip records
    decide what is done, this DB only saves time."""

    desc = "rproxy: atomic, error-tolerant JSON"

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None) -> None:
        self.name = name
        self.codec = codec
        try:
            super().__init__(name, codec, module_name=module_name)
        except (DatabaseException, OSError, ValueError):
            self._db: dict[str, Any] = {}

    def dump(self) -> None:
        with contextlib.suppress(OSError):
            replace_atomically(Path(self.name), self.codec.encode(self._db))


DOIT_BACKEND = {"rproxy-json": f"{__name__}:DoitStateDB"}
