"""The plan: a pure, ordered list of clips (source, output, argv) computed from a JobSpec.

Same spec → byte-identical plan. Nothing here touches the filesystem."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._argv import ProxyFormat, SourceFacts, build_argv
from ._naming import index_width, output_names
from ._spec import JobSpec

# The logical program name in planned commands; the run substitutes the real binary.
FFMPEG = "ffmpeg"
# Bump when what a record proves changes, so older records are no longer trusted.
RECORD_GENERATION = 1
STATE_DIR = ".rproxy"


@dataclass(frozen=True)
class PlannedClip:
    """One clip of the plan. Paths are kept as normalised absolute strings and made `Path`
    on first use: a no-op re-run or `doit list` of a 2,000-clip job needs few of them, and
    building a Path costs more than the rest of the clip's planning."""

    index: int
    source: Path
    output_path: str
    partial_path: str  # where ffmpeg writes before verification; renamed into place after
    record_path: str
    argv: tuple[str, ...]
    task_name: str
    fingerprint: str

    @functools.cached_property
    def output(self) -> Path:
        return Path(self.output_path)

    @functools.cached_property
    def partial(self) -> Path:
        return Path(self.partial_path)

    @functools.cached_property
    def record(self) -> Path:
        return Path(self.record_path)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "task": self.task_name,
            "source": str(self.source),
            "output": self.output_path,
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
        output = os.path.normpath(os.path.join(out_dir, name))
        number = f"{index:0{width}d}"
        partial = f"{partial_dir}{os.sep}{number}.{fmt.extension}"
        argv = tuple(build_argv(FFMPEG, source, partial, fmt, facts))
        clips.append(
            PlannedClip(
                index=index,
                source=source,
                output_path=output,
                partial_path=partial,
                record_path=f"{record_dir}{os.sep}{number}.json",
                argv=argv,
                task_name=f"{job_id}:{number}",
                fingerprint=_fingerprint(argv, str(source), output),
            )
        )
    return Plan(spec=spec, fmt=fmt, clips=tuple(clips))


def _fingerprint(argv: tuple[str, ...], source: str, output: str) -> str:
    """Changes whenever what this clip would produce changes (command, paths, record rules)."""
    payload = json.dumps([RECORD_GENERATION, list(argv), source, output])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
