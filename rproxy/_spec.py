"""The JobSpec model: what a user writes in JSON, with the rules of each field on its own.

Every field is checked by a function of ours before pydantic sees it, so that each wrong
field gets one message in words. ``parse_spec`` turns any input into a spec plus its
structural problems; the rules across fields and the file system live in ``_validate``,
which runs them on whatever parsed, so that every problem is reported at once."""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator

from ._errors import Problem
from ._formats import Codec, Container
from ._text import printable, surrogate_in

SCHEMA_VERSION = 1
MIN_RATE, MAX_RATE = 1, 1000  # fps; nothing an editor cuts runs outside this
# A week. Beyond it the timeout is no timeout, and past ~9.2e9 s Python's timers refuse it.
MAX_CLIP_TIMEOUT_S = 7 * 24 * 3600
MIN_CLIP_TIMEOUT_S = 1
MAX_PATH_BYTES = 4096  # PATH_MAX on Linux (macOS: 1024); a longer path cannot be opened
MAX_TEMPLATE_CHARS = 1024  # a name is at most 255 bytes per folder level; room for a few

_RESOLUTION = r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})"
# An integer, a ratio of integers, or a decimal. Digits are bounded so that no Fraction
# arithmetic on a hostile value takes long.
_RATE = r"([0-9]{1,12})(?:/([0-9]{1,12}))?|([0-9]{1,12})\.([0-9]{1,12})"
_JOB_ID = r"[0-9a-f]{8}"
# fullmatch, always: `$` in a Python regex also matches before a final newline.
_RESOLUTION_RE, _RATE_RE, _JOB_ID_RE = (re.compile(p) for p in (_RESOLUTION, _RATE, _JOB_ID))


class FpsMode(StrEnum):
    PASSTHROUGH = "passthrough"
    CFR = "cfr"


def parse_rate(text: str) -> Fraction:
    """A frame rate as written in a spec → exact Fraction; ValueError (in words) otherwise.

    '25' → 25, '24000/1001' → 24000/1001. A decimal that is N*1000/1001 rounded to the
    digits written (two or more) means exactly that NTSC rate, as every editor means it:
    '23.976' and '23.98' → 24000/1001, '29.97' → 30000/1001, '59.94' → 60000/1001,
    '47.952' → 48000/1001, '119.88' → 120000/1001; cut off instead of rounded too ('23.97',
    '47.95', as some editors show them). Other decimals are exact ('12.5' → 25/2),
    and so is a ratio ('2997/100' is 29.97 exactly). Rates outside 1 to 1000 fps are refused.
    """
    match = _RATE_RE.fullmatch(text)
    if match is None:
        raise ValueError(f'"{printable(text, limit=40)}" is not a frame rate like "25", '
                         '"29.97" or "24000/1001"')
    whole, num, den, digits = match[3], match[1], match[2], match[4]
    if whole is not None:
        rate = _decimal_rate(whole, digits)
    elif den is not None and int(den) == 0:
        raise ValueError(f'"{text}" divides by zero; write a rate like "24000/1001"')
    else:
        rate = Fraction(int(num), int(den or 1))
    if not MIN_RATE <= rate <= MAX_RATE:
        raise ValueError(f"\"{text}\" is outside {MIN_RATE} to {MAX_RATE} fps")
    return rate


def _decimal_rate(whole: str, digits: str) -> Fraction:
    exact = Fraction(int(whole + digits), 10 ** len(digits))
    if exact.denominator == 1 or len(digits) < 2:  # '25.00' is 25; '29.9' is what it says
        return exact
    pulled_down = round(exact * Fraction(1001, 1000))
    ntsc = Fraction(pulled_down * 1000, 1001)
    step = Fraction(1, 10 ** len(digits))
    if abs(ntsc - exact) <= step / 2:  # rounded: 23.976, 23.98, 29.97
        return ntsc
    if exact < ntsc < exact + step:  # cut off, as some editors show it: 23.97, 47.95
        return ntsc
    return exact


# -- what each field takes, in words: the one source of the messages below --------------

_CODECS = " ".join(c.value for c in Codec)
_CONTAINERS = " ".join(c.value for c in Container)
HINTS: dict[str, str] = {
    "$schema": "a path or URL of the JSON Schema (a string), or null",
    "schema_version": "the number 1",
    "job_id": 'eight lowercase hex digits, e.g. "0a1b2c3d" (or leave job_id out)',
    "sources": 'a list of clip paths, e.g. ["A001.mov", "A002.mov"]',
    "output_dir": 'the folder for the proxies, e.g. "proxies"',
    "codec": f"one of {_CODECS}",
    "container": f"one of {_CONTAINERS}",
    "resolution": '"WIDTHxHEIGHT", e.g. "1280x720"',
    "fps_mode": '"passthrough" (keep the source timing) or "cfr" (with fps)',
    "fps": 'a frame rate such as "25", "29.97" or "24000/1001", or null',
    "naming_template": 'a file name with tokens, e.g. "{source_name}_proxy"',
    "created_at": 'an ISO 8601 time such as "2024-06-14T18:30:00Z", or null',
    "clip_timeout_s": f"a number of seconds from {MIN_CLIP_TIMEOUT_S} up to "
                      f"{MAX_CLIP_TIMEOUT_S} (a week)",
}


class FieldProblems(ValueError):
    """Several problems inside one field (one per bad item of `sources`)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _kind(value: Any) -> str:
    """What a JSON value is, for "must be X, not Y"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {printable(str(value), limit=40)}"
    if isinstance(value, str):
        return f'the text "{printable(value, limit=60)}"' if value else "empty text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object {...}"
    return f"a {type(value).__name__}"


def _wrong(field: str, value: Any) -> ValueError:
    return ValueError(f"must be {HINTS[field]}, not {_kind(value)}")


def _text(field: str, value: Any, *, path: bool = False, optional: bool = False,
          hint: str | None = None) -> str | None:
    """A string with no NUL and no lone surrogate; for paths also not empty and not longer
    than a path can be. `hint` says what the value should be, when not `HINTS[field]`."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be {hint or HINTS[field]}, not {_kind(value)}")
    bad = surrogate_in(value)
    if bad is not None:
        if path and 0xDC80 <= ord(bad) <= 0xDCFF:
            raise ValueError(f"{printable(value, limit=200)} is not valid UTF-8 (a byte "
                             f"shown as {printable(bad)}); rename the file or folder so "
                             "that every tool can read its name")
        raise ValueError(f'"{printable(value, limit=200)}" holds {printable(bad)}, which is '
                         "not a character (a lone surrogate); write real text")
    if "\0" in value:
        raise ValueError(f'"{printable(value, limit=200)}" holds a NUL character (\\x00), '
                         "which no file name can hold")
    if path:
        if not value.strip():
            raise ValueError("is empty; write a path")
        if len(value.encode("utf-8")) > MAX_PATH_BYTES:
            raise ValueError(f"is longer than the {MAX_PATH_BYTES} bytes a path can have")
    return value


def _choice(field: str, value: Any, choices: type[StrEnum], what: str) -> Any:
    if not isinstance(value, str):
        raise _wrong(field, value)
    names = [c.value for c in choices]
    if value in names:
        return value
    close = difflib.get_close_matches(value.lower(), names, n=1, cutoff=0.6)
    guess = f' (did you mean "{close[0]}"?)' if close else ""
    raise ValueError(f'"{printable(value, limit=60)}" is not {what}{guess}; '
                     f"use one of {' '.join(names)}")


def _schema_version(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong("schema_version", value)
    if value != SCHEMA_VERSION:
        raise ValueError(f"unknown schema_version {value}; this rproxy reads version "
                         f"{SCHEMA_VERSION}")
    return value


def _job_id(value: Any) -> Any:
    text = _text("job_id", value, optional=True)
    if text is not None and not _JOB_ID_RE.fullmatch(text):
        raise ValueError(f'"{printable(text, limit=40)}" is not {HINTS["job_id"]}')
    return text


def _sources(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(f'must be a list, even for one clip: ["{printable(value, limit=60)}"]')
    if not isinstance(value, list):
        raise _wrong("sources", value)
    if not value:
        raise ValueError("is empty; list at least one clip, e.g. [\"A001.mov\"]")
    problems = []
    for index, item in enumerate(value):
        try:
            _text("sources", item, path=True, hint='a clip path in quotes, e.g. "A001.mov"')
        except ValueError as exc:
            problems.append(Problem(f"sources.{index}", str(exc)))
    if problems:
        raise FieldProblems(problems)
    return value


def _resolution(value: Any) -> Any:
    text = _text("resolution", value)
    assert text is not None
    if not _RESOLUTION_RE.fullmatch(text):
        raise ValueError(f'"{printable(text, limit=40)}" is not WIDTHxHEIGHT, e.g. "1280x720"')
    return text


def _fps(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f'must be text, in quotes: "{printable(str(value), limit=40)}" (a '
                         'rate like "29.97" or "24000/1001" is exact only as text)')
    text = _text("fps", value, optional=True)
    if text is not None:
        parse_rate(text)
    return text


def _naming_template(value: Any) -> Any:
    text = _text("naming_template", value)
    assert text is not None
    if len(text) > MAX_TEMPLATE_CHARS:
        raise ValueError(f"is {len(text):,} characters long; a proxy name is at most 255 "
                         f"bytes per folder level (the template may have {MAX_TEMPLATE_CHARS})")
    return text


def _created_at(value: Any) -> Any:
    # Text only: pydantic would also read a number as a Unix time, which nobody writes here.
    if value is not None and not isinstance(value, str | datetime):
        raise _wrong("created_at", value)
    if isinstance(value, str):
        _text("created_at", value)
    return value


def _clip_timeout_s(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong("clip_timeout_s", value)
    if not math.isfinite(value):  # only from Python: the JSON reader refuses them
        raise ValueError(f"{value} is not a number of seconds")
    if value < MIN_CLIP_TIMEOUT_S:
        raise ValueError(f"{value:g} s would stop every clip before FFmpeg has started; give "
                         f"at least {MIN_CLIP_TIMEOUT_S} s, e.g. 3600")
    if value > MAX_CLIP_TIMEOUT_S:
        raise ValueError(f"{value:g} s is more than a week, the longest clip_timeout_s "
                         f"({MAX_CLIP_TIMEOUT_S}); a clip that takes longer has hung")
    return value


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "json_schema": lambda v: _text("$schema", v, optional=True),
    "schema_version": _schema_version,
    "job_id": _job_id,
    "sources": _sources,
    "output_dir": lambda v: _text("output_dir", v, path=True),
    "codec": lambda v: _choice("codec", v, Codec, "a codec"),
    "container": lambda v: _choice("container", v, Container, "a container"),
    "resolution": _resolution,
    "fps_mode": lambda v: _choice("fps_mode", v, FpsMode, "an fps_mode"),
    "fps": _fps,
    "naming_template": _naming_template,
    "created_at": _created_at,
    "clip_timeout_s": _clip_timeout_s,
}


class JobSpec(BaseModel):
    """A proxy job for rproxy: which clips, which proxy format, where to write. `rproxy
    validate` and `rproxy run` check every field and also probe every source before anything
    is encoded (the pre-flight), reporting every problem together (exit 2); `rproxy validate
    --no-probe` checks the spec file alone."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="rproxy JobSpec")

    json_schema: str | None = Field(
        default=None,
        alias="$schema",
        description="Optional path or URL of the JSON Schema this file follows (from `rproxy "
        "schema`), for editors that complete and check it. rproxy ignores it.",
    )
    schema_version: int = Field(
        description="Version of this file format. Only 1 exists.",
    )
    job_id: str | None = Field(
        default=None,
        pattern=f"^{_JOB_ID}$",
        description="8 lowercase hex digits naming the job. When absent it is derived from a "
        "hash of the spec's content as written, so the same spec always gets the same id.",
    )
    sources: list[str] = Field(
        min_length=1,
        description="Source clips, in the order they are processed. Relative paths resolve "
        "against the folder of the spec file. Names must be valid UTF-8.",
    )
    output_dir: str = Field(
        description="Writable folder for the proxies. Relative paths resolve against the "
        "folder of the spec file. When it is missing rproxy creates it, but only if its "
        "parent exists (never a mount point that is not there).",
    )
    codec: Codec = Field(description="Proxy codec. `hevc` is an alias of `h265`.")
    container: Container = Field(
        description="Proxy container. ProRes: mov; h264/h265/hevc: mp4, mov, mkv; dnxhd/dnxhr: "
        "mov, mxf; vp9: webm, mkv; av1: mp4, mkv, webm.",
    )
    resolution: str = Field(
        pattern=f"^{_RESOLUTION}$",
        description="Proxy frame size as WIDTHxHEIGHT, e.g. 1280x720, at most 8192 a side. "
        "Always explicit, never taken from the source.",
        examples=["1280x720", "960x540"],
    )
    fps_mode: FpsMode = Field(
        description="`passthrough` keeps the source's frames and timing (editors relink on frame "
        "count); `cfr` makes a constant rate given by `fps`.",
    )
    fps: str | None = Field(
        default=None,
        pattern=f"^(?:{_RATE})$",
        description="Constant output rate for fps_mode `cfr`, 1 to 1000 fps: an integer ('25'), "
        "a ratio ('24000/1001') or a decimal. Decimal NTSC rates mean what editors mean: "
        "'23.976' (or '23.98') is 24000/1001, '29.97' is 30000/1001, '47.952' is 48000/1001, "
        "'59.94' is 60000/1001, '119.88' is 120000/1001. Must be absent or null with "
        "`passthrough`.",
        examples=["25", "29.97", "24000/1001"],
    )
    naming_template: str = Field(
        default="{source_name}",
        max_length=MAX_TEMPLATE_CHARS,
        description="Proxy file name without extension. Tokens: {source_name} {source_ext} "
        "{job_id} {date} {time} {index} {codec} {resolution}. The container's extension is "
        "appended. With several sources it must contain {index} or {source_name}. Each "
        "name may be at most 255 bytes (UTF-8) and hold no control characters; names that "
        "differ only in letter case or Unicode normalisation collide (as on macOS).",
    )
    created_at: datetime | None = Field(
        default=None,
        description="ISO 8601 time used for {date} and {time} (never the wall clock, so reruns "
        "give the same names). Required when the template uses them.",
    )
    clip_timeout_s: float = Field(
        default=3600,
        gt=0,
        le=MAX_CLIP_TIMEOUT_S,
        description="Seconds one clip may take before ffmpeg is stopped and the clip fails; "
        f"at most {MAX_CLIP_TIMEOUT_S} (a week).",
    )

    _base_dir: Path = PrivateAttr(default_factory=lambda: Path(os.getcwd()))
    _spec_file: Path | None = PrivateAttr(default=None)

    @field_validator(*_CHECKS, mode="before")
    @classmethod
    def _check_field(cls, value: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None
        return _CHECKS[info.field_name](value)

    # -- derived, read-only views -------------------------------------------------------

    @property
    def id(self) -> str:
        """The job id: `job_id` as written, or a hash of the content as written."""
        if self.job_id is not None:
            return self.job_id
        derived: str = self._cached("_derived_id_cache", lambda: content_hash(self))
        return derived

    @property
    def spec_file(self) -> Path | None:
        """The absolute path this spec was loaded from, or None (built in Python)."""
        return self._spec_file

    @property
    def name(self) -> str:
        """How people call this job: the spec file's name without `.json`, or the job id
        when there is no file. doit's task names are `proxy:<name>:<proxy file>`."""
        if self._spec_file is None:
            return self.id
        stem = self._spec_file.name
        return stem[:-5] if stem.lower().endswith(".json") and len(stem) > 5 else stem

    @property
    def base_dir(self) -> Path:
        """The folder that relative paths in this spec resolve against (the spec file's
        folder; for a spec built in Python, the current folder when it was built)."""
        return self._base_dir

    @property
    def size(self) -> tuple[int, int]:
        match = _RESOLUTION_RE.fullmatch(self.resolution)
        assert match is not None
        return int(match[1]), int(match[2])

    @property
    def rate(self) -> Fraction | None:
        """The constant output rate (exact; '29.97' is 30000/1001), or None: passthrough."""
        return parse_rate(self.fps) if self.fps is not None else None

    @property
    def canonical_codec(self) -> Codec:
        return Codec.H265 if self.codec is Codec.HEVC else self.codec

    def resolve(self, path: str) -> Path:
        """A path as written in the spec, made absolute against the spec's folder."""
        return _resolve(self.base_dir, path)

    @property
    def source_paths(self) -> list[Path]:
        """The sources made absolute. Computed once per base folder: validation and the plan
        both walk every source, and a Path costs more than the rest of a clip's planning."""
        base = self.base_dir
        paths: list[Path] = self._cached(
            "_source_paths_cache", lambda: [_resolve(base, s) for s in self.sources], base)
        return list(paths)

    @property
    def output_path(self) -> Path:
        return self.resolve(self.output_dir)

    def _cached(self, key: str, compute: Callable[[], Any], *also: Any) -> Any:
        # Kept in __dict__ beside the fields (pydantic's == and dumps look at fields only),
        # tagged with this object's id: a model_copy() carries __dict__ along, and its
        # update= may change what the value depends on (a stale job id, issue 11).
        tag = (id(self), *also)
        cached = self.__dict__.get(key)
        if cached is None or cached[0] != tag:
            cached = self.__dict__[key] = (tag, compute())
        return cached[1]

    def with_base_dir(self, base_dir: Path) -> JobSpec:
        """A copy whose relative paths resolve against `base_dir` (its spec_file is kept)."""
        spec = self.model_copy()
        spec._base_dir = Path(os.path.abspath(base_dir))
        return spec

    def with_spec_file(self, spec_file: Path) -> JobSpec:
        """A copy that says it was loaded from `spec_file` (made absolute), with relative
        paths resolving against that file's folder."""
        spec = self.model_copy()
        spec._spec_file = Path(os.path.abspath(spec_file))
        spec._base_dir = spec._spec_file.parent
        return spec

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, base_dir: Path | None = None, origin: str | None = None
                  ) -> JobSpec:
        """Parse a dict. When it is no valid spec, raise ``JobSpecValidationError`` listing
        every problem it has at once, except those that depend on what runs it (a missing
        source or output folder). A spec that parses is returned unchecked beyond its
        fields: ``rproxy.validate`` checks the rest."""
        from ._validate import check_parsed  # _validate builds on this module

        parsed = parse_spec(data, base_dir=base_dir)
        return check_parsed(parsed, origin, full=False)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> JobSpec:
        """Read a JobSpec JSON file; relative paths in it resolve against its folder. Raises
        like ``from_dict``; a file that is not a regular file, or over 16 MiB, is refused
        without being read."""
        from ._validate import load_spec

        return load_spec(path, full=False)


def _resolve(base: Path, path: str) -> Path:
    return Path(os.path.normpath(os.path.join(base, os.path.expanduser(path))))


def content_hash(spec: JobSpec) -> str:
    """8 hex digits from the spec's content as written (not resolved), so that moving the
    project folder does not change the job id."""
    data = spec.model_dump(mode="json", exclude={"job_id", "json_schema"})
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


# -- parsing any input into a spec and its structural problems ---------------------------

_KEYS = {info.alias or name: name for name, info in JobSpec.model_fields.items()}
KEY_ORDER = {key: rank for rank, key in enumerate(_KEYS)}  # problems are listed in this order
_REQUIRED = [key for key, name in _KEYS.items() if JobSpec.model_fields[name].is_required()]
# Stand-ins for required fields that are wrong, so that the rules on the other fields can
# still run (every rule that reads a wrong field is skipped).
_STAND_INS: dict[str, Any] = {
    "schema_version": SCHEMA_VERSION, "sources": ["-"], "output_dir": ".",
    "codec": Codec.PRORES_PROXY.value, "container": Container.MOV.value,
    "resolution": "16x16", "fps_mode": FpsMode.PASSTHROUGH.value,
}


@dataclass(frozen=True)
class Parsed:
    """What parsing found. `spec` holds stand-ins for the fields in `invalid` (None when the
    input was not an object at all); `problems` are the structural ones."""

    spec: JobSpec | None
    problems: list[Problem]
    invalid: frozenset[str]


def parse_spec(data: Any, *, base_dir: Path | None = None,
               spec_file: Path | None = None) -> Parsed:
    """Any value → a JobSpec and its structural problems, in words, each field once."""
    if not isinstance(data, dict):
        return Parsed(None, [Problem("(spec)", "the spec must be a JSON object {...}, not "
                                               f"{_kind(data)}")], frozenset(_KEYS))
    problems, meant = _unknown_keys(data)
    known = {key: value for key, value in data.items() if key in _KEYS}
    invalid: set[str] = set()
    try:
        spec = JobSpec.model_validate(known)
    except pydantic.ValidationError as exc:
        for key, field_problems in _problems_from_pydantic(exc).items():
            invalid.add(key)
            if not (key in meant and key not in known):  # the typo's problem said it already
                problems += field_problems
        stand_in = {k: v for k, v in known.items() if k not in invalid}
        stand_in |= {k: _STAND_INS[k] for k in _REQUIRED if k in invalid}
        spec = JobSpec.model_validate(stand_in)
    if invalid and "job_id" not in known:
        invalid.add("job_id")  # derived from content that is not all there
    if spec_file is not None:
        spec = spec.with_spec_file(spec_file)
    elif base_dir is not None:
        spec = spec.with_base_dir(base_dir)
    return Parsed(spec, problems, frozenset(invalid))


def _unknown_keys(data: dict[Any, Any]) -> tuple[list[Problem], set[str]]:
    """A problem per unknown key (with "did you mean" when a field is close), and the
    fields they seem to mean."""
    problems, meant = [], set()
    for key in data:
        if key in _KEYS:
            continue
        text = key if isinstance(key, str) else str(key)
        shown = printable(text, limit=60) or '""'
        close = difflib.get_close_matches(text.lower(), list(_KEYS), n=1, cutoff=0.6)
        if close and close[0] not in data:
            meant.add(close[0])
            message = f'unknown field; did you mean "{close[0]}"? ({HINTS[close[0]]})'
        elif close:
            message = f'unknown field ("{close[0]}" is given too); remove it'
        else:
            message = "unknown field (check the spelling; `rproxy schema` lists the fields)"
        problems.append(Problem(shown, message))
    return problems, meant


def _problems_from_pydantic(exc: pydantic.ValidationError) -> dict[str, list[Problem]]:
    """The problems of each wrong field, from our own checks' messages; pydantic's own text
    never reaches a person."""
    found: dict[str, list[Problem]] = {}
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else "(spec)"
        if key in found:
            continue  # one message per field
        error = err.get("ctx", {}).get("error")
        if isinstance(error, FieldProblems):
            found[key] = list(error.problems)
            continue
        if err["type"] == "missing":
            message = f"is missing; write {HINTS.get(key, 'it')}"
        elif isinstance(error, ValueError) and err["type"] == "value_error":
            message = str(error)
        else:  # a rule of pydantic's own (a date it cannot read, say): say what is expected
            message = f"must be {HINTS.get(key, 'valid')}, not {_kind(err.get('input'))}"
        found[key] = [Problem(key, message)]
    return found
