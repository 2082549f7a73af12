"""Encode choices: fps of each codec's default rproxy command on one reference source, and the
ratio to a decode-only pass of the same source (`ffmpeg -i SRC -f null -`).

    .venv/bin/python benchmarks/encode.py [--seconds 3]

Reference: 1920x1080 ProRes HQ at 23.976 with 4 mono PCM tracks. Proxies are 960x540 (DNxHD:
1280x720, its smallest legal size). The commands are exactly what `rproxy plan --json` prints,
with the real binary for argv[0]."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import BIN, FFMPEG, machine, make_source, warm_bytecode

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    warm_bytecode()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rproxy-encode-") as tmp:
        root = Path(tmp)
        source = make_source(root / "A001C001_REF.mov", size="1920x1080",
                             seconds=args.seconds)
        frames = round(args.seconds * 24000 / 1001)
        decode = timed([FFMPEG, "-nostdin", "-i", str(source), "-map", "0", "-f", "null", "-"])
        print(f"\nreference: {source.name}, 1920x1080 ProRes HQ, {frames} frames, 4 PCM tracks")
        print(f"  decode only (ffmpeg -i SRC -f null -)  {frames / decode:7.1f} fps")
        print(f"\n  {'codec':14}{'container':10}{'size':10}{'fps':>8}{'x decode time':>15}")
        for codec, container, size in CASES:
            out = root / codec
            out.mkdir()
            spec = root / f"{codec}.json"
            spec.write_text(json.dumps({
                "schema_version": 1, "sources": [str(source)], "output_dir": str(out),
                "codec": codec, "container": container, "resolution": size,
                "fps_mode": "passthrough"}))
            plan = json.loads(subprocess.run([str(BIN / "rproxy"), "plan", "--json", str(spec)],
                                             capture_output=True, check=True).stdout)
            argv = list(plan["clips"][0]["argv"])
            argv[0] = FFMPEG
            argv[argv.index("-n")] = "-y"
            argv[-1] = f"file:{out / ('proxy.' + container)}"
            took = timed(argv)
            print(f"  {codec:14}{container:10}{size:10}{frames / took:8.1f}"
                  f"{took / decode:14.2f}x", flush=True)
            if codec == "prores_proxy":  # the encoder rproxy used before: why it changed
                ks = [("prores_ks" if a == "prores_aw" else a) for a in argv]
                took = timed(ks)
                print(f"  {'  (prores_ks)':14}{container:10}{size:10}{frames / took:8.1f}"
                      f"{took / decode:14.2f}x   (the previous default, for comparison)",
                      flush=True)


if __name__ == "__main__":
    main()
