"""Settings declared once (issue 12, findings 11, 12, 20, 27): config file, environment and
command line checked by the same rules; errors name their source and exit 2."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from segchain import config
from segchain.errors import UsageError


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[netwrok]\nkm_per_day = 300\n",
            "s.toml: unknown table [netwrok] (did you mean 'network'?)",
        ),
        (
            "[network]\nkmperday = 300\n",
            "s.toml [network]: unknown setting 'kmperday' (did you mean 'km_per_day'?)",
        ),
        (
            '[network]\nkm_per_day = "abc"\n',
            "s.toml [network] km_per_day: must be a number >= 1, got 'abc'",
        ),
        (
            '[network]\nopen = "three"\n',
            "s.toml [network] open: must be a whole number >= 1, got 'three'",
        ),
        (
            '[stock]\nreview_days = "weekly"\n',
            "s.toml [stock] review_days: must be a number of days from 0.01 (about a quarter of "
            "an hour) to 3660, got 'weekly'",
        ),
        ('[segment]\nk = "abc"\n', "s.toml [segment] k: must be a whole number >= 2, got 'abc'"),
        ("[stock]\nreview_days = inf\n", "s.toml [stock] review_days: must be a finite number"),
        (
            '[network]\nallow_split = "maybe"\n',
            "s.toml [network] allow_split: must be true or false",
        ),
        ('[segment]\nmethod = "kmean"\n', "(did you mean 'kmeans'?)"),
        (
            '[segments."A"]\nmax_delivery_days = nan\n',
            "max_delivery_days must be a finite number >= 0",
        ),
        ('[segments."A"]\nservice_levle = 0.9\n', "(did you mean 'service_level'?)"),
        ('preset = "sapp"\n', "s.toml: unknown preset 'sapp'"),
        ("[stock]\nsimulate = 100000000\n", "s.toml [stock] simulate: must be at most 100,000"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        config.load_config(write_config(tmp_path, text))
    assert message in str(info.value).replace(str(tmp_path) + "/", "")


def test_config_lists_every_problem_at_once(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[network]\nkm_per_day = "x"\ngap = 7\n[stokc]\n')
    with pytest.raises(UsageError) as info:
        config.load_config(path)
    assert len(str(info.value).splitlines()) == 3


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("network", '[network]\nkm_per_day = "abc"\n'),
        ("stock", '[stock]\nreview_days = "weekly"\n'),
        ("segment", '[segment]\nk = "abc"\n'),
    ],
)
def test_wrong_type_config_values_exit_2_without_traceback(
    cli, tmp_path: Path, command: str, text: str
) -> None:
    path = write_config(tmp_path, text)
    result = cli(command, str(tmp_path / "in.csv"), "--config", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"segchain {command}: Error: {path} [")


def test_config_value_is_not_blamed_on_the_option(cli, tmp_path: Path) -> None:
    path = write_config(tmp_path, "[stock]\nservice_level = 1.5\n")
    result = cli("stock", "x.csv", "--config", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"segchain stock: Error: {path} [stock] service_level: ")
    assert "--service-level" not in result.stderr


def test_environment_value_names_the_variable(cli, monkeypatch) -> None:
    monkeypatch.setenv("SEGCHAIN_KM_PER_DAY", "0")
    result = cli("network", "x.csv", "--candidates", "2")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain network: Error: $SEGCHAIN_KM_PER_DAY: must be a number >= 1, got 0.0"
    )


def test_config_folder_is_named_as_a_folder(cli, tmp_path: Path) -> None:
    result = cli("segment", "x.csv", "--config", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain segment: Error: --config {tmp_path}: is a folder, not a config file"
    )


def test_config_device_is_refused_without_reading_it(cli) -> None:
    result = cli("segment", "x.csv", "--config", "/dev/zero")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "segchain segment: Error: --config /dev/zero: is a device, not a config file"
    )


def test_missing_config_from_environment_names_the_variable(
    cli, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEGCHAIN_CONFIG", str(tmp_path / "nope.toml"))
    result = cli("segment", "x.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"segchain segment: Error: $SEGCHAIN_CONFIG {tmp_path / 'nope.toml'}: config file does "
        "not exist"
    )


@pytest.mark.parametrize(
    ("args", "variable"),
    [
        (["segment", "x.csv"], "SEGCHAIN_CONFIG"),
        (["network", "s.csv"], "SEGCHAIN_CONFIG"),
        (["network", "s.csv"], "SEGCHAIN_GEO"),
    ],
)
@pytest.mark.parametrize("value", [" ", "\t"])
def test_a_blank_file_name_from_the_environment_names_the_variable(
    cli, monkeypatch, tmp_path: Path, args, variable, value
) -> None:
    """SEGCHAIN_CONFIG=' ' was refused as '--config: the file name is empty', an option the
    command line did not have."""
    monkeypatch.setenv(variable, value)
    result = cli(*args, "-o", "o.csv")
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain {args[0]}: Error: ${variable}: the file name is empty\n"
        f"segchain {args[0]}:   hint: {variable} is set but blank; unset it "
        f"(unset {variable}) or set it to the file's path\n"
    )
    assert not (tmp_path / "o.csv").exists()


def test_binary_config_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b"\x00\x01\x02")
    with pytest.raises(UsageError, match="binary file"):
        config.load_config(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("stock", "x.csv", "--review-days", "inf"),
            "--review-days: must be a finite number",
        ),
        (
            ("stock", "x.csv", "--simulate", "100000000"),
            "--simulate: must be at most 100,000",
        ),
        (
            # A whole number's bound in full: '4.29497e+09' read as less than 4294970000.
            ("stock", "x.csv", "--seed", "4294967296"),
            "--seed: must be at most 4,294,967,295, got 4294967296",
        ),
        (
            ("network", "x.csv", "--max-points", "1000000000"),
            "--max-points: must be at most 10,000,000, got 1000000000",
        ),
        (
            ("stock", "x.csv", "--lead-time-days", "nan"),
            "--lead-time-days: must be a finite",
        ),
        (
            ("forecast", "x.csv", "--orders", "o.csv", "--horizon", "100000"),
            "--horizon: at most 522 periods of W (ten years ahead), got 100,000",
        ),
        (
            ("forecast", "x.csv", "--orders", "o.csv", "--horizon", "1000"),
            "--horizon: at most 522 periods of W (ten years ahead), got 1,000",
        ),
        (
            ("network", "x.csv", "--candidates", "2", "--gap", "nan"),
            "--gap: must be a finite",
        ),
    ],
)
def test_absurd_command_line_values_exit_2(cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"segchain {args[0]}: Error: {message}")


def test_every_declared_table_is_accepted(tmp_path: Path) -> None:
    cfg = config.parse_config({name: {} for name in config.SETTINGS})
    assert set(cfg.sections) == set(config.SETTINGS)


def test_policy_for_no_segment_is_reported(cli, tmp_path: Path) -> None:
    path = write_config(tmp_path, '[segments."Champins"]\nmax_delivery_days = 1\n')
    customers = tmp_path / "c.csv"
    pl.DataFrame(
        {
            "customer_id": ["1", "2"],
            "segment": ["Champions", "Lost"],
            "quantity": [1.0, 2.0],
            "lat": [48.1, 52.5],
            "lon": [11.6, 13.4],
        }
    ).write_csv(customers)
    result = cli(
        "network",
        str(customers),
        "--candidates",
        "1",
        "--config",
        str(path),
        "-o",
        str(tmp_path / "a.csv"),
    )
    assert result.exit_code == 0, result.stderr
    assert (
        f'Warning: {path} [segments."Champins"] matches no segment of the input '
        "(did you mean 'Champions'?); its policy is not used"
    ) in result.stderr


def test_every_setting_a_command_reads_is_declared() -> None:
    """A setting read through setting() but not declared would make its config key unknown."""
    import re
    from dataclasses import fields

    from segchain.forecast.options import ForecastParams
    from segchain.network import NetworkParams

    root = Path(config.__file__).parent
    used = {
        (m.group(1), m.group(2))
        for path in root.rglob("*.py")
        for m in re.finditer(r'setting\(\s*\w+,\s*cfg,\s*"(\w+)",\s*"(\w+)"', path.read_text())
    }
    used |= {("forecast", f.name) for f in fields(ForecastParams)}
    used |= {("network", f.name) for f in fields(NetworkParams)}
    assert used, "no setting() calls found"
    missing = sorted(f"[{t}] {k}" for t, k in used if k not in config.SETTINGS.get(t, {}))
    assert not missing
