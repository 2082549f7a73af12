"""The JobSpec model: what a user writes in JSON, with its structural rules.

Cross-field and filesystem rules live in ``_validate`` so that all problems are collected
together; this module only parses and normalises."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ._errors import JobSpecValidationError, Problem
from ._formats import Codec, Container

SCHEMA_VERSION = 1
_RESOLUTION = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$")
_RATIONAL = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(?:/([0-9]+))?$")


class FpsMode(StrEnum):
    PASSTHROUGH = "passthrough"
    CFR = "cfr"


def parse_rate(text: str) -> Fraction:
    """'24000/1001' or '25' or '29.97' → Fraction; ValueError when it is not a positive rate."""
    match = _RATIONAL.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a frame rate like '25' or '24000/1001'")
    num = Fraction(match.group(1))
    den = int(match.group(2)) if match.group(2) else 1
    if den == 0 or num == 0:
        raise ValueError(f"{text!r} is not a positive frame rate")
    return num / den


class JobSpec(BaseModel):
    """A proxy job: which clips, which proxy format, where to write. Loaded from JSON."""

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
        pattern=r"^[0-9a-f]{8}$",
        description="8 lowercase hex digits naming the job. When absent it is derived from a "
        "hash of the spec's content, so the same spec always gets the same id.",
    )
    sources: list[str] = Field(
        min_length=1,
        description="Source clips, in the order they are processed. Relative paths resolve "
        "against the folder of the spec file.",
    )
    output_dir: str = Field(
        description="Existing, writable folder for the proxies. Relative paths resolve against "
        "the folder of the spec file.",
    )
    codec: Codec = Field(description="Proxy codec. `hevc` is an alias of `h265`.")
    container: Container = Field(
        description="Proxy container. ProRes: mov; h264/h265/hevc: mp4, mov, mkv; dnxhd/dnxhr: "
        "mov, mxf; vp9: webm, mkv; av1: mp4, mkv, webm.",
    )
    resolution: str = Field(
        description="Proxy frame size as WIDTHxHEIGHT, e.g. 1280x720. Always explicit; the "
        "picture is scaled to fit and padded, never distorted.",
        examples=["1280x720", "960x540"],
    )
    fps_mode: FpsMode = Field(
        description="`passthrough` keeps the source's frames and timing (editors relink on frame "
        "count); `cfr` makes a constant rate given by `fps`.",
    )
    fps: str | None = Field(
        default=None,
        description="Constant output rate for fps_mode `cfr`, e.g. '25' or '24000/1001'. "
        "Must be absent or null with `passthrough`.",
    )
    naming_template: str = Field(
        default="{source_name}",
        description="Proxy file name without extension. Tokens: {source_name} {source_ext} "
        "{job_id} {date} {time} {index} {codec} {resolution}. The container's extension is "
        "appended. With several sources it must contain {index} or {source_name}.",
    )
    created_at: datetime | None = Field(
        default=None,
        description="ISO 8601 time used for {date} and {time} (never the wall clock, so reruns "
        "give the same names). Required when the template uses them.",
    )
    clip_timeout_s: float = Field(
        default=3600,
        gt=0,
        description="Seconds one clip may take before ffmpeg is stopped and the clip fails.",
    )

    _base_dir: Path = PrivateAttr(default_factory=lambda: Path(os.getcwd()))
    _spec_file: Path | None = PrivateAttr(default=None)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"unknown schema_version {value}; this rproxy reads version 1")
        return value

    @field_validator("resolution")
    @classmethod
    def _resolution_shape(cls, value: str) -> str:
        if not _RESOLUTION.match(value):
            raise ValueError(f"{value!r} is not WIDTHxHEIGHT, e.g. '1280x720'")
        return value

    @field_validator("fps")
    @classmethod
    def _fps_shape(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rate(value)
        return value

    @field_validator("sources")
    @classmethod
    def _no_empty_source(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip():
                raise ValueError("a source path is empty")
        return value

    @model_validator(mode="after")
    def _derive_job_id(self) -> JobSpec:
        if self.job_id is None:
            object.__setattr__(self, "job_id", content_hash(self))
        return self

    # -- derived, read-only views -------------------------------------------------------

    @property
    def id(self) -> str:
        assert self.job_id is not None  # always set by _derive_job_id
        return self.job_id

    @property
    def spec_file(self) -> Path | None:
        """The file this spec was loaded from (absolute), or None."""
        return self._spec_file

    @property
    def name(self) -> str:
        """The spec file's name without `.json`, or the job id when there is no file: what
        doit's task names and the run's output call this job."""
        if self._spec_file is None:
            return self.id
        name = self._spec_file.name
        return name[:-5] if name.lower().endswith(".json") else name

    @property
    def base_dir(self) -> Path:
        """The folder that relative paths in this spec resolve against."""
        return self._base_dir

    @property
    def size(self) -> tuple[int, int]:
        match = _RESOLUTION.match(self.resolution)
        assert match is not None
        return int(match.group(1)), int(match.group(2))

    @property
    def rate(self) -> Fraction | None:
        return parse_rate(self.fps) if self.fps is not None else None

    @property
    def canonical_codec(self) -> Codec:
        return Codec.H265 if self.codec is Codec.HEVC else self.codec

    def resolve(self, path: str) -> Path:
        """A path as written in the spec, made absolute against the spec's folder."""
        return Path(os.path.normpath(os.path.join(self._base_dir, os.path.expanduser(path))))

    @property
    def source_paths(self) -> list[Path]:
        """The sources made absolute. Computed once per base folder: validation and the plan
        both walk every source, and a Path costs more than the rest of a clip's planning."""
        # Kept in __dict__ beside the fields (pydantic's == and dumps look at fields only),
        # tagged with this object's id and base folder: a model_copy() carries __dict__ along.
        cached = self.__dict__.get("_source_paths_cache")
        if cached is None or cached[0] != (id(self), self._base_dir):
            cached = ((id(self), self._base_dir), [self.resolve(s) for s in self.sources])
            self.__dict__["_source_paths_cache"] = cached
        return list(cached[1])

    @property
    def output_path(self) -> Path:
        return self.resolve(self.output_dir)

    def with_base_dir(self, base_dir: Path) -> JobSpec:
        spec = self.model_copy()
        spec._base_dir = Path(os.path.abspath(base_dir))
        return spec

    def with_file(self, path: Path) -> JobSpec:
        spec = self.with_base_dir(path.resolve().parent)
        spec._spec_file = path.resolve()
        return spec

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, base_dir: Path | None = None, origin: str | None = None
                  ) -> JobSpec:
        """Parse a dict; raise ``JobSpecValidationError`` listing every structural problem."""
        if not isinstance(data, dict):
            raise JobSpecValidationError(
                [Problem("(spec)", "the spec must be a JSON object {...}")], origin)
        try:
            spec = cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise JobSpecValidationError(_problems_from_pydantic(exc), origin) from None
        return spec.with_base_dir(base_dir) if base_dir is not None else spec

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> JobSpec:
        """Read a JobSpec JSON file; relative paths in it resolve against its folder."""
        file = Path(path)
        try:
            # utf-8-sig: Windows editors (Notepad) start UTF-8 files with a byte-order mark.
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise JobSpecValidationError(
                [Problem("(file)", f"cannot read {file}: {exc.strerror or exc}")], str(file)
            ) from None
        except UnicodeDecodeError:
            raise JobSpecValidationError(
                [Problem("(file)", f"{file} is not UTF-8 text")], str(file)) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise JobSpecValidationError(
                [Problem("(json)", f"not valid JSON: {exc.msg} at line {exc.lineno} "
                                   f"column {exc.colno}")], str(file)) from None
        return cls.from_dict(data, None, str(file)).with_file(file)


def content_hash(spec: JobSpec) -> str:
    """8 hex digits from the spec's content as written (not resolved), so that moving the
    project folder does not change the job id."""
    data = spec.model_dump(mode="json", exclude={"job_id", "json_schema"})
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


def _problems_from_pydantic(exc: pydantic.ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "(spec)"
        kind = err["type"]
        if kind == "extra_forbidden":
            message = "unknown field (check the spelling; see `rproxy schema`)"
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "enum":
            expected = err.get("ctx", {}).get("expected", "")
            message = f"{err.get('input')!r} is not one of {expected}"
        elif kind == "value_error":
            message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        else:
            message = err["msg"]
        problems.append(Problem(loc, message))
    return problems
