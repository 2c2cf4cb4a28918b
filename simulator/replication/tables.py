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

from simulator.replication.columns import conform
from simulator.replication.kpis import (
    ALL_MANUFACTURERS,
    AUTHORITY,
    AUTHORITY_KPIS,
    MANUFACTURER_KPIS,
    PART_KPIS,
)
from simulator.world.calendar import WorkCalendar
from simulator.world.trace import AT_DEADLINE, Ev, Trace

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "Apps",
    "backlog_by_destination",
    "flows_by_month",
    "kpi_frame",
    "line_shortfall_t",
    "line_t_per_unit",
    "month_index",
    "part_names",
    "regime_frame",
    "totals_frame",
]


class Apps:
    """Per-application arrays decoded from the authority log (vectorised).

    Attributes (one entry per application, in id order): ``id``, ``source`` (a
    :class:`~simulator.world.trace.Source` kind), ``source_index``, ``shipment``,
    ``exporter``, ``tonnes``; times ``submit``, ``accept``, ``review_start``, ``decide``,
    ``park`` (calendar days, NaN if it never happened); ``returns``, ``info_requests``,
    ``extended`` (counts); ``released`` (decided in a batch release);
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
        self.shipment = meta["shipment"].astype(np.int64)
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
        self.park = first(Ev.PARK)
        self.extended = count(Ev.EXTEND)
        self.released = count(Ev.RELEASE) > 0
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


def part_names(sc: Scenario) -> list[str]:
    """Entity name of every part, manufacturer by manufacturer: the manufacturer's id for
    a one-part line, ``<manufacturer>/<part>`` for the parts of a bill of materials."""
    return [f"{m.id}/{p.id}" if m.multi_part else m.id for m in sc.manufacturers for p in m.bill()]


def line_t_per_unit(sc: Scenario) -> np.ndarray:
    """Tonnes of material (all parts) per unit made, per manufacturer."""
    return np.array(
        [sum(p.kg_per_unit for p in m.bill()) / 1000.0 for m in sc.manufacturers], dtype=float
    )


def line_shortfall_t(sc: Scenario, trace: Trace) -> np.ndarray:
    """Daily material of the demand not made, tonnes, per manufacturer (days, lines)."""
    return trace.lines["short_units"] * line_t_per_unit(sc)[None, :]


def month_index(start: dt.date, horizon: int) -> np.ndarray:
    """Month number (0 = start's month) of each simulated day."""
    d = np.datetime64(start, "D") + np.arange(horizon)
    m = d.astype("datetime64[M]").astype(np.int64)
    return m - m[0]


def backlog_by_destination(sc: Scenario, trace: Trace, apps: Apps) -> np.ndarray:
    """Applications pending (submitted, undecided) per day and destination country,
    shape (days, countries)."""
    H = trace.horizon
    dest = (
        trace.shipments["destination"].astype(np.int64)[apps.shipment]
        if apps.n
        else (np.zeros(0, np.int64))
    )
    out = np.zeros((H + 1, len(sc.countries)))
    sub_day = np.ceil(apps.submit).astype(np.int64).clip(0, H)
    np.add.at(out, (sub_day, dest), 1.0)
    dd = apps.decided
    dec_day = np.ceil(apps.decide[dd]).astype(np.int64).clip(0, H)
    np.add.at(out, (dec_day, dest[dd]), -1.0)
    return np.cumsum(out, axis=0)[:H]


def flows_by_month(sc: Scenario, trace: Trace, kind: int) -> np.ndarray:
    """Tonnes of Chinese exports (goods through customs) per month and destination,
    counted at departure (``G.DEPARTED``: the customs export date) or at arrival
    (``G.ARRIVED``), shape (months, countries). Pipeline goods that left before the start
    are not exports of the horizon."""
    H = trace.horizon
    months = month_index(sc.start, H)
    out = np.zeros((int(months[-1]) + 1, len(sc.countries)))
    g, ships = trace.goods, trace.shipments
    rows = (g["kind"] == kind) & (g["detail"] != -2.0)
    sid = g["shipment"][rows]
    keep = ships["via_customs"][sid] == 1
    day = np.minimum(g["time_days"][rows][keep].astype(np.int64), H - 1)
    np.add.at(out, (months[day], ships["destination"][sid[keep]]), g["tonnes"][rows][keep])
    return out


def overlay_frame(sc: Scenario, log: np.ndarray) -> pd.DataFrame:
    """Overlay spans (``start``, ``end`` exclusive, ``overlay`` index, ``label``, ``kind``
    ``dated`` or ``pulse``) from the :data:`~simulator.world.trace.OVERLAYS` log; an
    overlay still on at the end of the horizon ends there."""
    start = pd.Timestamp(sc.start)
    layers = sc.policy.layers()
    n_dated = len(sc.policy.overlays)
    opened: dict[int, float] = {}
    spans: list[tuple[float, float, int]] = []
    for t, i, on in zip(
        log["time_days"].tolist(), log["overlay"].tolist(), log["on"].tolist(), strict=True
    ):
        if on:
            opened[i] = t
        elif i in opened:
            spans.append((opened.pop(i), t, i))
    spans += [(t, float(sc.horizon_days), i) for i, t in opened.items()]
    spans.sort()
    rows = [
        {
            "start": start + pd.Timedelta(days=t0),
            "end": start + pd.Timedelta(days=t1),
            "overlay": i,
            "label": getattr(layers[i], "label", "") or f"overlay {i}",
            "kind": "dated" if i < n_dated else "pulse",
        }
        for t0, t1, i in spans
        if t1 > t0
    ]
    return pd.DataFrame(rows, columns=["start", "end", "overlay", "label", "kind"])


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
    return conform(pd.DataFrame(rows, columns=["start", "end", "regime", "label"]), "regimes")


def _day_dates(start: dt.date, days: np.ndarray) -> np.ndarray:
    """Day indices (NaN = undefined) -> dates (NaT)."""
    d = np.asarray(days, dtype=float)
    out = np.datetime64(start, "D") + np.nan_to_num(d).astype(np.int64).astype("timedelta64[D]")
    out = out.astype("datetime64[ms]")
    out[np.isnan(d)] = np.datetime64("NaT")
    return out


def kpi_frame(sc: Scenario, kpis: dict[tuple[str, str], float]) -> pd.DataFrame:
    """One replication's manufacturer and part KPIs as the ``kpis`` table: a row per
    manufacturer (``part`` null) and per part of a multi-part line, with the first
    shortage and the recovery as dates."""
    rows = []
    for m in sc.manufacturers:
        keys = [(m.id, None)] + ([(m.id, p.id) for p in m.bill()] if m.multi_part else [])
        for mid, pid in keys:
            ent = f"{mid}/{pid}" if pid is not None else mid
            names = MANUFACTURER_KPIS if pid is None else PART_KPIS
            row: dict[str, Any] = {"manufacturer": mid, "part": pid}
            for k in MANUFACTURER_KPIS:
                row[k] = float(kpis.get((ent, k), np.nan)) if k in names else np.nan
            first, rec = row["days_to_first_shortage"], row["days_to_recover"]
            row["first_shortage_date"] = first
            row["recovery_date"] = first + rec
            rows.append(row)
    df = pd.DataFrame(
        rows,
        columns=[
            "manufacturer",
            "part",
            *MANUFACTURER_KPIS,
            "first_shortage_date",
            "recovery_date",
        ],
    )
    for c in ("first_shortage_date", "recovery_date"):
        df[c] = _day_dates(sc.start, df[c].to_numpy(dtype=float))
    return conform(df, "kpis")


def totals_frame(kpis: dict[tuple[str, str], float]) -> pd.DataFrame:
    """One replication's KPIs as a whole (the ``totals`` table, one row)."""
    row = {
        "fill_rate": kpis.get((ALL_MANUFACTURERS, "fill_rate"), np.nan),
        "shortfall_t": kpis.get((ALL_MANUFACTURERS, "shortfall_t"), np.nan),
        **{k: kpis.get((AUTHORITY, k), np.nan) for k in AUTHORITY_KPIS},
    }
    return conform(pd.DataFrame([row]), "totals")
