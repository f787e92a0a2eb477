"""What every section shares: the inputs' types, null-safe sums and means, segment order, metadata.

These helpers prepare data; they never word a sentence nor draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import polars as pl

from segchain.formatting import plural
from segchain.report import charts as ch
from segchain.report.model import INT, MONEY, PCT, finite, format_number
from segchain.schema import FALSE_WORDS, MAX_VALUE, META_PARAMS, TRUE_WORDS, records_frame

Tables = Mapping[str, pl.DataFrame]
Meta = Mapping[str, Mapping[str, Any]]
Colours = dict[str | None, str]


def has(df: pl.DataFrame | None, *columns: str) -> bool:
    return df is not None and all(c in df.columns for c in columns)


def lacks(df: pl.DataFrame, columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in df.columns]


def num(col: str) -> pl.Expr:
    """A numeric column as float with NaN and infinities as null (so sums and means skip them)."""
    x = pl.col(col).cast(pl.Float64, strict=False)
    return pl.when(x.is_finite()).then(x).otherwise(None)


def filled(col: str) -> pl.Expr:
    """Whether ``col``'s cell holds a value (an id, a date): false where it is empty or blank
    (spaces only), as a cell of a table edited by hand may be; such a cell is unknown, not one
    more value of the column."""
    return (pl.col(col).cast(pl.String).str.strip_chars().str.len_chars() > 0).fill_null(False)


def distinct_filled(col: str) -> pl.Expr:
    """How many distinct values ``col``'s filled cells hold (``filled``): the ids a group
    names; null (unknown, not 0) for a group none of whose rows has one."""
    given = filled(col)
    return pl.when(given.any()).then(pl.col(col).filter(given).n_unique()).alias(col)


def distinct_keys(df: pl.DataFrame, keys: Sequence[str]) -> int:
    """How many distinct keys (``keys``' values together: a customer_id, a sku and site) the
    rows of ``df`` whose keys are all filled (``filled``) give: what a count of customers,
    stocking points or series counts, where a key given in two rows is still one."""
    if not df.height:
        return 0
    known = df.filter(pl.all_horizontal(filled(k) for k in keys))
    return known.select(pl.struct(keys).n_unique()).item() if known.height else 0


def repeated_note(
    df: pl.DataFrame, keys: Sequence[str], what: str, then: str, whats: str | None = None
) -> str:
    """The keys ``df`` gives in more than one row ("1 stocking point in 2 rows (A)"), which a
    count of rows counted as more than one, followed by ``then`` (what the figure beside does
    with their rows: ", counted once"); else ""."""
    known = df.filter(pl.all_horizontal(filled(k) for k in keys))
    twice = known.group_by(keys, maintain_order=True).len().filter(pl.col("len") > 1)
    if not twice.height:
        return ""
    shown = ["/".join(str(v) for v in row) for row in twice.select(keys).head(3).iter_rows()] + [
        "..."
    ] * (twice.height > 3)
    n, rows = twice.height, int(twice["len"].sum())
    return f"{plural(n, what, whats)} in {count(rows)} rows ({', '.join(shown)}){then}"


def flag(col: str) -> pl.Expr:
    """A true/false column (``sla_met``) as 1.0 / 0.0, null for anything else.

    Booleans, and the words for true and false the stages read (``schema.TRUE_WORDS``: true,
    1, yes, ... in any case); an empty cell is unknown. A CSV column with one odd cell is read
    as text, and cast to a number its words would all be null while the odd cell (1e15, 1e309)
    became the share of demand within promise."""
    text = pl.col(col).cast(pl.String).str.strip_chars().str.to_lowercase()
    return (
        pl.when(text.is_in(list(TRUE_WORDS)))
        .then(1.0)
        .when(text.is_in([w for w in FALSE_WORDS if w]))
        .then(0.0)
        .otherwise(None)
        .alias(col)
    )


def on_time(df: pl.DataFrame) -> pl.Expr:
    """A lane's delivery within its promise (``sla_met``, read as ``flag`` reads it): 1.0 / 0.0,
    null when unknown, as it is where the lane's transit time is unknown (network writes such a
    lane as late, sla_met false, which no one knows)."""
    met = flag("sla_met")
    if "transit_days" not in df.columns:
        return met
    return pl.when(num("transit_days").is_not_null()).then(met).alias("sla_met")


def truth(col: str) -> pl.Expr:
    """A true/false column (``open``, ``existing``, ``capped``) as booleans, null when unknown
    (see ``flag``): polars cannot cast text to a boolean, and ``bool("false")`` is true."""
    return flag(col).cast(pl.Boolean)


def undecided_sites(sites: pl.DataFrame | None) -> str:
    """The sites whose ``open`` is unknown, which neither the open sites nor their fixed cost
    count ("1 site left out, whether open unknown"), else ""."""
    if not has(sites, "site_id", "open"):
        return ""
    assert sites is not None
    n = int(sites.select(truth("open").is_null().sum()).item())
    return f"{count(n)} {'site' if n == 1 else 'sites'} left out, whether open unknown" if n else ""


def whole(value: Any) -> int | None:
    """A count read from a table: a whole finite number up to MAX_VALUE in size, else None
    (unknown; a 64-bit integer column holds no more)."""
    x = finite(value)
    return int(x) if x is not None and x.is_integer() and abs(x) <= MAX_VALUE else None


def whole_col(col: str) -> pl.Expr:
    """A count column as ``whole`` reads each cell: a whole finite number up to MAX_VALUE in
    size, else null (unknown): text, a fraction, 1e400."""
    x = num(col)
    return pl.when((x == x.round(0)) & (x.abs() <= MAX_VALUE)).then(x).otherwise(None).alias(col)


def days_col(col: str) -> pl.Expr:
    """A span in days read from a table (costs' ``period_days``): a positive finite number,
    else null (unknown): -5, 0, NaN or text was shown as the span ("(-5 days)")."""
    x = num(col)
    return pl.when(x > 0).then(x).otherwise(None).alias(col)


def total(df: pl.DataFrame, col: str) -> float | None:
    if col not in df.columns:
        return None
    s = df.select(num(col).sum().alias("s"), num(col).count().alias("n"))
    return finite(s.item(0, 0)) if s.item(0, 1) else None


def unknown(df: pl.DataFrame, col: str) -> int:
    """How many rows ``total`` leaves out of ``col``'s sum: cells that are no finite number
    (empty, NaN, infinite, text), which README counts as unknown."""
    if col not in df.columns or not df.height:
        return 0
    return df.height - int(df.select(num(col).count()).item())


def marked(df: pl.DataFrame, known: pl.Expr) -> pl.DataFrame:
    """``df`` with ``_known``: 1.0 where ``known`` holds, else null, so that ``unknown_note`` and
    ``groups_of`` count the rows where it does not (a location, a customer id) as they count
    unknown cells."""
    return df.with_columns(pl.when(known).then(1.0).alias("_known"))


def unfilled_note(df: pl.DataFrame, col: str, row: str, what: str, by: str | None = None) -> str:
    """The rows whose ``col`` is empty or blank (``filled``), which no count of its values counts
    ("2 periods' series id unknown, left out"), and the groups of ``by`` they are in, else ""."""
    if col not in df.columns:
        return ""
    ids = marked(df, filled(col))
    note = unknown_note(ids, "_known", row, what)
    return note + groups_of(ids, "_known", by) if note and by else note


def unknown_note(df: pl.DataFrame, col: str, row: str, what: str) -> str:
    """What a headline summing ``col`` must add when a part of it is unknown ("1 lane's cost
    unknown, left out"), else "": a sum of the known cells alone is no total of the table."""
    n = unknown(df, col)
    if not n:
        return ""
    whose = f"{row}'" if row.endswith("s") else f"{row}'s" if n == 1 else f"{row}s'"
    return f"{count(n)} {whose} {what} unknown, left out"


def _groups_with_unknowns(
    df: pl.DataFrame, known: pl.Expr, by: str | None
) -> list[tuple[str, int, int]]:
    """(group label, known rows, rows) of each group of ``by`` with a row whose ``known`` is
    false, in the frame's order of groups; one unnamed group without ``by``."""
    if not df.height:
        return []
    if by is None or by not in df.columns:
        n_known = int(df.select(known.fill_null(False).sum()).item() or 0)
        return [("", n_known, df.height)] if n_known < df.height else []
    rows = (
        df.select(pl.col(by).cast(pl.String).alias("_g"), known.fill_null(False).alias("_k"))
        .group_by("_g", maintain_order=True)
        .agg(pl.col("_k").sum().alias("k"), pl.len().alias("n"))
        .filter(pl.col("k") < pl.col("n"))
    )
    return [(ch.label(g), int(k), int(n)) for g, k, n in rows.iter_rows()]


def sum_note(
    df: pl.DataFrame,
    col: str,
    row: str,
    what: str,
    *,
    by: str | None = "segment",
    name: str | None = None,
) -> str:
    """What a table's (or a chart's) sums of ``col`` per ``by`` leave out as unknown, as the
    headlines say it ("transport_cost: 1 lane's cost unknown, left out (Champions)"), else "":
    a group's sum of its known cells alone is no total of the group."""
    note = unknown_note(df, col, row, what)
    if not note:
        return ""
    return f"{name or col}: {note}{groups_of(df, col, by)}"


def groups_of(df: pl.DataFrame, col: str, by: str | None = "segment") -> str:
    """ " (Champions, Lost)": the groups of ``by`` with a row whose ``col`` is unknown, else ""."""
    groups = [g for g, _, _ in _groups_with_unknowns(df, num(col).is_not_null(), by)]
    return f" ({', '.join(groups)})" if any(groups) else ""


def known_sum(expr: pl.Expr) -> pl.Expr:
    """A group's sum of its known cells, null (unknown) when it has none: polars sums nothing
    to 0, which a table shows as a figure."""
    return pl.when(expr.count() > 0).then(expr.sum())


def mean_note(
    df: pl.DataFrame,
    col: str,
    row: str,
    *,
    by: str | None = "segment",
    known: pl.Expr | None = None,
    name: str | None = None,
    within: str = "in",
) -> str:
    """Over how many rows a table's (or a chart's) means of ``col`` per ``by`` are taken where
    some of its cells are unknown ("distance_km: a mean over 1 of 2 lanes in Champions (the
    others unknown)"), else "". ``known`` says which rows count (default: ``col`` is a finite
    number); a mean of the known cells alone must say it is one."""
    if known is None and col not in df.columns:
        return ""
    groups = [
        g
        for g in _groups_with_unknowns(df, num(col).is_not_null() if known is None else known, by)
        if g[1]  # a group without a known cell has no mean: its cell shows as unknown
    ]
    if not groups:
        return ""
    parts = [
        f"{count(k)} of {count(n)}"
        + (f" {row}{'s' * (n != 1 and not row.endswith('s'))}" if i == 0 else "")
        + (f" {within} {g}" if g else "")
        for i, (g, k, n) in enumerate(groups)
    ]
    return f"{name or col}: a mean over {', '.join(parts)} (the others unknown)"


def with_unknowns(note: str, *notes: str) -> str:
    """A table's note or a chart's caption, then what its sums and means left out as unknown
    (the notes that are not empty), as one sentence: unchanged when nothing was."""
    said = "; ".join(n for n in notes if n)
    if not said:
        return note
    return f"{note} {said}." if note else f"{said}."


def not_drawn(df: pl.DataFrame, columns: Sequence[str], by: str = "segment") -> str:
    """The bars a chart of ``columns`` per ``by`` cannot draw, their value unknown ("Not drawn,
    unknown: the customers of Champions; the revenue of Champions"), else ""."""
    parts = [
        f"the {c} of {', '.join(ch.label(n) for n in names)}"
        for c in columns
        if c in df.columns and (names := df.filter(num(c).is_null())[by].to_list())
    ]
    return f"Not drawn, unknown: {'; '.join(parts)}" if parts else ""


def noted(detail: str, *notes: str) -> str:
    """A headline's detail with the notes that are not empty, after a semicolon."""
    return "; ".join(x for x in (detail, *notes) if x)


def _weighed(df: pl.DataFrame, value: str, weight: str | None) -> pl.DataFrame | None:
    """The rows where ``value`` and ``weight`` are both known, as ``v`` and ``w``, when their
    weights add up to more than 0; else None (``wmean`` takes a plain mean then)."""
    if not weight or weight not in df.columns or value not in df.columns:
        return None
    both = df.select(num(value).alias("v"), num(weight).alias("w")).drop_nulls()
    wsum = finite(both["w"].sum())
    return both if wsum and wsum > 0 else None


def wmean(df: pl.DataFrame, value: str, weight: str | None) -> float | None:
    """Mean of ``value`` weighted by ``weight`` (plain mean when the weights are absent or 0)."""
    if value not in df.columns:
        return None
    both = _weighed(df, value, weight)
    if both is not None:
        return finite(cast(float, (both["v"] * both["w"]).sum()) / cast(float, both["w"].sum()))
    return finite(df.select(num(value).mean()).item())


def wmean_note(df: pl.DataFrame, value: str, weight: str, row: str, what: str) -> str:
    """How ``wmean`` takes its mean of ``value`` by ``weight`` (a demand) and what it leaves out,
    for a headline: "demand-weighted; 1 stocking point's fill rate unknown, left out; 1 stocking
    point's demand unknown, left out" (a row without demand weighs nothing and is not counted),
    or "mean per stocking point" and the rows whose ``value`` is unknown where no demand is
    known, as the plain mean ``wmean`` then takes."""
    if _weighed(df, value, weight) is None:
        return noted(f"mean per {row}", unknown_note(df, value, row, what))
    weighs = df.filter(~(num(weight) == 0).fill_null(False))
    return noted(
        "demand-weighted",
        unknown_note(weighs, value, row, what),
        unknown_note(weighs.filter(num(value).is_not_null()), weight, row, "demand"),
    )


def pct(x: float | None) -> str:
    return format_number(x, PCT)


def money(x: float | None) -> str:
    return format_number(x, MONEY)


def count(x: float | int | None) -> str:
    return format_number(x, INT)


def params_of(meta: Meta, kind: str) -> dict[str, Any]:
    params = meta.get(kind, {}).get(META_PARAMS, {})
    return dict(params) if isinstance(params, Mapping) else {}


def meta_rows(meta: Meta, kind: str, key: str) -> pl.DataFrame | None:
    """Rows stored in a table's provenance metadata (a list of records), if any."""
    return records_frame(meta.get(kind, {}).get(key))


def segment_order(tables: Tables) -> list[str | None]:
    """Every segment label in the inputs: by segment_rank where known, then alphabetically."""
    ranks: dict[str | None, float] = {}
    names: set[str | None] = set()
    for df in tables.values():
        if "segment" not in df.columns or df.schema["segment"] not in (pl.String, pl.Categorical):
            continue
        names.update(df.get_column("segment").cast(pl.String).unique().to_list())
        if "segment_rank" in df.columns:
            pairs = df.select(pl.col("segment").cast(pl.String), num("segment_rank")).unique()
            for name, rank in pairs.iter_rows():
                if rank is not None:
                    ranks[name] = min(ranks.get(name, math.inf), rank)
    return sorted(names, key=lambda n: (ranks.get(n, math.inf), n is None, n or ""))


def order_frame(df: pl.DataFrame, order: list[str | None], col: str = "segment") -> pl.DataFrame:
    """Sort rows by the report's segment order (unknown labels last, alphabetically)."""
    position = {name: i for i, name in enumerate(order)}
    keys = [position.get(v, len(order)) for v in df.get_column(col).to_list()]
    return (
        df.with_columns(pl.Series("_pos", keys, dtype=pl.Int64))
        .sort("_pos", col, nulls_last=True)
        .drop("_pos")
    )


def colour_list(names: Sequence[Any], colours: Colours) -> list[str]:
    return [colours.get(n, ch.MUTED) for n in names]
