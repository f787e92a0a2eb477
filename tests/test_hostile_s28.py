"""Session 28: leftovers of the hostile-input sweeps (empty path names, copies, plurals)."""

from __future__ import annotations

from pathlib import Path

import pytest

HINT = "an unset shell variable gives an empty name; give the file's path"
HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["validate", "a.csv", "--config", ""], "--config"),
        (["segment", "a.csv", "--config", ""], "--config"),
        (["forecast", "s.csv", "--orders", "a.csv", "--config", ""], "--config"),
        (["stock", "f.csv", "--config", ""], "--config"),
        (["network", "s.csv", "--config", ""], "--config"),
        (["costs", "s.csv", "--orders", "a.csv", "--config", ""], "--config"),
    ],
)
def test_an_empty_config_name_is_a_usage_error(cli, tmp_path: Path, args, option) -> None:
    """Typer turns a Path option's '' into '.': '--config ""' said '--config .: is a folder'."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain {args[0]}: Error: {option}: the file name is empty\n"
        f"segchain {args[0]}:   hint: {HINT}\n"
    )
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["segment", "a.csv", "-o", ""], "-o"),
        (["validate", "a.csv", "--rejects", "", "-o", "o.csv"], "--rejects"),
        (["segment", "a.csv", "--profile", "", "-o", "o.csv"], "--profile"),
        (["forecast", "s.csv", "--orders", "a.csv", "--backtest", "", "-o", "o.csv"], "--backtest"),
        (["network", "s.csv", "--sites-out", "", "-o", "o.csv"], "--sites-out"),
        (["stock", "f.csv", "--segments-out", "", "-o", "o.csv"], "--segments-out"),
        (["report", "s.csv", "-o", ""], "-o"),
    ],
)
def test_an_empty_output_name_says_how_to_fix_it(cli, tmp_path: Path, args, option) -> None:
    """An empty output name was refused without the hint that an empty input name has."""
    (tmp_path / "a.csv").write_text(HEADER + "1,2024-03-01,C1,A,1,2\n")
    (tmp_path / "s.csv").write_text("customer_id,segment\nC1,A\n")
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain {args[0]}: Error: {option}: the file name is empty\n"
        f"segchain {args[0]}:   hint: {HINT}\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_sample_refuses_an_empty_folder_name(cli, tmp_path: Path) -> None:
    """'sample -o ""' (Path('') is '.') wrote its six files into the working folder, over any
    orders.csv there."""
    (tmp_path / "orders.csv").write_text("mine\n")
    result = cli("sample", "-o", "", "--customers", "2", "--skus", "1", "--years", "1")
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain sample: Error: -o: the folder name is empty\n"
        "segchain sample:   hint: an unset shell variable gives an empty name; give the "
        "folder's path, e.g. -o data\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]
    assert (tmp_path / "orders.csv").read_text() == "mine\n"
