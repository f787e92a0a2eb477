"""``segchain sample``: write a realistic synthetic ERP export to a folder."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from segchain.cli import common as c
from segchain.cli.app import app
from segchain.formatting import plural


@app.command("sample")
@c.handle_errors
def sample(
    output: Annotated[
        # str, not Path: Typer turns '' (an unset variable) into '.', the working folder.
        str,
        typer.Option(
            "-o", "--output", help="Folder to write the files into (created).", metavar="DIR"
        ),
    ],
    customers: Annotated[
        int, typer.Option("--customers", help="Number of customers, 2 to 1,000,000.")
    ] = 400,
    skus: Annotated[int, typer.Option("--skus", help="Number of SKUs, 1 to 99,999.")] = 80,
    years: Annotated[int, typer.Option("--years", help="Years of history, 1 to 20.")] = 3,
    seed: c.Seed = None,
    format: Annotated[
        str | None,
        typer.Option(
            "-f",
            "--format",
            help="Format of orders (default: csv).",
            metavar="csv|parquet",
        ),
    ] = None,
    quiet: c.Quiet = False,
) -> None:
    """Generate a deterministic synthetic ERP export: orders, items, sites, on-hand stock.

    Also writes customers.csv and skus.csv, the answer key of the planted customer behaviours and
    demand patterns. The same arguments always give byte-identical files.

    Example:

        segchain sample -o data --customers 100000 --skus 5000 --years 3 -f parquet
    """
    import polars as pl

    from segchain.config import SEED, check_option
    from segchain.errors import UsageError
    from segchain.sample import generate
    from segchain.tableio import (
        check_format,
        make_output_folder,
        os_message,
        provenance,
        refuse_empty_name,
        refuse_stray_end,
        short,
        when_written,
        write_table,
    )

    reporter = c.Reporter(quiet=quiet)
    # Bounded, as every size is: 100,000 customers take about 4 GB of memory, and
    # --customers 10000000000 died of a MemoryError; ids are written 7 and 5 digits wide.
    for option, value, low, high in (
        ("--customers", customers, 2, 1_000_000),
        ("--skus", skus, 1, 99_999),
        ("--years", years, 1, 20),
    ):
        if not low <= value <= high:
            raise UsageError(f"{option}: must be from {low:,} to {high:,}, got {value:,}")
    seed = check_option(SEED, seed, option="--seed") if seed is not None else 0
    try:
        fmt = check_format(format) or "csv"
    except UsageError as exc:  # it named no option: the other commands' parser names -f
        raise UsageError(f"-f/--format: {exc.message}") from None
    refuse_empty_name(output, "-o", what="folder")
    refuse_stray_end(output, "-o", output=True)
    if output == "-":
        # Elsewhere '-' is stdout; here it made a folder named '-' in the working directory.
        raise UsageError(
            "-o -: sample writes a folder of files (orders, items, sites, ...), not a stream",
            hint="give a folder name, e.g. -o data",
        )
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {output}: exists and is not a folder")
    try:
        make_output_folder(folder)  # removed again if the command fails
    except OSError as exc:
        reason = os_message(exc)
        raise UsageError(f"-o {short(folder)}: cannot create the folder: {reason}") from None
    params = {"customers": customers, "skus": skus, "years": years, "seed": seed}
    frames = generate(**params)
    if fmt == "parquet":
        # A typed export has no unreadable date text: those lines arrive with no date.
        frames["orders"] = frames["orders"].with_columns(
            pl.col("order_date").str.to_date("%Y-%m-%d", strict=False)
        )
    for name, df in frames.items():
        ext = fmt if name == "orders" else "csv"
        dest = folder / f"{name}.{ext}"
        write_table(df, str(dest), metadata=provenance("sample", params=params))
        said = f"wrote {plural(df.height, 'row')} to {dest}"
        when_written(str(dest), functools.partial(reporter.info, said))
    _warn_other_orders(folder, fmt, reporter)


def _warn_other_orders(folder: Path, fmt: str, reporter: c.Reporter) -> None:
    """Say so when the folder also holds orders in the other format, which this run did not
    write: `sample -o data -f parquet` over a CSV sample left data/orders.csv beside the new
    data/orders.parquet, and a script or Makefile reading the CSV read the old sample's orders
    with the new sample's items and sites. The file is not removed: it may be the user's."""
    other = folder / f"orders.{'csv' if fmt == 'parquet' else 'parquet'}"
    if other.exists():
        reporter.warn(
            f"{other} is not this sample's (its orders are {folder / f'orders.{fmt}'}): "
            "the folder held it before; remove it, or a command reading it reads other orders "
            "than this sample's items, sites and stock"
        )
