"""Nothing can hang (issue 13): a source or a proxy whose reads stop answering (a real FUSE file
system that stalls, tests/fakes/stallfs.py), and the threads that read FFmpeg's progress and
enforce clip_timeout_s, whatever FFmpeg prints and whatever the timeout is."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy import _signals as interrupts
from rproxy._bounded import bounded
from rproxy._errors import ProbeError, StallError
from rproxy._ffmpeg import run_ffmpeg
from rproxy._probe import probe

from .conftest import alive, wait_until, write_spec

FAKES = Path(__file__).resolve().parent / "fakes"
STALLFS = FAKES / "stallfs.py"
MARKED = FAKES / "ffmpeg_marked"
PRINTS = FAKES / "ffmpeg_prints"
RPROXY = [sys.executable, "-m", "rproxy"]
LIMIT_S = 3  # clip_timeout_s in these tests: the stall limit is min(it, 120 s)
SLACK_S = 15.0  # start-up, the pre-flight and the other clips, on a loaded machine


# ---------------------------------------------------------------------------------------------
# a mount that stalls


class Stall:
    def __init__(self, mount: Path, switch: Path, server: subprocess.Popen[bytes]) -> None:
        self.mount, self.switch, self.server = mount, switch, server

    def now(self) -> None:
        self.switch.touch()

    def end(self) -> None:
        """Stop the server: the kernel then fails every read still waiting (ENOTCONN).
        Until then a thread inside such a read cannot even be killed (a read the server has
        taken is waited out, as on a hard NFS mount), so a process holding one cannot exit."""
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.server.wait(timeout=10)
        if self.server.poll() is None:
            self.server.kill()
            self.server.wait(timeout=10)


@pytest.fixture
def stallfs(tmp_path: Path) -> Iterator[tuple[Path, Stall]]:
    """(the folder behind the mount, the mount). Files put in the folder appear on the mount;
    once `stall.now()` (or the switch file appears) their reads never answer."""
    if not os.path.exists("/dev/fuse") or os.geteuid() != 0:
        pytest.skip("needs /dev/fuse and root to mount a FUSE file system")
    backing, mount = tmp_path / "backing", tmp_path / "mnt"
    backing.mkdir()
    mount.mkdir()
    switch, ready = tmp_path / "STALL", tmp_path / "stallfs-ready"
    server = subprocess.Popen([sys.executable, str(STALLFS), str(backing), str(mount),
                               str(switch), str(ready)], stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 20
        while not ready.exists():
            if server.poll() is not None:
                pytest.skip("cannot mount FUSE here: "
                            + (server.stderr.read().decode() if server.stderr else ""))
            if time.monotonic() > end:
                pytest.fail("the FUSE server did not come up")
            time.sleep(0.01)
        yield backing, Stall(mount, switch, server)
    finally:
        Stall(mount, switch, server).end()
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def run_cli(spec: Path, cwd: Path, stall: Stall, **env: str) -> tuple[int, str, float]:
    """`rproxy run SPEC`: (exit code, output, seconds until its result or its refusal was
    printed). It must exit while the mount still stalls: the read is stuck in a reader
    process, which is left behind (Stall.end lets it go once rproxy has exited)."""
    started = time.monotonic()
    proc = subprocess.Popen([*RPROXY, "run", str(spec)], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, **env})
    assert proc.stdout is not None
    output: list[bytes] = []
    done = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            output.append(line)
            if line.startswith((b"result: ", b"job.json: ")):
                done.set()
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        done.wait(timeout=120)
        took = time.monotonic() - started
        proc.wait(timeout=60)
        assert stall.server.poll() is None  # still stalled when rproxy ended
    finally:
        stall.end()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    reader.join(timeout=10)
    return proc.returncode, b"".join(output).decode(), took


def result_of(out: Path) -> dict[str, Any]:
    (path,) = (out / ".rproxy").glob("*/result.json")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def partial_files(out: Path) -> list[Path]:
    return sorted((out / ".rproxy").glob("*/partial/*"))


def proxies(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name != ".rproxy")


def test_source_that_stalls_during_its_probe_fails_the_clip_in_time(
        project: Path, stallfs: tuple[Path, Stall], ffmpeg: str) -> None:
    """Clip 1's source is on a mount that stops answering while clip 0 encodes (after the
    pre-flight read it fine): its probe gives up after the limit, fail-fast skips clip 2."""
    backing, stall = stallfs
    shutil.copy(project / "A002.mov", backing / "B002.mov")
    spec = write_spec(project, sources=["A001.mov", str(stall.mount / "B002.mov"), "A003.mov"],
                      clip_timeout_s=LIMIT_S)
    out = project / "out"
    rc, text, took = run_cli(spec, project, stall, RPROXY_FFMPEG=str(MARKED),
                             MARK_REAL=ffmpeg, MARK_TOUCH=str(stall.switch))
    assert "Traceback" not in text, text
    assert rc == 1, text
    result = result_of(out)
    assert [c["status"] for c in result["clips"]] == ["COMPLETED", "FAILED", "SKIPPED"]
    reason = result["clips"][1]["failure_reason"]
    assert reason.startswith(f"probing the source {stall.mount / 'B002.mov'} did not answer "
                             f"within {LIMIT_S} s"), reason
    assert "did not answer" in text  # and the run said so
    assert took < LIMIT_S + SLACK_S
    assert proxies(out) == ["A001.mov"]
    assert partial_files(out) == []


def test_source_that_stalls_in_the_preflight_refuses_the_job(
        project: Path, stallfs: tuple[Path, Stall]) -> None:
    backing, stall = stallfs
    shutil.copy(project / "A002.mov", backing / "B002.mov")
    stall.now()
    spec = write_spec(project, sources=["A001.mov", str(stall.mount / "B002.mov")],
                      clip_timeout_s=LIMIT_S)
    rc, text, took = run_cli(spec, project, stall)
    assert "Traceback" not in text, text
    assert rc == 2, text  # a pre-flight problem: nothing encoded
    assert (f"clip 1 (B002.mov): probing the source {stall.mount / 'B002.mov'} did not "
            f"answer within {LIMIT_S} s") in text, text
    assert took < LIMIT_S + SLACK_S
    assert proxies(project / "out") == []
    assert not list((project / "out" / ".rproxy").glob("*/result.json"))


def test_proxy_that_stalls_during_verification_fails_the_clip_in_time(
        project: Path, stallfs: tuple[Path, Stall], ffmpeg: str) -> None:
    """FFmpeg "writes" clip 0's proxy onto a stalled mount (a symlink there, at the partial
    path): the verification gives up after the limit, nothing is left behind."""
    backing, stall = stallfs
    shutil.copy(project / "A001.mov", backing / "proxy.mov")
    stall.now()
    spec = write_spec(project, sources=["A001.mov", "A002.mov"], clip_timeout_s=LIMIT_S)
    out = project / "out"
    rc, text, took = run_cli(spec, project, stall, RPROXY_FFMPEG=str(MARKED),
                             MARK_REAL=ffmpeg, MARK_LINK=str(stall.mount / "proxy.mov"))
    assert "Traceback" not in text, text
    assert rc == 1, text
    result = result_of(out)
    assert [c["status"] for c in result["clips"]] == ["FAILED", "SKIPPED"]
    reason = result["clips"][0]["failure_reason"]
    assert reason.startswith("verifying the proxy ") and "partial" in reason, reason
    assert f"did not answer within {LIMIT_S} s" in reason, reason
    assert took < LIMIT_S + SLACK_S
    assert proxies(out) == []
    assert partial_files(out) == []  # the link is gone (the file it pointed to is not ours)
    assert (backing / "proxy.mov").exists()


# ---------------------------------------------------------------------------------------------
# the reader process that probes and verifications run in


def test_a_call_that_never_returns_is_a_stall_and_its_reader_is_not_used_again() -> None:
    first = bounded(os.getpid, (), 30, "asking its pid")
    assert first != os.getpid()  # it ran in a reader process
    started = time.monotonic()
    with pytest.raises(StallError, match=r"^sleeping did not answer within 0.5 s"):
        bounded(time.sleep, (60,), 0.5, "sleeping")
    assert time.monotonic() - started < 5
    wait_until_dead(first)  # the stuck reader was stopped, not left running
    second = bounded(os.getpid, (), 30, "asking its pid")
    assert second not in (first, os.getpid())


def test_a_reader_that_dies_while_idle_is_replaced() -> None:
    first = bounded(os.getpid, (), 30, "asking its pid")
    os.kill(first, signal.SIGKILL)
    wait_until_dead(first)
    assert bounded(os.getpid, (), 30, "asking its pid") not in (first, os.getpid())


@pytest.mark.parametrize(("call", "args", "how"), [
    (os._exit, (3,), "exit code 3"),
    (ctypes.string_at, (0,), "killed by SIGSEGV"),  # a crash in C, as on a hostile file
])
def test_a_reader_that_ends_during_a_call_fails_only_that_call(
        call: Callable[..., object], args: tuple[object, ...], how: str) -> None:
    with pytest.raises(ProbeError, match=rf"^reading it failed: the reader process ended "
                                         rf"\({how}\)"):
        bounded(call, args, 30, "reading it")
    assert bounded(os.getpid, (), 30, "asking its pid") != os.getpid()  # rproxy goes on


def test_a_call_raises_what_it_raised_and_reads_paths_from_the_callers_folder(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    info = bounded(probe, (Path("A001.mov"),), 30, "probing")
    assert info.width > 0
    with pytest.raises(ProbeError, match="does not exist"):
        bounded(probe, (Path("nothing-here.mov"),), 30, "probing")


def test_an_interrupt_while_a_reader_works_stops_it() -> None:
    pid = bounded(os.getpid, (), 30, "asking its pid")
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGTERM))
    with interrupts.handling():
        timer.start()
        started = time.monotonic()
        with pytest.raises(interrupts.Interrupted) as raised:
            bounded(time.sleep, (60,), 60, "sleeping")
    assert raised.value.signum == signal.SIGTERM
    assert time.monotonic() - started < 5
    wait_until_dead(pid)  # the reader it was waiting for (the same one, reused)


def test_an_interrupt_stops_a_reader_that_another_thread_waits_for() -> None:
    """doit -P thread: the clip runs in a worker thread, the signal is handled in the main
    thread; the worker's verification must not be waited out."""
    outcome: list[BaseException] = []

    def clip() -> None:
        try:
            bounded(time.sleep, (60,), 60, "sleeping")
        except BaseException as exc:
            outcome.append(exc)

    with interrupts.handling():
        worker = threading.Thread(target=clip)
        worker.start()
        time.sleep(0.5)  # the call is in its reader
        started = time.monotonic()
        with pytest.raises(interrupts.Interrupted):
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(10)
        worker.join(timeout=10)
    assert time.monotonic() - started < 5
    assert len(outcome) == 1 and isinstance(outcome[0], interrupts.Interrupted), outcome
    assert outcome[0].signum == signal.SIGHUP


def wait_until_dead(pid: int) -> None:
    wait_until(lambda: not alive(pid), f"reader {pid} to end", 10)


# ---------------------------------------------------------------------------------------------
# the progress reader and the timer


@pytest.fixture
def thread_errors() -> Iterator[list[str]]:
    """Exceptions that end any thread during the test (they would be printed, not raised)."""
    seen: list[str] = []
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        seen.append(f"{args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: "
                    f"{args.exc_value}")

    threading.excepthook = hook
    try:
        yield seen
    finally:
        threading.excepthook = previous


def progress_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "rproxy ffmpeg progress"]


@pytest.mark.parametrize("mode", ["digits", "binary", "noline", "closed", "huge"])
def test_progress_reader_survives_anything_ffmpeg_prints(
        monkeypatch: pytest.MonkeyPatch, thread_errors: list[str], mode: str) -> None:
    monkeypatch.setenv("PRINTS_MODE", mode)
    seen: list[float] = []
    started = time.monotonic()
    run = run_ffmpeg([str(PRINTS)], timeout_s=60, on_progress=seen.append)
    assert run.exit_code == 0, run.stderr
    assert not run.timed_out
    assert time.monotonic() - started < 20
    assert seen == [1.0, 2.0, 3.0]  # the valid lines, around whatever came between
    assert not progress_threads()
    assert thread_errors == []


def test_progress_reader_survives_a_callback_that_raises(thread_errors: list[str]) -> None:
    calls: list[float] = []

    def broken(done: float) -> None:
        calls.append(done)
        raise UnicodeEncodeError("ascii", "é", 0, 1, "a display that cannot print")

    run = run_ffmpeg([str(PRINTS)], timeout_s=60, on_progress=broken)
    assert run.exit_code == 0
    assert calls == [1.0, 2.0, 3.0]  # it kept reading (and so FFmpeg kept running)
    assert thread_errors == []


def test_a_child_holding_the_progress_pipe_does_not_hold_the_clip(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, thread_errors: list[str]) -> None:
    pids = tmp_path / "pids"
    monkeypatch.setenv("PRINTS_MODE", "orphan")
    monkeypatch.setenv("PRINTS_PIDS", str(pids))
    try:
        started = time.monotonic()
        run = run_ffmpeg([str(PRINTS)], timeout_s=60)
        assert run.exit_code == 0
        assert time.monotonic() - started < 10  # not the 30 s the child keeps the pipe
        assert not progress_threads()
        assert thread_errors == []
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


@pytest.mark.parametrize("timeout_s", [604800, 1e9, float("inf"), 1e300])
def test_any_timeout_is_a_working_timer(thread_errors: list[str], timeout_s: float) -> None:
    run = run_ffmpeg([str(PRINTS)], timeout_s=timeout_s)
    assert run.exit_code == 0 and not run.timed_out
    assert thread_errors == []


def test_a_tiny_timeout_still_stops_ffmpeg(thread_errors: list[str]) -> None:
    started = time.monotonic()
    run = run_ffmpeg(["sleep", "30"], timeout_s=0.2)
    assert run.timed_out
    assert time.monotonic() - started < 10
    assert thread_errors == []


@pytest.mark.parametrize("mode", ["digits", "binary", "noline"])
def test_a_clip_completes_whatever_came_first_on_the_progress_pipe(
        project: Path, monkeypatch: pytest.MonkeyPatch, ffmpeg: str, mode: str,
        thread_errors: list[str]) -> None:
    """End to end: garbage first, then the real FFmpeg's own progress; and the spec's longest
    timeout, a week."""
    monkeypatch.setenv("RPROXY_FFMPEG", str(PRINTS))
    monkeypatch.setenv("PRINTS_MODE", mode)
    monkeypatch.setenv("PRINTS_REAL", ffmpeg)
    seen: list[float] = []
    from rproxy._progress import Display

    display = Display(level=2, live=False, log_every_s=0.0)
    display.progress_fn = lambda plan, index: (  # type: ignore[method-assign]
        lambda done, total: seen.append(done))
    spec = write_spec(project, sources=["A001.mov"], clip_timeout_s=604800)
    result = execute_multi_job_spec(JobSpec.from_file(spec), display=display)
    assert result.status.value == "COMPLETED", result.clips[0].failure_reason
    assert seen[:3] == [1.0, 2.0, 3.0]
    assert thread_errors == []
