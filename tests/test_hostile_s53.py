"""Hostile-environment findings of session 53: each test fails on the code before its fix.

The known answers are the bytes of the files the tests write themselves (an input is intact when
it still holds them), and the output of the same command run where nothing is hostile."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("segchain")
needs_exe = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

# 12 customers over 30 weeks, 2 skus: enough for k-means and for a forecast's backtest.
ORDERS = "order_id,order_date,customer_id,sku,quantity,unit_price\n" + "".join(
    f"{i},2024-{1 + (i // 4) % 7:02d}-{1 + (i * 7) % 28:02d},C{i % 12},S{i % 2},"
    f"{1 + (i * 5) % 7},{10 + i % 12}\n"
    for i in range(300)
)


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    return path


def _env(path: str = "/usr/bin:/bin") -> dict[str, str]:
    env = {"S": str(EXE), "PATH": path, "NO_COLOR": "1", "TERMINAL_WIDTH": "200"}
    if "PYTHONPATH" in os.environ:  # a check of the tests against another tree
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def shell(script: str, cwd: Path, *, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess:
    """Run ``script`` in sh with ``$S`` the segchain executable: the redirections are the
    shell's, as a user's Makefile or cron line makes them."""
    return subprocess.run(
        ["/bin/sh", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(path),
    )


@pytest.fixture(scope="module")
def unhindered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the outputs of runs where nothing is hostile, made once for the tests that
    compare with them (each made them again, per case): k-means segments (km.csv) and the
    validated order lines (valid.csv), from orders.csv under the same name as theirs."""
    here = tmp_path_factory.mktemp("unhindered")
    (here / "orders.csv").write_text(ORDERS)
    for script in (
        "$S segment orders.csv --method kmeans -o km.csv",
        "$S validate orders.csv -o valid.csv",
    ):
        proc = shell(script, here)
        assert proc.returncode == 0, proc.stderr
    return here


# Runs the script in a new session whose controlling terminal is its stdin (a pseudo-terminal),
# as a login shell's commands run; in a child, not in a preexec_fn (not safe beside threads).
_SESSION = (
    "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv('/bin/sh', ['/bin/sh', '-c', sys.argv[1]])"
)


def on_terminal(script: str, cwd: Path) -> tuple[int, str]:
    """Run ``script`` with a pseudo-terminal as its controlling terminal (stdin, stdout and
    stderr on it unless the script redirects them); return its exit code and what the terminal
    showed."""
    pty = pytest.importorskip("pty")
    pytest.importorskip("termios")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", _SESSION, script],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(),
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every holder of the terminal closed it
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(timeout=300), shown.decode().replace("\r\n", "\n")


# ---- 1. cores that cannot be counted ----------------------------------------------------------
# scikit-learn asks joblib's loky for the physical cores before a k-means or a gradient-boosting
# model fits. Without lscpu and cat on PATH, or under `ulimit -n 8` (no descriptor for lscpu's
# pipes), loky warned and printed the failure's traceback on stderr itself (traceback.print_tb):
# a run that succeeded (exit 0) ended in 'File ".../loky/backend/context.py", line 295'.
# LOKY_MAX_CPU_COUNT, which its warning suggests, did not help (docs/measurements.md).

NO_COUNT = {"no lscpu or cat on PATH": "", "ulimit -n 8": "ulimit -n 8; "}


@needs_exe
@pytest.mark.parametrize("how", NO_COUNT)
def test_kmeans_where_cores_cannot_be_counted_is_quiet_and_the_same(
    orders: Path, tmp_path: Path, unhindered: Path, how: str
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    path = str(empty) if how.startswith("no") else "/usr/bin:/bin"
    proc = shell(
        f"{NO_COUNT[how]}$S segment orders.csv --method kmeans -o km.csv", tmp_path, path=path
    )
    assert proc.returncode == 0, proc.stderr
    assert 'File "' not in proc.stderr
    assert "physical cores" not in proc.stderr
    assert (tmp_path / "km.csv").read_bytes() == (unhindered / "km.csv").read_bytes()


@needs_exe
def test_a_global_forecast_where_cores_cannot_be_counted_is_quiet(
    orders: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    assert shell("$S segment orders.csv -o seg.csv", tmp_path).returncode == 0
    proc = shell(
        "$S forecast seg.csv --orders orders.csv --models Global -o fc.csv",
        tmp_path,
        path=str(empty),
    )
    assert proc.returncode == 0, proc.stderr
    assert 'File "' not in proc.stderr
    assert "physical cores" not in proc.stderr
    assert (tmp_path / "fc.csv").read_text().startswith("unique_id,ds,forecast")


def test_too_many_open_files_is_named_with_the_limit(
    cli, orders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `ulimit -n 16`: the forecast's worker pool found no descriptor for its pipes, a traceback
    # (exit 1). Raised here where the real one was, inside the stage.
    resource = pytest.importorskip("resource")
    import segchain.segment

    (orders.parent / "seg.csv").write_text("before\n")

    def no_descriptor(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(segchain.segment, "segment", no_descriptor)
    result = cli("segment", "orders.csv", "-o", "seg.csv")
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert result.exit_code == 1, result.output
    assert result.stderr.endswith(
        f"segchain segment: Error: too many open files: this process may have only {limit} "
        f"files and pipes open at once (ulimit -n {limit}); no output was written\n"
        "segchain segment:   hint: raise the limit (ulimit -n 1024) and run it again\n"
    )
    assert (orders.parent / "seg.csv").read_text() == "before\n"


# ---- 2. stderr onto an input -------------------------------------------------------------------
# `segchain segment orders.csv -o seg.csv 2>> orders.csv` appended every message ('wrote 12
# customers to seg.csv', the summary table) to the orders, exit 0: the next run read them as
# order lines. The refusal must not be written there either: it goes to the terminal, and
# where there is none the exit code (2) alone says the run was refused.


@needs_exe
@pytest.mark.parametrize(
    "script",
    [
        "$S segment orders.csv -o seg.csv 2>> orders.csv",
        "$S segment - -o seg.csv < orders.csv 2>> orders.csv",
        "$S validate orders.csv -o seg.csv --rejects rej.csv 2>> orders.csv",
    ],
)
def test_stderr_appended_to_an_input_is_refused_and_the_input_kept(
    orders: Path, script: str
) -> None:
    proc = shell(script, orders.parent)
    assert proc.returncode == 2
    assert proc.stderr == ""
    assert orders.read_text() == ORDERS
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv"]


@needs_exe
def test_stderr_onto_an_input_is_said_on_the_terminal(orders: Path) -> None:
    code, shown = on_terminal("$S segment orders.csv -o seg.csv 2>> orders.csv", orders.parent)
    assert code == 2
    assert shown == (
        "segchain segment: Error: stderr goes to the input INPUT orders.csv; writing it would "
        "destroy the input\n"
        "segchain segment:   hint: send stderr to a file that is no input (2> segchain.log)\n"
    )
    assert orders.read_text() == ORDERS


@needs_exe
def test_stderr_onto_a_config_named_table_is_refused(tmp_path: Path) -> None:
    (tmp_path / "seg.csv").write_text("customer_id,segment,lat,lon\nC1,A,48.8,2.3\nC2,B,50.1,8.7\n")
    sites = "site_id,lat,lon\nDC1,48.9,2.4\n"
    (tmp_path / "sites.csv").write_text(sites)
    (tmp_path / "c.toml").write_text('[network]\nsites = "sites.csv"\n')
    proc = shell("$S network seg.csv --config c.toml -o a.csv 2>> sites.csv", tmp_path)
    assert proc.returncode == 2
    assert (tmp_path / "sites.csv").read_text() == sites
    assert not (tmp_path / "a.csv").exists()


@needs_exe
def test_stderr_to_a_log_is_still_written(orders: Path) -> None:
    proc = shell("$S segment orders.csv -o seg.csv 2>> run.log", orders.parent)
    assert proc.returncode == 0
    assert "wrote 12 customers to seg.csv" in (orders.parent / "run.log").read_text()
    assert orders.read_text() == ORDERS


# ---- 3. an output to a descriptor the shell opened ---------------------------------------------
# `-o /dev/fd/3 3>>log.csv`: /dev/fd/3 is a link to log.csv, which was resolved and replaced by
# the temporary file: the lines log.csv held were lost, where `>>` promised to append. The table
# is now written to descriptor 3 itself, as to stdout.


@needs_exe
@pytest.mark.parametrize("dest", ["/dev/fd/3", "/proc/self/fd/3", "link.csv"])
def test_an_output_to_a_descriptor_appends_as_the_shell_opened_it(
    orders: Path, unhindered: Path, dest: str
) -> None:
    here = orders.parent
    (here / "link.csv").symlink_to("/dev/fd/3")
    (here / "log.csv").write_text("kept\n")
    proc = shell(f"$S validate orders.csv -o {dest} 3>> log.csv", here)
    assert proc.returncode == 0, proc.stderr
    assert (here / "log.csv").read_text() == "kept\n" + (unhindered / "valid.csv").read_text()
    assert f"wrote 300 order lines to {dest} (csv)" in proc.stderr
    assert sorted(p.name for p in here.iterdir()) == ["link.csv", "log.csv", "orders.csv"]


@needs_exe
@pytest.mark.parametrize(
    ("redirect", "said"),
    [
        ("", "-o /dev/fd/3: descriptor 3 is not open"),
        ("3< orders.csv", "-o /dev/fd/3: descriptor 3 is open for reading only"),
        (
            "3>> orders.csv",
            "-o /dev/fd/3: descriptor 3 goes to the input INPUT orders.csv; writing it would "
            "destroy the input",
        ),
        (
            "--rejects /dev/fd/4 3>> log.csv 4>> log.csv",
            "--rejects /dev/fd/4: -o /dev/fd/3 already writes to the same stream",
        ),
    ],
)
def test_a_descriptor_that_cannot_take_the_table_is_refused_before_the_work(
    orders: Path, redirect: str, said: str
) -> None:
    (orders.parent / "log.csv").write_text("kept\n")
    proc = shell(f"$S validate orders.csv -o /dev/fd/3 {redirect}", orders.parent)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"segchain validate: Error: {said}\n")
    assert "read 300" not in proc.stderr  # refused before the orders were read
    assert orders.read_text() == ORDERS
    assert (orders.parent / "log.csv").read_text() == "kept\n"


# ---- 4. the table and the messages sent to one file --------------------------------------------
# `segchain segment orders.csv > seg.csv 2>&1`, a cron line's idiom, wrote the messages around
# the segments in seg.csv, exit 0: the next stage read a table that began 'segchain segment:
# orders.csv: csv, delimiter comma'. `>> all.csv 2>&1` did so to the lines all.csv held.


@needs_exe
@pytest.mark.parametrize(("redirect", "before"), [(">", ""), (">>", "kept\n")])
def test_a_table_and_the_messages_into_one_file_are_refused(
    orders: Path, redirect: str, before: str
) -> None:
    (orders.parent / "seg.csv").write_text(before)
    proc = shell(f"$S segment orders.csv {redirect} seg.csv 2>&1", orders.parent)
    assert proc.returncode == 2
    assert (orders.parent / "seg.csv").read_text() == before
    code, shown = on_terminal(f"$S segment orders.csv {redirect} seg.csv 2>&1", orders.parent)
    assert code == 2
    assert shown == (
        "segchain segment: Error: -o -: stdout and stderr go to the same file: the messages "
        "would be written into the table\n"
        "segchain segment:   hint: send stderr to another file (2> segchain.log), or give -o "
        "FILE for the table\n"
    )
    assert (orders.parent / "seg.csv").read_text() == before


@needs_exe
@pytest.mark.parametrize(
    "script",
    [
        "$S segment orders.csv -o seg.csv > run.log 2>&1",  # no table on stdout
        "$S segment orders.csv 2>&1 | cat > both.txt",  # a pipe: a person reading both
    ],
)
def test_messages_beside_a_table_elsewhere_are_still_written(orders: Path, script: str) -> None:
    proc = shell(script, orders.parent)
    assert proc.returncode == 0, proc.stderr


# ---- 5. an output that is a socket -------------------------------------------------------------
# open() cannot write to a Unix socket: 'cannot write: No such device or address', exit 1, after
# the whole run.


def test_an_output_that_is_a_socket_is_refused_before_the_work(cli, orders: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind("sock")
        result = cli("segment", "orders.csv", "-o", "sock")
    finally:
        sock.close()
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "segchain segment: Error: -o sock: is a socket, not a file\n"
        "segchain segment:   hint: name a file (or '-' for stdout, and pipe that where the "
        "socket's program reads)\n"
    )


# ---- 6. the output's folder removed while the command ran -------------------------------------
# 'cannot write: No such file or directory' named no folder and no way out.


def test_an_output_folder_removed_during_the_run_is_named(
    cli, orders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import segchain.segment

    out = orders.parent / "out"
    out.mkdir()
    real = segchain.segment.segment

    def then_remove(*args: object, **kwargs: object) -> object:
        done = real(*args, **kwargs)
        out.rmdir()
        return done

    monkeypatch.setattr(segchain.segment, "segment", then_remove)
    result = cli("segment", "orders.csv", "-o", "out/seg.csv")
    assert result.exit_code == 1, result.output
    assert result.stderr.endswith(
        "segchain segment: Error: -o out/seg.csv: cannot write: the folder 'out' was removed "
        "while the command ran\n"
        "segchain segment:   hint: make it again (mkdir -p out) and run the command again\n"
    )
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv"]


# ---- 7. a folder on a read-only file system ---------------------------------------------------
# 'cannot write in folder: permission denied' (or, for an existing file, 'the file is read-only;
# hint: chmod u+w'), where no permission or chmod helps. Simulated: os.statvfs reports the
# mount's flags, os.access refuses the write as a read-only mount does (even to root).


@pytest.mark.skipif(not hasattr(os, "ST_RDONLY"), reason="no statvfs mount flags here")
@pytest.mark.parametrize("existing", [False, True])
def test_an_output_on_a_read_only_file_system_says_so(
    cli, orders: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    ro = orders.parent / "ro"
    ro.mkdir()
    if existing:
        (ro / "seg.csv").write_text("before\n")
    real_access, real_statvfs = os.access, os.statvfs

    def inside(path: object) -> bool:
        return os.path.realpath(str(path)).startswith(str(ro.resolve()))

    class Flags:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "access", lambda p, m, **k: False if inside(p) else real_access(p, m))
    monkeypatch.setattr(os, "statvfs", lambda p: Flags() if inside(p) else real_statvfs(p))
    result = cli("segment", "orders.csv", "-o", "ro/seg.csv")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"segchain segment: Error: -o ro/seg.csv: cannot write in folder '{ro.resolve()}': the "
        "file system is read-only\n"
        "segchain segment:   hint: write the output to another disk or folder\n"
    )


# ---- 8. thread counts polars stops on ----------------------------------------------------------
# POLARS_MAX_THREADS=0 (a job scheduler's 'no limit'), or a POLARS_ASYNC_THREAD_COUNT that is 0
# or no whole number: polars panicked at the first table it read ('Worker threads cannot be set
# to 0', 'ParseIntError'), a Rust backtrace and a Python traceback, exit 1.


@needs_exe
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POLARS_MAX_THREADS", "0"),
        ("POLARS_ASYNC_THREAD_COUNT", "0"),
        ("POLARS_ASYNC_THREAD_COUNT", "four"),
    ],
)
def test_a_thread_count_polars_stops_on_is_refused(orders: Path, name: str, value: str) -> None:
    proc = shell(f"{name}={value} $S segment orders.csv -o seg.csv", orders.parent)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"segchain segment: Error: ${name}={value!r}: not a number of threads polars can use "
        "(a whole number >= 1; polars stops with a panic on it)\n"
        f"segchain segment:   hint: unset it (unset {name}) or set it to a number of threads, "
        f"e.g. {name}=2\n"
    )
    assert sorted(p.name for p in orders.parent.iterdir()) == ["orders.csv"]


@needs_exe
def test_a_thread_count_polars_can_use_is_used(orders: Path) -> None:
    proc = shell("POLARS_MAX_THREADS=1 $S segment orders.csv -o seg.csv", orders.parent)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 12 customers to seg.csv" in proc.stderr


# ---- 9. a shell set up for interactive plots ---------------------------------------------------
# MPLBACKEND=bogus (or a GUI backend misspelt) made `import matplotlib` raise ValueError: the
# report printed a traceback after reading every input. Its charts are drawn off-screen.


@needs_exe
def test_the_report_ignores_the_shells_matplotlib_backend(orders: Path) -> None:
    here = orders.parent
    assert shell("$S segment orders.csv -o seg.csv", here).returncode == 0
    ref = shell("$S report seg.csv -o ref.html", here)
    assert ref.returncode == 0, ref.stderr
    proc = shell("MPLBACKEND=bogus $S report seg.csv -o r.html", here)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (here / "r.html").read_bytes() == (here / "ref.html").read_bytes()
