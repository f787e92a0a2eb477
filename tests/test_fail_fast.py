"""Fail fast (issue 13.6): options, output folders and engine addresses are checked before any
input is read. The inputs named here do not exist: a command that read before checking would
stop with exit 1 "no such file" instead of the usage error (exit 2)."""

from __future__ import annotations

import pytest

MISSING = "/nonexistent/dir"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forecast", "absent.csv", "--orders", "absent.csv", "-o", f"{MISSING}/fc.parquet"],
         f"-o {MISSING}/fc.parquet: folder '{MISSING}' does not exist"),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--backtest", f"{MISSING}/b.csv"],
         f"--backtest {MISSING}/b.csv: folder"),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--freq", "Q"], "--freq: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--horizon", "0"], "--horizon: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--models", "Prophet"], "--models: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--engine", "hadoop"], "--engine: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--engine", "dask", "--address",
          "tcp://host:port"], "--address tcp://host:port: the port must be a number"),
        (["segment", "absent.csv", "--method", "dbscan"], "--method: "),
        (["segment", "absent.csv", "--k", "3"], "--k applies to --method kmeans only"),
        (["segment", "absent.csv", "--abc-cutoffs", "0.9,0.8", "--method", "abc-xyz"],
         "--abc-cutoffs: must be two shares 0 < A < B <= 1"),
        (["segment", "absent.csv", "--clv-horizon", "0"], "--clv-horizon: "),
        (["segment", "absent.csv", "--as-of", "yesterday"], "--as-of: "),
        (["segment", "absent.csv", "--profile", f"{MISSING}/p.csv"], f"--profile {MISSING}/p.csv"),
        (["stock", "absent.csv", "--service-level", "2"], "--service-level: "),
        (["stock", "absent.csv", "--segments-out", f"{MISSING}/s.csv"], "--segments-out "),
        (["network", "absent.csv", "--candidates", "2", "--km-per-day", "0"], "--km-per-day: "),
        (["network", "absent.csv", "--candidates", "2", "--sites-out", f"{MISSING}/s.csv"],
         "--sites-out "),
        (["costs", "absent.csv", "--orders", "absent.csv", "--by", "region"], "--by "),
        (["validate", "absent.csv", "--returns", "keep-all"], "--returns: "),
        # A preset was checked only once the export's headers were read: 'unknown preset
        # 'sapp'', naming neither the option nor the preset meant.
        (["validate", "absent.csv", "--preset", "sapp"],
         "--preset: unknown preset 'sapp' (did you mean 'sap'?); choose one of: sap, odoo, "
         "online-retail"),
        (["costs", "absent.csv", "--orders", "absent.csv", "--preset", "odo"], "--preset: "),
        # Read for nothing without --orders, as --map is refused.
        (["stock", "absent.csv", "--preset", "sap"],
         "--preset names the columns of the --orders export: give --orders too"),
        (["stock", "absent.csv", "--date-format", "day-first"],
         "--date-format reads the dates of the --orders export: give --orders too"),
        (["stock", "absent.csv", "--returns", "drop"],
         "--returns says what becomes of the returns in the --orders export: give --orders too"),
        (["validate", "absent.csv", "--rejects", f"{MISSING}/r.csv"], "--rejects "),
        (["report", "absent.csv", "-o", "report.pdf"], "-o report.pdf: "),
    ],
)  # fmt: skip
def test_usage_errors_come_before_reading_any_input(cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"segchain {args[0]}: Error: {message}"), result.stderr
    assert "absent.csv" not in result.stderr
