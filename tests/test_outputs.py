"""Outputs under hostile conditions (issue 12, findings 1-4 and 17): one output set per command.

Every output is checked before any work, written to a temporary file beside its destination and
renamed last, all or nothing; streams, devices and FIFOs are written through, never replaced.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import polars as pl
import pytest

from segchain import tableio
from segchain.errors import DataError, UsageError

EXE = Path(sys.executable).with_name("segchain")
needs_exe = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

CLEAN = "order_id,order_date,customer_id,sku,quantity,unit_price\n1,2024-03-01,C1,A,2,10\n"


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        + "".join(
            f"{i},2024-03-{1 + i % 28:02d},C{i % 7},S{i % 3},{1 + i % 4},10\n" for i in range(60)
        )
    )
    return path


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.run([str(EXE), *args], capture_output=True, timeout=120, **kwargs)


# ---- finding 1: devices, FIFOs, symlinks ------------------------------------------------------


@needs_exe
def test_output_to_fifo_is_written_through(orders: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc = run("validate", str(orders), "-o", str(fifo), "-f", "csv")
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received[0].startswith(b"order_id,order_date,customer_id")


def device(tmp_path: Path, name: str, minor: int) -> Path:
    """A private copy of /dev/null (minor 3) or /dev/full (minor 7): a regression must never
    replace the machine's own devices. Through a symlink when device nodes cannot be made here."""
    path = tmp_path / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        with open(path, "rb"):
            pass
    except OSError:
        path.unlink(missing_ok=True)
        path.symlink_to(f"/dev/{name}")
    return path


@needs_exe
def test_output_to_a_device_keeps_the_device(orders: Path, tmp_path: Path) -> None:
    null = device(tmp_path, "null", 3)
    proc = run("validate", str(orders), "-o", str(null), "-f", "csv")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat(null).st_mode)


@needs_exe
def test_output_to_a_full_device_is_a_clean_error_and_keeps_the_device(
    orders: Path, tmp_path: Path
) -> None:
    full = device(tmp_path, "full", 7)
    proc = run("validate", str(orders), "-o", str(full), "-f", "csv")
    assert proc.returncode == 1
    assert f"Error: -o {full}: cannot write: no space left on the device" in proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    assert stat.S_ISCHR(os.stat(full).st_mode)
    # 'wrote 60 order lines to .../full' came first: said when staged, before the device refused.
    assert b"wrote" not in proc.stderr, proc.stderr.decode()


@needs_exe
def test_stdout_redirected_to_dev_full_is_a_clean_error(orders: Path, tmp_path: Path) -> None:
    with open(device(tmp_path, "full", 7), "wb") as full:
        proc = subprocess.run(
            [str(EXE), "validate", str(orders), "-o", "-", "-f", "csv"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr and b"Exception ignored" not in proc.stderr
    assert b"wrote" not in proc.stderr, proc.stderr.decode()
    assert b"Error: -o -: cannot write: no space left on the device" in proc.stderr


@needs_exe
def test_closed_stdout_is_a_usage_error(orders: Path) -> None:
    proc = subprocess.run(
        ["sh", "-c", f'"{EXE}" validate "{orders}" -o - -f csv >&-'],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert b"Error: -o -: stdout is closed" in proc.stderr


@needs_exe
def test_dev_stdout_writes_to_the_redirected_file_without_replacing_it(
    orders: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("header kept\n")
    inode = out.stat().st_ino
    with open(out, "ab") as stream:
        proc = subprocess.run(
            # /dev/fd/1 rather than /dev/stdout: a regression must not replace the machine's link.
            [str(EXE), "validate", str(orders), "-o", "/dev/fd/1", "-f", "csv"],
            stdout=stream,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_ino == inode
    text = out.read_text()
    assert text.startswith("header kept\norder_id,order_date")


def test_dev_stdout_is_the_stream_not_a_file() -> None:
    for name in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "-"):
        target = tableio.check_output(name)
        assert target.through and target.fd == 1 and target.path is None


def test_symlink_output_writes_its_target(cli, orders: Path, tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "clean.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    result = cli("validate", str(orders), "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("order_id,")
    assert not [p for p in real_dir.iterdir() if p.name != "clean.csv"]  # no temporary left


# ---- finding 2: an output that is an input ----------------------------------------------------


def test_output_equal_to_input_is_refused(cli, orders: Path) -> None:
    before = orders.read_bytes()
    result = cli("validate", str(orders), "-o", str(orders))
    assert result.exit_code == 2
    assert "is also the input INPUT" in result.stderr
    assert orders.read_bytes() == before


@pytest.mark.parametrize(
    ("command", "argument", "extra"),
    [
        ("forecast", "SEGMENTS", ("--orders", "orders.csv")),
        ("costs", "SEGMENTS", ("--orders", "orders.csv")),
        ("network", "CUSTOMERS", ()),
        ("stock", "FORECAST", ()),
    ],
)
def test_output_equal_to_a_commands_argument_names_it_as_usage_does(
    cli, tmp_path: Path, command: str, argument: str, extra: tuple[str, ...]
) -> None:
    # 'stock fc.csv --segments-out fc.csv' said 'is also the input INPUT fc.csv': the command's
    # usage line and every other message name it FORECAST.
    table = tmp_path / "table.csv"
    table.write_text("customer_id,segment\nC1,A\n")
    result = cli(command, str(table), *extra, "-o", str(table))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain {command}: Error: -o {table}: is also the input {argument} {table}; "
    )
    assert table.read_text() == "customer_id,segment\nC1,A\n"


@pytest.mark.parametrize(
    ("args", "env", "message", "hint"),
    [
        (
            ["-f", "parquet", "-o", "seg.csv"],
            None,
            "-o seg.csv: the name says CSV, but -f parquet asks for Parquet",
            "name it seg.parquet, or leave -f out: the name decides the format",
        ),
        (
            ["-f", "csv", "-o", "seg.parquet.gz"],
            None,
            "-o seg.parquet.gz: the name says Parquet, but -f csv asks for CSV",
            "name it seg.csv.gz, or leave -f out: the name decides the format",
        ),
        (
            ["-o", "seg.csv"],
            "parquet",
            "-o seg.csv: the name says CSV, but $SEGCHAIN_FORMAT=parquet asks for Parquet",
            "name it seg.parquet, or leave SEGCHAIN_FORMAT unset: the name decides the format",
        ),
    ],
)
def test_a_format_the_output_name_contradicts_is_refused(
    cli, orders: Path, tmp_path: Path, monkeypatch, args, env, message, hint
) -> None:
    # Parquet was written into seg.csv, which the next stage refused as a Parquet file named
    # .csv; a standing SEGCHAIN_FORMAT=parquet did so to every .csv output of a Makefile.
    if env is not None:
        monkeypatch.setenv("SEGCHAIN_FORMAT", env)
    result = cli("segment", str(orders), *args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain segment: Error: {message}\nsegchain segment:   hint: {hint}\n"
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("seg.")]


def test_output_hard_link_to_input_is_refused(cli, orders: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias.csv"
    os.link(orders, alias)
    result = cli("validate", str(orders), "-o", str(alias))
    assert result.exit_code == 2
    assert "is also the input" in result.stderr


def test_output_through_other_spelling_of_input_is_refused(cli, orders: Path) -> None:
    result = cli("validate", str(orders), "-o", f"{orders.parent}/./{orders.name}")
    assert result.exit_code == 2


def test_two_outputs_on_one_file_are_refused(cli, orders: Path, tmp_path: Path) -> None:
    out = tmp_path / "seg.csv"
    result = cli("segment", str(orders), "--profile", str(out), "-o", str(out))
    assert result.exit_code == 2
    assert "one would be lost" in result.stderr
    assert not out.exists()


def test_rejects_equal_to_input_is_refused(cli, orders: Path) -> None:
    before = orders.read_bytes()
    result = cli("validate", str(orders), "--rejects", str(orders))
    assert result.exit_code == 2
    assert orders.read_bytes() == before


# ---- finding 3: all or nothing -----------------------------------------------------------------


def test_failed_run_leaves_every_previous_output_untouched(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,x,C,S,1,1\n")
    profile, out = tmp_path / "profile.csv", tmp_path / "seg.csv"
    profile.write_bytes(b"old profile\n")
    out.write_bytes(b"old segments\n")
    result = cli("segment", str(bad), "--profile", str(profile), "-o", str(out))
    assert result.exit_code == 1
    assert profile.read_bytes() == b"old profile\n"
    assert out.read_bytes() == b"old segments\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "profile.csv", "seg.csv"]


def test_missing_output_folder_is_reported_before_any_work(
    cli, orders: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "profile.csv"
    result = cli(
        "segment", str(orders), "--profile", str(profile), "-o", str(tmp_path / "no" / "s.csv")
    )
    assert result.exit_code == 2
    assert "folder" in result.stderr and "does not exist" in result.stderr
    assert not profile.exists()
    assert "customers" not in result.stderr  # nothing was computed


def test_output_set_renames_nothing_when_one_output_fails(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("old a\n")

    def broken(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(DataError, match="no space left"), tableio.OutputSet() as outputs:
        outputs.stage(str(first), lambda s: s.write(b"new a\n"))
        outputs.stage(str(second), broken)
    assert first.read_text() == "old a\n"
    assert not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_rejects_written_when_every_line_is_rejected(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,order_date,customer_id,sku,quantity,unit_price\n1,x,C,S,1,1\n")
    rejects, out = tmp_path / "rejects.csv", tmp_path / "clean.csv"
    result = cli("validate", str(bad), "--rejects", str(rejects), "-o", str(out))
    assert result.exit_code == 1
    assert "no usable order lines" in result.stderr
    assert pl.read_csv(rejects, infer_schema=False)["reason"].to_list() == ["bad_date"]
    assert not out.exists()


# ---- finding 4: modes -------------------------------------------------------------------------


def test_rewrite_keeps_the_existing_mode(cli, orders: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    result = cli("validate", str(orders), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("order_id")


def test_read_only_destination_is_refused(cli, orders: Path, tmp_path: Path) -> None:
    out = tmp_path / "clean.csv"
    out.write_text("keep me\n")
    out.chmod(0o444)
    result = cli("validate", str(orders), "-o", str(out))
    assert result.exit_code == 2
    assert "read-only" in result.stderr
    assert out.read_text() == "keep me\n"


# ---- finding 17: OS errors, clean messages -----------------------------------------------------


def test_too_long_file_name_is_a_clean_usage_error(cli, orders: Path, tmp_path: Path) -> None:
    result = cli("validate", str(orders), "-o", str(tmp_path / ("x" * 300 + ".csv")))
    assert result.exit_code == 2
    assert result.stderr.endswith(".csv: the file name is too long\n")


def test_long_but_valid_file_name_is_written(cli, orders: Path, tmp_path: Path) -> None:
    out = tmp_path / ("x" * 240 + ".csv")  # its temporary name must not be too long
    result = cli("validate", str(orders), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.exists()


def test_output_under_a_file_is_a_usage_error(cli, orders: Path) -> None:
    result = cli("validate", str(orders), "-o", f"{orders}/x.csv")
    assert result.exit_code == 2
    assert "a part of the path is a file, not a folder" in result.stderr


def test_sample_under_a_file_is_a_usage_error(cli, orders: Path) -> None:
    result = cli("sample", "-o", f"{orders}/x", "--customers", "5", "--skus", "2", "--years", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith("segchain sample: Error: -o ")
    assert "a part of the path is a file, not a folder" in result.stderr


def _small_files() -> None:
    import resource

    # 4 KiB per file: sample's orders.csv cannot be written (EFBIG; Python ignores SIGXFSZ).
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


SMALL_SAMPLE = ("--customers", "20", "--skus", "3", "--years", "1")


@needs_exe
def test_sample_removes_the_folders_it_made_when_a_write_fails(tmp_path: Path) -> None:
    """'sample -o new/a/b' left new/a/b behind, empty, when its files could not be written."""
    proc = run("sample", "-o", "new/a/b", *SMALL_SAMPLE, cwd=tmp_path, preexec_fn=_small_files)
    assert proc.returncode == 1, proc.stderr.decode()
    assert b"cannot write" in proc.stderr
    assert not (tmp_path / "new").exists()


@needs_exe
def test_sample_keeps_a_folder_it_did_not_make_when_a_write_fails(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    proc = run("sample", "-o", "mine/a", *SMALL_SAMPLE, cwd=tmp_path, preexec_fn=_small_files)
    assert proc.returncode == 1, proc.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert list((tmp_path / "mine").iterdir()) == []


def test_sample_removes_the_folder_it_made_on_ctrl_c(cli, tmp_path: Path, monkeypatch) -> None:
    import segchain.sample

    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(segchain.sample, "generate", interrupted)
    result = cli("sample", "-o", "new", *SMALL_SAMPLE)
    assert result.exit_code == 130
    assert not (tmp_path / "new").exists()


def test_output_onto_a_folder_is_a_usage_error(cli, orders: Path, tmp_path: Path) -> None:
    result = cli("validate", str(orders), "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


def test_check_output_refuses_an_unwritable_folder(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(UsageError, match="permission denied"):
        tableio.check_output(str(tmp_path / "x.csv"))


def test_messages_cut_long_values() -> None:
    text = tableio.short("a" * 1000)
    assert len(text) <= 120 and " ... " in text


# What polars raises when the disk fills while it writes (seen on a full 2 MB tmpfs): a bare
# OSError without errno for CSV, a ComputeError for Parquet.
POLARS_FULL_DISK = {
    "csv": ("write_csv", OSError("No space left on device (os error 28)")),
    "parquet": (
        "write_parquet",
        pl.exceptions.ComputeError(
            "parquet: File out of specification: underlying IO error: No space left on device "
            "(os error 28)"
        ),
    ),
}


@pytest.mark.parametrize("fmt", sorted(POLARS_FULL_DISK))
def test_a_disk_filling_up_while_polars_writes_is_named(
    cli, orders: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    # The Parquet case printed a ComputeError traceback, the CSV case 'cannot write: OSError'.
    method, error = POLARS_FULL_DISK[fmt]

    def full(self, stream, *args, **kwargs):  # type: ignore[no-untyped-def]
        stream.write(b"half a table")
        raise error

    monkeypatch.setattr(pl.DataFrame, method, full)
    out = tmp_path / f"out.{fmt}"
    result = cli("validate", str(orders), "-o", str(out))
    assert result.exit_code == 1, result.stderr
    assert f"{out}: cannot write: no space left on the device" in result.stderr
    assert "Traceback" not in result.stderr and "ComputeError" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


def test_a_writer_error_that_is_no_io_failure_is_not_called_one() -> None:
    assert tableio.write_failure(pl.exceptions.ComputeError("cannot cast")) is None
    assert tableio.write_failure(pl.exceptions.ComputeError("x (os error 122)")).errno == 122  # type: ignore[union-attr]
