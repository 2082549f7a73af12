"""`rproxy show`: a job's result as a table a person can read, with the reason and the command
to reproduce each failed clip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ._errors import RproxyError
from ._ffmpeg import stderr_tail
from ._jobstate import read_info
from ._jsonfile import JsonFileError, read_json_file
from ._plan import build_plan
from ._progress import plain
from ._records import ClipExecutionResult, JobExecutionResult
from ._spec import JobSpec
from ._text import printable, rproxy_command, short_path, size_text, took

_NOTE = 60  # characters of a reason shown in the table; the full text is below it


class ResultNotFoundError(RproxyError):
    """There is no result to show (yet)."""


def find_result(path: str | Path) -> Path:
    """`path` itself when it is a result.json, else the result of the JobSpec at `path`."""
    file = Path(path)
    data = _read(file)
    if isinstance(data, dict) and "clips" in data and "job_id" in data:
        return file
    spec = JobSpec.from_file(file)  # JobSpecValidationError (exit 2) when it is no spec either
    plan = build_plan(spec)
    result = plan.result_path
    if not result.exists():
        info = read_info(plan.info_path)
        if info is not None and info.cleaned_at is not None:
            raise ResultNotFoundError(
                f"job {spec.id} of {file} was cleaned on {info.cleaned_at:%Y-%m-%d %H:%M} UTC "
                f"(`doit clean` removed its proxies and records); run `{rproxy_command()} run "
                f"{file}` or `doit` to make them again")
        raise ResultNotFoundError(f"job {spec.id} of {file} has not run yet (no "
                                  f"{short_path(result)}); run `{rproxy_command()} run {file}` "
                                  "or `doit`")
    return result


# result.json of a 10,000-clip job with long stderr is tens of MB; a spec is at most 16 MiB.
RESULT_MAX_BYTES = 512 * 2**20


def _read(file: Path) -> Any:
    """The JSON in a spec or result file: never blocking on a FIFO, never reading /dev/zero
    or a huge file, never a traceback for deep or odd JSON."""
    try:
        return read_json_file(str(file), max_bytes=RESULT_MAX_BYTES, kind="result or spec")
    except JsonFileError as exc:
        if exc.what == "file":  # the message names the file
            raise ResultNotFoundError(exc.message) from None
        raise ResultNotFoundError(f"{printable(str(file))}: not a JSON result or spec: "
                                  f"{exc.message}") from None


def load_result(path: Path) -> JobExecutionResult:
    data = _read(path)
    try:
        return JobExecutionResult.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(result)"
        raise ResultNotFoundError(f"{printable(str(path))} is not an rproxy result: {where} "
                                  f"is wrong ({exc.error_count()} problem(s))") from None
    except (OSError, ValueError) as exc:
        raise ResultNotFoundError(f"{path}: not a readable rproxy result ({exc})") from None


def render(result: JobExecutionResult, where: Path | None = None) -> str:
    """The result as plain text: a summary, one table row per clip, then each failure."""
    total = len(result.clips)
    how = (f"interrupted by {result.interrupted_by}" if result.interrupted_by
           else result.status.value)
    lines = [
        f"{_job_name(result)}  {how}: {result.completed_count} completed, "
        f"{result.failed_count} failed, {result.skipped_count} skipped of {total} "
        f"clip{'s' * (total != 1)}",
    ]
    if result.started_at is not None:
        lines.append(f"ran {result.started_at:%Y-%m-%d %H:%M:%S} UTC, took "
                     f"{took(result.duration_s)}")
    if where is not None:
        lines.append(f"result: {short_path(where)}")
    lines.append("")

    header = ("#", "status", "time", "size", "source", "proxy", "note")
    rows = [header] + [_row(clip) for clip in result.clips]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [row[0].rjust(widths[0])]
        cells += [cell.ljust(width) for cell, width in zip(row[1:-1], widths[1:], strict=True)]
        lines.append(("  ".join(cells) + "  " + row[-1]).rstrip())

    for clip in result.clips:
        if clip.status.value == "FAILED":
            lines += ["", *_failure(clip)]
    return plain("\n".join(lines)) + "\n"


def _job_name(result: JobExecutionResult) -> str:
    """'job A001 (3c1f0a9e)', as `rproxy run` names it; 'job 3c1f0a9e' without a spec name."""
    if result.spec and result.spec != result.job_id:
        return f"job {result.spec} ({result.job_id})"
    return f"job {result.job_id}"


def _row(clip: ClipExecutionResult) -> tuple[str, ...]:
    status = clip.status.value + (" (up to date)" if clip.up_to_date else "")
    note = ""
    if clip.failure_reason and clip.status.value != "COMPLETED":
        note = " ".join(clip.failure_reason.split())
        if len(note) > _NOTE:
            note = note[: _NOTE - 3] + "..."
    return (
        str(clip.index),
        status,
        took(clip.duration_s) if clip.duration_s is not None else "-",
        size_text(clip.output_size_bytes) if clip.output_size_bytes is not None else "-",
        printable(Path(clip.source_path).name),
        printable(Path(clip.output_path).name),
        note,
    )


def _failure(clip: ClipExecutionResult) -> list[str]:
    lines = [f"clip {clip.index} FAILED: {clip.source_path}"]
    reason, *more = (clip.failure_reason or "no reason recorded").strip().splitlines() or [""]
    lines.append(f"  reason: {reason}")
    lines += [f"          {line.strip()}" for line in more]
    if clip.exit_code is not None:
        lines.append(f"  ffmpeg exit code: {clip.exit_code}")
    tail = stderr_tail(clip.stderr, 5) if clip.stderr else ""
    if tail:
        lines.append("  ffmpeg said:")
        lines += [f"    {line}" for line in tail.splitlines()]
    if clip.command_line:
        lines.append("  to reproduce:")
        lines.append(f"    {clip.command_line}")
    else:
        lines.append("  to reproduce: ffmpeg did not run (the clip failed before encoding)")
    return lines
