"""The plan and the argv builder: pure, deterministic, table-driven (no ffmpeg runs here)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from pathlib import Path, PurePath

import pytest

from rproxy import JobSpec, build_plan
from rproxy._argv import ProxyFormat, SourceFacts, build_argv
from rproxy._cli import main
from rproxy._formats import AUDIO, FORMATS, MUXER, Codec, Container
from rproxy._naming import expand, index_width
from tests.conftest import write_spec

PAIRS = [(codec, container) for codec, info in FORMATS.items() for container in info.containers]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("A001.mov", "B002.MXF", "C003.mp4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "out").mkdir()
    return tmp_path


def test_there_are_twenty_pairs_plus_the_hevc_alias() -> None:
    assert len([p for p in PAIRS if p[0] is not Codec.HEVC]) == 20
    assert FORMATS[Codec.HEVC].encoder_args == FORMATS[Codec.H265].encoder_args


@pytest.mark.parametrize("codec,container", PAIRS, ids=[f"{c}-{k}" for c, k in PAIRS])
def test_argv_for_every_pair(codec: Codec, container: Container) -> None:
    width, height = (1280, 720) if codec is Codec.DNXHD else (640, 360)
    fmt = ProxyFormat(codec, container, width, height, None)
    argv = build_argv("ffmpeg", PurePath("/m/A 001.mov"), PurePath("/o/p.tmp"), fmt)
    info = FORMATS[codec]
    assert argv[0] == "ffmpeg"
    assert "-nostdin" in argv
    assert argv[argv.index("-i") + 1] == "file:/m/A 001.mov"
    assert argv[-1] == "file:/o/p.tmp"
    assert argv[argv.index("-f") + 1] == MUXER[container]
    # every audio stream, not just the first
    assert argv[argv.index("-map") + 1] == "0:v:0"
    assert "0:a?" in argv
    start = argv.index("-c:v") + 1
    assert tuple(argv[start:start + len(info.encoder_args)]) == info.encoder_args
    assert argv[argv.index("-pix_fmt") + 1] == info.pix_fmt
    audio = AUDIO[container]
    assert tuple(argv[argv.index("-c:a") + 1:argv.index("-c:a") + 1 + len(audio)]) == audio
    assert f"scale={width}:{height}" in argv[argv.index("-vf") + 1]
    assert argv[argv.index("-fps_mode") + 1] == "passthrough"
    if info.fourcc == "hvc1" and container in (Container.MOV, Container.MP4):
        assert argv[argv.index("-tag:v") + 1] == "hvc1"
    else:
        assert "-tag:v" not in argv
    if codec is Codec.DNXHD:
        assert argv[argv.index("-b:v") + 1] == "60M"


def test_prores_profiles_and_vendor() -> None:
    for codec, profile in [(Codec.PRORES_PROXY, "0"), (Codec.PRORES_LT, "1"),
                           (Codec.PRORES_STANDARD, "2"), (Codec.PRORES_HQ, "3"),
                           (Codec.PRORES_4444, "4")]:
        argv = build_argv("ffmpeg", PurePath("/s.mov"), PurePath("/o.mov"),
                          ProxyFormat(codec, Container.MOV, 640, 360, None))
        assert argv[argv.index("-profile:v") + 1] == profile
        assert argv[argv.index("-vendor") + 1] == "apl0"
    argv = build_argv("ffmpeg", PurePath("/s.mov"), PurePath("/o.mov"),
                      ProxyFormat(Codec.PRORES_4444, Container.MOV, 640, 360, None))
    assert argv[argv.index("-pix_fmt") + 1] == "yuv444p10le"


def test_cfr_sets_the_rate() -> None:
    fmt = ProxyFormat(Codec.H264, Container.MP4, 640, 360, Fraction(24000, 1001))
    argv = build_argv("ffmpeg", PurePath("/s.mov"), PurePath("/o.mp4"), fmt)
    assert argv[argv.index("-fps_mode") + 1] == "cfr"
    assert argv[argv.index("-r") + 1] == "24000/1001"
    assert argv[argv.index("-movflags") + 1] == "+faststart"


@pytest.mark.parametrize("rate,bitrate", [(Fraction(24000, 1001), "36M"), (Fraction(25), "36M"),
                                          (Fraction(30000, 1001), "45M"), (Fraction(50), "75M"),
                                          (Fraction(60000, 1001), "90M")])
def test_dnxhd_gets_the_lowest_legal_bitrate(rate: Fraction, bitrate: str) -> None:
    fmt = ProxyFormat(Codec.DNXHD, Container.MXF, 1920, 1080, None)
    argv = build_argv("ffmpeg", PurePath("/s.mov"), PurePath("/o.mxf"), fmt,
                      SourceFacts(rate=rate))
    assert argv[argv.index("-b:v") + 1] == bitrate


def test_probe_facts_reach_the_command() -> None:
    fmt = ProxyFormat(Codec.PRORES_PROXY, Container.MOV, 640, 360, None)
    argv = build_argv("ffmpeg", PurePath("/s.mov"), PurePath("/o.mov"), fmt,
                      SourceFacts(timecode="01:00:00:00"))
    assert argv[argv.index("-timecode") + 1] == "01:00:00:00"


def test_argv_builder_is_pure() -> None:
    fmt = ProxyFormat(Codec.VP9, Container.WEBM, 640, 360, Fraction(25))
    args = ("ffmpeg", PurePath("/s.mov"), PurePath("/o.webm"), fmt)
    assert build_argv(*args) == build_argv(*args)


def test_token_expansion() -> None:
    name = expand("{job_id}_{index}_{source_name}_{source_ext}_{codec}_{resolution}_{date}"
                  "_{time}", source=PurePath("/cards/A001C003.MXF"), index=7, clip_count=12,
                  job_id="0123abcd", codec="prores_proxy", resolution="960x540",
                  created_at=datetime(2026, 3, 4, 5, 6, 7))
    assert name == "0123abcd_007_A001C003_MXF_prores_proxy_960x540_20260304_050607"


@pytest.mark.parametrize("count,width", [(1, 3), (1000, 3), (1001, 4), (12000, 5)])
def test_index_width_grows_so_names_sort(count: int, width: int) -> None:
    assert index_width(count) == width


def test_plan_order_paths_and_names(folder: Path) -> None:
    spec = JobSpec.from_file(write_spec(folder, sources=["A001.mov", "B002.MXF", "C003.mp4"],
                                        naming_template="{index}_{source_name}"))
    plan = build_plan(spec)
    assert [c.index for c in plan.clips] == [0, 1, 2]
    assert [c.source for c in plan.clips] == [folder / "A001.mov", folder / "B002.MXF",
                                              folder / "C003.mp4"]
    assert [c.output.name for c in plan.clips] == ["000_A001.mov", "001_B002.mov",
                                                   "002_C003.mov"]
    assert all(c.output.parent == folder / "out" for c in plan.clips)
    assert [c.task_name for c in plan.clips] == [
        "proxy:job:000_A001.mov", "proxy:job:001_B002.mov", "proxy:job:002_C003.mov"]


def test_plan_is_deterministic(folder: Path, capsys: pytest.CaptureFixture[str],
                               clip_factory: Callable[..., Path], ffmpeg: str) -> None:
    for name in ("A001.mov", "B002.MXF"):
        (folder / name).unlink()
        clip_factory(name)
    path = write_spec(folder, sources=["A001.mov", "B002.MXF"],
                      naming_template="{source_name}_{date}_{time}",
                      created_at="2026-11-29T10:11:12")
    assert main(["plan", "--json", str(path)]) == 0
    first = capsys.readouterr().out
    assert main(["plan", "--json", str(path)]) == 0
    second = capsys.readouterr().out
    assert first == second
    data = json.loads(first)
    assert [Path(c["output"]).name for c in data["clips"]] == [
        "A001_20261129_101112.mov", "B002_20261129_101112.mov"]
    assert data["clips"][0]["argv"][0] == ffmpeg  # the binary that will run, not a name


def test_job_id_is_stable_and_independent_of_the_folder(folder: Path, tmp_path: Path) -> None:
    spec = JobSpec.from_file(write_spec(folder))
    again = JobSpec.from_file(write_spec(folder))
    assert spec.id == again.id
    assert len(spec.id) == 8 and int(spec.id, 16) >= 0
    moved = tmp_path.parent / (tmp_path.name + "_moved")
    shutil.copytree(folder, moved)
    try:
        assert JobSpec.from_file(moved / "job.json").id == spec.id
    finally:
        shutil.rmtree(moved)


def test_job_id_changes_with_content(folder: Path) -> None:
    a = JobSpec.from_file(write_spec(folder, resolution="160x90"))
    b = JobSpec.from_file(write_spec(folder, resolution="320x180"))
    assert a.id != b.id


def test_explicit_job_id_is_kept(folder: Path) -> None:
    assert JobSpec.from_file(write_spec(folder, job_id="deadbeef")).id == "deadbeef"


def test_plan_cli_human_output(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The sources here are not media: the plan says so instead of showing a command.
    assert main(["plan", str(write_spec(folder))]) == 2
    out = capsys.readouterr().out
    assert "A001.mov -> " in out and str(folder / "out" / "A001.mov") in out
    assert "(cannot run: not a video file" in out
