"""Every codec-container pair through the real engine, on one generated 4-audio-track
23.976 fps source with timecode 01:00:00:00; plus cfr, silent, rotated and interlaced sources,
and the pure argv decisions behind them."""

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
    encoder_args,
    output_timecode,
    video_filter,
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
    checks = record.verification["checks"]
    assert record.verification["ok"] is True
    assert all(c["ok"] for c in checks.values()), checks
    info = FORMATS[codec]
    assert checks["video_codec"]["found"] == info.decoded_name
    assert checks["size"]["found"] == size
    assert checks["frame_count"]["found"] == SOURCE_FRAMES
    assert checks["frame_rate"]["found"] == "24000/1001"
    assert checks["timecode"]["found"] == "01:00:00:00"
    assert checks["audio_streams"]["found"] == 4
    assert checks["audio_channels"]["found"] == [2, 2, 2, 2]
    assert checks["rotation"]["found"] == 0
    if codec in FOURCC:
        assert checks["fourcc"]["found"] == FOURCC[codec]
    if codec is Codec.PRORES_4444:
        assert checks["chroma"]["found"] == "4:4:4"
    if codec in (Codec.H265, Codec.HEVC) and container in (Container.MOV, Container.MP4):
        assert checks["fourcc"]["found"] == "hvc1"
    if codec is Codec.DNXHR:
        assert checks["profile"]["found"] == "DNXHR LB"
    if codec is Codec.DNXHD:
        assert checks["profile"]["found"] == "DNXHD"
        assert "-b:v" in record.ffmpeg_command and "60M" in record.ffmpeg_command  # type: ignore[operator]
    output = Path(record.output_path)
    assert output.is_file() and output.suffix == f".{container.value}"
    # Independent of the verifier's shortcuts (header counts, packet counts): decode it all.
    assert decoded_frames(output) == SOURCE_FRAMES
    audio_codecs = {a["codec"] for a in record.verification["output"]["audio"]}
    expected_audio = {Container.MP4: {"aac"}, Container.WEBM: {"opus"}}.get(
        container, {"pcm_s16le"})
    assert audio_codecs == expected_audio


def test_silent_source_gets_no_audio(ffmpeg: str, tmp_path: Path) -> None:
    source = make_clip(ffmpeg, tmp_path / "silent.mov", audio_tracks=0, seconds=0.3)
    for codec, container in (("h264", "mp4"), ("vp9", "webm"), ("dnxhr", "mxf")):
        record = run_one(source, tmp_path / f"out_{container}", codec, container, "320x180")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        assert record.verification["checks"]["audio_streams"]["found"] == 0
        with av.open(record.output_path) as out:
            assert len(out.streams.audio) == 0


@pytest.mark.parametrize(("codec", "container"), [("h264", "mp4"), ("vp9", "mkv"),
                                                  ("dnxhr", "mxf")])
def test_cfr_is_constant_at_fps(four_track_source: Path, tmp_path: Path, codec: str,
                                container: str) -> None:
    record = run_one(four_track_source, tmp_path / "out", codec, container, "320x180",
                     fps_mode="cfr", fps="25")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    checks = record.verification["checks"]
    assert checks["frame_rate"]["found"] == "25"
    expected = round(SOURCE_FRAMES * Fraction(1001, 24000) * 25)
    assert abs(checks["frame_count"]["found"] - expected) <= 1
    assert abs(decoded_frames(Path(record.output_path)) - expected) <= 1
    assert checks["timecode"]["found"] == "01:00:00:00"
    with av.open(record.output_path) as out:
        stream = out.streams.video[0]
        times = [frame.time for frame in out.decode(stream)]
    steps = {round(b - a, 4) for a, b in itertools.pairwise(times)}
    assert steps == {0.04}  # constant: every frame 1/25 s after the last


def test_rotated_source_is_upright(ffmpeg: str, tmp_path: Path) -> None:
    """A landscape recording flagged to display rotated 90° is portrait content: it lands
    upright (pillarboxed) in a landscape proxy, with no rotation left for players to apply."""
    plain = make_clip(ffmpeg, tmp_path / "plain.mov", audio_tracks=1, seconds=0.3)
    rotated = tmp_path / "rotated.mov"

    subprocess.run([ffmpeg, "-v", "error", "-display_rotation:v:0", "90", "-i", str(plain),
                    "-map", "0", "-c", "copy", str(rotated)], check=True)
    record = run_one(rotated, tmp_path / "out", "h264", "mp4", "320x180")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.probe["rotation"] in (90, 270)
    assert record.verification["checks"]["rotation"]["found"] == 0
    assert any("rotation" in note for note in record.verification["notes"])
    rows = gray_rows(Path(record.output_path))
    # 180 high content scaled to 180 high → about 101 wide, centred: black bars both sides.
    assert max(max(row[:40]) for row in rows) < 30
    assert max(max(row[-40:]) for row in rows) < 30
    centre = [v for row in rows for v in row[140:180]]
    assert sum(centre) / len(centre) > 40


def _interlaced_source(ffmpeg: str, path: Path, order: str) -> Path:
    mode = "interleave_top" if order == "tff" else "interleave_bottom"
    return make_clip(ffmpeg, path, size="720x576", rate="50", seconds=0.32, audio_tracks=1,
                     timecode="10:00:00:00",
                     extra=("-vf", f"tinterlace={mode},setfield={order}",
                            "-flags", "+ildct+ilme", "-r", "25"))


@pytest.mark.parametrize("order", ["tff", "bff"])
def test_interlace_kept_with_field_order(ffmpeg: str, tmp_path: Path, order: str) -> None:
    source = _interlaced_source(ffmpeg, tmp_path / f"{order}.mov", order)
    for codec, container in (("prores_proxy", "mov"), ("h264", "mp4"), ("h264", "mkv")):
        record = run_one(source, tmp_path / f"{codec}_{container}", codec, container,
                         "320x180")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        checks = record.verification["checks"]
        assert checks["scan"]["found"] == "interlaced"
        assert checks["field_order"]["found"] == order
        assert "kept interlaced" in record.verification["interlace"]
    record = run_one(source, tmp_path / "vp9", "vp9", "webm", "320x180")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification["interlace"] == (
        f"source interlaced ({'top' if order == 'tff' else 'bottom'} field first); "
        "vp9 cannot carry it; encoded as is")


def test_dnxhd_1080i_stays_interlaced(ffmpeg: str, tmp_path: Path) -> None:
    source = _interlaced_source(ffmpeg, tmp_path / "tff.mov", "tff")
    record = run_one(source, tmp_path / "out", "dnxhd", "mxf", "1920x1080")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert "120M" in (record.ffmpeg_command or [])  # the lowest interlaced 1080i50 rate
    assert record.verification["checks"]["scan"]["found"] == "interlaced"
    assert record.verification["checks"]["timecode"]["found"] == "10:00:00:00"


# -- the pure decisions behind the commands ----------------------------------------------

def _fmt(codec: Codec, container: Container, size: tuple[int, int] = (1920, 1080),
         rate: Fraction | None = None) -> ProxyFormat:
    return ProxyFormat(codec, container, size[0], size[1], rate)


def test_argv_interlace_flags() -> None:
    bff = SourceFacts(rate=Fraction(25), interlaced=True, top_field_first=False)
    tff = SourceFacts(rate=Fraction(25), interlaced=True, top_field_first=True)
    h264 = encoder_args(_fmt(Codec.H264, Container.MP4), bff)
    assert h264[h264.index("-x264-params") + 1] == "bff=1"
    assert "+ildct+ilme" in h264
    assert video_filter(_fmt(Codec.H264, Container.MP4), bff).endswith("setfield=bff")
    assert ":interl=1" in video_filter(_fmt(Codec.PRORES_HQ, Container.MOV), tff)
    assert "-flags" not in encoder_args(_fmt(Codec.VP9, Container.WEBM), tff)
    assert "setfield" not in video_filter(_fmt(Codec.VP9, Container.WEBM), tff)
    dnx = encoder_args(_fmt(Codec.DNXHD, Container.MXF), tff)
    assert dnx[dnx.index("-b:v") + 1] == "120M" and "+ildct+ilme" in dnx
    # DNxHD has no bottom-first or 720 interlaced profile: encoded as is, progressive rate.
    assert "-flags" not in encoder_args(_fmt(Codec.DNXHD, Container.MXF), bff)
    dnx720 = encoder_args(_fmt(Codec.DNXHD, Container.MOV, (1280, 720)), tff)
    assert "-flags" not in dnx720 and dnx720[dnx720.index("-b:v") + 1] == "60M"
    assert "-top" not in build_argv("ffmpeg", Path("/a.mov"), Path("/b.mov"),
                                    _fmt(Codec.PRORES_HQ, Container.MOV), tff)


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
    facts = SourceFacts(crop_top=32, timecode="23:58:30:00", rate=Fraction(25))
    argv = build_argv("ffmpeg", Path("/m/-i.mxf"), Path("/o/x.mov"),
                      _fmt(Codec.PRORES_PROXY, Container.MOV, (640, 360)), facts)
    assert argv[argv.index("-i") + 1] == "file:/m/-i.mxf"
    assert argv[-1] == "file:/o/x.mov"
    assert argv[argv.index("-vf") + 1].startswith("crop=iw:ih-32:0:32,scale=640:360:")
    assert argv[argv.index("-timecode") + 1] == "23:58:30:00"


def test_output_timecode_retimes_only_for_a_new_timebase() -> None:
    ntsc = Fraction(30000, 1001)
    assert output_timecode("01:00:00:00", Fraction(24000, 1001), None) == "01:00:00:00"
    assert output_timecode("01:00:00:12", Fraction(24000, 1001), Fraction(24)) == "01:00:00:12"
    assert output_timecode("01:00:00:12", Fraction(25), Fraction(50)) == "01:00:00:24"
    assert output_timecode("01:00:00:24", Fraction(25), Fraction(24)) == "01:00:00:23"
    assert output_timecode("01:00:00;15", ntsc, Fraction(25)) == "01:00:00:12"
    assert output_timecode("01:01:00:00", Fraction(25), ntsc) == "01:01:00:00"
    assert output_timecode(None, Fraction(25), Fraction(30)) is None
