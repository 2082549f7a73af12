"""The exception tree. Every error rproxy raises on purpose is an ``RproxyError``.

::

    RproxyError                      root; ``exit_code`` is what the CLI returns for it
    ├── JobSpecValidationError       the spec is invalid (exit 2); ``problems`` lists each one
    │   └── PreflightError           its sources are (the pre-flight found problems; exit 2)
    ├── CouldNotStartError           nothing ran (exit 3)
    │   ├── FFmpegNotFoundError      the FFmpeg binary is missing or not executable
    │   └── JobLockedError           the same job is already running
    └── ClipError                    one clip failed; carries index, argv, exit code, stderr tail
        ├── ProbeError               the source is not usable media
        ├── FFmpegError              ffmpeg failed, was killed or timed out
        ├── VerificationError        the output is not what was asked for
        ├── OutputConflictError      a file rproxy does not own is at the output path
        └── StallError               reading the source or the proxy stopped answering
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._verification import Verification

from ._text import printable


class RproxyError(Exception):
    """Root of every error rproxy raises on purpose."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One validation problem: which field, and what is wrong with it. Printed, it is one
    line with every control character escaped, whatever the field or message holds."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{printable(self.field)}: {printable(self.message)}"


class JobSpecValidationError(RproxyError):
    """The JobSpec is invalid; ``problems`` lists every problem found, each with its field."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" ({printable(source)})" if source else ""
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid job spec{where}: {len(self.problems)} problem(s)\n{lines}")

    def report_lines(self, default_source: str = "spec") -> list[str]:
        """One line per problem, `SPEC: FIELD: MESSAGE`, as `rproxy validate` prints them."""
        where = printable(self.source or default_source)
        return [f"{where}: {problem}" for problem in self.problems]


class PreflightError(JobSpecValidationError):
    """The pre-flight found source-dependent problems; nothing was encoded. Each problem's
    ``field`` names the clip (``clip 3 (A003.mov)``); ``warnings`` are what the pre-flight
    would only have warned about (``clip 4 (A004.mov): interlaced source deinterlaced …``)."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None,
                 warnings: Sequence[str] = ()) -> None:
        super().__init__(problems, source)
        self.warnings = list(warnings)


class CouldNotStartError(RproxyError):
    """Nothing was run: the job could not start."""

    exit_code = 3


class FFmpegNotFoundError(CouldNotStartError):
    """The FFmpeg binary could not be found or run."""


class JobLockedError(CouldNotStartError):
    """Another rproxy process is running the same job."""


class ClipError(RproxyError):
    """One clip failed. Carries the context needed to reproduce and diagnose it."""

    def __init__(
        self,
        message: str,
        *,
        index: int | None = None,
        argv: Sequence[str] | None = None,
        exit_code: int | None = None,
        stderr_tail: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = message
        self.index = index
        self.argv = list(argv) if argv is not None else None
        self.ffmpeg_exit_code = exit_code
        self.stderr_tail = stderr_tail
        self.details = details or {}


class ProbeError(ClipError):
    """The source could not be probed as video (missing, damaged, not media, no video)."""


class FFmpegError(ClipError):
    """ffmpeg exited non-zero, was killed by a signal, or timed out."""


class VerificationError(ClipError):
    """The encoded output does not match what the spec and the source require;
    ``verification`` holds every check, so the clip's record keeps them."""

    def __init__(self, message: str, *, verification: Verification | None = None,
                 **context: Any) -> None:
        super().__init__(message, **context)
        self.verification = verification


class OutputConflictError(ClipError):
    """A file that rproxy did not make for this clip is at the output path."""


class StallError(ClipError):
    """Reading the source or the proxy did not answer in time (a dead network mount)."""
