"""The digest an ensemble keeps of each replication: KPIs and a few daily series.

:func:`digest` reads a replication's :class:`~simulator.world.trace.Trace` (never the
world) and returns a small :class:`RepSummary` that travels from worker processes to
the ensemble's aggregator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.replication.kpis import (
    ALL_MANUFACTURERS,
    AUTHORITY,
    authority_kpis,
    manufacturer_kpis,
    part_kpis,
)
from simulator.replication.tables import (
    Apps,
    backlog_by_destination,
    flows_by_month,
    line_shortfall_t,
    line_t_per_unit,
    part_names,
)
from simulator.world.calendar import WorkCalendar
from simulator.world.trace import AT_DEADLINE, G, Trace

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["RepSummary", "digest"]


@dataclass
class RepSummary:
    """Per-replication digest kept by ensembles (small: KPIs and daily vectors).

    Attributes:
        rep: Replication index.
        kpis: ``{(entity, kpi): value}`` for manufacturers, parts of multi-part lines
            and ``authority``.
        shortfall: Daily line shortfall, tonnes, shape (days, manufacturers).
        inventory: Daily end-of-day inventory per part, tonnes, shape (days, parts).
        backlog: Applications pending per day by destination, shape (days, countries).
        exports: Monthly exports through customs (departures), tonnes,
            shape (months, countries).
        arrivals: Monthly arrivals of those exports, tonnes, shape (months, countries).
        wait_wd: Waits of decided applications, working days (for the wait histogram).
        regimes: Regime changes (:data:`~simulator.world.trace.REGIMES` log).
        overlays: Overlay edges (:data:`~simulator.world.trace.OVERLAYS` log).
    """

    rep: int
    kpis: dict[tuple[str, str], float]
    shortfall: np.ndarray
    inventory: np.ndarray
    backlog: np.ndarray
    exports: np.ndarray
    arrivals: np.ndarray
    wait_wd: np.ndarray
    regimes: np.ndarray
    overlays: np.ndarray


def kpis_of(sc: Scenario, trace: Trace, apps: Apps) -> dict[tuple[str, str], float]:
    """Every KPI of one replication: ``{(entity, kpi): value}`` (see
    :mod:`simulator.replication.kpis`)."""
    demand, short = trace.lines["demand_units"], trace.lines["short_units"]
    tpu = line_t_per_unit(sc)
    kpis: dict[tuple[str, str], float] = {}
    for i, m in enumerate(sc.manufacturers):
        for k, v in manufacturer_kpis(
            demand[:, i],
            short[:, i],
            float(tpu[i]),
            float(trace.backlog_end_units[i]),
            m.unmet_demand == "backlog",
        ).items():
            kpis[(m.id, k)] = v
    names = part_names(sc)
    owner = [m for m in sc.manufacturers for _ in m.bill()]
    for p, name in enumerate(names):
        if owner[p].multi_part:
            for k, v in part_kpis(
                trace.parts["demand_t"][:, p], trace.parts["stockout_t"][:, p]
            ).items():
                kpis[(name, k)] = v
    if sc.manufacturers:
        total_demand = float((demand * tpu[None, :]).sum())
        total_short = float((short * tpu[None, :]).sum())
        kpis[(ALL_MANUFACTURERS, "fill_rate")] = (
            1.0 - total_short / total_demand if total_demand > 0 else 1.0
        )
        kpis[(ALL_MANUFACTURERS, "shortfall_t")] = total_short
    dec = apps.decided
    approved = apps.code % AT_DEADLINE <= 1
    limit = sc.authority.statutory_limit_wd
    for k, v in authority_kpis(apps.wait_wd[dec], approved[dec], limit).items():
        kpis[("authority", k)] = v
    # per destination: where a slowdown aimed at one country lands, and what the shared
    # reviewer pool passes on to the others
    dest = trace.shipments["destination"].astype(np.int64)[apps.shipment]
    for c in np.unique(dest).tolist():
        sel = dec & (dest == c)
        for k, v in authority_kpis(apps.wait_wd[sel], approved[sel], limit).items():
            kpis[(f"{AUTHORITY}/{sc.countries[c].id}", k)] = v
    return kpis


def digest(sc: Scenario, trace: Trace, cal: WorkCalendar, apps: Apps | None = None) -> RepSummary:
    """The ensemble's digest of one replication (no pandas).

    Args:
        sc: The scenario.
        trace: The replication's trace.
        cal: The scenario's calendar.
        apps: The decoded applications, if already at hand.
    """
    a = apps if apps is not None else Apps(trace, cal)
    return RepSummary(
        rep=trace.rep,
        kpis=kpis_of(sc, trace, a),
        shortfall=line_shortfall_t(sc, trace),
        inventory=trace.parts["inventory_t"],
        backlog=backlog_by_destination(sc, trace, a),
        exports=flows_by_month(sc, trace, G.DEPARTED),
        arrivals=flows_by_month(sc, trace, G.ARRIVED),
        wait_wd=a.wait_wd[a.decided].astype(np.float32),
        regimes=trace.regimes,
        overlays=trace.overlays,
    )
