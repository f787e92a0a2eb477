"""sample: the generator plants what it promises, deterministically, and cleaning sees the mess."""

from __future__ import annotations

import polars as pl
import pytest

from segchain.sample import BEHAVIOURS, DEMAND_PATTERNS, generate


@pytest.fixture(scope="module")
def files() -> dict[str, pl.DataFrame]:
    return generate(customers=300, skus=60, years=2, seed=7)


def test_generate_is_deterministic() -> None:
    a = generate(customers=40, skus=10, years=1, seed=3)
    b = generate(customers=40, skus=10, years=1, seed=3)
    for name in a:
        assert a[name].equals(b[name]), name


def test_generate_seed_changes_data() -> None:
    a = generate(customers=40, skus=10, years=1, seed=3)["orders"]
    b = generate(customers=40, skus=10, years=1, seed=4)["orders"]
    assert not a.equals(b)


def test_every_behaviour_is_planted(files) -> None:
    counts = dict(files["customers"].group_by("planted_behaviour").len().iter_rows())
    assert set(counts) == {b.name for b in BEHAVIOURS}
    # Exact group sizes: shares times 300, rounded by largest remainder.
    assert counts["occasional"] == 90 and counts["frequent_high_value"] == 24


def test_behaviours_differ_in_the_orders(files) -> None:
    orders = files["orders"].filter(pl.col("customer_id").is_not_null())
    per = (
        orders.join(files["customers"], on="customer_id")
        .group_by("planted_behaviour", "customer_id")
        .agg(pl.col("order_id").n_unique().alias("n"), pl.col("order_date").max().alias("last"))
        .group_by("planted_behaviour")
        .agg(pl.col("n").median(), pl.col("last").max())
    )
    n = dict(per.select("planted_behaviour", "n").iter_rows())
    assert n["frequent_high_value"] > n["loyal"] > n["occasional"] > n["one_off"]
    assert n["one_off"] <= 2  # one order, sometimes plus its return


def test_lapsed_customers_stop_ordering_months_before_the_end(files) -> None:
    orders = files["orders"].filter(~pl.col("order_id").str.starts_with("C"))
    last = (
        orders.join(files["customers"], on="customer_id")
        .filter(pl.col("planted_behaviour") == "lapsed")
        .group_by("customer_id")
        .agg(pl.col("order_date").str.to_date(strict=False).max())
    )
    end = orders["order_date"].str.to_date(strict=False).max()
    import datetime as dt

    assert (last["order_date"] < end - dt.timedelta(days=200)).all()


def test_every_demand_pattern_is_planted(files) -> None:
    assert set(files["skus"]["planted_pattern"]) == set(DEMAND_PATTERNS)


def test_orders_hold_the_messy_lines_cleaning_must_catch() -> None:
    orders = generate(customers=400, skus=40, years=2, seed=1)["orders"]
    assert orders["customer_id"].null_count() > 0
    assert orders["order_date"].str.to_date(strict=False).null_count() > 0
    assert (orders["quantity"] < 0).any()
    assert orders["order_id"].str.starts_with("C").any()
    assert (orders["sku"] == "POST").any()


def test_ids_keep_leading_zeros(files) -> None:
    assert files["orders"]["sku"].drop_nulls().str.starts_with("0").any()
    assert files["customers"]["customer_id"].str.len_chars().min() == 7


def test_coordinates_lie_in_western_europe(files) -> None:
    c = files["customers"]
    assert c["lat"].min() > 42 and c["lat"].max() < 55
    assert c["lon"].min() > -3 and c["lon"].max() < 16


def test_items_sites_on_hand_columns(files) -> None:
    assert files["items"].columns == [
        "sku",
        "site",
        "description",
        "unit_cost",
        "order_cost",
        "holding_rate",
        "lead_time_days",
        "lead_time_sd_days",
        "moq",
        "pack_size",
    ]
    assert files["sites"].columns[:5] == ["site_id", "city", "lat", "lon", "fixed_cost"]
    assert files["sites"]["existing"].sum() == 2
    assert files["on_hand"].columns == ["sku", "site", "on_hand"]


def test_weekdays_dominate(files) -> None:
    days = files["orders"]["order_date"].str.to_date(strict=False).drop_nulls().dt.weekday()
    weekend = ((days == 6) | (days == 7)).mean()
    assert weekend < 0.1


def test_generated_orders_validate_with_few_rejects() -> None:
    from segchain.orders import Reconciliation, import_orders

    raw = generate(customers=200, skus=30, years=1, seed=2)["orders"]
    raw = raw.with_columns(pl.all().cast(pl.String))
    mapping = {c: c for c in raw.columns}
    recon = Reconciliation.from_summary(import_orders(raw, mapping=mapping).summary.collect())
    assert recon.read == raw.height
    assert 0 < recon.rejected < 0.01 * recon.read
    assert set(recon.by_reason) <= {"missing_customer", "bad_date"}


def test_occasional_buyers_return_more_than_regulars(files) -> None:
    """Return rates are planted by behaviour (1 % frequent high value .. 5 % one-off)."""
    lines = (
        files["orders"]
        .filter(pl.col("customer_id").is_not_null(), pl.col("sku") != "POST")
        .join(files["customers"], on="customer_id")
    )
    rate = dict(
        lines.group_by("planted_behaviour")
        .agg((pl.col("order_id").str.starts_with("C").sum() / pl.len()).alias("r"))
        .iter_rows()
    )
    assert rate["frequent_high_value"] < rate["occasional"]
    assert rate["loyal"] < rate["one_off"]


def test_site_fixed_costs_are_in_the_transport_rates_money(files) -> None:
    """A site's fixed cost over the horizon is about 20 km of freight for all units sold at
    TRANSPORT_RATE (the trade-off network weighs), not a different currency scale."""
    from segchain.sample import TRANSPORT_RATE

    units = (
        files["orders"].filter(pl.col("quantity") > 0, pl.col("sku") != "POST")["quantity"].sum()
    )
    ratio = files["sites"]["fixed_cost"] / (units * 20 * TRANSPORT_RATE)
    assert ratio.min() >= 0.6 and ratio.max() <= 1.2


def test_items_state_each_sites_lead_time_from_the_hub(files) -> None:
    """One default row per sku; sites other than the hub (Frankfurt) add a transfer day per
    started 500 km (great-circle distances from a map: Paris 479 km, Toulouse 830 km)."""
    items = files["items"]
    default = items.filter(pl.col("site").is_null())
    assert default["sku"].n_unique() == default.height == files["skus"].height
    per_site = items.filter(pl.col("site").is_not_null())
    assert "DC-FRA" not in per_site["site"].to_list()
    assert per_site.select(
        pl.exclude("sku", "site", "lead_time_days")
    ).null_count().sum_horizontal().item() == (per_site.height * (len(items.columns) - 3))
    joined = per_site.join(default.select("sku", "lead_time_days"), on="sku", suffix="_sku")
    extra = dict(
        joined.select("site", pl.col("lead_time_days") - pl.col("lead_time_days_sku"))
        .unique()
        .iter_rows()
    )
    assert extra["DC-PAR"] == 1.0 and extra["DC-TLS"] == 2.0
    assert len(extra) == 11


def test_the_smallest_sample_plans_a_network_without_allow_split(cli, tmp_path) -> None:
    # Site capacities were shares of the total demand (30-55 %): of 2 customers one bought
    # 199 of 255 units, more than any site held (140), and network refused the sample
    # single-sourced ('needs more than any single site ... --allow-split').
    out = tmp_path / "s"
    result = cli("sample", "-o", str(out), "--customers", "2", "--skus", "1")
    assert result.exit_code == 0, result.stderr
    orders = pl.read_csv(out / "orders.csv", schema_overrides={"customer_id": pl.String})
    bought = (
        orders.filter(pl.col("quantity") > 0).group_by("customer_id").agg(pl.col("quantity").sum())
    )
    sites = pl.read_csv(out / "sites.csv")
    assert sites["capacity"].min() >= bought["quantity"].max()
    assert (
        cli("validate", str(out / "orders.csv"), "-o", str(tmp_path / "o.parquet")).exit_code == 0
    )
    seg = cli("segment", str(tmp_path / "o.parquet"), "-o", str(tmp_path / "seg.parquet"))
    assert seg.exit_code == 0, seg.stderr
    asg = tmp_path / "a.csv"
    result = cli(
        "network", str(tmp_path / "seg.parquet"), "--sites", str(out / "sites.csv"), "-o", str(asg)
    )
    assert result.exit_code == 0, result.stderr
    lanes = pl.read_csv(asg, schema_overrides={"customer_id": pl.String})
    assert lanes.height == 2 and lanes["share"].to_list() == [1.0, 1.0]


def test_a_sample_over_one_in_the_other_format_names_the_orders_it_left(cli, tmp_path) -> None:
    # `sample -f parquet` over a CSV sample left orders.csv (the old sample's) beside the new
    # orders.parquet without a word: a Makefile reading orders.csv read the old orders with the
    # new items and sites. The file is left (it may be the user's), and named.
    out = tmp_path / "s"
    small = ["--customers", "2", "--skus", "1", "--years", "1"]
    assert cli("sample", "-o", str(out), *small).exit_code == 0
    old = (out / "orders.csv").read_bytes()
    result = cli("sample", "-o", str(out), *small, "-f", "parquet", "--seed", "2")
    assert result.exit_code == 0, result.stderr
    assert (out / "orders.csv").read_bytes() == old
    assert f"{out / 'orders.csv'} is not this sample's" in result.stderr
    assert str(out / "orders.parquet") in result.stderr
    again = cli("sample", "-o", str(out), *small, "-f", "parquet", "--seed", "2")
    (out / "orders.csv").unlink()
    assert "is not this sample's" in again.stderr
    clean = cli("sample", "-o", str(out), *small, "-f", "parquet")
    assert clean.exit_code == 0 and "Warning" not in clean.stderr
