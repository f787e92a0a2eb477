"""Hostile-user findings of session 40: each test fails on the code before its fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("segchain")
needs_exe = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

ORDERS = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-03-{1 + i % 28:02d},C{i % 7},S{i % 3},{1 + i % 4},10\n" for i in range(60)
)


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    return path


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.run([str(EXE), *args], capture_output=True, timeout=120, **kwargs)


# ---- an output onto the file that stdin reads ------------------------------------------------
# `segchain segment -o orders.csv < orders.csv` replaced the orders with the segments, exit 0
# (and so did `-o /dev/stdin`, `-o /dev/fd/0`, which resolve to that file): '-' was no path to
# compare the outputs with.


@needs_exe
@pytest.mark.parametrize(
    ("command", "dest"),
    [("segment", "same"), ("validate", "same"), ("segment", "/dev/fd/0")],
)
def test_output_onto_the_file_stdin_reads_is_refused(orders: Path, command: str, dest: str) -> None:
    target = str(orders) if dest == "same" else dest
    with open(orders, "rb") as stdin:
        proc = run(command, "-", "-o", target, stdin=stdin)
    assert proc.returncode == 2, proc.stderr
    assert (
        f"segchain {command}: Error: -o {target}: is also the input INPUT <stdin> "
        f"(stdin reads {orders}); writing it would destroy the input\n"
    ).encode() in proc.stderr
    assert orders.read_text() == ORDERS
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv"]


@needs_exe
def test_rejects_onto_the_file_stdin_reads_is_refused(orders: Path, tmp_path: Path) -> None:
    with open(orders, "rb") as stdin:
        proc = run(
            "validate", "-", "--rejects", str(orders), "-o", str(tmp_path / "v.csv"), stdin=stdin
        )
    assert proc.returncode == 2, proc.stderr
    assert b"--rejects " + str(orders).encode() + b": is also the input INPUT <stdin>" in (
        proc.stderr
    )
    assert orders.read_text() == ORDERS


@needs_exe
def test_stdin_from_a_file_still_writes_another_file(orders: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.csv"
    with open(orders, "rb") as stdin:
        proc = run("validate", "-", "-o", str(out), stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("order_id,")
    assert orders.read_text() == ORDERS


# ---- a file whose name starts with a dash ------------------------------------------------------
# `segchain validate -export.csv` said "No such option: -e" (hint: -h lists the options), and
# `segchain validate -o.csv -o clean.csv` took '-o.csv' as `-o .csv`, then read an empty stdin:
# "<stdin>: the file is empty". Neither said that the word is a file, nor how to name it.


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("-export.csv", ("validate", "-export.csv", "-o", "clean.csv")),
        ("-o.csv", ("validate", "-o.csv", "-o", "clean.csv")),
        ("--orders.csv", ("segment", "--orders.csv")),
    ],
)
def test_a_file_named_like_an_option_is_named_with_how_to_give_it(
    cli, tmp_path: Path, name: str, args: tuple[str, ...]
) -> None:
    (tmp_path / name).write_text(ORDERS)
    result = cli(*args)
    assert result.exit_code == 2
    command = args[0]
    assert result.stderr.startswith(
        f"segchain {command}: Error: {name} is a file, but a word starting with a dash is "
        f"read as an option\n"
    ), result.stderr
    assert f"segchain {command}:   hint: write it as ./{name} (or put -- before it)\n" in (
        result.stderr
    )
    assert not (tmp_path / "clean.csv").exists()


def test_a_file_named_like_an_option_is_read_as_dot_slash_name(cli, tmp_path: Path) -> None:
    (tmp_path / "-export.csv").write_text(ORDERS)
    result = cli("validate", "./-export.csv", "-o", "clean.csv")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "clean.csv").read_text().startswith("order_id,")


def test_an_option_value_starting_with_a_dash_is_still_a_value(cli, tmp_path: Path) -> None:
    # The word after an option that takes a value is that value, whatever it is spelt like.
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "-rejects.csv").write_text("old\n")
    result = cli("validate", "orders.csv", "--rejects", "-rejects.csv", "-o", "clean.csv")
    assert result.exit_code == 0, result.stderr


# ---- stderr that cannot be written ------------------------------------------------------------
# With stderr on a full disk (`2>>run.log`, ENOSPC) the first message failed and the command
# exited 1 with nothing written; with stderr closed (`2>&-`) Python has no sys.stderr and every
# command died of "'NoneType' object has no attribute 'write'", exit 1, nothing written.


@needs_exe
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("stderr", ["closed", "full"])
def test_outputs_are_written_when_stderr_cannot_be(
    orders: Path, tmp_path: Path, stderr: str
) -> None:
    out = tmp_path / "clean.csv"
    redirect = "2>&-" if stderr == "closed" else "2>/dev/full"
    proc = subprocess.run(
        f"exec '{EXE}' validate '{orders}' -o '{out}' {redirect}",
        shell=True,
        timeout=120,
    )
    assert proc.returncode == 0
    assert out.read_text().startswith("order_id,")
    assert len(out.read_text().splitlines()) == 61


@needs_exe
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("stderr", ["closed", "full"])
def test_a_data_error_still_exits_1_when_stderr_cannot_be_written(
    tmp_path: Path, stderr: str
) -> None:
    redirect = "2>&-" if stderr == "closed" else "2>/dev/full"
    missing = tmp_path / "missing.csv"
    proc = subprocess.run(f"exec '{EXE}' validate '{missing}' {redirect}", shell=True, timeout=120)
    assert proc.returncode == 1


# ---- a closed stdin ---------------------------------------------------------------------------
# `segchain validate - <&-` said "refusing to wait for a table typed at the terminal on stdin":
# there was no terminal, and no stdin at all.


@needs_exe
def test_a_closed_stdin_is_named_as_closed(tmp_path: Path) -> None:
    proc = subprocess.run(
        f"exec '{EXE}' validate - -o '{tmp_path / 'clean.csv'}' <&-",
        shell=True,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        b"segchain validate: Error: stdin is closed: there is no table to read on it\n"
    ), proc.stderr
    assert not (tmp_path / "clean.csv").exists()


# ---- spaces around a Parquet column's name ------------------------------------------------------
# A CSV header's names are stripped ('segment ' is segment); the same table as Parquet (pandas'
# to_parquet of a frame read from a spreadsheet) was refused: "SEGMENTS seg.parquet: missing
# required column segment; found customer_id, segment , ...".

SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,48.9,2.3,5\n"
COST_ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-01,C1,P1,10,5\n2,2024-02-01,C2,P1,5,5\n3,2024-03-01,C1,P2,2,7\n"
)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_spaces_around_a_stage_tables_column_names_are_stripped(
    cli, tmp_path: Path, fmt: str
) -> None:
    import polars as pl

    frame = pl.read_csv(SEGMENTS.encode()).rename({"segment": " segment "})
    segments = tmp_path / f"seg.{fmt}"
    frame.write_csv(segments) if fmt == "csv" else frame.write_parquet(segments)
    (tmp_path / "orders.csv").write_text(COST_ORDERS)
    out = tmp_path / "costs.csv"
    result = cli("costs", str(segments), "--orders", "orders.csv", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    revenue = dict(pl.read_csv(out).select("segment", "revenue").iter_rows())
    assert revenue == {"A": 10 * 5 + 2 * 7, "B": 5 * 5}


def test_spaces_around_a_parquet_order_exports_column_names_are_stripped(
    cli, tmp_path: Path
) -> None:
    import polars as pl

    frame = pl.read_csv(ORDERS.encode(), infer_schema_length=0)
    frame.rename({"customer_id": "customer_id ", "sku": " sku"}).write_parquet(
        tmp_path / "orders.parquet"
    )
    result = cli("validate", "orders.parquet", "-o", "clean.csv")
    assert result.exit_code == 0, result.stderr
    clean = pl.read_csv(tmp_path / "clean.csv", infer_schema_length=0)
    assert clean["customer_id"].to_list() == frame["customer_id"].to_list()


# ---- an output name ending in '/' ---------------------------------------------------------------
# `-o results/` (a folder meant, not there yet) wrote a CSV file named 'results', exit 0; and
# `-o seg.csv/` replaced the file seg.csv: pathlib drops the trailing slash that says "folder".


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing file"])
def test_an_output_name_ending_in_a_slash_is_refused(cli, tmp_path: Path, existing: bool) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    if existing:
        (tmp_path / "results").write_text("earlier\n")
    result = cli("validate", "orders.csv", "-o", "results/")
    assert result.exit_code == 2
    why = "'results' is a file" if existing else "no folder 'results' exists"
    assert result.stderr.startswith(
        f"segchain validate: Error: -o results/: a name ending in '/' is a folder, and {why}\n"
    ), result.stderr
    assert (tmp_path / "results").exists() == existing
    if existing:
        assert (tmp_path / "results").read_text() == "earlier\n"


def test_an_existing_folder_with_a_slash_is_still_named_as_a_folder(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "results").mkdir()
    result = cli("validate", "orders.csv", "-o", "results/")
    assert result.exit_code == 2
    assert "segchain validate: Error: -o results/: is a folder\n" in result.stderr
