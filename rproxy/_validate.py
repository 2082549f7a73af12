"""Validation before anything runs: every problem collected, each naming its field.

Checks here read the filesystem (sources exist, output dir writable) but never probe media:
limits that depend on the source are checked when the clip starts."""

from __future__ import annotations

import os
import re
import stat

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
from ._naming import CLOCK_TOKENS, TemplateError, output_names, template_tokens
from ._spec import FpsMode, JobSpec

# "concat:", "pipe:", "http://", "tcp:"...: ffmpeg would read these as protocols. A drive
# letter ("C:") is not a scheme.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")


def validate(spec: JobSpec, origin: str | None = None) -> None:
    """Raise one JobSpecValidationError listing every problem, or return None."""
    problems = find_problems(spec, check_sources=True)
    if problems:
        raise JobSpecValidationError(problems, origin)


def find_problems(spec: JobSpec, *, check_sources: bool,
                  output_dir_may_be_missing: bool = False) -> list[Problem]:
    """Every problem of `spec`. Without `check_sources`, sources may be missing (under doit,
    the user's own tasks may make them; the clip checks when it runs). With
    `output_dir_may_be_missing` (under doit) a missing output folder is made by the first clip
    that runs, like a build target's folder; an existing one must still be a writable folder."""
    problems: list[Problem] = []
    problems += _check_sources(spec, check_sources)
    if not (output_dir_may_be_missing and not os.path.lexists(spec.output_path)):
        problems += _check_output_dir(spec)
    problems += _check_format(spec)
    problems += _check_timing(spec)
    template_ok = _check_template(spec, problems)
    if template_ok:
        problems += _check_outputs(spec)
    return problems


def _check_sources(spec: JobSpec, must_exist: bool) -> list[Problem]:
    problems = []
    for i, (written, path) in enumerate(zip(spec.sources, spec.source_paths, strict=True)):
        field = f"sources.{i}"
        if _SCHEME.match(written) and not written.startswith(("/", "./", "../")):
            problems.append(Problem(field, f"{written!r} looks like a URL or an ffmpeg protocol; "
                                           "rproxy reads only local files (write ./NAME for a "
                                           "file whose name has a colon)"))
            continue
        try:
            info = path.stat()
        except FileNotFoundError:
            if must_exist:
                problems.append(Problem(field, f"source does not exist: {path}"))
            continue
        except OSError as exc:
            problems.append(Problem(field, f"cannot read source {path}: {exc.strerror}"))
            continue
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            problems.append(Problem(field, f"source is {kind}: {path}"))
        elif not os.access(path, os.R_OK):
            problems.append(Problem(field, f"source is not readable: {path}"))
    return problems


def _check_output_dir(spec: JobSpec) -> list[Problem]:
    path = spec.output_path
    if not path.exists():
        return [Problem("output_dir", f"output folder does not exist: {path}")]
    if not path.is_dir():
        return [Problem("output_dir", f"output_dir is not a folder: {path}")]
    if not os.access(path, os.W_OK | os.X_OK):
        return [Problem("output_dir", f"output folder is not writable: {path}")]
    return []


def _check_format(spec: JobSpec) -> list[Problem]:
    problems = []
    info = FORMATS[spec.codec]
    if spec.container not in info.containers:
        allowed = ", ".join(c.value for c in info.containers)
        problems.append(Problem("container", f"{spec.codec.value} cannot go in "
                                             f"{spec.container.value}; use one of: {allowed}"))
    width, height = spec.size
    if info.chroma_420 and (width % 2 or height % 2):
        problems.append(Problem("resolution", f"{spec.codec.value} (4:2:0) needs an even width "
                                              f"and height, got {spec.resolution}"))
    elif not info.chroma_420 and width % 2:
        problems.append(Problem("resolution", f"{spec.codec.value} (4:2:2) needs an even "
                                              f"width, got {spec.resolution}"))
    if spec.codec is Codec.DNXHD:
        rates = DNXHD_BITRATES.get((width, height))
        if rates is None:
            sizes = ", ".join(f"{w}x{h}" for w, h in DNXHD_BITRATES)
            problems.append(Problem("resolution", f"DNxHD encodes only {sizes}, got "
                                                  f"{spec.resolution} (use dnxhr for other "
                                                  "sizes)"))
        elif spec.rate is not None and spec.rate not in rates:
            problems.append(Problem("fps", f"DNxHD at {spec.resolution} has no bitrate for "
                                           f"{format_rate(spec.rate)} fps; it takes "
                                           f"{describe_rates(rates)}"))
    if spec.codec is Codec.DNXHR and (width < DNXHR_MIN_SIZE[0] or height < DNXHR_MIN_SIZE[1]):
        problems.append(Problem("resolution", "DNxHR needs at least "
                                              f"{DNXHR_MIN_SIZE[0]}x{DNXHR_MIN_SIZE[1]}, got "
                                              f"{spec.resolution}"))
    if width > 8192 or height > 8192:
        problems.append(Problem("resolution", f"{spec.resolution} is larger than 8192 on a side; "
                                              "a proxy should be smaller than its source"))
    return problems


def _check_timing(spec: JobSpec) -> list[Problem]:
    if spec.fps_mode is FpsMode.CFR and spec.fps is None:
        return [Problem("fps", "fps_mode 'cfr' needs fps, e.g. \"25\" or \"24000/1001\"")]
    if spec.fps_mode is FpsMode.PASSTHROUGH and spec.fps is not None:
        return [Problem("fps", "fps is only used with fps_mode 'cfr'; remove it or set "
                               "fps_mode to 'cfr'")]
    if spec.container is Container.MXF and spec.rate is not None and spec.rate not in MXF_RATES:
        return [Problem("fps", f"MXF takes only standard rates ({describe_rates(MXF_RATES)}), "
                               f"got {spec.fps}")]
    return []


def _check_template(spec: JobSpec, problems: list[Problem]) -> bool:
    try:
        tokens = template_tokens(spec.naming_template)
    except TemplateError as exc:
        problems.append(Problem("naming_template", str(exc)))
        return False
    ok = True
    if len(spec.sources) > 1 and not {"index", "source_name"} & set(tokens):
        problems.append(Problem("naming_template", f"{len(spec.sources)} sources need "
                                                   "{index} or {source_name} in the template, "
                                                   "or every clip gets the same name"))
        ok = False
    clock = sorted(CLOCK_TOKENS & set(tokens))
    if clock and spec.created_at is None:
        problems.append(Problem("created_at", "the template uses "
                                              + " ".join("{" + t + "}" for t in clock)
                                              + (", which need" if len(clock) > 1 else
                                                 ", which needs")
                                              + " created_at (never the wall clock, "
                                              "so that reruns give the same names)"))
        ok = False
    return ok


def _check_outputs(spec: JobSpec) -> list[Problem]:
    problems = []
    out_dir_text = str(spec.output_path)
    inside_prefix = out_dir_text.rstrip(os.sep) + os.sep
    state_text = os.path.join(out_dir_text, ".rproxy")
    sources = {os.path.normcase(str(p)).casefold(): i for i, p in enumerate(spec.source_paths)}
    seen: dict[str, int] = {}
    for i, name in enumerate(output_names(spec)):
        field = f"naming_template (clip {i})"
        if os.path.isabs(name) or name.startswith("~"):
            problems.append(Problem(field, f"output name {name!r} is absolute; names are "
                                           "relative to output_dir"))
            continue
        # Plain strings, not pathlib: this runs for every clip (2,000+ in a film's dailies).
        output_text = os.path.normpath(os.path.join(out_dir_text, name))
        if not output_text.startswith(inside_prefix) or output_text == out_dir_text:
            problems.append(Problem(field, f"output {name!r} escapes output_dir"))
            continue
        output_name = os.path.basename(output_text)
        if output_name.startswith(".") or output_name == "." + spec.container.value:
            problems.append(Problem(field, f"output name {name!r} is empty or hidden"))
            continue
        if output_text == state_text or output_text.startswith(state_text + os.sep):
            problems.append(Problem(field, f"output {name!r} is inside rproxy's state folder"))
            continue
        key = output_text.casefold()
        if key in sources:
            problems.append(Problem(field, f"output {output_text} is source {sources[key]} "
                                           "itself"))
        elif key in seen:
            problems.append(Problem(field, f"output {output_name} collides with clip "
                                           f"{seen[key]}'s output (names are compared "
                                           "ignoring letter case, as macOS and Windows do)"))
        else:
            seen[key] = i
    return problems
