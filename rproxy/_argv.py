"""The ffmpeg argv builder: a pure function of the proxy format, the paths, and (when the clip
runs) what the probe found. The only place that knows each codec's flags is ``_formats``."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePath

from ._formats import (
    AUDIO,
    FORMATS,
    MUXER,
    Codec,
    Container,
    dnxhd_bitrate,
)


@dataclass(frozen=True)
class ProxyFormat:
    """Everything about the output that is the same for every clip of a job."""

    codec: Codec
    container: Container
    width: int
    height: int
    rate: Fraction | None  # None: passthrough timing

    @property
    def extension(self) -> str:
        return self.container.value


@dataclass(frozen=True)
class SourceFacts:
    """What the probe learnt that changes the command (all optional: the plan has none)."""

    rate: Fraction | None = None
    timecode: str | None = None
    interlaced: bool = False
    top_field_first: bool = True


def ffmpeg_path_arg(path: PurePath) -> str:
    """A path as ffmpeg must read it: always a plain file, never an option or a protocol.

    The `file:` prefix stops ffmpeg from reading `concat:x` or `http:x` as a protocol; the
    path is absolute, so it never starts with `-`."""
    return f"file:{path}"


def video_filter(fmt: ProxyFormat, facts: SourceFacts) -> str:
    """Scale first (cheapest), keep the aspect ratio by padding, square pixels."""
    w, h = fmt.width, fmt.height
    interl = ":interl=1" if facts.interlaced and FORMATS[fmt.codec].carries_interlace else ""
    return (
        f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2{interl},"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1"
    )


def encoder_args(fmt: ProxyFormat, facts: SourceFacts) -> list[str]:
    info = FORMATS[fmt.codec]
    args = ["-c:v", *info.encoder_args]
    if fmt.codec is Codec.DNXHD:
        rate = fmt.rate or facts.rate
        bitrate = dnxhd_bitrate(fmt.width, fmt.height, rate) if rate is not None else None
        # The plan (no probe yet) shows the 24/25 fps rate; the clip's record has the real one.
        args += ["-b:v", f"{bitrate or dnxhd_bitrate(fmt.width, fmt.height, Fraction(25))}M"]
    args += ["-pix_fmt", info.pix_fmt]
    if facts.interlaced and info.carries_interlace:
        args += ["-flags", "+ildct+ilme", "-top", "1" if facts.top_field_first else "0"]
    if info.fourcc == "hvc1" and fmt.container in (Container.MOV, Container.MP4):
        args += ["-tag:v", "hvc1"]
    return args


def build_argv(
    ffmpeg: str,
    source: PurePath,
    output: PurePath,
    fmt: ProxyFormat,
    facts: SourceFacts | None = None,
) -> list[str]:
    """The complete ffmpeg command for one clip. Never run through a shell."""
    facts = facts or SourceFacts()
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1",
        "-i", ffmpeg_path_arg(source),
        "-map", "0:v:0", "-map", "0:a?",
        "-vf", video_filter(fmt, facts),
    ]
    if fmt.rate is None:
        argv += ["-fps_mode", "passthrough"]
    else:
        argv += ["-fps_mode", "cfr", "-r", f"{fmt.rate.numerator}/{fmt.rate.denominator}"]
    argv += encoder_args(fmt, facts)
    argv += ["-c:a", *AUDIO[fmt.container]]
    if facts.timecode:
        argv += ["-timecode", facts.timecode]
    if fmt.container is Container.MP4:
        argv += ["-movflags", "+faststart"]
    argv += ["-f", MUXER[fmt.container], "-n", ffmpeg_path_arg(output)]
    return argv
