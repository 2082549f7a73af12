"""The engine end to end, with the real FFmpeg on tiny media: doit graph, records, collector,
up-to-date checks shared by `doit`, `rproxy run` and `execute_multi_job_spec`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rproxy import ClipStatus, JobSpec, JobStatus, execute_multi_job_spec
from rproxy._cli import main
from tests.conftest import write_spec

SOURCES = ["A001.mov", "A002.mov", "A003.mov"]
BIN = Path(sys.executable).parent


def outputs(folder: Path) -> dict[str, int]:
    """Proxy name → mtime_ns: what changed tells what was re-encoded."""
    return {p.name: p.stat().st_mtime_ns for p in sorted((folder / "out").glob("*.mov"))}


def result_of(spec_path: Path) -> dict[str, object]:
    spec = JobSpec.from_file(spec_path)
    data: dict[str, object] = json.loads(
        (spec.output_path / ".rproxy" / spec.id / "result.json").read_text())
    return data


def test_three_clip_job_completes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_path = write_spec(project, sources=SOURCES)
    assert main(["run", str(spec_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("COMPLETED") == 4  # three clips and the job
    assert "result: " in out
    spec = JobSpec.from_file(spec_path)
    state = project / "out" / ".rproxy" / spec.id
    records = sorted((state / "clips").glob("*.json"))
    assert [r.name for r in records] == ["000.json", "001.json", "002.json"]
    result = result_of(spec_path)
    assert result["status"] == "COMPLETED"
    assert result["completed_count"] == 3
    clips = result["clips"]
    assert isinstance(clips, list)
    for index, clip in enumerate(clips):
        assert clip["status"] == "COMPLETED"
        assert clip["up_to_date"] is False
        assert clip["exit_code"] == 0
        assert clip["output_exists"] is True
        assert Path(clip["output_path"]).stat().st_size == clip["output_size_bytes"] > 0
        assert clip["ffmpeg_command"][0].endswith(("ffmpeg", os.path.basename(
            clip["ffmpeg_command"][0])))
        assert clip["ffmpeg_version"].startswith("ffmpeg version")
        assert clip["verification"]["ok"] is True
        assert clip["source_path"] == str(project / SOURCES[index])
    assert list((state / "partial").glob("*")) == []


def test_failing_middle_clip_ends_partial(project: Path,
                                         ffmpeg_fails_on: Callable[[str], None]) -> None:
    ffmpeg_fails_on("A002")
    spec_path = write_spec(project, sources=SOURCES)
    assert main(["run", str(spec_path)]) == 1
    result = result_of(spec_path)
    assert result["status"] == "PARTIAL"
    assert (result["completed_count"], result["failed_count"], result["skipped_count"]) == (
        1, 1, 1)
    clips = result["clips"]
    assert isinstance(clips, list)
    assert [c["status"] for c in clips] == ["COMPLETED", "FAILED", "SKIPPED"]
    assert "something broke" in clips[1]["failure_reason"]
    assert "failed first" in clips[2]["failure_reason"]
    assert not (project / "out" / "A002.mov").exists()
    assert not (project / "out" / "A003.mov").exists()
    assert (project / "out" / "A001.mov").exists()


def test_second_run_reencodes_nothing(project: Path) -> None:
    spec_path = write_spec(project, sources=SOURCES)
    assert main(["run", str(spec_path)]) == 0
    first = outputs(project)
    records = {p.name: p.read_bytes() for p in (project / "out" / ".rproxy").rglob("clips/*")}
    assert main(["run", str(spec_path)]) == 0
    assert outputs(project) == first
    assert {p.name: p.read_bytes() for p in (project / "out" / ".rproxy").rglob("clips/*")} == (
        records)
    clips = result_of(spec_path)["clips"]
    assert isinstance(clips, list)
    assert [c["up_to_date"] for c in clips] == [True, True, True]


def test_touching_one_source_rebuilds_only_it(project: Path) -> None:
    spec_path = write_spec(project, sources=SOURCES)
    assert main(["run", str(spec_path)]) == 0
    first = outputs(project)
    info = (project / "A002.mov").stat()
    os.utime(project / "A002.mov", ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    assert main(["run", str(spec_path)]) == 0
    second = outputs(project)
    assert second["A001.mov"] == first["A001.mov"]
    assert second["A003.mov"] == first["A003.mov"]
    assert second["A002.mov"] != first["A002.mov"]
    clips = result_of(spec_path)["clips"]
    assert isinstance(clips, list)
    assert [c["up_to_date"] for c in clips] == [True, False, True]


def test_headless_api_matches_the_cli(project: Path, tmp_path: Path,
                                      ffmpeg_fails_on: Callable[[str], None]) -> None:
    ffmpeg_fails_on("A003")
    spec_path = write_spec(project, sources=SOURCES)
    assert main(["run", str(spec_path)]) == 1
    cli = result_of(spec_path)
    result = execute_multi_job_spec(JobSpec.from_file(spec_path))
    assert result.status is JobStatus.PARTIAL
    clips = cli["clips"]
    assert isinstance(clips, list)
    assert [c.status.value for c in result.clips] == [c["status"] for c in clips]
    assert [c.status for c in result.clips] == [ClipStatus.COMPLETED, ClipStatus.COMPLETED,
                                                ClipStatus.FAILED]
    assert [c.up_to_date for c in result.clips] == [True, True, False]
    assert "something broke" in (result.clips[2].failure_reason or "")


def make_doit_project(project: Path) -> Path:
    (project / "jobs").mkdir()
    write_spec(project / "jobs", sources=[f"../{s}" for s in SOURCES], output_dir="../out")
    (project / "dodo.py").write_text("from rproxy.dodo import *\n")
    return project / "jobs" / "job.json"


def doit(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "doit"), *args], cwd=project, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_doit_list_shows_planned_outputs(project: Path) -> None:
    make_doit_project(project)
    done = doit(project, "list", "--all")
    assert done.returncode == 0, done.stderr
    for name in SOURCES:
        line = next(x for x in done.stdout.splitlines() if f"proxy:job:{name} " in x)
        assert line.split(None, 1)[1] == f"{name} -> out/{name}"  # as seen from the project
    assert not (project / "out" / ".rproxy").exists()  # listing writes nothing


def test_doit_run_and_api_agree_on_what_is_up_to_date(project: Path) -> None:
    spec_path = make_doit_project(project)
    done = doit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    first = outputs(project)
    assert len(first) == 3
    # `rproxy run`, then the API, then doit again: nothing is re-encoded by any of them.
    assert main(["run", str(spec_path)]) == 0
    result = execute_multi_job_spec(JobSpec.from_file(spec_path))
    assert [c.up_to_date for c in result.clips] == [True, True, True]
    done = doit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs(project) == first
    clips = result_of(spec_path)["clips"]
    assert isinstance(clips, list)
    assert [c["up_to_date"] for c in clips] == [True, True, True]


def test_doit_stops_at_the_first_failure(project: Path,
                                        ffmpeg_fails_on: Callable[[str], None]) -> None:
    ffmpeg_fails_on("A001")
    spec_path = make_doit_project(project)
    done = doit(project)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert outputs(project) == {}
    result = result_of(spec_path)
    assert result["status"] == "FAILED"
    clips = result["clips"]
    assert isinstance(clips, list)
    assert [c["status"] for c in clips] == ["FAILED", "SKIPPED", "SKIPPED"]


def test_doit_with_an_invalid_spec_exits_2_with_one_line_per_problem(project: Path) -> None:
    (project / "jobs").mkdir()
    write_spec(project / "jobs", sources=["../A001.mov"], output_dir="../out", codec="vp9",
               container="mov", resolution="161x90")
    (project / "dodo.py").write_text("from rproxy.dodo import *\n")
    for command in ((), ("list",)):
        done = doit(project, *command)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert any("container: vp9 cannot go in mov" in line for line in lines)
        assert any("resolution:" in line for line in lines)
    assert not (project / "out" / ".rproxy").exists()


def test_doit_on_a_job_already_running_exits_3(project: Path) -> None:
    from rproxy import build_plan
    from rproxy._lock import JobLock

    plan = build_plan(JobSpec.from_file(make_doit_project(project)))
    lock = JobLock(plan.lock_path, plan.job_id, "another-run")
    lock.acquire()  # as another rproxy process running the same job would
    try:
        done = doit(project)
    finally:
        lock.release()
    assert done.returncode == 3, done.stdout + done.stderr
    assert "already running" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert outputs(project) == {}
