"""Every codec-container pair through the real engine, on one generated 4-audio-track
23.976 fps source with timecode 01:00:00:00; plus cfr, silent and rotated sources, and the
pure argv decisions behind them (interlace: tests/test_interlace.py, colour:
tests/test_colour.py)."""

from __future__ import annotations

import itertools
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from rproxy._argv import (
    ProxyFormat,
    SourceFacts,
    audio_args,
    build_argv,
    output_timecode,
)
from rproxy._formats import FORMATS, Codec, Container
from rproxy._records import ClipStatus
from tests.conftest import make_clip, run_one

PAIRS = [(codec, container) for codec, info in FORMATS.items() for container in info.containers]
FOURCC = {
    Codec.PRORES_PROXY: "apco", Codec.PRORES_LT: "apcs", Codec.PRORES_STANDARD: "apcn",
    Codec.PRORES_HQ: "apch", Codec.PRORES_4444: "ap4h",
}
SOURCE_FRAMES = 12  # 0.5 s at 23.976


@pytest.fixture(scope="session")
def four_track_source(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """0.5 s 23.976 fps, timecode 01:00:00:00, four stereo audio streams."""
    folder = tmp_path_factory.mktemp("formats_src")
    return make_clip(ffmpeg, folder / "A001.mov", size="320x180", seconds=0.5,
                     audio_tracks=4, channels=2)


def gray_rows(path: Path) -> list[bytes]:
    """The first frame of `path` as rows of 8-bit luma (no numpy needed)."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).reformat(format="gray")
    plane = frame.planes[0]
    data = bytes(plane)
    return [data[y * plane.line_size: y * plane.line_size + frame.width]
            for y in range(frame.height)]


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize(("codec", "container"), PAIRS,
                         ids=[f"{c.value}-{k.value}" for c, k in PAIRS])
def test_every_pair_is_verified(four_track_source: Path, tmp_path: Path, codec: Codec,
                                container: Container) -> None:
    size = "1280x720" if codec is Codec.DNXHD else "320x180"
    record = run_one(four_track_source, tmp_path / "out", codec.value, container.value, size)
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None and record.verification.ok is True
    checks = {name: check.found for name, check in record.verification.checks.items()}
    assert all(c.ok for c in record.verification.checks.values()), checks
    info = FORMATS[codec]
    assert checks["video_codec"] == info.decoded_name
    assert checks["size"] == size
    assert checks["frame_count"] == SOURCE_FRAMES
    assert checks["frame_rate"] == "24000/1001"
    assert checks["timecode"] == "01:00:00:00"
    assert checks["audio_streams"] == 4
    assert checks["audio_channels"] == [2, 2, 2, 2]
    assert checks["rotation"] == 0
    assert checks["scan"] == "progressive"
    # The source states no colour: 180 lines at 23.976 are SD 525-line, BT.601.
    assert isinstance(checks["colour_container"], dict)
    assert checks["colour_container"]["primaries"] == "smpte170m"
    if codec in FOURCC:
        assert checks["fourcc"] == FOURCC[codec]
    if codec is Codec.PRORES_4444:
        assert checks["chroma"] == "4:4:4"
    if codec in (Codec.H265, Codec.HEVC) and container in (Container.MOV, Container.MP4):
        assert checks["fourcc"] == "hvc1"
    if codec is Codec.DNXHR:
        assert checks["profile"] == "DNXHR LB"
    if codec is Codec.DNXHD:
        assert checks["profile"] == "DNXHD"
        assert "-b:v" in record.ffmpeg_command and "60M" in record.ffmpeg_command  # type: ignore[operator]
    output = Path(record.output_path)
    assert output.is_file() and output.suffix == f".{container.value}"
    # Independent of the verifier's shortcuts (header counts, packet counts): decode it all.
    assert decoded_frames(output) == SOURCE_FRAMES
    assert record.verification.output is not None
    audio_codecs = {a.codec for a in record.verification.output.audio}
    expected_audio = {Container.MP4: {"aac"}, Container.WEBM: {"opus"}}.get(
        container, {"pcm_s16le"})
    assert audio_codecs == expected_audio


def test_silent_source_gets_no_audio(ffmpeg: str, tmp_path: Path) -> None:
    source = make_clip(ffmpeg, tmp_path / "silent.mov", audio_tracks=0, seconds=0.3)
    for codec, container in (("h264", "mp4"), ("vp9", "webm"), ("dnxhr", "mxf")):
        record = run_one(source, tmp_path / f"out_{container}", codec, container, "320x180")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        assert record.verification is not None
        assert record.verification.checks["audio_streams"].found == 0
        with av.open(record.output_path) as out:
            assert len(out.streams.audio) == 0


@pytest.mark.parametrize(("codec", "container"), [("h264", "mp4"), ("vp9", "mkv"),
                                                  ("dnxhr", "mxf")])
def test_cfr_is_constant_at_fps(four_track_source: Path, tmp_path: Path, codec: str,
                                container: str) -> None:
    record = run_one(four_track_source, tmp_path / "out", codec, container, "320x180",
                     fps_mode="cfr", fps="25")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification is not None
    checks = record.verification.checks
    assert checks["frame_rate"].found == "25"
    expected = round(SOURCE_FRAMES * Fraction(1001, 24000) * 25)
    found = checks["frame_count"].found
    assert isinstance(found, int) and abs(found - expected) <= 1
    assert abs(decoded_frames(Path(record.output_path)) - expected) <= 1
    assert checks["timecode"].found == "01:00:00:00"
    with av.open(record.output_path) as out:
        stream = out.streams.video[0]
        times = [frame.time for frame in out.decode(stream)]
    steps = {round(b - a, 4) for a, b in itertools.pairwise(times)}
    assert steps == {0.04}  # constant: every frame 1/25 s after the last


def test_rotated_source_is_upright(ffmpeg: str, tmp_path: Path) -> None:
    """A landscape recording flagged to display rotated 90° is portrait content: its proxy is
    portrait, upright in its pixels (the picture check compares it with the source turned as
    its display matrix says), with no rotation left for players to apply. A landscape
    resolution for it is refused before anything is encoded, with the size to use."""
    plain = make_clip(ffmpeg, tmp_path / "plain.mov", audio_tracks=1, seconds=0.3)
    rotated = tmp_path / "rotated.mov"

    subprocess.run([ffmpeg, "-v", "error", "-display_rotation:v:0", "90", "-i", str(plain),
                    "-map", "0", "-c", "copy", str(rotated)], check=True)
    record = run_one(rotated, tmp_path / "out", "h264", "mp4", "180x320")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.probe is not None and record.probe.rotation in (90, 270)
    assert record.verification is not None
    checks = record.verification.checks
    assert checks["rotation"].found == 0
    assert checks["size"].found == "180x320"
    assert checks["picture_psnr_db"].ok
    assert any("rotation" in note for note in record.verification.notes)
    refused = run_one(rotated, tmp_path / "landscape", "h264", "mp4", "320x180")
    assert refused.status is ClipStatus.FAILED and refused.exit_code is None
    assert refused.failure_reason is not None
    assert "use 180x320 for portrait clips like this" in refused.failure_reason


# -- the pure decisions behind the commands ----------------------------------------------

def _fmt(codec: Codec, container: Container, size: tuple[int, int] = (1920, 1080),
         rate: Fraction | None = None) -> ProxyFormat:
    return ProxyFormat(codec, container, size[0], size[1], rate)


def test_argv_audio_per_stream() -> None:
    facts = SourceFacts(audio_layouts=("4.0", "5.1", "stereo"), audio_bits=(24, 16, 16))
    webm = audio_args(_fmt(Codec.VP9, Container.WEBM), facts)
    assert webm[:2] == ["-c:a", "libopus"]
    assert "-mapping_family:a:0" in webm and "-mapping_family:a:1" not in webm
    mxf = audio_args(_fmt(Codec.DNXHR, Container.MXF), facts)
    assert mxf[mxf.index("-c:a:0") + 1] == "pcm_s24le" and "-c:a:1" not in mxf
    assert mxf[mxf.index("-ar") + 1] == "48000"
    mp4 = audio_args(_fmt(Codec.H264, Container.MP4), facts)
    assert mp4[:2] == ["-c:a", "aac"] and "-c:a:0" not in mp4


def test_argv_paths_crop_and_timecode() -> None:
    facts = SourceFacts(crop=(32, 0, 0, 0), timecode="23:58:30:00", rate=Fraction(25))
    argv = build_argv("ffmpeg", Path("/m/-i.mxf"), Path("/o/x.mov"),
                      _fmt(Codec.PRORES_PROXY, Container.MOV, (640, 360)), facts)
    assert argv[argv.index("-i") + 1] == "file:/m/-i.mxf"
    assert argv[-1] == "file:/o/x.mov"
    assert argv[argv.index("-vf") + 1].startswith("crop=iw-0:ih-32:0:32:exact=1,scale=640:360")
    assert argv[argv.index("-timecode") + 1] == "23:58:30:00"
    assert "-apply_cropping" not in argv and "pad=" not in argv[argv.index("-vf") + 1]


def test_output_timecode_retimes_only_for_a_new_timebase() -> None:
    ntsc = Fraction(30000, 1001)
    assert output_timecode("01:00:00:00", Fraction(24000, 1001), None) == "01:00:00:00"
    assert output_timecode("01:00:00:12", Fraction(24000, 1001), Fraction(24)) == "01:00:00:12"
    assert output_timecode("01:00:00:12", Fraction(25), Fraction(50)) == "01:00:00:24"
    assert output_timecode("01:00:00:24", Fraction(25), Fraction(24)) == "01:00:00:23"
    assert output_timecode("01:00:00;15", ntsc, Fraction(25)) == "01:00:00:12"
    assert output_timecode("01:01:00:00", Fraction(25), ntsc) == "01:01:00:00"
    assert output_timecode(None, Fraction(25), Fraction(30)) is None
