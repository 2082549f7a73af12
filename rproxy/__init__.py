"""rproxy: editing proxies from camera originals with FFmpeg, as a verified, fail-fast,
Make-style doit build graph.

The names below load on first use (PEP 562): `rproxy` on the command line starts in a few
milliseconds and can take Ctrl-C cleanly from its first instant, before pydantic, doit and
PyAV are imported."""

import importlib  # already loaded by the interpreter itself

# Not typing's: importing typing takes milliseconds before rproxy's command has its signal
# handlers (a Ctrl-C in them was a KeyboardInterrupt traceback). Type checkers read any
# TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._engine import execute_multi_job_spec
    from ._errors import (
        ClipError,
        CouldNotStartError,
        FFmpegError,
        FFmpegNotFoundError,
        JobLockedError,
        JobSpecValidationError,
        OutputConflictError,
        PreflightError,
        ProbeError,
        RproxyError,
        VerificationError,
    )
    from ._plan import Plan, PlannedClip, build_plan
    from ._records import ClipExecutionResult, ClipStatus, JobExecutionResult, JobStatus
    from ._spec import JobSpec
    from ._validate import validate

__version__ = "0.1.0"

_WHERE = {
    "execute_multi_job_spec": "_engine",
    **dict.fromkeys(("ClipError", "CouldNotStartError", "FFmpegError", "FFmpegNotFoundError",
                     "JobLockedError", "JobSpecValidationError", "OutputConflictError",
                     "PreflightError", "ProbeError", "RproxyError", "VerificationError"),
                    "_errors"),
    **dict.fromkeys(("Plan", "PlannedClip", "build_plan"), "_plan"),
    **dict.fromkeys(("ClipExecutionResult", "ClipStatus", "JobExecutionResult", "JobStatus"),
                    "_records"),
    "JobSpec": "_spec",
    "validate": "_validate",
}

__all__ = [
    "ClipError",
    "ClipExecutionResult",
    "ClipStatus",
    "CouldNotStartError",
    "FFmpegError",
    "FFmpegNotFoundError",
    "JobExecutionResult",
    "JobLockedError",
    "JobSpec",
    "JobSpecValidationError",
    "JobStatus",
    "OutputConflictError",
    "Plan",
    "PlannedClip",
    "PreflightError",
    "ProbeError",
    "RproxyError",
    "VerificationError",
    "build_plan",
    "execute_multi_job_spec",
    "validate",
]
assert sorted(_WHERE) == __all__  # one list of the public names


def __getattr__(name: str) -> "Any":
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'rproxy' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
