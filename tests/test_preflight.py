"""The pre-flight (issue 12): before the first clip of a job is encoded, every clip that will be
encoded is probed and every source-dependent problem is reported together (exit 2, nothing
encoded), under `rproxy run`, `rproxy validate`, the API and `doit` alike; and `rproxy plan`
shows the exact commands that then run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._cli import main
from rproxy._errors import PreflightError
from rproxy._records import read_job_result
from tests.conftest import write_spec

BIN = Path(sys.executable).parent
NAMES = ["A001.mov", "A002.mov", "A003.mov", "A004.mov"]


@pytest.fixture
def card(tmp_path: Path, clip_factory: Callable[..., Path]) -> Path:
    """Four clips; A002 is not media, A003 is gone, and a file of the user's is where A004's
    proxy goes: three problems, none at clip 0."""
    for name in NAMES:
        clip_factory(name)
    (tmp_path / "A002.mov").write_text("not a movie\n")
    (tmp_path / "A003.mov").unlink()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "A004.mov").write_text("the editor's own file\n")
    return tmp_path


def nothing_written(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir() if p.name != ".rproxy") == ["A004.mov"]
    assert not list(out.glob(".rproxy/*/result.json"))
    assert not list(out.glob(".rproxy/*/clips/*"))


def test_every_problem_of_the_job_at_once_before_anything_is_encoded(card: Path) -> None:
    spec = write_spec(card, sources=NAMES)
    with pytest.raises(PreflightError) as caught:
        execute_multi_job_spec(JobSpec.from_file(spec))
    problems = {p.field: p.message for p in caught.value.problems}
    # The missing source is named by its field (validation finds it), the others by clip.
    assert list(problems) == ["clip 1 (A002.mov)", "sources.2", "clip 3 (A004.mov)"]
    assert "not a video file" in problems["clip 1 (A002.mov)"]
    assert "does not exist" in problems["sources.2"]
    assert "is not a proxy rproxy made" in problems["clip 3 (A004.mov)"]
    nothing_written(card / "out")


def test_run_and_validate_report_the_same_problems_one_line_each(
        card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(card, sources=NAMES)
    assert main(["run", str(spec)]) == 2
    run_lines = capsys.readouterr().err.strip().splitlines()
    assert main(["validate", str(spec)]) == 2
    validate_lines = capsys.readouterr().err.strip().splitlines()
    assert run_lines == validate_lines
    assert [line.split(": ", 2)[1] for line in run_lines] == [
        "clip 1 (A002.mov)", "sources.2", "clip 3 (A004.mov)"]
    assert main(["validate", "--no-probe", str(spec)]) == 2  # the missing source, still
    assert "sources.2: source does not exist" in capsys.readouterr().err
    nothing_written(card / "out")


def test_doit_finds_a_missing_source_before_the_first_clip(card: Path) -> None:
    (card / "A002.mov").unlink()
    (card / "out" / "A004.mov").unlink()
    (card / "jobs").mkdir()
    write_spec(card / "jobs", sources=[f"../{n}" for n in NAMES], output_dir="../out")
    (card / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    done = subprocess.run([str(BIN / "doit")], cwd=card, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the pre-flight found 2 problems; nothing was encoded" in done.stdout
    assert "clip 1 (A002.mov): source does not exist" in done.stdout
    assert "clip 2 (A003.mov): source does not exist" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert not (card / "out" / "A001.mov").exists()


def test_a_source_a_users_task_makes_is_left_to_its_clip(tmp_path: Path,
                                                        clip_factory: Callable[..., Path]
                                                        ) -> None:
    clip_factory("card.mov")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "out").mkdir()
    write_spec(tmp_path / "jobs", sources=["../media/A001.mov"], output_dir="../out")
    (tmp_path / "dodo.py").write_text(
        "import shutil\nfrom pathlib import Path\n"
        "from rproxy.dodo import *  # noqa: F403\n\n"
        "def task_copy():\n"
        "    def copy():\n"
        "        Path('media').mkdir(exist_ok=True)\n"
        "        shutil.copy('card.mov', 'media/A001.mov')\n"
        "    return {'actions': [copy], 'file_dep': ['card.mov'],\n"
        "            'targets': ['media/A001.mov']}\n")
    done = subprocess.run([str(BIN / "doit")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "A001.mov").is_file()


def test_up_to_date_clips_are_not_probed(tmp_path: Path, clip_factory: Callable[..., Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    for name in NAMES[:3]:
        clip_factory(name)
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=NAMES[:3])
    assert main(["run", str(spec)]) == 0
    capsys.readouterr()
    assert main(["validate", str(spec)]) == 0
    assert "0 sources probed, no problems (3 up to date, not probed)" in capsys.readouterr().out


def test_plan_shows_exactly_the_commands_that_run(tmp_path: Path,
                                                 clip_factory: Callable[..., Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    clip_factory("A001.mov", timecode="10:00:00:00", audio_tracks=3)
    clip_factory("A002.mov", rate="25", audio_tracks=1, timecode=None)
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=["A001.mov", "A002.mov"])
    assert main(["plan", "--json", str(spec)]) == 0
    planned = json.loads(capsys.readouterr().out)["clips"]
    assert main(["plan", "-v", str(spec)]) == 0
    shown = capsys.readouterr().out
    assert main(["run", str(spec)]) == 0
    (result_path,) = (tmp_path / "out" / ".rproxy").glob("*/result.json")
    result = read_job_result(result_path)
    assert [c["argv"] for c in planned] == [c.ffmpeg_command for c in result.clips]
    assert all(c.command_line in shown for c in result.clips if c.command_line)
    assert "-timecode" in planned[0]["argv"]  # what the probe adds is there
    capsys.readouterr()
    assert main(["plan", "--json", str(spec)]) == 0
    again = json.loads(capsys.readouterr().out)["clips"]
    assert [c["up_to_date"] for c in again] == [True, True]


def test_a_mixed_card_says_everything_before_the_first_clip(tmp_path: Path, ffmpeg: str,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """A DNxHR/MXF job at 1280x720 over a card with a good clip, a variable-rate phone clip, a
    portrait clip, an interlaced clip and a missing one: every problem (and the warning) at
    once, from `run` as from `validate`, and nothing written."""
    def make(name: str, size: str, *extra: str) -> None:
        subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc2=s={size}:r=25:d=0.4", *extra, "-c:v", "libx264",
                        "-pix_fmt", "yuv420p", str(tmp_path / name)], check=True)

    make("A001.mp4", "320x180")
    make("A002.mp4", "320x180", "-vf", "setpts='if(lt(N,5),N*0.04,0.2+(N-5)*0.0333)/TB'",
         "-fps_mode", "passthrough")
    make("A003.mp4", "180x320")
    make("A004.mp4", "320x180", "-vf", "setfield=tff", "-flags", "+ildct+ilme",
         "-x264-params", "tff=1")
    (tmp_path / "out").mkdir()
    spec = write_spec(tmp_path, sources=[f"A00{n}.mp4" for n in range(1, 6)], codec="dnxhr",
                      container="mxf", resolution="1280x720")
    for command in ("run", "validate"):
        assert main([command, str(spec)]) == 2
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert "clip 1 (A002.mp4): MXF needs a standard constant frame rate" in lines[0]
        assert "clip 2 (A003.mp4): the source shows a 180x320 picture" in lines[1]
        assert "use 720x1280 for portrait clips like this, in a spec of their own" in lines[1]
        assert "sources.4: source does not exist" in lines[2]
        assert lines[3].startswith("warning: clip 3 (A004.mp4): source interlaced"), lines
        assert "deinterlaced" in lines[3]
        assert len(lines) == 4, err
    assert list((tmp_path / "out").iterdir()) == []
