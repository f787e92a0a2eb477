"""Explicit config (issue 13.5): the config read is named on stderr, with how it was found, and
recorded (path, source, sha256 of its bytes) in the provenance of every output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from segchain.tableio import read_metadata

CONFIG = "[orders]\nreturns = 'keep'\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _provenance_line(stderr: str) -> dict:
    (line,) = [x for x in stderr.splitlines() if x.startswith("segchain validate: provenance: ")]
    return json.loads(line.split("provenance: ", 1)[1])


def test_config_nobody_named_is_named_on_stderr_and_in_the_provenance(
    cli, orders_csv: Path, tmp_path: Path
) -> None:
    # The tests run in tmp_path: this is ./segchain.toml, picked up without being named.
    found = tmp_path / "segchain.toml"
    found.write_text(CONFIG)
    out = tmp_path / "clean.parquet"
    rejects = tmp_path / "rejects.parquet"
    result = cli("validate", str(orders_csv), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    digest = _sha256(found)
    assert (
        "segchain validate: config: ./segchain.toml (found in the working folder; not named by "
        f"--config or $SEGCHAIN_CONFIG), sha256 {digest[:12]}\n"
    ) in result.stderr
    expected = {"path": "segchain.toml", "source": "working folder", "sha256": digest}
    # Every output, the secondary one included, and the config's effect is there too.
    assert read_metadata(out)["config"] == expected
    assert read_metadata(rejects)["config"] == expected
    assert read_metadata(out)["params"]["returns"] == "keep"


def test_config_named_by_option_is_recorded_with_its_source(
    cli, orders_csv: Path, tmp_path: Path
) -> None:
    named = tmp_path / "conf" / "plan.toml"
    named.parent.mkdir()
    named.write_text(CONFIG)
    result = cli("validate", str(orders_csv), "--config", str(named), "--verbose", "-o", "x.csv")
    assert result.exit_code == 0, result.stderr
    assert f"segchain validate: config: {named} (--config), sha256 " in result.stderr
    meta = _provenance_line(result.stderr)
    assert meta["config"] == {"path": str(named), "source": "--config", "sha256": _sha256(named)}


def test_config_from_the_environment_says_so(
    cli, orders_csv: Path, tmp_path: Path, monkeypatch
) -> None:
    named = tmp_path / "env.toml"
    named.write_text(CONFIG)
    monkeypatch.setenv("SEGCHAIN_CONFIG", str(named))
    result = cli("validate", str(orders_csv), "-o", str(tmp_path / "o.parquet"))
    assert result.exit_code == 0, result.stderr
    assert f"segchain validate: config: {named} ($SEGCHAIN_CONFIG), sha256 " in result.stderr
    assert read_metadata(tmp_path / "o.parquet")["config"]["source"] == "$SEGCHAIN_CONFIG"


def test_no_config_is_recorded_as_none_and_not_mentioned(
    cli, orders_csv: Path, tmp_path: Path
) -> None:
    result = cli("validate", str(orders_csv), "-o", str(tmp_path / "o.parquet"))
    assert result.exit_code == 0, result.stderr
    assert "config:" not in result.stderr
    meta = read_metadata(tmp_path / "o.parquet")
    assert "config" in meta and meta["config"] is None


def test_quiet_does_not_name_the_config_but_the_provenance_does(
    cli, orders_csv: Path, tmp_path: Path
) -> None:
    (tmp_path / "segchain.toml").write_text(CONFIG)
    result = cli("validate", str(orders_csv), "-q", "-o", str(tmp_path / "o.parquet"))
    assert result.exit_code == 0
    assert result.stderr == ""
    assert read_metadata(tmp_path / "o.parquet")["config"]["source"] == "working folder"


def test_a_changed_config_changes_the_recorded_hash(cli, orders_csv: Path, tmp_path: Path) -> None:
    found = tmp_path / "segchain.toml"
    hashes = []
    for text in (CONFIG, CONFIG + "# edited\n"):
        found.write_text(text)
        assert cli("validate", str(orders_csv), "-o", str(tmp_path / "o.parquet")).exit_code == 0
        hashes.append(read_metadata(tmp_path / "o.parquet")["config"]["sha256"])
    assert hashes[0] != hashes[1]
    assert hashes[1] == _sha256(found)


@pytest.mark.parametrize("command", ["stock", "segment", "network"])
def test_every_command_reading_config_names_it(cli, tmp_path: Path, command: str) -> None:
    # Named before any input is read: the input here does not even exist.
    (tmp_path / "segchain.toml").write_text("")
    extra = ["--candidates", "2"] if command == "network" else []
    result = cli(command, "absent.csv", *extra)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith(
        f"segchain {command}: config: ./segchain.toml (found in the working folder"
    )


def test_a_folder_named_segchain_toml_is_not_silently_skipped(cli, tmp_path: Path) -> None:
    (tmp_path / "segchain.toml").mkdir()
    result = cli("segment", "x.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain segment: Error: ./segchain.toml (found in the working folder): is a folder, "
        "not a config file"
    )
