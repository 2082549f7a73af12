"""Encode choices, and what rproxy adds around each encode: fps of each codec's rproxy command
on one reference source, the ratio to a decode-only pass of the same source
(`ffmpeg -i SRC -f null -`), and beside it the probe (pre-flight) and the verification of the
proxy, in ms per clip.

    .venv/bin/python benchmarks/encode.py [--seconds 3] [--interlaced]

Reference: 1920x1080 ProRes HQ at 23.976 with 4 mono PCM tracks (--interlaced: 1080i50, top
field first, moving, so that the field checks run). Proxies are 960x540 (DNxHD: 1280x720, its
smallest legal size). The commands are the ones a clip runs: build_argv with the facts the
rules draw from the probe, with the real binary for argv[0]."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import FFMPEG, machine, make_source, warm_bytecode

from rproxy._argv import ProxyFormat, build_argv
from rproxy._formats import Codec, Container
from rproxy._probe import probe
from rproxy._rules import assess
from rproxy._verify import verify_output

CASES = [  # codec, container, resolution
    ("prores_proxy", "mov", "960x540"), ("prores_lt", "mov", "960x540"),
    ("prores_hq", "mov", "960x540"), ("h264", "mp4", "960x540"), ("h265", "mp4", "960x540"),
    ("dnxhd", "mov", "1280x720"), ("dnxhr", "mxf", "960x540"), ("vp9", "webm", "960x540"),
    ("av1", "mp4", "960x540"),
]


def timed(argv: list[str], reps: int = 2) -> float:
    def once() -> float:
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - start
    return statistics.median(once() for _ in range(reps))


def interlaced_source(path: Path, seconds: float) -> Path:
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=s=1920x1080:r=50:d={seconds},scroll=h=0.005", "-vf",
                    "tinterlace=interleave_top,setfield=tff", "-r", "25", "-flags",
                    "+ildct+ilme", "-c:v", "prores_ks", "-profile:v", "3", str(path)],
                   check=True, stdin=subprocess.DEVNULL)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--interlaced", action="store_true")
    args = parser.parse_args()
    warm_bytecode()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rproxy-encode-") as tmp:
        root = Path(tmp)
        if args.interlaced:
            source = interlaced_source(root / "B001C001_REF.mov", args.seconds)
            frames, kind = round(args.seconds * 25), "1080i50 ProRes HQ, moving"
        else:
            source = make_source(root / "A001C001_REF.mov", size="1920x1080",
                                 seconds=args.seconds)
            frames, kind = round(args.seconds * 24000 / 1001), "1920x1080 ProRes HQ, 4 PCM"
        decode = timed([FFMPEG, "-nostdin", "-i", str(source), "-map", "0", "-f", "null", "-"])
        probes = []
        for _ in range(5):
            started = time.perf_counter()
            info = probe(source)
            probes.append(time.perf_counter() - started)
        print(f"\nreference: {source.name}, {kind}, {frames} frames")
        print(f"  decode only (ffmpeg -i SRC -f null -)  {frames / decode:7.1f} fps")
        probe_ms = 1000 * statistics.median(probes)
        print(f"  probe (pre-flight, median of 5)        {probe_ms:7.1f} ms")
        print(f"\n  {'codec':14}{'container':10}{'size':10}{'fps':>8}{'x decode':>10}"
              f"{'encode ms':>11}{'verify ms':>11}{'verify %':>10}")
        for codec, container, size in CASES:
            width, height = (int(n) for n in size.split("x"))
            fmt = ProxyFormat(Codec(codec), Container(container), width, height, None)
            assessment = assess(fmt, info)
            if assessment.problems:
                print(f"  {codec:14}{container:10}{size:10}  refused: {assessment.problems}")
                continue
            output = root / f"proxy_{codec}.{container}"
            argv = build_argv(FFMPEG, source, output, fmt, assessment.facts)
            argv[argv.index("-n")] = "-y"
            took = timed(argv)
            verifies = []
            for _ in range(3):
                started = time.perf_counter()
                verify_output(output, fmt, info, source)
                verifies.append(time.perf_counter() - started)
            verify = statistics.median(verifies)
            print(f"  {codec:14}{container:10}{size:10}{frames / took:8.1f}"
                  f"{took / decode:9.2f}x{1000 * took:11.0f}{1000 * verify:11.1f}"
                  f"{100 * verify / took:9.1f}%", flush=True)


if __name__ == "__main__":
    main()
