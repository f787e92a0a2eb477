"""A folder for matplotlib's settings and font cache where the default one cannot be written.

segchain needs no matplotlib settings (the report draws with Agg), but ``import matplotlib``
needs a writable folder: without one under HOME (a service account's ``HOME=/nonexistent``, a
container's random uid) it warned twice on every run (under --quiet a 'warnings not shown' line,
which cron mails) and rebuilt its font cache in a new temporary folder; with no writable
temporary folder either (a read-only root file system), it raised, a traceback after the
forecast's whole backtest.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from segchain.errors import UsageError

# Why each command that imports matplotlib does, for the refusal's message.
_WHY = {
    "forecast": "the reconciliation's library, hierarchicalforecast, imports matplotlib",
    "report": "the report draws its charts with matplotlib",
}


def default_dirs() -> list[Path] | None:
    """matplotlib's own config and cache folders as it chooses them without MPLCONFIGDIR
    (``matplotlib._get_config_or_cache_dir``), or None when it cannot find the home folder."""
    try:
        if sys.platform.startswith(("linux", "freebsd")):
            config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
            cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            return [Path(config, "matplotlib"), Path(cache, "matplotlib")]
        return [Path.home() / ".matplotlib"]
    except RuntimeError:  # no HOME and no password entry (a container's random uid)
        return None


def usable(folder: Path) -> bool:
    """Whether matplotlib could create ``folder`` (``mkdir -p``) and write in it; nothing is
    created here (a command that does not import matplotlib leaves HOME as it was)."""
    try:
        path = folder.resolve()
    except (OSError, RuntimeError):  # a symlink loop, a relative path with no working folder
        return False
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _private_folder(parent: str) -> str | None:
    """``parent/segchain-matplotlib-UID``, made if need be, when it is this user's alone: kept
    between runs, so that matplotlib builds its font cache once. None when the name is taken by
    something else (a symlink, another user's folder, one others may write in), as a folder
    others can write in could hand matplotlib a cache or settings of theirs."""
    uid = os.geteuid()
    path = os.path.join(parent, f"segchain-matplotlib-{uid}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != uid
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        or not os.access(path, os.W_OK | os.X_OK)
    ):
        return None
    return path


def _fresh_folder() -> str:
    """A new private temporary folder, removed when the run ends (by the process that made it:
    the forecast's forked workers exit without running it, and must not remove it)."""
    path = tempfile.mkdtemp(prefix="segchain-matplotlib-")
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    return path


def matplotlib_folder() -> str | None:
    """The folder to give matplotlib as MPLCONFIGDIR, or None when its default will do.

    A private per-user folder in the temporary folder, kept between runs; a fresh one, removed
    at exit, where that name is taken or the temporary folder is the working folder (tempfile's
    last resort: a folder left there would be litter in the user's files).

    Raises:
        OSError: no temporary folder can be written (tempfile's 'No usable temporary
            directory found').
    """
    if os.environ.get("MPLCONFIGDIR"):  # the user's choice (empty is unset, as for matplotlib)
        return None
    defaults = default_dirs()
    if defaults is not None and all(usable(folder) for folder in defaults):
        return None
    parent = tempfile.gettempdir()
    try:
        in_working_folder = os.path.samefile(parent, os.curdir)
    except OSError:
        in_working_folder = False
    private = None if in_working_folder else _private_folder(parent)
    return private or _fresh_folder()


def imports_matplotlib(command: str, options: Mapping[str, Any]) -> bool:
    """Whether ``command`` run with ``options`` (its parameters) will import matplotlib: report
    draws charts for an HTML or Markdown file only (not for Markdown on stdout or a terminal),
    and forecast imports it only to reconcile (hierarchicalforecast)."""
    if command == "forecast":
        return str(options.get("reconcile") or "").strip().lower() != "none"
    if command == "report":
        from segchain.report.params import HTML_SUFFIXES, MD_SUFFIXES

        output = options.get("output")
        return isinstance(output, str) and output.lower().endswith(HTML_SUFFIXES + MD_SUFFIXES)
    return False


def prepare_matplotlib(command: str, options: Mapping[str, Any]) -> None:
    """Point MPLCONFIGDIR at a folder matplotlib can write, where its default folder cannot be
    written and ``command`` run with ``options`` will import matplotlib (``imports_matplotlib``);
    before any input is read.

    Raises:
        UsageError: no folder matplotlib could write exists at all.
    """
    if not imports_matplotlib(command, options):
        return
    try:
        folder = matplotlib_folder()
    except OSError:
        raise UsageError(
            f"no writable folder for matplotlib's settings and font cache: {_WHY[command]}, "
            f"and neither its folder under HOME ({_shown_default()}) nor a temporary folder "
            "($TMPDIR, /tmp, /var/tmp, the working folder) can be written",
            hint="set MPLCONFIGDIR (or TMPDIR) to a writable folder, e.g. "
            "MPLCONFIGDIR=/data/mplconfig"
            + (", or give --reconcile none" if command == "forecast" else ""),
        ) from None
    if folder is not None:
        os.environ["MPLCONFIGDIR"] = folder  # forked workers inherit it


def _shown_default() -> str:
    defaults = default_dirs()
    return str(defaults[0]) if defaults else "HOME not found"
