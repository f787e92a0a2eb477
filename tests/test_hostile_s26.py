"""Hostile users and faulty machines (session 26): inputs, options and signals that gave a
traceback, a misleading message, litter beside an output or an input silently ignored."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "O1,2024-01-02,C1,S1,2,10\n"
    "O2,2024-01-09,C2,S1,1,10\n"
    "O3,2024-02-05,C1,S2,4,5\n"
    "O4,2024-02-20,C3,S2,1,5\n"
)


def orders_frame() -> pl.DataFrame:
    return pl.read_csv(ORDERS.encode(), schema_overrides={"order_date": pl.Date})


# --- Parquet column types -----------------------------------------------------------------


def test_a_categorical_date_column_is_read_as_its_text(cli, tmp_path: Path) -> None:
    # pandas writes a `category` column as an Arrow dictionary; polars reads it as Categorical,
    # which the date reader tried to cast to numbers: "cannot cast categorical types to Float64".
    path = tmp_path / "orders.parquet"
    orders_frame().with_columns(
        pl.col("order_date").cast(pl.String).cast(pl.Categorical)
    ).write_parquet(path)
    result = cli("validate", str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv")
    assert out["order_date"].to_list() == ["2024-01-02", "2024-01-09", "2024-02-05", "2024-02-20"]


def test_report_joins_categorical_keys_with_text_keys(cli, tmp_path: Path) -> None:
    # Segments with coordinates and assignments without: the report joins them on customer_id;
    # categorical ids in the assignments gave "datatypes of join keys don't match" (a traceback).
    segments = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "segment": ["A", "A", "B"],
            "segment_rank": [1, 1, 2],
            "lat": [50.1, 48.9, 52.5],
            "lon": [8.7, 2.3, 13.4],
        }
    )
    assignments = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "segment": ["A", "A", "B"],
            "site_id": ["S1", "S1", "S2"],
            "distance_km": [1.0, 2.0, 3.0],
            "sla_met": [True, True, False],
            "demand": [1.0, 2.0, 3.0],
        }
    ).with_columns(pl.col("customer_id", "segment", "site_id").cast(pl.Categorical))
    segments.write_parquet(tmp_path / "seg.parquet")
    assignments.write_parquet(tmp_path / "asg.parquet")
    result = cli(
        "report", str(tmp_path / "seg.parquet"), str(tmp_path / "asg.parquet"), "-o", "r.md"
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "r.md").exists()


def test_a_decimal_wider_than_38_digits_is_named_not_a_traceback(cli, tmp_path: Path) -> None:
    # BigQuery's BIGNUMERIC and a NUMERIC(60, 10) arrive as Parquet decimal256: polars reads the
    # schema but not the data ("precision must be between 1 and 38", a traceback).
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = orders_frame().to_arrow()
    index = table.schema.get_field_index("quantity")
    wide = pa.array([2, 1, 4, 1], type=pa.int64()).cast(pa.decimal256(60, 10))
    pq.write_table(table.set_column(index, "quantity", wide), tmp_path / "orders.parquet")
    (tmp_path / "out.csv").write_text("before\n")
    result = cli("validate", str(tmp_path / "orders.parquet"), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 1
    assert "column 'quantity' is a decimal of 60 digits; at most 38 can be read" in result.stderr
    assert "a decimal of at most 38 digits or a double" in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


# --- option values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--n-jobs", "0"], "--n-jobs"),
        (["--config", "nj.toml"], "nj.toml [forecast] n_jobs"),
    ],
)
def test_forecast_zero_jobs_is_a_usage_error(cli, tmp_path: Path, args, where) -> None:
    # 0 passed the declared rule (>= -1) and, from 200 series on, the local engine split the
    # series into 0 parts: "ValueError: number sections must be larger than 0" (a traceback).
    (tmp_path / "nj.toml").write_text("[forecast]\nn_jobs = 0\n")
    result = cli("forecast", "missing.csv", "--orders", "missing.csv", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain forecast: Error: {where}: must be -1 (every core) or a whole number of "
        "processes >= 1, got 0"
    )


# --- signals ------------------------------------------------------------------------------

# Runs the real entry point; the CSV writer sends the signal to its own process once the
# temporary output file holds part of the data, as `timeout` or `kill` would mid-write.
SIGNAL_MID_WRITE = """
import os, signal, sys
import segchain.tableio as tableio
from segchain.cli import main

SIGNAL = getattr(signal, sys.argv[1])
plain = tableio._csv_writer

def killed_mid_write(df):
    write = plain(df)
    def partial(stream):
        stream.write(b"order_id,partial")
        stream.flush()
        os.kill(os.getpid(), SIGNAL)
        write(stream)
    return partial

tableio._csv_writer = killed_mid_write
sys.argv = ["segchain", "validate", "orders.csv", "-o", "out.csv"]
main()
"""


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_mid_write_leaves_no_temporary_file(tmp_path: Path, name: str, code: int) -> None:
    # SIGTERM (a scheduler's time limit, kill) or SIGHUP (the terminal closed) killed the
    # process at once: the partial temporary file stayed beside the output for good (71 MB of
    # .bigv.csv.*.tmp after `segchain validate big.csv -o bigv.csv` was killed mid-write).
    import signal
    import subprocess
    import sys

    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "out.csv").write_text("before\n")
    proc = subprocess.run(
        [sys.executable, "-c", SIGNAL_MID_WRITE, name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        # As from a terminal: a test run under `nohup` hands SIGHUP down ignored, which
        # segchain leaves ignored on purpose (below), and the run then ended 0.
        preexec_fn=lambda: signal.signal(getattr(signal, name), signal.SIG_DFL),
    )
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.endswith(
        f"segchain validate: Error: stopped by {name}; no output was written\n"
    )
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv", "out.csv"]


def test_an_ignored_sighup_stays_ignored(tmp_path: Path) -> None:
    # nohup ignores SIGHUP so that a run outlives its terminal: segchain must not undo that.
    import signal
    import subprocess
    import sys

    (tmp_path / "orders.csv").write_text(ORDERS)
    proc = subprocess.run(
        [sys.executable, "-c", SIGNAL_MID_WRITE, "SIGHUP"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.csv").read_text().startswith("order_id,partial")


FORKED_WORKER = """
import os, signal, sys
import segchain.cli as cli

cli.install_signal_handlers()
pid = os.fork()
if pid == 0:  # a process pool's worker, stopped by the pool with SIGTERM
    os.kill(os.getpid(), signal.SIGTERM)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
"""


def test_a_forked_worker_still_dies_quietly_of_sigterm(tmp_path: Path) -> None:
    # Process pools (forecast's local engine) fork workers that inherit the handler and stop
    # them with SIGTERM: a worker raising there printed "Process ForkPoolWorker-1: Traceback".
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", FORKED_WORKER], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout == "True\n", proc.stderr
    assert proc.stderr == ""


WORKER_WAITING_ON_A_LOCK = """
import os, signal, sys, threading, time
import multiprocessing
import segchain.cli as cli

cli.install_signal_handlers()
pid = os.fork()
if pid == 0:
    # A pool worker: another thread (BLAS, polars) running, the main thread waiting on the
    # queue's lock, and the pool's SIGTERM taken by the other thread (the main thread blocks it).
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    multiprocessing.Semaphore(0).acquire()
    os._exit(0)
time.sleep(0.5)
os.kill(pid, signal.SIGTERM)
for _ in range(100):
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
        sys.exit(0)
    time.sleep(0.1)
os.kill(pid, signal.SIGKILL)
print("still running 10 s after SIGTERM")
"""


def test_a_forked_worker_dies_of_sigterm_whichever_thread_takes_it(tmp_path: Path) -> None:
    # With a Python handler inherited, a SIGTERM taken by a worker's other thread while its main
    # thread waited on a lock never ran, and the pool waited for that worker for ever: the README's
    # Online Retail forecast hung in Pool.terminate. Forked children get the default action.
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", WORKER_WAITING_ON_A_LOCK],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "True\n", proc.stdout + proc.stderr


CTRL_C_DURING_A_POOL = """
import multiprocessing, os, signal, sys, time
import segchain.cli as cli

def task(i):
    time.sleep(3)
    return i

cli.install_signal_handlers()
with multiprocessing.Pool(2) as pool:
    pending = pool.map_async(task, range(4))
    time.sleep(1)  # both workers busy with a task
    try:
        os.killpg(0, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
        time.sleep(5)
        print("parent not interrupted")
    except KeyboardInterrupt:
        print("interrupted")
    # The workers must have kept their tasks: a worker killed by Ctrl-C loses its task and
    # the pool waits for that result for ever.
    print(pending.get(timeout=20))
"""


def test_ctrl_c_stops_the_parent_and_leaves_the_pool_workers_alone(tmp_path: Path) -> None:
    # Forecast's local engine forks a process pool. Ctrl-C reaches the whole process group: each
    # worker died with a KeyboardInterrupt traceback, losing its task, and the parent, waiting on
    # the pool, hung (forecast on a 2,271-series sample, Ctrl-C 3 s in: still running 40 s
    # later). The workers ignore SIGINT; the parent alone stops and stops the pool.
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", CTRL_C_DURING_A_POOL],
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # its own process group, so the SIGINT reaches no test runner
    )
    assert proc.stdout == "interrupted\n[0, 1, 2, 3]\n", proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


# --- inputs that are folders --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "orders.csv", "--config", "."], "--config .: is a folder, not a config file"),
        (["segment", "orders.csv", "--geo", "."], ".: is a folder, not a table file"),
        (["stock", "."], ".: is a folder, not a table file"),
        (["stock", "forecast.csv", "--items", "."], ".: is a folder, not a table file"),
        (["network", ".", "--candidates", "1"], ".: is a folder, not a table file"),
        (["costs", "seg.csv", "--orders", "orders.csv", "--policy", "."], "is a folder"),
    ],
)
def test_a_folder_for_a_one_file_input_is_named_as_a_folder(
    cli, tmp_path: Path, args: list[str], message: str
) -> None:
    # The folder's files were taken as that option's inputs, so an output into the same folder
    # was refused as "is also the input --config ./out.csv; writing it would destroy the input".
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "forecast.csv").write_text("sku,ds,forecast,error_sd\nS1,2025-01-06,1,1\n")
    (tmp_path / "seg.csv").write_text("customer_id,segment\nC1,A\n")
    (tmp_path / "out.csv").write_text("before\n")
    result = cli(*args, "-o", "out.csv")
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert "is also the input" not in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


def test_an_orders_folder_holding_the_output_is_still_refused(cli, tmp_path: Path) -> None:
    # Order lines read a whole folder: there an output onto one of its files destroys an input.
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "a.csv").write_text(ORDERS)
    result = cli("validate", "exports", "-o", "exports/a.csv")
    assert result.exit_code == 2
    assert "-o exports/a.csv: is also the input INPUT" in result.stderr


# --- costs: inputs silently unused or of the wrong stage ----------------------------------

SEGMENTS = "customer_id,segment\nC1,A\nC2,B\nC3,B\n"
POLICY = "sku,segment,safety_stock,reorder_point,inventory_value\nS1,A,1,2,100\nS2,B,1,2,50\n"


def costs(cli, tmp_path: Path, *args: str):
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "policy.csv").write_text(POLICY)
    (tmp_path / "out.csv").write_text("before\n")
    return cli("costs", "seg.csv", "--orders", "orders.csv", *args, "-o", "out.csv")


@pytest.mark.parametrize("option", ["--stock-segments", "--forecast"])
def test_costs_split_table_without_a_policy_is_a_usage_error(cli, tmp_path, option) -> None:
    # Both only split the policy's inventory value: without --policy they were read and
    # ignored, and the user saw no inventory cost without a word why.
    result = cli("costs", "seg.csv", "--orders", "orders.csv", option, "x.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain costs: Error: {option} splits the --policy's inventory value by segment: "
        "without --policy it would be read for nothing\n"
    )


def test_costs_refuses_the_policy_given_as_the_per_segment_table(cli, tmp_path: Path) -> None:
    # The policy has the sku, segment and inventory_value the split reads: each sku's whole
    # value went to the policy's one segment label, reconciled to the cent, and exit 0.
    result = costs(cli, tmp_path, "--policy", "policy.csv", "--stock-segments", "policy.csv")
    assert result.exit_code == 1
    assert (
        "--stock-segments policy.csv: holds policy (segchain stock) (by its columns), not the "
        "expected stock per segment (segchain stock --segments-out)" in result.stderr
    )
    assert "give --stock-segments the table that segchain stock --segments-out writes" in (
        result.stderr
    )
    assert (tmp_path / "out.csv").read_text() == "before\n"


def test_costs_refuses_another_stages_parquet_by_its_metadata(cli, tmp_path: Path) -> None:
    from segchain.tableio import provenance, write_table

    assignments = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "segment": ["A", "B", "B"]})
    write_table(assignments, str(tmp_path / "asg.parquet"), metadata=provenance("assignments"))
    (tmp_path / "orders.csv").write_text(ORDERS)
    result = cli("costs", "asg.parquet", "--orders", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 1
    assert (
        "SEGMENTS asg.parquet: holds assignments (segchain network) (by its metadata), not the "
        "expected segments (segchain segment)" in result.stderr
    )


def test_costs_forecast_without_segments_cannot_split_and_says_so(cli, tmp_path: Path) -> None:
    # A forecast by sku alone (--by sku) has no segment: the split fell back to units bought
    # without a word, while the user asked for the forecast's.
    (tmp_path / "fc.csv").write_text("unique_id,ds,sku,forecast\nS1,2025-01-06,S1,3\n")
    result = costs(cli, tmp_path, "--policy", "policy.csv", "--forecast", "fc.csv")
    assert result.exit_code == 1
    assert "--forecast fc.csv: missing required column segment" in result.stderr
    assert "give forecast's table by segment x sku (its default --by)" in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


def test_costs_still_splits_by_a_forecast_by_segment(cli, tmp_path: Path) -> None:
    # S1: forecast A 3, B 1 -> A carries 3/4 of its 100; S2: only B -> 50.
    (tmp_path / "fc.csv").write_text(
        "unique_id,ds,segment,sku,forecast\n"
        "A/S1,2025-01-06,A,S1,3\nB/S1,2025-01-06,B,S1,1\nB/S2,2025-01-06,B,S2,2\n"
    )
    result = costs(cli, tmp_path, "--policy", "policy.csv", "--forecast", "fc.csv")
    assert result.exit_code == 0, result.stderr
    out = pl.read_csv(tmp_path / "out.csv").select("segment", "inventory_value").sort("segment")
    assert out.rows() == [("A", 75.0), ("B", 75.0)]


# --- sample -------------------------------------------------------------------------------


def test_sample_to_stdout_is_a_usage_error_and_makes_no_folder(cli, tmp_path: Path) -> None:
    # Every other command reads '-o -' as stdout; sample made a folder named '-' and filled it.
    result = cli("sample", "-o", "-", "--customers", "2", "--skus", "1", "--years", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain sample: Error: -o -: sample writes a folder of files (orders, items, sites, "
        "...), not a stream\n"
    )
    assert list(tmp_path.iterdir()) == []


# --- report -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Segment plan November.md", "plan (draft.md", "a<b>.md"])
def test_markdown_report_links_its_charts_whatever_its_file_name(
    cli, tmp_path: Path, name: str
) -> None:
    # 'Segment plan November.md' linked its charts as ](Segment plan November_files/...):
    # a space ends a CommonMark link destination, so every chart was lost from the page.
    from urllib.parse import unquote

    from markdown_it import MarkdownIt

    segments = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "segment": ["A", "A", "B"],
            "segment_rank": [1, 1, 2],
            "monetary": [10.0, 20.0, 5.0],
        }
    )
    segments.write_parquet(tmp_path / "seg.parquet")
    result = cli("report", "seg.parquet", "-o", name)
    assert result.exit_code == 0, result.stderr
    tokens = MarkdownIt("commonmark").parse((tmp_path / name).read_text())
    images = [c.attrs["src"] for t in tokens for c in t.children or [] if c.type == "image"]
    assert images
    for src in images:
        assert (tmp_path / unquote(str(src))).is_file()


# --- stock: a forecast's rows ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        # The 2025-01-06 row twice: mean demand was (1 + 5 + 1) / 3 rows = 2.33 as if three
        # periods, where the forecast has two.
        (
            "P1,2025-01-06,1,1\nP1,2025-01-13,1,1\nP1,2025-01-06,5,1\n",
            "FORECAST fc.csv: 1 unique_id@ds is on more than one row: 'P1@2025-01-06' (rows 1, 3)",
        ),
        # A row without its period was averaged into the demand all the same.
        ("P1,2025-01-06,1,1\nP1,,9,1\n", "FORECAST fc.csv: 1 row has no ds, in series 'P1'"),
    ],
)
def test_stock_refuses_a_forecast_period_twice_or_without_a_date(
    cli, tmp_path: Path, rows: str, message: str
) -> None:
    (tmp_path / "fc.csv").write_text("sku,ds,forecast,error_sd\n" + rows)
    (tmp_path / "out.csv").write_text("before\n")
    result = cli("stock", "fc.csv", "-o", "out.csv")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "a forecast has one row per series and period (ds)" in result.stderr
    assert (tmp_path / "out.csv").read_text() == "before\n"


def test_stock_reads_one_row_per_segment_of_a_sku_and_period(cli, tmp_path: Path) -> None:
    # Two segments' series of one sku share their periods: that is no duplicate. Poisson
    # demand, mean 1 + 3 = 4 a week, is planned from both.
    (tmp_path / "fc.csv").write_text(
        "unique_id,sku,segment,ds,forecast,error_sd\n"
        "A/P1,P1,A,2025-01-06,1,1\nB/P1,P1,B,2025-01-06,3,1\n"
        "A/P1,P1,A,2025-01-13,1,1\nB/P1,P1,B,2025-01-13,3,1\n"
    )
    result = cli("stock", "fc.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["mean_demand"].to_list() == [4.0]


# --- orders: what to check when every line is rejected ----------------------------------


def test_every_date_rejected_hint_names_the_date_format(cli, tmp_path: Path) -> None:
    # A --date-format that fits no date rejected every line as bad_date, and the hint sent the
    # user to --map / --preset, which were right.
    (tmp_path / "orders.csv").write_text(ORDERS)
    result = cli("validate", "orders.csv", "--date-format", "%d.%m.%Y", "-o", "out.csv")
    assert result.exit_code == 1
    assert "all 4 lines were rejected (bad_date 4)" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "segchain validate:   hint: write them out with --rejects FILE to see why, and check "
        "--date-format (leave it out and the dates' order is detected) and --map / --preset"
    )


def test_every_line_a_return_dropped_hint_names_returns(cli, tmp_path: Path) -> None:
    # An export of returns alone with --returns drop: every line rejected as a return, and the
    # hint sent the user to --map / --preset, which were right; --returns was the cause.
    (tmp_path / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "C1,2025-01-06,A,P1,-1,5\nC2,2025-01-07,B,P1,-2,5\n"
    )
    result = cli("validate", "orders.csv", "--returns", "drop", "-o", "out.csv")
    assert result.exit_code == 1
    assert "all 2 lines were rejected (return 2)" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "segchain validate:   hint: write them out with --rejects FILE to see why, and check "
        "--returns (drop rejects returns and credits; net, the default, keeps them as negative "
        "lines)"
    )
    assert not (tmp_path / "out.csv").exists()


# --- Parquet onto a terminal --------------------------------------------------------------


def run_on_a_terminal(tmp_path: Path, *args: str) -> tuple[int, bytes, str]:
    """The real executable with stdout on a pseudo-terminal: (exit code, bytes the terminal
    got, stderr)."""
    import os
    import pty
    import subprocess
    import sys

    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "segchain", *args],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=subprocess.PIPE,
    )
    os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    return proc.wait(timeout=120), shown, stderr


def test_parquet_to_dev_stdout_on_a_terminal_is_refused(tmp_path: Path) -> None:
    # Only '-' was checked: -o /dev/stdout -f parquet put 477 KB of binary on the terminal.
    (tmp_path / "orders.csv").write_text(ORDERS)
    code, shown, stderr = run_on_a_terminal(
        tmp_path, "validate", "orders.csv", "-o", "/dev/stdout", "-f", "parquet"
    )
    assert code == 2
    assert shown == b""
    assert "Error: refusing to write Parquet to a terminal (/dev/stdout)" in stderr


def test_parquet_to_a_terminal_is_refused_before_any_work(tmp_path: Path) -> None:
    # The refusal came when the output was written: after the whole run (a forecast: minutes),
    # its segments table already printed on stderr.
    (tmp_path / "orders.csv").write_text(ORDERS)
    code, shown, stderr = run_on_a_terminal(tmp_path, "segment", "orders.csv", "-f", "parquet")
    assert code == 2
    assert shown == b""
    assert stderr.startswith("segchain segment: Error: refusing to write Parquet to a terminal\n")


# --- inputs that are broken links ---------------------------------------------------------


@pytest.mark.parametrize("name", ["orders.csv", "forecast.parquet"])
def test_a_symbolic_link_loop_is_named_as_such(cli, tmp_path: Path, name: str) -> None:
    # 'no such file' sent the user looking for a file that is there, as a link to itself.
    (tmp_path / name).symlink_to(tmp_path / name)
    command = "validate" if name == "orders.csv" else "stock"
    result = cli(command, name, "-o", "out.csv")
    assert result.exit_code == 1
    # stock's FORECAST is named by its argument (s39); validate's INPUT by its path alone.
    named = name if command == "validate" else f"FORECAST {name}"
    assert result.stderr.startswith(
        f"segchain {command}: Error: {named}: is a symbolic link loop (a link that leads back "
        "to itself)\n"
    )


def test_a_dangling_symbolic_link_names_its_target(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").symlink_to(tmp_path / "exports" / "orders.csv")
    result = cli("validate", "orders.csv", "-o", "out.csv")
    assert result.exit_code == 1
    assert (
        f"orders.csv: is a symbolic link to {tmp_path}/exports/orders.csv, which does not exist"
        in result.stderr
    )


def test_a_file_inside_a_file_says_so(cli, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(ORDERS)
    result = cli("validate", "orders.csv/2024.csv", "-o", "out.csv")
    assert result.exit_code == 1
    assert (
        "orders.csv/2024.csv: cannot read the file: a part of the path is a file, not a folder"
        in result.stderr
    )


# --- a gzipped Parquet file ---------------------------------------------------------------


def test_a_gzipped_parquet_file_is_read_from_a_file_and_from_stdin(cli, tmp_path: Path) -> None:
    # 'forecast.parquet.gz' (or a Parquet piped through gzip) was decompressed, found to be
    # Parquet and refused: 'this is a Parquet file; hint: give it a .parquet name'.
    import gzip
    import io

    frame = pl.DataFrame(
        {
            "sku": ["P1", "P1"],
            "ds": ["2025-01-06", "2025-01-13"],
            "forecast": [3.0, 5.0],
            "error_sd": [1.0, 1.0],
        }
    ).with_columns(pl.col("ds").str.to_date())
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    packed = gzip.compress(buffer.getvalue())
    (tmp_path / "forecast.parquet.gz").write_bytes(packed)
    from_file = cli("stock", "forecast.parquet.gz", "-o", "a.csv")
    assert from_file.exit_code == 0, from_file.stderr
    from_stdin = cli("stock", "-", "-o", "b.csv", input=packed)
    assert from_stdin.exit_code == 0, from_stdin.stderr
    for name in ("a.csv", "b.csv"):
        # Weekly periods, mean demand (3 + 5) / 2 = 4.
        assert pl.read_csv(tmp_path / name)["mean_demand"].to_list() == [4.0]


def test_a_gzipped_parquet_file_named_csv_is_still_refused(cli, tmp_path: Path) -> None:
    import gzip
    import io

    buffer = io.BytesIO()
    pl.DataFrame({"sku": ["P1"]}).write_parquet(buffer)
    (tmp_path / "forecast.csv.gz").write_bytes(gzip.compress(buffer.getvalue()))
    result = cli("stock", "forecast.csv.gz", "-o", "a.csv")
    assert result.exit_code == 1
    assert "forecast.csv.gz: this is a Parquet file" in result.stderr


# --- options that need another ------------------------------------------------------------


@pytest.mark.parametrize("command", [["segment"], ["network", "--candidates", "2"]])
def test_geo_country_without_geo_is_a_usage_error(cli, command: list[str]) -> None:
    # It only names the country of a --geo table: alone it was read and ignored without a word.
    result = cli(*command, "missing.csv", "--geo-country", "US")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain {command[0]}: Error: --geo-country names the country of a --geo table that "
        "has none: without --geo it has nothing to apply to\n"
    )


def test_stock_refuses_forecast_dates_centuries_apart(cli, tmp_path: Path) -> None:
    # Two periods, 1900-01-01 and 2999-01-01: planned as one period of 401,402 days, exit 0.
    # (A period after 2110 is refused on reading since session 69: these are within the window.)
    (tmp_path / "fc.csv").write_text(
        "sku,ds,forecast,error_sd\nP1,1900-01-01,1,1\nP1,2110-01-01,1,1\n"
    )
    (tmp_path / "out.csv").write_text("before\n")
    result = cli("stock", "fc.csv", "-o", "out.csv")
    assert result.exit_code == 1
    assert (
        "FORECAST fc.csv: its periods are 76,701 days apart (the median gap between its dates "
        "1900-01-01 to 2110-01-01)" in result.stderr
    )
    assert (tmp_path / "out.csv").read_text() == "before\n"


def test_stock_still_plans_a_yearly_forecast(cli, tmp_path: Path) -> None:
    # 2024 is a leap year: 366 days between the two periods, the longest accepted.
    (tmp_path / "fc.csv").write_text(
        "sku,ds,forecast,error_sd\nP1,2024-01-01,1,1\nP1,2025-01-01,1,1\n"
    )
    result = cli("stock", "fc.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.stderr
    assert pl.read_csv(tmp_path / "out.csv")["period_days"].to_list() == [366.0]
