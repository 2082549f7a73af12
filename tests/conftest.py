"""Shared fixtures: tiny real media made with FFmpeg's lavfi sources, and spec helpers."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

from rproxy import ClipExecutionResult, JobSpec, build_plan
from rproxy._clip import ClipRun, run_clip
from rproxy._ffmpeg import ffmpeg_binary
from rproxy._synthetic import make_synthetic_clip

# Real camera, phone and muxer files, read-only, beside the repo (RPROXY_TEST_MEDIA: elsewhere).
# A test that needs them skips without them, but fails under CI=true: a CI without the media
# must not look green (pytest_runtest_makereport below, the one place that decides).
SHARED_MEDIA = Path(os.environ.get("RPROXY_TEST_MEDIA")
                    or Path(__file__).resolve().parents[2] / "shared" / "media")
FAKE_FFMPEG = Path(__file__).resolve().parent / "fakes" / "ffmpeg"


def shared_media_missing() -> str:
    return (f"shared sample media not found: looked for the folder {SHARED_MEDIA} "
            "(../shared/media beside the repo, or set RPROXY_TEST_MEDIA)")


def require_shared_media() -> Path:
    """SHARED_MEDIA, or skip the test saying where it looked (a failure under CI=true)."""
    if not SHARED_MEDIA.is_dir():
        pytest.skip(shared_media_missing())
    return SHARED_MEDIA


@pytest.fixture
def shared_media() -> Path:
    return require_shared_media()


def _needs_shared_media(item: pytest.Item, reason: str) -> bool:
    """A test skipped for want of the shared media: its skip names the folder (however it
    skipped: a skipif mark, pytest.skip, require_shared_media), or its code uses it."""
    function = getattr(item, "function", None)
    names = function.__code__.co_names if function is not None else ()
    return (str(SHARED_MEDIA) in reason or "SHARED_MEDIA" in names
            or "require_shared_media" in names
            or "shared_media" in getattr(item, "fixturenames", ()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """Under CI=true, a test skipped because the shared media is missing fails instead."""
    outcome = yield
    report = outcome.get_result()
    if (not report.skipped or hasattr(report, "wasxfail") or os.environ.get("CI") != "true"
            or SHARED_MEDIA.is_dir()):
        return
    longrepr = report.longrepr
    reason = str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)
    if _needs_shared_media(item, reason):
        report.outcome = "failed"
        report.longrepr = (f"CI=true and the shared media is missing, so this test fails "
                           f"instead of skipping: {reason}")


@pytest.fixture(autouse=True)
def stop_signals_not_ignored() -> Iterator[None]:
    """Every test starts its processes with the stop signals handled, whatever pytest was
    started with: a signal ignored at exec stays ignored in the child (`cmd &` in a script
    ignores SIGINT, `nohup` SIGHUP), and rproxy rightly keeps it ignored, so a test's Ctrl-C
    would reach nothing."""
    ignored = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
               if signal.getsignal(s) is signal.SIG_IGN}
    for signum in ignored:
        # A handler, unlike SIG_IGN, is reset to the default action by exec.
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT
                      else lambda *_: None)
    try:
        yield
    finally:
        for signum, handler in ignored.items():
            signal.signal(signum, handler)


@pytest.fixture(autouse=True)
def venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as if the virtualenv were activated: `rproxy` and `doit` on PATH, so that
    the hints rproxy prints say `rproxy …` (tests/test_readme.py checks the other case)."""
    bin_dir = os.path.dirname(sys.executable)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return ffmpeg_binary()


def wait_until(predicate: Callable[[], bool], what: str, timeout: float) -> None:
    """Poll until `predicate()` holds; AssertionError naming `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def process_state(pid: int) -> str | None:
    """The kernel's letter for what `pid` does now (R, S, T: stopped, Z: ended, not reaped),
    or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie nobody reaped counts as dead)."""
    return process_state(pid) not in (None, "Z", "X")


def make_clip(
    ffmpeg: str,
    path: Path,
    *,
    acodec: str = "pcm_s16le",
    **options: Any,
) -> Path:
    """A tiny real clip: test pattern video, sine audio streams, timecode 01:00:00:00 unless
    told otherwise (see rproxy._synthetic.synthetic_clip_argv for the options)."""
    return make_synthetic_clip(ffmpeg, path, acodec=(acodec,), **options)


@pytest.fixture
def ffmpeg_fails_on(monkeypatch: pytest.MonkeyPatch, ffmpeg: str) -> Callable[[str], None]:
    """Make FFmpeg fail ("Error while encoding") on the sources whose path contains a text,
    and work normally on the others: a failure no pre-flight can see coming (a fake FFmpeg,
    tests/fakes/ffmpeg, through RPROXY_FFMPEG; subprocesses inherit it)."""
    def fail_on(text: str) -> None:
        monkeypatch.setenv("RPROXY_FFMPEG", str(FAKE_FFMPEG))
        monkeypatch.setenv("FAKE_REAL", ffmpeg)
        monkeypatch.setenv("FAKE_MODE", "exit1")
        monkeypatch.setenv("FAKE_ONLY", text)

    return fail_on


@pytest.fixture
def clip_factory(ffmpeg: str, tmp_path: Path) -> Callable[..., Path]:
    def factory(name: str, **kwargs: Any) -> Path:
        return make_clip(ffmpeg, tmp_path / name, **kwargs)

    return factory


def run_one(source: Path, out: Path, codec: str, container: str,
            resolution: str = "320x180", **fields: Any) -> ClipExecutionResult:
    """Make one proxy of `source` through the real clip path (probe, ffmpeg, verify, record)."""
    out.mkdir(parents=True, exist_ok=True)
    spec = JobSpec.from_dict({
        "schema_version": 1, "sources": [str(source)], "output_dir": str(out),
        "codec": codec, "container": container, "resolution": resolution,
        "fps_mode": "passthrough", **fields,
    })
    plan = build_plan(spec)
    return run_clip(plan, plan.clips[0], ClipRun(ffmpeg_binary(), run_id="test"))


def write_spec(folder: Path, name: str = "job.json", **fields: Any) -> Path:
    """A JobSpec file with sensible defaults; `fields` override or add (None removes)."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "sources": ["A001.mov"],
        "output_dir": "out",
        "codec": "prores_proxy",
        "container": "mov",
        "resolution": "160x90",
        "fps_mode": "passthrough",
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    path = folder / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, clip_factory: Callable[..., Path]) -> Path:
    """A folder with three tiny clips A001..A003.mov and an empty out/."""
    for name in ("A001.mov", "A002.mov", "A003.mov"):
        clip_factory(name)
    (tmp_path / "out").mkdir()
    return tmp_path
