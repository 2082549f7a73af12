"""`rproxy init`: a starter JobSpec for a folder of clips.

The spec goes to ``jobs/<folder name>.json`` in the current folder (where ``doit`` looks), its
sources are the folder's video files in sorted order, and the defaults are what most editors
ask for: ProRes Proxy in mov at 1280x720, source timing kept. Nothing is ever overwritten."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import JobSpecValidationError, RproxyError
from ._spec import SCHEMA_VERSION, JobSpec
from ._validate import find_problems

# What FFmpeg reads and cameras write. Hidden files (macOS "._A001.mov" next to every clip on
# exFAT cards) are never sources.
VIDEO_EXTENSIONS = frozenset({
    ".mov", ".mp4", ".m4v", ".mxf", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".mpg",
    ".mpeg", ".dv", ".3gp",
})

DEFAULTS: dict[str, Any] = {
    "codec": "prores_proxy",
    "container": "mov",
    "resolution": "1280x720",
    "fps_mode": "passthrough",
    "naming_template": "{source_name}",
}


class InitError(RproxyError):
    """The starter spec could not be written (nothing was written)."""


@dataclass(frozen=True)
class Written:
    spec_path: Path
    clip_count: int
    output_dir: Path
    created_output_dir: bool
    in_subfolders: int = 0  # video files left out because they are below the folder


def find_clips(folder: Path, recursive: bool = False) -> list[Path]:
    """The video files in `folder` (and below it, when `recursive`), sorted by path (ignoring
    letter case)."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    clips = []
    for path in found:
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file():
            clips.append(path)
    def key(path: Path) -> tuple[str, str]:  # A001.mov, a002.MOV, A003.mov: letter case aside
        rel = path.relative_to(folder).as_posix()
        return rel.casefold(), rel

    return sorted(clips, key=key)


def _written_path(path: Path, spec_dir: Path) -> str:
    """How a path is written in the spec: relative to the spec's folder when the path lies in
    the project (the current folder), so the project can move; absolute otherwise (a card)."""
    here = Path.cwd().resolve()
    if path == here or here in path.parents:
        return Path(os.path.relpath(path, spec_dir)).as_posix()
    return str(path)


def init_spec(
    folder: str | Path,
    spec_path: str | Path | None = None,
    output_dir: str | Path | None = None,
    recursive: bool = False,
    **overrides: Any,
) -> Written:
    """Write a starter spec for the clips in `folder`; refuse to overwrite an existing file."""
    source_dir = Path(folder).expanduser().resolve()
    if not source_dir.is_dir():
        raise InitError(f"{folder} is not a folder")
    name = source_dir.name or "clips"
    spec_file = Path(spec_path) if spec_path else Path("jobs") / f"{name}.json"
    if spec_file.exists() or spec_file.is_symlink():
        raise InitError(f"{spec_file} already exists; not overwriting it (edit it, or choose "
                        "another file with --spec)")
    clips = find_clips(source_dir, recursive)
    if not clips:
        kinds = " ".join(sorted(VIDEO_EXTENSIONS))
        hint = "" if recursive else " (use --recursive to look in subfolders)"
        raise InitError(f"no video files in {folder}{hint}; looked for {kinds}")

    spec_dir = spec_file.parent.resolve()
    stems = [clip.stem.casefold() for clip in clips]
    if len(set(stems)) < len(stems) and overrides.get("naming_template") is None:
        # Two clips with one name (A001.mov and A001.mp4, or CLIP/C0001.MP4 on two cards):
        # number the proxies so every one gets its own name.
        overrides["naming_template"] = "{index}_{source_name}"
    out = Path(output_dir) if output_dir else Path("proxies") / name
    out_abs = out.expanduser().resolve()
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "sources": [_written_path(clip, spec_dir) for clip in clips],
        "output_dir": _written_path(out_abs, spec_dir),
        **DEFAULTS,
        **{k: v for k, v in overrides.items() if v is not None},
    }
    # A bad --codec/--container/--resolution: JobSpecValidationError (exit 2), nothing written.
    spec = JobSpec.from_dict(data, spec_dir, str(spec_file))
    problems = find_problems(spec, check_sources=True, output_dir_may_be_missing=True)
    if problems:
        raise JobSpecValidationError(problems, str(spec_file))

    created = not out_abs.exists()
    out_abs.mkdir(parents=True, exist_ok=True)
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        with open(spec_file, "x", encoding="utf-8") as handle:  # "x": never overwrite
            handle.write(text)
    except FileExistsError:
        raise InitError(f"{spec_file} already exists; not overwriting it") from None
    # A card keeps its clips in subfolders (CLIP/, PRIVATE/M4ROOT/CLIP/): say what was left.
    below = 0 if recursive else len(find_clips(source_dir, recursive=True)) - len(clips)
    return Written(spec_file, len(clips), out_abs, created, below)
