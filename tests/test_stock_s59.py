"""stock's options and inputs (an audit of stock, session 59)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

FORECAST = "sku,ds,forecast,error_sd\nA,2025-01-06,40,10\nA,2025-01-13,40,10\n"
CONFIG = '[segments."*"]\nservice_level = 0.95\n'


def test_the_command_lines_service_level_wins_over_the_configs_default(cli, tmp_path) -> None:
    """With [segments."*"] service_level = 0.95 in the config (the demo's has it), 0.5, 0.999
    and --service-measure csl all wrote the same bytes: the options were read for nothing."""
    (tmp_path / "fc.csv").write_text(FORECAST)
    (tmp_path / "s.toml").write_text(CONFIG)
    got = {}
    for args in ([], ["--service-level", "0.999"], ["--service-measure", "csl"]):
        out = tmp_path / "p.csv"
        result = cli("stock", str(tmp_path / "fc.csv"), "--config", str(tmp_path / "s.toml"),
                     *args, "-o", str(out))  # fmt: skip
        assert result.exit_code == 0, result.stderr
        row = pl.read_csv(out).row(0, named=True)
        got[" ".join(args)] = (row["service_target"], row["service_measure"])
    assert got == {
        "": (0.95, "fill-rate"),
        "--service-level 0.999": (0.999, "fill-rate"),
        "--service-measure csl": (0.95, "csl"),
    }


def test_a_segments_own_level_still_wins_over_the_command_line(tmp_path: Path) -> None:
    from segchain.policy import PolicyTable, SegmentPolicy

    table = PolicyTable(
        {"*": SegmentPolicy(service_level=0.95), "Champions": SegmentPolicy(service_level=0.99)}
    ).over_default(service_level=0.5, service_measure=None)
    assert table.for_segment("Champions").service_level == 0.99
    assert table.for_segment("Lost").service_level == 0.5


def test_negative_units_on_order_or_owed_are_refused_before_the_plan(cli, tmp_path) -> None:
    """backorders -500 (an ERP's sign for 500 owed) raised the inventory position by 500 and
    order_now became 0 at a point with 10 on hand, exit 0; a bad on-hand row was refused only
    after the whole plan had run."""
    (tmp_path / "fc.csv").write_text(
        "sku,ds,forecast,error_sd\nA,2025-01-06,100,20\nA,2025-01-13,100,20\n"
        "B,2025-01-06,100,20\nB,2025-01-13,100,20\n"
    )
    (tmp_path / "oh.csv").write_text("sku,on_hand,on_order,backorders\nA,10,0,500\nB,10,0,-500\n")
    out = tmp_path / "p.csv"
    result = cli("stock", str(tmp_path / "fc.csv"), "--on-hand", str(tmp_path / "oh.csv"),
                 "-o", str(out))  # fmt: skip
    assert result.exit_code == 1
    assert "negative backorders for sku 'B': units owed to customers are never below 0" in (
        result.stderr
    )
    assert "planning" not in result.stderr
    assert not out.exists()


def test_an_item_row_with_a_blank_site_is_the_skus_default(cli, tmp_path) -> None:
    """A site of one space (a cleared spreadsheet cell): the row was used nowhere, its sku said
    to be 'not in --items', and the points planned at the default lead time."""
    (tmp_path / "fc.csv").write_text(
        "site,sku,ds,forecast,error_sd\nS1,A,2025-01-06,10,2\nS1,A,2025-01-13,10,2\n"
        "S2,A,2025-01-06,10,2\nS2,A,2025-01-13,10,2\n"
    )
    (tmp_path / "items.csv").write_text("sku,site,lead_time_days\nA, ,40\n")
    out = tmp_path / "p.csv"
    result = cli("stock", str(tmp_path / "fc.csv"), "--items", str(tmp_path / "items.csv"),
                 "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(out).get_column("lead_time_days").to_list() == [40.0, 40.0]
    assert "not in --items" not in result.stderr


def test_a_lead_time_no_point_uses_is_said(cli, tmp_path) -> None:
    """Every item states its own lead time: --lead-time-days changed nothing, nothing said."""
    (tmp_path / "fc.csv").write_text(
        "sku,ds,forecast,error_sd\nA,2025-01-06,10,2\nA,2025-01-13,10,2\n"
    )
    (tmp_path / "items.csv").write_text("sku,lead_time_days\nA,30\n")
    result = cli("stock", str(tmp_path / "fc.csv"), "--items", str(tmp_path / "items.csv"),
                 "--lead-time-days", "5", "-o", str(tmp_path / "p.csv"))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (
        "Warning: --lead-time-days 5 is used by no stocking point: every one takes its item's own "
        "lead_time_days from --items"
    ) in result.stderr


def test_a_normal_rs_fill_rate_level_is_the_smallest_meeting_its_target() -> None:
    """The README: 'the level is the smallest integer that meets the target'. A normal (R, S)
    fill-rate point took the textbook level, which counts the backorders carried into a cycle
    as its shortage: 919 units at a 70-day lead time and a 0.95 target, where 878 meet it.
    The answer here is computed apart, with scipy's normal distribution, by walking S up."""
    import numpy as np
    from scipy import stats

    from segchain.stock.levels import normal_levels

    mu, sd, lead, review, target = 50.0, 60.0, 10.0, 1.0, 0.95

    def loss(mean: float, spread: float, s: float) -> float:
        z = (s - mean) / spread
        return spread * (stats.norm.pdf(z) - z * stats.norm.sf(z))

    def fill(s: float) -> float:
        t = lead + review
        short = loss(mu * t, sd * t**0.5, s) - loss(mu * lead, sd * lead**0.5, s)
        return 1 - short / (mu * review)

    expected = 0
    while fill(expected) < target:
        expected += 1
    t = lead + review
    level, _, _ = normal_levels(
        periodic=True,
        fill=np.array([True]),
        target=np.array([target]),
        allowed=np.array([(1 - target) * mu * review]),
        mean_t=np.array([mu * t]),
        sd_t=np.array([sd * t**0.5]),
        mean_l=np.array([mu * lead]),
        sd_l=np.array([sd * lead**0.5]),
        q=np.array([0.0]),
    )
    assert expected == 878
    assert level.tolist() == [float(expected)]
