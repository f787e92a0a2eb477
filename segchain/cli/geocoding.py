"""Options and the step that give customers coordinates from postal code, city or country."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from segchain.cli.common import from_env, reads

if TYPE_CHECKING:
    import polars as pl

    from segchain.cli.common import Reporter
    from segchain.geo import GeoResult

GEO_ENV = "SEGCHAIN_GEO"
GeoOpt = Annotated[
    str | None,
    typer.Option(
        "--geo",
        help="Your postal-code table (postal code, latitude, longitude, country; or a GeoNames "
        "postal dump) to place customers by postal code; else by city or country from the "
        "installed GeoNames gazetteer.",
        metavar="FILE",
        envvar=GEO_ENV,
    ),
    reads("--geo"),
]
GeoCountryOpt = Annotated[
    str | None,
    typer.Option(
        "--geo-country",
        help="The country of a --geo table that has no country column (e.g. US).",
        metavar="CODE",
    ),
]


def postal(geo: str | None, geo_country: str | None, *, reporter: Reporter) -> pl.DataFrame | None:
    """Read and check ``--geo`` (None without it); rows it cannot use are a warning.

    Raises:
        DataError: ``--geo`` holds order lines or a stage's output, not postal codes.
        UsageError: ``--geo-country`` without ``--geo`` (it was ignored without a word).
    """
    if geo is None:
        if geo_country is not None:
            from segchain.errors import UsageError

            raise UsageError(
                "--geo-country names the country of a --geo table that has none: without "
                "--geo it has nothing to apply to",
                hint="give your postal-code table with --geo FILE, or leave --geo-country out "
                "(the installed gazetteer knows each place's country)",
            )
        return None
    from segchain.errors import DataError
    from segchain.geo import postal_table
    from segchain.schema import (
        POSTAL_TABLE,
        POSTAL_TABLE_HINT,
        POSTAL_TABLE_WANTED,
        check_not_a_stage_table,
    )
    from segchain.tableio import collect, named_by_option, read_raw, rename_source, short

    # A path from $SEGCHAIN_GEO is named so: the command line has no --geo to correct.
    env = from_env(geo, GEO_ENV)
    label = f"${GEO_ENV} {geo}" if env else f"--geo {geo}"
    try:
        table = read_raw(geo)
    except DataError as exc:  # named '--geo PATH: no such file' as an option's file is
        if env:
            rename_source(exc, named_by_option(geo), f"${GEO_ENV} {short(geo)}")
        raise
    # An export or a segments table with postal_code, lat, lon passes postal_table's checks.
    check_not_a_stage_table(
        table.frame.collect_schema().names(),
        table.stage,
        POSTAL_TABLE,
        source=label,
        hint=f"set {GEO_ENV} to {POSTAL_TABLE_WANTED}, or unset it" if env else POSTAL_TABLE_HINT,
    )
    notes: list[str] = []
    codes = postal_table(
        collect(table.frame),
        country=geo_country,
        source=label,
        notes=notes,
        decimal_comma=table.dialect.decimal_comma,
    )
    for note in notes:
        reporter.warn(note)
    return codes


def postal_table_unread(geo: str | None, columns: Sequence[str], *, whose: str, fix: str) -> str:
    """The warning for a ``--geo`` table that can place no customer, for ``whose`` table (the
    orders, the segments) has no postal_code column; '' when it has one or no table was given.
    Online Retail with a US ZIP table said only 'postal 0', exit 0: its 3,950 UK customers sat at
    the country's centre, what network then planned on (audit V, session 64)."""
    if geo is None or "postal_code" in columns:
        return ""
    label = f"${GEO_ENV} {geo}" if from_env(geo, GEO_ENV) else f"--geo {geo}"
    return (
        f"{label} was not used: {whose} have no postal_code column, so no customer is placed by "
        f"postal code; {fix}"
    )


def locate_customers(
    frame: pl.DataFrame,
    *,
    postal_codes: pl.DataFrame | None,
    reporter: Reporter,
    what: str = "customers",
    unread: str = "",
) -> tuple[pl.DataFrame, GeoResult | None]:
    """Fill missing ``lat, lon`` from postal code, city or country and count the matches;
    ``unread`` (``postal_table_unread``'s warning), said first.

    A table with no location column at all is returned as it is.
    """
    from segchain.geo import locate, needs_locating

    if unread:
        reporter.warn(unread)
    cols = frame.columns
    if not (needs_locating(cols) or ("lat" in cols and "lon" in cols)):
        return frame, None
    result = locate(frame, postal=postal_codes)
    reporter.info(f"  {result.line(what)}")
    lines = (result.postal_missed_line(), result.foreign_codes_line(), result.elsewhere_line())
    for said in (*lines, result.postal_hint()):
        if said:
            reporter.info(f"  {said}")
    return result.frame, result


def provenance(result: GeoResult | None) -> dict[str, Any]:
    """Counts by precision for the output's metadata."""
    if result is None:
        return {}
    return {"geo_precision": {**result.counts, "not_located": result.unlocated}}
