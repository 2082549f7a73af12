"""`rproxy init` as a new user meets it: a phone folder of mixed shapes gets one spec per
shape, a project's own proxies are never taken as sources, every choice init makes is said,
nothing is left behind when it fails, and its hints fit the situation."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rproxy import _init, _shapes
from rproxy._cli import main
from rproxy._init import init_spec

from .conftest import make_clip

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def init(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Run:
    """`rproxy init ARGS` in-process, in `cwd` (default: tmp_path): (exit code, out, err)."""
    def run(*args: str, cwd: Path = tmp_path) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        code = main(["init", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def clip(ffmpeg: str, path: Path, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_clip(ffmpeg, path, seconds=0.2, audio_tracks=0, **options)


def rotated(ffmpeg: str, path: Path) -> Path:
    """A landscape recording flagged to be shown turned 90° (a phone held upright). FFmpeg 9
    ignores `-metadata:s:v rotate=90`; the display matrix is set with -display_rotation."""
    plain = clip(ffmpeg, path.with_name("plain_" + path.name), size="160x90")
    subprocess.run([ffmpeg, "-v", "error", "-display_rotation:v:0", "90", "-i", str(plain),
                    "-map", "0", "-c", "copy", str(path)], check=True, stdin=subprocess.DEVNULL)
    plain.unlink()
    return path


def spec_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# -- one spec per shape ------------------------------------------------------------------


@pytest.fixture
def phone(tmp_path: Path, ffmpeg: str) -> Path:
    """Landscape, portrait (stored upright, and stored landscape with a rotation), 4:3 and a
    file that is no video."""
    folder = tmp_path / "phone"
    clip(ffmpeg, folder / "IMG_0001.MOV", size="320x180")
    clip(ffmpeg, folder / "IMG_0002.MOV", size="90x160")
    rotated(ffmpeg, folder / "IMG_0003.MOV")
    clip(ffmpeg, folder / "IMG_0004.MOV", size="320x180")
    clip(ffmpeg, folder / "IMG_0005.MOV", size="320x180")
    clip(ffmpeg, folder / "IMG_0006.MOV", size="192x144")
    (folder / "IMG_0007.MOV").write_bytes(b"an interrupted copy")
    return folder


def test_a_mixed_folder_gets_one_spec_per_shape_with_its_own_resolution(
        phone: Path, tmp_path: Path, init: Run) -> None:
    code, out, err = init("phone", "--resolution", "320x180")
    assert code == 0, err
    jobs = tmp_path / "jobs"
    assert sorted(p.name for p in jobs.iterdir()) == ["phone.json", "phone_4x3.json",
                                                      "phone_portrait.json"]
    main_spec, portrait, four_three = (spec_of(jobs / name) for name in (
        "phone.json", "phone_portrait.json", "phone_4x3.json"))
    assert main_spec["sources"] == ["../phone/IMG_0001.MOV", "../phone/IMG_0004.MOV",
                                    "../phone/IMG_0005.MOV"]
    assert main_spec["resolution"] == "320x180"
    assert main_spec["output_dir"] == "../proxies/phone"
    assert portrait["sources"] == ["../phone/IMG_0002.MOV", "../phone/IMG_0003.MOV"]
    assert portrait["resolution"] == "180x320"
    assert portrait["output_dir"] == "../proxies/phone_portrait"
    assert four_three["sources"] == ["../phone/IMG_0006.MOV"]
    assert four_three["resolution"] == "240x180"
    # The same explicit spec as ever: no field init alone knows.
    assert set(portrait) == set(main_spec) == {
        "schema_version", "sources", "output_dir", "codec", "container", "resolution",
        "fps_mode", "naming_template"}

    lines = out.splitlines()
    assert lines[0] == ("wrote jobs/phone.json: 3 clips, proxies into proxies/phone (created); "
                        "320x180 (16:9 landscape)")
    assert lines[1] == ("wrote jobs/phone_portrait.json: 2 clips, proxies into "
                        "proxies/phone_portrait (created); 180x320 (9:16 portrait)")
    assert lines[2] == ("  note: resolution is 180x320, not 320x180: the clips are 9:16 "
                        "portrait (a proxy keeps its source's shape)")
    assert "wrote jobs/phone_4x3.json: 1 clip," in out
    assert "left out 1 file that cannot be read as video:" in out
    assert "  phone/IMG_0007.MOV: not a video file" in out
    assert ("then `rproxy run jobs/phone.json` and `rproxy run jobs/phone_portrait.json` and "
            "`rproxy run jobs/phone_4x3.json`") in out

    # What init wrote passes the pre-flight (the shape check included) and runs.
    assert main(["validate", "jobs/phone_portrait.json"]) == 0
    assert main(["run", "-q", "jobs/phone_portrait.json"]) == 0
    proxy = tmp_path / "proxies" / "phone_portrait" / "IMG_0003.mov"
    from rproxy._probe import probe
    info = probe(proxy, what="proxy")
    assert (info.width, info.height, info.rotation) == (180, 320, 0)


def test_one_shape_is_one_spec_at_the_size_asked_for(tmp_path: Path, ffmpeg: str,
                                                     init: Run) -> None:
    clip(ffmpeg, tmp_path / "A001" / "C001.mov", size="320x180")
    clip(ffmpeg, tmp_path / "A001" / "C002.mov", size="640x362")  # rounding: the same shape
    code, out, _ = init("A001")
    assert code == 0
    assert [p.name for p in (tmp_path / "jobs").iterdir()] == ["A001.json"]
    assert spec_of(tmp_path / "jobs" / "A001.json")["resolution"] == "1280x720"
    assert "note" not in out  # nothing to explain


def test_a_4x3_folder_gets_a_4x3_resolution_and_says_why(tmp_path: Path, ffmpeg: str,
                                                         init: Run) -> None:
    clip(ffmpeg, tmp_path / "DV" / "tape1.mov", size="192x144")
    code, out, _ = init("DV")
    assert code == 0
    assert spec_of(tmp_path / "jobs" / "DV.json")["resolution"] == "960x720"
    assert ("note: resolution is 960x720, not 1280x720: the clips are 4:3 landscape" in out)


def test_probe_progress_is_reported(phone: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    seen: list[tuple[int, int]] = []
    written = init_spec("phone", on_probe=lambda done, total: seen.append((done, total)))
    assert seen == [(n, 7) for n in range(1, 8)]
    assert [s.clip_count for s in written.specs] == [3, 2, 1]
    assert written.left_out[0][0].name == "IMG_0007.MOV"


def test_on_a_terminal_a_probe_count_is_drawn_and_wiped(tmp_path: Path, ffmpeg: str,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    clip(ffmpeg, tmp_path / "A001" / "C001.mov")
    clip(ffmpeg, tmp_path / "A001" / "C002.mov")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.chdir(tmp_path)
    assert main(["init", "A001"]) == 0
    drawn = terminal.getvalue()
    assert drawn.startswith("\rprobing 1/2") and "\rprobing 2/2" in drawn
    assert drawn.endswith("\r\x1b[K")  # gone before the summary is printed
    assert "\r" not in capsys.readouterr().out


def test_a_folder_with_no_readable_video_writes_nothing(tmp_path: Path, init: Run) -> None:
    card = tmp_path / "card"
    card.mkdir()
    (card / "A.mov").write_bytes(b"not video")
    (card / "B.mxf").write_bytes(b"")
    code, _, err = init("card")
    assert code == 1
    assert "none of the 2 video files in card can be read as video: A.mov: not a video" in err
    assert "B.mxf: source is empty" in err
    assert tree(tmp_path) == ["card", "card/A.mov", "card/B.mxf"]


# -- what is never a source --------------------------------------------------------------


def test_init_recursive_in_a_project_never_takes_its_proxies(tmp_path: Path, ffmpeg: str,
                                                             init: Run) -> None:
    project = tmp_path / "film"
    clip(ffmpeg, project / "media" / "A001" / "C001.mov")
    code, _, err = init("media/A001", "--resolution", "320x180", cwd=project)
    assert code == 0, err
    assert main(["run", "-q", "jobs/A001.json"]) == 0
    assert (project / "proxies" / "A001" / "C001.mov").is_file()
    assert (project / "proxies" / "A001" / ".rproxy").is_dir()
    # Proxies of another job (and rproxy's state beside them), and the folders this init
    # will write to (made by an earlier init that never ran): no camera originals there.
    clip(ffmpeg, project / "proxies" / "film" / "C009.mov")
    clip(ffmpeg, project / "proxies" / "film_portrait" / "C010.mov")
    clip(ffmpeg, project / "proxies" / "A001" / ".rproxy" / "partial" / "000.mov")

    code, out, err = init("-r", ".", cwd=project)
    assert code == 0, err
    data = spec_of(project / "jobs" / "film.json")
    assert data["sources"] == ["../media/A001/C001.mov"]
    assert ("skipped 1 rproxy output folder (proxies/A001: they hold .rproxy/, so their files "
            "are proxies)") in out

    code, _, err = init("proxies/A001", "--spec", "again.json", cwd=project)
    assert code == 1
    assert "proxies/A001 is an rproxy output folder (it holds .rproxy/)" in err
    assert not (project / "again.json").exists()


# -- what init says about its choices ----------------------------------------------------


def test_the_template_change_is_said_with_the_names_that_forced_it(
        tmp_path: Path, ffmpeg: str, init: Run) -> None:
    card = tmp_path / "card"
    clip(ffmpeg, card / "C0001.MP4", vcodec=("libx264",))
    clip(ffmpeg, card / "CLIP" / "C0001.MP4", vcodec=("libx264",))
    code, out, _ = init("card")
    assert code == 0
    assert spec_of(tmp_path / "jobs" / "card.json")["naming_template"] == "{source_name}"
    assert "naming_template" not in out
    assert ("note: 1 more video file in subfolders was left out; add --recursive to take "
            "them (as on a camera card)") in out.splitlines()

    (tmp_path / "jobs" / "card.json").unlink()
    code, out, _ = init("card", "-r")
    assert code == 0
    assert spec_of(tmp_path / "jobs" / "card.json")["naming_template"] == "{index}_{source_name}"
    assert ("  note: naming_template is {index}_{source_name}, not {source_name}: C0001.MP4 "
            "and CLIP/C0001.MP4 would get one proxy name, so each proxy's name starts with its "
            "clip's number") in out.splitlines()


# -- failing cleanly ---------------------------------------------------------------------


def test_jobs_being_a_file_is_a_clean_error_and_nothing_is_written(
        tmp_path: Path, ffmpeg: str, init: Run) -> None:
    clip(ffmpeg, tmp_path / "A001" / "C001.mov")
    (tmp_path / "jobs").write_text("my notes")
    code, out, err = init("A001")
    assert code == 1 and out == ""
    assert err == ("rproxy: jobs is a file, not a folder, so the spec cannot go in jobs; "
                   "choose another place with --spec PATH\n")
    assert (tmp_path / "jobs").read_text() == "my notes"
    assert not (tmp_path / "proxies").exists()

    (tmp_path / "jobs").unlink()
    (tmp_path / "proxies").write_text("")
    code, _, err = init("A001")
    assert code == 1 and "proxies is a file, not a folder, so the proxies cannot go in" in err
    assert not (tmp_path / "jobs").exists()


def test_a_proxies_drive_that_is_not_mounted_is_not_made(tmp_path: Path, ffmpeg: str,
                                                         init: Run) -> None:
    project = tmp_path / "project"
    clip(ffmpeg, project / "A001" / "C001.mov")
    drive = tmp_path / "Volumes" / "PROXIES"
    code, _, err = init("A001", "--output-dir", str(drive / "day1"), cwd=project)
    assert code == 1
    assert f"does not exist, and neither does its parent folder {drive}" in err
    assert tree(project) == ["A001", "A001/C001.mov"] and not drive.parent.exists()
    # In the project, init makes the folders it needs (proxies/A001).
    code, _, err = init("A001", "--output-dir", "px/day1", cwd=project)
    assert code == 0, err
    assert (project / "px" / "day1").is_dir()


def test_an_existing_spec_of_any_shape_is_never_overwritten(phone: Path, tmp_path: Path,
                                                            init: Run) -> None:
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "phone_portrait.json").write_text("mine")
    code, _, err = init("phone")
    assert code == 1
    assert ("jobs/phone_portrait.json already exists (for the 9:16 portrait clips); not "
            "overwriting it") in err
    assert tree(tmp_path / "jobs") == ["phone_portrait.json"]
    assert (tmp_path / "jobs" / "phone_portrait.json").read_text() == "mine"
    assert not (tmp_path / "proxies").exists()


def test_a_failure_while_writing_undoes_every_step(phone: Path, tmp_path: Path, init: Run,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The portrait spec appears after the checks (another init, an editor's save): the
    main spec already written and the folders made are taken back."""
    monkeypatch.setattr(_init, "_refuse_existing", lambda *args: None)
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "phone_4x3.json").write_text("mine")
    code, out, err = init("phone")
    assert code == 1 and out == ""
    assert "jobs/phone_4x3.json already exists; not overwriting it, and nothing was written" in err
    assert tree(tmp_path / "jobs") == ["phone_4x3.json"]
    assert (tmp_path / "jobs" / "phone_4x3.json").read_text() == "mine"
    assert not (tmp_path / "proxies").exists()


# -- hints that fit ----------------------------------------------------------------------


def test_recursive_is_suggested_only_when_subfolders_hold_clips(tmp_path: Path, ffmpeg: str,
                                                                init: Run) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    code, _, err = init("empty")
    assert code == 1 and "no video files in empty (looked for" in err
    assert "recursive" not in err

    clip(ffmpeg, tmp_path / "card" / "PRIVATE" / "CLIP" / "C0001.mov")
    code, _, err = init("card")
    assert code == 1
    assert "no video files in card; 1 video file in subfolders: add --recursive to take them" in err


def test_next_step_hint_names_doit_as_it_will_work(tmp_path: Path, ffmpeg: str,
                                                   init: Run) -> None:
    clip(ffmpeg, tmp_path / "A001" / "C001.mov")
    code, out, _ = init("A001")
    assert code == 0
    assert out.splitlines()[-1] == (
        "next: edit it if needed, then `rproxy run jobs/A001.json` (or `doit`, which runs every "
        "jobs/*.json, once a dodo.py here holds `from rproxy.dodo import *`)")

    (tmp_path / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    code, out, _ = init("A001", "--spec", "jobs/second.json", "--output-dir", "px2")
    assert out.splitlines()[-1] == ("next: edit it if needed, then `rproxy run "
                                    "jobs/second.json` (or `doit`, which runs every jobs/*.json)")

    code, out, _ = init("A001", "--spec", "day1/A001.json", "--output-dir", "px3")
    last = out.splitlines()[-1]
    assert last == ("next: edit it if needed, then `rproxy run day1/A001.json` (or `doit "
                    "spec=day1/A001.json`: plain `doit` reads only jobs/*.json)")
    assert "(or `doit`)" not in out


# -- shapes (pure) -----------------------------------------------------------------------


def test_shapes_group_names_and_suffixes() -> None:
    sizes = [(1920, 1080), (1080, 1920), (1920, 1088), (720, 540), (4096, 1716), (1280, 720)]
    assert _shapes.group_by_shape(sizes) == [[0, 2, 5], [1], [3], [4]]
    assert _shapes.representative([0, 2, 5], sizes) == 0
    assert _shapes.representative([0, 2, 5], [(1, 1), (0, 0), (2, 2), (0, 0), (0, 0),
                                              (2, 2)]) == 2
    assert [_shapes.describe(s) for s in sizes] == [
        "16:9 landscape", "9:16 portrait", "16:9 landscape", "4:3 landscape",
        "2.39:1 landscape", "16:9 landscape"]
    assert [_shapes.suffix(s) for s in [(1080, 1920), (1920, 1080), (600, 800), (500, 500),
                                         (4096, 1716), (1000, 2170)]] == [
        "portrait", "landscape", "3x4", "square", "2.39x1", "1x2.17"]


def test_clips_whose_names_cannot_name_a_proxy_are_named_with_what_to_do(
        tmp_path: Path, clip_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "card").mkdir()
    clip_factory("card/A\x1b[31mRED.mov")
    clip_factory("card/B.mov")
    monkeypatch.chdir(tmp_path)
    assert main(["init", "card"]) == 1
    err = capsys.readouterr().err
    assert "1 clip cannot name a proxy (A\\x1b[31mRED.mov)" in err
    assert "rename those clips or move them out of the folder (nothing was written)" in err
    assert "\x1b" not in err and not (tmp_path / "jobs").exists()
