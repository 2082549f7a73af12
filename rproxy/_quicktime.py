"""What a QuickTime / MP4 file's atoms say where FFmpeg and editors read them differently.

- The clean aperture ('clap'): FFmpeg 9 crops the decoded picture by it, computed against the
  sample entry's size (an IMX 525 entry says 720x486 while the decoder gives 720x512), and the
  number of lines it takes off the top decides which field is on top afterwards.
- The timecode track ('tmcd'): its frame counter is read by QuickTime and MediaInfo with the
  track's own frames-per-second byte, by FFmpeg with the rounded rate; a GoPro writes 29 at
  29.97 fps and the two readings differ by hours.
- Completeness: an 'mdat' or 'moov' that claims more bytes than the file has, or no 'moov'.

Only headers are read (the 'moov' atom and the 4 bytes of the first timecode sample)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}
_MAX_MOOV = 256 * 1024 * 1024  # a moov this large is not a camera file's; do not read it


@dataclass(frozen=True)
class Crop:
    """Lines and columns taken off the decoded picture."""

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0


@dataclass
class Track:
    handler: str = ""
    entry: str = ""  # sample entry FourCC
    entry_size: tuple[int, int] | None = None  # width, height the sample entry states
    clap: tuple[Fraction, Fraction, Fraction, Fraction] | None = None  # w, h, h-off, v-off
    edits: int = 0
    tmcd: tuple[int, int, int, int] | None = None  # flags, timescale, frame duration, fps
    first_chunk: int | None = None  # file offset of the first chunk
    start_frame: int | None = None  # tmcd: the counter in the first sample


@dataclass
class QuickTime:
    tracks: list[Track] = field(default_factory=list)
    truncated: str | None = None  # why the file is not complete, in words

    def track(self, index: int) -> Track | None:
        return self.tracks[index] if 0 <= index < len(self.tracks) else None

    def clean_aperture_crop(self, index: int) -> Crop:
        """The crop FFmpeg 9 applies to track `index` (its QuickTime clean aperture)."""
        track = self.track(index)
        if track is None or track.clap is None or track.entry_size is None:
            return Crop()
        width, height = track.entry_size
        cw, ch, ho, vo = track.clap
        if cw <= 0 or ch <= 0 or cw > width or ch > height:
            return Crop()
        left = int((width - cw) / 2 + ho)
        top = int((height - ch) / 2 + vo)
        right = width - left - int(cw)
        bottom = height - top - int(ch)
        if min(left, top, right, bottom) < 0:
            return Crop()
        return Crop(top=top, bottom=bottom, left=left, right=right)


def _box(handle: BinaryIO, pos: int, end: int) -> tuple[bytes, int, int] | None:
    """(type, header length, size) of the box at `pos`; size 0 runs to `end`."""
    handle.seek(pos)
    head = handle.read(16)
    if len(head) < 8:
        return None
    size, kind = struct.unpack(">I4s", head[:8])
    header = 8
    if size == 1:
        if len(head) < 16:
            return None
        size = struct.unpack(">Q", head[8:16])[0]
        header = 16
    elif size == 0:
        size = end - pos
    if size < header:
        return None
    return kind, header, size


def read_quicktime(path: Path) -> QuickTime:
    """The atoms that matter, from a file the mov demuxer reads (mov, mp4, m4v, 3gp)."""
    info = QuickTime()
    end = os.path.getsize(path)
    with open(path, "rb") as handle:
        pos, moov, mdat = 0, None, False
        while pos + 8 <= end:
            box = _box(handle, pos, end)
            if box is None:
                break
            kind, header, size = box
            if pos + size > end:
                # Bytes after a whole 'moov' and 'mdat' (a copy tool's padding, junk) are
                # not the recording: FFmpeg and MediaInfo read every frame. A cut-off
                # 'moov' or 'mdat', or one missing, is truncation.
                if kind in (b"moov", b"mdat") or moov is None or not mdat:
                    info.truncated = (f"its '{kind.decode('latin-1')}' atom needs "
                                      f"{pos + size:,} bytes, the file has {end:,}")
                break
            mdat = mdat or kind == b"mdat"
            if kind == b"moov" and size <= _MAX_MOOV:
                handle.seek(pos + header)
                moov = handle.read(size - header)
            pos += size
        if moov is None:
            if info.truncated is None:
                info.truncated = "it has no 'moov' atom (the recording was not finished)"
            return info
        _walk(moov, 0, len(moov), info, None)
        for track in info.tracks:
            if track.tmcd is not None and track.first_chunk is not None:
                handle.seek(track.first_chunk)
                data = handle.read(4)
                if len(data) == 4:
                    track.start_frame = struct.unpack(">I", data)[0]
    return info


def _walk(data: bytes, pos: int, end: int, info: QuickTime, track: Track | None) -> None:
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= end:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        body = pos + header
        if kind == b"trak":
            track = Track()
            info.tracks.append(track)
        if kind in _CONTAINERS:
            _walk(data, body, pos + size, info, track)
        elif track is not None:
            _leaf(kind, data, body, pos + size, track)
        pos += size


def _leaf(kind: bytes, data: bytes, body: int, end: int, track: Track) -> None:
    if kind == b"hdlr" and body + 12 <= end and not track.handler:  # mdia's, not minf's
        track.handler = data[body + 8:body + 12].decode("latin-1")
    elif kind == b"elst" and body + 8 <= end:
        track.edits = struct.unpack_from(">I", data, body + 4)[0]
    elif kind == b"stsd" and body + 16 <= end:
        _sample_entry(data, body + 8, end, track)
    elif kind in (b"stco", b"co64") and track.first_chunk is None:
        wide = kind == b"co64"
        if body + (16 if wide else 12) <= end and struct.unpack_from(">I", data, body + 4)[0]:
            track.first_chunk = struct.unpack_from(">Q" if wide else ">I", data, body + 8)[0]


def _sample_entry(data: bytes, pos: int, end: int, track: Track) -> None:
    size, kind = struct.unpack_from(">I4s", data, pos)
    entry_end = min(end, pos + size)
    track.entry = kind.decode("latin-1")
    if kind == b"tmcd" and pos + 34 <= entry_end:
        # reserved(6) data reference(2) reserved(4) flags(4) timescale(4) duration(4) fps(1)
        flags, timescale, duration = struct.unpack_from(">III", data, pos + 20)
        track.tmcd = (flags, timescale, duration, data[pos + 32])
        return
    if track.handler != "vide" or pos + 86 > entry_end:
        return
    width, height = struct.unpack_from(">HH", data, pos + 32)
    track.entry_size = (width, height)
    child = pos + 86  # after the 78-byte visual sample entry
    while child + 8 <= entry_end:
        csize, ckind = struct.unpack_from(">I4s", data, child)
        if csize < 8 or child + csize > entry_end:
            break
        if ckind == b"clap" and csize >= 40:
            nums = struct.unpack_from(">IIIIiIiI", data, child + 8)
            if all(nums[i] for i in (1, 3, 5, 7)):
                track.clap = (Fraction(nums[0], nums[1]), Fraction(nums[2], nums[3]),
                              Fraction(nums[4], nums[5]), Fraction(nums[6], nums[7]))
        child += csize


def timecode_of(track: Track | None) -> tuple[str, int] | None:
    """(start timecode as QuickTime and MediaInfo read it, the frame base they use)."""
    if track is None or track.tmcd is None or track.start_frame is None:
        return None
    flags, _timescale, _duration, fps = track.tmcd
    if fps <= 0:
        return None
    return frames_to_timecode(track.start_frame, fps, bool(flags & 1)), fps


def frames_to_timecode(count: int, base: int, drop: bool) -> str:
    """A frame counter as HH:MM:SS:FF (HH:MM:SS;FF when drop-frame) at `base` frames a second."""
    if drop and base in (30, 60):
        skipped = base // 15  # labels dropped at the start of each minute but every tenth
        per_ten = base * 600 - 9 * skipped
        per_minute = base * 60 - skipped
        tens, rest = divmod(count, per_ten)
        count += 9 * skipped * tens
        if rest > skipped:
            count += skipped * ((rest - skipped) // per_minute)
    frames = count % base
    seconds = count // base
    sep = ";" if drop else ":"
    return (f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            f"{sep}{frames:02d}")
