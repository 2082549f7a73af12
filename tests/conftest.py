"""Shared fixtures: tiny real media made with FFmpeg's lavfi sources, and spec helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rproxy import ClipExecutionResult, JobSpec, build_plan
from rproxy._clip import ClipRun, run_clip
from rproxy._ffmpeg import ffmpeg_binary
from rproxy._synthetic import make_synthetic_clip

SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
FAKE_FFMPEG = Path(__file__).resolve().parent / "fakes" / "ffmpeg"


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return ffmpeg_binary()


def make_clip(
    ffmpeg: str,
    path: Path,
    *,
    acodec: str = "pcm_s16le",
    **options: Any,
) -> Path:
    """A tiny real clip: test pattern video, sine audio streams, timecode 01:00:00:00 unless
    told otherwise (see rproxy._synthetic.synthetic_clip_argv for the options)."""
    return make_synthetic_clip(ffmpeg, path, acodec=(acodec,), **options)


@pytest.fixture
def ffmpeg_fails_on(monkeypatch: pytest.MonkeyPatch, ffmpeg: str) -> Callable[[str], None]:
    """Make FFmpeg fail ("Error while encoding") on the sources whose path contains a text,
    and work normally on the others: a failure no pre-flight can see coming (a fake FFmpeg,
    tests/fakes/ffmpeg, through RPROXY_FFMPEG; subprocesses inherit it)."""
    def fail_on(text: str) -> None:
        monkeypatch.setenv("RPROXY_FFMPEG", str(FAKE_FFMPEG))
        monkeypatch.setenv("FAKE_REAL", ffmpeg)
        monkeypatch.setenv("FAKE_MODE", "exit1")
        monkeypatch.setenv("FAKE_ONLY", text)

    return fail_on


@pytest.fixture
def clip_factory(ffmpeg: str, tmp_path: Path) -> Callable[..., Path]:
    def factory(name: str, **kwargs: Any) -> Path:
        return make_clip(ffmpeg, tmp_path / name, **kwargs)

    return factory


def run_one(source: Path, out: Path, codec: str, container: str,
            resolution: str = "320x180", **fields: Any) -> ClipExecutionResult:
    """Make one proxy of `source` through the real clip path (probe, ffmpeg, verify, record)."""
    out.mkdir(parents=True, exist_ok=True)
    spec = JobSpec.from_dict({
        "schema_version": 1, "sources": [str(source)], "output_dir": str(out),
        "codec": codec, "container": container, "resolution": resolution,
        "fps_mode": "passthrough", **fields,
    })
    plan = build_plan(spec)
    return run_clip(plan, plan.clips[0], ClipRun(ffmpeg_binary(), run_id="test"))


def write_spec(folder: Path, name: str = "job.json", **fields: Any) -> Path:
    """A JobSpec file with sensible defaults; `fields` override or add (None removes)."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "sources": ["A001.mov"],
        "output_dir": "out",
        "codec": "prores_proxy",
        "container": "mov",
        "resolution": "160x90",
        "fps_mode": "passthrough",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    path = folder / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, clip_factory: Callable[..., Path]) -> Path:
    """A folder with three tiny clips A001..A003.mov and an empty out/."""
    for name in ("A001.mov", "A002.mov", "A003.mov"):
        clip_factory(name)
    (tmp_path / "out").mkdir()
    return tmp_path
