"""``stock --assignments``: the --orders history routed to the network's sites, as forecast routes
the demand, so that each site's stocking points are planned from the demand routed there and not
from the orders' own ``site`` (where lines shipped from in the past). Expected histories here are
worked out by hand from the orders and the shares, not by the code under test."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from segchain.tableio import provenance, read_table, write_table

W1, W2, W3 = (date(2024, 1, 1) + timedelta(weeks=i) for i in range(3))  # Mondays
FUTURE = [date(2024, 1, 22) + timedelta(weeks=i) for i in range(4)]

# Customers P and Q shipped from site A in the past; the network now serves P from B (25 %) and
# C (75 %), Q from C alone, and splits R 50/50 between B and C. U has no serving site.
ORDER_LINES = [
    # order_id, order_date, customer_id, sku, quantity
    ("1", W1, "P", "X", 10.0),
    ("2", W3, "P", "X", 4.0),
    ("3", W1, "Q", "X", 6.0),
    ("4", W2, "Q", "X", 8.0),
    ("5", W2, "Q", "Y", 3.0),
]
R_LINES = [("6", W1, "R", "Z", 9.0), ("7", W2, "R", "Z", 5.0)]
U_LINES = [("8", W2, "U", "X", 7.0)]
ASSIGNMENTS = pl.DataFrame(
    {
        "customer_id": ["P", "P", "Q", "R", "R"],
        "site_id": ["B", "C", "C", "B", "C"],
        "share": [0.25, 0.75, 1.0, 0.5, 0.5],
    }
)
# Weekly demand per (site, sku) from each point's first sale to the last week of the data (W3),
# by hand: B/X = P x 0.25; C/X = P x 0.75 + Q; C/Y = Q; B/Z = C/Z = R x 0.5.
ROUTED = {
    ("B", "X"): [(W1, 2.5), (W2, 0.0), (W3, 1.0)],
    ("C", "X"): [(W1, 7.5 + 6.0), (W2, 8.0), (W3, 0.75 * 4.0)],
    ("C", "Y"): [(W2, 3.0), (W3, 0.0)],
    ("B", "Z"): [(W1, 4.5), (W2, 2.5), (W3, 0.0)],
    ("C", "Z"): [(W1, 4.5), (W2, 2.5), (W3, 0.0)],
}


def _orders(lines: list[tuple[str, date, str, str, float]], site: str = "A") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": [r[0] for r in lines],
            "order_date": [r[1] for r in lines],
            "customer_id": [r[2] for r in lines],
            "sku": [r[3] for r in lines],
            "quantity": [r[4] for r in lines],
            "unit_price": [2.0] * len(lines),
            "site": [site] * len(lines),
        }
    )


def _forecast(sites: tuple[str, ...] = ("B", "C"), skus: tuple[str, ...] = ("X", "Y", "Z")):
    rows = [
        {
            "unique_id": f"{site}/Gold/{sku}",
            "ds": d,
            "forecast": 1.0,
            "site": site,
            "segment": "Gold",
            "sku": sku,
            "demand_class": "intermittent",
            "mean_demand": 1.0,
            "error_sd": 1.5,
        }
        for site in sites
        for sku in skus
        for d in FUTURE
    ]
    return pl.DataFrame(rows)


def _histories(monkeypatch) -> list[pl.DataFrame]:
    """The histories stock plans from, as ``demand_history`` hands them to the policies."""
    import segchain.stock.stage as stage

    seen: list[pl.DataFrame] = []
    real = stage.demand_history

    def spy(orders, keys, period_days, **kw):  # type: ignore[no-untyped-def]
        out = real(orders, keys, period_days, **kw)
        seen.append(out[0])
        return out

    monkeypatch.setattr(stage, "demand_history", spy)
    return seen


def _as_dict(history: pl.DataFrame) -> dict[tuple[str, str], list[tuple[date, float]]]:
    out: dict[tuple[str, str], list[tuple[date, float]]] = {}
    for site, sku, ds, y in history.sort("site", "sku", "ds").iter_rows():
        out.setdefault((site, sku), []).append((ds, y))
    return out


def test_stock_plans_from_the_history_routed_through_the_assignments(monkeypatch) -> None:
    from segchain.stock import stock

    seen = _histories(monkeypatch)
    orders = _orders(ORDER_LINES + R_LINES)
    result = stock(_forecast(), orders=orders, assignments=ASSIGNMENTS, lead_time_days=6.0)
    assert len(seen) == 1
    # Shares of 0.25, 0.5 and 0.75 of whole units are exact in binary: compared exactly.
    assert _as_dict(seen[0].select("site", "sku", "ds", "y")) == ROUTED
    # Site A, where every line shipped from, has no history: the plan is for the network.
    assert "A" not in seen[0]["site"].to_list()
    # With a 6-day lead time and a daily review, a point's protection interval is one week:
    # history_max is its largest routed week; B/Y has no routed history.
    maxima = dict(
        ((s, k), m) for s, k, m in result.policy.select("site", "sku", "history_max").iter_rows()
    )
    expected = {key: max(y for _, y in rows) for key, rows in ROUTED.items()}
    assert maxima == {**expected, ("B", "Y"): None}


def test_stock_splits_a_customer_50_50_between_its_sites(monkeypatch) -> None:
    from segchain.stock import stock

    seen = _histories(monkeypatch)
    stock(_forecast(skus=("Z",)), orders=_orders(R_LINES), assignments=ASSIGNMENTS)
    got = _as_dict(seen[0].select("site", "sku", "ds", "y"))
    assert got == {("B", "Z"): [(W1, 4.5), (W2, 2.5)], ("C", "Z"): [(W1, 4.5), (W2, 2.5)]}
    total = sum(y for rows in got.values() for _, y in rows)
    assert total == pytest.approx(9.0 + 5.0)  # R's demand, conserved


# ---- the command ---------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    orders = tmp_path / "orders.csv"
    _orders(ORDER_LINES + R_LINES + U_LINES).write_csv(orders)
    assignments = tmp_path / "assignments.parquet"
    ASSIGNMENTS.write_parquet(assignments)
    forecast = tmp_path / "forecast.parquet"
    # As `segchain forecast --assignments` records it: the assignments counted in its inputs.
    write_table(
        _forecast(),
        str(forecast),
        metadata=provenance("forecast", inputs={"orders": 8, "segments": 4, "assignments": 5}),
    )
    unrouted = tmp_path / "forecast_own_sites.parquet"
    write_table(_forecast(), str(unrouted), metadata=provenance("forecast", inputs={"orders": 8}))
    no_site = tmp_path / "forecast_no_site.csv"
    _forecast().drop("site").unique(["sku", "ds"]).write_csv(no_site)
    return {
        "orders": orders,
        "assignments": assignments,
        "forecast": forecast,
        "unrouted": unrouted,
        "no_site": no_site,
    }


TRAP = (
    "was routed through network assignments (5 rows) but --orders {orders} is read "
    "by its own site column (where lines shipped from): each site's history may be another "
    "site's shipments; pass --assignments FILE (the assignments given to forecast) to route it "
    "the same way"
)
UNROUTED = (
    "Warning: --orders {orders}: 1 order line of 1 customer has no serving site in "
    "--assignments {assignments}: left out of the site series"
)


def _one_line(stderr: str) -> str:
    """stderr with the console's wrapping undone (a long warning is wrapped at the width)."""
    return " ".join(stderr.split())


def test_cli_stock_routes_the_history_and_reports_unrouted_lines_once(cli, files, tmp_path) -> None:
    out = tmp_path / "policy.parquet"
    result = cli(
        "stock",
        str(files["forecast"]),
        "--orders",
        str(files["orders"]),
        "--assignments",
        str(files["assignments"]),
        "--lead-time-days",
        "6",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.stderr
    policy = pl.read_parquet(out)
    maxima = dict(
        ((s, k), m) for s, k, m in policy.select("site", "sku", "history_max").iter_rows()
    )
    # U's 7 units at W2 are nowhere: they have no serving site.
    expected = {key: max(y for _, y in rows) for key, rows in ROUTED.items()}
    assert maxima == {**expected, ("B", "Y"): None}
    text = _one_line(result.stderr)
    assert text.count("has no serving site") == 1
    assert UNROUTED.format(orders=files["orders"], assignments=files["assignments"]) in text
    assert "routed through network assignments" not in text
    assert read_table(str(out)).metadata["inputs"]["assignments"] == 5


def test_cli_stock_warns_once_when_a_routed_forecast_reads_the_orders_own_sites(
    cli, files, tmp_path
) -> None:
    # The demo's case: the orders' own site (B) is also a network site, so nothing looks wrong.
    orders = tmp_path / "orders_b.csv"
    _orders(ORDER_LINES, site="B").write_csv(orders)
    out = tmp_path / "policy.parquet"
    args = ["stock", str(files["forecast"]), "--orders", str(orders), "--lead-time-days", "6"]
    result = cli(*args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = _one_line(result.stderr)
    assert text.count(f"Warning: FORECAST {files['forecast']} " + TRAP.format(orders=orders)) == 1
    # Not an error: the plan is written, from the orders' own sites (B/X: 16, 8, 4 a week).
    b_x = pl.read_parquet(out).filter(pl.col("site") == "B", pl.col("sku") == "X")
    assert b_x["history_max"].to_list() == [16.0]

    routed = cli(*args, "--assignments", str(files["assignments"]), "-o", str(out))
    assert routed.exit_code == 0, routed.stderr
    assert "routed through network assignments" not in _one_line(routed.stderr)
    b_x = pl.read_parquet(out).filter(pl.col("site") == "B", pl.col("sku") == "X")
    assert b_x["history_max"].to_list() == [2.5]
    # Nothing to say without --orders, or for a forecast made by the orders' own sites.
    plain = cli("stock", str(files["forecast"]), "-o", str(out))
    assert plain.exit_code == 0, plain.stderr
    assert "routed through" not in _one_line(plain.stderr)
    own = cli("stock", str(files["unrouted"]), "--orders", str(orders), "-o", str(out))
    assert own.exit_code == 0, own.stderr
    assert "routed through" not in _one_line(own.stderr)


def test_cli_stock_warns_when_assignments_route_a_forecast_made_by_the_orders_own_sites(
    cli, files
) -> None:
    result = cli(
        "stock",
        str(files["unrouted"]),
        "--orders",
        str(files["orders"]),
        "--assignments",
        str(files["assignments"]),
        "-o",
        "p.parquet",
    )
    assert result.exit_code == 0, result.stderr
    assert (
        f"Warning: FORECAST {files['unrouted']} was not routed through assignments (its sites are "
        f"the orders' own): --assignments {files['assignments']} routes the --orders "
        f"{files['orders']} history to other sites than the forecast's"
    ) in _one_line(result.stderr)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "no_orders",
            "--assignments routes the --orders history to the network's sites: give --orders too",
        ),
        (
            "no_site",
            "--assignments: the forecast has no site column, so its stocking points are not per "
            "site and there is nothing to route the history to",
        ),
        (
            "two_stdin",
            "only one of FORECAST, --items, --on-hand, --orders, --assignments and --segments "
            "can be '-' (stdin)",
        ),
    ],
)
def test_cli_stock_assignments_usage_errors_exit_2_and_write_nothing(
    cli, files, tmp_path, case, message
) -> None:
    out = tmp_path / "policy.parquet"
    out.write_bytes(b"previous run")
    fresh = tmp_path / "segments_out.csv"
    before = sorted(p.name for p in tmp_path.iterdir())
    asg = str(files["assignments"])
    args = {
        "no_orders": [str(files["forecast"]), "--assignments", asg],
        "no_site": [str(files["no_site"]), "--orders", str(files["orders"]), "--assignments", asg],
        "two_stdin": ["-", "--orders", str(files["orders"]), "--assignments", "-"],
    }[case]
    result = cli("stock", *args, "--segments-out", str(fresh), "-o", str(out))
    assert result.exit_code == 2
    assert _one_line(result.stderr).startswith(f"segchain stock: Error: {message}")
    assert out.read_bytes() == b"previous run"
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
