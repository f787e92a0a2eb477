"""Help that reads well at 80 columns (issue 13.7): every command's --help rendered as a user's
terminal would (the installed executable, COLUMNS=80): examples continued with ``\\``, options in
panels, files named FILE/DIR, no Python type as a metavar, defaults written one way."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import typer

from segchain.cli import COMMANDS, app
from segchain.cli.common import path_roles

EXE = Path(sys.executable).with_name("segchain")
pytestmark = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")

WIDTH = 80
# What Typer shows when nobody named the value: a Python type, a range, a list.
PYTHON_TYPES = re.compile(r"<(str|int|float|bool|path|list|int range|float range)\b|list\[|x>=|x<")


@cache
def render(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("TERMINAL_WIDTH", "COLUMNS")}
    env.update(COLUMNS=str(WIDTH), NO_COLOR="1")
    proc = subprocess.run(
        [str(EXE), *args, "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


ALL = [(), *((name,) for name in COMMANDS)]


@pytest.mark.parametrize("args", ALL, ids=lambda a: a[0] if a else "segchain")
def test_help_fits_80_columns_without_truncation(args: tuple[str, ...]) -> None:
    text = render(*args)
    too_long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long, "\n".join(too_long)
    assert "…" not in text  # rich cuts what does not fit with an ellipsis


@pytest.mark.parametrize("args", ALL, ids=lambda a: a[0] if a else "segchain")
def test_help_shows_no_python_types(args: tuple[str, ...]) -> None:
    text = render(*args)
    assert not PYTHON_TYPES.findall(text), text


@pytest.mark.parametrize("args", ALL, ids=lambda a: a[0] if a else "segchain")
def test_help_writes_defaults_one_way(args: tuple[str, ...]) -> None:
    text = render(*args)
    assert "[default:" not in text
    flat = re.sub(r"[│\s]+", " ", text)
    for m in re.finditer(r"\bdefault\b", flat):
        assert flat[m.start() - 1 : m.end() + 1] == "(default:", flat[m.start() - 60 : m.end() + 20]


def _example(text: str) -> list[str]:
    """The help's example lines: rich indents code by two spaces, prose by one."""
    lines = text.split("╭")[0].splitlines()
    return [line.rstrip() for line in lines if line.startswith("  ") and line.strip()]


@pytest.mark.parametrize("args", ALL, ids=lambda a: a[0] if a else "segchain")
def test_help_examples_continue_with_backslashes(args: tuple[str, ...]) -> None:
    example = _example(render(*args))
    assert example and example[0].strip().startswith("segchain "), example
    for before, line in zip(example, example[1:], strict=False):
        if not line.strip().startswith("segchain "):
            # A continuation: the line before it says so, as a shell needs it to.
            assert before.endswith("\\"), f"{before!r} is continued by {line!r} without '\\'"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_groups_options_in_panels(name: str) -> None:
    text = render(name)
    panels = re.findall(r"^╭─ (.+?) ─", text, flags=re.M)
    assert "General" in panels or name == "report" or name == "sample", panels
    assert panels[-1] in ("General", "Output"), panels
    writes = name != "report"
    if writes:
        assert "Output" in panels
    assert len(panels) >= 3, panels


@cache
def _commands() -> dict[str, typer.core.TyperCommand]:
    return typer.main.get_command(app).commands  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", COMMANDS)
def test_help_names_files_file(name: str) -> None:
    command = _commands()[name]
    roles = path_roles(inspect.unwrap(command.callback))
    assert roles or name == "sample"
    for param in command.params:
        if param.name in roles:
            shown = param.display_type_rich(None) if param.param_type_name == "argument" else None
            assert param.metavar == "FILE" or shown in ("FILE", "FILE..."), param.name
    if name == "sample":
        (output,) = [p for p in command.params if p.name == "output"]
        assert output.metavar == "DIR"


@pytest.mark.parametrize("name", COMMANDS)
def test_usage_line_names_the_input_in_capitals(name: str) -> None:
    usage = next(line for line in render(name).splitlines() if "Usage:" in line)
    arguments = re.findall(r"\[([^\]]+)\]", usage.split("[OPTIONS]")[1])
    assert all(a.rstrip(".").isupper() for a in arguments), usage


def _example_commands(text: str) -> list[str]:
    """The help's example as command lines: continuations joined, one line per command."""
    joined = re.sub(r"\s*\\\n\s*", " ", "\n".join(_example(text)))
    return [line.strip() for line in joined.splitlines() if line.strip()]


@pytest.mark.parametrize("args", ALL, ids=lambda a: a[0] if a else "segchain")
def test_help_examples_parse_with_their_commands_parsers(args: tuple[str, ...]) -> None:
    # An example a user copies from --help must at least get past its command's parser.
    import shlex

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    problems = []
    for example in _example_commands(render(*args)):
        for stage in example.split(" | "):
            argv = shlex.split(stage)
            assert argv[0] == "segchain", stage
            try:
                commands[argv[1]].make_context(argv[1], argv[2:])
            except Exception as exc:  # the parser's own errors (typer's bundled click)
                problems.append(f"{stage}\n  {type(exc).__name__}: {exc}")
    assert not problems, "\n".join(problems)


def test_the_pipeline_in_the_help_plans_stock_from_the_order_history(tmp_path: Path) -> None:
    # `segchain --help`'s pipeline once ran `segchain stock` without --orders: its first run
    # warned that slow items were planned from the forecast alone and told the user to give
    # --orders, the option the example had left out.
    (pipeline,) = _example_commands(render())
    env = {k: v for k, v in os.environ.items() if k not in ("TERMINAL_WIDTH", "COLUMNS")}
    env["PATH"] = f"{EXE.parent}:{env.get('PATH', '/usr/bin:/bin')}"
    sample = subprocess.run(
        [str(EXE), "sample", "-o", str(tmp_path), "--customers", "60", "--skus", "5",
         "--years", "2", "-q"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert sample.returncode == 0, sample.stderr
    proc = subprocess.run(
        ["sh", "-c", "set -e; " + pipeline],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "segchain stock: " in proc.stderr and (tmp_path / "report.html").stat().st_size > 0
    assert "--orders FILE" not in proc.stderr, proc.stderr
    # The four stages through real pipes made the page with the stock's own section (as
    # test_pipeline.py's chain, now run with -m slow, checked): not the note why it was skipped.
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert '<section id="inventory">' in html
    assert "Inventory: " not in html
