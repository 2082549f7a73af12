"""The ffmpeg argv builder: a pure function of the proxy format, the paths, and (when the clip
runs) what the rules decided about its source (``_rules.assess`` makes the SourceFacts). The
only place that knows each codec's flags is ``_formats``; this module only writes them down."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import PurePath

from ._colour import SCALER_MATRIX
from ._formats import (
    AUDIO,
    DNXHD_INTERLACED,
    FORMATS,
    MUXER,
    OPUS_LAYOUTS,
    PCM_24,
    Codec,
    Container,
    Interlace,
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


class Scan(StrEnum):
    """What happens to the source's fields."""

    PROGRESSIVE = "progressive"  # a progressive source, scaled as such
    INTERLACED = "interlaced"  # kept interlaced: fields scaled apart, same field order
    DEINTERLACE = "deinterlace"  # one progressive frame per source frame, tagged progressive


@dataclass(frozen=True)
class ColourPlan:
    """The colour a proxy states, and how the scaler gets there from the source's pixels."""

    primaries: str  # written as they are (FFmpeg names)
    transfer: str
    matrix: str  # the matrix the pixels are converted to, and stated
    in_matrix: str = "auto"  # the scaler's name for the source's matrix (auto: RGB source)
    in_range: str = "tv"  # the source's range: tv (limited) or pc (full); proxies are tv


@dataclass(frozen=True)
class SourceFacts:
    """What the probe and the rules learnt that changes the command (all optional: the plan,
    made before any probe, has none)."""

    rate: Fraction | None = None
    timecode: str | None = None  # the proxy's start timecode
    video_index: int | None = None  # the picture stream (not cover art or a still before it)
    audio_indexes: tuple[int, ...] | None = None  # streams that hold audio; None: every one
    audio_layouts: tuple[str, ...] = ()  # channel layout name of each of those
    audio_bits: tuple[int, ...] = ()  # bits per sample of each of those
    duration_s: float | None = None  # of the video stream
    crop: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right of the decoded
    container_crop_off: bool = False  # FFmpeg must not apply the container's crop itself
    scan: Scan = Scan.PROGRESSIVE
    top_field_first: bool | None = True  # an interlaced source's field order (None: unknown)
    colour: ColourPlan | None = None  # None: leave colour to FFmpeg (the plan, unprobed)
    frames: int | None = None  # encode exactly this many frames (-frames:v)
    fill: bool = False  # constant rate at `rate`: a frame missing from the source is repeated


def ffmpeg_path_arg(path: PurePath | str) -> str:
    """A path as ffmpeg must read it: always a plain file, never an option or a protocol.

    The `file:` prefix stops ffmpeg from reading `concat:x` or `http:x` as a protocol; the
    path is absolute, so it never starts with `-`."""
    return f"file:{path}"


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
    """Crop (vertical interval, field parity), deinterlace where the codec cannot carry
    fields, scale to the exact size (fields apart when they are kept) converting the colour
    with the matrix the proxy states, then state colour, scan and square pixels. Phone
    rotation is applied by ffmpeg's autorotate before this; there is never padding."""
    steps = []
    top, bottom, left, right = facts.crop
    if any(facts.crop):
        # exact: FFmpeg would round an odd top line of a 4:2:x picture down to even.
        steps.append(f"crop=iw-{left + right}:ih-{top + bottom}:{left}:{top}:exact=1")
    order = _field_order(facts)
    if facts.scan is Scan.DEINTERLACE:
        # send_frame: one output frame per input frame (same count and rate); deint=all:
        # every frame, whatever its own flag says; parity auto: as each frame says.
        steps.append(f"bwdif=mode=send_frame:parity={order}:deint=all")
    scale = f"scale={fmt.width}:{fmt.height}"
    if facts.scan is Scan.INTERLACED:
        scale += ":interl=1"
    colour = facts.colour
    if colour is not None:
        if colour.in_matrix != "auto":
            scale += f":in_color_matrix={colour.in_matrix}:in_range={colour.in_range}"
        scale += f":out_color_matrix={SCALER_MATRIX.get(colour.matrix, 'auto')}:out_range=tv"
    steps += [scale, f"format={FORMATS[fmt.codec].pix_fmt}"]
    params = ["field_mode=" + (order if facts.scan is Scan.INTERLACED else "prog")]
    if colour is not None:
        params += ["range=tv", f"color_primaries={colour.primaries}",
                   f"color_trc={colour.transfer}", f"colorspace={colour.matrix}"]
    steps += ["setparams=" + ":".join(params), "setsar=1"]
    return ",".join(steps)


def _field_order(facts: SourceFacts) -> str:
    if facts.top_field_first is None:
        return "auto"
    return "tff" if facts.top_field_first else "bff"


def encoder_args(fmt: ProxyFormat, facts: SourceFacts) -> list[str]:
    info = FORMATS[fmt.codec]
    interlaced = facts.scan is Scan.INTERLACED
    args = ["-c:v", *info.encoder_args]
    if fmt.codec is Codec.DNXHD:
        rate = fmt.rate or facts.rate
        if interlaced and rate is not None:
            bitrate: int | None = DNXHD_INTERLACED[(fmt.width, fmt.height)][rate]
        else:
            bitrate = dnxhd_bitrate(fmt.width, fmt.height, rate) if rate is not None else None
        # The plan (no probe yet) shows the 24/25 fps rate; the clip's record has the real one.
        args += ["-b:v", f"{bitrate or dnxhd_bitrate(fmt.width, fmt.height, Fraction(25))}M"]
    args += ["-pix_fmt", info.pix_fmt]
    if interlaced:
        order = _field_order(facts)
        if info.interlace is Interlace.X265:
            args = _with_x265_param(args, f"interlace={order}")
        else:
            args += ["-flags", "+ildct+ilme"]
        if info.interlace is Interlace.X264:
            # libx264 codes top field first unless told: a bottom-first source would swap.
            args += ["-x264-params", f"{order}=1"]
    if facts.colour is not None:
        # The frames carry these from setparams; stating them to the encoder too keeps a
        # build that takes the encoder's options over the frames' honest.
        args += ["-color_primaries", facts.colour.primaries, "-color_trc",
                 facts.colour.transfer, "-colorspace", facts.colour.matrix,
                 "-color_range", "tv"]
    if info.fourcc == "hvc1" and fmt.container in (Container.MOV, Container.MP4):
        args += ["-tag:v", "hvc1"]
    return args


def _with_x265_param(args: list[str], param: str) -> list[str]:
    """One -x265-params option (a second would replace the first)."""
    if "-x265-params" in args:
        at = args.index("-x265-params") + 1
        return [*args[:at], f"{args[at]}:{param}", *args[at + 1:]]
    return [*args, "-x265-params", param]


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


def _maps(facts: SourceFacts) -> list[str]:
    """The picture and exactly the audio streams the probe accepted (a stream with no audio,
    mapped, stops the whole encode: "Nothing was written into output file")."""
    argv = ["-map", "0:v:0" if facts.video_index is None else f"0:{facts.video_index}"]
    if facts.audio_indexes is None:
        return [*argv, "-map", "0:a?"]
    for index in facts.audio_indexes:
        argv += ["-map", f"0:{index}"]
    return argv


def _timing(fmt: ProxyFormat, facts: SourceFacts) -> list[str]:
    rate = fmt.rate
    if rate is None and facts.fill and facts.rate is not None:
        rate = facts.rate
    if rate is None:
        args = ["-fps_mode", "passthrough"]
    else:
        args = ["-fps_mode", "cfr", "-r", f"{rate.numerator}/{rate.denominator}"]
    if facts.frames is not None:
        args += ["-frames:v", str(facts.frames)]
    return args


def build_argv(
    ffmpeg: str,
    source: PurePath | str,
    output: PurePath | str,
    fmt: ProxyFormat,
    facts: SourceFacts | None = None,
) -> list[str]:
    """The complete ffmpeg command for one clip. Never run through a shell. Every log line is
    prefixed with its level ([error] ...), so a failure's reason can be told from FFmpeg's
    statistics (see ``_stderr.ffmpeg_error_lines``)."""
    facts = facts or SourceFacts()
    argv = [
        ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "level+info",
        "-progress", "pipe:1",
        # The QuickTime clean aperture is part of `crop` (see _rules.picture_crop).
        *(["-apply_cropping", "codec"] if facts.container_crop_off else []),
        "-i", ffmpeg_path_arg(source),
        *_maps(facts),
        "-vf", video_filter(fmt, facts),
        *_timing(fmt, facts),
    ]
    argv += encoder_args(fmt, facts)
    argv += audio_args(fmt, facts)
    timecode = output_timecode(facts.timecode, facts.rate, fmt.rate)
    if timecode:
        argv += ["-timecode", timecode, "-metadata:s:v:0", f"timecode={timecode}"]
    if fmt.container is Container.MP4:
        argv += ["-movflags", "+faststart"]
    argv += ["-f", MUXER[fmt.container], "-n", ffmpeg_path_arg(output)]
    return argv
