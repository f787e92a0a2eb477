"""Canonical column names, the contract of each stage's table, and checks against them."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import polars as pl

from segchain.errors import MissingColumnsError, examples
from segchain.formatting import agree, plural

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

# One year for every stage: a holding rate is a rate per year, stock's annual demand (EOQ) is the
# mean per period x DAYS_PER_YEAR / period_days, and costs carries stock over period_days /
# DAYS_PER_YEAR of a year. The mean calendar year (a leap day every fourth year), so that a year
# of orders carries a year's rate over four years, and a month is a twelfth of it, 30.4375 days.
DAYS_PER_YEAR = 365.25

# The window of plausible order dates (orders.implausible_date rejects a line dated outside it),
# so no table a stage makes from an export holds a date beyond it.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)
# The last period a forecast of such orders can label: ten years of --horizon (3,660 days at most)
# after LATEST_DATE, to that year's end.
LATEST_PERIOD = dt.date(2110, 12, 31)

# A month and a quarter are a twelfth and a quarter of that year: the days of a forecast period
# (`--freq`) for stock's plan, the bootstrap's history and forecast's `--horizon` limit.
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
DAYS_PER_QUARTER = DAYS_PER_YEAR / 4
PERIOD_DAYS = {"D": 1.0, "W": 7.0, "M": DAYS_PER_MONTH}
# The forecast's column of its --freq, on every row: a forecast of one period has no date gap to
# read its length from, and the Parquet metadata that records --freq is lost in a CSV or a pipe
# (a monthly one piped to stock was planned as weekly, 4.35 times its demand per day).
FREQ_COLUMN = "freq"

# Order lines after mapping. Either unit_price or amount must be present.
ORDER_REQUIRED = ("order_id", "order_date", "customer_id", "sku", "quantity")
ORDER_VALUE = ("unit_price", "amount")
# The columns an order id is made of where the export has none (orders.derived_order_id): each
# customer's lines of one day are one order.
ORDER_ID_FROM = ("customer_id", "order_date")
ORDER_OPTIONAL = (
    "site",
    "lat",
    "lon",
    "city",
    "postal_code",
    "country",
    "customer_name",
    "description",
    "currency",
    "unit",
)
ORDER_COLUMNS = ORDER_REQUIRED + ORDER_VALUE + ORDER_OPTIONAL
# A row's number (1 = the first data row) in a table being checked, named as no column is.
ROW_NUMBER = "_segchain_row_number"
# How to write a side table's number: a decimal comma is read as the orders' rule reads it
# (``numbers``), so the hint may not ask for a decimal point, as it did before session 48.
NUMBER_HINT = (
    "write plain numbers (12.5, or 12,5 with a decimal comma; no units, currency or spaces)"
)

# Identifier columns anywhere in the pipeline: always strings, never numbers, so that
# `0001` stays `0001` when a table goes through CSV.
ID_COLUMNS = frozenset(
    {
        "order_id",
        "customer_id",
        "sku",
        "site",
        "site_id",
        "segment",
        "unique_id",
        "postal_code",
        "country",
        "city",
        "customer_name",
        "description",
        "currency",
        "unit",
        "model",
        "demand_class",
        "service_measure",
        "reason",
        "flag",
    }
)

# ---- Options that give a stage a table. A stage's message names such a table by its option
# (``--items: 1 sku is on more than one row: ...``): the stage does not know the file, and
# 'items: ...' named neither; the CLI adds the file (``--items items.csv: ...``,
# ``cli.common.tables_named``).
ORDERS_OPTION = "--orders"
ASSIGNMENTS_OPTION = "--assignments"
SEGMENTS_OPTION = "--segments"  # stock: segment's output, the segment of each --orders line
ITEMS_OPTION = "--items"
SITES_OPTION = "--sites"
ON_HAND_OPTION = "--on-hand"
LANES_OPTION = "--costs"
POLICY_OPTION = "--policy"
STOCK_SEGMENTS_OPTION = "--stock-segments"
FORECAST_OPTION = "--forecast"
# The arguments that give a stage a table: a message about two tables names each by its option
# or argument (``{SEGMENTS} and {--orders} have ...``, ``errors.SegchainError`` ``tables``).
SEGMENTS_ARGUMENT = "SEGMENTS"
SEGMENTS_HINT = "give the segments that segchain segment wrote (one row per customer)"
# A segments row without its customer_id or segment (costs, forecast, stock --segments).
SEGMENT_ROWS_HINT = (
    "give segment's output: one row per customer, each with its customer_id and segment"
)
PREVIOUS_HINT = "give --previous the table that segchain segment -o wrote last time"
FORECAST_ARGUMENT = "FORECAST"
CUSTOMERS_ARGUMENT = "CUSTOMERS"
# The word a stage's own message names each by ('forecast: 1 row has no ds'), without the file;
# the CLI names it as the command does ('FORECAST fc.csv: 1 row has no ds').
ARGUMENT_WORDS = {
    SEGMENTS_ARGUMENT: "segments",
    FORECAST_ARGUMENT: "forecast",
    CUSTOMERS_ARGUMENT: "customers",
}

SPREADSHEET_ERRORS = (
    "#N/A",
    "#NAME?",
    "#REF!",
    "#VALUE!",
    "#DIV/0!",
    "#NULL!",
    "#NUM!",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#GETTING_DATA",
    "#ERROR!",
)
"""The error values Excel, LibreOffice and Google Sheets write into a cell whose formula
failed, as a CSV saved from the sheet holds them: a customer id looked up with VLOOKUP that
found nothing is ``#N/A``. As an id it is no customer (or sku, order, site): all the lines
of every failed lookup would be one customer named ``#N/A``. In an order export it is read
as a blank id, as a workbook's error cell is read (``id_null``); in a table given to a
stage it is refused as a key (``KEY_COLUMNS``, ``check_key_values``)."""


PLACEHOLDERS = (
    "NULL", "null", "Null", "(null)", "<null>",
    "None", "NONE", "none",
    "N/A", "n/a", "NA", "<NA>",
    "NaN", "nan",
    "-", "--",
    "(blank)",
)  # fmt: skip
"""What database clients, dataframe libraries and reports write in a field that holds nothing:
SQL Server's 'Save results as' and bcp (NULL), Python's str(None), pandas' NaN and <NA>, R's NA,
a report's dash or Excel pivot's (blank). As an order export's id it is no customer (or sku,
order): every guest line of an export whose blank ids were written NULL was one customer,
ranked first among the Champions. Read as a blank id, as ``SPREADSHEET_ERRORS`` are."""

NO_ID = (*SPREADSHEET_ERRORS, *PLACEHOLDERS)
"""The texts an order export's id column holds for none (``id_null``)."""


def freq_values(df: pl.DataFrame) -> list[str]:
    """The values a forecast's ``freq`` column holds (``FREQ_COLUMN``), trimmed, in capitals,
    each once, empty ones left out; none without the column. segchain's own holds one of
    ``PERIOD_DAYS`` (stock refuses any other, the report names its period by it)."""
    if FREQ_COLUMN not in df.columns:
        return []
    text = df.get_column(FREQ_COLUMN).cast(pl.String).str.strip_chars().str.to_uppercase()
    return text.filter(text.is_not_null() & (text != "")).unique(maintain_order=True).to_list()


def id_null(text: pl.Expr) -> pl.Expr:
    """A trimmed id with "", spreadsheet error values and placeholders for none (``NO_ID``) as
    null."""
    return pl.when((text.str.len_bytes() > 0) & ~text.is_in(NO_ID)).then(text)


RAW_POSTAL_CODE = "_postal_code_raw"
"""In ``OrderImport.lines`` when the export's postal codes are plain text: the postal code as
exported, of which ``postal_code`` is ``blank_null(strip_chars())``. A stage that only counts
lines by postal code (segment's ship-to) groups the raw values and cleans the few groups,
instead of trimming every line."""


def text_expr(column: str, *, dtype: pl.DataType, blank_as_null: bool = True) -> pl.Expr:
    """A descriptive text column (names, cities): blanks become null. Not stripped: it is shown,
    never joined on, and stripping every name of a large export costs more than it is worth.
    ``blank_as_null=False``: "" kept (see ``OrderImport.as_exported``)."""
    c = pl.col(column) if dtype == pl.String else pl.col(column).cast(pl.String)
    return pl.when(c == "").then(None).otherwise(c).alias(column) if blank_as_null else c


KEY_COLUMNS = ("order_id", "customer_id", "sku", "site", "site_id", "segment", "unique_id")
"""The columns that say what a row of a stage's table is about (whose customer, sku, site,
segment or series). A spreadsheet error value there is a failed formula, not a name: it is
refused where the table is read (``check_key_values``), as a blank customer_id, sku or
site_id is refused by the stage that reads it."""


def _rows_text(rows: Sequence[int], limit: int = 4) -> str:
    """``row 3`` or ``rows 1, 5, 9, 12 and 3 more`` (1 = the first data row)."""
    if len(rows) == 1:
        return f"row {rows[0]:,}"
    more = f" and {len(rows) - limit:,} more" if len(rows) > limit else ""
    return f"rows {', '.join(f'{n:,}' for n in rows[:limit])}{more}"


def key_value_problems(df: pl.DataFrame) -> list[str]:
    """One message per key column (``KEY_COLUMNS``) of ``df`` holding spreadsheet error values
    (``SPREADSHEET_ERRORS``, as written or followed by blanks): how many rows, each value and
    its rows (1 = the first data row)."""
    problems = []
    for col in KEY_COLUMNS:
        if col not in df.columns or df.schema[col] != pl.String:
            continue
        c = pl.col(col)
        # A cheap look at the first byte first (0.05 s on 10 M rows, a search for '#' anywhere
        # 0.28 s): a table of millions of rows seldom holds any.
        if not df.select(c.str.starts_with("#").any()).item():
            continue
        value = c.str.strip_chars()
        hits = df.select(value.alias("v")).with_row_index("row", offset=1)
        hits = hits.filter(pl.col("v").is_in(SPREADSHEET_ERRORS))
        if not hits.height:
            continue
        groups = hits.group_by("v", maintain_order=True).agg("row")
        shown = [f"{v!r} ({_rows_text(rows)})" for v, rows in groups.iter_rows()]
        problems.append(
            f"{plural(hits.height, 'row')} with a spreadsheet error value as {col}: "
            + ", ".join(shown)
        )
    return problems


def check_key_values(df: pl.DataFrame, *, source: str) -> None:
    """Refuse a table whose key columns hold spreadsheet error values (``key_value_problems``);
    ``source`` names it (``--sites sites.csv``). Called on every stage table read
    (``tableio.read_table``), before the stage sees it.

    Raises:
        DataError: naming each column, value and its rows.
    """
    from segchain.errors import DataError

    problems = key_value_problems(df)
    if problems:
        raise DataError(
            f"{source}: " + "; ".join(problems),
            hint="a formula failed in the sheet this table was saved from (#N/A: a lookup "
            "found nothing): fill in those values or remove the rows, then save it again",
        )


JOIN_ID_COLUMNS = ("order_id", "customer_id", "sku", "site", "site_id")
"""The ids by which a stage table meets the order lines and the other tables. An order export's
ids are trimmed and, in a column a spreadsheet turned into floats, read without their ``.0``
(``orders.id_expr``); a stage table's are read alike (``stage_ids``), or the two did not meet."""

# Beyond 2**53 a double no longer holds every whole number: such a float id has lost digits.
_EXACT_FLOAT = 2.0**53
_FLOAT_ID = r"^\d+\.0+$"
# An id with a space (any Unicode one) at either end, or ending in '.0'.
_MAY_CHANGE = r"^\s|\s$|\.0+\s*$"


def _float_ids(df: pl.DataFrame, col: str) -> pl.Expr | None:
    """``col`` read as the ids a spreadsheet turned into floats meant, or None when it holds
    none: a float column whose every value is a whole number (a Parquet double, as pandas
    writes an integer column with an empty cell), or text whose every value is digits with an
    optional ``.0`` and one at least with it (as order exports' ``float_id_columns``)."""
    dtype = df.schema[col]
    c = pl.col(col)
    if dtype.is_float():
        # NaN is pandas' missing value: no id, as in an order export (and refused as blank).
        whole = (
            c.is_null()
            | c.is_nan()
            | (c.is_finite() & (c == c.round(0)) & (c.abs() < _EXACT_FLOAT))
        )
        if not df.select(whole.all()).item():
            return None
        return pl.when(c.is_nan()).then(None).otherwise(c).cast(pl.Int64).cast(pl.String)
    if dtype != pl.String:
        return None
    v = c.str.strip_chars()
    # The cheap look first: most id columns hold no '.0' at all.
    if not df.select(v.str.contains(_FLOAT_ID).any()).item():
        return None
    if not df.select((v.is_null() | v.str.contains(r"^(\d+(\.0+)?)?$")).all()).item():
        return None
    return v.str.replace(r"\.0+$", "")


def stage_ids(df: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """``df`` with its ids (``JOIN_ID_COLUMNS``) read as an order export's are, and what was
    changed, for stderr: spaces around an id removed (``' 17850 '``), and a column a
    spreadsheet turned into floats read without its ``.0`` (``17850.0`` is 17850). A stage
    table saved through a spreadsheet met none of the orders' ids: forecast refused it ('no
    customer_id in common'), costs gave its customers no orders. Two ids are never made one:
    a column where ``17850`` and ``17850.0`` (or ``'A1'`` and ``'A1 '``) are both present is
    read as written, and that is said. A blank id stays as it is, for the stage to refuse."""
    fixes: list[pl.Expr] = []
    notes: list[str] = []
    text = [c for c in JOIN_ID_COLUMNS if c in df.columns and df.schema[c] == pl.String]
    # One cheap look at every text id column first (70 ms for two columns of 2 M ids, against
    # 270 ms a column for the whole work): most hold neither spaces around an id nor a '.0'.
    looked = (
        df.select(pl.col(c).str.contains(_MAY_CHANGE).any() for c in text).row(0) if text else ()
    )
    suspect = {c for c, hit in zip(text, looked, strict=True) if hit}
    for col in JOIN_ID_COLUMNS:
        if col not in suspect and not (col in df.columns and df.schema[col].is_float()):
            continue
        c = pl.col(col)
        floats = _float_ids(df, col)
        if floats is not None:
            new, what, done = floats, "ids written as floats", "read as whole numbers"
        elif df.schema[col] == pl.String:
            new, what, done = c.str.strip_chars(), "ids with spaces around them", "trimmed"
        else:
            continue
        old = c.cast(pl.String)
        new = pl.when(new.str.len_bytes() == 0).then(old).otherwise(new)
        differs = old.ne_missing(new)
        changed = df.select(differs.sum()).item()
        if not changed:
            continue
        pairs = df.select(old.alias("old"), new.alias("new")).filter(pl.col("old").is_not_null())
        merged = (
            pairs.unique(maintain_order=True)
            .filter(pl.col("new").is_duplicated())
            .filter(pl.col("old") != pl.col("new"))
        )
        if merged.height:
            # The spaces or the '.0' are all that tell those apart: read as written.
            was, now = merged.row(0)
            notes.append(
                f"{col}: {what} kept as written ({plural(changed, 'row')}): {done}, "
                f"{was!r} would be one id with {now!r}, which the table holds too"
            )
            continue
        was, now = pairs.filter(pl.col("old").ne_missing(pl.col("new"))).row(0)
        fixes.append(new.alias(col))
        notes.append(
            f"{col}: {what} {done}, as an order export's are ({plural(changed, 'row')}; "
            f"{was!r} read as {'no id' if now is None else repr(now)})"
        )
    return (df.with_columns(fixes) if fixes else df), notes


# ---- Table kinds: the one registry of what each stage writes and how a table is recognised


@dataclass(frozen=True)
class TableKind:
    """A kind of table the stages write (or print) and the report reads.

    ``keys``: the columns by which it is recognised when it carries no metadata; ``stages``:
    the ``segchain.stage`` metadata values that name it; ``about``: what it is, for messages;
    ``printed``: a stage prints it rather than writes it today (recognised when saved).
    """

    name: str
    keys: tuple[str, ...]
    stages: tuple[str, ...]
    about: str
    printed: bool = False


# In recognition order: the first kind whose key columns are all present wins.
TABLE_KINDS: dict[str, TableKind] = {
    kind.name: kind
    for kind in (
        TableKind(
            "segments",
            ("customer_id", "segment", "segment_rank"),
            ("segment", "segments"),
            "segments (segchain segment)",
        ),
        TableKind(
            "segment_profile",
            ("segment", "customers", "share_customers"),
            ("segment_profile", "profile"),
            "segment profile (segchain segment --profile)",
        ),
        TableKind(
            "forecast",
            ("unique_id", "ds", "forecast"),
            ("forecast",),
            "forecast (segchain forecast)",
        ),
        TableKind(
            "backtest",
            ("unique_id", "mase", "wape"),
            ("backtest",),
            "backtest (segchain forecast --backtest)",
        ),
        TableKind(
            "policy",
            ("sku", "safety_stock", "reorder_point"),
            ("policy", "stock"),
            "policy (segchain stock)",
        ),
        TableKind(
            "stock_segments",
            ("sku", "segment", "service_level", "demand_share"),
            ("stock_segments",),
            "stock per segment (segchain stock --segments-out)",
        ),
        TableKind(
            "assignments",
            ("customer_id", "site_id", "distance_km"),
            ("assignments", "network"),
            "assignments (segchain network)",
        ),
        TableKind(
            "sites",
            ("site_id", "open", "demand_served"),
            ("sites",),
            "sites (segchain network --sites-out)",
        ),
        TableKind(
            "orders",
            ("order_id", "order_date", "customer_id", "sku", "quantity"),
            ("orders",),
            "order lines",
        ),
        TableKind(
            "customer_costs",
            ("customer_id", "segment", "revenue", "cost_to_serve"),
            ("customer_costs",),
            "cost to serve per customer (segchain costs --by customer)",
        ),
        TableKind(
            "costs",
            ("segment", "revenue", "cost_to_serve"),
            ("costs",),
            "cost to serve (segchain costs)",
        ),
        TableKind(
            "forecast_comparison",
            ("approach", "wape", "series"),
            ("forecast_comparison",),
            "forecast comparison (segment x sku vs sku total)",
            printed=True,
        ),
        TableKind(
            "stock_comparison",
            ("segment", "inventory_value_segmented", "inventory_value_uniform"),
            ("stock_comparison",),
            "stock comparison (segmented vs uniform)",
            printed=True,
        ),
    )
}
# Key columns of the kinds the stages write (for messages listing what a table needs).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    k.name: k.keys for k in TABLE_KINDS.values() if not k.printed
}

# Stage names found in ``segchain.stage`` metadata -> table kinds.
STAGE_KINDS = {stage: kind.name for kind in TABLE_KINDS.values() for stage in kind.stages}


def recognise_table(columns: Sequence[str], stage: str | None = None) -> tuple[str | None, str]:
    """The kind of a table and how it was recognised: ``("forecast", "metadata")``,
    ``("segments", "columns")`` or ``(None, "")``."""
    if stage and stage in STAGE_KINDS:
        return STAGE_KINDS[stage], "metadata"
    present = set(columns)
    for kind in TABLE_KINDS.values():
        if set(kind.keys) <= present:
            return kind.name, "columns"
    return None, ""


def require_rows(frame: pl.DataFrame, key: str, *, word: str, hint: str) -> None:
    """Refuse a table of only a header, given as ``key`` (``SEGMENTS``; ``word`` names it from
    Python): forecast said 'no customer_id in common: ...; segments have' and nothing after.

    Raises:
        DataError: the table has no rows.
    """
    from segchain.errors import DataError

    if frame.height == 0:
        raise DataError(
            f"{{{key}}}: the table has no rows (only a header)", hint=hint, tables={key: word}
        )


def check_table_kind(
    columns: Sequence[str], stage: str | None, expected: str, *, source: str, hint: str
) -> None:
    """Refuse another stage's output given where ``expected`` is read.

    A table recognised (by its metadata, else its key columns) as another kind can pass the
    column checks of the one expected (stock's policy has the ``sku, segment, inventory_value``
    of its per-segment table) and give plausible, wrong figures. A table of no known kind (one
    made by hand) is left to the column checks.

    Raises:
        DataError: naming what the table is and what was expected.
    """
    from segchain.errors import DataError

    kind, how = recognise_table(columns, stage)
    if kind is None or kind == expected:
        return
    by = "its metadata" if how == "metadata" else "its columns"
    raise DataError(
        f"{source}: holds {TABLE_KINDS[kind].about} (by {by}), not the expected "
        f"{TABLE_KINDS[expected].about}",
        hint=hint,
    )


# What --items and --on-hand hold, for check_not_a_stage_table (stock and costs read them).
ITEM_MASTER = "an item master"
ITEM_MASTER_HINT = "give the item master: one row per sku (and site) with its costs and lead times"
ON_HAND = "stock on hand"
ON_HAND_HINT = "give the stock on hand: one row per sku (and site) with on_hand"
# What --geo holds (segment and network read it).
POSTAL_TABLE = "a postal-code table"
POSTAL_TABLE_WANTED = (
    "a table of postal codes with their latitude, longitude (and country), or the GeoNames "
    "postal dump"
)
POSTAL_TABLE_HINT = f"give --geo {POSTAL_TABLE_WANTED}"


def check_not_a_stage_table(
    columns: Sequence[str], stage: str | None, what: str, *, source: str, hint: str
) -> None:
    """Refuse an order export or a stage's output where a table that no stage writes is read
    (``what``: an item master, stock on hand): its columns may pass the checks (an export's
    ``sku`` and ``quantity`` were read as stock on hand). A table of no known kind passes.

    Raises:
        DataError: naming what the table is and what was expected.
    """
    from segchain.errors import DataError

    kind, how = recognise_table(columns, stage)
    if kind is None:
        return
    by = "its metadata" if how == "metadata" else "its columns"
    raise DataError(f"{source}: holds {TABLE_KINDS[kind].about} (by {by}), not {what}", hint=hint)


# ---- Columns shared by a stage and the report

# segchain network: one row per customer and serving site; the sites table (--sites-out).
ASSIGNMENT_COLUMNS = (
    "customer_id",
    "segment",
    "site_id",
    "share",
    "distance_km",
    "transit_days",
    "sla_days",
    "sla_met",
    "demand",
    "transport_cost",
    "left_out",  # why a customer has no site: no_demand, unlocated (null when it has one)
)
SITE_COLUMNS = (
    "site_id",
    "city",  # from --sites; for proposed candidates, "near <nearest town>"
    "lat",
    "lon",
    "existing",  # from --sites (false for proposed candidates): the site runs today
    "open",
    "decision",  # SITE_DECISIONS: what to do with the site, from existing, open and customers
    "fixed_cost",
    "capacity",
    "demand_served",
    "utilization",
    "customers",
)
SITE_DECISIONS = {
    "keep": "an existing site that serves customers in the plan",
    "open": "a new site the plan opens",
    "close": "an existing site that serves no customer in the plan (kept open only because "
    "existing sites are forced open)",
    "unused": "a new site the plan does not open",
}
"""The ``decision`` of each site in ``network --sites-out``, and what it means."""

# ---- Provenance metadata: the keys every output carries (Parquet ``segchain.<key>``) and
# those a stage adds for the report and costs

META_STAGE = "stage"
META_VERSION = "version"  # segchain's version
META_CONFIG = "config"  # the config read: path, source, sha256 (None: none was read)
META_PARAMS = "params"  # the resolved options of the run
META_INPUTS = "inputs"  # rows read per input
META_TOTALS = "totals"  # network: NetworkTotals.as_dict()
# network's totals' baseline_status when the plan without promises found no plan within
# --time-limit: the comparison with it (baseline_* figures) is missing, not zero.
BASELINE_UNFINISHED = "unfinished"
# costs' source of its delivery_promise_* columns (metadata ``sources``) in that case, by
# which the report tells it from a costs table alone.
BASELINE_UNFINISHED_SOURCE = (
    "missing: network found no plan without promises within its --time-limit "
    "(rerun network with a larger --time-limit)"
)
# network's totals' promise_cost_status: whether what the promises cost (total_cost -
# baseline_total_cost, and the *_no_promise figures) is a proven figure. Cut short: either plan
# stopped at --time-limit or --node-limit, so the figure is an estimate. Unknown: the plan
# without promises found costs more than the plan with them, which a finished solve cannot give
# (the plan with promises is a plan without them too): -0.98 was printed as their cost.
PROMISE_COST_PROVEN = "proven"
PROMISE_COST_CUT_SHORT = "cut_short"
PROMISE_COST_UNKNOWN = "unknown"
# costs' source of its delivery_promise_* columns when the promise cost is unknown.
PROMISE_COST_UNKNOWN_SOURCE = (
    "missing: network's plan without promises, cut short at its solver limits, costs more than "
    "the plan with them, so what the promises cost is unknown (rerun network with a larger "
    "--node-limit or --time-limit)"
)


def promise_cost_status(totals: Mapping[str, Any] | None) -> str | None:
    """Whether network's promise cost is proven, cut short or unknown (``PROMISE_COST_*``);
    None without a comparison (none solved, or unfinished: ``baseline_status``).

    Read from ``promise_cost_status`` when the totals carry it, else from the solver statuses
    and the two totals (outputs written before it was recorded)."""
    if not totals:
        return None
    recorded = totals.get("promise_cost_status")
    if isinstance(recorded, str):
        return recorded
    base_status = totals.get("baseline_status")
    total, base = totals.get("total_cost"), totals.get("baseline_total_cost")
    if base_status in (None, BASELINE_UNFINISHED) or not isinstance(base, int | float):
        return None
    if not isinstance(total, int | float):
        return None
    # A sum's rounding is no cost (costs.promise.ROUNDING).
    if total - base < -1e-9 * max(abs(base), 1.0):
        return PROMISE_COST_UNKNOWN
    if totals.get("status") == "optimal" and base_status == "optimal":
        return PROMISE_COST_PROVEN
    return PROMISE_COST_CUT_SHORT


# The inputs that give costs a part of the cost to serve, for its warnings and the report's notes.
COST_TO_SERVE_INPUTS = (
    "--assignments (and --sites), --policy, or cost rates in the config's [costs]"
)
# Each part of the cost to serve and the input that gives it, for costs' warning of the parts
# left out and the report's note: a run without network's outputs (an export without
# geography: The Complete Journey, CDNOW) left transport and warehouse_fixed out with a word
# on neither stderr nor the page of what would fill them.
COST_PART_INPUTS = {
    "order_handling": "cost_per_order or cost_per_line in the config's [costs]",
    "returns_handling": "cost_per_return in the config's [costs]",
    "transport": "--assignments (segchain network's output)",
    "warehouse_fixed": "--assignments and --sites (segchain network's output and --sites-out)",
    "inventory_carrying": "--policy (segchain stock's output)",
}
# What network needs to place customers, said where transport or warehouse_fixed is missing.
NETWORK_NEEDS_LOCATIONS = (
    "network places each customer by the orders' lat, lon, postal code, city or country "
    "(map the one the export has when segmenting)"
)
# costs' source of its delivery_promise_* columns when no segment has a delivery promise
# (max_delivery_days): nothing to cost, so empty, not 0 (which read as a promise kept for free).
NO_DELIVERY_PROMISE_SOURCE = (
    "none: no segment has a delivery promise (max_delivery_days in the config's [segments])"
)
# network's params' transport_rate: how transport was priced, "given" (a cost_per_unit_km),
# "lanes" (--costs) or this, no rate given (the default 1 per unit and km): not a freight cost,
# which the report says beside it.
TRANSPORT_RATE_DEFAULT = "default"
META_PROMISE = "promise"  # network: per segment, what its delivery promise costs
META_FIXED_COST_PERIOD = "fixed_cost_period"  # network: the sites' fixed costs' period, span
META_COMPARISON = "comparison"  # stock: segmented vs uniform; forecast: segment x sku vs total
META_INVENTORY_BY_SEGMENT = "inventory_by_segment"  # stock: the per-segment table's totals
# costs, when the assignments' demand is not the units the orders hold for the same customers
# (profit mixes two periods): planned, ordered (net units), period_days. Absent otherwise.
META_PLANNED_UNITS = "planned_units"
# forecast --as-of: the forecast scored on the whole periods held out after its as-of day
# (forecast.heldout.HeldOut.as_metadata: level, start, periods, series, demand,
# unscored_new_series, wape and bias per approach, vs_best_baseline, vs_direct), in the
# forecast's and the backtest's metadata. Among the approaches, HELD_OUT_FORECAST is the
# forecast's own, and '<level> HELD_OUT_DIRECT' ('sku direct') the level's own forecast, made
# directly, when the series are per segment; the others are the simple baselines.
# stock, when --orders holds whole periods after the forecast's start: the plan replayed on
# them, in the policy's metadata (stock.heldout.StockHeldOut.as_metadata: start, periods,
# period_days, days, warmup_days, stocking_points, uniform_plan, unplanned_units,
# unplanned_points, and per segment and "(all)" its target, expected and delivered fill and
# mean stock of each plan).
META_HELD_OUT = "held_out"
# forecast --assignments: the assignments the demand was routed by, as
# ``routing.assignments_fingerprint`` gives it (lanes, customers, sha256), in the forecast's and
# the backtest's metadata, so that stock and the report can tell another network run's.
META_ROUTED_BY = "routed_by"
# forecast: each customer's segment in the segments it read, as ``routing.segments_fingerprint``
# gives it (customers, segments, sha256), so that the report can tell another run's segments.
META_SEGMENTED_BY = "segmented_by"
HELD_OUT_FORECAST = "forecast"
HELD_OUT_DIRECT = "direct"


def segment_ranks(segments: pl.DataFrame) -> pl.DataFrame | None:
    """``segment, rank``: each segment's ``segment_rank`` (1 = most valuable; the lowest of its
    rows), or None when the table has none (a customers table of the user's own)."""
    if "segment" not in segments.columns or "segment_rank" not in segments.columns:
        return None
    return segments.group_by(pl.col("segment").cast(pl.String)).agg(
        pl.col("segment_rank").cast(pl.Float64, strict=False).min().alias("rank")
    )


def in_segment_order(table: pl.DataFrame, ranks: pl.DataFrame | None) -> pl.DataFrame:
    """``table``'s rows (one or more per segment) by their segment's rank (``ranks``: segment,
    rank; 1 first), as segment and costs list segments, then by label; the segments without a
    rank after those with one, by label. Without ranks: by label. Totals are the caller's."""
    if ranks is None:
        return table.sort("segment", maintain_order=True)
    rank = ranks.select(
        pl.col("segment").cast(pl.String).alias("_segchain_label"),
        pl.col("rank").alias("_segchain_rank"),
    )
    return (
        table.with_columns(_segchain_label=pl.col("segment").cast(pl.String))
        .join(rank, on="_segchain_label", how="left", maintain_order="left")
        .sort("_segchain_rank", "segment", nulls_last=True, maintain_order=True)
        .drop("_segchain_label", "_segchain_rank")
    )


def records_frame(value: Any) -> pl.DataFrame | None:
    """Rows a stage stored in its table's metadata (a list of records) as a frame; None when
    the value is not such a list (absent, hand-edited, from another version)."""
    if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
        try:
            return pl.DataFrame(value, infer_schema_length=None)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            return None
    return None


# ---- Forecast model names: the values of --models, of [forecast] models and of a forecast's
# `model` column (the forecast stage maps each to a statsforecast / mlforecast model)

BASELINES = ("WindowAverage", "HistoricAverage", "Naive", "SeasonalNaive")
# The model of a series too short to backtest: its mean since its first sale, whatever --models
# names (the report reads it in a forecast's `model` column).
FALLBACK_MODEL = "HistoricAverage"
SMOOTH_MODELS = ("AutoETS", "AutoTheta")
INTERMITTENT_MODELS = ("CrostonSBA", "ADIDA", "IMAPA", "TSB")
# The mean of a route's specialist models (forecast combination, e.g. Makridakis et al., M4 2020).
ENSEMBLE = "Ensemble"
# One model learned across all series (mlforecast + HistGradientBoostingRegressor).
GLOBAL = "Global"
# The moving average times the seasonal lift of the total of all series (group seasonal indices).
GROUP_SEASONAL = "GroupSeasonal"
MODEL_NAMES = BASELINES + SMOOTH_MODELS + INTERMITTENT_MODELS + (GROUP_SEASONAL, ENSEMBLE, GLOBAL)


def window_of(name: str) -> int | None:
    """4 for ``WindowAverage4`` (any case); None for any other name."""
    prefix = "windowaverage"
    rest = name[len(prefix) :]
    if name.lower().startswith(prefix) and rest.isdigit() and int(rest) >= 1:
        return int(rest)
    return None


def model_name(name: str) -> str | None:
    """The canonical spelling of a model name (any case; ``WindowAverage<N>`` for any N >= 1),
    or None when it names no model."""
    by_fold = {m.lower(): m for m in MODEL_NAMES}
    if name.lower() in by_fold:
        return by_fold[name.lower()]
    window = window_of(name)
    return f"WindowAverage{window}" if window else None


# ---- Order line flags (orders.flag, set by segchain validate); a flagged line is kept

FLAG_NON_PRODUCT = "non_product"  # postage, fees, adjustments, gift cards: not a product
FLAG_RETURN = "return"  # a return or cancellation (negative quantity or value)
FLAG_ZERO_PRICE = "zero_price"  # a product line given away at price 0
# A line of quantity 0 (a zeroed line, a text or section line): no goods moved. Its amount is 0
# too, so it was flagged zero_price, as if given away; no stage counts it as demand.
FLAG_ZERO_QUANTITY = "zero_quantity"
# A price correction or credit: a negative price or value on a line that is no return (an
# accounting export's (12.50), Online Retail's 'Adjust bad debt'). Its value is netted as a
# return's; its quantity moved no goods.
FLAG_NEGATIVE_PRICE = "negative_price"

LINE_FLAGS = (
    FLAG_NON_PRODUCT,
    FLAG_RETURN,
    FLAG_ZERO_PRICE,
    FLAG_NEGATIVE_PRICE,
    FLAG_ZERO_QUANTITY,
)

# forecast's --outliers (how lines far beyond their sku's usual size are treated) and its default;
# stock cleanses its history alike, by the forecast's recorded choice.
OUTLIERS = ("keep", "cap", "drop")
DEFAULT_OUTLIERS = "cap"


def product_line(flag: str = "flag") -> pl.Expr:
    """The product-line rule, for value: every line except those flagged non_product (returns,
    zero-price lines and price corrections are product lines; an unflagged line is one)."""
    return pl.col(flag).is_null() | (pl.col(flag) != FLAG_NON_PRODUCT)


def demand_line(flag: str = "flag") -> pl.Expr:
    """The demand rule, for quantities (units bought, sales, demand history): the product lines
    except price corrections (``negative_price``: a credit moves no goods, its quantity is not
    units sold). Returns are demand lines (their units net)."""
    c = pl.col(flag)
    return c.is_null() | ((c != FLAG_NON_PRODUCT) & (c != FLAG_NEGATIVE_PRICE))


# Reason codes for rejected order lines (written to --rejects).
REJECT_REASONS = {
    "extra_fields": "more fields than the header (an unquoted delimiter)",
    "repeated_header": "the line repeats the header (exports joined with cat)",
    "missing_order_id": "order id is blank (or a spreadsheet error value, #N/A)",
    "missing_customer": "customer id is blank (or a spreadsheet error value, #N/A)",
    "missing_sku": "sku is blank (or a spreadsheet error value, #N/A)",
    "missing_date": "order date is blank",
    "bad_date": "order date cannot be parsed",
    "bad_quantity": "quantity is blank or not a number",
    "bad_price": "unit price / amount is blank or not a number",
    "non_finite": "a quantity, price or amount is infinite or NaN",
    "out_of_range": "a quantity, price or amount above 1e15 in size (sums would overflow)",
    "implausible_date": "an order date before 1900, after 2099, 3 years past 99 % of the lines, "
    "or alone 3 years before them (a placeholder: 1900-01-01, 1970-01-01)",
    "return": "return or cancellation (dropped by --returns drop)",
    "negative_price": "a price correction or credit: a negative price or value on a line that is "
    "no return (dropped by --returns drop)",
}


def all_rejected_customers(inside: pl.Series, outside: pl.DataFrame | None) -> list[str]:
    """The customers whose every line was rejected, sorted: the ids of ``outside``'s lines with
    a ``reason`` that are neither in ``inside`` (the ids of the used lines: segment's groups,
    validate's output) nor on an ``outside`` line without a reason (segment: a used line on or
    after ``as_of``). Such a customer is in no row of a stage's output, and the reconciliation
    counts only its lines. A repeated header is rejected as a line but is no customer's."""
    if outside is None or "reason" not in outside.columns:
        return []
    reason = pl.col("reason").cast(pl.String)
    rejected = outside.filter(reason.is_not_null() & (reason != "repeated_header"))
    ids = rejected.get_column("customer_id").drop_nulls().unique()
    used_later = outside.filter(reason.is_null()).get_column("customer_id")
    lost = ids.filter(~ids.is_in(inside.drop_nulls()) & ~ids.is_in(used_later.drop_nulls()))
    return lost.sort().to_list()


def require_columns(
    columns: Iterable[str],
    required: Sequence[str],
    *,
    source: str = "input",
    hint: str | None = None,
) -> None:
    """Raise MissingColumnsError naming every required column absent from ``columns``."""
    present = list(columns)
    missing = [c for c in required if c not in present]
    if missing:
        raise MissingColumnsError(missing, present, source=source, hint=hint)


SITE_LOOKALIKES = {
    "fixed_cost": (
        "fixed",
        "fixed_cost",
        "fixed_costs",
        "opening_cost",
        "opening_costs",
        "open_cost",
        "cost",
        "costs",
    ),
    "capacity": ("capacity", "capacities", "max_capacity", "cap", "throughput"),
    "existing": ("existing", "is_existing", "exists", "open", "is_open", "current", "in_use"),
}
"""Words that make a --sites header stand for one of the optional columns network reads
(``capacity_units``, ``max_capacity``, ``fixed_cost_eur``, ``existing_site``, ``is_open``):
read under no name, every site was free, uncapacitated and new, with exit 0."""

SITE_OTHER_WORDS = (
    "utilization",
    "utilisation",
    "used",
    "usage",
    "share",
    "pct",
    "percent",
    "ratio",
    "date",
    "since",
    "time",
    "hours",
    "unit",
    "transport",
    "handling",
    "variable",
    "freight",
    "shipping",
)
"""Words that say a --sites header is something else, kept and not read (``capacity_used``,
``opening_date``, ``handling_cost``, ``cost_per_unit``)."""

# The period of a site's fixed cost, network's --fixed-cost-period ([network]
# fixed_cost_period): "orders", its cost over the span of the orders the demand comes from
# (network weighs it against that demand's transport, costs against the revenue of its
# period_days), or "year", a year's cost (leases, staff: how every business quotes it), which
# both take over that span, x days / DAYS_PER_YEAR. An annual cost set whole against
# Superstore's 1,458 days overstated profit by 161,556 (audit C C3, session 66).
FIXED_COST_PERIODS = ("orders", "year")
DEFAULT_FIXED_COST_PERIOD = "orders"
# A --sites column of a year's fixed cost: under this name, or a header that says a year
# (fixed_cost_per_year, yearlyFixedCost). network's --sites-out writes it beside fixed_cost (the
# span's) when given costs per year, so that costs, from a CSV too, takes them over its own
# period_days and can tell when network weighed them over another span.
ANNUAL_FIXED_COST = "annual_fixed_cost"
# Header words that say a cost is a year's (``annual_fixed_cost``).
YEARLY_WORDS = ("annual", "annually", "yearly", "year", "per_year", "pa", "p_a", "yr")


def _yearly(header: str) -> bool:
    """Whether a header says its values are a year's (``annual_fixed_cost``, ``Fixed cost
    per year``)."""
    held = _words(header)
    joined = "_".join(held)
    return any(w in held or f"_{w}_" in f"_{joined}_" for w in YEARLY_WORDS)


def yearly_fixed_cost(columns: Iterable[str], *, source: str) -> str | None:
    """The header of a --sites column that gives each site's fixed cost per year
    (``annual_fixed_cost``, ``fixed_cost_per_year``, ``Fixed cost (per year)``), None when none
    does: read as a year's cost, not refused as a header written otherwise.

    Raises:
        DataError: two such headers (which one holds the sites' costs no header says).
    """
    from segchain.errors import DataError

    words = {"fixed_cost": SITE_LOOKALIKES["fixed_cost"]}
    found = [
        col
        for col in columns
        if col == ANNUAL_FIXED_COST
        or (
            col != "fixed_cost"
            and _yearly(col)
            and (
                "fixed_cost" in _name_keys(col)
                or _word_lookalike(col, words, SITE_OTHER_WORDS) == "fixed_cost"
            )
        )
    ]
    if len(found) > 1:
        raise DataError(
            f"{source}: columns {examples(found)} each give a fixed cost per year",
            hint=f"keep one of them, named {ANNUAL_FIXED_COST}, and drop the others",
        )
    return found[0] if found else None


COSTS_SITE_LOOKALIKES = {
    "fixed_cost": SITE_LOOKALIKES["fixed_cost"],
    "open": ("open", "is_open", "opened"),
    "existing": tuple(w for w in SITE_LOOKALIKES["existing"] if "open" not in w),
}
"""The same words for the --sites that costs reads, where ``open`` (network's plan) is a column of
its own: a candidate table's ``existing_site`` was not read, and an existing site that serves no
one was left out of the fixed cost, with exit 0."""


def _name_keys(name: str) -> set[str]:
    """A header as the column names segchain reads that it may stand for: small letters,
    words joined by ``_``, with or without a unit in brackets at its end (``'Unit Cost (EUR)'``
    is ``unit_cost``, ``'Distance (km)'`` ``distance_km``)."""
    import re

    def key(text: str) -> str:
        return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")

    bare = re.sub(r"\s*[(\[][^()\[\]]*[)\]]\s*$", "", name)
    return {key(bare), key(name)}


def _words(header: str) -> list[str]:
    """A header's words in small letters: ``'maxCapacity (units)'`` is max, capacity, units."""
    import re

    return re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", header).lower())


def _word_lookalike(
    header: str, words: Mapping[str, Iterable[str]], unless: Iterable[str]
) -> str | None:
    """The name of ``words`` one of whose phrases (``fixed_cost``, ``cap``) ``header`` holds as
    whole words, or is written together (``fixedcost``); None when none does, or the header has
    a word of ``unless`` (``capacity_utilization`` is no capacity). Of several, the phrase that
    ends last: a compound's last noun says what it is (``current_capacity`` is a capacity,
    ``open_cost`` a cost)."""
    held = _words(header)
    if not held or set(held) & set(unless):
        return None
    best: tuple[tuple[int, int], str] | None = None
    for name, phrases in words.items():
        for phrase in phrases:
            part = phrase.split("_")
            ends = [
                start + len(part)
                for start in range(len(held) - len(part) + 1)
                if held[start : start + len(part)] == part
            ]
            if "".join(held) == "".join(part):
                ends.append(len(held))
            for end in ends:
                if best is None or (end, len(part)) > best[0]:
                    best = ((end, len(part)), name)
    return best[1] if best else None


def unread_lookalikes(
    columns: Iterable[str],
    wanted: Iterable[str],
    *,
    source: str,
    words: Mapping[str, Iterable[str]] | None = None,
    unless: Iterable[str] = (),
) -> None:
    """Refuse a table whose header writes a column segchain reads (of ``wanted``, absent under
    its own name) otherwise: ``capacity (units)``, ``Fixed Cost``, ``lead-time-days``. Such a
    column is not read, so every site was uncapacitated, every fixed cost 0, every item on the
    default lead time, with exit 0 and not a word. (Other capitals alone are read, and said:
    ``tableio``.)

    ``words``: for some of ``wanted``, phrases that a header holding them as words stands for
    (``capacity``: ``cap``, ``throughput``; so ``capacity_units``, ``max_cap``), unless it has
    a word of ``unless`` (``utilization``: something else). A sites table's
    ``fixed_cost_eur``, ``capacity_units`` and ``existing_site`` were read as no fixed cost, no
    capacity and no site existing, with exit 0.

    Raises:
        DataError: every such column at once, with the name it stands for.
    """
    from segchain.errors import DataError

    present = list(columns)
    read = list(wanted)
    stands: list[tuple[str, str]] = []
    for col in present:
        if col in read:
            continue
        keys = _name_keys(col)
        name = next((n for n in read if n in keys), None)
        if name is None and words:
            name = _word_lookalike(col, words, unless)
        if name is not None and name not in present:
            stands.append((col, name))
    found = sorted(stands, key=lambda pair: read.index(pair[1]))
    if found:
        n = len(found)
        cols = ", ".join(repr(col) for col, _ in found)
        names = list(dict.fromkeys(name for _, name in found))
        said = ", ".join(names)
        if len(names) < n:
            # Two headers for one name ('is_open', 'existing_site'): only one can be renamed.
            each = "each of " if len(names) > 1 else ""
            hint = (
                f"keep one column for {each}{said}, renamed so, its values in the units the "
                "README gives, and drop the others"
            )
        else:
            hint = (
                f"rename {agree(n, 'it', 'them')} {said}, {agree(n, 'its', 'their')} values in "
                f"the units the README gives, or drop {agree(n, 'it', 'them')}"
            )
        raise DataError(
            f"{source}: {agree(n, 'column', 'columns')} {cols} {agree(n, 'is', 'are')} not "
            f"read: segchain reads {said} by {agree(len(names), 'that name', 'those names')} "
            "only",
            hint=hint,
        )


def require_one_of(
    columns: Iterable[str],
    choices: Sequence[str],
    *,
    source: str = "input",
    hint: str | None = None,
) -> str:
    """Return the first of ``choices`` present, or raise naming all of them."""
    present = list(columns)
    for c in choices:
        if c in present:
            return c
    raise MissingColumnsError([" or ".join(choices)], present, source=source, hint=hint)


def numeric_columns(
    df: pl.DataFrame, columns: Iterable[str], *, source: str, keys: Sequence[str] = ()
) -> pl.DataFrame:
    """``df`` with those of ``columns`` it has as Float64 (an all-empty column read from a CSV
    arrives as text: it becomes nulls).

    ``keys``: how the message names a value's row (``site_id``: ``'52,5 N' for site_id 'S1'``;
    those ``df`` has, else its row from 1); without them, the values alone.

    Raises:
        DataError: a column holds text that is not a number (``fixed_cost = abc``).
    """
    from segchain.errors import DataError, examples

    casts = []
    problems = []
    for col in columns:
        if col not in df.columns:
            continue
        dtype = df.schema[col]
        if dtype.is_numeric() or dtype == pl.Null:
            casts.append(pl.col(col).cast(pl.Float64))
            continue
        if dtype != pl.String:
            problems.append(f"column {col!r} is {dtype}, not numbers")
            continue
        text = pl.col(col).str.strip_chars()
        number = text.cast(pl.Float64, strict=False)
        bad = df.filter(text.is_not_null() & (text != "") & number.is_null())
        if bad.height and keys:
            # Each value beside its row: a sites table's 'lat is not a number' named no site.
            key, label = _row_key(df, keys)
            wrong = text.is_not_null() & (text != "") & number.is_null()
            named = df.select(key.alias("k"), pl.col(col).alias("v"), wrong.alias("bad"))
            named = named.filter("bad")
            shown = ", ".join(f"{v!r} for {label} {k!r}" for k, v, _ in named.head(5).iter_rows())
            more = f" (and {named.height - 5:,} more)" if named.height > 5 else ""
            problems.append(
                f"column {col!r} holds {plural(bad.height, 'value')} that "
                f"{agree(bad.height, 'is not a number', 'are not numbers')}: {shown}{more}"
            )
        elif bad.height:
            values = examples(bad.get_column(col).unique(maintain_order=True).to_list())
            problems.append(
                f"column {col!r} holds {plural(bad.height, 'value')} that "
                f"{agree(bad.height, 'is not a number', 'are not numbers')} ({values})"
            )
        casts.append(number.alias(col))
    if problems:
        raise DataError(
            f"{source}: " + "; ".join(problems),
            hint=NUMBER_HINT + ", or leave a value empty",
        )
    return df.with_columns(casts) if casts else df


ASSIGNMENT_HINT = (
    "give network's assignments as written (one row per customer and serving site, the shares "
    "of a customer adding up to 1)"
)


LANE_KEYS = ("customer_id", "site_id")


def check_assignments(
    df: pl.DataFrame, *, source: str = "assignments", filled: Sequence[str] = ()
) -> pl.DataFrame:
    """Network's assignments as ``costs`` and ``forecast --assignments`` read them: checked once.

    A row with a ``site_id`` is a lane (customer x serving site); a row without one is a customer
    that network left out, and must say why (``left_out``). Lanes are unique per customer and
    site; their ``share`` (1 when the column is absent) lies in [0, 1] and a customer's shares add
    up to 1; their ``demand`` and every ``transport_cost`` are finite numbers >= 0, and the
    columns of ``filled`` (those the caller sums, which network writes on every lane) are not
    blank on a lane. Returns ``df`` with ids as text (a blank site_id null) and its number
    columns as Float64.

    Raises:
        MissingColumnsError: no customer_id or site_id.
        DataError: every problem found, at once (numbers as text, blank ids, duplicate lanes,
            shares out of range or not adding up to 1, demand or transport cost not a finite
            number >= 0, a ``filled`` number blank on a lane).
    """
    from segchain.errors import DataError, examples

    require_columns(df.columns, ("customer_id", "site_id"), source=source)
    df = numeric_columns(df, ("share", "demand", "transport_cost", "distance_km"), source=source)
    df = df.with_columns(pl.col("customer_id").cast(pl.String), pl.col("site_id").cast(pl.String))

    def blank(col: str) -> pl.Expr:
        text = pl.col(col).cast(pl.String).str.strip_chars()
        return text.is_null() | (text == "")

    problems: list[str] = []
    rows = df.with_row_index(ROW_NUMBER, offset=1)
    no_customer = rows.filter(blank("customer_id"))[ROW_NUMBER].to_list()
    if no_customer:
        problems.append(
            f"{plural(len(no_customer), 'row')} {agree(len(no_customer), 'has', 'have')} a "
            f"blank customer_id ({_rows_text(no_customer)})"
        )
    why = ~blank("left_out") if "left_out" in df.columns else pl.lit(False)
    no_site = rows.filter(blank("site_id") & ~why & ~blank("customer_id"))
    if no_site.height:
        ids = no_site["customer_id"].unique(maintain_order=True).to_list()
        problems.append(
            f"{plural(no_site.height, 'row')} {agree(no_site.height, 'has', 'have')} a blank "
            f"site_id and no left_out reason ({agree(len(ids), 'customer', 'customers')} "
            f"{examples(ids)})"
        )
    lanes = rows.filter(~blank("site_id") & ~blank("customer_id"))
    dup = duplicate_keys(lanes, LANE_KEYS)
    problems += dup
    share = pl.col("share") if "share" in df.columns else pl.lit(1.0)
    lanes = lanes.with_columns(share.cast(pl.Float64).alias("_share"))
    s = pl.col("_share")
    out_of_range = lanes.filter(s.is_null() | s.is_nan() | (s < 0) | (s > 1 + 1e-6))
    if out_of_range.height:
        values = examples(
            out_of_range.select(
                pl.concat_str("customer_id", pl.lit(": "), s.cast(pl.String).fill_null("blank"))
            )
            .to_series()
            .to_list()
        )
        problems.append(f"share must lie between 0 and 1 on every served row, got {values}")
    elif not dup:
        sums = lanes.group_by("customer_id", maintain_order=True).agg(s.sum())
        bad = sums.filter((s - 1.0).abs() > 1e-6)["customer_id"].to_list()
        if bad:
            problems.append(
                f"the shares of {agree(len(bad), 'customer', 'customers')} {examples(bad)} do "
                "not add up to 1"
            )
    # A left-out customer's demand may be negative (returns exceed purchases): lanes only.
    problems += number_problems(lanes, {"demand": ">= 0"}, keys=LANE_KEYS, limit=MAX_VALUE)
    problems += number_problems(rows, {"transport_cost": ">= 0"}, keys=LANE_KEYS, limit=MAX_VALUE)
    # Summed, a blank was a 0 on both sides of the caller's reconciliation: a customer served
    # for free, said to reconcile. A left-out row's blank is network's own (unlocated: unknown).
    problems += blank_problems(lanes, filled, keys=LANE_KEYS)
    if problems:
        hint = one_row_hint(LANE_KEYS, ASSIGNMENT_HINT) if dup else ASSIGNMENT_HINT
        raise DataError(f"{source}: " + "; ".join(problems), hint=hint)
    return df.with_columns(
        pl.when(blank("site_id")).then(None).otherwise(pl.col("site_id")).alias("site_id")
    )


# Beyond any quantity, price or cost an input can hold: sums of such values overflow to inf.
MAX_VALUE = 1e15
SUMS_OVERFLOW = "sums of larger costs overflow"  # why a rate is at most MAX_VALUE
# The largest inventory_value stock can write from inputs within MAX_VALUE, which costs must
# read (each stage's output is the next one's input): a point holds at most the demand of its
# protection interval and cycle, at most MAX_VALUE a period over the longest one, ten years'
# lead time and ten years' review at daily periods (7,320 periods; 1e5 leaves room for the
# safety stock), valued at a unit_cost of at most MAX_VALUE. Measured: 2.0e33 at daily 1e15
# forecasts and error_sd, 3660-day lead time and review, service level 0.9999, unit_cost 1e15.
# Still far from overflow: carried at a holding_rate of 100 over 9999 years and summed over a
# billion points it is 1e50.
MAX_STOCK_VALUE = MAX_VALUE * 1e5 * MAX_VALUE
# A site's utilization, its demand served over its capacity: network keeps it within 1 up to
# the solver's tolerance (HiGHS holds a constraint to 1e-7; split shares below 1e-6 are dropped
# and the rest divided by their sum). --allow-split wrote 1.0000000009308065 for a full site of
# the demo with capacities 1.03 times its demand, 1.0000000000000002 on random instances. 1e-4
# is far above that and below what the page shows: it writes utilization to 0.1 %, 100.0 % then.
LOAD = "in [0, 1] (a site's demand_served over its capacity, which network never exceeds)"
LOAD_TOLERANCE = 1e-4

NUMBER_RULES = {
    ">= 0": lambda c: c >= 0,
    "> 0": lambda c: c > 0,
    # A share or a rate of service: a fraction of a whole.
    "in [0, 1]": lambda c: (c >= 0) & (c <= 1),
    LOAD: lambda c: (c >= 0) & (c <= 1 + LOAD_TOLERANCE),
    "": lambda c: pl.lit(True),
}


def key_text(keys: Sequence[str]) -> pl.Expr:
    """A row's key as text for messages: ``sku@site``, a blank value shown as ``(blank)``, as
    ``errors.examples`` shows one (``*`` would read as the policy's any-segment row)."""
    text = [
        pl.col(k).cast(pl.String).str.strip_chars().replace("", None).fill_null("(blank)")
        for k in keys
    ]
    return pl.concat_str(text, separator="@")


def _row_key(df: pl.DataFrame, keys: Sequence[str]) -> tuple[pl.Expr, str]:
    """How a problem names a row: its ``keys`` that ``df`` has (``sku@site``), else its number
    from 1 (``row``); the expression and its label."""
    present = [k for k in keys if k in df.columns]
    if present:
        return key_text(present), "@".join(present)
    return pl.int_range(1, pl.len() + 1).cast(pl.String), "row"


# Numbers a table read by the running command writes beyond a double's range (``1e400``): read
# as infinity, they are named as written by ``number_problems`` (a user looking for 'inf' in the
# file found nothing). Per column, each such value's row ids (``_OVERFLOW_IDS`` the table has)
# and its text. None outside a command (``overflows_read``): a stage run from Python.
_OVERFLOWS: ContextVar[dict[str, list[tuple[dict[str, str], str]]] | None] = ContextVar(
    "segchain_overflows", default=None
)
_OVERFLOW_IDS = ("order_id", "customer_id", "sku", "site", "site_id", "segment", "unique_id", "ds")


@contextmanager
def overflows_read() -> Iterator[None]:
    """The scope (a command) whose tables' numbers written beyond a double's range are
    remembered (``remember_overflows``) and named as written (``number_problems``)."""
    token = _OVERFLOWS.set({})
    try:
        yield
    finally:
        _OVERFLOWS.reset(token)


def remember_overflows(df: pl.DataFrame, written: Mapping[str, Sequence[tuple[int, str]]]) -> None:
    """Remember the values of ``df`` that its file writes beyond a double's range, read as
    infinity: per column, (row from 0, text as written)."""
    found = _OVERFLOWS.get()
    if found is None or not written:
        return
    ids = [k for k in _OVERFLOW_IDS if k in df.columns]
    texts = df.select(pl.col(k).cast(pl.String).str.strip_chars() for k in ids)
    for column, cells in written.items():
        for row, text in cells:
            if row < df.height:
                values = texts.row(row, named=True)
                shown = {k: v or "(blank)" for k, v in values.items()}
                # A table without ids names a row by its number (``_row_key``).
                found.setdefault(column, []).append(({**shown, "row": str(row + 1)}, text))


def as_written(
    column: str, key_names: Sequence[str], key: str, value: float, *, why: str = ""
) -> str:
    """``value`` as a message shows it: an infinity that its file writes as a number beyond a
    double's range (``1e400``), as written (and ``why``: by default in parentheses after it);
    any other value as Python writes it. The row is found by its ids (``key_names``, ``key``:
    ``sku@site``, ``'A@DC1'``); a stage that names it by an id of its own as well (a forecast's
    unique_id, made from its sku) is matched on the ids the file has (its ``ds``), when those
    name one text. A table that has none of the ids (another table's column of that name) is
    never matched."""
    if value != value or abs(value) != float("inf"):
        return f"{value}"
    parts = key.split("@")
    # An id holding '@' (a customer's e-mail address) leaves only the whole key to compare.
    wanted = dict(zip(key_names, parts, strict=True)) if len(parts) == len(key_names) else {}
    exact, partial = [], set()
    for ids, text in (_OVERFLOWS.get() or {}).get(column, []):
        if text.startswith("-") != (value < 0):
            continue
        held = [k for k in key_names if k in ids]
        if len(held) == len(key_names) and "@".join(ids[k] for k in held) == key:
            exact.append(text)
        elif held and len(held) < len(key_names) and all(ids[k] == wanted.get(k) for k in held):
            partial.add(text)
    found = exact[0] if exact else partial.pop() if len(partial) == 1 else None
    if found is None:
        return f"{value}"
    return found + (why or " (too large to be read as a number: beyond 1.8e308)")


def number_problems(
    df: pl.DataFrame,
    rules: Mapping[str, str],
    *,
    keys: Sequence[str],
    limit: float | None = None,
    accepted: Mapping[str, str] | None = None,
) -> list[str]:
    """One message per column of ``rules`` that ``df`` has (Float64) whose values are NaN,
    infinite, above ``limit`` in size or break the column's rule (``">= 0"``, ``"> 0"``, or
    ``""`` for any finite number), naming each such value and its row's ``keys`` (those ``df``
    has); empty values pass. Callers list these with their other problems in one DataError.

    ``accepted``: what a column takes, said in its message where "a finite number" is not it
    (a site's capacity: ``a number >= 0 (empty or inf: unlimited)``, where inf was read as
    none before the check)."""
    key, label = _row_key(df, keys)
    problems = []
    for col, rule in rules.items():
        if col not in df.columns:
            continue
        c = pl.col(col)
        wrong = c.is_nan() | c.is_infinite() | ~NUMBER_RULES[rule](c)
        if limit is not None:
            wrong = wrong | (c.abs() > limit)
        bad = df.select(key.alias("k"), c.alias("v"), (c.is_not_null() & wrong).alias("bad"))
        bad = bad.filter("bad")
        if not bad.height:
            continue
        named = label.split("@")
        shown = [
            f"{as_written(col, named, k, v)} for {label} {k!r}"
            for k, v, _ in bad.head(5).iter_rows()
        ]
        more = f" (and {bad.height - 5:,} more)" if bad.height > 5 else ""
        bound = "" if limit is None else f" up to {limit:g}" + ("" if rule else " in size")
        rule_text = f" {rule}" if rule else ""
        takes = (accepted or {}).get(col, f"a finite number{rule_text}{bound}")
        problems.append(f"{col} must be {takes}, got {', '.join(shown)}{more}")
    return problems


@dataclass(frozen=True)
class InputRule:
    """What ``costs`` requires of an input table (and ``report`` of the same tables):
    ``keys`` unique (the table's own key, e.g. stock's ``sku [, site]`` per stocking point) and
    each number that drives a figure finite, at most MAX_VALUE in size and within its rule
    (``number_problems``)."""

    keys: tuple[str, ...]
    numbers: dict[str, str]
    hint: str
    unique: bool = True
    # Unique only when the table has every key column (a forecast without ds repeats its series,
    # one row per unnamed period); else those of ``keys`` it has.
    whole_key: bool = False
    # Bounds tighter than MAX_VALUE, per column.
    limits: dict[str, float] = field(default_factory=dict)
    # Numbers the stage that wrote the table never leaves empty: an empty one was read as 0
    # (a stocking point holding nothing, a segment's share of none) without a word.
    filled: tuple[str, ...] = ()
    # Key columns never blank: a row without one is about nothing (an item without a sku).
    ids: tuple[str, ...] = ()


# The stage tables costs reads and report reads too (``report.checks``): one rule each, so that
# the report refuses what costs refuses.
STAGE_TABLE_RULES: dict[str, InputRule] = {
    "policy": InputRule(
        ("sku", "site"),
        {"inventory_value": ">= 0"},
        "give stock's policy as written: one row per stocking point (sku, or sku x site)",
        filled=("inventory_value",),
        ids=("sku",),
        # Units up to MAX_VALUE a period, valued at up to MAX_VALUE each: above MAX_VALUE.
        limits={"inventory_value": MAX_STOCK_VALUE},
    ),
    "per-segment stock": InputRule(
        ("sku", "site", "segment"),
        {"inventory_value": ">= 0", "inventory_share": ">= 0"},
        "give stock's --segments-out table as written: one row per sku (x site) x segment",
        filled=("inventory_value",),
        ids=("sku",),
        # Units up to MAX_VALUE a period, valued at up to MAX_VALUE each: above MAX_VALUE.
        limits={"inventory_value": MAX_STOCK_VALUE},
    ),
    "sites": InputRule(
        ("site_id",),
        {"fixed_cost": ">= 0", ANNUAL_FIXED_COST: ">= 0"},
        "give network's --sites-out as written (one row per site), or fix those rows",
    ),
}


def blank_ids(df: pl.DataFrame, key: str) -> list[str]:
    """A problem naming the rows (1 = the first data row) whose ``key`` (a table's id: a
    site_id, customer_id or sku) is empty or blank, if any: such a row is about nothing and
    matches nothing, so it is refused rather than dropped without a word."""
    text = pl.col(key).cast(pl.String)
    # Named as no table's column is: a stage table with a column `_row` was a DuplicateError.
    rows = df.with_row_index(ROW_NUMBER, offset=1).filter(
        text.is_null() | (text.str.strip_chars() == "")
    )[ROW_NUMBER]
    if not rows.len():
        return []
    return [f"{plural(rows.len(), 'row')} with a blank {key} ({_rows_text(rows.to_list())})"]


def blank_problems(df: pl.DataFrame, columns: Sequence[str], *, keys: Sequence[str]) -> list[str]:
    """One message per column of ``columns`` that ``df`` has with empty values, naming the
    rows' ``keys`` (those ``df`` has; else the row, from 1), for numbers a stage always writes:
    an empty one is a damaged file, not a zero."""
    key, label = _row_key(df, keys)
    problems = []
    for col in columns:
        if col not in df.columns:
            continue
        blank = df.filter(pl.col(col).is_null()).select(key.alias("k"))["k"]
        if blank.len():
            shown = ", ".join(repr(k) for k in blank.head(5))
            more = f" (and {blank.len() - 5:,} more)" if blank.len() > 5 else ""
            problems.append(f"{col} blank for {label} {shown}{more}")
    return problems


def duplicate_keys(
    df: pl.DataFrame, keys: Sequence[str], *, blank_apart: Sequence[str] = ()
) -> list[str]:
    """The problem of a table holding one key (``keys`` that ``df`` has) on more than one row,
    or none: every table with a key says it in this one form, how many, which and on which rows
    (1 = the first data row; ``df``'s ``ROW_NUMBER`` where the caller kept the table's own
    numbers through a filter): ``2 sku@sites are on more than one row: 'P1@S1' (rows 1, 3),
    ...``. Ids are compared as written, as the stage joins them: 'P1' and ' P1', which the
    reading of ids kept apart because trimmed they would be one (``stage_ids``, said there), are
    two keys; a blank one is ``(blank)``, except in the columns of ``blank_apart``, whose blank
    rows the caller refuses apart (``blank_ids``): they are left out here, not named twice.
    What to do is ``one_row_hint``'s."""
    present = [k for k in keys if k in df.columns]
    if not present:
        return []
    rows = pl.col(ROW_NUMBER) if ROW_NUMBER in df.columns else pl.int_range(1, pl.len() + 1)
    named = pl.lit(True)
    for k in (k for k in blank_apart if k in present):
        text = pl.col(k).cast(pl.String).str.strip_chars()
        named = named & text.is_not_null() & (text != "")
    # Numbered before the blank rows are left out: the rows named are the file's.
    written = [
        pl.when(pl.col(k).cast(pl.String).str.strip_chars() != "")
        .then(pl.col(k).cast(pl.String))
        .otherwise(pl.lit("(blank)"))
        for k in present
    ]
    text = pl.concat_str(written, separator="@")
    key = df.select(text.alias("k"), rows.alias("row"), named.alias("named"))
    key = key.filter("named")
    dup = key.filter(pl.col("k").is_duplicated())
    if not dup.height:
        return []
    found = dup.group_by("k", maintain_order=True).agg("row")
    shown = [f"{k!r} ({_rows_text(r)})" for k, r in found.head(5).iter_rows()]
    more = f" (and {found.height - 5:,} more)" if found.height > 5 else ""
    label = "@".join(present)
    return [
        f"{plural(found.height, label)} {agree(found.height, 'is', 'are')} on more than one "
        f"row: {', '.join(shown)}{more}"
    ]


def one_row_hint(keys: Sequence[str], hint: str | None = None) -> str:
    """What to do about a key on several rows (``duplicate_keys``), then the table's ``hint``."""
    what = f"keep one row per {'@'.join(keys)}: remove or merge the repeated rows"
    return f"{what}; {hint}" if hint else what


# A customers table (segments, network's CUSTOMERS, segment --previous) has one row per customer:
# a customer twice was counted twice, or compared with one of its rows only.
ONE_ROW_PER_CUSTOMER_HINT = (
    one_row_hint(["customer_id"]) + ", or give the table that segchain segment wrote, as it was "
    "written"
)


def duplicate_customers(df: pl.DataFrame) -> str | None:
    """The problem of a customers table holding a ``customer_id`` on more than one row, or None
    (``duplicate_keys``). A blank id is no customer (callers that refuse blank ids say so
    apart); a table without the column is left to the caller's column check."""
    problems = duplicate_keys(df, ["customer_id"], blank_apart=["customer_id"])
    return problems[0] if problems else None


def check_one_row_per_customer(df: pl.DataFrame, *, source: str) -> None:
    """Refuse a customers table with a ``customer_id`` on several rows (see
    ``duplicate_customers``); ``source`` names the file (``SEGMENTS segments.csv``).

    Raises:
        DataError: naming the customers, how many, and their rows.
    """
    from segchain.errors import DataError

    problem = duplicate_customers(df)
    if problem is not None:
        raise DataError(f"{source}: {problem}", hint=ONE_ROW_PER_CUSTOMER_HINT)


def check_segment_cells(df: pl.DataFrame, *, source: str) -> None:
    """Refuse a table giving customers their segment with a blank segment, naming its rows
    (and any blank customer_id beside them, in one message): such a customer was left out as
    one without a segment, or counted in none.

    Raises:
        DataError: ``source: 1 row with a blank segment (row 3)``.
    """
    from segchain.errors import DataError

    if "segment" not in df.columns:
        return
    no_label = blank_ids(df, "segment")
    if no_label:
        ids = blank_ids(df, "customer_id") if "customer_id" in df.columns else []
        raise DataError(f"{source}: " + "; ".join(ids + no_label), hint=SEGMENT_ROWS_HINT)


def check_customer_ids(df: pl.DataFrame, *, source: str, hint: str = SEGMENTS_HINT) -> None:
    """Refuse a customers table with a row whose ``customer_id`` is blank (empty, or only
    spaces): that row is no customer, and a stage that joined on the id dropped it without a
    word. ``source`` names the table (``SEGMENTS segments.csv``).

    Raises:
        DataError: how many rows and which (1 = the first data row).
    """
    from segchain.errors import DataError

    if "customer_id" not in df.columns:
        return
    problems = blank_ids(df, "customer_id")
    if problems:
        raise DataError(f"{source}: {problems[0]}", hint=hint)


# ---- Column types: what a table read from a file may hold (checked by tableio on every read)

DATE_COLUMNS = frozenset({"order_date", "ds"})
BOOL_COLUMNS = frozenset({"open", "existing", "sla_met"})
TRUE_WORDS = ("true", "1", "1.0", "yes", "y", "x", "t")
FALSE_WORDS = ("false", "0", "0.0", "no", "n", "f", "")


def flag_column(df: pl.DataFrame, column: str, *, source: str, hint: str) -> pl.Expr:
    """A yes/no column (``existing``, ``open``) as a Boolean expression over ``df``, empty as
    false; a value that is neither (``maybe``) is refused, naming it and its ``site_id``, rather
    than read as false.

    Raises:
        DataError: a value neither true nor false.
    """
    from segchain.errors import DataError, examples

    if df.schema[column] == pl.Boolean:
        return pl.col(column).fill_null(False)
    text = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    unclear = df.filter(text.is_not_null() & ~text.is_in([*TRUE_WORDS, *FALSE_WORDS]))
    if unclear.height:
        values = unclear.get_column(column).cast(pl.String).unique(maintain_order=True)
        where = (
            f" for site_id {examples(unclear.get_column('site_id').cast(pl.String))}"
            if "site_id" in df.columns
            else ""
        )
        raise DataError(
            f"{source}: {column} must be true or false, got {examples(values)}{where}", hint=hint
        )
    return text.is_in(list(TRUE_WORDS)).fill_null(False)


TEXT_COLUMNS = ID_COLUMNS | {"left_out", "unit_cost_source", "source_file", "approach", FREQ_COLUMN}
# Number columns of the inputs no stage writes (items, stock on hand).
INPUT_NUMBER_COLUMNS = (
    "unit_cost",
    "order_cost",
    "holding_rate",
    "lead_time_days",
    "lead_time_sd_days",
    "moq",
    "pack_size",
    "on_hand",
    "on_order",
    "backorders",
)
# What each item value may be (number_problems): stock checks them all, costs unit_cost (>= 0
# there: goods given away cost nothing) and holding_rate.
ITEM_RULES: dict[str, str] = {
    "unit_cost": "> 0",
    "order_cost": ">= 0",
    "holding_rate": "> 0",
    "lead_time_days": ">= 0",
    "lead_time_sd_days": ">= 0",
    "moq": ">= 0",
    "pack_size": "> 0",
}
KNOWN_COLUMNS = (
    frozenset(ORDER_COLUMNS)
    | TEXT_COLUMNS
    | DATE_COLUMNS
    | BOOL_COLUMNS
    | {key for kind in TABLE_KINDS.values() for key in kind.keys}
    | set(ASSIGNMENT_COLUMNS)
    | set(SITE_COLUMNS)
    | set(INPUT_NUMBER_COLUMNS)
)


# Every column a stage writes or reads, beyond KNOWN_COLUMNS: what a stage table's column names
# are matched with whatever their capitals (``case_renames``).
STAGE_COLUMNS = KNOWN_COLUMNS | frozenset(
    {
        *("available_to_promise", "avg_inventory", "avg_order_value", "backtest_abs_error"),
        *("backtest_actual", "backtest_periods", "backtest_windows", "baseline_bias"),
        *("baseline_mase", "baseline_model", "baseline_rmsse", "baseline_wape", "bias", "capped"),
        *("clv", "clv_customers", "clv_total", "cogs", "costed_revenue", "costs_missing"),
        "delivery_promise_cost",
        *("delivery_promise_fixed", "delivery_promise_transport", "demand_class", "demand_model"),
        *("demand_share", "distribution", "eoq", "error_sd", "expected_csl", "expected_fill_rate"),
        *("expected_purchases", "f_score", "first_order", "forecast-hi-80", "forecast-hi-95"),
        *("forecast-lo-80", "forecast-lo-95", "frequency", "geo_precision", "gross_margin"),
        *("history_max", "history_max_at_forecast", "inventory_carrying"),
        *("inventory_position", "inventory_share"),
        *("inventory_value", "last_order", "lines", "m_score", "mae", "mean_demand"),
        *("mean_demand_lt", "model", "monetary", "no_demand", "order_handling", "order_now"),
        *("order_qty", "order_up_to", "order_value", "orders", "p_alive", "period_days"),
        *("periods", "policy_type", "priority", "profit", "profit_share", "r_score", "rationed"),
        *("recency_days", "reserve_level", "return_lines", "returns_handling", "review_days"),
        *("reconciliation", "rmsse", "scope", "sd_demand", "sd_demand_lt", "segments"),
        "service_level",
        *("service_measure", "service_promise_cost", "service_promise_inventory"),
        *("service_target", "share_revenue", "tenure_days", "transport", "unit_cost_source"),
        *("unrationed_avg_inventory", "warehouse_fixed", "demand", "lat", "lon", "capacity"),
        *("fixed_cost", "transport_cost", "existing", "city", "country", "postal_code"),
        ANNUAL_FIXED_COST,
    }
)


def case_renames(columns: Sequence[str]) -> dict[str, str]:
    """The renames that read a stage table's columns as segchain's own names whatever their
    capitals (``Segment`` is ``segment``, as a spreadsheet or an export writes it; order
    exports' headers are matched so too). A name already present stays as it is, beside the
    other spelling; two spellings of one name (``Segment``, ``SEGMENT``) are both left as
    they are: which one is meant is not known."""
    present = set(columns)
    folded: dict[str, list[str]] = {}
    for column in columns:
        name = column.lower()
        if column not in STAGE_COLUMNS and name in STAGE_COLUMNS and name not in present:
            folded.setdefault(name, []).append(column)
    return {spellings[0]: name for name, spellings in folded.items() if len(spellings) == 1}


def case_twins(columns: Sequence[str]) -> dict[str, str]:
    """The columns beside one named as segchain names it but for their capitals (``Quantity``
    beside ``quantity``), each with that name: the one so named is read, and the other was left
    without a word, though which of the two holds the values meant is not known."""
    present = set(columns)
    return {
        column: name
        for column in columns
        if (name := column.lower()) != column and name in STAGE_COLUMNS and name in present
    }


def expected_type(column: str) -> str:
    """What segchain expects a known column to hold, for messages."""
    if column in DATE_COLUMNS:
        return "dates (like 2024-03-31)"
    if column in BOOL_COLUMNS:
        return "true or false"
    if column in TEXT_COLUMNS:
        return "text"
    return "numbers"


def _unreadable(dtype: pl.DataType) -> bool:
    # Nested values, raw bytes, times of day, durations: no segchain column holds them.
    return (
        dtype.is_nested()
        or dtype in (pl.Time, pl.Binary, pl.Object)
        or isinstance(dtype, pl.Duration)
    )


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype.is_nested():  # as JSON: [1,2], {"a":1}
        encoded = pl.struct(col.alias("v")).struct.json_encode()
        return encoded.str.strip_prefix('{"v":').str.strip_suffix("}").alias(name)
    if dtype == pl.Binary:
        return col.bin.encode("hex").alias(name)
    if isinstance(dtype, pl.Duration):
        return col.dt.to_string("iso").alias(name)
    return col.cast(pl.String).alias(name)


# The widest decimal polars reads: a Parquet decimal256 column (BigQuery's BIGNUMERIC, a
# NUMERIC(60, 10)) has a schema but no readable data.
MAX_DECIMAL_DIGITS = 38


def readable_columns(frame: FrameT, *, source: str) -> FrameT:
    """``frame`` with only column types segchain reads (see ``tableio``).

    A column segchain knows (``quantity``, ``ds``, ``share``, ...; ``Segment`` where no
    ``segment`` is, as names are matched whatever their capitals) that holds a list, a struct,
    bytes, a time of day or a duration is an error naming it, its type and what is expected; any
    other column of such a type (a column no command uses) becomes text (nested values as JSON),
    so that it passes through, and into the rejected lines, without harm. Categorical and enum
    columns (pandas' ``category``, Arrow dictionaries read as such) become text: their values are
    text, and a categorical key does not join with the same key as text in another table; so
    does a key column (``ID_COLUMNS``) of no type, every value null. A
    decimal wider than 38 digits cannot be read at all: an error naming it, whatever the column.

    Raises:
        DataError: every known column of an unreadable type, and every too wide decimal, at once.
    """
    from segchain.errors import DataError

    schema = frame.collect_schema()
    problems, fixes = [], []
    for name, dtype in schema.items():
        if isinstance(dtype, pl.Categorical | pl.Enum):
            fixes.append(pl.col(name).cast(pl.String))
            continue
        if dtype == pl.Null and (name in ID_COLUMNS or name.lower() in ID_COLUMNS):
            # A key of no type (a Parquet column every value of which is null, written so by
            # polars or pandas) is text too: joined with a text key it was a SchemaError.
            fixes.append(pl.col(name).cast(pl.String))
            continue
        if isinstance(dtype, pl.Decimal) and (dtype.precision or 0) > MAX_DECIMAL_DIGITS:
            problems.append(
                f"column {name!r} is a decimal of {dtype.precision} digits; at most "
                f"{MAX_DECIMAL_DIGITS} can be read"
            )
            continue
        if not _unreadable(dtype):
            continue
        # Whatever its capitals, as stage tables and order exports match names (``Segment`` is
        # segment, unless segment is there too): a list under such a name became JSON text, and
        # costs wrote a segment '["A"]'.
        if name in KNOWN_COLUMNS or (name.lower() in KNOWN_COLUMNS and name.lower() not in schema):
            problems.append(
                f"column {name!r} is of type {dtype}; expected {expected_type(name.lower())}"
            )
        else:
            fixes.append(_as_text(name, dtype))
    if problems:
        raise DataError(
            f"{source}: " + "; ".join(problems),
            hint="write those columns as plain values (a decimal of at most 38 digits or a "
            "double): lists, structs, bytes, times of day and durations cannot be read",
        )
    return frame.with_columns(fixes) if fixes else frame


def check_number_types(schema: pl.Schema, columns: Mapping[str, str], *, source: str) -> None:
    """Refuse the columns of ``columns`` (canonical name -> header in ``schema``, as mapped) that
    a typed file (Parquet, a workbook) holds as neither numbers nor text: a Boolean quantity was
    read as 1 and 0, a date as its day number, without a word. Text is parsed, and refused
    line by line, where it is read.

    Raises:
        DataError: every such column at once, with its type and the ``--map`` that fixes it.
    """
    from segchain.errors import DataError

    wrong = {
        name: header
        for name, header in columns.items()
        if header in schema
        and not schema[header].is_numeric()
        and schema[header] not in (pl.String, pl.Null)
    }
    if not wrong:
        return
    problems = []
    for name, header in wrong.items():
        dtype = schema[header]
        kind = "Boolean (true/false)" if dtype == pl.Boolean else str(dtype.base_type())
        column = f"column {name!r}" if header == name else f"{name} ({header})"
        problems.append(f"{column} is {kind}, not numbers")
    maps = " ".join(f"--map {name}=HEADER" for name in wrong)
    raise DataError(
        f"{source}: " + "; ".join(problems),
        hint=f"map the {agree(len(wrong), 'column that holds', 'columns that hold')} the "
        f"numbers with {maps} (a true/false column is a flag, and a date is no number)",
    )


YEAR_LAST_DATE = r"^(\d{1,2})([/-])(\d{1,2})[/-](\d{2}|\d{4})(?:[ T].*)?$"
"""A date written with its year last (``1/2/2024``, ``01-02-24``), as a spreadsheet saves a
stage table's dates in its own locale: day first or month first, which the value alone does
not say."""

_YEAR_LAST_HINT = (
    "give the table as its stage wrote it (dates as 2024-03-31): a spreadsheet saved the dates "
    "in its own format; format the column as yyyy-mm-dd before saving it as CSV, or keep the "
    "stage's Parquet"
)


def _year_last_dates(text: pl.Series, *, name: str, source: str) -> pl.Series:
    """``text``'s year-last dates (``YEAR_LAST_DATE``; others null) in the column's one day
    order: day first where a first part is above 12, month first where a second one is (a US
    spreadsheet's 1/15/2024), as order dates are read. polars read such a column day first from
    its first value: a US spreadsheet's monthly forecast (2/1/2024 for 1 February) became daily
    dates in January, and stock planned 1-day periods without a word.

    Raises:
        DataError: both orders occur, or neither does where some day and month differ (every
            value is a date either way, different ones).
    """
    from segchain.errors import DataError, examples

    parts = text.str.extract_groups(YEAR_LAST_DATE)
    first = parts.struct.field("1").cast(pl.Int32)
    second = parts.struct.field("3").cast(pl.Int32)
    year = parts.struct.field("4")

    def distinct(mask: pl.Series) -> str:
        return examples(text.filter(mask).unique(maintain_order=True), 3)

    day_first, month_first = (first > 12).fill_null(False), (second > 12).fill_null(False)
    if day_first.any() and month_first.any():
        raise DataError(
            f"{source}: column {name!r} holds dates written day first ({distinct(day_first)}) "
            f"and month first ({distinct(month_first)})",
            hint=_YEAR_LAST_HINT,
        )
    if not day_first.any() and not month_first.any() and (first != second).any():
        raise DataError(
            f"{source}: column {name!r} holds dates that can be read day first or month first "
            f"({distinct(first != second)}): no value has a day above 12, so nothing in the "
            "column says which order they are in",
            hint=_YEAR_LAST_HINT,
        )
    day, month = (second, first) if month_first.any() else (first, second)
    # Two-digit years are this century's (a forecast's dates are ahead, not in year 24).
    full_year = pl.when(year.str.len_chars() == 2).then("20" + year).otherwise(year)
    iso = pl.select(
        pl.concat_str(
            [full_year, month.cast(pl.String).str.zfill(2), day.cast(pl.String).str.zfill(2)],
            separator="-",
        )
    ).to_series()
    return iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def parse_dates(df: pl.DataFrame, *, source: str, columns: Iterable[str] = ("ds",)) -> pl.DataFrame:
    """``df`` with those of ``columns`` that hold text parsed as dates (a Parquet written with
    text dates, a CSV whose dates did not parse); dates written with the year last
    (``YEAR_LAST_DATE``) in the column's day order.

    Raises:
        DataError: a value is not a date (naming how many and a few of them); year-last dates
            of no single day order.
    """
    from segchain.errors import DataError, examples

    for name in columns:
        if name in df.columns and df.schema[name] in (pl.Date, pl.Datetime):
            _refuse_periods_beyond(df.get_column(name).cast(pl.Date), source=source)
        if name not in df.columns or df.schema[name] != pl.String:
            continue
        text = df.get_column(name).str.strip_chars()
        year_last = text.str.contains(YEAR_LAST_DATE).fill_null(False)
        parsed = text.set(year_last, None).str.to_date(strict=False)
        if year_last.any():
            slashed = _year_last_dates(text.filter(year_last), name=name, source=source)
            parsed = parsed.scatter(year_last.arg_true(), slashed)
        bad = df.filter((text.is_not_null() & (text != "") & parsed.is_null()).alias("_bad"))
        if bad.height:
            values = examples(bad.get_column(name).unique(maintain_order=True).to_list())
            raise DataError(
                f"{source}: column {name!r} holds {plural(bad.height, 'value')} that "
                f"{agree(bad.height, 'is not a date', 'are not dates')} ({values}); expected "
                f"{expected_type(name)}",
                hint="give the table as its stage wrote it (segchain forecast writes dates)",
            )
        _refuse_periods_beyond(parsed, source=source)
        df = df.with_columns(parsed.alias(name))
    return df


def _refuse_periods_beyond(ds: pl.Series, *, source: str) -> None:
    """Refuse periods no forecast of an order export labels: before EARLIEST_DATE or after
    LATEST_PERIOD (a damaged or hand-made table). One past Python's calendar (year 10000 on) met
    the first date a stage took from it with a traceback (stock's and the report's first period).

    Raises:
        DataError: such a period, naming how many and a few of them.
    """
    from segchain.errors import DataError, examples

    outside = ds.filter((ds < EARLIEST_DATE) | (ds > LATEST_PERIOD))
    if outside.len():
        # As polars writes them: a date past 9999 is no Python date.
        shown = examples(outside.cast(pl.String).unique(maintain_order=True).to_list())
        raise DataError(
            f"{source}: column {ds.name!r} holds {plural(outside.len(), 'period')} outside "
            f"{EARLIEST_DATE} to {LATEST_PERIOD}, which no forecast of an export's orders "
            f"labels ({shown})",
            hint="give the table as its stage wrote it, or correct those dates",
        )


def _folded(ids: pl.Expr) -> pl.Expr:
    # The forms one id takes through other tools: composed or with combining accents (macOS,
    # some exports), other capitals, spaces around it.
    return ids.cast(pl.String).str.normalize("NFC").str.to_lowercase().str.strip_chars()


def _folded_ascii(ids: pl.Expr) -> pl.Expr:
    return ids.str.to_lowercase().str.strip_chars()


# The three characters NFC writes as plain ASCII: an id holding one is another form of an ASCII
# id ('BOLT-10\u212a' of 'BOLT-10K'), so it is folded with the ASCII ones.
_ASCII_BY_NFC = {"\u037e": ";", "\u1fef": "`", "\u212a": "K"}
_ASCII = r"^[\x00-\x7f]*$"


def _by_kind(ids: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``ids`` (column ``id``) parted: plain ASCII; ASCII once NFC writes their
    ``_ASCII_BY_NFC`` as ASCII (column ``ascii``, so written); the others. The ASCII test is
    made once per id, the replacement only on the ids not ASCII (usually few)."""
    plain = ids.get_column("id").str.contains(_ASCII)
    other = ids.filter(~plain)
    as_nfc = pl.col("id").str.replace_many(list(_ASCII_BY_NFC), list(_ASCII_BY_NFC.values()))
    other = other.with_columns(as_nfc.alias("ascii"))
    twin = other.get_column("ascii").str.contains(_ASCII)
    return ids.filter(plain), other.filter(twin), other.filter(~twin).drop("ascii")


def _keyed(plain: pl.DataFrame, twins: pl.DataFrame) -> pl.DataFrame:
    """The ids of ``_by_kind``'s first two parts, with their key ``k`` folded as ASCII."""
    return pl.concat(
        [
            plain.with_columns(_folded_ascii(pl.col("id")).alias("k")),
            twins.select("id", _folded_ascii(pl.col("ascii")).alias("k")),
        ]
    )


ACCENT_FORMS = "an accent one character in one, combining in the other"
"""How two ids that NFC makes one differ when one has an accent composed, the other combining."""


def another_form(*pairs: tuple[str, str], only: bool = True) -> str:
    """How messages say that the ids of each pair are one in another Unicode form (NFC makes
    them one): ``another Unicode form only (an accent one character in one, combining in the
    other)``. What differs is named from the pairs, as they show it: an accent composed in one
    and combining in the other; a Korean syllable and its letters (jamo); or a character that
    NFC writes as another, named with its code point (``U+212A KELVIN SIGN in one, U+004B LATIN
    CAPITAL LETTER K in the other``): the Kelvin sign is no K with an accent."""
    import unicodedata

    def named(text: str) -> str:
        return " + ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, '(unnamed)')}" for ch in text)

    ways: list[str] = []
    for pair in pairs:
        for ch in dict.fromkeys("".join(pair)):
            if unicodedata.category(ch).startswith("M"):
                way = ACCENT_FORMS
            elif "\u1161" <= ch <= "\u11c2":
                way = "a Korean syllable one character in one, its letters (jamo) in the other"
            elif (nfc := unicodedata.normalize("NFC", ch)) != ch:
                way = f"{named(ch)} in one, {named(nfc)} in the other"
            else:
                continue
            if way not in ways:
                ways.append(way)
    return f"another Unicode form{' only' * only} ({'; '.join(ways) or ACCENT_FORMS})"


def in_code_points(mine: str, yours: str) -> str:
    """Two ids that look the same on screen, shown with their code points:
    ``'M\\xfcller' / 'Mu\\u0308ller'``."""
    return f"{ascii(mine)} / {ascii(yours)}"


def written_otherwise(unmatched: pl.Series, known: pl.Series, *, other: str) -> str | None:
    """What to add to a message naming ids of one table that ``other`` (a table's name in the
    message, ``{SEGMENTS}``) does not hold, when some of them are ids of ``known`` written
    otherwise: in another Unicode form (``'Müller'`` composed in one table, with a combining
    accent in the other: the two look the same on screen), other capitals or with spaces
    around. None when none is. Only said, never joined so: two ids that differ only in capitals
    may be two customers."""
    ids = pl.DataFrame({"id": unmatched.cast(pl.String)}).drop_nulls().unique()
    if not ids.height:
        return None
    # An id and its other forms are all plain ASCII or all not (an accent, composed or
    # combining, is no ASCII; but for the three characters NFC writes as ASCII, the Kelvin sign
    # for K, ``_ASCII_BY_NFC``): each side is folded only against known ids of its kind, and
    # ASCII ones without the Unicode normalisation. On 2 M known ids of which none is near:
    # 0.2 s, against 2.1-3.0 s folding every one of them.
    mine_plain, mine_twins, mine_other = _by_kind(ids)
    yours_plain, yours_twins, yours_other = _by_kind(
        pl.DataFrame({"id": known.cast(pl.String)}).drop_nulls()
    )
    found = []
    if mine_plain.height or mine_twins.height:
        mine, yours = _keyed(mine_plain, mine_twins), _keyed(yours_plain, yours_twins)
        found.append(mine.join(yours.rename({"id": "theirs"}), on="k", how="inner"))
    if mine_other.height:
        mine = mine_other.with_columns(_folded(pl.col("id")).alias("k"))
        yours = yours_other.select(pl.col("id").alias("theirs"), _folded(pl.col("id")).alias("k"))
        found.append(mine.join(yours, on="k", how="inner"))
    if not found:
        return None
    pairs = pl.concat(found).select("id", "k", "theirs")
    pairs = pairs.sort("id", "theirs").unique("id", maintain_order=True)
    if not pairs.height:
        return None
    mine, yours = pairs.row(0)[0], pairs.row(0)[2]
    import unicodedata

    nfc_mine, nfc_yours = (unicodedata.normalize("NFC", t) for t in (mine, yours))
    if nfc_mine == nfc_yours:
        how = f"in {another_form((mine, yours))}"
        shown = in_code_points(mine, yours)
        fix = "save both tables' text in one form (NFC, as most tools write it)"
    else:
        # Other capitals, and another form too ('BOLT-10\u212a' and 'bolt-10k'): the form
        # named and shown by its code points, as it is not seen on screen.
        formed = (nfc_mine, nfc_yours) != (mine, yours)
        if nfc_mine.lower() == nfc_yours.lower():
            how = (
                f"in other capitals and {another_form((mine, yours), only=False)}"
                if formed
                else "in other capitals only"
            )
        else:
            how = "otherwise"
        shown = in_code_points(mine, yours) if formed else f"{mine!r} / {yours!r}"
        fix = "write the ids alike in both tables, if they are the same"
    n = pairs.height
    them = f"{plural(n, 'of them is', 'of them are')} {agree(n, 'an id', 'ids')} of {other}"
    return f"; {them} written {how}: {shown}; {fix}"


def lost_zeros(ids: pl.Series, others: pl.Series) -> tuple[str, str] | None:
    """A pair of ids, one of ``ids`` and one of ``others``, that are one id once their leading
    zeros are dropped (``'0000102'`` and ``'102'``), or None: a spreadsheet drops them from a
    column of ids it reads as numbers, and a table saved from it met none of the other's ids.
    Only for a message: which width the ids had is not in the table that lost it."""
    mine = pl.DataFrame({"id": ids.cast(pl.String)}).drop_nulls().unique()
    theirs = pl.DataFrame({"other": others.cast(pl.String)}).drop_nulls().unique()
    key = pl.col("id").str.strip_chars_start("0")
    pairs = (
        mine.with_columns(key.alias("k"))
        .join(theirs.with_columns(pl.col("other").str.strip_chars_start("0").alias("k")), on="k")
        .filter(pl.col("id") != pl.col("other"))
        .sort("id")
    )
    return (pairs.item(0, "id"), pairs.item(0, "other")) if pairs.height else None


def lost_zeros_hint(ids: pl.Series, others: pl.Series, *, column: str) -> str | None:
    """The hint for two tables whose ``column`` met nowhere, when ``lost_zeros`` finds why."""
    pair = lost_zeros(ids, others)
    if pair is None:
        return None
    return (
        f"the ids meet once their leading zeros are dropped ({pair[0]!r} / {pair[1]!r}): a "
        f"spreadsheet dropped them from one of the tables; save its {column} column as text "
        "(or keep segchain's Parquet)"
    )


def cost_basis(policy: pl.DataFrame) -> dict[str, int]:
    """Stocking points per ``unit_cost_source`` of stock (``items``: the item master's cost;
    ``price``: the mean selling price from the orders; ``default``: none, counted as 1, so the
    value is units). Empty when the policy does not say."""
    if "unit_cost_source" not in policy.columns:
        return {}
    counts = policy.get_column("unit_cost_source").drop_nulls().cast(pl.String).value_counts()
    return {str(k): int(v) for k, v in counts.iter_rows()}


# The days an order history covers, as costs' period_days counts them and network takes a fixed
# cost per year over them: one rule for both, so that the two stages weigh one span.
def covered_days(dates: pl.Series) -> tuple[int, str]:
    """The days an order history covers: from its first to its last date plus one step of its
    dates' grain, and that step in words (``"1 day"``, ``"7 days"``, ``"1 month"``).

    An export dated by each order's own day counts both end days: orders from 2024-01-01 to
    2024-01-31 cover 31 days. An export whose dates label periods (at least three dates, every
    one on the same weekday, or on the same day of the month, or each a month's last day)
    counts the whole period of its last date (of its first, where dates are month ends, which
    close their month): a step is the smallest gap between two dates, in days (weekly: 7) or
    in months (monthly: 1, quarterly: 3). Orders dated on the 1st of each month from January 1
    to December 1 cover the year to the next January 1 (365 days), not 335; 52 Mondays from
    2024-01-01 to 2024-12-23 cover 364 days, not 358. Two dates are too few to tell a grain
    from chance: both end days are counted.
    """
    days = dates.drop_nulls().cast(pl.Date).unique().sort()
    if days.is_empty():
        return 0, "1 day"
    first, last = days[0], days[-1]
    span = (last - first).days
    if days.len() < 3:
        return span + 1, "1 day"
    ends = bool((days == days.dt.month_end()).all())
    if ends or days.dt.day().n_unique() == 1:
        month = days.dt.year().cast(pl.Int64) * 12 + days.dt.month().cast(pl.Int64)
        k = int(cast(int, month.diff().drop_nulls().min()))
        words = f"{k} {agree(k, 'month', 'months')}"
        if ends:
            return (last - _month_end(first, -k)).days, words
        return (_same_day(last, k) - first).days, words
    if days.dt.weekday().n_unique() == 1:
        k = int(cast(int, days.diff().drop_nulls().dt.total_days().min()))
        return span + k, f"{k} days"
    return span + 1, "1 day"


def _same_day(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later (its last day where that month is shorter)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_end(day: dt.date, months: int) -> dt.date:
    """The last day of the month ``months`` from ``day``'s."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])
