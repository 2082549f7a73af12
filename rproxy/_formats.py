"""What rproxy knows about each codec and container: the one table the argv builder,
validation and verification all read. Fixed quality per codec is a Phase 1 decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction


class Codec(StrEnum):
    PRORES_PROXY = "prores_proxy"
    PRORES_LT = "prores_lt"
    PRORES_STANDARD = "prores_standard"
    PRORES_HQ = "prores_hq"
    PRORES_4444 = "prores_4444"
    H264 = "h264"
    H265 = "h265"
    HEVC = "hevc"
    DNXHD = "dnxhd"
    DNXHR = "dnxhr"
    VP9 = "vp9"
    AV1 = "av1"


class Container(StrEnum):
    MOV = "mov"
    MP4 = "mp4"
    MKV = "mkv"
    MXF = "mxf"
    WEBM = "webm"


class Interlace(StrEnum):
    """How an encoder is told to code the two fields of an interlaced picture."""

    ILDCT = "ildct"  # -flags +ildct+ilme, field order from the frames (ProRes)
    X264 = "x264"  # ildct plus x264's own tff=1 / bff=1 (it codes top first unless told)
    X265 = "x265"  # x265's interlace=tff|bff: field pictures, read back as interlaced frames
    DNXHD = "dnxhd"  # ildct, only the 1080i profiles (DNXHD_INTERLACED), top field first


_ALL_COLOUR = frozenset({"primaries", "transfer", "matrix", "range"})
_PRORES_CODES = {
    "primaries": frozenset({"bt709", "bt470bg", "smpte170m", "bt2020", "smpte431", "smpte432"}),
    "transfer": frozenset({"bt709", "smpte2084", "arib-std-b67"}),
    "matrix": frozenset({"bt709", "smpte170m", "bt2020nc"}),
}


@dataclass(frozen=True)
class CodecFormat:
    """How one codec is encoded and what its output must look like."""

    codec: Codec
    encoder_args: tuple[str, ...]  # after `-c:v`, including quality; never the size or rate
    pix_fmt: str
    containers: tuple[Container, ...]
    decoded_name: str  # the codec name PyAV reports for the output
    fourcc: str | None  # the sample entry that must land in mov (ProRes profile proof)
    chroma_420: bool  # needs even width and height
    # How the encoder codes interlaced pictures as such (Interlace), None: it cannot, and an
    # interlaced source is deinterlaced one frame per frame.
    interlace: Interlace | None
    profile: str | None = None  # the profile PyAV reports, when the codec has a meaningful one
    # Can PyAV read the field order back cheaply (from the bitstream or a reliable container
    # field)? ProRes, H.264, H.265: yes; DNxHD: the interlace flag only.
    field_order_readable: bool = False
    # The colour fields the codec's own bitstream states (what a decoder sees without the
    # container), and where the encoder writes only some codes, those it writes: FFmpeg's
    # prores_aw writes 0 ("reserved"/"Identity") for any other, which FFmpeg itself then
    # refuses to convert. Measured with FFmpeg 9.0.2 (tests/test_colour.py checks them).
    colour_fields: frozenset[str] = frozenset()
    colour_codes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def chroma(self) -> str:
        """'4:2:0', '4:2:2' or '4:4:4', from the pixel format the encoder gets."""
        return chroma_of(self.pix_fmt) or "?"


_MOV = (Container.MOV,)
_MODERN = (Container.MP4, Container.MOV, Container.MKV)


def _prores(codec: Codec, profile: int, fourcc: str, name: str, pix_fmt: str) -> CodecFormat:
    # prores_aw, not prores_ks: measured with FFmpeg 9.0.2 on 2 cores, 1080p ProRes HQ →
    # 960x540, it encodes ~3x faster (frame threads) at the same PSNR (35.8 vs 36.0 dB for
    # Proxy), with the same FourCC and profile (PyAV and MediaInfo read apco/apcs/apcn/apch/
    # ap4h), 4:4:4 for 4444, and interlaced coding (-flags +ildct, TFF and BFF) kept.
    return CodecFormat(
        codec=codec,
        encoder_args=("prores_aw", "-profile:v", str(profile), "-vendor", "apl0"),
        pix_fmt=pix_fmt,
        containers=_MOV,
        decoded_name="prores",
        fourcc=fourcc,
        chroma_420=False,
        interlace=Interlace.ILDCT,
        profile=name,
        field_order_readable=True,
        # ProRes has no range flag: it is always limited (video) range.
        colour_fields=frozenset({"primaries", "transfer", "matrix"}),
        colour_codes=_PRORES_CODES,
    )


FORMATS: dict[Codec, CodecFormat] = {
    Codec.PRORES_PROXY: _prores(Codec.PRORES_PROXY, 0, "apco", "Proxy", "yuv422p10le"),
    Codec.PRORES_LT: _prores(Codec.PRORES_LT, 1, "apcs", "LT", "yuv422p10le"),
    Codec.PRORES_STANDARD: _prores(Codec.PRORES_STANDARD, 2, "apcn", "Standard", "yuv422p10le"),
    Codec.PRORES_HQ: _prores(Codec.PRORES_HQ, 3, "apch", "HQ", "yuv422p10le"),
    Codec.PRORES_4444: _prores(Codec.PRORES_4444, 4, "ap4h", "4444", "yuv444p10le"),
    Codec.H264: CodecFormat(
        codec=Codec.H264,
        encoder_args=("libx264", "-preset", "veryfast", "-crf", "23"),
        pix_fmt="yuv420p",
        containers=_MODERN,
        decoded_name="h264",
        fourcc=None,
        chroma_420=True,
        interlace=Interlace.X264,
        field_order_readable=True,
        colour_fields=_ALL_COLOUR,
    ),
    Codec.H265: CodecFormat(
        codec=Codec.H265,
        encoder_args=("libx265", "-preset", "ultrafast", "-crf", "28", "-x265-params",
                      "log-level=error"),
        pix_fmt="yuv420p",
        containers=_MODERN,
        decoded_name="hevc",
        fourcc="hvc1",
        chroma_420=True,
        # FFmpeg 9's libx265 codes field pictures and its HEVC decoder gives them back as
        # interlaced frames of the same count, fields intact (measured: tests/test_interlace).
        interlace=Interlace.X265,
        field_order_readable=True,
        colour_fields=_ALL_COLOUR,
    ),
    Codec.DNXHD: CodecFormat(
        codec=Codec.DNXHD,
        encoder_args=("dnxhd",),  # the bitrate is chosen per size and rate: dnxhd_bitrate()
        pix_fmt="yuv422p",
        containers=(Container.MOV, Container.MXF),
        decoded_name="dnxhd",
        fourcc="AVdn",
        chroma_420=False,
        interlace=Interlace.DNXHD,  # only 1920x1080 at 25 and 29.97 fps, top field first
        profile="DNXHD",
        # The DNx bitstream states no colour (FFmpeg's decoder labels every frame BT.709):
        # the container's tags are the proxy's colour.
    ),
    Codec.DNXHR: CodecFormat(
        codec=Codec.DNXHR,
        encoder_args=("dnxhd", "-profile:v", "dnxhr_lb"),
        pix_fmt="yuv422p",
        containers=(Container.MOV, Container.MXF),
        decoded_name="dnxhd",
        fourcc="AVdh",
        chroma_420=False,
        interlace=None,  # FFmpeg: "Interlaced encoding is not supported for DNxHR profiles"
        profile="DNXHR LB",
    ),
    Codec.VP9: CodecFormat(
        codec=Codec.VP9,
        encoder_args=(
            "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
            "-b:v", "0", "-crf", "36",
        ),
        pix_fmt="yuv420p",
        containers=(Container.WEBM, Container.MKV),
        decoded_name="vp9",
        fourcc=None,
        chroma_420=True,
        interlace=None,
        # VP9's frame header has a colour space and a range bit; primaries and transfer live
        # in the container only. libvpx has no code for fcc.
        colour_fields=frozenset({"matrix", "range"}),
        colour_codes={"matrix": frozenset({"bt709", "bt470bg", "smpte170m", "smpte240m",
                                           "bt2020nc"})},
    ),
    Codec.AV1: CodecFormat(
        codec=Codec.AV1,
        encoder_args=("libsvtav1", "-preset", "10", "-crf", "35"),
        pix_fmt="yuv420p",
        containers=(Container.MP4, Container.MKV, Container.WEBM),
        decoded_name="av1",
        fourcc=None,
        chroma_420=True,
        interlace=None,
        colour_fields=_ALL_COLOUR,
    ),
}
# `hevc` is another name for `h265`: the same encoder, flags and checks.
FORMATS[Codec.HEVC] = replace(FORMATS[Codec.H265], codec=Codec.HEVC)

# What each container takes for audio (ffmpeg encoder and extra args). Every source audio stream
# is kept with its channel count; PCM where editors expect it (mov, mkv, mxf: 24-bit when the
# source has more than 16 bits, see PCM_24), 48 kHz where MXF demands it, AAC in mp4, Opus in
# WebM (the only codecs WebM takes besides Vorbis).
AUDIO: dict[Container, tuple[str, ...]] = {
    Container.MOV: ("pcm_s16le",),
    Container.MP4: ("aac", "-b:a", "192k"),
    Container.MKV: ("pcm_s16le",),
    Container.WEBM: ("libopus", "-b:a", "128k"),
    Container.MXF: ("pcm_s16le", "-ar", "48000"),
}
# The PCM encoder for sources whose audio has more than 16 bits (24-bit camera audio).
PCM_24 = "pcm_s24le"
# The decoded audio codec name each container's audio must have (PCM: either depth).
AUDIO_DECODED: dict[Container, frozenset[str]] = {
    Container.MOV: frozenset({"pcm_s16le", "pcm_s24le"}),
    Container.MP4: frozenset({"aac"}),
    Container.MKV: frozenset({"pcm_s16le", "pcm_s24le"}),
    Container.WEBM: frozenset({"opus"}),
    Container.MXF: frozenset({"pcm_s16le", "pcm_s24le"}),
}
# Channel layouts libopus encodes with its standard (Vorbis order) mapping; any other layout
# (4.0, 5.1(side), unnamed "4 channels"...) needs mapping family 255 (discrete channels).
OPUS_LAYOUTS = frozenset({"mono", "stereo", "3.0", "quad", "5.0", "5.1", "6.1", "7.1"})
# Containers whose audio must be 48 kHz.
AUDIO_48K = frozenset({Container.MXF})

# The colour fields each container states (mov's 'colr' is 'nclc', without range), and where a
# muxer writes only some codes, those: FFmpeg's MXF muxer leaves out codes it has no UL for
# and writes some as another (matrix smpte170m reads back as bt470bg, transfer smpte170m as
# bt709, bt470bg as bt470m). Measured with FFmpeg 9.0.2.
CONTAINER_COLOUR: dict[Container, frozenset[str]] = {
    Container.MOV: frozenset({"primaries", "transfer", "matrix"}),
    Container.MP4: _ALL_COLOUR,
    Container.MKV: _ALL_COLOUR,
    Container.WEBM: _ALL_COLOUR,
    Container.MXF: _ALL_COLOUR,
}
CONTAINER_CODES: dict[Container, Mapping[str, frozenset[str]]] = {
    Container.MXF: {
        "primaries": frozenset({"bt709", "bt470bg", "smpte170m", "bt2020", "smpte431",
                                "smpte432"}),
        "transfer": frozenset({"bt709", "smpte240m", "linear", "iec61966-2-4", "bt2020-10",
                               "smpte2084", "arib-std-b67"}),
        "matrix": frozenset({"bt709", "bt470bg", "smpte240m", "bt2020nc"}),
    },
}

# FFmpeg muxer names, where they differ from the extension.
MUXER: dict[Container, str] = {
    Container.MOV: "mov",
    Container.MP4: "mp4",
    Container.MKV: "matroska",
    Container.WEBM: "webm",
    Container.MXF: "mxf",
}

# MXF carries only the standard broadcast rates.
MXF_RATES: frozenset[Fraction] = frozenset(
    Fraction(n, d)
    for n, d in [
        (24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1),
        (50, 1), (60000, 1001), (60, 1),
    ]
)

# DNxHD: the lowest legal bitrate (Mb/s) per frame size and rate. Other sizes/rates are refused.
_DNXHD_1080 = {Fraction(24000, 1001): 36, Fraction(24): 36, Fraction(25): 36,
               Fraction(30000, 1001): 45, Fraction(30): 45, Fraction(50): 75,
               Fraction(60000, 1001): 90, Fraction(60): 90}
_DNXHD_720 = {Fraction(24000, 1001): 60, Fraction(24): 60, Fraction(25): 60,
              Fraction(30000, 1001): 75, Fraction(30): 75, Fraction(50): 120,
              Fraction(60000, 1001): 145, Fraction(60): 145}
DNXHD_BITRATES: dict[tuple[int, int], dict[Fraction, int]] = {
    (1920, 1080): _DNXHD_1080,
    (1280, 720): _DNXHD_720,
}

# DNxHD interlaced: only 1920x1080, at 25 and 29.97 fps (1080i50 / 1080i59.94), top field first,
# and never below 120 Mb/s (the progressive 36/45 Mb/s profiles have no interlaced form).
DNXHD_INTERLACED: dict[tuple[int, int], dict[Fraction, int]] = {
    (1920, 1080): {Fraction(25): 120, Fraction(30000, 1001): 145},
}

DNXHR_MIN_SIZE = (256, 120)


def chroma_of(pix_fmt: str | None) -> str | None:
    """'yuv422p10le' → '4:2:2'; None when the pixel format is not planar YUV we know."""
    if not pix_fmt:
        return None
    for prefix, chroma in (("yuva444", "4:4:4"), ("yuv444", "4:4:4"), ("yuv422", "4:2:2"),
                           ("yuva422", "4:2:2"), ("yuv420", "4:2:0"), ("yuvj420", "4:2:0"),
                           ("yuvj422", "4:2:2"), ("yuva420", "4:2:0"), ("nv12", "4:2:0"),
                           ("gbr", "4:4:4")):
        if pix_fmt.startswith(prefix):
            return chroma
    return None


def dnxhd_bitrate(width: int, height: int, rate: Fraction) -> int | None:
    """The lowest legal DNxHD bitrate in Mb/s, or None when the size/rate has none."""
    return DNXHD_BITRATES.get((width, height), {}).get(rate)


def describe_rates(rates: frozenset[Fraction] | dict[Fraction, int]) -> str:
    return ", ".join(format_rate(r) for r in sorted(rates))


def format_rate(rate: Fraction) -> str:
    """'24000/1001' → '23.976', '25' → '25'."""
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")
