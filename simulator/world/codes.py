"""The model's codes, declared once: log kinds, shipment sources, decision outcomes,
deadline rules, event priorities and the policy effects.

Both engines write these codes, the decoders of :mod:`simulator.replication` read them,
``relsim explain`` and the policy-timeline figure describe effects with them, and the
compiled kernel binds them as integer constants (:mod:`simulator.kernel.layout`). A new
log kind, source or policy effect is added here and nowhere else is restated.

Policy effects
--------------
:data:`EFFECTS_TABLE` lists every effect a rule can have (the fields of
:class:`simulator.scenario.policy.Effects`), with how rules combine it
(:mod:`simulator.world.effects` defines the semantics), which way slows licences down
(the policy timeline's "tighter / easier"), what ``relsim explain`` calls it, and the
columns it fills in the compiled kernel's effects table (one row per policy state and
application class). Nothing here imports the scenario model or the simulation
libraries: the table is plain data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "AT_DEADLINE",
    "DEADLINE_RULES",
    "EFFECTS_TABLE",
    "EFFECT_BY_NAME",
    "EFFECT_COLUMNS",
    "OUTCOMES",
    "WITHDRAW_P",
    "Effect",
    "Ev",
    "G",
    "Outcome",
    "Priority",
    "Source",
    "Stage",
    "effect_column",
]


class Ev:
    """Kinds of :data:`~simulator.world.trace.AUTHORITY` rows (small ints in the hot loop;
    names in tables)."""

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
    PARK = 7
    """Reviewed, then parked with no decision (a file that sits); ``detail`` = the days it
    is to sit (-1: until the policy stops parking it)."""
    EXTEND = 8
    """The statutory limit was extended (``deadline_rule: extend``); ``detail`` = the
    extension, working days."""
    RELEASE = 9
    """Released in a batch (a rule's ``release``): decided now; ``detail`` = the approval
    probability it is decided at."""
    WITHDRAW = 10
    """Withdrawn by the applicant after waiting (a background stream's ``withdraw``: the
    buyer cancelled or bought elsewhere): decided now as withdrawn."""
    NAMES = (
        "submit",
        "return",
        "accept",
        "review_start",
        "info_request",
        "info_response",
        "decide",
        "park",
        "extend",
        "release",
        "withdraw",
    )


class Stage:
    """Where an application is (what a batch release may act on)."""

    INTAKE = 0
    """Screened, or returned and with the applicant."""
    QUEUED = 1
    """Waiting for a reviewer."""
    REVIEW = 2
    """A reviewer works on it."""
    APPLICANT = 3
    """Information requested: the applicant is answering (the clock is stopped)."""
    WAITING = 4
    """Reviewed, waiting for a decision (parked, or held by a suspension)."""
    DONE = 5
    """Decided."""
    RELEASABLE = (QUEUED, REVIEW, WAITING)
    """Stages in which a batch release decides a file (it is waiting on the authority)."""


class Outcome:
    """Decision codes of a ``decide`` row (``detail``); :data:`AT_DEADLINE` is added when
    the decision was made at the statutory limit."""

    APPROVED = 0
    """Approved in full."""
    PARTIAL = 1
    """Approved for part of the quantity."""
    DENIED = 2
    """Denied."""
    WITHDRAWN = 3
    """Withdrawn by the applicant while waiting on the authority (no licence)."""
    AT_DEADLINE = 8
    """Added to the code of a decision made at the statutory limit."""


OUTCOMES = ("approved", "partial", "denied", "withdrawn")
"""Names of decision codes 0..3 of a ``decide`` row."""
WITHDRAW_P = -1.0
"""The approval probability a withdrawal hands to the decision (below any probability:
:func:`simulator.world.arith.decide` returns :attr:`Outcome.WITHDRAWN`)."""
AT_DEADLINE = Outcome.AT_DEADLINE
"""Added to the decision code when the decision was made at the statutory limit."""


class G:
    """Kinds of :data:`~simulator.world.trace.GOODS` rows: the stages of a shipment (see
    :mod:`simulator.world.goods`)."""

    ORDER = 0
    """Shipment created: a manufacturer's order to one supplier, a background export
    contract, or (at time 0) goods already in the pipeline; ``tonnes`` = quantity."""
    APPLY = 1
    """A licence was applied for; ``detail`` = application id."""
    DENIED = 2
    """Tonnes refused by the authority, or withdrawn by the buyer (cancelled); ``detail`` =
    application id."""
    EXPIRED = 3
    """Licensed tonnes not presented at customs before the licence expired (cancelled)."""
    PRESENTED = 4
    """Goods made and presented at customs (the licence is checked here)."""
    HELD = 5
    """Held at the port by a customs hold."""
    RELEASED = 6
    """Released from a customs hold (departs at the port's release throughput)."""
    DEPARTED = 7
    """Departed: the customs export date; ``detail`` = lane index (-1: the background
    stream's own transit; -2: pipeline goods that left before the start, not an export
    of the horizon)."""
    ARRIVED = 8
    """Arrived at the destination; ``detail`` = order-to-arrival time, calendar days."""
    LAPSED = 9
    """A background contract not made: due to be made on a day its makers work below their
    normal pace (``production.windows``), it was not among the share they make (cancelled:
    output a closed industry does not make is not made later)."""
    NAMES = (
        "order",
        "apply",
        "denied",
        "expired",
        "presented",
        "held",
        "released",
        "departed",
        "arrived",
        "lapsed",
    )


class Source:
    """Origins of a shipment (:data:`~simulator.world.trace.SHIPMENTS` ``source``)."""

    BACKGROUND = 0
    """A background export contract; ``source_index`` = stream index."""
    ORDER = 1
    """A manufacturer's order; ``source_index`` = manufacturer index."""
    PIPELINE = 2
    """Goods in the pipeline at the start (``initial_shipments``)."""


DEADLINE_RULES = ("decide", "approve", "deny", "extend", "continue")
"""``authority.deadline_rule`` values; a rule's code is its index here."""


class Priority:
    """Priorities of events at the same instant (SimPy orders events by time, priority,
    then the order they were scheduled): see :mod:`simulator.world.events`."""

    POLICY = -1
    """Policy changes (regimes, overlays): before anything else at the same instant."""
    URGENT = 0
    """SimPy's priority of process starts and interrupts."""
    NORMAL = 1
    """SimPy's priority of timeouts and succeeded events."""
    DAILY = 2
    """The plants' daily step: after every other event of its instant."""


# ------------------------------------------------------------------------------ effects
Combine = Literal["multiply", "most_specific"]


def _number(v: Any) -> float:
    return float(v)


def _share(v: Any) -> float:
    """A share (probability) of an effect that is an object with a probability, or 0."""
    return float(v.probability) if v is not None else 0.0


def _released(v: Any) -> float:
    """The share a batch release decides, or 0."""
    return float(v.share) if v is not None else 0.0


def _restocked(v: Any) -> float:
    """The share of held-back contracts placed later, or 0."""
    return float(v.share) if v is not None else 0.0


def _pack_number(v: Any, book: Any) -> tuple[float, ...]:
    return (float(v or 0),)


def _pack_share_dist(index: str) -> Callable[[Any, Any], tuple[float, ...]]:
    """Pack an effect with a ``probability`` and an optional distribution ``days`` as
    (probability, index of the distribution in the policy book's list ``index``); none:
    (-1, -1); no distribution: index -1."""

    def pack(v: Any, book: Any) -> tuple[float, ...]:
        if v is None:
            return (-1.0, -1.0)
        return (float(v.probability), float(getattr(book, index)(v.days)) if v.days else -1.0)

    return pack


def _pack_release(v: Any, book: Any) -> tuple[float, ...]:
    if v is None:
        return (-1.0, -1.0, -1.0)
    return (float(v.share), float(v.within_days), float(v.approval_probability))


@dataclass(frozen=True)
class Effect:
    """One policy effect (a field of :class:`simulator.scenario.policy.Effects`).

    Attributes:
        name: The field name (on rules and on resolved effects).
        label: What ``relsim explain`` calls it.
        unit: Its unit (``×`` for factors, ``share``, ``days``, or empty).
        combine: ``multiply``: the factors of every matching rule multiply (baseline
            1); ``most_specific``: the most specific matching rule that sets it wins,
            the later one among equals (see :mod:`simulator.world.effects`).
        tighter: +1 when a larger value slows licences down (slower reviews, more
            information requests, holds), -1 when a smaller one does (approval,
            priority, reviewers), 0 when it counts neither way in the policy
            timeline's "tighter / easier".
        scope: ``application``: resolved per application; ``authority``: one value for
            the whole authority per policy state (rules with no ``where``).
        columns: Columns it fills in the kernel's effects table (empty: none; the
            authority-wide capacity is an array of its own).
        magnitude: The value as a number for the tighter/easier comparison.
        pack: ``pack(value, policy_book)`` → the values of its kernel columns.
    """

    name: str
    label: str
    unit: str
    combine: Combine
    tighter: int
    scope: Literal["application", "authority"] = "application"
    columns: tuple[str, ...] = ()
    magnitude: Callable[[Any], float] = field(default=_number, repr=False, compare=False)
    pack: Callable[[Any, Any], tuple[float, ...]] = field(
        default=_pack_number, repr=False, compare=False
    )


EFFECTS_TABLE: tuple[Effect, ...] = (
    Effect("review_time_factor", "review time", "×", "multiply", +1, columns=("rtf",)),
    Effect("capacity_factor", "reviewers", "×", "multiply", -1, scope="authority"),
    # read by the draw table (background contract rates), not by either engine
    Effect("demand_factor", "background demand", "×", "multiply", -1),
    Effect(
        "approval_probability",
        "approval probability",
        "share",
        "most_specific",
        -1,
        columns=("approve",),
    ),
    Effect(
        "information_request_probability",
        "information requests",
        "share",
        "most_specific",
        +1,
        columns=("info",),
    ),
    Effect(
        "return_probability",
        "files returned at intake",
        "share",
        "most_specific",
        +1,
        columns=("ret",),
    ),
    Effect("priority", "queue priority", "", "most_specific", -1, columns=("priority",)),
    Effect("suspend", "decisions suspended", "", "most_specific", +1, columns=("suspend",)),
    Effect("licence_required", "licence required", "", "most_specific", +1, columns=("licence",)),
    # how long a licence lasts changes how often firms re-apply, not the pace of a review
    Effect(
        "licence_validity_days",
        "licence validity",
        "days",
        "most_specific",
        0,
        columns=("validity",),
    ),
    Effect("customs_hold", "customs hold", "share", "most_specific", +1, columns=("hold",)),
    Effect(
        "inspection",
        "customs inspection",
        "share",
        "most_specific",
        +1,
        columns=("insp_p", "insp_i"),
        magnitude=_share,
        pack=_pack_share_dist("inspection_index"),
    ),
    Effect(
        "park",
        "files parked",
        "share",
        "most_specific",
        +1,
        columns=("park_p", "park_i"),
        magnitude=_share,
        pack=_pack_share_dist("park_index"),
    ),
    Effect(
        "release",
        "batch release",
        "share",
        "most_specific",
        -1,
        columns=("rel_share", "rel_days", "rel_p"),
        magnitude=_released,
        pack=_pack_release,
    ),
    # read by the draw table (background contract rates), not by either engine
    Effect("restock", "buyers come back", "share", "most_specific", 0, magnitude=_restocked),
)
"""Every policy effect, in the order of :class:`simulator.scenario.policy.Effects`."""

EFFECT_BY_NAME: dict[str, Effect] = {e.name: e for e in EFFECTS_TABLE}
""":data:`EFFECTS_TABLE` by name."""

EFFECT_COLUMNS: tuple[str, ...] = tuple(c for e in EFFECTS_TABLE for c in e.columns)
"""Columns of the kernel's effects table, in order."""


def effect_column(name: str) -> int:
    """The index of column ``name`` of the kernel's effects table."""
    return EFFECT_COLUMNS.index(name)
