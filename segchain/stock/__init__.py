"""stock: inventory policies per stocking point whose service targets come from customer segments.

The stage reads a forecast (Nixtla long format, one row per series x future period), sums the
series of each stocking point (``sku``, and ``site`` when present), and computes a replenishment
policy with the textbook formulas:

* protection interval ``T``: ``L + R`` for both policy types, ``R`` the days between two reviews
  (``review_days``, default 1: nightly): order-up-to ``(R, S)``, or ``(s, Q)`` looked at every
  ``R``, whose position falls below ``s`` by up to a review's demand before the order goes out
  (the undershoot; see ``policy.compute_policy``);
* demand over the interval: mean ``mu*T``, sd ``sqrt(T*sd^2 + mu^2*sd_L^2)`` with the forecast's
  one-step error sd (not the raw demand's deviation), ``T`` and ``sd_L`` in forecast periods (a
  period the sum of its independent days);
* cycle service level: ``s = mean_T + z*sd_T`` (for slow and lumpy ``(s, Q)`` items, the exact
  ``P(D_L + U <= s)`` with the undershoot ``U``); fill rate ``(R, S)``: ``sd_T*G(k) = (1 -
  target)*mu*R`` with the standard normal loss function ``G`` (Silver, Pyke & Peterson); fill
  rate ``(s, Q)``: the exact ``(R, s, nQ)`` shortage, the position after ordering
  being uniform on ``(s, s + Q]``, with second-order loss functions (Hadley & Whitin; Axsaeter);
* slow and lumpy items (``demand_class`` intermittent or lumpy, or fewer than ``LOW_MEAN_UNITS``
  units over the interval): Poisson when the variance does not exceed the mean, else negative
  binomial, fitted by mean and sd (gamma above ``GAMMA_ABOVE_UNITS``), and the smallest integer
  level that meets the target, never a normal approximation (levels from a pmf grid built once
  per row, all candidate levels at once; the closed forms where the grid would be too wide);
* order quantity: EOQ ``sqrt(2*D*K/h)`` with ``h = holding_rate*unit_cost``, raised to the MOQ and
  rounded up to the pack size.

Levels are integers (units): the smallest integer level meeting the target, never below zero.

The package, one concept a module (after stockpyl's layout): ``loss_functions`` (normal and
closed-form loss functions), ``distributions`` (moment fits, cdfs, pmf grids), ``eoq`` (order
quantities), ``sq`` ((s, Q) looked at once per period: undershoot and shortage), ``levels`` (level
solvers), ``inputs`` (forecast series, targets, items, on-hand), ``policy`` (assembly),
``compare`` (segmented vs uniform), ``sim`` (simulation) and ``stage`` (the ``stock`` function).
"""

from segchain.stock.distributions import DISTRIBUTIONS, Fitted, dist_cdf, fit_params, smallest_level
from segchain.stock.eoq import eoq, round_order_qty
from segchain.stock.inputs import DEFAULT_SERVICE_LEVEL, DEFAULT_SERVICE_MEASURE, ITEM_DEFAULTS
from segchain.stock.loss_functions import (
    dist_loss,
    dist_loss2,
    inverse_normal_loss,
    normal_loss,
    normal_loss2,
)
from segchain.stock.sim import simulate
from segchain.stock.sq import undershoot_moments
from segchain.stock.stage import StockResult, simulate_segments, stock

__all__ = [
    "DEFAULT_SERVICE_LEVEL",
    "DEFAULT_SERVICE_MEASURE",
    "DISTRIBUTIONS",
    "ITEM_DEFAULTS",
    "Fitted",
    "StockResult",
    "dist_cdf",
    "dist_loss",
    "dist_loss2",
    "eoq",
    "fit_params",
    "inverse_normal_loss",
    "normal_loss",
    "normal_loss2",
    "round_order_qty",
    "simulate",
    "simulate_segments",
    "smallest_level",
    "stock",
    "undershoot_moments",
]
