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

__all__ = ["arrival_times", "daily_rates", "restocked"]


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


def restocked(
    bg: BackgroundStream,
    cal: WorkCalendar,
    horizon: int,
    factor: np.ndarray,
    share: np.ndarray,
    over_days: np.ndarray,
) -> np.ndarray:
    """The policy's demand factor per day with what buyers bring back: on a day the
    factor ``f`` is below 1, ``share`` × (1 − ``f``) of the day's expected contracts is
    owed; from the first day the factor is back to 1 or more, what is owed is paid back
    evenly over the working days of the ``over_days`` in force when it was held back
    (:class:`~simulator.scenario.policy.Restock`).

    Args:
        bg: The stream.
        cal: The authority's working-day calendar.
        horizon: Simulated days.
        factor: The demand factor in force each day, shape (horizon,).
        share: Contracts placed later per contract held back, each day (0: none).
        over_days: Calendar days of the spread, each day.

    Returns:
        The factor to multiply each day's rate by.
    """
    rate = daily_rates(bg, cal.start, horizon)
    work = np.diff(cal.cum[: horizon + 1])
    base = rate * work  # expected contracts per day at the factor 1
    out = factor.astype(np.float64, copy=True)
    owed = pay = 0.0
    over = 1
    for d in range(horizon):
        f = float(factor[d])
        if f < 1.0:
            owed += float(share[d]) * base[d] * (1.0 - f)
            over = max(math.ceil(float(over_days[d])), 1)
            pay = 0.0
        elif owed > 1e-12 and base[d] > 0.0:
            if pay == 0.0:  # a spread starts: the owed contracts over the working days
                pay = owed / max(float(work[d : d + over].sum()), 1.0)
            x = min(owed, pay * work[d])
            out[d] = f + x / base[d]
            owed -= x
    return out


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
