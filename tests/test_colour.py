"""Colour into every codec: each proxy states primaries, transfer, matrix and range in its
container and its bitstream (as far as each carries them) and they agree; a tagged source
keeps its colour (BT.709 SD, HLG, PQ); an untagged one is what it is (SD: BT.601 of its
line standard); RGB is converted with the matrix the proxy states; full range ends up
limited, levels and tag agreeing; and codes a codec or muxer cannot carry become the same
numbers under a code it can (the table in _formats, checked against FFmpeg here)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from rproxy._colour import Colour
from rproxy._probe import bitstream_colour, probe
from rproxy._records import ClipStatus
from tests.conftest import run_one
from tests.media import coloured, ffmpeg_run, tags

ALL = ("primaries", "transfer", "matrix", "range")
# One container per codec, every container used: (codec, container, fields the container
# states, fields the bitstream states).
TARGETS = [
    ("prores_proxy", "mov", ("primaries", "transfer", "matrix"),
     ("primaries", "transfer", "matrix")),
    ("h264", "mp4", ALL, ALL),
    ("h265", "mkv", ALL, ALL),
    ("dnxhd", "mov", ("primaries", "transfer", "matrix"), ()),
    ("dnxhr", "mxf", ALL, ()),
    ("vp9", "webm", ALL, ("matrix", "range")),
    ("av1", "mp4", ALL, ALL),
]
BT709 = Colour(primaries="bt709", transfer="bt709", matrix="bt709", range="tv")
NTSC = Colour(primaries="smpte170m", transfer="smpte170m", matrix="smpte170m", range="tv")
PAL_RGB = Colour(primaries="bt709", transfer="bt709", matrix="bt470bg", range="tv")


def _legal(colour: Colour, codec: str, container: str) -> Colour:
    """The same numbers under the codes this codec and container can write (what rproxy
    must state): ProRes has no BT.470BG matrix nor SMPTE 170M transfer, FFmpeg's MXF muxer
    no SMPTE 170M matrix nor transfer."""
    codes = colour.model_dump()
    if (codec.startswith("prores") or container == "mxf") and codes["transfer"] == "smpte170m":
        codes["transfer"] = "bt709"
    if codec.startswith("prores") and codes["matrix"] == "bt470bg":
        codes["matrix"] = "smpte170m"
    if container == "mxf" and codes["matrix"] == "smpte170m":
        codes["matrix"] = "bt470bg"
    return Colour(**codes)


@pytest.fixture(scope="module")
def sources(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("colour")
    rgb = folder / "rgb.mov"  # QuickTime Animation: RGB pixels, no colour stated
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "smptehdbars=s=320x240:r=25", "-frames:v", "3",
               "-vf", "format=argb", "-c:v", "qtrle", str(rgb))
    full = folder / "full.mp4"  # full-range levels, stated
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "smptehdbars=s=320x180:r=25", "-frames:v", "3",
               "-vf", "scale=out_range=pc:out_color_matrix=bt709,format=yuv420p,"
               + tags("bt709", "bt709", "bt709", "pc"), "-c:v", "libx264", str(full))
    hdr = ("prores_ks", "-profile:v", "3")
    return {
        "rgb": rgb,
        "sd-709": coloured(ffmpeg, folder / "sd709.mov", size="640x480", rate="30000/1001",
                           colour=tags("bt709", "bt709", "bt709")),
        "sd-untagged": coloured(ffmpeg, folder / "sd.mov", size="640x480",
                                rate="30000/1001"),
        "full-range": full,
        "hlg": coloured(ffmpeg, folder / "hlg.mov", size="320x180", vcodec=hdr,
                        colour=tags("bt2020", "arib-std-b67", "bt2020nc")),
        "pq": coloured(ffmpeg, folder / "pq.mov", size="320x180", vcodec=hdr,
                       colour=tags("bt2020", "smpte2084", "bt2020nc")),
    }


EXPECTED = {
    "rgb": PAL_RGB,  # SD proxy at 25 fps: BT.601 625-line matrix; RGB video: BT.709 curve
    "sd-709": BT709,  # stated: kept, although SD
    "sd-untagged": NTSC,
    "full-range": BT709,
    "hlg": Colour(primaries="bt2020", transfer="arib-std-b67", matrix="bt2020nc", range="tv"),
    "pq": Colour(primaries="bt2020", transfer="smpte2084", matrix="bt2020nc", range="tv"),
}
FOUR_THREE = {"rgb", "sd-709", "sd-untagged"}  # DNxHD has 16:9 sizes only
CASES = [(name, *target) for name in EXPECTED for target in TARGETS
         if not (name in FOUR_THREE and target[0] == "dnxhd")]


@pytest.mark.parametrize(("name", "codec", "container", "in_container", "in_bitstream"),
                         CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_every_proxy_states_its_colour(sources: dict[str, Path], tmp_path: Path, name: str,
                                       codec: str, container: str,
                                       in_container: tuple[str, ...],
                                       in_bitstream: tuple[str, ...]) -> None:
    source = sources[name]
    size = "320x240" if name in FOUR_THREE else "1280x720" if codec == "dnxhd" else "320x180"
    record = run_one(source, tmp_path / "out", codec, container, size)
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    want = _legal(EXPECTED[name], codec, container)
    output = Path(record.output_path)
    found = probe(output, what="output")
    assert found.container_colour.only(in_container) == want.only(in_container)
    stream = bitstream_colour(output, found.video_index)
    assert stream.only(in_bitstream) == want.only(in_bitstream)
    assert record.verification is not None
    assert record.verification.checks["picture_psnr_db"].ok  # converted as it is stated
    if name == "full-range":
        assert any("full-range source converted to limited range" in n
                   for n in record.verification.notes)
        assert _dark_luma(output) >= 14  # limited levels, as the tag says


def _dark_luma(path: Path) -> int:
    """The stored luma code (8 bits, no conversion) that 1 % of the first frame's pixels are
    darker than: black where the picture is black, whatever a codec's ringing does at an
    edge. Full-range black is 0, limited-range black 16."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    plane = frame.planes[0]
    data = bytes(plane)
    wide = frame.format.name.endswith("10le")  # two bytes a sample, 10 bits
    row = frame.width * (2 if wide else 1)
    values: list[int] = []
    for y in range(frame.height):  # rows only: the padding after each is not picture
        line = data[y * plane.line_size:y * plane.line_size + row]
        if wide:
            values += [int.from_bytes(line[i:i + 2], "little") >> 2 for i in range(0, row, 2)]
        else:
            values += list(line)
    values.sort()
    return values[len(values) // 100]


def test_mediainfo_sees_container_and_stream_agree(sources: dict[str, Path],
                                                   tmp_path: Path) -> None:
    """MediaInfo, which reads the container and the bitstream itself, reports one value per
    field (an '_original' when they disagree, as in the phone-clip ProRes defect)."""
    mediainfo = pytest.importorskip("pymediainfo")
    for codec, container in (("prores_proxy", "mov"), ("h264", "mp4"), ("dnxhr", "mxf")):
        record = run_one(sources["sd-untagged"], tmp_path / codec, codec, container, "320x240")
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        video = mediainfo.MediaInfo.parse(record.output_path).video_tracks[0].to_data()
        assert video["color_primaries"] == "BT.601 NTSC", codec
        assert video["matrix_coefficients"] in ("BT.601", "BT.470 System B/G"), codec
        disagree = {k: v for k, v in video.items() if k.endswith("_original") and (
            "colo" in k or "matrix" in k or "transfer" in k)}
        assert not disagree, (codec, disagree)


# -- the code tables, against FFmpeg 9 ----------------------------------------------------

def _written(ffmpeg: str, path: Path, codec: list[str], colour: str) -> tuple[Colour, Colour]:
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=256x128:r=25", "-frames:v", "1",
               "-vf", colour, *codec, str(path))
    info = probe(path, what="output")
    return info.container_colour, bitstream_colour(path, info.video_index)


def test_prores_writes_only_the_codes_in_its_table(ffmpeg: str, tmp_path: Path) -> None:
    prores = ["-c:v", "prores_aw", "-profile:v", "0"]
    _, legal = _written(ffmpeg, tmp_path / "a.mov", prores,
                        tags("bt470bg", "arib-std-b67", "smpte170m"))
    assert (legal.primaries, legal.transfer, legal.matrix) == ("bt470bg", "arib-std-b67",
                                                                "smpte170m")
    _, frame = _written(ffmpeg, tmp_path / "b.mov", prores,
                        tags("smpte240m", "smpte170m", "bt470bg"))
    # Outside its lists prores_aw's frame header says 0 ("reserved", "Identity").
    assert (frame.primaries, frame.transfer, frame.matrix) == ("unknown", "unknown", "gbr")


def test_mxf_writes_only_the_codes_in_its_table(ffmpeg: str, tmp_path: Path) -> None:
    dnxhr = ["-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p"]
    container, _ = _written(ffmpeg, tmp_path / "a.mxf", dnxhr,
                            tags("smpte170m", "smpte170m", "smpte170m"))
    assert (container.transfer, container.matrix) == ("bt709", "bt470bg")
