"""The README's "Your own clips" and "Python API" sections, run as written on tiny generated
media, so that they cannot drift from what rproxy does."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._cli import main

from .conftest import make_clip

README = Path(__file__).resolve().parents[1] / "README.md"


def section(title: str) -> str:
    """The README's `## title` section, up to the next `## ` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def blocks(text: str, lang: str = "") -> list[str]:
    """The fenced code blocks of `text` marked `lang` (\"\": unmarked), in order."""
    found: list[str] = []
    current: list[str] | None = None
    marked = ""
    for line in text.splitlines():
        if current is None and line.startswith("```"):
            current, marked = [], line[3:].strip()
        elif current is not None and line == "```":
            if marked == lang:
                found.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return found


@pytest.fixture
def project(tmp_path: Path, ffmpeg: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder as the README's commands expect: media/A001 with two clips, and
    jobs/A001.json written by `rproxy init`."""
    folder = tmp_path / "media" / "A001"
    folder.mkdir(parents=True)
    for name in ("A001C001.mov", "A001C002.mov"):
        make_clip(ffmpeg, folder / name, seconds=0.2, audio_tracks=1)
    monkeypatch.chdir(tmp_path)
    assert main(["init", "media/A001", "--resolution", "320x180"]) == 0
    return tmp_path


def python_api_snippet() -> str:
    found = blocks(section("Python API"), "python")
    assert len(found) == 1, "the Python API section shows one example"
    return found[0]


def run_snippet(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", python_api_snippet()], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_the_python_api_example_runs_and_prints_progress(project: Path) -> None:
    done = run_snippet(project)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    job_id = JobSpec.from_file(project / "jobs" / "A001.json").id
    assert lines[0] == f"job A001 ({job_id}): 2 clips -> proxies/A001 (prores_proxy mov 320x180)"
    assert lines[1].startswith("[1/2] COMPLETED A001C001.mov -> A001C001.mov (")
    assert lines[2].startswith("[2/2] COMPLETED A001C002.mov -> A001C002.mov (")
    assert lines[-1] == "COMPLETED: 2 of 2 clips"
    assert (project / "proxies" / "A001" / "A001C002.mov").is_file()


def test_the_python_api_example_reports_what_stopped_the_job(project: Path,
                                                              ffmpeg: str) -> None:
    (project / "media" / "A001" / "A001C002.mov").write_bytes(b"an interrupted copy")
    done = run_snippet(project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "clip 1 (A001C002.mov): not a video file" in done.stderr
    assert not (project / "proxies" / "A001" / "A001C001.mov").exists()  # nothing encoded

    (project / "media" / "A001" / "A001C002.mov").unlink()
    make_clip(ffmpeg, project / "media" / "A001" / "A001C002.mov", seconds=0.2)
    done = run_snippet(project, RPROXY_FFMPEG=str(project / "no-ffmpeg"))
    assert done.returncode == 1
    assert done.stderr.startswith("could not start: "), done.stderr

    (project / "jobs" / "A001.json").write_text('{"schema_version": 1}')
    done = run_snippet(project)
    assert done.returncode == 2
    assert "sources: " in done.stderr and "Traceback" not in done.stderr


def test_progress_names_the_report_command_only_for_a_spec_file(project: Path) -> None:
    spec = JobSpec.from_file("jobs/A001.json")
    out = io.StringIO()
    execute_multi_job_spec(spec, progress=out)
    assert out.getvalue().splitlines()[-1] == (
        f"report: rproxy report jobs/A001.json (writes proxies/A001/.rproxy/{spec.id}/"
        "report.html)")

    data = spec.model_dump(mode="json", exclude_none=True, by_alias=True)
    from_dict = JobSpec.from_dict({**data, "output_dir": str(project / "other")},
                                  project / "jobs")
    (project / "other").mkdir()
    out = io.StringIO()
    execute_multi_job_spec(from_dict, progress=out)
    assert out.getvalue().splitlines()[-1].startswith("result: ")  # no file to name


def test_your_own_clips_commands_work_right_after_the_install() -> None:
    """After the README's install, rproxy and doit are in .venv/bin, not on PATH."""
    text = section("Your own clips")
    text = text[:text.index("\n### ")]
    assert "source .venv/bin/activate" in text
    commands = [line.split("#")[0].strip() for block in blocks(text, "sh")
                for line in block.splitlines()]
    commands = [command for command in commands if command]
    assert commands, "no commands in Your own clips"
    for command in commands:
        assert command.startswith((".venv/bin/rproxy ", ".venv/bin/doit")), command
    named = {command.split()[1] for command in commands if command.startswith(".venv/bin/rp")}
    assert {"--version", "init", "validate", "plan", "run", "show", "report"} <= named
    for shown in re.findall(r"^\$ (.*)$", text, flags=re.M):
        assert shown.startswith(".venv/bin/"), shown
    # The command list's comments call things as rproxy does.
    assert "<output_dir>/.rproxy/<job>/report.html" in text


def test_the_init_example_is_what_init_prints(tmp_path: Path, ffmpeg: str,
                                              clip_factory: Callable[..., Path],
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = section("Your own clips")
    example = next(block for block in blocks(text) if block.startswith("$ .venv/bin/rproxy init"))
    command, *expected = example.splitlines()
    phone = tmp_path / "phone"
    phone.mkdir()
    for number in (1, 2, 3):
        clip_factory(f"phone/IMG_000{number}.MOV", size="320x180", seconds=0.2, audio_tracks=0)
    for number in (4, 5):
        clip_factory(f"phone/IMG_000{number}.MOV", size="90x160", seconds=0.2, audio_tracks=0)
    (phone / "IMG_0007.MOV").write_bytes(b"an interrupted copy")
    (tmp_path / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    monkeypatch.chdir(tmp_path)
    # Right after the README's install rproxy is not on PATH: its hints name it by path
    # (.venv/bin/rproxy in the project; here the test's own virtualenv).
    bin_dir = os.path.dirname(sys.executable)
    monkeypatch.setenv("PATH", os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if p != bin_dir))
    assert main(command.split()[2:]) == 0
    shown = os.path.join(bin_dir, "rproxy")
    assert capsys.readouterr().out.splitlines() == [
        line.replace(".venv/bin/rproxy", shown) for line in expected]
