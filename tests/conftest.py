"""Shared fixtures: tiny real media made with FFmpeg's lavfi sources, and spec helpers."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rproxy._ffmpeg import ffmpeg_binary

SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return ffmpeg_binary()


def make_clip(
    ffmpeg: str,
    path: Path,
    *,
    size: str = "320x180",
    rate: str = "24000/1001",
    seconds: float = 0.5,
    audio_tracks: int = 2,
    channels: int = 1,
    timecode: str | None = "01:00:00:00",
    vcodec: tuple[str, ...] = ("prores_ks", "-profile:v", "0"),
    acodec: str = "pcm_s16le",
    extra: tuple[str, ...] = (),
) -> Path:
    """A tiny real clip: test pattern video, `audio_tracks` sine streams, optional timecode."""
    args = [ffmpeg, "-v", "error", "-y", "-f", "lavfi",
            "-i", f"testsrc2=s={size}:r={rate}:d={seconds}"]
    layout = {1: "mono", 2: "stereo", 6: "5.1"}.get(channels, f"{channels}c")
    for track in range(audio_tracks):
        args += ["-f", "lavfi", "-i",
                 f"sine=f={440 + 110 * track}:r=48000:d={seconds},"
                 f"aformat=channel_layouts={layout}"]
    args += ["-map", "0:v"]
    for track in range(audio_tracks):
        args += ["-map", f"{track + 1}:a"]
    args += ["-c:v", *vcodec, "-c:a", acodec]
    if timecode:
        args += ["-timecode", timecode]
    args += [*extra, str(path)]
    subprocess.run(args, check=True, stdin=subprocess.DEVNULL)
    return path


@pytest.fixture
def clip_factory(ffmpeg: str, tmp_path: Path) -> Callable[..., Path]:
    def factory(name: str, **kwargs: Any) -> Path:
        return make_clip(ffmpeg, tmp_path / name, **kwargs)

    return factory


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
