"""forecast --as-of: forecast as of a day, as segment --as-of segments.

Before it, forecast read every order line whatever segment's --as-of had been, so a backtest of
the chain (segment and forecast as of a past day) meant cutting the export by hand, and the fix
the unfinished-last-period warning gave was an edit of the data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from segchain.forecast import forecast
from segchain.forecast.series import build_series

MONDAY = dt.date(2024, 1, 1)


def _orders(weeks: int = 20) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two skus sold every day for ``weeks`` weeks from a Monday, three customers."""
    rows = []
    for d in range(weeks * 7):
        day = MONDAY + dt.timedelta(days=d)
        rows.append((f"O{d}", day, f"C{d % 3}", "A", float(1 + d % 5), 2.0))
        rows.append((f"P{d}", day, f"C{(d + 1) % 3}", "B", float(2 + d % 3), 3.0))
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    orders = pl.DataFrame(rows, schema=schema, orient="row")
    segments = pl.DataFrame({"customer_id": ["C0", "C1", "C2"], "segment": ["S", "S", "T"]})
    return orders, segments


KW = {"freq": "W", "horizon": 3, "models": "WindowAverage", "n_jobs": 1}


def test_as_of_forecasts_what_the_orders_cut_before_it_forecast() -> None:
    orders, segments = _orders()
    as_of = MONDAY + dt.timedelta(weeks=12)
    cut = orders.filter(pl.col("order_date") < as_of)  # the cut made by hand, independently
    by_hand = forecast(cut, segments, **KW)
    given = forecast(orders, segments, as_of=as_of, **KW)
    assert given.forecast.equals(by_hand.forecast)
    assert given.forecast.get_column("ds").min() == as_of
    assert given.excluded["after_as_of"] == orders.height - cut.height == 8 * 7 * 2
    said = [w for w in given.warnings if "--as-of" in w]
    assert said and f"{8 * 7 * 2} order lines on or after --as-of 2024-03-25 left out" in said[0]
    assert "the forecast starts on 2024-03-25" in said[0]


def test_weeks_between_the_last_line_and_as_of_are_weeks_without_demand() -> None:
    orders, segments = _orders(weeks=10)
    as_of = MONDAY + dt.timedelta(weeks=13)  # three whole weeks after the last line
    series = build_series(orders, segments, freq="W", as_of=as_of)
    last = series.y.get_column("ds").max()
    assert last == as_of - dt.timedelta(weeks=1)
    tail = series.y.filter(pl.col("ds") >= MONDAY + dt.timedelta(weeks=10))
    assert tail.height == 3 * series.keys.height and tail.get_column("y").sum() == 0
    said = [w for w in series.warnings if "hold no order line" in w]
    assert said and "the last 3 weeks before it hold no order line" in said[0], series.warnings


def test_an_as_of_inside_a_week_starts_the_forecast_the_next_week_and_says_how_to_cut() -> None:
    orders, segments = _orders()
    wednesday = MONDAY + dt.timedelta(weeks=12, days=2)
    result = forecast(orders, segments, as_of=wednesday, **KW)
    assert result.forecast.get_column("ds").min() == MONDAY + dt.timedelta(weeks=13)
    unfinished = [w for w in result.warnings if "unfinished" in w]
    assert unfinished, result.warnings
    assert "--as-of 2024-03-27 ends the history on 2024-03-26, day 2 of 7" in unfinished[0]
    assert "give --as-of 2024-03-25 (its first day)" in unfinished[0]


def test_an_as_of_at_a_period_start_leaves_no_unfinished_period() -> None:
    orders, segments = _orders()
    series = build_series(orders, segments, freq="W", as_of=MONDAY + dt.timedelta(weeks=12))
    assert not [w for w in series.warnings if "unfinished" in w], series.warnings


def test_cli_as_of_before_every_order_is_exit_1_and_writes_nothing(cli, tmp_path: Path):
    orders, segments = _orders()
    orders.write_csv(tmp_path / "orders.csv")
    segments.write_csv(tmp_path / "seg.csv")
    out = tmp_path / "fc.csv"
    result = cli(
        "forecast", str(tmp_path / "seg.csv"), "--orders", str(tmp_path / "orders.csv"),
        "--as-of", "2023-06-01", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "no order line before --as-of 2023-06-01" in result.output
    assert "the orders run from 2024-01-01 to 2024-05-19" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_cli_as_of_that_is_no_date_is_exit_2(cli, tmp_path: Path):
    orders, segments = _orders()
    orders.write_csv(tmp_path / "orders.csv")
    segments.write_csv(tmp_path / "seg.csv")
    result = cli(
        "forecast", str(tmp_path / "seg.csv"), "--orders", str(tmp_path / "orders.csv"),
        "--as-of", "2024-02-30", "-o", str(tmp_path / "fc.csv"),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--as-of" in result.output and "2024-02-30" in result.output


@pytest.mark.parametrize("command", ["segment", "forecast"])
def test_config_as_of_with_a_time_of_day_is_exit_2_as_on_the_command_line(
    cli, tmp_path: Path, command: str
):
    # `as_of = 2024-02-10T10:00:00` (a TOML date-time) was read as 2024-02-10, the time dropped
    # without a word, where `--as-of 2024-02-10T10:00` is refused.
    orders, segments = _orders()
    orders.write_csv(tmp_path / "orders.csv")
    segments.write_csv(tmp_path / "seg.csv")
    config = tmp_path / "c.toml"
    inputs = {
        "segment": [str(tmp_path / "orders.csv")],
        "forecast": [str(tmp_path / "seg.csv"), "--orders", str(tmp_path / "orders.csv")],
    }[command]
    config.write_text(f"[{command}]\nas_of = 2024-02-10T10:00:00\n")
    out = tmp_path / "out.csv"
    result = cli(command, *inputs, "--config", str(config), "-o", str(out))
    assert result.exit_code == 2, result.output
    assert f"[{command}] as_of: must be a date like 2024-03-31, a day without a time" in (
        result.output
    )
    assert not out.exists()
    # Midnight names no time of day: the day itself.
    config.write_text(f"[{command}]\nas_of = 2024-02-10T00:00:00\n")
    result = cli(command, *inputs, "--config", str(config), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("given", [False, True], ids=["segments-only", "forecast-too"])
def test_cli_says_when_segments_were_made_as_of_an_earlier_day(cli, tmp_path: Path, given):
    orders, _ = _orders()
    src = tmp_path / "orders.csv"
    orders.write_csv(src)
    seg = tmp_path / "seg.parquet"
    made = cli("segment", str(src), "--as-of", "2024-03-25", "-o", str(seg), "-q")
    assert made.exit_code == 0, made.output
    extra = ["--as-of", "2024-03-25"] if given else []
    result = cli(
        "forecast", str(seg), "--orders", str(src), "--horizon", "2", "--models",
        "WindowAverage", "--n-jobs", "1", "-o", str(tmp_path / "fc.parquet"), *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    note = "was made as of 2024-03-25; 112 order lines on or after it"
    assert (note in result.output) is not given, result.output
    meta = pl.read_parquet_metadata(tmp_path / "fc.parquet")
    assert ('"after_as_of": 112' in meta["segchain.excluded"]) is given
    assert ('"as_of": "2024-03-25"' in meta["segchain.params"]) is given


def test_cli_says_nothing_of_segments_made_as_of_the_end_of_the_orders(cli, tmp_path: Path):
    orders, _ = _orders()
    src = tmp_path / "orders.csv"
    orders.write_csv(src)
    seg = tmp_path / "seg.parquet"
    assert cli("segment", str(src), "-o", str(seg), "-q").exit_code == 0
    result = cli(
        "forecast", str(seg), "--orders", str(src), "--horizon", "2", "--models",
        "WindowAverage", "--n-jobs", "1", "-o", str(tmp_path / "fc.csv"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "was made as of" not in result.output


# ---- stock reads only the history before the forecast's first period -----------------------
# A forecast made --as-of a past day, planned with the whole export as --orders, had its slow
# points' bootstrap read the very weeks it was to plan for.


def _lumpy_history(weeks: int) -> pl.DataFrame:
    """Sku A sells 2 units every other week up to week 11, then 40 at once in weeks 12-15."""
    rows = [
        (f"O{w}", MONDAY + dt.timedelta(weeks=w, days=2), "C1", "A", 2.0) for w in range(0, 12, 2)
    ]
    rows += [
        (f"L{w}", MONDAY + dt.timedelta(weeks=w, days=2), "C1", "A", 40.0) for w in range(12, weeks)
    ]
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_stock_plans_from_the_history_before_the_forecasts_first_period() -> None:
    from segchain.stock import stock

    start = MONDAY + dt.timedelta(weeks=12)
    fc = pl.DataFrame(
        {
            "sku": "A",
            "ds": [start + dt.timedelta(weeks=i) for i in range(4)],
            "forecast": 0.05,
            "error_sd": 40.0,  # over-dispersed: the fit asks for more than the history shows
        }
    )
    items = pl.DataFrame({"sku": ["A"], "lead_time_days": [7.0]})
    kw = {"items": items, "review_days": 7, "service_level": 0.95}
    whole = _lumpy_history(16)
    cut = whole.filter(pl.col("order_date") < start)  # by hand
    got = stock(fc, orders=whole, **kw)
    assert got.policy.equals(stock(fc, orders=cut, **kw).policy)
    assert got.policy["history_max"].item() == 2.0  # not the 40s of the forecast's own weeks
    said = [n for n in map(str, got.notes) if "left out of the demand history" in n]
    assert said and "4 demand lines on or after 2024-03-25, the forecast's first period" in said[0]


def test_stock_values_and_orders_at_the_prices_before_the_forecasts_first_period() -> None:
    # The unit cost a sku takes from --orders (its mean selling price) sets its EOQ and values
    # its stock; it was read from every line, so the weeks after --as-of, sold at 100 times the
    # price, moved the order quantity of a plan made without them.
    from segchain.stock import stock

    start = MONDAY + dt.timedelta(weeks=12)
    whole = _lumpy_history(16).with_columns(
        pl.when(pl.col("order_date") < start).then(2.0).otherwise(200.0).alias("unit_price")
    )
    cut = whole.filter(pl.col("order_date") < start)  # by hand
    fc = pl.DataFrame(
        {
            "sku": "A",
            "ds": [start + dt.timedelta(weeks=i) for i in range(4)],
            "forecast": 1.0,
            "error_sd": 1.0,
        }
    )
    kw = {"review_days": 1, "service_level": 0.95}
    got = stock(fc, orders=whole, **kw).policy
    assert got.equals(stock(fc, orders=cut, **kw).policy)
    assert got["unit_cost"].item() == 2.0  # the mean price of the lines before the start


# ---- the held-out check: the forecast scored on the weeks after --as-of ---------------------


def _one_sku(history: list[float], after: list[float], last_day: int = 6) -> pl.DataFrame:
    """One sku, one customer: a line each Wednesday of the given weekly quantities (a week of 0
    has no line), the weeks after ``history`` held out; the last held-out week ends on day
    ``last_day`` (0 Monday .. 6 Sunday) with one more line."""
    weeks = [*history, *after]
    rows = [
        (f"O{w}", MONDAY + dt.timedelta(weeks=w, days=2), "C0", "A", q, 1.0)
        for w, q in enumerate(weeks)
        if q
    ]
    rows.append(
        ("END", MONDAY + dt.timedelta(weeks=len(weeks), days=last_day), "C0", "A", 1.0, 1.0)
    )
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_held_out_scores_the_whole_weeks_after_as_of_against_the_baselines() -> None:
    history = [4.0, 0.0, 8.0, 2.0, 6.0, 4.0, 10.0, 2.0, 6.0, 3.0, 5.0, 1.0, 6.0, 3.0]  # 14 weeks
    after = [5.0, 9.0, 0.0]
    orders = _one_sku(history, after, last_day=3)  # week 17 ends on a Thursday: not whole
    segments = pl.DataFrame({"customer_id": ["C0"], "segment": ["S"]})
    as_of = MONDAY + dt.timedelta(weeks=len(history))
    got = forecast(
        orders, segments, as_of=as_of, freq="W", horizon=6, models="WindowAverage", n_jobs=1,
        by="sku",
    )  # fmt: skip
    scored = got.held_out
    assert scored is not None and scored.periods == 3 and scored.series == 1
    assert scored.start == as_of and scored.demand == 14.0
    # By hand: the 8-week average of weeks 6-13 is (10+2+6+3+5+1+6+3)/8 = 4.5, flat.
    ma = {4: (5 + 1 + 6 + 3) / 4, 8: 36 / 8, 13: sum(history[1:]) / 13}
    flat = {"forecast": 4.5, "naive": 3.0, "seasonal naive": 3.0}  # no year ago: naive
    flat |= {f"{k}-week average": v for k, v in ma.items()}
    wape = dict(zip(scored.scores["approach"], scored.scores["wape"], strict=True))
    bias = dict(zip(scored.scores["approach"], scored.scores["bias"], strict=True))
    assert set(wape) == set(flat)  # --by sku: no segments, so no "sku direct" beside it
    assert scored.vs_direct is None
    for name, level in flat.items():
        assert wape[name] == pytest.approx(sum(abs(level - y) for y in after) / 14), name
        assert bias[name] == pytest.approx(3 * level / 14), name
    best = min(v for k, v in wape.items() if k != "forecast")
    assert scored.ratio == pytest.approx(wape["forecast"] / best)


def test_held_out_is_none_when_the_orders_after_as_of_cover_no_whole_week() -> None:
    orders = _one_sku([4.0, 2.0, 6.0, 3.0, 5.0], [], last_day=2)
    segments = pl.DataFrame({"customer_id": ["C0"], "segment": ["S"]})
    as_of = MONDAY + dt.timedelta(weeks=5)
    got = forecast(orders, segments, as_of=as_of, **KW)
    assert got.excluded["after_as_of"] == 1 and got.held_out is None


def test_cli_prints_the_held_out_check_and_records_it(cli, tmp_path: Path) -> None:
    orders, segments = _orders()
    orders.write_csv(tmp_path / "orders.csv")
    segments.write_csv(tmp_path / "seg.csv")
    out = tmp_path / "fc.parquet"
    result = cli(
        "forecast", str(tmp_path / "seg.csv"), "--orders", str(tmp_path / "orders.csv"),
        "--as-of", "2024-03-25", "--horizon", "4", "--models", "WindowAverage", "--n-jobs", "1",
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "held out: the 4 whole weeks from 2024-03-25" in result.stderr, result.stderr
    assert "2 sku series" in result.stderr
    assert "held out at sku level: forecast WAPE / best baseline's (" in result.stderr
    # Per segment, the sku forecast made directly is scored beside the segments' summed.
    assert "sku direct" in result.stderr and "segments summed / sku direct = " in result.stderr
    meta = pl.read_parquet_metadata(out)
    held = __import__("json").loads(meta["segchain.held_out"])
    assert held["periods"] == 4 and held["start"] == "2024-03-25" and held["series"] == 2
    assert held["vs_direct"] == held["wape"]["forecast"] / held["wape"]["sku direct"]
    # The 4 held-out weeks hold 4 * 7 lines of each sku: (1 + d % 5) and (2 + d % 3) a day.
    days = range(12 * 7, 16 * 7)
    assert held["demand"] == sum(1 + d % 5 for d in days) + sum(2 + d % 3 for d in days)


def test_cli_says_segments_made_before_every_order_line_are_of_other_orders(cli, tmp_path):
    # "give --as-of 2024-03-25" was the advice, and following it failed (no line before it):
    # segments made before every line describe other orders (audit J, session 60).
    orders, _ = _orders()
    src = tmp_path / "orders.csv"
    orders.write_csv(src)
    seg = tmp_path / "seg.parquet"
    made = cli("segment", str(src), "--as-of", "2024-03-25", "-o", str(seg), "-q")
    assert made.exit_code == 0, made.output
    newer = tmp_path / "newer.csv"
    orders.filter(pl.col("order_date").cast(pl.Date) >= dt.date(2024, 3, 25)).write_csv(newer)
    result = cli(
        "forecast", str(seg), "--orders", str(newer), "--horizon", "2", "--models",
        "WindowAverage", "--n-jobs", "1", "-o", str(tmp_path / "fc.parquet"),
    )  # fmt: skip
    said = " ".join(result.output.split())
    assert "was made as of 2024-03-25, before every one of the 112 order lines" in said, said
    assert "run segment on these orders" in said
    assert "give --as-of" not in said
