"""No hashing of camera files: a no-op re-run over sources totalling many GiB costs the same as
over tiny ones (up-to-date checks use size and mtime, never file content).

    .venv/bin/python benchmarks/nohash.py [--clips 16] [--gib 8]

The big sources are valid MOVs with a large sparse `free` box appended (cheap on disk: the
size is apparent, the blocks are never written). Both jobs are first run for real (every clip
encoded and verified, so FFmpeg and PyAV do read the big files), then re-run, interleaved."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import tempfile
from pathlib import Path

from _common import BIN, machine, make_source, run


def append_free_box(path: Path, gib: float) -> None:
    """Append a `free` box of `gib` GiB (64-bit size form), left sparse by truncate."""
    size = int(gib * 2**30)
    with path.open("r+b") as handle:
        end = handle.seek(0, os.SEEK_END)
        handle.write(struct.pack(">I4sQ", 1, b"free", size))
        handle.truncate(end + size)


def make_job(root: Path, name: str, sources: list[Path]) -> Path:
    out = root / f"proxies-{name}"
    out.mkdir()
    spec = root / f"{name}.json"
    spec.write_text(json.dumps({
        "schema_version": 1, "sources": [str(s) for s in sources], "output_dir": str(out),
        "codec": "prores_proxy", "container": "mov", "resolution": "320x180",
        "fps_mode": "passthrough"}))
    return spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--gib", type=float, default=8.0, help="apparent size of each big source")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rproxy-nohash-") as tmp:
        root = Path(tmp)
        tiny_dir, big_dir = root / "tiny", root / "big"
        tiny_dir.mkdir()
        big_dir.mkdir()
        first = make_source(tiny_dir / "A000.mov", size="640x360", seconds=0.5, audio_tracks=2)
        tiny, big = [], []
        for i in range(args.clips):
            t = tiny_dir / f"A{i:03d}.mov"
            if i:
                shutil.copy(first, t)
            b = big_dir / f"A{i:03d}.mov"
            shutil.copy(first, b)
            append_free_box(b, args.gib)
            tiny.append(t)
            big.append(b)
        apparent = sum(p.stat().st_size for p in big) / 2**30
        on_disk = sum(p.stat().st_blocks * 512 for p in big) / 2**20
        print(f"\n{args.clips} big sources: {apparent:.0f} GiB apparent, {on_disk:.1f} MiB on "
              f"disk; {args.clips} tiny sources: "
              f"{sum(p.stat().st_size for p in tiny) / 2**20:.1f} MiB")
        rproxy = str(BIN / "rproxy")
        specs = {"tiny": make_job(root, "tiny", tiny), "big": make_job(root, "big", big)}
        first_run = {name: run([rproxy, "run", "-q", str(spec)]) for name, spec in specs.items()}
        times: dict[str, list[float]] = {"tiny": [], "big": []}
        for rep in range(args.reps):
            order = ["tiny", "big"] if rep % 2 == 0 else ["big", "tiny"]
            for name in order:
                times[name].append(run([rproxy, "run", "-q", str(specs[name])]))
        t_tiny, t_big = statistics.median(times["tiny"]), statistics.median(times["big"])
        print(f"  first run (encode + verify)  tiny {first_run['tiny']:.2f} s, "
              f"big {first_run['big']:.2f} s (FFmpeg and PyAV read the big MOVs)")
        print(f"  no-op re-run (median of {args.reps})  tiny {t_tiny:.3f} s, big {t_big:.3f} s")
        ratio = t_big / t_tiny
        print(f"  ratio big/tiny               {ratio:.3f}x   target ~1.0x (no hashing)  "
              f"{'met' if ratio <= 1.15 else 'NOT met'}")


if __name__ == "__main__":
    main()
