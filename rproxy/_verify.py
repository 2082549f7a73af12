"""Deep verification: is the proxy what the spec asked for, and will an editor relink it to
its source? Every check is recorded with what was expected and what was found; any check
that fails fails the clip.

What is expected comes from the same rules that made the command (``_rules``), so a stand-in
that drops the colour tags, converts with another matrix, mixes the fields, crops the wrong
lines or loses a frame is caught, not trusted. Cheap on purpose: headers, a packet count of
the proxy where its container has no frame count, and the first frame of the source and of
the proxy, compared small."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import av.error

from ._argv import ProxyFormat, Scan, SourceFacts
from ._colour import FIELDS, Colour, same_code
from ._errors import ProbeError, VerificationError
from ._formats import AUDIO_48K, AUDIO_DECODED, CONTAINER_COLOUR, FORMATS, Container, chroma_of
from ._media import MediaInfo
from ._picture import (
    COLOUR_WIDTH,
    FIELDS_WIDTH,
    Decode,
    best_offset,
    compare_size,
    first_frames,
    luma_rows,
    mse,
    picture,
    psnr,
)
from ._probe import LOWRES, bitstream_colour, probe
from ._rules import assess, expected_colour, expected_timecode, interlace_note, scan_plan
from ._rules import source_colour as rules_source_colour
from ._verification import Check, Verification

# Containers that store the sample-entry FourCC that proves a ProRes profile / hvc1 tag.
_FOURCC_CONTAINERS = (Container.MOV, Container.MP4)

# The first frame of a right proxy against its source, both decoded as their colour tags say
# and averaged down to 32 pixels wide (_picture.COLOUR_WIDTH). Measured with FFmpeg 9.0.2
# (every codec; the real samples of ../shared/media and the generated sources of the tests):
# right proxies 39.3 dB at the worst (x265 of the 525-line IMX sample; most 42-49 dB), the
# same proxies converted with the other matrix (BT.601 for BT.709 and back, tags left right:
# tests/fakes/sabotage swap_matrix) 26.7-32.2 dB. 35 dB leaves 4 dB on the one side and 3 on
# the other. A picture without saturated colour scores high either way: a wrong matrix then
# hardly shows, and the tags are checked on their own.
PICTURE_MIN_DB = 35.0
# Interlaced sources: how much of the difference between the source's two fields (mean
# squared) a field of the proxy keeps: MSE(proxy field, other field) - MSE(proxy field, own
# field), over MSE(own, other). Intact fields keep about 1 (codec noise is in both terms),
# fields averaged 50/50 by a progressive scaler keep 0. Measured: see tests/test_interlace.
FIELD_KEPT = 0.5
# Source fields closer than this (MSE per 8-bit value at 160 pixels wide: 31 dB), or a first
# frame this close to the second, cannot be told apart through the codec's own noise (a
# small proxy's is MSE 7-23 here): the check is then recorded as not measurable. Such a
# picture barely moves, and mixing its fields changes little. The moving test sources
# measure MSE 150-900 between their fields.
_ALIKE_MSE = 50.0
_CROP_SEARCH = 12  # rows either side of the expected first row the crop check looks at


class _Checks:
    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}
        self.failures: list[str] = []

    def add(self, name: str, expected: Any, found: Any, ok: bool, message: str) -> None:
        self.checks[name] = Check(expected=expected, found=found, ok=ok)
        if not ok:
            self.failures.append(message)


def verify_output(output: Path, fmt: ProxyFormat, source: MediaInfo,
                  source_path: Path) -> Verification:
    """Check the proxy at `output` against `source` (probed from `source_path`); return the
    verification, or raise VerificationError holding it, naming every mismatch."""
    started = time.perf_counter()
    try:
        found = probe(output, what="output", count=True)
    except ProbeError as exc:
        failed = Verification(ok=False, notes=[f"output does not open as video: {exc.reason}"])
        raise VerificationError(f"output does not open as video: {exc.reason}",
                                verification=failed) from None
    assessment = assess(fmt, source)
    facts = assessment.facts
    notes = list(assessment.said)
    checks = _Checks()
    _check_format(fmt, found, checks)
    _check_time(fmt, source, found, checks, notes)
    _check_colour(fmt, source, output, found, checks)
    scan, _, why = scan_plan(fmt, source)
    _check_scan(fmt, source, found, scan, checks)
    _check_pictures(fmt, source, source_path, output, found, facts, checks, notes)
    _check_audio(source, found, fmt, checks)
    if facts.fill:
        _note_filled(source_path, source, found, notes)
    verification = Verification(
        ok=not checks.failures,
        checks=checks.checks,
        notes=notes,
        interlace=interlace_note(source, scan, why),
        output=found,
        verify_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    if checks.failures:
        raise VerificationError("verification failed: " + "; ".join(checks.failures),
                                verification=verification)
    return verification


def _check_format(fmt: ProxyFormat, found: MediaInfo, checks: _Checks) -> None:
    info = FORMATS[fmt.codec]
    checks.add("video_codec", info.decoded_name, found.video_codec,
               found.video_codec == info.decoded_name,
               f"video codec {found.video_codec}, expected {info.decoded_name}")
    if info.fourcc and fmt.container in _FOURCC_CONTAINERS:
        checks.add("fourcc", info.fourcc, found.codec_tag, found.codec_tag == info.fourcc,
                   f"FourCC {found.codec_tag or 'none'}, expected {info.fourcc}")
    if info.profile:
        checks.add("profile", info.profile, found.profile, found.profile == info.profile,
                   f"profile {found.profile}, expected {info.profile}")
    chroma = chroma_of(found.pix_fmt)
    checks.add("chroma", info.chroma, chroma, chroma == info.chroma,
               f"chroma {chroma or found.pix_fmt}, expected {info.chroma}")
    size = f"{found.width}x{found.height}"
    checks.add("size", f"{fmt.width}x{fmt.height}", size,
               (found.width, found.height) == (fmt.width, fmt.height),
               f"size {size}, expected {fmt.width}x{fmt.height}")
    checks.add("rotation", 0, found.rotation, found.rotation == 0,
               f"picture needs a {found.rotation}° display rotation; expected upright pixels")


def expected_frames(source: MediaInfo, fmt: ProxyFormat) -> tuple[int, int]:
    """(expected frame count, tolerance). Passthrough keeps every frame an editor sees
    (and a gap in a timestamped stream is filled); cfr resamples time (duration * rate, ±1
    for where the last frame's edge falls)."""
    if fmt.rate is None:
        return source.frame_count, 0
    if source.duration_s is None:
        rate = source.rate_fraction
        if rate:
            return round(source.frame_count / rate * fmt.rate), 1
        return source.frame_count, source.frame_count  # unknown duration: only "has frames"
    return round(source.duration_s * fmt.rate), 1


def _check_time(fmt: ProxyFormat, source: MediaInfo, found: MediaInfo, checks: _Checks,
                notes: list[str]) -> None:
    frames, tolerance = expected_frames(source, fmt)
    checks.add("frame_count", frames, found.frame_count,
               abs(found.frame_count - frames) <= tolerance,
               f"frame count {found.frame_count}, source {frames}"
               + (f" ±{tolerance}" if tolerance else ""))
    source_rate = source.rate_fraction
    want_rate = fmt.rate if fmt.rate is not None else source_rate
    if source.duration_s is not None and found.duration_s is not None:
        frame = 1 / float(want_rate) if want_rate else 0.04
        if fmt.rate is None and source.variable_rate:
            slack = max(2 * frame, 0.01 * source.duration_s)
        else:
            slack = frame + 0.002  # container rounding; an edit list's partial last frame
        checks.add("duration_s", round(source.duration_s, 3), round(found.duration_s, 3),
                   abs(found.duration_s - source.duration_s) <= slack,
                   f"duration {found.duration_s:.3f} s, source {source.duration_s:.3f} s")
    if not (fmt.rate is None and source.variable_rate) and want_rate is not None:
        found_rate = found.rate_fraction
        ok = found_rate is not None and abs(float(found_rate) - float(want_rate)) <= (
            0.0005 * float(want_rate) + 1e-6)
        checks.add("frame_rate", str(want_rate), found.rate, ok,
                   f"frame rate {float(found_rate) if found_rate else 0:.3f}, expected "
                   f"{float(want_rate):.3f}")
    want_tc = expected_timecode(fmt, source)
    if want_tc is None and fmt.container is Container.MXF:
        want_tc = "00:00:00:00"  # MXF always has a start timecode; ffmpeg writes zero
        notes.append("source has no timecode; MXF always carries one: 00:00:00:00")
    checks.add("timecode", want_tc, found.timecode, found.timecode == want_tc,
               f"start timecode {found.timecode or 'none'}, "
               + (f"source {source.timecode or 'none'}" if want_tc == source.timecode
                  else f"expected {want_tc} (source {source.timecode})"))


def _check_colour(fmt: ProxyFormat, source: MediaInfo, output: Path, found: MediaInfo,
                  checks: _Checks) -> None:
    """The four codes, where the container states them and where the bitstream does: both
    must say what the rules chose for this source."""
    want = expected_colour(fmt, source)
    places = [("colour_container", CONTAINER_COLOUR[fmt.container], found.container_colour)]
    fields = FORMATS[fmt.codec].colour_fields
    if fields:
        try:
            stream_colour = bitstream_colour(output, found.video_index)
        except (av.error.FFmpegError, ValueError):
            stream_colour = Colour()
        places.append(("colour_bitstream", fields, stream_colour))
    for name, carried, colour in places:
        expected, got = want.only(carried), colour.only(carried)
        wrong = [f for f in FIELDS if f in carried and not same_code(f, want.get(f),
                                                                        colour.get(f))]
        where = name.split("_")[1]
        checks.add(name, expected, got, not wrong,
                   f"{where} colour {', '.join(f'{f} {got[f]}' for f in wrong)}, expected "
                   f"{', '.join(f'{f} {expected[f]}' for f in wrong)}")


def _check_scan(fmt: ProxyFormat, source: MediaInfo, found: MediaInfo, scan: Scan,
                checks: _Checks) -> None:
    want = "interlaced" if scan is Scan.INTERLACED else "progressive"
    got = "interlaced" if found.interlaced else "progressive"
    checks.add("scan", want, got, want == got, f"proxy is {got}, expected {want}")
    if scan is Scan.INTERLACED and FORMATS[fmt.codec].field_order_readable:
        checks.add("field_order", source.field_order, found.field_order,
                   found.field_order == source.field_order,
                   f"field order {found.field_order}, source {source.field_order}")


def _source_decode(source: MediaInfo, facts: SourceFacts, lowres: int) -> Decode:
    colour = rules_source_colour(source)
    top, bottom, left, right = (edge >> lowres for edge in facts.crop)
    return Decode(matrix=colour.matrix, range=colour.range, crop=(top, bottom, left, right),
                  rotation=source.rotation)


def _proxy_decode(fmt: ProxyFormat, found: MediaInfo) -> Decode:
    """As a decoder reads the proxy's colour: the bitstream's where the codec has one
    (FFmpeg's DNx decoder says BT.709 whatever the file states: there, the container's)."""
    colour = found.colour if FORMATS[fmt.codec].colour_fields else found.container_colour
    return Decode(matrix=colour.matrix, range=colour.range)


def _check_pictures(fmt: ProxyFormat, source: MediaInfo, source_path: Path, output: Path,
                    found: MediaInfo, facts: SourceFacts, checks: _Checks,
                    notes: list[str]) -> None:
    """The first frame, as an editor would see each file: colour, fields and crop."""
    # A picture compared at most 160 pixels wide needs no 4K JPEG 2000 decode (420 ms).
    lowres = LOWRES.get(source.video_codec, 0)
    try:
        source_frames = first_frames(source_path, source.video_index,
                                     2 if facts.scan is not Scan.PROGRESSIVE else 1, lowres)
        proxy_frame = first_frames(output, found.video_index)[0]
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        notes.append(f"pictures not compared: {exc}")
        return
    source_frame = source_frames[0]
    src, prx = _source_decode(source, facts, lowres), _proxy_decode(fmt, found)
    scan = facts.scan
    with_fields = scan is not Scan.PROGRESSIVE
    # At least 8x8 proxy pixels per compared pixel: a thumbnail-sized proxy (64x36) is all
    # codec blocks at its own size, while its colour still compares cleanly averaged.
    size = compare_size(fmt.width, fmt.height, with_fields,
                        min(COLOUR_WIDTH, max(2, fmt.width // 8)))
    first = "bottom" if facts.top_field_first is False else "top"
    if scan is Scan.INTERLACED:
        src_pic = picture(source_frame, src, *size, field=first)
        prx_pic = picture(proxy_frame, prx, *size, field=first)
    elif scan is Scan.DEINTERLACE:
        src_pic = picture(source_frame, src, *size, field=first)
        prx_pic = picture(proxy_frame, prx, *size)
    else:
        src_pic = picture(source_frame, src, *size)
        prx_pic = picture(proxy_frame, prx, *size)
    score = psnr(src_pic, prx_pic)
    checks.add("picture_psnr_db", f">= {PICTURE_MIN_DB:g}", score, score >= PICTURE_MIN_DB,
               f"first frame matches the source at {score:.1f} dB (decoded as each file's "
               f"colour tags say), expected at least {PICTURE_MIN_DB:g}")
    if with_fields:
        _check_fields(source_frames, proxy_frame, src, prx,
                      compare_size(fmt.width, fmt.height, True, FIELDS_WIDTH), scan, first,
                      checks)
    if src.crop[0] and not source.rotation and not lowres:
        _check_crop(source_frame, proxy_frame, source, src, checks)


def _check_fields(source_frames: list[Any], proxy_frame: Any, src: Decode, prx: Decode,
                  size: tuple[int, int], scan: Scan, first: str, checks: _Checks) -> None:
    """Fields never mixed. Of the difference between the source's two fields, a kept field
    of the proxy must keep most (it is that field, plus codec noise); a field mixed with the
    other by a progressive scaler keeps about none. A deinterlaced frame is its first field."""
    other = "bottom" if first == "top" else "top"
    fields = {f: picture(source_frames[0], src, *size, field=f) for f in (first, other)}
    apart = mse(fields[first], fields[other])
    expected = f"keeps >= {FIELD_KEPT:g} of the difference between the source's fields"
    # Without motion the two fields differ only where the picture has vertical detail, and a
    # deinterlacer rightly keeps both: only a moving picture can tell mixed fields.
    motion = 0.0
    if len(source_frames) > 1:
        motion = mse(fields[first], picture(source_frames[1], src, *size, field=first))
    if apart <= _ALIKE_MSE or motion <= _ALIKE_MSE:
        checks.add("fields", expected, "not measurable: no motion between the source's "
                   "first frames", True, "")
        return
    kept: dict[str, float] = {}
    if scan is Scan.INTERLACED:
        for field, mate in ((first, other), (other, first)):
            mine = picture(proxy_frame, prx, *size, field=field)
            kept[field] = (mse(mine, fields[mate]) - mse(mine, fields[field])) / apart
    else:
        whole = picture(proxy_frame, prx, *size)
        kept["frame"] = (mse(whole, fields[other]) - mse(whole, fields[first])) / apart
    worst = min(kept.values())
    checks.add("fields", expected, {k: round(v, 2) for k, v in kept.items()},
               worst >= FIELD_KEPT,
               f"fields mixed: the proxy keeps {worst:.2f} of the difference between the "
               f"source's fields (a proxy with its fields intact keeps about 1)")


def _check_crop(source_frame: Any, proxy_frame: Any, source: MediaInfo, src: Decode,
                checks: _Checks) -> None:
    """The proxy shows the source's rows the crop was meant to keep: the first source row
    whose picture, scaled to the proxy's rows, matches them best."""
    top, bottom, left, right = src.crop
    rows = luma_rows(source_frame, (0, 0, left, right))
    height = len(rows) - top - bottom
    proxy_rows = luma_rows(proxy_frame, (0, 0, 0, 0))
    best = best_offset(rows, proxy_rows, height,
                       range(top - _CROP_SEARCH, top + _CROP_SEARCH + 1))
    tolerance = max(1, round(height / len(proxy_rows)))  # a proxy row, in source rows
    if best is None or best[1] < 1.5:
        checks.add("crop_first_row", top, "not measurable: too little vertical detail", True,
                   "")
        return
    checks.add("crop_first_row", top, best[0], abs(best[0] - top) <= tolerance,
               f"the proxy's picture starts at source row {best[0]} of {len(rows)}, "
               f"expected row {top} ({height} rows kept)")


def _check_audio(source: MediaInfo, found: MediaInfo, fmt: ProxyFormat,
                 checks: _Checks) -> None:
    src_channels = [a.channels for a in source.audio]
    out_channels = [a.channels for a in found.audio]
    checks.add("audio_streams", len(src_channels), len(out_channels),
               len(src_channels) == len(out_channels),
               f"{len(out_channels)} audio stream(s), source has {len(src_channels)}")
    if len(src_channels) != len(out_channels) or not out_channels:
        return
    checks.add("audio_channels", src_channels, out_channels, src_channels == out_channels,
               f"audio channels {out_channels}, source {src_channels}")
    allowed = AUDIO_DECODED[fmt.container]
    codecs = [a.codec for a in found.audio]
    # Expected is what the container takes ("pcm_s16le or pcm_s24le"), found one per stream.
    checks.add("audio_codec", " or ".join(sorted(allowed)), codecs,
               all(c in allowed for c in codecs),
               f"audio codec {', '.join(codecs)}, {fmt.container.value} expects "
               f"{' or '.join(sorted(allowed))}")
    if fmt.container in AUDIO_48K:
        rates = [a.sample_rate for a in found.audio]
        checks.add("audio_sample_rate", 48000, rates, all(r == 48000 for r in rates),
                   f"audio sample rate {rates}, MXF needs 48000")


def _note_filled(source_path: Path, source: MediaInfo, found: MediaInfo,
                 notes: list[str]) -> None:
    """How many frames a timestamped source was missing (the proxy repeats the one before
    each): its packets counted, which reads the file but decodes nothing."""
    with contextlib.suppress(av.error.FFmpegError, OSError):
        with av.open(str(source_path), metadata_errors="ignore") as container:
            stream = container.streams[source.video_index]
            present = sum(1 for p in container.demux(stream) if p.size)
        missing = found.frame_count - present
        if missing > 0:
            notes.append(f"{missing} frame(s) missing from the source's stream were filled "
                         "with the frame before, so every later frame keeps its time "
                         "and timecode")
