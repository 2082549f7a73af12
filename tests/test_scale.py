"""doit's own commands on a 2,000-clip job (a film's dailies): no RecursionError, no traceback.

doit follows the task_dep chain that keeps clips in order by recursion in `clean`; rproxy lets
the chain be as deep as the job is long. Nothing here is timed (benchmarks/ measures speed);
only one clip is ever encoded, so the file stays fast."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doit.cmd_base import ModuleTaskLoader
from doit.doit_cmd import DoitMain

from rproxy._plan import build_plan
from rproxy._spec import JobSpec
from rproxy._tasks import RproxyReporter, doit_config, job_tasks
from rproxy._validate import validate

from .conftest import make_clip

CLIPS = 2000
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def big_project(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """A doit project whose job has 2,000 sources: one tiny real clip under 2,000 names."""
    root = tmp_path_factory.mktemp("scale")
    media = root / "media"
    media.mkdir()
    clip = make_clip(ffmpeg, root / "tiny.mov", size="64x36", seconds=0.1, audio_tracks=1)
    for i in range(CLIPS):
        os.link(clip, media / f"A{i:04d}.mov")
    (root / "proxies").mkdir()
    (root / "jobs").mkdir()
    (root / "jobs" / "dailies.json").write_text(json.dumps({
        "schema_version": 1,
        "sources": [f"../media/A{i:04d}.mov" for i in range(CLIPS)],
        "output_dir": "../proxies",
        "codec": "prores_proxy",
        "container": "mov",
        "resolution": "64x36",
        "fps_mode": "passthrough",
    }))
    (root / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    return root


def task(index: int) -> str:
    return f"proxy:dailies:A{index:04d}.mov"


LAST = task(CLIPS - 1)


def doit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "doit"), *args], cwd=project, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    assert "RecursionError" not in done.stderr + done.stdout


def test_list_shows_every_clip(big_project: Path) -> None:
    done = doit(big_project, "list", "--all")
    no_traceback(done)
    assert done.returncode == 0
    assert sum(line.startswith("proxy:dailies:") for line in done.stdout.splitlines()) == CLIPS
    assert LAST in done.stdout


def test_info_on_the_last_clip_is_short(big_project: Path) -> None:
    done = doit(big_project, "info", LAST)
    no_traceback(done)
    assert done.returncode in (0, 1)  # 1: not up to date, as doit reports it
    assert task(CLIPS - 2) in done.stdout  # its task_dep
    assert len(done.stdout) < 5000, "info must not print the whole session"


def test_single_runs_one_clip_then_clean_and_forget(big_project: Path) -> None:
    last = LAST
    done = doit(big_project, "-s", last)
    no_traceback(done)
    assert done.returncode == 0, done.stdout + done.stderr
    proxies = big_project / "proxies"
    assert sorted(p.name for p in proxies.glob("*.mov")) == [f"A{CLIPS - 1:04d}.mov"]

    for args in (["forget", "-s", last], ["forget", "proxy:dailies"], ["clean", "-n"],
                 ["clean", "-c", last], ["clean", "-a"], ["clean"]):
        done = doit(big_project, *args)
        no_traceback(done)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        if args[:2] == ["clean", "-n"]:
            assert (proxies / f"A{CLIPS - 1:04d}.mov").exists()
    assert not list(proxies.glob("*.mov"))
    assert all(p.exists() for p in (big_project / "media").glob("*.mov"))  # never a source


def run_api(project: Path, *args: str) -> tuple[int, str]:
    """doit commands on the same graph that `rproxy run` and execute_multi_job_spec drive."""
    spec = JobSpec.from_file(project / "jobs" / "dailies.json")
    validate(spec)
    plan = build_plan(spec)

    def task_proxy() -> Iterator[dict[str, Any]]:
        yield from job_tasks(plan, None, project)

    out = io.StringIO()
    config = doit_config(str(plan.state_dir / "doit-db.json"), RproxyReporter)
    loader = ModuleTaskLoader({"task_proxy": task_proxy, "DOIT_CONFIG": config})
    old_stdout = sys.stdout
    sys.stdout = out
    try:
        code = DoitMain(loader, config_filenames=()).run(list(args))
    finally:
        sys.stdout = old_stdout
    return code, out.getvalue()


@pytest.mark.parametrize("args", [
    ("list", "--all"),
    ("info", "LAST"),
    ("clean", "-n"),
    ("clean",),
    ("clean", "-a"),
    ("clean", "-c", "LAST"),
    ("forget", "proxy:dailies"),
    ("forget", "-s", "LAST"),
])
def test_doit_commands_through_the_api(big_project: Path, args: tuple[str, ...]) -> None:
    code, out = run_api(big_project, *(LAST if a == "LAST" else a for a in args))
    assert "RecursionError" not in out and "Traceback" not in out, out[-2000:]
    assert code in ((0, 1) if args[0] == "info" else (0, None)), out[-2000:]
