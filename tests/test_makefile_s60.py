"""The Makefile in a checkout whose path holds a space (audit I, session 60): `make demo`
stopped at once, "No rule to make target 'space/clone/Makefile'", as make split the absolute
path of its own folder at the space."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_plans_its_stages_in_a_folder_with_a_space(tmp_path: Path) -> None:
    checkout = tmp_path / "My Projects" / "segchain"
    (checkout / "segchain").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", checkout / "Makefile")
    (checkout / "segchain" / "stage.py").write_text("")
    shutil.copytree(ROOT / "sample_data", checkout / "sample_data")
    proc = subprocess.run(
        ["make", "-o", ".venv/.installed-stamp", "SEG=seg", "-n", "demo"],
        cwd=checkout, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    stages = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("seg ")]
    assert stages[:2] == ["validate", "segment"]
    assert "report" in stages
