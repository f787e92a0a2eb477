"""The CLI: exit codes and exact stderr of segchain's own errors; validate and sample end to end."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from segchain.tableio import read_metadata


def test_help_lists_the_commands(cli) -> None:
    from segchain.cli import COMMANDS

    result = cli("--help")
    assert result.exit_code == 0
    listed = re.findall(r"^│ (\w+) ", result.stdout, flags=re.M)
    assert listed == list(COMMANDS)


def test_version(cli) -> None:
    from segchain import __version__

    assert cli("--version").stdout.strip() == f"segchain {__version__}"


def test_validate_writes_clean_table_and_rejects(cli, orders_csv: Path, tmp_path: Path) -> None:
    out, rejects = tmp_path / "clean.parquet", tmp_path / "rejects.csv"
    result = cli("validate", str(orders_csv), "-o", str(out), "--rejects", str(rejects))
    assert result.exit_code == 0, result.stderr
    clean = pl.read_parquet(out)
    assert clean.height == 6
    assert clean["customer_id"].to_list()[:3] == ["0001", "0001", "0002"]
    rej = pl.read_csv(rejects, infer_schema=False)
    assert rej.height == 8
    assert set(rej["reason"]) == {
        "missing_order_id",
        "missing_customer",
        "missing_sku",
        "missing_date",
        "bad_date",
        "bad_quantity",
        "bad_price",
        "non_finite",
    }


def test_validate_prints_reconciliation_and_dialect(cli, orders_csv: Path) -> None:
    result = cli("validate", str(orders_csv))
    assert result.exit_code == 0
    assert (
        "  read 14 = used 6 + rejected 8 (bad_date 1, bad_price 1, bad_quantity 1, "
        "missing_customer 1, missing_date 1, missing_order_id 1, missing_sku 1, non_finite 1)"
    ) in result.stderr
    assert "  flagged (kept): non_product 1, return 1, zero_price 1" in result.stderr
    assert "csv, delimiter comma, decimal point, encoding utf-8" in result.stderr
    assert result.stdout == ""


def test_validate_parquet_metadata_has_provenance(cli, orders_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.parquet"
    cli("validate", str(orders_csv), "-o", str(out))
    meta = read_metadata(out)
    assert meta["stage"] == "orders"
    assert meta["inputs"] == {"orders": 14, "customers_rejected": 0}
    assert meta["reconciliation"]["rejected"] == 8


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        ([], "", "net"),
        (["--returns", "keep"], "", "keep"),
        ([], "[orders]\nreturns = 'drop'\n", "drop"),  # was recorded as "net"
        (["--returns", "keep"], "[orders]\nreturns = 'drop'\n", "keep"),
    ],
)
def test_validate_provenance_records_the_returns_treatment_used(
    cli, orders_csv: Path, tmp_path: Path, args, config, expected
) -> None:
    cfg = tmp_path / "segchain.toml"
    cfg.write_text(config)
    out = tmp_path / "clean.parquet"
    result = cli("validate", str(orders_csv), "--config", str(cfg), *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert read_metadata(out)["params"]["returns"] == expected
    # Reusing the clean table keeps the treatment it was cleaned with.
    again = tmp_path / "again.parquet"
    assert cli("validate", str(out), "-o", str(again)).exit_code == 0
    assert read_metadata(again)["params"]["returns"] == expected


def test_validate_missing_columns_exact_message(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Beleg,Datum,Kunde\n1,2024-01-01,7\n")
    out = tmp_path / "never.csv"
    result = cli("validate", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain validate: Error: {path}: missing required columns order_id, order_date, "
        "customer_id, sku, "
        "quantity, unit_price or amount; found Beleg, Datum, Kunde\n"
        "segchain validate:   hint: as other exports name them (check that they hold what you "
        "mean): --map order_date=Datum --map customer_id=Kunde; sku and quantity "
        "and unit_price or amount have no such header: map with --map CANONICAL=HEADER too; "
        "order_id needs no header once customer_id and order_date are mapped: each customer's "
        "lines of one day are then one order\n"
    )
    assert not out.exists()


def test_validate_with_map_fixes_the_same_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Beleg;Datum;Kunde;Material;Menge;Wert\n1;01.03.2024;7;A;2;3,50\n")
    out = tmp_path / "ok.csv"
    result = cli(
        "validate",
        str(path),
        "-o",
        str(out),
        "--map",
        "order_id=Beleg",
        "--map",
        "order_date=Datum",
        "--map",
        "customer_id=Kunde",
        "--map",
        "sku=Material",
        "--map",
        "quantity=Menge",
        "--map",
        "amount=Wert",
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_text() == (
        "order_id,order_date,customer_id,sku,quantity,unit_price,amount,flag\n"
        "1,2024-03-01,7,A,2.0,1.75,3.5,\n"
    )


def test_validate_empty_file_exit_1(cli, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    result = cli("validate", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"segchain validate: Error: {path}: the file is empty")


def test_validate_missing_file_exit_1(cli, tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path / "nope.csv"))
    assert result.exit_code == 1
    assert result.stderr == f"segchain validate: Error: {tmp_path / 'nope.csv'}: no such file\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["validate", "bad\udcff.csv"], 1, "bad\\xff.csv: no such file"),
        (["segment", "a\udce4.csv"], 1, "a\\xe4.csv: no such file"),
        (["network", "s.csv", "--sites", "s\udcff.csv"], 1, "--sites s\\xff.csv: no such file"),
        (["validate", "März\udcff.csv"], 1, "März\\xff.csv: no such file"),
        (
            ["validate", "s.csv", "-o", "n\udcff/o.csv"],
            2,
            "-o n\\xff/o.csv: folder 'TMP/n\\xff' does not exist\n"
            "segchain validate:   hint: create it first",
        ),
    ],
)
def test_a_file_name_that_is_not_utf8_is_shown_with_its_bytes(
    cli, tmp_path: Path, args, code, message
) -> None:
    """A name with a byte that is not UTF-8 (a latin-1 'ä', 0xe4, from an old share) was shown
    as Python's surrogate escape, 'bad\\udcff.csv', not as the byte it is, 'bad\\xff.csv'."""
    (tmp_path / "s.csv").write_text("customer_id,segment,quantity,lat,lon\nA,X,10,52,13\n")
    result = cli(*args)
    assert result.exit_code == code
    message = message.replace("TMP", str(tmp_path))
    assert result.stderr == f"segchain {args[0]}: Error: {message}\n"


def test_validate_all_lines_rejected_exit_1(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,x,,A,1,1\n")
    result = cli("validate", str(path), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    assert "no usable order lines: its one line was rejected (missing_customer 1)" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_validate_all_lines_rejected_still_writes_the_rejects_to_say_why(
    cli, tmp_path: Path
) -> None:
    # The decision documented under "Errors and exit codes": exit 1, no main output, but the
    # rejects file is written, since it is the answer to "why was everything rejected?".
    path = tmp_path / "bad.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,x,,A,1,1\n")
    rejects = tmp_path / "rejects.csv"
    result = cli("validate", str(path), "--rejects", str(rejects), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    assert not (tmp_path / "o.csv").exists()
    assert pl.read_csv(rejects).select("row", "reason").rows() == [(1, "missing_customer")]


@pytest.mark.parametrize("command", ["validate", "segment"])
def test_rejects_file_is_announced_like_every_output(
    cli, orders_csv: Path, tmp_path: Path, command: str
) -> None:
    """Every output says 'wrote N ... to FILE' on stderr but --rejects, written silently."""
    rejects, out = tmp_path / "rejects.csv", tmp_path / "o.csv"
    result = cli(command, str(orders_csv), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"segchain {command}: wrote 8 rejected lines to {rejects} (csv)\n" in result.stderr
    assert f" to {out} (csv)\n" in result.stderr


def test_rejects_file_kept_when_every_line_is_rejected_is_announced(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,x,,A,1,1\n")
    rejects = tmp_path / "rejects.csv"
    result = cli("validate", str(path), "--rejects", str(rejects), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    assert f"segchain validate: wrote 1 rejected line to {rejects} (csv)\n" in result.stderr


def test_quiet_does_not_announce_the_rejects_file(cli, orders_csv: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    args = ("--rejects", str(rejects), "-o", str(tmp_path / "o.csv"), "--quiet")
    result = cli("validate", str(orders_csv), *args)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert rejects.exists()


@pytest.mark.parametrize("with_rejects", [True, False])
def test_validate_all_lines_rejected_hint_names_the_rejects_file_when_given(
    cli, tmp_path: Path, with_rejects: bool
) -> None:
    # The hint said "write them out with --rejects FILE to see why" to a user who had given
    # --rejects: the lines are already in that file.
    path = tmp_path / "bad.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,x,,A,1,1\n")
    rejects = tmp_path / "rejects.csv"
    args = ["--rejects", str(rejects)] if with_rejects else []
    result = cli("validate", str(path), *args, "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    hint = result.stderr.splitlines()[-1]
    if with_rejects:
        assert hint == (
            f"segchain validate:   hint: the rejected lines and their reasons are in {rejects}; "
            "check --map / --preset"
        )
    else:
        assert hint == (
            "segchain validate:   hint: write them out with --rejects FILE to see why, and check "
            "--map / --preset"
        )


def test_unknown_preset_exit_2(cli, orders_csv: Path) -> None:
    result = cli("validate", str(orders_csv), "--preset", "navision")
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain validate: Error: --preset: unknown preset 'navision'; choose one of: sap, odoo, "
        "online-retail\n"
    )


def test_unknown_header_in_map_exit_2(cli, orders_csv: Path) -> None:
    result = cli("validate", str(orders_csv), "--map", "sku=Material")
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain validate: Error: no such column: --map sku='Material'. The file's headers are: "
        "order_id, "
        "order_date, customer_id, sku, quantity, unit_price\n"
    )


def test_unknown_option_exit_2(cli, orders_csv: Path) -> None:
    assert cli("validate", str(orders_csv), "--frobnicate").exit_code == 2


def test_unknown_output_format_exit_2(cli, orders_csv: Path, tmp_path: Path) -> None:
    result = cli("validate", str(orders_csv), "-o", str(tmp_path / "x"), "-f", "xlsx")
    assert result.exit_code == 2
    assert "unknown format 'xlsx'; choose one of: csv, parquet" in result.stderr
    assert "read 14" not in result.stderr  # refused before any work


def test_validate_reads_stdin_and_writes_stdout(cli, orders_csv: Path) -> None:
    result = cli("validate", "-", "-o", "-", input=orders_csv.read_bytes())
    assert result.exit_code == 0
    df = pl.read_csv(io.BytesIO(result.stdout_bytes), infer_schema=False)
    assert df.height == 6
    assert df["customer_id"].to_list()[0] == "0001"


def test_validate_reads_parquet_from_stdin(cli, tmp_path: Path, orders_csv: Path) -> None:
    buf = io.BytesIO()
    pl.read_csv(orders_csv, infer_schema=False).write_parquet(buf)
    result = cli("validate", "-", "-o", "-", "-f", "parquet", input=buf.getvalue())
    assert result.exit_code == 0
    assert pl.read_parquet(io.BytesIO(result.stdout_bytes)).height == 6


def test_validate_gzip_semicolon_cp1252(cli, tmp_path: Path) -> None:
    text = "order_id;order_date;customer_id;sku;quantity;unit_price\n1;01.03.2024;Müller;A;1;2,50\n"
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(text.encode("cp1252")))
    result = cli("validate", str(path), "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert "csv.gz, delimiter semicolon, decimal comma, encoding cp1252" in result.stderr
    assert result.stdout.splitlines()[1] == "1,2024-03-01,Müller,A,1.0,2.5,2.5,"


def test_validate_config_file_columns(cli, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Beleg,Tag,Kunde,Art,Menge,Preis\n1,2024-03-01,7,A,1,2\n")
    cfg = tmp_path / "my.toml"
    cfg.write_text(
        '[columns]\norder_id = "Beleg"\norder_date = "Tag"\ncustomer_id = "Kunde"\n'
        'sku = "Art"\nquantity = "Menge"\nunit_price = "Preis"\n'
    )
    result = cli("validate", str(path), "--config", str(cfg), "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("1,2024-03-01,7,A,1.0,2.0")


def test_validate_env_preset(cli, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "x.csv"
    path.write_text("VBELN,AUDAT,KUNNR,MATNR,KWMENG,NETWR\n0000012,20240301,0000100,M-1,2,10\n")
    monkeypatch.setenv("SEGCHAIN_PRESET", "sap")
    result = cli("validate", str(path), "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "0000012,2024-03-01,0000100,M-1,2.0,5.0,10.0,"


def test_validate_date_order_is_reported(cli, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,12/25/24,1,A,1,1\n")
    result = cli("validate", str(path), "-o", "-")
    assert "dates: month-first" in result.stderr
    assert "2024-12-25" in result.stdout


def test_atomic_output_keeps_previous_file_on_failure(cli, tmp_path: Path) -> None:
    out = tmp_path / "clean.csv"
    out.write_text("previous\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    assert cli("validate", str(bad), "-o", str(out)).exit_code == 1
    assert out.read_text() == "previous\n"


def test_sample_writes_deterministic_files(cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        result = cli("sample", "-o", str(d), "--customers", "50", "--skus", "10", "--years", "1")
        assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in a.iterdir())
    assert names == [
        "customers.csv",
        "items.csv",
        "on_hand.csv",
        "orders.csv",
        "sites.csv",
        "skus.csv",
    ]
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_sample_parquet_orders(cli, tmp_path: Path) -> None:
    result = cli(
        "sample",
        "-o",
        str(tmp_path),
        "--customers",
        "20",
        "--skus",
        "5",
        "--years",
        "1",
        "-f",
        "parquet",
    )
    assert result.exit_code == 0
    assert pl.read_parquet(tmp_path / "orders.parquet").height > 0


def test_sample_rejects_too_few_customers(cli, tmp_path: Path) -> None:
    assert cli("sample", "-o", str(tmp_path), "--customers", "1").exit_code == 2


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--customers", "10000000000", "must be from 2 to 1,000,000, got 10,000,000,000"),
        ("--skus", "10000000000", "must be from 1 to 99,999, got 10,000,000,000"),
    ],
)
def test_sample_refuses_sizes_beyond_its_bound(
    cli, tmp_path: Path, option: str, value: str, message: str
) -> None:
    # --customers 10000000000 died of a MemoryError traceback (74.5 GiB for one array) after
    # making the folder; 100,000 customers take about 4 GB.
    result = cli("sample", "-o", str(tmp_path / "out"), option, value)
    assert result.exit_code == 2
    assert result.stderr == f"segchain sample: Error: {option}: {message}\n"
    assert not (tmp_path / "out").exists()


def test_sample_names_its_format_option_when_refusing_a_format(cli, tmp_path: Path) -> None:
    """'unknown format 'xlsx'; choose one of: csv, parquet' named no option (the other
    commands say '-f' / '--format'). Found by a hostile sweep (session 38)."""
    result = cli("sample", "-o", str(tmp_path / "out"), "-f", "xlsx")
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain sample: Error: -f/--format: unknown format 'xlsx'; choose one of: csv, parquet\n"
    )
    assert not (tmp_path / "out").exists()


def test_installed_executable_help_runs(tmp_path: Path) -> None:
    # A real subprocess: the console script, not the in-process runner.
    exe = Path(sys.executable).with_name("segchain")
    if not exe.exists():
        pytest.skip("segchain console script not installed in this environment")
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "validate" in proc.stdout


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from segchain.cli import app; "
        "heavy = [m for m in ('polars', 'sklearn', 'statsforecast', 'scipy', 'matplotlib') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_broken_pipe_is_quiet(tmp_path: Path, orders_csv: Path) -> None:
    exe = Path(sys.executable).with_name("segchain")
    if not exe.exists():
        pytest.skip("segchain console script not installed in this environment")
    big = tmp_path / "big.csv"
    body = orders_csv.read_text().splitlines()
    big.write_text("\n".join([body[0]] + body[1:4] * 20000) + "\n")
    proc = subprocess.run(
        f"'{exe}' validate '{big}' -o - --quiet | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.startswith("order_id,")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_validated_parquet_is_used_as_is(cli, orders_csv: Path, tmp_path: Path) -> None:
    first = tmp_path / "clean.parquet"
    cli("validate", str(orders_csv), "-o", str(first))
    second = tmp_path / "again.parquet"
    result = cli("validate", str(first), "-o", str(second))
    assert result.exit_code == 0, result.stderr
    assert "cleaned earlier by segchain validate: used as it is" in result.stderr
    assert "read 6 = used 6 + rejected 0" in result.stderr
    assert pl.read_parquet(second).equals(pl.read_parquet(first))


def test_online_retails_short_non_product_codes_apply_only_with_its_preset(cli, tmp_path):
    # "B" (bad debt) and "S" (samples) are Online Retail's codes; in another export they may be
    # products. POST says what it is everywhere.
    lines = ["1,2024-03-01,C1,B,2,3.5", "2,2024-03-01,C1,S,1,4", "3,2024-03-02,C2,POST,1,9"]
    generic = tmp_path / "generic.csv"
    generic.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "\n".join(lines) + "\n"
    )
    retail = tmp_path / "retail.csv"
    retail.write_text(
        "InvoiceNo,InvoiceDate,CustomerID,StockCode,Quantity,UnitPrice\n" + "\n".join(lines) + "\n"
    )
    flags = {}
    for name, path, extra in (
        ("generic", generic, []),
        ("retail", retail, ["--preset", "online-retail"]),
    ):
        out = tmp_path / f"{name}-out.csv"
        result = cli("validate", str(path), *extra, "-o", str(out))
        assert result.exit_code == 0, result.stderr
        df = pl.read_csv(out, schema_overrides={"sku": pl.String})
        flags[name] = dict(zip(df["sku"], df["flag"], strict=True))
    assert flags["generic"] == {"B": None, "S": None, "POST": "non_product"}
    assert flags["retail"] == {"B": "non_product", "S": "non_product", "POST": "non_product"}


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["segment", ""], "INPUT"),
        (["segment", "a.csv", " "], "INPUT"),
        (
            ["validate", "a.csv", "--rejects", "r.csv", "--map", "sku=sku", "-o", "o.csv", ""],
            "INPUT",
        ),
        (["network", "s.csv", "--sites", ""], "--sites"),
        (["stock", "f.csv", "--orders", "", "-o", "p.csv"], "--orders"),
        (["report", ""], "INPUTS"),
    ],
)
def test_an_empty_input_name_is_a_usage_error(cli, tmp_path: Path, args, option) -> None:
    """'segment ""' (an unset $FILE) read the working folder as the export ('the folder holds
    no CSV ...'); 'network --sites ""' said ': is a folder, not a table file' (exit 1)."""
    (tmp_path / "a.csv").write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n")
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain {args[0]}: Error: {option}: the file name is empty\n"
        f"segchain {args[0]}:   hint: an unset shell variable gives an empty name; give the "
        "file's path\n"
    )
    assert not any(p.name in ("o.csv", "r.csv", "p.csv") for p in tmp_path.iterdir())


def test_validate_writes_no_negative_zero(cli, tmp_path: Path) -> None:
    """A return at price 0 (its amount -abs(0.0)) and an export's '-0' were written '-0.0'."""
    export = tmp_path / "z.csv"
    export.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "C1,2024-01-02,7,A,-3,0\n"  # a return at price 0
        "2,2024-01-02,7,A,-0,2.00\n"
        "3,2024-01-02,7,A,2,-0.0\n"
    )
    result = cli("validate", str(export), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    rows = (tmp_path / "o.csv").read_text().splitlines()[1:]
    assert [r.split(",")[4:7] for r in rows] == [
        ["-3.0", "0.0", "0.0"],
        ["0.0", "2.0", "0.0"],
        ["2.0", "0.0", "0.0"],
    ]


@pytest.mark.parametrize("value_option", ["--rejects", "--map", "--date-format"])
def test_an_option_followed_by_another_option_is_missing_its_value(
    cli, orders_csv: Path, tmp_path: Path, value_option: str
) -> None:
    # `--rejects -o clean.csv` took '-o' as the rejects file, then refused clean.csv as an extra
    # argument (or, without it, wrote a file named '-o'): the message named neither mistake.
    out = tmp_path / "clean.csv"
    result = cli("validate", str(orders_csv), value_option, "-o", str(out))
    assert result.exit_code == 2
    assert f"{value_option} needs a value, but the next word is the option -o" in result.stderr
    assert "unexpected extra argument" not in result.stderr
    assert not out.exists() and not (tmp_path / "-o").exists()


def test_a_value_option_last_with_an_option_for_value_writes_nothing(
    cli, orders_csv: Path, tmp_path: Path
) -> None:
    result = cli("validate", str(orders_csv), "-o", str(tmp_path / "clean.csv"), "--rejects", "-q")
    assert result.exit_code == 2
    assert "--rejects needs a value, but the next word is the option -q" in result.stderr
    assert list(tmp_path.glob("*.csv")) == [orders_csv]


def test_values_that_look_like_options_but_are_not_are_still_values(
    cli, orders_csv: Path, tmp_path: Path
) -> None:
    # '-' is stdin/stdout, a negative number is a number: neither is an option name.
    result = cli("validate", str(orders_csv), "-o", "-")
    assert result.exit_code == 0
    result = cli("segment", str(orders_csv), "--k", "-3", "--method", "kmeans")
    assert result.exit_code == 2
    assert "needs a value" not in result.stderr


def test_a_value_spelt_like_the_commands_argument_is_still_a_value(cli, orders_csv: Path) -> None:
    # An argument is no option: `--date-format orders` is a value, refused as a date format.
    result = cli("validate", str(orders_csv), "--date-format", "orders")
    assert "needs a value" not in result.stderr


@pytest.mark.parametrize(
    ("command", "option", "argument"),
    [("costs", "--segments", "SEGMENTS"), ("stock", "--forecast", "FORECAST")],
)
def test_a_positional_input_given_as_an_option_is_named_as_positional(
    cli, tmp_path: Path, command: str, option: str, argument: str
) -> None:
    # `costs --segments seg.parquet` said only "No such option: --segments (Possible options:
    # --assignments, --sheet, --stock-segments)", none of which is what was meant.
    result = cli(command, option, str(tmp_path / "x.parquet"))
    assert result.exit_code == 2
    assert f"{argument} is given without an option name" in result.stderr
    assert f"segchain {command} {tmp_path / 'x.parquet'}" in result.stderr


def test_a_second_input_by_place_is_named_with_the_option_it_belongs_in(
    cli, tmp_path: Path
) -> None:
    # `forecast seg.parquet orders.csv` said only "Missing option '--orders'", and `stock
    # fc.parquet orders.csv` "Got unexpected extra argument(s)": neither said that the file
    # meant for the option was given, or where it goes.
    seg, orders, fc = (str(tmp_path / name) for name in ("seg.parquet", "o.csv", "fc.parquet"))
    result = cli("forecast", seg, orders)
    assert result.exit_code == 2
    assert (
        f"segchain forecast takes 1 input by place (SEGMENTS) and was given 2 ({seg}, {orders}): "
        f"the other goes in --orders, e.g. segchain forecast {seg} --orders {orders}"
    ) in result.stderr
    result = cli("stock", fc, "--items", orders, orders)
    assert result.exit_code == 2
    hint = next(line for line in result.stderr.splitlines() if "hint:" in line)
    assert f"was given 2 ({fc}, {orders}): the other goes in its option, one of " in hint
    # The input options not given, and not the one given (--items).
    assert "--orders" in hint and "--on-hand" in hint and "--items" not in hint
    result = cli("stock", fc, "-q", orders, orders)
    hint = next(line for line in result.stderr.splitlines() if "hint:" in line)
    assert "the others go in their options (--items, " in hint
    # Every input option given: nothing to point at.
    result = cli("forecast", seg, "--orders", orders, "--assignments", orders, orders)
    assert result.exit_code == 2
    assert "by place" not in result.stderr


def test_validate_warns_of_lines_joined_into_an_id_by_a_stray_quote(cli, tmp_path: Path) -> None:
    """A stray quote opening a customer id, and another closing a field three lines below: a
    valid CSV whose rows 2 to 5 were one line, 'read 3 = used 3 + rejected 0' of six, the lines
    between gone into a customer id without a word. Found by a hostile sweep (session 38)."""
    export = tmp_path / "export.csv"
    export.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-01,C1,P1,1,5\n"
        '2,2024-01-02,"C2,P2,1,5\n'
        "3,2024-01-03,C3,P3,1,5\n"
        "4,2024-01-04,C4,P4,1,5\n"
        '5,2024-01-05,C5",P5,1,5\n'
        "6,2024-01-06,C6,P6,1,5\n"
    )
    result = cli("validate", str(export), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain validate: Warning: customer_id: 1 line holds a line break in its id (row 2: "
        "'C2,P2,1,5\\n3,2024-01-03,C3,P3,1,5\\n4,2024-01-04,C4,P4,1,5\\n5,2024-01-05,C5'): a "
        "quoted field spanning lines joined them into one, so the lines in it are not read as "
        "order lines; check the export's quotes there (a stray \" opening the field)\n"
    ) in result.stderr


@pytest.mark.parametrize("where", ["option", "environment", "config"])
def test_a_preset_is_named_in_any_capitals(cli, tmp_path: Path, monkeypatch, where) -> None:
    """`--preset SAP` (the vendor's own spelling) was refused, exit 2, 'unknown preset 'SAP'
    (did you mean 'sap'?)', where --method RFM and --service-measure CSL are read in any
    capitals (noticed by hostile4, s43); from $SEGCHAIN_PRESET and a config's preset too."""
    path = tmp_path / "x.csv"
    path.write_text("VBELN,AUDAT,KUNNR,MATNR,KWMENG,NETWR\n0000012,20240301,0000100,M-1,2,10\n")
    args = ["validate", str(path), "-o", "-"]
    if where == "option":
        args += ["--preset", "SAP"]
    elif where == "environment":
        monkeypatch.setenv("SEGCHAIN_PRESET", "Sap")
    else:
        cfg = tmp_path / "segchain.toml"
        cfg.write_text('preset = "SAP"\n')
        args += ["--config", str(cfg)]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "0000012,2024-03-01,0000100,M-1,2.0,5.0,10.0,"
