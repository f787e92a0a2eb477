"""The contract every command keeps, whatever its input (issue 12; as csvkit's test mixins).

A command gets these tests by being listed in CONTRACTS: how to call it with one input table, an
output and its secondary outputs. Each case runs the real command in-process and checks the
exit code, that stderr is one message without a traceback, and that every existing output is
byte-identical (and keeps its mode) after a failing run.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

from segchain.cli import COMMANDS


@dataclass(frozen=True)
class Contract:
    """How to call one command: its arguments around INPUT, -o OUT and its secondary outputs."""

    command: str
    output_name: str = "out.csv"
    secondary: tuple[str, ...] = ()  # options that write a second file
    extra: Callable[[Path], list[str]] = field(default=lambda tmp: [])
    accepts: tuple[str, ...] = ()  # CASES this command may accept (report reads every stage)


def _orders(tmp: Path) -> Path:
    path = tmp / "orders_extra.csv"
    if not path.exists():
        path.write_text(
            "order_id,order_date,customer_id,sku,quantity,unit_price\n"
            + "".join(f"{i},2024-03-{1 + i % 28:02d},C{i % 5},S{i % 3},1,10\n" for i in range(40))
        )
    return path


CONTRACTS = {
    c.command: c
    for c in [
        Contract("validate", secondary=("--rejects",)),
        Contract("segment", secondary=("--profile",)),
        Contract(
            "forecast",
            secondary=("--backtest",),
            extra=lambda tmp: ["--orders", str(_orders(tmp))],
        ),
        Contract("stock", secondary=("--segments-out",)),
        Contract("network", secondary=("--sites-out",), extra=lambda tmp: ["--candidates", "2"]),
        Contract("costs", extra=lambda tmp: ["--orders", str(_orders(tmp))]),
        Contract("report", output_name="out.html", accepts=("wrong stage's table",)),
    ]
}
# Commands without an input table: their output contract is tested in test_outputs.py.
NO_INPUT = {"sample"}


def test_every_command_is_under_contract() -> None:
    assert set(COMMANDS) == set(CONTRACTS) | NO_INPUT


def test_every_output_option_is_declared_as_written() -> None:
    """An option that writes a file must carry writes(): checked before work, written last."""
    import typing

    from segchain.cli import app
    from segchain.cli.common import PathRole, path_roles

    for info in app.registered_commands:
        func = info.callback
        assert func is not None
        roles = path_roles(func)
        hints = typing.get_type_hints(func, include_extras=True)
        for name, hint in hints.items():
            if typing.get_origin(hint) is not typing.Annotated:
                continue
            decls = [
                d
                for extra in typing.get_args(hint)[1:]
                for d in (getattr(extra, "param_decls", None) or ())
            ]
            writes_file = any(
                d in ("-o", "--rejects", "--profile", "--backtest") or d.endswith("-out")
                for d in decls
            )
            if writes_file and info.name != "sample":
                role = roles.get(name)
                assert isinstance(role, PathRole) and role.kind == "output", (info.name, name)


CASES = {
    "empty file": b"",
    "header only": b"customer_id,segment,sku,unique_id,ds,forecast,order_id,order_date\n",
    "binary": bytes(range(256)) * 8,
    "wrong stage's table": (
        b"site_id,lat,lon,open,fixed_cost,capacity,demand_served,utilization,customers\n"
        b"S1,48.1,11.6,true,100,,5,,3\n"
    ),
    "cr only": b'a,b\r1,2\r3,"4\r5"',
}


def _args(contract: Contract, tmp: Path, source: Path) -> tuple[list[str], list[Path]]:
    out = tmp / contract.output_name
    outputs = [out]
    args = [contract.command, str(source), *contract.extra(tmp), "-o", str(out)]
    for option in contract.secondary:
        path = tmp / f"second{option.replace('-', '_')}.csv"
        args += [option, str(path)]
        outputs.append(path)
    return args, outputs


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_bad_input_fails_cleanly_and_leaves_outputs_untouched(
    cli, tmp_path: Path, command: str, case: str
) -> None:
    contract = CONTRACTS[command]
    if case in contract.accepts:
        pytest.skip(f"{command} accepts {case}")
    source = tmp_path / "input.csv"
    source.write_bytes(CASES[case])
    args, outputs = _args(contract, tmp_path, source)
    for i, path in enumerate(outputs):
        path.write_bytes(f"previous output {i}\n".encode())
        path.chmod(0o640)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli(*args)
    assert result.exit_code == 1, result.stderr
    # One error, and every line of stderr says which command wrote it (make -j2 logs).
    lines = result.stderr.splitlines()
    assert sum(f"segchain {command}: Error: " in line for line in lines) == 1, result.stderr
    assert all(line.startswith(f"segchain {command}: ") for line in lines), result.stderr
    assert "Traceback" not in result.stderr
    for i, path in enumerate(outputs):
        assert path.read_bytes() == f"previous output {i}\n".encode()
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary left behind


@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_output_equal_to_input_is_refused(cli, tmp_path: Path, command: str) -> None:
    contract = CONTRACTS[command]
    source = tmp_path / contract.output_name
    source.write_bytes(b"customer_id,segment\n1,A\n")
    args = [command, str(source), *contract.extra(tmp_path), "-o", str(source)]
    result = cli(*args)
    assert result.exit_code == 2
    assert "is also the input" in result.stderr
    assert source.read_bytes() == b"customer_id,segment\n1,A\n"


@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_secondary_output_equal_to_main_output_is_refused(
    cli, tmp_path: Path, command: str
) -> None:
    contract = CONTRACTS[command]
    if not contract.secondary:
        pytest.skip(f"{command} has no secondary output")
    source = tmp_path / "input.csv"
    source.write_bytes(b"customer_id,segment\n1,A\n")
    out = tmp_path / "out.csv"
    args = [command, str(source), *contract.extra(tmp_path), "-o", str(out)]
    args += [contract.secondary[0], str(out)]
    result = cli(*args)
    assert result.exit_code == 2
    assert "one would be lost" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_missing_input_file_is_a_data_error(cli, tmp_path: Path, command: str) -> None:
    contract = CONTRACTS[command]
    args, outputs = _args(contract, tmp_path, tmp_path / "absent.csv")
    result = cli(*args)
    assert result.exit_code == 1
    assert f"segchain {command}: Error: " in result.stderr and "absent.csv" in result.stderr
    assert not any(p.exists() for p in outputs)


@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_missing_output_folder_is_a_usage_error_before_reading(
    cli, tmp_path: Path, command: str
) -> None:
    contract = CONTRACTS[command]
    # The input does not even exist: the output is checked first.
    args = [
        command,
        str(tmp_path / "absent.csv"),
        *contract.extra(tmp_path),
        "-o",
        str(tmp_path / "no" / contract.output_name),
    ]
    result = cli(*args)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "folder" in result.stderr


@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_read_only_output_is_refused(cli, tmp_path: Path, command: str) -> None:
    contract = CONTRACTS[command]
    out = tmp_path / contract.output_name
    out.write_bytes(b"keep\n")
    out.chmod(0o444)
    args = [command, str(tmp_path / "x.csv"), *contract.extra(tmp_path), "-o", str(out)]
    result = cli(*args)
    assert result.exit_code == 2
    assert "read-only" in result.stderr
    assert out.read_bytes() == b"keep\n"


def test_report_on_header_only_segments_is_a_data_error(cli, tmp_path: Path) -> None:
    source = tmp_path / "segments.csv"
    source.write_text("customer_id,segment,segment_rank,recency_days,frequency,monetary\n")
    result = cli("report", str(source), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 1
    assert result.stderr.endswith(
        f"segchain report: Error: {source}: the segments table has no rows (only a header): "
        "nothing to report\n"
    )


def test_successful_run_keeps_mode_and_writes_a_symlinks_target(cli, tmp_path: Path) -> None:
    orders = _orders(tmp_path)
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    target.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    result = cli("segment", str(orders), "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert pl.read_csv(target)["customer_id"].n_unique() == 5
    assert os.readlink(link) == str(target)
