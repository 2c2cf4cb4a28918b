"""Goods on the move: exporter capacity and lanes.

An exporter works its orders first come, first served at its capacity (tonnes per
month, piecewise constant over ``ramp`` dates), then the goods wait the exporter's
lead time and travel a lane. Finish times are computed analytically from the
capacity profile, so no SimPy process runs per exporter.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DAYS_PER_MONTH", "CapacityQueue", "pick_lane"]

DAYS_PER_MONTH = 30.4375
"""Average calendar days per month (365.25 / 12)."""


class CapacityQueue:
    """First-come-first-served production at a piecewise-constant rate.

    Args:
        times: Start of each capacity segment, days since start (the first is -inf).
        rates: Capacity of each segment, tonnes per day.
    """

    def __init__(self, times: np.ndarray, rates: np.ndarray) -> None:
        self.times: list[float] = [float(t) for t in times]
        self.rates: list[float] = [float(r) for r in rates]
        self.free_at = 0.0

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


def pick_lane(lane_of: np.ndarray, origin: int, destination: int, mode: int) -> int:
    """Index of the lane to use from country ``origin`` to ``destination``: a lane of mode
    code ``mode`` (:data:`~simulator.world.static.MODES`) if one exists, else the first
    lane for the pair (validation guarantees one exists); ``mode`` -1: the first lane."""
    if mode >= 0 and lane_of[origin, destination, mode + 1] >= 0:
        return int(lane_of[origin, destination, mode + 1])
    return int(lane_of[origin, destination, 0])
