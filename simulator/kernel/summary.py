"""Summary-only replications: a few statistics straight from the kernel's state.

Inference needs tens of thousands of simulations but only a handful of numbers from
each: the figures the targets observe (monthly exports, licensing shares, waits) and the
quantities a forecast shows (exports by month and destination, shortfall by month and
manufacturer, the first line stop, waits by submission month). The full path turns a
replication's state into a :class:`~simulator.world.trace.Trace`, then into per-
application arrays and tables (:mod:`simulator.replication.tables`), then observes the
targets (:func:`simulator.explore.targets.observe`). :func:`summarise` reads the same
numbers from the kernel's logs and records directly (numpy on the state's arrays; no
structured arrays, no pandas), with the same arithmetic in the same order, so the values
are identical (``tests/kernel/test_summary.py`` checks it against the full path).

What to compute is a :class:`SummarySpec` of plain numbers (months and days since the
start, destination indices): the explore stage builds it from a targets file
(:mod:`simulator.explore.summaries`); nothing here knows about targets files.

The vector is laid out as: one value per :class:`Stat` in order, then the optional
blocks ``exports`` (months × countries, row by row), ``shortfall`` (months ×
manufacturers, tonnes), ``first_stop`` (per manufacturer: first shortage day, NaN if
never short) and ``waits`` (per month of submission: median calendar days from
submission to decision of the applications decided within the horizon, NaN if none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numba import njit

import simulator.world.jit  # noqa: F401 - numba's cache directory, before numba loads
from simulator.kernel import layout as L
from simulator.stats import median
from simulator.world.trace import APPLICATIONS, SHIPMENTS

if TYPE_CHECKING:  # pragma: no cover
    from simulator.world.calendar import WorkCalendar

__all__ = ["SHORT_REL", "STAT_KINDS", "Stat", "SummarySpec", "summarise", "vector_size"]

STAT_KINDS = (
    "monthly_exports",
    "monthly_arrivals",
    "export_ratio",
    "export_share",
    "applications",
    "approved_share",
    "over_limit_share",
    "median_wait_days",
)
"""What a :class:`Stat` measures (the target kinds of :mod:`simulator.explore.targets`)."""

SHORT_REL = 1e-6
"""A day is a shortage day when more than this share of its demand is not made (the
definition of :mod:`simulator.replication.kpis`)."""

_SHIP = {c.name: j for j, c in enumerate(SHIPMENTS.columns)}
_APP = {c.name: j for j, c in enumerate(APPLICATIONS.columns)}
_T, _KIND, _ID, _TONNES, _DETAIL = range(5)  # columns of the authority and goods logs
_PIPELINE_LEFT = -2.0
"""``detail`` of a departure before the start (pipeline goods): not an export of the
horizon."""


class Stat(NamedTuple):
    """One statistic, in the kernel's terms.

    Attributes:
        kind: One of :data:`STAT_KINDS`.
        month: Month index (0 = the start's month) of the monthly kinds.
        months: Base months of ``export_ratio``.
        dests: Destination country indices (None: all).
        lo: First submission day counted (days since start, application kinds).
        hi: End of the submission window, exclusive (days since start).
        by: End of the day outcomes are read (days since start).
        limit: Statutory limit, working days (``over_limit_share``; None: undefined).
    """

    kind: str
    month: int = -1
    months: tuple[int, ...] = ()
    dests: tuple[int, ...] | None = None
    lo: float = 0.0
    hi: float = 0.0
    by: float = 0.0
    limit: float | None = None


@dataclass(frozen=True)
class SummarySpec:
    """What a summary-only replication computes.

    Attributes:
        stats: The statistics, in order.
        month_of_day: Month index of each simulated day (0 = the start's month).
        n_countries: Countries of the scenario.
        line_tpu: Tonnes of material per unit made, per manufacturer.
        exports: Add monthly exports by destination (t/month).
        shortfall: Add monthly shortfall by manufacturer (t/month).
        first_stop: Add the first shortage day per manufacturer (days since start).
        waits: Add the median wait by month of submission (calendar days).
    """

    stats: tuple[Stat, ...]
    month_of_day: np.ndarray
    n_countries: int
    line_tpu: np.ndarray
    exports: bool = True
    shortfall: bool = True
    first_stop: bool = True
    waits: bool = True

    @property
    def n_months(self) -> int:
        """Months of the horizon."""
        return int(self.month_of_day[-1]) + 1 if self.month_of_day.size else 0


def vector_size(spec: SummarySpec) -> int:
    """Length of the summary vector of ``spec``."""
    nm, m = spec.n_months, int(spec.line_tpu.size)
    return (
        len(spec.stats)
        + (nm * spec.n_countries if spec.exports else 0)
        + (nm * m if spec.shortfall else 0)
        + (m if spec.first_stop else 0)
        + (nm if spec.waits else 0)
    )


@njit(cache=True)
def _flows_loop(
    glog: np.ndarray,
    kind: int,
    via: np.ndarray,
    dest: np.ndarray,
    mod: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Add each row of ``kind`` to ``out[month, destination]`` in row order (the order,
    and so the sums, of ``np.add.at`` in the full path)."""
    H = mod.size
    for r in range(glog.shape[0]):
        if glog[r, 1] != kind or glog[r, 4] == -2.0:
            continue
        sid = np.int64(glog[r, 2])
        if via[sid] != 1.0:
            continue
        day = min(np.int64(glog[r, 0]), H - 1)
        out[mod[day], np.int64(dest[sid])] += glog[r, 3]


def _flows(glog: np.ndarray, ships: np.ndarray, kind: int, spec: SummarySpec) -> np.ndarray:
    """Tonnes through customs per month and destination at ``kind`` (departure or
    arrival): :func:`simulator.replication.tables.flows_by_month` on the kernel's rows."""
    out = np.zeros((spec.n_months, spec.n_countries))
    via = np.ascontiguousarray(ships[:, _SHIP["via_customs"]])
    dest = np.ascontiguousarray(ships[:, _SHIP["destination"]])
    _flows_loop(glog, kind, via, dest, spec.month_of_day, out)
    return out


@njit(cache=True)
def _apps_loop(
    alog: np.ndarray, n: int, submit_kind: int, decide_kind: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """First submission and decision time and the decision code of each application."""
    submit = np.full(n, np.nan)
    decide = np.full(n, np.nan)
    code = np.full(n, -1, dtype=np.int64)
    for r in range(alog.shape[0]):
        k = alog[r, 1]
        a = np.int64(alog[r, 2])
        if k == submit_kind:
            if np.isnan(submit[a]):
                submit[a] = alog[r, 0]
        elif k == decide_kind:
            if np.isnan(decide[a]):
                decide[a] = alog[r, 0]
            code[a] = np.int64(alog[r, 4])
    return submit, decide, code


class _Apps:
    """Submission and decision of every application, from the authority log (the
    fields of :class:`simulator.replication.tables.Apps` the statistics read)."""

    def __init__(self, alog: np.ndarray, apps: np.ndarray, ships: np.ndarray) -> None:
        n = apps.shape[0]
        self.submit, self.decide, self.code = _apps_loop(alog, n, L.EV_SUBMIT, L.EV_DECIDE)
        self.decided = self.code >= 0
        shipment = apps[:, _APP["shipment"]].astype(np.int64)
        self.dest = (
            ships[shipment, _SHIP["destination"]].astype(np.int64) if n else np.zeros(0, np.int64)
        )


def _stat(
    s: Stat,
    exports: np.ndarray,
    arrivals: Any,
    apps: Any,
    cal: WorkCalendar,
    horizon: int,
) -> float:
    """One statistic (the arithmetic of :func:`simulator.explore.targets.observe`)."""
    cols: Any = slice(None) if s.dests is None else list(s.dests)
    if s.kind in ("monthly_exports", "export_ratio", "export_share", "monthly_arrivals"):
        src = arrivals() if s.kind == "monthly_arrivals" else exports
        m = s.month
        if not 0 <= m < src.shape[0]:
            return math.nan
        if s.kind in ("monthly_exports", "monthly_arrivals"):
            return float(src[m, cols].sum())
        if s.kind == "export_ratio":
            base = [b for b in s.months if 0 <= b < src.shape[0]]
            denom = np.mean([src[b].sum() for b in base]) if base else math.nan
            return float(src[m].sum() / denom) if denom > 0 else math.nan
        total = src[m].sum()
        return float(src[m, cols].sum() / total) if total > 0 else math.nan
    a = apps()
    sel = (a.submit >= s.lo) & (a.submit < s.hi)
    if s.dests is not None:
        member = np.zeros(int(a.dest.max(initial=-1)) + 1 if a.dest.size else 0, dtype=bool)
        member[[d for d in s.dests if d < member.size]] = True
        sel &= member[a.dest] if a.dest.size else np.zeros(0, dtype=bool)
    if s.kind == "applications":
        return float(sel.sum())
    n = int(sel.sum())
    if n == 0:
        return math.nan
    decided_by = sel & a.decided & (a.decide < s.by)
    if s.kind == "approved_share":
        approved = decided_by & (a.code % 8 <= 1)
        return float(approved.sum() / n)
    if s.kind == "median_wait_days":
        return float(median((a.decide - a.submit)[decided_by]))
    if s.limit is None:  # over_limit_share
        return math.nan
    end = np.where(decided_by, a.decide, min(s.by, float(horizon)))
    waited = cal.work_time(np.clip(end, 0, None)) - cal.work_time(
        np.clip(np.nan_to_num(a.submit), 0, None)
    )
    return float(np.mean(waited[sel] > s.limit + 1e-9))


def summarise(K: Any, demand: np.ndarray, spec: SummarySpec, cal: WorkCalendar) -> np.ndarray:
    """The summary vector of one replication from the kernel's final state.

    Args:
        K: The replication's :data:`~simulator.kernel.engine.State` after the loop.
        demand: Units to make per day and manufacturer (days × manufacturers).
        spec: What to compute.
        cal: The scenario's working calendar.

    Returns:
        The summaries, length :func:`vector_size` (NaN where undefined).
    """
    iv = K.I
    alog = K.alog[: iv[L.I_AN]]
    glog = K.glog[: iv[L.I_GN]]
    ships = K.ships[: iv[L.I_NSHIP]]
    apps_rows = K.apps[: iv[L.I_NAPP]]
    horizon = int(spec.month_of_day.size)
    exports = _flows(glog, ships, L.G_DEPARTED, spec)
    cache: dict[str, Any] = {}

    def arrivals() -> np.ndarray:
        if "arr" not in cache:
            cache["arr"] = _flows(glog, ships, L.G_ARRIVED, spec)
        return cache["arr"]

    def apps() -> _Apps:
        if "apps" not in cache:
            cache["apps"] = _Apps(alog, apps_rows, ships)
        return cache["apps"]

    out = [np.array([_stat(s, exports, arrivals, apps, cal, horizon) for s in spec.stats])]
    mod = spec.month_of_day
    short = K.RECL[L.RECL_SHORT]
    if spec.exports:
        out.append(exports.ravel())
    if spec.shortfall:
        monthly = np.zeros((spec.n_months, spec.line_tpu.size))
        np.add.at(monthly, mod, short * spec.line_tpu[None, :])
        out.append(monthly.ravel())
    if spec.first_stop:
        first = np.full(spec.line_tpu.size, np.nan)
        for j in range(spec.line_tpu.size):
            days = np.flatnonzero(short[:, j] > SHORT_REL * np.maximum(demand[:, j], 1e-12))
            if days.size:
                first[j] = float(days[0])
        out.append(first)
    if spec.waits:
        a = apps()
        waits = np.full(spec.n_months, np.nan)
        ok = a.decided & np.isfinite(a.submit)
        sub_month = mod[np.clip(a.submit[ok].astype(np.int64), 0, horizon - 1)]
        wait = (a.decide - a.submit)[ok]
        for m in range(spec.n_months):
            w = wait[sub_month == m]
            if w.size:
                waits[m] = median(w)
        out.append(waits)
    return np.concatenate(out)
