"""File-system steps whose failure modes matter: atomic replacement, flushing to disk, a rename
that never replaces, content hashes. Every state file and every proxy goes through these."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fnmatch
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import _signals as interrupts
from ._blocking import outside_main
from ._libc import LIBC

if TYPE_CHECKING:  # doit loads this module's DB plugin at its start: keep it light
    from pydantic import BaseModel

# -- a test-only pause -----------------------------------------------------------------------
# The signal tests (tests/test_signal_bursts.py) must hit "during the record and the rename"
# on purpose, not by luck: with RPROXY_TEST_PAUSE set, the steps named in it note that they
# were reached (a line "<step> <pid>" appended to RPROXY_TEST_PAUSE_MARK) and sleep
# RPROXY_TEST_PAUSE_S seconds there. Steps: "rename" (rename_noreplace, before and after the
# rename itself) and "write:<glob>" (replace_atomically of a file whose name matches <glob>,
# before its rename). Unset, as everywhere but in those tests, this costs one dict lookup.
_PAUSE = "RPROXY_TEST_PAUSE"


def _test_pause(step: str, name: str = "") -> None:
    wanted = os.environ.get(_PAUSE)
    if not wanted:
        return
    for item in wanted.split(","):
        kind, _, pattern = item.partition(":")
        if kind == step and (not pattern or fnmatch.fnmatchcase(name, pattern)):
            break
    else:
        return
    mark = os.environ.get(f"{_PAUSE}_MARK")
    if mark:
        with contextlib.suppress(OSError), open(mark, "a", encoding="utf-8") as handle:
            handle.write(f"{step}:{name} {os.getpid()}\n")
    with contextlib.suppress(ValueError):
        time.sleep(float(os.environ.get(f"{_PAUSE}_S", "0.05")))


def replace_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, flush it to disk, rename it over `path` and
    flush the folder: a reader (or a power cut) sees the old content or all of the new. A
    stop signal waits until it is done: between the temp file's creation and the `try` it
    would leave the temp file behind."""
    with interrupts.deferred():
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp",
                                   dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~_umask())
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                outside_main(os.fsync, handle.fileno())
            _test_pause("write", path.name)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(path.parent)


def write_json_atomic(path: Path, data: BaseModel) -> None:
    """A model as indented JSON, atomically (pydantic-core writes it: json.dump with indent is
    pure Python, seconds for the result of a 2,000-clip job)."""
    make_dirs(path.parent)
    replace_atomically(path, data.model_dump_json(indent=2) + "\n")


def make_dirs(path: Path, *, within: Path | None = None) -> None:
    """mkdir -p, flushing the entry of each folder it creates into its parent: a record in a
    folder that a power cut forgot would be lost with it, although the record was flushed.
    With `within`, only folders below it are made, and it must exist (FileNotFoundError): the
    output folder itself is never made here, so a drive that is not mounted stays missing."""
    if path.is_dir():
        return
    if within is not None and not within.is_dir():
        raise FileNotFoundError(2, os.strerror(2), str(within))
    missing: list[Path] = []
    here = path
    while not here.is_dir():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    path.mkdir(parents=True, exist_ok=True)
    for folder in reversed(missing):
        fsync_dir(folder.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_file(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        outside_main(os.fsync, fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path | str) -> None:
    """Flush a folder's entries (a rename into it) to disk. Not every file system lets a folder
    be opened or synced; there the rename is as durable as that file system makes it."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            outside_main(os.fsync, fd)
        finally:
            os.close(fd)


def sha256_file(path: Path | str) -> str:
    return outside_main(_sha256, path)


def _sha256(path: Path | str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


_RENAME_NOREPLACE = 1  # linux/fs.h
_RENAME_EXCL = 4  # macOS stdio.h, for renamex_np
_AT_FDCWD = -100


def rename_noreplace(source: Path | str, target: Path | str) -> None:
    """Rename `source` to `target`, raising FileExistsError instead of replacing a file that is
    there (one that appeared after every check, while FFmpeg was writing). The kernel decides,
    in one step: renameat2(RENAME_NOREPLACE) on Linux, renamex_np(RENAME_EXCL) on macOS; where
    the file system has neither, a hard link (which never replaces either) and an unlink."""
    _test_pause("rename", os.path.basename(target))
    try:
        _rename_noreplace(os.fsencode(source), os.fsencode(target))
    finally:
        _test_pause("rename", os.path.basename(target))


def _rename_noreplace(src: bytes, dst: bytes) -> None:
    if LIBC is not None:
        if sys.platform.startswith("linux") and hasattr(LIBC, "renameat2"):
            result = LIBC.renameat2(_AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_NOREPLACE)
        elif sys.platform == "darwin" and hasattr(LIBC, "renamex_np"):
            result = LIBC.renamex_np(src, dst, _RENAME_EXCL)
        else:
            result = None
        if result == 0:
            return
        if result is not None:
            code = ctypes.get_errno()
            if code == errno.EEXIST:
                raise FileExistsError(code, os.strerror(code), os.fsdecode(dst))
            if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise OSError(code, os.strerror(code), os.fsdecode(src))
    try:
        os.link(src, dst)  # FileExistsError when the target is there
    except FileExistsError:
        raise
    except OSError:
        # No hard links here either (exFAT, some network shares): look, then rename. The
        # folder's lock keeps every rproxy out of this gap; only another program could slip in.
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST),
                                  os.fsdecode(dst)) from None
        os.rename(src, dst)
        return
    os.unlink(src)
