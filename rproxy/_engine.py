"""Running a JobSpec in-process (`rproxy run`, `execute_multi_job_spec`): the same doit graph as
`doit` uses, driven through doit's API (never `doit.run`, which exits the process)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from . import _signals as interrupts
from ._doitdb import DOIT_BACKEND
from ._errors import PreflightError
from ._plan import Plan, build_plan, task_basename
from ._preflight import check_job
from ._progress import NORMAL, SILENT, Display
from ._records import JobExecutionResult
from ._run import Run
from ._spec import JobSpec
from ._tasks import RproxyReporter, doit_config, fewer_gc_pauses, job_tasks
from ._text import short_path


def run_plan(plan: Plan, run: Run) -> JobExecutionResult:
    """Start, run and finish one validated plan. Raises PreflightError (exit 2, nothing
    encoded) or CouldNotStartError (exit 3); after an interrupt the result says so."""
    result: JobExecutionResult | None = None
    with interrupts.handling():
        try:
            start = run.start(plan)
            if start.problems:
                where = plan.spec.spec_file
                raise PreflightError(start.problems, short_path(where) if where else plan.name)
            if start.error is not None:
                raise start.error
            _drive_doit(plan, run)
        except interrupts.INTERRUPTS:
            pass  # the result says so
        finally:
            with interrupts.deferred():
                result = run.finish(plan)
        if result is None:  # interrupted before the job could start
            raise interrupts.Interrupted(interrupts.pending() or signal.SIGINT)
    return result


def _drive_doit(plan: Plan, run: Run) -> None:
    def task_proxy() -> Iterator[dict[str, Any]]:
        yield from job_tasks(plan, run, Path.cwd())

    # doit's DB sits on the output volume, in the job's state folder.
    config = doit_config(str(plan.state_dir / "doit-db.json"), RproxyReporter)
    loader = ModuleTaskLoader({"task_proxy": task_proxy, "DOIT_CONFIG": config})
    with fewer_gc_pauses():
        DoitMain(loader, config_filenames=(), extra_config={"BACKEND": DOIT_BACKEND}).run(
            ["run", task_basename(plan.name)])


def execute_multi_job_spec(spec: JobSpec, progress: TextIO | None = None, *,
                           display: Display | None = None) -> JobExecutionResult:
    """Validate `spec`, make its proxies in order (stopping at the first failure), and return
    the JobExecutionResult (also written to <output_dir>/.rproxy/<job_id>/result.json).

    Silent unless `progress` is a stream (e.g. sys.stdout): then rproxy prints there what
    `rproxy run` prints (a live line per clip on a terminal, plain lines in a log).
    Raises JobSpecValidationError or PreflightError (nothing encoded; both exit 2 in the CLI),
    or CouldNotStartError (FFmpeg missing, the job already running). After Ctrl-C or SIGTERM
    the result has ``interrupted_by`` set."""
    if display is None:
        display = Display(stream=progress, level=NORMAL if progress is not None else SILENT)
    check_job(spec, str(spec.spec_file) if spec.spec_file else None)
    return run_plan(build_plan(spec), Run(display=display))


def exit_code_for(result: JobExecutionResult) -> int:
    if result.interrupted_by:
        return 128 + int(signal.Signals[result.interrupted_by])
    return 0 if result.status.value == "COMPLETED" else 1
