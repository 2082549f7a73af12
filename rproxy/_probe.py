"""Reading what a media file holds, with PyAV: for sources before encoding and for proxies
when verifying. Cheap on purpose: headers, one decoded frame, the index FFmpeg builds from the
header, and a few packets at the end where a container has no frame count of its own; never a
full decode. Everything is read as FFmpeg's command line will present it (the picture after
the QuickTime clean aperture, frames after the edit list, the shown VP9 frames), and where an
editor reads the file differently (a timecode track's own frame base), as the editor does."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import av.filter

from ._colour import Colour, from_codes
from ._errors import ProbeError
from ._media import AudioInfo, Crop, MediaInfo
from ._mxf import mxf_truncated
from ._quicktime import QuickTime, read_quicktime, timecode_of

# AVFieldOrder as libavcodec numbers it: 1 progressive, 2 TT, 3 BB, 4 TB, 5 BT (2 and 4: the
# top field is shown first, as QuickTime's 'fiel' and MediaInfo read them).
_FIELD_ORDERS = {1: "progressive", 2: "tff", 3: "bff", 4: "tff", 5: "bff"}
# Demuxers whose frames are defined by timestamps alone (no index, no header count): a frame
# missing from the stream is a gap in time, not a shorter clip.
_TIMESTAMPED = frozenset({"mpeg", "mpegts", "mpegvideo", "m4v", "h264", "hevc"})
_QUICKTIME_MAGIC = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid")
_MXF_MAGIC = bytes.fromhex("060e2b34")
_RGB_PREFIXES = ("rgb", "bgr", "argb", "abgr", "rgba", "bgra", "gbr", "0rgb", "rgb0", "0bgr",
                 "bgr0", "x2rgb", "x2bgr", "pal8", "rgb48", "rgba64", "bgr48", "bgra64")
# Codecs whose one frame costs more than the whole pre-flight may (JPEG 2000 at 4K: 420 ms):
# decoded at 1/2^n size, which tells the same interlace, colour and pixel format (27 ms).
LOWRES = {"jpeg2000": 3}
_PROGRESSIVE = 1  # AVFieldOrder: the stream says its pictures are progressive
_EDGE = 256  # index entries looked at from each end for edit-list discards
_TAIL_PACKETS = 2000  # packets read after seeking near the end before giving up


def probe(path: Path, *, what: str = "source", count: bool = False) -> MediaInfo:
    """What `path` holds; ProbeError with a reason a person understands when it is unusable.

    `count`: where the container has no frame index (Matroska, WebM, MXF, MPEG streams),
    count the packets instead of trusting duration x rate. That reads the whole file (no
    decoding): right for a proxy being verified, too slow for a long source in pre-flight."""
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
        raise ProbeError(_unopenable(path, what, exc.strerror or str(exc))) from None
    except OSError as exc:
        raise ProbeError(f"cannot read {what} {path}: {exc.strerror}") from None
    with container:
        if not isinstance(container, av.container.InputContainer):
            raise ProbeError(f"not a video file: {path}")
        return _probe_open(container, path, size, what, count)


def _unopenable(path: Path, what: str, why: str) -> str:
    """The reason a file FFmpeg cannot open is unusable: truncated, or not media at all."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head[4:8] in _QUICKTIME_MAGIC:
        with contextlib.suppress(OSError, ValueError):
            cut = read_quicktime(path).truncated
            if cut:
                return f"{what} is truncated: {cut}"
    if head[:4] == _MXF_MAGIC:
        with contextlib.suppress(OSError, ValueError):
            cut = mxf_truncated(path)
            if cut:
                return f"{what} is truncated: {cut}"
    return f"not a video file ({what} {path.name}: {why})"


def _probe_open(container: av.container.InputContainer, path: Path, size: int,
                what: str, count: bool) -> MediaInfo:
    videos = [s for s in container.streams.video if s.codec_context is not None]
    if not videos:
        kinds = ", ".join(sorted({str(s.type) for s in container.streams})) or "nothing"
        raise ProbeError(f"no video stream in {what} {path.name} (it holds {kinds})")
    video = pick_video(videos)
    ctx = video.codec_context
    ctx.thread_count = 1  # one frame: starting a thread pool costs more than decoding it
    dims = (ctx.width, ctx.height)
    lowres = LOWRES.get(ctx.name)
    if lowres:
        ctx.options = {"lowres": str(lowres)}
    quicktime = _quicktime(container, path)
    frame = _first_frame(container, video, path, what)
    if not lowres:
        dims = (frame.width, frame.height)
    crop = quicktime.clean_aperture_crop(video.index) if quicktime else None
    crop_model = Crop(**vars(crop)) if crop else Crop()
    interlaced, field_order, coded = _scan(ctx, frame)
    rotation = 0
    with contextlib.suppress(AttributeError, TypeError, ValueError):
        rotation = round(frame.rotation) % 360
    audio, skipped = _audio_streams(container)
    sar = video.sample_aspect_ratio or ctx.sample_aspect_ratio
    dar = ctx.display_aspect_ratio or video.display_aspect_ratio
    info = MediaInfo(
        format_name=container.format.name,
        video_index=video.index,
        video_codec=_codec_name(ctx),
        codec_tag=_tag(ctx),
        profile=video.profile,
        pix_fmt=frame.format.name if frame.format else ctx.pix_fmt,
        coded_width=dims[0],
        coded_height=dims[1],
        width=dims[0] - crop_model.left - crop_model.right,
        height=dims[1] - crop_model.top - crop_model.bottom,
        container_crop=crop_model,
        sample_aspect_ratio=_ratio(sar),
        display_aspect_ratio=_ratio(dar),
        rotation=rotation,
        frame_count=0,
        audio=audio,
        skipped_audio=skipped,
        interlaced=interlaced,
        field_order=field_order,
        coded_field_order=coded,
        colour=from_codes(frame.color_primaries, frame.color_trc, frame.colorspace,
                          frame.color_range),
        container_colour=from_codes(ctx.color_primaries, ctx.color_trc, ctx.colorspace,
                                    ctx.color_range),
        rgb=_is_rgb(frame.format.name if frame.format else ctx.pix_fmt),
    )
    _timeline(container, video, info, path, size, quicktime, count)
    _timecodes(container, video, info, quicktime)
    if info.frame_count <= 0:
        raise ProbeError(f"{what} {path.name} has a video stream with no frames")
    return info


def _scan(ctx: Any, frame: av.VideoFrame) -> tuple[bool, str, str | None]:
    """(interlaced?, the field order the file states (else the frame's), the frame's own)."""
    order = int(getattr(ctx, "field_order", 0) or 0)
    interlaced = bool(frame.interlaced_frame) or order in (2, 3, 4, 5)
    if not interlaced:
        return False, "progressive", None
    coded = _frame_field_order(frame)
    stated = _FIELD_ORDERS.get(order, "unknown")
    if stated in ("progressive", "unknown"):
        stated = coded or "unknown"
    return True, stated, coded


def _ratio(value: Any) -> str | None:
    if not value:
        return None
    fraction = Fraction(value)
    return str(fraction) if fraction > 0 else None


def _quicktime(container: av.container.InputContainer, path: Path) -> QuickTime | None:
    if "mov" not in container.format.name.split(","):
        return None
    try:
        return read_quicktime(path)
    except (OSError, ValueError):
        return None


def pick_video(videos: list[av.VideoStream]) -> av.VideoStream:
    """The picture: never cover art (attached_pic); the default stream when one is marked,
    so that a still or a thumbnail muxed before the real video is not taken for it."""
    pictures = [s for s in videos if not s.disposition & av.stream.Disposition.attached_pic]
    marked = [s for s in pictures if s.disposition & av.stream.Disposition.default]
    return (marked or pictures or videos)[0]


def _first_frame(container: av.container.InputContainer, video: av.VideoStream, path: Path,
                 what: str) -> av.VideoFrame:
    """Decode one frame: proves the video decodes and tells interlace, rotation and colour."""
    # A progressive stream's key frame is whole in its packet: a decoder that holds it back
    # to reorder B-frames (H.264, HEVC: three packets at 1080p, ~15 ms) gives it up at once
    # when flushed. Not so for field-coded pictures (two packets a frame): they are decoded
    # until a frame comes out.
    whole = int(getattr(video.codec_context, "field_order", 0) or 0) == _PROGRESSIVE
    try:
        for packet in container.demux(video):
            for frame in packet.decode():
                return frame
            # (Not a packet an edit list discards: its frame never comes out, and a flushed
            # decoder takes no more.)
            if whole and packet.is_keyframe and packet.size and not packet.is_discard:
                for frame in video.codec_context.decode(None):
                    return frame
        for frame in video.codec_context.decode(None):  # a decoder that holds frames back
            return frame
    except av.error.FFmpegError as exc:
        raise ProbeError(f"{what} {path.name}: video does not decode ({exc.strerror})") from None
    raise ProbeError(f"{what} {path.name}: no video frame could be decoded (damaged or "
                     "truncated?)")


def _frame_field_order(frame: av.VideoFrame) -> str | None:
    """The decoded frame's own field order, as FFmpeg's filters will take it (PyAV does not
    expose the flag): FFmpeg's separatefields gives the first field in time first. The
    container may state another order for another raster (QuickTime's IMX 486-line picture)
    or none at all (DV)."""
    graph = av.filter.Graph()
    source = graph.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                              time_base=frame.time_base)
    split, sink = graph.add("separatefields"), graph.add("buffersink")
    source.link_to(split)
    split.link_to(sink)
    try:
        graph.configure()
        graph.push(frame)
        first = graph.vpull()
    except (av.error.FFmpegError, ValueError):
        return None
    got = _rows(first.planes[0], 0, 1, first.height, frame.width)
    if got == _rows(frame.planes[0], 0, 2, frame.height, frame.width):
        return "tff"
    if got == _rows(frame.planes[0], 1, 2, frame.height, frame.width):
        return "bff"
    return None


def _rows(plane: Any, start: int, step: int, stop: int, width: int) -> bytes:
    """Every `step`th row of a plane from `start`, without the padding after each row."""
    data, size = bytes(plane), plane.line_size
    return b"".join(data[y * size:y * size + width] for y in range(start, stop, step))


def _audio_streams(container: av.container.InputContainer) -> tuple[list[AudioInfo],
                                                                       list[str]]:
    kept, skipped = [], []
    for stream in container.streams.audio:
        ctx = stream.codec_context
        if ctx is None or not ctx.channels:
            name = getattr(getattr(ctx, "codec", None), "name", None) or "unknown codec"
            skipped.append(f"audio stream {stream.index} ({name}) holds no audio (0 channels)")
            continue
        kept.append(_audio(stream))
    return kept, skipped


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
    return AudioInfo(index=stream.index, codec=name, channels=int(ctx.channels),
                     sample_rate=int(ctx.sample_rate), layout=str(layout), bits=bits)


def _codec_name(ctx: Any) -> str:
    codec = getattr(ctx, "codec", None)
    return str(getattr(codec, "canonical_name", None) or ctx.name)


def _tag(ctx: Any) -> str:
    tag = getattr(ctx, "codec_tag", "") or ""
    return str(tag).strip("\x00")


def _is_rgb(pix_fmt: str | None) -> bool:
    return bool(pix_fmt) and str(pix_fmt).startswith(_RGB_PREFIXES)


# -- time: frames, duration, rate ---------------------------------------------------------

def _timeline(container: av.container.InputContainer, video: av.VideoStream, info: MediaInfo,
              path: Path, size: int, quicktime: QuickTime | None, counted: bool) -> None:
    duration = stream_duration(container, video)
    names = set(container.format.name.split(","))
    nominal = _nominal_rates(video, info)
    count: int | None = None
    if "mov" in names:
        track = quicktime.track(video.index) if quicktime else None
        count = _index_count(video, info, size, full=track is not None and track.edits > 1)
    if count is None and counted:
        count, info.frame_count_source = _count_packets(path, video.index), "packets"
    if count is None and video.frames:
        count, info.frame_count_source = video.frames, "header"
    if count is None and names & _TIMESTAMPED:
        count = _timestamp_slots(container, video, nominal)
        if count is not None:
            info.frame_count_source = "timestamps"
    if info.frame_count_source == "index":
        rate, variable = _rate(*_index_spacing(video), nominal)
    else:
        rate, variable = _rate(count, duration, nominal)
    if info.frame_count_source == "timestamps" and count is not None:
        # Counted from the timestamps at the stated rate: constant by construction, and the
        # demuxer's duration (first to last timestamp) is a frame short of the picture's.
        rate, variable = nominal[0], False
        duration = float(count / rate)
    if count is None and duration and rate and not variable:
        count, info.frame_count_source = round(duration * rate), "duration"
    if count is None:
        count, info.frame_count_source = _count_packets(path, video.index), "packets"
        rate, variable = _rate(count, duration, nominal)
    if (info.frame_count_source == "index" and rate and not variable and duration
            and count - round(duration * float(rate)) == 1
            and duration * float(rate) % 1 < 0.5):
        # An edit list that ends a fraction of a frame into the last sample: FFmpeg presents
        # that sample, MediaInfo and editors' timelines count whole frames of the edit.
        info.ffmpeg_frame_count = count
        count -= 1
    info.frame_count = count
    info.duration_s = duration
    info.rate = str(rate) if rate else None
    info.variable_rate = variable
    info.truncated = info.truncated or _truncation(container, video, info, path, names,
                                                   quicktime)


def stream_duration(container: av.container.InputContainer, video: av.VideoStream) -> float | None:
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


def _tag_seconds(value: str) -> float | None:
    """Matroska's per-track DURATION tag, '00:00:00.501000000' → 0.501."""
    try:
        hh, mm, ss = value.split(":")
        return int(hh) * 3600 + int(mm) * 60 + float(ss)
    except ValueError:
        return None


def _nominal_rates(video: av.VideoStream, info: MediaInfo) -> list[Fraction]:
    """Rates the stream states, most trusted first: the container's (its timestamps), then
    the codec's. Interlaced MPEG-2 in a transport stream has timestamps per field: its
    container rate is twice the frame rate the codec states. The average (frames over
    duration) is no statement: it is used only when nothing else is there."""
    stream = video.guessed_rate
    codec = getattr(video.codec_context, "framerate", None)
    rates = [Fraction(r) for r in (stream, codec) if r]
    if info.interlaced and stream and codec and Fraction(stream) == 2 * Fraction(codec):
        rates.reverse()
    if not rates and video.average_rate:
        rates.append(Fraction(video.average_rate))
    return rates


def _rate(count: int | None, duration: float | None,
          nominal: list[Fraction]) -> tuple[Fraction | None, bool]:
    """(rate, variable?). A nominal rate (the stream's, then the codec's) that the frames over
    the duration agree with is the rate, exactly; else the frames are unevenly spaced and the
    rate is their average."""
    if not count or not duration or duration <= 0:
        return (Fraction(nominal[0]) if nominal else None), False
    measured = count / duration
    for rate in nominal:
        # Within half a frame over the clip (a short clip's duration is rounded to the
        # container's millisecond), or 0.5 % (a long one's).
        if abs(count - duration * float(rate)) <= 0.5 or (
                abs(measured - float(rate)) <= 0.005 * float(rate)):
            return Fraction(rate), False
    return Fraction(measured).limit_denominator(1001), True


def _index_spacing(video: av.VideoStream) -> tuple[int | None, float | None]:
    """(sample intervals, their span in seconds) from the index's decode timestamps: the
    rate of the samples themselves, whatever an edit list shows of the first and the last."""
    entries = video.index_entries
    total = len(entries)
    if total < 2 or video.time_base is None:
        return None, None
    span = float((entries[total - 1].timestamp - entries[0].timestamp) * video.time_base)
    return total - 1, span if span > 0 else None


def _index_count(video: av.VideoStream, info: MediaInfo, size: int,
                 full: bool) -> int | None:
    """Samples FFmpeg presents, from the index it built from the sample table: an edit list
    marks the ones it hides as discard: at the start and the end for one edit (only those are
    looked at: a full scan of an hour's index costs 15 ms), anywhere for more. The index also
    says where each sample's bytes are: past the end of the file, the file is truncated."""
    entries = video.index_entries
    total = len(entries)
    if not total:
        return None
    info.frame_count_source = "index"
    # Decode order: with B-frames a hidden sample sits a few entries in from either end.
    edge = min(_EDGE, total)
    head = sum(1 for i in range(edge) if entries[i].is_discard)
    tail = sum(1 for i in range(max(edge, total - _EDGE), total) if entries[i].is_discard)
    discarded = head + tail
    if full or head > _EDGE // 2 or tail > _EDGE // 2:
        discarded = sum(1 for entry in entries if entry.is_discard)
    last = entries[total - 1]
    if last.pos + last.size > size:
        inside = _entries_inside(entries, size)
        info.truncated = (f"its index lists {total} frames, the file holds the bytes of "
                          f"{inside}")
    return total - discarded


def _entries_inside(entries: Any, size: int) -> int:
    """How many index entries' bytes lie within the file (positions grow with the index)."""
    low, high = 0, len(entries)
    while low < high:
        mid = (low + high) // 2
        if entries[mid].pos + entries[mid].size <= size:
            low = mid + 1
        else:
            high = mid
    return low


def _timestamp_slots(container: av.container.InputContainer, video: av.VideoStream,
                     nominal: list[Fraction]) -> int | None:
    """Frames of a timestamped stream (MPEG-PS/TS): first to last timestamp at the rate, and
    the frames FFmpeg shows before the stream's start (the leading B-frames of an open GOP
    cut out of a broadcast). A frame missing from the stream still has its slot (the proxy
    fills it)."""
    if not nominal or video.start_time is None or video.time_base is None:
        return None
    start = video.start_time
    leading = 0
    with contextlib.suppress(av.error.FFmpegError):
        container.seek(0)
        for read, packet in enumerate(container.demux(video)):
            if read >= 64:
                break
            if packet.size and packet.pts is not None and packet.pts < start:
                leading += 1
    last = _last_end(container, video)
    if last is None:
        return None
    span = (last[0] - start) * video.time_base
    return max(1, round(span * Fraction(nominal[0])) + 1) + leading


def _last_end(container: av.container.InputContainer,
              video: av.VideoStream) -> tuple[int, int] | None:
    """(largest pts, largest pts + duration) of the video packets near the end: a seek to a
    second before the stated end and a short demux. None when the seek did not land near it."""
    duration = stream_duration(container, video)
    if video.time_base is None or duration is None:
        return None
    start = video.start_time or 0
    target = start + int(max(0.0, duration - 1.0) / video.time_base)
    try:
        container.seek(target, stream=video, backward=True, any_frame=False)
        best: tuple[int, int] | None = None
        for read, packet in enumerate(container.demux(video)):
            if read >= _TAIL_PACKETS:
                return None  # the seek did not land near the end: cannot tell cheaply
            if packet.pts is None or not packet.size:
                continue
            end = packet.pts + (packet.duration or 0)
            best = (packet.pts, end) if best is None else (max(best[0], packet.pts),
                                                             max(best[1], end))
        return best
    except av.error.FFmpegError:
        return None


def _truncation(container: av.container.InputContainer, video: av.VideoStream,
                info: MediaInfo, path: Path, names: set[str],
                quicktime: QuickTime | None) -> str | None:
    """Why the content ends before the header says it does (None: it does not)."""
    rate = info.rate_fraction
    frame = 1 / float(rate) if rate else 0.04
    if info.duration_s is not None and rate and info.duration_s * float(rate) < 0.999:
        return (f"it holds {info.duration_s:.3f} s of picture, less than one frame "
                f"({frame:.3f} s)")
    if quicktime is not None and quicktime.truncated:
        return quicktime.truncated
    if "mxf" in names:
        with contextlib.suppress(OSError, ValueError):
            cut = mxf_truncated(path)
            if cut:
                return f"{cut} (its header says {_span(info)})"
    if names & {"mxf", "matroska", "webm"} and info.duration_s and info.frame_count_source in (
            "duration", "header"):
        last = _last_end(container, video)
        if last is None and "mxf" in names:
            return f"no frame near the end its header states ({_span(info)})"
        if last is not None and video.time_base is not None:
            end = float((last[1] - (video.start_time or 0)) * video.time_base)
            if end < info.duration_s - max(2 * frame, 0.01 * info.duration_s):
                return f"its header says {_span(info)}, its last frame ends at {end:.2f} s"
    return None


def _span(info: MediaInfo) -> str:
    return f"{info.duration_s or 0:.2f} s, {info.frame_count} frames"


def _count_packets(path: Path, index: int) -> int:
    """Frames as FFmpeg presents them, counted: packets outside an edit list are discard.
    A fresh demuxer: seeking back to 0 lands on another stream's keyframe in some files."""
    count = 0
    with av.open(str(path), metadata_errors="ignore") as container:
        for packet in container.demux(container.streams[index]):
            if packet.size and not packet.is_discard:
                count += 1
    return count


# -- timecode -----------------------------------------------------------------------------

def _timecodes(container: av.container.InputContainer, video: av.VideoStream,
               info: MediaInfo, quicktime: QuickTime | None) -> None:
    ffmpeg = _metadata_timecode(container, video)
    info.timecode = ffmpeg
    if quicktime is None:
        return
    tracks = [t for t in quicktime.tracks if t.tmcd is not None]
    read = timecode_of(tracks[0]) if tracks else None
    if read is None:
        return
    info.timecode, info.timecode_base = read
    if ffmpeg and ffmpeg != info.timecode:
        info.ffmpeg_timecode = ffmpeg


def _metadata_timecode(container: av.container.InputContainer,
                       video: av.VideoStream) -> str | None:
    # mov keeps it on the video stream (from tmcd) or on the tmcd data stream; mxf on the
    # container; Matroska as a TIMECODE tag (upper case) on the segment or the track; MPEG-2
    # streams from the first GOP header.
    candidates = [video.metadata, container.metadata]
    candidates += [s.metadata for s in container.streams if s.type == "data"]
    for meta in candidates:
        for key, value in meta.items():
            if key.lower() == "timecode" and value:
                return str(value)
    return None


def bitstream_colour(path: Path, index: int) -> Colour:
    """The colour codes the first picture's bitstream states by itself: a decoder given only
    the codec's extradata and one packet, none of the container's colour fields."""
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams[index]
        source = stream.codec_context
        ctx = av.CodecContext.create(source.name, "r")
        if source.extradata:
            ctx.extradata = source.extradata
        for packet in container.demux(stream):
            if not packet.size:
                continue
            for frame in ctx.decode(packet):  # type: ignore[attr-defined]
                return from_codes(frame.color_primaries, frame.color_trc, frame.colorspace,
                                  frame.color_range)
        for frame in ctx.decode(None):  # type: ignore[attr-defined]
            return from_codes(frame.color_primaries, frame.color_trc, frame.colorspace,
                              frame.color_range)
    return Colour()


