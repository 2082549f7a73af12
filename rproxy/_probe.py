"""Reading what a media file holds, with PyAV: for sources before encoding and for proxies
when verifying. Cheap on purpose: headers, one decoded frame, and a packet count only where
the container stores no frame count (mkv, webm, mxf)."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from ._argv import SourceFacts
from ._errors import ProbeError

# AVFieldOrder as libavcodec numbers it.
_FIELD_ORDERS = {1: "progressive", 2: "tff", 3: "bff", 4: "tff", 5: "bff"}
# IMX / D-10 frames carry vertical-interval lines above the picture: (codec, width, height) →
# lines to drop so the proxy shows the picture, not the VBI (576 of 608, 480 of 512).
_VBI_LINES = {("mpeg2video", 720, 608): 32, ("mpeg2video", 720, 512): 32}


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    channels: int
    sample_rate: int
    layout: str = ""
    bits: int = 16  # bits per sample of the source (PCM depth; 16 for lossy codecs)


@dataclass
class MediaInfo:
    format_name: str
    video_codec: str
    codec_tag: str
    profile: str | None
    pix_fmt: str | None
    width: int
    height: int
    rate: Fraction | None  # average rate of the video stream
    frame_count: int
    frame_count_source: str  # "header" or "packets": how frame_count was learnt
    duration_s: float | None
    timecode: str | None
    audio: list[AudioInfo] = field(default_factory=list)
    rotation: int = 0  # degrees the display matrix turns the picture (0: upright as stored)
    interlaced: bool = False
    top_field_first: bool = True
    field_order: str = "unknown"  # progressive, tff, bff or unknown, as the decoder reports
    variable_rate: bool = False  # average rate differs from the nominal rate (phone footage)
    sample_aspect_ratio: str | None = None
    video_index: int = 0  # which stream of the file is the picture

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rate"] = f"{self.rate.numerator}/{self.rate.denominator}" if self.rate else None
        return data


def _timecode(container: av.container.InputContainer, video: av.VideoStream) -> str | None:
    # mov keeps it on the video stream (from tmcd) or on the tmcd data stream; mxf on the
    # container; Matroska as a TIMECODE tag (upper case) on the segment or the track.
    candidates = [video.metadata, container.metadata]
    candidates += [s.metadata for s in container.streams if s.type == "data"]
    for meta in candidates:
        for key, value in meta.items():
            if key.lower() == "timecode" and value:
                return str(value)
    return None


def _count_packets(container: Any, video: Any) -> int:
    """Frames as FFmpeg presents them: packets outside an edit list are marked discard."""
    count = 0
    for packet in container.demux(video):
        if packet.size and not packet.is_discard:
            count += 1
    return count


def _pick_video(videos: list[av.VideoStream]) -> av.VideoStream:
    """The picture: never cover art (attached_pic); the default stream when one is marked,
    so that a still or a thumbnail muxed before the real video is not taken for it."""
    pictures = [s for s in videos if not s.disposition & av.stream.Disposition.attached_pic]
    marked = [s for s in pictures if s.disposition & av.stream.Disposition.default]
    return (marked or pictures or videos)[0]


def _edit_list_suspected(info: MediaInfo) -> bool:
    """The header's sample count disagrees with the stream's duration by more than a frame:
    an edit list (a trimmed or smart-rendered mov/mp4) hides some of those samples."""
    if info.duration_s is None or not info.rate:
        return False
    return abs(info.frame_count - info.duration_s * float(info.rate)) > 1.5


def probe(path: Path, *, what: str = "source") -> MediaInfo:
    """What `path` holds; ProbeError with a reason a person understands when it is unusable."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ProbeError(f"{what} does not exist: {path}") from None
    except OSError as exc:
        raise ProbeError(f"cannot read {what} {path}: {exc.strerror}") from None
    if size == 0:
        raise ProbeError(f"{what} is empty (0 bytes): {path}")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise ProbeError(f"not a video file ({what} {path.name}: {exc.strerror})") from None
    except OSError as exc:
        raise ProbeError(f"cannot read {what} {path}: {exc.strerror}") from None
    with container:
        if not isinstance(container, av.container.InputContainer):
            raise ProbeError(f"not a video file: {path}")
        videos = [s for s in container.streams.video if s.codec_context is not None]
        if not videos:
            kinds = ", ".join(sorted({str(s.type) for s in container.streams})) or "nothing"
            raise ProbeError(f"no video stream in {what} {path.name} (it holds {kinds})")
        video = _pick_video(videos)
        ctx = video.codec_context
        # MXF (and some raw streams) store no average rate: the stream's nominal rate is it.
        rate = video.average_rate or video.guessed_rate
        info = MediaInfo(
            format_name=container.format.name,
            # The codec, not the decoder that happens to read it (libdav1d reads av1).
            video_codec=_codec_name(ctx),
            codec_tag=_tag(ctx),
            profile=video.profile,
            pix_fmt=ctx.pix_fmt,
            width=ctx.width,
            height=ctx.height,
            rate=Fraction(rate) if rate else None,
            frame_count=video.frames,
            frame_count_source="header",
            duration_s=_duration(container, video),
            timecode=_timecode(container, video),
            audio=[_audio(a) for a in container.streams.audio
                   if a.codec_context is not None and a.codec_context.channels],
            sample_aspect_ratio=str(ctx.sample_aspect_ratio) if ctx.sample_aspect_ratio
            else None,
            variable_rate=_variable(video),
        )
        info.video_index = video.index
        _first_frame(container, video, info, path, what)
    if info.frame_count <= 0 or _edit_list_suspected(info):
        # A fresh demuxer: seeking back to 0 lands on another stream's keyframe in some
        # files (Matroska with cover art first) and would skip frames of this one.
        with av.open(str(path), metadata_errors="ignore") as again:
            info.frame_count = _count_packets(again, again.streams[info.video_index])
        info.frame_count_source = "packets"
    if info.frame_count <= 0:
        raise ProbeError(f"{what} {path.name} has a video stream with no frames")
    return info


def _codec_name(ctx: Any) -> str:
    codec = getattr(ctx, "codec", None)
    return str(getattr(codec, "canonical_name", None) or ctx.name)


def _audio(stream: Any) -> AudioInfo:
    ctx = stream.codec_context
    name = str(getattr(ctx.codec, "canonical_name", None) or ctx.name)
    bits = 16
    if name.startswith("pcm_"):
        digits = "".join(ch for ch in name[5:] if ch.isdigit())
        bits = int(digits) if digits else 16
    raw = getattr(ctx, "bits_per_raw_sample", 0) or 0
    if name.startswith("pcm_") and raw:
        bits = int(raw)
    layout = getattr(getattr(ctx, "layout", None), "name", "") or ""
    return AudioInfo(name, int(ctx.channels), int(ctx.sample_rate), str(layout), bits)


def vbi_lines(info: MediaInfo) -> int:
    """Lines of vertical interval above the picture (IMX/D-10 720x608 → 32), else 0."""
    return _VBI_LINES.get((info.video_codec, info.width, info.height), 0)


def source_facts(info: MediaInfo) -> SourceFacts:
    """What the argv builder needs to know about a probed source."""
    return SourceFacts(
        rate=info.rate,
        timecode=info.timecode,
        interlaced=info.interlaced,
        top_field_first=info.top_field_first,
        crop_top=vbi_lines(info),
        audio_layouts=tuple(a.layout for a in info.audio),
        audio_bits=tuple(a.bits for a in info.audio),
        video_index=info.video_index,
        duration_s=info.duration_s,
    )


def _tag(ctx: Any) -> str:
    tag = getattr(ctx, "codec_tag", "") or ""
    return str(tag).strip("\x00")


def _variable(video: av.VideoStream) -> bool:
    """Variable frame rate: the average rate is off the stream's nominal rate by > 0.5 %."""
    avg, nominal = video.average_rate, video.guessed_rate
    if not avg or not nominal:
        return False
    return abs(float(avg) - float(nominal)) > 0.005 * float(nominal)


def _tag_seconds(value: str) -> float | None:
    """Matroska's per-track DURATION tag, '00:00:00.501000000' → 0.501."""
    try:
        hh, mm, ss = value.split(":")
        return int(hh) * 3600 + int(mm) * 60 + float(ss)
    except ValueError:
        return None


def _duration(container: av.container.InputContainer, video: av.VideoStream) -> float | None:
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    for key, value in video.metadata.items():
        if key.upper() == "DURATION":
            seconds = _tag_seconds(str(value))
            if seconds is not None:
                return seconds
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _first_frame(container: av.container.InputContainer, video: av.VideoStream,
                 info: MediaInfo, path: Path, what: str) -> None:
    """Decode one frame: proves the video decodes and tells interlace and rotation."""
    try:
        for frame in container.decode(video):
            # AVFieldOrder: 1 progressive, 2 TT, 3 BB, 4 TB, 5 BT (2 and 4: top field first)
            order = int(getattr(video.codec_context, "field_order", 0) or 0)
            info.interlaced = bool(frame.interlaced_frame) or order in (2, 3, 4, 5)
            info.top_field_first = order not in (3, 5)
            info.field_order = _FIELD_ORDERS.get(order, "unknown")
            if info.interlaced and info.field_order == "progressive":
                info.field_order = "unknown"
            with contextlib.suppress(AttributeError, TypeError, ValueError):
                info.rotation = round(frame.rotation) % 360
            return
    except av.error.FFmpegError as exc:
        raise ProbeError(f"{what} {path.name}: video does not decode ({exc.strerror})") from None
    raise ProbeError(f"{what} {path.name}: no video frame could be decoded (damaged or "
                     "truncated?)")
