"""rproxy as a doit project. A dodo.py holding only ``from rproxy.dodo import *`` makes
proxies for every ``jobs/*.json`` beside it (``doit spec=PATH`` for one spec).

Your own tasks can sit beside that line: when one of them lists a source clip in its
``targets``, doit runs it before the clip's proxy (write the path as the spec resolves it,
relative to the dodo.py's folder). If you define your own DOIT_CONFIG, start from ours:
``DOIT_CONFIG = {**rproxy.dodo.DOIT_CONFIG, "default_tasks": [...]}``."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from doit import get_var

from ._engine import doit_config
from ._errors import JobSpecValidationError
from ._plan import build_plan
from ._signals import raise_interrupted
from ._spec import JobSpec
from ._tasks import DEFAULT_SESSION, GC_YOUNG_THRESHOLD, RproxyReporter, clip_tasks
from ._validate import find_problems

__all__ = ["DOIT_CONFIG", "task_proxy"]

DOIT_CONFIG: dict[str, Any] = doit_config(".doit.db", RproxyReporter)
# Plain `doit forget` (no task named, no default_tasks) crashes in doit 0.37 with a TypeError
# (pydoit/doit#484); with this it says "pass task name, --enable-default or --all" instead.
DOIT_CONFIG["forget_disable_default"] = True


def _spec_files() -> list[Path]:
    one = get_var("spec", None)
    if one:
        return [Path(one)]
    return sorted(Path("jobs").glob("*.json"))


def _exit_interrupted(signum: int, _frame: object) -> None:
    # While doit loads tasks nothing runs yet: leave quietly, with the shell's code.
    raise SystemExit(128 + signum)


def _invalid(error: JobSpecValidationError) -> SystemExit:
    """Print one line per problem, as `rproxy validate` does, and exit 2 (no traceback)."""
    for line in error.report_lines():
        print(line, file=sys.stderr)
    return SystemExit(error.exit_code)


def task_proxy() -> Iterator[dict[str, Any]]:
    """Editing proxies: one task per clip of every jobs/*.json (or spec=PATH)."""
    # This is doit's own process, and the graph built here lives until the run ends: fewer
    # young GC collections for the rest of it (see rproxy._tasks.fewer_gc_pauses).
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)
    previous_int = signal.signal(signal.SIGINT, _exit_interrupted)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_interrupted)
    try:
        for path in _spec_files():
            try:
                spec = JobSpec.from_file(path)
            except JobSpecValidationError as exc:
                raise _invalid(exc) from None
            # Sources that your own tasks produce may not exist yet: the clip checks them
            # when it runs; a missing output_dir is made when the first clip runs. Everything
            # else is refused now, before anything runs.
            problems = find_problems(spec, check_sources=False, output_dir_may_be_missing=True)
            if problems:
                raise _invalid(JobSpecValidationError(problems, str(path)))
            yield from clip_tasks(build_plan(spec), DEFAULT_SESSION, Path.cwd())
    finally:
        signal.signal(signal.SIGINT, previous_int)
        # SIGTERM and SIGHUP behave like Ctrl-C: ffmpeg stopped, no partial file, result
        # still written.
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, raise_interrupted)
