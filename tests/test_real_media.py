"""Real camera / editor / muxer files (../shared/media, read-only): their proxies keep the
frames as FFmpeg and editors present them, the start timecode, the audio channels and the
fields, with the picture upright, in its own shape, and cropped where the format carries
lines that are not picture; MediaInfo, an inspector independent of FFmpeg and PyAV, agrees."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from rproxy._records import ClipStatus
from tests.conftest import SHARED_MEDIA, run_one
from tests.test_verify import fake_ffmpeg

pytestmark = pytest.mark.skipif(not SHARED_MEDIA.is_dir(),
                                reason=f"shared sample media not found at {SHARED_MEDIA}")


@dataclass(frozen=True)
class Sample:
    name: str
    size: str  # a proxy size of the sample's display shape
    frames: int  # as FFmpeg presents them (and MediaInfo counts them)
    timecode: str | None
    channels: list[int]
    interlaced: str | None = None  # field order when interlaced
    mxf: bool = True  # passthrough timing fits MXF


SAMPLES = [
    Sample("otio_frame_debugger_1h.mov", "320x180", 120, "01:00:00:00", [2]),
    Sample("bmx_d10_sample.mxf", "320x240", 2, "23:58:30:00", [4], interlaced="tff"),
    Sample("ffmpeg_normalize_test.mp4", "320x180", 300, None, [2, 6]),  # 4:3 pixels: 16:9
    Sample("photoprism_mp42-hvc1.mp4", "176x320", 31, None, [2], mxf=False),  # variable rate
    Sample("format_corpus_animation_rgb.mov", "320x240", 25, None, []),
    Sample("format_corpus_xdcam_ex_1080i50.mov", "320x180", 25, None, [], interlaced="tff"),
    Sample("format_corpus_imx_525_60.mov", "320x240", 25, None, [], interlaced="bff"),
    # 80 packets, 8 of them hidden VP9 frames: 72 frames shown.
    Sample("androidx_vp9_10bit_hidden_frames.webm", "320x180", 72, None, []),
    # Its one MP3 stream holds no audio (0 channels): left out.
    Sample("hachoir_ts_empty_audio.ts", "320x180", 2, None, [], interlaced="tff"),
    # 64 samples of which the edit list shows 63, at exactly 30 fps.
    Sample("androidx_sef_slow_motion_editlist.mp4", "320x240", 63, None, [2]),
]
FORMATS = [("prores_proxy", "mov"), ("h264", "mp4"), ("dnxhr", "mxf")]
CASES = [(s, c, k) for s in SAMPLES for c, k in FORMATS]


@pytest.mark.parametrize(("sample", "codec", "container"), CASES,
                         ids=[f"{s.name.split('.')[0]}-{c}-{k}" for s, c, k in CASES])
def test_real_media_proxy(tmp_path: Path, sample: Sample, codec: str, container: str) -> None:
    source = SHARED_MEDIA / sample.name
    record = run_one(source, tmp_path / "out", codec, container, sample.size)
    if container == "mxf" and not sample.mxf:
        assert record.status is ClipStatus.FAILED
        assert record.failure_reason is not None
        assert "MXF needs a standard constant frame rate" in record.failure_reason
        assert record.exit_code is None  # refused before ffmpeg ran
        assert not Path(record.output_path).exists()
        return
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None
    checks = {name: check.found for name, check in record.verification.checks.items()}
    assert all(c.ok for c in record.verification.checks.values()), checks
    assert checks["size"] == sample.size
    assert checks["frame_count"] == sample.frames
    expected_tc = sample.timecode or ("00:00:00:00" if container == "mxf" else None)
    assert checks["timecode"] == expected_tc
    assert checks["audio_streams"] == len(sample.channels)
    if sample.channels:
        assert checks["audio_channels"] == sample.channels
    assert checks["rotation"] == 0
    assert isinstance(checks["colour_container"], dict)
    assert "unknown" not in checks["colour_container"].values()
    interlace = record.verification.interlace or ""
    if sample.interlaced and codec == "dnxhr":
        assert checks["scan"] == "progressive"
        assert "deinterlaced" in interlace
    elif sample.interlaced:
        assert checks["scan"] == "interlaced"
        assert checks["field_order"] == sample.interlaced
    else:
        assert checks["scan"] == "progressive"


def test_imx_525_is_cropped_to_its_picture(tmp_path: Path) -> None:
    """FFmpeg 9 would give 704x506 (the clean aperture, computed against the 486-line sample
    entry); rproxy takes the clean aperture's columns and the picture's lines from the coded
    720x512 frame: 704x482 from line 27, bottom field first as the file states."""
    record = run_one(SHARED_MEDIA / "format_corpus_imx_525_60.mov", tmp_path / "out",
                     "prores_proxy", "mov", "640x480")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None
    notes = " | ".join(record.verification.notes)
    assert "the decoder gives 720x512, the QuickTime clean aperture is 704x506" in notes
    assert "704x482 from line 27 of 720x512" in notes
    assert record.verification.checks["crop_first_row"].found == 27
    argv = record.ffmpeg_command or []
    assert argv[argv.index("-apply_cropping") + 1] == "codec"
    assert argv[argv.index("-vf") + 1].startswith("crop=iw-16:ih-30:8:27:exact=1,")


def test_d10_keeps_24_bit_audio_and_drops_vbi(tmp_path: Path) -> None:
    record = run_one(SHARED_MEDIA / "bmx_d10_sample.mxf", tmp_path / "out", "prores_proxy",
                     "mov", resolution="768x576")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None and record.verification.output is not None
    assert [a.codec for a in record.verification.output.audio] == ["pcm_s24le"]
    assert any("vertical interval" in note and "720x576 from line 32" in note
               for note in record.verification.notes)
    assert "crop=iw-0:ih-32:0:32:exact=1" in " ".join(record.ffmpeg_command or [])


def test_xdcam_clean_aperture_keeps_the_fields_in_order(tmp_path: Path) -> None:
    """Its clean aperture takes 9 lines off the top, which would put the second field on
    top while the proxy says top field first: the crop starts on line 8 instead."""
    record = run_one(SHARED_MEDIA / "format_corpus_xdcam_ex_1080i50.mov", tmp_path / "out",
                     "h264", "mp4", "1280x720")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    argv = record.ffmpeg_command or []
    assert argv[argv.index("-vf") + 1].startswith("crop=iw-32:ih-16:16:8:exact=1,")
    assert record.verification is not None
    assert record.verification.checks["field_order"].found == "tff"


def test_edit_list_source_is_exactly_30_fps_and_fits_mxf(tmp_path: Path) -> None:
    record = run_one(SHARED_MEDIA / "androidx_sef_slow_motion_editlist.mp4", tmp_path / "out",
                     "dnxhr", "mxf", "320x240")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.probe is not None and record.probe.rate == "30"
    assert record.verification is not None
    assert record.verification.checks["frame_rate"].found == "30"


def test_audio_that_holds_nothing_is_left_out_and_failures_tell_why(
        ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = SHARED_MEDIA / "hachoir_ts_empty_audio.ts"
    record = run_one(source, tmp_path / "ok", "h264", "mp4", "320x180")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    argv = record.ffmpeg_command or []
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-map"] == ["0:0"]
    assert record.verification is not None
    assert any("holds no audio (0 channels)" in note for note in record.verification.notes)
    # A stand-in that maps every audio stream, as rproxy used to: the reason is FFmpeg's
    # error, not x264's statistics.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("RPROXY_FFMPEG", str(fake_ffmpeg(bin_dir, ffmpeg, ["-map", "0:a"])))
    failed = run_one(source, tmp_path / "bad", "h264", "mp4", "320x180")
    assert failed.status is ClipStatus.FAILED and failed.exit_code != 0
    assert failed.failure_reason is not None
    assert "Nothing was written into output file" in failed.failure_reason
    assert "kb/s" not in failed.failure_reason and "frame I:" not in failed.failure_reason


def test_phone_clip_stays_portrait_and_fits_mxf_with_cfr(tmp_path: Path) -> None:
    source = SHARED_MEDIA / "photoprism_mp42-hvc1.mp4"
    refused = run_one(source, tmp_path / "landscape", "h264", "mov", "320x180")
    assert refused.status is ClipStatus.FAILED and refused.exit_code is None
    assert refused.failure_reason is not None
    assert "use 176x320 for portrait clips like this" in refused.failure_reason
    record = run_one(source, tmp_path / "mov", "h264", "mov", "176x320")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None
    assert "duration_s" in record.verification.checks  # variable rate: timing by duration
    assert "frame_rate" not in record.verification.checks
    cfr = run_one(source, tmp_path / "mxf", "dnxhr", "mxf", "256x468", fps_mode="cfr",
                  fps="30")  # DNxHR: at least 256 wide
    assert cfr.status is ClipStatus.COMPLETED, cfr.failure_reason
    assert cfr.verification is not None
    assert cfr.verification.checks["frame_rate"].found == "30"
    assert cfr.verification.checks["audio_sample_rate"].found == [48000]
    assert "audio resampled to 48 kHz for MXF" in cfr.verification.notes


def test_mediainfo_agrees(tmp_path: Path) -> None:
    """MediaInfo reads frame count, start timecode, FourCC, scan, colour and channels
    itself."""
    mediainfo = pytest.importorskip("pymediainfo")
    d10 = SHARED_MEDIA / "bmx_d10_sample.mxf"
    otio = SHARED_MEDIA / "otio_frame_debugger_1h.mov"
    vp9 = SHARED_MEDIA / "androidx_vp9_10bit_hidden_frames.webm"
    sef = SHARED_MEDIA / "androidx_sef_slow_motion_editlist.mp4"
    cases = [
        (d10, "320x240", "prores_proxy", "mov", "apco", 2, "23:58:30:00", [4], "Interlaced"),
        (d10, "320x240", "h264", "mp4", "avc1", 2, "23:58:30:00", [4], None),
        (otio, "320x180", "h265", "mp4", "hvc1", 120, "01:00:00:00", [2], "Progressive"),
        (otio, "320x180", "dnxhr", "mxf", None, 120, "01:00:00:00", [2], "Progressive"),
        (vp9, "320x180", "prores_proxy", "mov", "apco", 72, None, [], "Progressive"),
        (sef, "320x240", "h264", "mp4", "avc1", 63, None, [2], None),
    ]
    for source, size, codec, container, fourcc, frames, timecode, channels, scan in cases:
        record = run_one(source, tmp_path / f"{source.stem}_{codec}_{container}", codec,
                         container, size)
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        info = mediainfo.MediaInfo.parse(record.output_path)
        video = info.video_tracks[0]
        assert int(video.frame_count) == frames
        assert f"{video.width}x{video.height}" == size
        assert video.color_primaries is not None  # every proxy states its colour
        if fourcc:
            assert video.codec_id == fourcc
        if scan:
            assert video.scan_type == scan
        if scan == "Interlaced":
            assert video.scan_order == "TFF"
        timecodes = {t.time_code_of_first_frame for t in info.tracks
                     if t.time_code_of_first_frame}
        assert timecodes == ({timecode} if timecode else set())
        assert [int(a.channel_s) for a in info.audio_tracks] == channels
