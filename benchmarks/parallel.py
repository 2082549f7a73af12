"""doit -n 2 against -n 1: four jobs of small clips, side by side (each job strictly in order).

Prints the wall time of both, interleaved over repetitions (median), and their ratio. Phase 1
runs no clips of one job at once; jobs side by side are what `-n N` buys."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

from _common import BIN, machine, make_source, run, warm_bytecode

JOBS = 4


def make_project(root: Path, clips: int, seconds: float) -> None:
    (root / "jobs").mkdir(parents=True)
    media = root / "media"
    media.mkdir()
    for i in range(clips):
        make_source(media / f"C{i:03d}.mov", size="1280x720", seconds=seconds, audio_tracks=2)
    for job in range(JOBS):
        (root / f"proxies{job}").mkdir()
        (root / "jobs" / f"day{job}.json").write_text(json.dumps({
            "schema_version": 1, "sources": [f"../media/C{i:03d}.mov" for i in range(clips)],
            "output_dir": f"../proxies{job}", "codec": "prores_proxy", "container": "mov",
            # a size per job: four different proxies of the same sources
            "resolution": ["640x360", "480x270", "320x180", "960x540"][job],
            "fps_mode": "passthrough"}))
    (root / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")


def one_run(root: Path, workers: int) -> float:
    run([str(BIN / "doit"), "clean"], cwd=root)
    return run([str(BIN / "doit"), "-n", str(workers)], cwd=root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clips", type=int, default=4, help="clips per job")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each clip")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    warm_bytecode()
    with tempfile.TemporaryDirectory(prefix="rproxy-parallel-") as tmp:
        root = Path(tmp)
        make_project(root, args.clips, args.seconds)
        one, two = [], []
        for _ in range(args.repeat):  # interleaved: both see the same machine
            one.append(one_run(root, 1))
            two.append(one_run(root, 2))
        shutil.rmtree(root, ignore_errors=True)
    n1, n2 = statistics.median(one), statistics.median(two)
    print(f"{JOBS} jobs x {args.clips} clips of {args.seconds:g} s 720p ProRes HQ -> "
          f"ProRes Proxy, median of {args.repeat}")
    print(f"  doit -n 1   {n1:6.2f} s   ({', '.join(f'{t:.2f}' for t in one)})")
    print(f"  doit -n 2   {n2:6.2f} s   ({', '.join(f'{t:.2f}' for t in two)})")
    print(f"  ratio -n 1 / -n 2: {n1 / n2:.2f}x")


if __name__ == "__main__":
    main()
