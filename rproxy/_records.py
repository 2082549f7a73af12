"""Audit records on disk: one ClipExecutionResult per clip, one JobExecutionResult per job.

Records are written atomically (see ``_files``), so a reader never sees half of one and a
killed run never leaves one that claims more than happened. `rproxy schema --result` prints
their JSON Schema."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._files import write_json_atomic
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

    model_config = ConfigDict(extra="ignore", title="ClipExecutionResult")

    index: int = Field(description="Position of the clip in the spec's sources, from 0.")
    source_path: str = Field(description="Absolute path of the source clip.")
    output_path: str = Field(description="Absolute path of the proxy.")
    status: ClipStatus = Field(
        description="COMPLETED (made or reused, and verified), FAILED (failure_reason says "
        "why) or SKIPPED (not run: an earlier clip failed, the run was interrupted, or the "
        "clip was not selected).")
    up_to_date: bool = Field(
        default=False, description="True when the proxy was reused from an earlier run (its "
        "source and command unchanged); the rest of the record describes the run that made it.")
    ffmpeg_command: list[str] | None = Field(
        default=None, description="The exact argv that ran (never through a shell); null when "
        "FFmpeg did not run.")
    command_line: str | None = Field(
        default=None, description="ffmpeg_command shell-quoted, ready to paste.")
    exit_code: int | None = Field(
        default=None, description="FFmpeg's exit code; negative: killed by that signal; null "
        "when it did not run.")
    output_exists: bool = Field(
        default=False, description="Whether the proxy file was at output_path when the record "
        "was written.")
    output_size_bytes: int | None = Field(
        default=None, description="Size of the proxy in bytes, when it exists.")
    failure_reason: str | None = Field(
        default=None, description="Why the clip FAILED, or why it was SKIPPED; null when "
        "COMPLETED.")
    stderr: str = Field(
        default="", description="FFmpeg's stderr (its first and last 32 KiB when longer).")
    started_at: datetime | None = Field(default=None, description="When the clip started (UTC).")
    finished_at: datetime | None = Field(
        default=None, description="When the clip finished (UTC).")
    duration_s: float | None = Field(
        default=None, description="Seconds from started_at to finished_at.")
    verification: RecordedVerification = Field(
        default=None, description="What was checked on the proxy against its source, each "
        "check with the expected and the found value; null when it was not verified.")
    warnings: list[str] = Field(
        default_factory=list, description="What changed the proxy without being wrong "
        "(deinterlaced, audio resampled, colour codes mapped), as the pre-flight said it.")
    task: str | None = Field(
        default=None, description="The doit task of the clip, proxy:<spec>:<proxy file name>.")
    fingerprint: str | None = Field(
        default=None, description="Hash of the command this proxy was made with (FFmpeg's "
        "binary and the paths aside): a proxy is reused while it and the source are unchanged.")
    source_size_bytes: int | None = Field(
        default=None, description="The source's size before the encode (what reuse compares).")
    source_mtime_ns: int | None = Field(
        default=None, description="The source's modification time before the encode, in ns.")
    output_mtime_ns: int | None = Field(
        default=None, description="The proxy's modification time when made, in ns.")
    output_sha256: str | None = Field(
        default=None, description="SHA-256 of the proxy's content when made.")
    ffmpeg_version: str | None = Field(
        default=None, description="First line of `ffmpeg -version` of the FFmpeg that ran.")
    probe: RecordedProbe = Field(
        default=None, description="What probing the source found; null when it was not "
        "probed.")
    run_id: str | None = Field(
        default=None, description="The run that wrote this record.")


class JobExecutionResult(BaseModel):
    """The outcome of one run of a job: every clip of the spec, in order."""

    model_config = ConfigDict(extra="ignore", title="JobExecutionResult")

    job_id: str = Field(description="The job's id (8 hex digits).")
    spec: str | None = Field(
        default=None, description="The spec's name (its file name without .json), or the job "
        "id when it was not loaded from a file.")
    status: JobStatus = Field(
        description="COMPLETED when every clip completed, PARTIAL when some completed and then "
        "one failed, FAILED when none completed.")
    clips: list[ClipExecutionResult] = Field(
        description="Every clip of the spec, in order.")
    completed_count: int = Field(description="Clips COMPLETED (made or reused).")
    failed_count: int = Field(description="Clips FAILED.")
    skipped_count: int = Field(description="Clips SKIPPED.")
    started_at: datetime | None = Field(default=None, description="When the run started (UTC).")
    finished_at: datetime | None = Field(
        default=None, description="When the run finished (UTC).")
    duration_s: float | None = Field(
        default=None, description="Seconds from started_at to finished_at.")
    interrupted_by: str | None = Field(
        default=None, description="SIGINT, SIGTERM or SIGHUP when the run was interrupted.")
    result_path: str | None = Field(default=None, description="Where this result is stored.")
    run_id: str | None = Field(default=None, description="The run this result describes.")


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
