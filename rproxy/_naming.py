"""Proxy file names from the naming template. Pure: same inputs, same names, any day."""

from __future__ import annotations

import string
from datetime import datetime
from pathlib import PurePath

TOKENS = ("source_name", "source_ext", "job_id", "date", "time", "index", "codec", "resolution")
CLOCK_TOKENS = frozenset({"date", "time"})


class TemplateError(ValueError):
    """The template cannot be parsed or uses something other than plain known tokens."""


def template_tokens(template: str) -> list[str]:
    """The tokens a template uses, in order; TemplateError for unknown or malformed ones."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"malformed template {template!r}: {exc}") from None
    used = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TOKENS:
            known = " ".join("{" + t + "}" for t in TOKENS)
            raise TemplateError(f"unknown token {{{field}}}; known tokens: {known}")
        if spec or conversion:
            raise TemplateError(f"token {{{field}}} takes no format or conversion")
        used.append(field)
    return used


def index_width(clip_count: int) -> int:
    """3 digits, or more for 1,000+ clips, so that names sort."""
    return max(3, len(str(clip_count - 1)))


def expand(
    template: str,
    *,
    source: PurePath,
    index: int,
    clip_count: int,
    job_id: str,
    codec: str,
    resolution: str,
    created_at: datetime | None,
) -> str:
    """The file name (without the container extension) for one clip."""
    values = {
        "source_name": source.stem,
        "source_ext": source.suffix.lstrip("."),
        "job_id": job_id,
        "index": f"{index:0{index_width(clip_count)}d}",
        "codec": codec,
        "resolution": resolution,
        "date": created_at.strftime("%Y%m%d") if created_at else "",
        "time": created_at.strftime("%H%M%S") if created_at else "",
    }
    return template.format_map(values)
