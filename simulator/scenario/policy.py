"""Policy: regimes of rules that speed licensing up or slow it down, over time.

The semantics of combining rules live with the code that applies them,
:mod:`simulator.world.policy`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import ClassVar

from pydantic import Field, model_validator

from simulator.errors import MISSING, FieldProblems
from simulator.limits import Limits
from simulator.scenario.base import Model
from simulator.scenario.distributions import DaysDist
from simulator.scenario.types import (
    Days,
    Entities,
    Factor,
    Id,
    Probability,
    Selector,
    ValidDays,
)

__all__ = [
    "Effects",
    "Inspection",
    "MarkovSwitching",
    "Overlay",
    "Parking",
    "Policy",
    "Pulse",
    "Regime",
    "RegimeChange",
    "Release",
    "Restock",
    "Rule",
    "Where",
]


class Where(Model):
    """Which applications a rule applies to. Each key takes one value or a list; an
    omitted key matches everything. Specificity = number of keys given."""

    destination: Selector = None
    """Destination country ids, or a country group: ``EU27`` = every EU member state
    among the scenario's countries (ISO codes and ``EU``, the other member states)."""
    product: Selector = None
    """Product ids."""
    end_use: Selector = None
    """End-use labels (e.g. ``civil``, ``defence``)."""
    exporter: Selector = None
    """Exporter ids (or background applicant labels)."""
    applicant: Selector = None
    """Customer (manufacturer) ids."""

    def specificity(self) -> int:
        """Number of selector keys given."""
        return sum(v is not None for v in self.model_dump().values())


class Inspection(Model):
    """Customs inspections of licensed shipments: a share is delayed."""

    probability: Probability = 1.0
    """Chance that a matching shipment is inspected."""
    days: DaysDist
    """Extra time at customs of an inspected shipment, calendar days."""


class Parking(Model):
    """Files that sit: a share of matching applications gets no decision."""

    probability: Probability = 1.0
    """Chance that a matching application is parked when its review is done."""
    days: DaysDist | None = None
    """How long a parked file sits, calendar days; null: until the policy no longer
    parks it (a regime or overlay change)."""


class Release(Model):
    """A batch release: when it comes into force, a share of the matching files that are
    waiting on the authority (queued for a reviewer, in review, parked or held by a
    suspension) are decided within a window, at a stated approval level — "after the
    framework, approve the backlog of compliant files within two weeks"."""

    share: Probability = 1.0
    """Share of the waiting files released (each file's own draw decides). 0 on a
    narrower rule keeps its files out of a broader rule's release (the most specific
    rule wins): ``release: {share: 0}``."""
    within_days: Days = Field(default=14, gt=0)
    """Released files are decided over this many calendar days from the start, spread
    evenly (each file's own draw places it); default two weeks ("approve the backlog of
    compliant files within two weeks")."""
    approval_probability: Probability = 1.0
    """Chance that a released file is approved (in place of the approval in force)."""


class Restock(Model):
    """Buyers who come back: contracts the rule's ``demand_factor`` (below 1) held back
    are placed later — ``share`` of them (above 1: buyers also rebuild a buffer), spread
    evenly over the working days of ``over_days`` calendar days from the first day the
    factor is back to 1 or more (a new hold-back before then adds to what is owed and
    starts a new spread when it ends). Background contracts only."""

    share: float = Field(ge=0, le=3)
    """Contracts placed later per contract held back."""
    over_days: Days = Field(gt=0)
    """Calendar days over which they are placed."""


class Effects(Model):
    """What a rule does. Unset effects leave the baseline alone."""

    review_time_factor: Factor | None = None
    """Multiplies review time: 2 = reviews take twice as long ("slow down"); 0.5 = twice
    as fast. Factors of all matching rules multiply."""
    capacity_factor: float | None = Field(default=None, ge=0)
    """Multiplies the number of reviewers (rules without ``where`` only). Factors multiply."""
    demand_factor: float | None = Field(default=None, ge=0, le=10)
    """Multiplies the rate of *background* export contracts that match while in force
    (0.5: buyers place half as many): buyers who hold back orders while licences are
    scarce. Factors of all matching rules multiply. The modelled manufacturers order by
    their own replenishment policy and do not read it."""
    approval_probability: Probability | None = None
    """Replaces the approval probability."""
    information_request_probability: Probability | None = None
    """Replaces the information-request probability."""
    return_probability: Probability | None = None
    """Replaces the intake return probability: the chance that a file is returned as
    incomplete each time it is screened (the applicant resubmits after
    ``authority.intake.resubmit_days``, at most ``max_returns`` times) — files sent back
    for more documents, a slow-down that the statutory clock does not see."""
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    """Queue priority: larger is served first (a "green channel"); baseline 0."""
    suspend: bool | None = None
    """Hold all decisions (approve or deny) while in force; reviews may continue."""
    licence_required: bool | None = None
    """Whether a licence is needed at all (false before controls or when lifted)."""
    licence_validity_days: ValidDays | None = None
    """Replaces licence validity (e.g. 6-month temporary licences)."""
    customs_hold: Probability | None = None
    """Share of matching licensed shipments held at the port while the rule is in force
    (1: all); held goods are released when it ends, at the port's release throughput."""
    inspection: Inspection | None = None
    """Customs inspections delaying a share of matching shipments."""
    park: Parking | None = None
    """A share of matching applications sits undecided after review (files that sit)."""
    release: Release | None = None
    """A batch release of the files waiting on the authority when the rule comes into
    force (typically on a dated overlay: a political signal)."""
    restock: Restock | None = None
    """Background contracts this rule's ``demand_factor`` held back come back later
    (null: they are lost). The most specific matching rule's, on each day held back."""


class Rule(Effects):
    """A selector and its effects."""

    where: Where = Where()
    """Applications the rule applies to (empty: all)."""
    note: str = ""
    """Why the rule exists (source)."""

    @model_validator(mode="after")
    def _capacity_global(self) -> Rule:
        if self.capacity_factor is not None and self.where.specificity() > 0:
            raise FieldProblems(
                [
                    (
                        ("capacity_factor",),
                        "capacity_factor applies to the whole authority; "
                        "put it in a rule without `where`",
                        self.capacity_factor,
                    )
                ]
            )
        return self


_PERIOD_HINT = (
    "a regime has no dates of its own: to put rules in force for a period, add "
    "`policy.overlays: [{from: D1, until: D2, where: {...}, <effect>: ...}]` (layered over "
    "whatever regime is active), or schedule the regime in `policy.timeline`"
)


class Regime(Model):
    """A named set of rules in force together."""

    name: Id
    """Regime name."""
    includes: list[Id] = []
    """Regimes whose rules come first (own rules are later and win ties)."""
    rules: list[Rule] = []
    """Rules."""
    label: str = ""
    """Short label for plots."""

    unknown_key_hints: ClassVar[dict[str, str]] = dict.fromkeys(
        ("start", "from", "until", "end", "date"), _PERIOD_HINT
    )


class RegimeChange(Model):
    """From ``date`` on, ``regime`` is in force (until the next change)."""

    unknown_key_hints: ClassVar[dict[str, str]] = dict.fromkeys(
        ("until", "end", "to"),
        "a timeline entry lasts until the next one; for a period layered over the regimes, "
        "add `policy.overlays: [{from: D1, until: D2, where: {...}, <effect>: ...}]`",
    )

    date: dt.date
    """First day of the regime."""
    regime: Id
    """Regime name."""


class MarkovSwitching(Model):
    """Stochastic switching among named regimes: hold each for an exponential time with
    the given mean, then move according to ``transitions``."""

    start: dt.date | None = None
    """From this date (default: scenario start) the chain governs. Dated changes come
    before it: a timeline entry, or an overlay starting or ending, on or after this date
    is refused (the chain starts after the last dated change, so it would never apply,
    or hold the chain back)."""
    initial: Id
    """Regime at ``start``."""
    mean_duration_days: dict[Id, Days]
    """Mean holding time per regime, calendar days (at least
    :attr:`~simulator.limits.Limits.MIN_HOLDING_DAYS`, 1 day)."""
    transitions: dict[Id, dict[Id, Probability]]
    """Next-regime probabilities per regime; each row sums to 1 (within 1e-9)."""

    @model_validator(mode="after")
    def _rows(self) -> MarkovSwitching:
        problems = []
        for name, d in self.mean_duration_days.items():
            if d < Limits.MIN_HOLDING_DAYS:
                problems.append(
                    (
                        ("mean_duration_days", name),
                        f"must be at least {Limits.MIN_HOLDING_DAYS:g} day "
                        "(Limits.MIN_HOLDING_DAYS): every switch re-plans the reviews in "
                        "progress",
                        d,
                    )
                )
        for name, row in self.transitions.items():
            s = math.fsum(row.values())
            if abs(s - 1.0) > Limits.TRANSITION_SUM_TOLERANCE:
                problems.append(
                    (
                        ("transitions", name),
                        f"probabilities must sum to 1 within "
                        f"{Limits.TRANSITION_SUM_TOLERANCE:g} (sum is {s:.12g})",
                        MISSING,
                    )
                )
        if problems:
            raise FieldProblems(problems)
        return self


class Overlay(Rule):
    """Rules in force for a period, layered over whatever regime is active: its effects
    combine with the regime's rules as any rule does (factors multiply; otherwise the
    most specific rule wins, and an overlay counts after the regime's rules)."""

    from_: dt.date = Field(alias="from")
    """First day in force."""
    until: dt.date
    """Last day in force (inclusive)."""
    label: str = ""
    """Short label for plots."""

    @model_validator(mode="after")
    def _ordered(self) -> Overlay:
        if self.until < self.from_:
            raise FieldProblems([(("until",), f"is before `from` ({self.from_})", self.until)])
        return self


class Pulse(Rule):
    """A stochastic overlay ("three steps forward, two steps back"): off for an
    exponential time with mean ``365 / rate_per_year`` days, then on for a drawn
    ``duration_days``, again and again, within [``from``, ``until``]."""

    rate_per_year: float = Field(gt=0, le=365)
    """Mean pulses per year of time off (one every ``365 / rate_per_year`` days)."""
    duration_days: DaysDist
    """How long each pulse lasts, calendar days."""
    from_: dt.date | None = Field(default=None, alias="from")
    """First day a pulse may start (default: the scenario start)."""
    until: dt.date | None = None
    """Last day a pulse may be in force (default: the scenario end)."""
    label: str = ""
    """Short label for plots."""


class Policy(Model):
    """How Beijing speeds up and slows down: regimes over time, and overlays layered
    over them."""

    regimes: Entities[Regime] = []
    """Named rule sets. ``neutral`` (no rules) always exists."""
    initial: Id = "neutral"
    """Regime in force at the start."""
    timeline: Entities[RegimeChange] = []
    """Dated regime changes, in date order."""
    switching: MarkovSwitching | None = None
    """Stochastic regime switching, after the dated changes (timeline entries and overlay
    edges must come before ``switching.start``)."""
    overlays: Entities[Overlay] = []
    """Rules in force for a period, layered over the active regime (``from`` .. ``until``)."""
    pulses: Entities[Pulse] = []
    """Stochastic overlays: rules switched on and off at random."""

    def layers(self) -> list[Overlay | Pulse]:
        """Every overlay, dated ones first, then pulses; overlay indices in traces refer to
        this order."""
        return [*self.overlays, *self.pulses]

    def regimes_by_name(self) -> dict[str, Regime]:
        """Every regime by name, in index order: the declared ones, then the built-in
        ``neutral`` (no rules). Regime indices in traces refer to this order."""
        out = {r.name: r for r in self.regimes}
        out.setdefault("neutral", Regime(name="neutral"))
        return out
