"""Deep verification: is the proxy what the spec asked for, and will an editor relink it to
its source? Every check is recorded with what was expected and what was found.

Cheap on purpose (see ``_probe``): headers, one decoded frame, and a packet count where the
container stores no frame count. Nothing is decoded in full."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ._argv import ProxyFormat, interlace_decision, output_timecode
from ._errors import ProbeError, VerificationError
from ._formats import AUDIO_48K, AUDIO_DECODED, FORMATS, Container, chroma_of
from ._probe import MediaInfo, probe, source_facts, vbi_lines

# Containers that store the sample-entry FourCC that proves a ProRes profile / hvc1 tag.
_FOURCC_CONTAINERS = (Container.MOV, Container.MP4)


def expected_frames(source: MediaInfo, fmt: ProxyFormat) -> tuple[int, int]:
    """(expected frame count, tolerance). Passthrough keeps every frame; cfr resamples time
    (duration * rate, ±1 for where the last frame's edge falls)."""
    if fmt.rate is None:
        return source.frame_count, 0
    if source.duration_s is None:
        if source.rate:
            return round(source.frame_count / source.rate * fmt.rate), 1
        return source.frame_count, source.frame_count  # unknown duration: only "has frames"
    return round(source.duration_s * fmt.rate), 1


def interlace_note(source: MediaInfo, fmt: ProxyFormat) -> str:
    """What happened to the source's scan type, in words, for the record."""
    if not source.interlaced:
        return "progressive"
    order = {"tff": "top field first", "bff": "bottom field first"}.get(source.field_order,
                                                                         "field order unknown")
    carry, why = interlace_decision(fmt, source_facts(source))
    if carry:
        return f"source interlaced ({order}); kept interlaced, same field order"
    return f"source interlaced ({order}); {why}; encoded as is"


def verify_output(output: Path, fmt: ProxyFormat, source: MediaInfo) -> dict[str, Any]:
    """Check the proxy at `output`; return the checks, or raise VerificationError naming
    every mismatch."""
    started = time.perf_counter()
    try:
        found = probe(output, what="output")
    except ProbeError as exc:
        raise VerificationError(f"output does not open as video: {exc.reason}") from None
    info = FORMATS[fmt.codec]
    checks: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    notes: list[str] = []

    def check(name: str, expected: Any, actual: Any, ok: bool, message: str) -> None:
        checks[name] = {"expected": expected, "found": actual, "ok": ok}
        if not ok:
            failures.append(message)

    check("video_codec", info.decoded_name, found.video_codec,
          found.video_codec == info.decoded_name,
          f"video codec {found.video_codec}, expected {info.decoded_name}")
    if info.fourcc and fmt.container in _FOURCC_CONTAINERS:
        check("fourcc", info.fourcc, found.codec_tag, found.codec_tag == info.fourcc,
              f"FourCC {found.codec_tag or 'none'}, expected {info.fourcc}")
    if info.profile:
        check("profile", info.profile, found.profile, found.profile == info.profile,
              f"profile {found.profile}, expected {info.profile}")
    chroma = chroma_of(found.pix_fmt)
    check("chroma", info.chroma, chroma, chroma == info.chroma,
          f"chroma {chroma or found.pix_fmt}, expected {info.chroma}")
    check("size", f"{fmt.width}x{fmt.height}", f"{found.width}x{found.height}",
          (found.width, found.height) == (fmt.width, fmt.height),
          f"size {found.width}x{found.height}, expected {fmt.width}x{fmt.height}")
    frames, tolerance = expected_frames(source, fmt)
    check("frame_count", frames, found.frame_count,
          abs(found.frame_count - frames) <= tolerance,
          f"frame count {found.frame_count}, source {frames}"
          + (f" ±{tolerance}" if tolerance else ""))
    want_rate = fmt.rate if fmt.rate is not None else source.rate
    if fmt.rate is None and source.variable_rate:
        # Variable-rate footage passes through with its own timestamps: the average rate a
        # container reports is not comparable (Matroska guesses it from the first frames), so
        # the same frames over the same duration is the proof.
        _check_duration(source, found, check)
    elif want_rate is not None:
        # Passthrough of variable-rate footage keeps its timing, so its average may drift a
        # little; a constant-rate proxy must be exact (to the container's rounding).
        slack = 0.0005 if fmt.rate is not None else 0.01
        ok = found.rate is not None and (
            abs(float(found.rate) - float(want_rate)) <= slack * float(want_rate) + 1e-6)
        check("frame_rate", str(want_rate), str(found.rate) if found.rate else None, ok,
              f"frame rate {float(found.rate) if found.rate else 0:.3f}, expected "
              f"{float(want_rate):.3f}")
    want_tc = output_timecode(source.timecode, source.rate, fmt.rate)
    if want_tc is None and fmt.container is Container.MXF:
        want_tc = "00:00:00:00"  # MXF always has a start timecode; ffmpeg writes zero
        notes.append("source has no timecode; MXF always carries one: 00:00:00:00")
    check("timecode", want_tc, found.timecode, found.timecode == want_tc,
          f"start timecode {found.timecode or 'none'}, "
          + (f"source {source.timecode or 'none'}" if want_tc == source.timecode
             else f"expected {want_tc} (source {source.timecode} retimed)"))
    check("rotation", 0, found.rotation, found.rotation == 0,
          f"picture needs a {found.rotation}° display rotation; expected upright pixels")
    if source.rotation:
        notes.append(f"source display rotation {source.rotation}° applied to the pixels")
    if vbi_lines(source):
        notes.append(f"{vbi_lines(source)} vertical-interval lines above the picture cropped "
                     f"({source.width}x{source.height} → "
                     f"{source.width}x{source.height - vbi_lines(source)} before scaling)")
    _check_interlace(source, found, fmt, check)
    _check_audio(source, found, fmt, check, notes)
    if failures:
        raise VerificationError("verification failed: " + "; ".join(failures),
                                details={"ok": False, "checks": checks,
                                         "output": found.to_json()})
    return {
        "ok": True,
        "checks": checks,
        "interlace": interlace_note(source, fmt),
        "notes": notes,
        "output": found.to_json(),
        "verify_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _check_duration(source: MediaInfo, found: MediaInfo, check: Any) -> None:
    if source.duration_s is None or found.duration_s is None:
        return
    frame = 1 / float(source.rate) if source.rate else 0.04
    slack = max(2 * frame, 0.01 * source.duration_s)
    ok = abs(found.duration_s - source.duration_s) <= slack
    check("duration_s", round(source.duration_s, 3), round(found.duration_s, 3), ok,
          f"duration {found.duration_s:.3f} s, source {source.duration_s:.3f} s")


def _check_interlace(source: MediaInfo, found: MediaInfo, fmt: ProxyFormat, check: Any) -> None:
    info = FORMATS[fmt.codec]
    carry, _ = interlace_decision(fmt, source_facts(source))
    if not carry:
        if not source.interlaced:
            check("scan", "progressive", "interlaced" if found.interlaced else "progressive",
                  not found.interlaced, "proxy is interlaced, source is progressive")
        return
    check("scan", "interlaced", "interlaced" if found.interlaced else "progressive",
          found.interlaced, "proxy is progressive, source is interlaced")
    if info.field_order_readable and source.field_order in ("tff", "bff"):
        check("field_order", source.field_order, found.field_order,
              found.field_order == source.field_order,
              f"field order {found.field_order}, source {source.field_order}")


def _check_audio(source: MediaInfo, found: MediaInfo, fmt: ProxyFormat, check: Any,
                 notes: list[str]) -> None:
    src_channels = [a.channels for a in source.audio]
    out_channels = [a.channels for a in found.audio]
    check("audio_streams", len(src_channels), len(out_channels),
          len(src_channels) == len(out_channels),
          f"{len(out_channels)} audio stream(s), source has {len(src_channels)}")
    if len(src_channels) != len(out_channels) or not out_channels:
        return
    check("audio_channels", src_channels, out_channels, src_channels == out_channels,
          f"audio channels {out_channels}, source {src_channels}")
    allowed = AUDIO_DECODED[fmt.container]
    codecs = [a.codec for a in found.audio]
    check("audio_codec", sorted(allowed), codecs, all(c in allowed for c in codecs),
          f"audio codec {', '.join(codecs)}, {fmt.container.value} expects "
          f"{' or '.join(sorted(allowed))}")
    if fmt.container in AUDIO_48K:
        rates = [a.sample_rate for a in found.audio]
        check("audio_sample_rate", 48000, rates, all(r == 48000 for r in rates),
              f"audio sample rate {rates}, MXF needs 48000")
        if any(a.sample_rate != 48000 for a in source.audio):
            notes.append("audio resampled to 48 kHz for MXF")
