"""The README against the code, as sqlite-utils tests its docs (tests/test_docs.py there).

Every option of every command is documented (in the command's own README section, or among the
options every command shares), and every option the README names exists: in a
``segchain <command> ...`` example, on that command.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import typer

from segchain.cli import COMMANDS, app

README = Path(__file__).resolve().parents[1] / "README.md"
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?![\w-])")
# Options the README names that belong to other tools (``ruff format --check``).
OTHER_TOOLS = {"--check"}


@cache
def readme() -> str:
    return README.read_text(encoding="utf-8")


def section(title_start: str) -> str:
    """The README text from the heading that starts with ``title_start`` to the next heading of
    the same or a higher level ('' when there is none)."""
    text = readme()
    m = re.search(rf"^(#+) {re.escape(title_start)}.*$", text, flags=re.M)
    if m is None:
        return ""
    level = len(m.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", flags=re.M).search(text, m.end())
    return text[m.end() : end.start() if end else len(text)]


def command_options() -> dict[str, set[str]]:
    """Each command's long options (both forms of a --flag/--no-flag pair)."""
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    return {
        name: {
            o
            for p in commands[name].params
            if p.param_type_name == "option"
            for o in (*p.opts, *p.secondary_opts)
            if o.startswith("--")
        }
        for name in commands
    }


def root_options() -> set[str]:
    group = typer.main.get_command(app)
    return {o for p in group.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}


def test_every_command_is_registered_and_has_a_readme_section() -> None:
    assert set(command_options()) == set(COMMANDS)
    for name in COMMANDS:
        assert section(f"`segchain {name}`"), f"README has no section '### `segchain {name}`'"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_of_the_command_is_in_the_readme(name: str) -> None:
    documented = set(OPTION.findall(section(f"`segchain {name}`")))
    documented |= set(OPTION.findall(section("Options every command shares")))
    missing = sorted(command_options()[name] - documented)
    assert not missing, (
        f"segchain {name}: {', '.join(missing)} not in the README (its section, or "
        "'Options every command shares')"
    )


def test_every_option_the_readme_names_exists() -> None:
    known = set().union(*command_options().values(), root_options(), OTHER_TOOLS, {"--help"})
    unknown = sorted(set(OPTION.findall(readme())) - known)
    assert not unknown, f"the README names options no command has: {', '.join(unknown)}"


def example_calls() -> list[tuple[str, str]]:
    """(command, rest of the line) of every ``segchain <command> ...`` in a README code block,
    continuation lines joined and pipelines split."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", readme(), flags=re.M | re.S)
    calls = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("|"):
                m = re.search(r"\bsegchain ([a-z]+)\b(.*)", part)
                if m and m.group(1) in COMMANDS:
                    calls.append((m.group(1), m.group(2)))
    return calls


def test_every_readme_example_uses_only_options_of_its_command() -> None:
    calls = example_calls()
    assert {name for name, _ in calls} == set(COMMANDS), "every command has an example"
    options = command_options()
    wrong = [
        f"segchain {name} {opt}"
        for name, rest in calls
        for opt in OPTION.findall(rest)
        if opt not in options[name] | {"--help"}
    ]
    assert not wrong, f"README examples with options their command lacks: {', '.join(wrong)}"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_of_every_command_shows_its_options_and_an_example(cli, name: str) -> None:
    result = cli(name, "--help")
    assert result.exit_code == 0, result.stderr
    assert "Example" in result.stdout
    # Rich may wrap a long option name; compare without the box drawing and spaces.
    flat = re.sub(r"[\s│]", "", result.stdout)
    for option in command_options()[name]:
        assert option in flat, f"segchain {name} --help does not show {option}"


def test_options_every_command_shares_name_the_commands_that_lack_them() -> None:
    """A shared option a command lacks is named as an exception in its bullet (or the bullet names
    the commands that have it): ``segchain report --config`` and ``report -f`` are usage errors,
    and the section's title says every command shares them."""
    text = section("Options every command shares")
    bullets = re.split(r"^- ", text, flags=re.M)[1:]
    assert len(bullets) >= 6, bullets
    options = command_options()
    problems = []
    for bullet in bullets:
        named = set(re.findall(r"`([a-z]+)`", bullet)) & set(COMMANDS)
        for option in set(OPTION.findall(bullet)):
            having = {name for name in COMMANDS if option in options[name]}
            lacking = set(COMMANDS) - having
            if not (lacking <= named or having <= named):
                problems.append(f"{option}: not on {', '.join(sorted(lacking - named))}")
    assert not problems, "; ".join(problems)


def test_every_command_option_the_readme_names_inline_exists_on_that_command() -> None:
    """An option named after its command in running text (`` `stock --assignments` ``,
    `` `segchain validate export.xlsx --sheet Orders ...` ``) is an option of that command, not
    only of some command: the code-block examples are checked above, the prose was not."""
    options = command_options()
    wrong = []
    for span in re.findall(r"`([^`\n]+)`", readme()):
        m = re.match(r"(?:segchain )?([a-z]+)\b(.*)", span)
        if m is None or m.group(1) not in COMMANDS:
            continue
        wrong += [
            f"`{span}`: {opt}"
            for opt in OPTION.findall(m.group(2))
            if opt not in options[m.group(1)] | {"--help"}
        ]
    assert not wrong, f"README names options their command lacks: {'; '.join(wrong)}"


def test_inline_command_option_check_sees_the_readmes_spans() -> None:
    # The check above is vacuous if its pattern finds nothing; these are in the README today.
    spans = re.findall(r"`([^`\n]+)`", readme())
    assert "stock --segments-out" in spans
    assert any(s.startswith("segchain validate export.xlsx --sheet") for s in spans)


def environment_variables() -> set[str]:
    """The variables segchain reads: its options' ``envvar`` and the names its code looks up."""
    group = typer.main.get_command(app)
    names = {
        p.envvar
        for command in (group, *group.commands.values())  # type: ignore[attr-defined]
        for p in command.params
        if isinstance(p.envvar, str)
    }
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (README.parent / "segchain").rglob("*.py")
    )
    return names | set(re.findall(r"[\"'](SEGCHAIN_[A-Z_]+)[\"']", source))


def test_every_environment_variable_the_readme_names_is_read() -> None:
    named = set(re.findall(r"\b(SEGCHAIN_[A-Z][A-Z_]*[A-Z])\b", readme()))
    assert {"SEGCHAIN_FORMAT", "SEGCHAIN_MAP", "SEGCHAIN_SHEET"} <= named
    unknown = sorted(named - environment_variables())
    assert not unknown, f"the README names variables segchain does not read: {', '.join(unknown)}"


def test_the_reject_reason_table_lists_every_reason_code_and_no_other() -> None:
    from segchain.schema import LINE_FLAGS, REJECT_REASONS

    text = section("`segchain validate`")
    first_cells = re.findall(r"^\| ([^|]+) \|", text, flags=re.M)
    documented = {code for cell in first_cells for code in re.findall(r"`([a-z_]+)`", cell)}
    assert documented == set(REJECT_REASONS)
    # The flags of kept lines: each named in the validate section.
    assert all(f"`{flag}`" in text for flag in LINE_FLAGS)


def test_forecast_help_says_what_top_down_splits_by_as_the_readme_does(cli) -> None:
    """`forecast --help` described `--reconcile top-down` as "recent segment shares" after the
    split moved to each segment's share of the sku's whole history (b6f8454), as the README
    says: a user choosing a method read the old rule."""
    assert "share of the sku's whole history" in section("`segchain forecast`")
    result = cli("forecast", "--help")
    flat = " ".join(result.stdout.replace("│", " ").split())
    assert "share of the sku's whole history" in flat
    assert "recent segment shares" not in flat


@pytest.mark.parametrize("name", COMMANDS)
def test_help_panels_are_those_the_readme_names_in_its_order(cli, name: str) -> None:
    """The README said the panels were "its own first, then Input, Order export, Output,
    General", while forecast shows an Engine panel and network Transport and Solver ones
    between them: every panel of --help is named in that sentence, in the order it gives."""
    text = " ".join(section("Options every command shares").split())
    claim = re.search(r"in panels \((.*?)\), files as", text)
    assert claim, "the README no longer says which panels --help shows"
    own_part, shared_part = re.split(r";? then ", claim.group(1), maxsplit=1)
    shared = [p.strip() for p in shared_part.split(",") if p.strip()[:1].isupper()]
    own = {
        command: re.split(r", | and ", panels)
        for command, panels in re.findall(
            r"\b([a-z]+)'s ([A-Z][a-z]+(?:(?:, | and )[A-Z][a-z]+)*)", own_part
        )
    }
    assert set(own) <= set(COMMANDS), own
    expected = ["Options", *own.get(name, []), *shared]
    result = cli(name, "--help")
    panels = [p for p in re.findall(r"╭─ ([A-Za-z ]+?) ─", result.stdout) if p != "Arguments"]
    assert set(panels) <= set(expected), (
        f"segchain {name} --help panels {panels}, README {expected}"
    )
    assert panels == [p for p in expected if p in panels]


def test_every_environment_variable_the_readme_names_is_shown_in_help(cli) -> None:
    """The README names $SEGCHAIN_MAP as --map's environment form; no --help said so (an
    option's [env var: ...] line, or its help text), so a user reading `segchain validate -h`
    could not find it. Variables read with no option (the heartbeat's) are the README's alone."""
    from segchain.config import ENVIRONMENT

    named = set(re.findall(r"\b(SEGCHAIN_[A-Z][A-Z_]*[A-Z])\b", readme())) - set(ENVIRONMENT)
    shown = {
        variable
        for name in COMMANDS
        for variable in re.findall(
            r"SEGCHAIN_[A-Z_]*[A-Z]", re.sub(r"[\s│]", "", cli(name, "--help").stdout)
        )
    }
    assert not named - shown, f"README names, no --help shows: {sorted(named - shown)}"


def test_every_file_the_readme_links_to_exists() -> None:
    """The measurements moved from the README to docs/measurements.md (s43); a link to a file
    that is not there is a README that says less than it seems to."""
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme())
    local = [link for link in links if "://" not in link and not link.startswith("mailto:")]
    assert "docs/measurements.md" in local
    missing = [link for link in local if not (README.parent / link).exists()]
    assert not missing, f"README links to files that do not exist: {', '.join(missing)}"
