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

from simulator.replication.digest import RepSummary, digest
from simulator.replication.tables import Apps, overlay_frame, regime_frame
from simulator.world.calendar import WorkCalendar, build_calendar
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
    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log: authority and goods events, time-ordered.

        Columns: ``time_days`` (calendar days since start), ``date``, ``kind``,
        ``application``, ``shipment``, ``manufacturer`` (id; empty for background
        goods), ``tonnes``, ``detail`` (per kind: see :class:`~simulator.world.trace.Ev`
        and :class:`~simulator.world.trace.G`).
        """
        a, g, ships = self.trace.authority, self.trace.goods, self.trace.shipments
        owner = np.array([m.id for m in self.scenario.manufacturers] + [""], dtype=object)
        sid = g["shipment"]
        is_bg = ships["source"][sid] == Source.BACKGROUND
        mfr = owner[np.where(is_bg, -1, ships["source_index"][sid])]
        app_ship = self.trace.applications["shipment"]
        auth = pd.DataFrame(
            {
                "time_days": a["time_days"],
                "kind": pd.Categorical.from_codes(a["kind"].astype(int), Ev.NAMES),
                "application": a["application"].astype(np.int64),
                "shipment": app_ship[a["application"]].astype(np.int64)
                if len(a)
                else np.zeros(0, np.int64),
                "manufacturer": "",
                "tonnes": np.where(
                    (a["kind"] == Ev.DECIDE) | (a["kind"] == Ev.SUBMIT), a["tonnes"], 0.0
                ),
                "detail": a["detail"],
            }
        )
        goods = pd.DataFrame(
            {
                "time_days": g["time_days"],
                "kind": pd.Categorical.from_codes(g["kind"].astype(int), G.NAMES),
                "application": -1,
                "shipment": sid.astype(np.int64),
                "manufacturer": mfr,
                "tonnes": g["tonnes"],
                "detail": g["detail"],
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
                "shipment": a.shipment,
                "tonnes": a.tonnes,
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
        df.attrs["units"] = {"*_t": "t", "*_units": "units"}
        return df

    @cached_property
    def authority_daily(self) -> pd.DataFrame:
        """Per day (start of day): applications queued for a reviewer, in review,
        awaiting a (suspended) decision, in the system; decisions made that day."""
        a = self._apps
        H = self.trace.horizon
        dec = np.bincount(np.floor(a.decide[a.decided]).astype(np.int64), minlength=H)[:H]
        sub = np.bincount(np.floor(a.submit[~np.isnan(a.submit)]).astype(np.int64), minlength=H)[:H]
        return pd.DataFrame(
            {
                "date": self._dates(),
                **{name: self.trace.authority_daily[name] for name, _ in AUTHORITY_DAILY},
                "submitted": sub,
                "decided": dec,
            }
        )

    def _flows(self, kind: int) -> pd.DataFrame:
        sc, g, ships = self.scenario, self.trace.goods, self.trace.shipments
        rows = (g["kind"] == kind) & (g["detail"] != -2.0)
        sid = g["shipment"][rows]
        exporters = list(sc.exporters)
        countries = [c.id for c in sc.countries]
        parts = [p for m in sc.manufacturers for p in m.bill()]
        origin, product = [], []
        for s_ in sid.tolist():
            src, idx, e = (
                int(ships["source"][s_]),
                int(ships["source_index"][s_]),
                int(ships["exporter"][s_]),
            )
            if src == Source.BACKGROUND:
                origin.append("licensing")
                product.append(sc.authority.background[idx].product)
                continue
            origin.append(exporters[e].country if e >= 0 else "")
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
            .astype(str)
        )
        out = df.groupby(["month", "origin", "destination", "product", "licensed"], as_index=False)[
            "tonnes"
        ].sum()
        out.attrs["units"] = {"tonnes": "t"}
        return out

    @cached_property
    def exports(self) -> pd.DataFrame:
        """Tonnes departed per month by origin and destination (for goods through Chinese
        customs, the customs export date). ``licensed`` marks exports that passed the
        licensing authority's controls (background exports and shipments from licensed
        exporters)."""
        return self._flows(G.DEPARTED)

    @cached_property
    def arrivals(self) -> pd.DataFrame:
        """Tonnes arrived per month by origin and destination (same columns as
        :attr:`exports`)."""
        return self._flows(G.ARRIVED)

    @cached_property
    def regimes(self) -> pd.DataFrame:
        """Regime timeline: ``start``/``end`` dates (end exclusive), ``regime``, ``label``."""
        tr = self.trace
        return regime_frame(self.scenario, tr.regimes, tr.regime_names, tr.regime_labels)

    @cached_property
    def overlays(self) -> pd.DataFrame:
        """Overlay spans: ``start``/``end`` dates (end exclusive), ``overlay`` index,
        ``label``, ``kind`` (``dated`` or ``pulse``)."""
        return overlay_frame(self.scenario, self.trace.overlays)

    @cached_property
    def summary(self) -> RepSummary:
        """Array digest used by ensembles (no pandas)."""
        return digest(self.scenario, self.trace, self._cal, self._apps)

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """Tidy KPIs: ``entity``, ``kpi``, ``value`` (see :mod:`simulator.replication.kpis`)."""
        return pd.DataFrame(
            [(e, k, v) for (e, k), v in self.summary.kpis.items()],
            columns=["entity", "kpi", "value"],
        )

    def __repr__(self) -> str:
        return (
            f"RunResult(scenario={self.scenario.name!r}, seed={self.seed}, rep={self.rep},"
            f" applications={self.trace.n_applications})"
        )
