"""Text made safe to print: the one home for escaping what a terminal would act on.

File names come from cameras, card readers and other people's disks. A name may hold an
escape sequence (ESC), a carriage return that overwrites the line, a newline that forges a
second line, a bidi override that shows the name backwards, or bytes that are not UTF-8
(Python hands those over as surrogate escapes, U+DC80-U+DCFF). Everything rproxy prints
about a name goes through ``printable`` first, so a name always prints as one visible line.

Escapes: ``\\n`` ``\\r`` ``\\t``; other C0 controls and DEL as ``\\x1b``; a byte that is
not UTF-8 as ``\\xff`` (what it was on disk); C1 controls, bidi and other invisible format
characters, line/paragraph separators and other lone surrogates as ``\\u202e``. Backslashes
are left as they are, so ordinary names stay readable; escaping twice changes nothing."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

# Characters of category Cf (format) that are kept: the zero-width joiner builds emoji
# sequences, and tag characters build subdivision flags. Every other Cf character (bidi
# overrides, zero-width spaces, the byte-order mark...) is invisible or reorders the line.
_KEPT_FORMAT = frozenset({"\u200d"} | {chr(c) for c in range(0xE0020, 0xE0080)})
# Categories escaped: controls, surrogates, line and paragraph separators (a second line).
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ELLIPSIS = "\u2026"


def printable(text: str, *, limit: int | None = None) -> str:
    """`text` with every character a terminal would act on (or hide) escaped visibly, on one
    line. With `limit`, at most that many characters of `text` are kept (then "…"): for
    echoing a value from a spec, which may be megabytes long."""
    if limit is not None and len(text) > limit:
        return printable(text[:limit]) + _ELLIPSIS
    if text.isprintable():  # the common case, checked in C: nothing to escape
        return text
    return "".join(_escape(char) if _unsafe(char) else char for char in text)


def has_unprintable(text: str) -> bool:
    """True when `printable` would change `text` (a name holds a control character, an
    invisible format character or a byte that is not UTF-8)."""
    return not text.isprintable() and any(_unsafe(char) for char in text)


def surrogate_in(text: str) -> str | None:
    """The first lone surrogate in `text` (a byte that was not UTF-8, or a ``\\ud800``
    escape in JSON), or None. Such text cannot be written as UTF-8: not to a record, a
    terminal or a file name on macOS."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return text[exc.start]
    return None


def _unsafe(char: str) -> bool:
    category = unicodedata.category(char)
    return category in _ESCAPED_CATEGORIES or (category == "Cf" and char not in _KEPT_FORMAT)


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


# -- numbers and paths in words ----------------------------------------------------------


def clock(seconds: float) -> str:
    """0:07, 1:26, 1:02:03."""
    whole = max(0, int(seconds + 0.5))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def took(seconds: float | None) -> str:
    """'0.4 s', '12.3 s', '3 min 05 s', '1 h 02 min'."""
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def short_path(path: str | Path) -> str:
    """A path relative to the current folder when it is inside it, else absolute."""
    text = str(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return text if rel.startswith("..") else rel


def size_text(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def plural(count: int, word: str) -> str:
    """'1 clip', '5 clips', '2,000 clips'."""
    return f"{count:,} {word}{'s' * (count != 1)}"


def rproxy_command() -> str:
    """How to type rproxy here, for the hints rproxy prints: `rproxy` when that is this
    rproxy on PATH, else its path (`.venv/bin/rproxy` right after the README's install)."""
    import shutil
    import sys

    ours = os.path.join(os.path.dirname(sys.executable), "rproxy")
    if not os.path.exists(ours):
        return "rproxy"
    found = shutil.which("rproxy")
    try:
        if found and os.path.samefile(found, ours):
            return "rproxy"
    except OSError:
        pass
    return short_path(ours)
