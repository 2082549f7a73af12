"""Which doit command is loading rproxy's tasks, and how it was asked.

doit hands the command to its task loader (``TaskLoader2.load_tasks(cmd, pos_args)``) but not
to task creators, and rproxy must know: only a run (``doit``, ``doit run``) may take job locks,
probe sources and write results, while ``list``, ``info``, ``clean`` and ``forget`` only look
(or clean); and a run of one clip (``-s``) must not probe the whole job first. Both are in the
frame of doit's ``DoitCmdBase.execute(self, params, args)`` below this one."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DoitCommand:
    name: str = ""  # "run", "list", "info", "clean", ...
    executes: bool = False  # runs task actions
    selected: frozenset[str] = field(default_factory=frozenset)  # task names asked for
    single: bool = False  # -s: the selected tasks without their task_dep
    reporter: object = None  # -r / DOIT_CONFIG's reporter: a name or a class


def loading_command() -> DoitCommand:
    """The doit command whose loader is creating tasks right now (empty: not under doit)."""
    from doit.cmd_base import Command

    frame = sys._getframe(1)
    while frame is not None:
        cmd, params = frame.f_locals.get("self"), frame.f_locals.get("params")
        if isinstance(cmd, Command) and params is not None and hasattr(params, "get"):
            selected = getattr(cmd, "sel_tasks", None) or ()
            return DoitCommand(name=str(getattr(cmd, "name", "") or ""),
                               executes=bool(getattr(cmd, "execute_tasks", False)),
                               selected=frozenset(str(t) for t in selected),
                               single=bool(params.get("single", False)),
                               reporter=params.get("reporter"))
        frame = frame.f_back  # type: ignore[assignment]
    return DoitCommand()
