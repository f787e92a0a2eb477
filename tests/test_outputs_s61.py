"""How outputs are staged and committed under schedulers and concurrent runs (audit L, session
61): a FIFO without a reader, two runs on the same outputs, shared and sticky folders, owners and
groups, hard links, and what SIGKILL may leave."""

from __future__ import annotations

import os
import shutil
import signal
import stat
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


# ---- F4, F5, F6: other users' files, sticky and shared folders -----------------------------------
# As root file permissions do not apply; ``setpriv`` runs segchain as uid 0 without capabilities,
# where they apply as to any user (the user owns root's files).

needs_nocap = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run without capabilities",
)


def run_without_capabilities(
    *args: str, groups: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    prefix = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
    if groups is not None:
        prefix.insert(1, f"--groups={groups}")
    return subprocess.run(
        [*prefix, *segchain_command(*args)], capture_output=True, timeout=120, env=segchain_env()
    )


@pytest.fixture
def sticky_folder(tmp_path: Path) -> Path:
    """A shared drop folder (1777, another user's) holding a teammate's file anyone may write."""
    folder = tmp_path / "sticky"
    folder.mkdir()
    os.chown(folder, 2003, 2003)
    folder.chmod(0o1777)
    seg = folder / "seg.csv"
    seg.write_text("old\n")
    os.chown(seg, 2002, 3000)
    seg.chmod(0o666)
    return folder


@needs_nocap
def test_sticky_folder_with_another_users_file_is_refused_before_the_work(
    orders: Path, sticky_folder: Path
) -> None:
    proc = run_without_capabilities("validate", str(orders), "--quiet", "-o", "sticky/seg.csv")
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "sticky bit" in err
    assert "belongs to" in err
    assert (sticky_folder / "seg.csv").read_text() == "old\n"
    assert sorted(p.name for p in sticky_folder.iterdir()) == ["seg.csv"]  # no .bak


def test_sticky_folder_check_follows_the_kernels_rule(
    orders: Path, sticky_folder: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segchain import tableio

    # A user (not root, no CAP_FOWNER) who owns neither the file nor the folder: refused.
    monkeypatch.setattr(tableio, "_acts_as_any_owner", lambda: False, raising=False)
    monkeypatch.setattr(tableio.os, "geteuid", lambda: 1000)
    result = cli("validate", str(orders), "-o", str(sticky_folder / "seg.csv"))
    assert result.exit_code == 2, result.stderr
    assert "sticky bit" in result.stderr
    # The folder's owner may replace any file in it.
    monkeypatch.setattr(tableio.os, "geteuid", lambda: 2003)
    result = cli("validate", str(orders), "-o", str(sticky_folder / "seg.csv"))
    assert result.exit_code == 0, result.stderr


@needs_nocap
def test_replacing_a_teams_file_keeps_its_group(orders: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chown(shared, 0, 3000)
    shared.chmod(0o775)
    seg = shared / "seg.csv"
    seg.write_text("old\n")
    os.chown(seg, 2002, 3000)
    seg.chmod(0o664)
    proc = run_without_capabilities(
        "validate", str(orders), "--quiet", "-o", str(seg), groups="3000"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    st = seg.stat()
    assert (st.st_gid, stat.S_IMODE(st.st_mode)) == (3000, 0o664)
    assert st.st_uid == 0  # the owner becomes the user
    assert seg.read_text().startswith("order_id")


@needs_nocap
def test_replacing_a_file_of_a_group_the_user_is_not_in_still_works(
    orders: Path, tmp_path: Path
) -> None:
    seg = tmp_path / "seg.csv"
    seg.write_text("old\n")
    os.chown(seg, 0, 3001)
    seg.chmod(0o644)
    proc = run_without_capabilities("validate", str(orders), "--quiet", "-o", str(seg))
    assert proc.returncode == 0, proc.stderr.decode()
    assert seg.stat().st_gid == 0  # chown to 3001 is not the user's to do
    assert seg.read_text().startswith("order_id")


@needs_nocap
def test_another_users_file_is_named_as_theirs_not_read_only(orders: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("theirs\n")
    os.chown(other, 2002, 2002)
    other.chmod(0o644)
    proc = run_without_capabilities("validate", str(orders), "--quiet", "-o", str(other))
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "belongs to" in err and "not writable by you" in err
    assert "chmod u+w" not in err
    assert other.read_text() == "theirs\n"


def test_a_file_unwritable_despite_its_mode_is_not_called_read_only(
    orders: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An immutable file (chattr +i) of the user's, mode 644: access(W_OK) fails, chmod cannot
    # help.
    out = tmp_path / "imm.csv"
    out.write_text("keep\n")
    out.chmod(0o644)
    real_access = os.access

    def access(path, mode, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path) == out and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    result = cli("validate", str(orders), "-o", str(out))
    assert result.exit_code == 2
    assert "immutable" in result.stderr
    assert "chmod u+w" not in result.stderr
    assert out.read_text() == "keep\n"


# ---- F8: what SIGKILL may leave ------------------------------------------------------------------


def test_readme_says_where_sigkill_may_leave_temporary_files(tmp_path: Path) -> None:
    # The names the README gives are the names the temporary files have.
    import re

    from segchain.tableio import OutputSet

    readme = (ROOT / "README.md").read_text()
    assert "SIGKILL" in readme
    documented = re.search(r"`\.NAME\.XXXXXXXX\.tmp`", readme)
    assert documented is not None, "the README does not name the files SIGKILL may leave"
    out = tmp_path / "seg.csv"
    with OutputSet() as outputs:
        outputs.plan(str(out))
        outputs.stage(str(out), lambda s: s.write(b"x\n"))
        names = [p.name for p in tmp_path.iterdir() if p.name != "orders.csv"]
        assert len(names) == 1 and re.fullmatch(r"\.seg\.csv\.[0-9a-f]{8}\.tmp", names[0])
    assert out.read_text() == "x\n"


# ---- F9: hard links ---------------------------------------------------------------------------


def test_replacing_a_file_with_other_hard_links_says_they_keep_the_old_table(
    orders: Path, tmp_path: Path, cli
) -> None:
    out = tmp_path / "seg.csv"
    out.write_text("previous\n")
    (tmp_path / "share").mkdir()
    published = tmp_path / "share" / "seg.csv"
    os.link(out, published)
    result = cli("validate", str(orders), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "had 1 other hard link, which still holds the previous table" in result.stderr
    assert published.read_text() == "previous\n"
    assert out.read_text().startswith("order_id")


def test_replacing_a_file_without_other_links_says_nothing_of_links(
    orders: Path, tmp_path: Path, cli
) -> None:
    out = tmp_path / "seg.csv"
    out.write_text("previous\n")
    result = cli("validate", str(orders), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert "hard link" not in result.stderr
