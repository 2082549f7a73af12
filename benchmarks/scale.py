"""Scale: a film's dailies have thousands of clips. Measures, for 100 → 10,000 clips:
`rproxy plan --json` and `doit list --all` (target ≤ 1 s at 2,000), a no-op re-run (target
≤ 2 s at 2,000), the memory of a 10,000-clip plan (target ≤ 200 MB), doit's own commands on
the long chain, and a cProfile of the 2,000-clip no-op re-run.

    .venv/bin/python benchmarks/scale.py [--sizes 100,1000,2000,10000] [--profile]

Sources are one tiny real clip under N names (hard links). The 100-clip job is encoded for
real; for the bigger ones the first clip is encoded for real and its record and proxy are
replicated to every clip (what a real run would leave), then a real `rproxy run` / `doit`
brings doit's own state up to date, and only then is the no-op re-run timed."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import BIN, best_of, machine, make_source, run, verdict

TARGETS = {"plan": 1.0, "list": 1.0, "noop": 2.0}
MEMORY_TARGET_MB = 200.0


def make_project(root: Path, tiny: Path, count: int) -> Path:
    media = root / "media"
    media.mkdir(parents=True)
    for i in range(count):
        os.link(tiny, media / f"A{i:05d}_C001.mov")
    (root / "proxies").mkdir()
    (root / "jobs").mkdir()
    spec = root / "jobs" / "dailies.json"
    spec.write_text(json.dumps({
        "schema_version": 1,
        "sources": [f"../media/A{i:05d}_C001.mov" for i in range(count)],
        "output_dir": "../proxies", "codec": "prores_proxy", "container": "mov",
        "resolution": "64x36", "fps_mode": "passthrough"}))
    (root / "dodo.py").write_text("from rproxy.dodo import *  # noqa: F403\n")
    return spec


def replicate_first_record(spec_path: Path) -> None:
    """Every clip gets what a real run leaves: a proxy (a hard link of clip 0's, so the same
    size, mtime and content) and the output folder's entry for it, naming its own source."""
    from rproxy._plan import build_plan
    from rproxy._spec import JobSpec
    from rproxy._truth import SourceState

    plan = build_plan(JobSpec.from_file(spec_path))
    first = plan.clips[0]
    entry = plan.folder.read(first.name)
    assert entry is not None, "clip 0 was not made"
    for clip in plan.clips[1:]:
        if not clip.output.exists():
            os.link(first.output, clip.output)
        source = SourceState.of(clip.source_path, os.stat(clip.source_path), plan.output_dir)
        plan.folder.write(entry.model_copy(update={"name": clip.name, "source": source}))


def memory_of_plan(spec: Path) -> tuple[float, float]:
    """(tracemalloc peak MB of load + validate + plan, max RSS MB of that process)."""
    code = f"""
import resource, tracemalloc
tracemalloc.start()
from rproxy._spec import JobSpec
from rproxy._validate import validate
from rproxy._plan import build_plan
spec = JobSpec.from_file({str(spec)!r}); validate(spec); plan = build_plan(spec)
peak = tracemalloc.get_traced_memory()[1]
print(peak / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1])


def measure(root: Path, tiny: Path, count: int) -> dict[str, float]:
    spec = make_project(root, tiny, count)
    rproxy, doit = str(BIN / "rproxy"), str(BIN / "doit")
    figures: dict[str, float] = {}
    figures["plan"] = best_of(3, lambda: run([rproxy, "plan", "--json", str(spec)]))
    figures["list"] = best_of(3, lambda: run([doit, "list", "--all"], cwd=root))
    if count <= 100:
        run([rproxy, "run", "-q", str(spec)])  # every clip encoded for real
    else:
        run([doit, "-s", "proxy:dailies:A00000_C001.mov"], cwd=root)
        replicate_first_record(spec)
        run([rproxy, "run", "-q", str(spec)])  # real run: brings doit's state up to date
    figures["noop"] = best_of(3, lambda: run([rproxy, "run", "-q", str(spec)]))
    run([doit], cwd=root)  # plain doit keeps its own state (.doit.db): fill it once
    figures["noop_doit"] = best_of(3, lambda: run([doit], cwd=root))
    last = f"proxy:dailies:A{count - 1:05d}_C001.mov"
    figures["select_last"] = run([doit, last], cwd=root)
    figures["clean_n"] = run([doit, "clean", "-n"], cwd=root)
    figures["info_last"] = run_any([doit, "info", last], cwd=root)
    figures["mem_traced"], figures["mem_rss"] = memory_of_plan(spec)
    return figures


def run_any(argv: list[str], cwd: Path) -> float:
    """Wall time of a command that may exit 1 (doit info: not up to date)."""
    import time

    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def profile_noop(spec: Path) -> None:
    """cProfile of an in-process no-op re-run: where the time goes."""
    code = f"""
import cProfile, pstats
from rproxy._engine import execute_multi_job_spec
from rproxy._spec import JobSpec
spec = JobSpec.from_file({str(spec)!r})
cProfile.run("execute_multi_job_spec(spec)", "/dev/shm/rproxy-noop.prof")
pstats.Stats("/dev/shm/rproxy-noop.prof").sort_stats("tottime").print_stats(15)
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100,1000,2000,10000")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of the 2,000-clip no-op re-run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="rproxy-scale-") as tmp:
        base = Path(tmp)
        tiny = make_source(base / "tiny.mov", size="64x36", seconds=0.1, audio_tracks=1)
        results = {}
        for count in sizes:
            results[count] = measure(base / f"n{count}", tiny, count)
            print(f"  measured {count} clips", flush=True)
        print("\nseconds (median of 3 where repeated); memory in MB")
        cols = [("plan", "rproxy plan --json"), ("list", "doit list --all"),
                ("noop", "no-op rproxy run"), ("noop_doit", "no-op doit"),
                ("select_last", "doit LASTCLIP (no-op)"), ("clean_n", "doit clean -n"),
                ("info_last", "doit info LASTCLIP"), ("mem_traced", "plan memory (traced)"),
                ("mem_rss", "plan process max RSS")]
        print(f"  {'clips':>22}" + "".join(f"{c:>9}" for c in sizes))
        for key, label in cols:
            print(f"  {label:>22}" + "".join(f"{results[c][key]:9.2f}" for c in sizes))
        print("\ntargets")
        if 2000 in results:
            two = results[2000]
            for key, label in [("plan", "rproxy plan --json, 2,000 clips"),
                               ("list", "doit list --all, 2,000 clips"),
                               ("noop", "no-op re-run (rproxy run), 2,000 clips"),
                               ("noop_doit", "no-op re-run (doit), 2,000 clips")]:
                target = TARGETS["noop" if key == "noop_doit" else key]
                print(f"  {label:42} {two[key]:6.2f} s   target <= {target} s  "
                      f"{verdict(two[key], target)}")
        if 10000 in results:
            mem = max(results[10000]["mem_traced"], results[10000]["mem_rss"])
            print(f"  {'memory of a 10,000-clip plan (max RSS)':42} {mem:6.1f} MB  "
                  f"target <= {MEMORY_TARGET_MB:.0f} MB  {verdict(mem, MEMORY_TARGET_MB)}")
        if args.profile and 2000 in results:
            print("\ncProfile of a 2,000-clip no-op re-run (in-process, top 15 by own time)")
            profile_noop(base / "n2000" / "jobs" / "dailies.json")
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
