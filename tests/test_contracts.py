"""The contract every command keeps, whatever its input (issue 12; as csvkit's test mixins).

A command gets these tests by being listed in CONTRACTS: how to call it with one input table, an
output and its secondary outputs, and with valid inputs for a successful run. Each case runs the
real command in-process. Failing runs: the exit code, one message on stderr without a traceback,
every existing output byte-identical (and keeping its mode). Successful runs: a symlink's target
written atomically in the target's folder (the link stays), existing outputs' modes kept, a FIFO
written through (never replaced). Every file option: an output equal to any input, or a
read-only destination, is refused before anything is read (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
    # A successful run: the arguments before the outputs, with the files of VALID in the folder.
    valid: Callable[[Path], list[str]] = field(default=lambda tmp: [])
    starts: bytes = b""  # how the main output of a successful run begins
    folder: bool = False  # -o names a folder (sample); the main output is its orders.csv


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
        Contract(
            "validate",
            secondary=("--rejects",),
            valid=lambda tmp: [str(tmp / "orders.csv")],
            starts=b"order_id,",
        ),
        Contract(
            "segment",
            secondary=("--profile",),
            valid=lambda tmp: [str(tmp / "orders.csv")],
            starts=b"customer_id,segment,",
        ),
        Contract(
            "forecast",
            secondary=("--backtest",),
            extra=lambda tmp: ["--orders", str(_orders(tmp))],
            valid=lambda tmp: [
                str(tmp / "segments.csv"),
                "--orders",
                str(tmp / "orders.csv"),
                *("--models", "Naive", "--horizon", "4", "--reconcile", "none"),
            ],
            starts=b"unique_id,ds,forecast",
        ),
        Contract(
            "stock",
            secondary=("--segments-out",),
            valid=lambda tmp: [str(tmp / "forecast.csv")],
            starts=b"sku,",
        ),
        Contract(
            "network",
            secondary=("--sites-out",),
            extra=lambda tmp: ["--candidates", "2"],
            valid=lambda tmp: [str(tmp / "segments.csv"), "--candidates", "2"],
            starts=b"customer_id,",
        ),
        Contract(
            "costs",
            extra=lambda tmp: ["--orders", str(_orders(tmp))],
            valid=lambda tmp: [str(tmp / "segments.csv"), "--orders", str(tmp / "orders.csv")],
            starts=b"segment,",
        ),
        Contract(
            "report",
            output_name="out.html",
            accepts=("wrong stage's table",),
            valid=lambda tmp: [str(tmp / "segments.csv")],
            starts=b"<!DOCTYPE html>",
        ),
        Contract(
            "sample",
            valid=lambda tmp: ["--customers", "20", "--skus", "4", "--years", "1"],
            starts=b"order_id,",
            folder=True,
        ),
    ]
}
# Commands without an input table: only the success-path and output cases apply.
NO_INPUT = {"sample"}
WITH_INPUT = sorted(set(CONTRACTS) - NO_INPUT)


def test_every_command_is_under_contract() -> None:
    assert set(COMMANDS) == set(CONTRACTS)


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


def test_every_file_option_is_declared() -> None:
    """An option that names a file (metavar FILE, a Path) carries reads() or writes(), so that
    no output can replace it (finding: `--geo g.csv -o g.csv` destroyed the postal table)."""
    import typing
    from pathlib import PurePath

    from segchain.cli import app
    from segchain.cli.common import PathRole, path_roles

    for info in app.registered_commands:
        func = info.callback
        assert func is not None
        roles = path_roles(func)
        for name, hint in typing.get_type_hints(func, include_extras=True).items():
            if typing.get_origin(hint) is not typing.Annotated or info.name == "sample":
                continue
            base, *extras = typing.get_args(hint)
            names_file = any(getattr(e, "metavar", None) == "FILE" for e in extras) or any(
                isinstance(t, type) and issubclass(t, PurePath)
                for t in (base, *typing.get_args(base))
            )
            if names_file:
                assert isinstance(roles.get(name), PathRole), (info.name, name)


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
@pytest.mark.parametrize("command", WITH_INPUT)
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


@pytest.mark.parametrize("command", WITH_INPUT)
def test_output_equal_to_input_is_refused(cli, tmp_path: Path, command: str) -> None:
    contract = CONTRACTS[command]
    source = tmp_path / contract.output_name
    source.write_bytes(b"customer_id,segment\n1,A\n")
    args = [command, str(source), *contract.extra(tmp_path), "-o", str(source)]
    result = cli(*args)
    assert result.exit_code == 2
    assert "is also the input" in result.stderr
    assert source.read_bytes() == b"customer_id,segment\n1,A\n"


@pytest.mark.parametrize("command", WITH_INPUT)
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


@pytest.mark.parametrize("command", WITH_INPUT)
def test_missing_input_file_is_a_data_error(cli, tmp_path: Path, command: str) -> None:
    contract = CONTRACTS[command]
    args, outputs = _args(contract, tmp_path, tmp_path / "absent.csv")
    result = cli(*args)
    assert result.exit_code == 1
    assert f"segchain {command}: Error: " in result.stderr and "absent.csv" in result.stderr
    assert not any(p.exists() for p in outputs)


@pytest.mark.parametrize("command", WITH_INPUT)
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


@pytest.mark.parametrize("command", WITH_INPUT)
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


# ---- every input option against every output option ----------------------------------------


def _file_options(command: str) -> tuple[list[str], list[str]]:
    """The options of ``command`` that name files it reads, and that it writes (as declared)."""
    from segchain.cli import app
    from segchain.cli.common import path_roles

    func = next(i.callback for i in app.registered_commands if i.name == command)
    assert func is not None
    roles = path_roles(func).values()
    return [r.option for r in roles if r.kind == "input"], [
        r.option for r in roles if r.kind == "output"
    ]


def _set_option(args: list[str], option: str, value: str) -> list[str]:
    """``args`` with ``option`` given ``value`` (the positional argument, INPUT, SEGMENTS, ...,
    is args[1])."""
    if not option.startswith("-"):
        return [args[0], value, *args[2:]]
    if option in args:
        at = args.index(option)
        return [*args[: at + 1], value, *args[at + 2 :]]
    return [*args, option, value]


PAIRS = [
    (command, read, written)
    for command in WITH_INPUT
    for read in _file_options(command)[0]
    for written in _file_options(command)[1]
]


@pytest.mark.parametrize(("command", "read", "written"), PAIRS)
def test_any_output_equal_to_any_input_is_refused(
    cli, tmp_path: Path, command: str, read: str, written: str
) -> None:
    contract = CONTRACTS[command]
    clash = tmp_path / ("both.toml" if read == "--config" else "both.csv")
    content = b"customer_id,segment\n1,A\n" if read != "--config" else b"seed = 1\n"
    clash.write_bytes(content)
    args, _ = _args(contract, tmp_path, tmp_path / "absent.csv")
    args = _set_option(_set_option(args, read, str(clash)), written, str(clash))
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    assert "is also the input" in result.stderr and "Traceback" not in result.stderr
    assert clash.read_bytes() == content


OUTPUTS = [(command, written) for command in WITH_INPUT for written in _file_options(command)[1]]


@pytest.mark.parametrize(("command", "written"), OUTPUTS)
def test_every_read_only_output_is_refused_before_reading(
    cli, tmp_path: Path, command: str, written: str
) -> None:
    contract = CONTRACTS[command]
    args, outputs = _args(contract, tmp_path, tmp_path / "absent.csv")
    read_only = tmp_path / ("ro.html" if command == "report" else "ro.csv")
    read_only.write_bytes(b"keep\n")
    read_only.chmod(0o444)
    result = cli(*_set_option(args, written, str(read_only)))
    assert result.exit_code == 2, result.stderr
    assert f"Error: {written} {read_only}: the file is read-only" in result.stderr
    assert read_only.read_bytes() == b"keep\n"
    assert not any(p.exists() for p in outputs if p != read_only)


# ---- successful runs --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """orders.csv, segments.csv and forecast.csv that every command accepts (made once)."""
    from typer.testing import CliRunner

    from segchain.cli import app

    folder = tmp_path_factory.mktemp("valid")
    (folder / "orders.csv").write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price,lat,lon\n"
        + "".join(
            f"{i},2024-{1 + i % 12:02d}-{1 + i % 28:02d},C{i % 5},S{i % 3},{1 + i % 4},10,"
            f"{48 + i % 5 * 0.5},{11 + i % 5 * 0.3}\n"
            for i in range(120)
        )
    )
    runner = CliRunner()
    for command, output in (("segment", "segments.csv"), ("forecast", "forecast.csv")):
        args = [command, *CONTRACTS[command].valid(folder), "-o", str(folder / output)]
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    return folder


@pytest.fixture
def valid(valid_folder: Path, tmp_path: Path) -> Path:
    """The valid inputs, copied into the test's own folder."""
    for path in valid_folder.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _run_args(contract: Contract, folder: Path, main: Path) -> tuple[list[str], list[Path]]:
    """A successful run's arguments writing its main output to ``main`` (for sample, -o is
    main's folder), and its secondary outputs in ``folder``."""
    dest = main.parent if contract.folder else main
    args = [contract.command, *contract.valid(folder), "-o", str(dest)]
    secondary = []
    for option in contract.secondary:
        path = folder / f"second{option.replace('-', '_')}.csv"
        args += [option, str(path)]
        secondary.append(path)
    return args, secondary


def _main_output(contract: Contract, folder: Path) -> Path:
    if contract.folder:
        (folder / "out").mkdir(exist_ok=True)
        return folder / "out" / "orders.csv"
    return folder / contract.output_name


def _temporaries(*folders: Path) -> list[Path]:
    return [p for f in folders for p in f.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_success_writes_a_symlinks_target_atomically_and_keeps_modes(
    cli, valid: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract = CONTRACTS[command]
    elsewhere = valid / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / _main_output(contract, valid).name
    target.write_bytes(b"old target\n")
    target.chmod(0o600)
    link = _main_output(contract, valid)
    link.symlink_to(target)
    args, secondary = _run_args(contract, valid, link)
    for path in secondary:
        path.write_bytes(b"old secondary\n")
        path.chmod(0o640)
    renames: list[tuple[str, str]] = []
    replace = os.replace

    def spy(src: str, dst: str) -> None:
        renames.append((str(src), str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(contract.starts)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Atomic: a temporary file in the target's own folder, renamed over the target.
    into_target = [src for src, dst in renames if Path(dst) == target]
    assert len(into_target) == 1 and Path(into_target[0]).parent == elsewhere
    for path in secondary:
        assert path.read_bytes() != b"old secondary\n"
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in elsewhere.iterdir()) == [target.name]
    assert not _temporaries(valid, link.parent)


@pytest.mark.parametrize("command", sorted(CONTRACTS))
def test_success_writes_a_fifo_through(cli, valid: Path, command: str) -> None:
    contract = CONTRACTS[command]
    fifo = _main_output(contract, valid)
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    args, _ = _run_args(contract, valid, fifo)
    try:
        result = cli(*args)
    finally:
        # Unblock the reader if the command never opened the FIFO.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received and received[0].startswith(contract.starts)


def _failing_outputs() -> list[tuple[str, int]]:
    return [
        (command, i)
        for command, contract in sorted(CONTRACTS.items())
        for i in range(1 + len(contract.secondary))
    ]


@pytest.mark.parametrize(("command", "failing"), _failing_outputs())
def test_disk_full_on_any_output_leaves_every_output_untouched(
    cli, valid: Path, command: str, failing: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's computing succeeds, then writing one of its outputs fails (disk full): the
    outputs staged before it must not replace their previous files either."""
    from segchain import tableio

    contract = CONTRACTS[command]
    main = _main_output(contract, valid)
    args, secondary = _run_args(contract, valid, main)
    outputs = [main, *secondary]
    for i, path in enumerate(outputs):
        path.write_bytes(f"previous output {i}\n".encode())
        path.chmod(0o640)
    broken = outputs[failing]
    stage = tableio.OutputSet.stage

    def full_disk(self, dest, writer, **kwargs):  # type: ignore[no-untyped-def]
        if Path(dest) == broken:

            def writer(stream):  # type: ignore[no-untyped-def]
                stream.write(b"half")
                raise OSError(errno.ENOSPC, "No space left on device")

        return stage(self, dest, writer, **kwargs)

    monkeypatch.setattr(tableio.OutputSet, "stage", full_disk)
    result = cli(*args)
    assert result.exit_code == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "Error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"segchain {command}: Error: "), errors
    assert f"{broken}: cannot write: no space left on the device" in result.stderr
    assert "Traceback" not in result.stderr
    for i, path in enumerate(outputs):
        assert path.read_bytes() == f"previous output {i}\n".encode(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not _temporaries(valid, main.parent)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "command", sorted(c for c, k in CONTRACTS.items() if k.secondary or k.folder)
)
def test_a_rename_failing_halfway_leaves_every_output_as_it_was(
    cli, valid: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several outputs are renamed over their destinations one by one: when the second rename
    fails, the first destination must get its previous file back (no mix of new and old)."""
    contract = CONTRACTS[command]
    args, _ = _run_args(contract, valid, _main_output(contract, valid))
    before_run = _files(valid)
    assert cli(*args).exit_code == 0
    outputs = [valid / name for name in _files(valid) if name not in before_run]
    assert len(outputs) >= 2, outputs
    for i, path in enumerate(outputs):
        path.write_bytes(f"previous output {i}\n".encode())
        path.chmod(0o640)
    before = _files(valid)
    replace = os.replace
    renames: list[str] = []

    def second_fails(src: str, dst: str) -> None:
        if str(src).endswith(".tmp"):
            renames.append(str(dst))
            if len(renames) == 2:
                raise OSError(errno.EIO, "Input/output error")
        replace(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    result = cli(*args)
    assert result.exit_code == 1, result.stderr
    assert _files(valid) == before  # byte-identical, and no temporary or backup left behind
    assert f"{renames[1]}: cannot write: Input/output error; no output file was changed" in (
        result.stderr.replace("\n", " ")
    )
    assert "Traceback" not in result.stderr
    for path in outputs:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
