"""The collector: what the records on disk say about one run of a job → its JobExecutionResult.
Pure: the gathering (which records belong to the run, which proxies are reusable) is the
caller's."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from ._plan import Plan
from ._records import ClipExecutionResult, ClipStatus, JobExecutionResult, JobStatus


def collect(
    plan: Plan,
    ran: Mapping[int, ClipExecutionResult],
    reused: Mapping[int, ClipExecutionResult],
    *,
    run_id: str | None,
    started_at: datetime | None,
    finished_at: datetime | None,
    interrupted_by: str | None = None,
    missing: Collection[int] = (),
    halted: str | None = None,
) -> JobExecutionResult:
    """Every clip of the plan, in order: `ran` are the records this run wrote, `reused` the
    proxies that can be reused as they are now; `missing` are clips whose source is not there
    (under doit: a task of the user's that makes it did not run); `halted` says why clips
    this run meant to run did not, when nothing in this job stopped it (another job's
    failure stopped doit)."""
    clips: list[ClipExecutionResult] = []
    cut: str | None = None  # why the clips from here on did not run
    stopped = f"not run: the job was interrupted by {interrupted_by}"
    for clip in plan.clips:
        record = ran.get(clip.index)
        if record is None and cut is None:
            record = reused.get(clip.index)
        if record is None:
            if cut:
                reason = cut
            elif interrupted_by:
                reason = stopped
            elif clip.index in missing:
                reason = (f"not run: its source {clip.source_path} does not exist (did the task "
                          "that makes it fail?)")
            else:
                reason = halted or "not run in this invocation (not selected)"
            record = ClipExecutionResult(
                index=clip.index, source_path=clip.source_path, output_path=clip.output_path,
                status=ClipStatus.SKIPPED, failure_reason=reason, task=clip.task_name)
        elif record.status is ClipStatus.FAILED and cut is None:
            interrupt = bool(interrupted_by) and (record.failure_reason or "").startswith(
                "interrupted")
            cut = stopped if interrupt else f"not run: clip {clip.task_name} failed first"
        clips.append(record)

    completed = sum(c.status is ClipStatus.COMPLETED for c in clips)
    failed = sum(c.status is ClipStatus.FAILED for c in clips)
    if completed == len(clips):
        status = JobStatus.COMPLETED
    elif completed:
        status = JobStatus.PARTIAL
    else:
        status = JobStatus.FAILED
    duration = (finished_at - started_at).total_seconds() if started_at and finished_at else None
    return JobExecutionResult(
        job_id=plan.job_id,
        spec=plan.name,
        status=status,
        clips=clips,
        completed_count=completed,
        failed_count=failed,
        skipped_count=len(clips) - completed - failed,
        started_at=started_at,
        finished_at=finished_at,
        duration_s=round(duration, 3) if duration is not None else None,
        interrupted_by=interrupted_by,
        result_path=str(plan.result_path),
        run_id=run_id,
    )
