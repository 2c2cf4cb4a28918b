"""Goods on the move: exporter capacity and lanes.

An exporter works its orders first come, first served at its capacity (tonnes per
month, piecewise constant over ``ramp`` dates), then the goods wait the exporter's
lead time and travel a lane. Finish times are computed analytically from the
capacity profile, so no SimPy process runs per exporter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.world.arith import finish_time

if TYPE_CHECKING:  # pragma: no cover
    from simulator.world.static import Static

__all__ = ["DAYS_PER_MONTH", "CapacityQueue"]

DAYS_PER_MONTH = 30.4375
"""Average calendar days per month (365.25 / 12)."""


class CapacityQueue:
    """First-come-first-served production at a piecewise-constant rate: exporter ``e`` of
    the compiled scenario (finish times: :func:`simulator.world.arith.finish_time`).

    Args:
        st: The compiled scenario (capacity profiles).
        e: Exporter index.
    """

    def __init__(self, st: Static, e: int) -> None:
        self._times, self._rates, self._n, self._e = st.cap_times, st.cap_rates, int(st.cap_n[e]), e
        self.free_at = 0.0

    def finish_time(self, now: float, tonnes: float) -> float:
        """When ``tonnes`` queued now would be finished (inf if capacity never suffices)."""
        return finish_time(self._times, self._rates, self._n, self._e, self.free_at, now, tonnes)

    def commit(self, finish: float) -> None:
        """Book the capacity up to ``finish``."""
        self.free_at = finish
