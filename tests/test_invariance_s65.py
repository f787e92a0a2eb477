"""Clusters that depend on the data, not on how the ERP numbers its customers (audit M, session 65).

k-means++ seeding draws row positions, and the rows came in the customer ids' sort order: the
same customers under other ids fell in other local optima (segment --method kmeans: 2 of the
demo's 400 customers moved segment; network --candidates on Superstore: 6 of 8 candidates and 2
of 3 opened sites moved). Each test renames or reorders, and asks for the same answer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl

from segchain.network import candidate_sites

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


def _hashed(customer_id: str) -> str:
    return "C" + hashlib.sha1(customer_id.encode()).hexdigest()[:8]


def test_kmeans_segments_do_not_depend_on_the_customer_ids(cli, tmp_path: Path):
    # The demo's orders with only customer_id renamed (the audit's repro): every customer's
    # recency, frequency and monetary value the same, so every segment must be too.
    orders = pl.read_csv(SAMPLE_DATA / "orders.csv", infer_schema=False)
    names = {c: _hashed(c) for c in orders.get_column("customer_id").drop_nulls().unique()}
    renamed = orders.with_columns(pl.col("customer_id").replace(names))
    renamed.write_csv(tmp_path / "renamed.csv")
    for source, out in (
        (SAMPLE_DATA / "orders.csv", "plain"),
        (tmp_path / "renamed.csv", "renamed"),
    ):
        result = cli(
            "segment",
            str(source),
            "--method",
            "kmeans",
            "-q",
            "-o",
            str(tmp_path / f"{out}.parquet"),
        )
        assert result.exit_code == 0, result.output
    plain = pl.read_parquet(tmp_path / "plain.parquet")
    back = {v: k for k, v in names.items()}
    other = pl.read_parquet(tmp_path / "renamed.parquet").with_columns(
        pl.col("customer_id").replace_strict(back)
    )
    both = plain.join(other, on="customer_id", suffix="_renamed")
    assert both.height == plain.height == other.height == len(names)
    for feature in ("recency_days", "frequency", "monetary"):
        assert (both.get_column(feature) == both.get_column(f"{feature}_renamed")).all()
    moved = both.filter(pl.col("segment") != pl.col("segment_renamed"))
    assert moved.height == 0, moved.select("customer_id", "segment", "segment_renamed")


def _located(customers: int, seed: int) -> pl.DataFrame:
    """Customers scattered over the continental US, with lognormal demand and some sharing a
    location (a ZIP centroid)."""
    rng = np.random.default_rng(seed)
    zips = rng.uniform([25.0, -124.0], [49.0, -67.0], size=(customers // 2, 2))
    at = rng.integers(0, len(zips), customers)
    return pl.DataFrame(
        {
            "customer_id": [f"{c:05d}" for c in range(customers)],
            "lat": zips[at, 0],
            "lon": zips[at, 1],
            "demand": rng.lognormal(2.0, 1.2, customers),
        }
    )


def test_candidate_sites_do_not_depend_on_the_customers_order():
    for seed in range(4):
        customers = _located(600, seed)
        plain = candidate_sites(customers, 8, seed=0)
        for order in (customers.reverse(), customers.sample(fraction=1.0, shuffle=True, seed=seed)):
            assert candidate_sites(order, 8, seed=0).equals(plain)


def test_candidate_sites_weigh_a_shared_location_by_its_customers_demand():
    # Two customers at one place weigh as one customer with their summed demand: merging points
    # keeps k-means' objective (checked against the candidates of the merged table).
    customers = _located(300, 7)
    merged = (
        customers.group_by("lat", "lon")
        .agg(pl.col("demand").sum(), pl.col("customer_id").min())
        .select("customer_id", "lat", "lon", "demand")
    )
    assert merged.height < customers.height
    assert candidate_sites(customers, 5, seed=0).equals(candidate_sites(merged, 5, seed=0))
