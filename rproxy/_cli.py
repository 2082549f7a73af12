"""The `rproxy` command: parse, call the library, map RproxyError to an exit code.

Exit codes: 0 COMPLETED, 1 PARTIAL/FAILED, 2 invalid spec, 3 could not start,
130/143 interrupted (SIGINT/SIGTERM)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence

from ._engine import exit_code_for, run_plan
from ._errors import JobSpecValidationError, RproxyError
from ._plan import build_plan
from ._progress import NORMAL, QUIET, VERBOSE, Display
from ._spec import JobSpec
from ._tasks import Session
from ._validate import validate

EPILOG = """exit codes: 0 all clips COMPLETED, 1 PARTIAL or FAILED, 2 invalid spec,
3 could not start (FFmpeg missing, job already running), 130/143 interrupted.
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
        json.dump(plan.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
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
    session = Session(display=Display(stream=sys.stdout, level=level))
    result = run_plan(build_plan(spec), session)
    return exit_code_for(result)


def cmd_schema(args: argparse.Namespace) -> int:
    schema = JobSpec.model_json_schema()
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

    p = sub.add_parser("schema", help="print the JobSpec JSON Schema (for editors)")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except JobSpecValidationError as exc:
        where = exc.source or getattr(args, "spec", "spec")
        for problem in exc.problems:
            print(f"{where}: {problem}", file=sys.stderr)
        return exc.exit_code
    except RproxyError as exc:
        print(f"rproxy: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("rproxy: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
