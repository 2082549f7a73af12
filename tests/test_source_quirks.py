"""Sources that are not what they seem at first glance: a still before the real video, an edit
list that hides samples, audio shorter than the picture. Each proxy must still have exactly
the picture's frames."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av

from rproxy._records import ClipStatus
from tests.conftest import make_clip, run_one


def ffmpeg_run(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-v", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL)


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def test_a_still_muxed_before_the_real_video_is_not_taken_for_it(ffmpeg: str,
                                                                  tmp_path: Path) -> None:
    base = make_clip(ffmpeg, tmp_path / "base.mov", seconds=1, rate="25", audio_tracks=1)
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "color=red:s=200x200", "-frames:v", "1",
               str(tmp_path / "still.png"))
    source = tmp_path / "stillfirst.mov"
    ffmpeg_run(ffmpeg, "-i", str(tmp_path / "still.png"), "-i", str(base), "-map", "0",
               "-map", "1:v", "-map", "1:a", "-c", "copy", "-c:v:0", "mjpeg",
               "-disposition:v:0", "0", "-disposition:v:1", "default", str(source))
    record = run_one(source, tmp_path / "out", "prores_proxy", "mov")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification["checks"]["frame_count"]["found"] == 25
    assert decoded_frames(Path(record.output_path)) == 25
    assert record.ffmpeg_command is not None and "0:1" in record.ffmpeg_command


def test_an_edit_list_is_counted_as_ffmpeg_presents_the_source(ffmpeg: str,
                                                                tmp_path: Path) -> None:
    long = make_clip(ffmpeg, tmp_path / "long.mp4", seconds=2, rate="25", audio_tracks=1,
                     vcodec=("libx264", "-g", "25"), acodec="aac")
    source = tmp_path / "trimmed.mp4"  # a stream-copied trim: the edit list hides samples
    ffmpeg_run(ffmpeg, "-ss", "0.3", "-i", str(long), "-t", "0.6", "-c", "copy", str(source))
    with av.open(str(source)) as container:
        assert container.streams.video[0].frames > decoded_frames(source)  # the quirk is real
    for codec, container_name in (("prores_proxy", "mov"), ("h264", "mp4")):
        record = run_one(source, tmp_path / codec, codec, container_name)
        assert record.status is ClipStatus.COMPLETED, record.failure_reason
        assert decoded_frames(Path(record.output_path)) == decoded_frames(source)


def test_mxf_keeps_every_frame_when_the_audio_is_shorter(ffmpeg: str, tmp_path: Path) -> None:
    source = tmp_path / "shortaudio.mov"
    ffmpeg_run(ffmpeg, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=1", "-f", "lavfi",
               "-i", "sine=d=0.6:r=48000", "-c:v", "prores_ks", "-c:a", "pcm_s16le",
               "-timecode", "09:00:00:00", str(source))
    record = run_one(source, tmp_path / "out", "dnxhr", "mxf", "320x180")
    assert record.status is ClipStatus.COMPLETED, record.failure_reason
    assert record.verification["checks"]["frame_count"]["found"] == 25
    assert decoded_frames(Path(record.output_path)) == 25
