"""Customer segments: sizes, revenue shares and mean features per segment."""

from __future__ import annotations

from functools import partial

import polars as pl

from segchain.formatting import agree
from segchain.report import charts as ch
from segchain.report.model import (
    INT,
    MONEY,
    NUM,
    PCT,
    Block,
    Chart,
    Headline,
    Section,
    TableBlock,
    finite,
)
from segchain.report.sections.common import (
    Colours,
    Meta,
    Tables,
    colour_list,
    count,
    distinct_filled,
    distinct_keys,
    groups_of,
    has,
    known_sum,
    mean_note,
    money,
    not_drawn,
    noted,
    num,
    order_frame,
    params_of,
    pct,
    repeated_note,
    segment_order,
    sum_note,
    total,
    unfilled_note,
    unknown,
    unknown_note,
    with_unknowns,
)

PROFILE_COLUMNS = (
    "segment",
    "segment_rank",
    "customers",
    "share_customers",
    "revenue",
    "share_revenue",
    "clv_total",
    "recency_days",
    "frequency",
    "monetary",
    "clv_per_customer",
)


# ---- data


def _segments_revenue(seg: pl.DataFrame | None, prof: pl.DataFrame) -> pl.DataFrame | None:
    """Revenue per segment summed over the segments table's customers, when that table is the
    profile's segmentation (the same customers per segment). The profile's monetary is a mean
    rounded to cents, so mean x customers is off by up to half a cent a customer (CDNOW's
    Champions: 303.54 x 4,351 = 1,320,703 against 1,320,691 sold)."""
    if not has(seg, "segment", "monetary"):
        return None
    assert seg is not None
    exact = seg.group_by(pl.col("segment").cast(pl.String)).agg(
        pl.len().cast(pl.Float64).alias("n"), known_sum(num("monetary")).alias("revenue")
    )
    same = prof.select("segment", "customers").join(exact, on="segment", how="full")
    if same.height != prof.height or (same["customers"] != same["n"]).fill_null(True).any():
        return None
    return exact.select("segment", "revenue")


def segment_profile(tables: Tables) -> pl.DataFrame | None:
    """One row per segment: rank, customers, shares, revenue and mean features, from the profile
    table when given, else aggregated from the segments table."""
    prof = tables.get("segment_profile")
    seg = tables.get("segments")
    if has(prof, "segment", "customers"):
        assert prof is not None
        df = prof.with_columns(pl.col("segment").cast(pl.String), num("customers"))
        if "clv" in df.columns and "clv_total" not in df.columns:
            # A profile written before its total CLV was named so: clv was the total there.
            df = df.rename({"clv": "clv_total"})
        if {"clv_total", "clv_customers"} <= set(df.columns):
            # Per customer with a CLV, as stderr shows it and as the mean from the segments
            # table is; a profile without the count is divided by every customer below.
            known = num("clv_customers")
            df = df.with_columns(
                pl.when(known > 0).then(num("clv_total") / known).alias("clv_per_customer")
            )
        exact = _segments_revenue(seg, df)
        if exact is not None and "revenue" not in df.columns:
            df = df.join(exact, on="segment", how="left")
        elif "monetary" in df.columns and "revenue" not in df.columns:
            df = df.with_columns((num("monetary") * pl.col("customers")).alias("revenue"))
    elif has(seg, "segment"):
        assert seg is not None
        # Customers, not rows: a customer given twice (a table edited or appended by hand) is
        # one, and a row without a customer id none (as the report counts customers elsewhere).
        aggs: list[pl.Expr] = [
            distinct_filled("customer_id").cast(pl.Float64).alias("customers")
            if "customer_id" in seg.columns
            else pl.len().cast(pl.Float64).alias("customers")
        ]
        if "segment_rank" in seg.columns:
            aggs.append(num("segment_rank").min().alias("segment_rank"))
        if "monetary" in seg.columns:
            aggs.append(known_sum(num("monetary")).alias("revenue"))
        for c in ("recency_days", "frequency", "monetary"):
            if c in seg.columns:
                aggs.append(num(c).mean().alias(c))
        if "clv" in seg.columns:
            aggs.append(known_sum(num("clv")).alias("clv_total"))
            # The mean of the customers whose CLV is known (the total over every customer
            # would count an unknown one as 0).
            aggs.append(num("clv").mean().alias("clv_per_customer"))
        df = seg.with_columns(pl.col("segment").cast(pl.String)).group_by("segment").agg(aggs)
    else:
        return None
    if "clv_total" in df.columns and "clv_per_customer" not in df.columns:
        # The total beside revenue, and per customer beside the other means per customer.
        df = df.with_columns(
            pl.when(pl.col("customers") > 0)
            .then(num("clv_total") / pl.col("customers"))
            .alias("clv_per_customer")
        )
    customers = finite(df["customers"].sum()) or 0.0
    if "share_customers" not in df.columns:
        df = df.with_columns(
            (pl.col("customers") / customers if customers else pl.lit(None, pl.Float64)).alias(
                "share_customers"
            )
        )
    if "revenue" in df.columns and "share_revenue" not in df.columns:
        revenue = finite(df.select(num("revenue").sum()).item()) or 0.0
        df = df.with_columns(
            (num("revenue") / revenue if revenue else pl.lit(None, pl.Float64)).alias(
                "share_revenue"
            )
        )
    columns = [c for c in PROFILE_COLUMNS if c in df.columns]
    return order_frame(df.select(columns), segment_order(tables))


# ---- wording


def _subtitle(meta: Meta) -> str:
    params = params_of(meta, "segments") or params_of(meta, "segment_profile")
    method = str(params.get("method") or "").upper().replace("KMEANS", "k-means")
    as_of = params.get("as_of")
    return " ".join(
        p
        for p in (
            f"{method} segments" if method else "Segments",
            f"as of {as_of}." if as_of else ".",
            "Rank 1 is the most valuable segment.",
        )
        if p
    ).replace(" .", ".")


def _revenue_from_segments(tables: Tables) -> bool:
    """Whether ``segment_profile`` sums each segment's revenue from the segments table's
    customers (no profile, or a profile without revenue over the same customers)."""
    given = tables.get("segment_profile")
    seg = tables.get("segments")
    return has(seg, "segment", "monetary") and (
        not has(given, "segment", "customers")
        or (
            given is not None
            and "revenue" not in given.columns
            and _segments_revenue(
                seg, given.with_columns(pl.col("segment").cast(pl.String), num("customers"))
            )
            is not None
        )
    )


def _revenue_unknowns(tables: Tables, prof: pl.DataFrame) -> str:
    """What the revenue headline leaves out as unknown: segments whose revenue is unknown in the
    profile, or customers whose monetary is, when the revenue is summed from the segments
    table (as ``segment_profile`` does without a profile's revenue)."""
    seg = tables.get("segments")
    customers = twice = ""
    if seg is not None and _revenue_from_segments(tables):
        customers = unknown_note(seg, "monetary", "customer", "revenue")
        if "customer_id" in seg.columns:
            # Counted once among the customers, summed in every row here: said, not hidden.
            twice = repeated_note(seg, ["customer_id"], "customer", ": every row's revenue summed")
    return noted(unknown_note(prof, "revenue", "segment", "revenue"), customers, twice)


def profile_notes(tables: Tables, prof: pl.DataFrame) -> tuple[list[str], str]:
    """What the profile's sums and means per segment leave out as unknown (for its table), and
    what its revenue does (for the chart): customers whose monetary, CLV or mean features are
    unknown when it is aggregated from the segments table; segments whose revenue is unknown,
    when the revenue shares are computed here."""
    seg = tables.get("segments")
    notes: list[str] = []
    revenue = ""
    if seg is not None and _revenue_from_segments(tables):
        revenue = sum_note(seg, "monetary", "customer", "revenue", name="revenue")
    notes.append(revenue)
    if seg is not None and not has(tables.get("segment_profile"), "segment", "customers"):
        notes += [mean_note(seg, c, "customer") for c in ("recency_days", "frequency", "monetary")]
        notes.append(sum_note(seg, "clv", "customer", "CLV", name="clv_total"))
        notes.append(mean_note(seg, "clv", "customer", name="clv_per_customer"))
        if "customer_id" in seg.columns:
            said = unfilled_note(seg, "customer_id", "row", "customer id", by="segment")
            notes.append(f"customers: {said}" if said else "")
    given = tables.get("segment_profile")
    notes.append(_clv_over_known(given))
    notes += [_unknown_cells(prof, given, c) for c in ("customers", "revenue")]
    return notes, revenue


def _clv_over_known(given: pl.DataFrame | None) -> str:
    """The segments of a profile whose clv_per_customer is a mean over fewer customers than the
    segment has (its ``clv_customers``), said as ``mean_note`` says it from the segments table
    ("clv_per_customer: a mean over 627 of 669 customers in Lost (the others unknown)")."""
    if given is None or not has(given, "segment", "customers", "clv_customers"):
        return ""
    known, n = num("clv_customers"), num("customers")
    rows = given.filter((known > 0) & (known < n)).select(
        pl.col("segment").cast(pl.String), known, n
    )
    parts = [
        f"{count(k)} of {count(m)}" + (f" customer{'s' * (m != 1)}" if i == 0 else "") + f" in {g}"
        for i, (g, k, m) in enumerate(rows.iter_rows())
    ]
    return f"clv_per_customer: a mean over {', '.join(parts)} (the others unknown)" if parts else ""


def _unknown_cells(prof: pl.DataFrame, given: pl.DataFrame | None, col: str) -> str:
    """The segments whose ``col`` (customers, revenue) is unknown, and so what ``share_<col>``
    is a share of when it is worked out here ("share_customers: a share of the known
    customers, 1 segment's customers unknown (Champions)"), else ""."""
    n = unknown(prof, col)
    if not n:
        return ""
    whose = "segment's" if n == 1 else "segments'"
    said = f"{count(n)} {whose} {col} unknown{groups_of(prof, col)}"
    share = f"share_{col}"
    if share in prof.columns and (given is None or share not in given.columns):
        return f"{share}: a share of the known {col}, {said}"
    return f"{col}: {said}"


def _customer_count(tables: Tables, prof: pl.DataFrame) -> tuple[float, str]:
    """The Customers headline: the profile's customers summed, or, where the profile is the
    segments table's (no profile given), its distinct customer ids, and what it says of the
    ids given in more than one row or in none."""
    seg = tables.get("segments")
    if has(tables.get("segment_profile"), "segment", "customers") or not has(
        seg, "segment", "customer_id"
    ):
        return total(prof, "customers") or 0.0, unknown_note(
            prof, "customers", "segment", "customers"
        )
    assert seg is not None
    return float(distinct_keys(seg, ["customer_id"])), noted(
        repeated_note(seg, ["customer_id"], "customer", ", counted once"),
        unfilled_note(seg, "customer_id", "row", "customer id"),
    )


def _headlines(prof: pl.DataFrame, unknowns: str, who: tuple[float, str]) -> list[Headline]:
    customers, said = who
    k = prof.height
    heads = [
        Headline(
            "Customers",
            count(customers),
            noted(f"in {k} segment{'s' * (k != 1)}", said),
        )
    ]
    top = prof.row(0, named=True)
    if "share_revenue" in prof.columns:
        heads.append(
            Headline(
                f"Revenue from {ch.label(top['segment'])}",
                pct(top.get("share_revenue")),
                f"with {pct(top.get('share_customers'))} of customers",
            )
        )
    else:
        heads.append(
            Headline(
                f"Customers in {ch.label(top['segment'])}",
                pct(top.get("share_customers")),
                f"{count(top.get('customers'))} "
                + agree(top.get("customers"), "customer", "customers"),
            )
        )
    if "revenue" in prof.columns:
        heads.append(
            Headline("Revenue", money(total(prof, "revenue")), noted("net order value", unknowns))
        )
    else:
        largest = prof.sort("customers", descending=True, nulls_last=True).row(0, named=True)
        heads.append(
            Headline("Largest segment", ch.label(largest["segment"]), count(largest["customers"]))
        )
    return heads


def segments_section(tables: Tables, meta: Meta, colours: Colours) -> Section | str:
    prof = segment_profile(tables)
    if prof is None:
        if "segments" in tables or "segment_profile" in tables:
            return "Customer segments: the segments table has no 'segment' column."
        return "Customer segments: no segments table (segchain segment) in the inputs."
    names = prof["segment"].to_list()
    unknowns, revenue_unknowns = profile_notes(tables, prof)
    plot = partial(
        ch.segment_bars,
        names=names,
        customers=prof["customers"].to_list(),
        revenue=prof["revenue"].to_list() if "revenue" in prof.columns else None,
        colours=colour_list(names, colours),
    )
    blocks: list[Block] = [
        Chart(
            "segments",
            "Segment sizes and value",
            plot,
            size=(9.0, 0.9 + 0.32 * prof.height),
            # On a phone the two panels are stacked.
            narrow_size=(4.2, 1.6 + 0.64 * prof.height),
            caption=with_unknowns("", revenue_unknowns, not_drawn(prof, ("customers", "revenue"))),
        ),
        TableBlock(
            "Segment profile",
            prof,
            formats={
                "segment_rank": INT,
                "customers": INT,
                "share_customers": PCT,
                "revenue": MONEY,
                "share_revenue": PCT,
                "recency_days": NUM,
                "frequency": NUM,
                "monetary": MONEY,
                "clv_total": MONEY,
                "clv_per_customer": MONEY,
            },
            heat=tuple(
                c
                for c in ("share_customers", "share_revenue", "clv_total", "recency_days")
                + ("frequency", "monetary", "clv_per_customer")
                if c in prof.columns
            ),
            note=with_unknowns(
                (
                    "recency_days, frequency, monetary and clv_per_customer are means per "
                    "customer; clv_total is the segment's expected customer lifetime value, its "
                    "customers' summed"
                    if "clv_total" in prof.columns
                    else "recency_days, frequency and monetary are means per customer"
                )
                + "; the shading runs from the lowest to the highest value of each column.",
                *unknowns,
            ),
        ),
    ]
    heads = _headlines(prof, _revenue_unknowns(tables, prof), _customer_count(tables, prof))
    return Section("segments", "Customer segments", _subtitle(meta), heads, blocks)
