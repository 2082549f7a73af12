"""The plan: a pure, ordered list of clips (source, output, where its state lives) computed from
a JobSpec. Same spec → byte-identical plan. Nothing here touches the filesystem.

The commands themselves depend on what probing each source finds (timecode, fields, colour,
audio streams); ``_clip.clip_command`` builds the real one. The plan keeps the command the
format alone gives (no probe) for its fingerprint: what decides whether an existing proxy can
be reused, together with its source's size and mtime."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._argv import ProxyFormat, SourceFacts, build_argv
from ._naming import index_width, output_names
from ._spec import JobSpec
from ._truth import STATE_DIR, Folder, relative

# The logical program name in commands that have not run; the run uses the real binary.
FFMPEG = "ffmpeg"
# Bump when what a proxy's record proves changes, so that older proxies are made again.
RECORD_GENERATION = 2
_SOURCE, _OUTPUT = "{source}", "{output}"


@dataclass(frozen=True)
class PlannedClip:
    """One clip of the plan. Paths are normalised absolute strings, made `Path` on first use: a
    no-op re-run or `doit list` of a 2,000-clip job needs few of them, and building a Path
    costs more than the rest of the clip's planning."""

    index: int
    source_path: str
    name: str  # the proxy's path relative to output_dir
    output_path: str
    partial_path: str  # where ffmpeg writes before verification; renamed into place after
    record_path: str
    task_name: str  # proxy:<spec>:<name>

    @functools.cached_property
    def source(self) -> Path:
        return Path(self.source_path)

    @functools.cached_property
    def output(self) -> Path:
        return Path(self.output_path)

    @functools.cached_property
    def partial(self) -> Path:
        return Path(self.partial_path)

    @functools.cached_property
    def record(self) -> Path:
        return Path(self.record_path)


@dataclass(frozen=True)
class Plan:
    spec: JobSpec
    fmt: ProxyFormat
    clips: tuple[PlannedClip, ...]
    fingerprint: str  # of the command the format gives; the same for every clip

    @property
    def job_id(self) -> str:
        return self.spec.id

    @property
    def name(self) -> str:
        return self.spec.name

    @functools.cached_property
    def folder(self) -> Folder:
        return Folder(self.spec.output_path)

    @property
    def output_dir(self) -> str:
        return self.folder.output_dir

    @functools.cached_property
    def identity(self) -> str:
        """Which spec this is, as the output folder remembers it: its file relative to the
        folder (moving the folders together keeps it), or its job id when it has no file."""
        if self.spec.spec_file is None:
            return f"job:{self.job_id}"
        return "spec:" + relative(str(self.spec.spec_file), self.output_dir)

    @functools.cached_property
    def state_dir(self) -> Path:
        return self.folder.root / self.job_id

    @property
    def result_path(self) -> Path:
        return self.state_dir / "result.json"

    @property
    def report_path(self) -> Path:
        """Where `rproxy report` writes the job's QC page by default."""
        return self.state_dir / "report.html"

    @property
    def lock_path(self) -> Path:
        return self.state_dir / "lock"

    @property
    def run_path(self) -> Path:
        return self.state_dir / "run.json"

    @property
    def info_path(self) -> Path:
        return self.state_dir / "job.json"

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "spec": self.name,
            "output_dir": self.output_dir,
            "clip_count": len(self.clips),
        }


def proxy_format(spec: JobSpec) -> ProxyFormat:
    width, height = spec.size
    return ProxyFormat(spec.canonical_codec, spec.container, width, height, spec.rate)


def task_basename(spec_name: str) -> str:
    return f"proxy:{spec_name}"


def build_plan(spec: JobSpec) -> Plan:
    """The ordered clips of a (validated) spec."""
    fmt = proxy_format(spec)
    out_dir = str(spec.output_path)
    state = os.path.join(out_dir, STATE_DIR, spec.id)
    # Paths are joined as strings and made Path once: pathlib's `/` costs more than everything
    # else here, and a film's dailies have thousands of clips.
    partial_dir, record_dir = os.path.join(state, "partial"), os.path.join(state, "clips")
    width = index_width(len(spec.sources))
    basename = task_basename(spec.name)
    clips = []
    for index, (source, name) in enumerate(zip(spec.source_paths, output_names(spec),
                                               strict=True)):
        output = os.path.normpath(os.path.join(out_dir, name))
        number = f"{index:0{width}d}"
        rel = relative(output, out_dir)
        clips.append(PlannedClip(
            index=index,
            source_path=str(source),
            name=rel,
            output_path=output,
            partial_path=f"{partial_dir}{os.sep}{number}.{fmt.extension}",
            record_path=f"{record_dir}{os.sep}{number}.json",
            task_name=f"{basename}:{rel}",
        ))
    return Plan(spec=spec, fmt=fmt, clips=tuple(clips), fingerprint=format_fingerprint(fmt))


def format_command(fmt: ProxyFormat) -> list[str]:
    """The command the format alone gives, with placeholders for the paths."""
    return build_argv(FFMPEG, _SOURCE, _OUTPUT, fmt, SourceFacts())


def format_fingerprint(fmt: ProxyFormat) -> str:
    """Changes whenever the proxies of this format would be made differently. FFmpeg's binary
    and the paths are left out, so that moving the folders (or the virtualenv) keeps it."""
    payload = json.dumps([RECORD_GENERATION, format_command(fmt)[1:]])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
