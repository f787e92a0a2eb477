"""stock replays its own plan on the weeks --orders holds after the forecast's start.

Before it, `stock` said what its plans were expected to serve (a model's figure) and the only
held-out evidence of what they serve lived in the tests (``tests/heldout.py``). Now, when the
forecast was made --as-of a past day and --orders holds the lines after it, the plan and the
--compare-uniform plan are replayed per stocking point x segment on the demand that came.

The known answers come from a hand-worked example and from ``tests/heldout.serve``, the tests'
own replay written apart from the stage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from segchain.stock.heldout import NO_SEGMENT, STARTS, WARMUP_DAYS, held_out
from tests.heldout import serve

START = dt.date(2024, 5, 20)  # a Monday: the forecast's first week


def _policy(**point) -> pl.DataFrame:
    row = {
        "sku": "A",
        "policy_type": "RS",
        "review_days": 1.0,
        "reorder_point": 0.0,
        "order_qty": 0.0,
        "order_up_to": 0.0,
        "lead_time_days": 0.0,
        "unit_cost": 1.0,
        "mean_demand": 7.0,
    }
    return pl.DataFrame([{**row, **point}])


def _segment_rows(sku: str, rows: list[tuple[str, int, float, float]]) -> pl.DataFrame:
    """The per-segment table: (segment, priority, reserve_level, demand_share) per row."""
    return pl.DataFrame(
        [
            {
                "sku": sku,
                "segment": seg,
                "priority": prio,
                "service_measure": "fill-rate",
                "service_level": 0.99 - 0.05 * (prio - 1),
                "reserve_level": reserve,
                "expected_fill_rate": 0.95,
                "demand_share": share,
            }
            for seg, prio, reserve, share in rows
        ]
    )


def _lines(demand: dict[tuple[str, str, int], float]) -> pl.DataFrame:
    """Order lines: ``(sku, customer, day from START) -> quantity``."""
    rows = [
        (f"O{i}", START + dt.timedelta(days=d), cust, sku, q, 1.0)
        for i, ((sku, cust, d), q) in enumerate(sorted(demand.items()))
    ]
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_held_out_replays_a_hand_worked_order_up_to_plan_with_a_backorder() -> None:
    # One point, one segment, (R, S) reviewed every night with S = 4 and a lead time of 2 days;
    # no demand in the warm-up, so the held-out week starts with S = 4 on hand, nothing owed or
    # on order. An order placed the night of day t is on the shelf the morning of day t + 3.
    #   day 0: asks 3, filled 3, on hand 1; position 1 -> order 3 (arrives day 3)
    #   day 1: asks 3, filled 1, 2 backordered, on hand 0; position 0 - 2 + 3 = 1 -> order 3
    #          (arrives day 4)
    #   day 2: nothing asked; position 0 - 2 + 6 = 4: no order
    #   day 3: 3 arrive, pay the 2 owed, on hand 1; asks 2, filled 1, 1 owed, on hand 0;
    #          position 0 - 1 + 3 = 2 -> order 2 (arrives day 6)
    #   day 4: 3 arrive, pay the 1 owed, on hand 2; day 5: on hand 2; day 6: 2 arrive, on hand 4
    # Filled 3 + 1 + 1 = 5 of 8 asked: 0.625; on hand at the end of the days 1, 0, 0, 0, 2, 2,
    # 4: a mean of 9/7.
    lines = _lines({("A", "C1", 0): 3.0, ("A", "C1", 1): 3.0, ("A", "C1", 3): 2.0})
    lines = pl.concat([lines, _lines({("B", "C1", 6): 5.0})])  # B: no plan; the week is whole
    got = held_out(
        lines,
        pl.DataFrame({"customer_id": ["C1"], "segment": ["Gold"]}),
        policy=_policy(order_up_to=4.0, reorder_point=4.0, lead_time_days=2.0, unit_cost=2.5),
        segment_rows=_segment_rows("A", [("Gold", 1, 0.0, 1.0)]),
        keys=["sku"],
        forecast_ds=pl.Series([START, START + dt.timedelta(weeks=1)]),
        period_days=7.0,
    )
    assert got is not None and got.periods == 1 and got.days == 7 and got.start == START
    gold = got.table.row(0, named=True)
    assert gold["segment"] == "Gold" and gold["asked"] == 8.0
    assert gold["fill_segmented"] == pytest.approx(5 / 8, abs=1e-12)
    assert gold["stock_units_segmented"] == pytest.approx(9 / 7, abs=1e-12)
    assert gold["stock_segmented"] == pytest.approx(2.5 * 9 / 7, abs=1e-12)
    assert got.unplanned_units == 5.0 and got.unplanned_points == 1


def test_held_out_is_none_when_the_orders_cover_no_whole_period_after_the_start() -> None:
    lines = _lines({("A", "C1", -3): 2.0, ("A", "C1", 5): 3.0})  # ends on day 5 of 7
    got = held_out(
        lines,
        pl.DataFrame({"customer_id": ["C1"], "segment": ["Gold"]}),
        policy=_policy(order_up_to=4.0),
        segment_rows=_segment_rows("A", [("Gold", 1, 0.0, 1.0)]),
        keys=["sku"],
        forecast_ds=pl.Series([START]),
        period_days=7.0,
    )
    assert got is None


def _random_lines(seed: int, weeks: int) -> pl.DataFrame:
    """Two skus; customers G (Gold), S (Silver), B (Bronze) and N (in no segment) buying on
    random days of the warm-up and the held-out weeks, several lines a day at times."""
    rng = random.Random(seed)
    demand: dict[tuple[str, str, int], float] = {}
    for sku in ("A", "B"):
        for cust, p in (("G", 0.5), ("S", 0.4), ("B", 0.6), ("N", 0.1)):
            for d in range(-WARMUP_DAYS, weeks * 7):
                if rng.random() < p:
                    demand[(sku, cust, d)] = float(rng.randint(1, 6))
    lines = _lines(demand)
    # A return on a day of its own lines: a day's net demand is what counts.
    extra = _lines({("A", "G", 3): -2.0})
    return pl.concat([lines, extra.with_columns(pl.lit("X").alias("order_id"))])


CUSTOMERS = pl.DataFrame({"customer_id": ["G", "S", "B"], "segment": ["Gold", "Silver", "Bronze"]})


def _expected_by_serve(
    lines: pl.DataFrame, sku: str, plan: dict, reserves: dict[str, float], weeks: int
) -> tuple[dict[str, tuple[float, float]], float]:
    """Per segment (asked, filled) and the mean on hand, from ``tests.heldout.serve``: every
    start (the module's documented ones) and every rotation of the segments with demand, in
    priority order, then those no plan knew (served down to the highest reserve)."""
    first = START - dt.timedelta(days=WARMUP_DAYS)
    n_days = WARMUP_DAYS + weeks * 7
    names = {"G": "Gold", "S": "Silver", "B": "Bronze", "N": NO_SEGMENT}
    net: dict[tuple[str, int], float] = {}
    for row in lines.filter(pl.col("sku") == sku).iter_rows(named=True):
        key = (names[row["customer_id"]], (row["order_date"] - first).days)
        net[key] = net.get(key, 0.0) + row["quantity"]
    order = [
        s
        for s in ("Gold", "Silver", "Bronze", NO_SEGMENT)
        if any(k[0] == s and q > 0 for k, q in net.items())
    ]
    cut = [reserves.get(s, max(reserves.values())) for s in order]
    if plan["policy_type"] == "RS":
        starts = [(plan["order_up_to"], ph) for ph in range(int(plan["review_days"]))]
    else:
        s, q = plan["reorder_point"], plan["order_qty"]
        starts = [(float(np.floor(f)), 0) for f in np.linspace(s + 1, s + max(q, 1.0), STARTS)]
    leads = _drawn_leads(sku, plan, len(starts), n_days)
    asked = dict.fromkeys(order, 0.0)
    filled = dict.fromkeys(order, 0.0)
    held = 0.0
    runs = 0
    for number, (on_hand, phase) in enumerate(starts):
        for shift in range(len(order)):
            seq = [order[(j + shift) % len(order)] for j in range(len(order))]
            days = [
                [(order.index(seg), max(net.get((seg, t), 0.0), 0.0)) for seg in seq]
                for t in range(n_days)
            ]
            a, f, h = serve(
                days,
                s=plan["reorder_point"],
                q=plan["order_qty"],
                up_to=plan["order_up_to"] if plan["policy_type"] == "RS" else None,
                review_days=int(plan["review_days"]),
                phase=phase,
                lead_days=leads[number] if leads else int(plan["lead_time_days"]),
                on_hand=on_hand,
                reserves=cut,
                score_from=WARMUP_DAYS,
            )
            for i, seg in enumerate(order):
                asked[seg] += a[i]
                filled[seg] += f[i]
            held += h
            runs += 1
    return {s: (asked[s] / runs, filled[s] / runs) for s in order}, held / runs


def _drawn_leads(sku: str, plan: dict, starts: int, n_days: int) -> list[list[int]]:
    """Per start, the lead time of an order placed on each day, drawn as the module documents
    it: normal(L, sd_L) rounded to whole days, at least 0, from the point's own generator
    (the seed 0, the blake2b hash of its data: L, sd_L and mean over sd of its demand, each to 9
    significant digits, not of its name; purpose 4), a row of days per start in turn; none with
    an sd of 0."""
    sd = plan.get("lead_time_sd_days", 0.0)
    if not sd:
        return []
    row = _policy(**plan).to_dicts()[0]  # the policy row replayed, its defaults filled
    mean, spread = row["mean_demand"], row.get("sd_demand") or 0.0
    data = [plan["lead_time_days"], sd, mean / spread if spread > 0 else float(mean > 0)]
    text = "\x1f".join(f"{float(v):.9g}" for v in data).encode()
    key = int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")
    gen = np.random.default_rng([0, key >> 32, key & 0xFFFFFFFF, 4])
    z = gen.standard_normal((starts, n_days))
    return [[max(round(plan["lead_time_days"] + sd * x), 0) for x in row] for row in z]


@pytest.mark.parametrize(
    "plan, reserves",
    [
        # (R, S) weekly, rationed: Silver held back below 3, Bronze below 6.
        (
            {"policy_type": "RS", "review_days": 7.0, "order_up_to": 45.0,
             "reorder_point": 45.0, "order_qty": 0.0, "lead_time_days": 5.0},
            {"Gold": 0.0, "Silver": 3.0, "Bronze": 6.0},
        ),
        # (s, Q) looked at nightly, first come, first served.
        (
            {"policy_type": "sQ", "review_days": 1.0, "order_up_to": 0.0,
             "reorder_point": 12.0, "order_qty": 20.0, "lead_time_days": 4.0},
            {"Gold": 0.0, "Silver": 0.0, "Bronze": 0.0},
        ),
        # (R, S) every 3 days, a lead time of 0 days.
        (
            {"policy_type": "RS", "review_days": 3.0, "order_up_to": 20.0,
             "reorder_point": 20.0, "order_qty": 0.0, "lead_time_days": 0.0},
            {"Gold": 0.0, "Silver": 2.0, "Bronze": 2.0},
        ),
        # An sd of 0: the plan's own lead time on every order, as before lead times were drawn.
        (
            {"policy_type": "RS", "review_days": 7.0, "order_up_to": 45.0,
             "reorder_point": 45.0, "order_qty": 0.0, "lead_time_days": 5.0,
             "lead_time_sd_days": 0.0},
            {"Gold": 0.0, "Silver": 3.0, "Bronze": 6.0},
        ),
        # Lead times drawn, orders crossing: rationed (R, S) weekly, and (s, Q) nightly.
        (
            {"policy_type": "RS", "review_days": 7.0, "order_up_to": 45.0,
             "reorder_point": 45.0, "order_qty": 0.0, "lead_time_days": 5.0,
             "lead_time_sd_days": 3.0},
            {"Gold": 0.0, "Silver": 3.0, "Bronze": 6.0},
        ),
        (
            {"policy_type": "sQ", "review_days": 1.0, "order_up_to": 0.0,
             "reorder_point": 12.0, "order_qty": 20.0, "lead_time_days": 4.0,
             "lead_time_sd_days": 2.5},
            {"Gold": 0.0, "Silver": 0.0, "Bronze": 0.0},
        ),
    ],
)  # fmt: skip
def test_held_out_agrees_with_the_tests_independent_replay(plan, reserves) -> None:
    weeks = 3
    lines = _random_lines(7, weeks)
    policy = pl.concat(
        [_policy(sku="A", unit_cost=2.0, **plan), _policy(sku="B", unit_cost=3.0, **plan)]
    )
    shares = {"Gold": 0.5, "Silver": 0.3, "Bronze": 0.2}
    rows = pl.concat(
        [
            _segment_rows(sku, [(s, i + 1, reserves[s], shares[s]) for i, s in enumerate(shares)])
            for sku in ("A", "B")
        ]
    )
    got = held_out(
        lines,
        CUSTOMERS,
        policy=policy,
        segment_rows=rows,
        keys=["sku"],
        forecast_ds=pl.Series([START + dt.timedelta(weeks=w) for w in range(weeks + 2)]),
        period_days=7.0,
    )
    assert got is not None and got.periods == weeks
    table = {r["segment"]: r for r in got.table.iter_rows(named=True)}
    expected: dict[str, list[float]] = {}
    value = 0.0
    for sku, cost in (("A", 2.0), ("B", 3.0)):
        per, held = _expected_by_serve(lines, sku, {**plan, "sku": sku}, reserves, weeks)
        value += held * cost
        for seg, (a, f) in per.items():
            e = expected.setdefault(seg, [0.0, 0.0, 0.0])
            e[0] += a
            e[1] += f
        for seg, share in shares.items():
            expected.setdefault(seg, [0.0, 0.0, 0.0])[2] += held * cost * share
    assert set(expected) == set(table) - {"(all)"}
    for seg, (a, f, stock) in expected.items():
        assert table[seg]["asked"] == pytest.approx(a, abs=1e-9), seg
        assert table[seg]["fill_segmented"] == pytest.approx(f / a, abs=1e-9), seg
        assert table[seg]["stock_segmented"] == pytest.approx(stock, abs=1e-9), seg
    assert table["(all)"]["stock_segmented"] == pytest.approx(value, abs=1e-9)
    # Days short of stock, where the order of the day's arrivals decides who is served.
    assert 0.3 < table["(all)"]["fill_segmented"] < 0.95
    # Customers in no segment: asked and served last, no share of the stock.
    assert table[NO_SEGMENT]["asked"] > 0 and table[NO_SEGMENT]["stock_segmented"] == 0.0


def test_the_uniform_plan_is_replayed_without_reserves() -> None:
    weeks = 2
    lines = _random_lines(3, weeks).filter(pl.col("customer_id") != "N")
    plan = {"policy_type": "RS", "review_days": 7.0, "order_up_to": 30.0,
            "reorder_point": 30.0, "order_qty": 0.0, "lead_time_days": 3.0}  # fmt: skip
    reserves = {"Gold": 0.0, "Silver": 4.0, "Bronze": 8.0}
    rows = _segment_rows("A", [(s, i + 1, c, 1 / 3) for i, (s, c) in enumerate(reserves.items())])
    uniform = {**plan, "order_up_to": 26.0, "reorder_point": 26.0}
    got = held_out(
        lines.filter(pl.col("sku") == "A"),
        CUSTOMERS,
        policy=_policy(**plan),
        segment_rows=rows,
        keys=["sku"],
        forecast_ds=pl.Series([START + dt.timedelta(weeks=w) for w in range(weeks)]),
        period_days=7.0,
        uniform=_policy(**uniform),
        uniform_plan="one uniform target 0.9000",
    )
    assert got is not None and got.uniform_plan == "one uniform target 0.9000"
    per, _ = _expected_by_serve(lines, "A", uniform, dict.fromkeys(reserves, 0.0), weeks)
    table = {r["segment"]: r for r in got.table.iter_rows(named=True)}
    assert all(a > 0 for a, _ in per.values())
    for seg, (a, f) in per.items():
        assert table[seg]["fill_uniform"] == pytest.approx(f / a, abs=1e-9), seg


# ---- through the stage and the CLI ----------------------------------------------------------


def _chain_orders(weeks: int = 24) -> pl.DataFrame:
    """Two skus bought by six customers on random days from a Monday."""
    rng = random.Random(1)
    monday = dt.date(2024, 1, 1)
    rows = []
    for d in range(weeks * 7):
        day = monday + dt.timedelta(days=d)
        for c in range(6):
            if rng.random() < 0.5:
                rows.append(
                    (f"O{d}-{c}", day, f"C{c}", "A" if c % 2 else "B", rng.randint(1, 5), 2.0)
                )
    schema = ["order_id", "order_date", "customer_id", "sku", "quantity", "unit_price"]
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_the_policy_is_the_same_with_the_held_out_lines_or_without() -> None:
    from segchain.forecast import forecast
    from segchain.stock import stock

    orders = _chain_orders()
    segments = pl.DataFrame({"customer_id": [f"C{c}" for c in range(6)], "segment": ["S", "T"] * 3})
    fc = forecast(
        orders, segments, as_of=START, freq="W", horizon=4, models="WindowAverage", n_jobs=1
    ).forecast
    before = orders.filter(pl.col("order_date") < START)
    opts = {"segments": segments, "compare_uniform": "equal", "policy_type": "RS", "review_days": 7}
    full = stock(fc, orders=orders, **opts)
    cut = stock(fc, orders=before, **opts)
    assert full.held_out is not None and cut.held_out is None and cut.held_out_note is None
    assert full.policy.equals(cut.policy)
    assert full.comparison is not None and cut.comparison is not None
    assert full.comparison.equals(cut.comparison)
    assert full.held_out.periods == 4 and full.held_out.start == START


def test_cli_replays_the_plan_per_segment_and_records_it(cli, tmp_path: Path) -> None:
    orders = _chain_orders()
    orders.write_csv(tmp_path / "orders.csv")
    seg, fc, policy = tmp_path / "seg.parquet", tmp_path / "fc.parquet", tmp_path / "p.parquet"
    as_of = str(START)
    assert (
        cli("segment", str(tmp_path / "orders.csv"), "--as-of", as_of, "-o", str(seg)).exit_code
        == 0
    )
    result = cli(
        "forecast", str(seg), "--orders", str(tmp_path / "orders.csv"), "--as-of", as_of,
        "--horizon", "4", "--models", "WindowAverage", "--n-jobs", "1", "-o", str(fc),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = cli(
        "stock", str(fc), "--orders", str(tmp_path / "orders.csv"), "--segments", str(seg),
        "--compare-uniform", "equal", "-o", str(policy),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "held out: the plan replayed on the 4 weeks from 2024-05-20" in result.stderr
    line = [x for x in result.stderr.splitlines() if "held out over 4 weeks from 2024-05-20" in x]
    assert line and "segmented plan served " in line[0], result.stderr
    assert "one uniform target 0.9500 served " in line[0]
    held = json.loads(pl.read_parquet_metadata(policy)["segchain.held_out"])
    assert held["start"] == as_of and held["periods"] == 4 and held["days"] == 28
    # Every unit the 4 weeks hold is asked of some segment: the lines' quantities, by hand.
    after = orders.filter(pl.col("order_date").is_between(START, START + dt.timedelta(days=27)))
    total = [r for r in held["segments"] if r["segment"] == "(all)"][0]
    assert total["asked"] == pytest.approx(float(after["quantity"].sum()))

    # Orders that end before the forecast's start: nothing replayed, nothing said of it.
    before = orders.filter(pl.col("order_date") < START)
    before.write_csv(tmp_path / "before.csv")
    again = tmp_path / "again.parquet"
    result = cli(
        "stock", str(fc), "--orders", str(tmp_path / "before.csv"), "--segments", str(seg),
        "--compare-uniform", "equal", "-o", str(again),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    said = result.stderr.replace(str(tmp_path), "")
    assert "held out" not in said and "replay" not in said, said
    assert "segchain.held_out" not in pl.read_parquet_metadata(again)
    assert pl.read_parquet(again).equals(pl.read_parquet(policy))


def test_cli_says_to_give_segments_when_the_forecast_is_per_segment(cli, tmp_path: Path) -> None:
    orders = _chain_orders()
    orders.write_csv(tmp_path / "orders.csv")
    segments = pl.DataFrame({"customer_id": [f"C{c}" for c in range(6)], "segment": ["S", "T"] * 3})
    segments.write_csv(tmp_path / "seg.csv")
    fc = tmp_path / "fc.parquet"
    result = cli(
        "forecast", str(tmp_path / "seg.csv"), "--orders", str(tmp_path / "orders.csv"),
        "--as-of", str(START), "--horizon", "4", "--models", "WindowAverage", "--n-jobs", "1",
        "-o", str(fc),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = cli("stock", str(fc), "--orders", str(tmp_path / "orders.csv"), "-o", "p.csv")
    assert result.exit_code == 0, result.output
    assert (
        f"--orders {tmp_path / 'orders.csv'} holds 4 whole weeks after the forecast's start "
        "(2024-05-20): give --segments FILE (the SEGMENTS given to forecast) to replay the plan "
        "on them per segment"
    ) in result.stderr.replace("\n", " ").replace("segchain stock: ", ""), result.stderr


def test_cli_refuses_segments_without_orders(cli, tmp_path: Path) -> None:
    result = cli("stock", "fc.csv", "--segments", "seg.csv")
    assert result.exit_code == 2
    assert "--segments gives the segment of each --orders line" in result.stderr


def test_replay_draws_each_orders_lead_time_poisson_binomial_fill() -> None:
    # (R, S) reviewed nightly with S = 8, one unit asked every day, a lead time of 7 days with
    # an sd of 3: each night orders the day's unit, so the position is S after every review
    # and a day's unit is filled from stock when at most 7 units are still on their way.
    # The order placed j + 1 nights before a day is still on its way when its lead time
    # rint(normal(7, 3)) exceeds j, with probability p_j = P(normal > j + 0.5): the units on
    # their way are a sum of independent Bernoulli(p_j), and the fill rate is P(sum <= 7)
    # (with the lead time fixed at 7 days every day's unit is filled: the plan's own lead
    # time replayed on every order said 1.0). 40 points over 1,000 days each.
    from scipy.stats import norm

    from segchain.stock.heldout import replay_plan

    pmf = np.array([1.0])
    for j in range(60):
        p = float(norm.sf((j + 0.5 - 7.0) / 3.0))
        pmf = np.convolve(pmf, [1 - p, p])
    expected = float(pmf[:8].sum())
    assert 0.5 < expected < 0.7
    days = 1000
    skus = [f"P{i}" for i in range(40)]
    first = START - dt.timedelta(days=WARMUP_DAYS)
    plan = pl.concat(
        [_policy(sku=sku, order_up_to=8.0, reorder_point=8.0, lead_time_days=7.0) for sku in skus]
    ).with_columns(lead_time_sd_days=pl.lit(3.0))
    rows = pl.concat([_segment_rows(sku, [("Gold", 1, 0.0, 1.0)]) for sku in skus])
    daily = pl.DataFrame(
        {
            "sku": [s for s in skus for _ in range(WARMUP_DAYS + days)],
            "segment": "Gold",
            "day": [first + dt.timedelta(days=d) for _ in skus for d in range(WARMUP_DAYS + days)],
            "q": 1.0,
        }
    )
    got = replay_plan(plan, rows, daily, ["sku"], first=first, days=days)
    fill = got["filled"].sum() / got["asked"].sum()
    assert got["asked"].sum() == 40 * days
    # The standard error of a fill over 40,000 correlated days is about 0.005.
    assert fill == pytest.approx(expected, abs=0.02)
    fixed = replay_plan(
        plan.with_columns(lead_time_sd_days=pl.lit(0.0)),
        rows,
        daily,
        ["sku"],
        first=first,
        days=days,
    )
    assert fixed["filled"].sum() / fixed["asked"].sum() == 1.0
