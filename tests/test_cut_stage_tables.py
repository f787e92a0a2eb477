"""A stage's table written as CSV and cut mid-row (a copy interrupted, a disk that filled,
``head -c``) is refused where it is read (``tableio.read_table``), naming the input, the row and
what is missing: a partial row is no row, and the rows after it are gone. Before, costs wrote
its table without the lost customers (exit 0, only its reconciliation counted them), forecast
left their order lines out without naming the cut, and the others blamed a blank field.

An order export keeps its warning (``test_cut_short.py``): a human export may lack its last
line break. So may a stage's table edited in a spreadsheet: a complete last row without a line
break is read as before."""

from __future__ import annotations

from pathlib import Path

import pytest

SEGMENTS = (
    "customer_id,segment,lat,lon,quantity\n"
    "C1,A,50.1,8.7,12\nC2,A,48.9,2.3,5\nC3,B,52.5,13.4,7\nC4,B,53.5,10.0,3\n"
)
ORDERS = (
    "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    "1,2024-01-01,C1,P1,10,5\n2,2024-02-01,C2,P1,5,5\n3,2024-03-01,C3,P2,2,7\n"
    "4,2024-03-02,C4,P2,1,7\n"
)
FORECAST = (
    "sku,ds,forecast,error_sd\n"
    "P1,2025-01-06,10,2\nP1,2025-01-13,10,2\nP2,2025-01-06,5,1\nP2,2025-01-13,5,1\n"
)
SITES = "site_id,lat,lon,fixed_cost\nS1,50.0,8.6,100\nS2,48.8,2.4,100\nS3,52.4,13.3,100\n"
ITEMS = "sku,unit_cost,lead_time_days\nP1,3.5,14\nP2,4.0,7\n"
ON_HAND = "sku,on_hand\nP1,20\nP2,5\n"
ASSIGNMENTS = (
    "customer_id,site_id,share,demand,transport_cost\n"
    "C1,S1,1.0,12,10.5\nC2,S2,1.0,5,3.25\nC3,S3,1.0,7,7.0\nC4,S3,1.0,3,8.0\n"
)
POLICY = "sku,inventory_value\nP1,120.5\nP2,80.0\n"

HINT = (
    "hint: rewrite the file by rerunning the stage that writes it (or copy it again in full); "
    "a table typed or edited by hand: complete its last row or delete it\n"
)


def cut(text: str, keep: str) -> str:
    """``text`` up to the end of the last ``keep`` in it, as a copy that stopped there leaves
    it (no line break after it)."""
    end = text.rindex(keep, 0, len(text) - 1) + len(keep)
    return text[:end]


def cut_message(named: str, row: int, fields: int, width: int) -> str:
    return (
        f"Error: {named}: the file ends in the middle of a row: it was cut short (row {row:,}: "
        f"{fields} of the header's {width} fields, and no line break after it); a partial row "
        "is no row, and any rows that followed it are missing\n"
    )


def write_inputs(tmp_path: Path) -> None:
    for name, text in {
        "seg.csv": SEGMENTS,
        "orders.csv": ORDERS,
        "fc.csv": FORECAST,
        "sites.csv": SITES,
        "items.csv": ITEMS,
        "on_hand.csv": ON_HAND,
        "asg.csv": ASSIGNMENTS,
        "policy.csv": POLICY,
    }.items():
        (tmp_path / name).write_text(text)


# (command with CUT for the cut table, its name in messages, its whole text, where the cut
# leaves the last row: the row, its fields, the header's)
CUT_INPUTS = {
    "costs SEGMENTS": (
        ["costs", "CUT", "--orders", "orders.csv"],
        "SEGMENTS",
        SEGMENTS,
        "C3,B,52",
        (3, 3, 5),
    ),
    "forecast SEGMENTS": (
        ["forecast", "CUT", "--orders", "orders.csv"],
        "SEGMENTS",
        SEGMENTS,
        "C2,A,48.9,",
        (2, 4, 5),
    ),
    "stock FORECAST": (["stock", "CUT"], "FORECAST", FORECAST, "P2,2025-01-06", (3, 2, 4)),
    "network CUSTOMERS": (
        ["network", "CUT", "--sites", "sites.csv"],
        "CUSTOMERS",
        SEGMENTS,
        "C4",
        (4, 1, 5),
    ),
    "network --sites": (
        ["network", "seg.csv", "--sites", "CUT"],
        "--sites",
        SITES,
        "S3,52.4,13.3",
        (3, 3, 4),
    ),
    "costs --assignments": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--assignments", "CUT"],
        "--assignments",
        ASSIGNMENTS,
        "C3,S3,1.0",
        (3, 3, 5),
    ),
    "costs --policy": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--policy", "CUT"],
        "--policy",
        POLICY,
        "P2",
        (2, 1, 2),
    ),
    "costs --items": (
        ["costs", "seg.csv", "--orders", "orders.csv", "--items", "CUT"],
        "--items",
        ITEMS,
        "P2,4.0",
        (2, 2, 3),
    ),
    "stock --on-hand": (
        ["stock", "fc.csv", "--on-hand", "CUT"],
        "--on-hand",
        ON_HAND,
        "P2",
        (2, 1, 2),
    ),
    "segment --previous": (
        ["segment", "orders.csv", "--previous", "CUT"],
        "--previous",
        SEGMENTS,
        "C4,B,53.5",
        (4, 3, 5),
    ),
}


@pytest.mark.parametrize(
    ("args", "named", "text", "keep", "where"), CUT_INPUTS.values(), ids=CUT_INPUTS.keys()
)
def test_stage_table_cut_mid_row_refused(
    cli, tmp_path: Path, args: list[str], named: str, text: str, keep: str, where: tuple
) -> None:
    write_inputs(tmp_path)
    (tmp_path / "cut.csv").write_text(cut(text, keep))
    out = tmp_path / "out.csv"
    args = [a.replace("CUT", "cut.csv") for a in args]
    result = cli(*args, "-o", str(out))
    assert result.exit_code == 1, result.stderr
    command = args[0]
    assert result.stderr.endswith(
        f"segchain {command}: {cut_message(f'{named} cut.csv', *where)}segchain {command}:   {HINT}"
    )
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_report_input_cut_mid_row_refused_by_its_path(cli, tmp_path: Path) -> None:
    # report's INPUTS are named by their paths alone (README).
    (tmp_path / "fc.csv").write_text(cut(FORECAST, "P2,2025-01-13,5"))
    out = tmp_path / "r.html"
    result = cli("report", "fc.csv", "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.endswith(
        f"segchain report: {cut_message('fc.csv', 4, 3, 4)}segchain report:   {HINT}"
    )
    assert not out.exists()


def test_stage_table_cut_from_stdin_named_by_its_argument(cli, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = cli("stock", "-", "-o", str(out), input=cut(FORECAST, "P2,2025-01-06,5"))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.endswith(
        f"segchain stock: {cut_message('FORECAST <stdin>', 3, 3, 4)}segchain stock:   {HINT}"
    )


@pytest.mark.parametrize(
    ("text", "value", "kind", "column"),
    [
        # Every field there, the last one cut: a date, a number, true/false.
        (
            "sku,forecast,error_sd,ds\nP1,10,2,2025-01-06\nP2,5,1,2025-01-0",
            "2025-01-0",
            "a date",
            "ds",
        ),
        (
            "sku,ds,forecast,error_sd\nP1,2025-01-06,10,2.5e-03\nP2,2025-01-06,5,1.5e-",
            "1.5e-",
            "a number",
            "error_sd",
        ),
    ],
    ids=["date", "number"],
)
def test_stage_table_cut_inside_its_last_value_refused(
    cli, tmp_path: Path, text: str, value: str, kind: str, column: str
) -> None:
    # The last row has every field, but its last value is no value of its column: a cut.
    (tmp_path / "fc.csv").write_text(text)
    out = tmp_path / "out.csv"
    result = cli("stock", "fc.csv", "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.endswith(
        "segchain stock: Error: FORECAST fc.csv: the file ends in the middle of a row: it was cut "
        f"short (row 2: its last value {value!r} is not {kind} like the rest of column "
        f"{column!r}, and no line break after it); a partial row is no row, and any rows that "
        f"followed it are missing\nsegchain stock:   {HINT}"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "name", "text"),
    [
        (["costs", "seg.csv", "--orders", "orders.csv"], "seg.csv", SEGMENTS),
        (["stock", "fc.csv"], "fc.csv", FORECAST),
        (["stock", "fc.csv", "--items", "items.csv"], "items.csv", ITEMS),
        (
            ["costs", "seg.csv", "--orders", "orders.csv", "--assignments", "asg.csv"],
            "asg.csv",
            ASSIGNMENTS,
        ),
    ],
    ids=["costs SEGMENTS", "stock FORECAST", "stock --items", "costs --assignments"],
)
def test_stage_table_complete_last_row_without_line_break_read(
    cli, tmp_path: Path, args: list[str], name: str, text: str
) -> None:
    # A table saved from a spreadsheet may end without a line break: every row is still read,
    # and the output is the one of the table with its line break.
    write_inputs(tmp_path)
    whole = cli(*args, "-o", str(tmp_path / "whole.csv"))
    assert whole.exit_code == 0, whole.stderr
    (tmp_path / name).write_text(text.rstrip("\n"))
    bare = cli(*args, "-o", str(tmp_path / "bare.csv"))
    assert bare.exit_code == 0, bare.stderr
    assert "cut short" not in bare.stderr
    assert (tmp_path / "bare.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_stage_table_short_last_row_with_line_break_read_as_before(cli, tmp_path: Path) -> None:
    # A line break after it: a short row like any other (its missing fields blank), not a cut;
    # here its blank error_sd is refused by stock, as before.
    (tmp_path / "fc.csv").write_text(FORECAST + "P3,2025-01-06,4\n")
    result = cli("stock", "fc.csv", "-o", str(tmp_path / "out.csv"))
    assert "cut short" not in result.stderr
    assert "column 'error_sd' has 1 empty value in series (unique_id) 'P3'" in result.stderr
