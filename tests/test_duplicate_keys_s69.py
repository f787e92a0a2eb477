"""Session 69: one table key given on more than one row is said one way by every table.

It was said three ways and more: `stock --items` 'duplicate sku 'P1'', network's --sites
'duplicate site_id 'X': one row per site expected', costs 'sku listed more than once: 'P1'',
assignments 'a customer and site appear in more than one row: 'C0 at W1'', stock's FORECAST
'1 period of a series on more than one row: 'P1 at 2024-01-01''; only the customers tables
named the rows and said what to do. Now every table with a key says how many keys, which, on
which rows (1 = the first data row), its key's columns joined by '@', and the hint starts with
what to do: exit 1, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ORDERS = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-{1 + i % 12:02d}-01,C{i % 2},P{i % 2},{1 + i % 3},5\n" for i in range(24)
)
SEGMENTS = "customer_id,segment,quantity,lat,lon\nC0,A,10,52.5,13.4\nC1,B,5,48.9,2.3\n"
SITES = "site_id,lat,lon,fixed_cost\nS1,52.5,13.4,100\nS2,48.9,2.3,100\n"
FORECAST = "unique_id,sku,ds,forecast,error_sd\nP0,P0,2024-01-01,5,1\nP0,P0,2024-01-08,5,1\n"
ASSIGNMENTS = "customer_id,segment,site_id,share,demand,transport_cost\nC0,A,S1,1,10,5\n"

# Each table with a key: the command, its arguments ({bad}: the table holding a key twice), the
# table given twice, how the message names it, the key's columns and the key repeated with its
# rows. Every row repeated is an exact copy, the plainest duplicate.
CASES = {
    "segment --previous": (
        ["segment", "orders.csv", "--previous", "{bad}"],
        SEGMENTS + "C0,A,10,52.5,13.4\n",
        "--previous bad.csv",
        "customer_id",
        "'C0' (rows 1, 3)",
    ),
    "forecast SEGMENTS": (
        ["forecast", "{bad}", "--orders", "orders.csv"],
        SEGMENTS + "C1,B,5,48.9,2.3\n",
        "SEGMENTS bad.csv",
        "customer_id",
        "'C1' (rows 2, 3)",
    ),
    "forecast --assignments": (
        ["forecast", "seg.csv", "--orders", "orders.csv", "--assignments", "{bad}"],
        ASSIGNMENTS + "C1,B,S2,1,5,5\nC0,A,S1,1,10,5\n",
        "--assignments bad.csv",
        "customer_id@site_id",
        "'C0@S1' (rows 1, 3)",
    ),
    "stock FORECAST": (
        ["stock", "{bad}"],
        FORECAST + "P0,P0,2024-01-01,5,1\n",
        "FORECAST bad.csv",
        "unique_id@ds",
        "'P0@2024-01-01' (rows 1, 3)",
    ),
    "stock --items": (
        ["stock", "fc.csv", "--items", "{bad}"],
        "sku,unit_cost\nP0,2\nP9,1\nP0,2\n",
        "--items bad.csv",
        "sku",
        "'P0' (rows 1, 3)",
    ),
    # A forecast without sites reads the items' rows without a site: rows named as in the file.
    "stock --items with sites, forecast without": (
        ["stock", "fc.csv", "--items", "{bad}"],
        "sku,site,unit_cost\nP0,S1,2\nP0,,2\nP9,,1\nP0,,3\n",
        "--items bad.csv",
        "sku",
        "'P0' (rows 2, 4)",
    ),
    "stock --segments": (
        ["stock", "fc.csv", "--orders", "orders.csv", "--segments", "{bad}"],
        SEGMENTS + "C0,A,10,52.5,13.4\n",
        "--segments bad.csv",
        "customer_id",
        "'C0' (rows 1, 3)",
    ),
    "network CUSTOMERS": (
        ["network", "{bad}", "--sites", "sites.csv"],
        SEGMENTS + "C0,A,10,52.5,13.4\n",
        "CUSTOMERS bad.csv",
        "customer_id",
        "'C0' (rows 1, 3)",
    ),
    "network --sites": (
        ["network", "seg.csv", "--sites", "{bad}"],
        SITES + "S1,52.5,13.4,100\n",
        "--sites bad.csv",
        "site_id",
        "'S1' (rows 1, 3)",
    ),
    "network --costs": (
        ["network", "seg.csv", "--sites", "sites.csv", "--costs", "{bad}"],
        "site_id,customer_id,unit_cost\nS1,C0,1\nS1,C1,2\nS2,C0,2\nS2,C1,1\nS2,C0,2\n",
        "--costs bad.csv",
        "site_id@customer_id",
        "'S2@C0' (rows 3, 5)",
    ),
    "costs SEGMENTS": (
        ["costs", "{bad}", "--orders", "orders.csv"],
        SEGMENTS + "C0,A,10,52.5,13.4\n",
        "SEGMENTS bad.csv",
        "customer_id",
        "'C0' (rows 1, 3)",
    ),
    "costs --policy": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--policy", "{bad}"],
        "sku,inventory_value\nP0,100\nP1,50\nP0,100\n",
        "--policy bad.csv",
        "sku",
        "'P0' (rows 1, 3)",
    ),
    "costs --stock-segments": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--policy", "policy.csv"]
        + ["--stock-segments", "{bad}"],
        "sku,segment,inventory_value\nP0,A,60\nP0,B,40\nP0,A,60\n",
        "--stock-segments bad.csv",
        "sku@segment",
        "'P0@A' (rows 1, 3)",
    ),
    "costs --forecast": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--policy", "policy.csv"]
        + ["--forecast", "{bad}"],
        "unique_id,ds,segment,sku,forecast\nA/P0,2024-04-01,A,P0,6\nA/P0,2024-04-08,A,P0,6\n"
        "A/P0,2024-04-01,A,P0,6\n",
        "--forecast bad.csv",
        "unique_id@ds",
        "'A/P0@2024-04-01' (rows 1, 3)",
    ),
    "costs --sites": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--assignments", "asg.csv"]
        + ["--sites", "{bad}"],
        "site_id,open,fixed_cost\nS1,true,100\nS1,true,100\n",
        "--sites bad.csv",
        "site_id",
        "'S1' (rows 1, 2)",
    ),
    "costs --items": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--items", "{bad}"],
        "sku,site,unit_cost\nP0,S1,2\nP0,S2,2\nP0,S1,3\n",
        "--items bad.csv",
        "sku@site",
        "'P0@S1' (rows 1, 3)",
    ),
    "costs --assignments": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--assignments", "{bad}"],
        ASSIGNMENTS + "C1,B,S2,1,5,5\nC1,B,S2,1,5,5\n",
        "--assignments bad.csv",
        "customer_id@site_id",
        "'C1@S2' (rows 2, 3)",
    ),
}


def _inputs(folder: Path) -> None:
    files = {
        "orders.csv": ORDERS,
        "seg.csv": SEGMENTS,
        "sites.csv": SITES,
        "fc.csv": FORECAST,
        "asg.csv": ASSIGNMENTS + "C1,B,S2,1,5,5\n",
        "policy.csv": "sku,inventory_value\nP0,100\nP1,50\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)


@pytest.mark.parametrize("case", list(CASES))
def test_every_table_with_a_key_refuses_a_key_twice_in_one_form(cli, tmp_path: Path, case):
    args, bad, source, key, repeated = CASES[case]
    _inputs(tmp_path)
    (tmp_path / "bad.csv").write_text(bad)
    (tmp_path / "o.csv").write_text("earlier run\n")
    result = cli(*[a.replace("{bad}", "bad.csv") for a in args], "-o", "o.csv")
    command = args[0]
    assert result.exit_code == 1, result.stderr
    # The orders' reading summary may come first (forecast and stock read them before).
    lines = result.stderr.splitlines()
    first = next(i for i, line in enumerate(lines) if ": Error: " in line)
    error, hint = lines[first:]
    # The duplicate is the table's only problem: its message is this one, whole.
    assert error == (
        f"segchain {command}: Error: {source}: 1 {key} is on more than one row: {repeated}"
    )
    assert hint.startswith(
        f"segchain {command}:   hint: keep one row per {key}: remove or merge the repeated rows"
    )
    assert "Traceback" not in result.stderr
    assert (tmp_path / "o.csv").read_text() == "earlier run\n"


def test_keys_twice_are_counted_and_named_with_their_rows_in_one_message() -> None:
    """Two keys, one of them three times, and blank ids refused apart: counted by hand."""
    import polars as pl

    from segchain.schema import duplicate_keys

    df = pl.DataFrame(
        {"sku": ["A", "B", "A", " ", "B", "A", None, ""], "site": ["S"] * 8},
    )
    assert duplicate_keys(df, ["sku", "site"], blank_apart=["sku"]) == [
        "2 sku@sites are on more than one row: 'A@S' (rows 1, 3, 6), 'B@S' (rows 2, 5)"
    ]
    # Without blank_apart a blank key is a value as any other, shown as (blank).
    assert duplicate_keys(df.head(5).with_columns(pl.lit("S").alias("site")), ["sku"]) == [
        "2 skus are on more than one row: 'A' (rows 1, 3), 'B' (rows 2, 5)"
    ]
    assert duplicate_keys(pl.DataFrame({"sku": [None, ""]}), ["sku"]) == [
        "1 sku is on more than one row: '(blank)' (rows 1, 2)"
    ]


def test_ids_kept_apart_as_written_are_two_keys(cli, tmp_path: Path) -> None:
    """'P1' and ' P1', which the reading of ids keeps as written (trimmed they would be one id,
    and says so), are two keys as the stage joins them: stock took them so, costs refused them
    as 'sku listed more than once: 'P1'' and the customers tables as one customer twice."""
    import polars as pl

    from segchain.schema import duplicate_keys

    assert duplicate_keys(pl.DataFrame({"sku": ["P1", " P1"]}), ["sku"]) == []
    _inputs(tmp_path)
    (tmp_path / "items.csv").write_text("sku,unit_cost\nP0,2\n P0,3\n")
    args = ["seg.csv", "--orders", "orders.csv", "--items", "items.csv", "-o", "o.csv"]
    result = cli("costs", *args)
    assert result.exit_code == 0, result.stderr
    assert "' P0' would be one id with 'P0', which the table holds too" in result.stderr
