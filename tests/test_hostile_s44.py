"""Hostile-user findings of session 44: each test fails on the code before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

SEGMENTS = "customer_id,segment,lat,lon,quantity\nC1,A,50.1,8.7,10\nC2,B,48.9,2.3,5\n"
SITES = "site_id,lat,lon\nS1,50.0,8.0\nS2,49.0,2.0\n"


# ---- a file path of the config that is empty ------------------------------------------------
# `[network] sites = ""` said 'c.toml [network] sites : no such file', exit 1, where `--sites ""`
# is a usage error before any input is read (exit 2: the file name is empty).


@pytest.mark.parametrize("key", ["sites", "costs"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_path_in_the_config_is_a_usage_error_naming_its_key(
    cli, tmp_path: Path, key: str, value: str
) -> None:
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "c.toml").write_text(f'[network]\n{key} = "{value}"\n')
    other = ["--sites", "sites.csv"] if key == "costs" else []
    result = cli("network", "seg.csv", *other, "--config", "c.toml", "-o", "a.csv")
    assert result.exit_code == 2, result.stderr
    assert (
        f"segchain network: Error: c.toml [network] {key}: the file name is empty\n"
        in result.stderr
    ), result.stderr
    assert "unset shell variable" not in result.stderr
    assert not (tmp_path / "a.csv").exists()


# ---- a file path of the config that reads stdin ----------------------------------------------
# `[network] sites = "-"` on an empty stdin said '<stdin>: the file is empty', naming neither the
# config nor its key, where `--sites -` says '--sites <stdin>: the file is empty'.


@pytest.mark.parametrize("key", ["sites", "costs"])
def test_a_config_path_reading_stdin_is_named_by_its_key(cli, tmp_path: Path, key: str) -> None:
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "sites.csv").write_text(SITES)
    (tmp_path / "c.toml").write_text(f'[network]\n{key} = "-"\n')
    other = ["--sites", "sites.csv"] if key == "costs" else []
    result = cli("network", "seg.csv", *other, "--config", "c.toml", "-o", "a.csv", input="")
    assert result.exit_code == 1, result.stderr
    assert (
        f"segchain network: Error: c.toml [network] {key} <stdin>: the file is empty\n"
        in result.stderr
    ), result.stderr
    assert not (tmp_path / "a.csv").exists()


def test_a_config_path_reading_stdin_is_still_read(cli, tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    (tmp_path / "c.toml").write_text('[network]\nsites = "-"\n')
    result = cli("network", "seg.csv", "--config", "c.toml", "-o", "a.csv", input=SITES)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.csv").read_text().count("\n") == 3
