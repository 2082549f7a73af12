"""_text.printable: what reaches a terminal is one visible line, whatever a name holds."""

from __future__ import annotations

import os

import pytest

from rproxy._text import has_unprintable, printable, surrogate_in


@pytest.mark.parametrize("raw,shown", [
    ("A001.mov", "A001.mov"),
    ("ünïcødé 日本語 ✂ 👩‍👩‍👧.mov", "ünïcødé 日本語 ✂ 👩‍👩‍👧.mov"),  # ZWJ emoji kept
    ("a\x1b[31mred", "a\\x1b[31mred"),           # ESC: colours, cursor moves, title bar
    ("line\nforged: valid", "line\\nforged: valid"),
    ("over\rwritten", "over\\rwritten"),
    ("tab\there", "tab\\there"),
    ("del\x7f", "del\\x7f"),
    ("c1\x9bcsi", "c1\\u009bcsi"),                # C1 CSI: an escape sequence on some terms
    ("evil\u202egnp.mov", "evil\\u202egnp.mov"),  # bidi override: shows "vom.png"
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("para\u2029graph", "para\\u2029graph"),
    ("nul\x00", "nul\\x00"),
])
def test_printable_escapes_what_a_terminal_acts_on(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert has_unprintable(raw) == (raw != shown)


def test_a_byte_that_is_not_utf8_shows_as_that_byte() -> None:
    name = os.fsdecode(b"caf\xe9.mov")  # how Python hands over a Latin-1 file name
    assert printable(name) == "caf\\xe9.mov"
    assert surrogate_in(name) == "\udce9"
    assert printable("x\ud800") == "x\\ud800"  # a lone surrogate from a JSON \ud800


def test_escaping_twice_changes_nothing() -> None:
    once = printable("a\x1b\n\udcff\u202e\\x")
    assert printable(once) == once
    assert once.isprintable()


def test_a_long_value_is_cut_with_an_ellipsis() -> None:
    assert printable("x" * 1000, limit=10) == "x" * 10 + "\u2026"
    assert printable("\x1b" * 1000, limit=2) == "\\x1b\\x1b\u2026"


def test_valid_text_has_no_surrogate() -> None:
    assert surrogate_in("A001.mov") is None
    assert surrogate_in("日本語 😀") is None
