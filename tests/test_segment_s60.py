"""segment fixes of audit G (session 60): k-means in any currency, CLV of customers without a
purchase, validate's flags kept, mixed --abc-cutoffs, tenure from product lines."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from segchain.segment import segment

D = dt.date
AS_OF = D(2024, 7, 1)


def random_base(n: int = 300, seed: int = 3) -> pl.DataFrame:
    """Clean order lines of ``n`` customers with lognormal spend (a few cents to thousands)
    and 1-15 orders over a year."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        orders = int(rng.integers(1, 16))
        size = float(rng.lognormal(3.0, 1.6))
        for o in range(orders):
            day = AS_OF - dt.timedelta(days=int(rng.integers(1, 366)))
            value = round(size * float(rng.lognormal(0.0, 0.3)), 2)
            rows.append((f"{c}-{o}", day, f"c{c:03d}", 1.0, value))
    df = pl.DataFrame(
        rows,
        schema={
            "order_id": pl.String,
            "order_date": pl.Date,
            "customer_id": pl.String,
            "quantity": pl.Float64,
            "unit_price": pl.Float64,
        },
        orient="row",
    )
    amount = pl.col("quantity") * pl.col("unit_price")
    return df.with_columns(sku=pl.lit("S1"), amount=amount, flag=pl.lit(None, pl.String))


@pytest.mark.parametrize("factor", [0.001, 130.0, 1000.0])
def test_kmeans_clusters_do_not_depend_on_the_unit_of_money(factor):
    """Prices in kEUR, JPY or milli-units describe the same customers: the standardised log of
    c x spend is that of spend (the README's 'standardised log ... monetary'), so every customer
    keeps its cluster and its label."""
    base = random_base()
    scaled = base.with_columns(pl.col("unit_price") * factor, pl.col("amount") * factor)
    before = segment(base, method="kmeans", as_of=AS_OF).segments
    after = segment(scaled, method="kmeans", as_of=AS_OF).segments
    assert after.get_column("segment").to_list() == before.get_column("segment").to_list()


def clv_base() -> list[tuple]:
    """30 customers with 1-6 purchase days over a year, of 20-120 each: order lines for
    ``tests.test_segment.orders``."""
    rng = np.random.default_rng(7)
    rows = []
    for c in range(30):
        for o in range(int(rng.integers(1, 7))):
            day = AS_OF - dt.timedelta(days=int(rng.integers(1, 366)))
            rows.append((f"{c}-{o}", day, f"c{c:02d}", 1.0, float(rng.integers(20, 121))))
    return rows


def test_clv_leaves_out_customers_without_a_purchase():
    """A customer whose only lines in the window are a return, or a fee, has no first purchase
    for BG/NBD's T to run from: no p_alive, expected purchases or CLV (left empty, said on
    stderr), and the fits are those of the other customers alone."""
    from tests.test_segment import orders

    base = clv_base()
    others = [
        ("C9", AS_OF - dt.timedelta(days=200), "ret", -2.0, 30.0, "return"),
        ("F9", AS_OF - dt.timedelta(days=300), "fee", 1.0, 15.0, "non_product"),
    ]
    alone = segment(orders(base), clv=True, as_of=AS_OF)
    both = segment(orders(base + others), clv=True, as_of=AS_OF)
    clv = ["customer_id", "p_alive", "expected_purchases", "clv"]
    without = both.segments.filter(pl.col("customer_id").is_in(["ret", "fee"]))
    assert without.select(clv).rows() == [("fee", None, None, None), ("ret", None, None, None)]
    kept = both.segments.filter(~pl.col("customer_id").is_in(["ret", "fee"])).select(clv)
    assert kept.equals(alone.segments.select(clv))
    assert both.clv_fit == alone.clv_fit
    assert any("2 customers with no purchase in the window" in w for w in both.warnings)


@pytest.mark.parametrize("cutoffs", ["0.8,95", "80,0.95"])
def test_abc_cutoffs_mixing_a_share_and_a_percent_are_refused(cli, orders_csv, cutoffs):
    """0.8,95 was read as 0.8 % and 95 % (1 A customer of 400 where 80,95 gives 32), while
    80,0.95 was refused: one share and one percent is a typo either way round."""
    result = cli("segment", str(orders_csv), "--method", "abc-xyz", "--abc-cutoffs", cutoffs)
    assert result.exit_code == 2
    assert "--abc-cutoffs: mixes a share" in result.stderr
    assert "both as shares (e.g. 0.8,0.95) or both in percent (80,95)" in result.stderr


def test_first_order_and_tenure_of_a_customer_without_sales_skip_fee_lines():
    """The audit's case: A's only lines are postage on 2024-01-02 and a return on 2024-03-01.
    Postage counts toward nothing, so A's first and last order are the return's day, and its
    tenure is 2024-03-07 (the day after the last order) - 2024-03-01 = 6 days (was 65, from
    the postage line). A customer with nothing but a fee line keeps that line's dates."""
    from tests.test_segment import orders

    lines = [
        ("1", D(2024, 1, 2), "A", 1.0, 15.0, "non_product"),
        ("C2", D(2024, 3, 1), "A", -2.0, 10.0, "return"),
        ("3", D(2024, 3, 5), "B", 1.0, 10.0),
        ("4", D(2024, 3, 6), "C", 1.0, 10.0),
        ("5", D(2024, 2, 1), "F", 1.0, 5.0, "non_product"),
    ]
    got = segment(orders(lines)).segments.select(
        "customer_id", "first_order", "last_order", "tenure_days", "recency_days"
    )
    assert got.row(0) == ("A", D(2024, 3, 1), D(2024, 3, 1), 6, 6)
    assert got.row(3) == ("F", D(2024, 2, 1), D(2024, 2, 1), 35, 35)


# Online Retail's layout: the Manual line 'M' is a fee only with --preset online-retail.
RETAIL_CSV = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    "1,A1,MUG,2,2011-01-03 10:00:00,5.0,100,UK\n"
    "2,M,Manual,1,2011-01-04 10:00:00,300.0,100,UK\n"
    "3,A1,MUG,1,2011-01-05 10:00:00,5.0,200,UK\n"
)


def validated_then_rewritten(cli, tmp_path):
    """validate's Parquet of RETAIL_CSV (with the preset), and the same lines written again by
    polars, as a filter or conversion step does: its segchain metadata gone."""
    export = tmp_path / "retail.csv"
    export.write_text(RETAIL_CSV)
    done = cli("validate", str(export), "--preset", "online-retail", "-o", "v.parquet")
    assert done.exit_code == 0, done.stderr
    pl.read_parquet(tmp_path / "v.parquet").write_parquet(tmp_path / "rewritten.parquet")
    return tmp_path / "rewritten.parquet"


def test_rewritten_validate_parquet_keeps_its_flags(cli, tmp_path):
    """Customer 100's Manual line (300) was flagged non_product by validate: it counts toward
    nothing, so 100's monetary is the mug's 2 x 5 = 10, as from validate's own Parquet. Flagged
    again without the preset, it counted as a sale of 300 (monetary 310)."""
    rewritten = validated_then_rewritten(cli, tmp_path)
    result = cli("segment", str(rewritten), "-o", "s.csv")
    assert result.exit_code == 0, result.stderr
    segments = pl.read_csv(tmp_path / "s.csv", schema_overrides={"customer_id": pl.String})
    assert dict(segments.select("customer_id", "monetary").iter_rows()) == {"100": 10.0, "200": 5.0}
    assert "read as validate's output, its flags kept" in result.stderr
    assert "non_product 1" in result.stderr


def test_validate_csv_flags_derived_again_are_said(cli, tmp_path):
    """validate's CSV has no metadata and its text no types: read as an export, its flags are
    derived again, and stderr says the file's own flag column is not read and how to keep it."""
    export = tmp_path / "retail.csv"
    export.write_text(RETAIL_CSV)
    done = cli("validate", str(export), "--preset", "online-retail", "-o", "v.csv")
    assert done.exit_code == 0, done.stderr
    result = cli("segment", str(tmp_path / "v.csv"), "-o", "s.csv")
    assert result.exit_code == 0, result.stderr
    assert "the column flag holds segchain's flag codes (non_product 1)" in result.stderr
    assert "give the Parquet validate wrote, or read this file with validate's --preset" in (
        result.stderr
    )
