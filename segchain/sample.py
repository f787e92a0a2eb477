"""The synthetic ERP export generator: realistic, deterministic, vectorised.

Customers carry a planted behaviour (frequent high-value, loyal, occasional, new, lapsed,
one-off) that segmentation should recover; SKUs carry a planted demand pattern (smooth, erratic,
intermittent, lumpy) with weekly and yearly seasonality and a growth trend; ship-to points scatter
around real city centres in four neighbouring countries. A few messy lines (blank customer, bad
date, zero price, postage) make the cleaning visible. Every draw comes from one seeded generator,
so the same arguments always give the same files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import numpy as np
import polars as pl

from segchain.errors import UsageError
from segchain.geo import haversine_km

END_DATE = date(2025, 12, 28)  # a Sunday: the data ends on a whole week
# Freight per unit of demand per great-circle km that the sample's money is set in (sample_data's
# segchain.toml passes it to network as cost_per_unit_km): small homeware in parcels and
# groupage, about 1 per unit over 100 km, some 5 % of the sales price on an average lane.
TRANSPORT_RATE = 0.01

# (city, country, lat, lon, postal code prefix, relative size)
CITIES = (
    ("Berlin", "DE", 52.520, 13.405, "10", 3.6),
    ("Hamburg", "DE", 53.551, 9.994, "20", 1.8),
    ("München", "DE", 48.137, 11.575, "80", 1.5),
    ("Köln", "DE", 50.938, 6.960, "50", 1.1),
    ("Frankfurt am Main", "DE", 50.110, 8.682, "60", 0.8),
    ("Stuttgart", "DE", 48.776, 9.183, "70", 0.6),
    ("Düsseldorf", "DE", 51.227, 6.774, "40", 0.6),
    ("Leipzig", "DE", 51.340, 12.375, "04", 0.6),
    ("Dortmund", "DE", 51.514, 7.466, "44", 0.6),
    ("Nürnberg", "DE", 49.452, 11.077, "90", 0.5),
    ("Hannover", "DE", 52.376, 9.732, "30", 0.5),
    ("Dresden", "DE", 51.051, 13.738, "01", 0.5),
    ("Bremen", "DE", 53.079, 8.802, "28", 0.5),
    ("Paris", "FR", 48.857, 2.352, "75", 2.2),
    ("Lyon", "FR", 45.764, 4.836, "69", 0.5),
    ("Marseille", "FR", 43.296, 5.370, "13", 0.9),
    ("Lille", "FR", 50.629, 3.057, "59", 0.2),
    ("Strasbourg", "FR", 48.573, 7.752, "67", 0.3),
    ("Toulouse", "FR", 43.605, 1.444, "31", 0.5),
    ("Bordeaux", "FR", 44.838, -0.579, "33", 0.3),
    ("Nantes", "FR", 47.218, -1.554, "44", 0.3),
    ("Amsterdam", "NL", 52.368, 4.904, "10", 0.9),
    ("Rotterdam", "NL", 51.924, 4.478, "30", 0.6),
    ("Bruxelles", "BE", 50.850, 4.352, "10", 1.2),
    ("Antwerpen", "BE", 51.219, 4.402, "20", 0.5),
)

# Candidate warehouses: (site_id, city index, fixed cost and capacity relative to the total
# demand over the sample's horizon, existing). The fixed costs written are over that horizon,
# the orders' span (network's default --fixed-cost-period orders), not a year's. Existing ones
# are where orders ship from today.
SITES = (
    ("DC-FRA", 4, 1.00, 0.55, True),
    ("DC-PAR", 13, 1.15, 0.45, True),
    ("DC-HAM", 1, 0.90, 0.40, False),
    ("DC-BER", 0, 0.95, 0.40, False),
    ("DC-MUC", 2, 1.05, 0.40, False),
    ("DC-DUS", 6, 0.85, 0.45, False),
    ("DC-LEJ", 7, 0.70, 0.40, False),
    ("DC-LYS", 14, 0.75, 0.35, False),
    ("DC-RTM", 22, 0.90, 0.45, False),
    ("DC-BRU", 23, 0.95, 0.40, False),
    ("DC-TLS", 18, 0.65, 0.30, False),
    ("DC-NTE", 20, 0.65, 0.30, False),
)


# Suppliers deliver to the central warehouse (the first site, Frankfurt) in the item's lead time;
# every other site is replenished through it, a cross-dock transfer adding a day per started
# TRANSFER_KM_PER_DAY of great-circle distance. items.csv states that per site (sku x site rows
# with only lead_time_days; the sku's row without a site holds everything else).
TRANSFER_KM_PER_DAY = 500.0


@dataclass(frozen=True)
class Behaviour:
    """A planted customer behaviour."""

    name: str
    share: float
    orders_per_year: float
    lines_per_order: float
    size: float  # quantity multiplier (a wholesaler buys more than a corner shop)
    active: str  # "all", "recent" (new customers), "early" (lapsed), "once"
    return_rate: float  # share of order lines returned (regulars know what they buy)


BEHAVIOURS = (
    Behaviour("frequent_high_value", 0.08, 30.0, 7.0, 3.0, "all", 0.01),
    Behaviour("loyal", 0.17, 11.0, 4.5, 1.2, "all", 0.015),
    Behaviour("occasional", 0.30, 2.8, 2.5, 0.8, "all", 0.03),
    Behaviour("new", 0.10, 10.0, 3.5, 1.0, "recent", 0.03),
    Behaviour("lapsed", 0.20, 8.0, 3.5, 1.0, "early", 0.025),
    Behaviour("one_off", 0.15, 0.0, 2.5, 0.8, "once", 0.05),
)

DEMAND_PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
PATTERN_SHARES = (0.25, 0.15, 0.40, 0.20)

_ADJECTIVES = np.array(
    [
        "Steel",
        "Brass",
        "Oak",
        "Glass",
        "Ceramic",
        "Copper",
        "Linen",
        "Cotton",
        "Wool",
        "Bamboo",
        "Granite",
        "Marble",
        "Silver",
        "Compact",
        "Heavy",
        "Light",
        "Classic",
        "Modern",
        "Rustic",
        "Premium",
    ]
)
_NOUNS = np.array(
    [
        "Bracket",
        "Hinge",
        "Lamp",
        "Bowl",
        "Hook",
        "Shelf",
        "Valve",
        "Fitting",
        "Clamp",
        "Tray",
        "Basket",
        "Vase",
        "Candle",
        "Jar",
        "Holder",
        "Frame",
        "Mirror",
        "Panel",
        "Crate",
        "Cable",
    ]
)
_NAMES = np.array(
    [
        "Müller",
        "Schmidt",
        "Dubois",
        "Martin",
        "Janssen",
        "Peeters",
        "Weber",
        "Lefèvre",
        "Bakker",
        "Fischer",
        "Moreau",
        "Wagner",
        "Visser",
        "Laurent",
        "Becker",
        "Hoffmann",
        "Girard",
        "Smet",
        "Koch",
        "Roux",
    ]
)
_FORMS = np.array(
    [
        "GmbH",
        "SARL",
        "B.V.",
        "NV",
        "KG",
        "AG",
        "SAS",
        "Handel",
        "Logistik",
        "Distribution",
        "Bouwmarkt",
        "Boutique",
    ]
)


def generate(
    *, customers: int = 600, skus: int = 120, years: int = 3, seed: int = 0
) -> dict[str, pl.DataFrame]:
    """Generate the sample ERP files as frames.

    Returns:
        ``orders`` (order lines, canonical headers, with a few messy lines), ``items`` (item
        master), ``sites`` (candidate warehouses), ``on_hand`` (stock at the existing sites) and
        ``customers`` (the answer key: ``customer_id, planted_behaviour`` and ship-to).
    """
    if customers < 2 or skus < 1 or years < 1:
        raise UsageError("--customers must be >= 2, --skus >= 1 and --years >= 1")
    rng = np.random.default_rng(seed)
    days = 364 * years
    start = END_DATE - timedelta(days=days - 1)
    cust = _customers(rng, customers, days)
    items = _items(rng, skus)
    orders = _orders(rng, cust, items, days, start)
    lines = _lines(rng, orders, cust, items, days)
    sites = _sites(lines)
    on_hand = _on_hand(rng, items, lines, sites)
    master = items.drop("pattern", "popularity", "base_price", "mean_qty", "season_peak")
    return {
        "orders": lines,
        "items": _items_per_site(master),
        "sites": sites,
        "on_hand": on_hand,
        "customers": cust.select(
            "customer_id", "customer_name", "planted_behaviour", "city", "country", "lat", "lon"
        ),
        "skus": items.select("sku", "description", pl.col("pattern").alias("planted_pattern")),
    }


# ---------------------------------------------------------------------------------------------
# Customers


def _customers(rng: np.random.Generator, n: int, days: int) -> pl.DataFrame:
    shares = np.array([b.share for b in BEHAVIOURS])
    # Exact group sizes (not multinomial) so that small samples still hold every behaviour.
    counts = np.floor(shares * n).astype(int)
    counts[np.argsort(-(shares * n - counts))[: n - counts.sum()]] += 1
    group = rng.permutation(np.repeat(np.arange(len(BEHAVIOURS)), counts))
    active = np.array([b.active for b in BEHAVIOURS])[group]
    first = np.zeros(n)
    last = np.full(n, float(days))
    recent = active == "recent"
    first[recent] = days - rng.uniform(30, 150, recent.sum())
    early = active == "early"
    last[early] = days - rng.uniform(240, min(days - 60, 540), early.sum())
    first[early] = rng.uniform(0, np.maximum(last[early] - 200, 1))
    once = active == "once"
    first[once] = rng.uniform(0, days - 1, once.sum())
    last[once] = first[once] + 1
    steady = active == "all"
    # Some steady customers joined during the period.
    first[steady] = np.where(
        rng.random(steady.sum()) < 0.2, rng.uniform(0, days / 2, steady.sum()), 0
    )

    weights = np.array([c[5] for c in CITIES])
    city = rng.choice(len(CITIES), n, p=weights / weights.sum())
    clat = np.array([c[2] for c in CITIES])[city]
    clon = np.array([c[3] for c in CITIES])[city]
    # Suburbs and surroundings: about 15 km around the centre, a few out to 60 km.
    radius = np.abs(rng.standard_t(4, n)) * 0.12
    angle = rng.uniform(0, 2 * np.pi, n)
    lat = clat + radius * np.sin(angle)
    lon = clon + radius * np.cos(angle) / np.cos(np.radians(clat))
    postal = np.array([c[4] for c in CITIES])[city]
    size = np.array([b.size for b in BEHAVIOURS])[group] * rng.lognormal(0, 0.35, n)
    names = (
        _NAMES[rng.integers(0, len(_NAMES), n)].astype(object)
        + " "
        + _FORMS[rng.integers(0, len(_FORMS), n)].astype(object)
    )
    ids = rng.permutation(n) + 1
    return pl.DataFrame(
        {
            "customer_id": [f"{i:07d}" for i in ids],
            "customer_name": names.tolist(),
            "planted_behaviour": np.array([b.name for b in BEHAVIOURS])[group],
            "group": group,
            "first_day": first,
            "last_day": last,
            "size": size,
            "city": np.array([c[0] for c in CITIES])[city],
            "country": np.array([c[1] for c in CITIES])[city],
            "postal_code": [
                f"{p}{z:03d}" for p, z in zip(postal, rng.integers(0, 1000, n), strict=True)
            ],
            "lat": np.round(lat, 5),
            "lon": np.round(lon, 5),
        }
    )


# ---------------------------------------------------------------------------------------------
# Items


def _items(rng: np.random.Generator, n: int) -> pl.DataFrame:
    pattern = rng.choice(len(DEMAND_PATTERNS), n, p=PATTERN_SHARES)
    # Smooth and erratic items sell often, intermittent and lumpy ones rarely.
    base_pop = np.array([12.0, 6.0, 0.6, 0.4])[pattern]
    popularity = base_pop * rng.lognormal(0, 0.6, n)
    mean_qty = np.array([4.0, 6.0, 1.3, 12.0])[pattern] * rng.lognormal(0, 0.3, n)
    price = np.round(rng.lognormal(2.6, 0.7, n), 2)
    desc = (
        _ADJECTIVES[rng.integers(0, len(_ADJECTIVES), n)].astype(object)
        + " "
        + _NOUNS[rng.integers(0, len(_NOUNS), n)].astype(object)
    )
    seasonal = rng.random(n) < 0.35
    peak = np.where(seasonal, rng.integers(1, 13, n), 0)
    return pl.DataFrame(
        {
            "sku": [f"{i:05d}" for i in rng.permutation(n) + 1],
            "description": desc.tolist(),
            "pattern": np.array(DEMAND_PATTERNS)[pattern],
            "popularity": popularity,
            "mean_qty": mean_qty,
            "base_price": price,
            "season_peak": peak,
            "unit_cost": np.round(price * rng.uniform(0.45, 0.7, n), 2),
            "order_cost": np.round(rng.uniform(40, 160, n), 0),
            "holding_rate": np.round(rng.uniform(0.18, 0.30, n), 3),
            "lead_time_days": rng.choice([7, 10, 14, 21, 28, 42], n).astype(float),
            "lead_time_sd_days": np.round(rng.uniform(0, 4, n), 1),
            "moq": rng.choice([1, 1, 1, 6, 12, 24], n).astype(float),
            "pack_size": rng.choice([1, 1, 2, 6, 12], n).astype(float),
        }
    )


# ---------------------------------------------------------------------------------------------
# Orders and lines


def _intensity(days: int, start: date) -> np.ndarray:
    """Relative order intensity per day: weekdays, a yearly cycle with a December peak, growth."""
    d = np.arange(days)
    weekday = (start.weekday() + d) % 7
    week_w = np.array([1.25, 1.15, 1.1, 1.05, 0.95, 0.3, 0.1])[weekday]
    doy = np.array([(start + timedelta(days=int(i))).timetuple().tm_yday for i in d[:366]])
    doy = np.resize(doy, days) if days > 366 else doy[:days]
    yearly = (
        1
        + 0.25 * np.sin(2 * np.pi * (doy - 100) / 365.25)
        + 0.35 * np.exp(-(((doy - 340) / 15) ** 2))
    )
    trend = 1 + 0.12 * d / 365.0
    return week_w * yearly * trend


def _orders(
    rng: np.random.Generator, cust: pl.DataFrame, items: pl.DataFrame, days: int, start: date
) -> pl.DataFrame:
    group = cust["group"].to_numpy()
    first, last = cust["first_day"].to_numpy(), cust["last_day"].to_numpy()
    rate = np.array([b.orders_per_year for b in BEHAVIOURS])[group]
    rate = rate * rng.lognormal(0, 0.3, len(group))
    once = np.array([b.active for b in BEHAVIOURS])[group] == "once"
    n_orders = rng.poisson(rate * (last - first) / 365.0)
    n_orders = np.where(once, 1, np.maximum(n_orders, 1))
    owner = np.repeat(np.arange(len(group)), n_orders)
    # Inverse-CDF sampling of an inhomogeneous Poisson process inside each active window.
    cum = np.concatenate([[0.0], np.cumsum(_intensity(days, start))])
    lo = np.interp(first[owner], np.arange(days + 1), cum)
    hi = np.interp(last[owner], np.arange(days + 1), cum)
    u = lo + rng.random(len(owner)) * (hi - lo)
    day = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, days - 1)
    basket = np.array([b.lines_per_order for b in BEHAVIOURS])[group[owner]]
    n_lines = 1 + rng.poisson(np.maximum(basket - 1, 0))
    order = np.argsort(day, kind="stable")
    return pl.DataFrame(
        {
            "order_no": np.arange(len(order)) + 1_000_001,
            "customer": owner[order],
            "day": day[order],
            "n_lines": n_lines[order],
        }
    )


def _lines(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    cust: pl.DataFrame,
    items: pl.DataFrame,
    days: int,
) -> pl.DataFrame:
    start = END_DATE - timedelta(days=days - 1)
    n_lines = orders["n_lines"].to_numpy()
    line_order = np.repeat(np.arange(orders.height), n_lines)
    day = orders["day"].to_numpy()[line_order]
    customer = orders["customer"].to_numpy()[line_order]
    month = (
        (np.datetime64(start) + day.astype("timedelta64[D]")).astype("datetime64[M]").astype(int)
    ) % 12 + 1
    sku = _pick_skus(rng, items, month, cust["group"].to_numpy()[customer])
    pattern = items["pattern"].to_numpy()[sku]
    mean_qty = items["mean_qty"].to_numpy()[sku] * cust["size"].to_numpy()[customer]
    qty = np.where(
        pattern == "smooth",
        1 + rng.poisson(np.maximum(mean_qty - 1, 0)),
        np.where(
            pattern == "erratic",
            np.ceil(rng.lognormal(np.log(np.maximum(mean_qty, 1)) - 0.5, 1.0)),
            np.where(
                pattern == "intermittent",
                1 + rng.poisson(np.maximum(mean_qty - 1, 0) * 0.5),
                rng.geometric(1 / np.maximum(mean_qty, 1.5)),
            ),
        ),
    ).astype(float)
    # Larger customers get volume discounts; prices drift up 3 % a year.
    price = items["base_price"].to_numpy()[sku] * (
        1 - 0.04 * np.log1p(cust["size"].to_numpy()[customer])
    )
    price = np.round(price * (1 + 0.03 * day / 365.0) * rng.uniform(0.97, 1.03, len(sku)), 2)
    frame = pl.DataFrame(
        {
            "order_id": orders["order_no"].to_numpy()[line_order].astype(str),
            "day": day,
            "customer": customer,
            "sku_ix": sku,
            "quantity": qty,
            "unit_price": price,
        }
    )
    return_rate = np.array([b.return_rate for b in BEHAVIOURS])[cust["group"].to_numpy()]
    frame = _add_returns(rng, frame, days, return_rate)
    frame = _add_postage(rng, frame, orders)
    cust_cols = cust.select(
        pl.int_range(pl.len()).alias("customer"),
        "customer_id",
        "customer_name",
        "city",
        "postal_code",
        "country",
        "lat",
        "lon",
    )
    item_cols = pl.concat(
        [
            items.select(pl.int_range(pl.len()).alias("sku_ix"), "sku", "description"),
            pl.DataFrame(
                {"sku_ix": [-1], "sku": ["POST"], "description": ["POSTAGE"]},
                schema={"sku_ix": pl.Int64, "sku": pl.String, "description": pl.String},
            ),
        ],
        how="vertical_relaxed",
    )
    lines = (
        frame.join(cust_cols, on="customer", how="left", maintain_order="left")
        .join(item_cols, on="sku_ix", how="left", maintain_order="left")
        .with_columns(
            order_date=pl.lit(start) + pl.duration(days=pl.col("day")),
            site=_nearest_existing_site(pl.col("lat"), pl.col("lon")),
        )
    )
    lines = lines.select(
        "order_id",
        "order_date",
        "customer_id",
        "customer_name",
        "sku",
        "description",
        "quantity",
        "unit_price",
        "site",
        "city",
        "postal_code",
        "country",
        "lat",
        "lon",
    )
    return _add_mess(rng, lines)


def _pick_skus(
    rng: np.random.Generator, items: pl.DataFrame, month: np.ndarray, group: np.ndarray
) -> np.ndarray:
    """Draw a SKU per line: popularity x the SKU's season in that month x the buyer's taste.

    Each behaviour group has its own affinity for each SKU (wholesalers favour some ranges,
    occasional buyers others), so that SKUs serve different segment mixes, as in real
    assortments; without it every SKU would carry the same blend of service targets.
    """
    pop = items["popularity"].to_numpy()
    peak = items["season_peak"].to_numpy()
    affinity = rng.lognormal(0, 1.1, size=(len(BEHAVIOURS), len(pop)))
    out = np.empty(len(month), dtype=np.int64)
    key = (group * 12 + month - 1).astype(np.int64)
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(len(BEHAVIOURS) * 12 + 1))
    for k in range(len(BEHAVIOURS) * 12):
        idx = order[bounds[k] : bounds[k + 1]]
        if idx.size == 0:
            continue
        g, m = divmod(k, 12)
        gap = np.minimum(np.abs(m + 1 - peak), 12 - np.abs(m + 1 - peak))
        season = np.where(peak > 0, 0.35 + 1.6 * np.exp(-(gap**2) / 2.0), 1.0)
        cdf = np.cumsum(pop * season * affinity[g])
        out[idx] = np.searchsorted(cdf, rng.random(idx.size) * cdf[-1], side="right")
    return np.minimum(out, len(pop) - 1)


def _add_returns(
    rng: np.random.Generator, frame: pl.DataFrame, days: int, return_rate: np.ndarray
) -> pl.DataFrame:
    """1 to 5 % of lines (by the customer's behaviour) come back within three weeks, as a
    cancellation order ``C<order>``."""
    rate = return_rate[frame["customer"].to_numpy()]
    returned = frame.filter(pl.Series(rng.random(frame.height) < rate))
    back = np.ceil(returned["quantity"].to_numpy() * rng.uniform(0.2, 1.0, returned.height))
    returns = returned.with_columns(
        order_id="C" + pl.col("order_id"),
        day=pl.Series(
            np.minimum(returned["day"].to_numpy() + rng.integers(2, 21, returned.height), days - 1)
        ),
        quantity=pl.Series(-back),
    )
    return pl.concat([frame, returns]).sort("day", "order_id", maintain_order=True)


def _add_postage(
    rng: np.random.Generator, frame: pl.DataFrame, orders: pl.DataFrame
) -> pl.DataFrame:
    """Small orders pay postage: a non-product line, as real exports have."""
    small = orders.filter(pl.col("n_lines") <= 2)
    charged = small.filter(pl.Series(rng.random(small.height) < 0.5))
    post = pl.DataFrame(
        {
            "order_id": charged["order_no"].cast(pl.String),
            "day": charged["day"],
            "customer": charged["customer"],
            "sku_ix": np.full(charged.height, -1),
            "quantity": np.ones(charged.height),
            "unit_price": np.full(charged.height, 6.90),
        }
    )
    return pl.concat([frame, post], how="vertical_relaxed").sort(
        "day", "order_id", maintain_order=True
    )


def _nearest_existing_site(lat: pl.Expr, lon: pl.Expr) -> pl.Expr:
    existing = [(s[0], CITIES[s[1]][2], CITIES[s[1]][3]) for s in SITES if s[4]]
    dist = [((lat - a) ** 2 + ((lon - b) * 0.65) ** 2) for _, a, b in existing]
    expr = pl.lit(existing[0][0])
    best = dist[0]
    for (site, _, _), d in zip(existing[1:], dist[1:], strict=True):
        expr = pl.when(d < best).then(pl.lit(site)).otherwise(expr)
        best = pl.min_horizontal(best, d)
    return expr


def _add_mess(rng: np.random.Generator, lines: pl.DataFrame) -> pl.DataFrame:
    """What real exports contain: blank customers, unreadable dates, free samples."""
    n = lines.height
    u = rng.random(n)
    date_text = lines["order_date"].dt.strftime("%Y-%m-%d")
    bad_dates = np.array(["2024-02-30", "n/a", "00.00.0000"])[rng.integers(0, 3, n)]
    return lines.with_columns(
        customer_id=pl.when(pl.Series(u < 0.001)).then(None).otherwise(pl.col("customer_id")),
        order_date=pl.when(pl.Series((u >= 0.001) & (u < 0.0015)))
        .then(pl.Series(bad_dates))
        .otherwise(date_text),
        unit_price=pl.when(pl.Series((u >= 0.0015) & (u < 0.002)))
        .then(0.0)
        .otherwise(pl.col("unit_price")),
    )


# ---------------------------------------------------------------------------------------------
# Sites and stock


def _sites(lines: pl.DataFrame) -> pl.DataFrame:
    sold = lines.filter(pl.col("quantity") > 0)
    total = float(sold["quantity"].sum())
    # Each customer is served by one site (network's default, single sourcing): every site
    # holds at least the largest customer's demand (its units bought, above its net demand).
    # A share of the total alone left a sample of 2 customers, one buying 78 % of the units,
    # with no plan but --allow-split.
    by_customer = sold.group_by("customer_id").agg(pl.col("quantity").sum())["quantity"]
    largest = float(cast(float, by_customer.max()) or 0.0)
    floor = math.ceil(largest / 10.0) * 10.0
    return pl.DataFrame(
        {
            "site_id": [s[0] for s in SITES],
            "city": [CITIES[s[1]][0] for s in SITES],
            "lat": [CITIES[s[1]][2] for s in SITES],
            "lon": [CITIES[s[1]][3] for s in SITES],
            # Fixed cost over the same horizon as the demand, in the money of transport at
            # TRANSPORT_RATE per unit-km: about what a site saves in transport when it serves
            # its region, so that how many sites to open is a real trade-off.
            "fixed_cost": [round(s[2] * max(total, 1.0) * 20 * TRANSPORT_RATE, -1) for s in SITES],
            "capacity": [max(round(s[3] * max(total, 1.0), -1), floor) for s in SITES],
            "existing": [s[4] for s in SITES],
        }
    )


def transfer_days() -> dict[str, float]:
    """Days a site's replenishment takes on top of the item's lead time (0 at the central site)."""
    hub = CITIES[SITES[0][1]]
    out = {}
    for site_id, city, *_ in SITES:
        lat, lon = CITIES[city][2], CITIES[city][3]
        km = float(haversine_km(hub[2], hub[3], lat, lon))
        out[site_id] = float(np.ceil(km / TRANSFER_KM_PER_DAY))
    return out


def _items_per_site(master: pl.DataFrame) -> pl.DataFrame:
    """The item master with a ``site`` column: one default row per sku (no site), then sku x
    site rows stating the site's own lead time (the item's plus the transfer from the hub)."""
    extra = pl.DataFrame(
        {"site": list(transfer_days()), "_days": list(transfer_days().values())},
        schema={"site": pl.String, "_days": pl.Float64},
    ).filter(pl.col("_days") > 0)
    per_site = (
        master.select("sku", "lead_time_days")
        .join(extra, how="cross")
        .select("sku", "site", (pl.col("lead_time_days") + pl.col("_days")).alias("lead_time_days"))
        .sort("sku", "site")
    )
    default = master.with_columns(site=pl.lit(None, pl.String)).select(
        "sku", "site", *[c for c in master.columns if c != "sku"]
    )
    return pl.concat([default, per_site], how="diagonal_relaxed").select(default.columns)


def _on_hand(
    rng: np.random.Generator, items: pl.DataFrame, lines: pl.DataFrame, sites: pl.DataFrame
) -> pl.DataFrame:
    weekly = (
        lines.filter(pl.col("quantity") > 0, pl.col("sku") != "POST", pl.col("site").is_not_null())
        .group_by("sku", "site")
        .agg(pl.col("quantity").sum())
    )
    dates = lines["order_date"].str.to_date(strict=False)
    n_weeks = max(1, (cast(date, dates.max()) - cast(date, dates.min())).days // 7)
    # Sorted before drawing: group_by order is not deterministic, the draws must be.
    weekly = weekly.with_columns(pl.col("quantity") / n_weeks).sort("sku", "site")
    cover = pl.Series(rng.uniform(0.5, 6.0, weekly.height))
    return weekly.with_columns(on_hand=(pl.col("quantity") * cover).round(0)).select(
        "sku", "site", "on_hand"
    )
