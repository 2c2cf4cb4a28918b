"""The summary vector of a forecast: what each simulation of a bank returns.

One vector per simulation, in a fixed order with a name per entry
(:class:`SummaryLayout`):

* one entry per target of the targets file (its ``id``; ``used_for: setting`` ones
  included, so the vector does not depend on how they are used) — what inference
  conditions on;
* ``exports/<YYYY-MM>/<destination>``: tonnes through Chinese customs per month and
  destination;
* ``shortfall/<YYYY-MM>/<manufacturer>``: material of the demand not made per month,
  tonnes;
* ``first_stop/<manufacturer>``: first shortage day (days since the start; NaN: never);
* ``wait/<YYYY-MM>``: median calendar days from submission to decision of the
  applications submitted that month (decided within the horizon).

:class:`CaseSimulator` is the bank's picklable ``simulate(theta, index, seed)``: the
scenario at ``theta`` (the targets file's parameters), replication ``index`` of ``seed``
on the compiled kernel's summary-only path
(:func:`simulator.kernel.engine.simulate_summary`). :func:`trace_summaries` computes the
same vector through the full path (trace, tables, targets) — the reference the tests
hold the fast path to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.kernel.summary import Stat, SummarySpec, vector_size

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.params import Param
    from simulator.explore.targets import Target
    from simulator.scenario.located import Located
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar
    from simulator.world.trace import Trace

__all__ = ["CaseSimulator", "SummaryLayout", "trace_summaries"]

SUMMARIES_VERSION = 1
"""Bumped when the vector's definition changes (part of a bank's fingerprint)."""


def _month_label(start: dt.date, m: int) -> str:
    y, mo = divmod(start.year * 12 + start.month - 1 + m, 12)
    return f"{y:04d}-{mo + 1:02d}"


def _stat(sc: Scenario, t: Target) -> Stat:
    """A target in the kernel's terms (months and days since the start, country
    indices)."""
    cidx = {c.id: i for i, c in enumerate(sc.countries)}

    def month(text: str) -> int:
        y, m = (int(x) for x in text.split("-"))
        return (y - sc.start.year) * 12 + (m - sc.start.month)

    def day(d: dt.date | None) -> float:
        return float((d - sc.start).days) if d is not None else 0.0

    dests = None if t.destinations is None else tuple(cidx[d] for d in t.destinations if d in cidx)
    if t.month is not None:
        return Stat(t.kind, month(t.month), tuple(month(b) for b in t.months or []), dests)
    limit = sc.authority.statutory_limit_wd
    return Stat(
        t.kind,
        dests=dests,
        lo=day(t.submitted_from),
        hi=day(t.submitted_until) + 1,
        by=day(t.by) + 1,
        limit=None if limit is None else float(limit),
    )


@dataclass(frozen=True)
class SummaryLayout:
    """Names and kernel spec of a forecast's summary vector.

    Attributes:
        names: One name per entry.
        spec: What the kernel computes.
        target_ids: The targets, in order (the first entries).
        months: Month labels ``YYYY-MM`` of the horizon.
        destinations: Country ids.
        manufacturers: Manufacturer ids.
    """

    names: tuple[str, ...]
    spec: SummarySpec
    target_ids: tuple[str, ...]
    months: tuple[str, ...]
    destinations: tuple[str, ...]
    manufacturers: tuple[str, ...]

    @classmethod
    def build(cls, sc: Scenario, targets: Sequence[Target]) -> SummaryLayout:
        """The layout for scenario ``sc`` observed by ``targets``."""
        from simulator.replication.tables import line_t_per_unit, month_index

        mod = month_index(sc.start, sc.horizon_days).astype(np.int64)
        spec = SummarySpec(
            tuple(_stat(sc, t) for t in targets),
            mod,
            len(sc.countries),
            line_t_per_unit(sc),
        )
        months = tuple(_month_label(sc.start, m) for m in range(spec.n_months))
        dests = tuple(c.id for c in sc.countries)
        mfrs = tuple(m.id for m in sc.manufacturers)
        names = [t.id for t in targets]
        names += [f"exports/{m}/{d}" for m in months for d in dests]
        names += [f"shortfall/{m}/{f}" for m in months for f in mfrs]
        names += [f"first_stop/{f}" for f in mfrs]
        names += [f"wait/{m}" for m in months]
        assert len(names) == vector_size(spec)
        return cls(tuple(names), spec, tuple(t.id for t in targets), months, dests, mfrs)

    def index(self, name: str) -> int:
        """Position of the entry ``name``."""
        return self.names.index(name)

    def block(self, kind: str) -> slice:
        """Positions of the entries whose name starts with ``kind/``."""
        idx = [i for i, n in enumerate(self.names) if n.startswith(kind + "/")]
        return slice(idx[0], idx[-1] + 1) if idx else slice(0, 0)

    def digest(self) -> str:
        """A short hash of the definition (names and what each target measures)."""
        text = json.dumps(
            [SUMMARIES_VERSION, self.names, [list(map(str, s)) for s in self.spec.stats]]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def trace_summaries(
    sc: Scenario, trace: Trace, cal: WorkCalendar, targets: Sequence[Target], layout: SummaryLayout
) -> np.ndarray:
    """The summary vector through the full path: the trace decoded into tables
    (:mod:`simulator.replication.tables`), the targets observed
    (:func:`simulator.explore.targets.observe`), the KPIs of
    :mod:`simulator.replication.kpis`. The reference of the summary-only path."""
    from simulator.explore.targets import observe
    from simulator.replication.kpis import manufacturer_kpis
    from simulator.replication.tables import (
        Apps,
        flows_by_month,
        line_shortfall_t,
        line_t_per_unit,
    )
    from simulator.world.trace import G

    apps = Apps(trace, cal)
    spec = layout.spec
    out = [observe(sc, trace, cal, apps, list(targets))]
    out.append(flows_by_month(sc, trace, G.DEPARTED).ravel())
    short_t = line_shortfall_t(sc, trace)
    monthly = np.zeros((spec.n_months, len(sc.manufacturers)))
    np.add.at(monthly, spec.month_of_day, short_t)
    out.append(monthly.ravel())
    tpu = line_t_per_unit(sc)
    out.append(
        np.array(
            [
                manufacturer_kpis(
                    trace.lines["demand_units"][:, j], trace.lines["short_units"][:, j], tpu[j]
                )["days_to_first_shortage"]
                for j in range(len(sc.manufacturers))
            ]
        )
    )
    from simulator.stats import median

    waits = np.full(spec.n_months, np.nan)
    ok = apps.decided & np.isfinite(apps.submit)
    sub_month = spec.month_of_day[
        np.clip(apps.submit[ok].astype(np.int64), 0, spec.month_of_day.size - 1)
    ]
    for m in range(spec.n_months):
        w = apps.wait_days[ok][sub_month == m]
        if w.size:
            waits[m] = median(w)
    out.append(waits)
    return np.concatenate(out)


class CaseSimulator:
    """The bank's ``simulate(theta, index, seed)`` for a scenario and its free parameters:
    picklable (it holds the scenario's located data, the parameters and the layout), so
    it runs in worker processes and on Dask.

    Args:
        loc: The scenario's located data (after ``extends:`` and ``--set``).
        params: The free parameters (resolved), in the prior's column order.
        targets: The targets the layout was built from.
        layout: The summary vector.
    """

    def __init__(
        self,
        loc: Located,
        params: Sequence[Param],
        targets: Sequence[Target],
        layout: SummaryLayout,
    ) -> None:
        self.loc = loc
        self.params = list(params)
        self.targets = list(targets)
        self.layout = layout
        self._calendars: dict[str, WorkCalendar] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_calendars": {}}

    def scenario(self, theta: np.ndarray) -> Scenario:
        """The scenario at parameter vector ``theta``."""
        from simulator.explore.fit import _scenario_at

        return _scenario_at(self.loc, self.params, np.asarray(theta, dtype=float))

    def calendar(self, sc: Scenario) -> WorkCalendar:
        """The scenario's working calendar (kept per calendar section and horizon: the
        parameters rarely move it, and building one costs a few milliseconds)."""
        from simulator.world.calendar import build_calendar

        key = f"{sc.start}|{sc.end}|{sc.calendar.model_dump_json()}"
        cal = self._calendars.get(key)
        if cal is None:
            cal = self._calendars[key] = build_calendar(sc)
        return cal

    def __call__(self, theta: np.ndarray, index: int, seed: int) -> np.ndarray:
        """Replication ``index`` of ``seed`` of the scenario at ``theta``: its summaries."""
        from simulator.kernel.engine import simulate_summary

        sc = self.scenario(theta)
        return simulate_summary(sc, int(seed), int(index), self.layout.spec, self.calendar(sc))

    def full(self, theta: np.ndarray, index: int, seed: int) -> np.ndarray:
        """The same through the full path (trace, tables, targets; for checks)."""
        from simulator.kernel.engine import simulate_kernel

        sc = self.scenario(theta)
        cal = self.calendar(sc)
        trace = simulate_kernel(sc, int(seed), int(index), cal)
        return trace_summaries(sc, trace, cal, self.targets, self.layout)
