"""Verification catches a wrong proxy (an ffmpeg stand-in that drops a frame or an audio
stream), names what differs, leaves no file behind; and it costs little next to the encode."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._argv import ProxyFormat, build_argv
from rproxy._errors import ProbeError
from rproxy._ffmpeg import run_ffmpeg
from rproxy._formats import Codec, Container
from rproxy._probe import probe
from rproxy._rules import assess
from rproxy._verify import verify_output
from tests.conftest import make_clip


def fake_ffmpeg(folder: Path, real: str, extra: list[str]) -> Path:
    """An executable stand-in that runs the real ffmpeg with `extra` output options inserted
    before the output path (the last argument)."""
    script = folder / "ffmpeg"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"real = {real!r}\n"
        f"extra = {extra!r}\n"
        "args = sys.argv[1:]\n"
        "if '-version' not in args:\n"
        "    args = args[:-1] + extra + args[-1:]\n"
        "os.execv(real, [real, *args])\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _spec(source: Path, out: Path, codec: str, container: str) -> JobSpec:
    out.mkdir(exist_ok=True)
    return JobSpec.from_dict({
        "schema_version": 1, "sources": [str(source)], "output_dir": str(out),
        "codec": codec, "container": container, "resolution": "160x90",
        "fps_mode": "passthrough",
    })


@pytest.mark.parametrize(
    ("codec", "container", "extra", "reason"),
    [
        ("h264", "mp4", ["-frames:v", "11"], "frame count 11, source 12"),
        ("vp9", "mkv", ["-frames:v", "11"], "frame count 11, source 12"),
        ("prores_proxy", "mov", ["-map", "-0:a:1"], "1 audio stream(s), source has 2"),
        ("h264", "mov", ["-timecode", "02:00:00:00"],
         "start timecode 02:00:00:00, source 01:00:00:00"),
        ("prores_proxy", "mov", ["-profile:v", "3"], "FourCC apch, expected apco"),
    ],
    ids=["dropped-frame-mp4", "dropped-frame-mkv", "dropped-audio", "wrong-timecode",
         "wrong-profile"],
)
def test_wrong_output_is_caught(ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                codec: str, container: str, extra: list[str],
                                reason: str) -> None:
    source = make_clip(ffmpeg, tmp_path / "A001.mov")  # 12 frames, 2 audio streams
    fake_dir = tmp_path / "bin"
    fake_dir.mkdir()
    monkeypatch.setenv("RPROXY_FFMPEG", str(fake_ffmpeg(fake_dir, ffmpeg, extra)))
    spec = _spec(source, tmp_path / "out", codec, container)
    result = execute_multi_job_spec(spec)
    clip = result.clips[0]
    assert clip.status.value == "FAILED"
    assert clip.failure_reason is not None and reason in clip.failure_reason
    assert clip.exit_code == 0  # ffmpeg itself was happy: only verification could tell
    assert not Path(clip.output_path).exists()
    assert clip.output_exists is False
    assert clip.verification.get("ok") is False
    partials = list((tmp_path / "out").rglob(f"*.{container}"))
    assert partials == []


def test_verification_costs_little_next_to_the_encode(ffmpeg: str, tmp_path: Path) -> None:
    """2 s of 1280x720 23.976 with four audio streams, to h264/mkv (mkv: the verifier must
    count packets, its most expensive path) and dnxhr/mxf (likewise)."""
    source = make_clip(ffmpeg, tmp_path / "A001.mov", size="1280x720", seconds=2,
                       audio_tracks=4, vcodec=("libx264", "-preset", "ultrafast"))
    lines = []
    for codec, container in (("h264", "mkv"), ("dnxhr", "mxf")):
        spec = _spec(source, tmp_path / f"out_{container}", codec, container)
        spec = spec.model_copy(update={"resolution": "1280x720"})
        src = probe(source)
        fmt = ProxyFormat(Codec(codec), Container(container), 1280, 720, None)
        output = tmp_path / f"proxy.{container}"
        argv = build_argv(ffmpeg, source, output, fmt, assess(fmt, src).facts)
        started = time.perf_counter()
        run = run_ffmpeg(argv, 120)
        encode_s = time.perf_counter() - started
        assert run.exit_code == 0, run.stderr[-2000:]
        started = time.perf_counter()
        verification = verify_output(output, fmt, src)
        verify_s = time.perf_counter() - started
        assert verification["ok"]
        lines.append(f"{codec}/{container}: verify {verify_s * 1000:.0f} ms, encode "
                     f"{encode_s * 1000:.0f} ms ({100 * verify_s / encode_s:.1f} %)")
        assert verify_s < 0.25 * encode_s, lines[-1]
    print("; ".join(lines))


def test_probe_names_what_is_wrong_with_a_source(ffmpeg: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.mov"
    text.write_text("not media at all\n" * 20, encoding="utf-8")
    with pytest.raises(ProbeError, match="not a video file"):
        probe(text)
    audio_only = tmp_path / "sound.mov"
    make_clip(ffmpeg, audio_only, audio_tracks=1, extra=("-vn",))
    with pytest.raises(ProbeError, match="no video stream"):
        probe(audio_only)
    empty = tmp_path / "empty.mov"
    empty.touch()
    with pytest.raises(ProbeError, match="empty"):
        probe(empty)
    assert os.path.exists(text)
