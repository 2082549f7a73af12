"""rproxy's own demo project. `doit` here makes three camera-like clips into demo/media/, then
proxies of them into demo/proxies/ (jobs/demo.json). doit orders the two by itself: the
media task lists each clip in its `targets`, the proxy tasks list the same paths in `file_dep`.

The first line is all an rproxy project needs; the rest is an ordinary doit task of your own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit.tools import config_changed

from rproxy.dodo import *  # noqa: F403  (DOIT_CONFIG and task_proxy)

MEDIA = "demo/media"

# Three cameras: an ARRI-like ProRes HQ with 4 mono tracks at 23.976, a mirrorless-like H.264
# with stereo at 25, and a broadcast-like DNxHR in MXF with 2 mono tracks at 25.
CAMERAS: dict[str, dict[str, Any]] = {
    "A001C001_240614_R2KD.mov": dict(
        pattern="testsrc2", size="1280x720", rate="24000/1001", seconds=4,
        vcodec=("prores_ks", "-profile:v", "3", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"),
        audio_tracks=4, channels=1, acodec=("pcm_s24le",), timecode="01:00:00:00",
    ),
    "B002_C014_0614XY.mp4": dict(
        pattern="smptehdbars", size="1280x720", rate="25", seconds=3,
        vcodec=("libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"),
        audio_tracks=1, channels=2, acodec=("aac", "-b:a", "128k"), timecode="14:21:07:00",
    ),
    "C003_0614_DNXHR.mxf": dict(
        pattern="testsrc", size="1280x720", rate="25", seconds=3,
        vcodec=("dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"),
        audio_tracks=2, channels=1, acodec=("pcm_s16le",), timecode="02:00:00:00",
    ),
}


def task_demo_media() -> Iterator[dict[str, Any]]:
    """Camera-like demo clips (timecode, several audio tracks, three formats) in demo/media/."""
    from rproxy._ffmpeg import ffmpeg_binary
    from rproxy._synthetic import synthetic_clip_argv

    ffmpeg = ffmpeg_binary()
    for name, camera in CAMERAS.items():
        argv = synthetic_clip_argv(ffmpeg, f"{MEDIA}/{name}", **camera)
        yield {
            "name": name,
            "doc": f"generate {MEDIA}/{name}",
            "actions": [(_mkdir, [MEDIA]), argv],
            "targets": [f"{MEDIA}/{name}"],
            # Up to date while the file exists and the recipe (minus the binary's path) is
            # unchanged. No `clean`: `doit clean` never removes sources.
            "uptodate": [config_changed(" ".join(argv[1:]))],
        }


def _mkdir(path: str) -> None:
    from pathlib import Path

    Path(path).mkdir(parents=True, exist_ok=True)
