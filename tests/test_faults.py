"""Faults, reproduced for real: ffmpeg dying or hanging, Ctrl-C and SIGTERM sent to a real
`rproxy run`, rproxy itself SIGKILLed, a full disk (a tiny tmpfs), the same job twice, a user's
file at an output path, sources that change mid-job and damaged media.

Each test checks the files on disk and the records afterwards, and that no source byte changed.
A fake ffmpeg (tests/fakes/ffmpeg, via RPROXY_FFMPEG) is used only to reach error paths a real
ffmpeg cannot be made to take on demand; every encode that succeeds is a real one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._errors import JobLockedError, PreflightError
from rproxy._records import JobExecutionResult, read_clip_record, read_job_result

from .conftest import alive, wait_until, write_spec

FAKE = Path(__file__).resolve().parent / "fakes" / "ffmpeg"
RPROXY = [sys.executable, "-m", "rproxy"]
DEADLINE_S = 30.0  # generous: the machine may be loaded; every wait polls and ends early


# ---------------------------------------------------------------------------------------------
# helpers


def hashes(*paths: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def assert_unchanged(before: dict[Path, str]) -> None:
    assert hashes(*before) == before, "a source file was modified"


def sources_of(folder: Path, *names: str) -> dict[Path, str]:
    return hashes(*(folder / n for n in names))


def pids_in(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line) for line in path.read_text().split()]


def state_dir(out: Path) -> Path:
    """The one job's state folder (beside the folder's own state: its entries and lock)."""
    (job,) = [p.parent for p in (out / ".rproxy").glob("*/job.json")]
    return job


def partial_files(out: Path) -> list[Path]:
    return sorted((out / ".rproxy").glob("*/partial/*"))


def proxies(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name != ".rproxy")


def result_of(out: Path) -> JobExecutionResult:
    return read_job_result(state_dir(out) / "result.json")


def run_api(spec: Path) -> JobExecutionResult:
    return execute_multi_job_spec(JobSpec.from_file(spec))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, ffmpeg: str, tmp_path: Path) -> Callable[..., Path]:
    """Point RPROXY_FFMPEG at the fake; returns the file where it writes its pids."""
    pid_file = tmp_path / "fake-pids"

    def use(mode: str, **env: str) -> Path:
        monkeypatch.setenv("RPROXY_FFMPEG", str(FAKE))
        monkeypatch.setenv("FAKE_MODE", mode)
        monkeypatch.setenv("FAKE_REAL", ffmpeg)
        monkeypatch.setenv("FAKE_PIDS", str(pid_file))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return pid_file

    return use


def real_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("RPROXY_FFMPEG", "FAKE_MODE", "FAKE_ONLY"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def reaper(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; at the end every one of them, and every pid the fake ffmpeg
    wrote down, is killed, whatever the test did."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    for pid in pids_in(tmp_path / "fake-pids"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def start_cli(reaper: list[subprocess.Popen[bytes]], *args: str, cwd: Path,
              cmd: list[str] | None = None) -> subprocess.Popen[bytes]:
    """A real `rproxy` process in its own process group (as a shell starts a job), so that
    a signal can go to the group the way a terminal's Ctrl-C does."""
    proc = subprocess.Popen(
        [*(cmd or RPROXY), *args], cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    reaper.append(proc)
    return proc


def finish(proc: subprocess.Popen[bytes], timeout: float = DEADLINE_S) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode() + err.decode()


def run_cli(*args: str, cwd: Path, timeout: float = DEADLINE_S * 2) -> tuple[int, str]:
    done = subprocess.run([*RPROXY, *args], cwd=cwd, capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    return done.returncode, done.stdout.decode() + done.stderr.decode()


# ---------------------------------------------------------------------------------------------
# ffmpeg dies: killed by a signal, crashes, exits non-zero


@pytest.mark.parametrize(("mode", "named"), [
    ("sigkill", "killed by SIGKILL"),
    ("segv", "killed by SIGSEGV"),
    ("exit1", "exited with code 1"),
])
def test_ffmpeg_dies_clip_fails_nothing_left_and_next_run_redoes_it(
        project: Path, fake: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        mode: str, named: str) -> None:
    names = ("A001.mov", "A002.mov", "A003.mov")
    before = sources_of(project, *names)
    spec = write_spec(project, sources=list(names))
    out = project / "out"
    fake(mode, FAKE_ONLY="A002")

    result = run_api(spec)

    assert result.status.value == "PARTIAL"
    first, second, third = result.clips
    assert first.status.value == "COMPLETED"
    assert second.status.value == "FAILED"
    assert named in (second.failure_reason or "")
    tail = {"sigkill": "about to be killed", "segv": "about to crash",
            "exit1": "something broke"}[mode]
    assert tail in (second.failure_reason or "")  # the stderr tail, in the reason itself
    assert second.exit_code == (1 if mode == "exit1" else
                                -(signal.SIGKILL if mode == "sigkill" else signal.SIGSEGV))
    assert not second.output_exists
    assert third.status.value == "SKIPPED"
    assert proxies(out) == ["A001.mov"]  # nothing at A002's output path
    assert partial_files(out) == []  # the garbage the fake wrote is gone
    record = read_clip_record(state_dir(out) / "clips" / "001.json")
    assert record is not None and record.status.value == "FAILED"
    assert result_of(out).status.value == "PARTIAL"
    assert_unchanged(before)

    real_ffmpeg(monkeypatch)
    again = run_api(spec)
    assert again.status.value == "COMPLETED"
    assert [c.up_to_date for c in again.clips] == [True, False, False]
    assert proxies(out) == list(names)
    assert partial_files(out) == []
    assert_unchanged(before)


# ---------------------------------------------------------------------------------------------
# per-clip timeout


def test_timeout_stops_ffmpeg_and_its_children(
        project: Path, fake: Callable[..., Path]) -> None:
    before = sources_of(project, "A001.mov", "A002.mov")
    spec = write_spec(project, sources=["A001.mov", "A002.mov"], clip_timeout_s=1)
    out = project / "out"
    pid_file = fake("hang", FAKE_ONLY="A002")

    started = time.monotonic()
    result = run_api(spec)
    assert time.monotonic() - started < 20

    clip = result.clips[1]
    assert clip.status.value == "FAILED"
    assert "timed out after 1 s" in (clip.failure_reason or "")
    pids = pids_in(pid_file)
    assert len(pids) == 2  # the fake ffmpeg and the child it started
    wait_until(lambda: not any(alive(p) for p in pids), "ffmpeg and its child to be gone", 10)
    assert result.clips[0].status.value == "COMPLETED"
    assert proxies(out) == ["A001.mov"]
    assert partial_files(out) == []
    assert_unchanged(before)


# ---------------------------------------------------------------------------------------------
# Ctrl-C and SIGTERM during a job, sent to a real `rproxy run`


def _run_hanging_at_clip_1(
        project: Path, fake: Callable[..., Path], reaper: list[subprocess.Popen[bytes]],
) -> tuple[tuple[str, ...], dict[Path, str], Path, Path, subprocess.Popen[bytes], Path]:
    """`rproxy run` on A001..A003, with ffmpeg hanging on clip 1 once it has written part of
    its file. (names, source hashes, spec, output folder, the rproxy process, ffmpeg pid file)"""
    names = ("A001.mov", "A002.mov", "A003.mov")
    before = sources_of(project, *names)
    spec = write_spec(project, sources=list(names))
    out = project / "out"
    pid_file = fake("hang", FAKE_ONLY="A002")
    proc = start_cli(reaper, "run", str(spec), cwd=project)
    wait_until(lambda: len(pids_in(pid_file)) == 2, "ffmpeg to start clip 1", DEADLINE_S)
    wait_until(lambda: bool(partial_files(out)), "ffmpeg to write its partial file", DEADLINE_S)
    return names, before, spec, out, proc, pid_file


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                              (signal.SIGHUP, 129)])
def test_interrupt_during_a_clip_stops_ffmpeg_writes_result_then_resumes(
        project: Path, fake: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        reaper: list[subprocess.Popen[bytes]], signum: int, code: int) -> None:
    names, before, spec, out, proc, pid_file = _run_hanging_at_clip_1(project, fake, reaper)
    ffmpeg_pids = pids_in(pid_file)
    sent = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # what a terminal does on Ctrl-C
    else:
        proc.send_signal(signum)  # `kill`, a job scheduler, or the terminal closing (SIGHUP)
    rc, text = finish(proc)
    assert time.monotonic() - sent < 10
    assert rc == code, text
    assert "Traceback" not in text
    wait_until(lambda: not any(alive(p) for p in ffmpeg_pids), "ffmpeg to be stopped", 10)

    name = signal.Signals(signum).name
    assert partial_files(out) == []
    assert proxies(out) == ["A001.mov"]
    result = result_of(out)
    assert result.status.value == "PARTIAL"
    assert result.interrupted_by == name
    assert [c.status.value for c in result.clips] == ["COMPLETED", "FAILED", "SKIPPED"]
    assert result.clips[1].failure_reason == f"interrupted by {name}"
    record = read_clip_record(state_dir(out) / "clips" / "001.json")
    assert record is not None and record.status.value == "FAILED"
    assert_unchanged(before)

    real_ffmpeg(monkeypatch)
    rc, text = run_cli("run", str(spec), cwd=project)
    assert rc == 0, text
    again = result_of(out)
    assert again.status.value == "COMPLETED"
    assert [c.up_to_date for c in again.clips] == [True, False, False]
    assert proxies(out) == list(names)
    assert partial_files(out) == []
    assert_unchanged(before)


def _doit_project(project: Path, names: tuple[str, ...]) -> Path:
    (project / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    (project / "jobs").mkdir()
    write_spec(project / "jobs", "a.json", sources=[f"../{n}" for n in names],
               output_dir="../out")
    return project


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_under_plain_doit_no_traceback_and_records_decide(
        project: Path, fake: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        reaper: list[subprocess.Popen[bytes]], signum: int) -> None:
    names = ("A001.mov", "A002.mov", "A003.mov")
    before = sources_of(project, *names)
    _doit_project(project, names)
    out = project / "out"
    pid_file = fake("hang", FAKE_ONLY="A002")
    doit = [str(Path(sys.executable).with_name("doit"))]

    proc = start_cli(reaper, cwd=project, cmd=doit)
    wait_until(lambda: len(pids_in(pid_file)) == 2, "ffmpeg to start clip 1", DEADLINE_S)
    ffmpeg_pids = pids_in(pid_file)
    os.killpg(proc.pid, signum)
    rc, text = finish(proc)
    assert "Traceback" not in text, text
    assert rc == 128 + signum, text  # 130 / 143 under doit too
    wait_until(lambda: not any(alive(p) for p in ffmpeg_pids), "ffmpeg to be stopped", 10)
    assert partial_files(out) == []
    assert proxies(out) == ["A001.mov"]
    result = result_of(out)
    assert result.status.value == "PARTIAL"
    assert result.clips[1].failure_reason == f"interrupted by {signal.Signals(signum).name}"
    assert_unchanged(before)

    real_ffmpeg(monkeypatch)
    done = subprocess.run(doit, cwd=project, capture_output=True, timeout=DEADLINE_S * 2,
                          stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    again = result_of(out)
    assert again.status.value == "COMPLETED"
    assert [c.up_to_date for c in again.clips] == [True, False, False]
    assert proxies(out) == list(names)
    assert_unchanged(before)


def test_interrupt_between_clips_under_doit_no_traceback(
        project: Path, fake: Callable[..., Path], reaper: list[subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    """Ctrl-C while doit itself (not ffmpeg) runs: between two clips."""
    names = ("A001.mov", "A002.mov", "A003.mov")
    before = sources_of(project, *names)
    _doit_project(project, names)
    out = project / "out"
    # Clip 1's ffmpeg waits for a file that never comes; it is the signal that stops it, but
    # the signal is sent while rproxy is between clips: as soon as clip 0 finished.
    fake("wait_go", FAKE_ONLY="A002", FAKE_GO=str(tmp_path / "never"))
    doit = [str(Path(sys.executable).with_name("doit"))]
    proc = start_cli(reaper, cwd=project, cmd=doit)
    wait_until(lambda: (out / "A001.mov").exists(), "clip 0 to be renamed into place", DEADLINE_S)
    os.killpg(proc.pid, signal.SIGINT)
    rc, text = finish(proc)
    assert "Traceback" not in text, text
    assert rc == 130, text
    assert partial_files(out) == []
    result = result_of(out)
    assert result.clips[0].status.value == "COMPLETED"
    assert result.status.value in ("PARTIAL", "FAILED")
    assert result.interrupted_by == "SIGINT"
    assert_unchanged(before)


# ---------------------------------------------------------------------------------------------
# rproxy itself SIGKILLed


def test_rproxy_sigkilled_ffmpeg_dies_and_next_run_trusts_only_records(
        project: Path, fake: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        reaper: list[subprocess.Popen[bytes]]) -> None:
    names, before, spec, out, proc, pid_file = _run_hanging_at_clip_1(project, fake, reaper)
    ffmpeg_pid = pids_in(pid_file)[0]
    proc.kill()  # SIGKILL to rproxy only: no handler, no cleanup, like a power cut
    proc.wait(timeout=DEADLINE_S)
    wait_until(lambda: not alive(ffmpeg_pid), "ffmpeg to die with its parent (PDEATHSIG)", 10)

    stale = partial_files(out)
    assert [p.name for p in stale] == ["001.mov"]  # what the killed run left behind
    clip0 = (out / "A001.mov").stat()
    assert read_clip_record(state_dir(out) / "clips" / "001.json") is None
    assert_unchanged(before)

    real_ffmpeg(monkeypatch)
    rc, text = run_cli("run", str(spec), cwd=project)
    assert rc == 0, text
    again = result_of(out)
    assert [c.status.value for c in again.clips] == ["COMPLETED"] * 3
    assert [c.up_to_date for c in again.clips] == [True, False, False]
    assert (out / "A001.mov").stat().st_mtime_ns == clip0.st_mtime_ns  # reused, not redone
    assert partial_files(out) == []
    assert proxies(out) == list(names)
    assert_unchanged(before)


# ---------------------------------------------------------------------------------------------
# disk full on the output volume (a real, tiny tmpfs)


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tiny tmpfs here (needs root or CAP_SYS_ADMIN): "
                    + done.stderr.decode().strip())
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def fill(folder: Path, leave: int) -> None:
    """Fill the filesystem of `folder` until about `leave` bytes are free."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with contextlib.suppress(OSError), (folder / "filler.bin").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    if leave == 0:  # make sure nothing at all is left
        with contextlib.suppress(OSError), (folder / "filler2.bin").open("wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()


def test_disk_full_fails_the_clip_with_the_os_error(
        project: Path, tiny_fs: Path, clip_factory: Callable[..., Path]) -> None:
    clip_factory("BIG.mov", size="640x360", seconds=2)
    before = sources_of(project, "A001.mov", "BIG.mov")
    out = tiny_fs / "out"
    out.mkdir()
    spec = write_spec(project, sources=["A001.mov", "BIG.mov"], output_dir=str(out),
                      resolution="640x360")
    rc, text = run_cli("run", str(spec), cwd=project)
    # Clip 0 fits; then only ~60 kB are left for clip 1's bigger proxy.
    assert "Traceback" not in text
    assert rc == 1, text
    result = result_of(out)
    assert result.clips[0].status.value == "COMPLETED"
    # Fill the volume so that the next proxy cannot fit but its record can be written.
    (out / "A001.mov").unlink()
    fill(out, leave=64 * 1024)
    rc, text = run_cli("run", str(spec), cwd=project)
    assert "Traceback" not in text, text
    assert rc == 1, text
    result = result_of(out)
    failed = next(c for c in result.clips if c.status.value == "FAILED")
    assert "No space left on device" in (failed.failure_reason or ""), failed.failure_reason
    assert not (out / "BIG.mov").exists()
    assert partial_files(out) == []
    assert_unchanged(before)


@pytest.fixture
def full_volume_job(project: Path, tiny_fs: Path) -> tuple[Path, Path, dict[Path, str]]:
    """(spec, output folder on a volume with no byte left, the source's hashes)."""
    before = sources_of(project, "A001.mov")
    out = tiny_fs / "out"
    out.mkdir()
    spec = write_spec(project, sources=["A001.mov"], output_dir=str(out))
    fill(out, leave=0)
    return spec, out, before


def test_disk_so_full_that_no_record_fits_ends_cleanly(
        project: Path, full_volume_job: tuple[Path, Path, dict[Path, str]]) -> None:
    spec, out, before = full_volume_job
    rc, text = run_cli("run", str(spec), cwd=project)
    assert "Traceback" not in text, text
    assert rc == 1, text
    assert "No space left on device" in text
    assert "FAILED" in text
    assert not (out / "A001.mov").exists()
    assert partial_files(out) == []
    assert not [p for p in (out / ".rproxy").rglob("*.tmp")]  # no half-written record
    assert_unchanged(before)


def test_disk_full_through_the_api_returns_a_failed_result(
        full_volume_job: tuple[Path, Path, dict[Path, str]]) -> None:
    spec, out, before = full_volume_job
    result = run_api(spec)
    assert result.status.value == "FAILED"
    assert "No space left on device" in (result.clips[0].failure_reason or "")
    assert not (out / "A001.mov").exists()
    assert partial_files(out) == []
    assert_unchanged(before)


# ---------------------------------------------------------------------------------------------
# the same job twice at once


def test_same_job_twice_second_refuses_first_finishes(
        project: Path, fake: Callable[..., Path], reaper: list[subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    names = ("A001.mov", "A002.mov")
    before = sources_of(project, *names)
    spec = write_spec(project, sources=list(names))
    out = project / "out"
    go = tmp_path / "go"
    pid_file = fake("wait_go", FAKE_ONLY="A001", FAKE_GO=str(go))

    first = start_cli(reaper, "run", str(spec), cwd=project)
    wait_until(lambda: bool(pids_in(pid_file)), "the first run's ffmpeg to start", DEADLINE_S)
    t0 = time.monotonic()
    rc, text = run_cli("run", str(spec), cwd=project)
    assert time.monotonic() - t0 < 15  # refused at once, not after waiting
    assert rc == 3, text
    assert "already running" in text and "Traceback" not in text
    with pytest.raises(JobLockedError):
        run_api(spec)
    assert not (state_dir(out) / "result.json").exists()  # the refusals wrote nothing
    assert proxies(out) == []

    go.touch()
    rc, text = finish(first)
    assert rc == 0, text
    result = result_of(out)
    assert [c.status.value for c in result.clips] == ["COMPLETED", "COMPLETED"]
    assert proxies(out) == list(names)
    assert partial_files(out) == []
    assert_unchanged(before)


# ---------------------------------------------------------------------------------------------
# a file the user put at an output path


def test_users_file_at_output_path_is_never_overwritten(project: Path) -> None:
    before = sources_of(project, "A001.mov", "A002.mov")
    spec = write_spec(project, sources=["A001.mov", "A002.mov"])
    out = project / "out"
    mine = out / "A002.mov"
    mine.write_bytes(b"the editor's own file, not a proxy")
    mine_hash = hashes(mine)

    rc, text = run_cli("run", str(spec), cwd=project)
    # Refused by the pre-flight, before anything is encoded: the file in clip 1's way stops
    # the job at once, and the message names it.
    assert rc == 2, text
    assert f"clip 1 (A002.mov): refusing to overwrite: {mine} is not a proxy rproxy made" in text
    assert not (out / "A001.mov").exists()
    assert not list((out / ".rproxy").glob("*/result.json"))  # refused: no result
    assert_unchanged(mine_hash)
    assert partial_files(out) == []
    # And again: a rerun does not "fix" it either.
    rc, _ = run_cli("run", str(spec), cwd=project)
    assert rc == 2
    assert_unchanged(mine_hash)
    assert_unchanged(before)


def test_a_proxy_replaced_by_the_user_is_theirs_now(project: Path) -> None:
    spec = write_spec(project, sources=["A001.mov"])
    out = project / "out"
    assert run_api(spec).status.value == "COMPLETED"
    proxy = out / "A001.mov"
    proxy.write_bytes(b"graded version the editor saved over the proxy")
    theirs = hashes(proxy)
    # The source changed, so the clip must be redone; but the file there is not ours now.
    src = project / "A001.mov"
    os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    with pytest.raises(PreflightError) as caught:
        run_api(spec)
    (problem,) = caught.value.problems
    assert "changed after rproxy made it on " in problem.message
    assert re.search(r"size [\d.]+ [kKM]?B → 46 B", problem.message), problem.message
    assert_unchanged(theirs)


def test_edited_spec_new_job_id_still_replaces_its_own_proxies(project: Path) -> None:
    names = ["A001.mov", "A002.mov"]
    before = sources_of(project, *names)
    spec = write_spec(project, sources=names)
    out = project / "out"
    first = run_api(spec)
    assert first.status.value == "COMPLETED"
    old = {n: (out / n).stat().st_mtime_ns for n in names}

    spec = write_spec(project, sources=names, resolution="128x72")  # edited: a new job id
    second = run_api(spec)
    assert second.job_id != first.job_id
    assert second.status.value == "COMPLETED", [c.failure_reason for c in second.clips]
    assert all(not c.up_to_date for c in second.clips)
    assert all((out / n).stat().st_mtime_ns != old[n] for n in names)
    assert all(c.verification and c.verification.ok for c in second.clips)
    assert_unchanged(before)


def test_another_jobs_proxy_of_another_source_is_never_overwritten(
        project: Path, clip_factory: Callable[..., Path]) -> None:
    """Cameras restart clip numbers: day 2's C0001.mov must not replace day 1's proxy."""
    (project / "day1").mkdir()
    (project / "day2").mkdir()
    clip_factory("day1/C0001.mov")
    clip_factory("day2/C0001.mov", size="352x198")
    day1 = write_spec(project, "day1.json", sources=["day1/C0001.mov"])
    day2 = write_spec(project, "day2.json", sources=["day2/C0001.mov"])
    assert run_api(day1).status.value == "COMPLETED"
    proxy = hashes(project / "out" / "C0001.mov")
    with pytest.raises(PreflightError) as caught:
        run_api(day2)
    (problem,) = caught.value.problems
    assert "is the proxy of another source" in problem.message
    assert str(project / "day1" / "C0001.mov") in problem.message
    assert_unchanged(proxy)


def test_undoing_a_spec_edit_replaces_rproxys_own_proxies(project: Path) -> None:
    out = project / "out"
    for resolution in ("160x90", "128x72", "160x90"):  # edit, then undo the edit
        result = run_api(write_spec(project, resolution=resolution))
        assert result.status.value == "COMPLETED", result.clips[0].failure_reason
        with av.open(str(out / "A001.mov")) as container:
            stream = container.streams.video[0]
            assert f"{stream.width}x{stream.height}" == resolution


# ---------------------------------------------------------------------------------------------
# a source that disappears or changes during the job


@pytest.mark.parametrize(("action", "reason"), [
    ("append", "source changed or disappeared during encoding"),
    ("delete", "source changed or disappeared during encoding"),
])
def test_source_changes_during_encode_fails_that_clip_earlier_clips_stand(
        project: Path, fake: Callable[..., Path], action: str, reason: str) -> None:
    names = ("A001.mov", "A002.mov", "A003.mov")
    target = project / "A002.mov"
    before = sources_of(project, "A001.mov", "A003.mov")
    spec = write_spec(project, sources=list(names))
    out = project / "out"
    fake("mutate", FAKE_ONLY="A002", FAKE_TARGET=str(target), FAKE_ACTION=action)

    result = run_api(spec)
    assert [c.status.value for c in result.clips] == ["COMPLETED", "FAILED", "SKIPPED"]
    assert reason in (result.clips[1].failure_reason or "")
    assert str(target) in (result.clips[1].failure_reason or "")
    assert proxies(out) == ["A001.mov"]
    assert partial_files(out) == []
    record0 = read_clip_record(state_dir(out) / "clips" / "000.json")
    assert record0 is not None and record0.status.value == "COMPLETED"
    assert_unchanged(before)


def test_source_gone_before_its_clip_starts(
        project: Path, fake: Callable[..., Path]) -> None:
    names = ("A001.mov", "A002.mov", "A003.mov")
    before = sources_of(project, "A001.mov", "A002.mov")
    spec = write_spec(project, sources=list(names))
    out = project / "out"
    # While clip 0 encodes, clip 2's source is removed (unmounted card, moved folder).
    fake("mutate", FAKE_ONLY="A001", FAKE_TARGET=str(project / "A003.mov"),
         FAKE_ACTION="delete")
    result = run_api(spec)
    assert [c.status.value for c in result.clips] == ["COMPLETED", "COMPLETED", "FAILED"]
    reason = result.clips[2].failure_reason or ""
    assert "A003.mov" in reason and ("not exist" in reason or "missing" in reason), reason
    assert proxies(out) == ["A001.mov", "A002.mov"]
    assert partial_files(out) == []
    assert_unchanged(before)


# ---------------------------------------------------------------------------------------------
# damaged media


def _truncated(path: Path, clip_factory: Callable[..., Path], faststart: bool) -> Path:
    extra = ("-movflags", "+faststart") if faststart else ()
    whole = clip_factory("whole.mov", seconds=1, extra=extra).read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    return path


DAMAGED: dict[str, tuple[Callable[[Path, Callable[..., Path]], Any], tuple[str, ...]]] = {
    "zero_bytes": (lambda p, f: p.write_bytes(b""), ("empty",)),
    "text_file": (lambda p, f: p.write_text("this is not a movie\n" * 50),
                  ("not a video file",)),
    "audio_only": (lambda p, f: f(p.name, extra=("-vn",)), ("no video stream",)),
    "truncated_moov_at_end": (lambda p, f: _truncated(p, f, faststart=False),
                              ("not a video file", "damaged", "truncated")),
    "truncated_faststart": (lambda p, f: _truncated(p, f, faststart=True),
                            ("frame", "damaged", "truncated", "verif", "exited")),
}


@pytest.mark.parametrize("kind", sorted(DAMAGED))
def test_damaged_media_fails_with_a_clear_reason(
        tmp_path: Path, clip_factory: Callable[..., Path], kind: str) -> None:
    make, expected = DAMAGED[kind]
    bad = tmp_path / "BAD.mov"
    make(bad, clip_factory)
    (tmp_path / "out").mkdir()
    before = hashes(bad)
    spec = write_spec(tmp_path, sources=["BAD.mov"])
    rc, text = run_cli("run", str(spec), cwd=tmp_path)
    assert "Traceback" not in text, text
    if rc == 2:  # what probing shows: the pre-flight refuses it, nothing is encoded
        reason = text.lower()
        assert "clip 0 (bad.mov): " in reason, text
        assert not list((tmp_path / "out" / ".rproxy").glob("*/result.json"))
    else:  # what only encoding shows: the clip fails
        assert rc == 1, text
        clip = result_of(tmp_path / "out").clips[0]
        assert clip.status.value == "FAILED"
        reason = (clip.failure_reason or "").lower()
    assert any(word in reason for word in expected), reason
    assert not (tmp_path / "out" / "BAD.mov").exists()
    assert partial_files(tmp_path / "out") == []
    assert_unchanged(before)
