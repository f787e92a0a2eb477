"""``segchain segment`` through the CLI runner: outputs, stderr summary, exit codes and errors."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

from segchain.tableio import read_metadata

HEADER = (
    "customer_id,segment,segment_rank,recency_days,frequency,monetary,first_order,last_order,"
    "tenure_days,avg_order_value,quantity,lines,r_score,f_score,m_score"
)


def test_segment_cli_writes_one_row_per_customer_to_stdout(cli, orders_csv: Path):
    result = cli("segment", str(orders_csv))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    # 0001: 2 x 10 + 5.50; 0002: 3 x 10 - 1 x 10 returned; 0003: postage excluded, zero price.
    df = pl.read_csv(io.StringIO(result.stdout), schema_overrides={"customer_id": pl.String})
    assert df.select("customer_id", "monetary", "frequency").rows() == [
        ("0001", 25.5, 1),
        ("0002", 20.0, 1),
        ("0003", 0.0, 1),
    ]


def test_segment_cli_warns_of_an_as_of_far_after_the_last_order(cli, orders_csv: Path):
    """--as-of 2999-12-31 gave every customer a recency of 356,408 days or more without a
    word; warned (the lines run to 2024-03-09), and still written: a later as-of is normal."""
    result = cli("segment", str(orders_csv), "--as-of", "2999-12-31", "-o", "segments.csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "segchain segment: Warning: --as-of 2999-12-31 is 356,408 days after the last order "
        "(2024-03-09): every customer's recency_days and tenure_days are at least that"
    ) in result.stderr
    assert pl.read_csv("segments.csv")["recency_days"].min() >= 356_408


def test_segment_cli_prints_reconciliation_and_profile(cli, orders_csv: Path):
    result = cli("segment", str(orders_csv), "-o", "segments.csv")
    assert "  read 14 = used 6 + rejected 8" in result.stderr
    assert "  not counted in the features: 1 non-product line\n" in result.stderr
    assert "3 customers in 3 segments (rfm, as of 2024-03-10)" in result.stderr
    assert "wrote 3 customers to segments.csv (csv)" in result.stderr


def test_segment_cli_quiet_prints_no_table(cli, orders_csv: Path):
    result = cli("segment", str(orders_csv), "-o", "s.csv", "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_segment_cli_profile_file(cli, orders_csv: Path, tmp_path: Path):
    result = cli("segment", str(orders_csv), "-o", "s.parquet", "--profile", "p.csv")
    assert result.exit_code == 0, result.stderr
    prof = pl.read_csv(tmp_path / "p.csv")
    assert prof.columns[:5] == [
        "segment",
        "segment_rank",
        "customers",
        "share_customers",
        "share_revenue",
    ]
    assert prof.get_column("customers").sum() == 3
    assert prof.get_column("share_revenue").sum() == pytest.approx(1.0)


def test_segment_cli_parquet_carries_provenance(cli, orders_csv: Path, tmp_path: Path):
    result = cli("segment", str(orders_csv), "-o", "s.parquet", "--method", "abc-xyz")
    assert result.exit_code == 0, result.stderr
    meta = read_metadata(tmp_path / "s.parquet")
    assert meta["stage"] == "segments"
    assert meta["params"]["method"] == "abc-xyz"
    assert meta["inputs"] == {"orders": 14, "customers": 3, "customers_rejected": 0}


def test_segment_cli_previous_reports_changed_customers(cli, orders_csv: Path, tmp_path: Path):
    assert cli("segment", str(orders_csv), "-o", "first.csv").exit_code == 0
    first = pl.read_csv(tmp_path / "first.csv", schema_overrides={"customer_id": pl.String})
    first.with_columns(
        segment=pl.when(pl.col("customer_id") == "0001").then(pl.lit("Lost")).otherwise("segment")
    ).write_csv(tmp_path / "prev.csv")
    result = cli("segment", str(orders_csv), "-o", "again.csv", "--previous", "prev.csv")
    assert result.exit_code == 0, result.stderr
    assert "1 customer changed segment since prev.csv" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--method", "dbscan"],
            2,
            "segchain segment: Error: --method: must be one of rfm, kmeans, abc-xyz, got "
            "'dbscan'\n",
        ),
        (
            ["--as-of", "yesterday"],
            2,
            "segchain segment: Error: --as-of: must be a date like 2024-03-31, got 'yesterday'\n",
        ),
        (
            ["--k", "3"],
            2,
            "segchain segment: Error: --k applies to --method kmeans only (got --method rfm)\n",
        ),
        (
            ["--abc-cutoffs", "80"],
            2,
            "segchain segment: Error: --abc-cutoffs: must be two numbers separated by a comma, "
            "e.g. 0.8,0.95, "
            "got '80'\n",
        ),
        (
            ["--as-of", "2024-01-01"],
            1,
            "segchain segment: Error: no order lines before --as-of 2024-01-01: the orders run "
            "from 2024-03-01 to "
            "2024-03-09\nsegchain segment:   hint: pick an --as-of after 2024-03-01\n",
        ),
    ],
)
def test_segment_cli_errors_exact_text(cli, orders_csv: Path, args, code, message):
    result = cli("segment", str(orders_csv), "-o", "s.csv", "--quiet", *args)
    assert result.exit_code == code
    assert result.stderr.endswith(message)
    assert not Path("s.csv").exists()


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        # 'or use a wider --as-of window' was said without --as-of too.
        ([], "check the customer_id mapping"),
        (
            ["--as-of", "2024-03-03"],
            "check the customer_id mapping; or pick a later --as-of: only the lines before it "
            "count",
        ),
    ],
)
def test_segment_cli_one_customer_hint_names_as_of_only_when_given(cli, tmp_path: Path, args, hint):
    orders = tmp_path / "one.csv"
    # C2 buys only after the --as-of: one customer either way.
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n1,2024-03-01,C1,A,1,2\n"
        + ("2,2024-03-05,C2,A,1,2\n" if args else "")
    )
    result = cli("segment", str(orders), "-o", "s.csv", "--quiet", *args)
    assert result.exit_code == 1
    assert result.stderr.endswith(f"segchain segment:   hint: {hint}\n")
    assert not Path("s.csv").exists()


def test_segment_cli_missing_previous_file(cli, orders_csv: Path):
    result = cli("segment", str(orders_csv), "--previous", "nope.csv", "--quiet")
    assert result.exit_code == 1
    assert "nope.csv" in result.stderr


def test_segment_cli_abc_cutoffs_in_percent(cli, orders_csv: Path, tmp_path: Path):
    result = cli(
        "segment",
        str(orders_csv),
        "-o",
        "s.parquet",
        "--method",
        "abc-xyz",
        "--abc-cutoffs",
        "50,90",
    )
    assert result.exit_code == 0, result.stderr
    assert read_metadata(tmp_path / "s.parquet")["params"]["abc_cutoffs"] == [0.5, 0.9]


def test_segment_cli_places_customers_by_postal_code_city_or_country(cli, tmp_path: Path):
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price,postal_code,city,country\n"
        "1,2024-01-02,A,X,1,10,02134,,USA\n"
        "2,2024-01-03,B,X,1,10,,Houston,USA\n"
        "3,2024-01-04,C,X,1,10,,,United Kingdom\n"
        "4,2024-01-05,D,X,1,10,,,Unspecified\n"
    )
    geo = tmp_path / "zips.csv"
    geo.write_text("zip,city,state,longitude,latitude\n02134,Allston,MA,-71.13,42.35\n")
    out = tmp_path / "segments.parquet"
    result = cli("segment", str(orders), "--geo", str(geo), "--geo-country", "US", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert (
        "  located 3 of 4 customers (exact 0, postal 1, city 1, country 1); not located 1 "
        "(unknown country 'Unspecified' 1)\n" in result.stderr
    )
    df = pl.read_parquet(out)
    assert df["geo_precision"].to_list() == ["postal", "city", "country", None]
    assert df.filter(pl.col("customer_id") == "A").select("lat", "lon").row(0) == (42.35, -71.13)
    assert read_metadata(out)["geo_precision"] == {
        "exact": 0,
        "postal": 1,
        "city": 1,
        "country": 1,
        "not_located": 1,
    }


def test_segment_cli_geo_table_without_country_is_a_usage_error(cli, orders_csv, tmp_path):
    geo = tmp_path / "zips.csv"
    geo.write_text("zip,longitude,latitude\n02134,-71.13,42.35\n")
    result = cli("segment", str(orders_csv), "--geo", str(geo))
    assert result.exit_code == 2
    assert "has no country column" in result.stderr


def test_segment_cli_provenance_is_what_the_stage_was_given(cli, orders_csv: Path, tmp_path):
    # Options from the config file (not the command line) reach both the stage and the
    # provenance, in the form the stage was given them (cutoffs in percent become shares).
    cfg = tmp_path / "segchain.toml"
    cfg.write_text(
        '[segment]\nmethod = "abc-xyz"\nabc_cutoffs = [70, 90]\nclv_horizon = 90\nseed = 7\n'
    )
    out = tmp_path / "s.parquet"
    result = cli("segment", str(orders_csv), "--config", str(cfg), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    params = read_metadata(out)["params"]
    assert params["method"] == "abc-xyz"
    assert params["abc_cutoffs"] == [0.7, 0.9]
    assert (params["clv"], params["clv_horizon"], params["seed"]) == (False, 90, 7)
    assert set(pl.read_parquet(out)["segment"].str.slice(0, 1)) <= {"A", "B", "C"}


def test_segment_cli_a_missing_previous_file_names_its_option(cli, orders_csv: Path):
    result = cli("segment", str(orders_csv), "--previous", "missing.csv", "-o", "s.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith("segchain segment: Error: --previous missing.csv: no such file\n")
    assert not Path("s.csv").exists()


def test_segment_cli_a_missing_input_is_named_as_it_is(cli):
    result = cli("segment", "missing.csv")
    assert result.exit_code == 1
    assert result.stderr == "segchain segment: Error: missing.csv: no such file\n"


def test_segment_cli_names_another_stages_table_given_as_orders(cli, tmp_path: Path):
    """A segments table given as orders said 'missing required columns order_id, ...; hint: map
    them with --map': no mapping makes order lines of it."""
    segments = tmp_path / "segments.csv"
    segments.write_text(
        "customer_id,segment,segment_rank,recency_days\n0001,Champions,1,3\n0002,Lost,11,400\n"
    )
    result = cli("segment", str(segments), "-o", "s.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        f"segchain segment: Error: {segments}: holds segments (segchain segment) (by its "
        "columns), not the expected order lines\n"
        "segchain segment:   hint: give the order lines here: the ERP export, or validate's "
        "output\n"
    )
    assert not Path("s.csv").exists()


def test_segment_cli_an_export_missing_a_column_keeps_the_mapping_hint(cli, tmp_path: Path):
    export = tmp_path / "export.csv"
    export.write_text("order_id,order_date,sku,quantity,unit_price\n1,2024-01-02,A,1,2.0\n")
    result = cli("segment", str(export), "-o", "s.csv")
    assert result.exit_code == 1
    assert "missing required column customer_id" in result.stderr
    assert "hint: map them with --map" in result.stderr


@pytest.mark.parametrize("look_alike", [False, True])
def test_segment_cli_an_export_without_a_product_column_is_told_to_add_one(
    cli, tmp_path: Path, look_alike: bool
):
    # CDNOW's log has no product: the hint said only "map them with --map CANONICAL=HEADER (e.g.
    # --map customer_id=KUNNR)", which no header of the file can answer.
    export = tmp_path / "export.csv"
    head = "Order ID,order_date,customer_id" if look_alike else "order_id,order_date,customer_id"
    export.write_text(f"{head},quantity,unit_price\n1-19970101,1997-01-01,1,1,11.77\n")
    result = cli("segment", str(export), "-o", "s.csv")
    assert result.exit_code == 1
    stderr = " ".join(result.stderr.split())
    assert "missing required column" in stderr and "sku" in stderr
    assert (
        "an export without a product column (one product, or none recorded) needs one: add a "
        "column sku holding the same value on every line (e.g. the product's name)"
    ) in stderr


@pytest.mark.parametrize("orders", [["-"], []])
def test_segment_cli_stdin_for_orders_and_previous_is_a_usage_error(cli, orders_csv: Path, orders):
    """'segment - --previous -' read the orders as --previous (it is read first), then found
    stdin empty for the orders: exit 1 after the work, '<stdin>: the file is empty'."""
    result = cli("segment", *orders, "--previous", "-", "-o", "s.csv", input=orders_csv.read_text())
    assert result.exit_code == 2
    assert result.stderr == (
        "segchain segment: Error: only one input can be '-' (stdin); got INPUT, --previous\n"
        "segchain segment:   hint: give the others as files, e.g. --previous last_month.parquet\n"
    )
    assert not Path("s.csv").exists()


def test_segment_cli_refuses_a_previous_table_with_a_blank_customer_id(cli, orders_csv: Path):
    """A --previous row without its customer_id was dropped without a word, as forecast dropped
    one of SEGMENTS; found by a hostile sweep (session 38)."""
    Path("prev.csv").write_text("customer_id,segment\n0001,A\n,B\n0002,A\n")
    result = cli("segment", str(orders_csv), "--previous", "prev.csv", "-o", "s.csv")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "segchain segment: Error: --previous prev.csv: 1 row with a blank customer_id (row 2)\n"
        "segchain segment:   hint: give --previous the table that segchain segment -o wrote "
        "last time\n"
    )
    assert not Path("s.csv").exists()


def repeat_buyers_csv(path: Path) -> Path:
    """60 customers buying 1 to 6 times in 2024 (seeded), so that CLV can be fitted."""
    import random

    rng = random.Random(5)
    lines = ["order_id,order_date,customer_id,sku,quantity,unit_price"]
    for c in range(60):
        for k in range(rng.randint(1, 6)):
            day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            price = rng.choice([4.5, 12.0, 30.0, 75.0])
            lines.append(f"o{c}-{k},{day},cust{c:02d},A-{k % 3},{rng.randint(1, 4)},{price}")
    path.write_text("\n".join(lines) + "\n")
    return path


def stderr_table(stderr: str) -> dict[str, dict[str, str]]:
    """The rows of the stderr summary table by segment: {segment: {column: cell}}."""
    rows = [
        [cell.strip() for cell in line.removeprefix("segchain segment: ").split(sep)]
        for line in stderr.splitlines()
        for sep in ("┃", "│")
        if sep in line
    ]
    header, body = rows[0], rows[1:]
    return {r[0]: dict(zip(header, r, strict=True)) for r in body}


def test_segment_cli_summary_shows_clv_per_customer_beside_the_other_means(
    cli, tmp_path: Path
) -> None:
    # The table's recency_days, frequency and monetary are means per customer; clv was the
    # segment's sum beside them (Champions of CDNOW: 615,327 beside a monetary of 304).
    orders = repeat_buyers_csv(tmp_path / "orders.csv")
    result = cli("segment", str(orders), "--clv", "-o", "s.parquet")
    assert result.exit_code == 0, result.stderr
    table = stderr_table(result.stderr)
    assert "clv" not in next(iter(table.values()))
    want = (
        pl.read_parquet(tmp_path / "s.parquet")
        .group_by("segment")
        .agg(pl.col("clv").mean(), pl.col("monetary").mean())
    )
    assert want.height == len(table) > 1
    for seg, clv, monetary in want.iter_rows():
        shown = float(table[seg]["clv_per_customer"].replace(",", ""))
        # Written as money: whole units from 100 up, else cents.
        assert abs(shown - clv) <= (0.5 if abs(clv) >= 100 else 0.005) + 1e-9, seg
        assert float(table[seg]["monetary"].replace(",", "")) == pytest.approx(monetary, abs=0.5)


def test_segment_cli_a_configs_k_is_a_standing_setting_for_kmeans_runs(
    cli, orders_csv: Path, tmp_path: Path
):
    """`[segment] k = 3` in segchain.toml refused every run of the default method ('segchain.toml
    [segment] k applies to --method kmeans only (got --method rfm)', exit 2): a config holds the
    settings of several runs, as `[forecast] address` does for a cluster's. RFM runs now leave
    it unused, k-means runs use it, and --k on the command line with RFM is still refused."""
    cfg = tmp_path / "segchain.toml"
    cfg.write_text("[segment]\nk = 3\n")
    rfm = cli("segment", str(orders_csv), "--config", str(cfg), "-o", str(tmp_path / "r.parquet"))
    assert rfm.exit_code == 0, rfm.stderr
    assert read_metadata(tmp_path / "r.parquet")["params"]["k"] is None
    km = tmp_path / "k.parquet"
    result = cli(
        "segment", str(orders_csv), "--config", str(cfg), "--method", "kmeans", "-o", str(km)
    )
    assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(km)["segment"].n_unique() == 3
    given = cli("segment", str(orders_csv), "--k", "3", "-o", str(tmp_path / "g.parquet"))
    assert given.exit_code == 2
    assert "--k applies to --method kmeans only (got --method rfm)" in given.stderr


def test_segment_cli_counts_the_customers_whose_every_line_is_after_as_of(cli, tmp_path: Path):
    """With --as-of, a customer whose first line is on or after it is in no row of the output;
    stderr counted the lines left out, not the customers (noticed by hostile4, s43)."""
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,order_date,customer_id,sku,quantity,unit_price\n"
        "1,2024-01-05,C1,A,1,10\n2,2024-01-06,C2,A,2,10\n3,2024-02-10,C1,A,1,10\n"
        "4,2024-02-11,C3,A,1,10\n5,2024-02-12,C4,A,3,10\n6,2024-02-13,C4,B,1,10\n"
    )
    out = tmp_path / "s.csv"
    result = cli("segment", str(path), "--as-of", "2024-02-01", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    # C1 and C2 bought before 2024-02-01; C3 and C4 only after it.
    assert (
        "Warning: 2 customers whose every order line is on or after --as-of 2024-02-01 are in no "
        "segment (not yet customers then), e.g. C3, C4\n"
    ) in result.stderr
    assert sorted(pl.read_csv(out)["customer_id"].to_list()) == ["C1", "C2"]
    plain = cli("segment", str(path), "-o", str(tmp_path / "all.csv"))
    assert "not yet customers" not in plain.stderr
