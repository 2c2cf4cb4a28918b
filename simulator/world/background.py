"""Background load: when the rest of the world's export contracts arrive.

Each background stream is a Poisson process in *working* time whose rate may change
from one calendar day to the next: ``rate_per_wd`` × the month's factor × the dated
change in force (:meth:`~simulator.scenario.authority.BackgroundStream.rate_factor`).
Arrivals are drawn by inverting the cumulative intensity: unit-rate exponential gaps
``E_1, E_2, …`` are cumulated and each sum ``S`` is placed on the day ``d`` where the
cumulative intensity ``Λ`` (rate × working time, summed day by day) passes it, at the
fraction ``(S − Λ_d) / r_d`` of that working day. Non-working days have no working time
and so no arrivals. With a constant rate this is the homogeneous Poisson process of rate
``rate_per_wd`` per working day.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.authority import BackgroundStream
    from simulator.world.calendar import WorkCalendar

__all__ = ["arrival_times", "daily_rates"]


def daily_rates(bg: BackgroundStream, start: dt.date, days: int) -> np.ndarray:
    """Rate per working day on each calendar day of the horizon, shape (days,)."""
    rate = np.full(days, float(bg.rate_per_wd))
    if bg.month_factors is None and not bg.rate_changes:
        return rate
    dates = np.datetime64(start, "D") + np.arange(days)
    if bg.month_factors is not None:
        month = dates.astype("datetime64[M]").astype(np.int64) % 12  # 0 = January
        rate *= np.asarray(bg.month_factors, dtype=float)[month]
    if bg.rate_changes:
        change = np.ones(days)
        for ch in bg.rate_changes:  # in date order: each later change overrides
            change[dates >= np.datetime64(ch.date, "D")] = ch.factor
        rate *= change
    return rate


def arrival_times(
    bg: BackgroundStream,
    cal: WorkCalendar,
    horizon: int,
    rng: np.random.Generator,
    factor: np.ndarray | None = None,
) -> np.ndarray:
    """Calendar times (days since start, ascending) of the stream's arrivals.

    Args:
        bg: The stream.
        cal: The authority's working-day calendar.
        horizon: Simulated days.
        rng: The stream's arrival generator.
        factor: Multiplier of each day's rate, shape (horizon,): the policy's
            ``demand_factor`` in force that day (none: 1).
    """
    rate = daily_rates(bg, cal.start, horizon)
    if factor is not None:
        rate = rate * factor
    work = np.diff(cal.cum[: horizon + 1])  # working time of each day: 0 or 1
    intensity = rate * work
    lam = np.concatenate([[0.0], np.cumsum(intensity)])
    total = float(lam[-1])
    if total <= 0:
        return np.zeros(0)
    n = int(total + 6 * math.sqrt(total) + 16)
    s = np.cumsum(rng.exponential(1.0, n))
    while s[-1] < total:
        s = np.concatenate([s, s[-1] + np.cumsum(rng.exponential(1.0, n))])
    s = s[s < total]
    d = np.searchsorted(lam, s, side="right") - 1
    # the day holding each sum has positive intensity (sums fall strictly inside it)
    return d + (s - lam[d]) / intensity[d]
