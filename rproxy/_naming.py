"""Proxy file names from the naming template. Pure: same inputs, same names, any day."""

from __future__ import annotations

import os
import string
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._spec import JobSpec

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
        # Not strftime: glibc writes the year 33 as "33", macOS as "0033".
        "date": f"{created_at.year:04d}{created_at.month:02d}{created_at.day:02d}"
        if created_at else "",
        "time": f"{created_at.hour:02d}{created_at.minute:02d}{created_at.second:02d}"
        if created_at else "",
    }
    return template.format_map(values)


def output_names(spec: JobSpec) -> list[str]:
    """The relative output path of each clip, as the template expands it (not yet checked).
    Computed once per spec object (validation and the plan both need them; a spec is frozen,
    and a model_copy(update=...) that carries the cache along has another id)."""
    cached: tuple[int, list[str]] | None = spec.__dict__.get("_output_names_cache")
    if cached is None or cached[0] != id(spec):
        cached = spec.__dict__["_output_names_cache"] = (id(spec), _output_names(spec))
    return list(cached[1])


def _output_names(spec: JobSpec) -> list[str]:
    count = len(spec.sources)
    extension = "." + spec.container.value
    template, job_id, codec = spec.naming_template, spec.id, spec.codec.value
    names = []
    for i, (written, resolved) in enumerate(zip(spec.sources, spec.source_paths, strict=True)):
        # {source_name}/{source_ext} come from the path as written; the resolved Path (already
        # built) has the same last component unless it was '.', '..', '~' or ended in '/'.
        source = resolved if os.path.basename(written) == resolved.name else PurePath(written)
        names.append(expand(template, source=source, index=i, clip_count=count,
                            job_id=job_id, codec=codec, resolution=spec.resolution,
                            created_at=spec.created_at) + extension)
    return names
