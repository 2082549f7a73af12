"""Small JPEG frames of clips for the QC report: one frame decoded near a given time, scaled
down with the colour matrix and range the frame is tagged with, and cached on disk.

PyAV in this process, not the ffmpeg binary: a process per picture would cost ~50 ms of
start-up, 200 s for the two pictures of each clip of a 2,000-clip job; here a picture costs
a seek, one decoded frame and a tiny scale (a few ms)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from ._errors import RproxyError
from ._probe import pick_video, stream_duration
from ._rules import coded_vbi_lines

THUMB_VERSION = 2  # part of the cache key: change it when the same inputs give a new picture
BOX = (192, 144)  # the largest thumbnail: 16:9 gives 192x108, 4:3 192x144, 9:16 80x144
JPEG_QUALITY = 5  # mjpeg qscale (2 best .. 31 worst): ~3-5 KB at 192x108
# Frames decoded after a seek to reach the time asked for: near the middle of a source, a
# second or two past the keyframe will do; an exact time (the proxy's picture of the frame the
# source's shows) allows a long-GOP proxy's full GOP.
_NEAR_FRAMES = 48
_EXACT_FRAMES = 1000
_COMMENT = b"rproxy-thumb at_s="  # JPEG comment: the time of the frame, kept in the cache
# AVColorSpace (frame tags) -> swscale's matrix; anything else is untagged or exotic.
_MATRIX = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M",
           9: "BT2020", 10: "BT2020"}
_MPEG, _JPEG = 1, 2  # AVColorRange
# PyAV's rotation is counter-clockwise (the display matrix's); ffmpeg's autorotate turns the
# pixels back by as much: the filters it uses.
_TURN = {90: [("transpose", "cclock")], 270: [("transpose", "clock")]}


class ThumbnailError(RproxyError):
    """No picture could be taken from a file (missing, not video, does not decode)."""


@dataclass(frozen=True)
class Thumb:
    """A JPEG picture of one frame of a clip, `width` x `height` pixels."""

    jpeg: bytes
    width: int
    height: int
    at_s: float = 0.0  # the frame's time after the video's start


def fit(width: int, height: int, box: tuple[int, int] = BOX) -> tuple[int, int]:
    """The size of a `width` x `height` picture scaled to fill `box` as far as its shape
    allows (a small proxy is scaled up: source and proxy show at one size), in even numbers
    (4:2:0 JPEG)."""
    scale = min(box[0] / width, box[1] / height)
    return (max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2))


def matrix_of(colorspace: int, height: int) -> str:
    """The matrix a frame is tagged with; untagged, what rproxy assumes for its size (SD:
    BT.601, HD and up: BT.709), as the encode does."""
    return _MATRIX.get(colorspace, "ITU709" if height >= 720 else "ITU601")


def grab(path: Path, at_s: float | None = None, box: tuple[int, int] = BOX) -> Thumb:
    """A picture of the frame shown `at_s` seconds after the video's start, upright and in
    its display shape (pixel aspect and rotation applied, an IMX frame's vertical interval
    cropped, as in the proxy).

    `at_s` None: near the middle, at the keyframe before it or a few frames on (a long-GOP
    camera file is not decoded for seconds); `Thumb.at_s` says which frame it took, so that
    the proxy's picture can be taken at exactly that time."""
    found = _take(path, at_s, box, seek=True)
    # A seek can land past every frame of a clip of a few frames (a transport stream whose
    # first frame comes before the stream's start time): then from the top, in a fresh
    # demuxer (seeking back to 0 misses frames in some files; see _probe).
    return found if found is not None else _required(_take(path, at_s, box, seek=False))


def _required(thumb: Thumb | None) -> Thumb:
    if thumb is None:
        raise ThumbnailError("no video frame could be decoded")
    return thumb


def _take(path: Path, at_s: float | None, box: tuple[int, int], *, seek: bool,
          ) -> Thumb | None:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except FileNotFoundError:
        raise ThumbnailError(f"no such file: {path}") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise ThumbnailError(f"not a video file ({getattr(exc, 'strerror', exc)})") from None
    with container:
        videos = [s for s in container.streams.video if s.codec_context is not None]
        if not videos:
            raise ThumbnailError("no video stream")
        video = pick_video(videos)
        ctx = video.codec_context
        # Frame threads pay off over the frames from a keyframe to the one asked for (1.4x
        # at 48 frames of 720p H.264 on 2 cores) but cost their start-up on the single
        # frame an intra-only codec decodes (6.5 -> 11.5 ms for a 1080p ProRes frame).
        video.thread_type = "SLICE" if getattr(ctx.codec, "intra_only", False) else "AUTO"
        try:
            found = _frame_at(container, video, at_s, seek)
        except av.error.FFmpegError as exc:
            raise ThumbnailError(f"video does not decode ({exc.strerror})") from None
        if found is None:
            return None
        frame, time_s = found
        # The container's pixel aspect first, else the codec's, as ffmpeg picks it for the
        # proxy's filters (av_guess_sample_aspect_ratio); it applies to the cropped picture.
        sar = video.sample_aspect_ratio or ctx.sample_aspect_ratio
        crop = coded_vbi_lines(ctx.name, frame.width, frame.height) or 0
        try:
            return _picture(frame, Fraction(sar) if sar else Fraction(1), box, time_s, crop)
        except (av.error.FFmpegError, ValueError) as exc:
            raise ThumbnailError(f"cannot scale the frame ({exc})") from None


def _frame_at(container: Any, video: Any, at_s: float | None, seek: bool,
              ) -> tuple[Any, float] | None:
    """The frame on screen `at_s` after the stream's start (the last one when the clip is
    shorter, or after `limit` frames past the keyframe), and its time after the start."""
    tb = video.time_base
    start = video.start_time or 0
    limit = _EXACT_FRAMES
    if at_s is None:
        at_s = (stream_duration(container, video) or 0.0) / 2
        limit = _NEAR_FRAMES
    target = start + round(at_s / tb) if tb else None
    if seek and target is not None and at_s > 0:
        # Backward to the keyframe before it, then decode forward. A format that cannot
        # seek decodes from the top.
        with contextlib.suppress(av.error.FFmpegError):
            container.seek(target, stream=video, backward=True)
    rate = video.average_rate or video.guessed_rate
    step = round(1 / (rate * tb)) if rate and tb else 1
    last = None
    for count, frame in enumerate(container.decode(video)):
        last = frame
        # The frame on screen at `target`: it starts at or before it and lasts past it.
        if target is None or frame.pts is None or frame.pts + (frame.duration or step) > target:
            break
        if count >= limit + (0 if seek else _EXACT_FRAMES):
            break
    if last is None:
        return None
    when = float((last.pts - start) * tb) if last.pts is not None and tb else at_s
    return last, max(0.0, when)


def _picture(frame: Any, sar: Fraction, box: tuple[int, int], at_s: float, crop: int,
             ) -> Thumb:
    rotation = 0
    with contextlib.suppress(AttributeError, TypeError, ValueError):
        rotation = round(frame.rotation) % 360
    matrix = matrix_of(int(frame.colorspace), frame.height)
    full_range = int(frame.color_range) == _JPEG
    if crop:
        frame = _filtered(frame, [("crop", f"{frame.width}:{frame.height - crop}:0:{crop}")])
    display_w = frame.width * sar
    upright = (frame.height, display_w) if rotation in (90, 270) else (display_w, frame.height)
    out_w, out_h = fit(round(upright[0]), round(upright[1]), box)
    scaled_w, scaled_h = (out_h, out_w) if rotation in (90, 270) else (out_w, out_h)
    # Straight to RGB with the source's own matrix and range (swscale converts a matrix only
    # on the way to or from RGB), then to the BT.601 full-range YCbCr that JPEG means.
    rgb = frame.reformat(scaled_w, scaled_h, "rgb24", src_colorspace=matrix,
                         src_color_range=_JPEG if full_range else _MPEG,
                         dst_color_range=_JPEG, interpolation="AREA")
    if rotation:
        rgb = _filtered(rgb, _TURN.get(rotation, [("hflip", ""), ("vflip", "")]))
    yuv = rgb.reformat(format="yuvj420p", src_colorspace="ITU601",
                       dst_colorspace="ITU601", src_color_range=_JPEG,
                       dst_color_range=_JPEG)
    return Thumb(_with_time(_jpeg(yuv), at_s), yuv.width, yuv.height, at_s)


def _filtered(frame: Any, chain: list[tuple[str, str]]) -> Any:
    """`frame` through a chain of libavfilter filters (crop, transpose, flips)."""
    graph = av.filter.Graph()
    node = graph.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                            time_base=Fraction(1, 25))
    for name, args in chain:
        step = graph.add(name, args) if args else graph.add(name)
        node.link_to(step)
        node = step
    node.link_to(graph.add("buffersink"))
    graph.configure()
    frame.pts = 0
    graph.push(frame)
    return graph.pull()


def _jpeg(frame: Any) -> bytes:
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = frame.width, frame.height
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    codec.color_range = _JPEG
    codec.qscale = True  # a fixed quantiser: a small, steady size
    codec.global_quality = JPEG_QUALITY * 118  # FF_QP2LAMBDA
    codec.qmin = codec.qmax = JPEG_QUALITY
    frame.pts = 0
    data = b"".join(bytes(p) for p in codec.encode(frame))
    return data + b"".join(bytes(p) for p in codec.encode(None))


@dataclass(frozen=True)
class ThumbCache:
    """Pictures under `folder`, keyed by the file's path, size and mtime and the time and box
    asked for: a report after a no-op re-run decodes nothing. A failure is cached too (a text
    file beside), so a damaged source is not re-read either. Writing to the cache is best
    effort: a read-only output folder still gets its report."""

    folder: Path

    def get(self, path: Path, at_s: float | None = None, box: tuple[int, int] = BOX) -> Thumb:
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ThumbnailError(f"no such file: {path}") from None
        except OSError as exc:
            raise ThumbnailError(f"cannot read {path}: {exc.strerror}") from None
        at = "mid" if at_s is None else f"{at_s:.9f}"
        key = hashlib.sha256(
            f"{THUMB_VERSION}\0{os.path.abspath(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\0"
            f"{at}\0{box[0]}x{box[1]}".encode("utf-8", "surrogateescape")).hexdigest()[:32]
        hit = self._read(key)
        if isinstance(hit, Thumb):
            return hit
        if isinstance(hit, str):
            raise ThumbnailError(hit)
        try:
            thumb = grab(path, at_s, box)
        except ThumbnailError as exc:
            self._write(f"{key}.err", str(exc).encode("utf-8", "replace"))
            raise
        self._write(f"{key}.jpg", thumb.jpeg)
        return thumb

    def _read(self, key: str) -> Thumb | str | None:
        try:
            data = (self.folder / f"{key}.jpg").read_bytes()
        except OSError:
            try:
                return (self.folder / f"{key}.err").read_text("utf-8", "replace")
            except OSError:
                return None
        return read_jpeg(data)

    def _write(self, name: str, data: bytes) -> None:
        """Temp file and rename: a reader never sees half a picture. No fsync: it is a
        cache (and a torn file is not taken, see read_jpeg)."""
        tmp = self.folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, self.folder / name)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _with_time(jpeg: bytes, at_s: float) -> bytes:
    """The JPEG with a comment segment (COM) holding `at_s`, after the JFIF header (which
    must come first) when there is one."""
    text = _COMMENT + f"{at_s:.9f}".encode()
    at = 2
    if jpeg[2:4] == b"\xff\xe0":  # APP0
        at += 2 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:at] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[at:]


def read_jpeg(data: bytes) -> Thumb | None:
    """The picture in a cached file, None when it is no complete JPEG of ours: a torn file
    (a crash between write and rename) would show as a broken image."""
    if data[:2] != b"\xff\xd8" or data[-2:] != b"\xff\xd9":
        return None
    at_s, at = None, 2
    while at + 9 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        length = int.from_bytes(data[at + 2:at + 4], "big")
        body = data[at + 4:at + 2 + length]
        if marker == 0xFE and body.startswith(_COMMENT):
            with contextlib.suppress(ValueError):
                at_s = float(body[len(_COMMENT):].decode("ascii"))
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(body[1:3], "big")
            width = int.from_bytes(body[3:5], "big")
            if not (width and height and at_s is not None):
                return None
            return Thumb(data, width, height, at_s)
        at += 2 + length
    return None
