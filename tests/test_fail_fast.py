"""Fail fast (issue 13.6): options, output folders and engine addresses are checked before any
input is read. The inputs named here do not exist: a command that read before checking would
stop with exit 1 "no such file" instead of the usage error (exit 2)."""

from __future__ import annotations

import pytest

MISSING = "/nonexistent/dir"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forecast", "absent.csv", "--orders", "absent.csv", "-o", f"{MISSING}/fc.parquet"],
         f"-o {MISSING}/fc.parquet: folder '{MISSING}' does not exist"),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--backtest", f"{MISSING}/b.csv"],
         f"--backtest {MISSING}/b.csv: folder"),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--freq", "Q"], "--freq: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--horizon", "0"], "--horizon: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--models", "Prophet"], "--models: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--engine", "hadoop"], "--engine: "),
        (["forecast", "absent.csv", "--orders", "absent.csv", "--engine", "dask", "--address",
          "tcp://host:port"], "--address tcp://host:port: the port must be a number"),
        (["segment", "absent.csv", "--method", "dbscan"], "--method: "),
        (["segment", "absent.csv", "--k", "3"], "--k applies to --method kmeans only"),
        (["segment", "absent.csv", "--abc-cutoffs", "0.9,0.8", "--method", "abc-xyz"],
         "--abc-cutoffs: must be two shares 0 < A < B <= 1"),
        (["segment", "absent.csv", "--clv-horizon", "0"], "--clv-horizon: "),
        (["segment", "absent.csv", "--as-of", "yesterday"], "--as-of: "),
        (["segment", "absent.csv", "--profile", f"{MISSING}/p.csv"], f"--profile {MISSING}/p.csv"),
        (["stock", "absent.csv", "--service-level", "2"], "--service-level: "),
        (["stock", "absent.csv", "--segments-out", f"{MISSING}/s.csv"], "--segments-out "),
        (["network", "absent.csv", "--candidates", "2", "--km-per-day", "0"], "--km-per-day: "),
        (["network", "absent.csv", "--candidates", "2", "--sites-out", f"{MISSING}/s.csv"],
         "--sites-out "),
        (["costs", "absent.csv", "--orders", "absent.csv", "--by", "region"], "--by "),
        (["validate", "absent.csv", "--returns", "keep-all"], "--returns: "),
        # A preset was checked only once the export's headers were read: 'unknown preset
        # 'sapp'', naming neither the option nor the preset meant.
        (["validate", "absent.csv", "--preset", "sapp"],
         "--preset: unknown preset 'sapp' (did you mean 'sap'?); choose one of: sap, odoo, "
         "online-retail"),
        (["costs", "absent.csv", "--orders", "absent.csv", "--preset", "odo"], "--preset: "),
        # Read for nothing without --orders, as --map is refused.
        (["stock", "absent.csv", "--preset", "sap"],
         "--preset names the columns of the --orders export: give --orders too"),
        (["stock", "absent.csv", "--date-format", "day-first"],
         "--date-format reads the dates of the --orders export: give --orders too"),
        (["stock", "absent.csv", "--returns", "drop"],
         "--returns says what becomes of the returns in the --orders export: give --orders too"),
        (["validate", "absent.csv", "--rejects", f"{MISSING}/r.csv"], "--rejects "),
        (["report", "absent.csv", "-o", "report.pdf"], "-o report.pdf: "),
    ],
)  # fmt: skip
def test_usage_errors_come_before_reading_any_input(cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"segchain {args[0]}: Error: {message}"), result.stderr
    assert "absent.csv" not in result.stderr


ORDER_COMMANDS = [
    ["validate", "absent.csv"],
    ["segment", "absent.csv"],
    ["forecast", "absent.csv", "--orders", "absent.csv"],
    ["stock", "absent.csv", "--orders", "absent.csv"],
    ["stock", "absent.csv"],
    ["costs", "absent.csv", "--orders", "absent.csv"],
]
EMPTY_VALUE_ERRORS = {
    "--preset": (
        "--preset: the preset name is empty\n"
        "  hint: an unset shell variable gives an empty value; leave --preset out for none, or "
        "give one of: sap, odoo, online-retail\n"
    ),
    "--map": (
        "--map: the value is empty\n"
        "  hint: an unset shell variable gives an empty value; leave --map out for none, or give "
        "CANONICAL=HEADER, e.g. --map customer_id=KUNNR\n"
    ),
}


@pytest.mark.parametrize("command", ORDER_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("option", sorted(EMPTY_VALUE_ERRORS))
@pytest.mark.parametrize("value", ["", " "], ids=["empty", "blank"])
def test_empty_preset_or_map_is_a_usage_error(cli, command, option, value) -> None:
    """'--preset "$PRESET"' or '--map "$MAP"' of an unset variable: --map '' ran with no
    mapping and --preset '' said "unknown preset ''" with no way out, where an empty --by or
    --models is refused with a hint (session 35)."""
    result = cli(*command, option, value)
    assert result.exit_code == 2, result.stderr
    name = command[0]
    expected = "".join(
        f"segchain {name}: {'Error: ' * (i == 0)}{line}\n"
        for i, line in enumerate(EMPTY_VALUE_ERRORS[option].splitlines())
    )
    assert result.stderr == expected


def test_blank_preset_variable_is_named_as_the_variable(cli, monkeypatch) -> None:
    # An empty SEGCHAIN_PRESET counts as unset (Typer passes None); a blank one is refused.
    monkeypatch.setenv("SEGCHAIN_PRESET", " ")
    result = cli("validate", "absent.csv")
    assert result.exit_code == 2, result.stderr
    assert result.stderr == (
        "segchain validate: Error: $SEGCHAIN_PRESET: the preset name is empty\n"
        "segchain validate:   hint: SEGCHAIN_PRESET is set but blank; unset it (unset "
        "SEGCHAIN_PRESET) or set it to one of: sap, odoo, online-retail\n"
    )
