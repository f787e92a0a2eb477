"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="segchain",
    help=(
        "Segment-driven supply-chain decisions from ERP order exports.\n\n"
        "Each command reads tables (CSV or Parquet, files or '-' for stdin), runs one stage and "
        "writes one table (-o, default stdout):\n\n"
        "  segchain segment orders.csv | segchain forecast --orders orders.csv "
        "| segchain stock | segchain report -o report.html"
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    # --install-completion / --show-completion for bash, zsh, fish and PowerShell.
    add_completion=True,
    # ERP rows must never leak into logs through a traceback's local variables.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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
