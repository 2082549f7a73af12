"""The `rproxy` command as a person uses it: run's summary, show, init, schema."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rproxy import JobSpec
from rproxy._cli import main
from rproxy._init import init_spec

from .conftest import make_clip, write_spec

RPROXY = [sys.executable, "-m", "rproxy"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def rproxy(*args: str, cwd: Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RPROXY, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture
def partial_job(project: Path, ffmpeg_fails_on: Callable[[str], None]) -> Path:
    """A job whose middle clip FFmpeg fails to encode: PARTIAL."""
    ffmpeg_fails_on("A002")
    spec = write_spec(project, sources=["A001.mov", "A002.mov", "A003.mov"])
    done = rproxy("run", str(spec), cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    return spec


def test_show_partial_result_from_spec_and_from_result(partial_job: Path) -> None:
    project = partial_job.parent
    done = rproxy("show", partial_job.name, cwd=project)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert not CONTROL.search(text)
    job_id = JobSpec.from_file(partial_job).id
    assert text.startswith(
        f"job job ({job_id})  PARTIAL: 1 completed, 1 failed, 1 skipped of 3 clips")
    assert f"result: out/.rproxy/{job_id}/result.json" in text
    rows = {line.split()[0]: line for line in text.splitlines()
            if re.match(r"^\s*\d+  ", line)}
    assert rows["0"].split()[1] == "COMPLETED" and "A001.mov" in rows["0"]
    assert rows["1"].split()[1] == "FAILED" and "exited with code 1" in rows["1"]
    assert rows["2"].split()[1] == "SKIPPED" and "clip proxy:job:A002.mov failed" in rows["2"]
    assert f"clip 1 FAILED: {project / 'A002.mov'}" in text
    assert "  reason: ffmpeg exited with code 1: fake: Error while encoding" in text
    assert "ffmpeg exit code: 1" in text

    by_result = rproxy("show", f"out/.rproxy/{job_id}/result.json", cwd=project)
    assert by_result.returncode == 0
    assert by_result.stdout == text


def test_show_gives_the_command_that_reproduces_an_ffmpeg_failure(
        project: Path, ffmpeg: str) -> None:
    fake = project / "fake-ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = -version ]; then exec {shlex.quote(ffmpeg)} -version; fi\n'
        'echo "Error while opening encoder: simulated failure" >&2\n'
        "exit 187\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    spec = write_spec(project, sources=["A001.mov", "A002.mov"])
    run = rproxy("run", str(spec), cwd=project, env={"RPROXY_FFMPEG": str(fake)})
    assert run.returncode == 1
    assert "FAILED: 0 completed, 1 failed, 1 skipped of 2 clips" in run.stdout

    text = main_output(["show", str(spec)])
    assert "ffmpeg exit code: 187" in text
    assert "simulated failure" in text
    lines = text.splitlines()
    command = lines[lines.index("  to reproduce:") + 1].strip()
    argv = shlex.split(command)
    assert argv[0] == str(fake)
    assert f"file:{project / 'A001.mov'}" in argv
    record = json.loads((project / "out" / ".rproxy" / JobSpec.from_file(spec).id /
                         "result.json").read_text())
    assert argv == record["clips"][0]["ffmpeg_command"]


def main_output(argv: list[str]) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


def test_show_before_any_run_and_on_junk(project: Path) -> None:
    spec = write_spec(project)
    done = rproxy("show", str(spec), cwd=project)
    assert done.returncode == 1
    assert "has not run yet" in done.stderr and "Traceback" not in done.stderr
    (project / "junk.json").write_text('{"hello": 1}')
    done = rproxy("show", "junk.json", cwd=project)
    assert done.returncode == 2  # neither a result nor a valid spec
    assert "Traceback" not in done.stderr


def test_run_summary_names_counts_time_and_result(project: Path) -> None:
    spec = write_spec(project, sources=["A001.mov", "A002.mov"])
    done = rproxy("run", str(spec), cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    job_id = JobSpec.from_file(spec).id
    assert lines[0] == f"job job ({job_id}): 2 clips -> out (prores_proxy mov 160x90)"
    assert re.fullmatch(rf"job job \({job_id}\) COMPLETED: 2 completed, 0 failed, 0 skipped "
                        r"of 2 clips in \d+\.\d s", lines[-3]), lines
    assert lines[-2] == f"result: out/.rproxy/{job_id}/result.json"
    assert lines[-1] == (f"report: rproxy report job.json (writes out/.rproxy/{job_id}/"
                         "report.html)")
    assert main(["report", str(spec)]) == 0  # the hint works as written
    assert (project / "out" / ".rproxy" / job_id / "report.html").is_file()
    again = rproxy("run", str(spec), cwd=project)
    assert "COMPLETED: 2 completed (2 up to date)" in again.stdout


# -- init ----------------------------------------------------------------------------------


@pytest.fixture
def card(tmp_path: Path, ffmpeg: str) -> Path:
    folder = tmp_path / "shoot" / "A001"
    folder.mkdir(parents=True)
    for name in ("C003.MOV", "C001.mov"):
        make_clip(ffmpeg, folder / name, audio_tracks=1)
    make_clip(ffmpeg, folder / "C002.mp4", audio_tracks=1, vcodec=("libx264",), acodec="aac")
    (folder / "._C001.mov").write_bytes(b"\x00\x05\x16\x07AppleDouble")  # macOS sidecar
    (folder / "C001.xml").write_text("<clip/>")
    (folder / "notes.txt").write_text("slate notes")
    return folder


def test_init_writes_a_starter_spec_that_runs(card: Path, tmp_path: Path) -> None:
    project = tmp_path / "shoot"
    done = rproxy("init", "A001", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote jobs/A001.json: 3 clips, proxies into proxies/A001")
    data = json.loads((project / "jobs" / "A001.json").read_text())
    assert data == {
        "schema_version": 1,
        "sources": ["../A001/C001.mov", "../A001/C002.mp4", "../A001/C003.MOV"],
        "output_dir": "../proxies/A001",
        "codec": "prores_proxy",
        "container": "mov",
        "resolution": "1280x720",
        "fps_mode": "passthrough",
        "naming_template": "{source_name}",
    }
    assert (project / "proxies" / "A001").is_dir()
    assert rproxy("validate", "jobs/A001.json", cwd=project).returncode == 0

    # never overwrites
    before = (project / "jobs" / "A001.json").read_bytes()
    again = rproxy("init", "A001", "--codec", "h264", cwd=project)
    assert again.returncode == 1
    assert "already exists; not overwriting" in again.stderr
    assert (project / "jobs" / "A001.json").read_bytes() == before


def test_init_options_and_refusals(card: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    spec = other / "h264.json"
    monkeypatch.chdir(other)  # the card lies outside the project: absolute paths
    written = init_spec(card, spec, other / "px", codec="h264", container="mp4",
                        resolution="960x540")
    data = json.loads(spec.read_text())
    assert data["sources"][0] == str(card / "C001.mov")
    assert data["output_dir"] == "px"
    assert (data["codec"], data["container"], data["resolution"]) == ("h264", "mp4", "960x540")
    assert written.clip_count == 3 and written.created_output_dir

    # a codec the container cannot hold: exit 2, nothing written
    done = rproxy("init", str(card), "--spec", "bad.json", "--container", "webm", cwd=other)
    assert done.returncode == 2 and "container" in done.stderr
    assert not (other / "bad.json").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    done = rproxy("init", str(empty), cwd=other)
    assert done.returncode == 1 and "no video files" in done.stderr


def test_init_numbers_proxies_when_two_clips_share_a_name(
        tmp_path: Path, ffmpeg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "card"
    (folder / "CLIP").mkdir(parents=True)
    make_clip(ffmpeg, folder / "C0001.MP4", audio_tracks=0, vcodec=("libx264",))
    make_clip(ffmpeg, folder / "CLIP" / "C0001.MP4", audio_tracks=0, vcodec=("libx264",))
    monkeypatch.chdir(tmp_path)
    written = init_spec(folder, recursive=False)
    assert (written.clip_count, written.in_subfolders) == (1, 1)  # the CLI says: --recursive
    os.remove(tmp_path / "jobs" / "card.json")
    init_spec(folder, recursive=True)
    data = json.loads((tmp_path / "jobs" / "card.json").read_text())
    assert data["sources"] == ["../card/C0001.MP4", "../card/CLIP/C0001.MP4"]
    assert data["naming_template"] == "{index}_{source_name}"


def test_schema_is_json_schema_editors_can_use(tmp_path: Path) -> None:
    done = rproxy("schema", cwd=tmp_path)
    schema = json.loads(done.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"schema_version", "sources", "output_dir", "codec",
                                       "container", "resolution", "fps_mode"}
    for name, prop in schema["properties"].items():
        assert prop.get("description"), name


def test_a_closed_pipe_silences_the_output_but_the_job_goes_on(project: Path) -> None:
    """`rproxy run SPEC | head -1`: the reader goes away after one line; the proxies are
    still made, with no traceback and a true result."""
    spec = write_spec(project, sources=["A001.mov", "A002.mov", "A003.mov"])
    proc = subprocess.Popen([*RPROXY, "run", str(spec)], cwd=project, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `head -1` exiting
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    result = json.loads((project / "out" / ".rproxy" / JobSpec.from_file(spec).id
                         / "result.json").read_text())
    assert result["status"] == "COMPLETED"
    assert result["completed_count"] == 3
