"""The `rproxy` command: parse, call the library, map RproxyError to an exit code.

Exit codes: 0 COMPLETED, 1 PARTIAL/FAILED, 2 invalid spec, 3 could not start,
130/143/129 interrupted (SIGINT/SIGTERM/SIGHUP)."""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pydantic_core

from ._engine import exit_code_for, run_plan
from ._errors import JobSpecValidationError, RproxyError
from ._init import DEFAULTS, init_spec
from ._plan import build_plan
from ._progress import NORMAL, QUIET, VERBOSE, Display, short_path
from ._records import JobExecutionResult
from ._report import report
from ._show import find_result, load_result, render
from ._signals import signal_of
from ._spec import JobSpec
from ._tasks import Session, fewer_gc_pauses
from ._validate import validate

EPILOG = """exit codes: 0 all clips COMPLETED, 1 PARTIAL or FAILED, 2 invalid spec,
3 could not start (FFmpeg missing, job already running), 130/143/129 interrupted
(Ctrl-C / SIGTERM / terminal closed).
FFmpeg: the imageio-ffmpeg wheel's binary, or RPROXY_FFMPEG=/path/to/ffmpeg."""


def _load(path: str) -> JobSpec:
    spec = JobSpec.from_file(path)
    validate(spec, path)
    return spec


def cmd_validate(args: argparse.Namespace) -> int:
    spec = _load(args.spec)
    print(f"{args.spec}: valid, job {spec.id}, {len(spec.sources)} clip(s)")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    plan = build_plan(_load(args.spec))
    if args.json:
        data = plan.to_json()
        try:  # pydantic-core: the same bytes as json.dump(indent=2), ~3x faster at 2,000 clips
            text = pydantic_core.to_json(data, indent=2).decode("utf-8")
        except pydantic_core.PydanticSerializationError:  # a name that is not valid UTF-8
            text = json.dumps(data, indent=2, ensure_ascii=False)
        sys.stdout.write(text + "\n")
        return 0
    print(f"job {plan.job_id}: {len(plan.clips)} clip(s) -> {plan.spec.output_path}")
    for clip in plan.clips:
        print(f"  proxy:{clip.task_name}  {clip.source} -> {clip.output}")
        if args.verbose:
            print(f"      {shlex.join(clip.argv)}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    spec = _load(args.spec)
    level = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    display = Display(stream=sys.stdout, level=level)
    plan = build_plan(spec)
    display.job_started(plan)
    result = run_plan(plan, Session(display=display))
    return exit_code_for(result)


def cmd_show(args: argparse.Namespace) -> int:
    path = find_result(args.target)
    sys.stdout.write(render(load_result(path), path))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    on_progress = _counter("pictures") if sys.stderr.isatty() else None
    path = report(args.target, Path(args.output) if args.output else None,
                  on_progress=on_progress)
    if on_progress is not None:
        sys.stderr.write("\r\033[K")
    print(f"report: {short_path(path)}")
    return 0


def _counter(what: str) -> Callable[[int, int], None]:
    """A count redrawn in place on the terminal (a cold 2,000-clip report takes ~30 s)."""
    def show(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            sys.stderr.write(f"\r{what} {done}/{total}")
            sys.stderr.flush()
    return show


def cmd_init(args: argparse.Namespace) -> int:
    written = init_spec(args.folder, args.spec, args.output_dir, args.recursive,
                        codec=args.codec, container=args.container,
                        resolution=args.resolution)
    made = " (created)" if written.created_output_dir else ""
    print(f"wrote {written.spec_path}: {written.clip_count} clip(s), proxies into "
          f"{short_path(written.output_dir)}{made}")
    if written.in_subfolders:
        print(f"note: {written.in_subfolders} more video file(s) are in subfolders and were "
              "left out; add --recursive to take them (as on a camera card)")
    print(f"next: edit it if needed, then `rproxy run {written.spec_path}` (or `doit`)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    model = JobExecutionResult if args.result else JobSpec
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    json.dump(schema, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rproxy",
        description="Make verified editing proxies from camera originals with FFmpeg.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a JobSpec; one line per problem, exit 2 if any")
    p.add_argument("spec", help="JobSpec JSON file")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("plan", help="show the ordered clips: source, output, ffmpeg command")
    p.add_argument("spec", help="JobSpec JSON file")
    p.add_argument("--json", action="store_true", help="machine-readable plan on stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="also show each command")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("run", help="make the proxies (re-running does only what changed)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", help="JobSpec JSON file")
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true",
                       help="print only failures and the summary")
    noise.add_argument("-v", "--verbose", action="store_true",
                       help="also print when each clip starts")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("show", help="print a job's result as a table: status per clip, why "
                                    "a clip failed, the command to reproduce it")
    p.add_argument("target", metavar="RESULT_OR_SPEC",
                   help="a result.json, or a JobSpec file (its last result is shown)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("report", help="write a job's QC report: one HTML page, a frame of "
                                      "each source and its proxy, every check, each failure")
    p.add_argument("target", metavar="SPEC_OR_RESULT",
                   help="a JobSpec file (its last result) or a result.json")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write the page (a folder: <job>-report.html in it; "
                        "default: <output_dir>/.rproxy/<job>/report.html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("init", help="write a starter JobSpec for a folder of clips")
    p.add_argument("folder", help="folder holding the source clips")
    p.add_argument("--spec", metavar="PATH",
                   help="where to write the spec (default: jobs/<folder name>.json); an "
                        "existing file is never overwritten")
    p.add_argument("--output-dir", metavar="DIR",
                   help="folder for the proxies (default: proxies/<folder name>; created)")
    p.add_argument("-r", "--recursive", action="store_true",
                   help="also take clips from subfolders (camera cards)")
    p.add_argument("--codec", help=f"proxy codec (default: {DEFAULTS['codec']})")
    p.add_argument("--container", help=f"container (default: {DEFAULTS['container']})")
    p.add_argument("--resolution", metavar="WxH",
                   help=f"proxy frame size (default: {DEFAULTS['resolution']})")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("schema", help="print the JobSpec JSON Schema (for editors)")
    p.add_argument("--result", action="store_true",
                   help="the schema of result.json (and its clip records) instead")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with fewer_gc_pauses():
            code: int = args.func(args)
        return code
    except JobSpecValidationError as exc:
        for line in exc.report_lines(getattr(args, "spec", "spec")):
            print(line, file=sys.stderr)
        return exc.exit_code
    except RproxyError as exc:
        print(f"rproxy: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        signum = signal_of(exc)
        print(f"rproxy: interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
