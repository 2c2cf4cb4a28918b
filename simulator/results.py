"""One replication's results: the event log and the tidy frames derived from it.

Frames are built once, on first access, from the logs the world appended during
the run; nothing here runs inside the event loop. Units are in column names
(``_t`` tonnes, ``_days`` calendar days, ``_wd`` working days) and in ``attrs``.

``RunResult.summary`` is the array-level digest an ensemble keeps per replication
(KPIs plus daily series), computed without pandas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from simulator.kpis import authority_kpis, manufacturer_kpis
from simulator.licensing import AT_DEADLINE, OUTCOMES, Ev
from simulator.schema import Scenario
from simulator.world import G, World

__all__ = ["ALL_MANUFACTURERS", "RepSummary", "RunResult"]

ALL_MANUFACTURERS = "all_manufacturers"
"""Entity name of KPIs summed over every manufacturer (shortfall_t; demand-weighted
fill_rate)."""


@dataclass
class RepSummary:
    """Per-replication digest kept by ensembles (small: KPIs and daily vectors).

    Attributes:
        rep: Replication index.
        kpis: ``{(entity, kpi): value}`` for manufacturers and ``authority``.
        shortfall: Daily shortfall, tonnes, shape (days, manufacturers).
        inventory: Daily end-of-day inventory, tonnes, shape (days, manufacturers).
        backlog: Applications pending per day by destination, shape (days, countries).
        exports: Monthly licensed exports, tonnes, shape (months, countries).
        wait_wd: Waits of decided applications, working days (for the wait histogram).
        regimes: ``(time, regime index)`` changes.
    """

    rep: int
    kpis: dict[tuple[str, str], float]
    shortfall: np.ndarray
    inventory: np.ndarray
    backlog: np.ndarray
    exports: np.ndarray
    wait_wd: np.ndarray
    regimes: list[tuple[float, int]]


class _Apps:
    """Per-application arrays derived from the authority log (vectorised)."""

    def __init__(self, world: World) -> None:
        cal = world.cal
        n = world._next_app
        meta = np.array(world.apps, dtype=float).reshape(-1, 5)
        self.n = n
        self.id = meta[:, 0].astype(np.int64)
        self.source = meta[:, 1].astype(np.int64)  # 0 background, 1 manufacturer
        self.source_index = meta[:, 2].astype(np.int64)
        self.order_id = meta[:, 3].astype(np.int64)
        self.tonnes = meta[:, 4]
        log = np.array(world.log, dtype=float).reshape(-1, 5)
        t, kind, aid = log[:, 0], log[:, 1].astype(np.int64), log[:, 2].astype(np.int64)

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
        self.approved_t[aid[dec]] = log[dec, 3]
        code = np.full(n, -1, dtype=np.int64)
        code[aid[dec]] = log[dec, 4].astype(np.int64)
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
        self.stopped_days[open_req] += float(world.horizon)
        wt = cal.work_time
        stopped_wd = np.zeros(n)
        if resp.any():
            np.add.at(stopped_wd, aid[resp], wt(t[resp]))
        if req.any():
            np.subtract.at(stopped_wd, aid[req], wt(t[req]))
        stopped_wd[open_req] += wt(float(world.horizon))
        self.stopped_wd = stopped_wd
        self.wait_days = self.decide - self.submit
        with np.errstate(invalid="ignore"):
            w_dec = np.where(self.decided, wt(np.nan_to_num(self.decide)), np.nan)
            self.wait_wd = w_dec - wt(np.nan_to_num(self.submit))
            self.clock_wd = w_dec - wt(np.nan_to_num(self.accept)) - stopped_wd


class RunResult:
    """Results of one replication.

    Attributes:
        scenario: The scenario that made it.
        seed: Root seed.
        rep: Replication index.
    """

    def __init__(self, world: World, seed: int, rep: int) -> None:
        self.scenario: Scenario = world.sc
        self.seed = seed
        self.rep = rep
        self._w = world

    def _dispose(self) -> None:
        """Free the replication's memory at once (ensembles call this after taking the
        :attr:`summary`); the result is unusable afterwards."""
        w = self.__dict__.pop("_w", None)
        self.__dict__.pop("_apps", None)
        if w is not None:
            w.dispose()

    # ------------------------------------------------------------------ helpers
    @cached_property
    def _apps(self) -> _Apps:
        return _Apps(self._w)

    def _dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.scenario.start, periods=self._w.horizon, freq="D")

    def _key_of(self) -> list[tuple[str, str, str, str, str]]:
        sc, a = self.scenario, self._apps
        keys: list[tuple[str, str, str, str, str]] = []
        for src, idx in zip(a.source.tolist(), a.source_index.tolist(), strict=True):
            if src == 0:
                b = sc.authority.background[idx]
                keys.append((b.destination, b.product, b.end_use, b.exporter, "background"))
            else:
                m = sc.manufacturers[idx]
                keys.append((m.country, m.material, m.end_use, "", m.id))
        # exporter of manufacturer applications comes from the order's supplier
        orders = self._orders
        for i, (src, oid) in enumerate(zip(a.source.tolist(), a.order_id.tolist(), strict=True)):
            if src == 1:
                m_idx, sup = orders[oid]
                ex = sc.manufacturers[m_idx].suppliers[sup].exporter or ""
                d, p, e, _, ap = keys[i]
                keys[i] = (d, p, e, ex, ap)
        return keys

    @cached_property
    def _orders(self) -> dict[int, tuple[int, int]]:
        return {int(r[2]): (int(r[3]), int(r[5])) for r in self._w.glog if r[1] == G.ORDER}

    @cached_property
    def _licensed_orders(self) -> dict[int, bool]:
        """Order id -> whether its goods come from a licensed exporter (not from an
        alternative supplier or an upstream manufacturer), by supplier, not by country:
        an unlicensed exporter may share a country with a licensed one."""
        sc = self.scenario
        ex_licensed = {e.id: e.licensed for e in sc.exporters}
        sup_licensed = [
            [s.exporter is not None and ex_licensed[s.exporter] for s in m.suppliers]
            for m in sc.manufacturers
        ]
        return {oid: sup_licensed[m][sup] for oid, (m, sup) in self._orders.items()}

    # ------------------------------------------------------------------ frames
    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log: authority and goods events, time-ordered.

        Columns: ``time_days`` (calendar days since start), ``date``, ``kind``,
        ``application``, ``order``, ``manufacturer``, ``tonnes``, ``aux``.
        """
        w = self._w
        a = np.array(w.log, dtype=float).reshape(-1, 5)
        g = np.array(w.glog, dtype=float).reshape(-1, 6)
        auth = pd.DataFrame(
            {
                "time_days": a[:, 0],
                "kind": pd.Categorical.from_codes(a[:, 1].astype(int), Ev.NAMES),
                "application": a[:, 2].astype(np.int64),
                "order": -1,
                "manufacturer": -1,
                "tonnes": np.where(
                    a[:, 1] == Ev.DECIDE, a[:, 3], np.where(a[:, 1] == Ev.SUBMIT, a[:, 3], 0.0)
                ),
                "aux": a[:, 4],
            }
        )
        goods = pd.DataFrame(
            {
                "time_days": g[:, 0],
                "kind": pd.Categorical.from_codes(g[:, 1].astype(int), G.NAMES),
                "application": -1,
                "order": g[:, 2].astype(np.int64),
                "manufacturer": g[:, 3].astype(np.int64),
                "tonnes": g[:, 4],
                "aux": g[:, 5],
            }
        )
        kinds = list(Ev.NAMES) + list(G.NAMES)
        for df in (auth, goods):
            df["kind"] = df["kind"].astype(pd.CategoricalDtype(kinds))
        ev = pd.concat([auth, goods], ignore_index=True)
        ev = ev.sort_values("time_days", kind="stable", ignore_index=True)
        ev.insert(
            1,
            "date",
            pd.Timestamp(self.scenario.start)
            + pd.to_timedelta(np.floor(ev["time_days"].to_numpy()), unit="D"),
        )
        ev.attrs["units"] = {"time_days": "calendar days since start", "tonnes": "t"}
        return ev

    @cached_property
    def licences(self) -> pd.DataFrame:
        """One row per application with its timestamps and waits.

        Waits: ``wait_days`` (calendar days, submission to decision), ``wait_wd``
        (working days, the same span), ``clock_wd`` (statutory clock: working days from
        acceptance to decision less stopped time), ``stopped_days`` (information
        requests, calendar days). NaN while undecided.
        """
        a = self._apps
        keys = self._key_of()
        outcome = np.array(["pending", *OUTCOMES], dtype=object)[
            np.where(a.decided, (a.code % AT_DEADLINE) + 1, 0)
        ]
        df = pd.DataFrame(
            {
                "application": a.id,
                "source": np.where(a.source == 0, "background", "manufacturer"),
                "destination": [k[0] for k in keys],
                "product": [k[1] for k in keys],
                "end_use": [k[2] for k in keys],
                "exporter": [k[3] for k in keys],
                "applicant": [k[4] for k in keys],
                "order": a.order_id,
                "tonnes": a.tonnes,
                "submitted_days": a.submit,
                "accepted_days": a.accept,
                "review_start_days": a.review_start,
                "decided_days": a.decide,
                "returns": a.returns,
                "info_requests": a.info_requests,
                "stopped_days": a.stopped_days,
                "outcome": outcome,
                "at_deadline": a.at_deadline,
                "approved_t": a.approved_t,
                "wait_days": a.wait_days,
                "wait_wd": a.wait_wd,
                "clock_wd": a.clock_wd,
            }
        )
        df.attrs["units"] = {
            "*_days": "calendar days",
            "*_wd": "working days",
            "tonnes": "t",
            "approved_t": "t",
        }
        return df

    @cached_property
    def daily(self) -> pd.DataFrame:
        """Per manufacturer per day: demand, consumed, shortfall, inventory (end of day),
        on order, backlog — all tonnes."""
        p = self._w.plants
        sc = self.scenario
        H, n = self._w.horizon, p.n
        dates = self._dates()
        df = pd.DataFrame(
            {
                "date": np.tile(dates, n),
                "day": np.tile(np.arange(H), n),
                "manufacturer": np.repeat([m.id for m in sc.manufacturers], H),
                "demand_t": p.rec_demand.T.ravel(),
                "consumed_t": p.rec_consumed.T.ravel(),
                "shortfall_t": p.rec_shortfall.T.ravel(),
                "inventory_t": p.rec_inventory.T.ravel(),
                "on_order_t": p.rec_on_order.T.ravel(),
                "backlog_t": p.rec_backlog.T.ravel(),
            }
        )
        df.attrs["units"] = {"*_t": "t"}
        return df

    @cached_property
    def authority_daily(self) -> pd.DataFrame:
        """Per day (start of day): applications queued for a reviewer, in review,
        awaiting a (suspended) decision, in the system; decisions made that day."""
        a = self._apps
        H = self._w.horizon
        dec = np.bincount(np.floor(a.decide[a.decided]).astype(np.int64), minlength=H)[:H]
        sub = np.bincount(np.floor(a.submit[~np.isnan(a.submit)]).astype(np.int64), minlength=H)[:H]
        q = self._w.auth_daily
        return pd.DataFrame(
            {
                "date": self._dates(),
                "queued": q[:, 0].astype(np.int64),
                "in_review": q[:, 1].astype(np.int64),
                "awaiting_decision": q[:, 2].astype(np.int64),
                "in_system": q[:, 3].astype(np.int64),
                "submitted": sub,
                "decided": dec,
            }
        )

    @cached_property
    def exports(self) -> pd.DataFrame:
        """Tonnes shipped per month by origin and destination. ``licensed`` marks exports
        that passed the licensing authority's controls (background exports and
        shipments from licensed exporters)."""
        sc, w = self.scenario, self._w
        rows: list[tuple[float, str, str, str, bool, float]] = []
        licensed = self._licensed_orders
        for t, kind, oid, m, q, aux in w.glog:
            if kind == G.BG_EXPORT:
                b = sc.authority.background[int(aux)]
                rows.append((t, "licensing", b.destination, b.product, True, q))
            elif kind == G.SHIPPED:
                lane = sc.lanes[int(aux)]
                mfr = sc.manufacturers[int(m)]
                rows.append((t, lane.origin, lane.destination, mfr.material, licensed[int(oid)], q))
        df = pd.DataFrame(
            rows, columns=["time_days", "origin", "destination", "product", "licensed", "tonnes"]
        )
        df["month"] = (
            (
                pd.Timestamp(sc.start)
                + pd.to_timedelta(np.floor(df["time_days"].to_numpy()), unit="D")
            )
            .to_period("M")
            .astype(str)
        )
        out = df.groupby(["month", "origin", "destination", "product", "licensed"], as_index=False)[
            "tonnes"
        ].sum()
        out.attrs["units"] = {"tonnes": "t"}
        return out

    @cached_property
    def regimes(self) -> pd.DataFrame:
        """Regime timeline: ``start``/``end`` dates (end exclusive), ``regime``, ``label``."""
        return regime_frame(self.scenario, self._w.regimes, self._w.book.names, self._w.book.labels)

    @cached_property
    def summary(self) -> RepSummary:
        """Array digest used by ensembles (no pandas)."""
        w, sc, a = self._w, self.scenario, self._apps
        p = w.plants
        kpis: dict[tuple[str, str], float] = {}
        for i, m in enumerate(sc.manufacturers):
            for k, v in manufacturer_kpis(
                p.rec_demand[:, i],
                p.rec_shortfall[:, i],
                m.kg_per_unit,
                float(p.backlog[i]),
                m.unmet_demand == "backlog",
            ).items():
                kpis[(m.id, k)] = v
        if sc.manufacturers:
            total_demand = float(p.rec_demand.sum())
            total_short = float(p.rec_shortfall.sum())
            kpis[(ALL_MANUFACTURERS, "fill_rate")] = (
                1.0 - total_short / total_demand if total_demand > 0 else 1.0
            )
            kpis[(ALL_MANUFACTURERS, "shortfall_t")] = total_short
        dec = a.decided
        for k, v in authority_kpis(
            a.wait_wd[dec], a.code[dec] % AT_DEADLINE <= 1, sc.authority.statutory_limit_wd
        ).items():
            kpis[("authority", k)] = v
        return RepSummary(
            rep=self.rep,
            kpis=kpis,
            shortfall=p.rec_shortfall.copy(),
            inventory=p.rec_inventory.copy(),
            backlog=self._backlog_by_destination(),
            exports=self._exports_matrix(),
            wait_wd=a.wait_wd[dec].astype(np.float32),
            regimes=list(w.regimes),
        )

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """Tidy KPIs: ``entity``, ``kpi``, ``value`` (see :mod:`simulator.kpis`)."""
        return pd.DataFrame(
            [(e, k, v) for (e, k), v in self.summary.kpis.items()],
            columns=["entity", "kpi", "value"],
        )

    def _backlog_by_destination(self) -> np.ndarray:
        a, sc, H = self._apps, self.scenario, self._w.horizon
        cidx = {c.id: i for i, c in enumerate(sc.countries)}
        dest = np.empty(a.n, dtype=np.int64)
        bg = [cidx[b.destination] for b in sc.authority.background]
        mf = [cidx[m.country] for m in sc.manufacturers]
        for i, (s, k) in enumerate(zip(a.source.tolist(), a.source_index.tolist(), strict=True)):
            dest[i] = bg[k] if s == 0 else mf[k]
        out = np.zeros((H + 1, len(sc.countries)))
        sub_day = np.ceil(a.submit).astype(np.int64).clip(0, H)
        np.add.at(out, (sub_day, dest), 1.0)
        dd = a.decided
        dec_day = np.ceil(a.decide[dd]).astype(np.int64).clip(0, H)
        np.add.at(out, (dec_day, dest[dd]), -1.0)
        return np.cumsum(out, axis=0)[:H]

    def _exports_matrix(self) -> np.ndarray:
        sc, w = self.scenario, self._w
        months = month_index(sc.start, w.horizon)
        nm = int(months[-1]) + 1
        cidx = {c.id: i for i, c in enumerate(sc.countries)}
        licensed = self._licensed_orders
        out = np.zeros((nm, len(sc.countries)))
        H = w.horizon
        for t, kind, oid, _m, q, aux in w.glog:
            if kind == G.BG_EXPORT:
                c = cidx[sc.authority.background[int(aux)].destination]
            elif kind == G.SHIPPED and licensed[int(oid)]:
                c = cidx[sc.lanes[int(aux)].destination]
            else:
                continue
            out[months[min(int(t), H - 1)], c] += q
        return out

    def __repr__(self) -> str:
        return (
            f"RunResult(scenario={self.scenario.name!r}, seed={self.seed}, rep={self.rep},"
            f" applications={self._w._next_app})"
        )


def month_index(start: dt.date, horizon: int) -> np.ndarray:
    """Month number (0 = start's month) of each simulated day."""
    d = np.datetime64(start, "D") + np.arange(horizon)
    m = d.astype("datetime64[M]").astype(np.int64)
    return m - m[0]


def regime_frame(
    sc: Scenario, changes: list[tuple[float, int]], names: list[str], labels: list[str]
) -> pd.DataFrame:
    """Regime timeline frame from ``(time, regime index)`` changes."""
    start = pd.Timestamp(sc.start)
    rows: list[dict[str, Any]] = []
    for i, (t, r) in enumerate(changes):
        t_end = changes[i + 1][0] if i + 1 < len(changes) else float(sc.horizon_days)
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
