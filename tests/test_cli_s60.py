"""Audit I, session 60: the command line as scripts, Makefiles and cron use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from segchain.tableio import read_metadata

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
