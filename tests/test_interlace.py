"""Interlaced sources into every codec: fields are never mixed. ProRes, H.264, H.265 and
DNxHD (1080i, top field first) keep them, with the source's field order; DNxHR, VP9 and AV1
get one deinterlaced frame per source frame (same count and rate), tagged progressive, and
the record says so. The sources move, so mixed fields would show (tests/test_verify.py
proves the check fails a proxy whose fields were mixed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rproxy._formats import FORMATS, Codec
from rproxy._records import ClipStatus
from tests.conftest import run_one
from tests.media import interlaced, tags

FRAMES = 3
KEEPS = {Codec.PRORES_PROXY, Codec.PRORES_4444, Codec.H264, Codec.H265, Codec.DNXHD}
ONE_PER_CODEC = [
    (Codec.PRORES_PROXY, "mov"), (Codec.PRORES_4444, "mov"), (Codec.H264, "mp4"),
    (Codec.H264, "mkv"), (Codec.H265, "mp4"), (Codec.DNXHD, "mxf"), (Codec.DNXHR, "mxf"),
    (Codec.VP9, "webm"), (Codec.AV1, "mkv"),
]


@pytest.fixture(scope="module")
def sources(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("interlaced")
    return {
        "1080i-tff": interlaced(ffmpeg, folder / "tff.mov", size="1920x1080", order="tff",
                                frames=FRAMES, colour=tags("bt709", "bt709", "bt709")),
        # 576i PAL: 720x576 with 16:15 pixels is 4:3.
        "576i-bff": interlaced(ffmpeg, folder / "bff.mov", size="720x576", order="bff",
                               sar="16/15", frames=FRAMES),
    }


CASES = [(name, codec, container) for name in ("1080i-tff", "576i-bff")
         for codec, container in ONE_PER_CODEC
         if not (name == "576i-bff" and codec is Codec.DNXHD)]  # DNxHD: 16:9 sizes only


@pytest.mark.parametrize(("name", "codec", "container"), CASES,
                         ids=[f"{n}-{c.value}-{k}" for n, c, k in CASES])
def test_fields_are_never_mixed(sources: dict[str, Path], tmp_path: Path, name: str,
                                codec: Codec, container: str) -> None:
    order = name.rsplit("-", 1)[1]
    size = "1920x1080" if codec is Codec.DNXHD else (
        "320x180" if name.startswith("1080") else "320x240")
    record = run_one(sources[name], tmp_path / "out", codec.value, container, size)
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    verification = record.verification
    assert verification is not None
    checks = verification.checks
    assert checks["frame_count"].found == FRAMES
    assert checks["frame_rate"].found == "25"
    fields = checks["fields"]
    assert fields.ok and isinstance(fields.found, dict), fields  # measured, not skipped
    keeps = codec in KEEPS
    assert checks["scan"].found == ("interlaced" if keeps else "progressive")
    if keeps:
        assert verification.interlace is not None
        assert "kept interlaced, same field order" in verification.interlace
        if FORMATS[codec].field_order_readable:
            assert checks["field_order"].found == order
        assert set(fields.found) == {"top", "bottom"}
    else:
        assert set(fields.found) == {"frame"}
        assert verification.interlace is not None
        assert "deinterlaced (bwdif, one frame per frame, same count and rate)" in (
            verification.interlace)
        assert any("deinterlaced" in note for note in verification.notes)
        assert record.ffmpeg_command is not None
        assert any(a.startswith("bwdif=mode=send_frame") or ",bwdif=" in a
                   for a in record.ffmpeg_command)


def test_mediainfo_reads_the_field_order(sources: dict[str, Path], tmp_path: Path) -> None:
    mediainfo = pytest.importorskip("pymediainfo")
    for codec, container, scan, order in (("prores_proxy", "mov", "Interlaced", "BFF"),
                                          ("h264", "mp4", "Interlaced", "BFF"),
                                          ("h265", "mkv", "Interlaced", "BFF"),
                                          ("av1", "mp4", "Progressive", None)):
        record = run_one(sources["576i-bff"], tmp_path / codec, codec, container, "320x240")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        video = mediainfo.MediaInfo.parse(record.output_path).video_tracks[0]
        # x264 codes interlaced pictures as MBAFF: MediaInfo names that.
        assert video.scan_type in ((scan, "MBAFF") if order else (scan,)), codec
        if order:
            assert video.scan_order == order, codec


def test_a_field_order_no_container_states_is_read_from_the_frames(ffmpeg: str,
                                                                    tmp_path: Path) -> None:
    """Raw DV states no field order; its frames are bottom field first (as every 525 and 625
    DV). The proxy keeps that order, and fields are not mixed."""
    from tests.media import ffmpeg_run

    source = tmp_path / "tape.dv"
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=720x480:r=60000/1001,scroll=h=0.005",
               "-frames:v", str(FRAMES), "-vf", "tinterlace=interleave_bottom,setfield=bff",
               "-r", "30000/1001", "-pix_fmt", "yuv411p", "-c:v", "dvvideo", "-f", "dv",
               str(source))
    for codec, container in (("prores_proxy", "mov"), ("vp9", "webm")):
        record = run_one(source, tmp_path / codec, codec, container, "640x480")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        assert record.probe is not None and record.probe.field_order == "bff"
        assert record.verification is not None
        assert record.verification.checks["fields"].ok
        if codec == "prores_proxy":
            assert record.verification.checks["field_order"].found == "bff"
