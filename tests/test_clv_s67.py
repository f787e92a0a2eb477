"""A customer whose p_alive, expected purchases or spend the fitted CLV models give as NaN or
infinite was valued at 0 without a word (``np.nan_to_num``): the steadiest buyers got clv 0 that
way until session 67 mended their cause (``clv._log_hyp2f1_positive``). Any other such value is
now left empty, with a warning that counts the customers (session 67)."""

from __future__ import annotations

import numpy as np
import polars as pl
from test_degenerate_s67 import _steady_orders


def test_values_not_finite_are_left_empty_and_counted() -> None:
    from segchain.clv import _unfinite_left_empty

    warnings: list[str] = []
    p_alive, expected, spend = _unfinite_left_empty(
        np.array([0.5, np.nan, 0.9, 1.0]),
        np.array([2.0, 3.0, np.inf, 4.0]),
        np.array([10.0, 10.0, 10.0, 12.0]),
        warnings,
    )
    # The second and third customers lack a finite value: all three of theirs empty, the
    # others' as given.
    for values, kept in ((p_alive, [0.5, 1.0]), (expected, [2.0, 4.0]), (spend, [10.0, 12.0])):
        assert np.isnan(values[[1, 2]]).all()
        assert values[[0, 3]].tolist() == kept
    assert warnings == [
        "2 of 4 customers' values could not be computed from the fitted models (not a finite "
        "number): their p_alive, expected_purchases and clv are left empty"
    ]


def test_segment_writes_an_unfinite_clv_empty_not_0(cli, tmp_path, monkeypatch) -> None:
    """The five steady customers of test_degenerate_s67 with the BG/NBD expectation of the
    first made NaN (as scipy's hyp2f1 gave it before): its clv empty, the others' their rate
    (219 purchase days at 10.00 over 365 days: 2,190, within 2 %)."""
    import segchain.clv as clv

    real = clv.bgnbd_expected_purchases

    def first_lost(*args, **kwargs):
        out = np.array(real(*args, **kwargs), dtype=float)
        out[0] = np.nan
        return out

    monkeypatch.setattr(clv, "bgnbd_expected_purchases", first_lost)
    _steady_orders(tmp_path / "orders.csv")
    result = cli("segment", "orders.csv", "--clv", "--clv-horizon", "365", "-o", "seg.parquet")
    assert result.exit_code == 0, result.stderr
    assert "1 of 5 customers' value could not be computed" in " ".join(result.stderr.split())
    seg = pl.read_parquet(tmp_path / "seg.parquet").sort("customer_id")
    assert seg.get_column("clv").null_count() == 1
    assert seg.get_column("expected_purchases").null_count() == 1
    assert seg.get_column("p_alive").null_count() == 1
    for value in seg.get_column("clv").drop_nulls():
        assert abs(value - 2190) < 0.02 * 2190
