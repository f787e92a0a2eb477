"""The Typer application every command module registers on."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

HELP_OPTIONS = ["-h", "--help"]


class SegchainGroup(TyperGroup):
    """Typer's group, with usage errors written as segchain's own errors are.

    ``segchain <command>: Error: ...`` on one line (and a usage line, also prefixed) instead of a
    rich panel: in ``make -j2`` logs every line of stderr says which command wrote it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from segchain.cli.helptext import polish

        # Panels, metavars and defaults: one rule for every command's --help.
        for command in self.commands.values():
            polish(command)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from segchain.cli.helptext import polish

        # Typer adds the completion options after __init__: polish the group's own when shown.
        polish(self)
        super().format_help(ctx, formatter)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        # Typer's bundled click: its exception types are not exported by typer.
        from typer._click.exceptions import ClickException

        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help was shown: nothing to add
                sys.exit(exc.exit_code)
            _usage_error(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            _usage_error(None)
            sys.exit(1)
        # Without standalone mode Typer returns an Exit's code instead of exiting with it.
        sys.exit(result if isinstance(result, int) else 0)


def _usage_error(exc: Any) -> None:
    """``segchain <command>: Error: <what the parser said>`` and where to find the options."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.parent is not None:
        head, path = f"segchain {ctx.info_name}: ", ctx.command_path
    else:
        head, path = "segchain: ", "segchain"
    if exc is None:
        lines = ["Error: aborted"]
    else:
        lines = [f"Error: {exc.format_message()}"]
        if ctx is not None:
            lines.append(f"  usage: {ctx.get_usage().removeprefix('Usage: ')}")
            lines.append(f"  hint: {path} -h lists the options")
    from segchain.cli.common import readable

    sys.stderr.write("".join(f"{head}{readable(line)}\n" for line in lines))
    sys.stderr.flush()


app = typer.Typer(
    cls=SegchainGroup,
    name="segchain",
    help=(
        "Segment-driven supply-chain decisions from ERP order exports.\n\n"
        "Each command reads tables (CSV or Parquet, files or '-' for stdin), runs one stage and "
        "writes one table to -o (default: -, stdout):\n\n"
        "    segchain segment orders.csv \\\n"
        "      | segchain forecast --orders orders.csv \\\n"
        "      | segchain stock | segchain report -o report.html\n\n"
        "Each command's options: segchain COMMAND -h."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    # --install-completion / --show-completion for bash, zsh, fish and PowerShell.
    add_completion=True,
    # ERP rows must never leak into logs through a traceback's local variables.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": HELP_OPTIONS},
)


def _print_version(value: bool) -> None:
    if value:
        from segchain import __version__

        typer.echo(f"segchain {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "-V",
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Segment-driven supply-chain decisions from ERP order exports."""
