"""Unit tests of the forecast stage: series building, classification, known answers, choice."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from segchain.errors import DataError, UsageError
from segchain.forecast import build_series, classify, forecast

MONDAY = dt.date(2022, 1, 3)


def orders_from_series(values_by_key, *, start=MONDAY, freq_days=7, customer_of=None):
    """Canonical clean order lines: one line per non-zero period of each (customer, sku)."""
    rows = []
    for (customer, sku), values in values_by_key.items():
        for i, q in enumerate(values):
            if q == 0:
                continue
            rows.append(
                {
                    "order_id": f"{customer}-{sku}-{i}",
                    # Mid-week dates: aggregation must still land on the Monday.
                    "order_date": start + dt.timedelta(days=i * freq_days + 2),
                    "customer_id": customer,
                    "sku": sku,
                    "quantity": float(q),
                    "unit_price": 1.0,
                    "amount": float(q),
                    "flag": "return" if q < 0 else None,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "order_id": pl.Utf8,
            "order_date": pl.Date,
            "customer_id": pl.Utf8,
            "sku": pl.Utf8,
            "quantity": pl.Float64,
            "unit_price": pl.Float64,
            "amount": pl.Float64,
            "flag": pl.Utf8,
        },
    )


def segments_for(customers, segment="A"):
    return pl.DataFrame({"customer_id": list(customers), "segment": [segment] * len(customers)})


def run(values_by_key, **kw):
    orders = orders_from_series(values_by_key)
    customers = sorted({c for c, _ in values_by_key})
    kw.setdefault("n_jobs", 1)
    return forecast(orders, segments_for(customers), **kw)


# --- build_series ----------------------------------------------------------------------------


def test_build_series_weeks_start_monday_and_fill_zeros():
    orders = orders_from_series({("c1", "s1"): [0, 0, 4, 0, 3], ("c1", "s2"): [1, 0, 0, 0, 0]})
    s = build_series(orders, segments_for(["c1"]), freq="W", by=("segment", "sku"))
    y = s.y.filter(pl.col("unique_id") == "A/s1")
    # From the first sale (week 3) to the last week of the data (week 5), zeros in between.
    assert y.get_column("ds").to_list() == [MONDAY + dt.timedelta(weeks=w) for w in (2, 3, 4)]
    assert y.get_column("y").to_list() == [4.0, 0.0, 3.0]
    assert all(d.weekday() == 0 for d in s.y.get_column("ds"))
    assert s.y.filter(pl.col("unique_id") == "A/s2").height == 5


def test_segment_series_start_with_their_sku():
    # Segment B first buys s1 in week 4; s1 sells from week 1 (segment A).
    orders = orders_from_series({("a", "s1"): [3, 0, 2, 0, 1], ("b", "s1"): [0, 0, 0, 6, 0]})
    segments = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "B"]})
    s = build_series(orders, segments, freq="W", by=("segment", "sku"))
    b = s.y.filter(pl.col("unique_id") == "B/s1")
    assert b.get_column("ds").to_list() == [MONDAY + dt.timedelta(weeks=w) for w in range(5)]
    assert b.get_column("y").to_list() == [0.0, 0.0, 0.0, 6.0, 0.0]
    # Without a segment in the key each series keeps its own start.
    by_customer = build_series(orders, segments, freq="W", by=("customer_id", "sku"))
    assert by_customer.y.filter(pl.col("unique_id") == "b/s1").height == 2
    alone = build_series(orders, segments, freq="W", by=("segment",))
    assert alone.y.filter(pl.col("unique_id") == "B").height == 2


def test_a_segments_one_recent_sale_is_not_its_weekly_level():
    # 20 weeks of s1 in segment A; segment B bought 6 once, in the last week. Started at its
    # own sale, B's series is one week long, too short to backtest, and the mean of its
    # history (6 a week) would be its forecast; from the sku's start the 8-week average of
    # B's weeks is 6 / 8.
    orders = orders_from_series({("a", "s1"): [5] * 20, ("b", "s1"): [0] * 19 + [6]})
    segments = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "B"]})
    fc = forecast(
        orders, segments, horizon=4, models="WindowAverage", reconcile="none", n_jobs=1
    ).forecast
    b = fc.filter(pl.col("unique_id") == "B/s1").get_column("forecast").to_list()
    assert b == pytest.approx([6 / 8] * 4)


def test_build_series_nets_returns_and_counts_negative_periods():
    orders = orders_from_series({("c1", "s1"): [5, -7, 2], ("c2", "s1"): [0, 3, 0]})
    s = build_series(orders, segments_for(["c1", "c2"]), freq="W", by=("sku",))
    # Week 2: -7 + 3 = -4 counts as zero demand and is reported once.
    assert s.y.get_column("y").to_list() == [5.0, 0.0, 2.0]
    assert s.netted == 1


def test_build_series_excludes_non_product_lines_and_counts_them():
    orders = orders_from_series({("c1", "s1"): [5, 2], ("c1", "POST"): [1, 1]})
    orders = orders.with_columns(
        pl.when(pl.col("sku") == "POST").then(pl.lit("non_product")).otherwise("flag").alias("flag")
    )
    s = build_series(orders, segments_for(["c1"]), by=("sku",))
    assert s.keys.get_column("sku").to_list() == ["s1"]
    assert s.excluded == {"non_product": 2}


def test_build_series_counts_lines_of_customers_without_segment():
    orders = orders_from_series({("c1", "s1"): [5, 2], ("c9", "s1"): [1, 1, 1]})
    s = build_series(orders, segments_for(["c1"]), by=("sku",))
    assert s.excluded == {"no_segment": 3}
    assert "'c9'" in s.warnings[0]


@pytest.mark.parametrize(
    ("freq", "dates", "expected"),
    [
        ("D", [dt.date(2024, 3, 1), dt.date(2024, 3, 3)], [dt.date(2024, 3, d) for d in (1, 2, 3)]),
        (
            "M",
            [dt.date(2024, 1, 31), dt.date(2024, 3, 2)],
            [dt.date(2024, m, 1) for m in (1, 2, 3)],
        ),
        (
            "W",
            [dt.date(2024, 3, 3), dt.date(2024, 3, 4)],
            [dt.date(2024, 2, 26), dt.date(2024, 3, 4)],
        ),
    ],
)
def test_build_series_period_starts(freq, dates, expected):
    orders = orders_from_series({("c1", "s1"): [1]}).vstack(orders_from_series({("c1", "s1"): [1]}))
    orders = orders.with_columns(pl.Series("order_date", dates))
    s = build_series(orders, segments_for(["c1"]), freq=freq, by=("sku",))
    assert s.y.get_column("ds").to_list() == expected


# --- classify --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "adi", "cv2", "klass"),
    [
        ([10, 10, 10, 10], 1.0, 0.0, "smooth"),
        ([1, 9, 1, 9], 1.0, (4 / 5) ** 2, "erratic"),  # sizes mean 5, sd 4
        ([5, 0, 5, 0, 5, 0], 2.0, 0.0, "intermittent"),
        ([1, 0, 9, 0, 1, 0, 9, 0], 2.0, (4 / 5) ** 2, "lumpy"),
        ([0, 0, 0], math.inf, 0.0, "intermittent"),
    ],
)
def test_classify_syntetos_boylan(values, adi, cv2, klass):
    y = pl.DataFrame({"unique_id": ["a"] * len(values), "ds": range(len(values)), "y": values})
    row = classify(y.with_columns(pl.col("y").cast(pl.Float64))).row(0, named=True)
    assert row["adi"] == pytest.approx(adi)
    assert row["cv2"] == pytest.approx(cv2)
    assert row["demand_class"] == klass


# --- known answers ---------------------------------------------------------------------------


def test_forecast_constant_series_forecasts_the_constant():
    r = run({("c1", "s1"): [7.0] * 60}, horizon=4)
    f = r.forecast
    assert f.height == 4
    assert f.get_column("forecast").to_list() == pytest.approx([7.0] * 4)
    assert f.get_column("error_sd").to_list() == pytest.approx([0.0] * 4)
    assert f.get_column("mean_demand").to_list() == pytest.approx([7.0] * 4)
    assert (f.get_column("forecast-lo-95") <= 7.0 + 1e-9).all()
    assert (f.get_column("forecast-hi-95") >= 7.0 - 1e-9).all()


def test_forecast_pure_seasonal_series_repeats_last_season():
    pattern = [10.0 + 5 * math.sin(2 * math.pi * w / 52) + (w % 4) for w in range(52)]
    r = run({("c1", "s1"): pattern * 3}, horizon=13)
    # The next 13 weeks are weeks 0..12 of the pattern again.
    assert r.forecast.get_column("forecast").to_list() == pytest.approx(pattern[:13], abs=1e-6)


def croston_sba_by_hand(y, alpha=0.1):
    """Croston (1972) with the Syntetos-Boylan (2005) bias correction, SES started at the first
    observation: z = smoothed sizes, p = smoothed inter-demand intervals, forecast (1-a/2) z/p."""
    sizes, intervals, last = [], [], -1
    for t, v in enumerate(y):
        if v > 0:
            sizes.append(v)
            intervals.append(t - last)
            last = t

    def ses(x):
        level = x[0]
        for v in x[1:]:
            level += alpha * (v - level)
        return level

    return (1 - alpha / 2) * ses(sizes) / ses(intervals)


def test_forecast_croston_sba_textbook_case():
    y = [0, 0, 5, 0, 0, 3, 0, 4, 0, 0, 0, 6, 0, 2, 0, 0, 5, 0, 0, 3, 0, 0, 4, 0, 7, 0]
    y = y + [0, 3, 0, 0, 5, 0, 0, 0, 2, 0]
    r = run({("c1", "s1"): y}, horizon=3, models="CrostonSBA")
    # The series as built starts at its first sale.
    expected = croston_sba_by_hand(y[2:])
    assert r.forecast.get_column("model").unique().to_list() == ["CrostonSBA"]
    assert r.forecast.get_column("forecast").to_list() == pytest.approx([expected] * 3, rel=1e-6)


# --- intervals and selection ------------------------------------------------------------------


@pytest.mark.parametrize(("level", "low", "high"), [(80, 0.72, 0.88), (95, 0.89, 0.99)])
def test_forecast_interval_coverage_on_simulated_outcomes(level, low, high):
    rng = np.random.default_rng(7)
    n_series, history, h = 40, 80, 13
    values = {(f"c{i}", "s1"): rng.normal(100, 10, history).round(3) for i in range(n_series)}
    orders = orders_from_series(values)
    segs = pl.DataFrame(
        {"customer_id": [c for c, _ in values], "segment": [f"g{i}" for i in range(n_series)]}
    )
    r = forecast(orders, segs, horizon=h, level=(80, 95), n_jobs=1, by="segment")
    future = rng.normal(100, 10, r.forecast.height)
    inside = (future >= r.forecast.get_column(f"forecast-lo-{level}").to_numpy()) & (
        future <= r.forecast.get_column(f"forecast-hi-{level}").to_numpy()
    )
    assert low <= inside.mean() <= high


def simulate(kind, rng, n=120):
    if kind == "Naive":  # random walk: the last value is the best forecast
        return 500 + np.cumsum(rng.normal(0, 10, n))
    if kind == "HistoricAverage":  # iid noise: the long-run mean is
        return rng.normal(100, 10, n)
    pattern = rng.uniform(20, 80, 52)  # a fixed season plus small noise
    return np.tile(pattern, n // 52 + 1)[:n] + rng.normal(0, 1, n)


@pytest.mark.parametrize("true_model", ["Naive", "HistoricAverage", "SeasonalNaive"])
def test_forecast_cv_picks_the_true_model(true_model):
    rng = np.random.default_rng(3)
    n = 12
    values = {(f"c{i}", "s1"): simulate(true_model, rng, 156).clip(0.1) for i in range(n)}
    orders = orders_from_series(values)
    segs = pl.DataFrame(
        {"customer_id": [c for c, _ in values], "segment": [f"g{i}" for i in range(n)]}
    )
    r = forecast(orders, segs, by="segment", models="Naive,HistoricAverage,SeasonalNaive", n_jobs=1)
    chosen = r.forecast.unique("unique_id").get_column("model")
    assert (chosen == true_model).mean() >= 0.75


def test_backtest_baseline_metrics_match_hand_computed_naive():
    y = [3.0, 5, 2, 8, 6, 4, 9, 7, 5, 6, 8, 3, 7, 9, 4, 6, 5, 8, 2, 7]
    r = run({("c1", "s1"): y}, horizon=2)
    row = r.backtest.filter(pl.col("scope") == "series").row(0, named=True)
    # Two windows of 2 weeks at the end; cutoffs are weeks 16 and 18 (indices 15 and 17).
    errors = [abs(y[15] - y[16]), abs(y[15] - y[17]), abs(y[17] - y[18]), abs(y[17] - y[19])]
    scale = np.mean(np.abs(np.diff(y[:16])))
    assert row["baseline_model"] == "Naive"
    assert row["baseline_wape"] == pytest.approx(sum(errors) / sum(y[16:]))
    assert row["baseline_mase"] == pytest.approx(np.mean(errors) / scale)


def test_backtest_series_rows_carry_the_totals_their_wape_is_pooled_from():
    # Two series; two windows of 2 weeks at the end, so the last 4 weeks are scored.
    values = {
        ("c1", "s1"): [3.0, 5, 2, 8, 6, 4, 9, 7, 5, 6, 8, 3, 7, 9, 4, 6, 5, 8, 2, 7],
        ("c1", "s2"): [1.0, 0, 2, 0, 1, 3, 0, 0, 2, 1, 0, 4, 1, 0, 2, 1, 0, 3, 0, 5],
    }
    r = run(values, horizon=2)
    series = r.backtest.filter(pl.col("scope") == "series").sort("unique_id")
    assert series["backtest_actual"].to_list() == [sum(v[16:]) for v in values.values()]
    assert (
        series["backtest_abs_error"] / series["backtest_actual"] - series["wape"]
    ).abs().max() < 1e-12
    overall = r.backtest.filter(pl.col("scope") == "overall").row(0, named=True)
    pooled = series["backtest_abs_error"].sum() / series["backtest_actual"].sum()
    assert overall["wape"] == pytest.approx(pooled)


def test_forecast_chosen_beats_naive_on_noisy_level_series():
    rng = np.random.default_rng(11)
    values = {(f"c{i}", "s1"): rng.poisson(20, 104).astype(float) for i in range(10)}
    orders = orders_from_series(values)
    segs = pl.DataFrame(
        {"customer_id": [c for c, _ in values], "segment": [f"g{i}" for i in range(10)]}
    )
    r = forecast(orders, segs, by="segment", n_jobs=1)
    overall = r.summary.filter(pl.col("scope") == "overall").row(0, named=True)
    assert overall["wape"] < overall["baseline_wape"]


# --- selection criterion ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ([1.0, -2.0, 3.0], 6 + 2),  # sum |e| = 6, |sum e| = 2
        ([-1.0, -1.0, -1.0, 3.0], 6 + 0),  # the mean of 0,0,0,4 on a 0-0-0-4 week pattern
        ([0.0, 0.0, 0.0, -4.0], 4 + 4),  # a zero forecast of the same weeks
        ([0.0, 0.0], 0.0),
    ],
)
def test_selection_error_adds_error_of_the_window_total(errors, expected):
    from segchain.forecast import selection_error

    frame = pl.DataFrame({"e": errors})
    assert frame.select(selection_error(pl.col("e"))).item() == pytest.approx(expected)


def intermittent_cv(zero_model, mean_model, *, windows=4, series=5):
    """A CV frame of 0-0-0-4 weekly demand (mean 1) forecast by 0 and by the mean level 1.

    Per series and 4-week window, the zero forecast has absolute error 4 (less than the mean's
    1+1+1+3 = 6, so pooled WAPE prefers it), but misses the window's total of 4 by 4; the mean
    forecast hits the total exactly: 4 + 4 = 8 against 6 + 0 = 6.
    """
    rows = []
    for s in range(series):
        for w in range(windows):
            cutoff = MONDAY + dt.timedelta(weeks=4 * w)
            for step, actual in enumerate([0.0, 0.0, 0.0, 4.0]):
                ds = cutoff + dt.timedelta(weeks=step + 1)
                for model, yhat in ((zero_model, 0.0), (mean_model, 1.0)):
                    rows.append((f"A/s{s}", ds, cutoff, actual, model, yhat))
    return pl.DataFrame(
        rows,
        schema=["unique_id", "ds", "cutoff", "y", "model", "yhat"],
        orient="row",
    )


@pytest.mark.parametrize(
    ("zero_model", "mean_model"),
    [("Naive", "HistoricAverage"), ("HistoricAverage", "Naive")],  # either tie-break rank
)
def test_choose_prefers_mean_level_over_zero_heavy_forecast(zero_model, mean_model):
    from segchain.forecast.options import Plan
    from segchain.forecast.selection import choose

    cv = intermittent_cv(zero_model, mean_model)
    groups = cv.select("unique_id").unique().with_columns(pl.lit("intermittent").alias("group"))
    plan = Plan(freq="W", horizon=4, season=52, window=8, models=None)
    choice, rows = choose(cv, plan, groups)
    assert choice.get_column("model").unique().to_list() == [mean_model]
    # Leave-one-window-out backtest rows are the mean model's too: unbiased, WAPE 6/4 per window.
    assert rows.get_column("model").unique().to_list() == [mean_model]
    assert (rows["yhat"] - rows["y"]).sum() == pytest.approx(0.0)


def test_choose_breaks_exact_ties_the_same_way_every_run():
    from segchain.forecast.options import Plan
    from segchain.forecast.selection import choose

    # Moving averages of every length forecast an all-zero history exactly alike: an exact tie
    # at equal rank, which must not depend on the sort's thread scheduling.
    models = ["WindowAverage13", "WindowAverage4", "WindowAverage"]
    rows = [
        (f"A/s{s}", MONDAY + dt.timedelta(weeks=w + 1), MONDAY + dt.timedelta(weeks=w), 0.0, m, 0.0)
        for s in range(200)
        for w in range(3)
        for m in models
    ]
    cv = pl.DataFrame(
        rows, schema=["unique_id", "ds", "cutoff", "y", "model", "yhat"], orient="row"
    )
    groups = (
        cv.select("unique_id")
        .unique()
        .with_columns(
            (
                pl.lit("g") + (pl.col("unique_id").str.extract(r"(\d+)$").cast(int) % 50).cast(str)
            ).alias("group")
        )
    )
    plan = Plan(freq="W", horizon=1, season=52, window=8, models=None)
    for _ in range(10):
        choice, picked = choose(cv, plan, groups)
        assert set(choice.get_column("model")) == {"WindowAverage"}
        assert set(picked.get_column("model")) == {"WindowAverage"}


def _one_step_cv(errors_by_model: dict[str, list[float]]) -> pl.DataFrame:
    """One series, one-week windows oldest first; each model misses each window by the error
    given (actual 10)."""
    rows = []
    for model, errors in errors_by_model.items():
        for w, e in enumerate(errors):
            cutoff = MONDAY + dt.timedelta(weeks=w)
            rows.append(("A/s", cutoff + dt.timedelta(weeks=1), cutoff, 10.0, model, 10.0 + e))
    return pl.DataFrame(
        rows, schema=["unique_id", "ds", "cutoff", "y", "model", "yhat"], orient="row"
    )


@pytest.mark.parametrize(
    ("errors", "chosen"),
    [
        # Equal totals (12 each): the nearest window breaks the tie (a model that missed it by
        # 12 loses to one that missed each older window by 4).
        ({"Naive": [0, 0, 0, 12], "WindowAverage4": [4, 4, 4, 0]}, "WindowAverage4"),
        # But one window does not decide alone: 5 better on each of three older windows beats
        # 10 better on the nearest (weights 0.9^age: 10 < 5 (0.9 + 0.81 + 0.729) = 12.2).
        ({"Naive": [0, 0, 0, 10], "WindowAverage4": [5, 5, 5, 0]}, "Naive"),
    ],
)
def test_choose_weighs_recent_windows_most_without_one_window_deciding(errors, chosen):
    from segchain.forecast.options import Plan
    from segchain.forecast.selection import choose

    cv = _one_step_cv(errors)
    groups = pl.DataFrame({"unique_id": ["A/s"], "group": ["g"]})
    # Without the default moving average among the candidates: no one-SE rule, totals decide.
    plan = Plan(freq="W", horizon=1, season=52, window=8, models=["Naive", "WindowAverage4"])
    choice, _ = choose(cv, plan, groups)
    assert choice.get_column("model").to_list() == [chosen]


@pytest.mark.parametrize(
    ("naive_misses", "chosen"),
    [
        # 16 series, one window; the moving average misses each by 10, Naive by 7 or 12 in turn.
        # Selection errors (2|e| for one period) 14 / 24 against 20: differences -6, +4, mean -1,
        # standard deviation 5, standard error 5 / sqrt(16) = 1.25. Naive's total is lower
        # (304 against 320) but by less than one standard error: the moving average stays.
        ((7.0, 12.0), "WindowAverage"),
        # Misses of 6.5 / 11.5: differences -7, +3, mean -2, the same standard error 1.25: Naive
        # beats the moving average by 1.6 standard errors and is chosen.
        ((6.5, 11.5), "Naive"),
    ],
)
def test_choose_keeps_the_moving_average_unless_beaten_by_one_standard_error(naive_misses, chosen):
    from segchain.forecast.options import Plan
    from segchain.forecast.selection import choose

    rows = []
    for k in range(16):
        for model, miss in (("WindowAverage", 10.0), ("Naive", naive_misses[k % 2])):
            rows.append((f"A/s{k}", MONDAY + dt.timedelta(weeks=1), MONDAY, 10.0, model, 10 + miss))
    cv = pl.DataFrame(
        rows, schema=["unique_id", "ds", "cutoff", "y", "model", "yhat"], orient="row"
    )
    groups = cv.select("unique_id").unique().with_columns(pl.lit("g").alias("group"))
    plan = Plan(freq="W", horizon=1, season=52, window=8, models=None)
    choice, picked = choose(cv, plan, groups)
    assert set(choice.get_column("model")) == {chosen}
    # A single window: the honest backtest row is the same choice.
    assert set(picked.get_column("model")) == {chosen}


def test_forecast_intermittent_series_forecast_is_not_biased_low():
    # 0.25 chance of an order of 4 units a week: intermittent (ADI 4, CV2 0), mean 1 per week.
    rng = np.random.default_rng(5)
    values = {(f"c{i}", "s1"): np.where(rng.random(104) < 0.25, 4.0, 0.0) for i in range(12)}
    for v in values.values():
        v[0] = 4.0  # every series starts at week 1
    orders = orders_from_series(values)
    segs = pl.DataFrame(
        {"customer_id": [c for c, _ in values], "segment": [f"g{i}" for i in range(12)]}
    )
    r = forecast(orders, segs, by="segment", n_jobs=1)
    fc = r.forecast
    assert set(fc.get_column("demand_class").unique()) == {"intermittent"}
    assert fc.get_column("forecast").mean() == pytest.approx(1.0, abs=0.2)


def _rare_lumps(series: int = 30) -> dict:
    """Intermittent series: a lump of 1-8 units in about one week of 30, over two years."""
    rng = np.random.default_rng(0)
    values = {}
    for i in range(series):
        v = np.where(rng.random(104) < 1 / 30, rng.integers(1, 9, 104).astype(float), 0.0)
        v[0] = 4.0
        values[(f"c{i}", "s1")] = v
    return values


@pytest.mark.parametrize(
    ("models", "single_period_chosen"),
    # Named in --models, the user's list is the candidate set: Naive competes again (and wins).
    [({}, False), ({"models": "Naive,WindowAverage"}, True)],
)
def test_intermittent_series_are_not_forecast_by_a_single_past_period(models, single_period_chosen):
    # Most 8-week backtest windows of these series hold no sale, so the last week's value (0)
    # scores best there, and before this rule all 30 series were given Naive: a zero for every
    # week (or a whole lump) while they sell 0.15 units a week on average.
    values = _rare_lumps()
    orders = orders_from_series(values)
    segs = pl.DataFrame(
        {"customer_id": [c for c, _ in values], "segment": [f"g{i}" for i in range(len(values))]}
    )
    r = forecast(orders, segs, by="segment", n_jobs=1, horizon=8, **models)
    fc = r.forecast
    assert set(fc.get_column("demand_class")) <= {"intermittent", "lumpy"}
    chosen = set(fc.get_column("model"))
    assert bool(chosen & {"Naive", "SeasonalNaive"}) is single_period_chosen
    # Still backtested: the report's baseline is the seasonal naive forecast (two years here).
    series_rows = r.backtest.filter(pl.col("scope") == "series")
    assert set(series_rows.get_column("baseline_model")) == {"SeasonalNaive"}


# --- robustness ------------------------------------------------------------------------------


def test_forecast_one_period_and_all_zero_series_do_not_crash():
    values = {("c1", "s1"): [0, 0, 0, 0, 0, 0, 0, 4], ("c2", "s2"): [5, -5, 0, 0, 0, 0, 0, 0]}
    values[("c3", "s3")] = [2.0] * 8
    r = run(values, horizon=3)
    f = r.forecast
    assert f.height == 9
    assert f.select(pl.all().is_null().sum()).sum_horizontal().item() == 0
    numeric = f.select(pl.selectors.float())
    assert not numeric.select(pl.all().is_nan().any()).to_numpy().any()
    one = f.filter(pl.col("unique_id") == "A/s1")
    # Its only period is its first sale: half of it (see young_level).
    assert one.get_column("forecast").to_list() == pytest.approx([2.0] * 3)


def test_a_series_too_short_to_backtest_does_not_count_its_first_sale_as_its_level():
    # Three weeks, too short for the 8-week window: the periods after the first sale average
    # (0 + 2) / 2 = 1 a week; the plain mean (6 + 0 + 2) / 3 counts the sale the series
    # starts on.
    r = run({("c1", "s1"): [6, 0, 2]}, horizon=2, by="sku")
    assert r.fallbacks.get("not_backtested") == 1
    assert r.forecast.get_column("forecast").to_list() == pytest.approx([1.0, 1.0])


def test_forecast_never_negative_on_falling_series():
    r = run({("c1", "s1"): list(range(60, 0, -1))}, horizon=13, models="Naive,AutoETS")
    f = r.forecast.select(pl.selectors.starts_with("forecast"))
    assert f.min().min_horizontal().item() >= 0


def test_forecast_no_common_customers_lists_examples_from_both_sides():
    orders = orders_from_series({("c1", "s1"): [1, 2], ("c2", "s1"): [3, 4]})
    with pytest.raises(DataError) as err:
        forecast(orders, segments_for(["x1", "x2"]))
    msg = str(err.value)
    assert "no customer_id in common" in msg
    assert "'c1', 'c2'" in msg and "'x1', 'x2'" in msg


def test_forecast_without_a_product_line_says_so_not_that_ids_differ():
    """Customers whose every line is postage: the error said the segments and orders had no
    customer_id in common (orders have ''), with a hint to check --map."""
    orders = orders_from_series({("c1", "s1"): [1, 2], ("c2", "s1"): [3, 4]})
    orders = orders.with_columns(pl.lit("non_product").alias("flag"))
    with pytest.raises(DataError) as err:
        forecast(orders, segments_for(["c1", "c2"]))
    msg = str(err.value)
    assert "no product line to forecast" in msg and "4 non-product lines" in msg
    assert "in common" not in msg


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"horizon": 0}, "--horizon must be a whole number of periods >= 1, got 0"),
        ({"models": "AutoETS,Prophet"}, "--models: unknown model Prophet"),
        ({"level": "80,120"}, "--level: 120 is not a percentage"),
        ({"freq": "Q"}, "--freq 'Q' is not one of D, W, M"),
        ({"by": "segment,colour"}, "--by: column colour not in the orders or segments"),
    ],
)
def test_forecast_bad_options_raise_usage_error(kw, text):
    with pytest.raises(UsageError) as err:
        run({("c1", "s1"): [1, 2, 3]}, **kw)
    assert text in str(err.value)


def test_forecast_single_period_of_history_is_a_data_error():
    with pytest.raises(DataError, match="at least 2 periods"):
        run({("c1", "s1"): [5]})


def test_comparison_equal_when_one_segment_holds_every_customer():
    rng = np.random.default_rng(5)
    values = {(f"c{i}", f"s{i % 3}"): rng.poisson(6, 60).astype(float) for i in range(6)}
    r = run(values, horizon=4)
    c = r.comparison
    # One segment: its series are the sku series, so every way of adding them up (and every
    # reconciliation of identical levels) is the direct sku forecast; MinT alone also weighs
    # the total's own forecast against the skus' sum, so it may move them.
    seg = c.filter(pl.col("approach").str.starts_with("segment x sku"))
    direct = c.filter(pl.col("approach") == "sku direct").get_column("wape").item()
    assert seg.height == 4
    not_mint = seg.filter(~pl.col("approach").str.contains("mint"))
    assert not_mint.height >= 3
    assert not_mint.get_column("wape").to_list() == pytest.approx([direct] * not_mint.height)
    assert c.get_column("series").unique().to_list() == [3]
    # The simple baselines on the totals are reported beside them.
    assert "sku naive" in c.get_column("approach").to_list()


# --- error_sd: one-step-ahead backtest error ----------------------------------------------------

# With horizon 4 and 60 weeks of history there are 4 backtest windows: the backtest span is the
# last 16 weeks, and error_sd is the standard deviation (ddof=1) of the one-step-ahead errors of
# the chosen model over it, each week forecast from the weeks before it.
SPAN = 16


def test_forecast_error_sd_is_zero_for_naive_on_a_straight_line():
    # Naive is always 2 short on 10, 12, 14, ...: the one-step error is constant, so its standard
    # deviation is 0 (its RMS, and any multi-step error, would not be).
    r = run({("c1", "s1"): [10.0 + 2 * t for t in range(60)]}, horizon=4, models="Naive")
    row = r.forecast.row(0, named=True)
    assert row["model"] == "Naive"
    assert row["error_sd"] == pytest.approx(0.0, abs=1e-9)


def _naive(y, t):
    return y[t - 1]


def _historic(y, t):
    return float(np.mean(y[:t]))


def _window4(y, t):
    return float(np.mean(y[t - 4 : t]))


def _croston(y, t):
    return croston_sba_by_hand(y[:t])


@pytest.mark.parametrize(
    ("model", "one_step", "kind"),
    [
        ("Naive", _naive, "walk"),
        ("HistoricAverage", _historic, "walk"),
        ("WindowAverage4", _window4, "walk"),
        ("CrostonSBA", _croston, "intermittent"),
    ],
)
def test_forecast_error_sd_is_sd_of_one_step_errors(model, one_step, kind):
    rng = np.random.default_rng(21)
    if kind == "walk":
        y = list(100 + np.cumsum(rng.normal(0, 3, 60)).round(3))
    else:
        y = list(np.where(rng.random(60) < 0.4, rng.integers(1, 9, 60), 0).astype(float))
        y[0] = 4.0  # the series starts at its first sale
    r = run({("c1", "s1"): y}, horizon=4, models=model)
    errors = [one_step(y, t) - y[t] for t in range(len(y) - SPAN, len(y))]
    row = r.forecast.row(0, named=True)
    assert row["model"] == model
    assert row["error_sd"] == pytest.approx(np.std(errors, ddof=1), rel=1e-6)


def test_forecast_error_sd_falls_back_to_history_sd_without_backtest():
    y = [3.0, 7.0, 5.0, 9.0]  # too short to backtest (under window + horizon periods)
    r = run({("c1", "s1"): y}, horizon=4)
    assert r.forecast.get_column("error_sd").to_list() == pytest.approx([np.std(y, ddof=1)] * 4)


# --- candidates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auto", None),
        ("windowaverage4,Naive", ["WindowAverage4", "Naive"]),
        ("Ensemble", ["Ensemble"]),
    ],
)
def test_parse_models_accepts_window_lengths_and_ensemble(text, expected):
    from segchain.forecast import parse_models

    assert parse_models(text) == expected


def test_forecast_window_average_uses_its_window():
    y = [float(v) for v in range(1, 41)]
    r = run({("c1", "s1"): y}, horizon=2, models="WindowAverage4")
    assert r.forecast.get_column("forecast").to_list() == pytest.approx([np.mean(y[-4:])] * 2)


def test_forecast_ensemble_is_mean_of_route_members():
    from statsforecast.models import ADIDA, IMAPA, TSB, CrostonSBA

    rng = np.random.default_rng(4)
    y = list(np.where(rng.random(70) < 0.3, rng.integers(1, 12, 70), 0).astype(float))
    y[0], y[-1] = 5.0, 3.0  # the series runs from its first to the data's last sale
    r = run({("c1", "s1"): y}, horizon=3, models="Ensemble")
    assert r.forecast.get_column("demand_class").item(0) in ("intermittent", "lumpy")
    arr = np.array(y)
    members = [CrostonSBA(), ADIDA(), IMAPA(), TSB(alpha_d=0.1, alpha_p=0.1)]
    expected = np.mean([m.forecast(y=arr, h=3)["mean"] for m in members], axis=0)
    assert r.forecast.get_column("model").unique().to_list() == ["Ensemble"]
    assert r.forecast.get_column("forecast").to_list() == pytest.approx(list(expected), rel=1e-6)


def test_with_comparison_backtest_carries_segment_vs_total_rows() -> None:
    from segchain.forecast.backtest import with_comparison

    backtest = pl.DataFrame({"unique_id": ["a/s"], "scope": ["series"], "wape": [0.5]})
    comparison = pl.DataFrame(
        {"approach": ["segment x sku, summed", "sku direct"], "series": [3, 3], "wape": [0.6, 0.4]}
    )
    out = with_comparison(backtest, comparison)
    assert out["scope"].to_list() == ["series", "comparison", "comparison"]
    assert out["unique_id"].to_list() == ["a/s", "segment x sku, summed", "sku direct"]
    assert out["wape"].to_list() == [0.5, 0.6, 0.4]


def test_a_moving_average_longer_than_a_windows_history_forecasts_its_mean():
    from segchain.forecast.selection import short_window_means

    # Three periods of history before the cutoff (2, 4, 9): the 13-period average has 3 periods
    # to average, mean 5; Naive's missing value is a failure and stays missing.
    ds = [MONDAY + dt.timedelta(weeks=i) for i in range(5)]
    y = pl.DataFrame({"unique_id": ["a"] * 5, "ds": ds, "y": [2.0, 4, 9, 1, 1]})
    cut = ds[2]
    wide = pl.DataFrame(
        {
            "unique_id": ["a"] * 2,
            "ds": [ds[3], ds[4]],
            "cutoff": [cut] * 2,
            "y": [1.0, 1],
            "WindowAverage13": [float("nan"), None],
            "Naive": [None, None],
            "WindowAverage4": [3.0, 3.0],
        },
        schema_overrides={"Naive": pl.Float64},
    )
    out = short_window_means(wide, y)
    assert out.get_column("WindowAverage13").to_list() == [5.0, 5.0]
    assert out.get_column("Naive").to_list() == [None, None]
    assert out.get_column("WindowAverage4").to_list() == [3.0, 3.0]


@pytest.mark.parametrize("method", ["mint", "bottom-up", "top-down"])
def test_a_reconcile_method_asked_for_without_segments_says_it_has_no_effect(method):
    """--by sku --reconcile mint ran without a word: the method was dropped silently."""
    r = run(
        {("c1", "s1"): [3, 4, 5, 4, 3, 4, 5, 4]},
        by="sku",
        models="WindowAverage",
        horizon=2,
        reconcile=method,
    )
    assert any(f"--reconcile {method} has no effect with --by sku" in w for w in r.warnings)
    quiet = run(
        {("c1", "s1"): [3, 4, 5, 4, 3, 4, 5, 4]}, by="sku", models="WindowAverage", horizon=2
    )
    assert not any("--reconcile" in w for w in quiet.warnings)


def test_the_ensembles_backtest_forecast_is_the_mean_of_its_members_that_forecast():
    from segchain.forecast.models import with_ensemble

    # Members' forecasts per row: (2, 4) -> 3; (NaN, 5) -> 5 (a failed member is left out);
    # (-1, 3) -> 1.5 (negative forecasts count as 0); (None, None) -> None.
    wide = pl.DataFrame(
        {
            "unique_id": ["a"] * 4,
            "AutoETS": [2.0, float("nan"), -1.0, None],
            "AutoTheta": [4.0, 5.0, 3.0, None],
            "Naive": [100.0, 100.0, 100.0, 100.0],
        }
    )
    out = with_ensemble(wide, ["AutoETS", "AutoTheta"])
    assert out.get_column("Ensemble").to_list() == [3.0, 5.0, 1.5, None]
    # No member among the candidates (--models without them): no Ensemble column.
    assert with_ensemble(wide.select("unique_id", "Naive"), ["AutoETS"]).columns == [
        "unique_id",
        "Naive",
    ]


def test_a_segment_forecast_nothing_though_its_customers_bought_is_warned_of():
    # CDNOW (23,570 customers, one sku) cut at 1998-01-05: RFM's Loyal (4,602 customers) and
    # six other segments defined by recency had no sale in their last weeks, so were forecast
    # 0 for the 8 weeks after, where their customers bought 30 % of the units; said nowhere.
    values = {("c1", "P1"): [5] * 40, ("c2", "P1"): [8] * 20 + [0] * 20}
    segments = pl.concat([segments_for(["c1"], "Active"), segments_for(["c2"], "Lapsed")])
    # Bottom-up: each segment's own models, which follow its recent periods (top-down reads
    # the whole history: next test).
    result = forecast(
        orders_from_series(values), segments, horizon=4, n_jobs=1, reconcile="bottom-up"
    )
    by_segment = dict(result.forecast.group_by("segment").agg(pl.col("forecast").sum()).iter_rows())
    assert by_segment["Lapsed"] == 0 and by_segment["Active"] > 0
    said = [w for w in result.warnings if "forecast no demand" in w]
    assert len(said) == 1
    assert said[0].startswith(
        "1 of 2 segments is forecast no demand over the 4 weeks ahead, though its customers "
        "bought 44.4% of the history's units (160 of 360): Lapsed (160 units, the last in the "
        "week of 2022-05-16)."
    )


def test_top_down_gives_a_lapsed_segment_its_share_of_the_whole_history():
    # The sku forecast split among segments by their shares of the last 13 weeks gave a segment
    # defined by recency nothing (CDNOW cut at 1998-01-05: 7 of 9 RFM segments forecast 0 for 8
    # weeks in which their customers bought 30 % of the units). Split by the whole history,
    # Lapsed gets its 160 of the 360 units' share of the sku forecast.
    values = {("c1", "P1"): [5] * 40, ("c2", "P1"): [8] * 20 + [0] * 20}
    segments = pl.concat([segments_for(["c1"], "Active"), segments_for(["c2"], "Lapsed")])
    result = forecast(
        orders_from_series(values), segments, horizon=4, n_jobs=1, reconcile="top-down"
    )
    by_segment = dict(result.forecast.group_by("segment").agg(pl.col("forecast").sum()).iter_rows())
    total = by_segment["Lapsed"] + by_segment["Active"]
    assert total > 0
    assert by_segment["Lapsed"] / total == pytest.approx(160 / 360)
    assert not [w for w in result.warnings if "forecast no demand" in w]


@pytest.mark.parametrize("unit", [1.0, 1e-3])  # units, or the same demand in thousands
def test_a_segment_forecast_a_vanishing_amount_is_warned_of_in_any_unit(unit):
    # ADIDA's smoothing of a series whose last sale is long past decays toward 0 without reaching
    # it (1e-27 units a week): that is no demand too, in units or in tonnes. A segment forecast
    # a real share of its past rate is not warned of.
    from segchain.forecast.stage import _segments_forecast_nothing

    weeks = [MONDAY + dt.timedelta(weeks=i) for i in range(40)]
    keys = pl.DataFrame({"unique_id": ["a", "b"], "segment": ["Active", "Lapsed"]})
    y = pl.DataFrame(
        {
            "unique_id": ["a"] * 40 + ["b"] * 40,
            "ds": weeks * 2,
            "y": [5.0 * unit] * 40 + [8.0 * unit] * 20 + [0.0] * 20,
        }
    )

    def out(lapsed: float) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "unique_id": ["a"] * 4 + ["b"] * 4,
                "segment": ["Active"] * 4 + ["Lapsed"] * 4,
                "forecast": [5.0 * unit] * 4 + [lapsed] * 4,
            }
        )

    said = _segments_forecast_nothing(out(1e-27 * unit), y, keys, "W", 4)
    assert len(said) == 1 and "Lapsed" in said[0] and "Active" not in said[0]
    # 4 % of its mean rate over the history (4 a week): a forecast, not none.
    assert _segments_forecast_nothing(out(0.16 * unit), y, keys, "W", 4) == []
    assert len(_segments_forecast_nothing(out(0.0), y, keys, "W", 4)) == 1
