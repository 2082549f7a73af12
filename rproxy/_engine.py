"""Running a JobSpec in-process: the same doit graph as `doit` uses, driven through doit's API
(never `doit.run`, which exits the process)."""

from __future__ import annotations

import io
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from ._ffmpeg import ffmpeg_binary, ffmpeg_version
from ._plan import Plan, build_plan
from ._progress import SILENT, Display
from ._records import DOIT_BACKEND, JobExecutionResult
from ._signals import signal_of, sigterm_as_interrupt
from ._spec import JobSpec
from ._tasks import (
    BASENAME,
    RproxyReporter,
    Session,
    SizeMtimeChecker,
    clip_tasks,
    fewer_gc_pauses,
    finish_jobs,
)
from ._validate import validate


def doit_config(dep_file: str, reporter: Any, backend: str = "json") -> dict[str, Any]:
    """doit settings every rproxy graph needs: an explicit DB backend, and file_dep compared
    by size and mtime (doit's default md5 would read every camera file in full)."""
    return {
        "backend": backend,
        "dep_file": dep_file,
        "check_file_uptodate": SizeMtimeChecker,
        "reporter": reporter,
    }


def run_plan(plan: Plan, session: Session) -> JobExecutionResult:
    """Run one validated plan through doit; the result is collected even on Ctrl-C."""
    session.ffmpeg = ffmpeg_binary()
    ffmpeg_version(session.ffmpeg)  # could-not-start before anything is locked or written
    session.lock(plan)

    def task_proxy() -> Iterator[dict[str, Any]]:
        yield from clip_tasks(plan, session, Path.cwd())

    # doit's DB sits on the output volume: written atomically, and a full disk is not fatal.
    config = doit_config(str(plan.state_dir / "doit-db.json"),
                         RproxyReporter(io.StringIO(), {}, session),
                         backend=next(iter(DOIT_BACKEND)))
    loader = ModuleTaskLoader({"task_" + BASENAME: task_proxy, "DOIT_CONFIG": config})
    with sigterm_as_interrupt(), fewer_gc_pauses():
        try:
            DoitMain(loader, config_filenames=(), extra_config={"BACKEND": DOIT_BACKEND}).run(
                ["run", BASENAME])
        except KeyboardInterrupt as exc:  # arrived outside a clip (between tasks)
            session.interrupted = session.interrupted or signal_of(exc)
            if plan.job_id not in session.results:
                session.touch(plan.job_id)
                finish_jobs(session)
    if plan.job_id not in session.results:  # doit stopped before any task of ours ran
        session.touch(plan.job_id)
        finish_jobs(session)
    return session.results[plan.job_id]


def execute_multi_job_spec(spec: JobSpec, display: Display | None = None) -> JobExecutionResult:
    """Validate `spec`, make its proxies in order (stopping at the first failure), and return
    the JobExecutionResult (also written to <output_dir>/.rproxy/<job_id>/result.json).

    Raises JobSpecValidationError (nothing is run) or CouldNotStartError (FFmpeg missing, the
    job already running). After Ctrl-C or SIGTERM the result has ``interrupted_by`` set."""
    validate(spec)
    session = Session(display=display or Display(level=SILENT))
    return run_plan(build_plan(spec), session)


def exit_code_for(result: JobExecutionResult) -> int:
    if result.interrupted_by:
        return 128 + int(signal.Signals[result.interrupted_by])
    return 0 if result.status.value == "COMPLETED" else 1

