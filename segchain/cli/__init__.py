"""Command-line interface: one module per command, all registered on ``segchain.cli.app.app``."""

from __future__ import annotations

import importlib
import importlib.util
import signal

from segchain.cli.app import app

# Order here is the order in --help: the pipeline's order.
COMMANDS = ("sample", "validate", "segment", "forecast", "stock", "network", "costs", "report")

for _name in COMMANDS:
    if importlib.util.find_spec(f"segchain.cli.{_name}") is not None:
        importlib.import_module(f"segchain.cli.{_name}")


def main() -> None:
    """Console-script entry point."""
    # `segchain ... | head` must end quietly, as other Unix filters do.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()


__all__ = ["app", "main"]
