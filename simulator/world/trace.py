"""The trace of one replication: what happened, as pure data.

A :class:`Trace` is the only thing a simulated world hands on: numpy arrays whose
columns are declared once here, holding no simulation objects. The world appends log
rows as plain tuples in the declared column order during the run and :meth:`Log.array`
turns them into structured arrays at the end; every table and KPI of
:mod:`simulator.replication` is decoded from the trace with the same declarations.

Logs (one row per event, in time order):

* :data:`AUTHORITY` — the life of each licence application (:class:`Ev` kinds);
* :data:`GOODS` — orders, refusals, shipments, deliveries and background exports
  (:class:`G` kinds);
* :data:`APPLICATIONS` — one row per application: who applied, for what;
* :data:`REGIMES` — every change of policy regime (including the one at time 0).

Daily series (one row per simulated day): :data:`PLANT_SERIES` per manufacturer and
:data:`AUTHORITY_DAILY` for the authority's queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "APPLICATIONS",
    "AT_DEADLINE",
    "AUTHORITY",
    "AUTHORITY_DAILY",
    "GOODS",
    "OUTCOMES",
    "PLANT_SERIES",
    "PLANT_STATE",
    "REGIMES",
    "Column",
    "Ev",
    "G",
    "Log",
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


class Ev:
    """Kinds of :data:`AUTHORITY` rows (small ints in the hot loop; names in tables)."""

    SUBMIT = 0
    """Application submitted; ``tonnes`` = quantity applied for."""
    RETURN = 1
    """Returned as incomplete at intake; the applicant resubmits."""
    ACCEPT = 2
    """Accepted: the statutory clock starts."""
    REVIEW_START = 3
    """A reviewer starts (or resumes) work on it."""
    INFO_REQUEST = 4
    """Information requested: clock stopped; ``detail`` = clock used so far (wd)."""
    INFO_RESPONSE = 5
    """The applicant answered: clock restarted."""
    DECIDE = 6
    """Decided; ``tonnes`` = approved quantity, ``detail`` = decision code."""
    NAMES = (
        "submit",
        "return",
        "accept",
        "review_start",
        "info_request",
        "info_response",
        "decide",
    )


OUTCOMES = ("approved", "partial", "denied")
"""Decision codes 0..2 of a ``decide`` row; ``+ AT_DEADLINE`` when made at the statutory
limit."""
AT_DEADLINE = 8


class G:
    """Kinds of :data:`GOODS` rows."""

    ORDER = 0
    """A manufacturer's order to one supplier; ``detail`` = supplier index."""
    DENIED = 1
    """Tonnes refused by the authority; ``detail`` = application id."""
    EXPIRED = 2
    """Licensed tonnes not produced before the licence expired; ``detail`` = exporter index."""
    SHIPPED = 3
    """Goods left on a lane; ``detail`` = lane index."""
    DELIVERED = 4
    """Goods arrived; ``detail`` = order-to-delivery time, calendar days."""
    BG_EXPORT = 5
    """A background export; ``manufacturer`` = -1, ``detail`` = stream index."""
    NAMES = ("order", "denied", "expired", "shipped", "delivered", "bg_export")


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
        Column("order", "i8", "", "order id (-1: background export)"),
        Column("manufacturer", "i4", "", "manufacturer index (-1: background export)"),
        Column("tonnes", "f8", "t", "quantity"),
        Column("detail", "f8", "", "per kind: see G"),
    ),
)

APPLICATIONS = Log(
    "applications",
    (
        Column("application", "i8", "", "application id (creation order)"),
        Column("source", "i1", "", "0 background stream, 1 manufacturer"),
        Column("source_index", "i4", "", "stream or manufacturer index"),
        Column("order", "i8", "", "the manufacturer's order id (-1: background)"),
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

PLANT_SERIES = (
    ("demand_t", "demand of the day"),
    ("consumed_t", "material used (today's demand and backlog served)"),
    ("shortfall_t", "demand not served on its day"),
    ("inventory_t", "stock at the end of the day"),
    ("on_order_t", "ordered, not yet delivered or cancelled"),
    ("backlog_t", "unmet demand waiting to be made up (backlog plants)"),
)
"""Per manufacturer and day, tonnes: ``(name, meaning)``."""

PLANT_STATE = (
    ("initial_inventory_t", "stock at the start"),
    ("inventory_t", "stock at the end of the horizon"),
    ("on_order_t", "ordered, not yet delivered or cancelled, at the end"),
    ("backlog_t", "unmet demand still to be made up at the end (backlog plants)"),
)
"""Per manufacturer, tonnes: ``(name, meaning)``."""

AUTHORITY_DAILY = (
    ("queued", "applications waiting for a reviewer"),
    ("in_review", "applications a reviewer works on"),
    ("awaiting_decision", "reviewed, decision held (suspended)"),
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
        applications: :data:`APPLICATIONS` table.
        regimes: :data:`REGIMES` log.
        regime_names: Regime name per index.
        regime_labels: Regime label per index (for plots).
        plants: Daily series per manufacturer, ``{name: array (days, manufacturers)}``
            for every name in :data:`PLANT_SERIES`.
        authority_daily: Daily counts, ``{name: array (days,)}`` for every name in
            :data:`AUTHORITY_DAILY`.
        plants_end: State per manufacturer, tonnes, ``{name: array (manufacturers,)}``
            for every name in :data:`PLANT_STATE`: at the start (initial inventory) and at
            the end of the horizon (after the last daily step, so deliveries on the last
            day are in it).
    """

    seed: int
    rep: int
    horizon: int
    authority: np.ndarray
    goods: np.ndarray
    applications: np.ndarray
    regimes: np.ndarray
    regime_names: tuple[str, ...]
    regime_labels: tuple[str, ...]
    plants: dict[str, np.ndarray]
    authority_daily: dict[str, np.ndarray]
    plants_end: dict[str, np.ndarray]

    @property
    def n_applications(self) -> int:
        """Applications created."""
        return int(self.applications.size)
