"""The repository's own files (session 65)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_a_virtual_environment_linked_into_a_checkout_is_ignored(tmp_path: Path) -> None:
    # A worktree whose .venv is a symbolic link to the main checkout's (as the project's
    # sessions set theirs up): '.venv/' matches folders only, so `git add -A` took the link,
    # and merging that branch put the link (.venv -> .../.venv) in place of the main
    # checkout's ignored environment, which git deleted.
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    (tmp_path / "env").mkdir()
    (repo / ".venv").symlink_to(tmp_path / "env")
    proc = subprocess.run(["git", "check-ignore", "-q", ".venv"], cwd=repo)
    assert proc.returncode == 0, "a .venv link is not ignored"
    untracked = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".venv" not in untracked
