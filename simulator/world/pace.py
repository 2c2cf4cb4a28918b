"""The pace of production: a day-by-day factor per country (the Spring-Festival shutdown,
the rush before it, dated windows), from the scenario's ``production.windows``.

A production time (a background contract's ``production_days``, an exporter's lead time)
is measured in days of *normal* production; on a day of pace ``f`` a producer does ``f``
such days. The finish time of work started at ``t`` is then found by inverting the
cumulative pace (:func:`simulator.world.arith.paced_finish`). An exporter's capacity
(tonnes per day) is multiplied by the pace of its country's days
(:func:`simulator.world.static.compile_scenario`). Days outside the horizon run at the
normal pace.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["SPRING_FESTIVAL", "licensing_country", "pace_table", "spring_festivals"]

SPRING_FESTIVAL = "Chinese New Year (Spring Festival)"
"""The ``holidays`` package's name of the Chinese New Year's days."""


def licensing_country(sc: Scenario) -> str | None:
    """The licensing country, the origin of background exports: the country of the
    scenario's licensed exporters (the first one's), else the country of the authority's
    calendar (``CN``), else none."""
    for e in sc.exporters:
        if e.licensed:
            return e.country
    return sc.calendar.country


@lru_cache(maxsize=32)
def _festivals(first_year: int, last_year: int) -> tuple[dt.date, ...]:
    hol = holidays.country_holidays("CN", years=range(first_year, last_year + 1))
    out: dict[int, dt.date] = {}
    for day, name in sorted(hol.items()):
        if name == SPRING_FESTIVAL and day.year not in out:
            out[day.year] = day
    return tuple(out[y] for y in sorted(out))


def spring_festivals(first_year: int, last_year: int) -> list[dt.date]:
    """The first day of the Chinese New Year in each year ``first_year..last_year``.

    Args:
        first_year: First calendar year.
        last_year: Last calendar year (inclusive).

    Returns:
        One date per year that has one, ascending.
    """
    return list(_festivals(first_year, last_year))


def pace_table(
    sc: Scenario, H: int, country: dict[str, int]
) -> tuple[bool, np.ndarray, np.ndarray]:
    """Each country's pace of production on each simulated day.

    Args:
        sc: The scenario.
        H: Simulated days.
        country: Country id → index.

    Returns:
        ``(paced, pace, cum)``: whether any day differs from the normal pace; ``pace``
        shape (countries, H), days of normal production per calendar day; ``cum`` shape
        (countries, H + 1), the cumulative pace from day 0 (``cum[:, 0] = 0``).
    """
    C = max(len(country), 1)
    pace = np.ones((C, H))
    start = sc.start
    festivals: list[dt.date] = []
    if any(w.around == "spring_festival" for w in sc.production.windows):
        festivals = spring_festivals(start.year - 1, sc.end.year + 1)
    for w in sc.production.windows:
        c = country[w.country]
        if w.around == "spring_festival":
            assert w.from_day is not None and w.to_day is not None
            spans = [
                (f + dt.timedelta(days=w.from_day), f + dt.timedelta(days=w.to_day))
                for f in festivals
            ]
        else:
            assert w.start is not None and w.end is not None
            spans = [(w.start, w.end)]
        for first, last in spans:
            a = max((first - start).days, 0)
            b = min((last - start).days + 1, H)
            if a < b:
                pace[c, a:b] *= w.pace
    cum = np.zeros((C, H + 1))
    np.cumsum(pace, axis=1, out=cum[:, 1:])
    return bool(np.any(pace != 1.0)), pace, cum
