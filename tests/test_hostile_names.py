"""Hostile names: sources whose names look like options, protocols or shell syntax are read by
ffmpeg as plain files (never through a shell), or refused at validation; output names never
leave output_dir. Every encode here is a real one."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rproxy import JobSpec, JobSpecValidationError, execute_multi_job_spec

from .conftest import write_spec

HOSTILE = [
    "-i.mov",                      # an option, if it were passed bare
    "-y",                          # no extension at all, and an option
    "with space.mov",
    "quote's \"double\".mov",
    "ünïcødé 日本語 ✂.mov",
    "$(touch PWNED).mov",          # shell syntax: harmless without a shell
    "semi;colon&amp|pipe.mov",
    "concat:x.mov",                # a protocol name: written ./concat:x.mov in the spec
    "file:y.mov",
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_hostile_source_names_are_read_as_plain_files(
        tmp_path: Path, clip_factory: Callable[..., Path]) -> None:
    template = clip_factory("template.mov", seconds=0.3, audio_tracks=1)
    for name in HOSTILE:
        (tmp_path / name).write_bytes(template.read_bytes())
    before = {name: _digest(tmp_path / name) for name in HOSTILE}
    (tmp_path / "out").mkdir()
    written = [f"./{n}" if ":" in n else n for n in HOSTILE]
    spec = write_spec(tmp_path, sources=written)

    result = execute_multi_job_spec(JobSpec.from_file(spec))

    assert result.status.value == "COMPLETED", [c.failure_reason for c in result.clips]
    out = tmp_path / "out"
    for name, clip in zip(HOSTILE, result.clips, strict=True):
        stem = name.rsplit(".", 1)[0] if name.endswith(".mov") else name
        proxy = out / f"{stem}.mov"
        assert clip.output_path == str(proxy)
        assert proxy.is_file() and proxy.parent == out
        assert clip.verification is not None and clip.verification.ok
        # The source went to ffmpeg as one argument: file:<absolute path>, never bare.
        argv = clip.ffmpeg_command or []
        assert argv[argv.index("-i") + 1] == f"file:{tmp_path / name}"
        assert argv[-1].startswith("file:/")
    assert not (tmp_path / "PWNED").exists()
    assert not (out / "PWNED").exists()
    assert {name: _digest(tmp_path / name) for name in HOSTILE} == before


@pytest.mark.parametrize("bare", ["pipe:1", "concat:a.mov|b.mov", "http://example.invalid/a.mov",
                                  "file:a.mov", "tcp://127.0.0.1:9/x", "data:,xyz"])
def test_protocol_like_sources_written_bare_are_refused_at_validation(
        tmp_path: Path, bare: str) -> None:
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=[bare])
    with pytest.raises(JobSpecValidationError) as caught:
        execute_multi_job_spec(JobSpec.from_file(spec))
    assert any(p.field == "sources.0" for p in caught.value.problems)
    assert list((tmp_path / "out").iterdir()) == []  # nothing written


def test_protocol_like_source_via_cli_exit_2_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["pipe:1"])
    done = subprocess.run([sys.executable, "-m", "rproxy", "run", str(spec)], cwd=tmp_path,
                          capture_output=True, timeout=60, check=False)
    text = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 2, text
    assert "pipe:1" in text and "Traceback" not in text
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("template", [
    "../{source_name}",
    "../../etc/{source_name}",
    "/tmp/{source_name}",
    "sub/../../{source_name}",
    ".rproxy/{source_name}",
    "~/{source_name}",
])
def test_output_names_never_escape_output_dir(
        tmp_path: Path, clip_factory: Callable[..., Path], template: str) -> None:
    clip_factory("A001.mov", seconds=0.3)
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["A001.mov"], naming_template=template)
    with pytest.raises(JobSpecValidationError) as caught:
        execute_multi_job_spec(JobSpec.from_file(spec))
    assert any("naming_template" in p.field for p in caught.value.problems)
    assert list((tmp_path / "out").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A001.mov", "job.json", "out"]


def test_source_name_with_dots_cannot_climb_out(
        tmp_path: Path, clip_factory: Callable[..., Path]) -> None:
    """A source file named '...mov' or '..' + ext: its stem must not become a path."""
    template = clip_factory("t.mov", seconds=0.3, audio_tracks=0)
    odd = tmp_path / "..x.mov"
    odd.write_bytes(template.read_bytes())
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["..x.mov"])
    try:
        result = execute_multi_job_spec(JobSpec.from_file(spec))
    except JobSpecValidationError as exc:  # refusing a hidden-looking name is fine too
        assert any("naming_template" in p.field for p in exc.problems)
        return
    out = tmp_path / "out"
    assert Path(result.clips[0].output_path).parent == out
    assert json.loads((out / ".rproxy" / result.job_id / "result.json").read_text())
