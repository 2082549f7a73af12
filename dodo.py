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

# name: (video input, video codec args, audio tracks, channels per track, audio codec, timecode)
# Three cameras: an ARRI-like ProRes HQ with 4 mono tracks at 23.976, a mirrorless-like H.264
# with stereo at 25, and a broadcast-like DNxHR in MXF with 2 mono tracks at 25.
CAMERAS: dict[str, tuple[str, list[str], int, str, list[str], str]] = {
    "A001C001_240614_R2KD.mov": (
        "testsrc2=s=1280x720:r=24000/1001:d=4",
        ["-c:v", "prores_ks", "-profile:v", "3", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"],
        4, "mono", ["-c:a", "pcm_s24le"], "01:00:00:00",
    ),
    "B002_C014_0614XY.mp4": (
        "smptehdbars=s=1280x720:r=25:d=3",
        ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"],
        1, "stereo", ["-c:a", "aac", "-b:a", "128k"], "14:21:07:00",
    ),
    "C003_0614_DNXHR.mxf": (
        "testsrc=s=1280x720:r=25:d=3",
        ["-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"],
        2, "mono", ["-c:a", "pcm_s16le"], "02:00:00:00",
    ),
}


def _camera_argv(ffmpeg: str, name: str) -> list[str]:
    video, vcodec, tracks, layout, acodec, timecode = CAMERAS[name]
    seconds = video.rsplit("d=", 1)[1]
    argv = [ffmpeg, "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i", video]
    for track in range(tracks):
        argv += ["-f", "lavfi", "-i",
                 f"sine=f={220 * (track + 2)}:r=48000:d={seconds},"
                 f"aformat=channel_layouts={layout}"]
    argv += ["-map", "0:v"]
    for track in range(tracks):
        argv += ["-map", f"{track + 1}:a"]
    return [*argv, *vcodec, *acodec, "-timecode", timecode, f"{MEDIA}/{name}"]


def task_demo_media() -> Iterator[dict[str, Any]]:
    """Camera-like demo clips (timecode, several audio tracks, three formats) in demo/media/."""
    from rproxy._ffmpeg import ffmpeg_binary

    ffmpeg = ffmpeg_binary()
    for name in CAMERAS:
        argv = _camera_argv(ffmpeg, name)
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
