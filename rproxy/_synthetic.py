"""Camera-like clips made by FFmpeg from its built-in sources (lavfi): a test pattern, sine
audio tracks and a start timecode. For the demo project, the tests and the benchmarks; no
proxy job uses this."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def synthetic_clip_argv(
    ffmpeg: str,
    path: Path | str,
    *,
    pattern: str = "testsrc2",
    size: str = "320x180",
    rate: str = "24000/1001",
    seconds: float = 0.5,
    audio_tracks: int = 2,
    channels: int = 1,
    vcodec: Sequence[str] = ("prores_ks", "-profile:v", "0"),
    acodec: Sequence[str] = ("pcm_s16le",),
    timecode: str | None = "01:00:00:00",
    extra: Sequence[str] = (),
) -> list[str]:
    """The ffmpeg command for one clip: `audio_tracks` streams of `channels` channels each."""
    argv = [ffmpeg, "-hide_banner", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"{pattern}=s={size}:r={rate}:d={seconds}"]
    layout = LAYOUTS.get(channels, f"{channels}c")
    for track in range(audio_tracks):
        argv += ["-f", "lavfi", "-i", f"sine=f={440 + 110 * track}:r=48000:d={seconds},"
                                      f"aformat=channel_layouts={layout}"]
    argv += ["-map", "0:v"]
    for track in range(audio_tracks):
        argv += ["-map", f"{track + 1}:a"]
    argv += ["-c:v", *vcodec, "-c:a", *acodec]
    if timecode:
        argv += ["-timecode", timecode]
    return [*argv, *extra, str(path)]


def make_synthetic_clip(ffmpeg: str, path: Path, **options: Any) -> Path:
    """Write the clip of `synthetic_clip_argv(ffmpeg, path, **options)`; return its path."""
    subprocess.run(synthetic_clip_argv(ffmpeg, path, **options), check=True,
                   stdin=subprocess.DEVNULL)
    return path
