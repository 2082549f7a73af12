"""What a person sees while a job runs: one line per clip, a live percentage on a terminal,
plain lines with no control characters on a pipe or in a log."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ._clip import ProgressFn
    from ._plan import Plan
    from ._records import ClipExecutionResult, JobExecutionResult

QUIET, NORMAL, VERBOSE = 0, 1, 2


@dataclass
class Display:
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    level: int = NORMAL
    live: bool | None = None  # None: live progress only when `stream` is a terminal
    _last_draw: float = 0.0
    _drawn: bool = False

    @property
    def is_live(self) -> bool:
        if self.live is not None:
            return self.live
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _line(self, text: str, level: int = NORMAL) -> None:
        if self.level < level:
            return
        self._clear()
        self.stream.write(text + "\n")
        self.stream.flush()

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    @staticmethod
    def _counter(plan: Plan, index: int) -> str:
        return f"[{index + 1}/{len(plan.clips)}]"

    def clip_started(self, plan: Plan, index: int) -> None:
        clip = plan.clips[index]
        if not self.is_live:
            self._line(f"{self._counter(plan, index)} start {clip.source.name} -> "
                       f"{clip.output.name}", VERBOSE)

    def progress_fn(self, plan: Plan, index: int) -> ProgressFn | None:
        if not self.is_live or self.level < NORMAL:
            return None
        name = plan.clips[index].source.name
        counter = self._counter(plan, index)

        def draw(done: float, total: float | None) -> None:
            now = time.monotonic()
            if now - self._last_draw < 0.2:
                return
            self._last_draw = now
            pct = f"{min(100.0, 100 * done / total):5.1f}%" if total else f"{done:7.1f}s"
            self.stream.write(f"\r\x1b[K{counter} {name} {pct}")
            self.stream.flush()
            self._drawn = True

        return draw

    def clip_finished(self, plan: Plan, record: ClipExecutionResult) -> None:
        counter = self._counter(plan, record.index)
        name = f"{plan.clips[record.index].source.name} -> {plan.clips[record.index].output.name}"
        if record.failure_reason:
            self._line(f"{counter} FAILED {name}: {record.failure_reason}", QUIET)
        elif record.up_to_date:
            self._line(f"{counter} up to date {name}")
        else:
            self._line(f"{counter} COMPLETED {name} ({record.duration_s or 0:.1f} s)")

    def clip_failed_early(self, plan: Plan, index: int, message: str) -> None:
        clip = plan.clips[index]
        self._line(f"{self._counter(plan, index)} FAILED {clip.source.name}: {message}", QUIET)

    def job_finished(self, plan: Plan, result: JobExecutionResult) -> None:
        took = f" in {result.duration_s:.1f} s" if result.duration_s is not None else ""
        self._line(
            f"job {result.job_id} {result.status.value}: {result.completed_count} completed, "
            f"{result.failed_count} failed, {result.skipped_count} skipped{took}; "
            f"result: {plan.result_path}", QUIET)
