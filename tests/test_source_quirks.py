"""Sources that are not what they seem at first glance: a still before the real video, an edit
list that hides samples or ends inside a frame, audio shorter than the picture, a file cut
short, a frame lost from a program stream, a timecode track with its own frame base. Each
proxy must still have exactly the frames, and the start timecode, an editor sees; a source
that cannot give them is refused before anything is encoded, with the reason."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from rproxy._records import ClipStatus
from tests.conftest import make_clip, run_one
from tests.media import ffmpeg_run


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def test_a_still_muxed_before_the_real_video_is_not_taken_for_it(ffmpeg: str,
                                                                  tmp_path: Path) -> None:
    base = make_clip(ffmpeg, tmp_path / "base.mov", seconds=1, rate="25", audio_tracks=1)
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "color=red:s=200x200", "-frames:v", "1",
               str(tmp_path / "still.png"))
    source = tmp_path / "stillfirst.mov"
    ffmpeg_run(ffmpeg, "-i", str(tmp_path / "still.png"), "-i", str(base), "-map", "0",
               "-map", "1:v", "-map", "1:a", "-c", "copy", "-c:v:0", "mjpeg",
               "-disposition:v:0", "0", "-disposition:v:1", "default", str(source))
    record = run_one(source, tmp_path / "out", "prores_proxy", "mov")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None
    assert record.verification.checks["frame_count"].found == 25
    assert decoded_frames(Path(record.output_path)) == 25
    assert record.ffmpeg_command is not None and "0:1" in record.ffmpeg_command


def test_an_edit_list_is_counted_as_ffmpeg_presents_the_source(ffmpeg: str,
                                                                tmp_path: Path) -> None:
    long = make_clip(ffmpeg, tmp_path / "long.mp4", seconds=2, rate="25", audio_tracks=1,
                     vcodec=("libx264", "-g", "25"), acodec="aac")
    source = tmp_path / "trimmed.mp4"  # a stream-copied trim: the edit list hides samples
    ffmpeg_run(ffmpeg, "-ss", "0.3", "-i", str(long), "-t", "0.6", "-c", "copy", str(source))
    with av.open(str(source)) as container:
        assert container.streams.video[0].frames > decoded_frames(source)  # the quirk is real
    for codec, container_name in (("prores_proxy", "mov"), ("h264", "mp4")):
        record = run_one(source, tmp_path / codec, codec, container_name)
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        assert decoded_frames(Path(record.output_path)) == decoded_frames(source)


def test_mxf_keeps_every_frame_when_the_audio_is_shorter(ffmpeg: str, tmp_path: Path) -> None:
    source = tmp_path / "shortaudio.mov"
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=1", "-f", "lavfi",
               "-i", "sine=d=0.6:r=48000", "-c:v", "prores_ks", "-c:a", "pcm_s16le",
               "-timecode", "09:00:00:00", str(source))
    record = run_one(source, tmp_path / "out", "dnxhr", "mxf", "320x180")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None
    assert record.verification.checks["frame_count"].found == 25
    assert decoded_frames(Path(record.output_path)) == 25


# -- truncated ----------------------------------------------------------------------------

def _cut(path: Path, keep: float | int) -> Path:
    data = path.read_bytes()
    out = path.with_name("cut_" + path.name)
    out.write_bytes(data[:keep if isinstance(keep, int) else int(len(data) * keep)])
    return out


@pytest.fixture(scope="module")
def whole(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """6-second clips (150 frames) in the containers that have a header to lie."""
    folder = tmp_path_factory.mktemp("whole")
    made = {}
    for name, vcodec, extra in (
            ("dnxhr.mxf", ("dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"), ()),
            ("faststart.mp4", ("libx264", "-preset", "ultrafast"), ("-movflags", "+faststart")),
            ("camera.mov", ("prores_ks", "-profile:v", "0"), ()),
            ("camera.mkv", ("libx264", "-preset", "ultrafast", "-g", "25"), ())):
        made[name] = make_clip(ffmpeg, folder / name, size="256x144", rate="25", seconds=6,
                               audio_tracks=1, vcodec=vcodec, timecode=None, extra=extra)
    dv = folder / "tape.dv"
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=720x576:r=25", "-frames:v", "2",
               "-pix_fmt", "yuv420p", "-c:v", "dvvideo", "-f", "dv", str(dv))
    made["tape.dv"] = dv
    return made


@pytest.mark.parametrize(("name", "keep", "why"), [
    ("dnxhr.mxf", 0.5, "its header puts the footer at byte"),
    ("faststart.mp4", 0.5, "its index lists 150 frames, the file holds the bytes of"),
    ("camera.mov", 0.5, "its 'mdat' atom needs"),
    ("camera.mkv", 0.5, "its header says 6.00 s, 150 frames, its last frame ends at"),
    ("tape.dv", 100_000, "less than one frame"),  # a DV frame is 144,000 bytes
], ids=["mxf", "mp4", "mov", "mkv", "dv-short-of-one-frame"])
def test_a_truncated_source_is_refused(whole: dict[str, Path], tmp_path: Path, name: str,
                                       keep: float | int, why: str) -> None:
    source = _cut(whole[name], keep)
    for codec, container in (("prores_proxy", "mov"), ("h264", "mp4"), ("dnxhr", "mxf")):
        record = run_one(source, tmp_path / codec, codec, container, "256x144")
        assert record.status is ClipStatus.FAILED, (name, codec)
        assert record.failure_reason is not None
        assert record.failure_reason.startswith("source is truncated: "), record.failure_reason
        assert why in record.failure_reason
        assert record.exit_code is None  # refused before ffmpeg ran
        assert not Path(record.output_path).exists()


def test_bytes_after_a_whole_recording_are_not_truncation(whole: dict[str, Path],
                                                          tmp_path: Path) -> None:
    """A copy tool's padding or junk after a complete mov: every frame is there, FFmpeg and
    MediaInfo read it all, so the proxy is made."""
    source = tmp_path / "padded.mov"
    source.write_bytes(whole["camera.mov"].read_bytes() + bytes(range(256)) * 40)
    record = run_one(source, tmp_path / "out", "prores_proxy", "mov", "256x144")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason


# -- a frame lost from a program stream ---------------------------------------------------

def test_a_lost_frame_is_filled_the_same_way_in_every_container(ffmpeg: str,
                                                                 tmp_path: Path) -> None:
    """An MPEG program stream whose 13th frame was lost: 36 frames over 37 frames' time. In
    every container the proxy has 37 frames, the gap filled with the frame before, so every
    later frame keeps its time and timecode (never shifted); the record says so."""
    source = tmp_path / "damaged.mpg"
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1.48",
               "-vf", "select='not(eq(n\\,12))'", "-fps_mode", "passthrough",
               "-c:v", "mpeg2video", "-g", "12", "-f", "vob", str(source))
    assert decoded_frames(source) == 36  # the quirk is real
    for codec, container in (("prores_proxy", "mov"), ("h264", "mp4"), ("dnxhr", "mxf")):
        record = run_one(source, tmp_path / container, codec, container, "320x240")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        assert decoded_frames(Path(record.output_path)) == 37
        assert record.verification is not None
        assert record.verification.checks["frame_count"].found == 37
        assert record.verification.checks["frame_rate"].found == "25"
        assert any("1 frame(s) missing from the source's stream were filled" in note
                   for note in record.verification.notes)
        times = frame_times(Path(record.output_path))
        assert times[13] == pytest.approx(13 * 0.04)  # the 14th source frame, on time


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.time or 0) for f in container.decode(video=0)]


# -- timecode track with its own frame base; an edit list ending inside a frame -----------

def _quicktime_quirks(ffmpeg: str, folder: Path) -> Path:
    """A 29.97 fps mov like a GoPro's: its timecode track counts 29 frames per timecode
    second (MediaInfo and QuickTime read 20:48:39:15, FFmpeg 20:07:02:06), and, like an
    iPhone's, its edit list shows 80.25 of its 81 frames."""
    plain = folder / "plain.mov"
    make_clip(ffmpeg, plain, rate="30000/1001", seconds=2.7027, audio_tracks=0,
              timecode="20:07:02:06", extra=("-frames:v", "81"))
    data = bytearray(plain.read_bytes())
    shown = round(80.25 * 1001)  # movie timescale 30000: 80.25 frames
    edit = data.find(b"elst")
    data[edit + 12:edit + 16] = shown.to_bytes(4, "big")
    header = data.find(b"tkhd")
    data[header + 24:header + 28] = shown.to_bytes(4, "big")
    movie = data.find(b"mvhd")
    data[movie + 20:movie + 24] = shown.to_bytes(4, "big")
    at = 0
    while (at := data.find(b"stsd", at + 1)) >= 0:
        if data[at + 16:at + 20] == b"tmcd":
            data[at + 12 + 32] = 29  # the sample entry's frames-per-second byte
            break
    quirky = folder / "quirky.mov"
    quirky.write_bytes(bytes(data))
    return quirky


def test_timecode_and_frames_as_mediainfo_reads_them(ffmpeg: str, tmp_path: Path) -> None:
    mediainfo = pytest.importorskip("pymediainfo")
    source = _quicktime_quirks(ffmpeg, tmp_path)
    info = mediainfo.MediaInfo.parse(str(source))
    assert int(info.video_tracks[0].frame_count) == 80
    assert {t.time_code_of_first_frame for t in info.tracks
            if t.time_code_of_first_frame} == {"20:48:39:15"}
    assert decoded_frames(source) == 81  # what FFmpeg alone would make of it
    for codec, container in (("prores_proxy", "mov"), ("h264", "mp4"), ("dnxhr", "mxf"),
                             ("vp9", "mkv")):
        record = run_one(source, tmp_path / container, codec, container, "320x180")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        proxy = mediainfo.MediaInfo.parse(record.output_path)
        assert int(proxy.video_tracks[0].frame_count) == 80, codec
        assert {t.time_code_of_first_frame for t in proxy.tracks
                if t.time_code_of_first_frame} == {"20:48:39:15"}, codec
        assert record.verification is not None
        assert record.verification.checks["timecode"].found == "20:48:39:15"
        notes = " | ".join(record.verification.notes)
        assert "counts 29 frames per timecode second" in notes
        assert "the proxy has the 80 whole frames" in notes
