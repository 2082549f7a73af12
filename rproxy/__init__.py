"""rproxy: editing proxies from camera originals with FFmpeg, as a verified, fail-fast,
Make-style doit build graph."""

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
