"""network's messages on real inputs (audit N, session 66): what stderr says of the plan must
be true of it. Each expected figure is counted by hand from the small fixture beside it."""

from __future__ import annotations

import polars as pl

from segchain.geo import locate


def test_postal_hint_leaves_out_customers_already_placed_by_postal_code() -> None:
    # A segments table read by network keeps segment --geo's precision: 3 customers placed by
    # their ZIP ('postal'), 1 by city although it has a ZIP. Only that one was not placed by
    # its code (audit N2: Superstore said 800 where 36 were, 764 being 'postal').
    seg = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "lat": [40.0, 41.0, 42.0, 43.0],
            "lon": [-75.0, -76.0, -77.0, -78.0],
            "geo_precision": ["postal", "postal", "postal", "city"],
            "postal_code": ["19140", "10001", "14201", "13201"],
            "city": ["Philadelphia", "New York", "Buffalo", "Syracuse"],
            "country": ["US", "US", "US", "US"],
        }
    )
    result = locate(seg)
    assert result.postal_unused == {"city": 1}
    assert result.postal_hint().startswith(
        "1 customer with a postal code was not placed by it (city 1): "
    )
