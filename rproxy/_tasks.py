"""The doit build graph of a job: a group task per spec, `proxy:<spec>`, with one task per clip,
`proxy:<spec>:<proxy file name>`, chained with task_dep (strict order, stop at the first
failure); and the collector, `result:<spec>`, which rebuilds a job's result.json from its
records when asked. The reporter only displays what the records on disk say."""

from __future__ import annotations

import contextlib
import gc
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doit.dependency import FileChangedChecker, UptodateCalculator
from doit.exceptions import BaseFail, TaskFailed, UnmetDependency
from doit.reporter import ConsoleReporter

from ._clip import current_entry
from ._errors import JobLockedError, RproxyError
from ._files import write_json_atomic
from ._jobstate import read_run, write_info
from ._lock import JobLock, folder_lock
from ._plan import Plan, task_basename
from ._progress import plain
from ._records import ClipExecutionResult, read_clip_record
from ._run import JobStart, Run, gather
from ._text import plural, short_path
from ._truth import Owner, ownership

RESULT = "result"


class SizeMtimeChecker(FileChangedChecker):  # type: ignore[misc]
    """file_dep changed when its size or mtime did: camera files are never hashed."""

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: Any) -> bool:
        return list(state) != [file_stat.st_size, file_stat.st_mtime_ns]

    def get_state(self, dep: str, current_state: Any) -> list[int]:
        info = os.stat(dep)
        return [info.st_size, info.st_mtime_ns]


def doit_config(dep_file: str, reporter: Any) -> dict[str, Any]:
    """doit settings every rproxy graph needs: the atomic DB (``_doitdb``), and file_dep
    compared by size and mtime (doit's default md5 would read every camera file in full)."""
    from ._doitdb import BACKEND_NAME

    return {
        "backend": BACKEND_NAME,
        "dep_file": dep_file,
        "check_file_uptodate": SizeMtimeChecker,
        "reporter": reporter,
    }


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


@dataclass(frozen=True)
class ClipRef:
    """What a clip's task hands to its action, its checks and the reporter (doit `meta`)."""

    plan: Plan
    index: int
    run: Run | None  # None: this doit command does not execute tasks (list, info, clean)

    def __repr__(self) -> str:  # `doit info` prints it
        return f"rproxy clip {self.index} of {self.plan.name}"


class ClipIsCurrent(UptodateCalculator):  # type: ignore[misc]
    """doit `uptodate`: the output folder's truth says the clip's proxy can be reused. Run in
    doit's main process (also with -n N), so it is where a run starts a job: before the job's
    first clip is dispatched (a doit UptodateCalculator sees every task, and so knows which
    sources a task of the user's project makes)."""

    # doit calls inspect.signature() on every uptodate callable, per task and per run, to see
    # whether it wants `task`/`values`; a ready Signature answers at once (0.2 s per 2,000).
    __signature__ = inspect.Signature()

    def __init__(self, ref: ClipRef) -> None:
        super().__init__()
        self.ref = ref

    def __call__(self) -> bool:
        ref = self.ref
        if ref.run is not None and not ref.run.start(ref.plan, self._produced).ok:
            return False  # the action runs and says why
        return current_entry(ref.plan, ref.plan.clips[ref.index]) is not None

    def _produced(self, path: str) -> bool:
        """Is `path` a target of a task of the user's project (made before its clip runs)?"""
        cwd = os.getcwd()
        wanted = {path, doit_path(path, cwd)}
        for task in (self.tasks_dict or {}).values():
            if "rproxy" not in (task.meta or {}) and wanted & set(task.targets):
                return True
        return False

    def __repr__(self) -> str:
        return "rproxy: the output folder's record of this proxy (same source, same command)"


def job_tasks(plan: Plan, run: Run | None, cwd: Path, *, describe: bool = False,
              targets: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """doit tasks for one job: the group `proxy:<spec>` and its clips, chained in order.
    `describe`: the group's doc counts the clips up to date (for `doit list`). `targets`: the
    proxies earlier specs of the project already make; doit lets only one task name a target,
    and two specs of one proxy share it (whichever runs first makes it, the other reuses it)."""
    taken = targets if targets is not None else set()
    allow_chain_depth(len(plan.clips))
    basename = task_basename(plan.name)
    yield {"basename": basename, "name": None, "doc": job_doc(plan, describe),
           "clean": [(clean_earlier_versions, [plan])],
           "meta": {"rproxy": f"rproxy job {plan.name}"}}
    previous: str | None = None
    cwd_text = str(cwd)
    for clip in plan.clips:
        ref = ClipRef(plan, clip.index, run)
        target = doit_path(clip.output_path, cwd_text)
        mine = target not in taken
        taken.add(target)
        yield {
            "basename": basename,
            "name": clip.name,
            "doc": plain(f"{short_path(clip.source_path)} -> {short_path(clip.output_path)}"),
            "actions": [(clip_action, [ref])],
            "file_dep": [doit_path(clip.source_path, cwd_text)],
            "targets": [target] if mine else [],
            "task_dep": [previous] if previous else [],
            "uptodate": [ClipIsCurrent(ref)],
            "clean": [(clean_clip, [ref])],
            # doit pickles `meta` to and from its process workers (-n N): plain text only.
            "meta": {"rproxy": repr(ref)},
            "verbosity": 2,
        }
        previous = f"{basename}:{clip.name}"


def job_doc(plan: Plan, count: bool) -> str:
    spec = plan.spec
    where = short_path(spec.spec_file) if spec.spec_file else f"job {plan.job_id}"
    text = (f"{where}: {plural(len(plan.clips), 'clip')} -> {short_path(spec.output_path)} "
            f"({spec.codec.value} {spec.container.value} {spec.resolution})")
    if count:
        current = sum(current_entry(plan, clip) is not None for clip in plan.clips)
        text += f", {current} up to date"
    return plain(text)


def clip_action(ref: ClipRef) -> TaskFailed | None:
    assert ref.run is not None, "clip actions run only in a doit run"
    outcome = ref.run.clip(ref.plan, ref.index)
    if isinstance(outcome, JobStart):
        if outcome.problems:
            return TaskFailed(f"the pre-flight found {plural(len(outcome.problems), 'problem')} "
                              "(listed above); nothing was encoded")
        return TaskFailed(outcome.message)
    if outcome.failure_reason and outcome.status.value == "FAILED":
        name = os.path.basename(outcome.source_path)
        return TaskFailed(f"clip {ref.index} ({name}): {outcome.failure_reason}")
    return None


# -- doit clean ----------------------------------------------------------------------------


def clean_clip(ref: ClipRef, dryrun: bool = False) -> None:
    """Remove the clip's proxy when the folder's truth says rproxy made it of this source and
    no other spec still wants it; then its record and the job's result. Never while the job
    runs, never a file someone changed."""
    plan, clip = ref.plan, ref.plan.clips[ref.index]
    lock = JobLock(plan.lock_path, plan.job_id, f"clean-{os.getpid()}")
    try:
        lock.acquire()
    except JobLockedError as exc:
        print(f"not cleaned: {exc}")
        return
    except RproxyError:
        return  # no state folder can be made here: nothing of rproxy's to clean
    said = "would remove" if dryrun else "removed"
    try:
        with folder_lock(plan.folder.root):
            own = ownership(plan.folder, clip.name)
            entry = own.entry
            if entry is not None and own.owner in (Owner.OURS, Owner.ABSENT):
                others = [c for c in entry.claims if c != plan.identity]
                if others:
                    print(f"kept {plain(clip.output_path)}: {others[0].split(':', 1)[-1]} "
                          "uses it too")
                    if not dryrun:
                        plan.folder.write(entry.model_copy(update={"claims": others}))
                elif entry.source.is_file(clip.source_path, plan.output_dir):
                    if own.owner is Owner.OURS:
                        print(f"{said} {plain(clip.output_path)}")
                    if not dryrun:
                        with contextlib.suppress(FileNotFoundError):
                            clip.output.unlink()
                        plan.folder.remove(clip.name)
            elif own.owner is Owner.CHANGED:
                print(f"kept {plain(own.describe(clip.output_path))}")
            for path in (clip.partial, clip.record, plan.result_path):
                if path.exists():
                    print(f"{said} {plain(str(path))}")
                    if not dryrun:
                        path.unlink()
            if not dryrun and plan.info_path.parent.is_dir():
                write_info(plan, cleaned=True)
    finally:
        lock.release()


def clean_earlier_versions(plan: Plan, dryrun: bool = False) -> None:
    """Remove the proxies that earlier versions of this spec made and that it no longer
    names (the codec or the naming template changed): the folder's record says this spec
    wanted them, and no other spec wants them now."""
    names = {clip.name for clip in plan.clips}
    stale = [entry for entry in plan.folder.entries()
             if plan.identity in entry.claims and entry.name not in names]
    if not stale:
        return
    said = "would remove" if dryrun else "removed"
    with folder_lock(plan.folder.root):
        for entry in stale:
            fresh = plan.folder.read(entry.name)
            if fresh is None or plan.identity not in fresh.claims:
                continue
            others = [c for c in fresh.claims if c != plan.identity]
            own = ownership(plan.folder, fresh.name, fresh)
            path = plan.folder.path_of(fresh.name)
            if others:
                print(f"kept {plain(path)}: {others[0].split(':', 1)[-1]} uses it too")
                if not dryrun:
                    plan.folder.write(fresh.model_copy(update={"claims": others}))
            elif own.owner is Owner.CHANGED:
                print(f"kept {plain(own.describe(path))}")
            else:
                if own.owner is Owner.OURS:
                    print(f"{said} {plain(path)} (an earlier version of {plan.name} made it)")
                if not dryrun:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                    plan.folder.remove(fresh.name)


# -- the collector -------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultRef:
    plan: Plan

    def __repr__(self) -> str:
        return f"rproxy result of {self.plan.name}"


class ResultWanted:
    """doit `uptodate` of `result:<spec>`: a plain `doit` writes every result at the end of
    the run anyway; only asked for by name does the collector run."""

    __signature__ = inspect.Signature()

    def __init__(self, plan: Plan, name: str, selected: Callable[[str], bool]) -> None:
        self.ref, self.name, self.selected = ResultRef(plan), name, selected

    def __call__(self) -> bool:
        return not self.selected(self.name)

    def __repr__(self) -> str:
        return "rproxy: runs only when named"


def result_tasks(plans: list[Plan], selected: Callable[[str], bool]
                 ) -> Iterator[dict[str, Any]]:
    yield {"basename": RESULT, "name": None,
           "doc": "rebuild a job's result.json from its records (doit result:<spec>)",
           "meta": {"rproxy": "rproxy results"}}
    for plan in plans:
        name = f"{RESULT}:{plan.name}"
        yield {
            "basename": RESULT,
            "name": plan.name,
            "doc": plain(f"rebuild {plan.result_path} from the records"),
            "actions": [(collect_action, [ResultRef(plan)])],
            "uptodate": [ResultWanted(plan, name, selected)],
            "meta": {"rproxy": repr(ResultRef(plan))},
            "verbosity": 2,
        }


def collect_action(ref: ResultRef) -> TaskFailed | None:
    plan = ref.plan
    lock = JobLock(plan.lock_path, plan.job_id, f"collect-{os.getpid()}")
    try:
        lock.acquire()
    except RproxyError as exc:
        return TaskFailed(str(exc))
    try:
        last = read_run(plan)
        result = gather(plan, last.run_id if last else None, last.started_at if last else None,
                        None)
        write_json_atomic(plan.result_path, result)
    finally:
        lock.release()
    print(f"{plan.name}: {result.status.value}, {result.completed_count} of "
          f"{plural(len(result.clips), 'clip')} completed; wrote {plain(str(plan.result_path))}")
    return None


# -- the reporter --------------------------------------------------------------------------


class RproxyReporter(ConsoleReporter):  # type: ignore[misc]
    """doit's console reporter, with rproxy's line per clip (read from its record on disk) in
    place of doit's for rproxy's tasks. It only displays."""

    @staticmethod
    def _ref(task: Any) -> ClipRef | ResultRef | None:
        """The clip (or collector) behind one of rproxy's tasks, from its uptodate check: the
        task object in doit's main process keeps those (they are never pickled)."""
        for check, _args, _kwargs in getattr(task, "uptodate", None) or ():
            if isinstance(check, ClipIsCurrent | ResultWanted):
                return check.ref
        return None

    @staticmethod
    def _ours(task: Any) -> bool:
        """One of rproxy's tasks (a clip, a job's group, a collector): rproxy's lines say
        what happened to it, from its records; doit's own would repeat or confuse it."""
        return "rproxy" in (getattr(task, "meta", None) or {})

    def execute_task(self, task: Any) -> None:
        ref = self._ref(task)
        if ref is None:
            if not self._ours(task):
                super().execute_task(task)
        elif isinstance(ref, ClipRef) and ref.run is not None:
            ref.run.display.clip_started(ref.plan, ref.index)

    def skip_uptodate(self, task: Any) -> None:
        ref = self._ref(task)
        if ref is None:
            if not self._ours(task):
                super().skip_uptodate(task)
        elif isinstance(ref, ClipRef) and ref.run is not None:
            ref.run.display.clip_up_to_date(ref.plan, ref.index)

    def add_success(self, task: Any) -> None:
        ref = self._ref(task)
        if ref is None:
            if not self._ours(task):
                super().add_success(task)
        elif isinstance(ref, ClipRef) and ref.run is not None:
            record = self._record(ref)
            if record is not None:
                ref.run.display.clip_finished(ref.plan, record)

    def add_failure(self, task: Any, fail: BaseFail) -> None:
        ref = self._ref(task)
        if ref is None:
            if not self._ours(task):
                super().add_failure(task, fail)
            return
        if isinstance(fail, UnmetDependency) or not isinstance(ref, ClipRef) or ref.run is None:
            return  # a later clip after a failure: the result marks it SKIPPED
        started = ref.run.jobs.get(ref.plan.job_id)
        if started is not None and not started.ok:
            return  # the job could not start: that was said once, for the job
        record = self._record(ref)
        if record is not None and record.failure_reason:
            ref.run.display.clip_finished(ref.plan, record)
        else:
            lines = (fail.get_msg() or "failed").strip().splitlines()
            ref.run.display.clip_failed_early(ref.plan, ref.index, lines[-1] if lines else "")

    @staticmethod
    def _record(ref: ClipRef) -> ClipExecutionResult | None:
        assert ref.run is not None
        clip = ref.plan.clips[ref.index]
        record = read_clip_record(clip.record_path)
        if record is None or record.run_id != ref.run.run_id:
            found = current_entry(ref.plan, clip)
            if found is None:
                return None
            from ._clip import reused_record

            return reused_record(ref.plan, clip, found[0])
        return record
