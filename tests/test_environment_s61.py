"""Audit L, session 61: the run's environment under cron and in containers.

F1: a relative file name while the working folder has been deleted (a cron job whose release
folder a deploy replaced) ended in a traceback (``os.getcwd`` in ``os.path.realpath``), exit 1.
F2: with no writable temporary folder and HOME not writable (a read-only root file system),
forecast ran its whole backtest and report read every input, then both died in matplotlib's
traceback (exit 1). F3: with HOME not writable, every forecast and report printed two
matplotlib warnings (under --quiet a 'warnings not shown' line) and rebuilt its font cache.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from segchain.tableio import provenance, write_table

ROOT = Path(__file__).resolve().parents[1]
# A HOME that cannot be written whoever runs the test, root included: a path under a file.
UNWRITABLE_HOME = "/dev/null/home"


def run(
    *args: str, cwd: Path, env: dict[str, str], prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    """segchain as a process of its own, from this checkout; ``prelude``: Python run first in
    that process (to take its temporary folders away)."""
    code = (
        f"{prelude}\nimport sys\nfrom segchain.cli import main\n"
        "sys.argv = ['segchain', *sys.argv[1:]]\nmain()"
    )
    env = {**env, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", code, *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def base_env(home: str, tmpdir: Path | None = None) -> dict[str, str]:
    """The environment of a cron job or container: HOME as given, matplotlib's own variables
    unset, stable output."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TMPDIR")
        and not k.startswith("SEGCHAIN_")
    }
    env["HOME"] = home
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return env


@pytest.fixture
def segments_parquet(tmp_path: Path) -> Path:
    import polars as pl

    path = tmp_path / "segments.parquet"
    frame = pl.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "segment": ["Champions", "Champions", "Lost"],
            "segment_rank": [1, 1, 2],
            "monetary": [500.0, 300.0, 200.0],
        }
    )
    write_table(frame, str(path), metadata=provenance("segments", params={"method": "rfm"}))
    return path


@pytest.fixture
def orders_abs(orders_csv: Path) -> Path:
    return orders_csv.resolve()


# ---------------------------------------------------------------------------------------------
# F3: HOME not writable: quiet, and the font cache kept between runs


def test_report_with_unwritable_home_prints_no_matplotlib_warning(
    tmp_path: Path, segments_parquet: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = base_env(UNWRITABLE_HOME, tmp)
    out = tmp_path / "r.html"
    done = run("report", str(segments_parquet), "-o", str(out), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "matplotlib" not in done.stderr.lower()
    assert "Warning" not in done.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_report_quiet_with_unwritable_home_says_nothing(
    tmp_path: Path, segments_parquet: Path
) -> None:
    # Under --quiet it said 'segchain report: 2 warnings not shown (--quiet)', mailed by cron.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = base_env(UNWRITABLE_HOME, tmp)
    args = ("report", str(segments_parquet), "-o", str(tmp_path / "r.html"), "--quiet")
    done = run(*args, cwd=tmp_path, env=env)
    assert (done.returncode, done.stderr) == (0, "")


def test_report_with_unwritable_home_keeps_the_font_cache_between_runs(
    tmp_path: Path, segments_parquet: Path
) -> None:
    # matplotlib made a new temporary folder each run and rebuilt its font cache there.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = base_env(UNWRITABLE_HOME, tmp)
    run("report", str(segments_parquet), "-o", str(tmp_path / "r.html"), cwd=tmp_path, env=env)
    folder = tmp / f"segchain-matplotlib-{os.geteuid()}"
    assert stat.S_IMODE(folder.lstat().st_mode) == 0o700
    assert any(p.name.startswith("fontlist") for p in folder.iterdir())
    assert [p.name for p in tmp.iterdir()] == [folder.name]  # no throw-away folder beside it


# ---------------------------------------------------------------------------------------------
# The folder chosen (in-process: matplotlib_folder decides, prepare_matplotlib sets it)


@pytest.fixture
def no_mpl_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """MPLCONFIGDIR and the XDG folders unset (restored after), tempfile's folder tmp_path/tmp."""
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def test_prepare_matplotlib_leaves_a_writable_home_alone(
    no_mpl_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segchain.cli.mplconfig import prepare_matplotlib

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    prepare_matplotlib("report", {"output": "r.html"})
    assert "MPLCONFIGDIR" not in os.environ
    assert list(home.iterdir()) == [] and list(no_mpl_env.iterdir()) == []


def test_prepare_matplotlib_keeps_a_users_mplconfigdir(
    no_mpl_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segchain.cli.mplconfig import prepare_matplotlib

    monkeypatch.setenv("HOME", UNWRITABLE_HOME)
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mine"))
    prepare_matplotlib("forecast", {})
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "mine")


@pytest.mark.parametrize(
    ("command", "options", "imports"),
    [
        ("report", {"output": "r.html"}, True),
        ("report", {"output": "R.MD"}, True),  # charts beside it
        ("report", {"output": "-"}, False),  # Markdown on stdout: no charts
        ("report", {"output": None}, False),  # stdout or a terminal: no charts
        ("forecast", {"reconcile": None}, True),  # auto: hierarchicalforecast
        ("forecast", {"reconcile": "mint"}, True),
        ("forecast", {"reconcile": "none"}, False),
        ("validate", {"output": "x.csv"}, False),
        ("stock", {"output": "x.csv"}, False),
    ],
)
def test_prepare_matplotlib_only_where_matplotlib_is_imported(
    no_mpl_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    options: dict[str, str | None],
    imports: bool,
) -> None:
    from segchain.cli.mplconfig import prepare_matplotlib

    monkeypatch.setenv("HOME", UNWRITABLE_HOME)
    prepare_matplotlib(command, options)
    assert ("MPLCONFIGDIR" in os.environ) is imports
    assert any(no_mpl_env.iterdir()) is imports


def test_private_folder_taken_by_a_symlink_is_not_used(
    no_mpl_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another user's symlink at the name must not lead matplotlib's cache into their folder.
    from segchain.cli.mplconfig import matplotlib_folder

    monkeypatch.setenv("HOME", UNWRITABLE_HOME)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    (no_mpl_env / f"segchain-matplotlib-{os.geteuid()}").symlink_to(theirs)
    folder = matplotlib_folder()
    assert folder is not None
    assert Path(folder).parent == no_mpl_env and not Path(folder).is_symlink()
    assert os.path.realpath(folder) != str(theirs)


def test_private_folder_others_may_write_in_is_not_used(
    no_mpl_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segchain.cli.mplconfig import matplotlib_folder

    monkeypatch.setenv("HOME", UNWRITABLE_HOME)
    shared = no_mpl_env / f"segchain-matplotlib-{os.geteuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    folder = matplotlib_folder()
    assert folder is not None and Path(folder) != shared


def test_private_folder_is_reused(no_mpl_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from segchain.cli.mplconfig import matplotlib_folder

    monkeypatch.setenv("HOME", UNWRITABLE_HOME)
    first, second = matplotlib_folder(), matplotlib_folder()
    assert first == second == str(no_mpl_env / f"segchain-matplotlib-{os.geteuid()}")


# ---------------------------------------------------------------------------------------------
# F2: no writable folder at all: refused before any input is read

# tempfile's candidates ($TMPDIR, /tmp, /var/tmp, the working folder) all unusable, as on a
# read-only root file system.
NO_TEMP = (
    "import tempfile\n"
    "tempfile.tempdir = None\n"
    "tempfile._candidate_tempdir_list = lambda: ['/dev/null/tmp']\n"
)


def test_report_without_any_writable_folder_is_refused_up_front(
    tmp_path: Path, segments_parquet: Path
) -> None:
    env = base_env(UNWRITABLE_HOME)
    out = tmp_path / "r.html"
    done = run(
        "report", str(segments_parquet), "-o", str(out), cwd=tmp_path, env=env, prelude=NO_TEMP
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith(
        "segchain report: Error: no writable folder for matplotlib's settings and font cache"
    )
    assert lines[1] == (
        "segchain report:   hint: set MPLCONFIGDIR (or TMPDIR) to a writable folder, e.g. "
        "MPLCONFIGDIR=/data/mplconfig"
    )
    assert len(lines) == 2
    assert not out.exists()


def test_report_without_temporary_folder_runs_with_mplconfigdir(
    tmp_path: Path, segments_parquet: Path
) -> None:
    mine = tmp_path / "mpl"
    mine.mkdir()
    env = {**base_env(UNWRITABLE_HOME), "MPLCONFIGDIR": str(mine)}
    out = tmp_path / "r.html"
    args = ("report", str(segments_parquet), "-o", str(out), "--quiet")
    done = run(*args, cwd=tmp_path, env=env, prelude=NO_TEMP)
    assert (done.returncode, done.stderr) == (0, "")
    assert out.exists()


def test_report_markdown_on_stdout_without_any_writable_folder_runs(
    tmp_path: Path, segments_parquet: Path
) -> None:
    # It draws no chart, so never imports matplotlib: nothing to refuse.
    env = base_env(UNWRITABLE_HOME)
    args = ("report", str(segments_parquet), "-o", "-", "--quiet")
    done = run(*args, cwd=tmp_path, env=env, prelude=NO_TEMP)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("# ")


@pytest.fixture
def no_temp_in_process(no_mpl_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", UNWRITABLE_HOME)
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(tempfile, "_candidate_tempdir_list", lambda: ["/dev/null/tmp"])


def test_forecast_without_any_writable_folder_is_refused_before_reading(
    cli, no_temp_in_process: None
) -> None:
    # The inputs do not exist: the refusal comes before any is read (it came after the whole
    # backtest, as a traceback).
    result = cli("forecast", "missing-seg.csv", "--orders", "missing-orders.csv", "-o", "fc.csv")
    assert result.exit_code == 2
    assert "segchain forecast: Error: no writable folder for matplotlib's" in result.stderr
    assert "hierarchicalforecast" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "segchain forecast:   hint: set MPLCONFIGDIR (or TMPDIR) to a writable folder, e.g. "
        "MPLCONFIGDIR=/data/mplconfig, or give --reconcile none"
    )


def test_forecast_reconcile_none_without_writable_folder_is_not_refused(
    cli, no_temp_in_process: None
) -> None:
    # Without reconciliation forecast never imports matplotlib: it reads its inputs as ever.
    result = cli(
        "forecast", "missing-seg.csv", "--orders", "o.csv", "--reconcile", "none", "-o", "fc.csv"
    )
    assert result.exit_code == 1
    assert "matplotlib" not in result.stderr
    assert "missing-seg.csv: no such file" in result.stderr


# ---------------------------------------------------------------------------------------------
# F1: the working folder deleted


def run_in_deleted_folder(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """segchain started in a folder removed just before (``cd d && rmdir ../d``)."""
    (tmp_path / "gone").mkdir()
    quoted = " ".join(f"'{a}'" for a in args)
    script = f"cd gone && rmdir ../gone && exec '{sys.executable}' -m segchain {quoted}"
    env = {**base_env(os.environ.get("HOME", "/")), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )


GONE_HINT = "   hint: cd to an existing folder, or give an absolute path"


def test_relative_output_in_deleted_working_folder_is_one_usage_error(
    tmp_path: Path, orders_abs: Path
) -> None:
    done = run_in_deleted_folder(tmp_path, "segment", str(orders_abs), "-o", "seg.csv")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-2:] == [
        "segchain segment: Error: -o seg.csv: the working folder no longer exists (it was deleted)",
        f"segchain segment:{GONE_HINT}",
    ]
    assert "Traceback" not in done.stderr


def test_relative_input_in_deleted_working_folder_is_one_usage_error(tmp_path: Path) -> None:
    done = run_in_deleted_folder(tmp_path, "segment", "orders.csv")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-2:] == [
        "segchain segment: Error: orders.csv: the working folder no longer exists (it was deleted)",
        f"segchain segment:{GONE_HINT}",
    ]


def test_absolute_names_in_deleted_working_folder_still_work(
    tmp_path: Path, orders_abs: Path
) -> None:
    out = tmp_path / "seg.csv"
    done = run_in_deleted_folder(tmp_path, "segment", str(orders_abs), "-o", str(out), "--quiet")
    assert (done.returncode, done.stderr) == (0, "")
    assert out.read_text().startswith("customer_id,")


def test_getcwd_failure_inside_a_command_is_the_same_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Any relative name a command resolves itself (not one of its file options) is said so too.
    import typer

    from segchain.cli import common as c

    @c.handle_errors
    def probe_command() -> None:
        os.path.abspath("x.csv")

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(typer.Exit) as stopped:
        probe_command()
    assert stopped.value.exit_code == 2
    assert capsys.readouterr().err.splitlines() == [
        "segchain probe: Error: the working folder no longer exists (it was deleted)",
        f"segchain probe:{GONE_HINT}",
    ]
