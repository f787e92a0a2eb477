"""Ctrl-C (SIGINT) with polars' own SIGINT handler in place (audit G, session 63).

polars installs a SIGINT handler over Python's when it is imported, and it calls Python's after
its own: one Ctrl-C while polars wrote a table both stopped the write, which raised
KeyboardInterrupt, and raised a second one inside the first one's clean-up. `sample` then left
its partial `.orders.csv.XXXXXXXX.tmp` (F3); other runs ended 130 without a word, or died of the
signal itself after their outputs were replaced (F4); and Ctrl-C while segchain's own modules
were imported printed a traceback (F5).

Each run is signalled at a moment it shows (a temporary file holding bytes, polars loaded, the
last output announced), never after a guessed delay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import segchain

ROOT = Path(segchain.__file__).resolve().parent.parent
SAMPLE = ["sample", "--customers", "3000", "--skus", "200", "--years", "3"]
FILES = ["customers.csv", "items.csv", "on_hand.csv", "orders.csv", "sites.csv", "skus.csv"]
INTERRUPTED = "segchain sample: Error: interrupted; no output was written\n"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def _default_sigint() -> None:
    # A background job of a script starts with SIGINT ignored, and Python keeps it so.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def old_sample(tmp_path: Path) -> dict[str, bytes]:
    """A folder holding an earlier, small sample: what a stopped run must leave as it was."""
    folder = tmp_path / "smp"
    subprocess.run(
        [sys.executable, "-m", "segchain", "sample", "-o", str(folder), "--customers", "30"],
        env=_env(),
        check=True,
        capture_output=True,
    )
    return {name: (folder / name).read_bytes() for name in FILES}


def _signal_when(
    folder: Path, ready: Callable[[subprocess.Popen[bytes], list[str]], bool], quiet: bool = True
) -> tuple[subprocess.Popen[bytes], str]:
    """Run ``sample -o folder``, send SIGINT once ``ready(proc, stderr_lines)``; its stderr."""
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-m", "segchain", *SAMPLE, "-o", str(folder), *(["-q"] if quiet else [])],
        env=_env(),
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(lambda: proc.stderr.readline().decode(), "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    deadline = time.monotonic() + 300
    while not ready(proc, lines):
        assert proc.poll() is None, f"ended before the moment came: {proc.returncode} {lines}"
        assert time.monotonic() < deadline
        time.sleep(0.001)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=300)
    reader.join(timeout=60)
    return proc, "".join(lines)


def _polars_loaded(proc: subprocess.Popen[bytes], lines: list[str]) -> bool:
    # polars installs its SIGINT handler as it is imported.
    try:
        return "_polars_runtime" in Path(f"/proc/{proc.pid}/maps").read_text()
    except OSError:
        return False


def _orders_being_written(folder: Path) -> Callable[[subprocess.Popen[bytes], list[str]], bool]:
    def ready(proc: subprocess.Popen[bytes], lines: list[str]) -> bool:
        for tmp in folder.glob(".orders.csv.*.tmp"):
            try:
                if tmp.stat().st_size > 0:
                    return True
            except OSError:
                pass
        return False

    return ready


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
@pytest.mark.parametrize("moment", ["polars loaded", "orders being written"])
def test_ctrl_c_before_or_while_sample_writes_leaves_the_old_folder_and_no_temporary_file(
    tmp_path: Path, old_sample: dict[str, bytes], moment: str
) -> None:
    """F3: the partial .orders.csv.XXXXXXXX.tmp (11 of 30 MB, mode 0600) stayed beside the old
    sample in every run signalled while polars wrote it (12 of 12)."""
    folder = tmp_path / "smp"
    ready = _polars_loaded if moment == "polars loaded" else _orders_being_written(folder)
    proc, err = _signal_when(folder, ready)
    assert proc.returncode == 130, err
    assert err.endswith(INTERRUPTED), err
    assert err.count("Error:") == 1, err
    assert "Traceback" not in err
    assert _left(folder) == FILES  # no temporary file
    assert {name: (folder / name).read_bytes() for name in FILES} == old_sample


def test_ctrl_c_once_sample_has_written_its_folder_is_not_death_by_the_signal(
    tmp_path: Path, old_sample: dict[str, bytes]
) -> None:
    """F4: a Ctrl-C as the run ended, its outputs replaced, killed it by the signal itself
    (status -2, no message) or ended it 130 without a word. It now ends as the run did (exit 0),
    or, taken before the command's end, says that the outputs had been written."""
    folder = tmp_path / "smp"

    def last_announced(proc: subprocess.Popen[bytes], lines: list[str]) -> bool:
        return any("skus.csv" in line for line in lines)

    proc, err = _signal_when(folder, last_announced, quiet=False)
    assert "Traceback" not in err
    assert proc.returncode in (0, 130), err
    if proc.returncode == 130:
        assert "had been written whole before it" in err.splitlines()[-1], err
    else:
        assert "Error:" not in err, err
    assert _left(folder) == FILES
    new = {name: (folder / name).read_bytes() for name in FILES}
    assert all(new[name] != old_sample[name] for name in ("orders.csv", "customers.csv"))
    header, *rows = new["orders.csv"].decode().splitlines()
    assert header.startswith("order_id,") and len(rows) > 10_000  # whole: not the 30 customers'


# Sends SIGINT to its own process as Python looks for segchain's `costs` command module, which
# segchain.cli imports before main() runs: as Ctrl-C a tenth of a second into any command.
SIGINT_WHILE_IMPORTING = """
import os, signal, sys

class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == "segchain.cli.costs":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Hook())
sys.argv = ["segchain", "costs", "x.parquet", "--orders", "y.parquet", "-o", "o.csv"]
from segchain.cli import main
main()
"""


def test_ctrl_c_while_segchain_imports_its_commands_says_so_without_a_traceback(
    tmp_path: Path,
) -> None:
    """F5: a KeyboardInterrupt traceback from segchain/cli/__init__.py, status -2."""
    proc = subprocess.run(
        [sys.executable, "-c", SIGINT_WHILE_IMPORTING],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_default_sigint,
    )
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "segchain costs: Error: interrupted; no output was written\n"
    assert list(tmp_path.iterdir()) == []
