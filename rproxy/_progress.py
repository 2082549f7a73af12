"""What a person sees while a job runs.

- On a terminal: one line per finished clip, and while a clip encodes a live line
  ``[2/5] A001C003.mov [#####.......]  48% 0:41 of 1:26, ~0:44 left`` redrawn in place (percent of
  the source's duration, from ffmpeg's ``-progress`` ``out_time``).
- On a pipe or in a log: the same per-clip lines, plain, never a control character (no ``\\r``,
  no ANSI escapes); with ``-v`` a plain progress line every ``log_every_s`` seconds instead of
  the live line.

Levels: ``SILENT`` (library default: nothing), ``QUIET`` (failures and the summary),
``NORMAL`` (plus one line per clip and live progress), ``VERBOSE`` (plus a line when each clip
starts, the command of a failed clip, and progress lines in logs)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from ._text import clock, plural, rproxy_command, short_path, size_text, took

if TYPE_CHECKING:
    from ._clip import ProgressFn
    from ._errors import Problem
    from ._plan import Plan, PlannedClip
    from ._records import ClipExecutionResult, JobExecutionResult

SILENT, QUIET, NORMAL, VERBOSE = -1, 0, 1, 2

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # everything but \t and \n
_BAR = 12


def escape_unencodable_output() -> None:
    """Make what stdout and stderr cannot encode (a clip named Café on an ASCII-only terminal,
    a name that is not UTF-8) come out escaped instead of ending the program with a
    UnicodeEncodeError: rproxy's lines and doit's own alike (doit prints task names)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")


def plain(text: str) -> str:
    """`text` with control characters (carriage returns, escapes, …) made visible as '?';
    newlines are kept. File names and ffmpeg's stderr can hold anything."""
    return _CONTROL.sub("?", text.replace("\r\n", "\n"))






@dataclass
class Display:
    stream: TextIO | None = None  # None: sys.stdout at the time of writing
    level: int = NORMAL
    live: bool | None = None  # None: live progress only when the stream is a terminal
    log_every_s: float = 30.0  # plain progress lines (VERBOSE, not live)
    redraw_every_s: float = 0.2
    labels: bool = False  # several specs in one run: each line names its spec
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _drawn: bool = False
    _last_draw: float = 0.0
    _gone: bool = False  # the reader went away (`rproxy run ... | head`): write nothing more
    # The process that made the display: doit's forked workers inherit it, and only one
    # process may redraw a terminal line.
    _owner: int = field(default_factory=os.getpid, repr=False)

    @property
    def out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    @property
    def is_live(self) -> bool:
        if os.getpid() != self._owner or threading.current_thread() is not threading.main_thread():
            return False
        if self.live is not None:
            return self.live
        isatty = getattr(self.out, "isatty", None)
        try:
            return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
        except ValueError:  # closed stream
            return False

    def _columns(self) -> int:
        try:
            columns = os.get_terminal_size(self.out.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return max(20, columns) if columns > 0 else 80  # a new pty may report 0

    # -- writing ------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        """Write and flush; a closed pipe silences the display, never stops the job. What the
        stream's encoding cannot hold (a name on an ASCII-only terminal) is escaped."""
        if self._gone:
            return
        out = self.out
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
        except LookupError:
            text = text.encode("ascii", "backslashreplace").decode("ascii")
        try:
            out.write(text)
            out.flush()
        except (OSError, ValueError):  # a closed pipe, a hung-up terminal, a closed stream
            self._gone = True
            # Point the descriptor at /dev/null so that Python's final flush at exit does not
            # complain about the pipe either (the recipe in Python's signal documentation).
            with contextlib.suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.out.fileno())
                os.close(devnull)

    def _line(self, text: str, level: int = NORMAL) -> None:
        if self.level < level:
            return
        with self._lock:
            self._clear()
            self._write(plain(text) + "\n")

    def _clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[K")
            self._drawn = False

    def _counter(self, plan: Plan, index: int) -> str:
        label = f"{plan.name} " if self.labels else ""
        return f"[{label}{index + 1}/{len(plan.clips)}]"

    @staticmethod
    def _names(plan: Plan, index: int) -> str:
        clip = plan.clips[index]
        # The output's name from its path string: no Path per clip on a 2,000-clip re-run.
        return f"{clip.source.name} -> {os.path.basename(clip.output_path)}"

    # -- events -------------------------------------------------------------------------

    def job_started(self, plan: Plan) -> None:
        count = len(plan.clips)
        spec = plan.spec
        self._line(f"{_job(plan)}: {plural(count, 'clip')} -> "
                   f"{short_path(spec.output_path)} ({spec.codec.value} {spec.container.value} "
                   f"{spec.resolution})")

    def probing(self, plan: Plan, done: int, total: int, clip: PlannedClip) -> None:
        """The pre-flight's live line (terminal only): it can take a while on a big job."""
        if self.level < NORMAL or not self.is_live:
            return
        now = time.monotonic()
        if done and now - self._last_draw < self.redraw_every_s:
            return
        self._last_draw = now
        text = plain(f"pre-flight: probing {done + 1}/{total} {clip.source.name}")
        with self._lock:
            self._write("\r\x1b[K" + text[: self._columns() - 1])
            self._drawn = True

    def preflight_done(self, plan: Plan, problems: list[Problem],
                       warnings: list[tuple[PlannedClip, str]]) -> None:
        # The same warning for many clips (a card of interlaced clips) is one line.
        grouped: dict[str, list[PlannedClip]] = {}
        for clip, warning in warnings:
            grouped.setdefault(warning, []).append(clip)
        for warning, clips in grouped.items():
            names = ", ".join(clip.source.name for clip in clips[:3])
            if len(clips) > 3:
                names += f" and {len(clips) - 3} more"
            which = (f"clip {clips[0].index} ({names})" if len(clips) == 1
                     else f"{plural(len(clips), 'clip')} ({names})")
            self._line(f"{_job(plan)}: warning: {which}: {warning}")
        if problems:
            self._line(f"{_job(plan)}: the pre-flight found {plural(len(problems), 'problem')}; "
                       "nothing was encoded:", QUIET)
            for problem in problems:
                self._line(f"  {problem}", QUIET)
        else:
            with self._lock:
                self._clear()

    def refused(self, plan: Plan, message: str) -> None:
        self._line(f"{_job(plan)}: {message}", QUIET)

    def clip_started(self, plan: Plan, index: int) -> None:
        self._line(f"{self._counter(plan, index)} start {self._names(plan, index)}", VERBOSE)

    def progress_fn(self, plan: Plan, index: int) -> ProgressFn | None:
        """A callback for ffmpeg's progress (seconds done, source seconds), or None when
        nothing would be shown."""
        live = self.is_live
        if self.level < NORMAL or (not live and self.level < VERBOSE):
            return None
        name = plain(plan.clips[index].source.name)
        counter = self._counter(plan, index)
        started = time.monotonic()
        last = [0.0 if live else started]
        furthest = [0.0]  # ffmpeg's out_time can step back as it interleaves streams

        def report(done: float, total: float | None) -> None:
            done = furthest[0] = max(furthest[0], done)
            now = time.monotonic()
            every = self.redraw_every_s if live else self.log_every_s
            if now - last[0] < every:
                return
            last[0] = now
            status, eta = _status(done, total, now - started, bar=live)
            shown = name
            status += eta
            with self._lock:
                if live:  # one terminal row: shorten the name, never the percentage
                    cols = self._columns()
                    longest = len(status) - len(eta) + len(f", ~{clock(total or 0)} left")
                    room = cols - 1 - len(counter) - longest - 2
                    if len(shown) > room:
                        shown = shown[: max(room - 3, 4)] + "..."
                    text = f"{counter} {shown} {status}"
                    self._write("\r\x1b[K" + text[: cols - 1])
                    self._drawn = True
                else:
                    self._write(f"{counter} {shown} {status}\n")

        return report

    def clip_finished(self, plan: Plan, record: ClipExecutionResult) -> None:
        counter = self._counter(plan, record.index)
        names = self._names(plan, record.index)
        if record.failure_reason and record.status.value != "COMPLETED":
            self._failure(f"{counter} FAILED {names}", record.failure_reason)
            if record.command_line:
                self._line(f"    to reproduce: {record.command_line}", VERBOSE)
        elif record.up_to_date:
            self.clip_up_to_date(plan, record.index)
        else:
            self._line(f"{counter} COMPLETED {names} ({took(record.duration_s)}, "
                       f"{size_text(record.output_size_bytes)})")

    def clip_up_to_date(self, plan: Plan, index: int) -> None:
        self._line(f"{self._counter(plan, index)} up to date {self._names(plan, index)}")

    def clip_failed_early(self, plan: Plan, index: int, message: str) -> None:
        self._failure(f"{self._counter(plan, index)} FAILED {self._names(plan, index)}", message)

    def _failure(self, head: str, reason: str) -> None:
        first, *rest = plain(reason).strip().splitlines() or [""]
        self._line(f"{head}: {first}", QUIET)
        for line in rest:
            self._line(f"    {line.strip()}", QUIET)

    def job_finished(self, plan: Plan, result: JobExecutionResult) -> None:
        total = len(result.clips)
        reused = sum(c.up_to_date for c in result.clips)
        completed = f"{result.completed_count} completed"
        if reused:
            completed += f" ({reused} up to date)"
        how = (f"interrupted by {result.interrupted_by}" if result.interrupted_by
               else result.status.value)
        self._line(f"{_job(plan)} {how}: {completed}, {result.failed_count} failed, "
                   f"{result.skipped_count} skipped of {plural(total, 'clip')} "
                   f"in {took(result.duration_s)}", QUIET)
        where = short_path(plan.result_path)
        rproxy = rproxy_command()
        hint = "" if result.status.value == "COMPLETED" else f" (details: {rproxy} show {where})"
        self._line(f"result: {where}{hint}", QUIET)
        if plan.spec.spec_file is not None:  # a spec given as a dict has no name to type
            page = short_path(plan.report_path)
            self._line(f"report: {rproxy} report {shlex.quote(short_path(plan.spec.spec_file))} "
                       f"(writes {page})")



def _job(plan: Plan) -> str:
    """'job A001 (3c1f0a9e)', or 'job 3c1f0a9e' when the spec has no file (its name is its id)."""
    return f"job {plan.job_id}" if plan.name == plan.job_id else f"job {plan.name} ({plan.job_id})"


def _status(done: float, total: float | None, elapsed: float, *, bar: bool
            ) -> tuple[str, str]:
    """('[####......]  42% 0:41 of 1:26', ', ~0:44 left')."""
    if not total or total <= 0:
        return f"{clock(done)} encoded", ""
    fraction = min(1.0, max(0.0, done / total))
    text = f"{100 * fraction:3.0f}% {clock(done)} of {clock(total)}"
    if bar:
        filled = int(fraction * _BAR)
        text = f"[{'#' * filled}{'.' * (_BAR - filled)}] " + text
    eta = ""
    if 0.02 < fraction < 1.0 and elapsed > 1.0:
        eta = f", ~{clock(elapsed * (1 - fraction) / fraction)} left"
    return text, eta
