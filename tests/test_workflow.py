"""A user's own doit project: `from rproxy.dodo import *` beside an offload task that copies a
camera card into the project. doit runs the offload first (its targets are the proxies'
file_dep), and list, info, -s, clean and forget behave as doit users expect."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rproxy import JobSpec

from .conftest import make_clip

REPO = Path(__file__).resolve().parents[1]
DOIT = [sys.executable, "-m", "doit"]

USER_DODO = '''\
import shutil
from pathlib import Path

from rproxy.dodo import *  # noqa: F403

CARD = Path("{card}")
CLIPS = ["A001C001.mov", "A001C002.mov", "A001C003.mov"]


def task_offload():
    """Copy the camera card into media/."""
    for name in CLIPS:
        yield {{
            "name": name,
            "actions": [(offload, [CARD / name, Path("media") / name])],
            "file_dep": [str(CARD / name)],
            "targets": ["media/" + name],
            "verbosity": 2,
        }}


def offload(src, dst):
    print("offloading", src.name, flush=True)
    dst.parent.mkdir(exist_ok=True)
    shutil.copy2(src, dst)


def task_notes():
    """A user's own file in the proxies folder: rproxy must never touch it."""
    return {{"actions": [write_notes], "targets": ["proxies/NOTES.txt"], "uptodate": [True]}}


def write_notes():
    Path("proxies").mkdir(exist_ok=True)
    Path("proxies/NOTES.txt").write_text("day 1 notes\\n")
'''


def doit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DOIT, *args], cwd=project, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def user_project(tmp_path: Path, ffmpeg: str) -> Path:
    card = tmp_path / "CARD_A001"
    card.mkdir()
    for name in ("A001C001.mov", "A001C002.mov", "A001C003.mov"):
        make_clip(ffmpeg, card / name, size="160x90", audio_tracks=2)
    project = tmp_path / "project"
    (project / "jobs").mkdir(parents=True)
    (project / "dodo.py").write_text(USER_DODO.format(card=card))
    spec = {
        "schema_version": 1,
        "sources": ["../media/A001C001.mov", "../media/A001C002.mov", "../media/A001C003.mov"],
        "output_dir": "../proxies",
        "codec": "prores_proxy",
        "container": "mov",
        "resolution": "160x90",
        "fps_mode": "passthrough",
        "naming_template": "{source_name}_proxy",
    }
    (project / "jobs" / "day1.json").write_text(json.dumps(spec, indent=2))
    return project


def test_proxies_wait_for_the_users_offload(user_project: Path) -> None:
    project = user_project
    assert not (project / "media").exists() and not (project / "proxies").exists()
    job_id = JobSpec.from_file(project / "jobs" / "day1.json").id

    done = doit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # every clip is offloaded before its proxy is made, and the proxies keep spec order
    made = []
    for n in (1, 2, 3):
        copied = lines.index(f"offloading A001C00{n}.mov")
        made.append(next(i for i, line in enumerate(lines)
                         if line.startswith(f"[{n}/3] COMPLETED A001C00{n}.mov")))
        assert copied < made[-1], lines
    assert made == sorted(made)
    assert (f"job day1 ({job_id}) COMPLETED: 3 completed, 0 failed, 0 skipped of 3 clips"
            in done.stdout)
    for n in (1, 2, 3):
        assert (project / "media" / f"A001C00{n}.mov").is_file()
        assert (project / "proxies" / f"A001C00{n}_proxy.mov").stat().st_size > 0
    result = json.loads((project / "proxies" / ".rproxy" / job_id / "result.json").read_text())
    assert result["status"] == "COMPLETED"

    again = doit(project)
    assert again.returncode == 0
    assert "offloading" not in again.stdout and "COMPLETED A001" not in again.stdout
    assert "3 completed (3 up to date)" in again.stdout


def test_doit_list_info_single_clean_forget(user_project: Path) -> None:
    project = user_project
    assert doit(project).returncode == 0

    listed = doit(project, "list", "--all")
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    for n in range(3):
        assert f"proxy:day1:A001C00{n + 1}_proxy.mov" in names
    row = next(line for line in listed.stdout.splitlines() if "day1:A001C002_proxy" in line)
    assert "media/A001C002.mov" in row and "proxies/A001C002_proxy.mov" in row
    assert "offload:A001C001.mov" in names

    info = doit(project, "info", "proxy:day1:A001C002_proxy.mov")
    assert info.returncode == 0, info.stderr
    assert "media/A001C002.mov" in info.stdout  # the file_dep, exactly as the offload targets
    assert "up-to-date" in info.stdout

    # -s: one clip. Its proxy was deleted; only it is made again, the others stay untouched.
    proxies = project / "proxies"
    first = (proxies / "A001C001_proxy.mov").stat().st_mtime_ns
    (proxies / "A001C002_proxy.mov").unlink()
    single = doit(project, "-s", "proxy:day1:A001C002_proxy.mov")
    assert single.returncode == 0, single.stdout + single.stderr
    assert "[2/3] COMPLETED A001C002.mov" in single.stdout
    assert "[1/3]" not in single.stdout and "[3/3]" not in single.stdout
    assert (proxies / "A001C002_proxy.mov").is_file()
    assert (proxies / "A001C001_proxy.mov").stat().st_mtime_ns == first

    # clean: only rproxy's proxies and records; never sources, never the user's files.
    cleaned = doit(project, "clean")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert not list(proxies.glob("*_proxy.mov"))
    assert (proxies / "NOTES.txt").read_text() == "day 1 notes\n"
    for n in (1, 2, 3):
        assert (project / "media" / f"A001C00{n}.mov").is_file()
        assert (project.parent / "CARD_A001" / f"A001C00{n}.mov").is_file()

    forgot = doit(project, "forget")  # doit 0.37 would crash here without rproxy's config
    assert forgot.returncode == 0, forgot.stderr
    assert "pass task name, --enable-default or --all" in forgot.stdout
    forgot = doit(project, "forget", "proxy:day1")
    assert forgot.returncode == 0, forgot.stderr
    assert "forgetting proxy:day1:A001C003_proxy.mov" in forgot.stdout
    assert doit(project, "forget", "--all").returncode == 0
    rebuilt = doit(project)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert rebuilt.stdout.count("] COMPLETED A001") == 3


def test_repo_demo_links_media_targets_to_proxy_file_dep(tmp_path: Path) -> None:
    """The repo's own dodo.py, copied (so the test writes nothing into the clone)."""
    shutil.copy(REPO / "dodo.py", tmp_path / "dodo.py")
    shutil.copytree(REPO / "jobs", tmp_path / "jobs")
    listed = doit(tmp_path, "list", "--all", "--deps")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    file_deps: dict[str, list[str]] = {}
    task = ""
    for line in listed.stdout.splitlines():
        if line and not line.startswith(" "):
            task = line.split()[0]
        elif line.startswith(" -  "):
            file_deps.setdefault(task, []).append(line[4:].strip())
    assert sorted(file_deps) == [f"proxy:demo:{name}_proxy.mov" for name in (
        "A001C001_240614_R2KD", "B002_C014_0614XY", "C003_0614_DNXHR")]

    loaded = importlib.util.spec_from_file_location("demo_dodo", tmp_path / "dodo.py")
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    media = list(module.task_demo_media())
    targets = sorted(t for task in media for t in task["targets"])
    assert targets == sorted(d for deps in file_deps.values() for d in deps)
    assert len(targets) == 3
    assert not (tmp_path / "demo").exists()  # listing makes nothing
