"""No traceback on any input: every hostile spec file, JSON oddity and field value is refused
with a message naming the field, exit 2, and never hangs or exhausts memory."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rproxy import JobSpec, JobSpecValidationError
from rproxy._cli import main
from rproxy._jsonfile import MAX_BYTES
from rproxy._spec import MAX_CLIP_TIMEOUT_S
from rproxy._text import has_unprintable
from tests.conftest import write_spec

GOOD: dict[str, Any] = {
    "schema_version": 1, "sources": ["A001.mov"], "output_dir": "out", "codec": "prores_proxy",
    "container": "mov", "resolution": "160x90", "fps_mode": "passthrough",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "A001.mov").write_bytes(b"not read by validation")
    (tmp_path / "out").mkdir()
    return tmp_path


def refused(path: Path | str, capsys: pytest.CaptureFixture[str]) -> str:
    """`rproxy validate PATH` exits 2 with one clean line per problem; returns stderr."""
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()
    assert not any(has_unprintable(line) for line in err.splitlines())
    return err


def problems(data: Any, folder: Path) -> dict[str, str]:
    """field -> message of every problem of `data` given to JobSpec.from_dict."""
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_dict(data, folder)
    found = {p.field: p.message for p in caught.value.problems}
    assert len(found) == len(caught.value.problems), "a field was named twice"
    return found


def write_raw(folder: Path, text: str | bytes) -> Path:
    path = folder / "raw.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return path


# -- the spec file itself -----------------------------------------------------------------

def test_dev_zero_is_refused_without_reading_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert "(file): /dev/zero is not a regular file" in refused("/dev/zero", capsys)


def test_a_link_to_a_device_is_refused(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "job.json").symlink_to("/dev/zero")
    assert "not a regular file" in refused(folder / "job.json", capsys)


def test_a_fifo_is_refused_without_blocking(folder: Path) -> None:
    fifo = folder / "job.json"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "rproxy", "validate", str(fifo)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_a_folder_is_refused(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "is a folder, not a JobSpec file" in refused(folder, capsys)


def test_a_huge_file_is_refused_by_its_size(folder: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    huge = folder / "job.json"
    with open(huge, "wb") as handle:  # sparse: costs nothing on disk
        handle.truncate(MAX_BYTES + 1)
    assert "a JobSpec is at most 16 MiB" in refused(huge, capsys)


def test_a_missing_file_is_refused(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in refused(folder / "nope.json", capsys)


def test_a_nul_in_the_spec_path_is_refused() -> None:
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file("job\0.json")
    assert "NUL" in caught.value.problems[0].message


def test_a_file_that_is_not_utf8_is_refused(folder: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(write_raw(folder, b'{"codec": "caf\xe9"}'), capsys)
    assert "(json): not UTF-8 text (byte 14, line 1)" in err


# -- JSON that Python reads but is no JSON, or no spec --------------------------------------

def test_duplicate_keys_are_refused_naming_the_key(folder: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(GOOD)[:-1] + ', "codec": "h264"}'
    err = refused(write_raw(folder, text), capsys)
    assert 'the key "codec" appears twice' in err


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e309", "-1e400"])
def test_numbers_that_are_not_finite_are_refused(folder: Path, number: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(GOOD)[:-1] + f', "clip_timeout_s": {number}}}'
    assert "(json):" in refused(write_raw(folder, text), capsys)


def test_an_integer_of_thousands_of_digits_is_refused(folder: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(GOOD)[:-1] + ', "clip_timeout_s": ' + "9" * 5000 + "}"
    assert "too large for any field" in refused(write_raw(folder, text), capsys)


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_nesting_is_refused(folder: Path, depth: int,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    text = '{"sources": ' + "[" * depth + "]" * depth + "}"
    assert "nest more than 32 deep" in refused(write_raw(folder, text), capsys)


def test_deep_nesting_is_refused_whatever_the_stack(folder: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """With a deeper stack (hypothesis raises the recursion limit) JSON's reader manages
    1,000 levels; the limit is rproxy's own."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        text = '{"a": ' + "[" * 5000 + "]" * 5000 + "}"
        assert "nest more than 32 deep" in refused(write_raw(folder, text), capsys)
    finally:
        sys.setrecursionlimit(limit)


def test_nesting_that_json_reads_is_a_field_problem(folder: Path) -> None:
    found = problems({**GOOD, "sources": json.loads("[" * 500 + "]" * 500)}, folder)
    assert set(found) == {"sources.0"}


def test_nesting_within_the_limit_is_a_field_problem(folder: Path) -> None:
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(write_raw(folder, json.dumps({**GOOD, "x": [[[[[1]]]]]})))
    assert [p.field for p in caught.value.problems] == ["x"]


@pytest.mark.parametrize("text", ["[]", '"spec"', "5", "null", "true", ""])
def test_a_file_that_holds_no_object_is_refused(folder: Path, text: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(write_raw(folder, text), capsys)
    assert "(spec): the spec must be a JSON object" in err or "(json): not valid JSON" in err


# -- values of each field -------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    9.3e9, 1e10, MAX_CLIP_TIMEOUT_S + 1, 0, -0.0, -1, True, False, "3600", None, [3600],
    math.inf, -math.inf, math.nan,  # possible from Python, not from JSON
])
def test_clip_timeout_out_of_range_or_type_is_refused(folder: Path, value: Any) -> None:
    found = problems({**GOOD, "clip_timeout_s": value}, folder)
    assert list(found) == ["clip_timeout_s"]


def test_the_longest_clip_timeout_is_a_week(folder: Path) -> None:
    spec = JobSpec.from_dict({**GOOD, "clip_timeout_s": MAX_CLIP_TIMEOUT_S}, folder)
    assert spec.clip_timeout_s == 7 * 24 * 3600
    assert "more than a week" in problems({**GOOD, "clip_timeout_s": 9.3e9}, folder)[
        "clip_timeout_s"]


@pytest.mark.parametrize("value", [True, 1.0, "1", 10**25, 2, None])
def test_schema_version_must_be_the_number_1(folder: Path, value: Any) -> None:
    assert list(problems({**GOOD, "schema_version": value}, folder)) == ["schema_version"]


@pytest.mark.parametrize("fps", ["1000000000", "1001", "0", "0/1", "1/0", "25\n", " 25", "-25",
                                 "25.0.0", "1e3", "0.5", "\u0662\u0665", "25 fps", ""])
def test_impossible_rates_are_refused(folder: Path, fps: str) -> None:
    found = problems({**GOOD, "fps_mode": "cfr", "fps": fps}, folder)
    assert list(found) == ["fps"]


def test_a_rate_over_1000_fps_is_refused_in_words(folder: Path) -> None:
    found = problems({**GOOD, "fps_mode": "cfr", "fps": "1000000000"}, folder)
    assert found["fps"] == '"1000000000" is outside 1 to 1000 fps'


def test_a_rate_as_a_number_says_to_quote_it(folder: Path) -> None:
    found = problems({**GOOD, "fps_mode": "cfr", "fps": 29.97}, folder)
    assert '"29.97"' in found["fps"] and "in quotes" in found["fps"]


@pytest.mark.parametrize("resolution", ["1280x720\n", "1280x720\r\n", "\uff11280x720",
                                        "1280X720", " 1280x720", "1280x720 ", "1280x720\x00",
                                        "99999999x9", 1280])
def test_resolution_must_be_exactly_width_x_height(folder: Path, resolution: Any) -> None:
    assert list(problems({**GOOD, "resolution": resolution}, folder)) == ["resolution"]


@pytest.mark.parametrize("field,value", [
    ("sources", ["A001\0.mov"]), ("output_dir", "out\0"), ("naming_template", "a\0b"),
])
def test_a_nul_is_refused_in_every_path(folder: Path, field: str, value: Any) -> None:
    found = problems({**GOOD, field: value}, folder)
    assert list(found) == [f"{field}.0" if field == "sources" else field]
    assert "NUL" in next(iter(found.values()))


@pytest.mark.parametrize("field,value", [
    ("naming_template", "{source_name}\ud800"), ("$schema", "\udfff"), ("output_dir", "o\ud83d"),
    ("fps", "2\udc805"), ("created_at", "2024\ud800"), ("job_id", "\ud800" * 8),
])
def test_lone_surrogates_are_refused_everywhere(folder: Path, field: str, value: Any) -> None:
    data = {**GOOD, field: value, **({"fps_mode": "cfr"} if field == "fps" else {})}
    assert list(problems(data, folder)) == [field]


def test_a_lone_surrogate_in_a_key_is_printed_escaped(folder: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(GOOD)[:-1] + ', "co\\udc80dec": 1}'
    assert "co\\x80dec: unknown field" in refused(write_raw(folder, text), capsys)


@pytest.mark.parametrize("job_id", ["DEADBEEF", "deadbeef\n", "deadbee", "deadbeef0", 12345678])
def test_job_id_must_be_8_lowercase_hex_digits(folder: Path, job_id: Any) -> None:
    assert list(problems({**GOOD, "job_id": job_id}, folder)) == ["job_id"]


@pytest.mark.parametrize("created_at", ["yesterday", 0, 1718389800, True, "2024-13-01T00:00:00"])
def test_created_at_must_be_an_iso_time(folder: Path, created_at: Any) -> None:
    found = problems({**GOOD, "created_at": created_at}, folder)
    assert list(found) == ["created_at"]
    assert "ISO 8601" in found["created_at"]


def test_sources_must_be_a_list_of_paths(folder: Path) -> None:
    assert "even for one clip" in problems({**GOOD, "sources": "A001.mov"}, folder)["sources"]
    assert "at least one clip" in problems({**GOOD, "sources": []}, folder)["sources"]
    found = problems({**GOOD, "sources": ["A001.mov", 5, None, " ", {"a": 1}]}, folder)
    assert list(found) == ["sources.1", "sources.2", "sources.3", "sources.4"]


def test_a_huge_string_is_refused_and_not_echoed_in_full(folder: Path) -> None:
    huge = "x" * 5_000_000
    for field in ("naming_template", "resolution", "fps", "codec", "job_id"):
        data = {**GOOD, field: huge, **({"fps_mode": "cfr"} if field == "fps" else {})}
        found = problems(data, folder)
        assert list(found) == [field]
        assert len(found[field]) < 400, field
    assert list(problems({**GOOD, "sources": [huge]}, folder)) == ["sources.0"]


def test_a_template_at_the_length_limit_still_refuses_the_name(folder: Path) -> None:
    """1,024 characters pass the field; the name they make is too long for any disk."""
    spec = JobSpec.from_dict({**GOOD, "naming_template": "y" * 1024}, folder)
    with pytest.raises(JobSpecValidationError) as caught:
        from rproxy import validate
        validate(spec)
    assert "bytes; a file name can have at most 255" in caught.value.problems[0].message


def test_a_date_before_the_year_1000_names_with_four_digits(folder: Path) -> None:
    from rproxy._naming import output_names

    spec = JobSpec.from_dict({**GOOD, "naming_template": "{date}_{time}",
                              "created_at": "0033-04-03T15:00:09"}, folder)
    assert output_names(spec) == ["00330403_150009.mov"]


def test_odd_numbers_are_handled_as_numbers(folder: Path) -> None:
    """-0, 1e2, 3600.0000000001 and ints for floats are what they say; under a second is no
    clip timeout (FFmpeg has not started by then)."""
    for value, expected in [(3600, 3600.0), (1e2, 100.0), (1.5, 1.5)]:
        assert JobSpec.from_dict({**GOOD, "clip_timeout_s": value}, folder).clip_timeout_s == \
            expected
    path = write_raw(folder, json.dumps(GOOD)[:-1] + ', "clip_timeout_s": -0}')
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(path)
    assert caught.value.problems[0].field == "clip_timeout_s"
    for tiny in (0.5, 1e-300):
        with pytest.raises(JobSpecValidationError) as caught:
            JobSpec.from_dict({**GOOD, "clip_timeout_s": tiny}, folder)
        assert "before FFmpeg has started" in caught.value.problems[0].message


def test_every_message_of_a_bad_spec_is_ours(folder: Path) -> None:
    """None of pydantic's own text ("Input should be", "List should have") reaches a person,
    whatever the wrong value is."""
    wrong: dict[str, list[Any]] = {
        "$schema": [5, [], {}], "schema_version": ["x", [], {}, 1.5, None],
        "job_id": [5, [], {}, True], "sources": [5, {}, None, True, [[]]],
        "output_dir": [5, [], {}, None, ""], "codec": [5, [], None, "x"],
        "container": [5, [], None, "x"], "resolution": [5, [], None, "x"],
        "fps_mode": [5, [], None, "x"], "fps": [[], {}, True, "x"],
        "naming_template": [5, [], None, {}], "created_at": [[], {}, "x", 1.5],
        "clip_timeout_s": [[], {}, None, "x"],
    }
    for field, values in wrong.items():
        for value in values:
            found = problems({**GOOD, field: value}, folder)
            for message in found.values():
                assert "should" not in message and "Input" not in message, (field, message)
                assert "validation" not in message, (field, message)


def test_a_spec_with_no_fields_lists_every_missing_one(folder: Path) -> None:
    found = problems({}, folder)
    assert list(found) == ["schema_version", "sources", "output_dir", "codec", "container",
                           "resolution", "fps_mode"]
    assert found["resolution"] == 'is missing; write "WIDTHxHEIGHT", e.g. "1280x720"'


def test_keys_that_are_not_text_are_named(folder: Path) -> None:
    found = problems({**GOOD, 5: 1, None: 2, "": 3}, folder)
    assert set(found) == {"5", "None", '""'}


def test_an_invalid_spec_through_the_cli_writes_nothing(folder: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = write_spec(folder, output_dir="new", fps="1000000000", fps_mode="cfr")
    assert main(["run", str(path)]) == 2
    assert "fps" in capsys.readouterr().err
    assert not (folder / "new").exists()
