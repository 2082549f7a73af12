"""The ffmpeg argv builder: a pure function of the proxy format, the paths, and (when the clip
runs) what the probe found. The only place that knows each codec's flags is ``_formats``."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePath

from ._formats import (
    AUDIO,
    DNXHD_INTERLACED,
    FORMATS,
    MUXER,
    OPUS_LAYOUTS,
    PCM_24,
    Codec,
    Container,
    dnxhd_bitrate,
)

_PCM_CONTAINERS = (Container.MOV, Container.MKV, Container.MXF)
_DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))


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
    crop_top: int = 0  # vertical-interval lines above the picture (IMX/D-10: 32)
    audio_layouts: tuple[str, ...] = ()  # channel layout name of each source audio stream
    audio_bits: tuple[int, ...] = ()  # bits per sample of each source audio stream
    video_index: int | None = None  # the picture stream (not cover art or a still before it)
    duration_s: float | None = None  # of that video stream


def ffmpeg_path_arg(path: PurePath | str) -> str:
    """A path as ffmpeg must read it: always a plain file, never an option or a protocol.

    The `file:` prefix stops ffmpeg from reading `concat:x` or `http:x` as a protocol; the
    path is absolute, so it never starts with `-`."""
    return f"file:{path}"


def interlace_decision(fmt: ProxyFormat, facts: SourceFacts) -> tuple[bool, str | None]:
    """(carry interlace?, why not). Interlaced sources stay interlaced, same field order, where
    the codec can carry it; elsewhere they are encoded as they are (no deinterlacing guess)."""
    if not facts.interlaced:
        return False, None
    info = FORMATS[fmt.codec]
    if not info.carries_interlace:
        return False, f"{fmt.codec.value} cannot carry it"
    if fmt.codec is Codec.DNXHD:
        rates = DNXHD_INTERLACED.get((fmt.width, fmt.height))
        rate = fmt.rate or facts.rate
        if rates is None:
            return False, f"DNxHD has no interlaced profile at {fmt.width}x{fmt.height}"
        if rate is None or rate not in rates:
            return False, "DNxHD interlaced takes only 25 and 29.97 fps"
        if not facts.top_field_first:
            return False, "DNxHD interlaced is top field first only; the source is bottom first"
    return True, None


def _timecode_parts(timecode: str) -> tuple[int, int, int, int, bool] | None:
    text = timecode.strip()
    if len(text) != 11 or text[2] != ":" or text[5] != ":" or text[8] not in ":;.,":
        return None
    try:
        hh, mm, ss, ff = int(text[0:2]), int(text[3:5]), int(text[6:8]), int(text[9:11])
    except ValueError:
        return None
    return hh, mm, ss, ff, text[8] in ";,"


def output_timecode(timecode: str | None, source_rate: Fraction | None,
                    output_rate: Fraction | None) -> str | None:
    """The proxy's start timecode. Passthrough, or a cfr rate with the same timebase
    (23.976 → 24): the source's, unchanged. A new timebase (25 → 30): the same second, the
    frame field scaled, drop-frame only where the new rate has it."""
    if timecode is None or output_rate is None or source_rate is None:
        return timecode
    parts = _timecode_parts(timecode)
    if parts is None:
        return timecode
    hh, mm, ss, ff, drop = parts
    src_base, out_base = _timebase(source_rate), _timebase(output_rate)
    if src_base == out_base:
        return timecode
    ff = min(ff * out_base // src_base, out_base - 1)
    drop = drop and output_rate in _DROP_FRAME_RATES
    if drop and ss == 0 and mm % 10 and ff < out_base // 15:
        ff = out_base // 15  # drop-frame skips these labels at the start of most minutes
    return f"{hh:02d}:{mm:02d}:{ss:02d}{';' if drop else ':'}{ff:02d}"


def _timebase(rate: Fraction) -> int:
    """Frames per timecode second: 24000/1001 → 24, 30000/1001 → 30."""
    return max(1, round(rate))


def video_filter(fmt: ProxyFormat, facts: SourceFacts) -> str:
    """Drop VBI lines, scale first (cheapest) to square pixels keeping the display aspect ratio
    (anamorphic sources too), pad to the exact size, and restate the field order when the
    proxy stays interlaced. Phone rotation is applied by ffmpeg's autorotate before this."""
    w, h = fmt.width, fmt.height
    carry, _ = interlace_decision(fmt, facts)
    steps = []
    if facts.crop_top:
        steps.append(f"crop=iw:ih-{facts.crop_top}:0:{facts.crop_top}")
    steps.append(
        f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2:reset_sar=1"
        + (":interl=1" if carry else ""))
    steps += [f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2", "setsar=1"]
    if carry:
        steps.append("setfield=tff" if facts.top_field_first else "setfield=bff")
    return ",".join(steps)


def encoder_args(fmt: ProxyFormat, facts: SourceFacts) -> list[str]:
    info = FORMATS[fmt.codec]
    carry, _ = interlace_decision(fmt, facts)
    args = ["-c:v", *info.encoder_args]
    if fmt.codec is Codec.DNXHD:
        rate = fmt.rate or facts.rate
        if carry and rate is not None:
            bitrate: int | None = DNXHD_INTERLACED[(fmt.width, fmt.height)][rate]
        else:
            bitrate = dnxhd_bitrate(fmt.width, fmt.height, rate) if rate is not None else None
        # The plan (no probe yet) shows the 24/25 fps rate; the clip's record has the real one.
        args += ["-b:v", f"{bitrate or dnxhd_bitrate(fmt.width, fmt.height, Fraction(25))}M"]
    args += ["-pix_fmt", info.pix_fmt]
    if carry:
        args += ["-flags", "+ildct+ilme"]
        if fmt.codec is Codec.H264:
            # libx264 codes top field first unless told: a bottom-first source would swap.
            args += ["-x264-params", "tff=1" if facts.top_field_first else "bff=1"]
    if info.fourcc == "hvc1" and fmt.container in (Container.MOV, Container.MP4):
        args += ["-tag:v", "hvc1"]
    return args


def audio_args(fmt: ProxyFormat, facts: SourceFacts) -> list[str]:
    """Every source audio stream, same channels, in the container's codec; per-stream
    exceptions: 24-bit PCM for deeper sources, discrete Opus mapping for layouts Opus has no
    standard mapping for."""
    args = ["-c:a", *AUDIO[fmt.container]]
    for i, bits in enumerate(facts.audio_bits):
        if bits > 16 and fmt.container in _PCM_CONTAINERS:
            args += [f"-c:a:{i}", PCM_24]
    if fmt.container is Container.WEBM:
        for i, layout in enumerate(facts.audio_layouts):
            if layout not in OPUS_LAYOUTS:
                args += [f"-mapping_family:a:{i}", "255"]
    if fmt.container is Container.MXF and facts.audio_layouts and facts.duration_s:
        # FFmpeg's MXF muxer ends the video where the audio ends: audio shorter than the
        # picture would cost frames. Pad it with silence to the picture's length.
        args += ["-af", f"apad=whole_dur={facts.duration_s:.6f}"]
    return args


def build_argv(
    ffmpeg: str,
    source: PurePath | str,
    output: PurePath | str,
    fmt: ProxyFormat,
    facts: SourceFacts | None = None,
) -> list[str]:
    """The complete ffmpeg command for one clip. Never run through a shell."""
    facts = facts or SourceFacts()
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1",
        "-i", ffmpeg_path_arg(source),
        "-map", "0:v:0" if facts.video_index is None else f"0:{facts.video_index}",
        "-map", "0:a?",
        "-vf", video_filter(fmt, facts),
    ]
    if fmt.rate is None:
        argv += ["-fps_mode", "passthrough"]
    else:
        argv += ["-fps_mode", "cfr", "-r", f"{fmt.rate.numerator}/{fmt.rate.denominator}"]
    argv += encoder_args(fmt, facts)
    argv += audio_args(fmt, facts)
    timecode = output_timecode(facts.timecode, facts.rate, fmt.rate)
    if timecode:
        argv += ["-timecode", timecode, "-metadata:s:v:0", f"timecode={timecode}"]
    if fmt.container is Container.MP4:
        argv += ["-movflags", "+faststart"]
    argv += ["-f", MUXER[fmt.container], "-n", ffmpeg_path_arg(output)]
    return argv
