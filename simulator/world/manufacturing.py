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
        self.adapt = st.adapt
        self.backlog_mode = st.backlog_mode
        self.is_ss = st.is_ss
        self.review = st.review
        self.safety = st.safety
        self.order_days = st.order_days
        self.out_t_per_unit = st.out_t_per_unit
        self.output_made = np.zeros(M)  # tonnes of output made today (multi-tier)
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

    def _can_make(self, inv: np.ndarray) -> np.ndarray:
        """Units each line could make from stock ``inv`` (inf for a line needing nothing)."""
        tpu = self.t_per_unit
        with np.errstate(divide="ignore", invalid="ignore"):
            per_part = np.where(tpu > 0, inv / np.where(tpu > 0, tpu, 1.0), np.inf)
        return np.minimum.reduceat(per_part, self.first_part)

    def step(self, d: int) -> None:
        """Make, record and order for day ``d``."""
        line, tpu, inv = self.line, self.t_per_unit, self.inventory
        demand = self.demand_units[d]
        need = demand[line] * tpu
        made = np.minimum(demand, self._can_make(inv))
        short = demand - made
        use = np.minimum(inv, made[line] * tpu)
        stockout = np.maximum(need - inv, 0.0)
        inv -= use
        # backlog lines: leftover stock makes backlog units, then today's shortfall joins
        extra = np.where(
            self.backlog_mode, np.minimum(self.backlog_units, self._can_make(inv)), 0.0
        )
        extra_use = np.minimum(inv, extra[line] * tpu)
        inv -= extra_use
        self.backlog_units += np.where(self.backlog_mode, short - extra, 0.0)
        made_all = made + extra
        self.output_made = made_all * self.out_t_per_unit
        rec = self.rec
        rec["consumed_t"][d] = use + extra_use
        rec["shortfall_t"][d] = short[line] * tpu
        rec["stockout_t"][d] = stockout
        rl = self.rec_line
        rl["made_units"][d] = made_all
        rl["short_units"][d] = short
        # order decisions, per part
        backlog_t = self.backlog_units[line] * tpu
        position = inv + self.on_order - backlog_t
        md = self.mean_daily
        s_level = md * (self.lead_est + self.safety)
        target = np.where(
            self.is_ss,
            s_level + md * self.order_days,
            md * (self.lead_est + self.review + self.safety),
        )
        due = np.where(self.is_ss, position <= s_level, (d % self.review) == 0)
        qty = np.where(due, target - position, 0.0)
        for p in np.flatnonzero(qty > 1e-9 * np.maximum(md, 1e-12)):
            q = float(qty[p])
            self.on_order[p] += q
            self.place_order(int(p), q)
        rec["inventory_t"][d] = inv
        rec["on_order_t"][d] = self.on_order
        rec["backlog_t"][d] = backlog_t
        rl["backlog_units"][d] = self.backlog_units
