"""The source rules without FFmpeg: what a probed source means for a proxy format (problems,
warnings, the facts the command is built from), the display shape and the size suggested
for it, the colour codes each codec and container can carry, and the stderr reader."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from rproxy._argv import ProxyFormat, Scan, build_argv
from rproxy._colour import Colour
from rproxy._formats import Codec, Container
from rproxy._media import AudioInfo, Crop, MediaInfo
from rproxy._rules import (
    assess,
    colour_plan,
    display_size,
    picture_crop,
    scan_plan,
    suggest_resolution,
)
from rproxy._stderr import ffmpeg_error_lines


def media(**fields: Any) -> MediaInfo:
    """A probed 1920x1080 25 fps progressive BT.709 clip with a stereo track, unless told."""
    base: dict[str, Any] = {
        "format_name": "mov,mp4,m4a,3gp,3g2,mj2", "video_codec": "h264", "pix_fmt": "yuv420p",
        "coded_width": 1920, "coded_height": 1080, "width": 1920, "height": 1080,
        "rate": "25", "frame_count": 50, "frame_count_source": "index", "duration_s": 2.0,
        "colour": Colour(primaries="bt709", transfer="bt709", matrix="bt709", range="tv"),
        "audio": [AudioInfo(index=1, codec="pcm_s24le", channels=2, sample_rate=48000,
                            layout="stereo", bits=24)],
    }
    base.update(fields)
    return MediaInfo(**base)


def fmt(codec: Codec = Codec.PRORES_PROXY, container: Container = Container.MOV,
        size: tuple[int, int] = (1280, 720), rate: Fraction | None = None) -> ProxyFormat:
    return ProxyFormat(codec, container, size[0], size[1], rate)


# -- shape --------------------------------------------------------------------------------

def test_a_different_shape_is_a_problem_with_a_size_that_fits() -> None:
    portrait = media(coded_width=1080, coded_height=1920, width=1080, height=1920)
    problems = assess(fmt(), portrait).problems
    assert len(problems) == 1
    assert "1080x1920" in problems[0] and "9:16" in problems[0]
    assert "use 720x1280 for portrait clips like this, in a spec of their own" in problems[0]
    # A landscape phone clip turned by its display matrix is portrait too.
    turned = media(rotation=90)
    assert display_size(turned) == (1080, 1920)
    assert "720x1280" in assess(fmt(), turned).problems[0]


def test_rounding_to_even_sizes_is_the_same_shape() -> None:
    assert assess(fmt(size=(320, 180)), media(coded_width=426, width=426,
                                              coded_height=240, height=240)).problems == []
    anamorphic = media(coded_width=720, width=720, coded_height=576, height=576,
                       sample_aspect_ratio="64/45")  # 16:9 PAL
    assert display_size(anamorphic) == (1024, 576)
    assert assess(fmt(size=(1024, 576)), anamorphic).problems == []
    four_three = media(coded_width=720, width=720, coded_height=576, height=576,
                       sample_aspect_ratio="16/15")
    assert suggest_resolution(four_three, (1280, 720), fmt()) == (960, 720)


def test_a_request_that_already_fits_the_shape_is_kept() -> None:
    """XDCAM EX after its clean aperture is 1888x1064 (1.774): 1280x720 fits within rounding,
    so `init` and the pre-flight keep it rather than suggest 1278x720."""
    xdcam = media(width=1888, height=1064)
    assert suggest_resolution(xdcam, (1280, 720), fmt()) == (1280, 720)
    assert assess(fmt(), xdcam).problems == []


def test_dnxhd_has_only_sixteen_by_nine_sizes() -> None:
    four_three = media(coded_width=1440, width=1440, sample_aspect_ratio="1")
    problem = assess(fmt(Codec.DNXHD, Container.MXF, (1920, 1080)), four_three).problems[0]
    assert "use 1440x1080 for clips like this with dnxhr" in problem


def test_imx_vertical_interval_is_cropped_from_the_coded_frame() -> None:
    """525 lines in QuickTime: the decoder gives 720x512, FFmpeg's clean aperture (computed
    against the 720x486 sample entry) would take 3 lines; the picture starts at coded line 27
    (bottom field first as the file states, the coded frame being top first)."""
    imx = media(video_codec="mpeg2video", pix_fmt="yuv422p", coded_width=720,
                coded_height=512, width=704, height=506,
                container_crop=Crop(top=3, bottom=3, left=8, right=8),
                sample_aspect_ratio="10/11", display_aspect_ratio="4/3", interlaced=True,
                field_order="bff", coded_field_order="tff", rate="25")
    crop, notes = picture_crop(imx)
    assert crop == (27, 3, 8, 8)  # 704x482
    assert any("704x482 from line 27 of 720x512" in n for n in notes)
    assert any("clean aperture is 704x506" in n for n in notes)
    assert display_size(imx) == (643, 482)  # 4:3
    facts = assess(fmt(size=(640, 480)), imx).facts
    assert facts.container_crop_off and facts.crop == (27, 3, 8, 8)
    argv = build_argv("ffmpeg", "/a.mov", "/b.mov", fmt(size=(640, 480)), facts)
    assert argv[argv.index("-apply_cropping") + 1] == "codec"
    assert argv.index("-apply_cropping") < argv.index("-i")
    assert "crop=iw-16:ih-30:8:27:exact=1" in argv[argv.index("-vf") + 1]
    d10 = media(video_codec="mpeg2video", pix_fmt="yuv422p", coded_width=720,
                coded_height=608, width=720, height=608, sample_aspect_ratio="152/135",
                display_aspect_ratio="4/3", interlaced=True, field_order="tff",
                coded_field_order="tff")
    assert picture_crop(d10)[0] == (32, 0, 0, 0)
    assert display_size(d10) == (768, 576)


def test_an_odd_clean_aperture_keeps_the_field_order() -> None:
    """XDCAM EX: clean aperture 1888x1062 of 1920x1080, 9 lines off the top would put the
    second field on top; 4:2:0 chroma stays with its field in steps of 4 lines."""
    xdcam = media(video_codec="mpeg2video", width=1888, height=1062,
                  container_crop=Crop(top=9, bottom=9, left=16, right=16), interlaced=True,
                  field_order="tff", coded_field_order="tff")
    (top, bottom, left, right), _ = picture_crop(xdcam)
    assert top % 4 == 0 and (1080 - top - bottom) % 4 == 0
    assert (top, left, right) == (8, 16, 16)
    width, height = display_size(xdcam)
    assert abs(width / height / (16 / 9) - 1) < 0.01


# -- timing and formats --------------------------------------------------------------------

def test_mxf_and_dnxhd_rates_are_problems() -> None:
    variable = media(rate="900/31", variable_rate=True)
    assert "MXF needs a standard constant frame rate" in assess(
        fmt(Codec.DNXHR, Container.MXF), variable).problems[0]
    assert assess(fmt(Codec.DNXHR, Container.MXF, rate=Fraction(30)), variable).problems == []
    odd = media(rate="12")
    assert "DNxHD at 1920x1080 has no bitrate for 12 fps" in assess(
        fmt(Codec.DNXHD, Container.MOV, (1920, 1080)), odd).problems[0]


def test_truncated_source_is_a_problem() -> None:
    cut = media(truncated="its index lists 150 frames, the file holds the bytes of 73")
    assert assess(fmt(), cut).problems == [
        "source is truncated: its index lists 150 frames, the file holds the bytes of 73"]


def test_only_streams_with_audio_are_mapped() -> None:
    ts = media(format_name="mpegts", frame_count_source="timestamps",
               skipped_audio=["audio stream 1 (mp3float) holds no audio (0 channels)"],
               audio=[AudioInfo(index=2, codec="ac3", channels=6, sample_rate=48000)])
    result = assess(fmt(), ts)
    assert result.warnings[-1].startswith("audio stream 1 (mp3float) holds no audio")
    argv = build_argv("ffmpeg", "/a.ts", "/b.mov", fmt(), result.facts)
    maps = [argv[i + 1] for i, a in enumerate(argv) if a == "-map"]
    assert maps == ["0:0", "0:2"]
    # A timestamped stream is made constant at its own rate: a lost frame is filled.
    assert argv[argv.index("-fps_mode") + 1] == "cfr" and argv[argv.index("-r") + 1] == "25/1"


def test_an_edit_list_ending_inside_a_frame_is_cut_to_whole_frames() -> None:
    clip = media(frame_count=80, ffmpeg_frame_count=81, rate="30000/1001")
    result = assess(fmt(), clip)
    assert result.facts.frames == 80
    argv = build_argv("ffmpeg", "/a.mov", "/b.mov", fmt(), result.facts)
    assert argv[argv.index("-frames:v") + 1] == "80"
    assert any("80 whole frames" in w for w in result.said)


def test_timecode_as_mediainfo_reads_it() -> None:
    gopro = media(rate="30000/1001", timecode="20:48:39:15", ffmpeg_timecode="20:07:02:06",
                  timecode_base=29)
    result = assess(fmt(), gopro)
    assert result.facts.timecode == "20:48:39:15"
    assert any("counts 29 frames per timecode second" in w for w in result.said)


# -- scan ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("codec", "size", "order", "scan"), [
    (Codec.PRORES_HQ, (1280, 720), "bff", Scan.INTERLACED),
    (Codec.H264, (1280, 720), "bff", Scan.INTERLACED),
    (Codec.H265, (1280, 720), "tff", Scan.INTERLACED),
    (Codec.DNXHD, (1920, 1080), "tff", Scan.INTERLACED),
    (Codec.DNXHD, (1920, 1080), "bff", Scan.DEINTERLACE),
    (Codec.DNXHD, (1280, 720), "tff", Scan.DEINTERLACE),
    (Codec.DNXHR, (1280, 720), "tff", Scan.DEINTERLACE),
    (Codec.VP9, (1280, 720), "tff", Scan.DEINTERLACE),
    (Codec.AV1, (1280, 720), "bff", Scan.DEINTERLACE),
    (Codec.H264, (1280, 722), "tff", Scan.DEINTERLACE),  # 4:2:0 fields need height % 4
])
def test_interlace_is_kept_where_the_codec_carries_it(codec: Codec, size: tuple[int, int],
                                                       order: str, scan: Scan) -> None:
    source = media(interlaced=True, field_order=order)
    assert scan_plan(fmt(codec, Container.MOV, size), source)[0] is scan


def test_interlace_flags_per_encoder() -> None:
    source = media(interlaced=True, field_order="bff")
    h264 = build_argv("ffmpeg", "/a", "/b", fmt(Codec.H264, Container.MP4),
                      assess(fmt(Codec.H264, Container.MP4), source).facts)
    assert h264[h264.index("-x264-params") + 1] == "bff=1" and "+ildct+ilme" in h264
    chain = h264[h264.index("-vf") + 1]
    assert ":interl=1" in chain and "field_mode=bff" in chain
    h265 = build_argv("ffmpeg", "/a", "/b", fmt(Codec.H265, Container.MP4),
                      assess(fmt(Codec.H265, Container.MP4), source).facts)
    assert h265[h265.index("-x265-params") + 1] == "log-level=error:interlace=bff"
    assert h265.count("-x265-params") == 1
    vp9 = build_argv("ffmpeg", "/a", "/b", fmt(Codec.VP9, Container.WEBM),
                     assess(fmt(Codec.VP9, Container.WEBM), source).facts)
    chain = vp9[vp9.index("-vf") + 1]
    assert "bwdif=mode=send_frame:parity=bff:deint=all" in chain
    assert "field_mode=prog" in chain and "interl" not in chain and "-flags" not in vp9


# -- colour -------------------------------------------------------------------------------

def _plan(codec: Codec, container: Container, **fields: Any) -> tuple[Colour, list[str]]:
    plan, notes = colour_plan(fmt(codec, container), media(**fields))
    return Colour(primaries=plan.primaries, transfer=plan.transfer, matrix=plan.matrix,
                  range="tv"), notes


def test_untagged_sources_are_what_they_are() -> None:
    none = Colour()
    hd, notes = _plan(Codec.H264, Container.MP4, colour=none)
    assert hd == Colour(primaries="bt709", transfer="bt709", matrix="bt709", range="tv")
    assert "HD (BT.709)" in notes[0]
    ntsc, _ = _plan(Codec.H264, Container.MP4, colour=none, coded_width=720, width=720,
                    coded_height=480, height=480, rate="30000/1001")
    assert ntsc == Colour(primaries="smpte170m", transfer="smpte170m", matrix="smpte170m",
                          range="tv")
    pal, _ = _plan(Codec.H264, Container.MP4, colour=none, coded_width=720, width=720,
                   coded_height=576, height=576)
    assert (pal.primaries, pal.matrix) == ("bt470bg", "bt470bg")


def test_prores_gets_the_codes_it_can_carry() -> None:
    """prores_aw writes 0 for codes outside its lists: a phone clip tagged BT.470BG /
    SMPTE 170M became a proxy whose frame header says matrix "Identity"."""
    phone = Colour(primaries="bt470bg", transfer="smpte170m", matrix="bt470bg", range="tv")
    colour, notes = _plan(Codec.PRORES_PROXY, Container.MOV, colour=phone,
                          coded_width=720, width=720, coded_height=576, height=576)
    assert colour == Colour(primaries="bt470bg", transfer="bt709", matrix="smpte170m",
                            range="tv")
    assert any("matrix bt470bg written as smpte170m (the same numbers; ProRes" in n
               for n in notes)
    assert any("transfer smpte170m written as bt709" in n for n in notes)


def test_hdr_and_bt2020_are_kept() -> None:
    for transfer in ("smpte2084", "arib-std-b67"):
        tagged = Colour(primaries="bt2020", transfer=transfer, matrix="bt2020nc", range="tv")
        for codec, container in ((Codec.PRORES_HQ, Container.MOV), (Codec.H265, Container.MP4),
                                 (Codec.DNXHR, Container.MXF), (Codec.VP9, Container.WEBM)):
            colour, notes = _plan(codec, container, colour=tagged, pix_fmt="yuv420p10le")
            assert colour == tagged and notes == []


def test_rgb_is_converted_with_the_matrix_the_proxy_states() -> None:
    plan, notes = colour_plan(fmt(Codec.H264, Container.MP4),
                              media(pix_fmt="argb", rgb=True, colour=Colour()))
    assert (plan.matrix, plan.in_matrix) == ("bt709", "auto")
    assert any("RGB source converted to YUV with the bt709 matrix" in n for n in notes)
    chain = build_argv("ffmpeg", "/a", "/b", fmt(Codec.H264, Container.MP4),
                       assess(fmt(Codec.H264, Container.MP4),
                              media(pix_fmt="argb", rgb=True)).facts)
    vf = chain[chain.index("-vf") + 1]
    assert "out_color_matrix=bt709" in vf and "in_color_matrix" not in vf
    assert "colorspace=bt709" in vf and "range=tv" in vf


def test_full_range_is_converted_to_limited() -> None:
    full = Colour(primaries="bt709", transfer="bt709", matrix="bt709", range="pc")
    plan, notes = colour_plan(fmt(), media(pix_fmt="yuvj420p", colour=full))
    assert plan.in_range == "pc"
    assert any("full-range source converted to limited range" in n for n in notes)


def test_a_matrix_no_code_can_carry_is_converted() -> None:
    old = Colour(primaries="smpte240m", transfer="smpte240m", matrix="smpte240m", range="tv")
    plan, notes = colour_plan(fmt(), media(colour=old))
    assert (plan.primaries, plan.matrix, plan.in_matrix) == ("smpte170m", "bt709",
                                                             "smpte240m")
    assert any("matrix smpte240m converted to bt709" in n for n in notes)


def test_mxf_states_only_the_codes_it_has_uls_for() -> None:
    ntsc = Colour(primaries="smpte170m", transfer="smpte170m", matrix="smpte170m", range="tv")
    colour, _ = _plan(Codec.DNXHR, Container.MXF, colour=ntsc)
    assert colour == Colour(primaries="smpte170m", transfer="bt709", matrix="bt470bg",
                            range="tv")


# -- ffmpeg's reasons ---------------------------------------------------------------------

def test_error_lines_not_statistics() -> None:
    levelled = "\n".join([
        "[libx264 @ 0x55] [info] profile High, level 3.1, 4:2:0, 8-bit",
        "[aost#0:1/aac @ 0x55] [error] Task finished with error code: -22 (Invalid argument)",
        "[out#0/mp4 @ 0x56] [error] Nothing was written into output file, because at least "
        "one of its streams received no packets.",
        "[info] frame=    0 fps=0.0 q=31.0 Lsize=       0KiB time=00:00:00.04",
        "[libx264 @ 0x55] [info] kb/s:956.80",
        "[info] Conversion failed!",
    ])
    assert ffmpeg_error_lines(levelled) == (
        "[out#0/mp4] Nothing was written into output file, because at least one of its "
        "streams received no packets.")
    plain = "[libx264 @ 0x1] frame I:1 Avg QP:21.89\n[libx264 @ 0x1] kb/s:90.90\n" \
            "Error while encoding: something broke\nConversion failed!\n"
    assert ffmpeg_error_lines(plain) == "Error while encoding: something broke"
