"""One clip, start to finish: probe → ffmpeg → partial file → verify → rename → record.

The record is the truth about a clip: a proxy is reused only when its record says it was
verified for exactly this command and this source (size and mtime, never a hash), and the
file on disk is the one the record describes."""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ._argv import build_argv
from ._errors import ClipError, FFmpegError, OutputConflictError, ProbeError, VerificationError
from ._ffmpeg import describe_exit, ffmpeg_version, run_ffmpeg, stderr_tail
from ._plan import Plan, PlannedClip
from ._records import ClipExecutionResult, ClipStatus, read_clip_record, write_clip_record
from ._signals import deferred_signals, signal_of
from ._stderr import ffmpeg_error_lines

if TYPE_CHECKING:  # PyAV loads only when a clip is encoded: `plan`, `list` stay quick
    from ._media import MediaInfo
    from ._verification import Verification

ProgressFn = Callable[[float, float | None], None]  # (seconds done, total seconds)


def _stat(path: Path | str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def current_record(clip: PlannedClip) -> ClipExecutionResult | None:
    """The clip's record when its proxy can be reused as it is, else None."""
    record = read_clip_record(clip.record_path)
    if (
        record is None
        or record.status is not ClipStatus.COMPLETED
        or record.fingerprint != clip.fingerprint
        or record.verification is None
        or not record.verification.ok
    ):
        return None
    source, output = _stat(clip.source), _stat(clip.output_path)
    if source is None or output is None:
        return None
    if (source.st_size, source.st_mtime_ns) != (record.source_size_bytes, record.source_mtime_ns):
        return None
    if (output.st_size, output.st_mtime_ns) != (record.output_size_bytes, record.output_mtime_ns):
        return None
    return record


def owned_by_rproxy(clip: PlannedClip) -> bool:
    """Is the file at the output path a proxy that rproxy recorded making *of this clip's
    source*? Its own record first; then the records of other jobs in the same output folder
    (editing a spec, or undoing the edit, changes its job id, and the proxies made before are
    still rproxy's to replace). A proxy of another source (day 2's C0001.mov over day 1's)
    is never claimed."""
    output = _stat(clip.output)
    if output is None:
        return False
    found = (output.st_size, output.st_mtime_ns)
    record = read_clip_record(clip.record)
    if (record is not None and record.output_path == clip.output_path
            and record.source_path == str(clip.source)
            and (record.output_size_bytes, record.output_mtime_ns) == found):
        return True
    claims = _recorded_outputs(clip.record.parent.parent.parent).get(clip.output_path, ())
    return (*found, str(clip.source)) in claims


@functools.lru_cache(maxsize=16)
def _recorded_outputs(state_root: Path) -> dict[str, set[tuple[int | None, int | None, str]]]:
    """output path → (size, mtime_ns, source) of every proxy any job's records in `state_root`
    claim. Read once per run (cleared by forget_recorded_outputs): a job edited into a new job
    id would otherwise re-read every record for every clip."""
    index: dict[str, set[tuple[int | None, int | None, str]]] = {}
    for path in state_root.glob("*/clips/*.json"):
        record = read_clip_record(path)
        if record is not None and record.output_size_bytes is not None:
            index.setdefault(record.output_path, set()).add(
                (record.output_size_bytes, record.output_mtime_ns, record.source_path))
    return index


def output_conflicts(plan: Plan) -> list[PlannedClip]:
    """Clips whose output path holds a file rproxy did not make of that clip's source."""
    return [clip for clip in plan.clips
            if os.path.lexists(clip.output_path) and not owned_by_rproxy(clip)]


def forget_recorded_outputs() -> None:
    _recorded_outputs.cache_clear()


@dataclass
class _Attempt:
    """What is known so far about a clip being run, for its record."""

    argv: list[str] | None = None
    exit_code: int | None = None
    stderr: str = ""
    verification: Verification | None = None
    probe: MediaInfo | None = None


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def run_clip(
    plan: Plan,
    clip: PlannedClip,
    ffmpeg: str,
    progress: ProgressFn | None = None,
    *,
    check_all_outputs: bool = False,
) -> ClipExecutionResult:
    """Make (or reuse) one proxy and write its record. Returns the record; a failure is a
    FAILED record, not an exception. KeyboardInterrupt (and SIGTERM) stop ffmpeg, write an
    interrupted FAILED record, and propagate."""
    reused = current_record(clip)
    if reused is not None:
        return reused.model_copy(update={"up_to_date": True})

    started = datetime.now(UTC)
    attempt = _Attempt()
    try:
        _encode(plan, clip, ffmpeg, attempt, progress, check_all_outputs)
    except ClipError as exc:
        failed = exc.verification if isinstance(exc, VerificationError) else None
        return _finish(clip, started, attempt, ffmpeg, failure=exc.reason,
                       verification=failed or attempt.verification)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _finish(clip, started, attempt, ffmpeg,
                       failure=f"write error: {exc.strerror or exc}{where}")
    except KeyboardInterrupt as exc:
        name = signal.Signals(signal_of(exc)).name
        _finish(clip, started, attempt, ffmpeg, failure=f"interrupted by {name}")
        raise
    return _finish(clip, started, attempt, ffmpeg)


def _encode(plan: Plan, clip: PlannedClip, ffmpeg: str, attempt: _Attempt,
            progress: ProgressFn | None, check_all_outputs: bool) -> None:
    # The first clip a run encodes looks at every output path of the job, so that a file in
    # the way of clip 380 stops the job before clip 0 is encoded, not hours into it.
    conflicts = output_conflicts(plan) if check_all_outputs else (
        [clip] if os.path.lexists(clip.output_path) and not owned_by_rproxy(clip) else [])
    if conflicts:
        named = ", ".join(str(c.output) for c in conflicts[:5])
        if len(conflicts) > 5:
            named += f" and {len(conflicts) - 5} more"
        raise OutputConflictError(
            f"refusing to overwrite {named}: rproxy did not make it as a proxy of the same "
            "source; move or delete it, or change naming_template (nothing was encoded)")
    before = _stat(clip.source)
    from ._probe import probe
    from ._rules import assess
    from ._verify import verify_output

    source = probe(clip.source)
    attempt.probe = source
    assessment = assess(plan.fmt, source)
    if assessment.problems:
        raise ProbeError("; ".join(assessment.problems))
    facts = assessment.facts

    clip.partial.parent.mkdir(parents=True, exist_ok=True)
    _remove(clip.partial)  # a leftover of a killed run: never trusted, never reused
    argv = build_argv(ffmpeg, clip.source, clip.partial, plan.fmt, facts)
    attempt.argv = argv
    total = source.duration_s
    on_progress = (lambda done: progress(done, total)) if progress else None
    run = run_ffmpeg(argv, plan.spec.clip_timeout_s, on_progress)
    attempt.exit_code = run.exit_code
    attempt.stderr = run.stderr
    if run.exit_code != 0 or run.timed_out:
        # After a timeout ffmpeg's last words are whatever it printed last, not a cause.
        said = "" if run.timed_out else (
            f": {ffmpeg_error_lines(run.stderr) or stderr_tail(run.stderr, 3)}")
        raise FFmpegError(
            f"{describe_exit(run, plan.spec.clip_timeout_s)}{said}",
            index=clip.index, argv=argv, exit_code=run.exit_code,
            stderr_tail=stderr_tail(run.stderr))
    after = _stat(clip.source)
    if before is None or after is None or (before.st_size, before.st_mtime_ns) != (
            after.st_size, after.st_mtime_ns):
        raise ProbeError(f"source changed or disappeared during encoding: {clip.source}")
    attempt.verification = verify_output(clip.partial, plan.fmt, source, clip.source)
    # The verified proxy stays at clip.partial: _finish records it, then renames it into place.


def _finish(
    clip: PlannedClip,
    started: datetime,
    attempt: _Attempt,
    ffmpeg: str,
    *,
    failure: str | None = None,
    verification: Verification | None = None,
) -> ClipExecutionResult:
    """Write the clip's record; on success, then rename the verified partial into place.

    Record first, rename second, with SIGINT/SIGTERM held until both are done: a run killed
    in between leaves a COMPLETED record whose output is not there (never trusted: redone),
    never a proxy without a record (which the next run would refuse as not rproxy's).
    An OSError here (disk full) fails the clip; it never escapes as a traceback."""
    with deferred_signals():
        if failure is None:
            try:
                record = _record(clip, started, attempt, ffmpeg, None, verification,
                                 _stat(clip.partial))
                write_clip_record(clip.record, record)
                clip.output.parent.mkdir(parents=True, exist_ok=True)
                os.replace(clip.partial, clip.output)
                return record
            except OSError as exc:
                failure = _os_failure("could not record and move the verified proxy into place",
                                      exc)
        _remove(clip.partial)
        # A proxy of ours from an earlier run is stale now (that is why we re-ran): leave no
        # out-of-date proxy beside a FAILED record. A file that is not ours is never touched.
        if owned_by_rproxy(clip):
            _remove(clip.output)
        record = _record(clip, started, attempt, ffmpeg, failure, verification, None)
        try:
            write_clip_record(clip.record, record)
        except OSError as exc:
            reason = f"{failure}; {_os_failure('its record could not be written', exc)}"
            record = record.model_copy(update={"failure_reason": reason})
        return record


def _os_failure(what: str, exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{what}: {exc.strerror or exc}{where}"


def _record(
    clip: PlannedClip,
    started: datetime,
    attempt: _Attempt,
    ffmpeg: str,
    failure: str | None,
    verification: Verification | None,
    output: os.stat_result | None,
) -> ClipExecutionResult:
    finished = datetime.now(UTC)
    source = _stat(clip.source)
    try:
        version = ffmpeg_version(ffmpeg)
    except Exception:
        version = None
    return ClipExecutionResult(
        index=clip.index,
        source_path=str(clip.source),
        output_path=str(clip.output),
        status=ClipStatus.FAILED if failure else ClipStatus.COMPLETED,
        ffmpeg_command=attempt.argv,
        command_line=shlex.join(attempt.argv) if attempt.argv else None,
        exit_code=attempt.exit_code,
        output_exists=output is not None,
        output_size_bytes=output.st_size if output else None,
        output_mtime_ns=output.st_mtime_ns if output else None,
        failure_reason=failure,
        stderr=attempt.stderr,
        started_at=started,
        finished_at=finished,
        duration_s=round((finished - started).total_seconds(), 3),
        verification=verification or attempt.verification,
        task=clip.task_name,
        fingerprint=clip.fingerprint,
        source_size_bytes=source.st_size if source else None,
        source_mtime_ns=source.st_mtime_ns if source else None,
        ffmpeg_version=version,
        probe=attempt.probe,
    )
