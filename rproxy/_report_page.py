"""The page of `rproxy report`: a pure function from a job's result and its clips' pictures
to one self-contained HTML document (no I/O here; `_report` takes the pictures and writes).

One file, pictures inside as data URIs, styles and script inline, and a Content-Security-
Policy that lets nothing be fetched: it opens offline in any browser and can be mailed. Every
string from a record is escaped (`esc`): file names can hold markup, quotes and controls.

Pictures are shown lazily, so that a 2,000-clip page (~20 MB) opens in a few seconds: the
first `EAGER_ROWS` rows have their data URI in `src`; every other one waits in `data-src`
and a small script moves it to `src` when its row comes within a screen of the viewport
(IntersectionObserver). Native `loading="lazy"` would not be lazy here: Chromium loads
data: URLs at once whatever the attribute says (measured in benchmarks/report.py: all 4,000
pictures of a 2,000-clip page loaded at the load event, against 24 this way). Rows off
screen are also skipped by layout and paint (`content-visibility: auto`). Printing loads
every picture first (`beforeprint`); without script, the first rows' pictures show."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic_core

from ._ffmpeg import stderr_tail
from ._records import ClipExecutionResult, JobExecutionResult
from ._spec import JobSpec
from ._text import size_text, took
from ._thumbs import BOX, Thumb

# Rows whose pictures are in `src` from the start: what a first screen shows, without waiting
# for the script (and all that a viewer without script shows).
EAGER_ROWS = 12


# -- reading the records ------------------------------------------------------------------


def verification_of(clip: ClipExecutionResult) -> dict[str, Any]:
    """The clip's verification as plain JSON data: `{"ok", "checks": {name: {"expected",
    "found", "ok"}}, "notes", ...}`. The one place that reads `clip.verification`: it is a dict
    today and becomes a pydantic model with the same JSON shape; to_jsonable_python takes
    either, so the switch needs no change here."""
    data = pydantic_core.to_jsonable_python(clip.verification)
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Check:
    name: str
    expected: Any
    found: Any
    ok: bool


def checks_of(clip: ClipExecutionResult) -> list[Check]:
    checks = verification_of(clip).get("checks") or {}
    if not isinstance(checks, dict):
        return []
    rows = []
    for name, check in checks.items():
        if isinstance(check, dict):
            rows.append(Check(str(name), check.get("expected"), check.get("found"),
                              bool(check.get("ok"))))
    return rows


def notes_of(clip: ClipExecutionResult) -> list[str]:
    data = verification_of(clip)
    notes = [str(n) for n in data.get("notes") or [] if n]
    interlace = data.get("interlace")
    if isinstance(interlace, str) and interlace and interlace != "progressive":
        notes.insert(0, interlace)
    return notes


# -- the pictures a row shows -------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A thumbnail, or the text shown in its place (and why)."""

    thumb: Thumb | None = None
    note: str = ""


@dataclass(frozen=True)
class ClipPictures:
    source: Picture
    proxy: Picture


NO_PICTURES = ClipPictures(Picture(note="pictures not taken"),
                           Picture(note="pictures not taken"))


# -- the page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportContext:
    """What the page says about where the result came from."""

    result_path: Path | None = None
    spec_path: Path | None = None
    spec: JobSpec | None = None
    made_at: datetime | None = None  # when the report was made (None: not shown)


# C0/C1 controls (but tab and newline), lone surrogates (a file name that is not UTF-8, as
# Python decodes it) and the bidirectional overrides that can make a name read as another.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
                        "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def esc(value: object) -> str:
    """Text for HTML (body or quoted attribute): markup escaped, controls and other
    invisible or misleading characters shown as `\\xNN`/`\\uNNNN`."""
    text = str(value).replace("\r\n", "\n")
    return html.escape(_INVISIBLE.sub(_visible, text), quote=True)


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "none"
    return str(value)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _clock(seconds: float) -> str:
    """0.25 s, 1:02.50, 1:00:12.04: where in the clip the picture is."""
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return (f"{hours}:{minutes:02d}:{secs:05.2f}" if hours else f"{minutes}:{secs:05.2f}")


def _img(picture: Picture, what: str, name: str, eager: bool) -> str:
    if picture.thumb is None:
        return f'<div class="ph">{esc(picture.note)}</div>'
    thumb = picture.thumb
    data = base64.b64encode(thumb.jpeg).decode("ascii")
    where = "src" if eager else "data-src"
    return (f'<img class="thumb" width="{thumb.width}" height="{thumb.height}" alt="{esc(what)}'
            f' frame of {esc(name)}" {where}="data:image/jpeg;base64,{data}">')


def _figure(picture: Picture, what: str, name: str, eager: bool) -> str:
    at = f" at {_clock(picture.thumb.at_s)}" if picture.thumb is not None else ""
    return (f'<figure>{_img(picture, what, name, eager)}<figcaption>{what}{at}</figcaption>'
            "</figure>")


def _checks_table(checks: Sequence[Check]) -> str:
    if not checks:
        return ""
    rows = []
    for check in checks:
        mark = "&#10003;" if check.ok else "&#10007; mismatch"
        rows.append(f'<tr class="{"ok" if check.ok else "bad"}"><td class="mark">{mark}</td>'
                    f"<th>{esc(check.name)}</th><td>{esc(_value(check.expected))}</td>"
                    f"<td>{esc(_value(check.found))}</td></tr>")
    return ('<table class="checks"><thead><tr><td></td><th>check</th><th>expected</th>'
            f'<th>found</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _clip_row(clip: ClipExecutionResult, checks: Sequence[Check], pictures: ClipPictures,
              eager: bool) -> str:
    status = clip.status.value
    source_name = Path(clip.source_path).name
    proxy_name = Path(clip.output_path).name
    bad = [c for c in checks if not c.ok]
    badges = [f'<span class="badge {status.lower()}">{esc(status)}</span>']
    if clip.up_to_date:
        badges.append('<span class="badge plain">up to date</span>')
    if bad:
        badges.append(f'<span class="badge failed">{len(bad)} mismatch'
                      f'{"es" * (len(bad) != 1)}</span>')
    facts = []
    if clip.duration_s is not None:
        facts.append(took(clip.duration_s))
    if clip.output_size_bytes is not None:
        facts.append(size_text(clip.output_size_bytes))
    if clip.exit_code not in (None, 0):
        facts.append(f"ffmpeg exit code {clip.exit_code}")
    parts = [
        f'<section class="clip {status.lower()}" id="clip-{clip.index}">',
        f'<div class="pics">{_figure(pictures.source, "source", source_name, eager)}'
        f'{_figure(pictures.proxy, "proxy", proxy_name, eager)}</div>',
        '<div class="info">',
        f'<h2><a class="n" href="#clip-{clip.index}">#{clip.index}</a> {"".join(badges)} '
        f'<span class="name">{esc(source_name)}</span> &rarr; '
        f'<span class="name">{esc(proxy_name)}</span></h2>',
        f'<p class="paths">source <code>{esc(clip.source_path)}</code><br>proxy '
        f'<code>{esc(clip.output_path)}</code></p>',
    ]
    if facts:
        parts.append(f'<p class="facts">{esc(" · ".join(facts))}</p>')
    if clip.failure_reason and status != "COMPLETED":
        kind = "reason" if status == "FAILED" else "reason why-skipped"
        parts.append(f'<p class="{kind}">{esc(clip.failure_reason.strip())}</p>')
    parts.append(_checks_table(checks))
    notes = notes_of(clip)
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes)
                     + "</ul>")
    if clip.command_line:
        parts.append(f'<details{" open" if status == "FAILED" else ""}><summary>command'
                     f"</summary><pre>{esc(clip.command_line)}</pre></details>")
    elif status == "FAILED":
        parts.append('<p class="facts">ffmpeg did not run (the clip failed before encoding)'
                     "</p>")
    tail = stderr_tail(clip.stderr, 8) if status == "FAILED" and clip.stderr else ""
    if tail:
        parts.append(f"<details open><summary>ffmpeg said (last lines)</summary>"
                     f"<pre>{esc(tail)}</pre></details>")
    parts.append("</div></section>")
    return "".join(parts)


def _summary(result: JobExecutionResult, checks: Sequence[Sequence[Check]],
             context: ReportContext) -> str:
    total = len(result.clips)
    how = (f"interrupted by {result.interrupted_by}" if result.interrupted_by
           else result.status.value)
    rows: list[tuple[str, str]] = []
    if context.spec_path is not None:
        rows.append(("spec", f"<code>{esc(context.spec_path)}</code>"))
    spec = context.spec
    if spec is not None:
        fmt = f"{spec.codec.value} in {spec.container.value}, {spec.resolution}, "
        fmt += f"fps {spec.fps}" if spec.fps_mode.value == "cfr" else "source timing kept"
        rows.append(("proxy format", esc(fmt)))
        rows.append(("output folder", f"<code>{esc(spec.output_path)}</code>"))
    if context.result_path is not None:
        rows.append(("result", f"<code>{esc(context.result_path)}</code>"))
    rows.append(("clips", esc(f"{result.completed_count} completed, {result.failed_count} "
                              f"failed, {result.skipped_count} skipped of "
                              f"{_plural(total, 'clip')}")))
    rows.append(("ran", esc(f"{_when(result.started_at)} to {_when(result.finished_at)}, "
                            f"took {took(result.duration_s)}")))
    versions = sorted({c.ffmpeg_version for c in result.clips if c.ffmpeg_version})
    rows.append(("FFmpeg", "<br>".join(esc(v) for v in versions) or "-"))
    if context.made_at is not None:
        rows.append(("report made", esc(_when(context.made_at))))
    table = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)

    problems = []
    for clip, clip_checks in zip(result.clips, checks, strict=True):
        bad = [c.name for c in clip_checks if not c.ok]
        if clip.status.value == "FAILED" or bad:
            why = (clip.failure_reason or "").strip().splitlines()[:1] or [", ".join(bad)]
            problems.append(f'<li><a href="#clip-{clip.index}">#{clip.index} '
                            f"{esc(Path(clip.source_path).name)}</a>: {esc(why[0])}</li>")
    listed = (f'<h2>Problems</h2><ul class="problems">{"".join(problems)}</ul>'
              if problems else "")
    return (f'<header><h1>Job {esc(result.job_id)} <span class="badge '
            f'{result.status.value.lower()}">{esc(how)}</span></h1>'
            f'<table class="summary">{table}</table>{listed}</header>')


_STYLE = """
:root{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
background:#fff}
body{margin:0 auto;padding:16px 24px;max-width:1400px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:15px;margin:0 0 4px}
code,pre{font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:6px 8px;margin:4px 0;
border-radius:4px}
table.summary th{text-align:left;padding:2px 16px 2px 0;vertical-align:top;color:#59636e;
font-weight:500}
.problems li{margin:2px 0}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;
font-weight:600;color:#fff;background:#59636e;vertical-align:1px;margin-right:2px}
.badge.completed{background:#1a7f37}.badge.failed{background:#cf222e}
.badge.partial{background:#9a6700}.badge.skipped{background:#6e7781}
.badge.plain{background:#ddf4ff;color:#0969da}
.clip{display:flex;flex-wrap:wrap;gap:16px;border-top:1px solid #d1d9e0;padding:12px 0 12px 8px;
border-left:4px solid transparent;content-visibility:auto;contain-intrinsic-size:auto 360px}
.clip.failed{border-left-color:#cf222e;background:#fff8f8}
.clip.skipped{border-left-color:#afb8c1}
.pics{display:flex;gap:8px;flex:none}
figure{margin:0;width:%(w)dpx}
figure>img,.ph{display:block;width:%(w)dpx;height:%(h)dpx;object-fit:contain;
background:#24292f;border-radius:3px}
.ph{box-sizing:border-box;padding:8px;background:repeating-linear-gradient(45deg,#eaeef2,
#eaeef2 8px,#f6f8fa 8px,#f6f8fa 16px);color:#59636e;font-size:12px;display:flex;
align-items:center;justify-content:center;text-align:center;overflow:hidden;
overflow-wrap:anywhere}
figcaption{font-size:12px;color:#59636e;text-align:center}
.info{min-width:0;flex:1}
.n{color:#59636e;text-decoration:none}
.name{font-weight:600;overflow-wrap:anywhere}
.paths{margin:2px 0;color:#59636e;overflow-wrap:anywhere}
.facts{margin:2px 0;color:#59636e}
.reason{margin:6px 0;padding:6px 8px;background:#ffebe9;border:1px solid #ff8182;
border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;font-weight:600;color:#82071e}
.reason.why-skipped{background:#f6f8fa;border-color:#d1d9e0;color:#59636e;font-weight:500}
table.checks{border-collapse:collapse;font-size:12px;margin:6px 0}
table.checks th,table.checks td{padding:1px 10px 1px 0;text-align:left;vertical-align:top}
table.checks thead{color:#59636e}
table.checks tbody th{font-weight:500}
tr.ok .mark{color:#1a7f37}
tr.bad{background:#ffebe9;color:#82071e;font-weight:700}
tr.bad td,tr.bad th{border-top:1px solid #ff8182;border-bottom:1px solid #ff8182}
.notes{margin:4px 0;padding-left:18px;color:#59636e;font-size:12px}
details summary{cursor:pointer;color:#59636e;font-size:12px}
img.broken{outline:3px solid #cf222e}
@media print{.clip{content-visibility:visible;break-inside:avoid}}
"""

# Moves each picture's data URI into `src` when its row nears the viewport, and counts what
# decoded: <html data-thumbs="loaded/broken/total"> (a test reads it; a person sees a broken
# picture framed in red). `#all-thumbs` in the address, or printing, loads every picture.
_SCRIPT = """
(function(){
var imgs=[].slice.call(document.querySelectorAll("img.thumb")),ok=0,bad=0;
function mark(){document.documentElement.setAttribute("data-thumbs",ok+"/"+bad+"/"+imgs.length)}
function show(img){var s=img.getAttribute("data-src");if(s){img.removeAttribute("data-src");
img.src=s}}
function done(img){if(img.naturalWidth>0){ok++}else{bad++;img.classList.add("broken")}mark()}
imgs.forEach(function(img){
if(img.complete&&img.getAttribute("src")){done(img);return}
img.addEventListener("load",function(){done(img)});
img.addEventListener("error",function(){bad++;img.classList.add("broken");mark()})});
mark();
function all(){imgs.forEach(show)}
window.addEventListener("beforeprint",all);
if(location.hash==="#all-thumbs"||!("IntersectionObserver" in window)){all();return}
var io=new IntersectionObserver(function(es){es.forEach(function(e){if(e.isIntersecting){
[].forEach.call(e.target.querySelectorAll("img[data-src]"),show);io.unobserve(e.target)}})},
{rootMargin:"100% 0px"});
[].forEach.call(document.querySelectorAll(".clip"),function(c){
if(c.querySelector("img[data-src]")){io.observe(c)}});
})();
"""


def render_html(result: JobExecutionResult, pictures: Sequence[ClipPictures],
                context: ReportContext | None = None, *,
                eager_rows: int = EAGER_ROWS) -> str:
    """The page for `result`, with `pictures[i]` for clip i (NO_PICTURES where missing);
    the pictures of the first `eager_rows` clips are in the page's `src` from the start."""
    context = context or ReportContext()
    checks = [checks_of(clip) for clip in result.clips]
    style = _STYLE % {"w": BOX[0], "h": BOX[1]}
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        # Nothing may leave the page: no fetch, no font, no frame (it holds customers' names).
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
        f"<title>rproxy report: job {esc(result.job_id)} {esc(result.status.value)}</title>",
        f"<style>{style}</style>",
        "</head><body>",
        _summary(result, checks, context),
        f'<noscript><p class="reason">Without JavaScript only the pictures of the first '
        f"{eager_rows} clips are shown.</p></noscript>",
        "<main>",
    ]
    for i, clip in enumerate(result.clips):
        parts.append(_clip_row(clip, checks[i],
                               pictures[i] if i < len(pictures) else NO_PICTURES,
                               eager=i < eager_rows))
    parts += ["</main>", '<footer class="facts">made by rproxy report</footer>',
              f"<script>{_SCRIPT}</script></body></html>\n"]
    return "\n".join(parts)


