"""The whole chain as users run it: the installed executable through real shell pipes and make."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("segchain")
STAGE_FILES = (
    "segments.parquet",
    "segment_profile.csv",
    "forecast.parquet",
    "backtest.csv",
    "policy.parquet",
    "assignments.parquet",
    "sites.csv",
    "report.html",
    "costs.parquet",
    "customer_costs.parquet",
)

pytestmark = pytest.mark.skipif(not EXE.exists(), reason="segchain console script not installed")


def sh(command: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample export (fast enough for every stage) and the demo's segment policies."""
    folder = tmp_path_factory.mktemp("pipeline") / "data"
    proc = subprocess.run(
        [
            str(EXE),
            "sample",
            "-o",
            str(folder),
            "--customers",
            "150",
            "--skus",
            "12",
            "--years",
            "2",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    shutil.copy(ROOT / "sample_data" / "segchain.toml", folder / "segchain.toml")
    return folder


# In `make test`, test_the_pipeline_in_the_help_plans_stock_from_the_order_history (test_help.py)
# runs the same four stages through real pipes (the help's pipeline, on a smaller sample) and
# checks the same page; this one, with --items, --config and --quiet on the demo's sample, adds
# about 15 s of CPU (docs/measurements.md) and runs with `pytest -m slow`.
@pytest.mark.slow
def test_pipeline_through_shell_pipes(data: Path, tmp_path: Path) -> None:
    seg = f"'{EXE}'"
    orders = data / "orders.csv"
    command = (
        f"{seg} segment '{orders}' --quiet "
        f"| {seg} forecast --orders '{orders}' --horizon 8 --quiet "
        f"| {seg} stock --items '{data / 'items.csv'}' --config '{data / 'segchain.toml'}' --quiet "
        f"| {seg} report -o report.html"
    )
    proc = sh(command, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    # The inventory section itself, not the note saying why it was skipped ("Inventory: ...").
    assert '<section id="inventory">' in html
    assert "Inventory: " not in html


def test_pipe_stops_with_the_failing_stage_message(data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    proc = sh(f"'{EXE}' segment '{bad}' | '{EXE}' forecast --orders '{bad}'", cwd=tmp_path)
    assert proc.returncode != 0
    assert "missing required columns" in proc.stderr
    assert "Traceback" not in proc.stderr


def run_demo(data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # The project's own Makefile, pointed at the small sample; the install stamp is taken as
    # up to date (-o) since the test already runs inside the installed environment. OUT is
    # given relative to its folder, as `make demo` has it (out/): the stages record the paths
    # they were given in their outputs, so two runs in two folders can write the same bytes.
    return subprocess.run(
        [
            "make",
            "-f",
            str(ROOT / "Makefile"),
            "-o",
            ".venv/.installed-stamp",
            f"SEG={EXE}",
            f"DATA={data}",
            f"OUT={out.name}",
            *extra,
            "demo",
        ],
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def demo(
    data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The demo run once, one stage at a time, for the tests that only read its outputs."""
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = run_demo(data, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


@pytest.fixture(scope="module")
def parallel_demo(
    data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The demo run again on the same inputs, by `make -j2`, in a folder of its own."""
    out = tmp_path_factory.mktemp("demo_j2") / "out"
    return out, run_demo(data, out, "-j2")


def test_makefile_demo_parallel_then_nothing_to_rebuild(
    data: Path, parallel_demo: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    out, first = parallel_demo
    assert first.returncode == 0, first.stdout + first.stderr
    for name in STAGE_FILES:
        assert (out / name).exists(), name
    second = run_demo(data, out)
    assert second.returncode == 0
    assert f"{EXE} " not in second.stdout  # no stage command ran again


def test_chain_twice_is_byte_identical(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
    parallel_demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """A cron job rerun on the same inputs writes the same bytes: no timestamps, seeded steps.
    The two runs are the demo's: one stage at a time, then by `make -j2` in another folder."""
    first, _ = demo
    second, proc = parallel_demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in STAGE_FILES:
        assert (second / name).read_bytes() == (first / name).read_bytes(), (
            f"{name} differs between runs"
        )


def test_makefile_demo_is_remade_when_a_recipe_or_the_code_changes(
    data: Path, demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """A pulled release changes the Makefile and segchain's sources: `make demo` remakes every
    output then (it kept the last release's outputs before), and nothing when neither changed.
    Dry runs (-n) of a copy of the Makefile beside a stand-in source, their times set here."""
    import os

    out, _ = demo
    release = tmp_path / "release"
    (release / "segchain").mkdir(parents=True)
    makefile = release / "Makefile"
    shutil.copy(ROOT / "Makefile", makefile)
    source = release / "segchain" / "stage.py"
    source.write_text("")
    built = min((out / name).stat().st_mtime for name in STAGE_FILES)
    before = (built - 60, built - 60)

    def remade() -> set[str]:
        proc = subprocess.run(
            ["make", "-f", str(makefile), "-o", ".venv/.installed-stamp", f"SEG={EXE}",
             f"DATA={data}", f"OUT={out}", "-n", "demo"],
            cwd=out.parent, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return {line.split()[1] for line in proc.stdout.splitlines() if line.startswith(f"{EXE} ")}

    every = {"validate", "segment", "network", "forecast", "stock", "costs", "report"}
    os.utime(makefile, before)
    os.utime(source, before)
    assert remade() == set()
    os.utime(makefile)  # a recipe changed
    assert remade() == every
    os.utime(makefile, before)
    os.utime(source)  # a stage's code changed
    assert remade() == every


def test_demo_closed_chain_and_its_costs_reconcile_to_the_cent(
    data: Path, demo: tuple[Path, subprocess.CompletedProcess[str]]
) -> None:
    """The demo runs the closed chain, policies exist exactly where the network routes demand
    (plus on-hand-only points, flagged), and every cost total of the demo equals its source
    table's total, computed here from it."""
    import polars as pl

    out, proc = demo
    costs = pl.read_parquet(out / "costs.parquet")
    orders = pl.read_parquet(out / "orders.parquet")
    segments = pl.read_parquet(out / "segments.parquet")
    assignments = pl.read_parquet(out / "assignments.parquet")
    sites = pl.read_csv(out / "sites.csv")
    policy = pl.read_parquet(out / "policy.parquet")
    product = orders.filter(pl.col("flag").fill_null("") != "non_product")
    product = product.filter(pl.col("customer_id").is_in(segments["customer_id"].to_list()))

    def cents(x: float) -> int:
        return round(x * 100)

    assert costs.height == segments["segment"].n_unique()
    assert costs["customers"].sum() == segments.height
    assert cents(costs["revenue"].sum()) == cents(product["amount"].sum())
    assert cents(costs["transport"].sum()) == cents(assignments["transport_cost"].sum())
    open_fixed = sites.filter(pl.col("open"))["fixed_cost"].sum()
    assert cents(costs["warehouse_fixed"].sum()) == cents(open_fixed)
    assert cents(costs["inventory_value"].sum()) == cents(policy["inventory_value"].sum())
    # Handling follows the demo config's rates from the order counts.
    config_rates = {"order": 8.0, "line": 1.2, "return": 6.0}
    assert cents(costs["order_handling"].sum()) == cents(
        costs["orders"].sum() * config_rates["order"] + costs["lines"].sum() * config_rates["line"]
    )
    assert costs["costs_missing"].fill_null("").str.len_chars().max() == 0
    # The sample's money makes sense: serving customers costs a share of revenue, not a multiple.
    share = costs["cost_to_serve"].sum() / costs["revenue"].sum()
    assert 0.05 < share < 0.4, share
    assert costs["profit"].sum() > 0
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Cost to serve and profit" in report and "least profitable customers" in report
    log = proc.stdout + proc.stderr
    assert "reconciled transport: assignments transport_cost" in log
    assert "NOT reconciled" not in log
    # Inventory carrying per segment: the per-segment stock table (per site) x the item's
    # holding rate (the sample states it once per sku) x period / 365.25, to the cent.
    items = pl.read_csv(data / "items.csv", schema_overrides={"sku": pl.String})
    rates = items.filter(pl.col("site").is_null()).select("sku", "holding_rate")
    per_segment = pl.read_parquet(out / "stock_segments.parquet").join(rates, on="sku")
    period = costs["period_days"][0]
    expected = dict(
        per_segment.group_by("segment")
        .agg((pl.col("inventory_value") * pl.col("holding_rate")).sum() * period / 365.25)
        .iter_rows()
    )
    got = dict(costs.select("segment", "inventory_carrying").iter_rows())
    assert set(got) == set(expected)
    for segment, value in got.items():
        assert abs(value - expected[segment]) < 0.005, segment
    _check_closed_chain(data, out, log)


def _served_points(out: Path) -> set[tuple[str, str]]:
    """(site, sku) where the network routes demand, from the assignments and the orders (not
    from the forecast): product lines sold (not postage, not giveaways) by customers that an open
    site serves with a share > 0."""
    import polars as pl

    orders = pl.read_parquet(out / "orders.parquet")
    lanes = pl.read_parquet(out / "assignments.parquet").filter(
        pl.col("site_id").is_not_null(), pl.col("share") > 0
    )
    sold = orders.filter(
        pl.col("quantity") > 0, ~pl.col("flag").fill_null("").is_in(["non_product", "zero_price"])
    )
    pairs = sold.join(lanes.select("customer_id", "site_id"), on="customer_id")
    return set(pairs.select("site_id", "sku").unique().iter_rows())


def _check_closed_chain(data: Path, out: Path, log: str) -> None:
    """The demo runs the closed chain (issue 15): network -> forecast by site -> stock by site,
    with policies exactly where the network routes demand, plus on-hand-only points, and the
    on-hand points without forecast demand flagged."""
    import polars as pl

    echoed = log.replace("\\\n", " ")  # make echoes a recipe's continued lines as written
    commands = [line for line in echoed.splitlines() if line.startswith(str(EXE))]
    order = [line.split()[1] for line in commands]
    assert order.index("network") < order.index("forecast") < order.index("stock")
    assert "--assignments" in next(c for c in commands if c.split()[1] == "forecast")
    assert {"site", "segment", "sku"} <= set(pl.read_parquet(out / "forecast.parquet").columns)
    policy = pl.read_parquet(out / "policy.parquet")
    served = _served_points(out)
    on_hand = pl.read_csv(data / "on_hand.csv", schema_overrides={"sku": pl.String})
    held = set(on_hand.select("site", "sku").iter_rows())
    # Served points the forecast gives no demand (under a billionth of a unit a period, as
    # README's stock section says): with an on-hand row they are stock without demand too.
    forecast = pl.read_parquet(out / "forecast.parquet")
    periods = forecast.get_column("ds").n_unique()
    idle = set(
        forecast.group_by("site", "sku")
        .agg(pl.col("forecast").sum() / periods)
        .filter(pl.col("forecast") < 1e-9)
        .select("site", "sku")
        .iter_rows()
    )
    planned = policy.filter(~pl.col("no_demand"))
    assert set(planned.select("site", "sku").iter_rows()) == served - (held & idle)
    assert set(policy.select("site", "sku").iter_rows()) == served | held
    assert policy.select("site", "sku").n_unique() == policy.height
    # Only open sites that serve demand hold a plan.
    sites = pl.read_csv(out / "sites.csv")
    serving = set(sites.filter(pl.col("open"), pl.col("demand_served") > 0)["site_id"])
    assert set(planned["site"]) == serving
    # On-hand where no demand is routed or forecast: kept, flagged, nothing ordered, no
    # planned stock.
    flagged = policy.filter(pl.col("no_demand"))
    assert set(flagged.select("site", "sku").iter_rows()) == (held - served) | (held & idle)
    assert (flagged["order_now"] == 0).all() and (flagged["inventory_value"] == 0).all()
    assert policy["on_hand"].sum() == on_hand["on_hand"].sum()
    if flagged.height:
        points = f"{flagged.height:,} stocking point{'' if flagged.height == 1 else 's'}"
        assert f"at {points} without forecast demand" in log
    # Each site plans with its own lead time from the items (the sku's plus the transfer).
    items = pl.read_csv(data / "items.csv", schema_overrides={"sku": pl.String})
    own = items.filter(pl.col("site").is_not_null()).select("sku", "site", "lead_time_days")
    default = items.filter(pl.col("site").is_null()).select("sku", "lead_time_days")
    expect = (
        planned.select("site", "sku")
        .join(own, on=["sku", "site"], how="left")
        .join(default, on="sku", suffix="_sku")
        .select("site", "sku", pl.coalesce("lead_time_days", "lead_time_days_sku").alias("lt"))
    )
    got = planned.join(expect, on=["site", "sku"])
    assert got.height == planned.height
    assert (got["lead_time_days"] == got["lt"]).all()


def _report_text(page: str) -> str:
    """The words and numbers a reader sees: the page's text and the charts' text elements."""
    import re

    page = re.sub(r"<(style|head)>.*?</\\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_demo_report_writes_every_number_formatted(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """No `mae 9.151858259554439` or `series 3105` anywhere a reader looks: tables, headlines,
    notes and the charts' labels."""
    from segchain.formatting import raw_numbers

    out, _ = demo
    page = (out / "report.html").read_text(encoding="utf-8")
    text = _report_text(page)
    assert "Reorder list" in text and "<text" in page  # the charts' text is in the page
    assert raw_numbers(text) == []
    assert " nan " not in text.lower() and "None" not in text


def test_demo_report_opens_with_what_to_do_now(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    import polars as pl

    out, _ = demo
    page = (out / "report.html").read_text(encoding="utf-8")
    sections = page.split("<section id=")[1:]
    assert sections[0].startswith('"actions"')
    policy = pl.read_parquet(out / "policy.parquet")
    due = policy.filter(pl.col("order_now") > 0)["sku"].to_list()
    actions = sections[0]
    # Every sku to order now is in the section (the full list), with its description.
    assert all(f"<td>{sku}</td>" in actions for sku in due)
    orders = pl.read_parquet(out / "orders.parquet")
    described = orders.filter(pl.col("sku") == due[0])["description"].drop_nulls()
    assert described.len() and f"<td>{described.mode().sort()[0]}</td>" in actions
    assert "needed by" in actions  # the sites say which promise needs them


def test_demo_report_shows_inventory_by_segment_one_way(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """One inventory-by-segment figure: the per-segment table's allocation, in the inventory
    section and in the cost section alike."""
    import polars as pl

    out, _ = demo
    page = (out / "report.html").read_text(encoding="utf-8")
    inventory = page.split('<section id="inventory">')[1].split("</section>")[0]
    assert (
        "by main segment" not in inventory
        and "largest_segment" not in inventory.split("holding the most value")[0]
    )
    shares = pl.read_parquet(out / "stock_segments.parquet")
    by_seg = shares.group_by("segment").agg(pl.col("inventory_value").sum())
    top = by_seg.sort("inventory_value", descending=True).row(0)
    assert f"<td>{top[0]}</td>" in inventory
    assert f"{top[1]:,.0f}" in inventory


# ---- the README's lists of the columns each stage writes, against the demo's tables ----------

# (table of the demo, where its README list starts, where it ends, names in that list that are
# not columns of the table: values, inputs, another table's columns)
README_COLUMN_LISTS = [
    ("segments.parquet", "One row per customer: `customer_id", "(see *Coordinates* below)", ()),
    (
        "segment_profile.csv",
        "- `--profile FILE`: one row per segment",
        "(else over every customer).",
        ("clv", "clv_per_customer"),  # a profile written before; stderr's mean
    ),
    ("forecast.parquet", "- **Output** (Nixtla long format)", "the standard deviation", ()),
    (
        "backtest.csv",
        "moving averages. Columns: `unique_id",
        "mae`.",
        ("segment", "overall", "sku", "total", "comparison"),  # scope values
    ),
    (
        "policy.parquet",
        "One row per stocking point (`sku`",
        "inventory_position, order_now`",
        ("normal", "poisson", "negbin", "gamma"),  # distribution values
    ),
    ("stock_segments.parquet", "- `--segments-out FILE` writes", "reserve level)", ()),
    ("assignments.parquet", "Outputs: `customer_id", "; `--sites-out`", ()),
    # annual_fixed_cost: written only for fixed costs given per year (the demo's are the span's).
    ("sites.csv", "`--sites-out`: `site_id", "(`city` from", ("annual_fixed_cost",)),
    (
        "costs.parquet",
        "One row per segment (ordered by `segment_rank`)",
        "`--compare-uniform`).",
        (
            "segment_rank",
            "customer_id",
            "unit_cost",
            "cost_per_order",
            "cost_per_line",
            "cost_per_return",
            "transport_cost",
            "fixed_cost",
            "annual_fixed_cost",  # a --sites header costs reads (a year's fixed cost)
            "max_delivery_days",  # the setting whose absence leaves delivery_promise_* empty
        ),
    ),
    (
        "customer_costs.parquet",
        "One row per segment (ordered by `segment_rank`)",
        "`--compare-uniform`).",
        (
            "segment_rank",
            "customers",
            "costed_revenue",  # per segment: the revenue its profit counts
            "unit_cost",
            "cost_per_order",
            "cost_per_line",
            "cost_per_return",
            "transport_cost",
            "fixed_cost",
            "annual_fixed_cost",  # a --sites header costs reads (a year's fixed cost)
            "max_delivery_days",
            "delivery_promise_transport",
            "delivery_promise_fixed",
            "delivery_promise_cost",
            "service_promise_inventory",
            "service_promise_cost",
        ),
    ),
]


def readme_column_list(start: str, end: str) -> set[str]:
    """The names in backticks between ``start`` and the next ``end`` of the README, lists such
    as `` `lat, lon, geo_precision` `` split and `[site]` unbracketed."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(start) == 1, f"the README no longer has one {start!r}"
    begin = text.index(start)
    excerpt = text[begin : text.index(end, begin + len(start)) + len(end)]
    names = set()
    for span in re.findall(r"`([^`]+)`", excerpt):
        for part in span.split(","):
            name = part.strip().strip("[]")
            if re.fullmatch(r"[a-z][a-z0-9_]*(?:-[a-z0-9]+)*", name):
                names.add(name)
    return names


@pytest.mark.parametrize(
    ("table", "start", "end", "not_columns"),
    README_COLUMN_LISTS,
    ids=[case[0] for case in README_COLUMN_LISTS],
)
def test_readme_names_every_column_the_demo_writes_and_no_other(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
    table: str,
    start: str,
    end: str,
    not_columns: tuple[str, ...],
) -> None:
    """The README is the reference for column names as built (a user's next tool reads them):
    its list of each stage's columns names every column the demo's table has, and each name it
    gives is one of them. It lacked the segment profile's segment_rank, share_customers and
    share_revenue, and every column of the backtest but backtest_abs_error and backtest_actual."""
    import re

    import polars as pl

    out, _ = demo
    path = out / table
    columns = pl.read_parquet(path).columns if table.endswith(".parquet") else (
        pl.read_csv(path, n_rows=1).columns
    )  # fmt: skip
    documented = readme_column_list(start, end)
    written = set(columns)
    if table in ("forecast.parquet", "backtest.csv"):
        # "the `--by` columns" (segment, sku, and site for the demo's routed forecast), and one
        # interval pair per --level: forecast-lo-80, forecast-hi-80, ...
        written -= {"segment", "sku", "site"}
        written = {re.sub(r"^(forecast-(?:lo|hi))-\d+$", r"\1-80", c) for c in written}
    assert not written - documented, f"{table}: the README does not name {written - documented}"
    named = documented - set(not_columns)
    assert not named - written, f"{table}: the README names {named - written}, not written"


@pytest.mark.parametrize(
    ("command", "table"),
    [("segment", "segments.parquet"), ("network", "assignments.parquet")],
)
def test_help_names_every_column_the_demo_writes(
    demo: tuple[Path, subprocess.CompletedProcess[str]], command: str, table: str
) -> None:
    """A command's --help, which lists the columns it writes, names each column of the demo's
    table: segment's left out rfm's r_score, f_score and m_score."""
    import re

    import polars as pl

    out, _ = demo
    help_text = subprocess.run(
        [str(EXE), command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "NO_COLOR": "1"},
    ).stdout
    named = set(re.findall(r"[a-z][a-z0-9_]*", help_text.split("Example")[0]))
    missing = set(pl.read_parquet(out / table).columns) - named
    assert not missing, f"segchain {command} --help does not name {sorted(missing)}"
