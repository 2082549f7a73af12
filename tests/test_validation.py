"""Every validation rule: refused before anything runs, with a message naming the field."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from rproxy import JobSpec, JobSpecValidationError, validate
from rproxy._cli import main
from rproxy._spec import parse_rate
from rproxy._validate import load_spec
from tests.conftest import write_spec


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("A001.mov", "A002.mov", "a001.mov.txt"):
        (tmp_path / name).write_bytes(b"not checked by validation")
    (tmp_path / "out").mkdir()
    return tmp_path


def problems_of(folder: Path, **fields: Any) -> list[tuple[str, str]]:
    """(field, message) of every problem found for a spec with `fields`."""
    path = write_spec(folder, **fields)
    with pytest.raises(JobSpecValidationError) as caught:
        validate(JobSpec.from_file(path))
    return [(p.field, p.message) for p in caught.value.problems]


def fields_of(problems: list[tuple[str, str]]) -> list[str]:
    return [field for field, _ in problems]


def test_a_good_spec_is_valid(folder: Path) -> None:
    spec = JobSpec.from_file(write_spec(folder))
    validate(spec)
    assert spec.source_paths == [folder / "A001.mov"]
    assert spec.output_path == folder / "out"


def test_unknown_field_is_refused(folder: Path) -> None:
    path = write_spec(folder, resolutoin="1280x720")
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(path)
    assert [p.field for p in caught.value.problems] == ["resolutoin"]
    assert "unknown field" in caught.value.problems[0].message


def test_unknown_schema_version_is_refused(folder: Path) -> None:
    path = write_spec(folder, schema_version=2)
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(path)
    assert caught.value.problems[0].field == "schema_version"
    assert "unknown schema_version 2" in caught.value.problems[0].message


def test_unknown_token_is_refused(folder: Path) -> None:
    found = problems_of(folder, naming_template="{source_name}_{reel}")
    assert fields_of(found) == ["naming_template"]
    assert "{reel}" in found[0][1]


def test_codec_container_outside_table_is_refused(folder: Path) -> None:
    found = problems_of(folder, codec="prores_hq", container="mp4")
    assert fields_of(found) == ["container"]
    assert "prores_hq cannot go in mp4" in found[0][1]


@pytest.mark.parametrize("codec,container", [("vp9", "mp4"), ("av1", "mov"), ("dnxhr", "mkv"),
                                             ("h264", "webm"), ("h265", "mxf")])
def test_more_pairs_outside_table(folder: Path, codec: str, container: str) -> None:
    resolution = "1280x720"
    assert "container" in fields_of(problems_of(folder, codec=codec, container=container,
                                                resolution=resolution))


def test_missing_source_is_refused(folder: Path) -> None:
    found = problems_of(folder, sources=["A001.mov", "nope.mov"])
    assert fields_of(found) == ["sources.1"]
    assert "does not exist" in found[0][1]


def test_source_that_is_a_folder_is_refused(folder: Path) -> None:
    (folder / "card").mkdir()
    found = problems_of(folder, sources=["card"])
    assert fields_of(found) == ["sources.0"]
    assert "folder" in found[0][1]


def test_source_that_is_a_fifo_is_refused(folder: Path) -> None:
    os.mkfifo(folder / "pipe.mov")
    found = problems_of(folder, sources=["pipe.mov"])
    assert fields_of(found) == ["sources.0"]
    assert "not a regular file" in found[0][1]


def deny(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Permission bits do not stop root (CI runs as root): deny access to `denied` instead."""
    real = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        return False if Path(path) == denied else real(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_unreadable_source_is_refused(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "A001.mov").chmod(0)
    deny(monkeypatch, folder / "A001.mov")
    found = problems_of(folder)
    assert fields_of(found) == ["sources.0"]
    assert "not readable" in found[0][1]


@pytest.mark.parametrize("source", ["concat:A001.mov|A002.mov", "pipe:0", "http://cam/a.mov",
                                    "file:A001.mov", "tcp://127.0.0.1:9/x"])
def test_protocol_sources_are_refused(folder: Path, source: str) -> None:
    found = problems_of(folder, sources=[source])
    assert fields_of(found) == ["sources.0"]
    assert "protocol" in found[0][1]


def test_option_like_source_name_is_a_plain_file(folder: Path) -> None:
    (folder / "-i.mov").write_bytes(b"x")
    spec = JobSpec.from_file(write_spec(folder, sources=["-i.mov"]))
    validate(spec)
    from rproxy import build_plan
    from rproxy._argv import build_argv

    plan = build_plan(spec)
    argv = build_argv("ffmpeg", plan.clips[0].source_path, plan.clips[0].partial_path, plan.fmt)
    assert argv[argv.index("-i") + 1] == f"file:{folder / '-i.mov'}"
    assert "-i.mov" not in argv


def test_missing_output_dir_with_a_parent_is_valid(folder: Path) -> None:
    """The first clip creates it (one level), under `rproxy run` and doit alike."""
    validate(JobSpec.from_file(write_spec(folder, output_dir="new")))
    assert not (folder / "new").exists()  # validation writes nothing


def test_output_dir_whose_parent_is_missing_is_refused(folder: Path) -> None:
    """An unplugged drive: /Volumes/PROXIES/day1 must never become a folder on the system
    disk."""
    found = problems_of(folder, output_dir="unplugged/day1")
    assert fields_of(found) == ["output_dir"]
    assert "neither does its parent folder" in found[0][1]
    assert "drive connected" in found[0][1]


def test_missing_output_dir_in_a_read_only_parent_is_refused(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deny(monkeypatch, folder / "out")
    found = problems_of(folder, output_dir="out/new")
    assert fields_of(found) == ["output_dir"]
    assert "cannot be created" in found[0][1]


def test_output_dir_that_is_a_dangling_link_is_refused(folder: Path) -> None:
    (folder / "gone").symlink_to(folder / "nowhere")
    found = problems_of(folder, output_dir="gone")
    assert fields_of(found) == ["output_dir"]
    assert "link to nothing" in found[0][1]


def test_output_dir_that_is_a_file_is_refused(folder: Path) -> None:
    found = problems_of(folder, output_dir="A002.mov")
    assert fields_of(found) == ["output_dir"]
    assert "not a folder" in found[0][1]


def test_unwritable_output_dir_is_refused(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "out").chmod(0o555)
    deny(monkeypatch, folder / "out")
    found = problems_of(folder)
    assert fields_of(found) == ["output_dir"]
    assert "not writable" in found[0][1]


def test_multi_clip_template_needs_index_or_source_name(folder: Path) -> None:
    found = problems_of(folder, sources=["A001.mov", "A002.mov"], naming_template="proxy_{codec}")
    assert fields_of(found) == ["naming_template"]
    assert "{index} or {source_name}" in found[0][1]


def test_colliding_outputs_are_refused(folder: Path) -> None:
    (folder / "b").mkdir()
    (folder / "b" / "A001.mov").write_bytes(b"x")
    found = problems_of(folder, sources=["A001.mov", "b/A001.mov"])
    assert fields_of(found) == ["naming_template (clip 1)"]
    assert "collides with clip 0" in found[0][1]


def test_outputs_differing_only_in_case_collide(folder: Path) -> None:
    (folder / "a001.mov").write_bytes(b"x")
    found = problems_of(folder, sources=["A001.mov", "a001.mov"])
    assert fields_of(found) == ["naming_template (clip 1)"]
    assert "letter case" in found[0][1]


def test_output_escaping_output_dir_is_refused(folder: Path) -> None:
    found = problems_of(folder, naming_template="../{source_name}")
    assert fields_of(found) == ["naming_template (clip 0)"]
    assert "escapes output_dir" in found[0][1]


def test_absolute_template_is_refused(folder: Path) -> None:
    found = problems_of(folder, naming_template="/tmp/{source_name}")
    assert fields_of(found) == ["naming_template (clip 0)"]
    assert "absolute" in found[0][1]


def test_output_equal_to_a_source_is_refused(folder: Path) -> None:
    found = problems_of(folder, output_dir=".")
    assert fields_of(found) == ["naming_template (clip 0)"]
    assert "is source 0 itself" in found[0][1]


def test_cfr_without_fps_is_refused(folder: Path) -> None:
    found = problems_of(folder, fps_mode="cfr")
    assert fields_of(found) == ["fps"]
    assert "needs fps" in found[0][1]


def test_fps_with_passthrough_is_refused(folder: Path) -> None:
    found = problems_of(folder, fps="25")
    assert fields_of(found) == ["fps"]
    assert "only used with fps_mode 'cfr'" in found[0][1]


@pytest.mark.parametrize("resolution", ["1280*720", "1280x", "x720", "0x720", "1280x720p", ""])
def test_malformed_resolution_is_refused(folder: Path, resolution: str) -> None:
    path = write_spec(folder, resolution=resolution)
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(path)
    assert [p.field for p in caught.value.problems] == ["resolution"]
    assert "WIDTHxHEIGHT" in caught.value.problems[0].message


@pytest.mark.parametrize("codec,container", [("h264", "mp4"), ("h265", "mov"), ("hevc", "mkv")])
def test_odd_sizes_for_420_codecs_are_refused(folder: Path, codec: str, container: str) -> None:
    found = problems_of(folder, codec=codec, container=container, resolution="641x361")
    assert fields_of(found) == ["resolution"]
    assert "even width and height" in found[0][1]


def test_dnxhd_size_it_cannot_encode_is_refused(folder: Path) -> None:
    found = problems_of(folder, codec="dnxhd", resolution="960x540")
    assert fields_of(found) == ["resolution"]
    assert "DNxHD encodes only 1920x1080, 1280x720" in found[0][1]


def test_dnxhd_rate_it_cannot_encode_is_refused(folder: Path) -> None:
    found = problems_of(folder, codec="dnxhd", resolution="1920x1080", fps_mode="cfr", fps="15")
    assert fields_of(found) == ["fps"]
    assert "no bitrate for 15 fps" in found[0][1]


def test_mxf_nonstandard_rate_is_refused(folder: Path) -> None:
    found = problems_of(folder, codec="dnxhr", container="mxf", resolution="1280x720",
                        fps_mode="cfr", fps="12")
    assert fields_of(found) == ["fps"]
    assert "MXF takes only standard rates" in found[0][1]


@pytest.mark.parametrize("token", ["date", "time"])
def test_clock_tokens_need_created_at(folder: Path, token: str) -> None:
    found = problems_of(folder, naming_template="{source_name}_{" + token + "}")
    assert fields_of(found) == ["created_at"]
    assert "created_at" in found[0][1]


def test_all_problems_are_reported_together(folder: Path) -> None:
    found = problems_of(folder, sources=["nope.mov", "pipe:1"], output_dir="missing/deeper",
                        codec="h264", container="webm", resolution="641x360", fps_mode="cfr")
    assert set(fields_of(found)) == {"sources.0", "sources.1", "output_dir", "container",
                                     "resolution", "fps"}


def test_invalid_spec_writes_nothing(folder: Path) -> None:
    before = sorted(p.name for p in folder.rglob("*"))
    path = write_spec(folder, sources=["nope.mov"])
    assert main(["run", str(path)]) == 2
    after = sorted(p.name for p in folder.rglob("*"))
    assert after == sorted([*before, "job.json"])


def test_cli_validate_prints_one_line_per_problem(folder: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write_spec(folder, sources=["nope.mov"], output_dir="missing/deeper")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"{path}: sources.0:")
    assert err[1].startswith(f"{path}: output_dir:")
    assert "Traceback" not in "\n".join(err)


def test_cli_validate_ok(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--no-probe", str(write_spec(folder))]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize("text,field", [("{not json", "(json)"), ("[1, 2]", "(spec)"),
                                        ("", "(json)")])
def test_malformed_json_is_a_clean_exit_2(folder: Path, text: str, field: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = folder / "bad.json"
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{field}:" in err
    assert "Traceback" not in err


def test_missing_spec_file_is_a_clean_exit_2(folder: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(folder / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_schema_describes_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False
    for name, prop in schema["properties"].items():
        assert prop.get("description"), name
    assert set(schema["required"]) == {"schema_version", "sources", "output_dir", "codec",
                                       "container", "resolution", "fps_mode"}


def test_a_schema_reference_is_allowed_and_does_not_change_the_job(folder: Path) -> None:
    plain = JobSpec.from_file(write_spec(folder))
    with_schema = JobSpec.from_file(write_spec(folder, **{"$schema": "./rproxy.schema.json"}))
    validate(with_schema)
    assert with_schema.id == plain.id
    assert with_schema.json_schema == "./rproxy.schema.json"


def test_schema_lets_editors_accept_the_schema_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "$schema" in schema["properties"]


def test_a_spec_saved_with_a_byte_order_mark_is_read(folder: Path) -> None:
    path = write_spec(folder)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    validate(JobSpec.from_file(path))


# -- one pass: every problem at once, each field once, in words -----------------------------

def test_structural_and_semantic_problems_come_together(folder: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """Three wrong fields, two wrong relations between right ones and two missing files: all
    seven in one go from the CLI (and from load_spec, which the CLI and doit use)."""
    path = write_spec(folder, codec="prores_prxy", resolution="big", clip_timeout_s="x",
                      output_dir="unplugged/day1", fps="25", naming_template="{reel}",
                      sources=["nope.mov"])
    expected = ["sources.0", "output_dir", "codec", "resolution", "fps", "naming_template",
                "clip_timeout_s"]
    with pytest.raises(JobSpecValidationError) as caught:
        load_spec(path)
    assert fields_of([(p.field, p.message) for p in caught.value.problems]) == expected
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": ")[1] for line in lines] == expected
    # JobSpec.from_file, a parse, leaves out only what depends on what runs the spec (under
    # doit a source may be made by the user's own task).
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(path)
    assert fields_of([(p.field, p.message) for p in caught.value.problems]) == [
        "codec", "resolution", "fps", "naming_template", "clip_timeout_s"]


def test_fps_with_passthrough_is_reported_beside_other_problems(folder: Path) -> None:
    found = problems_of(folder, fps="25", container="mp4", resolution="1280x720p")
    assert fields_of(found) == ["container", "resolution", "fps"]


def test_a_misspelt_field_says_did_you_mean_and_nothing_else(folder: Path) -> None:
    path = write_spec(folder, resolution=None, resolutoin="1280x720")
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(path)
    problems = caught.value.problems
    assert [p.field for p in problems] == ["resolutoin"]  # no "resolution: is missing"
    assert 'did you mean "resolution"?' in problems[0].message


def test_a_misspelt_field_beside_the_right_one_says_remove_it(folder: Path) -> None:
    found = problems_of_parse(folder, Codec="h264")
    assert found == [("Codec", 'unknown field ("codec" is given too); remove it')]


def test_an_unknown_field_far_from_any_is_just_unknown(folder: Path) -> None:
    found = problems_of_parse(folder, colour_space="rec709")
    assert found[0][0] == "colour_space"
    assert "unknown field" in found[0][1] and "did you mean" not in found[0][1]


def test_no_raw_pydantic_text_for_an_empty_source_list(folder: Path) -> None:
    found = problems_of_parse(folder, sources=[])
    assert found == [("sources", 'is empty; list at least one clip, e.g. ["A001.mov"]')]


def test_a_wrong_value_of_a_choice_suggests_the_close_one(folder: Path) -> None:
    found = problems_of_parse(folder, codec="ProRes_Proxy")
    assert found[0][0] == "codec"
    assert '(did you mean "prores_proxy"?)' in found[0][1]


def test_two_rate_rules_on_one_field_make_one_problem(folder: Path) -> None:
    found = problems_of(folder, codec="dnxhd", container="mxf", resolution="1920x1080",
                        fps_mode="cfr", fps="15")
    assert fields_of(found) == ["fps"]


def problems_of_parse(folder: Path, **fields: Any) -> list[tuple[str, str]]:
    with pytest.raises(JobSpecValidationError) as caught:
        JobSpec.from_file(write_spec(folder, **fields))
    return [(p.field, p.message) for p in caught.value.problems]


# -- frame rates ----------------------------------------------------------------------------

@pytest.mark.parametrize("written,rate", [
    ("23.976", Fraction(24000, 1001)), ("23.98", Fraction(24000, 1001)),
    ("29.97", Fraction(30000, 1001)), ("29.970", Fraction(30000, 1001)),
    ("47.952", Fraction(48000, 1001)), ("59.94", Fraction(60000, 1001)),
    ("119.88", Fraction(120000, 1001)), ("24000/1001", Fraction(24000, 1001)),
    ("25", Fraction(25)), ("25.00", Fraction(25)), ("12.5", Fraction(25, 2)),
    ("2997/100", Fraction(2997, 100)),  # a ratio is exact: the user wrote it so
    ("29.9", Fraction(299, 10)),        # one decimal is no NTSC rate
    ("23.97", Fraction(24000, 1001)), ("47.95", Fraction(48000, 1001)),  # cut off, not rounded
    ("23.96", Fraction(599, 25)),       # neither: exact
    ("1000", Fraction(1000)), ("1000.00", Fraction(1000)), ("1", Fraction(1)),
])
def test_decimal_ntsc_rates_mean_what_editors_mean(written: str, rate: Fraction) -> None:
    assert parse_rate(written) == rate


def test_a_cfr_2997_job_runs_at_30000_1001(folder: Path) -> None:
    from rproxy import build_plan

    spec = JobSpec.from_file(write_spec(folder, fps_mode="cfr", fps="29.97"))
    validate(spec)
    assert spec.rate == Fraction(30000, 1001)
    from rproxy._plan import format_command

    argv = format_command(build_plan(spec).fmt)
    assert argv[argv.index("-r") + 1] == "30000/1001"


def test_mxf_takes_decimal_ntsc_rates(folder: Path) -> None:
    validate(JobSpec.from_file(write_spec(folder, codec="dnxhr", container="mxf",
                                          resolution="1280x720", fps_mode="cfr",
                                          fps="59.94")))


# -- the spec's file, its name, its id ------------------------------------------------------

def test_spec_file_and_name(folder: Path) -> None:
    spec = JobSpec.from_file(write_spec(folder, name="Day 1.JSON"))
    assert spec.spec_file == folder / "Day 1.JSON"
    assert spec.name == "Day 1"
    assert spec.with_base_dir(folder / "out").spec_file == folder / "Day 1.JSON"
    assert spec.model_copy(update={"resolution": "320x180"}).spec_file == spec.spec_file
    built = JobSpec.from_dict(json.loads((folder / "Day 1.JSON").read_text()), folder)
    assert built.spec_file is None
    assert built.name == built.id


def test_spec_file_is_absolute_for_a_relative_path(folder: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write_spec(folder)
    monkeypatch.chdir(folder)
    spec = JobSpec.from_file("job.json")
    assert spec.spec_file == folder / "job.json" and spec.name == "job"


def test_model_copy_derives_a_fresh_job_id(folder: Path) -> None:
    spec = JobSpec.from_file(write_spec(folder))
    changed = spec.model_copy(update={"resolution": "320x180"})
    written = JobSpec.from_file(write_spec(folder, name="b.json", resolution="320x180"))
    assert changed.id == written.id != spec.id
    assert spec.model_copy().id == spec.id
    assert spec.model_copy(update={"job_id": "0a1b2c3d"}).id == "0a1b2c3d"
    fixed = JobSpec.from_file(write_spec(folder, name="c.json", job_id="deadbeef"))
    assert fixed.model_copy(update={"resolution": "320x180"}).id == "deadbeef"
    assert fixed.model_copy(update={"job_id": None}).id == spec.model_copy(
        update={"job_id": None}).id


def test_the_derived_id_of_the_demo_is_unchanged() -> None:
    """Job ids name the state folders: a new rproxy must not move them."""
    demo = Path(__file__).resolve().parents[1] / "jobs" / "demo.json"
    assert JobSpec.from_file(demo).id == "7d93c1da"


def test_schema_describes_rates_limits_and_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "pre-flight" in schema["description"] and "--no-probe" in schema["description"]
    props = schema["properties"]
    assert "29.97' is 30000/1001" in props["fps"]["description"]
    assert "1 to 1000 fps" in props["fps"]["description"]
    assert props["clip_timeout_s"]["maximum"] == 604800
    assert props["clip_timeout_s"]["exclusiveMinimum"] == 0
    assert props["sources"]["minItems"] == 1
    assert props["naming_template"]["maxLength"] == 1024
    assert "255 bytes" in props["naming_template"]["description"]
    assert "parent exists" in props["output_dir"]["description"]
    import re
    fps_pattern = re.compile(props["fps"]["anyOf"][0]["pattern"])
    assert fps_pattern.search("29.97") and not fps_pattern.search("29.97x")


def test_a_source_listed_twice_is_said_so(folder: Path) -> None:
    found = problems_of(folder, sources=["A001.mov", "A002.mov", "A001.mov"])
    assert found == [("sources.2", "is sources.0 again; list each clip once")]
