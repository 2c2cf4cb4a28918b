"""Decoding a trace into per-application arrays and per-month or per-day matrices.

Array-level helpers shared by the frames of :class:`~simulator.replication.result.RunResult`
and the digest an ensemble keeps per replication (:mod:`simulator.replication.digest`); they
read only the :class:`~simulator.world.trace.Trace` and the scenario.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.world.calendar import WorkCalendar
from simulator.world.trace import AT_DEADLINE, Ev, G, Trace

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "Apps",
    "backlog_by_destination",
    "exports_matrix",
    "licensed_orders",
    "month_index",
    "regime_frame",
]


class Apps:
    """Per-application arrays decoded from the authority log (vectorised).

    Attributes (one entry per application, in id order): ``id``, ``source`` (0
    background, 1 manufacturer), ``source_index``, ``order_id``, ``exporter``,
    ``tonnes``; times ``submit``, ``accept``, ``review_start``, ``decide`` (calendar
    days, NaN if it never happened); ``returns``, ``info_requests`` (counts);
    ``approved_t``; ``code`` (decision code, -1 undecided), ``decided``,
    ``at_deadline``; ``stopped_days`` / ``stopped_wd`` (clock stopped for information
    requests); ``wait_days`` / ``wait_wd`` (submission to decision); ``clock_wd``
    (statutory clock used).
    """

    def __init__(self, trace: Trace, cal: WorkCalendar) -> None:
        n = trace.n_applications
        meta = trace.applications
        self.n = n
        self.id = meta["application"].astype(np.int64)
        self.source = meta["source"].astype(np.int64)
        self.source_index = meta["source_index"].astype(np.int64)
        self.order_id = meta["order"].astype(np.int64)
        self.exporter = meta["exporter"].astype(np.int64)
        self.tonnes = meta["tonnes"].astype(np.float64)
        log = trace.authority
        t, kind, aid = log["time_days"], log["kind"].astype(np.int64), log["application"]

        def first(k: int) -> np.ndarray:
            out = np.full(n, np.nan)
            m = kind == k
            # rows are in time order; assign reversed so the first occurrence wins
            out[aid[m][::-1]] = t[m][::-1]
            return out

        def count(k: int) -> np.ndarray:
            return np.bincount(aid[kind == k], minlength=n).astype(np.int64)

        self.submit = first(Ev.SUBMIT)
        self.accept = first(Ev.ACCEPT)
        self.review_start = first(Ev.REVIEW_START)
        self.decide = first(Ev.DECIDE)
        self.returns = count(Ev.RETURN)
        self.info_requests = count(Ev.INFO_REQUEST)
        dec = kind == Ev.DECIDE
        self.approved_t = np.full(n, np.nan)
        self.approved_t[aid[dec]] = log["tonnes"][dec]
        code = np.full(n, -1, dtype=np.int64)
        code[aid[dec]] = log["detail"][dec].astype(np.int64)
        self.code = code
        self.at_deadline = code >= AT_DEADLINE
        self.decided = code >= 0
        # stopped time (information requests): calendar and working days
        req, resp = kind == Ev.INFO_REQUEST, kind == Ev.INFO_RESPONSE
        self.stopped_days = np.zeros(n)
        np.add.at(self.stopped_days, aid[resp], t[resp])
        np.subtract.at(self.stopped_days, aid[req], t[req])
        # a request still unanswered at the end: stopped until the horizon
        open_req = self.info_requests > count(Ev.INFO_RESPONSE)
        self.stopped_days[open_req] += float(trace.horizon)
        wt = cal.work_time
        stopped_wd = np.zeros(n)
        if resp.any():
            np.add.at(stopped_wd, aid[resp], wt(t[resp]))
        if req.any():
            np.subtract.at(stopped_wd, aid[req], wt(t[req]))
        stopped_wd[open_req] += wt(float(trace.horizon))
        self.stopped_wd = stopped_wd
        self.wait_days = self.decide - self.submit
        with np.errstate(invalid="ignore"):
            w_dec = np.where(self.decided, wt(np.nan_to_num(self.decide)), np.nan)
            self.wait_wd = w_dec - wt(np.nan_to_num(self.submit))
            self.clock_wd = w_dec - wt(np.nan_to_num(self.accept)) - stopped_wd


def _orders(trace: Trace) -> dict[int, tuple[int, int]]:
    """Order id -> (manufacturer index, supplier index)."""
    g = trace.goods
    rows = g[g["kind"] == G.ORDER]
    return {
        int(o): (int(m), int(s))
        for o, m, s in zip(rows["order"], rows["manufacturer"], rows["detail"], strict=True)
    }


def licensed_orders(sc: Scenario, trace: Trace) -> dict[int, bool]:
    """Order id -> whether its goods come from a licensed exporter (not from an
    alternative supplier or an upstream manufacturer), by supplier, not by country:
    an unlicensed exporter may share a country with a licensed one."""
    ex_licensed = {e.id: e.licensed for e in sc.exporters}
    sup_licensed = [
        [s.exporter is not None and ex_licensed[s.exporter] for s in m.suppliers]
        for m in sc.manufacturers
    ]
    return {oid: sup_licensed[m][sup] for oid, (m, sup) in _orders(trace).items()}


def month_index(start: dt.date, horizon: int) -> np.ndarray:
    """Month number (0 = start's month) of each simulated day."""
    d = np.datetime64(start, "D") + np.arange(horizon)
    m = d.astype("datetime64[M]").astype(np.int64)
    return m - m[0]


def backlog_by_destination(sc: Scenario, trace: Trace, apps: Apps) -> np.ndarray:
    """Applications pending (submitted, undecided) per day and destination country,
    shape (days, countries)."""
    H = trace.horizon
    cidx = {c.id: i for i, c in enumerate(sc.countries)}
    bg = np.array([cidx[b.destination] for b in sc.authority.background] or [0], np.int64)
    mf = np.array([cidx[m.country] for m in sc.manufacturers] or [0], np.int64)
    dest = np.where(
        apps.source == 0,
        bg[np.where(apps.source == 0, apps.source_index, 0)],
        mf[np.where(apps.source == 1, apps.source_index, 0)],
    )
    out = np.zeros((H + 1, len(sc.countries)))
    sub_day = np.ceil(apps.submit).astype(np.int64).clip(0, H)
    np.add.at(out, (sub_day, dest), 1.0)
    dd = apps.decided
    dec_day = np.ceil(apps.decide[dd]).astype(np.int64).clip(0, H)
    np.add.at(out, (dec_day, dest[dd]), -1.0)
    return np.cumsum(out, axis=0)[:H]


def exports_matrix(sc: Scenario, trace: Trace) -> np.ndarray:
    """Licensed exports (through the authority) per month and destination, tonnes,
    shape (months, countries)."""
    H = trace.horizon
    months = month_index(sc.start, H)
    nm = int(months[-1]) + 1
    cidx = {c.id: i for i, c in enumerate(sc.countries)}
    licensed = licensed_orders(sc, trace)
    out = np.zeros((nm, len(sc.countries)))
    bg_dest = [cidx[b.destination] for b in sc.authority.background]
    lane_dest = [cidx[ln.destination] for ln in sc.lanes]
    g = trace.goods
    for t, kind, oid, q, aux in zip(
        g["time_days"].tolist(),
        g["kind"].tolist(),
        g["order"].tolist(),
        g["tonnes"].tolist(),
        g["detail"].tolist(),
        strict=True,
    ):
        if kind == G.BG_EXPORT:
            c = bg_dest[int(aux)]
        elif kind == G.SHIPPED and licensed[oid]:
            c = lane_dest[int(aux)]
        else:
            continue
        out[months[min(int(t), H - 1)], c] += q
    return out


def regime_frame(
    sc: Scenario, changes: np.ndarray, names: tuple[str, ...], labels: tuple[str, ...]
) -> pd.DataFrame:
    """Regime timeline frame (``start``, ``end`` exclusive, ``regime``, ``label``) from
    the :data:`~simulator.world.trace.REGIMES` log."""
    start = pd.Timestamp(sc.start)
    rows: list[dict[str, Any]] = []
    times = [float(x) for x in changes["time_days"]]
    regs = [int(x) for x in changes["regime"]]
    for i, (t, r) in enumerate(zip(times, regs, strict=True)):
        t_end = times[i + 1] if i + 1 < len(times) else float(sc.horizon_days)
        if t_end <= t:
            continue
        rows.append(
            {
                "start": start + pd.Timedelta(days=t),
                "end": start + pd.Timedelta(days=t_end),
                "regime": names[r],
                "label": labels[r],
            }
        )
    return pd.DataFrame(rows, columns=["start", "end", "regime", "label"])
