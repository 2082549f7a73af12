"""Hostile names: sources whose names look like options, protocols or shell syntax are read by
ffmpeg as plain files (never through a shell), or refused at validation; output names never
leave output_dir. Every encode here is a real one."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from rproxy import JobSpec, JobSpecValidationError, execute_multi_job_spec

from .conftest import write_spec

HOSTILE = [
    "-i.mov",                      # an option, if it were passed bare
    "-y",                          # no extension at all, and an option
    "with space.mov",
    "quote's \"double\".mov",
    "ünïcødé 日本語 ✂.mov",
    "$(touch PWNED).mov",          # shell syntax: harmless without a shell
    "semi;colon&amp|pipe.mov",
    "concat:x.mov",                # a protocol name: written ./concat:x.mov in the spec
    "file:y.mov",
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_hostile_source_names_are_read_as_plain_files(
        tmp_path: Path, clip_factory: Callable[..., Path]) -> None:
    template = clip_factory("template.mov", seconds=0.3, audio_tracks=1)
    for name in HOSTILE:
        (tmp_path / name).write_bytes(template.read_bytes())
    before = {name: _digest(tmp_path / name) for name in HOSTILE}
    (tmp_path / "out").mkdir()
    written = [f"./{n}" if ":" in n else n for n in HOSTILE]
    spec = write_spec(tmp_path, sources=written)

    result = execute_multi_job_spec(JobSpec.from_file(spec))

    assert result.status.value == "COMPLETED", [c.failure_reason for c in result.clips]
    out = tmp_path / "out"
    for name, clip in zip(HOSTILE, result.clips, strict=True):
        stem = name.rsplit(".", 1)[0] if name.endswith(".mov") else name
        proxy = out / f"{stem}.mov"
        assert clip.output_path == str(proxy)
        assert proxy.is_file() and proxy.parent == out
        assert clip.verification is not None and clip.verification.ok
        # The source went to ffmpeg as one argument: file:<absolute path>, never bare.
        argv = clip.ffmpeg_command or []
        assert argv[argv.index("-i") + 1] == f"file:{tmp_path / name}"
        assert argv[-1].startswith("file:/")
    assert not (tmp_path / "PWNED").exists()
    assert not (out / "PWNED").exists()
    assert {name: _digest(tmp_path / name) for name in HOSTILE} == before


@pytest.mark.parametrize("bare", ["pipe:1", "concat:a.mov|b.mov", "http://example.invalid/a.mov",
                                  "file:a.mov", "tcp://127.0.0.1:9/x", "data:,xyz"])
def test_protocol_like_sources_written_bare_are_refused_at_validation(
        tmp_path: Path, bare: str) -> None:
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=[bare])
    with pytest.raises(JobSpecValidationError) as caught:
        execute_multi_job_spec(JobSpec.from_file(spec))
    assert any(p.field == "sources.0" for p in caught.value.problems)
    assert list((tmp_path / "out").iterdir()) == []  # nothing written


def test_protocol_like_source_via_cli_exit_2_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["pipe:1"])
    done = subprocess.run([sys.executable, "-m", "rproxy", "run", str(spec)], cwd=tmp_path,
                          capture_output=True, timeout=60, check=False)
    text = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 2, text
    assert "pipe:1" in text and "Traceback" not in text
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("template", [
    "../{source_name}",
    "../../etc/{source_name}",
    "/tmp/{source_name}",
    "sub/../../{source_name}",
    ".rproxy/{source_name}",
    "~/{source_name}",
])
def test_output_names_never_escape_output_dir(
        tmp_path: Path, clip_factory: Callable[..., Path], template: str) -> None:
    clip_factory("A001.mov", seconds=0.3)
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["A001.mov"], naming_template=template)
    with pytest.raises(JobSpecValidationError) as caught:
        execute_multi_job_spec(JobSpec.from_file(spec))
    assert any("naming_template" in p.field for p in caught.value.problems)
    assert list((tmp_path / "out").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A001.mov", "job.json", "out"]


def test_source_name_with_dots_cannot_climb_out(
        tmp_path: Path, clip_factory: Callable[..., Path]) -> None:
    """A source file named '...mov' or '..' + ext: its stem must not become a path."""
    template = clip_factory("t.mov", seconds=0.3, audio_tracks=0)
    odd = tmp_path / "..x.mov"
    odd.write_bytes(template.read_bytes())
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["..x.mov"])
    try:
        result = execute_multi_job_spec(JobSpec.from_file(spec))
    except JobSpecValidationError as exc:  # refusing a hidden-looking name is fine too
        assert any("naming_template" in p.field for p in exc.problems)
        return
    out = tmp_path / "out"
    assert Path(result.clips[0].output_path).parent == out
    assert json.loads((out / ".rproxy" / result.job_id / "result.json").read_text())


# -- names a file system or a terminal cannot take: refused at validation -------------------

def _problems(spec_path: Path) -> list[tuple[str, str]]:
    from rproxy import validate

    with pytest.raises(JobSpecValidationError) as caught:
        validate(JobSpec.from_file(spec_path))
    return [(p.field, p.message) for p in caught.value.problems]


def _folder(tmp_path: Path, *names: str | bytes) -> Path:
    for name in names:
        path = os.path.join(os.fsencode(tmp_path), os.fsencode(name))
        with open(path, "wb") as handle:
            handle.write(b"not read by validation")
    (tmp_path / "out").mkdir()
    return tmp_path


def test_a_proxy_name_over_255_bytes_is_refused_before_encoding(tmp_path: Path) -> None:
    _folder(tmp_path, "A001.mov")
    spec = write_spec(tmp_path, naming_template="{source_name}_" + "é" * 124)  # + ".mov": 257 bytes
    found = _problems(spec)
    assert [f for f, _ in found] == ["naming_template (clip 0)"]
    assert "is 257 bytes; a file name can have at most 255" in found[0][1]


def test_a_proxy_name_of_255_bytes_is_fine(tmp_path: Path) -> None:
    from rproxy import validate

    _folder(tmp_path, "A001.mov")
    validate(JobSpec.from_file(write_spec(tmp_path, naming_template="日" * 83 + "x" * 2)))


def test_a_long_name_in_a_subfolder_of_the_template_is_refused(tmp_path: Path) -> None:
    _folder(tmp_path, "A001.mov")
    found = _problems(write_spec(tmp_path, naming_template="x" * 300 + "/{source_name}"))
    assert "a file name can have at most 255" in found[0][1]


def test_rproxys_own_state_paths_must_fit_too(tmp_path: Path) -> None:
    """An output folder so deep that <out>/.rproxy/<job>/partial/000.mov would pass the
    4,096 bytes a Linux path can have: refused now, not after the encode."""
    _folder(tmp_path, "A001.mov")
    deep = tmp_path
    while len(os.fsencode(deep)) < 4096 - 300:
        deep = deep / ("d" * 250)
    deep.mkdir(parents=True)
    spec = write_spec(tmp_path, output_dir=str(deep / ("o" * 230)))
    found = _problems(spec)
    assert ("output_dir" in [f for f, _ in found]), found
    assert any("rproxy's state folder" in m for _, m in found)


def test_names_differing_only_in_unicode_form_collide(tmp_path: Path) -> None:
    """macOS takes "é" composed (NFC) and "e" + combining accent (NFD) for one name."""
    nfc, nfd = unicodedata.normalize("NFC", "Café.mov"), unicodedata.normalize("NFD", "Café.mov")
    assert nfc != nfd
    (tmp_path / "b").mkdir()
    _folder(tmp_path, nfc, f"b/{nfd}")
    found = _problems(write_spec(tmp_path, sources=[nfc, f"b/{nfd}"]))
    assert [f for f, _ in found] == ["naming_template (clip 1)"]
    assert "collides with clip 0" in found[0][1] and "NFC/NFD" in found[0][1]


def test_names_differing_in_case_and_unicode_form_collide(tmp_path: Path) -> None:
    upper = unicodedata.normalize("NFD", "CAFÉ.mov")
    (tmp_path / "b").mkdir()
    _folder(tmp_path, "café.mov", f"b/{upper}")
    found = _problems(write_spec(tmp_path, sources=["café.mov", f"b/{upper}"]))
    assert "collides with clip 0" in found[0][1] and "letter case" in found[0][1]


def test_a_proxy_named_like_a_source_in_another_unicode_form_is_that_source(
        tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Café.mov")
    _folder(tmp_path, nfd)
    found = _problems(write_spec(tmp_path, sources=[nfd], output_dir=".",
                                 naming_template=unicodedata.normalize("NFC", "Café")))
    assert "is source 0 itself" in found[0][1]


@pytest.mark.parametrize("char", ["\x1b", "\r", "\n", "\t", "\x7f", "\x9b", "\u202e", "\u2028"])
def test_control_characters_from_a_source_name_are_refused(tmp_path: Path, char: str) -> None:
    _folder(tmp_path, f"A{char}001.mov")
    found = _problems(write_spec(tmp_path, sources=[f"A{char}001.mov"]))
    assert [f for f, _ in found] == ["naming_template (clip 0)"]
    assert "control or invisible character" in found[0][1]


def test_control_characters_in_the_template_are_refused_once(tmp_path: Path) -> None:
    _folder(tmp_path, "A001.mov", "A002.mov")
    found = _problems(write_spec(tmp_path, sources=["A001.mov", "A002.mov"],
                                 naming_template="{source_name}\x1b[2J"))
    assert found == [("naming_template", '"{source_name}\\x1b[2J" holds a control or '
                                         "invisible character; proxy names must print as "
                                         "they are")]


def test_validate_prints_control_characters_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rproxy._cli import main

    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["evil\x1b]0;pwned\x07\r\n.mov"])
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "evil\\x1b]0;pwned\\x07\\r\\n.mov" in err
    assert "\x1b" not in err and "\r" not in err and len(err.strip().splitlines()) == 2


def test_plan_prints_control_characters_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        clip_factory: Callable[..., Path]) -> None:
    """A source named with an escape sequence, proxies named by index: a valid job, whose
    plan shows the name escaped (verbose commands too)."""
    from rproxy._cli import main

    _folder(tmp_path, "x\x1b[2J.mov")
    (tmp_path / "x\x1b[2J.mov").unlink()
    clip_factory("x\x1b[2J.mov")  # real media: the plan probes it and shows its command
    spec = write_spec(tmp_path, sources=["x\x1b[2J.mov"], naming_template="{index}")
    assert main(["plan", "-v", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "x\\x1b[2J.mov -> " in out and "\x1b" not in out
    assert "-i 'file:" in out and out.count("x\\x1b[2J.mov") == 2  # the command too


def test_a_source_name_that_is_not_utf8_is_refused_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Written as the surrogate escape JSON can carry ("\\udce9" for the byte 0xE9)."""
    from rproxy._cli import main

    _folder(tmp_path, b"caf\xe9.mov")
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"schema_version": 1, "sources": [os.fsdecode(b"caf\xe9.mov")],
                                "output_dir": "out", "codec": "prores_proxy",
                                "container": "mov", "resolution": "160x90",
                                "fps_mode": "passthrough"}), encoding="utf-8")
    assert main(["run", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "sources.0: caf\\xe9.mov is not valid UTF-8" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_init_refuses_a_folder_with_a_name_that_is_not_utf8(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`rproxy init` left an empty spec behind; now it refuses and writes nothing."""
    from rproxy._cli import main

    card = tmp_path / "card"
    card.mkdir()
    _folder(card, b"A001.mov", b"caf\xe9.mov")
    monkeypatch.chdir(tmp_path)
    assert main(["init", "card"]) == 2
    assert "caf\\xe9.mov is not valid UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "jobs").exists() and not (tmp_path / "proxies").exists()


def test_a_spec_in_a_folder_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9"))
    folder.mkdir()
    _folder(folder, "A001.mov")
    found = _problems(write_spec(folder))
    assert found[0][0] == "(file)" and "caf\\xe9 is not valid UTF-8" in found[0][1]


@pytest.mark.parametrize("name", [b"day\x1b[2J.json", b"d\xe9j\xe0.json"])
def test_a_spec_file_name_that_cannot_name_the_job_is_refused(tmp_path: Path,
                                                              name: bytes) -> None:
    _folder(tmp_path, "A001.mov")
    good = write_spec(tmp_path)
    bad = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), name)))
    good.rename(bad)
    found = _problems(bad)
    assert [f for f, _ in found] == ["(file)"]
    assert "rename it (it names the job)" in found[0][1]
