"""The `rproxy` command's first lines: stop signals are handled before anything heavy is
imported, so that Ctrl-C (or SIGTERM, SIGHUP) at any instant of start-up ends the command
quietly with 128+N instead of a KeyboardInterrupt traceback from inside an import."""

from __future__ import annotations

import sys

from . import _signals


def console() -> int:
    _signals.install()
    from ._cli import console as run

    return run()


if __name__ == "__main__":
    sys.exit(console())
