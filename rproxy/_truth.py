"""The output folder's one truth about whose file each proxy is.

``<output_dir>/.rproxy/proxies/<key>.json`` holds one entry per proxy rproxy made in that
folder: which source (its state before the encode), which command, which job and spec, the
file's size, mtime and content hash, the record of the encode, and which specs want it
(`claims`). Any job, run or `doit clean` reads it; it changes only under the folder's short
lock (``_lock.folder_lock``). Paths in it are relative to the output folder as well, so moving
the folders together keeps it true. The key folds letter case and Unicode normalisation, as
macOS and Windows do, so names that one of them would merge share an entry."""

from __future__ import annotations

import contextlib
import hashlib
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ._files import sha256_file, write_json_atomic
from ._text import size_text

STATE_DIR = ".rproxy"
_ENTRIES = "proxies"


class SourceState(BaseModel):
    """A source file as it was just before its proxy was encoded."""

    path: str = Field(description="Absolute path when the proxy was made.")
    relpath: str = Field(description="The same path relative to the output folder.")
    size: int = Field(description="Size in bytes.")
    mtime_ns: int = Field(description="Modification time in ns.")

    @classmethod
    def of(cls, path: str, info: os.stat_result, output_dir: str) -> SourceState:
        return cls(path=path, relpath=relative(path, output_dir), size=info.st_size,
                   mtime_ns=info.st_mtime_ns)

    def is_file(self, path: str, output_dir: str) -> bool:
        """Is `path` this source: the same absolute path, or the same path relative to the
        output folder (the folders were moved together)?"""
        return path == self.path or relative(path, output_dir) == self.relpath

    def unchanged(self, info: os.stat_result) -> bool:
        return (info.st_size, info.st_mtime_ns) == (self.size, self.mtime_ns)


class ProxyEntry(BaseModel):
    """Whose file one proxy is."""

    name: str = Field(description="The proxy's path relative to the output folder.")
    source: SourceState
    fingerprint: str = Field(description="Hash of the command it was made with.")
    size: int = Field(description="The proxy's size when made.")
    mtime_ns: int = Field(description="The proxy's modification time when made (or last seen "
                                      "with the same content).")
    sha256: str = Field(description="SHA-256 of the proxy's content when made.")
    made_at: datetime = Field(description="When it was made (UTC).")
    job_id: str = Field(description="The job that made it.")
    spec: str = Field(description="The spec that made it (its name).")
    record: str = Field(description="The record of the encode, relative to the output folder.")
    claims: list[str] = Field(default_factory=list,
                              description="The specs that want this proxy (their identities).")
    pending: bool = Field(default=False, description="Written just before the proxy was "
                                                     "renamed into place; cleared just after.")


def relative(path: str, start: str) -> str:
    try:
        return os.path.relpath(path, start)
    except ValueError:  # another drive (Windows)
        return path


def entry_key(name: str) -> str:
    folded = unicodedata.normalize("NFC", name).casefold()
    return hashlib.sha256(folded.encode("utf-8", "surrogateescape")).hexdigest()[:32]


class Folder:
    """The state of one output folder (``<output_dir>/.rproxy``)."""

    def __init__(self, output_dir: Path | str) -> None:
        self.output_dir = str(output_dir)
        self.root = Path(self.output_dir) / STATE_DIR

    def entry_path(self, name: str) -> Path:
        return self.root / _ENTRIES / f"{entry_key(name)}.json"

    def read(self, name: str) -> ProxyEntry | None:
        try:
            data = self.entry_path(name).read_bytes()
            return ProxyEntry.model_validate_json(data)
        except (OSError, ValidationError, ValueError):
            return None

    def write(self, entry: ProxyEntry) -> None:
        """Only under the folder's lock."""
        write_json_atomic(self.entry_path(entry.name), entry)

    def remove(self, name: str) -> None:
        """Only under the folder's lock."""
        with contextlib.suppress(FileNotFoundError):
            self.entry_path(name).unlink()

    def entries(self) -> Iterator[ProxyEntry]:
        folder = self.root / _ENTRIES
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.json")):
            with contextlib.suppress(OSError, ValidationError, ValueError):
                yield ProxyEntry.model_validate_json(path.read_bytes())

    def path_of(self, name: str) -> str:
        return os.path.join(self.output_dir, name)


class Owner(StrEnum):
    ABSENT = "absent"  # nothing at the path
    OURS = "ours"  # the file rproxy made, unchanged
    CHANGED = "changed"  # rproxy made a file here, and this one is not that file anymore
    FOREIGN = "foreign"  # rproxy never recorded making a file here


@dataclass(frozen=True)
class Ownership:
    owner: Owner
    entry: ProxyEntry | None
    info: os.stat_result | None  # of the file at the path
    mtime_moved: bool = False  # ours by content, but its mtime changed (a sync tool, an editor)

    def describe(self, path: str) -> str:
        """Why rproxy will not replace the file, in words."""
        if self.owner is Owner.FOREIGN or self.entry is None or self.info is None:
            return (f"{path} is not a proxy rproxy made (no record of it in this output folder); "
                    "move or delete it, or change naming_template")
        entry, info = self.entry, self.info
        what = (f"size {size_text(entry.size)} → {size_text(info.st_size)}"
                if info.st_size != entry.size else "same size, other content")
        return (f"{path} changed after rproxy made it on {entry.made_at:%Y-%m-%d %H:%M} UTC "
                f"({what}); rproxy does not replace a file someone changed: delete it to have "
                "it made again")


def ownership(folder: Folder, name: str, entry: ProxyEntry | None = None, *,
              read: bool = True) -> Ownership:
    """Whose file is at `name` in the folder? A file whose size and mtime are those recorded is
    rproxy's; one of the recorded size but another mtime is hashed: same content, still
    rproxy's (only its mtime moved)."""
    if read and entry is None:
        entry = folder.read(name)
    try:
        info = os.stat(folder.path_of(name))
    except FileNotFoundError:
        return Ownership(Owner.ABSENT, entry, None)
    except OSError:
        return Ownership(Owner.FOREIGN, entry, None)
    if entry is None:
        return Ownership(Owner.FOREIGN, None, info)
    if (info.st_size, info.st_mtime_ns) == (entry.size, entry.mtime_ns):
        return Ownership(Owner.OURS, entry, info)
    if info.st_size == entry.size:
        try:
            same = sha256_file(folder.path_of(name)) == entry.sha256
        except OSError:
            same = False
        if same:
            return Ownership(Owner.OURS, entry, info, mtime_moved=True)
    return Ownership(Owner.CHANGED, entry, info)
