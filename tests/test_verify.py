"""Verification catches a wrong proxy, names what differs, keeps every check in the record and
leaves no file behind; and it costs little next to the encode. The wrong proxies come from
ffmpeg stand-ins that run the real ffmpeg with rproxy's command spoilt: a frame or an audio
stream dropped, colour tags dropped or swapped, the pixels converted with another matrix,
the fields mixed, the wrong lines cropped."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from rproxy import JobSpec, execute_multi_job_spec
from rproxy._argv import ProxyFormat, build_argv
from rproxy._errors import ProbeError, VerificationError
from rproxy._ffmpeg import run_ffmpeg
from rproxy._formats import Codec, Container
from rproxy._probe import probe
from rproxy._rules import assess
from rproxy._verify import verify_output
from tests.conftest import SHARED_MEDIA, make_clip
from tests.media import coloured, interlaced, tags

SABOTAGE = Path(__file__).resolve().parent / "fakes" / "sabotage"


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


def _spec(source: Path, out: Path, codec: str, container: str,
          resolution: str = "160x90") -> JobSpec:
    out.mkdir(exist_ok=True)
    return JobSpec.from_dict({
        "schema_version": 1, "sources": [str(source)], "output_dir": str(out),
        "codec": codec, "container": container, "resolution": resolution,
        "fps_mode": "passthrough",
    })


def _assert_failed(spec: JobSpec, reason: str, failed_check: str) -> None:
    result = execute_multi_job_spec(spec)
    clip = result.clips[0]
    assert clip.status.value == "FAILED"
    assert clip.failure_reason is not None and reason in clip.failure_reason, (
        clip.failure_reason)
    assert clip.exit_code == 0  # ffmpeg itself was happy: only verification could tell
    assert not Path(clip.output_path).exists()
    assert clip.output_exists is False
    assert clip.verification is not None and clip.verification.ok is False
    assert clip.verification.checks[failed_check].ok is False
    # every other check is kept beside the failed one
    assert len(clip.verification.checks) > 5
    partials = list(spec.output_path.rglob(f"*.{spec.container.value}"))
    assert partials == []


@pytest.mark.parametrize(
    ("codec", "container", "extra", "reason", "check"),
    [
        ("h264", "mp4", ["-frames:v", "11"], "frame count 11, source 12", "frame_count"),
        ("vp9", "mkv", ["-frames:v", "11"], "frame count 11, source 12", "frame_count"),
        ("prores_proxy", "mov", ["-map", "-0:a:1"], "1 audio stream(s), source has 2",
         "audio_streams"),
        ("h264", "mov", ["-timecode", "02:00:00:00"],
         "start timecode 02:00:00:00, source 01:00:00:00", "timecode"),
        ("prores_proxy", "mov", ["-profile:v", "3"], "FourCC apch, expected apco", "fourcc"),
    ],
    ids=["dropped-frame-mp4", "dropped-frame-mkv", "dropped-audio", "wrong-timecode",
         "wrong-profile"],
)
def test_wrong_output_is_caught(ffmpeg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                codec: str, container: str, extra: list[str],
                                reason: str, check: str) -> None:
    source = make_clip(ffmpeg, tmp_path / "A001.mov")  # 12 frames, 2 audio streams
    fake_dir = tmp_path / "bin"
    fake_dir.mkdir()
    monkeypatch.setenv("RPROXY_FFMPEG", str(fake_ffmpeg(fake_dir, ffmpeg, extra)))
    _assert_failed(_spec(source, tmp_path / "out", codec, container), reason, check)


@pytest.fixture(scope="module")
def bars(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Saturated colour, stated BT.709."""
    folder = tmp_path_factory.mktemp("bars")
    return coloured(ffmpeg, folder / "bars.mov", colour=tags("bt709", "bt709", "bt709"))


@pytest.fixture(scope="module")
def untagged(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """HD that states no colour: rproxy must state BT.709 itself."""
    folder = tmp_path_factory.mktemp("untagged")
    return coloured(ffmpeg, folder / "bars.mov", size="1280x720")


@pytest.fixture(scope="module")
def moving_1080i(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("interlaced")
    return interlaced(ffmpeg, folder / "tff.mov", size="1920x1080", order="tff", frames=3,
                      colour=tags("bt709", "bt709", "bt709"))


@pytest.mark.parametrize(
    ("sabotage", "codec", "container", "source", "reason", "check"),
    [
        ("drop_colour", "h264", "mp4", "untagged",
         "container colour primaries unknown, transfer unknown", "colour_container"),
        ("drop_colour", "dnxhr", "mxf", "untagged", "container colour primaries unknown",
         "colour_container"),
        ("swap_tags", "prores_proxy", "mov", "bars", "bitstream colour matrix smpte170m",
         "colour_bitstream"),
        ("swap_matrix", "prores_proxy", "mov", "bars", "first frame matches the source at",
         "picture_psnr_db"),
        ("swap_matrix", "vp9", "webm", "bars", "first frame matches the source at",
         "picture_psnr_db"),
        ("mix_fields", "h264", "mp4", "moving_1080i", "fields mixed", "fields"),
        ("mix_fields", "av1", "mkv", "moving_1080i", "fields mixed", "fields"),
    ],
    ids=["no-tags-h264", "no-tags-mxf", "wrong-tag-prores", "wrong-matrix-prores",
         "wrong-matrix-vp9", "mixed-fields-h264", "mixed-fields-deinterlaced-av1"],
)
def test_spoilt_pictures_are_caught(ffmpeg: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    request: pytest.FixtureRequest, sabotage: str, codec: str,
                                    container: str, source: str, reason: str,
                                    check: str) -> None:
    path = request.getfixturevalue(source)
    monkeypatch.setenv("RPROXY_FFMPEG", str(SABOTAGE))
    monkeypatch.setenv("FAKE_REAL", ffmpeg)
    monkeypatch.setenv("SABOTAGE", sabotage)
    _assert_failed(_spec(path, tmp_path / "out", codec, container, "320x180"), reason, check)


@pytest.mark.skipif(not SHARED_MEDIA.is_dir(), reason="shared sample media not found")
def test_a_crop_of_the_wrong_lines_is_caught(ffmpeg: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The 525-line IMX picture starts at coded line 27; a stand-in cropping the 625-line
    32 lines shows other rows of the source."""
    monkeypatch.setenv("RPROXY_FFMPEG", str(SABOTAGE))
    monkeypatch.setenv("FAKE_REAL", ffmpeg)
    monkeypatch.setenv("SABOTAGE", "wrong_crop")
    spec = _spec(SHARED_MEDIA / "format_corpus_imx_525_60.mov", tmp_path / "out",
                 "prores_proxy", "mov", "640x480")
    _assert_failed(spec, "the proxy's picture starts at source row", "crop_first_row")


def test_the_record_keeps_every_check_as_expected_found_ok(ffmpeg: str, bars: Path,
                                                           tmp_path: Path) -> None:
    spec = _spec(bars, tmp_path / "out", "h264", "mp4", "320x180")
    clip = execute_multi_job_spec(spec).clips[0]
    assert clip.status.value == "COMPLETED", clip.failure_reason
    record = json.loads(next((tmp_path / "out" / ".rproxy").rglob("clips/000.json"))
                        .read_text())
    verification = record["verification"]
    assert verification["ok"] is True
    for name in ("colour_container", "colour_bitstream", "picture_psnr_db", "frame_count",
                 "duration_s", "timecode", "scan"):
        assert set(verification["checks"][name]) == {"expected", "found", "ok"}, name
    assert verification["checks"]["colour_bitstream"]["found"] == {
        "primaries": "bt709", "transfer": "bt709", "matrix": "bt709", "range": "tv"}
    assert record["probe"]["colour"]["matrix"] == "bt709"
    assert verification["output"]["frame_count"] == 3


def test_verification_costs_little_next_to_the_encode(ffmpeg: str, tmp_path: Path) -> None:
    """2 s of 1280x720 23.976 with four audio streams, to h264/mkv (mkv: the verifier must
    count packets, its most expensive path) and dnxhr/mxf (likewise); interlaced 1080 to
    prores (field checks: the most pictures compared)."""
    source = make_clip(ffmpeg, tmp_path / "A001.mov", size="1280x720", seconds=2,
                       audio_tracks=4, vcodec=("libx264", "-preset", "ultrafast"))
    fields = interlaced(ffmpeg, tmp_path / "B001.mov", size="1920x1080", order="tff",
                        frames=25)
    lines = []
    for clip, codec, container, size in ((source, "h264", "mkv", (1280, 720)),
                                         (source, "dnxhr", "mxf", (1280, 720)),
                                         (fields, "prores_proxy", "mov", (960, 540))):
        src = probe(clip)
        fmt = ProxyFormat(Codec(codec), Container(container), *size, None)
        output = tmp_path / f"proxy_{codec}.{container}"
        argv = build_argv(ffmpeg, clip, output, fmt, assess(fmt, src).facts)
        started = time.perf_counter()
        run = run_ffmpeg(argv, 120)
        encode_s = time.perf_counter() - started
        assert run.exit_code == 0, run.stderr[-2000:]
        started = time.perf_counter()
        verification = verify_output(output, fmt, src, clip)
        verify_s = time.perf_counter() - started
        assert verification.ok, verification.checks
        lines.append(f"{codec}/{container}: verify {verify_s * 1000:.0f} ms, encode "
                     f"{encode_s * 1000:.0f} ms ({100 * verify_s / encode_s:.1f} %)")
        # A clip this short encodes in a fraction of a second; what verifying costs does not
        # grow with the clip (bar the packet count), so it is bounded, not only relative.
        assert verify_s < max(0.25 * encode_s, 0.15), lines[-1]
    print("; ".join(lines))


def test_an_output_that_does_not_open_fails_with_the_reason(tmp_path: Path) -> None:
    junk = tmp_path / "proxy.mov"
    junk.write_bytes(b"\0" * 4096)
    fmt = ProxyFormat(Codec.PRORES_PROXY, Container.MOV, 160, 90, None)
    with pytest.raises(VerificationError, match="output does not open as video") as caught:
        verify_output(junk, fmt, probe(make_clip_for(tmp_path)), tmp_path / "A001.mov")
    assert caught.value.verification is not None and caught.value.verification.ok is False


def make_clip_for(folder: Path) -> Path:
    from rproxy._ffmpeg import ffmpeg_binary

    return make_clip(ffmpeg_binary(), folder / "A001.mov", seconds=0.2)


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
