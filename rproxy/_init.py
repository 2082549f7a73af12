"""`rproxy init`: starter JobSpecs for a folder of clips.

init is the helper that looks at the sources, so that the specs can stay explicit: it probes
every clip and writes one spec per display shape it finds (16:9 landscape, 9:16 portrait,
4:3 …), each with a resolution of that shape near the one asked for. The main shape's spec
(the shape most clips have) goes to ``jobs/<folder name>.json``, where ``doit`` looks, and
its proxies to ``proxies/<folder name>/``; another shape's spec and proxies get the shape's
name after an underscore (``jobs/A001_portrait.json``, ``proxies/A001_portrait/``).

What is never a source: hidden files, files under an rproxy output folder (one that holds a
``.rproxy/`` state folder) or under the proxies folders this init is about to use, and files
that cannot be probed as video (reported, and left out). Nothing is ever overwritten, and
when anything fails nothing is left behind."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _shapes as shapes
from ._bounded import STALL_LIMIT_S, bounded
from ._errors import JobSpecValidationError, ProbeError, Problem, RproxyError
from ._media import MediaInfo
from ._plan import proxy_format
from ._probe import probe
from ._rules import display_size, suggest_resolution
from ._scan import VIDEO_EXTENSIONS, find_clips, is_output_folder
from ._spec import SCHEMA_VERSION, JobSpec
from ._text import plural, printable, rproxy_command, short_path
from ._validate import STATE_DIR, _fold, find_problems, missing_output_dir

DEFAULTS: dict[str, Any] = {
    "codec": "prores_proxy",
    "container": "mov",
    "resolution": "1280x720",
    "fps_mode": "passthrough",
    "naming_template": "{source_name}",
}
NUMBERED = "{index}_{source_name}"

ProbeProgress = Callable[[int, int], None]  # (probed so far, clips in all)


class InitError(RproxyError):
    """The starter spec could not be written (nothing was written)."""


@dataclass(frozen=True)
class SpecWritten:
    """One spec that init wrote: the clips of one display shape."""

    spec_path: Path  # as the user would type it (relative when given so)
    clip_count: int
    output_dir: Path
    created_output_dir: bool
    shape: str  # "16:9 landscape"
    resolution: str
    notes: tuple[str, ...] = ()  # what init chose for this spec that the user did not, and why


@dataclass(frozen=True)
class Written:
    specs: tuple[SpecWritten, ...]  # the main shape's first
    left_out: tuple[tuple[Path, str], ...] = ()  # files that are no usable video, and why
    output_folders: tuple[Path, ...] = ()  # rproxy output folders that were not searched
    in_subfolders: int = 0  # video files left out because they are below the folder

    # The main spec, as callers of the one-spec init knew it.
    @property
    def spec_path(self) -> Path:
        return self.specs[0].spec_path

    @property
    def output_dir(self) -> Path:
        return self.specs[0].output_dir

    @property
    def created_output_dir(self) -> bool:
        return self.specs[0].created_output_dir

    @property
    def clip_count(self) -> int:
        return sum(spec.clip_count for spec in self.specs)


# -- deciding the specs ------------------------------------------------------------------


@dataclass
class _Planned:
    spec_path: Path
    output_dir: Path  # absolute
    clips: list[Path]
    shape: str
    resolution: str
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def _written_path(path: Path, spec_dir: Path) -> str:
    """How a path is written in the spec: relative to the spec's folder when the path lies in
    the project (the current folder), so the project can move; absolute otherwise (a card)."""
    here = Path.cwd().resolve()
    if path == here or here in path.parents:
        return Path(os.path.relpath(path, spec_dir)).as_posix()
    return str(path)


def naming_for(clips: list[Path], folder: Path) -> tuple[str, str | None]:
    """The naming template for these clips, and why it is not the default (None: it is).
    Two clips with one name (A001.mov and A001.mp4, or CLIP/C0001.MP4 on two cards, or
    names that differ only in letter case) would make one proxy name: number them."""
    seen: dict[str, Path] = {}
    for clip in clips:
        key = _fold(clip.stem)  # the rule validation applies to the proxies' names
        if key in seen:
            first, second = (printable(p.relative_to(folder).as_posix())
                             for p in (seen[key], clip))
            return NUMBERED, (f"naming_template is {NUMBERED}, not {{source_name}}: {first} "
                              f"and {second} would get one proxy name, so each proxy's name "
                              "starts with its clip's number")
        seen[key] = clip
    return DEFAULTS["naming_template"], None


def _spec_data(clips: list[Path], spec_file: Path, output_dir: Path,
               overrides: dict[str, Any]) -> dict[str, Any]:
    spec_dir = spec_file.parent.resolve()
    return {
        "schema_version": SCHEMA_VERSION,
        "sources": [_written_path(clip, spec_dir) for clip in clips],
        "output_dir": _written_path(output_dir, spec_dir),
        **DEFAULTS,
        **{k: v for k, v in overrides.items() if v is not None},
    }


def _checked(data: dict[str, Any], spec_file: Path) -> JobSpec:
    """The spec of `data`, or JobSpecValidationError (exit 2) with every problem."""
    spec = JobSpec.from_dict(data, spec_file.parent.resolve(), str(spec_file))
    problems = find_problems(spec, check_sources=True, output_dir_may_be_missing=True)
    if problems:
        # Not written yet: the problems are those of the spec init would write. Where they
        # are the clips' own names (a proxy is named after its clip), say what to rename.
        names = [p for p in problems if p.field.startswith("naming_template (clip")]
        if names and len(names) == len(problems):
            shown = ", ".join(printable(Path(data["sources"][_clip_of(p)]).name)
                              for p in names[:5])
            more = f" and {len(names) - 5} more" if len(names) > 5 else ""
            raise InitError(f"{plural(len(names), 'clip')} cannot name a proxy ({shown}"
                            f"{more}): {names[0].message.split(';')[0]}; rename those clips "
                            f"or move them out of the folder (nothing was written)")
        raise JobSpecValidationError(problems, f"{spec_file} (not written)")
    return spec


def _clip_of(problem: Problem) -> int:
    """'naming_template (clip 3)' → 3."""
    return int(problem.field.rsplit(" ", 1)[-1].rstrip(")"))


def _beside(path: Path, suffix: str) -> Path:
    """jobs/A001.json -> jobs/A001_portrait.json; proxies/A001 -> proxies/A001_portrait."""
    return path.with_name(f"{path.stem}_{suffix}{path.suffix}")


def _not_a_folder(folder: Path) -> Path | None:
    """The first existing path on the way to `folder` when it is not a folder (a file
    called jobs): mkdir would fail there. None when `folder` can be made."""
    path = folder
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return None if path.is_dir() else path


def _refuse_existing(spec_file: Path, what: str = "") -> None:
    if os.path.lexists(spec_file):
        raise InitError(f"{printable(str(spec_file))} already exists{what}; not overwriting "
                        "it (edit it, or choose another file with --spec)")


def _probe_all(clips: list[Path], on_probe: ProbeProgress | None
               ) -> tuple[list[tuple[Path, MediaInfo]], list[tuple[Path, str]]]:
    """Each clip's probe, or why it is no usable video. A stalled read (a dead network
    mount) stops init: every other clip there would stall too."""
    probed: list[tuple[Path, MediaInfo]] = []
    unusable: list[tuple[Path, str]] = []
    for done, clip in enumerate(clips, 1):
        try:
            info = bounded(probe, (clip,), STALL_LIMIT_S,
                           f"probing {clip}")
            probed.append((clip, info))
        except ProbeError as exc:
            unusable.append((clip, exc.reason))
        if on_probe is not None:
            on_probe(done, len(clips))
    return probed, unusable


def _plan_specs(probed: list[tuple[Path, MediaInfo]], folder: Path, spec_file: Path,
                out: Path, requested: JobSpec, overrides: dict[str, Any]) -> list[_Planned]:
    """One spec per display shape, the biggest group first, with the resolution of its
    shape near the one asked for (the requested short side kept)."""
    sizes = [display_size(info) for _, info in probed]
    fmt = proxy_format(requested)
    asked = requested.resolution
    planned: list[_Planned] = []
    used: set[str] = set()
    for number, members in enumerate(shapes.group_by_shape(sizes)):
        info = probed[shapes.representative(members, sizes)][1]
        width, height = suggest_resolution(info, requested.size, fmt)
        resolution = f"{width}x{height}"
        size = (width, height)
        spec_path, output_dir = spec_file, out
        if number:
            suffix = shapes.suffix(size)
            if suffix in used:  # two shapes near one name (16:9 and 1.76:1): the size tells
                suffix = f"{suffix}_{resolution}"
            used.add(suffix)
            spec_path, output_dir = _beside(spec_file, suffix), _beside(out, suffix)
        clips = [probed[i][0] for i in members]
        item = _Planned(spec_path, output_dir, clips, shapes.describe(size), resolution)
        if resolution != asked:
            item.notes.append(f"resolution is {resolution}, not {asked}: the clips are "
                              f"{item.shape} (a proxy keeps its source's shape)")
        template = overrides.get("naming_template")
        if template is None:
            template, why = naming_for(clips, folder)
            if why:
                item.notes.append(why)
        item.data = _spec_data(clips, spec_path, output_dir,
                               {**overrides, "resolution": resolution,
                                "naming_template": template})
        planned.append(item)
    return planned


# -- writing -----------------------------------------------------------------------------


def _make_folder(folder: Path, made: list[Path]) -> bool:
    """Create `folder` and its missing parents, noting each one made (to undo); True when
    `folder` was missing."""
    missing = []
    path = folder
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    for step in reversed(missing):
        step.mkdir()
        made.append(step)
    return bool(missing)


def _write_all(planned: list[_Planned]) -> list[bool]:
    """Make every proxies folder and write every spec, or, when any step fails, undo every
    step done: nothing is left half-written. True for each output folder that was made."""
    # Encoded first: a name that is no text (a surrogate) fails here, before any file exists.
    texts = [(json.dumps(p.data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
             for p in planned]
    made: list[Path] = []
    written: list[Path] = []
    try:
        created = [_make_folder(p.output_dir, made) for p in planned]
        for item, text in zip(planned, texts, strict=True):
            _make_folder(item.spec_path.parent, made)
            with open(item.spec_path, "xb") as handle:  # "x": never overwrite
                written.append(item.spec_path)
                handle.write(text)
        return created
    except BaseException as exc:  # an interrupt too: undo, then let it go on
        for path in reversed(written):
            with contextlib.suppress(OSError):
                os.unlink(path)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty
        if isinstance(exc, FileExistsError):
            raise InitError(f"{printable(str(exc.filename))} already exists; not overwriting "
                            "it, and nothing was written") from None
        if isinstance(exc, OSError):
            raise InitError(f"cannot write {printable(str(exc.filename))}: "
                            f"{exc.strerror}; nothing was written") from None
        raise


# -- the whole step ----------------------------------------------------------------------


def init_spec(
    folder: str | Path,
    spec_path: str | Path | None = None,
    output_dir: str | Path | None = None,
    recursive: bool = False,
    *,
    on_probe: ProbeProgress | None = None,
    **overrides: Any,
) -> Written:
    """Write starter specs for the clips in `folder`, one per display shape; refuse to
    overwrite any existing file. `overrides`: codec, container, resolution (the size asked
    for: each shape gets one of its own near it), naming_template."""
    source_dir = Path(folder).expanduser().resolve()
    if not source_dir.is_dir():
        raise InitError(f"{printable(str(folder))} is not a folder")
    if is_output_folder(source_dir):
        raise InitError(f"{printable(str(folder))} is an rproxy output folder (it holds "
                        f"{STATE_DIR}/): its video files are proxies; give the folder of the "
                        "camera originals")
    name = source_dir.name or "clips"
    spec_file = Path(spec_path) if spec_path else Path("jobs") / f"{name}.json"
    out = (Path(output_dir) if output_dir else Path("proxies") / name).expanduser().resolve()
    _refuse_existing(spec_file)
    for place, what, option in ((spec_file.parent, "the spec", "--spec PATH"),
                                (out, "the proxies", "--output-dir DIR")):
        blocker = _not_a_folder(place)
        if blocker is not None:
            raise InitError(f"{printable(str(blocker))} is a file, not a folder, so "
                            f"{what} cannot go in {printable(str(place))}; choose another "
                            f"place with {option}")

    here = Path.cwd().resolve()
    if not os.path.lexists(out) and here not in out.parents:
        # Outside the project only the last folder is made, as a run would: a proxies drive
        # that is not mounted must not become a folder of that name on the system disk.
        for problem in missing_output_dir(out):
            raise InitError(f"cannot make the proxies folder: {problem.message}")

    def ours(path: Path) -> bool:  # the proxies folders this init writes to: out, out_<shape>
        return path == out or (path.parent == out.parent and path.name.startswith(out.name
                                                                                  + "_"))

    found = find_clips(source_dir, recursive, avoid=ours)
    if not found.clips:
        kinds = " ".join(sorted(VIDEO_EXTENSIONS))
        hint = ""
        if found.below:
            hint = (f"; {plural(found.below, 'video file')} in subfolders: add --recursive to "
                    "take them")
        elif found.output_folders and recursive:
            hint = f"; skipped {_folders_text(found.output_folders)}"
        raise InitError(f"no video files in {printable(str(folder))}{hint} (looked for "
                        f"{kinds})")

    # The spec's own problems (codec, container, resolution, file names) before any clip is
    # opened: they are the same for every shape.
    template = overrides.get("naming_template") or naming_for(found.clips, source_dir)[0]
    requested = _checked(_spec_data(found.clips, spec_file, out,
                                    {**overrides, "naming_template": template}), spec_file)

    probed, unusable = _probe_all(found.clips, on_probe)
    if not probed:
        reasons = "; ".join(f"{printable(p.name)}: {why}" for p, why in unusable[:3])
        more = f" (and {len(unusable) - 3} more)" if len(unusable) > 3 else ""
        raise InitError(f"none of the {plural(len(unusable), 'video file')} in "
                        f"{printable(str(folder))} can be read as video: {reasons}{more}")

    planned = _plan_specs(probed, source_dir, spec_file, out, requested, overrides)
    for item in planned[1:]:
        _refuse_existing(item.spec_path, f" (for the {item.shape} clips)")
    for item in planned:
        _checked(item.data, item.spec_path)
    created = _write_all(planned)
    specs = tuple(SpecWritten(p.spec_path, len(p.clips), p.output_dir, made, p.shape,
                              p.resolution, tuple(p.notes))
                  for p, made in zip(planned, created, strict=True))
    return Written(specs, tuple(unusable), found.output_folders if recursive else (),
                   found.below)


def _folders_text(folders: Collection[Path]) -> str:
    names = ", ".join(printable(short_path(f)) for f in list(folders)[:3])
    more = f" and {len(folders) - 3} more" if len(folders) > 3 else ""
    return (f"{plural(len(folders), 'rproxy output folder')} ({names}{more}: they hold "
            f"{STATE_DIR}/, so their files are proxies)")


# -- telling the user --------------------------------------------------------------------


def summary_lines(written: Written, cwd: Path) -> list[str]:
    """What `rproxy init` prints: each spec written, what init chose and why, what it left
    out, and the next step, with hints that fit (doit's when the specs are where it looks)."""
    lines = []
    for spec in written.specs:
        made = " (created)" if spec.created_output_dir else ""
        lines.append(f"wrote {short_path(spec.spec_path)}: {plural(spec.clip_count, 'clip')}, "
                     f"proxies into {short_path(spec.output_dir)}{made}; {spec.resolution} "
                     f"({spec.shape})")
        lines += [f"  note: {note}" for note in spec.notes]
    if len(written.specs) > 1:
        lines.append(f"note: the clips have {len(written.specs)} display shapes: one spec "
                     "each, so that every proxy keeps its clip's shape")
    if written.left_out:
        lines.append(f"left out {plural(len(written.left_out), 'file')} that cannot be read "
                     "as video:")
        lines += [f"  {short_path(path)}: {why}" for path, why in written.left_out]
    if written.output_folders:
        lines.append(f"skipped {_folders_text(written.output_folders)}")
    if written.in_subfolders:
        count = written.in_subfolders
        lines.append(f"note: {plural(count, 'more video file')} in subfolders "
                     f"{'was' if count == 1 else 'were'} left out; add --recursive to take "
                     "them (as on a camera card)")
    paths = [short_path(spec.spec_path) for spec in written.specs]
    runs = " and ".join(f"`{rproxy_command()} run {path}`" for path in paths)
    them = "them" if len(paths) > 1 else "it"
    lines.append(f"next: edit {them} if needed, then {runs} ({_doit_hint(written, cwd)})")
    return [printable(line) for line in lines]


def _doit_hint(written: Written, cwd: Path) -> str:
    """doit reads jobs/*.json of the folder it runs in (dodo.py's), or `doit spec=PATH`."""
    jobs = (cwd / "jobs").resolve()
    in_jobs = all(spec.spec_path.resolve().parent == jobs and spec.spec_path.suffix == ".json"
                  for spec in written.specs)
    if in_jobs:
        hint = "or `doit`, which runs every jobs/*.json"
    else:
        specs = " ".join(f"`doit spec={short_path(s.spec_path)}`" for s in written.specs)
        hint = f"or {specs}: plain `doit` reads only jobs/*.json"
    if not (cwd / "dodo.py").is_file():
        hint += ", once a dodo.py here holds `from rproxy.dodo import *`"
    return hint
