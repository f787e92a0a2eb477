"""Feedback on stderr: heartbeat lines in logs, timing line, --quiet, the command prefix, -V."""

from __future__ import annotations

import io
import re
import time

import pytest

from segchain.cli.progress import Work, duration


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (42.4, "42s"), (130, "2m10s"), (3600 + 5 * 60, "1h05m")]
)
def test_duration_reads_like_a_clock(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_heartbeat_line_counts_series_and_extrapolates_the_step() -> None:
    clock = _Clock()
    work = Work("forecast", "forecasting", unit="series", stream=io.StringIO(), terminal=False,
                clock=clock, quiet=True)  # fmt: skip
    with work:
        work.update("backtesting models", 0, 7155)
        assert work.line() == "segchain forecast: backtesting models: 0 of 7,155 series, 0s elapsed"
        clock.now = 130.0
        work.update("backtesting models", 3600, 7155)
        # 130 s for 3,600 series: the 3,555 left take 130 / 3600 x 3555 = 128.4 s.
        assert work.line() == (
            "segchain forecast: backtesting models: 3,600 of 7,155 series, 2m10s elapsed, "
            "about 2m08s left in this step"
        )
        # 60 s on without news: those 60 s are spent from the estimate (128.4 - 60 = 68.4 s).
        clock.now = 190.0
        assert work.line().endswith(", 3m10s elapsed, about 1m08s left in this step")


def test_heartbeat_drops_its_estimate_once_half_of_it_passed_without_news() -> None:
    """On 188,976 series the heartbeat counted its estimate down to 'about 2s left' minutes
    before the step ended: its units cost unequally (statsforecast groups, the global model)
    and the work after the last one is not counted. An estimate that half ran out without a
    unit done rests on stale news: it is not shown."""
    clock = _Clock()
    work = Work("forecast", "forecasting", unit="series", stream=io.StringIO(), terminal=False,
                clock=clock, quiet=True)  # fmt: skip
    with work:
        work.update("backtesting models", 0, 200)
        clock.now = 100.0
        work.update("backtesting models", 100, 200)  # 100 s for 100 series: 100 s left
        clock.now = 140.0  # 40 s without news: 60 s left, still more than half
        assert work.line().endswith(", 2m20s elapsed, about 1m00s left in this step")
        clock.now = 160.0  # 60 s without news: more than half the estimate gone
        assert work.line() == (
            "segchain forecast: backtesting models: 100 of 200 series, 2m40s elapsed"
        )
        clock.now = 198.0  # where the countdown said 'about 2s left'
        assert "left" not in work.line()
        clock.now = 210.0
        work.update("backtesting models", 150, 200)  # news: 210 s for 150, 70 s for 50
        assert work.line().endswith(", 3m30s elapsed, about 1m10s left in this step")


def test_heartbeat_gives_no_estimate_before_half_of_the_step_is_done() -> None:
    """On the whole Complete Journey export the final forecasts' first group, 84 of 188,976
    series in 0.7 s, made the heartbeat say 'about 26m18s left in this step' of a step that took
    4 minutes: its groups of series cost unequally (per series, a small group's start-up costs
    most) and 84 series are no sample of the rest. The time left is now extrapolated once half
    of the step's series are done, and not before."""
    clock = _Clock()
    work = Work("forecast", "forecasting", unit="series", stream=io.StringIO(), terminal=False,
                clock=clock, quiet=True)  # fmt: skip
    with work:
        clock.now = 990.0
        work.update("final forecasts", 0, 188_976)
        clock.now = 990.7
        work.update("final forecasts", 84, 188_976)
        clock.now = 1020.0
        assert work.line() == (
            "segchain forecast: final forecasts: 84 of 188,976 series, 17m00s elapsed"
        )
        clock.now = 1100.0
        work.update("final forecasts", 94_000, 188_976)  # under half: still no estimate
        assert "left" not in work.line()
        clock.now = 1150.0
        work.update("final forecasts", 100_000, 188_976)  # 160 s for 100,000: 142 s for the rest
        assert work.line().endswith(", 19m10s elapsed, about 2m22s left in this step")


def test_heartbeat_without_a_total_says_only_what_runs_and_for_how_long() -> None:
    clock = _Clock()
    with Work("network", "solving the network", stream=io.StringIO(), terminal=False,
              clock=clock, quiet=True) as work:  # fmt: skip
        clock.now = 95.0
        assert work.line() == "segchain network: solving the network, 1m35s elapsed"


def test_heartbeat_lines_are_written_while_work_runs_when_stderr_is_a_file() -> None:
    stream = io.StringIO()
    with Work("segment", "fitting CLV", stream=stream, terminal=False, interval=0.02):
        time.sleep(0.2)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3
    assert all(re.fullmatch(r"segchain segment: fitting CLV, \d+s elapsed", x) for x in lines[:-1])
    assert re.fullmatch(r"segchain segment: fitting CLV took \d+s", lines[-1])


def test_quiet_work_writes_nothing() -> None:
    stream = io.StringIO()
    with Work("segment", "fitting CLV", stream=stream, terminal=False, interval=0.01, quiet=True):
        time.sleep(0.05)
    assert stream.getvalue() == ""


@pytest.fixture
def slow_network(monkeypatch):
    """network's stage, 0.3 s slower: long enough for heartbeats 0.05 s apart."""
    import segchain.network as net

    real = net.network

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(net, "network", slow)
    # Below the 1 s that $SEGCHAIN_HEARTBEAT accepts: the default, patched.
    monkeypatch.delenv("SEGCHAIN_HEARTBEAT", raising=False)
    monkeypatch.setattr("segchain.cli.progress.HEARTBEAT_SECONDS", 0.05)


@pytest.fixture
def network_inputs(tmp_path):
    customers = tmp_path / "c.csv"
    customers.write_text("customer_id,demand,lat,lon\nA,1,0,0\nB,1,,\n")
    sites = tmp_path / "s.csv"
    sites.write_text("site_id,lat,lon\nS,0,1\n")
    return customers, sites


def test_cli_heartbeat_lines_and_timing_in_a_log(cli, slow_network, network_inputs) -> None:
    customers, sites = network_inputs
    result = cli("network", str(customers), "--sites", str(sites), "--skip-unlocated")
    assert result.exit_code == 0, result.stderr
    beats = re.findall(r"^segchain network: solving the network, \d+s elapsed$", result.stderr,
                       re.M)  # fmt: skip
    assert len(beats) >= 2
    assert re.search(r"^segchain network: solving the network took \d+s$", result.stderr, re.M)


def test_cli_messages_carry_the_command_prefix(cli, network_inputs) -> None:
    customers, sites = network_inputs
    result = cli("network", str(customers), "--sites", str(sites), "--skip-unlocated")
    assert (
        f"segchain network: Warning: CUSTOMERS {customers}: 1 customer without coordinates left out"
        in result.stderr
    )
    assert "segchain network: wrote 2 assignments to stdout (csv)" in result.stderr


def test_cli_quiet_prints_one_line_counting_the_warnings(cli, network_inputs) -> None:
    customers, sites = network_inputs
    result = cli("network", str(customers), "--sites", str(sites), "--skip-unlocated", "-q")
    assert result.exit_code == 0
    assert result.stderr == (
        "segchain network: 1 warning not shown (--quiet); run without --quiet to see them\n"
    )


def test_cli_quiet_without_warnings_is_silent(cli, slow_network, network_inputs, tmp_path) -> None:
    customers, sites = network_inputs
    customers.write_text("customer_id,demand,lat,lon\nA,1,0,0\n")
    result = cli("network", str(customers), "--sites", str(sites), "--quiet",
                 "-o", str(tmp_path / "a.csv"))  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr == ""


def test_cli_short_version(cli) -> None:
    from segchain import __version__

    result = cli("-V")
    assert result.exit_code == 0
    assert result.stdout == f"segchain {__version__}\n"


def test_cli_every_stderr_line_of_a_run_carries_the_prefix(cli, network_inputs) -> None:
    # The promise table and the totals are several lines each: in a `make -j2` log each of them
    # must still say which command wrote it.
    customers, sites = network_inputs
    result = cli("network", str(customers), "--sites", str(sites), "--skip-unlocated")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any("delivery promise by segment" in line for line in lines)
    assert len(lines) >= 6
    assert all(line.startswith("segchain network: ") for line in lines), result.stderr


def test_cli_errors_carry_the_prefix_on_every_line(cli, tmp_path) -> None:
    result = cli("forecast", "x.csv", "--orders", "o.csv", "-o", str(tmp_path / "no" / "f.csv"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"segchain forecast: Error: -o {tmp_path / 'no' / 'f.csv'}: folder "
        f"'{tmp_path / 'no'}' does not exist\n"
        "segchain forecast:   hint: create it first\n"
    )


@pytest.mark.parametrize(
    ("args", "head", "first"),
    [
        (
            ("forecast", "x.csv", "--horizon", "abc"),
            "segchain forecast: ",
            "segchain forecast: Error: Invalid value for '--horizon': ",
        ),
        (
            ("stock", "x.csv", "--no-such-option"),
            "segchain stock: ",
            "segchain stock: Error: No such option: --no-such-option",
        ),
        (("segmnet", "x.csv"), "segchain: ", "segchain: Error: No such command 'segmnet'"),
        # A flag given a value: the parser's message has no command of its own, and came as
        # 'segchain: Error: ...' without a hint (audit of session 58).
        (
            ("segment", "x.csv", "--quiet=yes"),
            "segchain segment: ",
            "segchain segment: Error: Option '--quiet' does not take a value.",
        ),
    ],
)
def test_cli_parser_errors_are_prefixed_lines_not_a_panel(cli, args, head, first) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(first), result.stderr
    assert all(line.startswith(head) for line in lines), result.stderr
    assert any(line.endswith(" -h lists the options") for line in lines)
    assert "╭" not in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def noisy_network(monkeypatch):
    """network as a library that warns: numpy's RuntimeWarning and a logger's warning."""
    import logging

    import numpy as np

    import segchain.network as net

    real = net.network

    def noisy(*args, **kwargs):
        with np.errstate(divide="warn"):
            np.log(np.zeros(1))  # RuntimeWarning: divide by zero encountered in log
        logging.getLogger("somelib.core").warning("falling back to %s", "a slower path")
        return real(*args, **kwargs)

    monkeypatch.setattr(net, "network", noisy)


def test_cli_library_warnings_carry_the_prefix(cli, noisy_network, network_inputs) -> None:
    customers, sites = network_inputs
    result = cli("network", str(customers), "--sites", str(sites), "--skip-unlocated")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("segchain network: ") for line in lines), result.stderr
    assert re.search(
        r"^segchain network: Warning: divide by zero encountered in log \(RuntimeWarning, "
        r"tests/test_feedback\.py:\d+\)$",
        result.stderr,
        re.M,
    ), result.stderr
    assert (
        "segchain network: Warning: falling back to a slower path (somelib.core)\n" in result.stderr
    )


def test_cli_quiet_counts_library_warnings(cli, noisy_network, network_inputs) -> None:
    customers, sites = network_inputs
    result = cli("network", str(customers), "--sites", str(sites), "--skip-unlocated", "-q")
    assert result.exit_code == 0
    # the stage's own warning (a customer left out) and the library's two
    assert result.stderr == (
        "segchain network: 3 warnings not shown (--quiet); run without --quiet to see them\n"
    )


def test_heartbeat_estimates_a_step_resumed_from_its_units_since_it_resumed() -> None:
    """A step resumed after work of its own (forecast's final forecasts after the global model's
    refit: 'final forecasts', 12 of 112 series already done) extrapolates the series done since
    it resumed, not every series done of the step in that time."""
    clock = _Clock()
    work = Work("forecast", "forecasting", unit="series", stream=io.StringIO(), terminal=False,
                clock=clock, quiet=True)  # fmt: skip
    with work:
        work.update("final forecasts", 0, 112)
        work.update("final forecasts: fitting the global model", 0, 0)
        clock.now = 300.0
        assert work.line() == (
            "segchain forecast: final forecasts: fitting the global model, 5m00s elapsed"
        )
        work.update("final forecasts", 12, 112)
        clock.now = 350.0
        work.update("final forecasts", 62, 112)
        # 50 s for 50 series: the 50 left take 50 s (not 50 / 62 x 50 = 40 s).
        assert work.line().endswith(", 5m50s elapsed, about 50s left in this step")


def test_heartbeat_says_the_batch_that_runs_and_keeps_the_steps_estimate() -> None:
    """On 298 skus daily the line sat at 'backtesting models: 114 of 298 series' for about 2
    minutes while one statsforecast batch ran, the smooth skus' models all at once: the stage
    now says the batch after the step's name, which is the same step while its count runs on,
    its rate kept (session 52; it started the step's rate anew and gave no time left)."""
    clock = _Clock()
    work = Work("forecast", "forecasting", unit="series", stream=io.StringIO(), terminal=False,
                clock=clock, quiet=True)  # fmt: skip
    with work:
        work.update("backtesting models", 0, 10)
        clock.now = 60.0
        work.update("backtesting models", 6, 10)
        work.update(
            "backtesting models: the next 4 series in one batch (AutoETS, AutoTheta)", 6, 10
        )
        clock.now = 70.0
        # 60 s for 6 series: the 4 left take 40 s, 10 of them passed since the last done.
        assert work.line() == (
            "segchain forecast: backtesting models: the next 4 series in one batch (AutoETS, "
            "AutoTheta): 6 of 10 series, 1m10s elapsed, about 30s left in this step"
        )
        clock.now = 100.0
        work.update("backtesting models", 10, 10)
        assert (
            work.line() == "segchain forecast: backtesting models: 10 of 10 series, 1m40s elapsed"
        )
