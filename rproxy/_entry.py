"""The first lines of rproxy's processes (the `rproxy` command, and doit's once it loads
rproxy.dodo): stop signals are handled before anything heavy is imported, so that Ctrl-C (or
SIGTERM, SIGHUP) at any instant of start-up ends the process quietly with 128+N instead of a
KeyboardInterrupt traceback from inside an import."""

from __future__ import annotations

import os
import signal
import sys


def _end_quietly(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


# Until rproxy's own handlers are in place (importing them takes a few milliseconds): nothing
# has started, so a stop signal only ends the command, with the shell's code and no traceback.
# A signal the command was started with ignored stays ignored (nohup).
for _signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_signum) is not signal.SIG_IGN:
        signal.signal(_signum, _end_quietly)

import contextlib  # noqa: E402  (these after the handlers above, on purpose)

from . import _signals  # noqa: E402

# The commands that probe sources: their reader process starts while the rest is imported.
_PROBING = frozenset({"run", "validate", "plan", "init"})


def console() -> int:
    _signals.install()
    if sys.argv[1:2] and sys.argv[1] in _PROBING:
        with _signals.deferred():
            from ._bounded import prestart
        prestart()
    # Held until the import is done: pydantic builds its validators while rproxy's models are
    # defined, calling back into Python, and turns an exception raised there (the interrupt
    # too) into a SchemaError traceback.
    with _signals.deferred():
        from ._cli import console as run

    code = run()
    # Ended here, not by the interpreter's shutdown: that gives the stop signals their default
    # actions back while threads that do not block them may still be there, and a late signal
    # of a burst would then kill the process with another code than the one printed.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to flush to
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(console())
