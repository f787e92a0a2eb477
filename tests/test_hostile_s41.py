"""Hostile-user findings of session 41: each test fails on the code before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("segchain")
needs_exe = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

ORDERS = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-03-{1 + i % 28:02d},C{i % 7},S{i % 3},{1 + i % 4},10\n" for i in range(60)
)
BAD_LINE = "61,not a date,C1,S1,1,10\n"


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    return path


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.run([str(EXE), *args], capture_output=True, timeout=120, **kwargs)


def closed_pipe() -> int:
    """The write end of a pipe whose reader is gone: `| head` once head has exited."""
    read, write = os.pipe()
    os.close(read)
    return write


# ---- a closed pipe on stderr -------------------------------------------------------------------
# `segchain segment orders.csv -o seg.csv 2>&1 | head -1`: once head had exited, the next message
# killed the run with SIGPIPE (exit 141) before seg.csv was written.


@needs_exe
@pytest.mark.parametrize("command", ["validate", "segment"])
def test_outputs_are_written_when_stderr_is_a_closed_pipe(
    orders: Path, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "out.csv"
    stderr = closed_pipe()
    try:
        proc = subprocess.run(
            [str(EXE), command, str(orders), "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            timeout=120,
        )
    finally:
        os.close(stderr)
    assert proc.returncode == 0
    assert (
        out.read_text()
        .splitlines()[0]
        .startswith("order_id," if command == "validate" else "customer_id,")
    )


@needs_exe
def test_a_data_error_still_exits_1_when_stderr_is_a_closed_pipe(tmp_path: Path) -> None:
    stderr = closed_pipe()
    try:
        proc = subprocess.run(
            [str(EXE), "validate", str(tmp_path / "missing.csv")], stderr=stderr, timeout=120
        )
    finally:
        os.close(stderr)
    assert proc.returncode == 1


# A table on stdout into a closed pipe still ends the run quietly with SIGPIPE's code (a shell
# saw 141 before too, when SIGPIPE killed it), and now writes none of its other outputs and
# leaves no temporary file: the kill had left '.rejects.csv.XXXX.tmp' beside --rejects.


@needs_exe
def test_a_table_on_a_closed_stdout_ends_quietly_and_leaves_no_file(
    orders: Path, tmp_path: Path
) -> None:
    orders.write_text(ORDERS + BAD_LINE)
    stdout = closed_pipe()
    try:
        proc = subprocess.run(
            [str(EXE), "validate", str(orders), "-o", "-", "--rejects", "rejects.csv"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        os.close(stdout)
    assert proc.returncode == 141
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr
    assert b"Error" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


@needs_exe
@pytest.mark.parametrize("words", [["stock", "--help"], ["--version"]], ids=["help", "version"])
def test_help_on_a_closed_stdout_ends_with_sigpipes_code(words: list[str]) -> None:
    # rich and click catch BrokenPipeError themselves and exit 1: a shell saw 141 while SIGPIPE
    # killed the run, and sees it still.
    stdout = closed_pipe()
    try:
        proc = subprocess.run(
            [str(EXE), *words], stdout=stdout, stderr=subprocess.PIPE, timeout=120
        )
    finally:
        os.close(stdout)
    assert proc.returncode == 141
    assert proc.stderr == b""


# ---- control characters in file names ----------------------------------------------------------
# A file named 'evil\nsegchain segment: wrote 400 customers to ok.csv' printed its name raw: a
# forged line on stderr; an ESC sequence in a name reached the terminal as it was.

FORGED = "evil\nsegchain segment: wrote 400 customers to ok"
COLOURED = "esc\x1b[31mRED\x1b[0m"


def stderr_lines(text: str, command: str) -> list[str]:
    lines = text.splitlines()
    assert all(line.startswith(f"segchain {command}: ") for line in lines), text
    return lines


def test_quote_name_escapes_control_characters_as_python_writes_them() -> None:
    from segchain.formatting import quote_name

    assert quote_name("orders 2024.csv") == "orders 2024.csv"
    assert quote_name("a\nb.csv") == "'a\\nb.csv'"
    assert quote_name("it's\t.csv") == "'it\\'s\\t.csv'"
    assert quote_name("a\x1b[2Jb") == "'a\\x1b[2Jb'"
    assert quote_name("a\u202eb") == "'a\\u202eb'"
    assert quote_name("a\rb\udcff") == "'a\\rb\\xff'"  # a byte that is not UTF-8: \xff, as ever


def test_a_name_ending_in_a_newline_is_quoted_as_a_word_only() -> None:
    # A file named 'a\n' (quoted where a message names it) made every line of a message that
    # ended in 'a' end in "'a\n'": "check the dat'a\n'".
    from segchain.formatting import quote_names

    text = "--items a\n: no such file\n  hint: check the data\n"
    assert quote_names(text, ["a\n"]) == "--items 'a\\n': no such file\n  hint: check the data\n"


def test_a_missing_file_with_a_newline_in_its_name_is_one_quoted_line(cli, tmp_path) -> None:
    missing = tmp_path / f"{FORGED}.csv"
    result = cli("segment", str(missing), "-o", str(tmp_path / "seg.csv"))
    assert result.exit_code == 1
    assert stderr_lines(result.stderr, "segment")[0] == (
        f"segchain segment: Error: '{tmp_path}/evil\\nsegchain segment: wrote 400 customers to "
        "ok.csv': no such file"
    )


def test_file_names_with_control_characters_are_quoted_in_every_message(cli, tmp_path) -> None:
    source = tmp_path / f"{FORGED}.csv"
    source.write_text(ORDERS)
    out = tmp_path / f"{COLOURED}.csv"
    result = cli("segment", str(source), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    lines = stderr_lines(result.stderr, "segment")
    assert "\x1b" not in result.stderr
    shown_in = f"'{tmp_path}/evil\\nsegchain segment: wrote 400 customers to ok.csv'"
    shown_out = f"'{tmp_path}/esc\\x1b[31mRED\\x1b[0m.csv'"
    assert (
        lines[0]
        == f"segchain segment: {shown_in}: csv, delimiter comma, decimal point, encoding utf-8"
    )
    assert lines[-1] == f"segchain segment: wrote 7 customers to {shown_out} (csv)"
    assert out.read_text().startswith("customer_id,")


def test_a_tab_in_a_file_name_is_quoted(cli, tmp_path) -> None:
    source = tmp_path / "tab\there.csv"
    source.write_text("x,y\n1,2\n")
    result = cli("validate", str(source))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"segchain validate: Error: '{tmp_path}/tab\\there.csv': missing required columns "
    ), result.stderr


def test_a_file_found_in_a_folder_is_quoted(cli, tmp_path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / f"{FORGED}.csv").write_text("x,y\n1,2\n")
    result = cli("segment", str(folder))
    assert result.exit_code == 1
    assert stderr_lines(result.stderr, "segment")[0].startswith(
        f"segchain segment: Error: '{folder}/evil\\nsegchain segment: wrote 400 customers to "
        "ok.csv': missing required columns "
    )


def test_an_escape_sequence_in_a_header_reaches_stderr_escaped(cli, tmp_path) -> None:
    source = tmp_path / "seg.csv"
    source.write_text("customer_id,segment\x1b[2J,lat\nC1,A,1\n")
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lat,lon,capacity\nS1,50,8,100\n")
    result = cli("network", str(source), "--sites", str(sites))
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr
    assert "segment\\x1b[2J" in result.stderr


# ---- a config (and report's inputs) from a pipe -------------------------------------------------
# `segchain forecast ... --config <(cat segchain.toml)` said "--config /dev/fd/63: is a pipe, not a
# config file" (exit 2). A config is read once, in one go: a pipe works as a file does.

MAPPED_ORDERS = ORDERS.replace("customer_id", "KUNNR", 1)
CONFIG = '[columns]\ncustomer_id = "KUNNR"\n'


def pipe_holding(data: bytes) -> int:
    """The read end of a pipe holding ``data`` and then closed: `<(cat FILE)`."""
    read, write = os.pipe()
    with os.fdopen(write, "wb") as stream:  # small: the pipe's buffer holds it all
        stream.write(data)
    return read


@needs_exe
@pytest.mark.parametrize("given", ["--config", "SEGCHAIN_CONFIG"])
def test_a_config_is_read_from_a_pipe(tmp_path: Path, given: str) -> None:
    (tmp_path / "orders.csv").write_text(MAPPED_ORDERS)
    fd = pipe_holding(CONFIG.encode())
    config = f"/dev/fd/{fd}"
    args = ["validate", "orders.csv", "-o", "clean.csv"]
    env = dict(os.environ)
    if given == "--config":
        args += ["--config", config]
    else:
        env["SEGCHAIN_CONFIG"] = config
    try:
        proc = run(*args, cwd=tmp_path, env=env, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert proc.returncode == 0, proc.stderr
    assert (
        (tmp_path / "clean.csv")
        .read_text()
        .splitlines()[0]
        .startswith("order_id,order_date,customer_id,")
    )


@needs_exe
def test_report_reads_a_parquet_table_from_a_pipe(cli, orders: Path, tmp_path: Path) -> None:
    seg = tmp_path / "seg.parquet"
    assert cli("segment", str(orders), "-o", str(seg)).exit_code == 0
    fd = pipe_holding(seg.read_bytes())
    try:
        proc = run("report", f"/dev/fd/{fd}", "-o", "r.md", cwd=tmp_path, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert proc.returncode == 0, proc.stderr
    assert "Segment" in (tmp_path / "r.md").read_text()


@needs_exe
def test_a_workbook_from_a_pipe_is_read_at_its_sheet(tmp_path: Path) -> None:
    # --sheet looked at the input's first bytes (is it a workbook?) before reading it: from a
    # pipe those bytes were gone, and the rest was read as a CSV.
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "book.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("cover").write(0, 0, "Orders of March")
    sheet = book.add_worksheet("orders")
    for i, line in enumerate(ORDERS.splitlines()):
        for j, value in enumerate(line.split(",")):
            sheet.write(i, j, value)
    book.close()
    fd = pipe_holding(path.read_bytes())
    try:
        proc = run(
            "validate",
            f"/dev/fd/{fd}",
            "--sheet",
            "orders",
            "-o",
            "v.csv",
            cwd=tmp_path,
            pass_fds=(fd,),
        )
    finally:
        os.close(fd)
    assert proc.returncode == 0, proc.stderr
    assert len((tmp_path / "v.csv").read_text().splitlines()) == 61


# ---- a stage table's column names in other capitals ---------------------------------------------
# A segments table whose column was `Segment` (an export's, a spreadsheet's) made network run one
# segment 'all' ("none of the 1 segments ('all') is named in the config"), and forecast and costs
# refuse it ("missing required column segment; found customer_id, Segment, ..."), while order
# exports' headers were matched whatever their capitals. Every command now reads a stage table's
# columns as segchain's names whatever their capitals, and says so.

CAP_SEGMENTS = "customer_id,Segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,48.9,2.3,5\n"
NOTE = "read column 'Segment' as segment (column names are matched whatever their capitals)"
HISTORY = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-{1 + i * 3 // 28:02d}-{1 + i * 3 % 28:02d},C{i % 2 + 1},P{i % 3 + 1},{i % 4 + 1},5\n"
    for i in range(1, 41)
)


def test_costs_reads_a_capitalised_segment_column(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "seg.csv").write_text(CAP_SEGMENTS)
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-01,C1,P1,10,5\n2,2024-02-01,C2,P1,5,5\n3,2024-03-01,C1,P2,2,7\n"
    )
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "-o", "costs.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain costs: SEGMENTS seg.csv: {NOTE}\n" in result.stderr
    revenue = dict(pl.read_csv(tmp_path / "costs.csv").select("segment", "revenue").iter_rows())
    assert revenue == {"A": 10 * 5 + 2 * 7, "B": 5 * 5}


def test_network_reads_a_capitalised_segment_column(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "seg.csv").write_text(CAP_SEGMENTS)
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,capacity\nS1,50,8,100\n")
    result = cli("network", "seg.csv", "--sites", "sites.csv", "-o", "asg.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain network: CUSTOMERS seg.csv: {NOTE}\n" in result.stderr
    asg = pl.read_csv(tmp_path / "asg.csv")
    assert dict(asg.select("customer_id", "segment").iter_rows()) == {"C1": "A", "C2": "B"}


def test_forecast_reads_a_capitalised_segment_column(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "seg.csv").write_text(CAP_SEGMENTS)
    (tmp_path / "orders.csv").write_text(HISTORY)
    result = cli("forecast", "seg.csv", "--orders", "orders.csv", "--horizon", "2", "-o", "fc.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain forecast: SEGMENTS seg.csv: {NOTE}\n" in result.stderr
    segment_of = {"C1": "A", "C2": "B"}
    bought = {
        f"{segment_of[line.split(',')[2]]}/{line.split(',')[3]}"
        for line in HISTORY.splitlines()[1:]
    }
    assert set(pl.read_csv(tmp_path / "fc.csv")["unique_id"]) == bought


def test_stock_reads_a_forecast_whose_columns_are_capitalised(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "seg.csv").write_text(CAP_SEGMENTS.replace("Segment", "segment"))
    (tmp_path / "orders.csv").write_text(HISTORY)
    made = cli("forecast", "seg.csv", "--orders", "orders.csv", "--horizon", "2", "-o", "fc.csv")
    assert made.exit_code == 0, made.stderr
    fc = pl.read_csv(tmp_path / "fc.csv")
    fc.rename({"sku": "SKU", "forecast": "Forecast", "unique_id": "Unique_ID"}).write_csv(
        tmp_path / "fc_caps.csv"
    )
    result = cli("stock", "fc_caps.csv", "-o", "caps.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain stock: FORECAST fc_caps.csv: read columns 'Unique_ID' as unique_id, 'Forecast' "
        "as forecast, 'SKU' as sku (column names are matched whatever their capitals)\n"
    ) in result.stderr
    assert cli("stock", "fc.csv", "-o", "plain.csv").exit_code == 0
    assert pl.read_csv(tmp_path / "caps.csv").equals(pl.read_csv(tmp_path / "plain.csv"))


def test_segment_reads_previous_segments_whose_column_is_capitalised(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    assert cli("segment", "orders.csv", "-o", "seg.csv").exit_code == 0
    text = (tmp_path / "seg.csv").read_text()
    (tmp_path / "prev.csv").write_text(
        text.replace("customer_id,segment,", "customer_id,Segment,", 1)
    )
    result = cli("segment", "orders.csv", "--previous", "prev.csv", "-o", "again.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain segment: --previous prev.csv: {NOTE}\n" in result.stderr
    assert "0 customers changed segment since prev.csv" in result.stderr


def test_report_recognises_segments_whose_column_is_capitalised(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    assert cli("segment", "orders.csv", "-o", "seg.csv").exit_code == 0
    text = (tmp_path / "seg.csv").read_text()
    (tmp_path / "caps.csv").write_text(
        text.replace("customer_id,segment,", "customer_id,Segment,", 1)
    )
    result = cli("report", "caps.csv", "-o", "r.md")
    assert result.exit_code == 0, result.stderr
    assert f"segchain report: caps.csv: {NOTE}\n" in result.stderr
    assert (
        "segchain report: caps.csv: segments, 2 rows (recognised by its columns)" in result.stderr
    )


def test_two_spellings_of_one_column_are_not_guessed_between(cli, tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text(
        CAP_SEGMENTS.replace("Segment,", "Segment,SEGMENT,")
        .replace(",A,", ",A,A,")
        .replace(",B,", ",B,B,")
    )
    (tmp_path / "orders.csv").write_text(HISTORY)
    result = cli("costs", "seg.csv", "--orders", "orders.csv", "-o", "costs.csv")
    assert result.exit_code == 1
    assert "missing required column segment; found customer_id, Segment, SEGMENT" in result.stderr


# ---- a config tomllib cannot read without a traceback ------------------------------------------
# Lists nested 50,000 deep ended in "RecursionError: maximum recursion depth exceeded", a number
# of 5,000 digits in "ValueError: Exceeds the limit (4300 digits) for integer string conversion":
# tracebacks, exit 1.


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("a = " + "[" * 50_000 + "]" * 50_000 + "\n", "values nested too deeply to read"),
        ("[network]\nkm_per_day = " + "9" * 5_000 + "\n", "a whole number too long to read"),
    ],
    ids=["nested", "long number"],
)
def test_a_config_too_deep_or_long_to_read_is_a_usage_error(
    cli, orders: Path, tmp_path: Path, text: str, what: str
) -> None:
    (tmp_path / "odd.toml").write_text(text)
    result = cli("validate", str(orders), "--config", "odd.toml", "-o", "clean.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain validate: Error: --config odd.toml: not a segchain.toml: {what}"
    ), result.stderr
    assert not (tmp_path / "clean.csv").exists()


# ---- invisible characters around a column's name ----------------------------------------------
# pandas reads a CSV saved with a byte-order mark as '\ufeffcustomer_id' (unless told utf-8-sig),
# and to_parquet keeps the mark: "missing required column customer_id; found \ufeffcustomer_id,
# ...", the mark unseen in the message. A zero-width space before 'segment' (pasted from a web
# page) made network plan one segment 'all'.

COST_ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-01,C1,P1,10,5\n2,2024-02-01,C2,P1,5,5\n3,2024-03-01,C1,P2,2,7\n"
)


def test_a_byte_order_mark_in_a_parquet_stage_tables_column_name_is_dropped(
    cli, tmp_path: Path
) -> None:
    import polars as pl

    frame = pl.read_csv(CAP_SEGMENTS.encode()).rename(
        {"customer_id": "\ufeffcustomer_id", "Segment": "segment"}
    )
    frame.write_parquet(tmp_path / "seg.parquet")
    (tmp_path / "orders.csv").write_text(COST_ORDERS)
    result = cli("costs", "seg.parquet", "--orders", "orders.csv", "-o", "costs.csv")
    assert result.exit_code == 0, result.stderr
    revenue = dict(pl.read_csv(tmp_path / "costs.csv").select("segment", "revenue").iter_rows())
    assert revenue == {"A": 10 * 5 + 2 * 7, "B": 5 * 5}


def test_a_byte_order_mark_in_a_parquet_order_exports_column_name_is_dropped(
    cli, tmp_path: Path
) -> None:
    import polars as pl

    frame = pl.read_csv(ORDERS.encode(), infer_schema_length=0)
    frame.rename({"order_id": "\ufefforder_id"}).write_parquet(tmp_path / "orders.parquet")
    result = cli("validate", "orders.parquet", "-o", "clean.csv")
    assert result.exit_code == 0, result.stderr
    clean = pl.read_csv(tmp_path / "clean.csv", infer_schema_length=0)
    assert clean["order_id"].to_list() == frame["order_id"].to_list()


def test_a_zero_width_space_before_a_column_name_is_dropped(cli, tmp_path: Path) -> None:
    import polars as pl

    (tmp_path / "seg.csv").write_text(CAP_SEGMENTS.replace("Segment", "\u200bsegment"))
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,capacity\nS1,50,8,100\n")
    result = cli("network", "seg.csv", "--sites", "sites.csv", "-o", "asg.csv")
    assert result.exit_code == 0, result.stderr
    asg = pl.read_csv(tmp_path / "asg.csv")
    assert dict(asg.select("customer_id", "segment").iter_rows()) == {"C1": "A", "C2": "B"}


# ---- a device given as a table ------------------------------------------------------------------
# `segchain validate /dev/zero` (or `--items /dev/urandom`, a link named x.csv to either) read the
# device whole: the memory filled until the kernel killed the run, exit 137 and no message.


def _capped_memory() -> None:  # the old code's read of /dev/zero must end in the test
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


@needs_exe
@pytest.mark.parametrize("device", ["/dev/zero", "link"])
def test_a_device_given_as_a_table_is_refused(tmp_path: Path, device: str) -> None:
    if device == "link":
        (tmp_path / "seg.csv").symlink_to("/dev/zero")
    source = "seg.csv" if device == "link" else device
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,capacity\nS1,50,8,100\n")
    proc = run(
        "network",
        source,
        "--sites",
        "sites.csv",
        "-o",
        "asg.csv",
        cwd=tmp_path,
        preexec_fn=_capped_memory,
    )
    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        f"segchain network: Error: CUSTOMERS {source}: is a device, not a table file\n"
        "segchain network:   hint: give the file the table was saved to\n"
    )


def test_dev_null_as_a_table_is_still_an_empty_file(cli) -> None:
    result = cli("validate", "/dev/null")
    assert result.exit_code == 1
    assert result.stderr.startswith("segchain validate: Error: /dev/null: the file is empty\n")


# ---- a file name's newline in the report's "Made by" line ---------------------------------------
# The report quotes the command that makes it again with shlex, which keeps a newline as it is:
# a file named 'x\n# Hacked <img src=x onerror=alert(1)>.csv' split the line, and in Markdown the
# rest became a heading of its own, its raw HTML rendered by renderers that allow it.


def test_the_reports_command_line_keeps_a_file_names_newline_quoted(cli, tmp_path: Path) -> None:
    import shutil

    (tmp_path / "orders.csv").write_text(HISTORY)
    assert cli("segment", "orders.csv", "-o", "seg.csv").exit_code == 0
    name = "x\n# Hacked <img src=x onerror=alert(1)>.csv"
    (tmp_path / "seg.csv").rename(tmp_path / name)
    result = cli("report", name, "-o", "r.md")
    assert result.exit_code == 0, result.stderr
    lines = (tmp_path / "r.md").read_text().splitlines()
    assert not any(line.startswith("# Hacked") for line in lines)
    [made] = [line for line in lines if line.startswith("Made by segchain")]
    command = made.split("with: `", 1)[1].removesuffix("`")
    assert command.startswith("segchain report $'x\\n# Hacked ")
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash to read the command back")
    words = command.removeprefix("segchain report ")
    read_back = subprocess.run(
        [bash, "-c", f"set -- {words}; printf '%s' \"$1\""], capture_output=True, check=True
    )
    assert read_back.stdout.decode() == name


# ---- --previous named without its file ----------------------------------------------------------
# segment's check of --previous said "--previous: missing required column customer_id; found cust,
# segment": every other table given by an option is named with its file.


def test_previous_segments_missing_a_column_are_named_with_their_file(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(HISTORY)
    (tmp_path / "prev.csv").write_text("cust,segment\nC1,A\n")
    result = cli("segment", "orders.csv", "--previous", "prev.csv", "-o", "seg.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "segchain segment: Error: --previous prev.csv: missing required column customer_id; "
        "found cust, segment\n"
    ), result.stderr
    assert not (tmp_path / "seg.csv").exists()
