"""The `rproxy` command: parse, call the library, map RproxyError to an exit code.

Exit codes: 0 COMPLETED, 1 PARTIAL/FAILED, 2 invalid spec, 3 could not start,
130/143/129 interrupted (SIGINT/SIGTERM/SIGHUP)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pydantic_core

from . import _signals as interrupts
from ._clip import clip_command, current_entry
from ._engine import exit_code_for, run_plan
from ._errors import JobSpecValidationError, PreflightError, RproxyError
from ._init import DEFAULTS, init_spec, summary_lines
from ._plan import Plan, build_plan
from ._preflight import check_job, preflight
from ._progress import NORMAL, QUIET, VERBOSE, Display, escape_unencodable_output
from ._records import JobExecutionResult
from ._report import report
from ._run import Run
from ._show import find_result, load_result, render
from ._signals import signal_name, signal_of
from ._spec import JobSpec
from ._tasks import fewer_gc_pauses
from ._text import plural, printable, short_path
from ._validate import load_spec

EPILOG = """exit codes: 0 all clips COMPLETED, 1 PARTIAL or FAILED, 2 invalid spec or a problem
the pre-flight found in the sources, 3 could not start (FFmpeg missing, job already running),
130/143/129 interrupted (Ctrl-C / SIGTERM / terminal closed).
FFmpeg: the imageio-ffmpeg wheel's binary, or RPROXY_FFMPEG=/path/to/ffmpeg."""


def _load(path: str) -> JobSpec:
    """The spec at `path`, or one error with every problem of it and of its sources (those
    that exist are probed when others are missing, so that all are said at once)."""
    try:
        spec = JobSpec.from_file(path)
    except JobSpecValidationError:
        load_spec(path)  # a parse leaves the sources and the folder out: say everything
        raise
    check_job(spec, path)
    return spec


def _to_encode(plan: Plan) -> list[int]:
    return [clip.index for clip in plan.clips if current_entry(plan, clip) is None]


def cmd_validate(args: argparse.Namespace) -> int:
    if args.no_probe:
        spec = load_spec(args.spec)
        count = plural(len(spec.sources), "clip")
        print(printable(f"{args.spec}: valid, job {spec.id}, {count} (sources not probed)"))
        return 0
    spec = _load(args.spec)
    plan = build_plan(spec)
    count = plural(len(plan.clips), "clip")
    todo = _to_encode(plan)
    display = Display(stream=sys.stderr, level=NORMAL)
    checked = preflight(plan, [plan.clips[i] for i in todo],
                        progress=lambda done, total, clip: display.probing(plan, done, total,
                                                                           clip))
    display.preflight_done(plan, [], checked.warnings)
    if checked.problems:
        raise PreflightError(checked.problems, args.spec)
    current = len(plan.clips) - len(todo)
    print(printable(f"{args.spec}: valid, job {spec.id}, {count}; pre-flight: "
                f"{plural(checked.probed, 'source')} probed, no problems"
                + (f" ({current} up to date, not probed)" if current else "")))
    return 0


def planned_commands(plan: Plan, ffmpeg: str) -> list[dict[str, Any]]:
    """Each clip with the exact command that will run for it (the sources probed as the run
    probes them), or why there is none (up to date, or the source cannot be probed)."""
    from ._bounded import bounded, stall_limit
    from ._probe import probe
    from ._rules import assess

    clips: list[dict[str, Any]] = []
    limit = stall_limit(plan.spec.clip_timeout_s)
    for clip in plan.clips:
        item: dict[str, Any] = {"index": clip.index, "task": clip.task_name,
                                "source": clip.source_path, "output": clip.output_path,
                                "up_to_date": False, "argv": None, "command_line": None,
                                "problems": []}
        clips.append(item)
        if current_entry(plan, clip) is not None:
            item["up_to_date"] = True
            continue
        try:
            info = bounded(probe, (clip.source,), limit,
                           f"probing the source {clip.source_path}")
        except RproxyError as exc:
            item["problems"] = [getattr(exc, "reason", str(exc))]
            continue
        item["problems"] = assess(plan.fmt, info).problems
        if not item["problems"]:
            argv = clip_command(plan, clip, ffmpeg, info)
            item["argv"], item["command_line"] = argv, shlex.join(argv)
    return clips


def cmd_plan(args: argparse.Namespace) -> int:
    plan = build_plan(_load(args.spec))
    run = Run(display=Display(level=QUIET))
    clips = planned_commands(plan, run.binary())
    if args.json:
        data = {**plan.to_json(), "clips": clips}
        try:  # pydantic-core: the same bytes as json.dump(indent=2), ~3x faster at 2,000 clips
            text = pydantic_core.to_json(data, indent=2).decode("utf-8")
        except pydantic_core.PydanticSerializationError:  # a name that is not valid UTF-8
            text = json.dumps(data, indent=2, ensure_ascii=True)
        sys.stdout.write(text + "\n")
        return 0
    print(printable(f"job {plan.job_id} ({plan.name}): {plural(len(plan.clips), 'clip')} -> "
                f"{plan.output_dir}"))
    for item in clips:
        state = ("  (up to date)" if item["up_to_date"] else
                 f"  (cannot run: {'; '.join(item['problems'])})" if item["problems"] else "")
        print(printable(f"  {item['task']}  {item['source']} -> {item['output']}{state}"))
        if args.verbose and item["command_line"]:
            print(printable(f"      {item['command_line']}"))
    return 0 if not any(item["problems"] for item in clips) else 2


def cmd_run(args: argparse.Namespace) -> int:
    level = QUIET if args.quiet else VERBOSE if args.verbose else NORMAL
    display = Display(stream=sys.stdout, level=level)
    spec = _load(args.spec)
    result = run_plan(build_plan(spec), Run(display=display))
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
    on_probe = _probe_count() if sys.stderr.isatty() else None
    try:
        written = init_spec(args.folder, args.spec, args.output_dir, args.recursive,
                            on_probe=on_probe, codec=args.codec, container=args.container,
                            resolution=args.resolution)
    finally:
        if on_probe is not None:
            sys.stderr.write("\r\033[K")
    for line in summary_lines(written, Path.cwd()):
        print(line)
    return 0


def _probe_count() -> Callable[[int, int], None]:
    """init's count of probed clips, redrawn in place at most 10 times a second (a clip on a
    slow card may take a second; a fast folder probes hundreds in that time)."""
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= 0.1:
            last[0] = now
            sys.stderr.write(f"\rprobing {done}/{total}")
            sys.stderr.flush()
    return show


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
    parser.add_argument("--version", action="version",
                        version=f"rproxy {metadata.version('rproxy')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check a JobSpec and probe its sources (the pre-flight "
                                        "of a run); one line per problem, exit 2 if any")
    p.add_argument("spec", help="JobSpec JSON file")
    p.add_argument("--no-probe", action="store_true",
                   help="check the spec file alone, without opening the sources")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("plan", help="show the ordered clips: source, output, and (-v) the exact "
                                    "FFmpeg command that will run for each (sources probed)")
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

    p = sub.add_parser("init", help="write starter JobSpecs for a folder of clips: the clips "
                                    "probed, one spec per display shape (landscape, "
                                    "portrait, 4:3 ...)")
    p.add_argument("folder", help="folder holding the source clips")
    p.add_argument("--spec", metavar="PATH",
                   help="where to write the spec (default: jobs/<folder name>.json; another "
                        "shape's spec goes beside it, e.g. jobs/<folder name>_portrait.json); "
                        "an existing file is never overwritten")
    p.add_argument("--output-dir", metavar="DIR",
                   help="folder for the proxies (default: proxies/<folder name>; created)")
    p.add_argument("-r", "--recursive", action="store_true",
                   help="also take clips from subfolders (camera cards)")
    p.add_argument("--codec", help=f"proxy codec (default: {DEFAULTS['codec']})")
    p.add_argument("--container", help=f"container (default: {DEFAULTS['container']})")
    p.add_argument("--resolution", metavar="WxH",
                   help=f"proxy frame size near which each shape gets its own (default: "
                        f"{DEFAULTS['resolution']}: 720x1280 for portrait clips, 960x720 for "
                        "4:3)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("schema", help="print the JobSpec JSON Schema (for editors)")
    p.add_argument("--result", action="store_true",
                   help="the schema of result.json (and its clip records) instead")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    escape_unencodable_output()
    args = build_parser().parse_args(argv)
    try:
        with interrupts.handling(), fewer_gc_pauses():
            code: int = args.func(args)
    except JobSpecValidationError as exc:
        for line in exc.report_lines(getattr(args, "spec", "spec")):
            print(printable(line), file=sys.stderr)
        for warning in getattr(exc, "warnings", ()):
            print(printable(f"warning: {warning}"), file=sys.stderr)
        code = exc.exit_code
    except RproxyError as exc:
        print(printable(f"rproxy: {exc}"), file=sys.stderr)
        code = exc.exit_code
    except interrupts.INTERRUPTS as exc:
        signum = signal_of(exc)
        print(f"rproxy: interrupted by {signal_name(signum)}", file=sys.stderr)
        code = 128 + signum
    except BrokenPipeError:
        code = 1
    return code


def console() -> int:
    """The `rproxy` command itself: once the outcome is final, a signal arriving must not make
    the exit code disagree with what was printed and written."""
    # main()'s own handling() then neither resets nor gives the handlers back: a burst's
    # later signals, still arriving, cannot change the exit code of the one handled.
    with interrupts.handling(final=True):
        code = main()
    return code


if __name__ == "__main__":
    sys.exit(console())
