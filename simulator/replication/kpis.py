"""Key performance indicators: the one place they are defined.

Manufacturer KPIs (per production line, per replication; day ``d`` = days since start).
A line is short on a day when it makes fewer units than demanded, because any one of
its critical parts ran out (see :mod:`simulator.world.manufacturing`):

``fill_rate``
    Share of demand made on the day it arose: ``1 − Σ short units / Σ demand units``
    (1 when there is no demand). Dimensionless, in [0, 1].
``shortfall_t``
    Material of the demand not made on its day, tonnes: ``Σ short units × tonnes per
    unit`` (all parts).
``lost_units``
    Production lost, units. Lost-demand lines: ``Σ short units``; backlog lines: units
    still backlogged at the end of the horizon.
``shortage_days``
    Number of days with a shortfall (more than 1e-6 of that day's demand).
``days_to_first_shortage``
    Index of the first shortage day (0 = the start date): the first line stop; NaN if
    never short.
``any_shortage``
    1 if the manufacturer was short on any day, else 0 (its ensemble mean is
    P(any shortage within the horizon)).
``days_to_recover``
    Days from the first shortage day to the end of the last one:
    ``last + 1 − first``; NaN if never short, or still short on the last day (not
    recovered within the horizon).

Part KPIs (entity ``<manufacturer>/<part>``, multi-part lines only) are the same
day-counting KPIs, plus ``fill_rate`` and ``shortfall_t``, of the part's own stock-outs:
the days its stock could not cover the day's need, whatever the other parts had
(:data:`PART_KPIS`).

Totals (entity ``all_manufacturers``): ``shortfall_t`` summed over manufacturers and
the demand-weighted ``fill_rate``.

Authority KPIs (all applications, modelled and background, decided within the horizon):

``wait_wd_p50`` / ``wait_wd_p90`` / ``wait_wd_p95`` / ``wait_wd_mean``
    Quantiles / mean of the wait from submission to decision, working days.
``share_over_limit``
    Share of decided applications whose wait exceeded the statutory limit
    (submission to decision, working days, stopped time included — what applicants
    experience); NaN without a limit.
``approval_rate``
    Approved (in full or in part) / decided, by count.
``decided``
    Number of decisions.

The same KPIs per destination country (entity ``authority/<country>``, for every
country applications were made for): where a slowdown aimed at one destination lands,
and the waits the shared reviewer pool passes on to the others.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.stats import quantiles

__all__ = [
    "ALL_MANUFACTURERS",
    "AUTHORITY",
    "AUTHORITY_KPIS",
    "MANUFACTURER_KPIS",
    "PART_KPIS",
    "authority_kpis",
    "entity_of",
    "manufacturer_kpis",
    "part_kpis",
    "split_entity",
]

AUTHORITY = "authority"
"""Entity name of the authority's KPIs (``authority/<country>``: per destination)."""
ALL_MANUFACTURERS = "all_manufacturers"
"""Entity name of KPIs summed over every manufacturer (shortfall_t; demand-weighted
fill_rate)."""

MANUFACTURER_KPIS = (
    "fill_rate",
    "shortfall_t",
    "lost_units",
    "shortage_days",
    "days_to_first_shortage",
    "any_shortage",
    "days_to_recover",
)
PART_KPIS = (
    "fill_rate",
    "shortfall_t",
    "shortage_days",
    "days_to_first_shortage",
    "any_shortage",
    "days_to_recover",
)
AUTHORITY_KPIS = (
    "wait_wd_p50",
    "wait_wd_p90",
    "wait_wd_p95",
    "wait_wd_mean",
    "share_over_limit",
    "approval_rate",
    "decided",
)

_REL = 1e-6


def entity_of(manufacturer: str | None, part: str | None = None, kpi: str = "") -> str:
    """The internal entity key of a KPI (``summary.json``'s keys): the manufacturer's id,
    ``<manufacturer>/<part>`` for a part of a multi-part line, and for the run as a
    whole :data:`AUTHORITY` (authority KPIs) or :data:`ALL_MANUFACTURERS` (totals)."""
    if manufacturer is None:
        return AUTHORITY if kpi in AUTHORITY_KPIS else ALL_MANUFACTURERS
    return f"{manufacturer}/{part}" if part is not None else manufacturer


def split_entity(
    entity: str, multi_part: set[str] | None = None
) -> tuple[str, str | None, str | None, str | None]:
    """``(scope, manufacturer, part, destination)`` of an entity key (see
    :func:`entity_of`); scope is ``manufacturer``, ``part``, ``total`` or ``authority``
    (``authority/<country>``: the authority's KPIs for one destination).

    Args:
        entity: The entity key.
        multi_part: Ids of multi-part manufacturers (a ``/`` splits only their keys).
    """
    if entity == AUTHORITY:
        return "authority", None, None, None
    if entity.startswith(AUTHORITY + "/"):
        return "authority", None, None, entity.split("/", 1)[1]
    if entity == ALL_MANUFACTURERS:
        return "total", None, None, None
    if "/" in entity:
        m, p = entity.split("/", 1)
        if multi_part is None or m in multi_part:
            return "part", m, p, None
    return "manufacturer", entity, None, None


def _shortage_days(demand: np.ndarray, short: np.ndarray) -> dict[str, float]:
    """Shortage days, first shortage day and recovery of one daily series."""
    short_days = np.flatnonzero(short > _REL * np.maximum(demand, 1e-12))
    first = float(short_days[0]) if short_days.size else math.nan
    if short_days.size and short_days[-1] < short.size - 1:
        recover = float(short_days[-1] + 1 - short_days[0])
    else:
        recover = math.nan
    return {
        "shortage_days": float(short_days.size),
        "days_to_first_shortage": first,
        "any_shortage": 1.0 if short_days.size else 0.0,
        "days_to_recover": recover,
    }


def manufacturer_kpis(
    demand_units: np.ndarray,
    short_units: np.ndarray,
    t_per_unit: float,
    backlog_end_units: float = 0.0,
    backlog_mode: bool = False,
) -> dict[str, float]:
    """KPIs of one production line from its daily series.

    Args:
        demand_units: Units to make each day, shape (days,).
        short_units: Units of each day's demand not made that day, shape (days,).
        t_per_unit: Material of all its parts per unit, tonnes.
        backlog_end_units: Units still to be made at the end (backlog lines).
        backlog_mode: Unmet demand is backlogged rather than lost.

    Returns:
        Mapping of the names in :data:`MANUFACTURER_KPIS` to values.
    """
    total = float(demand_units.sum())
    short_total = float(short_units.sum())
    return {
        "fill_rate": 1.0 - short_total / total if total > 0 else 1.0,
        "shortfall_t": short_total * t_per_unit,
        "lost_units": backlog_end_units if backlog_mode else short_total,
        **_shortage_days(demand_units, short_units),
    }


def part_kpis(demand_t: np.ndarray, stockout_t: np.ndarray) -> dict[str, float]:
    """KPIs of one critical part of a multi-part line from its own stock-outs (the days
    its stock could not cover the day's need, whatever the other parts had).

    Args:
        demand_t: The part's material needed each day, tonnes.
        stockout_t: What its stock could not cover each day, tonnes.

    Returns:
        Mapping of the names in :data:`PART_KPIS` to values.
    """
    total = float(demand_t.sum())
    short_total = float(stockout_t.sum())
    return {
        "fill_rate": 1.0 - short_total / total if total > 0 else 1.0,
        "shortfall_t": short_total,
        **_shortage_days(demand_t, stockout_t),
    }


def authority_kpis(
    wait_wd: np.ndarray, approved: np.ndarray, limit_wd: float | None
) -> dict[str, float]:
    """KPIs of the authority from decided applications.

    Args:
        wait_wd: Submission-to-decision waits of decided applications, working days.
        approved: Whether each was approved (fully or partly).
        limit_wd: Statutory limit, working days (None: no limit).

    Returns:
        Mapping of the names in :data:`AUTHORITY_KPIS` to values (NaN when nothing
        was decided).
    """
    n = int(wait_wd.size)
    if n == 0:
        out = dict.fromkeys(AUTHORITY_KPIS, math.nan)
        out["decided"] = 0.0
        return out
    p50, p90, p95 = quantiles(wait_wd, (0.5, 0.9, 0.95))
    return {
        "wait_wd_p50": float(p50),
        "wait_wd_p90": float(p90),
        "wait_wd_p95": float(p95),
        "wait_wd_mean": float(wait_wd.mean()),
        "share_over_limit": (
            float(np.mean(wait_wd > limit_wd + 1e-9)) if limit_wd is not None else math.nan
        ),
        "approval_rate": float(np.mean(approved)),
        "decided": float(n),
    }
