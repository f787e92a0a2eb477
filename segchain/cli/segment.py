"""``segchain segment``: one row per customer with a segment label, its rank and the features."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from segchain.cli import common as c
from segchain.cli import geocoding as g
from segchain.cli.app import app
from segchain.cli.progress import Work
from segchain.errors import UsageError, examples
from segchain.formatting import plural

MethodOpt = Annotated[
    str | None,
    typer.Option(
        "--method",
        help="rfm (named RFM segments), kmeans (clusters of log recency, frequency, value and "
        "tenure) or abc-xyz (default: rfm).",
        metavar="rfm|kmeans|abc-xyz",
        envvar="SEGCHAIN_SEGMENT_METHOD",
    ),
]
KOpt = Annotated[
    int | None,
    typer.Option(
        "--k", help="Number of k-means clusters (default: best silhouette in 2..8).", metavar="K"
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Measure recency from this date (YYYY-MM-DD) and ignore orders on or after it "
        "(default: the day after the last order).",
        metavar="DATE",
    ),
]
ClvOpt = Annotated[
    bool | None,
    typer.Option(
        "--clv/--no-clv",
        help="Add p_alive, expected_purchases and clv (BG/NBD + Gamma-Gamma); --no-clv turns "
        "off a config's clv = true.",
    ),
]
ClvHorizonOpt = Annotated[
    int | None,
    typer.Option("--clv-horizon", help="CLV horizon in days (default: 365).", metavar="DAYS"),
]
PreviousOpt = Annotated[
    str | None,
    typer.Option(
        "--previous",
        help="An earlier segments output: keep the labels of corresponding groups and report "
        "how many customers changed segment.",
    ),
    c.reads("--previous"),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", help="Also write one row per segment (size, shares, means) here."),
    c.writes("--profile"),
]
AbcOpt = Annotated[
    str | None,
    typer.Option(
        "--abc-cutoffs", help="abc-xyz: cumulative value shares closing A and B.", metavar="A,B"
    ),
]
XyzOpt = Annotated[
    str | None,
    typer.Option(
        "--xyz-cutoffs", help="abc-xyz: coefficients of variation closing X and Y.", metavar="X,Y"
    ),
]


@app.command("segment")
@c.handle_errors
def segment_command(
    orders: c.OrdersInput = None,
    output: c.Output = "-",
    method: MethodOpt = None,
    k: KOpt = None,
    as_of: AsOfOpt = None,
    clv: ClvOpt = None,
    clv_horizon: ClvHorizonOpt = None,
    previous: PreviousOpt = None,
    profile: ProfileOpt = None,
    abc_cutoffs: AbcOpt = None,
    xyz_cutoffs: XyzOpt = None,
    geo: g.GeoOpt = None,
    geo_country: g.GeoCountryOpt = None,
    rejects: c.Rejects = None,
    returns: c.ReturnsOpt = None,
    date_format: c.DateFormat = None,
    sheet: c.Sheet = None,
    map: c.Map = None,
    preset: c.Preset = None,
    config: c.ConfigFile = None,
    format: c.Format = None,
    csv_safe: c.CsvSafe = False,
    seed: c.Seed = None,
    quiet: c.Quiet = False,
    verbose: c.Verbose = False,
) -> None:
    """Segment customers from order lines: RFM segments, k-means clusters or ABC-XYZ classes.

    One row per customer: customer_id, segment, segment_rank (1 = most valuable),
    recency_days, frequency, monetary, first_order, last_order, tenure_days,
    avg_order_value, quantity, lines; with --method rfm also r_score, f_score, m_score; with
    --clv also p_alive, expected_purchases, clv; and the customer's most frequent ship-to (lat,
    lon, postal_code, city, country, as the orders carry them: the address of the most distinct
    orders, at its most frequent coordinates) with geo_precision: coordinates
    from the orders (exact), else from the postal code (--geo FILE), the city or the country
    (installed GeoNames gazetteer).

    Example:

        segchain segment orders.csv --clv --profile profile.csv -o segments.parquet
    """
    from segchain.config import name_sources
    from segchain.schema import (
        PREVIOUS_HINT,
        check_customer_ids,
        check_one_row_per_customer,
        check_table_kind,
    )
    from segchain.segment import profile_per_customer
    from segchain.segment import segment as run_segment
    from segchain.tableio import collect, provenance, read_table, reading

    # '- --previous -': --previous (read first) took the order lines from stdin, and the orders
    # then found it empty ('<stdin>: the file is empty', exit 1, after the work).
    stdin = [
        name
        for name, value in (
            ("INPUT", "-" if "-" in (orders or ["-"]) else None),
            ("--previous", previous),
            ("--geo", geo),
        )
        if value == "-"
    ]
    if len(stdin) > 1:
        raise UsageError(
            f"only one input can be '-' (stdin); got {', '.join(stdin)}",
            hint="give the others as files, e.g. --previous last_month.parquet",
        )
    reporter = c.Reporter(quiet=quiet, verbose=verbose)
    cfg = c.load_config(config, reporter)
    params = _resolve(
        {
            "method": method,
            "k": k,
            "as_of": as_of,
            "clv": clv,
            "clv_horizon": clv_horizon,
            "abc_cutoffs": abc_cutoffs,
            "xyz_cutoffs": xyz_cutoffs,
            "seed": seed,
        },
        cfg,
    )
    postal_codes = g.postal(geo, geo_country, reporter=reporter)
    previous_frame = None
    if previous is not None:
        prev_table = read_table(previous)
        check_table_kind(
            prev_table.frame.collect_schema().names(),
            prev_table.stage,
            "segments",
            source=c.table_name("--previous", previous),
            hint=PREVIOUS_HINT,
        )
        previous_frame = collect(prev_table.frame)
        check_customer_ids(
            previous_frame,
            source=c.table_name("--previous", previous),
            hint=PREVIOUS_HINT,
        )
        check_one_row_per_customer(previous_frame, source=c.table_name("--previous", previous))

    opts = c.OrderOptions(
        map=map,
        preset=preset,
        date_format=date_format,
        returns=returns,
        sheet=sheet,
        rejects=rejects,
    )
    loaded = c.load_orders(orders or ["-"], opts, config=cfg, reporter=reporter, coordinates=True)
    # One pass: the reconciliation (and the rejected lines) are collected with the features,
    # and settled first, so that an export whose every line is rejected stops with its reasons
    # rather than with "no customers".
    recons = []
    fits_clv = bool(params["clv"])
    with (
        Work(
            "segment",
            "segmenting" + (" and fitting CLV" if fits_clv else ""),
            quiet=quiet or not fits_clv,
        ),
        reading(loaded.table.name),
        # The stage names --previous by its option alone: add its file, as a read error does.
        c.tables_named({"--previous": previous}),
    ):
        result = run_segment(
            loaded.imp.lines,
            previous=previous_frame,
            tally=loaded.tally,
            on_tally=lambda tallied: recons.append(loaded.settle(tallied)),
            as_exported=loaded.imp.as_exported,
            **params,
        )
    recon = recons[0]
    reporter.name_tables({"--previous": previous})
    for warning in result.warnings:
        # The stage names --as-of, --k, ...: a value from the config is named by its key.
        reporter.warn(name_sources(warning))
    unread = g.postal_table_unread(
        geo,
        result.segments.columns,
        whose="the orders",
        fix="if a column of the export holds postal codes, map it: --map postal_code=HEADER",
    )
    segments, located = g.locate_customers(
        result.segments, postal_codes=postal_codes, reporter=reporter, unread=unread
    )
    if result.clv_fit is not None:
        reporter.info(_clv_fit_line(result.clv_fit))
    excluded = {k_: v for k_, v in result.excluded.items() if v}
    if excluded:
        reporter.info(
            name_sources(
                "  not counted in the features: "
                + ", ".join(plural(v, *_EXCLUDED[k_]) for k_, v in excluded.items())
            )
        )
    if result.all_rejected:
        reporter.info(
            c.all_rejected_line(
                result.all_rejected,
                rejects,
                "{customers} whose every line was rejected {verb} in no segment",
                ("is", "are"),
            )
        )
    # What was used: the resolved options, with k and as_of as the stage settled them.
    recorded = {
        **params,
        "k": result.k,
        "as_of": str(result.as_of),
        "previous": previous,
        "geo": geo,
        "geo_country": geo_country,
    }
    if params["method"] != "abc-xyz":
        del recorded["abc_cutoffs"], recorded["xyz_cutoffs"]
    # Customers of the export in no row: those whose every line was rejected (the lines are
    # counted in the reconciliation, the customers nowhere else).
    inputs = {
        "orders": recon.read,
        "customers": segments.height,
        "customers_rejected": len(result.all_rejected),
    }
    title = f"{plural(result.segments.height, 'customer')} in "
    title += plural(result.profile.height, "segment")
    title += f" ({params['method']}, as of {result.as_of})"
    reporter.table(c.frame_table(profile_per_customer(result.profile), title=title))
    if result.changed is not None:
        gone = result.previous_only
        reporter.info(
            f"{plural(result.changed.height, 'customer')} changed segment since {previous}"
            + (f"; {plural(result.new_customers, 'new customer')}" if result.new_customers else "")
            + (
                f"; {plural(len(gone), 'customer')} of {previous} not in this run "
                f"({examples(gone, 3)})"
                if gone
                else ""
            )
        )
    if profile is not None:
        c.write_output(
            result.profile,
            profile,
            fmt=None,
            metadata=provenance("segment_profile", params=recorded, inputs=inputs),
            reporter=reporter,
            what="segments",
        )
    c.write_output(
        segments,
        output,
        fmt=format,
        metadata=provenance(
            "segments",
            params=recorded,
            inputs=inputs,
            **g.provenance(located),
            **({"clv": result.clv_fit} if result.clv_fit is not None else {}),
        ),
        reporter=reporter,
        what="customers",
    )


def _resolve(given: dict[str, Any], cfg: Any) -> dict[str, Any]:
    """The options of ``segment()``, resolved once (command line, environment, config, default):
    the same dict is the stage's keywords and, with what the stage settled, the provenance."""
    from segchain.config import setting
    from segchain.segment import ABC_CUTOFFS, XYZ_CUTOFFS, check_options

    def get(name: str, default: Any) -> Any:
        return setting(given[name], cfg, "segment", name, default)

    abc = _pair(get("abc_cutoffs", None), "--abc-cutoffs")
    if abc is not None and max(abc) > 1:  # given in percent: 80,95
        abc = (abc[0] / 100, abc[1] / 100)
    xyz = _pair(get("xyz_cutoffs", None), "--xyz-cutoffs")
    params = {
        "method": get("method", "rfm"),
        "k": get("k", None),
        "as_of": _parse_date(get("as_of", None)),
        # --clv / --no-clv on the command line, else the config's, else off.
        "clv": bool(get("clv", False)),
        "clv_horizon": get("clv_horizon", 365),
        "abc_cutoffs": abc or ABC_CUTOFFS,
        "xyz_cutoffs": xyz or XYZ_CUTOFFS,
        "seed": get("seed", 0),
    }
    _refuse_unused(given, params)
    if given["k"] is None and params["method"] != "kmeans":
        # A k from the config is a standing setting for the k-means runs (as a config's
        # [forecast] address is for a cluster's): an RFM or ABC-XYZ run does not use it, where
        # it refused them all ('[segment] k applies to --method kmeans only', exit 2). On the
        # command line, --k with another method is still refused: it would be read for nothing.
        params["k"] = None
    # The stage's own rules too, before the orders are read.
    check_options(
        params["method"],
        params["k"],
        params["clv_horizon"],
        params["abc_cutoffs"],
        params["xyz_cutoffs"],
    )
    return params


def _refuse_unused(given: dict[str, Any], params: dict[str, Any]) -> None:
    """An option given on the command line that the run would read for nothing is a usage
    error, as --k with another method is (--abc-cutoffs with RFM, --clv-horizon without --clv,
    exit 0 without a word). From the config they are standing settings, as its k is."""
    from segchain.errors import UsageError

    method = params["method"]
    unused = [
        f"{option} applies to --method abc-xyz only (got --method {method})"
        for option, key in (("--abc-cutoffs", "abc_cutoffs"), ("--xyz-cutoffs", "xyz_cutoffs"))
        if given[key] is not None and method != "abc-xyz"
    ]
    if given["clv_horizon"] is not None and not params["clv"]:
        unused.append("--clv-horizon applies with --clv only")
    if unused:
        raise UsageError("; ".join(unused))


def _clv_fit_line(fit: dict[str, Any]) -> str:
    """The fitted CLV models in one line of stderr (the Parquet metadata holds them whole)."""
    bg, gg = fit["bgnbd"], fit["gamma_gamma"]
    line = (
        f"  CLV fitted: BG/NBD r {bg['r']:.4g}, alpha {bg['alpha']:.4g}, a {bg['a']:.4g}, "
        f"b {bg['b']:.4g} (time in weeks; {plural(bg['customers'], 'customer')})"
    )
    if gg is not None:
        line += (
            f"; Gamma-Gamma p {gg['p']:.4g}, q {gg['q']:.4g}, gamma {gg['gamma']:.4g} "
            f"({plural(gg['customers'], 'repeat customer')})"
        )
    return line


_EXCLUDED = {
    "after_as_of": ("line on or after --as-of", "lines on or after --as-of"),
    "non_product": ("non-product line", "non-product lines"),
}


def _parse_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UsageError(f"--as-of must be a date like 2024-03-31, got {value!r}") from None


def _pair(value: object, option: str) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) != 2:
        raise UsageError(f"{option} must be two numbers separated by a comma, got {value!r}")
    return numbers[0], numbers[1]
