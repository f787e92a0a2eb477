"""report: one HTML, Markdown or terminal report from any of the stages' output tables.

Pure: ``recognise_table`` names a table from its metadata or key columns, ``build_report`` turns
the recognised tables into a ``Report`` (sections of headline numbers, tables and charts), and
``to_html`` / ``to_markdown`` / ``to_rich`` lay it out. No file I/O, no printing, no clock: the
same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from segchain.errors import UsageError
from segchain.formatting import agree
from segchain.report.model import InputInfo, Report
from segchain.report.params import DEFAULT_TITLE, ReportParams
from segchain.schema import (
    BOOL_COLUMNS,
    ITEM_RULES,
    ITEMS_OPTION,
    ON_HAND_OPTION,
    SITES_OPTION,
    STAGE_KINDS,
    TABLE_KEYS,
    TABLE_KINDS,
    recognise_table,
)
from segchain.tableio import collect, provenance

KINDS = tuple(TABLE_KINDS)
# The stages' true/false columns: network's sites and assignments, stock's policy.
FLAG_COLUMNS = (*sorted(BOOL_COLUMNS), "capped", "rationed", "no_demand")
# What each kind is, for messages.
KIND_NAMES = {name: kind.about for name, kind in TABLE_KINDS.items()}
# The order-line columns a section or check reads. A forecast's series keys may be any order
# column (forecast --by), so a column another table has is read too (``orders_as_read``).
ORDER_COLUMNS_READ = frozenset(
    {
        "order_date",
        "quantity",
        "amount",
        "unit_price",
        "flag",
        "customer_id",
        "sku",
        "description",
        "site",
        "segment",
        "segment_rank",
    }
)


def is_rejects(columns: Sequence[str], stage: str | None = None) -> bool:
    """segchain's own rejected lines (``--rejects``): by metadata, else a first column ``row``
    and a last column ``reason`` around the export's own fields."""
    if stage:
        return stage == "rejects"
    cols = list(columns)
    return len(cols) >= 2 and cols[0] == "row" and cols[-1] == "reason"


# Columns stock's policy table has and no other table does, of a stage (a forecast's
# demand_class, stock --segments-out's service_measure, expected_fill_rate, expected_csl and
# avg_inventory are not here) or of its inputs (an item master, stock on hand): what stock
# computes, named in its own words. Not safety_stock, reorder_point, order_qty, eoq,
# review_days, mean_demand or inventory_value, which an ERP's item master or stock report may
# carry as its own fields. (The policy's unit_cost, lead times, moq, pack_size are an item
# master's; its on_hand is the stock on hand's.)
POLICY_ONLY_COLUMNS = (
    "service_target",
    "distribution",
    "policy_type",
    "mean_demand_lt",
    "sd_demand_lt",
    "order_up_to",
    "unit_cost_source",
    "demand_model",
    "unrationed_avg_inventory",
    "history_max",
    "history_max_at_forecast",
    "inventory_position",
    "order_now",
)


def damaged_policy(columns: Sequence[str], stage: str | None = None) -> tuple[list[str], list[str]]:
    """A table recognised as no kind that carries columns only stock's policy has
    (``POLICY_ONLY_COLUMNS``) but lacks a key column of the policy: those columns present (in
    the table's order) and the policy's key columns it lacks; else two empty lists. Such a
    table is a policy cut down by hand, not the item master or stock on hand its ``sku`` and
    ``unit_cost`` or ``on_hand`` made it look like (the report skipped it, and with it the
    Inventory section, without a word)."""
    keys = TABLE_KINDS["policy"].keys
    if stage or set(keys) <= set(columns):
        return [], []
    own = [c for c in columns if c in POLICY_ONLY_COLUMNS]
    if not own:
        return [], []
    return own, [k for k in keys if k not in columns]


def input_kind(columns: Sequence[str], stage: str | None = None) -> str | None:
    """What input of another stage a table no stage wrote is, by its columns, or None: an item
    master (``sku`` and an item value such as ``unit_cost``), stock on hand (``sku`` and
    ``on_hand``), or network's candidate sites (``site_id`` and a site value, without the
    ``open`` that network's sites table has). `report out/*.csv` picks them up where a user
    keeps them beside the outputs; the report reads none of them. A policy table that lacks a
    column the report needs is none of them (``damaged_policy``), though it has ``sku`` and
    ``unit_cost``."""
    if stage:
        return None
    cols = set(columns)
    if damaged_policy(columns)[0]:
        return None
    if "sku" in cols and "on_hand" in cols:
        return f"stock on hand (stock's {ON_HAND_OPTION})"
    if "sku" in cols and cols & set(ITEM_RULES):
        return f"an item master (stock's and costs' {ITEMS_OPTION})"
    if "site_id" in cols and "open" not in cols and cols & {"lat", "lon", "capacity", "fixed_cost"}:
        return f"candidate sites (network's {SITES_OPTION})"
    return None


def unrecognised_message(source: str, columns: Sequence[str], stage: str | None) -> str:
    """Say what a table lacks to be recognised, and which key columns each kind needs."""
    shown = ", ".join(columns[:12]) + (
        f" (and {len(columns) - 12} more)" if len(columns) > 12 else ""
    )
    kinds = "; ".join(f"{kind}: {', '.join(keys)}" for kind, keys in TABLE_KEYS.items())
    what = f" (its metadata says stage {stage!r})" if stage else ""
    own, lacking = damaged_policy(columns, stage)
    policy = (
        f"; it has columns only stock's policy table has ({', '.join(own[:4])}"
        + (f" and {len(own) - 4} more" if len(own) > 4 else "")
        + f") but lacks {', '.join(lacking)}: give the policy as segchain stock wrote it"
        if own
        else ""
    )
    return (
        f"{source}: not a segchain stage output{what}; columns {shown or 'none'}{policy}. "
        f"A table is recognised by its Parquet metadata or by the key columns of one kind: {kinds}"
    )


def collect_tables(
    named: Sequence[tuple[str, str, str, pl.DataFrame, Mapping[str, Any]]],
) -> tuple[dict[str, pl.DataFrame], dict[str, dict[str, Any]], list[InputInfo]]:
    """Key recognised tables by kind; raise UsageError listing every duplicate kind at once.

    Args:
        named: (source, kind, how, frame, metadata) of each input, already recognised
            (``how`` is "metadata" or "columns", as ``recognise_table`` returns it).
    """
    tables: dict[str, pl.DataFrame] = {}
    meta: dict[str, dict[str, Any]] = {}
    infos: list[InputInfo] = []
    sources: dict[str, list[str]] = {}
    for source, kind, how, frame, metadata in named:
        sources.setdefault(kind, []).append(source)
        tables.setdefault(kind, frame)
        meta.setdefault(kind, dict(metadata))
        infos.append(InputInfo(source, kind, frame.height, how))
    dupes = {k: v for k, v in sources.items() if len(v) > 1}
    if dupes:
        detail = "; ".join(f"{KIND_NAMES.get(k, k)}: {', '.join(v)}" for k, v in dupes.items())
        raise UsageError(
            f"more than one input of the same kind ({detail})",
            hint="give one table of each kind (segments, forecast, backtest, policy, ...)",
        )
    return tables, meta, infos


def order_columns_read(columns: Sequence[str], others: Sequence[Sequence[str]]) -> list[str]:
    """Of the orders' ``columns``, in their order, those the report reads: ``ORDER_COLUMNS_READ``
    and those of the other tables (``others``: their columns), which may key a forecast."""
    shared = {c for cols in others for c in cols}
    return [c for c in columns if c in ORDER_COLUMNS_READ or c in shared]


def orders_as_read(tables: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """``tables`` with the orders cut to the columns the report reads (``order_columns_read``):
    every copy a section makes of the lines (a filter, a join) copied each of an export's
    columns, its names and addresses too (10 M lines: 4.4 GB peak for a 0.6 MB page)."""
    orders = tables.get("orders")
    if orders is None:
        return dict(tables)
    others = [t.columns for k, t in tables.items() if k != "orders"]
    kept = order_columns_read(orders.columns, others)
    return {**tables, "orders": orders.select(kept) if kept != orders.columns else orders}


def build_report(
    tables: Mapping[str, pl.DataFrame],
    *,
    title: str | None = None,
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    inputs: Sequence[InputInfo] = (),
    params: ReportParams | None = None,
) -> Report:
    """A Report: what to do now first, then one section per stage present, in pipeline order.

    Args:
        tables: frames keyed by kind (``segments``, ``segment_profile``, ``forecast``,
            ``backtest``, ``policy``, ``stock_segments``, ``assignments``, ``sites``,
            ``orders``, ``costs``, ``customer_costs``, ``forecast_comparison``,
            ``stock_comparison``).
        title: the report's title (default: ``params.title``, else "segchain report").
        metadata: each table's provenance (``params``, ``inputs``, ...), keyed by kind.
        inputs: where each table came from (listed at the end of the report).
        params: the resolved options, recorded in the report's provenance.

    Raises:
        UsageError: a kind is not one the report knows, or no table was given.
    """
    from segchain.report.sections import build_sections

    unknown = sorted(set(tables) - set(KINDS))
    if unknown:
        raise UsageError(
            f"unknown table {agree(len(unknown), 'kind', 'kinds')} {', '.join(unknown)}; "
            f"known: {', '.join(KINDS)}"
        )
    if not tables:
        raise UsageError("no table to report on", hint="give one or more stage outputs")
    frames = {
        k: with_flags(without_scratch_names(v))
        for k, v in orders_as_read({k: collect(v) for k, v in tables.items()}).items()
    }
    sections, skipped = build_sections(frames, metadata or {})
    params = params or ReportParams(title=title or DEFAULT_TITLE)
    recorded = provenance(
        "report", params=params.as_dict(), inputs={i.source: i.rows for i in inputs}
    )
    from segchain.report.consistency import mismatches

    return Report(
        title=title or params.title,
        sections=sections,
        inputs=list(inputs),
        skipped=skipped,
        mismatched=mismatches(frames, metadata or {}),
        provenance=recorded,
    )


def without_scratch_names(frame: pl.DataFrame) -> pl.DataFrame:
    """The table without columns whose name starts with '_': no stage writes one, and the
    sections name their working columns so (``_demand``, ``_capped``, ``_w``); a table carrying
    such columns of its own (added by hand, or by a loader: Fivetran's ``_file``) ended in a
    traceback where a join or a computation met the report's column of that name. Like any
    column the report does not read, they are passed over."""
    scratch = [c for c in frame.columns if c.startswith("_")]
    return frame.drop(scratch) if scratch else frame


def with_flags(frame: pl.DataFrame) -> pl.DataFrame:
    """The stages' true/false columns as booleans, null where unknown (``sections.common.truth``).

    A CSV column with one odd cell (``maybe``, ``1e15``) is read as text: shown as it is, its
    other rows would read ``true`` and ``false`` instead of yes and no, and a test of it would
    take the text ``false`` for true."""
    from segchain.report.sections.common import truth

    text = [c for c in FLAG_COLUMNS if c in frame.columns and frame.schema[c] != pl.Boolean]
    return frame.with_columns(truth(c) for c in text) if text else frame


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script)."""
    from segchain.report.html import render

    return render(report)


def to_markdown(report: Report, *, image_dir: str | None = None) -> tuple[str, dict[str, bytes]]:
    """The report as Markdown, and the PNG charts to write under ``image_dir`` (name -> bytes).

    Without ``image_dir`` the charts are left out with a note.
    """
    from segchain.report.markdown import render

    return render(report, image_dir=image_dir)


def to_rich(report: Report) -> list[Any]:
    """rich renderables summarising the report for a terminal."""
    from segchain.report.terminal import render

    return render(report)


__all__ = [
    "DEFAULT_TITLE",
    "KINDS",
    "STAGE_KINDS",
    "ReportParams",
    "build_report",
    "collect_tables",
    "order_columns_read",
    "orders_as_read",
    "is_rejects",
    "recognise_table",
    "to_html",
    "to_markdown",
    "to_rich",
    "unrecognised_message",
]
