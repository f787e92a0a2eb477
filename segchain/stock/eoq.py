"""Order quantities: the economic order quantity and MOQ / pack-size rounding."""

from __future__ import annotations

from typing import Any

import numpy as np


def eoq(annual_demand: Any, order_cost: Any, holding_cost: Any) -> np.ndarray:
    """Economic order quantity sqrt(2*D*K/h) (Harris; Snyder & Shen eq. 3.4)."""
    d = np.asarray(annual_demand, dtype=float)
    k = np.asarray(order_cost, dtype=float)
    h = np.asarray(holding_cost, dtype=float)
    # A holding cost of 0 (an underflow) gives inf, which the caller refuses with a message.
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(2.0 * d * k / h)


def round_order_qty(q: Any, moq: Any, pack_size: Any) -> np.ndarray:
    """Raise ``q`` to the MOQ, then round it up to a whole number of packs (at least one pack)."""
    q = np.maximum(np.asarray(q, dtype=float), np.asarray(moq, dtype=float))
    pack = np.asarray(pack_size, dtype=float)
    packs = np.maximum(np.ceil(q / pack - 1e-9), 1.0)
    return packs * pack


def rs_lot_binds(review_demand: Any, moq: Any, pack_size: Any) -> np.ndarray:
    """(R, S) points whose smallest order, the MOQ in whole packs (at least one pack), exceeds
    both a review's mean demand ``review_demand`` and one unit.

    An (R, S) order is S - IP raised to the MOQ and rounded up to whole packs
    (``inputs.join_on_hand``). S - IP is about a review's demand, so where the smallest order
    Q exceeds it, most orders are Q and the position after ordering spreads over [S, S + Q):
    the policy is (R, s, nQ) with s = S - 1 (Silver, Pyke & Peterson; Axsaeter sec. 5.3), not
    order-up-to S, and its stock carries about Q/2 more. Where Q is at most a review's demand,
    most orders are S - IP itself (to a pack): order-up-to S. A lot of one unit (no MOQ, packs
    of 1) is S - IP exactly in whole units: nothing binds."""
    rd = np.asarray(review_demand, dtype=float)
    lot = round_order_qty(0.0, moq, pack_size)
    return (rd > 0) & (lot > np.maximum(rd, 1.0))


def rs_step(review_demand: Any, moq: Any, pack_size: Any) -> np.ndarray:
    """The step Q of the (R, s, nQ) policy an (R, S) point's orders make, 1 where they make
    order-up-to S.

    Where the lot binds (``rs_lot_binds``), most orders are the lot: Q is the lot. Where it
    does not but packs are larger than a unit, an order of S - IP rounded up to whole packs
    lifts the position to S plus the rounding, uniform over a pack (the shortfall's remainder
    modulo the pack spreads evenly): the orders of (R, s, nQ) with s = S - 1 and Q the pack,
    exactly while the MOQ does not bind (Silver, Pyke & Peterson; Axsaeter sec. 5.3). Packs of
    50 on 100 a week held about 22 units more than the order-up-to plan said."""
    rd = np.asarray(review_demand, dtype=float)
    pack = np.asarray(pack_size, dtype=float)
    lot = round_order_qty(0.0, moq, pack)
    binds = rs_lot_binds(rd, moq, pack)
    return np.where(binds, lot, np.where((rd > 0) & (pack > 1.0), pack, 1.0))


def rs_order(need: Any, moq: Any, pack_size: Any) -> np.ndarray:
    """What an (R, S) review of a replay orders for a shortfall ``need`` = S - IP: nothing
    where it is not positive, else at least the MOQ, in whole packs (``inputs.join_on_hand``'s
    ``order_now``). Without an MOQ and in packs of 1, ``need`` itself: a replay's demand draws
    are not whole units, and rounding up what whole units of real stock order exactly held
    about half a unit more than the plan (a level one unit below the smallest replayed a fill
    of 0.952 for a 0.95 target)."""
    need = np.asarray(need, dtype=float)
    moq = np.asarray(moq, dtype=float)
    pack = np.asarray(pack_size, dtype=float)
    packs = np.ceil(np.maximum(need, moq) / pack - 1e-9)
    lots = np.where((moq > 0) | (pack != 1.0), packs * pack, need)
    return np.where(need > 0, lots, 0.0)
