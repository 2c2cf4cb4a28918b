"""A part's expected order-to-arrival time through the scenario's own chain, for a buyer
whose lead-time estimate starts where its supply chain is (``lead_time.initial_days:
expected``): a plant that starts in steady state is not short in normal times because
its first orders were sized for a lead time its suppliers cannot meet.

For each exporter supplier (weighted by its share): making one review period's order at
the exporter's capacity, the exporter's mean lead time, Chinese customs handling (for a
licensed exporter) and the mean transit of the first lane from the exporter's country to
the manufacturer's. Upstream manufacturers (multi-tier supply) add nothing: their goods
come from stock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.world.logistics import DAYS_PER_MONTH

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["FALLBACK_LEAD_DAYS", "expected_lead"]

FALLBACK_LEAD_DAYS = 30.0
"""The estimate of a part with no exporter supplier (``LeadTime.initial_days``'s default)."""


def expected_lead(sc: Scenario, part: Any, country: str, mean_daily_t: float) -> float:
    """Mean order-to-arrival time of ``part`` of a manufacturer in ``country``, days.

    Args:
        sc: The scenario.
        part: The part (its suppliers and replenishment policy).
        country: The manufacturer's country id.
        mean_daily_t: The part's mean need, tonnes per calendar day.

    Returns:
        The share-weighted mean over the part's exporter suppliers (the fallback of
        30 days when it has none).
    """
    exporters = {e.id: e for e in sc.exporters}
    rep = part.replenishment
    order_t = mean_daily_t * float(getattr(rep, "review_days", 0) or rep.order_days)
    total = weight = 0.0
    for s in part.suppliers:
        if s.exporter is None:
            continue
        ex = exporters[s.exporter]
        days = float(ex.lead_time_days.mean())
        if ex.capacity_t_per_month > 0:
            days += order_t / (ex.capacity_t_per_month / DAYS_PER_MONTH)
        if ex.licensed:
            days += float(sc.customs.handling_days.mean())
        lane = next(
            (ln for ln in sc.lanes if ln.origin == ex.country and ln.destination == country),
            None,
        )
        if lane is not None:
            days += float(lane.transit_days.mean())
        total += float(s.share) * days
        weight += float(s.share)
    return total / weight if weight > 0 else FALLBACK_LEAD_DAYS
