"""Fuzzing the spec loader: whatever the input (random JSON of right and wrong types, odd
numbers, huge and hostile strings, broken bytes), the outcome is a spec or a
JobSpecValidationError whose lines print as they are; never another exception.

Deterministic (derandomize) so that CI is stable; RPROXY_FUZZ_EXAMPLES=5000 fuzzes longer,
with new random inputs each time."""

from __future__ import annotations

import contextlib
import io
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pydantic_core
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rproxy import JobSpec, JobSpecValidationError, build_plan
from rproxy._cli import main
from rproxy._formats import Codec, Container
from rproxy._spec import HINTS
from rproxy._text import has_unprintable
from rproxy._validate import find_problems, load_spec

LONGER = os.environ.get("RPROXY_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(LONGER or 300), deadline=None, derandomize=not LONGER,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Every character, surrogates and controls included.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
HOSTILE_TEXT = st.sampled_from([
    "", " ", "\n", "\x00", "\x1b[2J", "\r", "\ud800", "\udcff", "\u202e", "../..", "/", "~",
    ".rproxy", "{", "}", "{index:>99999}", "{source_name.__class__}", "{0}", "pipe:1",
    "concat:a|b", "-i", "x" * 300, "日" * 100, unicodedata.normalize("NFD", "é"), "NaN",
    "1e309", "29.97", "1280x720\n", "deadbeef", "DEADBEEF", "0x10",
])
TEXT = st.text(ANY_CHAR, max_size=30) | HOSTILE_TEXT
NUMBERS = (st.integers() | st.integers(min_value=-10**40, max_value=10**40)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([0, -0.0, 1, 1.0, 2**63, 9.3e9, 5e-324, 604800, 604800.5]))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)

FILES = ["A001.mov", "A002.MOV", "b/A001.mov", "b/a001.mov",
         unicodedata.normalize("NFC", "Café.mov"), "b/" + unicodedata.normalize("NFD", "Café.mov"),
         "x\x1b[2J.mov", "-i.mov", "with space.mov"]
# Right values of each field (often), beside anything at all.
RIGHT: dict[str, st.SearchStrategy[Any]] = {
    "$schema": st.sampled_from(["./rproxy.schema.json", None]),
    "schema_version": st.just(1),
    "job_id": st.sampled_from(["0a1b2c3d", None]),
    "sources": st.lists(st.sampled_from(FILES), min_size=1, max_size=5, unique=True)
    | st.lists(st.sampled_from(FILES) | TEXT, min_size=1, max_size=5),
    "output_dir": st.sampled_from(["out", "new", "missing/deeper", ".", "A001.mov", "b"]),
    "codec": st.sampled_from([c.value for c in Codec]),
    "container": st.sampled_from([c.value for c in Container]),
    "resolution": st.sampled_from(["1280x720", "641x361", "1920x1080", "8194x2", "16x16"]),
    "fps_mode": st.sampled_from(["passthrough", "cfr"]),
    "fps": st.sampled_from(["25", "29.97", "23.976", "15", "24000/1001", "1/0", None]),
    "naming_template": st.sampled_from(["{source_name}", "{index}", "{index}_{date}",
                                        "{source_name}/{index}", "{job_id}_{source_ext}",
                                        "../{source_name}", "{reel}", "{source_name}_{codec}"]),
    "created_at": st.sampled_from(["2024-06-14T18:30:00Z", "0001-01-01T00:00:00", None]),
    "clip_timeout_s": st.sampled_from([3600, 0.5, 604800]),
}
assert set(RIGHT) == set(HINTS)
_REQUIRED = ["schema_version", "sources", "output_dir", "codec", "container", "resolution",
             "fps_mode"]


@st.composite
def _near_specs(draw: st.DrawFn) -> dict[Any, Any]:
    """A spec of right values for every required field (and some optional ones), then a few
    fields replaced by anything, removed, or joined by unknown keys: most inputs stay close
    enough to a spec that the rules across fields run too."""
    spec = {key: draw(RIGHT[key]) for key in _REQUIRED}
    spec |= draw(st.fixed_dictionaries({}, optional={k: v for k, v in RIGHT.items()
                                                     if k not in _REQUIRED}))
    keys = list(RIGHT)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
        spec[key] = draw(JSON_VALUES)
    for key in draw(st.lists(st.sampled_from(keys), max_size=2, unique=True)):
        spec.pop(key, None)
    spec |= draw(st.dictionaries(TEXT, JSON_VALUES, max_size=2))
    return spec


SPECS = st.one_of(_near_specs(), _near_specs(), _near_specs(), JSON_VALUES)  # 3:1


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "b").mkdir()
    (root / "out").mkdir()
    for name in FILES:
        (root / name).write_bytes(b"not read by validation")
    return root


def _all_printable(error: JobSpecValidationError) -> None:
    """Every line free of what a terminal acts on (private-use and unassigned characters
    are not that: a terminal shows a box)."""
    assert error.problems
    for line in [*error.report_lines(), *str(error).splitlines()]:
        assert not has_unprintable(line), line


@FUZZ
@given(data=SPECS, check_sources=st.booleans())
def test_any_value_parses_or_is_refused_in_words(folder: Path, data: Any,
                                                 check_sources: bool) -> None:
    try:
        spec = JobSpec.from_dict(data, folder)
    except JobSpecValidationError as exc:
        _all_printable(exc)
        return
    problems = find_problems(spec, check_sources=check_sources)
    for problem in problems:
        assert not has_unprintable(str(problem))
    if problems:
        return
    # A valid spec: its plan serialises and names only printable, UTF-8 paths.
    plan = build_plan(spec)
    pydantic_core.to_json(plan.to_json())
    assert spec.name == spec.id
    for clip in plan.clips:
        assert not has_unprintable(clip.output_path)
        assert len(clip.output.name.encode("utf-8")) <= 255


def _spec_bytes(draw: st.DrawFn) -> bytes:
    value = draw(SPECS)
    text = json.dumps(value, allow_nan=True, ensure_ascii=draw(st.booleans()))
    data = text.encode("utf-8", "surrogatepass")
    for _ in range(draw(st.integers(0, 3))):  # a few broken bytes here and there
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=4)) + data[at:]
    return data


@FUZZ
@given(data=st.composite(_spec_bytes)() | st.binary(max_size=200))
def test_any_file_content_is_a_spec_or_exit_2(folder: Path, data: bytes) -> None:
    path = folder / "fuzz.json"
    path.write_bytes(data)
    try:
        load_spec(path)
    except JobSpecValidationError as exc:
        _all_printable(exc)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    assert code in (0, 2)
    assert not any(has_unprintable(line) for line in err.getvalue().splitlines())
