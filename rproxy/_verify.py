"""Deep verification: is the proxy what the spec asked for, and will an editor relink it to
its source? Every check is recorded with what was expected and what was found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._argv import ProxyFormat
from ._errors import ProbeError, VerificationError
from ._formats import FORMATS, Container
from ._probe import MediaInfo, probe

# Containers that store the sample-entry FourCC that proves a ProRes profile / hvc1 tag.
_FOURCC_CONTAINERS = (Container.MOV, Container.MP4)


def expected_frames(source: MediaInfo, fmt: ProxyFormat) -> tuple[int, int]:
    """(expected frame count, tolerance). Passthrough keeps every frame; cfr resamples time."""
    if fmt.rate is None:
        return source.frame_count, 0
    if source.duration_s is None:
        return source.frame_count, source.frame_count  # unknown duration: only "has frames"
    return round(source.duration_s * fmt.rate), 1


def verify_output(output: Path, fmt: ProxyFormat, source: MediaInfo) -> dict[str, Any]:
    """Check the proxy at `output`; return the checks, or raise VerificationError naming
    every mismatch."""
    try:
        found = probe(output, what="output")
    except ProbeError as exc:
        raise VerificationError(f"output does not open as video: {exc.reason}") from None
    info = FORMATS[fmt.codec]
    checks: dict[str, dict[str, Any]] = {}
    failures: list[str] = []

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
    check("size", f"{fmt.width}x{fmt.height}", f"{found.width}x{found.height}",
          (found.width, found.height) == (fmt.width, fmt.height),
          f"size {found.width}x{found.height}, expected {fmt.width}x{fmt.height}")
    frames, tolerance = expected_frames(source, fmt)
    check("frame_count", frames, found.frame_count,
          abs(found.frame_count - frames) <= tolerance,
          f"frame count {found.frame_count}, source {frames}")
    want_rate = fmt.rate if fmt.rate is not None else source.rate
    if want_rate is not None and found.rate is not None:
        # Passthrough of variable-rate footage keeps its timing, so its average may drift a
        # little; a constant-rate proxy must be exact.
        slack = 0 if fmt.rate is not None else 0.01
        ok = abs(float(found.rate) - float(want_rate)) <= slack * float(want_rate) + 1e-6
        check("frame_rate", str(want_rate), str(found.rate), ok,
              f"frame rate {float(found.rate):.3f}, expected {float(want_rate):.3f}")
    check("timecode", source.timecode, found.timecode, found.timecode == source.timecode,
          f"start timecode {found.timecode or 'none'}, source {source.timecode or 'none'}")
    src_channels = [a.channels for a in source.audio]
    out_channels = [a.channels for a in found.audio]
    check("audio_streams", len(src_channels), len(out_channels),
          len(src_channels) == len(out_channels),
          f"{len(out_channels)} audio stream(s), source has {len(src_channels)}")
    if len(src_channels) == len(out_channels):
        check("audio_channels", src_channels, out_channels, src_channels == out_channels,
              f"audio channels {out_channels}, source {src_channels}")
    if failures:
        raise VerificationError("verification failed: " + "; ".join(failures),
                                details={"ok": False, "checks": checks})
    return {"ok": True, "checks": checks, "output": found.to_json()}
