"""Validation before anything runs: every problem collected in one pass, each naming its field
once, in words.

The structural rules of each field live in ``_spec``; here are the rules across fields and on
the file system (sources exist, output folder usable, proxy names legal and distinct). A rule
that reads a field which is itself wrong is skipped, so each mistake is said once. Media is
never probed here: limits that depend on the source are the pre-flight's."""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path

from ._errors import JobSpecValidationError, Problem
from ._formats import (
    DNXHD_BITRATES,
    DNXHR_MIN_SIZE,
    FORMATS,
    MXF_RATES,
    Codec,
    Container,
    describe_rates,
    format_rate,
)
from ._jsonfile import JsonFileError, read_json_file
from ._naming import CLOCK_TOKENS, TemplateError, output_names, template_tokens
from ._spec import KEY_ORDER, FpsMode, JobSpec, Parsed, parse_spec
from ._text import has_unprintable, printable, surrogate_in

# "concat:", "pipe:", "http://", "tcp:"...: ffmpeg would read these as protocols. A drive
# letter ("C:") is not a scheme.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
STATE_DIR = ".rproxy"  # rproxy's own folder inside output_dir (see _plan)
# Every file system editors copy proxies to (APFS, HFS+, ext4, exFAT, NTFS) holds at most
# 255 bytes (or UTF-16 units) per name: a longer proxy name would not survive the copy.
NAME_MAX_BYTES = 255
# Room below <output_dir>/.rproxy/<job_id>/ for rproxy's own files (partial/, clips/ ...).
_STATE_RESERVE_BYTES = 64
# The fields that decide the proxies' names: rules on names need them all.
_NAME_FIELDS = ("naming_template", "sources", "container", "output_dir", "created_at",
                "codec", "resolution", "job_id")


def load_spec(path: str | os.PathLike[str], *, check_sources: bool = True,
              full: bool = True) -> JobSpec:
    """Read, parse and check the spec file at `path`; raise one JobSpecValidationError with
    every problem. Without `check_sources`, sources may be missing (under doit the user's own
    tasks may make them; the clip checks when it runs).

    With `full=False` (``JobSpec.from_file``: a parse) the rules beyond each field's own run
    only when a field is wrong, so that its error still tells all it can at once; then the
    rules that depend on what runs the spec (missing sources, a missing output folder) are
    left to ``validate``."""
    origin = os.fspath(path)
    try:
        data = read_json_file(origin)
    except JsonFileError as exc:
        raise JobSpecValidationError([Problem(f"({exc.what})", exc.message)], origin) from None
    spec_file = Path(os.path.abspath(origin))
    return check_parsed(parse_spec(data, spec_file=spec_file), origin,
                        check_sources=check_sources, full=full)


def check_parsed(parsed: Parsed, origin: str | None = None, *, check_sources: bool = True,
                 full: bool = True) -> JobSpec:
    """The spec, or one JobSpecValidationError listing its structural problems and every
    other problem of the fields that are right (see ``load_spec`` for the flags)."""
    problems = list(parsed.problems)
    if parsed.spec is not None and full:
        problems += _problems(parsed.spec, check_sources, parsed.invalid)
    elif parsed.spec is not None and problems:
        problems += _problems(parsed.spec, False, parsed.invalid, skip=frozenset({"output_dir"}))
    if problems or parsed.spec is None:
        raise JobSpecValidationError(_in_field_order(problems), origin)
    return parsed.spec


def validate(spec: JobSpec, origin: str | None = None) -> None:
    """Raise one JobSpecValidationError listing every problem, or return None."""
    problems = find_problems(spec)
    if problems:
        raise JobSpecValidationError(problems, origin)


def find_problems(spec: JobSpec, *, check_sources: bool = True,
                  output_dir_may_be_missing: bool = False) -> list[Problem]:
    """Every problem of a parsed `spec`, in field order, one per field (and per clip).
    Without `check_sources`, sources may be missing (see ``load_spec``).

    A missing output folder is fine when its parent exists (the first clip makes it, one
    level), for `rproxy run` and doit alike. `output_dir_may_be_missing` skips that rule, for
    `rproxy init` alone, which makes the folder itself (parents included, in the project)
    before anything runs; doit must not pass it any more (issue 11: a missing mount point)."""
    skip = frozenset({"output_dir"}) if (
        output_dir_may_be_missing and not os.path.lexists(spec.output_path)) else frozenset()
    return _in_field_order(_problems(spec, check_sources, frozenset(), skip))


def _problems(spec: JobSpec, check_sources: bool, invalid: frozenset[str],
              skip: frozenset[str] = frozenset()) -> list[Problem]:
    """The rules across fields and on disk, each skipped when a field it reads is
    `invalid`; the rules on the fields in `skip` themselves are left out. Without
    `check_sources`, what a task of the user's may make is not required yet: the sources, and
    a missing output folder's parent."""
    def ok(*fields: str) -> bool:
        return invalid.isdisjoint(fields)

    problems: list[Problem] = _spec_file_problems(spec)
    folder = _folder_problem(spec)
    if folder is not None:  # every relative path would inherit it: say it once
        problems.append(folder)
        invalid = invalid | {"sources", "output_dir"}
    if ok("sources"):
        problems += _check_sources(spec, check_sources)
    if ok("output_dir") and "output_dir" not in skip and (
            check_sources or os.path.lexists(spec.output_path)):
        # Under doit (check_sources off) a missing folder, or its missing parent, may be made
        # by a task of the user's: the job checks it when it starts (missing_output_dir).
        problems += _check_output_dir(spec)
    if ok("codec", "container"):
        problems += _check_container(spec)
    if ok("codec", "resolution"):
        problems += _check_resolution(spec)
    if ok("fps_mode", "fps"):
        problems += _check_timing(spec, ok)
    if ok("naming_template"):
        template_problems = _check_template(spec, ok)
        problems += template_problems
        if not template_problems and ok(*_NAME_FIELDS):
            problems += _check_outputs(spec)
    return _one_per_field(problems)


def _spec_file_problems(spec: JobSpec) -> list[Problem]:
    """The spec file's name names the job (doit's task names, every line about it)."""
    if spec.spec_file is None or not has_unprintable(spec.spec_file.name):
        return []
    return [Problem("(file)", f"the spec's file name {printable(spec.spec_file.name)} holds "
                              "a control character or a byte that is not UTF-8; rename it "
                              "(it names the job)")]


def _folder_problem(spec: JobSpec) -> Problem | None:
    bad = surrogate_in(str(spec.base_dir))
    if bad is None:
        return None
    return Problem("(file)", f"the spec's folder {printable(str(spec.base_dir))} is not valid "
                             f"UTF-8 (a byte shown as {printable(bad)}); rename it")


def _check_sources(spec: JobSpec, must_exist: bool) -> list[Problem]:
    problems = []
    for i, (written, path) in enumerate(zip(spec.sources, spec.source_paths, strict=True)):
        field = f"sources.{i}"
        text = str(path)
        if _SCHEME.match(written) and not written.startswith(("/", "./", "../")):
            problems.append(Problem(field, f'"{printable(written)}" looks like a URL or an '
                                           "ffmpeg protocol; rproxy reads only local files "
                                           "(write ./NAME for a file whose name has a colon)"))
            continue
        bad = surrogate_in(text)  # from ~ (the home folder): the written text is checked
        if bad is not None:
            problems.append(Problem(field, f"{printable(text)} is not valid UTF-8 (a byte "
                                           f"shown as {printable(bad)}); rename it"))
            continue
        if not must_exist and not os.path.lexists(text):
            continue
        problem = source_file_problem(text)
        if problem:
            problems.append(Problem(field, problem))
    return problems


def source_file_problem(text: str) -> str | None:
    """Why the file at `text` cannot be read as a source (missing, a folder, unreadable), or
    None. Validation and the pre-flight (which sees the sources later, under doit) both ask."""
    try:
        info = os.stat(text)
    except FileNotFoundError:
        return f"source does not exist: {printable(text)}"
    except OSError as exc:
        return f"cannot read source {printable(text)}: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        return f"source is {kind}: {printable(text)}"
    if not os.access(text, os.R_OK):
        return f"source is not readable: {printable(text)}"
    return None


def _check_output_dir(spec: JobSpec) -> list[Problem]:
    """The folder must be a writable folder, or missing with a writable parent folder: the
    first clip creates it then, one level only, so a proxies drive that is not mounted is
    never replaced by a folder of that name on the system disk."""
    path = spec.output_path
    shown = printable(str(path))
    bad = surrogate_in(str(path))
    if bad is not None:
        return [Problem("output_dir", f"{shown} is not valid UTF-8 (a byte shown as "
                                      f"{printable(bad)}); rename it")]
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return missing_output_dir(path)
    except OSError as exc:
        return [Problem("output_dir", f"cannot use output folder {shown}: {exc.strerror}")]
    if not stat.S_ISDIR(info.st_mode):
        return [Problem("output_dir", f"output_dir is not a folder: {shown}")]
    if not os.access(path, os.W_OK | os.X_OK):
        return [Problem("output_dir", f"output folder is not writable: {shown}")]
    return []


def missing_output_dir(path: Path) -> list[Problem]:
    """The problems of an output folder that does not exist (none: its parent does, and
    rproxy may create it, one level)."""
    shown, parent = printable(str(path)), printable(str(path.parent))
    if os.path.lexists(path):
        return [Problem("output_dir", f"output_dir is a link to nothing: {shown}")]
    if not path.parent.is_dir():
        return [Problem("output_dir", f"output folder {shown} does not exist, and neither "
                                      f"does its parent folder {parent}. Is the drive "
                                      "connected? rproxy creates only the last folder")]
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return [Problem("output_dir", f"output folder {shown} does not exist and cannot be "
                                      f"created: {parent} is not writable")]
    if len(path.name.encode("utf-8")) > NAME_MAX_BYTES:
        return [Problem("output_dir", f"the folder name {printable(path.name, limit=60)} is "
                                      f"longer than {NAME_MAX_BYTES} bytes")]
    return []  # made by the first clip that runs


def _check_container(spec: JobSpec) -> list[Problem]:
    info = FORMATS[spec.codec]
    if spec.container in info.containers:
        return []
    allowed = ", ".join(c.value for c in info.containers)
    return [Problem("container", f"{spec.codec.value} cannot go in {spec.container.value}; "
                                 f"use one of: {allowed}")]


def _check_resolution(spec: JobSpec) -> list[Problem]:
    info = FORMATS[spec.codec]
    width, height = spec.size
    res = spec.resolution
    message = None
    if width > 8192 or height > 8192:
        message = f"{res} is larger than 8192 on a side; a proxy should be smaller than its source"
    elif spec.codec is Codec.DNXHD and (width, height) not in DNXHD_BITRATES:
        sizes = ", ".join(f"{w}x{h}" for w, h in DNXHD_BITRATES)
        message = f"DNxHD encodes only {sizes}, got {res} (use dnxhr for other sizes)"
    elif spec.codec is Codec.DNXHR and (width < DNXHR_MIN_SIZE[0] or height < DNXHR_MIN_SIZE[1]):
        message = f"DNxHR needs at least {DNXHR_MIN_SIZE[0]}x{DNXHR_MIN_SIZE[1]}, got {res}"
    elif info.chroma_420 and (width % 2 or height % 2):
        message = f"{spec.codec.value} (4:2:0) needs an even width and height, got {res}"
    elif not info.chroma_420 and width % 2:
        message = f"{spec.codec.value} (4:2:2) needs an even width, got {res}"
    return [Problem("resolution", message)] if message else []


def _check_timing(spec: JobSpec, ok: Callable[..., bool]) -> list[Problem]:
    if spec.fps_mode is FpsMode.CFR and spec.fps is None:
        return [Problem("fps", "fps_mode 'cfr' needs fps, e.g. \"25\" or \"24000/1001\"")]
    if spec.fps_mode is FpsMode.PASSTHROUGH and spec.fps is not None:
        return [Problem("fps", "fps is only used with fps_mode 'cfr'; remove it or set "
                               "fps_mode to 'cfr'")]
    rate = spec.rate
    if rate is None:
        return []
    if ok("codec", "resolution") and spec.codec is Codec.DNXHD:
        rates = DNXHD_BITRATES.get(spec.size)
        if rates is not None and rate not in rates:
            return [Problem("fps", f"DNxHD at {spec.resolution} has no bitrate for "
                                   f"{format_rate(rate)} fps; it takes {describe_rates(rates)}")]
    if ok("container") and spec.container is Container.MXF and rate not in MXF_RATES:
        return [Problem("fps", f"MXF takes only standard rates ({describe_rates(MXF_RATES)}), "
                               f"got {spec.fps}")]
    return []


def _check_template(spec: JobSpec, ok: Callable[..., bool]) -> list[Problem]:
    template = spec.naming_template
    if has_unprintable(template):
        return [Problem("naming_template", f'"{printable(template)}" holds a control or '
                                           "invisible character; proxy names must print as "
                                           "they are")]
    try:
        tokens = template_tokens(template)
    except TemplateError as exc:
        return [Problem("naming_template", str(exc))]
    problems = []
    if ok("sources") and len(spec.sources) > 1 and not {"index", "source_name"} & set(tokens):
        problems.append(Problem("naming_template", f"{len(spec.sources)} sources need "
                                                   "{index} or {source_name} in the template, "
                                                   "or every clip gets the same name"))
    clock = sorted(CLOCK_TOKENS & set(tokens))
    if clock and ok("created_at") and spec.created_at is None:
        problems.append(Problem("created_at", "the template uses "
                                              + " ".join("{" + t + "}" for t in clock)
                                              + (", which need" if len(clock) > 1 else
                                                 ", which needs")
                                              + " created_at (never the wall clock, "
                                              "so that reruns give the same names)"))
    return problems


def _check_outputs(spec: JobSpec) -> list[Problem]:
    problems = []
    out_dir_text = str(spec.output_path)
    inside_prefix = out_dir_text.rstrip(os.sep) + os.sep
    state_text = os.path.join(out_dir_text, STATE_DIR)
    path_max = _path_max(spec.output_path)
    state_bytes = len(os.path.join(state_text, spec.id).encode("utf-8"))
    if state_bytes + _STATE_RESERVE_BYTES >= path_max:
        problems.append(Problem("output_dir", f"the output folder's path is {state_bytes} "
                                              f"bytes with rproxy's state folder; paths here "
                                              f"can have {path_max - 1}: use a shorter one"))
    sources = {_fold(str(p)): i for i, p in enumerate(spec.source_paths)}
    seen: dict[str, tuple[int, str]] = {}
    for i, name in enumerate(output_names(spec)):
        field = f"naming_template (clip {i})"
        shown = printable(name, limit=80)
        if os.path.isabs(name) or name.startswith("~"):
            problems.append(Problem(field, f'output name "{shown}" is absolute; names are '
                                           "relative to output_dir"))
            continue
        # Plain strings, not pathlib: this runs for every clip (2,000+ in a film's dailies).
        output_text = os.path.normpath(os.path.join(out_dir_text, name))
        if not output_text.startswith(inside_prefix) or output_text == out_dir_text:
            problems.append(Problem(field, f'output "{shown}" escapes output_dir'))
            continue
        output_name = os.path.basename(output_text)
        if output_name.startswith(".") or output_name == "." + spec.container.value:
            problems.append(Problem(field, f'output name "{shown}" is empty or hidden'))
            continue
        if output_text == state_text or output_text.startswith(state_text + os.sep):
            problems.append(Problem(field, f'output "{shown}" is inside rproxy\'s state '
                                           "folder"))
            continue
        message = _name_problem(output_text[len(inside_prefix):], output_text, path_max)
        if message is not None:
            problems.append(Problem(field, message))
            continue
        key = _fold(output_text)
        if key in sources:
            problems.append(Problem(field, f"output {printable(output_text)} is source "
                                           f"{sources[key]} itself"))
        elif key in seen:
            other, other_name = seen[key]
            if spec.sources[i] == spec.sources[other]:
                problems.append(Problem(f"sources.{i}", f"is sources.{other} again; list "
                                                        "each clip once"))
                continue
            problems.append(Problem(field, f"output {printable(output_name)} collides with "
                                           f"clip {other}'s output {printable(other_name)} "
                                           f"({_alike(output_name, other_name)})"))
        else:
            seen[key] = (i, output_name)
    return problems


def _name_problem(relative: str, output_text: str, path_max: int) -> str | None:
    """Why a proxy's path (`relative` to output_dir) cannot be a file's name, or None."""
    if has_unprintable(relative):
        return (f'proxy name "{printable(relative, limit=80)}" holds a control or invisible '
                "character (from the source's name?); rename the source, or leave "
                "{source_name} out of the template")
    # UTF-8 takes at most 4 bytes a character: most names are too short to need counting.
    if len(relative) * 4 > NAME_MAX_BYTES:
        for part in relative.split(os.sep):
            size = len(part.encode("utf-8"))
            if size > NAME_MAX_BYTES:
                return (f'proxy name "{printable(part, limit=60)}" is {size} bytes; a file '
                        f"name can have at most {NAME_MAX_BYTES} (shorten the template or "
                        "the source's name)")
    if len(output_text) * 4 >= path_max:
        size = len(output_text.encode("utf-8"))
        if size >= path_max:
            return (f"the proxy's path is {size} bytes; paths here can have at most "
                    f"{path_max - 1} (use a shorter output_dir or template)")
    return None


def _path_max(folder: Path) -> int:
    """The longest path (bytes, with the final NUL) the file system of `folder` (or its
    nearest existing parent) opens: 4096 on Linux, 1024 on macOS."""
    for candidate in (folder, *folder.parents):
        try:
            return int(os.pathconf(candidate, "PC_PATH_MAX"))
        except (OSError, ValueError):
            continue
    return 1024


def _fold(text: str) -> str:
    """One key for names that macOS (and Windows) take for the same file: letter case aside,
    and composed or decomposed accents (NFC/NFD) alike (Unicode canonical caseless match)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())


def _alike(name: str, other: str) -> str:
    if name == other:
        return "the same name"
    if unicodedata.normalize("NFC", name) == unicodedata.normalize("NFC", other):
        return ("the same letters, composed differently (Unicode NFC/NFD), which macOS "
                "takes for one name")
    return "names are compared ignoring letter case and Unicode form, as macOS and Windows do"


def _one_per_field(problems: list[Problem]) -> list[Problem]:
    """Problems of the same field merged into one line."""
    merged: dict[str, list[str]] = {}
    for problem in problems:
        merged.setdefault(problem.field, []).append(problem.message)
    if len(merged) == len(problems):
        return problems
    return [Problem(field, "; ".join(messages)) for field, messages in merged.items()]


def _in_field_order(problems: list[Problem]) -> list[Problem]:
    """The spec's fields in the schema's order; the file, then unknown keys, first."""
    def rank(problem: Problem) -> int:
        base = problem.field.split(" ", 1)[0].split(".", 1)[0]
        if base.startswith("("):
            return -2
        return KEY_ORDER.get(base, -1)

    return sorted(problems, key=rank)
