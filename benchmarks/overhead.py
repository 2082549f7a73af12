"""Overhead: `rproxy run` on 8 realistic clips versus its own planned ffmpeg commands in a plain
sequential loop (target <= 1.05x), and where rproxy's extra time goes.

    .venv/bin/python benchmarks/overhead.py [--reps N]

Sources: 1 s 1280x720 ProRes HQ, 4 mono PCM tracks, timecode → ProRes Proxy 640x360 mov.
Both sides run as a user would (separate processes), interleaved, in one run."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BIN, FFMPEG, machine, make_source, run, verdict

TARGET = 1.05
CLIPS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each side")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rproxy-bench-") as tmp:
        root = Path(tmp)
        media, out, bare = root / "media", root / "proxies", root / "bare"
        for folder in (media, out, bare):
            folder.mkdir()
        sources = [make_source(media / f"A{i:03d}_C001.mov") for i in range(CLIPS)]
        spec = root / "job.json"
        spec.write_text(json.dumps({
            "schema_version": 1, "sources": [str(s) for s in sources], "output_dir": str(out),
            "codec": "prores_proxy", "container": "mov", "resolution": "640x360",
            "fps_mode": "passthrough"}))
        plan = json.loads(subprocess.run([str(BIN / "rproxy"), "plan", "--json", str(spec)],
                                         capture_output=True, check=True).stdout)
        commands = []
        for i, clip in enumerate(plan["clips"]):
            argv = list(clip["argv"])
            argv[0] = FFMPEG
            argv[-1] = f"file:{bare / f'{i:03d}.mov'}"
            commands.append(argv)

        def rproxy_run() -> float:
            shutil.rmtree(out)
            out.mkdir()
            return run([str(BIN / "rproxy"), "run", "-q", str(spec)])

        def bare_loop() -> float:
            shutil.rmtree(bare)
            bare.mkdir()
            start = time.perf_counter()
            for argv in commands:
                subprocess.run(argv, check=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return time.perf_counter() - start

        rproxy_runs: list[float] = []
        bare_runs: list[float] = []
        rproxy_cpu: list[float] = []
        bare_cpu: list[float] = []
        bare_loop()  # warm the page cache for both sides
        for rep in range(args.reps):
            pair = [(rproxy_runs, rproxy_cpu, rproxy_run), (bare_runs, bare_cpu, bare_loop)]
            for results, cpu, fn in pair if rep % 2 == 0 else reversed(pair):
                before = children_cpu()
                results.append(fn())
                cpu.append(children_cpu() - before)
        t_rproxy, t_bare = statistics.median(rproxy_runs), statistics.median(bare_runs)
        ratios = [r / b for r, b in zip(rproxy_runs, bare_runs, strict=True)]
        ratio = t_rproxy / t_bare
        print(f"\n{CLIPS} clips, {args.reps} interleaved repetitions (median)")
        print(f"  plain ffmpeg loop     {t_bare:7.3f} s")
        print(f"  rproxy run            {t_rproxy:7.3f} s")
        print(f"  overhead ratio        {ratio:7.3f}x   target <= {TARGET}x  "
              f"{verdict(ratio, TARGET)}   (per repetition: "
              f"{', '.join(f'{r:.3f}' for r in ratios)})")
        cpu_ratio = statistics.median(rproxy_cpu) / statistics.median(bare_cpu)
        print(f"  CPU time (user+sys)   {statistics.median(bare_cpu):7.3f} s plain, "
              f"{statistics.median(rproxy_cpu):.3f} s rproxy: {cpu_ratio:.3f}x "
              "(steadier than wall time on a busy machine)")
        breakdown(sources, out, t_rproxy - t_bare)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def breakdown(sources: list[Path], out: Path, extra: float) -> None:
    """Where rproxy's extra time goes, measured piece by piece in fresh processes."""
    proxies = sorted(out.glob("*.mov"))
    code = f"""
import time
t0 = time.perf_counter()
import rproxy._cli
t1 = time.perf_counter()
from pathlib import Path
from rproxy._probe import probe
from rproxy._verify import verify_output
from rproxy._argv import ProxyFormat
from rproxy._formats import Codec, Container
t2 = time.perf_counter()
infos = [probe(Path(p)) for p in {[str(s) for s in sources]!r}]
t3 = time.perf_counter()
fmt = ProxyFormat(Codec.PRORES_PROXY, Container.MOV, 640, 360, None)
for info, p in zip(infos, {[str(p) for p in proxies]!r}):
    verify_output(Path(p), fmt, info)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    total = time.perf_counter() - start
    imp, pyav, probes, verifies = (float(x) for x in done.stdout.split())
    startup = total - imp - pyav - probes - verifies
    print(f"\nwhere rproxy's extra {extra:.3f} s goes (measured separately)")
    print(f"  python start + import rproxy   {startup + imp:6.3f} s")
    print(f"  import PyAV (first clip only)  {pyav:6.3f} s")
    print(f"  probe {len(sources)} sources             {probes:6.3f} s")
    print(f"  verify {len(proxies)} proxies            {verifies:6.3f} s")
    rest = extra - (startup + imp + pyav + probes + verifies)
    print(f"  rest (doit, records, ffmpeg -version, locks) {rest:6.3f} s")


if __name__ == "__main__":
    main()
