"""Goods on the move: exporter capacity and lanes.

An exporter works its orders first come, first served at its capacity (tonnes per
month, piecewise constant over ``ramp`` dates), then the goods wait the exporter's
lead time and travel a lane. Finish times are computed analytically from the
capacity profile, so no SimPy process runs per exporter.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.goods import Exporter, Lane

__all__ = ["DAYS_PER_MONTH", "CapacityQueue", "LaneTable"]

DAYS_PER_MONTH = 30.4375
"""Average calendar days per month (365.25 / 12)."""


class CapacityQueue:
    """First-come-first-served production at a piecewise-constant rate.

    Args:
        exporter: The exporter (capacity and ramp).
        start: Scenario start date (time 0).
    """

    def __init__(self, exporter: Exporter, start: dt.date) -> None:
        pts = sorted(exporter.ramp, key=lambda p: p.date)
        self.times: list[float] = [-math.inf] + [float((p.date - start).days) for p in pts]
        self.rates: list[float] = [exporter.capacity_t_per_month / DAYS_PER_MONTH] + [
            p.capacity_t_per_month / DAYS_PER_MONTH for p in pts
        ]
        self.free_at = 0.0

    def rate_at(self, t: float) -> float:
        """Capacity at time ``t``, tonnes per day."""
        rate = self.rates[0]
        for tb, r in zip(self.times, self.rates, strict=True):
            if tb <= t:
                rate = r
        return rate

    def finish_time(self, now: float, tonnes: float) -> float:
        """When ``tonnes`` queued now would be finished (inf if capacity never suffices)."""
        t = max(now, self.free_at)
        left = tonnes
        n = len(self.times)
        i = 0
        while i + 1 < n and self.times[i + 1] <= t:
            i += 1
        while True:
            rate = self.rates[i]
            seg_end = self.times[i + 1] if i + 1 < n else math.inf
            if rate > 0:
                need = left / rate
                if t + need <= seg_end:
                    return t + need
                left -= (seg_end - t) * rate
            if seg_end == math.inf:
                return math.inf
            t = seg_end
            i += 1

    def commit(self, finish: float) -> None:
        """Book the capacity up to ``finish``."""
        self.free_at = finish


class LaneTable:
    """Find the lane for an (origin, destination) pair, preferring a mode."""

    def __init__(self, lanes: list[Lane]) -> None:
        self.lanes = lanes
        self._by_pair: dict[tuple[str, str], list[int]] = {}
        for i, ln in enumerate(lanes):
            self._by_pair.setdefault((ln.origin, ln.destination), []).append(i)

    def pick(self, origin: str, destination: str, mode: str | None = None) -> int:
        """Index of the lane to use: ``mode`` if such a lane exists, else the first lane
        for the pair (validation guarantees one exists)."""
        idx = self._by_pair[(origin, destination)]
        if mode is not None:
            for i in idx:
                if self.lanes[i].mode == mode:
                    return i
        return idx[0]

    def modes_into(self, destination: str) -> set[str]:
        """Modes of lanes arriving in ``destination``."""
        return {ln.mode for ln in self.lanes if ln.destination == destination}
