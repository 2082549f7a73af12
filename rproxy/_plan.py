"""The plan: a pure, ordered list of clips (source, output, argv) computed from a JobSpec.

Same spec → byte-identical plan. Nothing here touches the filesystem."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._argv import ProxyFormat, SourceFacts, build_argv
from ._naming import expand, index_width
from ._spec import JobSpec

# The logical program name in planned commands; the run substitutes the real binary.
FFMPEG = "ffmpeg"
# Bump when what a record proves changes, so older records are no longer trusted.
RECORD_GENERATION = 1
STATE_DIR = ".rproxy"


@dataclass(frozen=True)
class PlannedClip:
    index: int
    source: Path
    output: Path
    partial: Path  # where ffmpeg writes before verification; renamed into place after
    record: Path
    argv: tuple[str, ...]
    task_name: str
    fingerprint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "task": self.task_name,
            "source": str(self.source),
            "output": str(self.output),
            "argv": list(self.argv),
            "command_line": shlex.join(self.argv),
        }


@dataclass(frozen=True)
class Plan:
    spec: JobSpec
    fmt: ProxyFormat
    clips: tuple[PlannedClip, ...]

    @property
    def job_id(self) -> str:
        return self.spec.id

    @property
    def state_dir(self) -> Path:
        return job_state_dir(self.spec)

    @property
    def result_path(self) -> Path:
        return self.state_dir / "result.json"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "lock"

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "output_dir": str(self.spec.output_path),
            "clip_count": len(self.clips),
            "clips": [clip.to_json() for clip in self.clips],
        }


def job_state_dir(spec: JobSpec) -> Path:
    return spec.output_path / STATE_DIR / spec.id


def proxy_format(spec: JobSpec) -> ProxyFormat:
    width, height = spec.size
    return ProxyFormat(spec.canonical_codec, spec.container, width, height, spec.rate)


def output_names(spec: JobSpec) -> list[str]:
    """The relative output path of each clip, as the template expands it (not yet checked)."""
    count = len(spec.sources)
    return [
        expand(
            spec.naming_template,
            source=Path(source),
            index=i,
            clip_count=count,
            job_id=spec.id,
            codec=spec.codec.value,
            resolution=spec.resolution,
            created_at=spec.created_at,
        )
        + "."
        + spec.container.value
        for i, source in enumerate(spec.sources)
    ]


def task_name(job_id: str, index: int, clip_count: int) -> str:
    return f"{job_id}:{index:0{index_width(clip_count)}d}"


def build_plan(spec: JobSpec) -> Plan:
    """The ordered clips of a (validated) spec."""
    fmt = proxy_format(spec)
    out_dir = str(spec.output_path)
    state = job_state_dir(spec)
    # Paths are joined as strings and made Path once: pathlib's `/` costs more than everything
    # else here, and a film's dailies have thousands of clips.
    partial_dir, record_dir = str(state / "partial"), str(state / "clips")
    count = len(spec.sources)
    width = index_width(count)
    job_id = spec.id
    facts = SourceFacts()
    clips = []
    for index, (source, name) in enumerate(zip(spec.source_paths, output_names(spec),
                                               strict=True)):
        output = Path(os.path.normpath(os.path.join(out_dir, name)))
        number = f"{index:0{width}d}"
        partial = Path(f"{partial_dir}{os.sep}{number}.{fmt.extension}")
        argv = tuple(build_argv(FFMPEG, source, partial, fmt, facts))
        clips.append(
            PlannedClip(
                index=index,
                source=source,
                output=output,
                partial=partial,
                record=Path(f"{record_dir}{os.sep}{number}.json"),
                argv=argv,
                task_name=f"{job_id}:{number}",
                fingerprint=_fingerprint(argv, source, output),
            )
        )
    return Plan(spec=spec, fmt=fmt, clips=tuple(clips))


def _fingerprint(argv: tuple[str, ...], source: Path, output: Path) -> str:
    """Changes whenever what this clip would produce changes (command, paths, record rules)."""
    payload = json.dumps([RECORD_GENERATION, list(argv), str(source), str(output)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
