"""The collector: clip records of one run → the JobExecutionResult. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ._plan import Plan
from ._records import ClipExecutionResult, ClipStatus, JobExecutionResult, JobStatus


@dataclass(frozen=True)
class Outcome:
    """What happened to a clip's task in this run."""

    record: ClipExecutionResult | None  # None: the task failed before it could write one
    failure: str | None = None  # doit's reason when there is no record


def collect(
    plan: Plan,
    outcomes: Mapping[int, Outcome],
    previous: Mapping[int, ClipExecutionResult],
    started_at: datetime | None,
    finished_at: datetime | None,
    interrupted_by: str | None = None,
) -> JobExecutionResult:
    """Every clip of the plan, in order.

    `outcomes` are the clips whose task ran or was found up to date in this run; `previous`
    are reusable records of clips not touched in this run (e.g. not selected)."""
    clips: list[ClipExecutionResult] = []
    failed_at: int | None = None
    for clip in plan.clips:
        outcome = outcomes.get(clip.index)
        if outcome is not None and outcome.record is not None:
            record = outcome.record
        elif outcome is not None:
            record = ClipExecutionResult(
                index=clip.index, source_path=str(clip.source), output_path=str(clip.output),
                status=ClipStatus.FAILED, failure_reason=outcome.failure or "task failed",
                task=clip.task_name)
        elif failed_at is not None:
            record = _skipped(plan, clip.index,
                              f"not run: clip {plan.clips[failed_at].task_name} failed first")
        elif clip.index in previous:
            record = previous[clip.index].model_copy(update={"up_to_date": True})
        elif interrupted_by:
            record = _skipped(plan, clip.index, f"not run: the job was interrupted by "
                                                f"{interrupted_by}")
        else:
            record = _skipped(plan, clip.index, "not run in this invocation (not selected)")
        if record.status is ClipStatus.FAILED and failed_at is None:
            failed_at = clip.index
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
    )


def _skipped(plan: Plan, index: int, reason: str) -> ClipExecutionResult:
    clip = plan.clips[index]
    return ClipExecutionResult(
        index=index, source_path=str(clip.source), output_path=str(clip.output),
        status=ClipStatus.SKIPPED, failure_reason=reason, task=clip.task_name)
