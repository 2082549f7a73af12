"""What the output folder knows about whose file each proxy is, and how every interface uses it
(issue 11): spec edits cost only what changed; doit -n N runs jobs side by side; jobs sharing a
folder, at once or one after another, never replace each other's proxies; moved folders and
touched files keep their proxies; doit clean removes only what a spec made and nobody else
wants. Real FFmpeg on tiny clips; a fake FFmpeg that waits for a go-ahead file makes the races
happen in a chosen order (not by luck)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._errors import PreflightError
from rproxy._records import JobExecutionResult, read_job_result
from rproxy._truth import Folder
from tests.conftest import FAKE_FFMPEG, make_clip, wait_until, write_spec
from tests.test_faults import DEADLINE_S, hashes, pids_in

BIN = Path(sys.executable).parent
NAMES = ["A001.mov", "A002.mov", "A003.mov", "A004.mov"]


def run_api(spec: Path) -> JobExecutionResult:
    return execute_multi_job_spec(JobSpec.from_file(spec))


def mtimes(out: Path) -> dict[str, int]:
    """Proxy name → mtime_ns: what changed tells what was re-encoded."""
    return {p.name: p.stat().st_mtime_ns for p in sorted(out.iterdir()) if p.is_file()}


def job_dirs(out: Path) -> list[str]:
    return sorted(p.parent.name for p in (out / ".rproxy").glob("*/job.json"))


def doit(project: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "doit"), *args], cwd=project, capture_output=True,
                          text=True, timeout=DEADLINE_S * 4, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def clips(tmp_path: Path, ffmpeg: str) -> Path:
    """A001..A004.mov (tiny, real) in tmp_path, and an empty out/."""
    for name in NAMES:
        make_clip(ffmpeg, tmp_path / name, size="64x36", seconds=0.2, audio_tracks=1)
    (tmp_path / "out").mkdir()
    return tmp_path


# -- spec edits cost only what changed ------------------------------------------------------


def test_appending_a_clip_encodes_only_it_and_the_old_state_goes(clips: Path) -> None:
    out = clips / "out"
    first = run_api(write_spec(clips, sources=NAMES[:3]))
    before = mtimes(out)
    second = run_api(write_spec(clips, sources=NAMES))
    assert second.job_id != first.job_id
    assert [c.up_to_date for c in second.clips] == [True, True, True, False]
    assert {n: t for n, t in mtimes(out).items() if n in before} == before
    assert job_dirs(out) == [second.job_id]  # the edited spec's old folder is gone
    # The reused clips' records moved along: each clip has its record under the new job.
    records = sorted((out / ".rproxy" / second.job_id / "clips").glob("*.json"))
    assert [r.name for r in records] == ["000.json", "001.json", "002.json", "003.json"]
    assert all(c.verification and c.verification.ok for c in second.clips)


def test_timeout_edits_and_reordering_reencode_nothing(clips: Path) -> None:
    out = clips / "out"
    run_api(write_spec(clips, sources=NAMES))
    before = mtimes(out)
    for fields in ({"clip_timeout_s": 100}, {"clip_timeout_s": 3600},
                   {"sources": list(reversed(NAMES))}, {"sources": NAMES[1:3]}):
        result = run_api(write_spec(clips, **{"sources": NAMES, **fields}))
        assert result.status.value == "COMPLETED"
        assert all(c.up_to_date for c in result.clips), fields
        assert mtimes(out) == before, fields
        assert len(job_dirs(out)) == 1


def test_a_new_resolution_reencodes_exactly_the_clips_it_changes(clips: Path) -> None:
    out = clips / "out"
    run_api(write_spec(clips, sources=NAMES[:2], naming_template="{source_name}_a"))
    run_api(write_spec(clips, "other.json", sources=NAMES[2:],
                       naming_template="{source_name}_b"))
    before = mtimes(out)
    result = run_api(write_spec(clips, sources=NAMES[:2], naming_template="{source_name}_a",
                                resolution="32x18"))
    assert [c.up_to_date for c in result.clips] == [False, False]
    after = mtimes(out)
    assert {n for n in after if after[n] != before[n]} == {"A001_a.mov", "A002_a.mov"}


# -- doit -n N: jobs side by side, each in order ---------------------------------------------


def doit_project(clips: Path, specs: dict[str, dict[str, object]]) -> Path:
    (clips / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    (clips / "jobs").mkdir()
    for name, fields in specs.items():
        write_spec(clips / "jobs", f"{name}.json", **{
            "sources": [f"../{n}" for n in NAMES], "output_dir": f"../{name}", **fields})
        (clips / name).mkdir(exist_ok=True)
    return clips


def results_of(project: Path, *names: str) -> dict[str, JobExecutionResult]:
    found = {}
    for name in names:
        (path,) = (project / name / ".rproxy").glob("*/result.json")
        found[name] = read_job_result(path)
    return found


@pytest.mark.parametrize("mode", [("-n", "2"), ("-n", "2", "-P", "thread"), ("-n", "3")])
def test_doit_in_parallel_runs_jobs_side_by_side_and_agrees_with_rproxy_run(
        clips: Path, mode: tuple[str, ...]) -> None:
    project = doit_project(clips, {"day1": {}, "day2": {"codec": "h264", "container": "mp4"},
                                   "day3": {"resolution": "32x18"}})
    done = doit(project, *mode)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    results = results_of(project, "day1", "day2", "day3")
    for name, result in results.items():
        assert result.status.value == "COMPLETED", (name, done.stdout)
        assert [c.up_to_date for c in result.clips] == [False] * 4, name
        # strictly in order within the job: each clip started after the one before finished
        for before, after in zip(result.clips, result.clips[1:], strict=False):
            assert before.finished_at and after.started_at and before.finished_at <= (
                after.started_at), name
    stamps = {name: mtimes(project / name) for name in results}
    # rproxy run, then doit -n 2 again: nothing is re-encoded by either.
    for name in results:
        again = run_api(project / "jobs" / f"{name}.json")
        assert all(c.up_to_date for c in again.clips)
    done = doit(project, *mode)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {name: mtimes(project / name) for name in results} == stamps
    assert all(all(c.up_to_date for c in r.clips)
               for r in results_of(project, *results).values())


@pytest.mark.parametrize("reporter", ["executed-only", "json", "zero"])
def test_every_reporter_gets_a_result_written(clips: Path, reporter: str) -> None:
    project = doit_project(clips, {"day1": {}})
    done = doit(project, "-r", reporter)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results_of(project, "day1")["day1"].status.value == "COMPLETED"
    if reporter == "json":
        json.loads(done.stdout)  # stdout stays the reporter's: rproxy's lines go to stderr


def test_a_users_own_doit_config_still_gets_results(clips: Path) -> None:
    project = doit_project(clips, {"day1": {}})
    (project / "dodo.py").write_text(
        "import rproxy.dodo\nfrom rproxy.dodo import *  # noqa: F403\n"
        "DOIT_CONFIG = {**rproxy.dodo.DOIT_CONFIG, 'verbosity': 0}\n")
    done = doit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results_of(project, "day1")["day1"].status.value == "COMPLETED"


def test_doit_result_rebuilds_a_result_from_the_records(clips: Path) -> None:
    project = doit_project(clips, {"day1": {}})
    assert doit(project).returncode == 0
    (path,) = (project / "day1" / ".rproxy").glob("*/result.json")
    kept = read_job_result(path)
    path.unlink()
    done = doit(project, "result:day1")
    assert done.returncode == 0, done.stdout + done.stderr
    rebuilt = read_job_result(path)
    assert rebuilt.status.value == "COMPLETED"
    assert [c.output_sha256 for c in rebuilt.clips] == [c.output_sha256 for c in kept.clips]
    assert "COMPLETED" in done.stdout
    assert doit(project, "info", "result:nosuch").returncode == 3  # doit's message, no trace


# -- jobs sharing a folder ------------------------------------------------------------------


def start_waiting(spec: Path, go: Path, pids: Path, ffmpeg: str) -> subprocess.Popen[str]:
    """`rproxy run` whose FFmpeg waits for the file `go` before it encodes (and writes its
    pid to `pids` when it starts waiting)."""
    env = {**os.environ, "RPROXY_FFMPEG": str(FAKE_FFMPEG), "FAKE_REAL": ffmpeg,
           "FAKE_MODE": "wait_go", "FAKE_GO": str(go), "FAKE_PIDS": str(pids)}
    return subprocess.Popen([sys.executable, "-m", "rproxy", "run", str(spec)], cwd=spec.parent,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, stdin=subprocess.DEVNULL)


@pytest.fixture
def waiting(tmp_path: Path, ffmpeg: str) -> Iterator[Callable[[Path, str], tuple[
        subprocess.Popen[str], Path]]]:
    started: list[subprocess.Popen[str]] = []

    def start(spec: Path, name: str) -> tuple[subprocess.Popen[str], Path]:
        go, pids = tmp_path / f"go-{name}", tmp_path / f"pids-{name}"
        proc = start_waiting(spec, go, pids, ffmpeg)
        started.append(proc)
        wait_until(lambda: bool(pids_in(pids)), f"{name}'s FFmpeg to start", DEADLINE_S)
        return proc, go

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def finish(proc: subprocess.Popen[str], go: Path) -> tuple[int, str]:
    go.touch()
    out, _ = proc.communicate(timeout=DEADLINE_S * 2)
    return proc.returncode, out


def test_two_jobs_at_once_in_one_folder_never_replace_each_other(
        tmp_path: Path, ffmpeg: str, waiting: Callable[..., tuple[subprocess.Popen[str], Path]]
        ) -> None:
    """Day 1's and day 2's cards both hold C0001.mov; both jobs encode it at the same time."""
    for day, size in (("day1", "64x36"), ("day2", "96x54")):
        (tmp_path / day).mkdir()
        make_clip(ffmpeg, tmp_path / day / "C0001.mov", size=size, seconds=0.2, audio_tracks=1)
    (tmp_path / "out").mkdir()
    day1 = write_spec(tmp_path, "day1.json", sources=["day1/C0001.mov"])
    day2 = write_spec(tmp_path, "day2.json", sources=["day2/C0001.mov"])
    first, go1 = waiting(day1, "day1")
    second, go2 = waiting(day2, "day2")  # both pre-flights passed: nothing was there yet
    rc, text = finish(first, go1)
    assert rc == 0, text
    made = hashes(tmp_path / "out" / "C0001.mov")
    rc, text = finish(second, go2)
    assert rc == 1, text
    assert "is the proxy of another source" in text and "nothing replaced" in text
    assert hashes(tmp_path / "out" / "C0001.mov") == made
    assert not list((tmp_path / "out" / ".rproxy").glob("*/partial/*"))
    # Day 1's result still holds, and its next run finds its own proxy up to date.
    again = run_api(day1)
    assert again.status.value == "COMPLETED" and again.clips[0].up_to_date


def test_a_file_copied_to_the_proxy_path_during_the_encode_is_never_overwritten(
        clips: Path, waiting: Callable[..., tuple[subprocess.Popen[str], Path]]) -> None:
    spec = write_spec(clips, sources=["A001.mov"])
    proc, go = waiting(spec, "a")
    theirs = clips / "out" / "A001.mov"
    theirs.write_bytes(b"the editor's own export, copied here while rproxy encoded")
    mine = hashes(theirs)
    rc, text = finish(proc, go)
    assert rc == 1, text
    assert "appeared" in text
    assert hashes(theirs) == mine
    assert not list((clips / "out" / ".rproxy").glob("*/partial/*"))


def test_clean_waits_for_nobody_and_touches_nothing_while_the_job_runs(
        clips: Path, waiting: Callable[..., tuple[subprocess.Popen[str], Path]]) -> None:
    project = doit_project(clips, {"day1": {}})
    spec = project / "jobs" / "day1.json"
    proc, go = waiting(spec, "a")
    cleaned = doit(project, "clean")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "not cleaned" in cleaned.stdout and "already running" in cleaned.stdout
    rc, text = finish(proc, go)
    assert rc == 0, text
    result = results_of(project, "day1")["day1"]
    assert result.status.value == "COMPLETED"
    assert all(Path(c.output_path).is_file() for c in result.clips)


def test_two_specs_of_one_proxy_share_it_and_clean_keeps_it_for_the_other(clips: Path) -> None:
    project = doit_project(clips, {"out": {}})
    shutil.copy(project / "jobs" / "out.json", project / "jobs" / "again.json")
    shutil.copy(project / "jobs" / "out.json", project / "jobs" / "never.json")
    assert doit(project, "proxy:out").returncode == 0
    made = mtimes(project / "out")
    done = doit(project, "proxy:again")  # the same proxies: nothing re-encoded
    assert done.returncode == 0 and "COMPLETED A00" not in done.stdout, done.stdout
    assert doit(project, "proxy:out").returncode == 0
    assert mtimes(project / "out") == made
    # `never` never ran: cleaning it removes nothing of the others'.
    assert doit(project, "clean", "proxy:never").returncode == 0
    assert mtimes(project / "out") == made
    cleaned = doit(project, "clean", "proxy:again")
    assert "uses it too" in cleaned.stdout
    assert mtimes(project / "out") == made
    doit(project, "clean", "proxy:out")
    assert mtimes(project / "out") == {}
    assert not list(Folder(project / "out").entries())


def test_two_specs_wanting_different_proxies_at_one_path_are_told(clips: Path) -> None:
    run_api(write_spec(clips, "a.json", sources=NAMES[:1]))
    with pytest.raises(PreflightError) as caught:
        run_api(write_spec(clips, "b.json", sources=NAMES[:1], codec="prores_lt"))
    (problem,) = caught.value.problems
    assert "a.json wants" in problem.message and "two specs" in problem.message


def test_a_job_id_another_spec_uses_in_the_folder_is_refused(clips: Path) -> None:
    run_api(write_spec(clips, "a.json", sources=NAMES[:1], job_id="0a1b2c3d"))
    with pytest.raises(PreflightError) as caught:
        run_api(write_spec(clips, "b.json", sources=NAMES[1:2], job_id="0a1b2c3d"))
    (problem,) = caught.value.problems
    assert problem.field == "job_id" and str(clips / "a.json") in problem.message
    assert not (clips / "out" / "A002.mov").exists()


# -- moved, touched, damaged, killed --------------------------------------------------------


def test_moving_the_project_keeps_every_proxy_and_clean_still_removes_them(
        clips: Path, tmp_path: Path) -> None:
    project = doit_project(clips, {"day1": {}})
    assert doit(project).returncode == 0
    made = mtimes(project / "day1")
    moved = tmp_path.parent / f"{tmp_path.name}-moved"
    shutil.move(project, moved)
    try:
        done = doit(moved)
        assert done.returncode == 0, done.stdout + done.stderr
        assert mtimes(moved / "day1") == made
        assert all(c.up_to_date for c in results_of(moved, "day1")["day1"].clips)
        assert doit(moved, "clean").returncode == 0
        assert mtimes(moved / "day1") == {}
    finally:
        shutil.rmtree(moved, ignore_errors=True)


def test_a_proxy_whose_mtime_moved_is_still_rproxys(clips: Path) -> None:
    spec = write_spec(clips, sources=NAMES[:1])
    run_api(spec)
    proxy = clips / "out" / "A001.mov"
    os.utime(proxy, ns=(1_000_000_000, 1_000_000_000))  # a sync tool set its own mtime
    again = run_api(spec)
    assert again.clips[0].up_to_date
    assert proxy.stat().st_mtime_ns == 1_000_000_000
    entry = next(iter(Folder(clips / "out").entries()))
    assert entry.mtime_ns == 1_000_000_000  # remembered: it is not hashed again next time


def test_a_damaged_proxy_is_told_as_exactly_that(clips: Path) -> None:
    spec = write_spec(clips, sources=NAMES[:1])
    run_api(spec)
    proxy = clips / "out" / "A001.mov"
    with proxy.open("r+b") as handle:
        handle.truncate(1000)
    with pytest.raises(PreflightError) as caught:
        run_api(spec)
    (problem,) = caught.value.problems
    assert "changed after rproxy made it on " in problem.message
    assert "→ 1.0 KB" in problem.message


def test_a_kill_around_the_rename_never_leaves_a_job_refusing_its_own_file(
        clips: Path) -> None:
    spec = write_spec(clips, sources=NAMES[:2])
    first = run_api(spec)
    folder = Folder(clips / "out")
    # Killed after the rename, before the entry was cleared and the record written: the
    # entry says "pending", the record is not there.
    entry = folder.read("A001.mov")
    assert entry is not None
    folder.write(entry.model_copy(update={"pending": True}))
    (clips / "out" / ".rproxy" / first.job_id / "clips" / "000.json").unlink()
    # Killed after the entry, before the rename: the proxy is not at its path.
    (clips / "out" / "A002.mov").unlink()
    again = run_api(spec)
    assert again.status.value == "COMPLETED"
    assert [c.up_to_date for c in again.clips] == [True, False]
    assert (clips / "out" / ".rproxy" / first.job_id / "clips" / "000.json").is_file()


def test_a_source_still_growing_after_ffmpeg_is_never_trusted(
        clips: Path, monkeypatch: pytest.MonkeyPatch, ffmpeg: str) -> None:
    spec = write_spec(clips, sources=NAMES[:1])
    source = clips / "A001.mov"
    for key, value in {"RPROXY_FFMPEG": str(FAKE_FFMPEG), "FAKE_REAL": ffmpeg,
                       "FAKE_MODE": "mutate", "FAKE_TARGET": str(source),
                       "FAKE_ACTION": "append"}.items():
        monkeypatch.setenv(key, value)
    result = run_api(spec)
    assert result.clips[0].status.value == "FAILED"
    assert "source changed" in (result.clips[0].failure_reason or "")
    assert not list(Folder(clips / "out").entries())
    monkeypatch.delenv("RPROXY_FFMPEG")
    again = run_api(spec)
    assert again.status.value == "COMPLETED" and not again.clips[0].up_to_date
    entry = next(iter(Folder(clips / "out").entries()))
    assert entry.source.size == source.stat().st_size  # the state from before the encode


# -- the output folder's volume -------------------------------------------------------------


def test_a_missing_output_folder_is_made_only_when_its_parent_exists(clips: Path) -> None:
    project = doit_project(clips, {})
    write_spec(project / "jobs", "a.json", sources=["../A001.mov"],
               output_dir="../unplugged/proxies")
    done = doit(project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Is the drive connected?" in done.stdout + done.stderr
    assert not (project / "unplugged").exists()  # no mount point made on the system disk
    (project / "unplugged").mkdir()  # the drive is back: the last folder is made
    done = doit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project / "unplugged" / "proxies" / "A001.mov").is_file()
    run = write_spec(project, "run.json", sources=["A001.mov"], output_dir="new")
    assert run_api(run).status.value == "COMPLETED"  # rproxy run makes it the same way


def test_doits_state_db_damaged_or_unwritable_never_blocks_a_run(clips: Path) -> None:
    project = doit_project(clips, {"day1": {}})
    (project / ".doit.db").write_text('{"proxy:day1:A001.mov": {"trunc')  # a cut-off write
    done = doit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    json.loads((project / ".doit.db").read_text())  # rewritten whole
    (project / ".doit.db").chmod(0o444)
    (project / ".doit.db").unlink()
    (project / ".doit.db").mkdir()  # cannot be replaced at all
    done = doit(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "could not save doit's state" in done.stderr
    assert "Traceback" not in done.stderr


def test_doit_info_on_an_unknown_task_gives_doits_message(clips: Path) -> None:
    project = doit_project(clips, {"day1": {}})
    done = doit(project, "info", "proxy:day1:nosuch.mov")
    assert done.returncode == 3
    assert "'proxy:day1:nosuch.mov' is not a task." in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("mode", [(), ("-c",), ("-n", "2")])
def test_one_jobs_failure_is_told_as_such_for_the_others(
        clips: Path, mode: tuple[str, ...], ffmpeg_fails_on: Callable[[str], None]) -> None:
    project = doit_project(clips, {"d1": {"sources": ["../A001.mov", "../A002.mov"]},
                                   "d2": {"sources": ["../A003.mov", "../A004.mov"]}})
    ffmpeg_fails_on("A001")
    done = doit(project, *mode)
    text = done.stdout + done.stderr
    assert done.returncode == 1, text  # a failed clip: 1, also where doit would say 2 (-c)
    assert "Traceback" not in text and "UnmetDependency" not in text
    d1 = results_of(project, "d1")["d1"]
    assert [c.status.value for c in d1.clips] == ["FAILED", "SKIPPED"]
    d2_results = list((project / "d2" / ".rproxy").glob("*/result.json"))
    if mode == ("-c",):
        assert read_job_result(d2_results[0]).status.value == "COMPLETED"
        return
    told = "not run: doit stopped at the failure in job d1 (`doit -c` goes on"
    if d2_results:  # it had started (-n 2): its clips that did not run say why
        d2 = read_job_result(d2_results[0])
        assert all(told in (c.failure_reason or "") for c in d2.clips
                   if c.status.value == "SKIPPED")
    else:
        assert f"job d2 ({JobSpec.from_file(project / 'jobs' / 'd2.json').id}): {told}" in text


def test_doit_clean_also_removes_what_earlier_versions_of_the_spec_made(clips: Path) -> None:
    project = doit_project(clips, {"day1": {}})
    assert doit(project).returncode == 0
    spec = project / "jobs" / "day1.json"
    data = json.loads(spec.read_text())
    spec.write_text(json.dumps({**data, "codec": "h264", "container": "mp4"}))
    assert doit(project).returncode == 0
    assert sorted(p.suffix for p in (project / "day1").iterdir() if p.is_file()) == [
        ".mov"] * 4 + [".mp4"] * 4  # the .mov proxies of the first version stay...
    cleaned = doit(project, "clean")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "an earlier version of day1 made it" in cleaned.stdout
    assert mtimes(project / "day1") == {}  # ...until doit clean
    assert not list(Folder(project / "day1").entries())
