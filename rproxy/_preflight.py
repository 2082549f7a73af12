"""The pre-flight: before the first clip of a job is encoded, every clip that will be encoded is
probed and every source-dependent problem is found, so that a job never fails at clip 380
hours in for a reason that was there at clip 0. Clips already up to date are not probed."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ._bounded import bounded, stall_limit
from ._clip import clip_conflict, current_entry
from ._errors import ClipError, JobSpecValidationError, PreflightError, Problem
from ._plan import Plan, PlannedClip, build_plan
from ._spec import JobSpec
from ._validate import find_problems, source_file_problem

# (clips probed so far, clips to probe, the clip being probed): a live line on a terminal.
ProbeProgress = Callable[[int, int, PlannedClip], None]


@dataclass(frozen=True)
class Preflight:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[tuple[PlannedClip, str]] = field(default_factory=list)
    probed: int = 0


def clip_field(clip: PlannedClip) -> str:
    return f"clip {clip.index} ({os.path.basename(clip.source_path)})"


def preflight(plan: Plan, clips: Iterable[PlannedClip], *,
              produced: Callable[[str], bool] | None = None,
              progress: ProbeProgress | None = None) -> Preflight:
    """Probe and assess each of `clips`. A missing source is a problem unless `produced` says
    a task of the user's project makes it (under doit: it is checked when its clip runs)."""
    from ._probe import probe
    from ._rules import assess

    todo = list(clips)
    problems: list[Problem] = []
    warnings: list[tuple[PlannedClip, str]] = []
    limit = stall_limit(plan.spec.clip_timeout_s)
    probed = 0
    for done, clip in enumerate(todo):
        if progress is not None:
            progress(done, len(todo), clip)
        where = clip_field(clip)
        if (produced is not None and not os.path.lexists(clip.source_path)
                and produced(clip.source_path)):
            continue  # a task of the user's makes it: its clip checks it when it runs
        unusable = source_file_problem(clip.source_path)
        if unusable:
            problems.append(Problem(where, unusable))
            continue
        conflict = clip_conflict(plan, clip)
        if conflict:
            problems.append(Problem(where, f"refusing to overwrite: {conflict}"))
        try:
            source = bounded(probe, (clip.source,), limit,
                             f"probing the source {clip.source_path}")
        except ClipError as exc:
            problems.append(Problem(where, exc.reason))
            continue
        probed += 1
        verdict = assess(plan.fmt, source)
        problems += [Problem(where, problem) for problem in verdict.problems]
        warnings += [(clip, warning) for warning in verdict.warnings]
    return Preflight(problems, warnings, probed)


def check_job(spec: JobSpec, origin: str | None = None) -> None:
    """Validation and the pre-flight in one report: raise JobSpecValidationError (the spec is
    wrong) or PreflightError (its sources are), each listing every problem at once. A spec
    whose only problems are its sources (missing, unreadable) is planned, and the rest of its
    sources probed, so that a card with a missing clip and a damaged one says both."""
    problems = find_problems(spec)
    if not problems:
        return
    source_rows = [_source_index(p) for p in problems]
    if None in source_rows:
        raise JobSpecValidationError(problems, origin)
    plan = build_plan(spec)
    bad = set(source_rows)
    checked = preflight(plan, [clip for clip in plan.clips
                               if clip.index not in bad and current_entry(plan, clip) is None])
    raise PreflightError(sorted(problems + checked.problems, key=_clip_index), origin,
                         [f"{clip_field(clip)}: {text}" for clip, text in checked.warnings])


def _source_index(problem: Problem) -> int | None:
    head, _, index = problem.field.partition(".")
    return int(index) if head == "sources" and index.isdigit() else None


def _clip_index(problem: Problem) -> int:
    """Where a problem goes in the report: with its clip, in the job's order."""
    source = _source_index(problem)
    if source is not None:
        return source
    words = problem.field.split()
    return int(words[1]) if len(words) > 1 and words[0] == "clip" and words[1].isdigit() else -1
