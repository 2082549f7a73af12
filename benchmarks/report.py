"""`rproxy report` on a big job: seconds per clip to make the report (pictures taken cold, then
from the thumbnail cache), the page's size, and how long a headless Chromium takes to open it
(lazy pictures, as shipped, against every picture in `src` with native `loading="lazy"`).

    .venv/bin/python benchmarks/report.py [--clips 2000] [--source-size 1920x1080]
        [--source-codec prores|h264] [--no-browser]

Sources are one real camera-like clip (ProRes HQ or long-GOP H.264 with a keyframe every
second as a mirrorless camera writes it, 4 PCM tracks) under N names (hard links:
each name is its own cache entry, so every picture is really decoded). Clip 0 is encoded for
real; its record and proxy are replicated to every clip (as in scale.py), and a real
`execute_multi_job_spec` run writes the result. Chromium is optional (figures left out)."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, make_source
from scale import make_project, replicate_first_record

TARGET_LOAD_S = 3.0  # "a page that loads in a browser in a few seconds"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# A closed network refuses connections; without these Chromium keeps trying to make them.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Appended to a copy of the page only: when the load event came, and how many pictures the
# browser holds decoded-ready (complete with a size) at that moment.
PROBE = ("<script>addEventListener('load',function(){var d=document.documentElement;"
         "d.setAttribute('data-load-ms',Math.round(performance.now()));"
         "d.setAttribute('data-complete',[].filter.call(document.images,function(i){"
         "return i.complete&&i.naturalWidth>0}).length)})</script>")


CODECS = {
    "prores": ("prores_ks", "-profile:v", "3", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"),
    "h264": ("libx264", "-preset", "veryfast", "-g", "25", "-pix_fmt", "yuv420p"),
}


def build_job(root: Path, count: int, size: str, codec: str) -> Path:
    """A `count`-clip job that ran: returns its result.json."""
    from rproxy import JobSpec, build_plan, execute_multi_job_spec
    from rproxy._clip import run_clip
    from rproxy._ffmpeg import ffmpeg_binary

    tiny = make_source(root / "source.mov", size=size, seconds=2.0, rate="25",
                       vcodec=CODECS[codec])
    spec_path = make_project(root, tiny, count)
    spec = JobSpec.from_file(spec_path)
    plan = build_plan(spec)
    run_clip(plan, plan.clips[0], ffmpeg_binary())
    replicate_first_record(spec_path)
    result = execute_multi_job_spec(JobSpec.from_file(spec_path))
    assert result.status.value == "COMPLETED", result.status
    return plan.result_path


def make_report(result_path: Path, thumbs: Path | None) -> tuple[float, Path]:
    from rproxy._report import default_report_path, write_report
    from rproxy._report_page import ReportContext
    from rproxy._show import load_result

    start = time.perf_counter()
    result = load_result(result_path)
    path = write_report(result, default_report_path(result_path),
                        context=ReportContext(result_path=result_path), cache_dir=thumbs)
    return time.perf_counter() - start, path


def browser() -> str | None:
    return next((b for b in map(shutil.which, BROWSERS) if b), None)


def open_page(binary: str, page: Path, fragment: str = "") -> tuple[float, int, int]:
    """(wall seconds of a headless screenshot of the page: parse, layout, first screen
    painted; the page's load event in ms; the pictures complete at load). A fresh profile
    each time: nothing cached from the last run. The DOM is read in a second run
    (`--dump-dom` writes out all 20 MB of it, which would be timed otherwise)."""
    with tempfile.TemporaryDirectory() as profile:
        shot = Path(profile) / "shot.png"
        start = time.perf_counter()
        subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}/p",
                        "--window-size=1280,1000", f"--screenshot={shot}",
                        page.as_uri() + fragment], capture_output=True, timeout=300,
                       check=True)
        took = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                              page.as_uri() + fragment], capture_output=True, text=True,
                             timeout=300, check=True).stdout[:2000]

    def attr(name: str) -> int:
        at = dom.find(f'{name}="')
        return int(dom[at + len(name) + 2:dom.index('"', at + len(name) + 2)]) if at >= 0 else -1

    return took, attr("data-load-ms"), attr("data-complete")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--source-size", default="1920x1080")
    parser.add_argument("--source-codec", choices=sorted(CODECS), default="prores")
    parser.add_argument("--no-browser", action="store_true", help="skip the page-open figures")
    parser.add_argument("--keep", action="store_true", help="keep the project (prints where)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    root = Path(tempfile.mkdtemp(prefix="rproxy-report-bench-"))
    try:
        print(f"building a {args.clips}-clip job ({args.source_size} {args.source_codec} "
              "sources, 2 s at 25 fps) ...")
        result_path = build_job(root, args.clips, args.source_size, args.source_codec)
        thumbs = result_path.parent.parent / "thumbs"
        cold, page = make_report(result_path, thumbs)
        warm = statistics.median(make_report(result_path, thumbs)[0] for _ in range(3))
        n = args.clips
        size = page.stat().st_size
        print(f"report, cold (decode every picture):  {cold:6.2f} s  "
              f"{cold / n * 1000:6.2f} ms per clip")
        print(f"report, warm (thumbnail cache):       {warm:6.2f} s  "
              f"{warm / n * 1000:6.2f} ms per clip (median of 3)")
        print(f"page: {size / 1e6:.1f} MB ({size / n / 1000:.1f} KB per clip), "
              f"{len(list(thumbs.iterdir()))} cached pictures, "
              f"{sum(f.stat().st_size for f in thumbs.iterdir()) / 1e6:.1f} MB")
        binary = None if args.no_browser else browser()
        if binary is None:
            print("browser: none (or --no-browser); page load not measured")
            return
        text = page.read_text(encoding="utf-8")
        shipped = page.with_name("bench-lazy.html")
        shipped.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        native = page.with_name("bench-native.html")
        native.write_text(text.replace(' data-src="', ' loading="lazy" src="')
                          .replace("</body>", PROBE + "</body>"), encoding="utf-8")
        empty = page.with_name("bench-empty.html")
        empty.write_text("<!DOCTYPE html><title>x</title>" + PROBE, encoding="utf-8")
        start_up = statistics.median(open_page(binary, empty)[0] for _ in range(3))
        # (the start-up of a headless browser is not part of opening a page in one)
        print(f"browser: {binary}; an empty page takes {start_up:.2f} s (start-up, "
              "subtracted below)")
        for label, file, fragment in (("lazy (shipped)", shipped, ""),
                                      ("native loading=lazy", native, ""),
                                      ("lazy, #all-thumbs", shipped, "#all-thumbs")):
            runs = [open_page(binary, file, fragment) for _ in range(3)]
            wall = statistics.median(r[0] for r in runs) - start_up
            load = statistics.median(r[1] for r in runs)
            complete = runs[0][2]
            verdict = "met" if wall <= TARGET_LOAD_S else "NOT met"
            print(f"  {label:22s} shown in {wall:5.2f} s (target <= {TARGET_LOAD_S:g} s: "
                  f"{verdict}); load event at {load / 1000:5.2f} s with {complete} pictures "
                  "loaded")
    finally:
        if args.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
