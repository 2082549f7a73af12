"""The seed's five Phase 1 regression cases, by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rproxy import (
    ClipExecutionResult,
    ClipStatus,
    JobSpec,
    JobSpecValidationError,
    JobStatus,
    build_plan,
    execute_multi_job_spec,
    validate,
)
from rproxy._errors import PreflightError
from tests.conftest import write_spec

FAKE = Path(__file__).resolve().parent / "fakes" / "ffmpeg"

SOURCES = ["A001.mov", "A002.mov", "A003.mov"]


def test_valid_job_produces_outputs(project: Path) -> None:
    result = execute_multi_job_spec(JobSpec.from_file(write_spec(project, sources=SOURCES)))
    assert result.status is JobStatus.COMPLETED
    for name, clip in zip(SOURCES, result.clips, strict=True):
        assert clip.status is ClipStatus.COMPLETED
        assert Path(clip.output_path) == project / "out" / name
        assert (project / "out" / name).stat().st_size == clip.output_size_bytes > 0


def test_clip_execution_result_schema(project: Path) -> None:
    spec = JobSpec.from_file(write_spec(project))
    execute_multi_job_spec(spec)
    record_path = project / "out" / ".rproxy" / spec.id / "clips" / "000.json"
    data = json.loads(record_path.read_text())
    for field in ("index", "source_path", "output_path", "status", "up_to_date",
                  "ffmpeg_command", "command_line", "exit_code", "output_exists",
                  "output_size_bytes", "failure_reason", "stderr", "started_at", "finished_at",
                  "duration_s", "verification"):
        assert field in data, field
    record = ClipExecutionResult.model_validate(data)
    assert record.status is ClipStatus.COMPLETED
    assert isinstance(record.ffmpeg_command, list) and record.exit_code == 0
    assert record.command_line and record.command_line.startswith(record.ffmpeg_command[0])
    assert record.duration_s is not None and record.duration_s >= 0
    assert record.verification is not None and record.verification.ok is True


def test_deterministic_output_paths(project: Path) -> None:
    spec_path = write_spec(project, sources=SOURCES, naming_template="{index}_{source_name}")
    first = [c.output for c in build_plan(JobSpec.from_file(spec_path)).clips]
    second = [c.output for c in build_plan(JobSpec.from_file(spec_path)).clips]
    assert first == second == [project / "out" / f"{i:03d}_{Path(s).stem}.mov"
                               for i, s in enumerate(SOURCES)]
    result = execute_multi_job_spec(JobSpec.from_file(spec_path))
    assert [Path(c.output_path) for c in result.clips] == first


def test_fail_fast_on_first_failing_clip(project: Path, monkeypatch: pytest.MonkeyPatch,
                                         ffmpeg: str) -> None:
    # FFmpeg itself fails on the first clip (a fake that does, for A001 only): what no
    # pre-flight can see coming.
    monkeypatch.setenv("RPROXY_FFMPEG", str(FAKE))
    monkeypatch.setenv("FAKE_REAL", ffmpeg)
    monkeypatch.setenv("FAKE_MODE", "exit1")
    monkeypatch.setenv("FAKE_ONLY", "A001")
    result = execute_multi_job_spec(JobSpec.from_file(write_spec(project, sources=SOURCES)))
    assert result.status is JobStatus.FAILED
    assert [c.status for c in result.clips] == [ClipStatus.FAILED, ClipStatus.SKIPPED,
                                                ClipStatus.SKIPPED]
    assert result.clips[0].failure_reason
    assert "something broke" in result.clips[0].failure_reason
    assert not list((project / "out").glob("*.mov"))


def test_a_damaged_source_stops_the_job_before_anything_is_encoded(project: Path) -> None:
    (project / "A002.mov").write_bytes(b"\x00" * 1000)
    with pytest.raises(PreflightError) as caught:
        execute_multi_job_spec(JobSpec.from_file(write_spec(project, sources=SOURCES)))
    assert [p.field for p in caught.value.problems] == ["clip 1 (A002.mov)"]
    assert not list((project / "out").glob("*.mov"))


def test_ambiguous_multi_clip_naming_refused(project: Path) -> None:
    spec = JobSpec.from_file(write_spec(project, sources=SOURCES, naming_template="proxy"))
    with pytest.raises(JobSpecValidationError) as caught:
        validate(spec)
    assert [p.field for p in caught.value.problems] == ["naming_template"]
    with pytest.raises(JobSpecValidationError):
        execute_multi_job_spec(spec)
    assert list((project / "out").iterdir()) == []
