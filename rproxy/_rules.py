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
