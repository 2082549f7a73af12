"""What a power cut can and cannot undo (issue 13), and output a terminal cannot encode.

Durability is shown by the order of the calls that put things on disk, traced while a real job
runs: the proxy's data is flushed before anything calls it COMPLETED, the folder's entry
(pending) is written before the rename, the output folder is flushed after it, and only then are
the clip's record and the job's result written (each flushed, and its folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy import _clip as clip_module
from rproxy._files import rename_noreplace

from .conftest import write_spec

Event = tuple[str, str, str]  # (what, path, second path)


@pytest.fixture
def disk_calls(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """Every fsync (of which file or folder), os.replace and no-replace rename, in order."""
    events: list[Event] = []
    real_fsync, real_replace = os.fsync, os.replace
    real_rename = rename_noreplace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"), ""))
        real_fsync(fd)

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        real_replace(src, dst, **kwargs)
        events.append(("replace", os.fspath(src), os.fspath(dst)))

    def rename(src: Any, dst: Any) -> None:
        real_rename(src, dst)
        events.append(("rename", os.fspath(src), os.fspath(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(clip_module, "rename_noreplace", rename)
    return events


def first(events: list[Event], test: Callable[[Event], bool], what: str) -> int:
    for index, event in enumerate(events):
        if test(event):
            return index
    raise AssertionError(f"never: {what}\n" + "\n".join(map(str, events)))


def test_a_completed_record_comes_only_after_the_proxy_and_its_folder_are_on_disk(
        project: Path, disk_calls: list[Event]) -> None:
    spec = write_spec(project, sources=["A001.mov"])
    out = project / "out"
    result = execute_multi_job_spec(JobSpec.from_file(spec))
    assert result.status.value == "COMPLETED"
    events = disk_calls
    proxy = str(out / "A001.mov")
    renamed = first(events, lambda e: e[0] == "rename" and e[2] == proxy, "the proxy renamed")
    partial = events[renamed][1]
    assert "/partial/" in partial
    data = first(events, lambda e: e == ("fsync", partial, ""), "the proxy's data flushed")
    pending = first(events, lambda e: e[0] == "replace" and "/.rproxy/proxies/" in e[2],
                    "the folder's entry written")
    folder = renamed + 1 + first(events[renamed + 1:], lambda e: e == ("fsync", str(out), ""),
                                 "the output folder flushed after the rename")
    record = first(events, lambda e: e[0] == "replace" and e[2].endswith("/clips/000.json"),
                   "the clip's record written")
    result_at = first(events, lambda e: e[0] == "replace" and e[2].endswith("/result.json"),
                      "result.json written")
    # The order that makes a record trustworthy after a power cut.
    assert data < pending < renamed < folder < record < result_at, events
    # Each state file is flushed before it replaces the old one, and its folder after.
    for at in (record, result_at):
        target = events[at][2]
        assert events[at - 1] == ("fsync", events[at][1], ""), events[at - 1:at + 2]
        assert ("fsync", os.path.dirname(target), "") in events[at + 1:at + 3], events[at:]
    # The record never says COMPLETED before the proxy is there: it is written once, after.
    records = [e for e in events if e[0] == "replace" and e[2].endswith("/clips/000.json")]
    assert len(records) == 1


def test_new_state_folders_are_flushed_into_their_parents(
        project: Path, disk_calls: list[Event]) -> None:
    """A record in a folder that a power cut forgot is lost with it: every folder rproxy
    creates for its state is flushed into its parent."""
    spec = write_spec(project, sources=["A001.mov"])
    out = project / "out"
    assert execute_multi_job_spec(JobSpec.from_file(spec)).status.value == "COMPLETED"
    synced = {e[1] for e in disk_calls if e[0] == "fsync"}
    (job,) = (out / ".rproxy").glob("*/job.json")
    for folder in (job.parent / "clips", out / ".rproxy" / "proxies"):
        assert str(folder.parent) in synced, (folder, sorted(synced))


def test_a_second_jobs_state_folder_is_flushed_into_the_output_folders_state(
        project: Path, disk_calls: list[Event]) -> None:
    out = project / "out"
    assert execute_multi_job_spec(JobSpec.from_file(
        write_spec(project, "one.json", sources=["A001.mov"]))).status.value == "COMPLETED"
    disk_calls.clear()
    assert execute_multi_job_spec(JobSpec.from_file(
        write_spec(project, "two.json", sources=["A002.mov"]))).status.value == "COMPLETED"
    assert ("fsync", str(out / ".rproxy"), "") in disk_calls, disk_calls


# ---------------------------------------------------------------------------------------------
# names a terminal cannot print


RPROXY = [sys.executable, "-m", "rproxy"]
DOIT = str(Path(sys.executable).with_name("doit"))


def _names_job(folder: Path, clip_factory: Callable[..., Path]) -> list[str]:
    names = ["Café_001.mov", "Ωmega_002.mov", "plain_003.mov"]
    for name in names:
        clip_factory(name)
    (folder / "jobs").mkdir()
    (folder / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    write_spec(folder / "jobs", "a.json", sources=[f"../{n}" for n in names],
               output_dir="../out")
    return names


@pytest.mark.parametrize("command", ["run", "doit"])
def test_names_an_ascii_terminal_cannot_print_are_escaped_and_the_output_goes_on(
        tmp_path: Path, clip_factory: Callable[..., Path], command: str) -> None:
    names = _names_job(tmp_path, clip_factory)
    (tmp_path / "out").mkdir()
    argv = [*RPROXY, "run", "jobs/a.json"] if command == "run" else [DOIT]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    text = done.stdout.decode("ascii") + done.stderr.decode("ascii")  # nothing but ASCII
    assert done.returncode == 0, text
    assert "Traceback" not in text
    assert "Caf\\xe9_001.mov" in text and "\\u03a9mega_002.mov" in text, text
    # Every clip's line and the summary: the output did not stop at the first such name.
    assert text.count("COMPLETED ") == 3, text
    assert "3 completed" in text, text
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != ".rproxy") == \
        sorted(names)


def test_a_name_that_is_not_utf8_is_refused_in_ascii_words(
        tmp_path: Path, clip_factory: Callable[..., Path]) -> None:
    clip = clip_factory("plain.mov")
    bad = os.fsencode(tmp_path) + b"/caf\xe9.mov"
    os.rename(clip, bad)
    (tmp_path / "out").mkdir()
    spec = tmp_path / "job.json"
    spec.write_bytes(b'{"schema_version": 1, "sources": ["caf\\udce9.mov"], "output_dir": '
                     b'"out", "codec": "prores_proxy", "container": "mov", '
                     b'"resolution": "160x90", "fps_mode": "passthrough"}')
    done = subprocess.run([*RPROXY, "run", str(spec)], cwd=tmp_path, capture_output=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    text = done.stdout.decode("ascii") + done.stderr.decode("ascii")
    assert "Traceback" not in text, text
    assert done.returncode == 2, text
    assert "caf" in text and "sources" in text, text
