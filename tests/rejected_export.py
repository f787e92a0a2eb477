"""A hand-made export whose customers lost to rejected lines are known by construction, for the
tests of segment's and validate's count of them (session 69)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

HEADER = "order_id,order_date,customer_id,sku,quantity,unit_price"
# One customer per way of losing (or keeping) every line; the comment says what the import
# does with the line.
LINES = [
    "1001,2024-01-05,A,S1,2,10.00",  # used
    "1002,2024-02-05,A,S2,1,5.00",  # used
    "1003,2024-01-10,B,S1,1,10.00",  # used: B keeps one good line, so is no lost customer
    "1004,not a date,B,S1,1,10.00",  # bad_date
    "1005,soon,C,S1,1,10.00",  # bad_date: C's only line
    "C1006,2024-02-01,D,S1,-1,10.00",  # a return: rejected by --returns drop, netted by default
    "1007,2024-02-02,E,S1,lots,10.00",  # bad_quantity
    "1008,2024-02-03,E,,1,10.00",  # missing_sku: E's two lines, two reasons
    "1009,2024-02-04,G,S1,1,-4.00",  # negative price: rejected by --returns drop
    "1010,2024-02-05,,S1,1,10.00",  # missing_customer: no customer to lose
    "1011,2024-02-06,J,POST,1,6.90",  # non-product, kept (flagged): J stays a customer
    "1012,2024-02-07,K,S1,1,10.00",  # used
]
CUSTOMERS = {"A", "B", "C", "D", "E", "G", "J", "K"}
LOST = {"drop": ["C", "D", "E", "G"], "net": ["C", "E"]}


def export_text(*extra: str) -> str:
    return "\n".join([HEADER, *LINES, *extra]) + "\n"


def write_parquet(path: Path) -> Path:
    """The same lines as a Parquet export of text columns (never validated)."""
    names = HEADER.split(",")
    rows = [dict(zip(names, (v or None for v in line.split(",")), strict=True)) for line in LINES]
    pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String)).write_parquet(path)
    return path


def lost_line(lost: list[str], where: str, command: str) -> str:
    """The stderr line of ``command`` counting the customers ``lost`` (in no segment; with no
    line kept by validate), written out here; ``where``: where their lines are (empty without
    --rejects: the reconciliation's hint says how to write them out)."""
    n = len(lost)
    shown = ", ".join(repr(x) for x in lost[:3]) + (f" (and {n - 3} more)" if n > 3 else "")
    noun = "customer" if n == 1 else "customers"
    fate = {
        "segment": ("is in no segment", "are in no segment"),
        "validate": ("has no line kept", "have no line kept"),
    }[command][n != 1]
    return (
        f"segchain {command}:   {n} {noun} whose every line was rejected {fate}: {shown}"
        + (f"; {where}" if where else "")
        + "\n"
    )
