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

import unicodedata

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
