"""doit's dependency DB for rproxy projects, written atomically and never fatal.

doit's own JsonDB truncates its file and then writes it: a full disk or a kill leaves an empty
or half file, and every later `doit` stops with "Invalid JSON data" until it is deleted by hand.
Here a DB that cannot be read starts empty and one that cannot be written keeps the old file
(and says so): the output folders' records decide what is done, this DB only saves time.
Registered with doit as the backend ``rproxy-json`` (an entry point in pyproject.toml)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from doit.dependency import DatabaseException, JsonDB

from ._files import replace_atomically

BACKEND_NAME = "rproxy-json"


class DoitStateDB(JsonDB):  # type: ignore[misc]
    desc = "rproxy: atomic, error-tolerant JSON"

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None) -> None:
        self.name = name
        self.codec = codec
        try:
            super().__init__(name, codec, module_name=module_name)
        except (DatabaseException, OSError, ValueError):
            self._db: dict[str, Any] = {}

    def dump(self) -> None:
        try:
            replace_atomically(Path(self.name), self.codec.encode(self._db))
        except OSError as exc:
            print(f"rproxy: could not save doit's state {self.name}: {exc.strerror or exc} "
                  "(the proxies and their records are safe; the next run re-checks them)",
                  file=sys.stderr)


DOIT_BACKEND = {BACKEND_NAME: f"{__name__}:DoitStateDB"}
