"""Progress: parsed from a real ffmpeg run; live on a terminal (a real pty), plain on a pipe;
quiet and verbose switches."""

from __future__ import annotations

import io
import itertools
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._ffmpeg import run_ffmpeg
from rproxy._progress import NORMAL, QUIET, VERBOSE, Display, plain
from rproxy._text import clock, took

from .conftest import make_clip, write_spec

RPROXY = [sys.executable, "-m", "rproxy"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but \t and \n


def test_progress_parsed_from_a_real_ffmpeg_run(ffmpeg: str, tmp_path: Path) -> None:
    clip = make_clip(ffmpeg, tmp_path / "A.mov", seconds=3, audio_tracks=1)
    seen: list[float] = []
    # -stats_period reports every 20 ms, so ffmpeg's -progress output arrives in several
    # steps, as it does every 0.5 s on a long clip.
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1",
            "-stats_period", "0.02", "-i", str(clip),
            "-map", "0:v", "-map", "0:a", "-c:v", "prores_ks", "-profile:v", "0",
            "-c:a", "pcm_s16le",
            "-f", "mov", str(tmp_path / "out.mov")]
    run = run_ffmpeg(argv, timeout_s=60, on_progress=seen.append)
    assert run.exit_code == 0, run.stderr
    assert len(seen) >= 3, seen
    assert seen[-1] == max(seen)
    assert abs(seen[-1] - 3.0) < 0.1, seen  # reaches the source's duration
    assert all(0 <= s <= 3.1 for s in seen)
    assert seen[0] < seen[-1]
    assert sum(b > a for a, b in itertools.pairwise(seen)) >= len(seen) // 2


def _run_in_pty(argv: list[str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen(argv, cwd=cwd, stdin=follower, stdout=follower, stderr=follower,
                            env=env, close_fds=True)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(leader)
    code = proc.wait(timeout=10)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_terminal_shows_live_percentage_and_clip_of_how_many(project: Path) -> None:
    spec = write_spec(project, sources=["A001.mov", "A002.mov"])
    code, text = _run_in_pty([*RPROXY, "run", str(spec)], project)
    assert code == 0, text
    assert "\r\x1b[K" in text  # redrawn in place
    live = re.findall(r"\[(\d)/2\] A00\d\.mov \[[#.]{12}\] +(\d+)% ", text)
    assert {n for n, _ in live} == {"1", "2"}, text
    assert any(int(pct) == 100 for _, pct in live), text
    assert "[1/2] COMPLETED A001.mov -> A001.mov" in text
    assert "COMPLETED: 2 completed, 0 failed, 0 skipped of 2 clips" in text


def test_pipe_output_is_plain_lines(project: Path) -> None:
    spec = write_spec(project, sources=["A001.mov", "A002.mov", "A003.mov"])
    for flags in ([], ["-v"], ["-q"]):
        done = subprocess.run([*RPROXY, "run", *flags, str(spec)], cwd=project,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert not CONTROL.search(done.stdout), repr(done.stdout)
        assert "\r" not in done.stdout and "\x1b" not in done.stdout
        (project / "out" / "A002.mov").unlink()  # so the next round encodes one clip again
        lines = done.stdout.splitlines()
        tail = lines[-1:] if flags == ["-q"] else lines[-2:]  # then: report: rproxy report
        assert tail[0].startswith("result: out/.rproxy/"), lines
        if flags == ["-q"]:  # only the summary
            assert len(lines) == 2, lines
            assert lines[0].startswith("job ") and " COMPLETED: 3 completed" in lines[0]
        else:
            assert any(line.startswith("[3/3] ") for line in lines), lines
            started = [line for line in lines if " start " in line]
            assert started == (["[2/3] start A002.mov -> A002.mov"] if flags else []), lines


def test_quiet_still_prints_failures(project: Path,
                                    ffmpeg_fails_on: Callable[[str], None]) -> None:
    ffmpeg_fails_on("A002")
    spec = write_spec(project, sources=["A001.mov", "A002.mov", "A003.mov"])
    done = subprocess.run([*RPROXY, "run", "-q", str(spec)], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[2/3] FAILED A002.mov -> A002.mov: "), lines
    assert " PARTIAL: 1 completed, 1 failed, 1 skipped of 3 clips" in lines[-2]
    assert "details: rproxy show out/.rproxy/" in lines[-1]
    assert not CONTROL.search(done.stdout)


def test_verbose_log_gets_plain_progress_lines(project: Path) -> None:
    out = io.StringIO()
    display = Display(stream=out, level=VERBOSE, log_every_s=0)
    spec = JobSpec.from_file(write_spec(project))
    result = execute_multi_job_spec(spec, display=display)
    assert result.status.value == "COMPLETED"
    text = out.getvalue()
    assert not CONTROL.search(text), repr(text)
    assert re.search(r"^\[1/1\] A001\.mov +\d+% 0:0\d of 0:01", text, re.M), text


def test_display_levels_and_helpers() -> None:
    out = io.StringIO()
    assert not Display(stream=out).is_live  # a StringIO is no terminal
    assert Display(stream=out, live=True).is_live
    assert NORMAL > QUIET
    assert plain("a\rb\x1b[Kc\nd") == "a?b?[Kc\nd"
    assert clock(0) == "0:00" and clock(86.4) == "1:26" and clock(3723) == "1:02:03"
    assert took(0.42) == "0.4 s" and took(185) == "3 min 05 s" and took(3720) == "1 h 02 min"
