"""Hostile inputs (issue 12): one clean message and the right exit code, no silent nonsense."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"


def lines(n: int = 30) -> str:
    return "".join(
        f"{i},2024-03-{1 + i % 28:02d},C{i % 5},S{i % 3},{1 + i % 4},10\n" for i in range(n)
    )


def write(tmp_path: Path, text: str | bytes, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# ---- findings 9 and 13: implausible dates -----------------------------------------------------


@pytest.mark.parametrize("date", ["2100-12-31", "9999-12-31", "0001-01-01", "1899-12-31"])
def test_implausible_dates_are_rejected_with_a_reason(cli, tmp_path: Path, date: str) -> None:
    path = write(tmp_path, HEADER + lines() + f"99,{date},C1,S1,1,10\n")
    rejects = tmp_path / "r.csv"
    result = cli("validate", str(path), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "implausible_date 1" in result.stderr
    rows = pl.read_csv(rejects, infer_schema=False)
    assert rows["reason"].to_list() == ["implausible_date"] and rows["row"].to_list() == ["31"]


def test_implausible_date_rule_does_not_depend_on_the_run_date(cli, tmp_path: Path) -> None:
    # An export dated years after any day this suite runs: all kept (a cutoff at "a year after
    # today" rejected every line), and a typo decades ahead of its data still rejected.
    body = "".join(f"{i},2090-03-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(60))
    path = write(tmp_path, HEADER + body + "99,2095-03-01,C1,S1,1,10\n")
    rejects = tmp_path / "r.csv"
    result = cli("validate", str(path), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 61 = used 60 + rejected 1" in result.stderr
    assert pl.read_csv(rejects, infer_schema=False)["order_date"].to_list() == ["2095-03-01"]


@pytest.mark.parametrize(("date", "rejected"), [("2027-02-28", 0), ("2027-03-01", 1)])
def test_a_date_over_three_years_after_the_data_is_implausible(
    cli, tmp_path: Path, date: str, rejected: int
) -> None:
    # 99 % of the lines fall on or before 2024-02-28; 1,096 days later is 2027-02-28.
    body = "".join(f"{i},2024-02-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(200))
    path = write(tmp_path, HEADER + body + f"999,{date},C1,S1,1,10\n")
    result = cli("validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"read 201 = used {201 - rejected} + rejected {rejected}" in result.stderr


@pytest.mark.parametrize("placeholder", ["1900-01-01", "1970-01-01"])
def test_a_placeholder_date_decades_before_the_data_is_implausible(
    cli, tmp_path: Path, placeholder: str
) -> None:
    # SQL Server's empty datetime (1900-01-01) and the Unix epoch (1970-01-01) stand for "no
    # date" in real exports. Kept, one such line started its customer's history and its sku's
    # series there: forecast filled 125 years of zero weeks before the real ones.
    path = write(tmp_path, HEADER + lines(200) + f"999,{placeholder},C1,S1,1,10\n")
    rejects = tmp_path / "r.csv"
    result = cli("validate", str(path), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 201 = used 200 + rejected 1" in result.stderr
    rows = pl.read_csv(rejects, infer_schema=False)
    assert rows["reason"].to_list() == ["implausible_date"]
    assert rows["order_date"].to_list() == [placeholder]


def test_old_history_without_a_three_year_hole_is_kept(cli, tmp_path: Path) -> None:
    # A business that grew: a few orders a year from 2005 on, the bulk in 2024. Every year has
    # an order, so nothing stands apart from the rest, however old.
    old = "".join(f"{500 + y},{y}-06-01,C1,S1,1,10\n" for y in range(2005, 2024))
    path = write(tmp_path, HEADER + old + lines(2000))
    result = cli("validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert "read 2,019 = used 2,019 + rejected 0" in result.stderr


def test_far_future_order_does_not_drive_the_as_of_date(cli, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + lines() + "99,9999-12-31,C1,S1,1,10\n")
    out = tmp_path / "s.csv"
    result = cli("segment", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    segments = pl.read_csv(out)
    assert segments["recency_days"].max() < 60  # all real orders are in March 2024


# ---- findings 10 and 18: values that overflow ------------------------------------------------


@pytest.mark.parametrize("method", ["rfm", "kmeans"])
def test_overflowing_amounts_are_rejected_not_summed_to_inf(
    cli, tmp_path: Path, method: str
) -> None:
    huge = "".join(f"9{i},2024-03-02,C1,S1,1,1e308\n" for i in range(3))
    path = write(tmp_path, HEADER + lines() + huge)
    out = tmp_path / "s.csv"
    result = cli("segment", str(path), "--method", method, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "out_of_range 3" in result.stderr
    monetary = pl.read_csv(out)["monetary"]
    assert monetary.is_finite().all()


# ---- finding 16: corrupt Parquet data pages ----------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "segment"])
def test_corrupt_parquet_pages_are_a_data_error(cli, tmp_path: Path, command: str) -> None:
    n = 5000
    path = tmp_path / "orders.parquet"
    pl.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "order_date": ["2024-01-01"] * n,
            "customer_id": ["c"] * n,
            "sku": ["s"] * n,
            "quantity": [1.0] * n,
            "unit_price": [2.0] * n,
        }
    ).write_parquet(path, compression="uncompressed")
    data = bytearray(path.read_bytes())
    for i in range(100, len(data) // 2, 7):  # the data pages; the footer stays intact
        data[i] = (data[i] * 31 + 7) % 256
    path.write_bytes(bytes(data))
    result = cli(command, str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"segchain {command}: Error: {path}: cannot read the data (")


# ---- finding 19: --date-format ----------------------------------------------------------------


def test_unknown_date_format_directive_is_a_usage_error(cli, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + lines())
    result = cli("validate", str(path), "--date-format", "%Q/%m/%Y")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain validate: Error: --date-format: unknown directive %Q, got '%Q/%m/%Y'"
    )


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        # polars refuses an hour without minutes: it was exit 1 after the read, 'cannot read
        # the data (Invalid format string: ...)', not naming --date-format.
        ("%d/%m/%Y %H", "polars cannot read dates with it (Invalid format string: Please "
         "either specify both hour and minute, or neither.)"),
        # No year: every line was rejected as implausible_date (or bad_date), after the read.
        ("%d/%m", "it has no year (%Y, %y), so no date can be read with it"),
    ],
)  # fmt: skip
def test_a_date_format_that_cannot_read_dates_is_a_usage_error(cli, tmp_path, fmt, said):
    """Found by a hostile sweep (session 38): both are the option's fault, known before any
    input is read."""
    path = write(tmp_path, HEADER + lines())
    result = cli("validate", str(path), "--date-format", fmt, "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain validate: Error: --date-format: {said}, got {fmt!r}\n"
    )
    assert not (tmp_path / "o.csv").exists()


# ---- finding 21: CR-only line endings ---------------------------------------------------------


def test_cr_only_line_endings_are_read(cli, tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + lines()).replace("\n", "\r").encode())
    result = cli("validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert "read 30 = used 30 + rejected 0" in result.stderr


# ---- finding 23: long values cut in messages --------------------------------------------------


def test_huge_header_is_not_echoed_whole(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "x" * 1_000_000 + ",y\n1,2\n")
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert len(result.stderr) < 2000


# ---- finding 24: hints name only options the command has -------------------------------------


def test_network_missing_columns_hint_names_no_map_option(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "a,b\n1,2\n", "customers.csv")
    result = cli("network", str(path), "--candidates", "2")
    assert result.exit_code == 1
    assert "--map" not in result.stderr and "--preset" not in result.stderr


# ---- finding 25: no -f hint for an input ------------------------------------------------------


def test_parquet_named_csv_hint_does_not_name_format_option(cli, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert "-f" not in result.stderr
    assert "give it a .parquet name" in result.stderr


# ---- finding 26: mixed date orders name the file's values -------------------------------------


def test_mixed_date_orders_name_the_files_values(cli, tmp_path: Path) -> None:
    text = HEADER + "1,25/01/2024,C1,S1,1,10\n2,01/26/2024,C1,S1,1,10\n"
    result = cli("validate", str(write(tmp_path, text)))
    assert result.exit_code == 1
    assert "'25/01/2024' (row 1) can only be day first, '01/26/2024' (row 2) only month first" in (
        result.stderr
    )


# ---- finding 29: a CR inside the first line of a stage's table --------------------------------


def test_cr_in_first_line_of_a_stage_table_is_no_traceback(cli, tmp_path: Path) -> None:
    path = write(
        tmp_path, b'unique_id,ds,forecast\rA,2024-01-01,3\rB,2024-01-01,"4\r5"\n', "fc.csv"
    )
    result = cli("stock", str(path), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.stderr and result.stderr.startswith("segchain stock: Error: ")


def test_random_bytes_as_a_stage_table_are_no_traceback(cli, tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    path = write(tmp_path, bytes(rng.randrange(256) for _ in range(4000)), "fc.csv")
    result = cli("stock", str(path), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("segchain stock: Error: ")


# ---- finding 6: series keys that cannot collide -----------------------------------------------


def test_series_keys_with_a_slash_do_not_collide() -> None:
    import datetime as dt

    from segchain.forecast import build_series

    start = dt.date(2022, 1, 3)
    rows = []
    for customer, sku, qty in (("c1", "B/C", 10.0), ("c2", "C", 1000.0)):
        for week in range(20):
            rows.append((f"{customer}{week}", start + dt.timedelta(weeks=week), customer, sku, qty))
    orders = pl.DataFrame(
        rows,
        schema=["order_id", "order_date", "customer_id", "sku", "quantity"],
        orient="row",
    )
    segments = pl.DataFrame({"customer_id": ["c1", "c2"], "segment": ["A", "A/B"]})
    series = build_series(orders, segments, by=["segment", "sku"], freq="W")
    keys = series.keys.sort("unique_id")
    assert keys["unique_id"].to_list() == ["A%2FB/C", "A/B%2FC"]
    means = series.y.group_by("unique_id").agg(pl.col("y").mean()).sort("unique_id")
    assert means["y"].to_list() == [1000.0, 10.0]


# ---- findings 7, 8, 11: forecast and item values that give nonsense policies ------------------


def _forecast_csv(tmp_path: Path, rows: str) -> Path:
    return write(tmp_path, "unique_id,ds,forecast,error_sd,sku,segment\n" + rows, "fc.csv")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("A/x,2024-01-01,5,1,x,A\nA/,2024-01-01,5,1,,A\n", "1 row has no sku"),
        (
            "A/x,2024-01-01,1e308,1,x,A\nA/x,2024-01-08,1e308,1,x,A\n",
            # Each period of the series named apart: 'for unique_id 'A/x'' twice, as if one.
            "forecast must be a finite number >= 0 up to 1e+15, got 1e+308 for unique_id@ds "
            "'A/x@2024-01-01', 1e+308 for unique_id@ds 'A/x@2024-01-08'",
        ),
        ("A/x,abc,5,1,x,A\nA/x,def,5,1,x,A\n", "column 'ds' holds 2 values that are not dates"),
    ],
)
def test_nonsense_forecasts_are_data_errors(cli, tmp_path: Path, rows: str, message: str) -> None:
    result = cli("stock", str(_forecast_csv(tmp_path, rows)), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "p.csv").exists()


def test_item_value_that_is_not_a_number_is_an_error(cli, tmp_path: Path) -> None:
    fc = _forecast_csv(tmp_path, "A/x,2024-01-01,5,1,x,A\nA/x,2024-01-08,5,1,x,A\n")
    items = write(tmp_path, "sku,moq\nx,abc\n", "items.csv")
    result = cli("stock", str(fc), "--items", str(items), "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 1
    assert "items.csv: moq is not a number ('abc') for sku 'x'" in result.stderr


def test_review_days_inf_is_refused(cli, tmp_path: Path) -> None:
    fc = _forecast_csv(tmp_path, "A/x,2024-01-01,5,1,x,A\nA/x,2024-01-08,5,1,x,A\n")
    result = cli("stock", str(fc), "--review-days", "inf", "-o", str(tmp_path / "p.csv"))
    assert result.exit_code == 2
    assert result.stderr.startswith("segchain stock: Error: --review-days: must be a finite number")


# ---- findings 11 and 28: sites' existing flag, blank customer ids ------------------------------


def _customers(tmp_path: Path, ids: list[str]) -> Path:
    path = tmp_path / "customers.csv"
    pl.DataFrame(
        {
            "customer_id": ids,
            "segment": ["A"] * len(ids),
            "quantity": [1.0] * len(ids),
            "lat": [48.1] * len(ids),
            "lon": [11.6] * len(ids),
        }
    ).write_csv(path)
    return path


def test_unclear_existing_flag_is_an_error(cli, tmp_path: Path) -> None:
    sites = write(
        tmp_path,
        "site_id,lat,lon,fixed_cost,existing\nS1,48,11,10,maybe\nS2,52,13,10,\n",
        "sites.csv",
    )
    result = cli(
        "network",
        str(_customers(tmp_path, ["1", "2"])),
        "--sites",
        str(sites),
        "-o",
        str(tmp_path / "a.csv"),
    )
    assert result.exit_code == 1
    assert (
        "sites.csv: existing must be true or false, got 'maybe' for site_id 'S1'" in result.stderr
    )


def test_blank_customer_ids_are_not_called_duplicates(cli, tmp_path: Path) -> None:
    result = cli(
        "network",
        str(_customers(tmp_path, ["1", "", ""])),
        "--candidates",
        "1",
        "-o",
        str(tmp_path / "a.csv"),
    )
    assert result.exit_code == 1
    assert "2 rows with a blank customer_id" in result.stderr
    assert "None" not in result.stderr and "duplicate" not in result.stderr


# ---- findings 11 and 22: duplicate header names, rows with extra fields -----------------------


def test_duplicate_header_names_are_refused(cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "order_id,order_date,customer_id,sku,quantity,unit_price,sku\n1,2024-03-01,C,A,1,2,B\n",
    )
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert "the header names a column twice: 'sku' in columns 4, 7" in result.stderr


def test_rows_with_extra_fields_are_rejected_one_by_one(cli, tmp_path: Path) -> None:
    body = "".join(f"{i},2024-03-01,C,A,1,2{',x' if i % 10 == 3 else ''}\n" for i in range(1, 201))
    rejects = tmp_path / "rejects.csv"
    result = cli("validate", str(write(tmp_path, HEADER + body)), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    assert "read 200 = used 180 + rejected 20 (extra_fields 20)" in result.stderr
    rows = pl.read_csv(rejects, infer_schema=False)
    assert rows["row"].to_list()[:3] == ["3", "13", "23"]


# ---- second campaign (issue 12, re-run on what landed) ----------------------------------------


def _segments_and_orders(tmp_path: Path) -> tuple[Path, Path]:
    orders = write(tmp_path, HEADER + lines(40))
    segments = write(
        tmp_path,
        "customer_id,segment,segment_rank\n" + "".join(f"C{i},A,1\n" for i in range(5)),
        "segments.csv",
    )
    return segments, orders


ASSIGNMENTS = "customer_id,segment,site_id,share,demand,transport_cost,left_out\n"


@pytest.mark.parametrize(
    ("option", "name", "text", "message"),
    [
        (
            "--sites",
            "sites.csv",
            "site_id,open,fixed_cost\nW1,true,abc\n",
            "sites.csv: column 'fixed_cost' holds 1 value that is not a number ('abc')",
        ),
        (
            "--items",
            "items.csv",
            "sku,unit_cost\nS0,abc\n",
            "items.csv: column 'unit_cost' holds 1 value that is not a number ('abc')",
        ),
    ],
)
def test_costs_inputs_with_text_for_numbers_are_data_errors(
    cli, tmp_path: Path, option: str, name: str, text: str, message: str
) -> None:
    segments, orders = _segments_and_orders(tmp_path)
    extra = write(tmp_path, text, name)
    asg = write(tmp_path, ASSIGNMENTS + "C0,A,W1,1,1,2,\n", "asg.csv")
    out = tmp_path / "out.csv"
    args = ["costs", str(segments), "--orders", str(orders), option, str(extra)]
    result = cli(*args, "--assignments", str(asg), "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "text"),
    [
        # Header-only assignments are no plan: exit 1 (tests/test_costs_hostile.py, s38).
        ("--assignments", ASSIGNMENTS + "C0,A,,,0,,no_demand\nC1,A,,,0,,no_demand\n"),
        # A header-only policy is no policy: exit 1 (tests/test_hostile_s42.py); a row with
        # its numbers empty is read.
        ("--policy", "sku,inventory_value,avg_inventory\nP1,100,\n"),
    ],
)
def test_costs_inputs_with_empty_number_columns_are_no_traceback(
    cli, tmp_path: Path, option: str, text: str
) -> None:
    # An all-empty column of a CSV is read as text: summing it was a traceback.
    segments, orders = _segments_and_orders(tmp_path)
    extra = write(tmp_path, text, "extra.csv")
    out = tmp_path / "out.csv"
    args = ["costs", str(segments), "--orders", str(orders), option, str(extra), "-o", str(out)]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(out)["revenue"].sum() > 0


def test_forecast_assignments_with_text_shares_are_a_data_error(cli, tmp_path: Path) -> None:
    segments, orders = _segments_and_orders(tmp_path)
    asg = write(tmp_path, ASSIGNMENTS + "".join(f"C{i},A,W1,abc,1,1,\n" for i in range(5)), "a.csv")
    out = tmp_path / "out.csv"
    result = cli(
        "forecast", str(segments), "--orders", str(orders), "--assignments", str(asg),
        "--models", "Naive", "--horizon", "2", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert "a.csv: column 'share' holds 5 values that are not numbers ('abc')" in (result.stderr)
    assert not out.exists()


@pytest.mark.parametrize(("level", "code"), [("95", 0), ("200", 2)])
def test_forecast_level_as_a_number_in_the_config(
    cli, tmp_path: Path, level: str, code: int
) -> None:
    # TOML `level = 95` is a number, not the text "95": it was a TypeError traceback.
    segments, orders = _segments_and_orders(tmp_path)
    config = write(tmp_path, f"[forecast]\nlevel = {level}\n", "s.toml")
    out = tmp_path / "out.csv"
    result = cli(
        "forecast", str(segments), "--orders", str(orders), "--config", str(config),
        "--models", "Naive", "--horizon", "2", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == code, result.stderr
    if code == 0:
        assert "forecast-hi-95" in pl.read_csv(out).columns
    else:
        assert "200 is not a percentage strictly between 0 and 100" in result.stderr


def test_the_exact_header_wins_over_a_case_variant(cli, tmp_path: Path) -> None:
    # `sku` and `SKU` both in the header: the later `SKU` silently replaced the sku column.
    path = write(tmp_path, HEADER.rstrip("\n") + ",SKU\n1,2024-03-01,C1,A-1,1,2,other\n")
    out = tmp_path / "out.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(out)["sku"].to_list() == ["A-1"]


# ---- third campaign: settings declared once (issue 12, "config validation declared once") ------

# Each rule was checked only by its own command (or not at all): `validate --config` ran with it.
CONFIG_RULES = [
    ("segment", "abc_cutoffs", '"0.9,0.8"', "must be two shares 0 < A < B <= 1"),
    ("segment", "abc_cutoffs", "[95, 80]", "must be two shares 0 < A < B <= 1"),
    ("segment", "xyz_cutoffs", '"1,0.5"', "must be two coefficients of variation 0 < X < Y"),
    ("forecast", "level", '"abc"', "abc is not a percentage strictly between 0 and 100"),
    ("forecast", "level", '"80,0"', "0 is not a percentage strictly between 0 and 100"),
    ("forecast", "by", '"segment,segment"', "repeats the column segment"),
    ("forecast", "by", '"segment,,sku"', "must name columns separated by commas"),
    ("forecast", "by", '"skuu"', "unknown column 'skuu' (did you mean 'sku'?)"),
    ("stock", "compare_uniform", '"sometimes"', "must be equal, keep or a service level"),
    ("stock", "compare_uniform", "1.5", "must be equal, keep or a service level"),
    ("stock", "policy", '"minmax"', "must be one of sQ, RS"),
    ("orders", "date_format", '"%Q/%m/%Y"', "unknown directive %Q"),
    ("orders", "date_format", '"yyyy-mm-dd"', "give a strptime format such as %d/%m/%Y"),
    ("forecast", "models", '"Prophet,AutoETS"', "unknown model Prophet"),
    ("forecast", "models", '"WindowAverage0"', "unknown model WindowAverage0"),
]


@pytest.mark.parametrize("command", ["validate", "segment"])
@pytest.mark.parametrize(("table", "key", "value", "message"), CONFIG_RULES)
def test_every_command_refuses_a_bad_setting_naming_file_and_key(
    cli, tmp_path: Path, command: str, table: str, key: str, value: str, message: str
) -> None:
    config = write(tmp_path, f"[{table}]\n{key} = {value}\n", "s.toml")
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    result = cli(command, str(write(tmp_path, HEADER + lines())), "--config", str(config),
                 "-o", str(out))  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"segchain {command}: Error: {config} [{table}] {key}: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr and out.read_text() == "old\n"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SEGCHAIN_DATE_FORMAT", "%Q", "$SEGCHAIN_DATE_FORMAT: unknown directive %Q"),
        ("SEGCHAIN_PRESET", "bogus", "$SEGCHAIN_PRESET: unknown preset 'bogus'; choose one of"),
        (
            "SEGCHAIN_HEARTBEAT",
            "abc",
            "$SEGCHAIN_HEARTBEAT: must be a number of seconds from 1 to 86400 (a day)",
        ),
        (
            "SEGCHAIN_HEARTBEAT",
            "0",
            "$SEGCHAIN_HEARTBEAT: must be a number of seconds from 1 to 86400 (a day)",
        ),
        (
            "SEGCHAIN_HEARTBEAT",
            "-5",
            "$SEGCHAIN_HEARTBEAT: must be a number of seconds from 1 to 86400 (a day)",
        ),
        (
            "SEGCHAIN_HEARTBEAT",
            "0.001",
            "$SEGCHAIN_HEARTBEAT: must be a number of seconds from 1 to 86400 (a day), got '0.001'",
        ),
        ("SEGCHAIN_HEARTBEAT", "0.999", "$SEGCHAIN_HEARTBEAT: must be a number of seconds from 1"),
        ("SEGCHAIN_HEARTBEAT", "86401", "$SEGCHAIN_HEARTBEAT: must be at most 86400 (a day)"),
        ("SEGCHAIN_HEARTBEAT", "nan", "$SEGCHAIN_HEARTBEAT: must be a finite number"),
        ("SEGCHAIN_HEARTBEAT", "inf", "$SEGCHAIN_HEARTBEAT: must be a finite number"),
    ],
)
def test_bad_environment_values_are_usage_errors_naming_the_variable(
    cli, tmp_path: Path, monkeypatch, variable: str, value: str, message: str
) -> None:
    # A bad heartbeat silently became 30 seconds; the env date format was called --date-format.
    monkeypatch.setenv(variable, value)
    out = tmp_path / "out.csv"
    result = cli("validate", str(write(tmp_path, HEADER + lines())), "-o", str(out))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"segchain validate: Error: {message}")
    assert "--date-format" not in result.stderr and not out.exists()


def test_a_blank_segment_label_in_the_config_is_refused(cli, tmp_path: Path) -> None:
    config = write(tmp_path, '[segments.""]\nservice_level = 0.9\n', "s.toml")
    result = cli("validate", str(write(tmp_path, HEADER + lines())), "--config", str(config))
    assert result.exit_code == 2, result.stderr
    assert f'{config}: [segments.""]: a segment label cannot be empty' in result.stderr


def test_a_config_file_with_a_utf8_bom_is_read(cli, tmp_path: Path) -> None:
    # Notepad saves UTF-8 with a BOM: it was "not a valid TOML file".
    config = write(tmp_path, "\ufeff[segment]\nmethod = 'kmeans'\nk = 3\n".encode(), "s.toml")
    out = tmp_path / "s.csv"
    result = cli("segment", str(write(tmp_path, HEADER + lines())), "--config", str(config),
                 "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(out)["segment"].n_unique() == 3


# ---- third campaign: assignments and items that costs summed silently (exit 0) -----------------

SITES = "site_id,open,fixed_cost\nW1,true,100\nW2,true,50\n"


def _lanes(*rows: str) -> str:
    # C0..C4 are the customers of _segments_and_orders; C1..C4 served by W1 alone.
    rest = "".join(f"C{i},A,W1,1,10,5,\n" for i in range(1, 5))
    return ASSIGNMENTS + "".join(r + "\n" for r in rows) + rest


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        (_lanes("C0,A,W1,-0.5,10,5,", "C0,A,W2,1.5,10,5,"), "share must lie between 0 and 1"),
        (_lanes("C0,A,W1,1.5,10,5,"), "between 0 and 1 on every served row, got 'C0: 1.5'"),
        (_lanes("C0,A,W1,0.5,10,5,", "C0,A,W2,0.2,10,5,"), "customer 'C0' do not add up to 1"),
        (_lanes("C0,A,W1,0.5,10,5,"), "the shares of customer 'C0' do not add up to 1"),
        (_lanes("C0,A,,1,10,5,"), "blank site_id and no left_out reason (customer 'C0')"),
        (_lanes("C0,A, ,1,10,5,"), "1 row has a blank site_id and no left_out reason"),
        (_lanes("C0,A,W1,0.5,10,5,", "C0,A,W1,0.5,10,5,"),
         "1 customer_id@site_id is on more than one row: 'C0@W1' (rows 1, 2)"),
    ],
)  # fmt: skip
def test_costs_refuses_assignments_that_do_not_add_up(
    cli, tmp_path: Path, assignments: str, message: str
) -> None:
    segments, orders = _segments_and_orders(tmp_path)
    asg = write(tmp_path, assignments, "a.csv")
    sites = write(tmp_path, SITES, "sites.csv")
    out = tmp_path / "out.csv"
    result = cli("costs", str(segments), "--orders", str(orders), "--assignments", str(asg),
                 "--sites", str(sites), "-o", str(out))  # fmt: skip
    assert result.exit_code == 1, result.stderr
    assert f"segchain costs: Error: --assignments {asg}: " in result.stderr
    # A lane twice is told what to do first (keep one row per customer_id@site_id), as every
    # table's key on several rows is (session 69).
    hint = r"hint: (keep one row per customer_id@site_id: [^;]*; )?give network's assignments"
    assert message in result.stderr and re.search(hint, result.stderr)
    assert not out.exists()


def test_forecast_assignments_are_checked_by_the_same_rule(cli, tmp_path: Path) -> None:
    segments, orders = _segments_and_orders(tmp_path)
    asg = write(tmp_path, _lanes("C0,A,W1,0.5,10,5,", "C0,A,W1,0.5,10,5,"), "a.csv")
    result = cli(
        "forecast", str(segments), "--orders", str(orders), "--assignments", str(asg),
        "--models", "Naive", "--horizon", "2", "-o", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    message = "a.csv: 1 customer_id@site_id is on more than one row: 'C0@W1' (rows 1, 2)"
    assert message in result.stderr


def test_left_out_customers_and_split_lanes_are_accepted(cli, tmp_path: Path) -> None:
    segments, orders = _segments_and_orders(tmp_path)
    rows = ("C0,A,W1,0.25,10,5,", "C0,A,W2,0.75,10,5,")
    text = _lanes(*rows).replace("C4,A,W1,1,10,5,\n", "C4,A,,,0,,no_demand\n")
    asg = write(tmp_path, text, "a.csv")
    out = tmp_path / "out.csv"
    result = cli("costs", str(segments), "--orders", str(orders), "--assignments", str(asg),
                 "--by", "customer", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    transport = dict(pl.read_csv(out).select("customer_id", "transport").iter_rows())
    assert transport["C0"] == 10 and transport["C1"] == 5


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("sku,unit_cost\nS0,1\nS1,2\nS0,3\n",
         "items.csv: 1 sku is on more than one row: 'S0' (rows 1, 3)"),
        ("sku,site,unit_cost\nS0,,1\nS0,W1,2\nS0,W1,3\n",
         "1 sku@site is on more than one row: 'S0@W1' (rows 2, 3)"),
    ],
)  # fmt: skip
def test_costs_refuses_an_item_listed_twice(cli, tmp_path: Path, items: str, message: str) -> None:
    # The first stated unit_cost silently won.
    segments, orders = _segments_and_orders(tmp_path)
    path = write(tmp_path, items, "items.csv")
    result = cli("costs", str(segments), "--orders", str(orders), "--items", str(path))
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr


# ---- third campaign: Parquet column types segchain cannot read -------------------------------

ODD_TYPES = {
    "list": (pl.List(pl.Float64), [1.0, 2.0]),
    "struct": (pl.Struct({"a": pl.Int64}), {"a": 1}),
    "array": (pl.Array(pl.Int64, 2), [1, 2]),
    "time": (pl.Time, dt.time(12, 30)),
    "binary": (pl.Binary, b"\x00\x01"),
    "duration": (pl.Duration("us"), dt.timedelta(days=1)),
}


def _odd(name: str, kind: str, n: int) -> pl.Series:
    dtype, value = ODD_TYPES[kind]
    return pl.Series(name, [value] * n, dtype=dtype)


def _orders_parquet(tmp_path: Path, **replace: str) -> Path:
    n = 30
    df = pl.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "order_date": [f"2024-03-{1 + i % 28:02d}" for i in range(n)],
            "customer_id": [f"C{i % 5}" for i in range(n)],
            "sku": [f"S{i % 3}" for i in range(n)],
            "quantity": [1.0 + i % 4 for i in range(n)],
            "unit_price": [10.0] * n,
        }
    )
    df = df.with_columns(_odd(col, kind, n) for col, kind in replace.items())
    path = tmp_path / "orders.parquet"
    df.write_parquet(path)
    return path


@pytest.mark.parametrize("kind", list(ODD_TYPES))
def test_a_column_no_command_uses_may_have_any_type(cli, tmp_path: Path, kind: str) -> None:
    # Rejected lines keep every field: a nested one made the rejects CSV a traceback.
    path = _orders_parquet(tmp_path, extra=kind)
    out, rejects = tmp_path / "out.csv", tmp_path / "r.csv"
    result = cli("validate", str(path), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(out).height == 30


@pytest.mark.parametrize(
    ("column", "kind", "shown"),
    [
        ("quantity", "list", "column 'quantity' is of type List(Float64); expected numbers"),
        ("sku", "struct", "column 'sku' is of type Struct({'a': Int64}); expected text"),
        ("order_date", "time", "column 'order_date' is of type Time; expected dates"),
        ("unit_price", "binary", "column 'unit_price' is of type Binary; expected numbers"),
        ("customer_id", "array", "column 'customer_id' is of type Array(Int64, shape=(2,))"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "segment"])
def test_a_needed_column_of_an_unreadable_type_is_named(
    cli, tmp_path: Path, command: str, column: str, kind: str, shown: str
) -> None:
    path = _orders_parquet(tmp_path, **{column: kind})
    out = tmp_path / "out.csv"
    result = cli(command, str(path), "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith(f"segchain {command}: Error: {path}: {shown}")
    assert "Traceback" not in result.stderr and not out.exists()


def _stage_parquet(tmp_path: Path, frame: pl.DataFrame, name: str, **replace: str) -> Path:
    frame = frame.with_columns(_odd(col, kind, frame.height) for col, kind in replace.items())
    path = tmp_path / name
    frame.write_parquet(path)
    return path


FORECAST_ROWS = pl.DataFrame(
    {
        "unique_id": ["A/x", "A/x", "B/y", "B/y"],
        "ds": [dt.date(2024, 1, 1), dt.date(2024, 1, 8)] * 2,
        "forecast": [5.0, 6.0, 2.0, 3.0],
        "error_sd": [1.0] * 4,
        "sku": ["x", "x", "y", "y"],
        "segment": ["A", "A", "B", "B"],
    }
)
SEGMENT_ROWS = pl.DataFrame(
    {"customer_id": [f"C{i}" for i in range(5)], "segment": ["A"] * 5, "segment_rank": [1] * 5}
)


@pytest.mark.parametrize(
    ("command", "table", "column", "kind", "extra_args"),
    [
        ("stock", "forecast", "forecast", "list", []),
        ("stock", "forecast", "ds", "time", []),
        ("report", "forecast", "ds", "time", []),
        ("report", "forecast", "forecast", "struct", []),
        ("report", "segments", "segment", "list", []),
        ("network", "segments", "segment", "list", ["--candidates", "2"]),
        ("forecast", "segments", "segment", "struct", ["--orders", "ORDERS"]),
        ("costs", "segments", "customer_id", "list", ["--orders", "ORDERS"]),
    ],
)
def test_every_command_names_a_column_of_an_unreadable_type(
    cli, tmp_path: Path, command: str, table: str, column: str, kind: str, extra_args: list[str]
) -> None:
    frame = FORECAST_ROWS if table == "forecast" else SEGMENT_ROWS
    path = _stage_parquet(tmp_path, frame, f"{table}.parquet", **{column: kind})
    orders = write(tmp_path, HEADER + lines(40))
    args = [str(orders) if a == "ORDERS" else a for a in extra_args]
    out = tmp_path / ("out.html" if command == "report" else "out.csv")
    result = cli(command, str(path), *args, "-o", str(out))
    assert result.exit_code == 1, result.stderr
    # A command's one input table is named by its argument (s39); report's INPUTS by path.
    argument = {"stock": "FORECAST ", "network": "CUSTOMERS ", "report": ""}.get(command)
    named = f"{'SEGMENTS ' if argument is None else argument}{path}"
    assert f"Error: {named}: column {column!r} is of type " in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_a_forecast_column_no_command_uses_may_be_nested(cli, tmp_path: Path) -> None:
    path = _stage_parquet(tmp_path, FORECAST_ROWS, "forecast.parquet", tags="struct")
    for command, out in (("stock", "p.csv"), ("report", "r.html")):
        result = cli(command, str(path), "-o", str(tmp_path / out))
        assert result.exit_code == 0, result.stderr


# ---- third campaign: report on a forecast whose ds is text -------------------------------------


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_report_reads_a_forecast_with_text_dates(cli, tmp_path: Path, suffix: str) -> None:
    frame = FORECAST_ROWS.with_columns(pl.col("ds").cast(pl.String))
    path = tmp_path / f"forecast.{suffix}"
    frame.write_parquet(path) if suffix == "parquet" else frame.write_csv(path)
    result = cli("report", str(path), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 0, result.stderr
    assert "2024-01-01 to 2024-01-08" in (tmp_path / "r.md").read_text()


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
@pytest.mark.parametrize("command", ["report", "stock"])
def test_a_forecast_with_text_that_is_no_date_is_a_data_error(
    cli, tmp_path: Path, suffix: str, command: str
) -> None:
    frame = FORECAST_ROWS.with_columns(pl.Series("ds", ["abc", "2024-01-08"] * 2))
    path = tmp_path / f"forecast.{suffix}"
    frame.write_parquet(path) if suffix == "parquet" else frame.write_csv(path)
    out = tmp_path / ("r.html" if command == "report" else "p.csv")
    result = cli(command, str(path), "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert f"{path}: column 'ds' holds 2 values that are not dates ('abc')" in result.stderr
    assert not out.exists()


# ---- third campaign: a value from the config or environment is named by its source ------------


@pytest.mark.parametrize(
    ("command", "toml", "args", "message"),
    [
        # A config's k is a standing setting for k-means runs (s43); the method it is checked
        # against comes from the config here.
        (
            "segment",
            '[segment]\nmethod = "rfm"\n',
            ["--k", "4"],
            "--k applies to CONFIG [segment] method kmeans only (got CONFIG [segment] method rfm)",
        ),
        (
            "forecast",
            '[forecast]\nhorizon = 3000\nfreq = "M"\n',
            ["--orders", "ORDERS"],
            "[forecast] horizon: at most 120 periods of M",
        ),
        (
            "segment",
            "[segment]\nas_of = 2020-01-01\n",
            [],
            "no order lines before CONFIG [segment] as_of 2020-01-01",
        ),
    ],
)
def test_a_stage_check_names_the_config_key_not_an_option(
    cli, tmp_path: Path, command: str, toml: str, args: list[str], message: str
) -> None:
    # Checks that combine settings (or need the data) run in the stage and named the option.
    segments, orders = _segments_and_orders(tmp_path)
    source = orders if command == "segment" else segments
    config = write(tmp_path, toml, "s.toml")
    argv = [str(orders) if a == "ORDERS" else a for a in args]
    result = cli(
        command, str(source), *argv, "--config", str(config), "-o", str(tmp_path / "o.csv")
    )
    assert result.exit_code in (1, 2), result.stderr
    expected = message.replace("CONFIG", str(config))
    assert f"Error: {expected if 'CONFIG' in message else f'{config} {message}'}" in result.stderr


def test_a_stage_check_names_the_environment_variable(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SEGCHAIN_SEGMENT_METHOD", "rfm")
    result = cli("segment", str(write(tmp_path, HEADER + lines())), "--k", "4")
    assert result.exit_code == 2, result.stderr
    assert (
        "--k applies to $SEGCHAIN_SEGMENT_METHOD kmeans only (got $SEGCHAIN_SEGMENT_METHOD rfm)"
        in (result.stderr)
    )


# ---- third campaign: option values ------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_sample_checks_its_seed_by_the_declared_rule(cli, tmp_path: Path, seed: str) -> None:
    # -1 was a numpy traceback; the other commands already refused it.
    out = tmp_path / "data"
    result = cli("sample", "--seed", seed, "-o", str(out))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("segchain sample: Error: --seed: ")
    assert not out.exists()


def test_a_blank_date_format_means_detect(cli, tmp_path: Path) -> None:
    # A blank --date-format (or SEGCHAIN_DATE_FORMAT=" ") read every date as unparseable.
    result = cli("validate", str(write(tmp_path, HEADER + lines())), "--date-format", " ")
    assert result.exit_code == 0, result.stderr
    assert "read 30 = used 30 + rejected 0" in result.stderr
