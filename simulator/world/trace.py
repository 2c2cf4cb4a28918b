"""The trace of one replication: what happened, as pure data.

A :class:`Trace` is the only thing a simulated world hands on: numpy arrays whose
columns are declared once here, holding no simulation objects. The world appends log
rows as plain tuples in the declared column order during the run and :meth:`Log.array`
turns them into structured arrays at the end; every table and KPI of
:mod:`simulator.replication` is decoded from the trace with the same declarations.

Logs (one row per event, in time order):

* :data:`AUTHORITY` — the life of each licence application (:class:`Ev` kinds);
* :data:`GOODS` — the stages of every shipment, modelled or background: order,
  licence, customs, hold, departure, arrival (:class:`G` kinds);
* :data:`APPLICATIONS` — one row per application: who applied, for what;
* :data:`REGIMES` — every change of policy regime (including the one at time 0);
* :data:`OVERLAYS` — every overlay starting or ending.

* :data:`SHIPMENTS` — one row per shipment: where it comes from and goes to.

Daily series (one row per simulated day): :data:`PART_SERIES` per critical part,
:data:`LINE_SERIES` per manufacturer (its production line) and :data:`AUTHORITY_DAILY`
for the authority's queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.world.codes import AT_DEADLINE, OUTCOMES, Ev, G, Source

__all__ = [
    "APPLICATIONS",
    "AT_DEADLINE",
    "AUTHORITY",
    "AUTHORITY_DAILY",
    "GOODS",
    "LINE_SERIES",
    "OUTCOMES",
    "OVERLAYS",
    "PART_SERIES",
    "PART_STATE",
    "REGIMES",
    "SHIPMENTS",
    "Column",
    "Ev",
    "G",
    "Log",
    "Source",
    "Trace",
]


@dataclass(frozen=True)
class Column:
    """One column of a log: name, numpy dtype, unit and meaning."""

    name: str
    dtype: str
    unit: str
    doc: str


@dataclass(frozen=True)
class Log:
    """A log's declaration: its columns, in the order rows are written."""

    name: str
    columns: tuple[Column, ...]

    @property
    def dtype(self) -> np.dtype:
        """The structured dtype of the log's array."""
        return np.dtype([(c.name, c.dtype) for c in self.columns])

    def array(self, rows: Sequence[tuple[Any, ...]]) -> np.ndarray:
        """Rows written as tuples in column order → a structured array (read-only)."""
        out = np.array(rows, dtype=self.dtype) if rows else np.zeros(0, dtype=self.dtype)
        out.flags.writeable = False
        return out

    def empty(self) -> np.ndarray:
        """An empty array of this log."""
        return self.array(())


AUTHORITY = Log(
    "authority",
    (
        Column("time_days", "f8", "calendar days since start", "when"),
        Column("kind", "i1", "", "an Ev kind"),
        Column("application", "i8", "", "application id"),
        Column("tonnes", "f8", "t", "applied (submit) or approved (decide) tonnes"),
        Column("detail", "f8", "", "per kind: see Ev"),
    ),
)

GOODS = Log(
    "goods",
    (
        Column("time_days", "f8", "calendar days since start", "when"),
        Column("kind", "i1", "", "a G kind"),
        Column("shipment", "i8", "", "shipment id"),
        Column("tonnes", "f8", "t", "quantity"),
        Column("detail", "f8", "", "per kind: see G"),
    ),
)

SHIPMENTS = Log(
    "shipments",
    (
        Column("shipment", "i8", "", "shipment id (creation order)"),
        Column("source", "i1", "", "a Source kind"),
        Column("source_index", "i4", "", "stream or manufacturer index"),
        Column("part", "i4", "", "part index over all manufacturers (-1: background)"),
        Column("exporter", "i4", "", "exporter index (-1: background or upstream plant)"),
        Column("destination", "i4", "", "destination country index"),
        Column("via_customs", "i1", "", "1: leaves through Chinese customs (licensed)"),
        Column("tonnes", "f8", "t", "quantity ordered"),
    ),
)

APPLICATIONS = Log(
    "applications",
    (
        Column("application", "i8", "", "application id (creation order)"),
        Column("source", "i1", "", "a Source kind of its shipment"),
        Column("source_index", "i4", "", "stream or manufacturer index"),
        Column("shipment", "i8", "", "the shipment it licenses"),
        Column("exporter", "i4", "", "exporter index (-1: background)"),
        Column("tonnes", "f8", "t", "quantity applied for"),
    ),
)

REGIMES = Log(
    "regimes",
    (
        Column("time_days", "f8", "calendar days since start", "when the regime starts"),
        Column("regime", "i4", "", "regime index (Trace.regime_names)"),
    ),
)

OVERLAYS = Log(
    "overlays",
    (
        Column("time_days", "f8", "calendar days since start", "when"),
        Column("overlay", "i4", "", "overlay index (dated overlays, then pulses)"),
        Column("on", "i1", "", "1: starts, 0: ends"),
    ),
)

PART_SERIES = (
    ("demand_t", "the part's material needed for the day's demand"),
    ("consumed_t", "material used (today's demand and backlog made)"),
    ("shortfall_t", "material of the day's demand not used because the line made less"),
    ("stockout_t", "the day's need this part's own stock could not cover"),
    ("inventory_t", "stock at the end of the day"),
    ("on_order_t", "ordered, not yet delivered or cancelled"),
    ("backlog_t", "the part's material for unmet demand still to be made (backlog lines)"),
)
"""Per part and day, tonnes: ``(name, meaning)``. A one-part manufacturer has one part."""

LINE_SERIES = (
    ("demand_units", "units to make that day"),
    ("made_units", "units made (today's demand and backlog)"),
    ("short_units", "units of the day's demand not made"),
    ("backlog_units", "units still to be made (backlog lines)"),
)
"""Per manufacturer (production line) and day, units: ``(name, meaning)``."""

PART_STATE = (
    ("initial_inventory_t", "stock at the start"),
    ("inventory_t", "stock at the end of the horizon"),
    ("on_order_t", "ordered, not yet delivered or cancelled, at the end"),
)
"""Per part, tonnes: ``(name, meaning)``."""

AUTHORITY_DAILY = (
    ("queued", "applications waiting for a reviewer"),
    ("in_review", "applications a reviewer works on"),
    ("awaiting_decision", "reviewed, no decision yet (suspended or parked)"),
    ("in_system", "submitted, not yet decided"),
)
"""Per day, at the start of the day, counts: ``(name, meaning)``."""


@dataclass(frozen=True)
class Trace:
    """What one replication produced: pure data, no simulation objects.

    Attributes:
        seed: Root seed.
        rep: Replication index.
        horizon: Simulated days.
        authority: :data:`AUTHORITY` log.
        goods: :data:`GOODS` log.
        shipments: :data:`SHIPMENTS` table.
        applications: :data:`APPLICATIONS` table.
        regimes: :data:`REGIMES` log.
        overlays: :data:`OVERLAYS` log (overlays in force at time 0 start at 0).
        regime_names: Regime name per index.
        regime_labels: Regime label per index (for plots).
        parts: Daily series per part, ``{name: array (days, parts)}`` for every name in
            :data:`PART_SERIES` (parts in scenario order, manufacturer by manufacturer).
        lines: Daily series per manufacturer, ``{name: array (days, manufacturers)}`` for
            every name in :data:`LINE_SERIES`.
        authority_daily: Daily counts, ``{name: array (days,)}`` for every name in
            :data:`AUTHORITY_DAILY`.
        parts_end: State per part, tonnes, ``{name: array (parts,)}`` for every name in
            :data:`PART_STATE`: at the start (initial inventory) and at the end of the
            horizon (after the last daily step, so deliveries on the last day are in it).
        backlog_end_units: Units still to be made per manufacturer at the end.
    """

    seed: int
    rep: int
    horizon: int
    authority: np.ndarray
    goods: np.ndarray
    shipments: np.ndarray
    applications: np.ndarray
    regimes: np.ndarray
    overlays: np.ndarray
    regime_names: tuple[str, ...]
    regime_labels: tuple[str, ...]
    parts: dict[str, np.ndarray]
    lines: dict[str, np.ndarray]
    authority_daily: dict[str, np.ndarray]
    parts_end: dict[str, np.ndarray]
    backlog_end_units: np.ndarray

    @property
    def n_applications(self) -> int:
        """Applications created."""
        return int(self.applications.size)
