"""Helpers shared by the benchmark scripts: the FFmpeg binary, test media, timing, machine."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rproxy._ffmpeg import ffmpeg_binary
from rproxy._synthetic import make_synthetic_clip

BIN = Path(sys.executable).parent  # the venv's bin: rproxy, doit
FFMPEG = ffmpeg_binary()

# Measure rproxy as installed: an installed package has bytecode (.pyc), so Python does not
# recompile rproxy's modules on every start (~65 ms here). A sandbox that sets
# PYTHONDONTWRITEBYTECODE would charge that to every run; the processes these scripts start
# get a bytecode cache in a temp folder instead (nothing written into the source tree).
BYTECODE_NOTE = "subprocesses use a bytecode cache (as an installed package has)"
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("PYTHONPYCACHEPREFIX",
                      str(Path(tempfile.gettempdir()) / "rproxy-bench-pycache"))


def warm_bytecode() -> None:
    """Compile everything a run imports once, so that no measured run pays for it."""
    subprocess.run([sys.executable, "-c", "import rproxy._cli, rproxy.dodo, rproxy._probe, "
                    "rproxy._verify, doit.__main__"], check=True, stdin=subprocess.DEVNULL)


def make_source(path: Path, *, size: str = "1280x720", seconds: float = 1.0,
                rate: str = "24000/1001", audio_tracks: int = 4,
                vcodec: Sequence[str] = ("prores_ks", "-profile:v", "3", "-vendor", "apl0",
                                         "-pix_fmt", "yuv422p10le")) -> Path:
    """A camera-like clip: test pattern, `audio_tracks` mono 48 kHz 24-bit PCM tracks,
    timecode 01:00:00:00."""
    return make_synthetic_clip(FFMPEG, path, size=size, seconds=seconds, rate=rate,
                               audio_tracks=audio_tracks, vcodec=vcodec,
                               acodec=("pcm_s24le",))


def run(argv: Sequence[str], cwd: Path | None = None, quiet: bool = True) -> float:
    """Wall seconds of one command; it must succeed."""
    start = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL if quiet else None,
                          stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(map(str, argv))}\n"
                         f"{done.stderr.decode(errors='replace')[-2000:]}")
    return took


def best_of(times: int, fn: Callable[[], float]) -> float:
    """The median of `times` measurements (the machines are shared and noisy)."""
    return statistics.median(fn() for _ in range(times))


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    ffmpeg = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True,
                            check=False).stdout.split("\n", 1)[0]
    load = ""
    with contextlib.suppress(OSError):
        load = f"; load average {os.getloadavg()[0]:.2f}"
    return (f"{os.cpu_count()} cores ({cpu}){mem}; Python {platform.python_version()}; "
            f"{ffmpeg}{load}; {BYTECODE_NOTE}")
