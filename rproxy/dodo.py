"""rproxy as a doit project. A dodo.py holding only ``from rproxy.dodo import *`` makes
proxies for every ``jobs/*.json`` beside it (``doit spec=PATH`` for one spec).

Your own tasks can sit beside that line: when one of them lists a source clip in its
``targets``, doit runs it before the clip's proxy (write the path as the spec resolves it,
relative to the dodo.py's folder). If you define your own DOIT_CONFIG, start from ours:
``DOIT_CONFIG = {**rproxy.dodo.DOIT_CONFIG, "default_tasks": [...]}``.

When doit runs tasks, each job is started (locked, pre-flighted) just before its first clip,
and every job the run started gets its result.json when the process ends, whatever ended it
(the last clip, a failure, Ctrl-C) and whichever reporter or `-n N` was used."""

from __future__ import annotations

# Before anything heavy is imported: a stop signal while doit loads this module ends doit
# quietly (128+N), not with a KeyboardInterrupt traceback from inside an import. _entry's first
# lines set a quiet handler before it imports the real ones.
from . import _entry  # noqa: F401
from . import _signals as interrupts

interrupts.install()

# A stop signal waits until these imports are done: pydantic builds its validators while
# rproxy's models are defined, calling back into Python, and turns an exception raised there
# (the interrupt too) into a SchemaError traceback.
with interrupts.deferred():
    import atexit
    import gc
    import multiprocessing
    import multiprocessing.util  # its atexit handler must be registered before ours
    import os
    import sys
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any

    from doit import get_var

    from ._bounded import prestart
    from ._doitctx import DoitCommand, loading_command
    from ._errors import JobSpecValidationError
    from ._plan import Plan, build_plan
    from ._progress import NORMAL, QUIET, Display, escape_unencodable_output
    from ._records import JobExecutionResult
    from ._run import Run
    from ._tasks import (
        GC_YOUNG_THRESHOLD,
        RproxyReporter,
        doit_config,
        job_tasks,
        result_tasks,
    )
    from ._text import rproxy_command
    from ._validate import load_spec

__all__ = ["DOIT_CONFIG", "task_proxy"]

DOIT_CONFIG: dict[str, Any] = doit_config(".doit.db", RproxyReporter)
# Plain `doit forget` (no task named, no default_tasks) crashes in doit 0.37 with a TypeError
# (pydoit/doit#484); with this it says "pass task name, --enable-default or --all" instead.
DOIT_CONFIG["forget_disable_default"] = True

SPECS = "jobs/*.json"


def _spec_files() -> list[Path]:
    one = get_var("spec", None)
    if one:
        return [Path(one)]
    return sorted(Path().glob(SPECS))


def _invalid(error: JobSpecValidationError) -> SystemExit:
    """Print one line per problem, as `rproxy validate` does, and exit 2 (no traceback)."""
    for line in error.report_lines():
        print(line, file=sys.stderr)  # report_lines escapes what it prints
    return SystemExit(error.exit_code)


def _load(path: Path) -> Plan:
    # Sources that your own tasks produce may not exist yet: the pre-flight leaves them to
    # their clip. Everything else is refused now, before anything runs.
    try:
        return build_plan(load_spec(path, check_sources=False))
    except JobSpecValidationError as exc:
        raise _invalid(exc) from None


def task_proxy() -> Iterator[dict[str, Any]]:
    """Editing proxies: one task per clip of every jobs/*.json (or spec=PATH)."""
    escape_unencodable_output()  # doit prints task names, which hold the proxies' names
    # This is doit's own process, and the graph built here lives until the run ends: fewer
    # young GC collections for the rest of it (see rproxy._tasks.fewer_gc_pauses).
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)
    command = loading_command()
    selected = command.selected
    run: Run | None = None
    if command.executes:
        interrupts.install()  # from here on a stop signal ends the run as an interrupt
        prestart()  # the reader that probes the sources, ready by the first clip
        run = Run(display=_display(command), tell_problems=True,
                  selection=lambda plan: _selection(plan, command))
        atexit.register(_finish_run, run, os.getpid())
    files = _spec_files()
    if not files:
        print(f"rproxy: no specs: looked for {SPECS} in {os.getcwd()}; write one with "
              f"`{rproxy_command()} init FOLDER` (or run `doit spec=PATH`)", file=sys.stderr)
    plans = [_load(path) for path in files]
    if run is not None:
        run.display.labels = len(plans) > 1
        run.asked = [plan for plan in plans if _asked_for(plan, command)]
    describe = command.name == "list"
    targets: set[str] = set()
    for plan in plans:
        yield from job_tasks(plan, run, Path.cwd(), describe=describe, targets=targets)
    yield from result_tasks(plans, lambda name: name in selected or "result" in selected)


def _display(command: DoitCommand) -> Display:
    """rproxy's lines on stdout with rproxy's reporter; with another (`-r json`, a user's
    class) stdout is the reporter's: then only failures and summaries, on stderr."""
    reporter = command.reporter
    if isinstance(reporter, type) and issubclass(reporter, RproxyReporter):
        return Display(level=NORMAL)
    return Display(stream=sys.stderr, level=QUIET)


def _selection(plan: Plan, command: DoitCommand) -> set[int] | None:
    """The clips of `plan` that this doit run was asked for: all (None), unless it names some
    clips of this job: then those, and with them the clips before them (their task_dep
    chain) unless -s runs them alone."""
    prefix = f"proxy:{plan.name}:"
    named = [clip.index for clip in plan.clips if prefix + clip.name in command.selected]
    if not named or f"proxy:{plan.name}" in command.selected:
        return None
    return set(named) if command.single else set(range(max(named) + 1))


def _asked_for(plan: Plan, command: DoitCommand) -> bool:
    """Does this doit run mean to run this job (all tasks, or some of this job's named)?"""
    if not command.selected:
        return True
    group = f"proxy:{plan.name}"
    return any(name == group or name.startswith(group + ":") or name == "proxy"
               for name in command.selected)


def _finish_run(run: Run, main_pid: int) -> None:
    """At the end of doit's process: let clips still running finish their records, write the
    result of every job this run started, and end with rproxy's exit code where it says more
    than doit's (2 the pre-flight, 3 could not start, 128+N interrupted). Only there: a doit
    worker that an interrupt cut off while it was being forked ends through Python's exit
    too, with this handler inherited."""
    if os.getpid() != main_pid:
        return
    interrupts.block_for_good()
    run.wait_for_clips(30)
    for child in multiprocessing.active_children():  # doit -n N: its workers
        if interrupts.pending() is not None:
            child.terminate()  # a worker waiting for a job would wait forever
        child.join(30)
    if interrupts.pending() is not None:
        # Interrupted before some job it was asked for could start (doit still loading, or
        # busy with another job): that job's result says so too.
        for plan in run.asked:
            if plan.job_id not in run.jobs:
                run.start_interrupted(plan)
    started = list(run.plans.values())
    failed = [plan.name for plan in started if run.jobs[plan.job_id].ok
              and _failed_in_run(run.collect(plan))]
    halted = (f"not run: doit stopped at the failure in job {failed[0]} (`doit -c` goes on "
              "with the other jobs)") if failed else None
    results = [run.finish(plan, halted=None if plan.name in failed else halted)
               for plan in started]
    if halted:
        for plan in run.asked:
            if plan.job_id not in run.jobs:
                run.display.refused(plan, halted)
    codes = [start.exit_code for start in run.jobs.values() if not start.ok]
    interrupted = [r.interrupted_by for r in results if r is not None and r.interrupted_by]
    code = None
    if interrupted:
        code = 128 + int(interrupts.Interrupted(interrupted[0]).signum)
    elif codes:
        code = max(codes)
    elif failed:
        code = 1  # doit says 2 for the clips it skipped after a failure (`doit -c`)
    if code is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _failed_in_run(result: JobExecutionResult) -> bool:
    return result.failed_count > 0 and not result.interrupted_by
