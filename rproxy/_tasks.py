"""The doit build graph: one task per clip, chained with task_dep (strict order, stop at the
first failure), and a reporter that collects the JobExecutionResult when the run ends, also
after a failure or Ctrl-C (doit calls `complete_run` from a `finally`)."""

from __future__ import annotations

import contextlib
import gc
import inspect
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from doit.dependency import FileChangedChecker
from doit.exceptions import BaseFail, TaskFailed, UnmetDependency
from doit.reporter import ConsoleReporter

from ._clip import current_record, forget_recorded_outputs, owned_by_rproxy, run_clip
from ._collect import Outcome, collect
from ._errors import CouldNotStartError, RproxyError
from ._ffmpeg import ffmpeg_binary
from ._lock import JobLock
from ._plan import Plan
from ._progress import Display
from ._records import (
    ClipExecutionResult,
    JobExecutionResult,
    read_clip_record,
    write_json_atomic,
)
from ._signals import deferred_signals, signal_of

BASENAME = "proxy"


@dataclass
class Session:
    """Everything one doit run of rproxy tasks shares: plans, locks, outcomes, results."""

    display: Display = field(default_factory=Display)
    plans: dict[str, Plan] = field(default_factory=dict, repr=False)
    locks: dict[str, JobLock] = field(default_factory=dict)
    outcomes: dict[str, dict[int, Outcome]] = field(default_factory=dict)
    started: dict[str, datetime] = field(default_factory=dict)
    results: dict[str, JobExecutionResult] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # job → why it could not start
    encoding: set[str] = field(default_factory=set)  # jobs that have started a clip action
    interrupted: int | None = None
    ffmpeg: str | None = None
    # (job, clip) → the record doit's up-to-date check just found current
    checked: dict[tuple[str, int], ClipExecutionResult] = field(default_factory=dict,
                                                                repr=False)

    def __post_init__(self) -> None:
        forget_recorded_outputs()

    def add(self, plan: Plan) -> None:
        self.plans[plan.job_id] = plan

    def lock(self, plan: Plan) -> JobLock:
        lock = self.locks.get(plan.job_id)
        if lock is None:
            lock = self.locks[plan.job_id] = JobLock(plan.lock_path, plan.job_id)
        lock.acquire()
        return lock

    def touch(self, job_id: str) -> None:
        self.started.setdefault(job_id, datetime.now(UTC))
        self.outcomes.setdefault(job_id, {})

    def find(self, task_name: str) -> tuple[Plan, int] | None:
        """(plan, clip index) for one of our task names, e.g. 'proxy:1a2b3c4d:007'."""
        parts = task_name.split(":")
        if len(parts) != 3 or parts[0] != BASENAME or parts[1] not in self.plans:
            return None
        try:
            return self.plans[parts[1]], int(parts[2])
        except ValueError:
            return None


DEFAULT_SESSION = Session()


class SizeMtimeChecker(FileChangedChecker):  # type: ignore[misc]
    """file_dep changed when its size or mtime did: camera files are never hashed."""

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: Any) -> bool:
        return list(state) != [file_stat.st_size, file_stat.st_mtime_ns]

    def get_state(self, dep: str, current_state: Any) -> list[int]:
        info = os.stat(dep)
        return [info.st_size, info.st_mtime_ns]


def doit_path(path: str, cwd: str) -> str:
    """A path as doit compares it with the user's `targets`: relative to the dodo.py's folder
    when it is inside it, absolute otherwise. Normalised absolute strings in (no pathlib: two
    calls per clip add up on a 2,000-clip job)."""
    if cwd == "/":
        return path[1:] or "."
    if path.startswith(cwd + "/"):
        return path[len(cwd) + 1:]
    return path


# Python's cyclic GC runs a young collection every 700 allocations by default; building and
# checking a 2,000-clip graph allocates millions of small objects (task dicts, records) that
# live until the run ends, so those collections find nothing and cost ~0.2 s of a no-op re-run.
# Young collections every 50,000 allocations instead (mypy raises its threshold the same way).
GC_YOUNG_THRESHOLD = 50_000


@contextlib.contextmanager
def fewer_gc_pauses() -> Iterator[None]:
    """Raise the cyclic GC's young-generation threshold while a graph is built and run."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], GC_YOUNG_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def allow_chain_depth(clips: int) -> None:
    """Let doit walk a task_dep chain of `clips` tasks. `doit clean` follows task_dep by
    recursion (one Python frame per chained clip, ~1,000 by default); since Python 3.11 such
    pure-Python calls use no C stack, so a higher limit is safe. Never lowers the limit."""
    needed = 2 * clips + 1_000
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)


class _RecordIsCurrent:
    """doit `uptodate`: the clip's record says its proxy can be reused. An object rather than
    (function, args), so that `doit info` prints one line instead of the whole session."""

    # doit calls inspect.signature() on every uptodate callable, per task and per run, to see
    # whether it wants `task`/`values`; a ready Signature answers at once (0.2 s per 2,000).
    __signature__ = inspect.Signature()

    def __init__(self, session: Session, job_id: str, index: int) -> None:
        self.session, self.job_id, self.index = session, job_id, index

    def __call__(self) -> bool:
        record = current_record(self.session.plans[self.job_id].clips[self.index])
        if record is not None:  # the reporter's skip_uptodate reuses it: one read per clip
            self.session.checked[(self.job_id, self.index)] = record
        return record is not None

    def __repr__(self) -> str:
        record = self.session.plans[self.job_id].clips[self.index].record
        return f"rproxy clip record {record} (missing, failed, or not for this command/source)"


def clip_tasks(plan: Plan, session: Session, cwd: Path) -> Iterator[dict[str, Any]]:
    """doit sub-task dicts for one job, chained in order."""
    session.add(plan)
    allow_chain_depth(len(plan.clips))
    previous: str | None = None
    cwd_text = str(cwd)
    job_id = plan.job_id
    for clip in plan.clips:
        source = str(clip.source)
        yield {
            "name": clip.task_name,
            "doc": f"{source} → {clip.output_path}",
            "actions": [(_clip_action, [session, job_id, clip.index])],
            "file_dep": [doit_path(source, cwd_text)],
            "targets": [doit_path(clip.output_path, cwd_text)],
            "task_dep": [previous] if previous else [],
            "uptodate": [_RecordIsCurrent(session, job_id, clip.index)],
            "clean": [(_clean_clip, [session, job_id, clip.index])],
            "verbosity": 2,
        }
        previous = f"{BASENAME}:{clip.task_name}"


def _clip_action(session: Session, job_id: str, index: int) -> TaskFailed | None:
    plan = session.plans[job_id]
    clip = plan.clips[index]
    try:
        session.lock(plan)
        if session.ffmpeg is None:
            session.ffmpeg = ffmpeg_binary()
    except CouldNotStartError as exc:
        session.refused[job_id] = str(exc)
        return TaskFailed(str(exc))
    session.touch(job_id)
    session.display.clip_started(plan, index)
    try:
        first = job_id not in session.encoding
        session.encoding.add(job_id)
        record = run_clip(plan, clip, session.ffmpeg, session.display.progress_fn(plan, index),
                          check_all_outputs=first)
    except KeyboardInterrupt as exc:
        signum = signal_of(exc)
        session.interrupted = signum
        session.outcomes[job_id][index] = Outcome(
            None, f"interrupted by {signal.Signals(signum).name}")
        written = read_clip_record(clip.record)
        if written is not None:
            session.outcomes[job_id][index] = Outcome(written)
            session.display.clip_finished(plan, written)
        # On up the stack: doit must stop here (not go on with other jobs' clips); its
        # reporter's complete_run still collects and writes every job's result.
        raise
    session.outcomes[job_id][index] = Outcome(record)
    session.display.clip_finished(plan, record)
    if record.failure_reason:
        return TaskFailed(f"clip {clip.index} ({clip.source.name}): {record.failure_reason}")
    return None


def _clean_clip(session: Session, job_id: str, index: int, dryrun: bool = False) -> None:
    """Remove the proxy only when rproxy's record says it made it; then the record."""
    plan = session.plans[job_id]
    clip = plan.clips[index]
    removed = []
    if owned_by_rproxy(clip):
        if not dryrun:
            clip.output.unlink()
        removed.append(str(clip.output))
    # The job's result describes proxies that are gone now: whichever clip is cleaned first
    # removes it.
    for path in (clip.partial, clip.record, plan.result_path):
        if path.exists():
            if not dryrun:
                path.unlink()
            removed.append(str(path))
    for path_text in removed:
        print(f"{'would remove' if dryrun else 'removed'} {path_text}")


class RproxyReporter(ConsoleReporter):  # type: ignore[misc]
    """doit's console reporter, plus rproxy's per-clip lines and the result collector."""

    def __init__(self, outstream: TextIO, options: dict[str, Any],
                 session: Session | None = None) -> None:
        super().__init__(outstream, options)
        self.session = session or DEFAULT_SESSION

    def execute_task(self, task: Any) -> None:
        if self.session.find(task.name) is None:
            super().execute_task(task)

    def skip_uptodate(self, task: Any) -> None:
        found = self.session.find(task.name)
        if found is None:
            return super().skip_uptodate(task)  # type: ignore[no-any-return]
        plan, index = found
        record = self.session.checked.pop((plan.job_id, index), None)
        if record is None:
            record = current_record(plan.clips[index])
        self.session.touch(plan.job_id)
        if record is not None:
            # A record parsed just now for this check and held nowhere else: mark it in place
            # (a model_copy per clip costs ~30 ms on a 2,000-clip no-op re-run).
            record.up_to_date = True
            self.session.outcomes[plan.job_id][index] = Outcome(record)
            self.session.display.clip_finished(plan, record)
        return None

    def add_failure(self, task: Any, fail: BaseFail) -> None:
        found = self.session.find(task.name)
        if found is None:
            return super().add_failure(task, fail)  # type: ignore[no-any-return]
        if isinstance(fail, UnmetDependency):
            return None  # a later clip after a failure: the collector marks it SKIPPED
        plan, index = found
        self.session.touch(plan.job_id)
        outcomes = self.session.outcomes[plan.job_id]
        if index not in outcomes:  # doit failed it before our action ran (e.g. file_dep gone)
            message = fail.get_msg().strip().splitlines()[-1] if fail.get_msg() else "failed"
            outcomes[index] = Outcome(None, message)
            self.session.display.clip_failed_early(plan, index, message)
        return None

    def complete_run(self) -> None:
        try:
            finish_jobs(self.session)
        finally:
            super().complete_run()


def finish_jobs(session: Session) -> None:
    """Collect and write the result of every job this run touched; release the locks.

    Also when an interrupt is on its way up (doit calls this from a `finally`): the result
    says so. A result that cannot be written (disk full) is reported, never a traceback.
    Under plain `doit` (the dodo.py session) an interrupt ends the process here with exit
    code 130/143 instead of doit's traceback."""
    in_flight = sys.exc_info()[1]
    if isinstance(in_flight, KeyboardInterrupt) and session.interrupted is None:
        session.interrupted = signal_of(in_flight)
    with deferred_signals(reraise=False) as pending:
        finished = datetime.now(UTC)
        signum = session.interrupted or (pending[0] if pending else None)
        interrupted = signal.Signals(signum).name if signum else None
        for job_id, outcomes in session.outcomes.items():
            plan = session.plans[job_id]
            lock = session.locks.get(job_id)
            if lock is None or not lock.held:
                with contextlib.suppress(RproxyError):
                    session.lock(plan)
            if job_id in session.refused or not session.locks[job_id].held:
                continue
            previous: dict[int, ClipExecutionResult] = {}
            for clip in plan.clips:
                if clip.index not in outcomes:
                    record = current_record(clip)
                    if record is not None:
                        previous[clip.index] = record
            result = collect(plan, outcomes, previous, session.started.get(job_id), finished,
                             interrupted)
            try:
                write_json_atomic(plan.result_path, result)
            except OSError as exc:
                print(f"rproxy: job {job_id}: could not write {plan.result_path}: "
                      f"{exc.strerror or exc}", file=sys.stderr)
            session.results[job_id] = result
            session.display.job_finished(plan, result)
        for lock in session.locks.values():
            lock.release()
    if session.interrupted is None and pending:
        session.interrupted = pending[0]
    if session is DEFAULT_SESSION and session.interrupted:
        raise SystemExit(128 + session.interrupted)
    if session is DEFAULT_SESSION and session.refused:
        # Could not start (the job is already running, FFmpeg missing): rproxy's exit code 3
        # under doit too, not doit's "a task failed".
        raise SystemExit(CouldNotStartError.exit_code)
