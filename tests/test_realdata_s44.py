"""Findings of session 44's run of the whole chain on real exports (Online Retail, Superstore,
The Complete Journey, an SAP-like list): each test fails on the code before its fix."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

# ---- network's promise table writes its shares within promise as percentages ---------------
# `segchain network` on Superstore with max_delivery_days printed `within` 0.879 and 1 beside
# the segment table's shares as 11.4%: the columns are renamed from within_promise, which the
# name rule reads as a share, to within, which it does not.

CUSTOMERS = (
    "customer_id,segment,lat,lon,quantity\n"
    "C1,A,50.1,8.7,10\n"  # Frankfurt
    "C2,B,40.4,-3.7,5\n"  # Madrid
    "C3,A,55.7,37.6,7\n"  # Moscow: no site within a day
)
# Without promises one site is cheaper; Madrid's promise keeps a second one open.
SITES = "site_id,lat,lon,fixed_cost\nS1,50.0,8.6,100000\nS2,40.5,-3.6,100000\n"


def test_network_prints_the_share_within_promise_as_a_percentage(cli, tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "c.toml").write_text('[segments."*"]\nmax_delivery_days = 1\n')
    result = cli("network", "seg.csv", "--sites", "sites.csv", "--config", "c.toml", "-o", "a.csv")
    assert result.exit_code == 0, result.stderr
    rows = {
        line.split("│")[0].removeprefix("segchain network:").strip(): [
            cell.strip() for cell in line.split("│")[1:]
        ]
        for line in result.stderr.splitlines()
        if "│" in line
    }
    # columns: sla_days, customers, demand, within, mean_km, cost, within_no_promise, ...
    # A: 10 of its 17 units within a day (C1 in Frankfurt; C3 in Moscow is late) = 58.8 %.
    assert rows["A"][3] == "58.8%", result.stderr
    assert rows["A"][6] == "58.8%", result.stderr
    assert rows["B"][3] == "100.0%", result.stderr
    assert rows["B"][6] == "0.0%", result.stderr  # served from Frankfurt without promises


# ---- costs: no extra fixed cost out of the rounding of network's sums ------------------------
# On Superstore (candidates without a fixed cost, promises of 1-3 days) costs wrote
# delivery_promise_fixed -1.2e-09, -5.7e-10, -7.3e-11 and -0.0 (shown 0.000 beside 0): the
# plan without promises' fixed cost is read as its total less its transport summed per
# segment, and the two sums of the same lanes differ in the last bits.


@pytest.mark.parametrize(
    ("costs", "total"),
    [
        ((0.1, 0.2, 0.3), 0.6),  # summed per segment: 0.6000000000000001
        ((0.3, 0.2, 0.1), 0.6000000000000001),  # summed per segment: 0.6
    ],
)
def test_delivery_promise_has_no_fixed_cost_where_neither_plan_has_one(
    costs: tuple[float, ...], total: float
) -> None:
    import math

    from segchain.costs.promise import delivery_promise

    promise = [
        {"segment": s, "transport_cost": t, "baseline_transport_cost": t, "demand": 1.0,
         "baseline_within_promise": w}
        for s, t, w in zip("ABC", costs, (0.5, 1.0, 1.0), strict=True)
    ]  # fmt: skip
    # network's totals: the transport summed lane by lane, in another order than per segment;
    # no site has a fixed cost in either plan.
    totals = {"fixed_cost": 0.0, "baseline_total_cost": total, "total_cost": total}
    out, _ = delivery_promise(promise, totals)
    assert out is not None
    for column in ("delivery_promise_fixed", "delivery_promise_cost"):
        for value in out[column]:
            assert value == 0.0 and math.copysign(1.0, value) == 1.0, (column, value)


# ---- German headers with umlauts are suggested as the columns they name ----------------------
# An SAP list's currency header is 'Währung'. HEADER_SYNONYMS lists it as 'waehrung', but a
# header was squeezed by dropping every letter outside a-z ('whrung'), so the list of unread
# look-alikes never named it: on the SAP-like export of Online Retail it named 'Land' and
# 'Bezeichnung' and left the currency out.

SAP_LIST = (
    "Verkaufsbeleg;Angelegt am;Auftraggeber;Material;Auftragsmenge;Nettowert;Währung\n"
    "4711;01.03.2024;17850;85123A;6,000;15,30;EUR\n"
    "4712;04.03.2024;17851;71053;2,000;20,34;EUR\n"
)
SAP_MAP = [
    *("--map", "order_id=Verkaufsbeleg", "--map", "order_date=Angelegt am"),
    *("--map", "customer_id=Auftraggeber", "--map", "sku=Material"),
    *("--map", "quantity=Auftragsmenge", "--map", "amount=Nettowert"),
]


def test_validate_names_a_german_header_with_an_umlaut_as_the_column_it_looks_like(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "va05.csv").write_bytes(SAP_LIST.encode("cp1252"))
    result = cli("validate", "va05.csv", *SAP_MAP)
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain validate: not read, though they look like columns segchain reads: "
        "'Währung' (currency); add --map 'currency=Währung'\n" in result.stderr
    ), result.stderr


def test_a_header_is_squeezed_with_its_umlauts_and_accents_spelled_out() -> None:
    from segchain.config import _squeezed

    assert _squeezed("Währung") == "waehrung"
    assert _squeezed("Straße") == "strasse"
    assert _squeezed("Catégorie") == "categorie"
    assert _squeezed("Customer ID") == "customerid"


# ---- SAP's label of ERDAT is suggested for order_date -------------------------------------
# The sap preset reads AUDAT else ERDAT; HEADER_SYNONYMS had AUDAT's German label
# ('Belegdatum') but not ERDAT's, 'Angelegt am', which VA05 lists show: the hint said
# 'order_date has no such header'. VRKME's label 'VME' likewise for unit.


def test_validate_suggests_sap_s_created_on_label_for_order_date(cli, tmp_path: Path) -> None:
    (tmp_path / "va05.csv").write_bytes(SAP_LIST.encode("cp1252"))
    result = cli("validate", "va05.csv")
    assert result.exit_code == 1, result.stderr
    assert "--map 'order_date=Angelegt am'" in result.stderr, result.stderr
    assert "order_date has no such header" not in result.stderr, result.stderr


def test_validate_names_sap_s_sales_unit_label_as_unit(cli, tmp_path: Path) -> None:
    text = SAP_LIST.replace(";Währung\n", ";VME\n", 1).replace("EUR\n", "ST\n")
    (tmp_path / "va05.csv").write_bytes(text.encode("cp1252"))
    result = cli("validate", "va05.csv", *SAP_MAP)
    assert result.exit_code == 0, result.stderr
    assert "'VME' (unit); add --map unit=VME" in result.stderr, result.stderr


# ---- network says when transport is priced at the default rate -----------------------------
# On Online Retail as the README runs it (network --candidates 5, no rate given) transport was
# priced at 1 per unit and km: 561,673,551 for 4.9 million units (114 a unit, of goods sold at
# about 1.7), which costs then summed as money, cost to serve 6,783 % of revenue, without a
# word that no freight rate had been given.

DEFAULT_RATE = "transport is priced at the default 1 per unit of demand and km"


def test_network_says_transport_is_priced_at_the_default_rate(cli, tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli("network", "seg.csv", "--sites", "sites.csv", "-o", "a.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain network: {DEFAULT_RATE} (--cost-per-unit-km): transport " in result.stderr, (
        result.stderr
    )
    assert "for 22 units (" in result.stderr, result.stderr


def network_inputs(tmp_path: Path) -> None:
    """CUSTOMERS, SITES and each way to give a rate: --config c.toml, --costs lanes.csv."""
    (tmp_path / "seg.csv").write_text(CUSTOMERS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "c.toml").write_text("[network]\ncost_per_unit_km = 0.02\n")
    lanes = "".join(f"{s},{c},1\n" for s in ("S1", "S2") for c in ("C1", "C2", "C3"))
    (tmp_path / "lanes.csv").write_text("site_id,customer_id,unit_cost\n" + lanes)


@pytest.mark.parametrize(
    "how",
    [("--cost-per-unit-km", "0.02"), ("--config", "c.toml"), ("--costs", "lanes.csv")],
)
def test_network_says_nothing_of_the_rate_when_one_is_given(
    cli, tmp_path: Path, how: tuple[str, str]
) -> None:
    network_inputs(tmp_path)
    result = cli("network", "seg.csv", "--sites", "sites.csv", *how, "-o", "a.csv")
    assert result.exit_code == 0, result.stderr
    assert DEFAULT_RATE not in result.stderr, result.stderr


# ---- network's hint for customers without a location names the columns segment reads --------
# The Complete Journey's transactions carry no place at all: network said 'missing required
# columns lat, lon' with the hint 'segments keep lat, lon when the orders have them', as if
# only coordinates would do, where segment locates customers from a postal code, city or
# country too (the way an export usually gives the place: Online Retail's Country).


def test_network_hint_for_unlocated_customers_names_the_columns_segment_locates_by(
    cli, tmp_path: Path
) -> None:
    (tmp_path / "seg.csv").write_text("customer_id,segment,quantity\nC1,A,10\nC2,B,5\n")
    result = cli("network", "seg.csv", "--candidates", "1", "-o", "a.csv")
    assert result.exit_code == 1, result.stderr
    hint = result.stderr.split("hint:", 1)[1]
    for word in ("postal code, city or country", "--map country=HEADER", "--costs FILE"):
        assert word in hint, result.stderr


# ---- forecast says when the orders end early in their last period ----------------------------
# The Complete Journey's transactions end on Monday 2018-01-01 at 04:01: that week holds 525
# product lines against about 28,000 a week, and counted as a whole week of demand in every
# series. Forecast without a word; cut at 2017-12-31 the same run forecast 36,163 units a week
# (the COUPON/MISC ITEMS category aside), with the unfinished week 27,756 (-23 %).


def _weekly_orders(last_day: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    import datetime as dt

    start = dt.date(2024, 1, 1)  # a Monday
    days = [start + dt.timedelta(days=d) for d in range(0, 12 * 7)]
    rows = [(f"O{i}", day, f"C{i % 3}", "A", 2.0) for i, day in enumerate(days)]
    rows.append(("LAST", dt.date.fromisoformat(last_day), "C0", "A", 2.0))
    orders = pl.DataFrame(
        rows, schema=["order_id", "order_date", "customer_id", "sku", "quantity"], orient="row"
    )
    segments = pl.DataFrame({"customer_id": ["C0", "C1", "C2"], "segment": ["S", "S", "T"]})
    return orders, segments


def test_forecast_series_say_the_last_period_is_unfinished() -> None:
    from segchain.forecast.series import build_series

    orders, segments = _weekly_orders("2024-03-25")  # Monday: day 1 of the week of 03-25
    warnings = build_series(orders, segments, freq="W").warnings
    said = [w for w in warnings if "unfinished" in w]
    assert said, warnings
    assert "the orders end on 2024-03-25, day 1 of 7 of the week of 2024-03-25" in said[0]
    assert "1 order line in it against 7 a week over the 8 weeks before" in said[0], said[0]


@pytest.mark.parametrize("last_day", ["2024-03-24", "2024-03-28"])  # Sunday; Thursday, 4 of 7
def test_forecast_series_say_nothing_of_a_last_period_mostly_covered(last_day: str) -> None:
    from segchain.forecast.series import build_series

    orders, segments = _weekly_orders(last_day)
    warnings = build_series(orders, segments, freq="W").warnings
    assert not [w for w in warnings if "unfinished" in w], warnings


# ---- a preset that finds none of its headers says so ---------------------------------------
# An SAP list saved with its screen's German labels, read with --preset sap (the README's
# example for SAP), failed exactly as without it, the hint suggesting --map for each label and
# never saying that the preset had found nothing: it reads SAP's field names (VBELN, KUNNR,
# ...), which such a list does not carry.


def test_a_preset_that_finds_none_of_its_headers_says_so(cli, tmp_path: Path) -> None:
    (tmp_path / "va05.csv").write_bytes(SAP_LIST.encode("cp1252"))
    result = cli("validate", "va05.csv", "--preset", "sap")
    assert result.exit_code == 1, result.stderr
    hint = result.stderr.split("hint:", 1)[1]
    assert hint.startswith(
        " the preset sap finds none of the headers it reads here (VBELN, AUDAT, ERDAT, KUNNR, "
        "MATNR, KWMENG, NETWR); "
    ), result.stderr
    assert "--map order_id=Verkaufsbeleg" in hint, result.stderr  # the labels' hint follows


def test_a_preset_that_finds_some_of_its_headers_says_nothing_of_it(cli, tmp_path: Path) -> None:
    text = SAP_LIST.replace("Verkaufsbeleg;", "VBELN;", 1)
    (tmp_path / "va05.csv").write_bytes(text.encode("cp1252"))
    result = cli("validate", "va05.csv", "--preset", "sap")
    assert result.exit_code == 1, result.stderr
    assert "finds none of the headers" not in result.stderr, result.stderr


# ---- stock --on-hand orders nothing for a sku forecast no demand -----------------------------
# On Superstore by product 73 of 1,862 stocking points are forecast no demand (Online Retail:
# 873 of 3,676, skus no longer sold); planned as (s, Q) with s 0 and Q one pack, each ordered a
# unit with nothing on hand (position 0 <= s), so the report's reorder list would buy every
# item nobody is forecast to buy. Such a point orders only what it owes, as an on-hand point
# without demand (no_demand) does.

FLAT_FORECAST = "unique_id,ds,forecast,error_sd,sku\n" + "".join(
    f"A,2024-01-{d:02d},10,3,A\nZ,2024-01-{d:02d},0,0,Z\n" for d in (1, 8, 15, 22)
)


@pytest.mark.parametrize(("backorders", "owed"), [(0, 0.0), (2, 2.0)])
def test_stock_orders_for_a_sku_forecast_no_demand_only_what_it_owes(
    cli, tmp_path: Path, backorders: int, owed: float
) -> None:
    (tmp_path / "fc.csv").write_text(FLAT_FORECAST)
    (tmp_path / "oh.csv").write_text(f"sku,on_hand,backorders\nA,0,0\nZ,0,{backorders}\n")
    for policy in ("sQ", "RS"):
        result = cli("stock", "fc.csv", "--on-hand", "oh.csv", "--policy", policy, "-o", "p.csv")
        assert result.exit_code == 0, result.stderr
        order_now = dict(pl.read_csv(tmp_path / "p.csv").select("sku", "order_now").iter_rows())
        assert order_now["Z"] == owed, (policy, order_now)
        assert order_now["A"] > 0, (policy, order_now)  # 10 a week with nothing on hand


# ---- dotted dates follow --date-format, and a column only month-first is read so -----------
# The SAP-like export run with --date-format month-first said 'dates: month-first (from
# --date-format)' and read every dd.mm.yyyy date day first all the same: the day order applied
# to dates with slashes only. So a dotted export written month first (03.25.2024) lost every
# line whose day is above 12 (bad_date) and read 04.01.2024 as 4 January, with or without the
# option that the README says overrides the order.

US_DOTTED = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,03.25.2024,C1,A,1,2\n2,03.26.2024,C1,A,1,2\n3,04.01.2024,C1,A,1,2\n"
)


@pytest.mark.parametrize("option", [[], ["--date-format", "month-first"]])
def test_dotted_dates_written_month_first_are_read_month_first(
    cli, tmp_path: Path, option: list[str]
) -> None:
    import datetime as dt

    (tmp_path / "us.csv").write_text(US_DOTTED)
    result = cli("validate", "us.csv", *option, "-o", "o.parquet")
    assert result.exit_code == 0, result.stderr
    dates = pl.read_parquet(tmp_path / "o.parquet")["order_date"].to_list()
    assert dates == [dt.date(2024, 3, 25), dt.date(2024, 3, 26), dt.date(2024, 4, 1)], result.stderr
    assert "month-first" in result.stderr, result.stderr


@pytest.mark.parametrize("option", [[], ["--date-format", "day-first"]])
def test_dotted_dates_are_read_day_first_as_before(cli, tmp_path: Path, option: list[str]) -> None:
    import datetime as dt

    text = US_DOTTED.replace("03.25.2024", "25.03.2024").replace("03.26.2024", "01.03.2024")
    (tmp_path / "de.csv").write_text(text)
    result = cli("validate", "de.csv", *option, "-o", "o.parquet")
    assert result.exit_code == 0, result.stderr
    dates = pl.read_parquet(tmp_path / "o.parquet")["order_date"].to_list()
    assert dates == [dt.date(2024, 3, 25), dt.date(2024, 3, 1), dt.date(2024, 1, 4)], result.stderr


# ---- stock: 'none of them short', not '0 of them short' ----------------------------------
# The Complete Journey by product category: '8 slow or lumpy stocking points took their level
# from the bootstrap of their order history (...); 0 of them held at that largest demand'.


def test_stock_says_none_of_the_bootstrapped_points_is_held_at_the_history_s_largest() -> None:
    import datetime as dt

    from segchain.stock import stock

    monday = dt.date(2024, 1, 1)
    # The forecast follows the 40 weeks of history, as forecast's output does.
    weeks = [monday + dt.timedelta(weeks=40 + i) for i in range(4)]
    # A tiny, over-dispersed forecast (the fit asks for far more than the history shows) of two
    # skus that sold 2 every other week and 40 once: the bootstrap meets a 0.6 target well
    # below the largest two-week demand, 42, where both are held, so neither is short.
    forecast = pl.concat(
        [
            pl.DataFrame({"sku": s, "ds": weeks, "forecast": 0.05, "error_sd": 40.0})
            for s in ("A", "B")
        ]
    )
    lines = [(s, w, 2.0) for s in ("A", "B") for w in range(0, 40, 2)]
    lines += [("A", 5, 40.0), ("B", 7, 40.0)]
    orders = pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(lines))],
            "order_date": [monday + dt.timedelta(weeks=w, days=2) for _, w, _ in lines],
            "customer_id": "C1",
            "sku": [s for s, _, _ in lines],
            "quantity": [q for _, _, q in lines],
        }
    )
    items = pl.DataFrame({"sku": ["A", "B"], "lead_time_days": [7.0, 7.0]})
    result = stock(forecast, orders=orders, items=items, review_days=7, service_level=0.6)
    assert result.policy["demand_model"].to_list() == ["bootstrap", "bootstrap"]
    assert not result.policy["capped"].any()
    (note,) = [n for n in result.notes if n.startswith("2 slow or lumpy")]
    assert note.endswith("; none of them short of their target there"), note


def test_a_stray_dotted_date_that_can_only_be_month_first_does_not_turn_the_column(
    cli, tmp_path: Path
) -> None:
    import datetime as dt

    # 20 German dates, every day 12 or less, and one typo for 13.05.2024.
    days = [f"{d:02d}.{m:02d}.2024" for m in (1, 2) for d in range(1, 11)] + ["05.13.2024"]
    lines = "".join(f"{i},{day},C1,A,1,2\n" for i, day in enumerate(days))
    (tmp_path / "de.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n" + lines
    )
    result = cli("validate", "de.csv", "-o", "o.parquet")
    assert result.exit_code == 0, result.stderr
    assert "bad_date 1" in result.stderr, result.stderr
    dates = pl.read_parquet(tmp_path / "o.parquet")["order_date"].to_list()
    assert dates[:2] == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)], dates[:2]
