"""Where an order option's value came from, said where it is used (session 71).

report read a raw export with $SEGCHAIN_DATE_FORMAT and $SEGCHAIN_RETURNS (session 70), but the
command under "About this report" did not show them: run again as shown, it read the export
otherwise. Its hint on dates of no clear day order named 'segchain validate --date-format', not
the variable report itself reads. validate's note said '(from --date-format)' of a day order
from $SEGCHAIN_DATE_FORMAT or the config's [orders] date_format, and network's warning
'(--node-limit 1)' of a limit from $SEGCHAIN_NODE_LIMIT. report drew a backtest with a series
on two rows and a site loaded past its capacity.
"""

from __future__ import annotations

import datetime as dt
import shlex
from pathlib import Path

import polars as pl
import pytest

_HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
# Day d of month m written dd/mm/2024, every d at most 12: only a stated order reads them.
_ROWS = [(i, 1 + i % 12, 1 + (i // 12) % 3) for i in range(40)]


def _day_first_export(folder: Path) -> Path:
    export = folder / "export.csv"
    lines = [f"{i},{d:02d}/{m:02d}/2024,C{i % 5},S{i % 3},1,10\n" for i, d, m in _ROWS]
    # A return: kept (net) by default, rejected under SEGCHAIN_RETURNS=drop.
    export.write_text(_HEADER + "".join(lines) + "R1,03/03/2024,C1,S1,-1,10\n")
    return export


def _made_by(page: Path) -> str:
    """The command the Markdown page says it was made with."""
    [line] = [x for x in page.read_text().splitlines() if x.startswith("Made by segchain")]
    return line.split("with: `", 1)[1].rstrip("`")


# --- 1. the variables report read an export with are on the page ----------------------------


def test_the_page_shows_the_variables_the_export_was_read_with(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = _day_first_export(tmp_path)
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "day-first")
    monkeypatch.setenv("SEGCHAIN_RETURNS", "drop")
    page = tmp_path / "r.md"
    result = cli("report", str(export), "-o", str(page))
    assert result.exit_code == 0, result.stderr
    words = shlex.split(_made_by(page))
    assert words[:3] == ["SEGCHAIN_DATE_FORMAT=day-first", "SEGCHAIN_RETURNS=drop", "segchain"]
    assert words[3:5] == ["report", str(export)]


def test_the_page_s_command_reads_the_export_as_the_page_did(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run again with what the page shows (its variables set, nothing else), the command writes
    the same page: the history from 1 January to 12 March, 40 lines, the return dropped."""
    export = _day_first_export(tmp_path)
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "day-first")
    monkeypatch.setenv("SEGCHAIN_RETURNS", "drop")
    first = tmp_path / "first.md"
    assert cli("report", str(export), "-o", str(first)).exit_code == 0
    monkeypatch.delenv("SEGCHAIN_DATE_FORMAT")
    monkeypatch.delenv("SEGCHAIN_RETURNS")
    words = shlex.split(_made_by(first))
    for word in words[: words.index("segchain")]:
        name, value = word.split("=", 1)
        monkeypatch.setenv(name, value)
    again = tmp_path / "again.md"
    result = cli(*words[words.index("segchain") + 1 :], "-o", str(again))
    assert result.exit_code == 0, result.stderr
    assert again.read_text() == first.read_text().replace("first_files/", "again_files/")
    # The known answer, from the dates written above.
    days = sorted(dt.date(2024, m, d) for _, d, m in _ROWS)
    assert f"**Order lines: 40** ({days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d})" in first.read_text()


def test_a_value_with_spaces_is_quoted_as_a_shell_reads_it(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "Order No,order_date,customer_id,sku,quantity,unit_price\n1,2024-03-01,C1,S1,2,10\n"
    )
    monkeypatch.setenv("SEGCHAIN_MAP", "order_id=Order No")
    page = tmp_path / "r.md"
    result = cli("report", str(export), "-o", str(page))
    assert result.exit_code == 0, result.stderr
    assert _made_by(page).startswith("SEGCHAIN_MAP='order_id=Order No' segchain report ")


def test_the_config_s_variable_is_recorded_when_the_config_read_the_export(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config's [orders] date_format read the export: the page names the variable that
    named the config."""
    export = _day_first_export(tmp_path)
    config = tmp_path / "orders.toml"
    config.write_text('[orders]\ndate_format = "day-first"\n')
    monkeypatch.setenv("SEGCHAIN_CONFIG", str(config))
    page = tmp_path / "r.md"
    result = cli("report", str(export), "-o", str(page))
    assert result.exit_code == 0, result.stderr
    assert shlex.split(_made_by(page))[:2] == [f"SEGCHAIN_CONFIG={config}", "segchain"]


def test_the_variables_are_not_recorded_where_they_set_nothing(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate's Parquet output is known by its metadata, no raw export: the variables read
    nothing of it, and the page's command is as before (the same inputs give the same page under
    any environment). (Its CSV output is read as an export, with them.)"""
    export = _day_first_export(tmp_path)
    validated = tmp_path / "orders.parquet"
    ran = cli("validate", str(export), "--date-format", "day-first", "-o", str(validated), "-q")
    assert ran.exit_code == 0, ran.stderr
    plain = tmp_path / "plain.md"
    assert cli("report", str(validated), "-o", str(plain)).exit_code == 0
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "month-first")
    monkeypatch.setenv("SEGCHAIN_RETURNS", "keep")
    under = tmp_path / "under.md"
    assert cli("report", str(validated), "-o", str(under)).exit_code == 0
    assert _made_by(under) == f"segchain report {validated} --title 'segchain report'"
    assert under.read_text() == plain.read_text().replace("plain_files/", "under_files/")


# --- 2. report's hint on the dates' order names the variable it reads -----------------------


def test_report_s_hint_on_ambiguous_dates_names_its_variable(cli, tmp_path: Path) -> None:
    export = _day_first_export(tmp_path)
    result = cli("report", str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 1
    assert (
        "hint: say which with SEGCHAIN_DATE_FORMAT=month-first (mm/dd/yyyy, as US exports "
        "write them) or SEGCHAIN_DATE_FORMAT=day-first (dd/mm/yyyy)" in result.stderr
    )
    # validate's option, as the other way: named with validate.
    assert "or read the export with segchain validate --date-format day-first" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.md").exists()


def test_the_hint_s_way_works(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the hint says, done: the report is written."""
    export = _day_first_export(tmp_path)
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "day-first")
    assert cli("report", str(export), "-o", str(tmp_path / "r.md")).exit_code == 0


def test_report_s_hint_on_mixed_dates_names_its_variable(cli, tmp_path: Path) -> None:
    export = tmp_path / "mixed.csv"
    export.write_text(_HEADER + "1,13/01/2024,C1,S1,1,10\n2,01/13/2024,C2,S1,1,10\n")
    result = cli("report", str(export), "-o", str(tmp_path / "r.md"))
    assert result.exit_code == 1
    assert "or pass SEGCHAIN_DATE_FORMAT=day-first (or month-first)" in result.stderr


def test_validate_s_hints_are_as_they_were(cli, tmp_path: Path) -> None:
    """A guard: validate has --date-format, and is told it."""
    export = _day_first_export(tmp_path)
    result = cli("validate", str(export))
    assert result.exit_code == 1
    assert "say which with --date-format month-first" in result.stderr
    assert "SEGCHAIN_DATE_FORMAT=" not in result.stderr


# --- 3. validate names where the day order came from ----------------------------------------


def _dates_note(stderr: str) -> str:
    [line] = [x for x in stderr.splitlines() if "  dates: " in x]
    return line.split("  dates: ", 1)[1]


def test_validate_names_the_variable_the_day_order_came_from(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = _day_first_export(tmp_path)
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "day-first")
    result = cli("validate", str(export), "-o", str(tmp_path / "v.csv"))
    assert result.exit_code == 0, result.stderr
    assert _dates_note(result.stderr) == "day-first (from $SEGCHAIN_DATE_FORMAT)"
    days = pl.read_csv(tmp_path / "v.csv").get_column("order_date").str.to_date()
    assert days.max() == dt.date(2024, 3, 12)  # read day first indeed


def test_validate_names_the_config_key_the_day_order_came_from(cli, tmp_path: Path) -> None:
    export = _day_first_export(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text('[orders]\ndate_format = "day-first"\n')
    result = cli("validate", str(export), "--config", str(config))
    assert result.exit_code == 0, result.stderr
    assert _dates_note(result.stderr) == f"day-first (from {config} [orders] date_format)"


def test_a_format_from_the_variable_is_named_by_it(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = _day_first_export(tmp_path)
    monkeypatch.setenv("SEGCHAIN_DATE_FORMAT", "%d/%m/%Y")
    result = cli("segment", str(export), "-o", str(tmp_path / "s.csv"))
    assert result.exit_code == 0, result.stderr
    assert _dates_note(result.stderr) == "format %d/%m/%Y ($SEGCHAIN_DATE_FORMAT)"


def test_the_option_is_named_when_it_was_given(cli, tmp_path: Path) -> None:
    """A guard: --date-format on the command line is named so, as before."""
    export = _day_first_export(tmp_path)
    result = cli("validate", str(export), "--date-format", "day-first")
    assert result.exit_code == 0, result.stderr
    assert _dates_note(result.stderr) == "day-first (from --date-format)"


# --- 4. a backtest row twice, a site past its capacity -----------------------------------------

BACKTEST = (
    "unique_id,scope,segment,sku,model,mase,wape\n"
    "Gold/A,series,Gold,A,AutoETS,0.8,0.3\n"
    "Silver/A,series,Silver,A,Naive,1.2,0.5\n"
    # The same unique_id in another scope is another row: forecast writes both.
    "A,sku,,A,AutoETS,0.9,0.4\n"
    "A,series,,A,AutoETS,0.9,0.4\n"
)
SITES = (
    "site_id,lat,lon,open,fixed_cost,capacity,demand_served,utilization,customers\n"
    "S1,52.5,13.4,true,100,10,9,0.9,2\n"
    "S2,48.1,11.6,true,100,20,20,1.0,3\n"
)


def _refused(cli, folder: Path, name: str, text: str):  # type: ignore[no-untyped-def]
    table = folder / name
    table.write_text(text)
    page = folder / "report.html"
    result = cli("report", str(table), "-o", str(page))
    assert "Traceback" not in result.stderr
    return table, page, result


def test_a_sound_backtest_and_sites_make_a_report(cli, tmp_path: Path) -> None:
    """A guard: the tables below, as forecast and network write them, are read."""
    for name, text in (("backtest.csv", BACKTEST), ("sites.csv", SITES)):
        _, page, result = _refused(cli, tmp_path, name, text)
        assert result.exit_code == 0, result.stderr
        page.unlink()


def test_report_refuses_a_backtest_row_given_twice(cli, tmp_path: Path) -> None:
    """Silver/A twice: main drew MASE 1.02, (0.8 + 1.2 + 1.2 + 0.9) / 4, for the three series'
    (0.8 + 1.2 + 0.9) / 3 = 0.97, and WAPE 42.5 % for 40.0 %. Refused, naming the key and both
    rows (the file's, from 1)."""
    broken = BACKTEST + "Silver/A,series,Silver,A,Naive,1.2,0.5\n"
    table, page, result = _refused(cli, tmp_path, "backtest.csv", broken)
    assert result.exit_code == 1
    assert (
        f"{table}: 1 scope@unique_id is on more than one row: 'series@Silver/A' (rows 2, 5)"
        in result.stderr
    )
    assert "hint: keep one row per scope@unique_id" in result.stderr
    assert not page.exists()


def test_a_backtest_without_scope_is_keyed_by_unique_id(cli, tmp_path: Path) -> None:
    """Without scope every row is read as a series row: a unique_id twice is a series twice."""
    text = "unique_id,model,mase,wape\nGold/A,AutoETS,0.8,0.3\nGold/A,AutoETS,0.8,0.3\n"
    table, page, result = _refused(cli, tmp_path, "backtest.csv", text)
    assert result.exit_code == 1
    assert f"{table}: 1 unique_id is on more than one row: 'Gold/A' (rows 1, 2)" in result.stderr
    assert not page.exists()


def test_report_refuses_a_site_loaded_past_its_capacity(cli, tmp_path: Path) -> None:
    """13 served of a capacity of 10: the page drew 130.0 %, a plan network cannot make."""
    broken = SITES.replace("S1,52.5,13.4,true,100,10,9,0.9,2", "S1,52.5,13.4,true,100,10,13,1.3,2")
    table, page, result = _refused(cli, tmp_path, "sites.csv", broken)
    assert result.exit_code == 1
    assert f"{table}: utilization must be a finite number in [0, 1]" in result.stderr
    assert "got 1.3 for site_id 'S1'" in result.stderr
    assert "hint: give network's --sites-out as written" in result.stderr
    assert not page.exists()


@pytest.mark.parametrize("written", ["1.0000000000000002", "1.0000000009308065"])
def test_a_full_site_s_solver_rounding_is_read(cli, tmp_path: Path, written: str) -> None:
    """A guard: network --allow-split wrote these for full sites (random instances; the demo's
    segments with capacities 1.03 times their demand): 100.0 %, and read."""
    text = SITES.replace("20,20,1.0,3", f"20,20,{written},3")
    _, page, result = _refused(cli, tmp_path, "sites.csv", text)
    assert result.exit_code == 0, result.stderr
    assert page.exists()


def test_backtest_rows_without_a_series_id_are_no_repeated_key(cli, tmp_path: Path) -> None:
    """A guard: two rows with no unique_id are unknown series, left out and said, as before."""
    text = BACKTEST + ",series,Gold,B,Naive,1.0,0.2\n,series,Gold,C,Naive,1.0,0.2\n"
    _, page, result = _refused(cli, tmp_path, "backtest.csv", text)
    assert result.exit_code == 0, result.stderr


# --- 3, further: any stage's notes and warnings name the real source ---------------------------


def _network_inputs(folder: Path) -> tuple[Path, Path]:
    """150 customers, 8 sites whose capacity is 1.075 times the demand: a plan the solver does
    not prove optimal at its first node."""
    import numpy as np

    rng = np.random.default_rng(3)
    n, k = 150, 8
    customers = pl.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "segment": ["A"] * n,
            "demand": rng.lognormal(3, 1.2, n).round(6),
            "lat": rng.uniform(43, 54, n),
            "lon": rng.uniform(-1, 14, n),
        }
    )
    capacity = rng.uniform(0.5, 1.5, k)
    capacity = capacity / capacity.sum() * customers["demand"].sum() / 0.93
    sites = pl.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(k)],
            "lat": rng.uniform(43, 54, k),
            "lon": rng.uniform(-1, 14, k),
            "fixed_cost": rng.uniform(1e3, 5e4, k).round(2),
            "capacity": capacity.round(4),
        }
    )
    paths = folder / "customers.csv", folder / "sites.csv"
    customers.write_csv(paths[0])
    sites.write_csv(paths[1])
    return paths


@pytest.mark.parametrize("given", ["variable", "config"])
def test_network_s_warning_names_where_its_node_limit_came_from(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """'the solver stopped at its node limit (--node-limit 1): ... raise --node-limit' was said
    of a limit from $SEGCHAIN_NODE_LIMIT or the config's [network] node_limit."""
    customers, sites = _network_inputs(tmp_path)
    args = ["network", str(customers), "--sites", str(sites), "-o", str(tmp_path / "a.csv")]
    if given == "variable":
        monkeypatch.setenv("SEGCHAIN_NODE_LIMIT", "1")
        where = "$SEGCHAIN_NODE_LIMIT"
    else:
        config = tmp_path / "c.toml"
        config.write_text("[network]\nnode_limit = 1\n")
        args += ["--config", str(config)]
        where = f"{config} [network] node_limit"
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert f"the solver stopped at its node limit ({where} 1)" in result.stderr
    assert f"raise {where} (0: no limit)" in result.stderr
    assert "--node-limit" not in result.stderr
