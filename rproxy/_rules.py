"""What a probed source means for one proxy format: whether it can become that proxy at all
(problems, refused before anything is encoded), what changes on the way (warnings), and the
facts the argv builder needs. Pure: no I/O, no PyAV; the limits it applies are read from
``_formats``' tables, and verification reads its decisions from here too."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from fractions import Fraction
from typing import TYPE_CHECKING

from ._argv import ColourPlan, ProxyFormat, Scan, SourceFacts, output_timecode
from ._colour import EQUIVALENT, NEAREST, SCALER_MATRIX, UNKNOWN, Colour, same_code
from ._formats import (
    CONTAINER_CODES,
    DNXHD_BITRATES,
    DNXHD_INTERLACED,
    DNXHR_MIN_SIZE,
    FORMATS,
    MXF_RATES,
    Codec,
    Container,
    Interlace,
    describe_rates,
    dnxhd_bitrate,
    format_rate,
)

if TYPE_CHECKING:
    from ._media import MediaInfo

# The requested size may differ from the source's display shape by this much (rounding a
# size to even numbers costs up to a pixel either way; more than that is another shape).
SHAPE_TOLERANCE = 0.01
# D-10 / IMX frames carry vertical-interval lines above the picture: coded frame height →
# the first line of picture. 625 lines: 608 coded, picture 32..607 (576, top field first as
# coded). 525 lines: 512 coded, picture from line 27 (486-line raster's first full line; an
# odd line, so the picture is bottom field first while the coded frame is top first, as
# QuickTime's 'fiel' for these files says).
_VBI_FIRST_LINE = {608: 32, 512: 27}
_HD_HEIGHT = 720  # pictures this tall and taller are HD: untagged means BT.709

_HD = Colour(primaries="bt709", transfer="bt709", matrix="bt709", range="tv")
_SD_525 = Colour(primaries="smpte170m", transfer="smpte170m", matrix="smpte170m", range="tv")
_SD_625 = Colour(primaries="bt470bg", transfer="smpte170m", matrix="bt470bg", range="tv")
# A matrix implies its primaries and the other way round, where the source states only one.
_PRIMARIES_OF_MATRIX = {"bt709": "bt709", "bt470bg": "bt470bg", "smpte170m": "smpte170m",
                        "smpte240m": "smpte240m", "bt2020nc": "bt2020", "bt2020c": "bt2020",
                        "fcc": "bt470m"}
_MATRIX_OF_PRIMARIES = {"bt709": "bt709", "bt470bg": "bt470bg", "smpte170m": "smpte170m",
                        "smpte240m": "smpte240m", "bt2020": "bt2020nc", "bt470m": "fcc"}


@dataclass(frozen=True)
class Assessment:
    """What one source means for one proxy format."""

    problems: list[str]  # why it cannot become this proxy (one line each, no clip prefix)
    warnings: list[str]  # what changes the proxy without being wrong (the pre-flight says it)
    facts: SourceFacts  # what build_argv needs
    notes: list[str] = dataclass_field(default_factory=list)  # how it was read (for the record)

    @property
    def said(self) -> list[str]:
        """Everything the record keeps: the warnings, then the notes."""
        return self.warnings + self.notes


def assess(fmt: ProxyFormat, info: MediaInfo) -> Assessment:
    """The pre-flight verdict on `info` as a source of `fmt` proxies."""
    problems: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    if info.truncated:
        problems.append(f"source is truncated: {info.truncated}")
    problems += _rate_problems(fmt, info)
    crop, crop_notes = picture_crop(info)
    notes += crop_notes
    shape = _shape_problem(fmt, info)
    if shape:
        problems.append(shape)
    scan, top_first, why = scan_plan(fmt, info)
    if scan is Scan.DEINTERLACE:
        warnings.append(f"{interlace_note(info, scan, why)}")
    colour, colour_changes, colour_notes = colour_plan_notes(fmt, info)
    warnings += colour_changes
    notes += colour_notes
    if info.rotation:
        notes.append(f"display rotation {info.rotation}° applied to the pixels")
    warnings += info.skipped_audio
    if fmt.container is Container.MXF and any(a.sample_rate != 48000 for a in info.audio):
        warnings.append("audio resampled to 48 kHz for MXF")
    timecode, timecode_notes = _timecode(fmt, info)
    notes += timecode_notes
    frames = None
    if info.ffmpeg_frame_count is not None and fmt.rate is None:
        frames = info.frame_count
        notes.append(
            f"the source's edit list ends part-way into frame {info.ffmpeg_frame_count}: the "
            f"proxy has the {frames} whole frames MediaInfo and editors count (FFmpeg alone "
            f"would give {info.ffmpeg_frame_count})")
    facts = SourceFacts(
        rate=info.rate_fraction,
        timecode=timecode,
        video_index=info.video_index,
        audio_indexes=tuple(a.index for a in info.audio if a.index is not None),
        audio_layouts=tuple(a.layout for a in info.audio),
        audio_bits=tuple(a.bits for a in info.audio),
        duration_s=info.duration_s,
        crop=crop,
        container_crop_off=not info.container_crop.empty,
        scan=scan,
        top_field_first=top_first,
        colour=colour,
        frames=frames,
        fill=fill_gaps(fmt, info),
    )
    return Assessment(problems=problems, warnings=warnings, facts=facts, notes=notes)


# -- timing -------------------------------------------------------------------------------

def fill_gaps(fmt: ProxyFormat, info: MediaInfo) -> bool:
    """Frames of an MPEG program or transport stream are placed by their timestamps alone: a
    frame lost from the stream (a damaged recording) is a gap in time. Every container gets
    the same proxy: constant rate at the source's rate, the gap filled with the frame before,
    so every later frame keeps its time (never shifted against the source)."""
    return fmt.rate is None and info.frame_count_source == "timestamps" and bool(info.rate)


def _rate_problems(fmt: ProxyFormat, info: MediaInfo) -> list[str]:
    problems = []
    source_rate = info.rate_fraction
    if fmt.container is Container.MXF and fmt.rate is None and (
            info.variable_rate or source_rate not in MXF_RATES):
        found = f"{format_rate(source_rate)} fps" if source_rate else "an unknown rate"
        if info.variable_rate:
            found = f"a variable rate (about {found})"
        problems.append(f"MXF needs a standard constant frame rate "
                        f"({describe_rates(MXF_RATES)}); the source runs at {found}: use "
                        "fps_mode 'cfr' or another container")
    rate = fmt.rate or source_rate
    if fmt.codec is Codec.DNXHD and (
            rate is None or dnxhd_bitrate(fmt.width, fmt.height, rate) is None):
        found = format_rate(rate) if rate else "unknown"
        problems.append(f"DNxHD at {fmt.width}x{fmt.height} has no bitrate for {found} fps; "
                        "use fps_mode 'cfr' with a standard rate, or dnxhr")
    return problems


def _timecode(fmt: ProxyFormat, info: MediaInfo) -> tuple[str | None, list[str]]:
    """The start timecode to write: the source's as MediaInfo and QuickTime read it."""
    if info.timecode is None:
        return None, []
    notes = []
    timecode = info.timecode
    if info.ffmpeg_timecode:
        rate = fmt.rate or info.rate_fraction
        base = round(rate) if rate else None
        if base and timecode[-2:].isdigit() and int(timecode[-2:]) >= base:
            notes.append(f"the source's timecode {timecode} has no frame {timecode[-2:]} at "
                         f"{base} frames a second; the proxy starts at FFmpeg's reading, "
                         f"{info.ffmpeg_timecode}")
            return info.ffmpeg_timecode, notes
        notes.append(f"the source's timecode track counts {info.timecode_base} frames per "
                     f"timecode second: QuickTime and MediaInfo read {timecode}, FFmpeg "
                     f"{info.ffmpeg_timecode}; the proxy starts at {timecode}")
    return timecode, notes


def expected_timecode(fmt: ProxyFormat, info: MediaInfo) -> str | None:
    """The start timecode the proxy must read as (MediaInfo's reading)."""
    timecode, _ = _timecode(fmt, info)
    return output_timecode(timecode, info.rate_fraction, fmt.rate)


# -- picture: crop, shape -----------------------------------------------------------------

def picture_crop(info: MediaInfo) -> tuple[tuple[int, int, int, int], list[str]]:
    """(top, bottom, left, right) to crop off the decoded picture, and notes naming the sizes.

    The QuickTime clean aperture FFmpeg would apply is applied here instead (the command
    turns FFmpeg's off: ``container_crop_off``), with the vertical-interval lines of D-10 /
    IMX frames counted from the coded frame, so that nothing is cropped twice; and so that
    an interlaced picture keeps the field order its file states: an odd number of lines off
    the top swaps which field is on top (XDCAM EX's clean aperture takes 9, FFmpeg with it),
    and 4:2:0 chroma stays with its field only when the lines come off in fours."""
    aperture = info.container_crop
    top, bottom, left, right = aperture.top, aperture.bottom, aperture.left, aperture.right
    vbi = vbi_first_line(info)
    if vbi is not None and vbi > top:
        top = vbi
    vertical_420 = (info.pix_fmt or "").startswith(("yuv420", "yuvj420", "nv12", "p010"))
    step = 4 if info.interlaced and vertical_420 else 2 if vertical_420 else 1
    parity = None
    if info.interlaced and info.field_order in ("tff", "bff"):
        coded = info.coded_field_order or info.field_order
        parity = int(coded != info.field_order)  # 1: the picture starts on an odd line
    if parity == 1:
        top = top if top % 2 else top + 1  # chroma of 4:2:0 cannot follow: rare, tolerated
    else:
        if parity == 0 and step == 1:
            step = 2
        top = step * round(top / step)
    bottom = _fit(info.coded_height - top, bottom, 2 if parity == 1 or step == 1 else step)
    left = 2 * round(left / 2)
    right = _fit(info.coded_width - left, right, 2)
    notes = []
    coded_size = f"{info.coded_width}x{info.coded_height}"
    final = f"{info.coded_width - left - right}x{info.coded_height - top - bottom}"
    if not aperture.empty:
        notes.append(f"picture: the decoder gives {coded_size}, the QuickTime clean aperture "
                     f"is {info.width}x{info.height}")
    if vbi is not None and top >= vbi:
        notes.append(f"picture: the vertical interval above the picture cropped: {final} "
                     f"from line {top} of {coded_size}")
    elif (top, bottom, left, right) != (aperture.top, aperture.bottom, aperture.left,
                                        aperture.right):
        why = "to keep the field order" if parity is not None else "for the chroma"
        notes.append(f"picture: {final} from line {top} of {coded_size} ({why})")
    return (top, bottom, left, right), notes


def _fit(size: int, cut: int, step: int) -> int:
    """`cut` moved as little as it takes to leave a multiple of `step` of `size`."""
    extra = (size - cut) % step
    if not extra:
        return cut
    fewer = cut - (step - extra)
    return fewer if fewer >= 0 and step - extra < extra else cut + extra


def vbi_first_line(info: MediaInfo) -> int | None:
    """The coded line where a D-10 / IMX picture starts, None for any other source."""
    return coded_vbi_lines(info.video_codec, info.coded_width, info.coded_height)


def coded_vbi_lines(codec: str, coded_width: int, coded_height: int) -> int | None:
    """vbi_first_line() from the decoder's view of a frame (the report's pictures)."""
    if codec != "mpeg2video" or coded_width != 720:
        return None
    return _VBI_FIRST_LINE.get(coded_height)


def display_size(info: MediaInfo) -> tuple[int, int]:
    """The picture FFmpeg delivers, without vertical-interval lines, with pixel aspect and
    rotation applied. A D-10 / IMX frame's display aspect (4:3 or 16:9) is that of its
    picture: its MPEG-2 header states it for the coded frame, VBI lines included."""
    (top, bottom, left, right), _ = picture_crop(info)
    width = info.coded_width - left - right
    height = info.coded_height - top - bottom
    if vbi_first_line(info) is not None and info.display_aspect_ratio:
        shown = round(height * Fraction(info.display_aspect_ratio))
    else:
        shown = round(width * info.sar)
    if info.rotation in (90, 270):
        return height, shown
    return shown, height


def _shape_problem(fmt: ProxyFormat, info: MediaInfo) -> str | None:
    width, height = display_size(info)
    aspect = Fraction(width, height)
    if _same_shape(fmt.width, fmt.height, aspect):
        return None
    suggested = suggest_resolution(info, (fmt.width, fmt.height), fmt)
    legal = (fmt.codec is not Codec.DNXHD or suggested in DNXHD_BITRATES)
    codec = "" if legal else " with dnxhr (DNxHD has only 16:9 sizes)"
    kind = "portrait " if aspect < 1 else ""
    return (f"the source shows a {width}x{height} picture ({_aspect_name(aspect)}, pixel "
            f"aspect and rotation applied); {fmt.width}x{fmt.height} is another shape and "
            f"rproxy never pads or distorts: use {suggested[0]}x{suggested[1]} for {kind}"
            f"clips like this{codec}, in a spec of their own")


def _same_shape(width: int, height: int, aspect: Fraction) -> bool:
    ideal = height * aspect
    return abs(width - ideal) <= max(SHAPE_TOLERANCE * width, 2) or abs(
        height - width / aspect) <= max(SHAPE_TOLERANCE * height, 2)


def _aspect_name(aspect: Fraction) -> str:
    for name, value in (("16:9", Fraction(16, 9)), ("4:3", Fraction(4, 3)),
                        ("9:16", Fraction(9, 16)), ("3:4", Fraction(3, 4)),
                        ("1.85:1", Fraction(185, 100)), ("2.39:1", Fraction(239, 100)),
                        ("1:1", Fraction(1))):
        if abs(aspect / value - 1) <= SHAPE_TOLERANCE:
            return name
    return f"{float(aspect):.3f}:1"


def suggest_resolution(info: MediaInfo, requested: tuple[int, int],
                       fmt: ProxyFormat) -> tuple[int, int]:
    """A legal size of the source's display shape near `requested`: `requested` itself when
    it has that shape (within rounding to even sizes), else the requested height
    for a source of the same orientation, else the requested long side along the source's
    long side (a 1280x720 request → 720x1280 for 9:16 portrait clips). Even numbers; DNxHR's
    minimum. DNxHD's fixed sizes are all 16:9: a source of another shape gets the size it
    would have in DNxHR."""
    width, height = display_size(info)
    aspect = Fraction(width, height)
    req_w, req_h = requested
    if _same_shape(req_w, req_h, aspect):
        return requested  # already this shape (within rounding): nothing to change
    long_side = max(req_w, req_h)
    if (aspect >= 1) == (req_w >= req_h):
        size = (_even(req_h * aspect), _even(req_h))
    elif aspect >= 1:
        size = (_even(long_side), _even(long_side / aspect))
    else:
        size = (_even(long_side * aspect), _even(long_side))
    if fmt.codec is Codec.DNXHD:
        fixed = [s for s in DNXHD_BITRATES if _same_shape(s[0], s[1], aspect)]
        if fixed:
            return min(fixed, key=lambda s: abs(s[1] - req_h))
    if fmt.codec in (Codec.DNXHR, Codec.DNXHD):
        min_w, min_h = DNXHR_MIN_SIZE
        if size[0] < min_w or size[1] < min_h:
            scale = max(Fraction(min_w, size[0]), Fraction(min_h, size[1]))
            size = (_even(size[0] * scale + 1), _even(size[1] * scale + 1))
    return size


def _even(value: Fraction | float | int) -> int:
    return max(2, 2 * round(Fraction(value) / 2))


# -- scan ---------------------------------------------------------------------------------

def scan_plan(fmt: ProxyFormat, info: MediaInfo) -> tuple[Scan, bool | None, str | None]:
    """(what happens to the fields, top field first? (None: unknown), why they are not
    kept). Interlaced sources stay interlaced with the same field order where the codec can
    carry it; elsewhere they are deinterlaced, one frame per frame."""
    if not info.interlaced:
        return Scan.PROGRESSIVE, True, None
    top_first = {"tff": True, "bff": False}.get(info.field_order)
    codec = FORMATS[fmt.codec]
    why = None
    if codec.interlace is None:
        why = f"{fmt.codec.value} cannot carry interlace"
    elif info.field_order not in ("tff", "bff"):
        why = "its field order is unknown"
    elif fmt.rate is not None and fmt.rate != info.rate_fraction:
        why = "the frame rate changes (cfr), which would break up field pairs"
    elif codec.interlace is Interlace.DNXHD:
        rates = DNXHD_INTERLACED.get((fmt.width, fmt.height))
        rate = fmt.rate or info.rate_fraction
        if rates is None:
            why = f"DNxHD has no interlaced profile at {fmt.width}x{fmt.height}"
        elif rate not in rates:
            why = "DNxHD interlaced takes only 25 and 29.97 fps"
        elif not top_first:
            why = "DNxHD interlaced is top field first only; the source is bottom first"
    elif codec.chroma_420 and fmt.height % 4:
        why = f"an interlaced 4:2:0 picture needs a height divisible by 4 ({fmt.height})"
    return (Scan.DEINTERLACE if why else Scan.INTERLACED), top_first, why


def interlace_note(info: MediaInfo, scan: Scan, why: str | None) -> str:
    """What happened to the source's scan type, in words, for the record and the run."""
    if not info.interlaced:
        return "progressive"
    order = {"tff": "top field first", "bff": "bottom field first"}.get(info.field_order,
                                                                         "field order unknown")
    if scan is Scan.INTERLACED:
        return f"source interlaced ({order}); kept interlaced, same field order"
    return (f"source interlaced ({order}); {why}: deinterlaced (bwdif, one frame per frame, "
            "same count and rate), tagged progressive")


# -- colour -------------------------------------------------------------------------------

def colour_plan(fmt: ProxyFormat, info: MediaInfo) -> tuple[ColourPlan, list[str]]:
    """colour_plan_notes() with its two kinds of note in one list."""
    plan, changes, notes = colour_plan_notes(fmt, info)
    return plan, changes + notes


def colour_plan_notes(fmt: ProxyFormat, info: MediaInfo
                      ) -> tuple[ColourPlan, list[str], list[str]]:
    """The colour the proxy states and converts to, with notes for what is not simply kept.

    A tagged YUV source keeps its codes (PQ, HLG and BT.2020 included); what it does not
    state is what it is: SD is BT.601 of its line standard, HD and up BT.709. RGB is
    converted with the matrix of the proxy's size class. Codes the codec or container cannot
    carry become the same numbers under another code where there is one, else the nearest
    (a matrix is then converted, not relabelled). Returns the plan, what changes the colour
    (a code written as the nearest one: warned about), and what only says how it was read."""
    notes: list[str] = []
    changes: list[str] = []
    source, taken = _inferred(info)
    if taken:
        notes.append(f"colour: the source does not state all its colour codes; taken as "
                     f"{taken}")
    wanted = source
    if info.rgb:
        default = _class_default(fmt.height, info)
        wanted = Colour(primaries=source.primaries, transfer=source.transfer,
                        matrix=default.matrix, range="tv")
        notes.append(f"colour: RGB source converted to YUV with the {default.matrix} matrix")
    target = {}
    for field in ("primaries", "transfer", "matrix"):
        code = wanted.get(field)
        legal, mapped = _legal_code(fmt, field, code)
        target[field] = legal
        if mapped == "same":
            notes.append(f"colour: {field} {code} written as {legal} (the same numbers; "
                         f"{_carrier(fmt, field, code)} has no code for {code})")
        elif mapped == "nearest":
            action = "converted to" if field == "matrix" else "written as the nearest,"
            changes.append(f"colour: {field} {code} {action} {legal} "
                         f"({_carrier(fmt, field, code)} has no code for {code})")
    if source.range == "pc":
        notes.append("colour: full-range source converted to limited range (stated tv)")
    in_matrix = "auto" if info.rgb else SCALER_MATRIX.get(source.matrix, "auto")
    plan = ColourPlan(primaries=target["primaries"], transfer=target["transfer"],
                      matrix=target["matrix"], in_matrix=in_matrix,
                      in_range="pc" if source.range == "pc" else "tv")
    return plan, changes, notes


def source_colour(info: MediaInfo) -> Colour:
    """The source's colour as it is decoded: what it states, and for what it does not, what
    a picture of its kind is (RGB: 'gbr', full range)."""
    return _inferred(info)[0]


def _inferred(info: MediaInfo) -> tuple[Colour, str | None]:
    """(the source's colour, what was taken for the codes it does not state, in words)."""
    stated = info.colour
    default = _class_default(info.height, info)
    if info.rgb:
        primaries = stated.primaries if stated.primaries != UNKNOWN else "bt709"
        transfer = stated.transfer if stated.transfer != UNKNOWN else "bt709"
        taken = [f"{field} {code}" for field, code, was in (
            ("primaries", primaries, stated.primaries), ("transfer", transfer, stated.transfer))
            if was == UNKNOWN]
        colour = Colour(primaries=primaries, transfer=transfer, matrix="gbr", range="pc")
        return colour, (f"{', '.join(taken)} (RGB video)" if taken else None)
    matrix, primaries, transfer = stated.matrix, stated.primaries, stated.transfer
    derived = False
    if matrix in (UNKNOWN, "gbr"):
        derived = primaries != UNKNOWN
        matrix = _MATRIX_OF_PRIMARIES.get(primaries, default.matrix)
    if primaries == UNKNOWN:
        derived = derived or stated.matrix not in (UNKNOWN, "gbr")
        primaries = _PRIMARIES_OF_MATRIX.get(matrix, default.primaries)
    if transfer == UNKNOWN:
        transfer = "bt709" if primaries in ("bt709", "bt2020") else default.transfer
    range_ = stated.range
    if range_ == UNKNOWN:
        range_ = "pc" if (info.pix_fmt or "").startswith("yuvj") else "tv"
    colour = Colour(primaries=primaries, transfer=transfer, matrix=matrix, range=range_)
    taken = [f"{field} {colour.get(field)}" for field in ("primaries", "transfer", "matrix")
             if stated.get(field) in (UNKNOWN, "gbr")]
    if not taken:
        return colour, None
    basis = ("what the codes it states imply, standard dynamic range" if derived
             else f"{_size_class(info)}, standard dynamic range")
    return colour, f"{', '.join(taken)} ({basis})"


def expected_colour(fmt: ProxyFormat, info: MediaInfo) -> Colour:
    """The four codes the proxy must state."""
    plan, _ = colour_plan(fmt, info)
    return Colour(primaries=plan.primaries, transfer=plan.transfer, matrix=plan.matrix,
                  range="tv")


def _size_class(info: MediaInfo) -> str:
    if info.height >= _HD_HEIGHT:
        return "HD (BT.709)"
    return f"SD {_line_standard(info)}-line (BT.601)"


def _class_default(height: int, info: MediaInfo) -> Colour:
    if height >= _HD_HEIGHT:
        return _HD
    return _SD_625 if _line_standard(info) == 625 else _SD_525


def _line_standard(info: MediaInfo) -> int:
    """625 (PAL, 25 frames) or 525 (NTSC, 29.97): by the coded height, else by the rate."""
    if info.coded_height in (576, 608):
        return 625
    if info.coded_height in (480, 486, 512):
        return 525
    rate = info.rate_fraction
    return 625 if rate in (Fraction(25), Fraction(50), Fraction(25, 2)) else 525


def _allowed(fmt: ProxyFormat, field: str) -> list[frozenset[str]]:
    sets = []
    codes = FORMATS[fmt.codec].colour_codes.get(field)
    if codes is not None:
        sets.append(codes)
    container = CONTAINER_CODES.get(fmt.container, {}).get(field)
    if container is not None:
        sets.append(container)
    return sets


def _legal_code(fmt: ProxyFormat, field: str, code: str) -> tuple[str, str | None]:
    """(a code the codec and the container carry, how: None kept, 'same', 'nearest')."""
    sets = _allowed(fmt, field)

    def legal(value: str) -> bool:
        return all(value in s for s in sets)

    if legal(code):
        return code, None
    for other in EQUIVALENT.get(field, {}).get(code, ()):
        if legal(other):
            return other, "same"
    for other in NEAREST.get(field, {}).get(code, ()):
        if legal(other):
            return other, "nearest"
    fallback = _HD.get(field)
    return fallback, ("same" if same_code(field, code, fallback) else "nearest")


def _carrier(fmt: ProxyFormat, field: str, code: str) -> str:
    codes = FORMATS[fmt.codec].colour_codes.get(field)
    if codes is not None and code not in codes:
        return {"prores": "ProRes", "vp9": "VP9"}.get(FORMATS[fmt.codec].decoded_name,
                                                      fmt.codec.value)
    return fmt.container.value.upper()
