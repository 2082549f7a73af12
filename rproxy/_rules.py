"""What a probed source means for the proxy asked of it: the problems that refuse it, the
warnings about what changes, and the facts the argv builder needs. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._argv import ProxyFormat, SourceFacts
from ._formats import MXF_RATES, Codec, Container, describe_rates, dnxhd_bitrate, format_rate
from ._probe import MediaInfo, source_facts


@dataclass(frozen=True)
class Assessment:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: SourceFacts = field(default_factory=SourceFacts)


def assess(fmt: ProxyFormat, info: MediaInfo) -> Assessment:
    problems: list[str] = []
    rate = fmt.rate or info.rate
    if fmt.container is Container.MXF and fmt.rate is None and info.rate not in MXF_RATES:
        found = format_rate(info.rate) if info.rate else "unknown/variable"
        problems.append(f"MXF needs a standard constant frame rate ({describe_rates(MXF_RATES)})"
                        f"; the source runs at {found} fps: use fps_mode 'cfr' or another "
                        "container")
    if fmt.codec is Codec.DNXHD and (
        rate is None or dnxhd_bitrate(fmt.width, fmt.height, rate) is None
    ):
        found = format_rate(rate) if rate else "unknown"
        problems.append(f"DNxHD at {fmt.width}x{fmt.height} has no bitrate for {found} fps; "
                        "use fps_mode 'cfr' with a standard rate, or dnxhr")
    return Assessment(problems=problems, facts=source_facts(info))


def display_size(info: MediaInfo) -> tuple[int, int]:
    """The picture as it is shown: pixel aspect and rotation applied."""
    width, height = info.width, info.height
    sar = info.sample_aspect_ratio
    if sar and ":" in sar:
        num, den = (int(x) for x in sar.split(":"))
        if num > 0 and den > 0:
            width = round(width * num / den)
    if info.rotation in (90, 270):
        width, height = height, width
    return width, height


def suggest_resolution(info: MediaInfo, requested: tuple[int, int], fmt: ProxyFormat
                       ) -> tuple[int, int]:
    """A size of the source's display shape near `requested`: the requested short side kept
    as the short side, the long side following the shape, both even."""
    width, height = display_size(info)
    short = min(requested)
    if width >= height:
        return _even(short * width / height), _even(short)
    return _even(short), _even(short * height / width)


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))
