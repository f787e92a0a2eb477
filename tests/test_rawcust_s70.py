"""Each rejected-lines hint is said once and names an option the command has (session 70).

Session 69 taught segment and validate to count the customers whose every line of a raw export
was rejected; without --rejects their line said 'see their lines with --rejects FILE' under the
reconciliation's own '(write the rejected lines out with --rejects FILE)', and forecast, stock
and costs, which have no --rejects, gave that hint too. The export below is made here, so the
customers lost are known by construction: C's lines have no date, E's quantity is no number,
D's only line is a return (rejected by --returns drop, netted by default); A, B and K buy every
week.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"
WEEKS = 30
START = dt.date(2024, 1, 1)
LOST_LINES = [
    "9001,not a date,C,S1,1,10.00",  # bad_date
    "9002,someday,C,S2,2,10.00",  # bad_date: C's every line
    "C9003,2024-03-04,D,S1,-1,10.00",  # a return: D's only line
    "9004,2024-03-05,E,S1,lots,10.00",  # bad_quantity: E's only line
]
LOST = {"drop": ["C", "D", "E"], "net": ["C", "E"]}
SEGMENTS = "customer_id,segment\nA,Gold\nB,Silver\nK,Silver\n"


def write_inputs(tmp_path: Path) -> int:
    """orders.csv (the raw export) and seg.csv (a segments table of the user's own); returns
    the export's line count."""
    lines = [HEADER]
    n = 0
    for week in range(WEEKS):
        day = START + dt.timedelta(weeks=week)
        for customer, base in (("A", 3), ("B", 2), ("K", 1)):
            for sku in ("S1", "S2"):
                n += 1
                lines.append(f"{n},{day},{customer},{sku},{base + (week + n) % 3},10.00")
    lines += LOST_LINES
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "seg.csv").write_text(SEGMENTS)
    return len(lines) - 1


def lost_line(command: str, fate: str, lost: list[str], where: str = "") -> str:
    """The stderr line counting ``lost``, written out here (segment's words, with the stage's
    ``fate`` for them: plural, as every case below loses two or three)."""
    shown = ", ".join(repr(x) for x in lost)
    said = f"{len(lost)} customers whose every line was rejected {fate}: {shown}{where}"
    return f"segchain {command}:   {said}\n"


def write_forecast(tmp_path: Path) -> None:
    """A forecast table of the user's own (sku, ds, forecast, error_sd) for stock."""
    first = START + dt.timedelta(weeks=WEEKS)
    rows = [
        f"{sku},{first + dt.timedelta(weeks=w)},5.0,1.0" for sku in ("S1", "S2") for w in range(4)
    ]
    (tmp_path / "fc.csv").write_text("sku,ds,forecast,error_sd\n" + "\n".join(rows) + "\n")


FORECAST = ["--horizon", "2", "--models", "Naive"]


@pytest.mark.parametrize("command", ["segment", "validate"])
def test_one_hint_for_the_rejected_lines(cli, tmp_path: Path, command: str) -> None:
    # The reconciliation's hint and the customers' line both said to write the lines out.
    write_inputs(tmp_path)
    result = cli(command, "orders.csv", "--returns", "drop")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("--rejects FILE") == 1
    assert "(write the rejected lines out with --rejects FILE)" in result.stderr
    fate = {"segment": "are in no segment", "validate": "have no line kept"}[command]
    assert lost_line(command, fate, LOST["drop"]) in result.stderr
    # With --rejects, the line says where they are.
    result = cli(command, "orders.csv", "--returns", "drop", "--rejects", "rej.csv")
    assert lost_line(command, fate, LOST["drop"], "; their lines are in rej.csv") in result.stderr


@pytest.mark.parametrize("command", ["forecast", "stock", "costs"])
def test_the_hint_of_a_command_without_rejects_names_validate(
    cli, tmp_path: Path, command: str
) -> None:
    # forecast, stock and costs have no --rejects: their hint sent users to an option that
    # fails ('No such option: --rejects').
    write_inputs(tmp_path)
    write_forecast(tmp_path)
    first = {"forecast": "seg.csv", "stock": "fc.csv", "costs": "seg.csv"}[command]
    extra = FORECAST if command == "forecast" else []
    result = cli(command, first, "--orders", "orders.csv", "-o", "out.csv", *extra)
    assert result.exit_code == 0, result.stderr
    assert "(write the rejected lines out with segchain validate --rejects FILE)" in result.stderr
    assert result.stderr.count("--rejects FILE") == 1
    assert cli(command, "--rejects", "r.csv").exit_code == 2  # the option it lacks
