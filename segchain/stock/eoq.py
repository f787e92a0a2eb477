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
