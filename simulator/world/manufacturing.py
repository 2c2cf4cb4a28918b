"""Downstream manufacturers, stepped together once a day as numpy vectors.

No SimPy process runs per manufacturer: one daily process (:meth:`Plants.step`)
consumes, records and decides orders for all of them at once; deliveries are
callbacks that add to the inventory vector.

Daily step for day ``d`` (at time ``d``, using stock that arrived before ``d``)::

    demand    = units_per_day × kg_per_unit / 1000 × operating(d) × noise      [t]
    served    = min(inventory, demand)            shortfall = demand − served
    lost mode:    shortfall is lost production
    backlog mode: shortfall joins the backlog; leftover stock then serves the backlog
    inventory position = inventory + on order − backlog
    order-up-to (every review_days):  order S − position,
        S = mean daily demand × (lead-time estimate + review_days + safety_days)
    (s, S) (daily):  if position ≤ s = mean demand × (lead-time estimate + safety_days)
        order up to s + mean demand × order_days

Mean daily demand counts only operating days (``weekdays``: × 5/7). The lead-time
estimate moves towards each observed order-to-delivery time with weight
``lead_time.adapt`` (panic ordering when waits grow).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.scenario.manufacturers import SS, Manufacturer, OrderUpTo

__all__ = ["Plants"]


class Plants:
    """State of all manufacturers as vectors, plus daily records.

    Args:
        mfrs: Manufacturers in scenario order.
        horizon: Simulated days.
        weekday0: Weekday (Mon=0) of day 0.
        noise: Demand multipliers, shape (horizon, n), mean 1 (ones when demand_cv=0).
        place_order: Called as ``place_order(m, tonnes)`` for each order decided.
    """

    def __init__(
        self,
        mfrs: list[Manufacturer],
        horizon: int,
        weekday0: int,
        noise: np.ndarray,
        place_order: Callable[[int, float], None],
    ) -> None:
        n = len(mfrs)
        self.mfrs = mfrs
        self.n = n
        self.horizon = horizon
        self.place_order = place_order
        base = np.array([m.daily_demand_t() for m in mfrs], dtype=float)
        weekdays = np.array([m.operating_days == "weekdays" for m in mfrs], dtype=bool)
        day_wd = (weekday0 + np.arange(horizon)) % 7
        operating = np.where(weekdays[None, :], (day_wd < 5)[:, None], True)
        self.demand = base[None, :] * operating * noise  # (H, n) tonnes
        self.mean_daily = base * np.where(weekdays, 5.0 / 7.0, 1.0)
        self.inventory = (
            np.array([m.initial_cover_days for m in mfrs], dtype=float) * self.mean_daily
        )
        self.initial_inventory = self.inventory.copy()
        self.on_order = np.zeros(n)
        self.backlog = np.zeros(n)
        self.lead_est = np.array([m.lead_time.initial_days for m in mfrs], dtype=float)
        self.adapt = np.array([m.lead_time.adapt for m in mfrs], dtype=float)
        self.backlog_mode = np.array([m.unmet_demand == "backlog" for m in mfrs], dtype=bool)
        pol = [m.replenishment for m in mfrs]
        self.is_ss = np.array([isinstance(p, SS) for p in pol], dtype=bool)
        self.review = np.array([p.review_days if isinstance(p, OrderUpTo) else 1 for p in pol])
        self.safety = np.array([p.safety_days for p in pol], dtype=float)
        self.order_days = np.array([p.order_days if isinstance(p, SS) else 0.0 for p in pol])
        self.out_factor = np.array(
            [
                m.output_kg_per_unit / m.kg_per_unit
                if m.output_product and m.kg_per_unit > 0
                else 0.0
                for m in mfrs
            ],
            dtype=float,
        )
        self.output_made = np.zeros(n)  # tonnes of output made today (multi-tier)
        # daily records (H, n)
        shape = (horizon, n)
        self.rec_demand = self.demand
        self.rec_consumed = np.zeros(shape)
        self.rec_shortfall = np.zeros(shape)
        self.rec_inventory = np.zeros(shape)
        self.rec_on_order = np.zeros(shape)
        self.rec_backlog = np.zeros(shape)

    def cover_days(self, m: int) -> float:
        """Days of mean demand the current inventory of ``m`` covers."""
        md = self.mean_daily[m]
        return np.inf if md <= 0 else self.inventory[m] / md

    def receive(self, m: int, tonnes: float, lead_days: float) -> None:
        """Goods delivered to ``m``; update the lead-time estimate."""
        self.inventory[m] += tonnes
        self.on_order[m] -= tonnes
        a = self.adapt[m]
        if a > 0:
            self.lead_est[m] += a * (lead_days - self.lead_est[m])

    def cancel(self, m: int, tonnes: float) -> None:
        """Part of an order will never come (denied, expired)."""
        self.on_order[m] -= tonnes

    def step(self, d: int) -> None:
        """Consume, record and order for day ``d``."""
        demand = self.demand[d]
        inv = self.inventory
        served = np.minimum(inv, demand)
        short = demand - served
        inv -= served
        # backlog mode: leftover stock serves the backlog, then today's shortfall joins it
        extra = np.where(self.backlog_mode, np.minimum(inv, self.backlog), 0.0)
        inv -= extra
        self.backlog += np.where(self.backlog_mode, short - extra, 0.0)
        consumed = served + extra
        self.output_made = consumed * self.out_factor
        self.rec_consumed[d] = consumed
        self.rec_shortfall[d] = short
        # order decisions
        position = inv + self.on_order - self.backlog
        md = self.mean_daily
        s_level = md * (self.lead_est + self.safety)
        target = np.where(
            self.is_ss,
            s_level + md * self.order_days,
            md * (self.lead_est + self.review + self.safety),
        )
        due = np.where(self.is_ss, position <= s_level, (d % self.review) == 0)
        qty = np.where(due, target - position, 0.0)
        for m in np.flatnonzero(qty > 1e-9 * np.maximum(md, 1e-12)):
            q = float(qty[m])
            self.on_order[m] += q
            self.place_order(int(m), q)
        self.rec_inventory[d] = inv
        self.rec_on_order[d] = self.on_order
        self.rec_backlog[d] = self.backlog
