"""One clip, start to finish: reuse, or probe → FFmpeg → partial file → verify → flush → claim
the path in the folder's truth → rename (never replacing) → record.

Whether a proxy can be reused is the output folder's truth (``_truth``): its entry names the
source (state before the encode), the command's fingerprint and the file (size, mtime, hash),
whichever job or spec made it. The clip's record under its job is the audit of what happened."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import _signals as interrupts
from ._argv import build_argv
from ._bounded import bounded, stall_limit
from ._errors import (
    ClipError,
    FFmpegError,
    OutputConflictError,
    ProbeError,
    RproxyError,
    VerificationError,
)
from ._ffmpeg import describe_exit, ffmpeg_version, run_ffmpeg, stderr_tail
from ._files import fsync_dir, fsync_file, rename_noreplace, sha256_file
from ._lock import folder_lock
from ._plan import Plan, PlannedClip
from ._records import ClipExecutionResult, ClipStatus, read_clip_record, write_clip_record
from ._stderr import ffmpeg_error_lines
from ._truth import Owner, Ownership, ProxyEntry, SourceState, ownership, relative

if TYPE_CHECKING:  # PyAV loads only when a clip is encoded: `plan`, `list` stay quick
    from ._media import MediaInfo
    from ._verification import Verification

ProgressFn = Callable[[float, float | None], None]  # (seconds done, total seconds)


def _stat(path: Path | str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


# -- reuse ---------------------------------------------------------------------------------


def current_entry(plan: Plan, clip: PlannedClip) -> tuple[ProxyEntry, Ownership] | None:
    """The folder's entry of the clip's proxy when that proxy can be reused as it is: made of
    this source, unchanged since, with this command, and still the file rproxy made."""
    entry = plan.folder.read(clip.name)
    if entry is None or entry.fingerprint != plan.fingerprint:
        return None
    source = _stat(clip.source_path)
    if (source is None or not entry.source.is_file(clip.source_path, plan.output_dir)
            or not entry.source.unchanged(source)):
        return None
    own = ownership(plan.folder, clip.name, entry)
    if own.owner is not Owner.OURS:
        return None
    return entry, own


def reused_record(plan: Plan, clip: PlannedClip, entry: ProxyEntry) -> ClipExecutionResult:
    """This job's record of a reusable proxy: its own record of the encode when it has one,
    else the record of the job that made it, else what the entry itself proves."""
    record = read_clip_record(clip.record_path)
    if record is None or not _describes(record, entry):
        made = read_clip_record(os.path.join(plan.output_dir, entry.record))
        record = made if made is not None and _describes(made, entry) else None
    if record is None:
        record = ClipExecutionResult(
            index=clip.index, source_path=clip.source_path, output_path=clip.output_path,
            status=ClipStatus.COMPLETED, output_exists=True, output_size_bytes=entry.size,
            output_mtime_ns=entry.mtime_ns, output_sha256=entry.sha256,
            fingerprint=entry.fingerprint, source_size_bytes=entry.source.size,
            source_mtime_ns=entry.source.mtime_ns, finished_at=entry.made_at,
            failure_reason=None, warnings=[
                f"verified when {entry.spec} made it on {entry.made_at:%Y-%m-%d %H:%M} UTC; "
                "the full record of that encode is gone"])
    return record.model_copy(update={
        "index": clip.index, "source_path": clip.source_path, "output_path": clip.output_path,
        "task": clip.task_name, "up_to_date": True})


def _describes(record: ClipExecutionResult, entry: ProxyEntry) -> bool:
    return (record.status is ClipStatus.COMPLETED and record.fingerprint == entry.fingerprint
            and record.output_sha256 == entry.sha256)


def settle_reuse(plan: Plan, clip: PlannedClip, entry: ProxyEntry, own: Ownership) -> None:
    """Make the folder's truth say what a reuse found: this spec wants the proxy too, and its
    mtime moved while its content did not (so it is not hashed again next time)."""
    if plan.identity in entry.claims and not own.mtime_moved:
        return
    with interrupts.deferred(), folder_lock(plan.folder.root):
        fresh = plan.folder.read(clip.name)
        if fresh is None or fresh.sha256 != entry.sha256:
            return
        update: dict[str, object] = {}
        if plan.identity not in fresh.claims:
            update["claims"] = [*fresh.claims, plan.identity]
        if own.mtime_moved and own.info is not None:
            update["mtime_ns"] = own.info.st_mtime_ns
        if update:
            plan.folder.write(fresh.model_copy(update=update))


# -- who may write the path -----------------------------------------------------------------


def replace_problem(plan: Plan, clip: PlannedClip, own: Ownership) -> str | None:
    """Why the file at the clip's path must not be replaced, or None when it may be (nothing
    there, or a proxy rproxy made of this very source that no other spec wants as it is)."""
    if own.owner is Owner.ABSENT:
        return None
    if own.owner is not Owner.OURS or own.entry is None:
        return own.describe(clip.output_path)
    entry = own.entry
    if not entry.source.is_file(clip.source_path, plan.output_dir):
        return (f"{clip.output_path} is the proxy of another source, {entry.source.path} (made "
                f"for {entry.spec} on {entry.made_at:%Y-%m-%d %H:%M} UTC); change "
                "naming_template or output_dir so that each source gets its own proxy")
    others = [claim for claim in entry.claims if claim != plan.identity]
    if others and entry.fingerprint != plan.fingerprint:
        return (f"{clip.output_path} is the proxy that {_spec_of(others[0])} wants, made with "
                "another command; two specs want different proxies at one path: change "
                "naming_template or output_dir of one of them")
    return None


def _spec_of(identity: str) -> str:
    return identity.split(":", 1)[1] if ":" in identity else identity


def clip_conflict(plan: Plan, clip: PlannedClip) -> str | None:
    """replace_problem() for the file at the clip's path now (the pre-flight's check)."""
    return replace_problem(plan, clip, ownership(plan.folder, clip.name))


# -- making a proxy -------------------------------------------------------------------------


@dataclass
class _Attempt:
    """What is known so far about a clip being run, for its record."""

    argv: list[str] | None = None
    exit_code: int | None = None
    stderr: str = ""
    verification: Verification | None = None
    probe: MediaInfo | None = None
    warnings: list[str] = field(default_factory=list)
    source: SourceState | None = None  # the source before the encode
    sha256: str | None = None
    finishing: bool = False  # _finish holds the stop signals: from here it decides the record


@dataclass(frozen=True)
class ClipRun:
    """What a clip needs from the run it belongs to."""

    ffmpeg: str
    run_id: str
    progress: ProgressFn | None = None


def clip_command(plan: Plan, clip: PlannedClip, ffmpeg: str, source: MediaInfo) -> list[str]:
    """The exact command that makes this clip's proxy from this probed source."""
    from ._rules import assess

    return build_argv(ffmpeg, clip.source_path, clip.partial_path, plan.fmt,
                      assess(plan.fmt, source).facts)


def run_clip(plan: Plan, clip: PlannedClip, run: ClipRun) -> ClipExecutionResult:
    """Reuse or make one proxy and write its record. A failure is a FAILED record, not an
    exception. An interrupt stops FFmpeg, writes an interrupted FAILED record and goes on up
    (a clip's own proxy, once renamed into place, is kept whatever arrives after)."""
    found = current_entry(plan, clip)
    if found is not None:
        entry, own = found
        settle_reuse(plan, clip, entry, own)
        return reused_record(plan, clip, entry)

    started = datetime.now(UTC)
    attempt = _Attempt()
    try:
        try:
            _encode(plan, clip, run, attempt)
        except ClipError as exc:
            failed = exc.verification if isinstance(exc, VerificationError) else None
            with interrupts.deferred():  # the partial goes and the record is written, whole
                return _failed(plan, clip, run, started, attempt, exc.reason, failed)
        except OSError as exc:
            with interrupts.deferred():
                return _failed(plan, clip, run, started, attempt,
                               _os_failure("write error", exc))
        return _finish(plan, clip, run, started, attempt)
    except interrupts.INTERRUPTS as exc:
        if attempt.finishing:
            raise  # after _finish took over: the clip's record says how it ended
        # Anywhere before (also between the verification and _finish): the verified partial
        # must not stay behind without a record.
        with interrupts.deferred():
            _failed(plan, clip, run, started, attempt,
                    f"interrupted by {interrupts.signal_name(interrupts.signal_of(exc))}",
                    stale_stays=True)
        raise


def _encode(plan: Plan, clip: PlannedClip, run: ClipRun, attempt: _Attempt) -> None:
    from ._probe import probe
    from ._rules import assess
    from ._verify import verify_output

    before = _stat(clip.source_path)
    if before is None:
        raise ProbeError(f"source does not exist: {clip.source_path}")
    attempt.source = SourceState.of(clip.source_path, before, plan.output_dir)
    problem = clip_conflict(plan, clip)
    if problem:
        raise OutputConflictError(f"refusing to overwrite: {problem} (nothing was encoded)")
    limit = stall_limit(plan.spec.clip_timeout_s)
    source = bounded(probe, (clip.source,), limit, f"probing the source {clip.source}")
    attempt.probe = source
    verdict = assess(plan.fmt, source)
    if verdict.problems:
        raise ProbeError("; ".join(verdict.problems))
    attempt.warnings = verdict.said

    clip.partial.parent.mkdir(parents=True, exist_ok=True)
    _remove(clip.partial)  # a leftover of a killed run: never trusted, never reused
    argv = build_argv(run.ffmpeg, clip.source_path, clip.partial_path, plan.fmt, verdict.facts)
    attempt.argv = argv
    total = source.duration_s
    progress = run.progress
    on_progress = (lambda done: progress(done, total)) if progress else None
    result = run_ffmpeg(argv, plan.spec.clip_timeout_s, on_progress)
    attempt.exit_code = result.exit_code
    attempt.stderr = result.stderr
    if result.exit_code != 0 or result.timed_out:
        # After a timeout ffmpeg's last words are whatever it printed last, not a cause.
        said = "" if result.timed_out else (
            f": {ffmpeg_error_lines(result.stderr) or stderr_tail(result.stderr, 3)}")
        raise FFmpegError(
            f"{describe_exit(result, plan.spec.clip_timeout_s)}{said}",
            index=clip.index, argv=argv, exit_code=result.exit_code,
            stderr_tail=stderr_tail(result.stderr))
    after = _stat(clip.source_path)
    if after is None or not attempt.source.unchanged(after):
        raise ProbeError(f"source changed or disappeared during encoding: {clip.source_path} "
                         "(still being written?)")
    attempt.verification = bounded(
        verify_output, (clip.partial, plan.fmt, source, clip.source), limit,
        f"verifying the proxy {clip.partial}")
    # Flushed before anything calls it COMPLETED: after a power cut a record never promises a
    # proxy whose data was still in memory.
    fsync_file(clip.partial_path)
    attempt.sha256 = sha256_file(clip.partial_path)


def _finish(plan: Plan, clip: PlannedClip, run: ClipRun, started: datetime,
            attempt: _Attempt) -> ClipExecutionResult:
    """Claim the path and rename the verified partial into place, under the folder's lock and
    with stop signals held until it is done (a signal then goes on up, the clip completed).

    The folder's entry is written (pending) before the rename, so that a kill right after the
    rename leaves a file the next run knows as rproxy's; the record after the rename and the
    flush of the folder, so that it never calls COMPLETED a proxy a power cut could lose."""
    assert attempt.source is not None and attempt.sha256 is not None
    folder = plan.folder
    with interrupts.deferred():
        attempt.finishing = True
        try:
            with folder_lock(folder.root):
                own = ownership(folder, clip.name)  # again: things may have changed meanwhile
                problem = replace_problem(plan, clip, own)
                if problem:
                    raise OutputConflictError(f"refusing to overwrite: {problem} (it appeared "
                                              "while this clip was encoding; nothing replaced)")
                partial = _stat(clip.partial_path)
                assert partial is not None
                entry = ProxyEntry(
                    name=clip.name, source=attempt.source, fingerprint=plan.fingerprint,
                    size=partial.st_size, mtime_ns=partial.st_mtime_ns, sha256=attempt.sha256,
                    made_at=datetime.now(UTC), job_id=plan.job_id, spec=plan.name,
                    record=relative(clip.record_path, plan.output_dir),
                    claims=_claims_after(own, plan), pending=True)
                aside = f"{clip.partial_path}.old"
                if own.owner is Owner.OURS:  # our stale proxy: out of the way, not replaced
                    os.replace(clip.output_path, aside)
                folder.write(entry)
                clip.output.parent.mkdir(parents=True, exist_ok=True)
                try:
                    rename_noreplace(clip.partial_path, clip.output_path)
                except FileExistsError:
                    _remove(Path(aside))  # our stale proxy, already out of the way
                    folder.remove(clip.name)
                    raise OutputConflictError(
                        f"refusing to overwrite {clip.output_path}: a file appeared there while "
                        "this clip was encoding; nothing replaced") from None
                fsync_dir(clip.output.parent)
                record = _record(plan, clip, run, started, attempt, None, _stat(clip.output))
                write_clip_record(clip.record, record)
                folder.write(entry.model_copy(update={"pending": False}))
                _remove(Path(aside))
                return record
        except ClipError as exc:
            return _failed(plan, clip, run, started, attempt, exc.reason)
        except OSError as exc:
            return _failed(plan, clip, run, started, attempt, _os_failure(
                "could not record and move the verified proxy into place", exc))


def _claims_after(own: Ownership, plan: Plan) -> list[str]:
    claims = list(own.entry.claims) if own.owner is Owner.OURS and own.entry else []
    return claims if plan.identity in claims else [*claims, plan.identity]


def _failed(plan: Plan, clip: PlannedClip, run: ClipRun, started: datetime,
            attempt: _Attempt, reason: str, verification: Verification | None = None,
            *, stale_stays: bool = False) -> ClipExecutionResult:
    """Remove what this attempt wrote and record why it failed. A proxy of ours from an earlier
    run at the path is stale (that is why this clip ran): it goes too, unless another spec
    still wants it or the clip was only interrupted. A file that is not ours is never touched.
    An OSError here (disk full) is told in the record; it never escapes as a traceback."""
    _remove(clip.partial)
    if not stale_stays:
        with contextlib.suppress(OSError, RproxyError), folder_lock(plan.folder.root):
            own = ownership(plan.folder, clip.name)
            if (own.owner is Owner.OURS and own.entry is not None
                    and set(own.entry.claims) <= {plan.identity}):
                _remove(clip.output)
                plan.folder.remove(clip.name)
    record = _record(plan, clip, run, started, attempt, reason, None, verification)
    try:
        write_clip_record(clip.record, record)
    except OSError as exc:
        reason = f"{reason}; {_os_failure('its record could not be written', exc)}"
        record = record.model_copy(update={"failure_reason": reason})
    return record


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _os_failure(what: str, exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{what}: {exc.strerror or exc}{where}"


def _record(
    plan: Plan,
    clip: PlannedClip,
    run: ClipRun,
    started: datetime,
    attempt: _Attempt,
    failure: str | None,
    output: os.stat_result | None,
    verification: Verification | None = None,
) -> ClipExecutionResult:
    finished = datetime.now(UTC)
    try:
        version = ffmpeg_version(run.ffmpeg)
    except Exception:
        version = None
    source = attempt.source
    return ClipExecutionResult(
        index=clip.index,
        source_path=clip.source_path,
        output_path=clip.output_path,
        status=ClipStatus.FAILED if failure else ClipStatus.COMPLETED,
        ffmpeg_command=attempt.argv,
        command_line=shlex.join(attempt.argv) if attempt.argv else None,
        exit_code=attempt.exit_code,
        output_exists=output is not None,
        output_size_bytes=output.st_size if output else None,
        output_mtime_ns=output.st_mtime_ns if output else None,
        output_sha256=attempt.sha256 if output else None,
        failure_reason=failure,
        stderr=attempt.stderr,
        started_at=started,
        finished_at=finished,
        duration_s=round((finished - started).total_seconds(), 3),
        verification=verification or attempt.verification,
        warnings=attempt.warnings,
        task=clip.task_name,
        fingerprint=plan.fingerprint,
        source_size_bytes=source.size if source else None,
        source_mtime_ns=source.mtime_ns if source else None,
        ffmpeg_version=version,
        probe=attempt.probe,
        run_id=run.run_id,
    )
