"""Reading a JSON file that anyone may have written, without ever hanging, exhausting memory
or raising anything but ``JsonFileError``.

A spec path may name a folder, a FIFO (open would block), ``/dev/zero`` (endless), or a file
of gigabytes; JSON itself allows duplicate keys (the last one silently wins), ``NaN`` and
``Infinity`` (not JSON at all, but Python reads them), ``1e309`` (infinity), integers of
thousands of digits (Python refuses them with a ValueError) and nesting deep enough to
overflow the stack. Each is refused here with a message a person can act on."""

from __future__ import annotations

import errno
import json
import math
import os
import stat
from typing import Any

from ._text import printable

MAX_BYTES = 16 * 2**20  # a 10,000-clip spec is about 1 MB; anything this big is no spec
MAX_DEPTH = 32  # a spec is 2 deep; up to this, a wrong value gets its field's own message
_MAX_INT_DIGITS = 30  # no field takes a number this long; bigger ones are refused, not parsed


class JsonFileError(Exception):
    """The file could not be read as JSON. ``what`` is "file" (not readable) or "json"."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what
        self.message = message


def read_json_file(path: str, *, max_bytes: int = MAX_BYTES, kind: str = "JobSpec") -> Any:
    """The JSON value in the regular file at `path` (at most `max_bytes`, UTF-8, a BOM
    allowed); JsonFileError for anything else. `kind` names what the file should be."""
    return parse_json(read_file_bytes(path, max_bytes=max_bytes, kind=kind))


def parse_json(data: bytes) -> Any:
    try:
        # utf-8-sig: Windows editors (Notepad) start UTF-8 files with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise JsonFileError("json", f"not UTF-8 text (byte {exc.start}, line {line}); save "
                                    "the file as UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant,
                           parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise JsonFileError("json", f"not valid JSON: {exc.msg} at line {exc.lineno} "
                                    f"column {exc.colno}") from None
    except RecursionError:  # deeper than Python's stack: the reader gave up
        raise _too_deep() from None
    # Whether the reader gives up depends on the stack it has; this limit does not.
    if _depth(value) > MAX_DEPTH:
        raise _too_deep()
    return value


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a tree: JSON has no cycles)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
            stack.extend((child, depth) for child in item)
    return deepest


def _too_deep() -> JsonFileError:
    return JsonFileError("json", f"lists or objects nest more than {MAX_DEPTH} deep; a "
                                 "JobSpec is two deep ({\"sources\": [...]})")


def read_file_bytes(path: str, *, max_bytes: int = MAX_BYTES, kind: str = "JobSpec") -> bytes:
    """The bytes of the regular file at `path`, refused unread when it is not one (a FIFO
    would block, /dev/zero never ends) or is over `max_bytes`."""
    shown = printable(path)
    # O_NONBLOCK: if the path is swapped for a FIFO between any check and the open, the open
    # returns at once instead of waiting for a writer. O_NOCTTY: a terminal never becomes ours.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        info = os.stat(path)
        _check_kind(info, shown, max_bytes, kind)  # before open: a FIFO blocks, a device acts
        fd = os.open(path, flags)
    except ValueError:  # a NUL in the path
        raise JsonFileError("file", f"cannot read {shown}: the path contains a NUL "
                                    "character") from None
    except OSError as exc:
        raise JsonFileError("file", f"cannot read {shown}: {_reason(exc)}") from None
    try:
        _check_kind(os.fstat(fd), shown, max_bytes, kind)  # the file opened is the one checked
        chunks, size = [], 0
        while size <= max_bytes:  # read one byte past the limit: a file that grew is refused
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise JsonFileError("file", f"cannot read {shown}: {_reason(exc)}") from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise JsonFileError("file", f"{shown} is larger than {max_bytes // 2**20} MiB; that "
                                    f"is no {kind}")
    return b"".join(chunks)


def _check_kind(info: os.stat_result, shown: str, max_bytes: int, kind: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise JsonFileError("file", f"{shown} is a folder, not a {kind} file")
    if not stat.S_ISREG(info.st_mode):
        raise JsonFileError("file", f"{shown} is not a regular file (a device, FIFO or "
                                    f"socket); a {kind} is a .json file")
    if info.st_size > max_bytes:
        raise JsonFileError("file", f"{shown} is {info.st_size / 2**20:.0f} MiB; a {kind} "
                                    f"is at most {max_bytes // 2**20} MiB")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file"
    return exc.strerror or str(exc)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _invalid(f'the key "{printable(key, limit=80)}" appears twice in one '
                           "object; keep only the one you mean")
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise _invalid(f"{name} is not a JSON number; write a number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _invalid(f"{printable(text, limit=40)} is too large for a number")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _invalid(f"a number with {len(text)} digits is too large for any field")
    return int(text)


def _invalid(message: str) -> JsonFileError:
    return JsonFileError("json", message)
