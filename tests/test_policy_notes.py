"""When the segment policy table makes segmenting change nothing, stock and network say so.

Without a [segments] table every segment gets the same service target (and no delivery
promise), so `stock --compare-uniform` prints two equal columns and `network` chooses sites for
cost alone: stderr says why and how to set one. When the config names segments but none of
the input's (RFM labels in the config, k-means clusters in the table), every segment silently
took the default; that is said too."""

from __future__ import annotations

import datetime as dt

import polars as pl

from segchain.network import network
from segchain.policy import PolicyTable, SegmentPolicy
from segchain.stock import stock

SAME = "every segment has the same service target"
UNNAMED = "is named in the config's [segments]"
NO_PROMISE = "no segment has a delivery promise"


def forecast(segments=("Champions", "Lost")) -> pl.DataFrame:
    rows = []
    for seg in segments:
        for sku in ("A", "B"):
            for w in range(4):
                rows.append(
                    {
                        "unique_id": f"{seg}/{sku}",
                        "segment": seg,
                        "sku": sku,
                        "ds": dt.date(2024, 1, 1) + dt.timedelta(weeks=w),
                        "forecast": 20.0,
                        "error_sd": 5.0,
                        "demand_class": "smooth",
                    }
                )
    return pl.DataFrame(rows)


def table(**levels: float) -> PolicyTable:
    return PolicyTable({k: SegmentPolicy(service_level=v) for k, v in levels.items()})


def notes_of_stock(policies, fc=None) -> str:
    return "\n".join(stock(fc if fc is not None else forecast(), policies=policies).notes)


def test_stock_says_when_every_segment_has_the_same_target():
    assert SAME in notes_of_stock(None)
    assert SAME in notes_of_stock(table(**{"*": 0.97}))


def test_stock_says_nothing_when_the_targets_differ():
    text = notes_of_stock(table(Champions=0.99, Lost=0.90))
    assert SAME not in text and UNNAMED not in text


def test_stock_says_when_the_config_names_none_of_the_segments():
    text = notes_of_stock(table(Loyal=0.99, Hibernating=0.9), forecast(("Cluster 1", "Cluster 2")))
    assert UNNAMED in text and "'Cluster 1'" in text and "'Loyal'" in text
    assert SAME not in text  # the more specific note only


def test_stock_by_sku_alone_has_no_segments_to_differ():
    fc = forecast(("Champions",)).drop("segment")
    assert SAME not in notes_of_stock(None, fc)


def customers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "segment": ["Champions", "Lost", "Champions", "Lost"],
            "demand": [5.0, 3.0, 2.0, 4.0],
            "lat": [48.85, 45.76, 43.30, 50.63],
            "lon": [2.35, 4.83, 5.37, 3.06],
        }
    )


SITES = pl.DataFrame(
    {"site_id": ["P", "L"], "lat": [48.85, 45.76], "lon": [2.35, 4.83], "fixed_cost": [1.0, 1.0]}
)


def notes_of_network(policies) -> str:
    r = network(customers(), sites=SITES, policies=policies)
    return "\n".join([*r.notes, *r.warnings])


def test_network_says_when_no_segment_has_a_promise():
    assert NO_PROMISE in notes_of_network(None)
    promised = PolicyTable({"*": SegmentPolicy(max_delivery_days=3)})
    assert NO_PROMISE not in notes_of_network(promised)


def test_network_says_when_the_config_names_none_of_the_segments():
    text = notes_of_network(PolicyTable({"Loyal": SegmentPolicy(max_delivery_days=1)}))
    assert UNNAMED in text and "'Champions'" in text
