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

from ._errors import ProbeError


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    channels: int
    sample_rate: int


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
    rotation: int = 0
    interlaced: bool = False
    top_field_first: bool = True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rate"] = f"{self.rate.numerator}/{self.rate.denominator}" if self.rate else None
        return data


def _timecode(container: av.container.InputContainer, video: av.VideoStream) -> str | None:
    # mov keeps it on the video stream (from tmcd) or on the tmcd data stream; mxf and mkv
    # on the container.
    candidates = [video.metadata, container.metadata]
    candidates += [s.metadata for s in container.streams if s.type == "data"]
    for meta in candidates:
        value = meta.get("timecode")
        if value:
            return str(value)
    return None


def _count_packets(container: av.container.InputContainer, video: av.VideoStream) -> int:
    count = 0
    for packet in container.demux(video):
        if packet.size:
            count += 1
    return count


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
        video = videos[0]
        ctx = video.codec_context
        info = MediaInfo(
            format_name=container.format.name,
            video_codec=ctx.name,
            codec_tag=_tag(ctx),
            profile=video.profile,
            pix_fmt=ctx.pix_fmt,
            width=ctx.width,
            height=ctx.height,
            rate=Fraction(video.average_rate) if video.average_rate else None,
            frame_count=video.frames,
            frame_count_source="header",
            duration_s=_duration(container, video),
            timecode=_timecode(container, video),
            audio=[AudioInfo(a.codec_context.name, a.codec_context.channels,
                             a.codec_context.sample_rate) for a in container.streams.audio],
        )
        _first_frame(container, video, info, path, what)
        if info.frame_count <= 0:
            container.seek(0)
            info.frame_count = _count_packets(container, video)
            info.frame_count_source = "packets"
    if info.frame_count <= 0:
        raise ProbeError(f"{what} {path.name} has a video stream with no frames")
    return info


def _tag(ctx: Any) -> str:
    tag = getattr(ctx, "codec_tag", "") or ""
    return str(tag).strip("\x00")


def _duration(container: av.container.InputContainer, video: av.VideoStream) -> float | None:
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _first_frame(container: av.container.InputContainer, video: av.VideoStream,
                 info: MediaInfo, path: Path, what: str) -> None:
    """Decode one frame: proves the video decodes and tells interlace and rotation."""
    try:
        for frame in container.decode(video):
            # AVFieldOrder: 1 progressive, 2 TT, 3 BB, 4 TB, 5 BT (2 and 4: top field first)
            order = getattr(video.codec_context, "field_order", 0)
            info.interlaced = bool(frame.interlaced_frame) or order in (2, 3, 4, 5)
            info.top_field_first = order not in (3, 5)
            with contextlib.suppress(AttributeError):
                info.rotation = int(frame.rotation)
            return
    except av.error.FFmpegError as exc:
        raise ProbeError(f"{what} {path.name}: video does not decode ({exc.strerror})") from None
    raise ProbeError(f"{what} {path.name}: no video frame could be decoded (damaged or "
                     "truncated?)")
