"""Bursts of stop signals (issue 13): two or three of SIGINT/SIGTERM/SIGHUP, microseconds to
milliseconds apart, sent to a real `rproxy run` or `doit` (also `doit -n 2` and `-P thread`) at
a random moment of the run: start-up, once the job is locked, inside a clip (FFmpeg running),
between clips, inside the rename of a verified proxy, inside the write of its record, and
inside the collection (result.json being written).

Every try asserts what a person relies on after an interrupt: the exit code is 128 + the first
signal (or, when the run was already over, what result.json says), result.json exists with
`interrupted_by`, nothing is left in partial/, every file at a proxy path is a verified proxy
(its entry in .rproxy/proxies/ matches its bytes), no traceback was printed, FFmpeg is gone; and
the next run reuses exactly the proxies that were finished and makes the others.

Randomness is seeded: the seed is printed in every failure (and by `pytest -s`); replay with
RPROXY_BURST_SEED=<seed>, one try with RPROXY_BURST_ONLY=<mode>:<try>. RPROXY_BURST_TRIES sets
the tries per mode.

"First" is the first signal the process can see. Signals sent closer together than the
kernel lets the process run arrive together, and then the kernel hands them over lowest number
first (SIGHUP, SIGINT, SIGTERM); nothing in user space can tell their order. So the first is
checked exactly when the second came at least FIRST_GAP_S later, and otherwise only to be one
of the burst."""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._ffmpeg import ffmpeg_binary

from .conftest import alive, make_clip, process_state, wait_until

FAKES = Path(__file__).resolve().parent / "fakes"
MARKED = FAKES / "ffmpeg_marked"
DOIT = str(Path(sys.executable).with_name("doit"))
STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DEADLINE_S = 60.0  # a run that has not ended by then hangs (the machine may be loaded)
FIRST_GAP_S = 0.02  # a second signal this much later than the first must not be taken first
PAUSE_S = 0.04  # how long the test-only pause holds a rename, a record, the result
NAMES = ("A001.mov", "A002.mov", "A003.mov", "C001.mov")
SEED = int(os.environ.get("RPROXY_BURST_SEED") or time.time_ns() % 1_000_000_007)
TRIES = int(os.environ.get("RPROXY_BURST_TRIES") or 55)
ONLY = os.environ.get("RPROXY_BURST_ONLY", "")
WORKERS = 2
STRICT = os.environ.get("RPROXY_BURST_STRICT") == "1"

# What a try can run into that rproxy cannot prevent: counted and reported, not failed;
# RPROXY_BURST_STRICT=1 fails them too.
KNOWN: dict[str, str] = {
    "python-startup": "Ctrl-C while the interpreter or doit itself starts (site, doit's "
                      "imports and plugins: no code of rproxy's has run yet): a "
                      "KeyboardInterrupt traceback that rproxy cannot prevent",
    # Signals that wait together are delivered lowest number first
    # (test_the_first_signal_of_a_burst_wins_while_a_call_cannot_be_interrupted). rproxy keeps
    # its main thread out of every call that would make them wait; only a machine too loaded
    # to give it a CPU for the whole gap still can. Every other check holds.
    "signals-together": "interrupted_by is the lowest-numbered of the burst's first "
                        "signals: they reached the process together, its main thread not "
                        "having run in between",
}
# How long a doit -n run may take to end before the test looks for "idle-workers".
IDLE_WORKERS_S = 10.0

# Where in a run a burst lands; each try draws one.
POINTS = ("startup", "locked", "clip", "between", "rename", "record", "collect")
# The test-only pause (rproxy/_files.py) that holds a point open, and the mark it leaves.
PAUSES = {"rename": "rename", "record": "write:[0-9][0-9][0-9].json",
          "collect": "write:result.json"}

MODES: dict[str, list[str]] = {
    "run": [sys.executable, "-m", "rproxy", "run", "jobs/a.json"],
    "doit": [DOIT],
    "doit-n2": [DOIT, "-n", "2"],
    "doit-thread": [DOIT, "-n", "2", "-P", "thread"],
}
# Which clips each mode's jobs have: -n 2 runs two jobs side by side, into one output folder.
JOBS: dict[str, dict[str, tuple[str, ...]]] = {"run": {"a": NAMES[:3]}, "doit": {"a": NAMES[:3]},
        "doit-n2": {"a": NAMES[:2], "b": NAMES[2:]},
        "doit-thread": {"a": NAMES[:2], "b": NAMES[2:]}}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    folder = tmp_path_factory.mktemp("burst-media")
    for name in NAMES:
        make_clip(ffmpeg, folder / name, seconds=0.4, audio_tracks=1)
    return folder


# ---------------------------------------------------------------------------------------------
# one try


@dataclass
class Burst:
    point: str
    nth: int  # which occurrence of the point (which clip, which rename, ...)
    offset_s: float  # after the point was reached
    kinds: list[signal.Signals]
    gaps_s: list[float]  # before each signal after the first
    group: bool  # to the process group (a terminal's Ctrl-C) or to the process (`kill`)

    def describe(self) -> str:
        gaps = ", ".join(f"{g * 1000:.2f} ms" for g in self.gaps_s)
        return (f"{self.point}#{self.nth} +{self.offset_s * 1000:.1f} ms: "
                f"{' '.join(k.name for k in self.kinds)} (gaps {gaps}) to the "
                f"{'group' if self.group else 'process'}")


def draw(rng: random.Random, clips: int) -> Burst:
    point = rng.choice(POINTS)
    nth = rng.randrange(clips * (2 if point == "rename" else 1))
    offset = {"startup": rng.uniform(0, 0.45), "clip": rng.uniform(0, 0.03),
              "rename": rng.uniform(0, PAUSE_S), "record": rng.uniform(0, PAUSE_S),
              "collect": rng.uniform(0, PAUSE_S)}.get(point, rng.uniform(0, 0.002))
    kinds = [rng.choice(STOPS) for _ in range(rng.choice((2, 3)))]
    gaps = []
    for _ in kinds[1:]:
        roll = rng.random()
        gaps.append(0.0 if roll < 0.4 else rng.uniform(0.0001, 0.005) if roll < 0.85
                    else rng.uniform(0.03, 0.08))  # back to back, close, a second Ctrl-C
    return Burst(point, nth, offset, kinds, gaps, rng.random() < 0.5)


@dataclass
class Project:
    root: Path
    mode: str
    specs: dict[str, Path] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def pids_file(self) -> Path:
        return self.root / "ffmpeg-pids"

    @property
    def marks_file(self) -> Path:
        return self.root / "marks"


def make_project(media: Path, root: Path, mode: str) -> Project:
    root.mkdir(parents=True)
    (root / "jobs").mkdir()
    (root / "out").mkdir()
    (root / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    project = Project(root, mode)
    for job, names in JOBS[mode].items():
        for name in names:
            os.link(media / name, root / name)  # sources are only read
        spec = root / "jobs" / f"{job}.json"
        spec.write_text(json.dumps({
            "schema_version": 1, "sources": [f"../{n}" for n in names],
            "output_dir": "../out", "codec": "prores_proxy", "container": "mov",
            "resolution": "160x90", "fps_mode": "passthrough"}))
        project.specs[job] = spec
    return project


def lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def reached(project: Project, burst: Burst) -> bool:
    """Has the run got to the burst's point (its nth occurrence)?"""
    out = project.out
    if burst.point == "locked":
        return any((out / ".rproxy").glob("*/lock"))
    if burst.point == "clip":
        return len(lines(project.pids_file)) > burst.nth
    if burst.point == "between":
        return len(proxy_files(out)) > burst.nth
    if burst.point in PAUSES:
        return len(lines(project.marks_file)) > burst.nth
    return True


def proxy_files(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.name != ".rproxy")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verified_proxies(out: Path) -> dict[str, str]:
    """name -> sha256 of each file at a proxy path that is the proxy its entry describes."""
    entries = {}
    for path in (out / ".rproxy" / "proxies").glob("*.json"):
        entry = json.loads(path.read_text())
        entries[entry["name"]] = entry
    found = {}
    for path in proxy_files(out):
        entry = entries.get(path.name)
        if entry and entry["size"] == path.stat().st_size and entry["sha256"] == sha(path):
            found[path.name] = entry["sha256"]
    return found


def run_try(media: Path, base: Path, mode: str, index: int,
            rerun_lock: threading.Lock) -> tuple[list[str], list[str]]:
    """One try: what went wrong (empty: nothing), and the known defects it ran into."""
    rng = random.Random(f"{SEED}:{mode}:{index}")
    project = make_project(media, base / f"{mode}-{index}", mode)
    clips = sum(len(n) for n in JOBS[mode].values())
    burst = draw(rng, clips)
    env = {**os.environ, "RPROXY_FFMPEG": str(MARKED), "MARK_REAL": ffmpeg_binary(),
           "MARK_PIDS": str(project.pids_file), "PYTHONFAULTHANDLER": "1"}
    if burst.point in PAUSES:
        env.update({"RPROXY_TEST_PAUSE": PAUSES[burst.point], "RPROXY_TEST_PAUSE_S": str(PAUSE_S),
                    "RPROXY_TEST_PAUSE_MARK": str(project.marks_file)})
    for key in ("FAKE_MODE", "FAKE_ONLY"):
        env.pop(key, None)
    proc = subprocess.Popen(MODES[mode], cwd=project.root, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        return _drive(project, proc, burst, rerun_lock)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        for pid in (int(p) for p in lines(project.pids_file)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def abort_for_its_stack(proc: subprocess.Popen[bytes]) -> None:
    """SIGABRT: faulthandler (PYTHONFAULTHANDLER) prints every thread's stack and the process
    ends; then its workers, if any are left."""
    workers = children(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGABRT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _drive(project: Project, proc: subprocess.Popen[bytes], burst: Burst,
           rerun_lock: threading.Lock) -> tuple[list[str], list[str]]:
    started = time.monotonic()
    while not reached(project, burst) and proc.poll() is None:
        if time.monotonic() - started > DEADLINE_S:
            return [f"{burst.describe()}: the run never got to the point and did not end"], []
        time.sleep(0.0005)
    time.sleep(burst.offset_s)
    # Reading the output concurrently: a full pipe must not be what stops the run.
    output: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: output.__setitem__(n, s.read()))
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    sent_at = []
    for i, kind in enumerate(burst.kinds):
        if i:
            gap = burst.gaps_s[i - 1]
            if gap:
                end = time.perf_counter() + gap
                while time.perf_counter() < end:  # sleep() overshoots by far more
                    pass
        sent_at.append(time.monotonic())
        with contextlib.suppress(ProcessLookupError, PermissionError):
            (os.killpg if burst.group else os.kill)(proc.pid, kind)
    known: list[str] = []
    try:
        try:
            proc.wait(timeout=IDLE_WORKERS_S if project.mode == "doit-n2" else DEADLINE_S)
        except subprocess.TimeoutExpired:
            if project.mode != "doit-n2" or STRICT:
                raise
            if any(alive(int(p)) for p in lines(project.pids_file)):
                raise
            abort_for_its_stack(proc)
            for reader in readers:
                reader.join(timeout=10)
            stack = output.get("err", b"").decode("utf-8", "replace")
            if "multiprocessing/util.py" not in stack or "_exit_function" not in stack:
                return [f"{burst.describe()}: the run did not end within "
                        f"{IDLE_WORKERS_S:g} s", f"output:\n{stack[-6000:]}"], []
            # The stack proves it: doit's main process waits in multiprocessing's exit
            # handler for a worker (rproxy's own exit handler terminates them first).
            return [f"{burst.describe()}: the run hung in multiprocessing's exit handler",
                    f"output:\n{stack[-6000:]}"], []
    except subprocess.TimeoutExpired:
        # Where it hangs: faulthandler (PYTHONFAULTHANDLER, below) prints every thread's stack
        # on SIGABRT.
        abort_for_its_stack(proc)
        for reader in readers:
            reader.join(timeout=10)
        text = (output.get("out", b"") + output.get("err", b"")).decode("utf-8", "replace")
        return [f"{burst.describe()}: the run did not end",
                f"output:\n{text[-6000:]}"], []
    for reader in readers:
        reader.join(timeout=DEADLINE_S)
    text = (output.get("out", b"") + output.get("err", b"")).decode("utf-8", "replace")
    problems = check_after_burst(project, proc.returncode, text, burst, known)
    if not problems:
        problems = check_next_run(project, rerun_lock)
    if not problems and known and not STRICT:
        return [], known
    return [f"{burst.describe()}: {p}" for p in problems + [f"known: {k}" for k in known]] + (
        [f"output:\n{text[-3000:]}"] if problems or known else []), []


def check_after_burst(project: Project, rc: int, text: str, burst: Burst,
                      known: list[str]) -> list[str]:
    problems: list[str] = []
    out = project.out
    first = burst.kinds[0]
    locked = sorted(p.parent for p in (out / ".rproxy").glob("*/lock"))
    if "Traceback" in text:
        # Before any job started, in an import. The traceback may be cut short by the next
        # signal of the burst, which then kills the process by its default action: proof that
        # no handler of rproxy's was there yet.
        rproxy_code = str(Path(__file__).resolve().parents[1] / "rproxy")
        if not locked and "rproxy: interrupted" not in text and (
                "in <module>" in text or (rc < 0 and "File " not in text)):
            if rproxy_code in text and "doit/plugin.py" not in text:
                problems.append("a traceback while rproxy's modules were imported")
            else:  # doit's own start (its plugins are rproxy's modules, loaded by doit)
                known.append("python-startup")
        else:
            problems.append("a traceback was printed")
    if list((out / ".rproxy").glob("*/partial/*")):
        problems.append(f"left in partial/: {list((out / '.rproxy').glob('*/partial/*'))}")
    if list((out / ".rproxy").rglob("*.tmp")):
        problems.append(f"half-written state: {list((out / '.rproxy').rglob('*.tmp'))}")
    verified = verified_proxies(out)
    strays = [p.name for p in proxy_files(out) if p.name not in verified]
    if strays:
        problems.append(f"files at proxy paths that are not verified proxies: {strays}")
    pids = [int(p) for p in lines(project.pids_file)]
    end = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < end:
        time.sleep(0.01)
    if any(alive(p) for p in pids):
        problems.append("FFmpeg still running after the run ended")

    results = {p.parent: json.loads(p.read_text())
               for p in (out / ".rproxy").glob("*/result.json")}
    codes = {128 + int(k) for k in burst.kinds}
    if not locked:
        # Stopped before any job started: nothing may be on disk, and the process ended by
        # the signal: rproxy's exit code, or the signal's own default action before rproxy's
        # handler was installed (the shell shows that as 128+N too).
        if rc not in codes and -rc not in {int(k) for k in burst.kinds} and not known:
            problems.append(f"exit code {rc} before any job started")
        if results or verified:
            problems.append("wrote results or proxies without taking the job's lock")
        return problems
    missing = [str(job.name) for job in locked if job not in results]
    if missing:
        problems.append(f"no result.json for the started jobs {missing}")
        return problems
    interrupted = {r["interrupted_by"] for r in results.values()}
    if len(interrupted) > 1:
        problems.append(f"jobs of one run disagree on the interrupt: {interrupted}")
    by = next(iter(interrupted))
    if by is None:
        # The run was over before the signals could change it: the exit code says what the
        # results say, and nothing failed (these clips fail only when interrupted).
        statuses = {r["status"] for r in results.values()}
        if statuses != {"COMPLETED"}:
            problems.append(f"not interrupted but {statuses}")
        if rc != 0:
            problems.append(f"exit code {rc}, but result.json says COMPLETED, not "
                            "interrupted")
        return problems
    if by not in {k.name for k in burst.kinds}:
        problems.append(f"interrupted_by {by}, which was not sent")
        return problems
    if by != first.name and (not burst.gaps_s or burst.gaps_s[0] >= FIRST_GAP_S):
        together = {min(burst.kinds[:k], key=int).name for k in range(2, len(burst.kinds) + 1)}
        if by in together:
            known.append("signals-together")
        else:  # not what the kernel makes of signals that waited together: one was lost
            problems.append(f"interrupted_by {by}, but {first.name} came first, "
                            f"{burst.gaps_s[0] * 1000:.1f} ms earlier")
    if rc != 128 + int(signal.Signals[by]):
        problems.append(f"exit code {rc}, but result.json says interrupted by {by}")
    for result in results.values():
        for clip in result["clips"]:
            reason = clip.get("failure_reason") or ""
            if clip["status"] == "FAILED" and not reason.startswith("interrupted by "):
                problems.append(f"clip {clip['index']} failed: {reason}")
            name = Path(clip["output_path"]).name
            if clip["status"] == "COMPLETED" and name not in verified:
                problems.append(f"clip {clip['index']} COMPLETED but its proxy is not there")
    return problems


def check_next_run(project: Project, rerun_lock: threading.Lock) -> list[str]:
    """The next run reuses what was finished and makes the rest (through the API: all three
    agree on what is up to date)."""
    out = project.out
    finished = verified_proxies(out)
    problems: list[str] = []
    with rerun_lock:  # one in-process run at a time (doit's API is not made for threads)
        results = [execute_multi_job_spec(JobSpec.from_file(spec))
                   for spec in project.specs.values()]
    for result in results:
        if result.status.value != "COMPLETED":
            problems.append(f"the next run: {result.status.value}: "
                            f"{[c.failure_reason for c in result.clips if c.failure_reason]}")
        for clip in result.clips:
            name = Path(clip.output_path).name
            if clip.up_to_date != (name in finished):
                problems.append(f"the next run {'reused' if clip.up_to_date else 'remade'} "
                                f"{name}, {'not ' if name not in finished else ''}finished "
                                "before")
    after = verified_proxies(out)
    if set(after) != {Path(c.output_path).name for r in results for c in r.clips}:
        problems.append(f"after the next run the proxies are {sorted(after)}")
    changed = [n for n, digest in finished.items() if after.get(n) != digest]
    if changed:
        problems.append(f"finished proxies were made again: {changed}")
    if list((out / ".rproxy").glob("*/partial/*")):
        problems.append("the next run left something in partial/")
    return problems


# ---------------------------------------------------------------------------------------------
# the tests


def tries_of(mode: str) -> list[int]:
    if ONLY:
        only_mode, _, index = ONLY.partition(":")
        return [int(index)] if only_mode == mode else []
    return list(range(TRIES))


@pytest.fixture
def outcome_log() -> Iterator[Callable[[str], None]]:
    said: list[str] = []
    yield said.append
    for line in said:
        print(line)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_bursts_of_stop_signals_end_every_run_as_an_interrupt(
        media: Path, tmp_path: Path, mode: str, outcome_log: Callable[[str], None]) -> None:
    tries = tries_of(mode)
    if not tries:
        pytest.skip(f"RPROXY_BURST_ONLY={ONLY}")
    lock = threading.Lock()
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        found = list(pool.map(lambda i: (i, run_try(media, tmp_path, mode, i, lock)), tries))
    assert all(k in KNOWN for _, (_, ks) in found for k in ks)
    failures = [(i, p) for i, (p, _) in found if p]
    hits = [k for _, (_, ks) in found for k in ks]
    outcome_log(f"{mode}: {len(tries)} tries in {time.monotonic() - started:.1f} s, "
                f"seed {SEED}, {len(failures)} failed"
                + "".join(f"; known {k}: {hits.count(k)}" for k in sorted(set(hits))))
    if failures:
        shown = "\n\n".join(f"try {i} (replay: RPROXY_BURST_SEED={SEED} "
                            f"RPROXY_BURST_ONLY={mode}:{i}):\n  " + "\n  ".join(p)
                            for i, p in failures[:5])
        pytest.fail(f"{len(failures)} of {len(tries)} tries under {mode} (seed {SEED}):\n"
                    f"{shown}", pytrace=False)


# ---------------------------------------------------------------------------------------------
# the known defects, one at a time and deterministically (see KNOWN)

FAKE = FAKES / "ffmpeg"


def start(project: Project, cmd: list[str], *, stderr: int | None = None,
          **env: str) -> subprocess.Popen[bytes]:
    full = {**os.environ, "RPROXY_FFMPEG": str(MARKED), "MARK_REAL": ffmpeg_binary(),
            "MARK_PIDS": str(project.pids_file), "PYTHONFAULTHANDLER": "1", **env}
    return subprocess.Popen(cmd, cwd=project.root, env=full, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=stderr if stderr is not None else subprocess.PIPE,
                            start_new_session=True)


@contextlib.contextmanager
def reaped(proc: subprocess.Popen[bytes], project: Project) -> Iterator[None]:
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in children(proc.pid) + [int(p) for p in lines(project.pids_file)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def only_result(out: Path) -> dict[str, object]:
    (path,) = (out / ".rproxy").glob("*/result.json")
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_signal_while_the_result_is_written_agrees_with_it(media: Path, tmp_path: Path) -> None:
    project = make_project(media, tmp_path / "p", "run")
    proc = start(project, MODES["run"], RPROXY_TEST_PAUSE="write:result.json",
                 RPROXY_TEST_PAUSE_S="1", RPROXY_TEST_PAUSE_MARK=str(project.marks_file))
    with reaped(proc, project):
        wait_until(lambda: bool(lines(project.marks_file)), "result.json being written",
                   DEADLINE_S)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=DEADLINE_S)
    result = only_result(project.out)
    text = (out + err).decode()
    assert "Traceback" not in text
    # Either answer is right, as long as the exit code and the file agree.
    expected = 143 if result["interrupted_by"] == "SIGTERM" else 0
    assert proc.returncode == expected, (result["interrupted_by"], result["status"], text)


def test_a_late_signal_after_the_run_cannot_change_the_exit_code(
        media: Path, tmp_path: Path) -> None:
    """Ctrl-C during a clip, and the burst's SIGTERM just after main() has returned (sent by
    the process itself there, so that it lands in that gap every time): the SIGTERM must
    change nothing, the exit code stays the Ctrl-C's."""
    project = make_project(media, tmp_path / "p", "run")
    code = ("import os, signal, sys\n"
            "import rproxy._cli as cli\n"
            "real = cli.main\n"
            "def main(argv=None):\n"
            "    code = real(['run', 'jobs/a.json'])\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    return code\n"
            "cli.main = main\n"
            "sys.exit(cli.console())\n")
    fake_pids = project.root / "fake-pids"
    proc = start(project, [sys.executable, "-c", code], FAKE_MODE="hang",
                 FAKE_REAL=ffmpeg_binary(), MARK_REAL=str(FAKE), FAKE_PIDS=str(fake_pids))
    try:
        with reaped(proc, project):
            wait_until(lambda: bool(lines(project.pids_file)), "FFmpeg to run", DEADLINE_S)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=DEADLINE_S)
    finally:
        for pid in lines(fake_pids):
            with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
    assert only_result(project.out)["interrupted_by"] == "SIGINT"
    assert "Traceback" not in (out + err).decode()
    assert proc.returncode == 130


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a Python process of its own, its output captured."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=DEADLINE_S)


@contextlib.contextmanager
def python_child(code: str) -> Iterator[subprocess.Popen[str]]:
    """`code` running in a Python process of its own, its stdout a pipe of text; killed if it
    still runs when the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# Code whose exceptions Python drops ("Exception ignored in"): a stop signal handled there
# must still interrupt, without a traceback. Each runs inside the handling() block of the
# API, and delivers SIGTERM to itself from inside that code (raise_signal runs the handler
# before it returns, so the interrupt is raised right there, every time).
DROPPING_CODE = {
    "weakref-callback": ("a = A()\n"
                         "w = weakref.ref(a, lambda _: signal.raise_signal(signal.SIGTERM))\n"
                         "del a\n"),
    "finalizer": ("A.__del__ = lambda self: signal.raise_signal(signal.SIGTERM)\n"
                  "A()\n"),
    "at-fork-hook": ("os.register_at_fork(after_in_parent=lambda: "
                     "signal.raise_signal(signal.SIGTERM))\n"
                     "pid = os.fork()\n"
                     "if pid == 0:\n"
                     "    os._exit(0)\n"
                     "os.waitpid(pid, 0)\n"),
}


@pytest.mark.parametrize("where", sorted(DROPPING_CODE))
def test_a_signal_inside_code_whose_exceptions_python_drops_still_interrupts(
        where: str) -> None:
    body = "".join(f"        {line}\n" for line in DROPPING_CODE[where].splitlines())
    code = ("import os, signal, sys, time, weakref\n"
            "from rproxy import _signals as interrupts\n"
            "class A: pass\n"
            "started = time.monotonic()\n"
            "try:\n"
            "    with interrupts.handling():\n"
            f"{body}"
            "        time.sleep(5)\n"
            "    print('not interrupted')\n"
            "except interrupts.Interrupted as exc:\n"
            "    print(f'{exc} after {time.monotonic() - started:.1f} s')\n")
    proc = run_python(code)
    assert proc.stderr == "", proc.stderr
    assert proc.stdout.startswith("interrupted by SIGTERM after 0."), proc.stdout


def test_the_command_ends_with_its_own_code_while_late_signals_keep_coming() -> None:
    """The `rproxy` command once its outcome is final: signals still arriving (the rest of a
    burst, here a stream of SIGHUPs) must not kill it while it exits. Python's shutdown gives
    the stop signals their default actions back, and a thread that does not block them (one
    left from a clip) would take one and die with 129."""
    code = ("import os, subprocess, sys, threading, time\n"
            "import rproxy._cli as cli\n"
            "from rproxy import _entry, _signals as interrupts\n"
            "def console():\n"
            "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
            "    interrupts.settle()\n"
            "    interrupts.block_for_good()\n"
            # Not holding the test's pipes: it ends when the process is reaped.
            "    subprocess.Popen(['sh', '-c', 'while kill -HUP %d 2>/dev/null; do :; done'"
            " % os.getpid()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "    time.sleep(0.2)\n"
            "    return 0\n"
            "cli.console = console\n"
            "sys.exit(_entry.console())\n")
    proc = run_python(code)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_ctrl_c_while_rproxy_imports_prints_no_traceback(media: Path, tmp_path: Path) -> None:
    project = make_project(media, tmp_path / "p", "run")
    console = Path(sys.executable).with_name("rproxy")  # the console script itself
    proc = start(project, [str(console), "run", "jobs/a.json"])
    with reaped(proc, project):
        # PyAV's library loaded: rproxy's modules are being imported (rproxy/__init__ pulls
        # it in long before main() installs the handlers).
        wait_until(lambda: "/av/" in Path(f"/proc/{proc.pid}/maps").read_text(),
                   "rproxy's imports", timeout=20)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE_S)
    text = (out + err).decode()
    assert "Traceback" not in text, text
    assert proc.returncode == 130


def test_doit_workers_interrupted_while_starting_do_not_hang(
        media: Path, tmp_path: Path) -> None:
    project = make_project(media, tmp_path / "p", "doit-n2")
    # Job b's start (its run.json, written in doit's main process while it starts the
    # second worker) is held; the first worker is already running job a's first clip.
    proc = start(project, MODES["doit-n2"], RPROXY_TEST_PAUSE="write:run.json",
                 RPROXY_TEST_PAUSE_S="1", RPROXY_TEST_PAUSE_MARK=str(project.marks_file))
    with reaped(proc, project):
        wait_until(lambda: len(lines(project.marks_file)) >= 2, "the second job's start",
                   DEADLINE_S)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("doit -n 2 did not end within 15 s of Ctrl-C")
    assert "Traceback" not in (out + err).decode()
    assert proc.returncode == 130
    assert {r.parent.name for r in (project.out / ".rproxy").glob("*/result.json")} == {
        p.parent.name for p in (project.out / ".rproxy").glob("*/lock")}


# A thread inside a call that no signal interrupts (an fsync behind a loaded disk, the vfork
# of a Popen waiting for its child's exec) cannot be given a signal until the call returns;
# blocking the stop signals is how a vfork does it, and stands in for all of them here.
UNINTERRUPTIBLE = ("def uninterruptible():\n"
                   "    stops = {signal.SIGHUP, signal.SIGINT, signal.SIGTERM}\n"
                   "    signal.pthread_sigmask(signal.SIG_BLOCK, stops)\n"
                   "    print('inside', flush=True)\n"
                   "    time.sleep(0.6)\n"
                   "    signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)\n")


@pytest.mark.parametrize(("how", "first"), [
    # The kernel's own behaviour, which the other case works around: signals that wait
    # together are delivered lowest number first, and the order they came in is lost.
    ("uninterruptible()", "SIGHUP"),
    ("outside_main(uninterruptible)", "SIGTERM"),
])
def test_the_first_signal_of_a_burst_wins_while_a_call_cannot_be_interrupted(
        how: str, first: str) -> None:
    code = ("import signal, sys, time\n"
            "from rproxy import _signals as interrupts\n"
            "from rproxy._blocking import outside_main\n"
            f"{UNINTERRUPTIBLE}"
            "try:\n"
            "    with interrupts.handling():\n"
            f"        {how}\n"
            "        time.sleep(5)\n"
            "    print('not interrupted')\n"
            "except interrupts.Interrupted as exc:\n"
            "    print(exc)\n")
    with python_child(code) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "inside\n"
        # A service stopped, then its terminal closed: SIGTERM, then SIGHUP 50 ms later.
        os.kill(proc.pid, signal.SIGTERM)
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGHUP)
        out, _ = proc.communicate(timeout=DEADLINE_S)
    assert out == f"interrupted by {first}\n"


def blocked_stops(pid: int, tid: int | None = None) -> set[signal.Signals]:
    """The stop signals that thread `tid` (the main one: None) of process `pid` blocks now."""
    status = Path(f"/proc/{pid}/task/{tid or pid}/status").read_text()
    mask = int(next(line for line in status.splitlines()
                    if line.startswith("SigBlk:")).split()[1], 16)
    return {s for s in STOPS if mask >> (int(s) - 1) & 1}


def test_a_signal_arriving_before_the_first_ones_handler_ran_does_not_overtake_it() -> None:
    """The kernel has handed SIGTERM over (its handler's frame is set up, the handler has not
    run: on a loaded machine the main thread can lose its CPU right there) when SIGHUP
    arrives. Stacked on top, SIGHUP's handler would run first and SIGHUP read as the first
    signal. SIGSTOP, sent with the SIGTERM, holds the process at exactly that moment: the
    thread's mask then shows SIGTERM blocked, as it is during its own handler."""
    code = ("import time\n"
            "from rproxy import _signals as interrupts\n"
            "try:\n"
            "    with interrupts.handling():\n"
            "        print('ready', flush=True)\n"
            "        time.sleep(10)\n"
            "    print('not interrupted')\n"
            "except interrupts.Interrupted as exc:\n"
            "    print(exc)\n")
    outcomes: list[str] = []
    for _ in range(60):  # until the moment was caught 3 times (a third of the tries here)
        with python_child(code) as proc:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
            os.kill(proc.pid, signal.SIGTERM)
            os.kill(proc.pid, signal.SIGSTOP)
            # Stopped; or ended, when this process lost its CPU between the two signals.
            wait_until(lambda pid=proc.pid: process_state(pid) in ("T", "Z"), "the stop",
                       DEADLINE_S)
            caught = (process_state(proc.pid) == "T"
                      and signal.SIGTERM in blocked_stops(proc.pid))
            if caught:
                os.kill(proc.pid, signal.SIGHUP)
            os.kill(proc.pid, signal.SIGCONT)
            out, _ = proc.communicate(timeout=DEADLINE_S)
        if caught:
            outcomes.append(out)
            if len(outcomes) == 3:
                break
    assert outcomes, "the moment between the handover and the handler was never caught"
    assert outcomes == ["interrupted by SIGTERM\n"] * len(outcomes)


def test_the_main_thread_never_makes_the_calls_that_no_signal_interrupts(
        media: Path, tmp_path: Path) -> None:
    """fsync, hashing the proxy, and starting a child without a preexec_fn (a vfork: FFmpeg's
    -version, a reader process) are made by another thread: checked in a whole run of a
    fresh process, with every such call recorded where it was made."""
    project = make_project(media, tmp_path / "p", "run")
    code = ("import hashlib, os, subprocess, sys, threading\n"
            "seen = []\n"
            "def where(name):\n"
            "    seen.append((name, threading.current_thread() is threading.main_thread()))\n"
            "fsync, digest, popen = os.fsync, hashlib.file_digest, subprocess.Popen.__init__\n"
            "def spy_fsync(fd):\n"
            "    where('fsync')\n"
            "    return fsync(fd)\n"
            "def spy_digest(*args, **kwargs):\n"
            "    where('file_digest')\n"
            "    return digest(*args, **kwargs)\n"
            "def spy_popen(self, *args, **kwargs):\n"
            "    if kwargs.get('preexec_fn') is None:\n"
            "        where('Popen')\n"
            "    return popen(self, *args, **kwargs)\n"
            "os.fsync, hashlib.file_digest, subprocess.Popen.__init__ = (\n"
            "    spy_fsync, spy_digest, spy_popen)\n"
            "from rproxy import JobSpec, execute_multi_job_spec\n"
            "result = execute_multi_job_spec(JobSpec.from_file('jobs/a.json'))\n"
            "assert result.status.value == 'COMPLETED', result\n"
            "print(sorted(set(seen)))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True,
                          text=True, timeout=DEADLINE_S)
    assert proc.returncode == 0, proc.stderr
    calls = dict(ast.literal_eval(proc.stdout))
    assert set(calls) == {"fsync", "file_digest", "Popen"}  # each was made, by another thread
    assert not any(calls.values()), calls


@pytest.mark.parametrize("mode", ["run", "doit-thread-1"])
def test_only_the_main_thread_can_take_a_stop_signal_while_a_clip_runs(
        media: Path, tmp_path: Path, mode: str) -> None:
    """Every other thread of the process (FFmpeg's progress reader and timer, the thread of
    blocking calls, doit's worker under -P thread) blocks the stop signals. Else, while the
    main thread waits for a CPU with the burst's first signal pending, the kernel hands the
    next one to another thread, whose handler can run first: the first signal is lost."""
    project = make_project(media, tmp_path / "p", "run")
    cmd = MODES["run"] if mode == "run" else [DOIT, "-n", "1", "-P", "thread"]
    proc = start(project, cmd, MARK_HOLD="2")  # each FFmpeg waits 2 s before it starts
    with reaped(proc, project):
        wait_until(lambda: lines(project.pids_file), "FFmpeg to start", DEADLINE_S)
        time.sleep(0.5)  # the clip's own threads start as soon as FFmpeg's process is there
        threads = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task")]
        others = [t for t in threads if t != proc.pid]
        # the thread of blocking calls, the progress reader, the timer (and doit's worker)
        assert len(others) >= 3, threads
        taking = [t for t in others if blocked_stops(proc.pid, t) != set(STOPS)]
        assert not taking, f"threads {taking} of {threads} can take a stop signal"
        assert blocked_stops(proc.pid) == set()  # the main thread takes them
        # FFmpeg itself, also when a thread that blocks them started it, gets them: a
        # user's `kill` stops it.
        (ffmpeg,) = (int(p) for p in lines(project.pids_file))
        assert blocked_stops(ffmpeg) == set()


@pytest.mark.parametrize("step", ["_finish", "_failed"])
def test_a_signal_between_a_clips_steps_leaves_no_partial_file_without_a_record(
        media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """The signal lands as the clip goes on from one step to the next: from the verification
    to _finish (the proxy is verified, nothing holds the signals yet), or into _failed (the
    clip has just failed). Either way the partial file goes and the clip has its record."""
    from rproxy import JobSpec, _clip, execute_multi_job_spec

    project = make_project(media, tmp_path / "p", "run")
    real = getattr(_clip, step)

    def arrives_first(*args: object, **kwargs: object) -> object:
        monkeypatch.setattr(_clip, step, real)  # once
        signal.raise_signal(signal.SIGTERM)  # the handler raises it here
        return real(*args, **kwargs)

    monkeypatch.setattr(_clip, step, arrives_first)
    if step == "_failed":  # clip 0's FFmpeg writes some bytes and fails
        monkeypatch.setenv("FAKE_REAL", ffmpeg_binary())
        monkeypatch.setenv("RPROXY_FFMPEG", str(FAKE))
        monkeypatch.setenv("FAKE_MODE", "exit1")
    monkeypatch.chdir(project.root)
    result = execute_multi_job_spec(JobSpec.from_file(project.specs["a"]))
    assert result.interrupted_by == "SIGTERM"
    assert not list((project.out / ".rproxy").glob("*/partial/*"))
    statuses = [c.status.value for c in result.clips]
    assert "FAILED" in statuses, statuses
    failed = next(c for c in result.clips if c.status.value == "FAILED")
    assert failed.failure_reason, failed
