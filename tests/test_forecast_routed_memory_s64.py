"""history_shares per backtest cutoff: the shares of a plain count, and memory that does not
grow with the number of cutoffs (audit V4: a routed forecast's history joined with every
cutoff was its 6.7 GB peak)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segchain.forecast.reconcile import history_shares

MONDAY = dt.date(2024, 1, 1)


def _plain_shares(rows, links, cutoffs):
    """The shares by hand: each series' units up to the cutoff over its top's; even where the
    top has none; a cutoff before every period of the linked series gives no rows."""
    top_of = dict(links)
    out = {}
    for cut in cutoffs:
        upto = {u: 0.0 for u in top_of}
        seen = False
        for u, d, y in rows:
            if u in top_of and d <= cut:
                upto[u] += y
                seen = True
        if not seen:
            continue
        for u, top in top_of.items():
            mates = [v for v, t in top_of.items() if t == top]
            total = sum(upto[v] for v in mates)
            out[(u, cut)] = upto[u] / total if total > 0 else 1.0 / len(mates)
    return out


histories = st.lists(
    st.tuples(
        st.integers(0, 5),  # series
        st.integers(0, 11),  # week
        st.integers(0, 4),  # units
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(max_examples=60, deadline=None)
@given(
    history=histories,
    tops=st.lists(st.integers(0, 2), min_size=7, max_size=7),
    cut_weeks=st.lists(st.integers(-2, 13), min_size=1, max_size=4, unique=True),
)
def test_history_shares_per_cutoff_match_a_plain_count(history, tops, cut_weeks):
    # Series 6 is linked but has no history; series 0..5 may have none either.
    links = [(f"s{i}", f"t{tops[i]}") for i in range(7)]
    rows = [(f"s{s}", MONDAY + dt.timedelta(weeks=w), float(y)) for s, w, y in history]
    cutoffs = [MONDAY + dt.timedelta(weeks=w) for w in cut_weeks]
    y = pl.DataFrame(
        rows, schema={"unique_id": pl.String, "ds": pl.Date, "y": pl.Float64}, orient="row"
    )
    link_frame = pl.DataFrame(links, schema=["unique_id", "top_id"], orient="row")
    got = history_shares(y, link_frame, cutoffs=pl.DataFrame({"cutoff": cutoffs}))
    expected = _plain_shares(rows, links, cutoffs)
    assert got.height == len(expected)
    got_map = {(u, c): s for u, c, s in got.select("unique_id", "cutoff", "share").iter_rows()}
    assert got_map == pytest.approx(expected)


def test_history_shares_without_cutoffs_read_the_whole_history():
    links = [("a", "x"), ("b", "x"), ("c", "y")]
    rows = [("a", MONDAY, 1.0), ("b", MONDAY, 3.0), ("b", MONDAY + dt.timedelta(weeks=5), 4.0)]
    y = pl.DataFrame(rows, schema=["unique_id", "ds", "y"], orient="row")
    got = history_shares(y, pl.DataFrame(links, schema=["unique_id", "top_id"], orient="row"))
    assert dict(got.select("unique_id", "share").iter_rows()) == pytest.approx(
        {"a": 1 / 8, "b": 7 / 8, "c": 1.0}
    )


_PEAK = textwrap.dedent(
    """
    import datetime as dt, resource, sys
    import numpy as np, polars as pl
    from segchain.forecast.reconcile import history_shares
    n, weeks, cuts = 1000, 150, int(sys.argv[1])
    rng = np.random.default_rng(0)
    uid = [f"DC-01/Cluster {i % 3}/sku-{i:05d}" for i in range(n)]
    tops = [f"DC-01/sku-{i // 3:05d}" for i in range(n)]
    links = pl.DataFrame({"unique_id": uid, "top_id": tops})
    ds = [dt.date(2022, 1, 3) + dt.timedelta(weeks=w) for w in range(weeks)]
    y = pl.DataFrame({"unique_id": np.repeat(uid, weeks), "ds": ds * n,
                      "y": rng.poisson(0.5, n * weeks).astype(float)})
    cutoffs = pl.DataFrame({"cutoff": ds[-cuts:]})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    history_shares(y, links, cutoffs=cutoffs)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
    """
)


def _peak_mb(cutoffs: int) -> float:
    run = subprocess.run(
        [sys.executable, "-c", _PEAK, str(cutoffs)], capture_output=True, text=True, check=True
    )
    return float(run.stdout)


def test_history_shares_memory_does_not_grow_with_the_cutoffs():
    # 150,000 series-periods: joined with 30 cutoffs they were 4.5 M rows (+0.45 GB at its
    # peak); one cutoff at a time holds at most the history once more (+0.02 GB).
    one, many = _peak_mb(1), _peak_mb(30)
    assert many < one + 100, (one, many)
