"""One replication's results: tidy frames decoded from its trace.

A :class:`RunResult` holds the scenario and the replication's
:class:`~simulator.world.trace.Trace` (pure data; the simulated world is gone). Frames
are built once, on first access, with the column declarations of
:mod:`simulator.world.trace`; nothing here runs inside the event loop. Units are in
column names (``_t`` tonnes, ``_days`` calendar days, ``_wd`` working days) and in
``attrs``. ``RunResult.summary`` is the array-level digest an ensemble keeps per
replication (:mod:`simulator.replication.digest`).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulator.replication.columns import TIME_UNIT, conform
from simulator.replication.digest import RepSummary, digest
from simulator.replication.kpis import entity_of
from simulator.replication.tables import Apps, kpi_frame, overlay_frame, regime_frame, totals_frame
from simulator.world.calendar import WorkCalendar, build_calendar
from simulator.world.pace import licensing_country
from simulator.world.trace import (
    AT_DEADLINE,
    AUTHORITY_DAILY,
    LINE_SERIES,
    OUTCOMES,
    PART_SERIES,
    Ev,
    G,
    Source,
    Trace,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["RunResult"]


class RunResult:
    """Results of one replication, decoded from its trace.

    Attributes:
        scenario: The scenario that made it.
        trace: The replication's :class:`~simulator.world.trace.Trace`.
        seed: Root seed.
        rep: Replication index.
    """

    def __init__(self, scenario: Scenario, trace: Trace, calendar: WorkCalendar | None = None):
        self.scenario = scenario
        self.trace = trace
        self.seed = trace.seed
        self.rep = trace.rep
        self._cal = calendar if calendar is not None else build_calendar(scenario)

    # ------------------------------------------------------------------ helpers
    @cached_property
    def _apps(self) -> Apps:
        return Apps(self.trace, self._cal)

    def _dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.scenario.start, periods=self.trace.horizon, freq="D")

    def _key_of(self) -> list[tuple[str, str, str, str, str]]:
        """(destination, product, end use, exporter, applicant) of every application."""
        sc, a = self.scenario, self._apps
        parts = [p for m in sc.manufacturers for p in m.bill()]
        part_of = self.trace.shipments["part"]
        keys: list[tuple[str, str, str, str, str]] = []
        for src, idx, ex, sid in zip(
            a.source.tolist(),
            a.source_index.tolist(),
            a.exporter.tolist(),
            a.shipment.tolist(),
            strict=True,
        ):
            if src == Source.BACKGROUND:
                b = sc.authority.background[idx]
                keys.append((b.destination, b.product, b.end_use, b.exporter, "background"))
            else:
                m = sc.manufacturers[idx]
                material = parts[int(part_of[sid])].material
                keys.append((m.country, material, m.end_use, sc.exporters[ex].id, m.id))
        return keys

    # ------------------------------------------------------------------ frames
    def _ts(self, days: np.ndarray) -> np.ndarray:
        """Calendar days since start (float, NaN = never) -> timestamps (NaT = never)."""
        t0 = np.datetime64(self.scenario.start, TIME_UNIT)
        d = np.asarray(days, dtype=float)
        ms = np.round(np.nan_to_num(d) * 86_400_000).astype(np.int64)
        out = t0 + ms.astype(f"timedelta64[{TIME_UNIT}]")
        out[np.isnan(d)] = np.datetime64("NaT")
        return out

    def _owner(self, shipment_ids: np.ndarray) -> np.ndarray:
        """Manufacturer id of each shipment's order (None: a background export)."""
        ships = self.trace.shipments
        ids = np.array([m.id for m in self.scenario.manufacturers] + [None], dtype=object)
        src = ships["source"][shipment_ids]
        idx = np.where(src == Source.BACKGROUND, -1, ships["source_index"][shipment_ids])
        return ids[idx]

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log: authority and goods events, time-ordered.

        Columns (see ``docs/outputs.md``): ``time`` (timestamp), ``time_days``, ``kind``
        (an :class:`~simulator.world.trace.Ev` or :class:`~simulator.world.trace.G`
        name), ``application`` (null for goods events), ``shipment``, ``manufacturer``
        (whose order; null for background exports), ``tonnes``, ``detail`` (per kind).
        """
        a, g = self.trace.authority, self.trace.goods
        app_ship = self.trace.applications["shipment"].astype(np.int64)
        a_ship = app_ship[a["application"]] if len(a) else np.zeros(0, np.int64)
        sid = g["shipment"].astype(np.int64)
        kinds = list(Ev.NAMES) + list(G.NAMES)
        n_a, n_g = len(a), len(g)
        ev = pd.DataFrame(
            {
                "time_days": np.concatenate([a["time_days"], g["time_days"]]),
                "kind": pd.Categorical.from_codes(
                    np.concatenate(
                        [a["kind"].astype(np.int64), g["kind"].astype(np.int64) + len(Ev.NAMES)]
                    ),
                    kinds,
                ),
                "application": pd.array(
                    np.concatenate([a["application"], np.zeros(n_g, np.int64)]), dtype="Int64"
                ),
                "shipment": pd.array(np.concatenate([a_ship, sid]), dtype="Int64"),
                "manufacturer": np.concatenate([self._owner(a_ship), self._owner(sid)]),
                "tonnes": np.concatenate(
                    [
                        np.where(
                            (a["kind"] == Ev.DECIDE) | (a["kind"] == Ev.SUBMIT), a["tonnes"], 0.0
                        ),
                        g["tonnes"],
                    ]
                ),
                "detail": np.concatenate([a["detail"], g["detail"]]),
            }
        )
        ev.loc[n_a:, "application"] = pd.NA
        ev = ev.sort_values("time_days", kind="stable", ignore_index=True)
        ev["time"] = self._ts(ev["time_days"].to_numpy())
        return conform(ev, "events")

    @cached_property
    def licences(self) -> pd.DataFrame:
        """One row per application with the time of every step and its waits.

        Times: ``submitted_at`` … ``parked_at`` (timestamps, NaT if it never happened)
        and the same as calendar days since start (``submitted_days`` …). Waits:
        ``wait_days`` (calendar days, submission to decision), ``wait_wd`` (working
        days, the same span), ``clock_wd`` (statutory clock: working days from
        acceptance to decision less stopped time), ``stopped_days`` (information
        requests, calendar days). NaN while undecided. ``manufacturer`` is the
        applicant's id (null for background exports).
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
                "manufacturer": [
                    None if s == 0 else k[4] for s, k in zip(a.source, keys, strict=True)
                ],
                "destination": [k[0] for k in keys],
                "product": [k[1] for k in keys],
                "end_use": [k[2] for k in keys],
                "exporter": [k[3] for k in keys],
                "shipment": a.shipment,
                "tonnes": a.tonnes,
                "submitted_at": self._ts(a.submit),
                "accepted_at": self._ts(a.accept),
                "review_started_at": self._ts(a.review_start),
                "decided_at": self._ts(a.decide),
                "parked_at": self._ts(a.park),
                "submitted_days": a.submit,
                "accepted_days": a.accept,
                "review_start_days": a.review_start,
                "decided_days": a.decide,
                "returns": a.returns,
                "info_requests": a.info_requests,
                "stopped_days": a.stopped_days,
                "parked_days": np.where(
                    np.isnan(a.park),
                    0.0,
                    np.where(a.decided, a.decide, float(self.trace.horizon)) - a.park,
                ),
                "extended": a.extended > 0,
                "outcome": outcome,
                "at_deadline": a.at_deadline,
                "released": a.released,
                "approved_t": a.approved_t,
                "wait_days": a.wait_days,
                "wait_wd": a.wait_wd,
                "clock_wd": a.clock_wd,
            }
        )
        return conform(df, "licences")

    @cached_property
    def shipments(self) -> pd.DataFrame:
        """The goods table: one row per shipment with the time of each stage of its chain
        (:mod:`simulator.world.goods`): ``ordered_at`` … ``arrived_at`` (first
        occurrence; NaT if it has not happened), ``cancelled_at`` (tonnes denied, a
        licence expired or a contract lapsed), and the tonnes denied, expired, lapsed,
        departed and arrived (an
        upstream plant ships in parts)."""
        sc, tr = self.scenario, self.trace
        ships, g = tr.shipments, tr.goods
        n = len(ships)
        sid = g["shipment"].astype(np.int64)
        kind = g["kind"].astype(np.int64)
        t = g["time_days"]

        def first(mask: np.ndarray) -> np.ndarray:
            out = np.full(n, np.nan)
            out[sid[mask][::-1]] = t[mask][::-1]
            return out

        def total(k: int) -> np.ndarray:
            m = kind == k
            return np.bincount(sid[m], weights=g["tonnes"][m], minlength=n)[:n]

        before_start = (kind == G.DEPARTED) & (g["detail"] == -2.0)
        dep = (kind == G.DEPARTED) & ~before_start
        lane_ix = np.full(n, -1, dtype=np.int64)
        lane_ix[sid[dep][::-1]] = g["detail"][dep][::-1].astype(np.int64)
        lanes = np.array([ln.id for ln in sc.lanes] + [None], dtype=object)
        application = np.full(n, -1, dtype=np.int64)
        app = kind == G.APPLY
        application[sid[app][::-1]] = g["detail"][app][::-1].astype(np.int64)
        exporters = np.array([e.id for e in sc.exporters] + [None], dtype=object)
        countries = np.array([c.id for c in sc.countries], dtype=object)
        parts = [(m, p) for m in sc.manufacturers for p in m.bill()]
        src = ships["source"].astype(np.int64)
        idx = ships["source_index"].astype(np.int64)
        ex = ships["exporter"].astype(np.int64)
        pi = ships["part"].astype(np.int64)
        bg = src == Source.BACKGROUND
        background = sc.authority.background
        exporter = np.where(
            bg,
            np.array(
                [background[i].exporter if b else None for i, b in zip(idx, bg, strict=True)],
                dtype=object,
            ),
            exporters[ex],
        )
        home = licensing_country(sc)
        origin = np.array(
            [
                home if b else (sc.exporters[e].country if e >= 0 else None)
                for b, e in zip(bg, ex, strict=True)
            ],
            dtype=object,
        )
        product = np.array(
            [
                background[i].product if b else parts[p][1].material
                for b, i, p in zip(bg, idx, pi, strict=True)
            ],
            dtype=object,
        )
        df = pd.DataFrame(
            {
                "shipment": ships["shipment"].astype(np.int64),
                "source": np.array(["background", "order", "pipeline"], object)[src],
                "manufacturer": self._owner(np.arange(n)),
                "part": np.array(
                    [None if p < 0 else parts[p][1].id for p in pi.tolist()], dtype=object
                ),
                "exporter": exporter,
                "origin": origin,
                "destination": countries[ships["destination"].astype(np.int64)],
                "product": product,
                "licensed": ships["via_customs"] == 1,
                "tonnes": ships["tonnes"],
                "application": pd.array(np.where(application >= 0, application, 0), dtype="Int64"),
                "ordered_at": self._ts(first(kind == G.ORDER)),
                "applied_at": self._ts(first(app)),
                "presented_at": self._ts(first(kind == G.PRESENTED)),
                "held_at": self._ts(first(kind == G.HELD)),
                "released_at": self._ts(first(kind == G.RELEASED)),
                "departed_at": self._ts(first(dep)),
                "arrived_at": self._ts(first(kind == G.ARRIVED)),
                "cancelled_at": self._ts(
                    first((kind == G.DENIED) | (kind == G.EXPIRED) | (kind == G.LAPSED))
                ),
                "lane": lanes[lane_ix],
                "denied_t": total(G.DENIED),
                "expired_t": total(G.EXPIRED),
                "lapsed_t": total(G.LAPSED),
                "departed_t": total(G.DEPARTED),
                "arrived_t": total(G.ARRIVED),
            }
        )
        df.loc[application < 0, "application"] = pd.NA
        return conform(df, "shipments")

    @cached_property
    def daily(self) -> pd.DataFrame:
        """Per manufacturer, critical part and day: the part's tonnes (demand, consumed,
        shortfall of the line, its own stock-out, inventory at the end of the day, on
        order, backlog) and the line's units (demand, made, short, backlog). A one-part
        manufacturer has one part, named after its material."""
        sc, tr = self.scenario, self.trace
        H = tr.horizon
        parts = [(m, i, p) for i, m in enumerate(sc.manufacturers) for p in m.bill()]
        n = len(parts)
        line = np.array([i for _, i, _ in parts], dtype=np.int64)
        df = pd.DataFrame(
            {
                "date": np.tile(self._dates(), n),
                "day": np.tile(np.arange(H), n),
                "manufacturer": np.repeat([m.id for m, _, _ in parts], H),
                "part": np.repeat([p.id for _, _, p in parts], H),
                **{name: tr.parts[name].T.ravel() for name, _ in PART_SERIES},
                **{name: tr.lines[name][:, line].T.ravel() for name, _ in LINE_SERIES},
            }
        )
        return conform(df, "daily")

    @cached_property
    def authority_daily(self) -> pd.DataFrame:
        """Per day (start of day): applications queued for a reviewer, in review,
        awaiting a (suspended) decision, in the system; decisions made that day."""
        a = self._apps
        H = self.trace.horizon
        dec = np.bincount(np.floor(a.decide[a.decided]).astype(np.int64), minlength=H)[:H]
        sub = np.bincount(np.floor(a.submit[~np.isnan(a.submit)]).astype(np.int64), minlength=H)[:H]
        df = pd.DataFrame(
            {
                "date": self._dates(),
                **{name: self.trace.authority_daily[name] for name, _ in AUTHORITY_DAILY},
                "submitted": sub,
                "decided": dec,
            }
        )
        return conform(df, "authority_daily")

    def _flows(self, kind: int, table: str) -> pd.DataFrame:
        sc, g, ships = self.scenario, self.trace.goods, self.trace.shipments
        rows = (g["kind"] == kind) & (g["detail"] != -2.0)
        sid = g["shipment"][rows]
        exporters = list(sc.exporters)
        countries = [c.id for c in sc.countries]
        parts = [p for m in sc.manufacturers for p in m.bill()]
        home = licensing_country(sc)
        origin: list[str | None] = []
        product: list[str] = []
        for s_ in sid.tolist():
            src, idx, e = (
                int(ships["source"][s_]),
                int(ships["source_index"][s_]),
                int(ships["exporter"][s_]),
            )
            if src == Source.BACKGROUND:
                origin.append(home)
                product.append(sc.authority.background[idx].product)
                continue
            origin.append(exporters[e].country if e >= 0 else None)
            product.append(parts[int(ships["part"][s_])].material)
        df = pd.DataFrame(
            {
                "time_days": g["time_days"][rows],
                "origin": origin,
                "destination": [countries[int(d)] for d in ships["destination"][sid]],
                "product": product,
                "licensed": ships["via_customs"][sid] == 1,
                "tonnes": g["tonnes"][rows],
            }
        )
        df["month"] = (
            (
                pd.Timestamp(sc.start)
                + pd.to_timedelta(np.floor(df["time_days"].to_numpy()), unit="D")
            )
            .to_period("M")
            .to_timestamp()
        )
        out = df.groupby(
            ["month", "origin", "destination", "product", "licensed"], as_index=False, dropna=False
        )["tonnes"].sum()
        return conform(out, table)

    @cached_property
    def exports(self) -> pd.DataFrame:
        """Tonnes departed per month (``month``: its first day) by origin and
        destination (for goods through Chinese customs, the customs export date).
        ``licensed`` marks exports that passed the licensing authority's controls
        (background exports, whose ``origin`` is null, and shipments from licensed
        exporters)."""
        return self._flows(G.DEPARTED, "exports")

    @cached_property
    def arrivals(self) -> pd.DataFrame:
        """Tonnes arrived per month by origin and destination (same columns as
        :attr:`exports`)."""
        return self._flows(G.ARRIVED, "arrivals")

    @cached_property
    def regimes(self) -> pd.DataFrame:
        """Regime timeline: ``start``/``end`` dates (end exclusive), ``regime``, ``label``."""
        tr = self.trace
        return regime_frame(self.scenario, tr.regimes, tr.regime_names, tr.regime_labels)

    @cached_property
    def overlays(self) -> pd.DataFrame:
        """Overlay spans: ``start``/``end`` dates (end exclusive), ``overlay`` index,
        ``label``, ``kind`` (``dated`` or ``pulse``)."""
        return conform(overlay_frame(self.scenario, self.trace.overlays), "overlays")

    @cached_property
    def summary(self) -> RepSummary:
        """Array digest used by ensembles (no pandas)."""
        return digest(self.scenario, self.trace, self._cal, self._apps)

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """KPIs of this replication (see :mod:`simulator.replication.kpis`): one row per
        manufacturer (``part`` null) and per part of a multi-part line, with the first
        shortage and recovery as dates (``first_shortage_date``, ``recovery_date``)."""
        return kpi_frame(self.scenario, self.summary.kpis)

    @cached_property
    def totals(self) -> pd.DataFrame:
        """KPIs of the replication as a whole (one row): ``fill_rate`` and
        ``shortfall_t`` over all manufacturers, and the authority's KPIs."""
        return totals_frame(self.summary.kpis)

    def kpi(self, kpi: str, manufacturer: str | None = None, part: str | None = None) -> float:
        """One KPI value: of ``manufacturer`` (or its ``part``), or of the whole run
        (totals and the authority's KPIs) when no manufacturer is given."""
        return self.summary.kpis[(entity_of(manufacturer, part, kpi), kpi)]

    def _repr_html_(self) -> str:
        from simulator.replication.views import run_result_html

        return run_result_html(self)

    def __repr__(self) -> str:
        return (
            f"RunResult(scenario={self.scenario.name!r}, seed={self.seed}, rep={self.rep},"
            f" applications={self.trace.n_applications})"
        )
