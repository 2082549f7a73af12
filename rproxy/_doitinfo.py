"""`doit info` with one fix: an unknown task name gets doit's own message ("'X' is not a
task.", exit 3) instead of a KeyError traceback (doit 0.37's Info looks the name up unchecked).
Registered as doit's `info` command through an entry point (pyproject.toml)."""

from __future__ import annotations

from typing import Any

from doit.cmd_info import Info as DoitInfo
from doit.exceptions import InvalidCommand


class Info(DoitInfo):  # type: ignore[misc]
    def _execute(self, pos_args: list[str], hide_status: bool = False) -> Any:
        if len(pos_args) == 1 and pos_args[0] not in {task.name for task in self.task_list}:
            raise InvalidCommand(f"'{pos_args[0]}' is not a task.")
        return super()._execute(pos_args, hide_status)
