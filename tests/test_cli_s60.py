"""Audit I, session 60: the command line as scripts, Makefiles and cron use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from segchain.tableio import read_metadata

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """segchain as a process of its own, from this checkout."""
    env = {**env, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "segchain", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, timeout=300)


# ---------------------------------------------------------------------------------------------
# I-1: `--config -` (and SEGCHAIN_CONFIG=-) reads the config from stdin, as `--config /dev/stdin`
# does, when no table reads stdin; it was refused as clashing with itself ('--config - and
# --config <stdin> both read stdin').

CONFIG = "[orders]\nreturns = 'keep'\n"


@pytest.mark.parametrize("via", ["--config", "$SEGCHAIN_CONFIG"])
def test_config_dash_reads_the_config_from_stdin(
    cli, orders_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    args = ["validate", str(orders_csv), "-o", "clean.parquet"]
    if via == "--config":
        args += ["--config", "-"]
    else:
        monkeypatch.setenv("SEGCHAIN_CONFIG", "-")
    result = cli(*args, input=CONFIG)
    assert result.exit_code == 0, result.stderr
    meta = read_metadata(tmp_path / "clean.parquet")
    # 'keep' is the piped config's, not the default's.
    assert meta["params"]["returns"] == "keep"
    assert meta["config"]["source"] == via


def test_config_dash_beside_a_table_on_stdin_names_both(cli, tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text("site_id,lat,lon,capacity\nS1,50,8,100\n")
    result = cli("network", "-", "--sites", "sites.csv", "--config", "-", "-o", "a.csv", input="")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain network: Error: --config - and CUSTOMERS <stdin> both read stdin"
    )


# ---------------------------------------------------------------------------------------------
# I-2: the thread counts the libraries read with int() (hierarchicalforecast OMP_NUM_THREADS at
# reconciliation, after the whole backtest; loky LOKY_MAX_CPU_COUNT) ended in a traceback when
# empty or malformed. An empty one is taken for unset; one that is no whole number is refused
# before any work.


@pytest.mark.parametrize(
    ("name", "value"),
    [("OMP_NUM_THREADS", "4,2"), ("OMP_NUM_THREADS", "four"), ("LOKY_MAX_CPU_COUNT", "2.5")],
)
def test_a_library_thread_count_that_is_no_whole_number_is_refused_up_front(
    cli, orders_csv: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    result = cli("segment", str(orders_csv), "-o", "seg.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain segment: Error: ${name}={value!r}: not a whole number of threads"
    )
    assert f"unset {name}" in result.stderr
    assert not Path("seg.csv").exists()


def test_an_empty_loky_cpu_count_is_taken_for_unset(
    cli, orders_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOKY_MAX_CPU_COUNT", raising=False)
    unset = cli("segment", str(orders_csv), "--method", "kmeans", "-o", "unset.csv")
    assert unset.exit_code == 0, unset.stderr
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "")
    empty = cli("segment", str(orders_csv), "--method", "kmeans", "-o", "empty.csv")
    assert empty.exit_code == 0, empty.stderr
    assert Path("empty.csv").read_bytes() == Path("unset.csv").read_bytes()


def test_an_empty_omp_num_threads_is_taken_for_unset_by_forecast(tmp_path: Path) -> None:
    # A process of its own: hierarchicalforecast reads the variable once, when first imported.
    from tests.test_cli_forecast import write_inputs

    orders, segments = write_inputs(tmp_path)  # 40 weeks: a backtest, so MinT reconciles
    args = ["forecast", str(segments), "--orders", str(orders), "--models", "naive"]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    unset = run(*args, "-o", "unset.csv", cwd=tmp_path, env=env)
    assert unset.returncode == 0, unset.stderr.decode()
    empty = run(*args, "-o", "empty.csv", cwd=tmp_path, env={**env, "OMP_NUM_THREADS": ""})
    assert empty.returncode == 0, empty.stderr.decode()
    assert b"Traceback" not in empty.stderr
    assert b"libgomp" not in empty.stderr  # OpenMP's own 'Invalid value' line
    assert (tmp_path / "empty.csv").read_bytes() == (tmp_path / "unset.csv").read_bytes()


# ---------------------------------------------------------------------------------------------
# I-3: `forecast --engine dask --address http://HOST:8787/status` (the dashboard's URL), https://
# or inproc:// went past the address check to distributed.Client, after the order lines were
# read, and ended in its traceback ('unknown address scheme 'http'').


@pytest.mark.parametrize(
    ("address", "message", "likely"),
    [
        (
            "http://127.0.0.1:8787/status",
            "a web (http) address, such as the scheduler's dashboard",
            "tcp://127.0.0.1:8786",
        ),
        ("https://[::1]:8787", "a web (https) address", "tcp://[::1]:8786"),
        ("inproc://x", "inproc:// is Dask's transport within one process", None),
        ("dask://h:8786", "not a Dask address (scheme 'dask://'", None),
    ],
)
def test_dask_address_of_no_scheduler_scheme_is_refused_before_the_inputs(
    cli, tmp_path: Path, address: str, message: str, likely: str | None
) -> None:
    pytest.importorskip("distributed")
    (tmp_path / "seg.csv").write_text("customer_id,segment,segment_rank\n0001,A,1\n")
    # The order lines come on stdin, empty: read first, they would be the error named.
    args = ["forecast", "seg.csv", "--orders", "-", "--engine", "dask", "--address", address]
    result = cli(*args, "-o", "f.csv", input="")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"segchain forecast: Error: --address {address}: {message}")
    assert "hint: " in result.stderr and "tcp://HOST:8786" in result.stderr
    if likely is not None:
        assert f"the scheduler itself is likely at {likely}" in result.stderr


# ---------------------------------------------------------------------------------------------
# I-6: a script saved with CRLF line ends passes its last word with a '\r': `-o seg.parquet\r`
# wrote CSV under a name `ls` shows as seg.parquet (its suffix, '.parquet\r', read as no
# format), exit 0; an input so named was 'no such file', the '\r' unseen.

CR_HINT = "save it with Unix (LF) line ends"


@pytest.mark.parametrize("name", ["seg.parquet\r", "seg.xlsx\r", "seg.csv\r"])
def test_an_output_name_ending_in_a_carriage_return_is_refused(
    cli, orders_csv: Path, tmp_path: Path, name: str
) -> None:
    result = cli("segment", str(orders_csv), "-o", name)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain segment: Error: -o {name!r}: the name ends in a carriage return ('\\r')"
    )
    assert CR_HINT in result.stderr
    assert list(tmp_path.iterdir()) == [orders_csv]  # nothing written, under any name


def test_an_output_name_ending_in_a_space_is_refused(cli, orders_csv: Path) -> None:
    result = cli("segment", str(orders_csv), "-o", "seg.parquet ")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain segment: Error: -o 'seg.parquet ': the name ends in a space"
    )


def test_a_secondary_output_and_samples_folder_ending_in_a_carriage_return_are_refused(
    cli, orders_csv: Path, tmp_path: Path
) -> None:
    result = cli("validate", str(orders_csv), "--rejects", "rej.parquet\r", "-o", "ok.csv")
    assert result.exit_code == 2
    assert "Error: --rejects 'rej.parquet\\r': the name ends in a carriage return" in result.stderr
    result = cli("sample", "-o", "data\r", "--customers", "5")
    assert result.exit_code == 2
    assert "Error: -o 'data\\r': the name ends in a carriage return" in result.stderr
    assert list(tmp_path.iterdir()) == [orders_csv]


@pytest.mark.parametrize("via", ["--config", "$SEGCHAIN_CONFIG", "INPUT"])
def test_an_input_name_ending_in_a_carriage_return_names_it(
    cli, orders_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    (tmp_path / "segchain.toml").write_text(CONFIG)
    args = ["validate", str(orders_csv), "-o", "ok.csv"]
    if via == "--config":
        args += ["--config", "segchain.toml\r"]
        shown = "--config 'segchain.toml\\r'"
    elif via == "$SEGCHAIN_CONFIG":
        monkeypatch.setenv("SEGCHAIN_CONFIG", "segchain.toml\r")
        shown = "$SEGCHAIN_CONFIG 'segchain.toml\\r'"
    else:
        args[1] = f"{orders_csv}\r"
        shown = f"INPUT {str(orders_csv) + chr(13)!r}"
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain validate: Error: {shown}: the name ends in a carriage return ('\\r')"
    )
    assert CR_HINT in result.stderr
