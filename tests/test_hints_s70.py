"""Every option a command's message names on stderr is one that command has, or follows the name
of the command that has it (session 70).

The order import's and the geocoder's messages are shared by every command that reads orders or
places customers, and they name the options of the commands that read exports: report, which
reads raw exports as validate does but has no --map, --preset, --date-format or --returns, told
'say which with --date-format month-first', 'map it with --map order_date=HEADER' or 'check
--date-format ... and --map / --preset', and network, which has no --map, 'map the orders'
country when segmenting (--map country=HEADER)': each is 'No such option' given to that command.
Such an option is now named by the command that has it ('segchain validate --date-format',
'segchain segment --map').

Each probe runs one command on an input made here that triggers a common error, warning or hint,
and checks every ``--option`` on its stderr against the command's own options (what
``segchain CMD --help`` lists). An option is accepted when the command has it, when the nearest
command name before it in its clause (not across a ';', ', and' or ', or') has it, or when the
line says the command has no such option ('report has no --map or --preset'). PROBES marks which
ones found a fault on main (they fail there); the others are guards, each of a message that
names options and was right on main.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer

COMMANDS = ("sample", "validate", "segment", "forecast", "stock", "network", "costs", "report")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND_NAME = re.compile(r"\b(" + "|".join(COMMANDS) + r")\b")
HEAD = "order_id,order_date,customer_id,sku,quantity,unit_price\n"
FILES = {
    # Every line rejected: bad dates.
    "baddates.csv": HEAD + "1,not a date,c1,A,1,2\n2,nope,c2,A,1,2\n",
    # Slash dates no day of which is above 12: day first or month first cannot be told.
    "ambig.csv": HEAD + "1,03/04/2024,c1,A,1,2\n2,05/06/2024,c2,A,1,2\n",
    # 25/06 only day first, 06/25 only month first.
    "mixed.csv": HEAD + "1,03/04/2024,c1,A,1,2\n2,25/06/2024,c2,A,1,2\n3,06/25/2024,c2,A,1,2\n",
    # Day numbers, not dates.
    "daynum.csv": HEAD + "1,1,c1,A,1,2\n2,2,c2,A,1,2\n3,3,c1,A,1,2\n",
    # No customer column.
    "nocust.csv": "order_id,order_date,sku,quantity,unit_price\n1,2024-01-02,A,1,2\n",
    # Superstore's headers, which need a mapping.
    "mapped.csv": "Order ID,Order Date,Customer ID,Product ID,Quantity,Sales\n"
    "1,2024-01-02,c1,A,1,2\n",
    # Only returns, with the config's [orders] returns = "drop".
    "returns.csv": HEAD + "C1,2024-01-02,c1,A,-1,2\nC2,2024-01-03,c2,A,-2,2\n",
    "drop.toml": '[orders]\nreturns = "drop"\n',
    "seg.csv": "customer_id,segment,segment_rank\nc1,Champions,1\nc2,Loyal,2\n",
    # Segments placed by city, with no country column.
    "segcity.csv": "customer_id,segment,segment_rank,city\n"
    "c1,Champions,1,Paris\nc2,Loyal,2,Berlin\n",
    "sites.csv": "site_id,lat,lon,fixed_cost,capacity\nS1,50,8,100,1000\n",
}


@dataclass(frozen=True)
class Probe:
    command: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    fault_on_main: bool = False  # False: a guard, right on main
    says: str = ""  # a piece of the mended message, when it was a fault

    @property
    def id(self) -> str:
        env = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{env} {self.command} {' '.join(self.args)}".strip()


PROBES = [
    # Faults on main: report and network named options they do not have.
    Probe(
        "report",
        ("baddates.csv",),
        fault_on_main=True,
        says="check segchain validate --date-format",
    ),
    Probe(
        "report",
        ("ambig.csv",),
        fault_on_main=True,
        says="say which with SEGCHAIN_DATE_FORMAT=month-first",
    ),
    Probe(
        "report",
        ("mixed.csv",),
        fault_on_main=True,
        says="or pass SEGCHAIN_DATE_FORMAT=day-first",
    ),
    Probe(
        "report",
        ("daynum.csv",),
        fault_on_main=True,
        says="map it with segchain validate --map order_date=HEADER",
    ),
    Probe(
        "report",
        ("nocust.csv",),
        fault_on_main=True,
        says="map them with segchain validate --map CANONICAL=HEADER",
    ),
    Probe(
        "report",
        ("mapped.csv",),
        {"SEGCHAIN_PRESET": "sap"},
        fault_on_main=True,
        says="add segchain validate --map 'order_id=Order ID'",
    ),
    Probe(
        "network",
        ("segcity.csv", "--sites", "sites.csv", "-o", "net.csv"),
        fault_on_main=True,
        says="(segchain segment --map country=HEADER)",
    ),
    # Guards: the commands that have the options the same messages name.
    Probe("validate", ("baddates.csv",)),
    Probe("validate", ("ambig.csv",)),
    Probe("validate", ("returns.csv",), {"SEGCHAIN_CONFIG": "drop.toml"}),
    Probe("segment", ("mixed.csv", "-o", "s.csv")),
    Probe("segment", ("daynum.csv", "-o", "s.csv")),
    Probe("forecast", ("seg.csv", "--orders", "baddates.csv")),
    Probe("costs", ("seg.csv", "--orders", "ambig.csv")),
    # The config's returns: named by its key (config.name_sources), on main too.
    Probe("report", ("returns.csv",), {"SEGCHAIN_CONFIG": "drop.toml"}),
    Probe("costs", ("seg.csv", "--orders", "nocust.csv")),
    Probe("costs", ("seg.csv", "--orders", "mapped.csv")),
]


def command_options(command: str) -> set[str]:
    """The long options ``segchain <command> --help`` lists, from the command's parameters."""
    from segchain.cli import app

    sub = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    return {o for p in sub.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}


def options_named_wrongly(command: str, stderr: str) -> list[str]:
    """The options on ``stderr`` that ``command`` lacks and no command named before them has."""
    own = command_options(command)
    wrong = []
    for line in stderr.splitlines():
        line = line.removeprefix(f"segchain {command}:")
        for match in OPTION.finditer(line):
            option = match.group()
            if option in own or option in ("--help", "--version"):
                continue
            # Its clause: a command named before a ';', ', and' or ', or' names no later option.
            before = re.split(r"; |, and |, or ", line[: match.start()])[-1]
            if re.search(r"\bhas no (--[a-z-]+,? (or )?)*$", before):
                continue  # 'report has no --map or --preset'
            names = COMMAND_NAME.findall(before)
            if names and names[-1] != command and option in command_options(names[-1]):
                continue
            wrong.append(option)
    return wrong


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(cli, monkeypatch: pytest.MonkeyPatch, probe: Probe):  # type: ignore[no-untyped-def]
    for key, value in probe.env.items():
        monkeypatch.setenv(key, value)
    return cli(probe.command, *probe.args)


@pytest.mark.parametrize("probe", [p for p in PROBES if p.fault_on_main], ids=lambda p: p.id)
def test_a_shared_message_names_the_command_that_has_the_option(
    cli, inputs: Path, monkeypatch: pytest.MonkeyPatch, probe: Probe
) -> None:
    """Found on main: the message named an option the command lacks."""
    result = run(cli, monkeypatch, probe)
    assert probe.says in result.stderr
    assert options_named_wrongly(probe.command, result.stderr) == []


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_every_option_named_on_stderr_is_the_commands_or_named_with_its_command(
    cli, inputs: Path, monkeypatch: pytest.MonkeyPatch, probe: Probe
) -> None:
    """The general check over every probe; the guards (fault_on_main False) passed on main."""
    result = run(cli, monkeypatch, probe)
    assert OPTION.search(result.stderr) or "[orders]" in result.stderr, "no option named"
    assert options_named_wrongly(probe.command, result.stderr) == []


def test_the_commands_that_have_an_option_keep_it_unnamed(
    cli, inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guard: validate, which has --date-format, is told '--date-format', not its own name."""
    result = cli("validate", "ambig.csv")
    assert "say which with --date-format month-first" in result.stderr
    assert "segchain validate --" not in result.stderr


def test_a_report_export_that_needs_a_mapping_still_says_report_has_none(cli, inputs: Path) -> None:
    """A guard: 'report has no --map or --preset' is a statement about report, left as it is."""
    result = cli("report", "nocust.csv")
    assert result.exit_code == 1
    assert "report has no --map or --preset: give it what segchain validate" in result.stderr
