"""Downstream manufacturers, stepped together once a day as numpy vectors.

No SimPy process runs per manufacturer: one daily step (:meth:`Plants.step`) makes,
records and orders for all of them at once; deliveries are callbacks that add to a
part's inventory.

A manufacturer is a production line with one or more critical parts (its bill of
materials); a one-part line is the special case of one part. Daily step for day ``d``
(at time ``d``, after every other event of that instant, so goods arriving at ``d`` are
in stock)::

    demand_units  = units_per_day × operating(d) × noise                         [units]
    can_make      = min over the line's parts of inventory_p / tonnes_per_unit_p  [units]
    made          = min(demand_units, can_make)       short = demand_units − made
    each part uses made × tonnes_per_unit_p; a plentiful part keeps what is not used
    lost lines:    short units are lost production
    backlog lines: short units join the backlog; leftover stock then makes backlog units
    per part: inventory position = inventory + on order − backlog × tonnes_per_unit
    order-up-to (every review_days):  order S − position,
        S = mean daily need × (lead-time estimate + review_days + safety_days)
    (s, S) (daily):  if position ≤ s = mean daily need × (lead-time estimate + safety_days)
        order up to s + mean daily need × order_days

The line stops (falls short of demand) as soon as any one part runs out, whatever the
stock of the others. Mean daily need counts only operating days (``weekdays``: × 5/7).
Each part's lead-time estimate moves towards each observed order-to-delivery time with
weight ``lead_time.adapt`` (panic ordering when waits grow).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from simulator.world.arith import plant_day

if TYPE_CHECKING:  # pragma: no cover
    from simulator.world.static import Static

__all__ = ["Plants"]


class Plants:
    """State of all production lines and their parts as vectors, plus daily records.

    Args:
        st: The compiled scenario (lines, parts and their settings).
        noise: Demand multipliers, shape (horizon, manufacturers), mean 1 (ones when
            demand_cv = 0).
        place_order: Called as ``place_order(part, tonnes)`` for each order decided
            (``part`` indexes the compiled scenario's parts).
    """

    def __init__(
        self,
        st: Static,
        noise: np.ndarray,
        place_order: Callable[[int, float], None],
    ) -> None:
        M, P, H = st.M, st.P, st.H
        self.n = M
        self.n_parts = P
        self.horizon = H
        self.place_order = place_order
        self.line = st.part_line  # manufacturer of each part
        self.first_part = st.first_part  # first part of each line (np.minimum.reduceat)
        self.demand_units = st.demand_base * noise  # (H, M) units
        self.mean_units = st.mean_units
        self.t_per_unit = st.t_per_unit  # tonnes of each part's material per unit made
        self.mean_daily = st.mean_daily  # (P,) t/day
        self.inventory = st.init_inventory.copy()
        self.initial_inventory = st.init_inventory.copy()
        self.on_order = np.zeros(P)
        self.backlog_units = np.zeros(M)
        self.lead_est = st.lead_init.copy()
        self.ahead = st.ahead
        self.extra = np.zeros(P)  # extra safety stock of reacting buyers, days
        self.adapt = st.adapt
        # as integers, like the kernel's packed rows: one compiled plant_day for both
        self.backlog_mode = st.backlog_mode.astype(np.int64)
        self.is_ss = st.is_ss.astype(np.int64)
        self.review = st.review
        self.safety = st.safety
        self.react = (st.react_gain, st.react_max, st.react_keep)  # reacting buyers
        self.order_days = st.order_days
        self.out_t_per_unit = st.out_t_per_unit
        self.output_made = np.zeros(M)  # tonnes of output made today (multi-tier)
        self._out = {  # one day's results (plant_day writes them)
            **{k: np.zeros(P) for k in ("consumed_t", "shortfall_t", "stockout_t")},
            **{k: np.zeros(P) for k in ("backlog_t", "qty")},
            **{k: np.zeros(M) for k in ("made_units", "short_units")},
        }
        line = self.line
        self.rec = {
            "demand_t": self.demand_units[:, line] * self.t_per_unit,
            **{k: np.zeros((H, P)) for k in ("consumed_t", "shortfall_t", "stockout_t")},
            **{k: np.zeros((H, P)) for k in ("inventory_t", "on_order_t", "backlog_t")},
        }
        self.rec_line = {
            "demand_units": self.demand_units,
            **{k: np.zeros((H, M)) for k in ("made_units", "short_units", "backlog_units")},
        }

    def cover_days(self, part: int) -> float:
        """Days of mean need the current inventory of ``part`` covers."""
        md = self.mean_daily[part]
        return np.inf if md <= 0 else self.inventory[part] / md

    def receive(self, part: int, tonnes: float, lead_days: float | None) -> None:
        """Goods delivered for ``part``; update its lead-time estimate with the observed
        order-to-delivery time (None: nothing to learn, e.g. goods ordered before the
        start)."""
        self.inventory[part] += tonnes
        self.on_order[part] -= tonnes
        a = self.adapt[part]
        if a > 0 and lead_days is not None:
            self.lead_est[part] += a * (lead_days - self.lead_est[part])

    def expect(self, part: int, tonnes: float) -> None:
        """Goods ordered before the start are on their way (counted on order)."""
        self.on_order[part] += tonnes

    def cancel(self, part: int, tonnes: float) -> None:
        """Part of an order will never come (denied, expired)."""
        self.on_order[part] -= tonnes

    def step(self, d: int) -> None:
        """Make, record and order for day ``d`` (:func:`simulator.world.arith.plant_day`)."""
        o = self._out
        plant_day(
            d,
            self.demand_units[d],
            self.inventory,
            self.on_order,
            self.lead_est,
            self.ahead[d],
            self.backlog_units,
            self.line,
            self.t_per_unit,
            self.mean_daily,
            self.backlog_mode,
            self.is_ss,
            self.review,
            self.safety,
            self.extra,
            *self.react,
            self.order_days,
            self.out_t_per_unit,
            o["consumed_t"],
            o["shortfall_t"],
            o["stockout_t"],
            o["made_units"],
            o["short_units"],
            self.output_made,
            o["backlog_t"],
            o["qty"],
        )
        rec, rl = self.rec, self.rec_line
        for k in ("consumed_t", "shortfall_t", "stockout_t", "backlog_t"):
            rec[k][d] = o[k]
        rl["made_units"][d] = o["made_units"]
        rl["short_units"][d] = o["short_units"]
        for p in np.flatnonzero(o["qty"]):
            self.place_order(int(p), float(o["qty"][p]))
        rec["inventory_t"][d] = self.inventory
        rec["on_order_t"][d] = self.on_order
        rl["backlog_units"][d] = self.backlog_units
