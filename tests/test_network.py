"""network stage: facility location with delivery promises, checked against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest

from segchain.errors import DataError, InfeasibleError, UsageError
from segchain.network import EARTH_RADIUS_KM, build_constraints, haversine_km, network
from segchain.policy import PolicyTable, SegmentPolicy


def _random_instance(seed: int, n: int = 7, m: int = 5) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = pl.DataFrame(
        {
            "customer_id": [f"k{j}" for j in range(n)],
            "demand": rng.integers(1, 20, n).astype(float),
            "lat": rng.uniform(45, 52, n),
            "lon": rng.uniform(0, 10, n),
        }
    )
    sites = pl.DataFrame(
        {
            "site_id": [f"s{i}" for i in range(m)],
            "lat": rng.uniform(45, 52, m),
            "lon": rng.uniform(0, 10, m),
            "fixed_cost": rng.uniform(500, 6000, m),
            "capacity": rng.uniform(25, 60, m),
        }
    )
    return customers, sites


def _cost_matrix(customers: pl.DataFrame, sites: pl.DataFrame) -> np.ndarray:
    """Transport cost (1 per unit-km) site x customer, with an independent haversine."""
    r = 6371.0088
    out = np.empty((sites.height, customers.height))
    for i, (slat, slon) in enumerate(sites.select("lat", "lon").iter_rows()):
        for j, (clat, clon, d) in enumerate(customers.select("lat", "lon", "demand").iter_rows()):
            p1, p2 = math.radians(slat), math.radians(clat)
            h = (
                math.sin((p2 - p1) / 2) ** 2
                + math.cos(p1) * math.cos(p2) * math.sin(math.radians(clon - slon) / 2) ** 2
            )
            out[i, j] = d * 2 * r * math.asin(math.sqrt(h))
    return out


def _brute_uncapacitated(cost: np.ndarray, fixed: np.ndarray, k: int | None = None) -> float:
    m = len(fixed)
    sizes = [k] if k is not None else range(1, m + 1)
    best = math.inf
    for size in sizes:
        for subset in itertools.combinations(range(m), size):
            s = list(subset)
            best = min(best, fixed[s].sum() + cost[s].min(axis=0).sum())
    return best


def _brute_single_source(cost: np.ndarray, fixed: np.ndarray, cap: np.ndarray, d: np.ndarray):
    m, n = cost.shape
    best = math.inf
    for assign in itertools.product(range(m), repeat=n):
        a = np.array(assign)
        load = np.bincount(a, weights=d, minlength=m)
        if np.any(load > cap + 1e-9):
            continue
        used = np.unique(a)
        best = min(best, fixed[used].sum() + cost[a, np.arange(n)].sum())
    return best


# ---------------------------------------------------------------------------------------------
# Geometry


def test_haversine_matches_published_bna_lax_distance() -> None:
    # Rosetta Code "Haversine formula": BNA (36.12, -86.67) to LAX (33.94, -118.40) is
    # 2887.2599506 km on a sphere of radius 6372.8 km.
    d = haversine_km(36.12, -86.67, 33.94, -118.40) * 6372.8 / EARTH_RADIUS_KM
    assert d == pytest.approx(2887.2599506, rel=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0.0, 0.0), (0.0, 0.0), 0.0),
        ((0.0, 0.0), (0.0, 180.0), math.pi * EARTH_RADIUS_KM),
        ((90.0, 0.0), (-90.0, 0.0), math.pi * EARTH_RADIUS_KM),
        ((0.0, 179.5), (0.0, -179.5), math.pi * EARTH_RADIUS_KM / 180),
    ],
)
def test_haversine_known_arcs(a, b, expected) -> None:
    assert haversine_km(*a, *b) == pytest.approx(expected, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Exactness against brute force


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_network_uncapacitated_matches_brute_force(seed: int) -> None:
    customers, sites = _random_instance(seed)
    sites = sites.drop("capacity")
    result = network(customers, sites=sites)
    best = _brute_uncapacitated(_cost_matrix(customers, sites), sites["fixed_cost"].to_numpy())
    assert result.totals.total_cost == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize(("seed", "k"), [(5, 1), (6, 2), (7, 3)])
def test_network_p_median_opens_exactly_k_at_brute_force_cost(seed: int, k: int) -> None:
    customers, sites = _random_instance(seed)
    sites = sites.drop("capacity", "fixed_cost")
    result = network(customers, sites=sites, open=k)
    best = _brute_uncapacitated(_cost_matrix(customers, sites), np.zeros(sites.height), k)
    assert result.totals.sites_opened == k
    assert result.totals.total_cost == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_network_capacitated_single_source_matches_brute_force(seed: int) -> None:
    customers, sites = _random_instance(seed, n=6, m=3)
    result = network(customers, sites=sites)
    best = _brute_single_source(
        _cost_matrix(customers, sites),
        sites["fixed_cost"].to_numpy(),
        sites["capacity"].to_numpy(),
        customers["demand"].to_numpy(),
    )
    assert result.totals.total_cost == pytest.approx(best, rel=1e-6)
    assert result.assignments["share"].to_list() == [1.0] * customers.height


# ---------------------------------------------------------------------------------------------
# Split vs single source, capacity


def _two_site_case() -> tuple[pl.DataFrame, pl.DataFrame]:
    # Two customers of 6 next to A (capacity 10); B (no limit) is 1 degree of latitude away.
    customers = pl.DataFrame(
        {"customer_id": ["x", "y"], "demand": [6.0, 6.0], "lat": [0.0, 0.0], "lon": [0.0, 0.0]}
    )
    sites = pl.DataFrame(
        {
            "site_id": ["A", "B"],
            "lat": [0.0, 1.0],
            "lon": [0.0, 0.0],
            "capacity": [10.0, None],
        }
    )
    return customers, sites


def test_network_single_source_sends_one_customer_whole_to_far_site() -> None:
    customers, sites = _two_site_case()
    result = network(customers, sites=sites)
    degree = math.pi * EARTH_RADIUS_KM / 180
    assert sorted(result.assignments["site_id"].to_list()) == ["A", "B"]
    assert result.totals.transport_cost == pytest.approx(6 * degree, rel=1e-9)


def test_network_allow_split_fills_near_site_to_capacity() -> None:
    customers, sites = _two_site_case()
    result = network(customers, sites=sites, allow_split=True)
    degree = math.pi * EARTH_RADIUS_KM / 180
    # A takes 10 units, B only the remaining 2.
    assert result.totals.transport_cost == pytest.approx(2 * degree, rel=1e-9)
    served = dict(result.sites.select("site_id", "demand_served").iter_rows())
    assert served == pytest.approx({"A": 10.0, "B": 2.0})


def test_network_split_shares_sum_to_one_per_customer() -> None:
    customers, sites = _two_site_case()
    result = network(customers, sites=sites, allow_split=True)
    sums = result.assignments.group_by("customer_id").agg(pl.col("share").sum())
    assert sums["share"].to_list() == pytest.approx([1.0, 1.0])


def test_network_capacity_below_demand_is_infeasible_with_shortfall() -> None:
    customers, sites = _two_site_case()
    sites = sites.with_columns(capacity=pl.lit(5.0))
    with pytest.raises(
        InfeasibleError, match=r"total capacity 10 is below total demand 12: short by 2"
    ):
        network(customers, sites=sites)


def test_network_single_source_that_cannot_fit_says_allow_split() -> None:
    customers, sites = _two_site_case()
    sites = sites.with_columns(capacity=pl.lit(7.0))  # 14 >= 12, but 6+6 fits in no site
    sites = sites.with_columns(capacity=pl.Series([7.0, 5.0]))
    with pytest.raises(InfeasibleError, match="--allow-split"):
        network(customers, sites=sites)


def test_network_existing_site_is_forced_open() -> None:
    customers, sites = _two_site_case()
    sites = sites.with_columns(
        fixed_cost=pl.Series([0.0, 1e9]), existing=pl.Series([False, True]), capacity=None
    )
    result = network(customers, sites=sites)
    assert result.sites["open"].to_list() == [True, True]
    assert result.totals.fixed_cost == 1e9


def test_network_sites_say_keep_open_close_unused() -> None:
    # c1 sits on existing K, c2 on new N (cheap to open, 1112 km from K); existing X is 1112 km
    # from c1 on the other side, so nobody is sent there; new U is dear and far.
    customers = pl.DataFrame(
        {"customer_id": ["c1", "c2"], "demand": [5.0, 5.0], "lat": [0.0, 10.0], "lon": [0.0, 0.0]}
    )
    sites = pl.DataFrame(
        {
            "site_id": ["K", "N", "X", "U"],
            "lat": [0.0, 10.0, -10.0, 20.0],
            "lon": [0.0, 0.0, 0.0, 0.0],
            "fixed_cost": [0.0, 1.0, 0.0, 1e9],
            "existing": [True, False, True, False],
        }
    )
    out = network(customers, sites=sites).sites
    assert out.columns[:7] == ["site_id", "city", "lat", "lon", "existing", "open", "decision"]
    got = {r[0]: r[1:] for r in out.select("site_id", "existing", "open", "decision").rows()}
    assert got == {
        "K": (True, True, "keep"),
        "N": (False, True, "open"),
        "X": (True, True, "close"),  # forced open as existing, but it serves nobody
        "U": (False, False, "unused"),
    }


# ---------------------------------------------------------------------------------------------
# Delivery promises


def _promise_case() -> tuple[pl.DataFrame, pl.DataFrame]:
    # Customers at (0, 0). NEAR is 1 degree away (about 111 km) but costly to open; FAR is
    # 10 degrees away (about 1112 km, 2.2 days at 500 km/day) and free.
    customers = pl.DataFrame(
        {
            "customer_id": ["fast1", "slow1"],
            "segment": ["Fast", "Slow"],
            "demand": [1.0, 1.0],
            "lat": [0.0, 0.0],
            "lon": [0.0, 0.0],
        }
    )
    sites = pl.DataFrame(
        {
            "site_id": ["NEAR", "FAR"],
            "lat": [1.0, 10.0],
            "lon": [0.0, 0.0],
            "fixed_cost": [5000.0, 0.0],
        }
    )
    return customers, sites


def _policies(**days: float) -> PolicyTable:
    return PolicyTable({k: SegmentPolicy(max_delivery_days=v) for k, v in days.items()})


def test_network_promise_forces_near_site_for_fast_segment() -> None:
    customers, sites = _promise_case()
    result = network(customers, sites=sites, policies=_policies(Fast=1, Slow=5))
    chosen = dict(result.assignments.select("customer_id", "site_id").iter_rows())
    assert chosen["fast1"] == "NEAR"
    assert result.assignments["sla_met"].to_list() == [True, True]


def test_network_without_promise_takes_cheapest_site() -> None:
    customers, sites = _promise_case()
    result = network(customers, sites=sites)
    assert result.assignments["site_id"].to_list() == ["FAR", "FAR"]


def test_network_reports_what_the_promise_costs() -> None:
    customers, sites = _promise_case()
    result = network(customers, sites=sites, policies=_policies(Fast=1, Slow=5))
    degree = math.pi * EARTH_RADIUS_KM / 180
    # Baseline: both at FAR (cost 20 degrees); promised: NEAR opened for the fast customer,
    # the slow one goes to NEAR as well (1 degree, cheaper than 10).
    assert result.totals.baseline_total_cost == pytest.approx(20 * degree, rel=1e-9)
    assert result.totals.total_cost == pytest.approx(5000 + 2 * degree, rel=1e-9)
    fast = result.promise.filter(pl.col("segment") == "Fast").row(0, named=True)
    assert fast["within_promise"] == 1.0
    assert fast["baseline_within_promise"] == 0.0


def test_network_customer_no_site_can_reach_goes_to_cheapest_and_is_reported() -> None:
    customers, sites = _promise_case()
    sites = sites.with_columns(lat=pl.Series([20.0, 10.0]))  # both beyond one day
    result = network(customers, sites=sites, policies=_policies(Fast=1))
    row = result.assignments.filter(pl.col("customer_id") == "fast1").row(0, named=True)
    assert (row["site_id"], row["sla_met"]) == ("FAR", False)
    assert result.totals.promise_missed == 1


def test_network_transit_days_is_distance_over_km_per_day() -> None:
    customers, sites = _promise_case()
    result = network(customers, sites=sites, km_per_day=250)
    row = result.assignments.row(0, named=True)
    assert row["transit_days"] == pytest.approx(row["distance_km"] / 250)


# ---------------------------------------------------------------------------------------------
# Aggregation and candidates


def test_network_aggregated_plan_is_within_its_reported_bound() -> None:
    rng = np.random.default_rng(3)
    n = 600
    customers = pl.DataFrame(
        {
            "customer_id": [str(j) for j in range(n)],
            "demand": rng.uniform(1, 10, n),
            "lat": rng.uniform(44, 52, n),
            "lon": rng.uniform(-1, 9, n),
        }
    )
    sites = _random_instance(9, m=6)[1].drop("capacity")
    exact = network(customers, sites=sites)
    agg = network(customers, sites=sites, max_points=40)
    assert agg.totals.demand_points <= 40
    assert agg.totals.aggregation_bound > 0
    excess = agg.totals.total_cost - exact.totals.total_cost
    assert -1e-6 * exact.totals.total_cost <= excess <= agg.totals.aggregation_bound
    assert agg.assignments.height == n


def test_network_candidates_sit_at_demand_weighted_cluster_centres() -> None:
    rng = np.random.default_rng(0)
    centres = [(48.0, 2.0), (52.5, 13.4), (41.9, 12.5)]
    rows = []
    for c, (lat, lon) in enumerate(centres):
        for k in range(20):
            rows.append((f"{c}-{k}", lat + rng.normal(0, 0.05), lon + rng.normal(0, 0.05), k + 1.0))
    customers = pl.DataFrame(rows, schema=["customer_id", "lat", "lon", "demand"], orient="row")
    result = network(customers, candidates=3)
    got = result.sites.select("lat", "lon").to_numpy()
    for c in range(3):
        part = customers.filter(pl.col("customer_id").str.starts_with(f"{c}-"))
        w = part["demand"].to_numpy()
        want = (np.average(part["lat"], weights=w), np.average(part["lon"], weights=w))
        assert haversine_km(got[:, 0], got[:, 1], *want).min() < 0.5


def test_network_demand_falls_back_to_quantity() -> None:
    customers, sites = _promise_case()
    customers = customers.rename({"demand": "quantity"})
    result = network(customers, sites=sites)
    assert result.totals.demand == 2.0


def test_network_sites_table_accounts_for_all_demand() -> None:
    customers, sites = _random_instance(21)
    result = network(customers, sites=sites)
    assert result.sites["demand_served"].sum() == pytest.approx(customers["demand"].sum())
    opened = result.sites.filter(pl.col("open"))
    assert (opened["utilization"] <= 1 + 1e-9).all()
    assert result.sites["customers"].sum() == customers.height


# ---------------------------------------------------------------------------------------------
# Lanes


def test_network_lane_costs_replace_distance() -> None:
    customers = pl.DataFrame({"customer_id": ["a", "b"], "demand": [2.0, 3.0]})
    sites = pl.DataFrame({"site_id": ["S", "T"], "fixed_cost": [10.0, 10.0]})
    lanes = pl.DataFrame(
        {
            "site_id": ["S", "S", "T"],
            "customer_id": ["a", "b", "b"],
            "unit_cost": [1.0, 9.0, 1.0],
        }
    )
    result = network(customers, sites=sites, costs=lanes)
    # Only S serves a; opening T as well saves 3 x 8 = 24 > 10.
    assert result.totals.total_cost == pytest.approx(20 + 2 * 1 + 3 * 1)
    assert result.totals.lanes_missing == 1


def test_network_customer_without_any_lane_is_an_error() -> None:
    customers = pl.DataFrame({"customer_id": ["a", "b"], "demand": [2.0, 3.0]})
    sites = pl.DataFrame({"site_id": ["S"]})
    lanes = pl.DataFrame({"site_id": ["S"], "customer_id": ["a"], "unit_cost": [1.0]})
    with pytest.raises(DataError, match="1 customer has no lane from any site: customer_id 'b'"):
        network(customers, sites=sites, costs=lanes)


# ---------------------------------------------------------------------------------------------
# Bad input


def test_network_unlocated_customers_are_listed() -> None:
    customers, sites = _promise_case()
    customers = customers.with_columns(lat=pl.Series([None, 0.0]))
    with pytest.raises(DataError, match="1 customer has no coordinates.*'fast1'"):
        network(customers, sites=sites)


def test_network_skip_unlocated_reports_them() -> None:
    customers, sites = _promise_case()
    customers = customers.with_columns(lat=pl.Series([None, 0.0]))
    result = network(customers, sites=sites, skip_unlocated=True)
    rows = result.assignments.select("customer_id", "site_id", "left_out").rows()
    assert rows == [("fast1", None, "unlocated"), ("slow1", "FAR", None)]
    assert (result.totals.unlocated, result.totals.unlocated_ids) == (1, ("fast1",))
    assert result.totals.customers == 1


def test_network_customers_without_positive_demand_are_left_out_and_listed() -> None:
    # Net of returns, 'ret' bought nothing and 'zero' nothing at all: nothing to deliver, so
    # they do not pull a site towards them; they are listed with no site.
    customers = pl.DataFrame(
        {
            "customer_id": ["ret", "a", "zero"],
            "demand": [-4.0, 2.0, 0.0],
            "lat": [10.0, 0.0, 10.0],
            "lon": [0.0, 0.0, 0.0],
        }
    )
    sites = pl.DataFrame(
        {
            "site_id": ["NEAR_A", "NEAR_RET"],
            "lat": [0.0, 10.0],
            "lon": [0.0, 0.0],
            "fixed_cost": [10.0, 10.0],
        }
    )
    result = network(customers, sites=sites)
    rows = result.assignments.select("customer_id", "site_id", "demand", "left_out").rows()
    assert rows == [
        ("ret", None, -4.0, "no_demand"),
        ("a", "NEAR_A", 2.0, None),
        ("zero", None, 0.0, "no_demand"),
    ]
    assert result.sites.filter(pl.col("open"))["site_id"].to_list() == ["NEAR_A"]
    assert (result.totals.no_demand, result.totals.customers) == (2, 1)
    assert "2 customers with no positive demand" in result.notes[0]


def test_network_all_customers_without_demand_is_a_data_error() -> None:
    customers, sites = _promise_case()
    customers = customers.with_columns(demand=pl.lit(0.0))
    with pytest.raises(DataError, match="all 2 customers with coordinates have no positive"):
        network(customers, sites=sites)


def test_network_without_promise_reports_no_within_share() -> None:
    # No max_delivery_days anywhere: there is no promise to keep, so no "100 % within".
    customers, sites = _promise_case()
    result = network(customers, sites=sites)
    assert result.promise["within_promise"].to_list() == [None, None]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("lat", 95.0, "lat outside \\[-90, 90\\]: 95.0 for customer_id 'fast1'"),
        ("lon", -181.0, "lon outside \\[-180, 180\\]: -181.0 for customer_id 'fast1'"),
        ("demand", float("nan"), "demand is blank or not a number for customer_id 'fast1'"),
    ],
)
def test_network_bad_customer_values_are_named(column: str, value: float, message: str) -> None:
    customers, sites = _promise_case()
    customers = customers.with_columns(
        pl.Series(column, [value, 0.0 if column != "demand" else 1.0])
    )
    with pytest.raises(DataError, match=message):
        network(customers, sites=sites)


def test_network_lists_every_customer_problem_at_once() -> None:
    customers, sites = _promise_case()
    customers = customers.with_columns(
        customer_id=pl.Series(["a", "a"]), lat=pl.Series([0.0, 99.0])
    )
    with pytest.raises(
        DataError, match="1 customer_id is on more than one row: 'a' \\(rows 1, 2\\);.*lat outside"
    ):
        network(customers, sites=sites)


def test_network_duplicate_site_ids_are_an_error() -> None:
    customers, sites = _promise_case()
    sites = sites.with_columns(site_id=pl.lit("S"))
    message = r"^--sites: 1 site_id is on more than one row: 'S' \(rows 1, 2\)"
    with pytest.raises(DataError, match=message):
        network(customers, sites=sites)


def test_network_no_sites_is_an_error() -> None:
    customers, sites = _promise_case()
    with pytest.raises(DataError, match="--sites: no sites"):
        network(customers, sites=sites.clear())


def test_network_open_more_than_sites_is_a_usage_error() -> None:
    customers, sites = _promise_case()
    with pytest.raises(UsageError, match="--open 3 is more than the 2 sites in --sites"):
        network(customers, sites=sites, open=3)


def test_network_open_fewer_than_existing_sites_names_them() -> None:
    customers, sites = _promise_case()
    with pytest.raises(UsageError) as err:
        network(customers, sites=sites.with_columns(existing=pl.Series([True, True])), open=1)
    assert str(err.value) == (
        "--open 1 is fewer than the 2 existing sites in --sites (always open); use --open 2 or more"
    )


def test_network_candidates_fewer_than_open_say_where_the_sites_came_from() -> None:
    """--candidates 1 --open 2 said 'more than the 1 sites given' when no site was given."""
    customers, _ = _promise_case()
    with pytest.raises(UsageError) as err:
        network(customers, candidates=1, open=2)
    assert str(err.value) == (
        "--open 2 is more than the 1 candidate site that --candidates 1 proposes; use --open 1 "
        "or less, or ask for --candidates 2"
    )


def test_network_one_customer_location_is_singular() -> None:
    customers, _ = _promise_case()  # both customers at (0, 0)
    with pytest.raises(UsageError, match="more than the 1 distinct customer location; ask"):
        network(customers, candidates=2)


def test_network_needs_sites_or_candidates() -> None:
    customers, sites = _promise_case()
    with pytest.raises(UsageError, match="give the candidate sites with --sites FILE, or"):
        network(customers)
    with pytest.raises(UsageError, match="give either --sites FILE or --candidates N, not both"):
        network(customers, sites=sites, candidates=1)


def test_network_params_resolve_in_order_and_take_the_field_types() -> None:
    from segchain.network import NetworkParams

    given = {"km_per_day": None, "gap": 0.01, "allow_split": None, "seed": None}
    config = {"km_per_day": 250, "allow_split": 1}  # as a TOML file may give them
    params = NetworkParams.resolve(
        lambda name, default: (
            given.get(name) if given.get(name) is not None else config.get(name, default)
        )
    )
    assert (params.km_per_day, params.gap, params.allow_split, params.seed) == (
        250.0,
        0.01,
        True,
        0,
    )
    assert isinstance(params.km_per_day, float)
    # The same object is the stage's keywords: every field is a parameter of network().
    import inspect

    assert set(params.as_dict()) <= set(inspect.signature(network).parameters)


def test_network_params_check_lists_every_problem_at_once() -> None:
    from segchain.network import NetworkParams

    with pytest.raises(UsageError) as err:
        NetworkParams(open=0, gap=1.5, max_points=0).check(sites_given=True)
    assert str(err.value).count(";") == 2


# ---------------------------------------------------------------------------------------------
# The matrix


def test_build_constraints_rows_for_two_customers_two_sites() -> None:
    j = np.array([0, 0, 1])
    i = np.array([0, 1, 1])
    A, lb, ub = build_constraints(j, i, 2, np.array([3.0, 4.0]), np.array([np.nan, 5.0]), open=1)
    # columns: y0 y1 x(0,0) x(0,1) x(1,1)
    expected = np.array(
        [
            [0, 0, 1, 1, 0],  # customer 0 assigned
            [0, 0, 0, 0, 1],  # customer 1 assigned
            [-1, 0, 1, 0, 0],  # x(0,0) <= y0
            [0, -1, 0, 1, 0],
            [0, -1, 0, 0, 1],
            [0, -5, 0, 3, 4],  # capacity of site 1
            [1, 1, 0, 0, 0],  # open exactly 1
        ]
    )
    assert np.array_equal(A.toarray(), expected)
    assert lb.tolist() == [1, 1, -np.inf, -np.inf, -np.inf, -np.inf, 1]
    assert ub.tolist() == [1, 1, 0, 0, 0, 0, 1]


def test_network_lanes_for_unknown_ids_are_counted() -> None:
    customers = pl.DataFrame({"customer_id": ["a"], "demand": [1.0]})
    sites = pl.DataFrame({"site_id": ["S"]})
    lanes = pl.DataFrame(
        {"site_id": ["S", "S", "X"], "customer_id": ["a", "zz", "a"], "unit_cost": [1.0] * 3}
    )
    result = network(customers, sites=sites, costs=lanes)
    # A warning since session 59: a site spelt otherwise lost every lane under --quiet.
    assert "2 lanes in --costs name a site_id or customer_id not in the inputs" in " ".join(
        result.warnings
    )


def test_network_time_limit_reports_the_proven_gap(monkeypatch) -> None:
    import scipy.optimize
    from scipy.optimize import OptimizeResult

    real = scipy.optimize.milp

    def stopped(*args, **kwargs):
        # As HiGHS answers when its time limit stops it with a plan in hand.
        res = real(*args, **kwargs)
        return OptimizeResult(
            x=res.x,
            fun=res.fun,
            status=1,
            mip_gap=0.0321,
            mip_dual_bound=res.fun * (1 - 0.0321),
            message="Time limit reached",
        )

    monkeypatch.setattr(scipy.optimize, "milp", stopped)
    customers, sites = _promise_case()
    result = network(customers, sites=sites, time_limit=5)
    assert (result.totals.status, result.totals.mip_gap) == ("time_limit", 0.0321)
    assert "the plan is within 3.2100% of optimal" in " ".join(result.warnings)


def test_network_time_limit_without_any_plan_is_an_error(monkeypatch) -> None:
    import scipy.optimize
    from scipy.optimize import OptimizeResult

    from segchain.errors import SegchainError

    monkeypatch.setattr(
        scipy.optimize,
        "milp",
        lambda *a, **k: OptimizeResult(x=None, status=1, mip_gap=None, message="Time limit"),
    )
    customers, sites = _promise_case()
    said = "time limit \\(--time-limit 5 s\\) before finding any feasible"
    with pytest.raises(SegchainError, match=said):
        network(customers, sites=sites, time_limit=5)


def _far_apart() -> tuple[pl.DataFrame, pl.DataFrame]:
    # Two fast customers about 2,200 km apart, each with a site next door; the site by the
    # small customer is much cheaper to run.
    customers = pl.DataFrame(
        {
            "customer_id": ["big", "small"],
            "segment": ["Fast", "Fast"],
            "demand": [10.0, 3.0],
            "lat": [0.0, 0.0],
            "lon": [0.0, 20.0],
        }
    )
    sites = pl.DataFrame(
        {"site_id": ["A", "B"], "lat": [0.0, 0.0], "lon": [0.1, 20.1], "fixed_cost": [9e5, 0.0]}
    )
    return customers, sites


def test_network_open_k_that_cannot_keep_every_promise_minimises_late_demand() -> None:
    customers, sites = _far_apart()
    result = network(customers, sites=sites, open=1, policies=_policies(Fast=1))
    assert result.assignments["site_id"].to_list() == ["A", "A"]
    assert result.assignments["sla_met"].to_list() == [True, False]
    assert "serves the least demand possible late (3 of 13)" in " ".join(result.warnings)


def test_network_open_k_without_promises_takes_cheapest_site() -> None:
    customers, sites = _far_apart()
    result = network(customers, sites=sites, open=1)
    assert result.assignments["site_id"].to_list() == ["B", "B"]


# ---------------------------------------------------------------------------------------------
# The delivery promise rule, written once


@pytest.mark.parametrize(
    ("transit", "sla", "kept"),
    [
        (2.0, 2.0, True),  # exactly on the promise
        (2.0 * (1 + 1e-12), 2.0, True),  # floating-point noise of a distance / speed
        (2.001, 2.0, False),
        (0.0, 0.0, True),
        (1e-6, 0.0, False),  # same-day promise, 0.5 m away at 500 km/day: broken
        (1e6, float("inf"), True),  # no promise
    ],
)
def test_within_promise_on_numbers_arrays_and_expressions(transit, sla, kept) -> None:
    from segchain.network import within_promise

    assert bool(within_promise(transit, sla)) is kept
    assert within_promise(np.array([transit]), np.array([sla])).tolist() == [kept]
    frame = pl.DataFrame({"t": [transit], "s": [sla]})
    assert frame.select(within_promise(pl.col("t"), pl.col("s")))["t"].to_list() == [kept]


def test_network_sla_met_agrees_with_the_model_at_the_promise_boundary() -> None:
    # FAR is 2 days away plus less than the promise's tolerance (in days): the model must allow
    # it (and so open the free FAR rather than the costly NEAR) and the output must say the
    # promise was met: one rule for both. (They once used different tolerances, km vs days.)
    customers, sites = _promise_case()
    far_km = float(haversine_km(0.0, 0.0, 10.0, 0.0))
    result = network(
        customers,
        sites=sites,
        km_per_day=far_km / (2.0 * (1 + 1e-9) + 0.5e-9),
        policies=_policies(Fast=2.0, Slow=2.0),
    )
    rows = result.assignments
    assert rows["site_id"].to_list() == ["FAR", "FAR"]
    assert rows["sla_met"].to_list() == [True, True]


def test_network_max_points_below_one_is_a_usage_error() -> None:
    customers, sites = _promise_case()
    with pytest.raises(UsageError, match=r"--max-points must be at least 1, got 0"):
        network(customers, sites=sites, max_points=0)


def test_network_metadata_carries_totals_and_the_promise_table() -> None:
    customers, sites = _promise_case()
    result = network(customers, sites=sites, policies=_policies(Fast=1.0))
    meta = result.metadata()
    assert meta["totals"]["baseline_total_cost"] == result.totals.baseline_total_cost
    fast = next(r for r in meta["promise"] if r["segment"] == "Fast")
    # With the promise Fast goes to NEAR (within 1 day); without it, to the free FAR site.
    assert (fast["within_promise"], fast["baseline_within_promise"]) == (1.0, 0.0)
    assert result.inputs == {"customers": 2, "sites": 2}


def test_network_least_late_demand_is_written_whole_not_in_exponent() -> None:
    # Online Retail with --open 3: "(47,106 of 4.90124e+06)", the total in 6 significant
    # digits and an exponent; 1,234,567 + 10 units is written as counted.
    customers, sites = _far_apart()
    customers = customers.with_columns(pl.Series("demand", [1_234_567.0, 10.0]))
    result = network(customers, sites=sites, open=1, policies=_policies(Fast=1))
    late = result.assignments.filter(~pl.col("sla_met"))["demand"].sum()
    assert late == 10.0
    assert "serves the least demand possible late (10 of 1,234,577)" in " ".join(result.warnings)
