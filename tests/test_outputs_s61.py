"""How outputs are staged and committed under schedulers and concurrent runs (audit L, session
61): a FIFO without a reader, two runs on the same outputs, shared and sticky folders, owners and
groups, hard links, and what SIGKILL may leave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import segchain

ROOT = Path(segchain.__file__).resolve().parent.parent


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


def segchain_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "segchain", *args]


def segchain_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def _wchan(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


# ---- F10: a FIFO with no reader ---------------------------------------------------------------


# Where a run waits for a FIFO's reader: in open() (the old code), or between two tries.
WAITING = ("wait_for_partner", "fifo_open", "hrtimer_nanosleep", "do_nanosleep")


def _wait_for_the_reader(proc: subprocess.Popen[bytes]) -> None:
    """Return once ``proc``, its work done, waits for the FIFO's reader."""
    deadline = time.monotonic() + 60
    while _wchan(proc.pid) not in WAITING:
        assert proc.poll() is None, proc.communicate()[1]
        if time.monotonic() > deadline:
            pytest.skip("/proc does not show where the run waits")
        time.sleep(0.1)
    time.sleep(1)


def _default_sigint() -> None:
    # A background job of a script starts with SIGINT ignored, and Python keeps it so.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc wchan")
@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [
        (signal.SIGTERM, 143, b"stopped by SIGTERM; no output was written"),
        (signal.SIGINT, 130, b"interrupted; no output was written"),
    ],
)
def test_fifo_without_reader_stops_on_a_signal(
    orders: Path, tmp_path: Path, signum: int, code: int, said: bytes
) -> None:
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        segchain_command("validate", str(orders), "--quiet", "-o", str(fifo)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=segchain_env(),
        preexec_fn=_default_sigint,
    )
    try:
        _wait_for_the_reader(proc)
        proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("the signal did not stop a run waiting for a FIFO's reader")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    assert said in err
    assert b"written whole" not in err


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc wchan")
def test_fifo_whose_reader_comes_late_gets_the_whole_table(tmp_path: Path) -> None:
    # Larger than a pipe's buffer (64 KiB), read only after a pause: the FIFO, opened without
    # blocking while its reader was awaited, is written blocking, whole.
    source = tmp_path / "big.csv"
    header = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
    lines = [f"{i},2024-03-{1 + i % 28:02d},C{i % 97},S{i % 13},1,10\n" for i in range(6000)]
    source.write_text(header + "".join(lines))
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        segchain_command("validate", str(source), "--quiet", "-o", str(fifo)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=segchain_env(),
    )
    try:
        _wait_for_the_reader(proc)
        with open(fifo, "rb") as stream:
            time.sleep(0.5)
            received = stream.read()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    rows = received.decode().splitlines()
    assert len(rows) == 6001
    assert rows[-1].startswith("5999,")


# ---- F7: a second run on the same outputs while this one renames ------------------------------


def _write_as_another_run(path: Path, text: str) -> None:
    """What a second run does to ``path``: a temporary file renamed over it."""
    tmp = path.with_name(f".{path.name}.other.tmp")
    tmp.write_text(text)
    REAL_REPLACE(tmp, path)


REAL_REPLACE = os.replace


@pytest.fixture
def old_outputs(tmp_path: Path) -> tuple[Path, Path]:
    seg, prof = tmp_path / "seg.csv", tmp_path / "prof.csv"
    seg.write_text("OLD-seg\n")
    prof.write_text("OLD-profile\n")
    return seg, prof


@pytest.fixture(autouse=True)
def _real_replace() -> Iterator[None]:
    yield
    os.replace = REAL_REPLACE


def _commit_with(seg: Path, prof: Path, on_rename) -> None:  # type: ignore[no-untyped-def]
    """Stage this run's two outputs, then commit them with ``on_rename(calls, src, dst)`` run
    in place of each rename of a temporary file (``calls``: how many came before)."""
    from segchain.tableio import OutputSet

    calls: list[str] = []

    def replace(src, dst):  # type: ignore[no-untyped-def]
        if not str(src).endswith(".tmp"):  # the roll-back's
            REAL_REPLACE(src, dst)
            return
        on_rename(len(calls), src, dst)
        calls.append(str(dst))

    outputs = OutputSet()
    with outputs:
        outputs.plan(str(seg))
        outputs.plan(str(prof), option="--profile")
        outputs.stage(str(seg), lambda s: s.write(b"A-seg\n"))
        outputs.stage(str(prof), lambda s: s.write(b"A-profile\n"))
        # The commit, on leaving the block, renames through ``replace``.
        os.replace = replace  # type: ignore[assignment]
    os.replace = REAL_REPLACE


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".bak")))


def test_stopped_run_leaves_the_file_another_run_wrote_meanwhile(
    old_outputs: tuple[Path, Path],
) -> None:
    seg, prof = old_outputs

    def rename(calls: int, src: str, dst: str) -> None:
        REAL_REPLACE(src, dst)
        if calls == 0:  # run B, complete between run A's two renames; then A is stopped
            _write_as_another_run(seg, "B-seg\n")
            _write_as_another_run(prof, "B-profile\n")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _commit_with(seg, prof, rename)
    assert seg.read_text() == "B-seg\n"  # not the backup, older than both runs
    assert prof.read_text() == "B-profile\n"
    assert _leftovers(seg.parent) == []


def test_failed_rename_leaves_the_file_another_run_wrote_and_says_so(
    old_outputs: tuple[Path, Path],
) -> None:
    from segchain.errors import DataError

    seg, prof = old_outputs

    def rename(calls: int, src: str, dst: str) -> None:
        if calls == 1:  # A's second rename fails, after B wrote both files
            raise OSError(28, "No space left on device")
        REAL_REPLACE(src, dst)
        if calls == 0:
            _write_as_another_run(seg, "B-seg\n")
            _write_as_another_run(prof, "B-profile\n")

    with pytest.raises(DataError) as caught:
        _commit_with(seg, prof, rename)
    assert seg.read_text() == "B-seg\n"
    assert prof.read_text() == "B-profile\n"
    assert "another run wrote it" in str(caught.value)
    assert _leftovers(seg.parent) == []


@pytest.mark.parametrize("renamed_before_stop", [True, False])
def test_stopped_run_alone_still_puts_its_outputs_back(
    old_outputs: tuple[Path, Path], renamed_before_stop: bool
) -> None:
    # Without a second run the roll-back is as before: every output its previous file.
    seg, prof = old_outputs

    def rename(calls: int, src: str, dst: str) -> None:
        if calls == 1:
            if renamed_before_stop:
                REAL_REPLACE(src, dst)
            raise KeyboardInterrupt
        REAL_REPLACE(src, dst)

    with pytest.raises(KeyboardInterrupt):
        _commit_with(seg, prof, rename)
    assert seg.read_text() == "OLD-seg\n"
    assert prof.read_text() == "OLD-profile\n"
    assert _leftovers(seg.parent) == []
