"""Acceptance: `segment --clv` on the CDNOW sample reproduces the published BG/NBD and
Gamma-Gamma estimates.

The data are those of Fader, Hardie & Lee (2005), "Counting your customers the easy way"
(Marketing Science 24(2)): 2,357 CDNOW customers whose first purchase was in the first quarter of
1997, their purchases to 1998-06-30; calibration is the first 39 weeks, to 1997-09-30 inclusive.
The lifetimes wheel (pip install lifetimes) carries the elog (CDNOW_sample.txt: master id, sample
id, date, CDs, dollars) and the authors' per-customer summary of the calibration period
(cdnow_customers_summary_with_transactions.csv: x, t_x, T, zbar); both are read from the
installed package without importing it (its import may break on current numpy or pandas).

The elog is turned into the order lines a user exports (an order per customer and day, a line's
unit price its dollars over its CDs) and run through the command line as a user runs it.
"""

from __future__ import annotations

import csv
import datetime as dt

import polars as pl
import pytest
import realdata

# Fader, Hardie & Lee (2005), section 4, and Fader & Hardie (2013), "The Gamma-Gamma Model of
# Monetary Value": the estimates as printed, each asserted to one unit in its last digit.
BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
BGNBD_LOG_LIKELIHOOD = -9582.4
GAMMA_GAMMA_PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}
# Fader & Hardie (2013) fit the 946 customers with a repeat purchase; the log-likelihood is
# CLVTools' reproduction of that fit (tests/testthat/test_correctness_gg.R: -4055.9177).
GAMMA_GAMMA_CUSTOMERS = 946
GAMMA_GAMMA_LOG_LIKELIHOOD = -4055.92
# The paper's worked example (section 5, customer 0001 of the sample): x = 2, t_x = 30.43,
# T = 38.86 weeks -> 1.226 purchases expected in the next 39 weeks.
EXAMPLE_CUSTOMER = "0001"
EXAMPLE_EXPECTED = 1.226

CALIBRATION_END = dt.date(1997, 9, 30)  # inclusive: --as-of is the day after


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """``segment --clv`` on the CDNOW sample: (Parquet metadata, segments, authors' summary)."""
    from typer.testing import CliRunner

    from segchain.cli import app
    from segchain.tableio import read_metadata

    datasets = realdata.cdnow("CDNOW_sample.txt").parent
    folder = tmp_path_factory.mktemp("cdnow")
    orders = folder / "orders.csv"
    with (datasets / "CDNOW_sample.txt").open() as src, orders.open("w", newline="") as out:
        write = csv.writer(out).writerow
        write(["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"])
        for line in src:
            _, customer, day, cds, dollars = line.split()
            date = dt.datetime.strptime(day, "%Y%m%d").date().isoformat()
            write([f"{customer}-{day}", date, customer, "CD", cds, float(dollars) / int(cds)])
    segments = folder / "segments.parquet"
    as_of = CALIBRATION_END + dt.timedelta(days=1)
    args = ["segment", str(orders), "--clv", "--clv-horizon", "273", "--as-of", str(as_of)]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # no segchain.toml of the developer's folder
        ran = CliRunner().invoke(app, [*args, "-o", str(segments)], catch_exceptions=False)
    assert ran.exit_code == 0, ran.stderr
    summary = pl.read_csv(
        datasets / "cdnow_customers_summary_with_transactions.csv",
        schema_overrides={"ID": pl.String},
    ).with_columns(customer_id=pl.col("ID").str.zfill(4))
    return read_metadata(segments), pl.read_parquet(segments), summary


def test_cdnow_customers_and_repeat_purchases_match_the_authors_summary(cdnow):
    # The order lines made from the elog hold the paper's customers: x (distinct purchase days
    # after the first) and t_x agree with the authors' own summary, customer by customer.
    _, segments, summary = cdnow
    ours = segments.select(
        "customer_id",
        x=pl.col("frequency") - 1,
        t_x=((pl.col("last_order") - pl.col("first_order")).dt.total_days() / 7).round(2),
    )
    theirs = summary.select("customer_id", "x", "t_x")
    assert ours.sort("customer_id").equals(theirs.sort("customer_id"))


@pytest.mark.parametrize("name", list(BGNBD_PUBLISHED))
def test_cdnow_bgnbd_parameters_match_fader_hardie_lee_2005(cdnow, name):
    meta, _, _ = cdnow
    fitted = meta["clv"]["bgnbd"]
    assert fitted["customers"] == 2357
    assert fitted[name] == pytest.approx(BGNBD_PUBLISHED[name], abs=1e-3)


def test_cdnow_bgnbd_log_likelihood_matches_fader_hardie_lee_2005(cdnow):
    meta, _, _ = cdnow
    assert meta["clv"]["bgnbd"]["log_likelihood"] == pytest.approx(BGNBD_LOG_LIKELIHOOD, abs=0.1)


@pytest.mark.parametrize("name", list(GAMMA_GAMMA_PUBLISHED))
def test_cdnow_gamma_gamma_parameters_match_fader_hardie_2013(cdnow, name):
    meta, _, _ = cdnow
    fitted = meta["clv"]["gamma_gamma"]
    assert fitted["customers"] == GAMMA_GAMMA_CUSTOMERS
    assert fitted[name] == pytest.approx(GAMMA_GAMMA_PUBLISHED[name], abs=0.01)


def test_cdnow_gamma_gamma_log_likelihood_matches_clvtools(cdnow):
    meta, _, _ = cdnow
    got = meta["clv"]["gamma_gamma"]["log_likelihood"]
    assert got == pytest.approx(GAMMA_GAMMA_LOG_LIKELIHOOD, abs=0.1)


def test_cdnow_expected_purchases_of_the_papers_example_customer(cdnow):
    _, segments, summary = cdnow
    example = summary.filter(pl.col("customer_id") == EXAMPLE_CUSTOMER).row(0, named=True)
    assert (example["x"], example["t_x"], example["T"]) == (2, 30.43, 38.86)
    got = segments.filter(pl.col("customer_id") == EXAMPLE_CUSTOMER).item(0, "expected_purchases")
    assert got == pytest.approx(EXAMPLE_EXPECTED, abs=1e-3)
