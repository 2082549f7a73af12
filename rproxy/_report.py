"""`rproxy report`: a job's result as one self-contained HTML page for editorial and QC:
the job's summary, then a row per clip with a frame of the source and the same frame of the
proxy side by side, the status, every check with what was expected and found, the reason of
a failure and the command.

Here: which pictures a clip gets (`clip_pictures`, `take_pictures`: I/O, through the
thumbnail cache) and writing the page; the page itself is `_report_page.render_html`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ._errors import RproxyError
from ._files import replace_atomically
from ._records import ClipExecutionResult, JobExecutionResult
from ._report_page import NO_PICTURES, ClipPictures, Picture, ReportContext, render_html
from ._show import find_result, load_result
from ._spec import JobSpec
from ._thumbs import BOX, Thumb, ThumbCache, ThumbnailError, grab

REPORT_NAME = "report.html"
THUMBS_DIR = "thumbs"  # under <output_dir>/.rproxy/, shared by every job of that folder


class ReportError(RproxyError):
    """The report could not be written (no such folder, not writable)."""


# -- pictures -----------------------------------------------------------------------------

_NO_PROXY = {"FAILED": "no proxy: the clip failed", "SKIPPED": "no proxy: the clip was skipped"}


def clip_pictures(clip: ClipExecutionResult, take: Callable[[Path, float | None], Thumb],
                  ) -> ClipPictures:
    """The source's picture near mid-clip, and the proxy's of the same frame (the source's
    frame time), or placeholders saying why there is none."""
    try:
        source = Picture(take(Path(clip.source_path), None))
    except ThumbnailError as exc:
        source = Picture(note=_missing(exc, "source"))
    status = clip.status.value
    if status != "COMPLETED":
        return ClipPictures(source, Picture(note=_NO_PROXY.get(status, f"no proxy: {status}")))
    at_s = source.thumb.at_s if source.thumb is not None else None
    try:
        proxy = Picture(take(Path(clip.output_path), at_s))
    except ThumbnailError as exc:
        proxy = Picture(note=_missing(exc, "proxy"))
    return ClipPictures(source, proxy)


def _missing(exc: ThumbnailError, what: str) -> str:
    text = str(exc)
    if text.startswith("no such file"):
        return f"{what} not found (moved or deleted since the run?)"
    return f"no picture of the {what}: {text}"


def take_pictures(
    result: JobExecutionResult,
    cache_dir: Path | None = None,
    *,
    box: tuple[int, int] = BOX,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[ClipPictures]:
    """Every clip's pictures, in order. With `cache_dir`, pictures are kept there (keyed by
    file, size and mtime) and reused.

    One clip after the other: threads measured no faster here (a 1080p ProRes frame already
    decodes on both cores with slice threads, a long-GOP one with frame threads)."""
    cache = ThumbCache(cache_dir) if cache_dir is not None else None

    def take(path: Path, at_s: float | None) -> Thumb:
        return cache.get(path, at_s, box) if cache is not None else grab(path, at_s, box)

    pictures: list[ClipPictures] = []
    for clip in result.clips:
        pictures.append(clip_pictures(clip, take))
        if on_progress is not None:
            on_progress(len(pictures), len(result.clips))
    return pictures


# -- writing ------------------------------------------------------------------------------


def default_report_path(result_path: Path) -> Path:
    """`<output_dir>/.rproxy/<job>/report.html`, beside the job's result.json."""
    return result_path.parent / REPORT_NAME


def thumbs_dir(result_path: Path) -> Path | None:
    """`<output_dir>/.rproxy/thumbs/` for a result in its place; None (no cache on disk) for
    a result.json that was copied elsewhere."""
    state = result_path.resolve().parent.parent
    return state / THUMBS_DIR if state.name == ".rproxy" else None


def write_report(
    result: JobExecutionResult,
    path: Path,
    *,
    context: ReportContext | None = None,
    cache_dir: Path | None = None,
    pictures: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the HTML report of `result` to `path` (a folder: `<job>-report.html` in it);
    return the file written. `cache_dir` keeps the thumbnails for the next report;
    `pictures=False` gives the page without them (placeholders)."""
    if path.is_dir():
        path = path / f"{result.job_id}-{REPORT_NAME}"
    if not path.parent.is_dir():
        raise ReportError(f"cannot write the report to {path}: no folder {path.parent}")
    taken = (take_pictures(result, cache_dir, on_progress=on_progress) if pictures
             else [NO_PICTURES] * len(result.clips))
    context = context or ReportContext()
    if context.made_at is None:
        context = dataclasses.replace(context, made_at=datetime.now(UTC))
    page = render_html(result, taken, context)
    try:
        replace_atomically(path, page)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {path}: {exc.strerror}") from None
    return path


def report(target: str | Path, output: Path | None = None, *,
           on_progress: Callable[[int, int], None] | None = None) -> Path:
    """The report of a result.json, or of a JobSpec's last result; written to `output` or
    beside the result. ResultNotFoundError when there is no result, JobSpecValidationError
    when `target` is neither a result nor a valid spec."""
    result_path = find_result(target)
    spec_path = None if result_path == Path(target) else Path(target)
    spec = JobSpec.from_file(spec_path) if spec_path is not None else None
    result = load_result(result_path)
    context = ReportContext(result_path=result_path.resolve(),
                            spec_path=spec_path.resolve() if spec_path else None, spec=spec)
    return write_report(result, output or default_report_path(result_path), context=context,
                        cache_dir=thumbs_dir(result_path), on_progress=on_progress)
