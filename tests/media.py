"""Tiny generated sources with the properties real footage has and test patterns lack: stated
(or missing) colour, RGB pixels, full range, HDR transfer, interlaced fields that move, a
vertical interval, a lost frame. Each is a few frames, made with FFmpeg's lavfi sources."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path


def ffmpeg_run(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-v", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL)


def tags(primaries: str, transfer: str, matrix: str, range_: str = "tv") -> str:
    """A filter stating colour codes on the frames (what the encoder and muxer then write)."""
    return (f"setparams=color_primaries={primaries}:color_trc={transfer}:colorspace={matrix}"
            f":range={range_}")


def coloured(ffmpeg: str, path: Path, *, size: str = "320x180", rate: str = "25",
             frames: int = 3, colour: str | None = None, pix_fmt: str = "yuv422p10le",
             vcodec: Sequence[str] = ("prores_ks", "-profile:v", "0"),
             extra: Sequence[str] = ()) -> Path:
    """Saturated colour (SMPTE HD bars over a moving test pattern): a wrong colour matrix
    shows on it. `colour`: a filter stating colour codes (tags()), else the file states none
    (FFmpeg would state the matrix its conversion to `pix_fmt` used)."""
    unstated = tags("unknown", "unknown", "unknown", "unknown")
    chain = f"format={pix_fmt},{colour or unstated}"
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i",
               f"smptehdbars=s={size}:r={rate},format=yuv444p[bars];"
               f"testsrc2=s={size}:r={rate}[pattern];[pattern][bars]blend=all_mode=average",
               "-frames:v", str(frames), "-vf", chain, "-c:v", *vcodec, *extra, str(path))
    return path


def interlaced(ffmpeg: str, path: Path, *, size: str, order: str, sar: str = "1",
               frames: int = 4, colour: str | None = None) -> Path:
    """Interlaced fields that move (the picture scrolls): field 1 and field 2 of a frame are
    1/50 s apart, so a scaler that mixes them shows. `order`: tff or bff."""
    weave = "interleave_top" if order == "tff" else "interleave_bottom"
    chain = (f"scroll=h=0.005,tinterlace={weave},setfield={order},setsar={sar}"
             + (f",{colour}" if colour else ""))
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s={size}:r=50",
               "-frames:v", str(frames), "-vf", chain, "-r", "25",
               "-flags", "+ildct+ilme", "-c:v", "prores_ks", "-profile:v", "0",
               "-timecode", "10:00:00:00", str(path))
    return path
