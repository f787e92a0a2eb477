"""segment's options that the run would read for nothing are refused, and a config's CLV can be
turned off (audit of session 58: --abc-cutoffs with RFM, --xyz-cutoffs with k-means and
--clv-horizon without --clv exited 0 without a word; a config's clv = true had no way off)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest


def _orders(path: Path) -> None:
    rows = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    n = 0
    for c in range(12):
        for k in range(2 + c % 4):
            n += 1
            day = dt.date(2024, 1, 1) + dt.timedelta(days=17 * k + 5 * c)
            rows.append(f"{n},{day},C{c},S{k % 3},{1 + k % 3},{5 + c}")
    path.write_text("\n".join(rows) + "\n")


ABC_ONLY = "applies to --method abc-xyz only (got --method"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--abc-cutoffs", "70,90"], f"--abc-cutoffs {ABC_ONLY} rfm)"),
        (["--method", "kmeans", "--xyz-cutoffs", "0.3,0.9"], f"--xyz-cutoffs {ABC_ONLY} kmeans)"),
        (["--clv-horizon", "30"], "--clv-horizon applies with --clv only"),
    ],
)
def test_an_option_read_for_nothing_is_a_usage_error(cli, tmp_path: Path, options, said) -> None:
    _orders(tmp_path / "orders.csv")
    result = cli("segment", "orders.csv", *options, "-o", "seg.csv")
    assert result.exit_code == 2, result.stderr
    assert said in result.stderr
    assert not (tmp_path / "seg.csv").exists()


def test_the_options_with_their_method_still_run(cli, tmp_path: Path) -> None:
    _orders(tmp_path / "orders.csv")
    result = cli(
        "segment", "orders.csv", "--method", "abc-xyz", "--abc-cutoffs", "70,90", "-o", "a.csv"
    )
    assert result.exit_code == 0, result.stderr


def test_no_clv_turns_off_a_configs_clv(cli, tmp_path: Path) -> None:
    _orders(tmp_path / "orders.csv")
    (tmp_path / "segchain.toml").write_text("[segment]\nclv = true\n")
    on = cli("segment", "orders.csv", "--config", "segchain.toml", "-o", "on.csv")
    assert on.exit_code == 0, on.stderr
    assert "clv" in pl.read_csv(tmp_path / "on.csv").columns
    off = cli("segment", "orders.csv", "--config", "segchain.toml", "--no-clv", "-o", "off.csv")
    assert off.exit_code == 0, off.stderr
    assert "clv" not in pl.read_csv(tmp_path / "off.csv").columns
