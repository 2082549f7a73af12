"""Real camera / editor / muxer files (../shared/media, read-only): their proxies keep frames,
start timecode and audio channels, with the picture upright; MediaInfo, an inspector
independent of FFmpeg and PyAV, agrees."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from rproxy._records import ClipStatus
from tests.conftest import SHARED_MEDIA, run_one
from tests.test_formats import gray_rows

pytestmark = pytest.mark.skipif(not SHARED_MEDIA.is_dir(),
                                reason=f"shared sample media not found at {SHARED_MEDIA}")


@dataclass(frozen=True)
class Sample:
    name: str
    frames: int
    timecode: str | None
    channels: list[int]
    interlaced: str | None = None  # field order when interlaced
    mxf: bool = True  # passthrough timing fits MXF


SAMPLES = [
    Sample("otio_frame_debugger_1h.mov", 120, "01:00:00:00", [2]),
    Sample("bmx_d10_sample.mxf", 2, "23:58:30:00", [4], interlaced="tff"),
    Sample("ffmpeg_normalize_test.mp4", 300, None, [2, 6]),
    Sample("photoprism_mp42-hvc1.mp4", 31, None, [2], mxf=False),
]
FORMATS = [("prores_proxy", "mov"), ("h264", "mp4"), ("dnxhr", "mxf")]
CASES = [(s, c, k) for s in SAMPLES for c, k in FORMATS]


@pytest.mark.parametrize(("sample", "codec", "container"), CASES,
                         ids=[f"{s.name.split('.')[0]}-{c}-{k}" for s, c, k in CASES])
def test_real_media_proxy(tmp_path: Path, sample: Sample, codec: str, container: str) -> None:
    source = SHARED_MEDIA / sample.name
    record = run_one(source, tmp_path / "out", codec, container)
    if container == "mxf" and not sample.mxf:
        assert record.status is ClipStatus.FAILED
        assert record.failure_reason is not None
        assert "MXF needs a standard constant frame rate" in record.failure_reason
        assert record.exit_code is None  # refused before ffmpeg ran
        assert not Path(record.output_path).exists()
        return
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    checks = record.verification["checks"]
    assert all(c["ok"] for c in checks.values()), checks
    assert checks["size"]["found"] == "320x180"
    assert checks["frame_count"]["found"] == sample.frames
    expected_tc = sample.timecode or ("00:00:00:00" if container == "mxf" else None)
    assert checks["timecode"]["found"] == expected_tc
    assert checks["audio_channels"]["found"] == sample.channels
    assert checks["rotation"]["found"] == 0
    if sample.interlaced:
        if codec == "dnxhr":
            assert "dnxhr cannot carry it; encoded as is" in record.verification["interlace"]
        else:
            assert checks["scan"]["found"] == "interlaced"
            assert checks["field_order"]["found"] == sample.interlaced
    else:
        assert checks["scan"]["found"] == "progressive"


def test_d10_keeps_24_bit_audio_and_drops_vbi(tmp_path: Path) -> None:
    record = run_one(SHARED_MEDIA / "bmx_d10_sample.mxf", tmp_path / "out", "prores_proxy",
                     "mov", resolution="720x576")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert [a["codec"] for a in record.verification["output"]["audio"]] == ["pcm_s24le"]
    assert any("vertical-interval" in note for note in record.verification["notes"])
    assert "crop=iw:ih-32:0:32" in " ".join(record.ffmpeg_command or [])


def test_phone_clip_stays_portrait_and_fits_mxf_with_cfr(tmp_path: Path) -> None:
    source = SHARED_MEDIA / "photoprism_mp42-hvc1.mp4"
    record = run_one(source, tmp_path / "mov", "h264", "mov")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    # 464x848 portrait in a 320x180 frame: about 98 px of picture in the middle.
    rows = gray_rows(Path(record.output_path))
    assert max(max(row[:100]) for row in rows) < 30
    assert max(max(row[-100:]) for row in rows) < 30
    assert "duration_s" in record.verification["checks"]  # variable rate: timing by duration
    cfr = run_one(source, tmp_path / "mxf", "dnxhr", "mxf", fps_mode="cfr", fps="30")
    assert cfr.status is ClipStatus.COMPLETED, cfr.failure_reason
    assert cfr.verification["checks"]["frame_rate"]["found"] == "30"
    assert cfr.verification["checks"]["audio_sample_rate"]["found"] == [48000]
    assert "audio resampled to 48 kHz for MXF" in cfr.verification["notes"]


def test_mediainfo_agrees(tmp_path: Path) -> None:
    """MediaInfo reads frame count, start timecode, FourCC, scan and channels itself."""
    mediainfo = pytest.importorskip("pymediainfo")
    d10 = SHARED_MEDIA / "bmx_d10_sample.mxf"
    otio = SHARED_MEDIA / "otio_frame_debugger_1h.mov"
    cases = [
        (d10, "prores_proxy", "mov", "apco", 2, "23:58:30:00", [4], "Interlaced"),
        (d10, "h264", "mp4", "avc1", 2, "23:58:30:00", [4], None),
        (otio, "h265", "mp4", "hvc1", 120, "01:00:00:00", [2], "Progressive"),
        (otio, "dnxhr", "mxf", None, 120, "01:00:00:00", [2], "Progressive"),
    ]
    for source, codec, container, fourcc, frames, timecode, channels, scan in cases:
        record = run_one(source, tmp_path / f"{source.stem}_{codec}_{container}", codec,
                         container)
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        info = mediainfo.MediaInfo.parse(record.output_path)
        video = info.video_tracks[0]
        assert int(video.frame_count) == frames
        assert (video.width, video.height) == (320, 180)
        if fourcc:
            assert video.codec_id == fourcc
        if scan:
            assert video.scan_type == scan
        if scan == "Interlaced":
            assert video.scan_order == "TFF"
        timecodes = {t.time_code_of_first_frame for t in info.tracks
                     if t.time_code_of_first_frame}
        assert timecodes == {timecode}
        assert [int(a.channel_s) for a in info.audio_tracks] == channels
