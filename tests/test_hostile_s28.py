"""Session 28: leftovers of the hostile-input sweeps (empty path names, copies, plurals)."""

from __future__ import annotations

from pathlib import Path

import pytest

HINT = "an unset shell variable gives an empty name; give the file's path"
HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["validate", "a.csv", "--config", ""], "--config"),
        (["segment", "a.csv", "--config", ""], "--config"),
        (["forecast", "s.csv", "--orders", "a.csv", "--config", ""], "--config"),
        (["stock", "f.csv", "--config", ""], "--config"),
        (["network", "s.csv", "--config", ""], "--config"),
        (["costs", "s.csv", "--orders", "a.csv", "--config", ""], "--config"),
    ],
)
def test_an_empty_config_name_is_a_usage_error(cli, tmp_path: Path, args, option) -> None:
    """Typer turns a Path option's '' into '.': '--config ""' said '--config .: is a folder'."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain {args[0]}: Error: {option}: the file name is empty\n"
        f"segchain {args[0]}:   hint: {HINT}\n"
    )
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["segment", "a.csv", "-o", ""], "-o"),
        (["validate", "a.csv", "--rejects", "", "-o", "o.csv"], "--rejects"),
        (["segment", "a.csv", "--profile", "", "-o", "o.csv"], "--profile"),
        (["forecast", "s.csv", "--orders", "a.csv", "--backtest", "", "-o", "o.csv"], "--backtest"),
        (["network", "s.csv", "--sites-out", "", "-o", "o.csv"], "--sites-out"),
        (["stock", "f.csv", "--segments-out", "", "-o", "o.csv"], "--segments-out"),
        (["report", "s.csv", "-o", ""], "-o"),
    ],
)
def test_an_empty_output_name_says_how_to_fix_it(cli, tmp_path: Path, args, option) -> None:
    """An empty output name was refused without the hint that an empty input name has."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    (tmp_path / "s.csv").write_text("customer_id,segment\nC1,A\n")
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain {args[0]}: Error: {option}: the file name is empty\n"
        f"segchain {args[0]}:   hint: {HINT}\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_sample_refuses_an_empty_folder_name(cli, tmp_path: Path) -> None:
    """'sample -o ""' (Path('') is '.') wrote its six files into the working folder, over any
    orders.csv there."""
    (tmp_path / "orders.csv").write_text("mine\n")
    result = cli("sample", "-o", "", "--customers", "2", "--skus", "1", "--years", "1")
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain sample: Error: -o: the folder name is empty\n"
        "segchain sample:   hint: an unset shell variable gives an empty name; give the "
        "folder's path, e.g. -o data\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]
    assert (tmp_path / "orders.csv").read_text() == "mine\n"


SITES = "site_id,lat,lon,fixed_cost\nW1,52.5,13.4,100\n"


@pytest.mark.parametrize(
    ("customers", "error", "hint"),
    [
        (
            # A customer twice is refused on its own, before these (test_hostile_s30).
            "customer_id,segment,quantity,lat,lon\nA,X,10,52,13\nB,X,abc,95,13\n",
            "CUSTOMERS c.csv: quantity is blank or not a number for customer_id 'B' ('abc'); lat "
            "outside [-90, 90]: 95.0 for customer_id 'B' (are lat and lon swapped?)",
            "give each customer one row with a customer_id, a quantity that is a number up to "
            "1e15, and lat within [-90, 90], lon within [-180, 180] (segchain segment writes "
            "such a table); fix or remove the rows named",
        ),
        (
            "customer_id,segment,quantity,lat,lon\nA,X,0,52,13\n",
            "CUSTOMERS c.csv: no customer to assign: the one customer with coordinates has no "
            "positive demand",
            "network serves each customer's net quantity (sales less returns): check the "
            "quantity column, or give the segments of a period with sales",
        ),
        (
            "customer_id,segment,quantity,lat,lon\n",
            "CUSTOMERS c.csv: no customer to assign (the table is empty)",
            "give the segments that segchain segment wrote (one row per customer)",
        ),
    ],
)
def test_network_customer_errors_say_how_to_fix_them(
    cli, tmp_path: Path, customers, error, hint
) -> None:
    """These customer errors of network had no hint."""
    (tmp_path / "c.csv").write_text(customers)
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli("network", "c.csv", "--sites", "sites.csv", "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain network: Error: {error}\nsegchain network:   hint: {hint}\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_network_lane_errors_say_how_to_fix_them(cli, tmp_path: Path) -> None:
    """A --costs file with a lane twice or a blank unit_cost had no hint."""
    (tmp_path / "c.csv").write_text("customer_id,segment,quantity,lat,lon\nA,X,10,52,13\n")
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "lanes.csv").write_text("site_id,customer_id,unit_cost\nW1,A,1\nW1,A,2\nW1,B,\n")
    result = cli("network", "c.csv", "--sites", "sites.csv", "--costs", "lanes.csv")
    assert result.exit_code == 1
    # The lane twice is told what to do first, as every table's key twice is (session 69).
    assert result.stderr.endswith(
        "segchain network:   hint: keep one row per site_id@customer_id: remove or merge the "
        "repeated rows; give each lane (site_id, customer_id) one row with a unit_cost from 0 "
        "to 1e15 (and a distance_km from 0 to 1e15, or empty for the great-circle distance)\n"
    )


SEGMENTS = "customer_id,segment,quantity,lat,lon\nA,X,10,52,13\n"


@pytest.mark.parametrize(
    ("args", "file", "text", "message"),
    [
        (
            ["network", "s.csv", "--sites", "bad.csv"],
            "bad.csv",
            "",
            "--sites bad.csv: the file is empty",
        ),
        (
            ["network", "s.csv", "--sites", "sites.csv", "--costs", "bad.csv"],
            "bad.csv",
            "site_id,site_id,unit_cost\nW1,W1,1\n",
            "--costs bad.csv: the header names a column twice: 'site_id' in columns 1, 2",
        ),
        (
            ["segment", "a.csv", "--previous", "bad.csv"],
            "bad.csv",
            "",
            "--previous bad.csv: the file is empty",
        ),
    ],
)
def test_a_bad_file_of_an_option_is_named_with_its_option(
    cli, tmp_path: Path, args, file, text, message
) -> None:
    """'empty.csv: the file is empty' did not say which of a command's inputs it was, while a
    missing one was '--sites x.csv: no such file'."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    (tmp_path / "s.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / file).write_text(text)
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 1
    assert f"segchain {args[0]}: Error: {message}\n" in result.stderr
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("customers", "sites", "message"),
    [
        (
            SEGMENTS,
            "site_id;lat;lon\nW1;52,5 N;13,4 E\n",
            "--sites sites.csv: column 'lat' holds 1 value that is not a number: '52,5 N' for "
            "site_id 'W1'; column 'lon' holds 1 value that is not a number: '13,4 E' for "
            "site_id 'W1'",
        ),
        (
            SEGMENTS,
            "site_id,lat,lon,fixed_cost,capacity\nW1,52.5,13.4,abc,xyz\n",
            "--sites sites.csv: column 'fixed_cost' holds 1 value that is not a number: 'abc' "
            "for site_id 'W1'; column 'capacity' holds 1 value that is not a number: 'xyz' for "
            "site_id 'W1'",
        ),
        (
            "customer_id;segment;quantity;lat;lon\nA;X;10;52,5 N;13,4 E\n",
            SITES,
            "CUSTOMERS c.csv: column 'lat' holds 1 value that is not a number: '52,5 N' for "
            "customer_id 'A'; column 'lon' holds 1 value that is not a number: '13,4 E' for "
            "customer_id 'A'",
        ),
    ],
)
def test_network_coordinates_that_are_not_numbers_are_named(
    cli, tmp_path: Path, customers, sites, message
) -> None:
    """A sites file's coordinates that are no numbers were refused as 'no coordinates (lat,
    lon) for site_id 'W1''; a customer's, as 'has no coordinates'; a fixed_cost 'abc' was
    taken as 0 and a capacity 'xyz' as unlimited, without a word. (A ';' file's decimal commas,
    52,5, are read since session 48: tests/test_hostile_s48.py.)"""
    (tmp_path / "c.csv").write_text(customers)
    (tmp_path / "sites.csv").write_text(sites)
    result = cli("network", "c.csv", "--sites", "sites.csv", "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain network: Error: {message}\n"
        "segchain network:   hint: write plain numbers (12.5, or 12,5 with a decimal comma; no "
        "units, currency or spaces), or leave a value empty\n"
    )


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (
            ["network", "a.csv", "--sites", "sites.csv"],
            "CUSTOMERS a.csv: holds order lines (by its columns), not the expected segments "
            "(segchain segment)",
            "give segment's output (or a table of customer_id, demand, lat, lon) as CUSTOMERS",
        ),
        (
            ["forecast", "s.csv", "--orders", "a.csv", "--assignments", "a.csv"],
            "--assignments a.csv: holds order lines (by its columns), not the expected "
            "assignments (segchain network)",
            "give --assignments the table that segchain network -o writes",
        ),
        (
            ["segment", "a.csv", "--previous", "a.csv"],
            "--previous a.csv: holds order lines (by its columns), not the expected segments "
            "(segchain segment)",
            "give --previous the table that segchain segment -o wrote last time",
        ),
        (
            # An order export as forecast's SEGMENTS was refused as '1 customer_id is on more
            # than one row' (session 30).
            ["forecast", "a.csv", "--orders", "b.csv"],
            "SEGMENTS a.csv: holds order lines (by its columns), not the expected segments "
            "(segchain segment)",
            "give segment's output (or a table of customer_id, segment) as SEGMENTS",
        ),
        (
            # stock said 'forecast: missing required columns ds, forecast, error_sd; found
            # order_id, ...': neither the file nor what it holds (session 34).
            ["stock", "a.csv"],
            "FORECAST a.csv: holds order lines (by its columns), not the expected forecast "
            "(segchain forecast)",
            "give forecast's output (or a table of sku, ds, forecast, error_sd) as FORECAST",
        ),
    ],
)
def test_another_table_given_for_an_input_is_named(cli, tmp_path: Path, args, message, hint):
    """'customers: missing required column customer_id; found unique_id, ds, ...' and the like
    had no hint; costs already says what the table is and what it wants."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n1,2024-03-01,C1,B,1,2\n")
    (tmp_path / "b.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    (tmp_path / "s.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"segchain {args[0]}: Error: {message}\nsegchain {args[0]}:   hint: {hint}\n"
    )
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["network", "-", "--sites", "sites.csv"],
            "CUSTOMERS <stdin>: holds order lines (by its columns)",
        ),
        (["stock", "-"], "FORECAST <stdin>: holds order lines (by its columns)"),
        (
            ["costs", "-", "--orders", "b.csv"],
            "SEGMENTS <stdin>: holds order lines (by its columns)",
        ),
        (["forecast", "-", "--orders", "b.csv"], "SEGMENTS <stdin>: holds order lines"),
    ],
)
def test_a_commands_input_read_from_stdin_is_named_stdin(cli, tmp_path: Path, args, message):
    """'CUSTOMERS -: holds order lines': stdin is '<stdin>' in every other message."""
    (tmp_path / "b.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    (tmp_path / "sites.csv").write_text(SITES)
    export = HEADER + "1,2024-03-01,C1,A,1,2\n1,2024-03-01,C1,B,1,2\n"
    result = cli(*args, "-o", "o.csv", input=export)
    assert result.exit_code == 1
    assert f"segchain {args[0]}: Error: {message}" in result.stderr
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (
            ["stock", "t.csv"],
            "FORECAST t.csv: missing required columns sku, ds, forecast, error_sd; found sku_no",
            "pass the output of `segchain forecast` (or any table with these columns)",
        ),
        (
            ["network", "t.csv", "--sites", "sites.csv"],
            "CUSTOMERS t.csv: missing required column customer_id; found sku_no",
            "give segment's output (or a table of customer_id, demand, lat, lon) as CUSTOMERS",
        ),
        (
            ["forecast", "t.csv", "--orders", "b.csv"],
            "SEGMENTS t.csv: missing required columns customer_id, segment; found sku_no",
            "give the segments that segchain segment wrote (one row per customer)",
        ),
        (
            ["costs", "t.csv", "--orders", "b.csv"],
            "SEGMENTS t.csv: missing required columns customer_id, segment; found sku_no",
            "give the segments that segchain segment wrote (one row per customer)",
        ),
    ],
)
def test_a_stage_names_its_input_by_argument_and_file(cli, tmp_path: Path, args, message, hint):
    """'forecast: missing required columns ...', 'customers: ...', 'segments: ...' (without a
    hint): the stage's word for the table, not the file, where README promises its path."""
    (tmp_path / "t.csv").write_text("sku_no\n1\n")
    (tmp_path / "b.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    (tmp_path / "sites.csv").write_text(SITES)
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"segchain {args[0]}: Error: {message}\nsegchain {args[0]}:   hint: {hint}\n"
    )
    assert not (tmp_path / "o.csv").exists()


# An export and a segments table that carry every column a postal-code table needs.
PLACED_ORDERS = HEADER.replace("\n", ",postal_code,country,lat,lon\n") + (
    "1,2024-03-01,C1,A,1,2,10115,DE,52.53,13.38\n"
)
PLACED_SEGMENTS = (
    "customer_id,segment,segment_rank,postal_code,country,lat,lon\nC1,X,1,10115,DE,52,13\n"
)


@pytest.mark.parametrize(
    ("args", "geo", "text", "holds"),
    [
        (["segment", "a.csv"], "o2.csv", PLACED_ORDERS, "order lines"),
        (["network", "s.csv", "--sites", "sites.csv"], "o2.csv", PLACED_ORDERS, "order lines"),
        (
            ["network", "s.csv", "--sites", "sites.csv"],
            "s2.csv",
            PLACED_SEGMENTS,
            "segments (segchain segment)",
        ),
    ],
)
def test_another_table_given_as_geo_is_refused(cli, tmp_path: Path, args, geo, text, holds):
    """An order export or a segments table with postal_code, country, lat, lon given as --geo
    was read as a postal-code table without a word (each code placed at the mean of its
    lines' coordinates), where --items and --on-hand refuse another table."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n2,2024-03-02,C2,A,1,2\n")
    (tmp_path / "s.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / geo).write_text(text)
    result = cli(*args, "--geo", geo, "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"segchain {args[0]}: Error: --geo {geo}: holds {holds} (by its columns), not a "
        "postal-code table\n"
        f"segchain {args[0]}:   hint: give --geo a table of postal codes with their latitude, "
        "longitude (and country), or the GeoNames postal dump\n"
    )
    assert not (tmp_path / "o.csv").exists()


FORECAST = "unique_id,ds,forecast,error_sd,sku,segment\nA/S,2025-01-06,5,1,S,A\n"


@pytest.mark.parametrize(
    ("option", "message", "hint"),
    [
        (
            "--on-hand",
            "--on-hand a.csv: holds order lines (by its columns), not stock on hand",
            "give the stock on hand: one row per sku (and site) with on_hand",
        ),
        (
            "--items",
            "--items a.csv: holds order lines (by its columns), not an item master",
            "give the item master: one row per sku (and site) with its costs and lead times",
        ),
    ],
)
def test_stock_refuses_order_lines_as_items_or_on_hand(cli, tmp_path: Path, option, message, hint):
    """An order export given as --on-hand had its quantities taken for stock on hand (sku S: 1
    unit on hand), and as --items every item's defaults used, without a word."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,S,1,2\n")
    (tmp_path / "f.csv").write_text(FORECAST)
    result = cli("stock", "f.csv", option, "a.csv", "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"segchain stock: Error: {message}\nsegchain stock:   hint: {hint}\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_costs_refuses_order_lines_as_items(cli, tmp_path: Path) -> None:
    """An order export given as --items said 'items: sku@site listed more than once'."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,S,1,2\n2,2024-03-02,C1,S,1,2\n")
    (tmp_path / "s.csv").write_text(SEGMENTS.replace("A,X", "C1,X"))
    result = cli("costs", "s.csv", "--orders", "a.csv", "--items", "a.csv", "-o", "o.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "segchain costs: Error: --items a.csv: holds order lines (by its columns), not an item "
        "master\nsegchain costs:   hint: give the item master: one row per sku (and site) with "
        "its costs and lead times\n"
    )


def test_network_lanes_without_their_columns_say_what_a_lane_is(cli, tmp_path: Path) -> None:
    """'costs: missing required columns site_id, unit_cost; found ...' had no hint."""
    (tmp_path / "c.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "lanes.csv").write_text("customer_id,cost\nA,1\n")
    result = cli("network", "c.csv", "--sites", "sites.csv", "--costs", "lanes.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        "segchain network: Error: --costs lanes.csv: missing required columns site_id, "
        "unit_cost; found customer_id, cost\n"
        "segchain network:   hint: give --costs one row per lane: site_id, customer_id, "
        "unit_cost (a unit's freight from the site to the customer), optionally distance_km\n"
    )


def test_an_output_named_gz_is_written_gzipped(cli, tmp_path: Path) -> None:
    """'-o segments.csv.gz' wrote plain CSV under a .gz name: zcat and pandas refused it."""
    import gzip

    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n2,2024-03-05,C2,A,2,2\n")
    assert cli("segment", "a.csv", "-o", "plain.csv").exit_code == 0
    runs = []
    for _ in range(2):  # the same bytes on a rerun: no time or temporary name in the header
        result = cli("segment", "a.csv", "-o", "seg.csv.gz")
        assert result.exit_code == 0, result.stderr
        runs.append((tmp_path / "seg.csv.gz").read_bytes())
    assert runs[0][:2] == b"\x1f\x8b"
    assert gzip.decompress(runs[0]) == (tmp_path / "plain.csv").read_bytes()
    assert runs[0] == runs[1]
    result = cli("segment", "a.csv", "-o", "seg.parquet.gz")
    assert result.exit_code == 0, result.stderr
    assert gzip.decompress((tmp_path / "seg.parquet.gz").read_bytes())[:4] == b"PAR1"


def test_an_output_named_tsv_is_written_with_tabs(cli, tmp_path: Path) -> None:
    """'-o x.tsv' wrote commas under a name that promises tabs."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    result = cli("validate", "a.csv", "-o", "o.tsv")
    assert result.exit_code == 0, result.stderr
    header = (tmp_path / "o.tsv").read_text().splitlines()[0]
    assert header.split("\t")[:4] == ["order_id", "order_date", "customer_id", "sku"]


@pytest.mark.parametrize(
    ("option", "name"),
    [("-o", "o.xlsx"), ("-o", "o.XLS"), ("-o", "o.ods"), ("--rejects", "o.xlsx")],
)
def test_an_output_named_as_a_workbook_is_refused(cli, tmp_path: Path, option, name) -> None:
    """'-o orders.xlsx' wrote CSV under a workbook's name: Excel calls such a file corrupt."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    result = cli("validate", "a.csv", "-o", "x.csv", option, name)
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain validate: Error: {option} {name}: segchain writes CSV or Parquet, not a "
        "spreadsheet workbook\n"
        "segchain validate:   hint: name it .csv (a spreadsheet opens it; --csv-safe for one "
        "people open) or .parquet\n"
    )
    assert not (tmp_path / name).exists() and not (tmp_path / "x.csv").exists()
