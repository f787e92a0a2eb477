"""Every ``segchain ...`` example of the README runs as written (issue 13: "the README's every
example runs as written on a fresh clone").

In ``make test``: every example is found and every stage of it parses with its command's own
parser (options exist, values convert, required options given). Running them all takes minutes
(forecast, stock's rationing, a 100,000-customer sample), so that test is marked slow:
``pytest -m slow tests/test_readme_examples.py``.

The examples are taken from the README's code blocks (``\\`` continuations joined, pipes kept) and
run through ``sh`` in README order in one folder prepared as a user's would be: the sample export
(``sample_data/``, a smaller generated one here so that ``make test`` stays fast; the slow test
uses the repository's own), the files the examples name (``orders.csv``, ``items.csv``,
``export.csv`` with SAP headers, ...) and, for ``report out/*``, the outputs of the examples that
ran before it. Each example must exit 0, except the ones listed in ``EXPECTED_FAILURE`` with the
reason and the message they must give.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXE = Path(sys.executable).with_name("segchain")

pytestmark = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

# Examples that name something this machine has not got: they must fail as documented, fast.
EXPECTED_FAILURE = {
    # A remote Dask scheduler that is not there: refused before any input is read.
    "--address tcp://10.0.0.5:8786": (2, "--address tcp://10.0.0.5:8786: "),
}
# Too slow for `make test`: run by the slow test only.
SLOW = ("--customers 100000",)
# Run by their own acceptance test on real data (tests/acceptance/test_online_retail_chain.py).
ELSEWHERE_MARK = "<!-- chain: online-retail -->"

# An SAP sales-order export (VBAK/VBAP field names) made from the sample's orders.
SAP_HEADERS = {
    "order_id": "VBELN",
    "order_date": "AUDAT",
    "customer_id": "KUNNR",
    "sku": "MATNR",
    "description": "ARKTX",
    "quantity": "KWMENG",
    "site": "WERKS",
    "country": "LAND1",
    "postal_code": "PSTLZ",
    "city": "ORT01",
}


def readme_examples(text: str | None = None) -> list[str]:
    """The ``segchain`` command lines of the README's code blocks, continuations joined."""
    text = README.read_text(encoding="utf-8") if text is None else text
    examples: list[str] = []
    for m in re.finditer(r"(?P<before>[^\n]*\n)?```[^\n]*\n(?P<body>.*?)```", text, flags=re.S):
        if ELSEWHERE_MARK in (m.group("before") or ""):
            continue
        joined = re.sub(r"\s*\\\n\s*", " ", m.group("body"))
        for line in joined.splitlines():
            line = line.strip()
            # Output lines ("segchain forecast: ...") are not commands.
            if re.match(r"segchain [a-z]+( |$)", line) and not re.match(r"segchain [a-z]+:", line):
                examples.append(line)
    return examples


def test_readme_examples_are_found() -> None:
    # The extraction itself: a README edit that hid the examples from it would make this vacuous.
    examples = readme_examples()
    commands = {e.split()[1] for e in examples}
    assert commands >= {"sample", "validate", "segment", "forecast", "stock", "network", "costs",
                        "report"}  # fmt: skip
    assert any(" | segchain forecast " in e for e in examples)
    text = "```\nsegchain stock a.parquet \\\n  --items i.csv -o p.parquet\nsegchain x: out\n```\n"
    assert readme_examples(text) == ["segchain stock a.parquet --items i.csv -o p.parquet"]


def test_readme_examples_parse_with_their_commands_parsers() -> None:
    import shlex

    import typer

    from segchain.cli import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    problems = []
    for example in readme_examples():
        for stage in example.split(" | "):
            argv = shlex.split(stage)
            assert argv[0] == "segchain", stage
            command = commands[argv[1]]
            try:
                command.make_context(argv[1], argv[2:])
            except Exception as exc:  # the parser's own errors (typer's bundled click)
                problems.append(f"{stage}\n  {type(exc).__name__}: {exc}")
    assert not problems, "\n".join(problems)


def _run(command: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env_path = f"{EXE.parent}:/usr/bin:/bin"
    return subprocess.run(
        ["sh", "-c", "set -e; " + command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": env_path, "HOME": str(cwd), "LC_ALL": "C.UTF-8", "SEGCHAIN_HEARTBEAT": "600"},
    )


def _prepare(folder: Path, sample: Path) -> None:
    """A user's folder: the sample export, the files the examples name, a previous segments."""
    import polars as pl

    shutil.copytree(sample, folder / "sample_data")
    for name in ("orders.csv", "items.csv", "on_hand.csv", "sites.csv", "segchain.toml"):
        shutil.copy(sample / name, folder / name)
    orders = pl.read_csv(sample / "orders.csv", infer_schema=False)
    net = pl.col("quantity").cast(pl.Float64, strict=False) * pl.col("unit_price").cast(
        pl.Float64, strict=False
    )
    orders.select(
        *[pl.col(k).alias(v) for k, v in SAP_HEADERS.items()], net.round(2).alias("NETWR")
    ).write_csv(folder / "export.csv")
    proc = _run("segchain segment orders.csv -q -o last_month.parquet", folder)
    assert proc.returncode == 0, proc.stderr


def _gather_outputs(folder: Path) -> None:
    """out/: the stage outputs the examples before ``report out/*`` wrote."""
    out = folder / "out"
    out.mkdir(exist_ok=True)
    for name in ("orders.parquet", "segments.parquet", "profile.csv", "forecast.parquet",
                 "backtest.csv", "policy.parquet", "assignments.parquet", "sites_out.csv",
                 "costs.csv", "rejects.csv"):  # fmt: skip
        if (folder / name).exists():
            shutil.copy(folder / name, out / name)


def _run_all(folder: Path, examples: list[str]) -> list[str]:
    failures = []
    for example in examples:
        if example.startswith("segchain report out/"):
            _gather_outputs(folder)
        proc = _run(example, folder)
        expected = next((v for k, v in EXPECTED_FAILURE.items() if k in example), None)
        if expected is not None:
            code, message = expected
            if proc.returncode != code or message not in proc.stderr:
                failures.append(
                    f"{example}\n  expected exit {code} with {message!r}: {proc.stderr}"
                )
            continue
        if proc.returncode != 0:
            failures.append(f"{example}\n  exit {proc.returncode}: {proc.stderr[-2000:]}")
    return failures


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme") / "sample"
    proc = _run(f"segchain sample -o {folder} --customers 80 --skus 6 --years 2 -q", ROOT)
    assert proc.returncode == 0, proc.stderr
    shutil.copy(ROOT / "sample_data" / "segchain.toml", folder / "segchain.toml")
    return folder


@pytest.mark.slow
def test_readme_examples_run_as_written(small_sample: Path, tmp_path: Path) -> None:
    examples = [e for e in readme_examples() if not any(s in e for s in SLOW)]
    _prepare(tmp_path, small_sample)
    failures = _run_all(tmp_path, examples)
    assert not failures, "\n\n".join(failures)
    assert (tmp_path / "report.html").stat().st_size > 0


@pytest.mark.slow
def test_readme_examples_run_as_written_on_the_repository_sample(tmp_path: Path) -> None:
    _prepare(tmp_path, ROOT / "sample_data")
    failures = _run_all(tmp_path, readme_examples())
    assert not failures, "\n\n".join(failures)
