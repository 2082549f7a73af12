"""One run: an invocation that makes proxies (`rproxy run`, the API, or a `doit` that executes
tasks), with the jobs it starts and finishes.

Starting a job (once per run, in the process that starts the run): lock it for the run, check
FFmpeg, make a missing output folder (one level only), check the job id against the folder,
find the clips that are already up to date, and run the pre-flight over the others. Each clip
then runs wherever doit puts it (this process, a thread, a forked worker: they share the run's
id, and the job's lock knows it). Finishing a job reads what the records on disk say about
this run and writes result.json."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import _signals as interrupts
from ._clip import ClipRun, current_entry, reused_record, run_clip, settle_reuse
from ._collect import collect
from ._errors import CouldNotStartError, Problem, RproxyError
from ._ffmpeg import ffmpeg_binary, ffmpeg_version
from ._files import write_json_atomic
from ._jobstate import (
    JobRun,
    job_id_problem,
    read_run,
    remove_job_dir,
    stale_job_dirs,
    write_info,
    write_run,
)
from ._lock import JobLock, folder_lock
from ._plan import Plan, PlannedClip
from ._preflight import preflight
from ._progress import Display
from ._records import ClipExecutionResult, JobExecutionResult, read_clip_record, write_clip_record
from ._validate import missing_output_dir


def new_run_id() -> str:
    return f"{os.getpid()}-{time.time_ns()}"


@dataclass
class JobStart:
    """How starting a job in this run went."""

    exit_code: int = 0  # 0: it runs; 2: the pre-flight found problems; 3: it could not start
    error: CouldNotStartError | None = None
    problems: list[Problem] = field(default_factory=list)
    started_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def message(self) -> str:
        return str(self.error) if self.error else ""


@dataclass
class Run:
    display: Display
    run_id: str = field(default_factory=new_run_id)
    # Which clips of a job this run will run (None: all): a doit selection of some clips.
    selection: Callable[[Plan], Collection[int] | None] = lambda plan: None
    ffmpeg: str | None = None
    # Print the pre-flight's problems (doit: nobody else will); `rproxy run` and the API raise
    # them as a PreflightError instead.
    tell_problems: bool = False
    jobs: dict[str, JobStart] = field(default_factory=dict)  # by job id, this process's view
    plans: dict[str, Plan] = field(default_factory=dict)  # the jobs this run started
    locks: dict[str, JobLock] = field(default_factory=dict)
    # Records this process could not write (a full disk): the result still tells them.
    unsaved: dict[tuple[str, int], ClipExecutionResult] = field(default_factory=dict)
    asked: list[Plan] = field(default_factory=list)  # the jobs this run means to run
    _active: int = 0  # clips running now in this process (threads included)
    _idle: threading.Condition = field(default_factory=threading.Condition, repr=False)

    # -- starting a job ---------------------------------------------------------------------

    def start(self, plan: Plan, produced: Callable[[str], bool] | None = None) -> JobStart:
        """Start `plan`'s job in this run (once; later calls return how it went)."""
        known = self.jobs.get(plan.job_id)
        if known is not None:
            return known
        started = self.jobs[plan.job_id] = JobStart(started_at=datetime.now(UTC))
        self.plans[plan.job_id] = plan
        try:
            self._output_folder(plan)  # before the lock, which lives inside it
            with interrupts.deferred():  # a lock taken is a lock recorded
                self._lock(plan).acquire()
            self.binary()
            self._claim_job_folder(plan)
        except CouldNotStartError as exc:
            started.exit_code, started.error = exc.exit_code, exc
            self.display.refused(plan, str(exc))
            return started
        except _Invalid as exc:
            started.exit_code, started.problems = 2, exc.problems
            self.display.preflight_done(plan, exc.problems if self.tell_problems else [], [])
            return started
        self.display.job_started(plan)
        wanted = self.selection(plan)
        todo = [clip for clip in plan.clips
                if (wanted is None or clip.index in wanted) and current_entry(plan, clip) is None]
        checked = preflight(plan, todo, produced=produced,
                            progress=lambda done, total, clip: self.display.probing(
                                plan, done, total, clip))
        self.display.preflight_done(plan, checked.problems if self.tell_problems else [],
                                    checked.warnings)
        if checked.problems:
            started.exit_code, started.problems = 2, checked.problems
            return started
        assert started.started_at is not None
        with contextlib.suppress(OSError):
            write_run(plan, JobRun(run_id=self.run_id, pid=os.getpid(),
                                   started_at=started.started_at))
        return started

    def start_interrupted(self, plan: Plan) -> None:
        """Register a job that an interrupt stopped before it started, so that finish()
        writes its result (nothing ran: the result says why). Only with its lock free."""
        if not plan.spec.output_path.is_dir():
            return
        try:
            self._lock(plan).acquire()
        except CouldNotStartError:
            return
        self.jobs[plan.job_id] = JobStart(started_at=datetime.now(UTC))
        self.plans[plan.job_id] = plan

    def binary(self) -> str:
        if self.ffmpeg is None:
            binary = ffmpeg_binary()
            ffmpeg_version(binary)  # could-not-start now, before anything is encoded
            self.ffmpeg = binary
        return self.ffmpeg

    def _lock(self, plan: Plan) -> JobLock:
        lock = self.locks.get(plan.job_id)
        if lock is None:
            lock = self.locks[plan.job_id] = JobLock(plan.lock_path, plan.job_id, self.run_id)
        return lock

    @staticmethod
    def _output_folder(plan: Plan) -> None:
        out = plan.spec.output_path
        if out.is_dir():
            return
        # One level only: a missing parent is a drive that is not plugged in, and the proxies
        # must not land on the system disk at its mount point.
        problems = missing_output_dir(out)
        if problems:
            raise _Invalid(problems)
        try:
            out.mkdir()
        except FileExistsError:
            pass
        except OSError as exc:
            raise _Invalid([Problem("output_dir", f"cannot create the output folder {out}: "
                                                  f"{exc.strerror or exc}")]) from None

    @staticmethod
    def _claim_job_folder(plan: Plan) -> None:
        with folder_lock(plan.folder.root):
            problem = job_id_problem(plan)
            if problem is not None:
                raise _Invalid([problem])
            # State is best-effort here: on a full disk the clips fail with the OS's reason,
            # in their records where they fit, and in the result either way.
            with contextlib.suppress(OSError):
                write_info(plan)

    def verdict(self, plan: Plan) -> JobStart:
        """How the job's start went, seen from whichever process runs one of its clips: this
        process knows; a forked doit worker reads run.json (written by the process that
        started the job) and finds the lock held by this run."""
        known = self.jobs.get(plan.job_id)
        if known is not None:
            return known
        on_disk = read_run(plan)
        if on_disk is not None and on_disk.run_id == self.run_id:
            try:
                self._lock(plan).acquire()
            except CouldNotStartError as exc:
                return JobStart(exit_code=exc.exit_code, error=exc)
            known = self.jobs[plan.job_id] = JobStart(started_at=on_disk.started_at)
            self.plans[plan.job_id] = plan
            return known
        return self.start(plan)

    # -- clips ------------------------------------------------------------------------------

    def clip(self, plan: Plan, index: int) -> ClipExecutionResult | JobStart:
        """Run one clip of a started job: its record, or how starting the job failed."""
        start = self.verdict(plan)
        if not start.ok:
            return start
        clip = plan.clips[index]
        interrupts.leave_to_main_thread()  # a doit -P thread worker
        with self._idle:
            self._active += 1
        try:
            run = ClipRun(self.binary(), self.run_id, self.display.progress_fn(plan, index))
            record = run_clip(plan, clip, run)
            if not record.up_to_date:
                saved = read_clip_record(clip.record_path)
                if saved is None or saved.run_id != self.run_id:
                    self.unsaved[(plan.job_id, index)] = record
            return record
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_for_clips(self, timeout_s: float) -> None:
        """Let clips still running in other threads finish their records (after an interrupt
        under doit -P thread)."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._active and time.monotonic() < deadline:
                self._idle.wait(0.1)

    # -- finishing a job --------------------------------------------------------------------

    def finish(self, plan: Plan, *, halted: str | None = None) -> JobExecutionResult | None:
        """Collect and write the job's result from the records on disk (None when the job
        never started in this run). Stop signals wait until it is written. `halted`: why
        clips this run meant to run did not (doit stopped at another job's failure)."""
        start = self.jobs.get(plan.job_id)
        if start is None or not start.ok:
            self._release(plan)
            return None
        with interrupts.deferred():
            result = self.collect(plan, halted=halted)
            try:
                write_json_atomic(plan.result_path, result)
            except OSError as exc:
                self.display.refused(plan, f"could not write {plan.result_path}: "
                                           f"{exc.strerror or exc}")
            self._release(plan)
            interrupts.settle()  # the outcome is written: a later signal changes nothing
        self.display.job_finished(plan, result)
        return result

    def collect(self, plan: Plan, *, halted: str | None = None) -> JobExecutionResult:
        """What the records on disk say about this run of a started job (nothing written but
        the job's records of reused proxies)."""
        start = self.jobs[plan.job_id]
        signum = interrupts.pending()
        return gather(plan, self.run_id, start.started_at,
                      interrupts.signal_name(signum) if signum else None,
                      {i: r for (job, i), r in self.unsaved.items() if job == plan.job_id},
                      halted=halted)

    def _release(self, plan: Plan) -> None:
        lock = self.locks.pop(plan.job_id, None)
        if lock is not None:
            lock.release()


class _Invalid(RproxyError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def gather(plan: Plan, run_id: str | None, started_at: datetime | None,
           interrupted_by: str | None,
           unsaved: dict[int, ClipExecutionResult] | None = None, *,
           halted: str | None = None) -> JobExecutionResult:
    """What the disk says about run `run_id` of the job: the records it wrote, and every other
    clip whose proxy is up to date. Brings the folder in line on the way (under its lock): the
    job's record of each reused proxy, this spec's claim on it, and the folders of earlier
    versions of the spec, which nothing needs any more once their records are copied."""
    ran: dict[int, ClipExecutionResult] = dict(unsaved or {})
    reused: dict[int, ClipExecutionResult] = {}
    missing: list[int] = []
    for clip in plan.clips:
        if clip.index in ran:
            continue
        record = read_clip_record(clip.record_path)
        if record is not None and run_id is not None and record.run_id == run_id:
            ran[clip.index] = record
            continue
        found = current_entry(plan, clip)
        if found is not None:
            entry, own = found
            settle_reuse(plan, clip, entry, own)
            copy = reused_record(plan, clip, entry)
            reused[clip.index] = copy
            if record is None or record.output_sha256 != copy.output_sha256 or (
                    record.index, record.task) != (copy.index, copy.task):
                _keep_record(clip, copy)
        elif not os.path.exists(clip.source_path):
            missing.append(clip.index)
    if interrupted_by is None:  # a clip interrupted in a doit worker the main process missed
        interrupted_by = next((r.failure_reason[len("interrupted by "):].split()[0]
                               for r in ran.values() if r.failure_reason
                               and r.failure_reason.startswith("interrupted by ")), None)
    # The job's own times: under doit -n N it shares the run with other jobs.
    started = [r.started_at for r in ran.values() if r.started_at]
    finished = [r.finished_at for r in ran.values() if r.finished_at]
    result = collect(plan, ran, reused, run_id=run_id,
                     started_at=min([*started, started_at] if started_at else started,
                                    default=None),
                     finished_at=max(finished) if finished else datetime.now(UTC),
                     interrupted_by=interrupted_by, missing=missing, halted=halted)
    for stale in stale_job_dirs(plan):
        remove_job_dir(stale)
    return result


def _keep_record(clip: PlannedClip, record: ClipExecutionResult) -> None:
    with contextlib.suppress(OSError):  # the result still lists it; the next run tries again
        write_clip_record(clip.record, record.model_copy(update={"up_to_date": False}))
