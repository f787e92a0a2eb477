"""Command-line interface: one module per command, all registered on ``segchain.cli.app.app``."""

from __future__ import annotations

import importlib
import importlib.util
import os
import signal

from segchain.cli.app import app

# Order here is the order in --help: the pipeline's order.
COMMANDS = ("sample", "validate", "segment", "forecast", "stock", "network", "costs", "report")

for _name in COMMANDS:
    if importlib.util.find_spec(f"segchain.cli.{_name}") is not None:
        importlib.import_module(f"segchain.cli.{_name}")


_MAIN_PID = os.getpid()


def _terminate(signum: int, frame: object) -> None:
    if os.getpid() != _MAIN_PID:
        # A forked worker (a process pool's) inherits this handler; the pool stops its workers
        # with SIGTERM, which must end them at once and quietly, as it did before.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    from segchain.errors import Terminated

    raise Terminated(signum)


def main() -> None:
    """Console-script entry point."""
    # `segchain ... | head` must end quietly, as other Unix filters do.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # `timeout`, `kill` or a closed terminal must not leave a partial temporary file beside an
    # output (they kill at once by default): stop as on Ctrl-C. A signal ignored on purpose
    # (`nohup` ignores SIGHUP) stays ignored.
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _terminate)
    app()


__all__ = ["app", "main"]
