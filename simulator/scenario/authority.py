"""The licensing authority: intake, reviewers, the statutory clock, information
requests, decisions, licences and background load."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from simulator.limits import Limits
from simulator.scenario.base import Model
from simulator.scenario.distributions import (
    Constant,
    DaysDist,
    FractionDist,
    TonnesDist,
    WorkingDaysDist,
)
from simulator.scenario.types import (
    Days,
    Entities,
    Id,
    NonNeg,
    Probability,
    RatePerWd,
    ValidDays,
    WorkingDays,
)

__all__ = [
    "Approval",
    "Authority",
    "BackgroundStream",
    "CapacityRamp",
    "GeneralLicence",
    "InformationRequests",
    "Intake",
    "RateChange",
    "Startup",
    "Withdrawal",
]


class Intake(Model):
    """Completeness check before the statutory clock starts."""

    screening_wd: WorkingDaysDist = Constant(value=0)
    """Time to screen an application, working days."""
    return_probability: Probability = 0.0
    """Chance an application is returned as incomplete (each time it is screened)."""
    resubmit_days: DaysDist = Constant(value=10)
    """Time the applicant takes to resubmit a returned application, calendar days."""
    max_returns: int = Field(default=3, ge=0, le=100)
    """After this many returns the application is accepted as it is."""


class InformationRequests(Model):
    """Stop-the-clock requests for more information during review."""

    probability: Probability = 0.0
    """Chance that a review raises a request (at most ``max_per_application``)."""
    response_days: DaysDist = Constant(value=10)
    """Time the applicant takes to answer, calendar days (the statutory clock stops)."""
    max_per_application: int = Field(default=1, ge=0, le=20)
    """Upper bound on requests per application."""


class Approval(Model):
    """Decision odds."""

    probability: Probability = 1.0
    """Chance a reviewed application is approved (in full or in part)."""
    partial_probability: Probability = 0.0
    """Among approvals, the chance that only part of the quantity is approved."""
    partial_fraction: FractionDist = Constant(value=0.5)
    """Fraction of the quantity approved in a partial approval, in [0, 1]."""


class RateChange(Model):
    """From ``date`` on, a background stream runs at ``factor`` × its ``rate_per_wd``
    (until the next change)."""

    date: dt.date
    """First day of the new rate."""
    factor: NonNeg
    """Multiplier of ``rate_per_wd`` from that date (1: the base rate; 0: stopped)."""


class Withdrawal(Model):
    """Buyers of background exports who give up on a licence: a background file still
    waiting on the authority (queued, in review, parked or suspended) ``after_days``
    after its submission is withdrawn with ``probability`` — the order cancelled or
    bought elsewhere; its goods are never made. A file with the applicant (returned for
    documents) is not withdrawn; the modelled manufacturers keep their orders (their
    replenishment is modelled)."""

    probability: Probability
    """Chance that a file's buyer withdraws it if it is still waiting then."""
    after_days: DaysDist
    """Calendar days from submission until the buyer withdraws, drawn per file."""


class BackgroundStream(Model):
    """Exports to the rest of the world (not modelled downstream): export contracts
    arriving as a Poisson process per working day, at a rate that may follow a monthly
    profile and dated changes. Each lives the same chain as a modelled order: licence
    (when needed at customs) → production → customs → departure → transit → arrival."""

    destination: Id
    """Destination country id."""
    product: Id
    """Product id."""
    end_use: str = "civil"
    """End-use label (policy rules may select on it)."""
    exporter: str = "background"
    """Applicant label (policy rules may select on it)."""
    rate_per_wd: RatePerWd
    """Mean export contracts (shipments) per working day at the base rate."""
    month_factors: list[NonNeg] | None = Field(default=None, min_length=12, max_length=12)
    """Multipliers of the rate by calendar month, January first (seasonality, e.g. the
    Spring Festival in February); default 1 every month."""
    rate_changes: Entities[RateChange] = []
    """Dated changes of the rate (growth, drift of destination shares), in date order."""
    tonnes: TonnesDist = Constant(value=1.0)
    """Quantity per shipment, tonnes."""
    production_days: DaysDist = Constant(value=0)
    """From the licence (or, when none is needed yet, from the contract) until the goods
    are presented at customs, calendar days."""
    transit_days: DaysDist = Constant(value=0)
    """From departure (the customs export date) to arrival at the destination, calendar
    days."""

    def rate_factor(self, day: dt.date) -> float:
        """Multiplier of ``rate_per_wd`` on ``day``: the month's factor times the latest
        change in force (1 before the first)."""
        f = 1.0 if self.month_factors is None else self.month_factors[day.month - 1]
        change = 1.0
        for ch in self.rate_changes:
            if ch.date <= day:
                change = ch.factor
        return f * change


class GeneralLicence(Model):
    """A general licence: repeat shipments of one exporter to one customer without
    per-shipment review."""

    exporter: Id
    """Exporter id."""
    customer: Id
    """Manufacturer id."""
    start: dt.date
    """First day of validity."""
    valid_days: ValidDays = 365
    """Validity, calendar days."""


class CapacityRamp(Model):
    """The authority's capacity for new work ramping up after a licence requirement
    starts: reviewers in force are multiplied by a factor that rises day by day, linearly,
    from ``from_factor`` on the first day to 1 after ``days``."""

    from_factor: Probability
    """Share of the reviewers at work on the requirement's first day."""
    days: Days = Field(gt=0)
    """Calendar days until the full complement works."""


class Startup(Model):
    """What happens between the day a licence becomes required and the first licences
    (see :mod:`simulator.world.licensing`)."""

    preparation_days: DaysDist | None = None
    """From the day a licence becomes required for a file's class until the applicant's
    file is ready (end-user documents from the foreign buyer, the exporter's paperwork,
    the local commerce department's check), calendar days, drawn per file: a file needed
    before then is submitted when it is ready; later files are submitted at once. Null:
    files are ready at once."""
    capacity_ramp: CapacityRamp | None = None
    """The authority's capacity ramping up after a requirement starts (null: full at
    once)."""


class Authority(Model):
    """The licensing authority (MOFCOM): intake, reviewers, statutory clock, decisions."""

    reviewers: int = Field(ge=0, le=Limits.MAX_REVIEWERS)
    """Reviewers working in parallel (capacity ``c``)."""
    intake: Intake = Intake()
    """Completeness check and returns."""
    review_work_wd: WorkingDaysDist
    """Reviewer effort per application at normal speed, working days."""
    statutory_limit_wd: WorkingDays | None = Field(default=45, gt=0)
    """Statutory review limit counted from acceptance, working days (null: none)."""
    deadline_rule: Literal["decide", "approve", "deny", "extend", "continue"] = "decide"
    """At the statutory limit (see :mod:`simulator.world.licensing`): ``decide`` with the
    usual odds, ``approve``, ``deny``, ``extend`` the limit once by
    ``deadline_extension_wd`` and decide when that runs out, or ``continue`` reviewing as
    if there were no limit."""
    deadline_extension_wd: WorkingDaysDist = Constant(value=0)
    """With ``deadline_rule: extend``: the extension of the limit, working days (drawn per
    application)."""
    information_requests: InformationRequests = InformationRequests()
    """Stop-the-clock requests."""
    approval: Approval = Approval()
    """Decision odds."""
    licence_validity_days: ValidDays = 365
    """Validity of a single licence, calendar days: goods must leave before it ends."""
    general_licences: Entities[GeneralLicence] = []
    """General licences in force."""
    background: Entities[BackgroundStream] = []
    """Background load (rest of the world)."""
    withdrawal: Withdrawal | None = None
    """Buyers of background exports who withdraw files that wait too long (null: every
    file waits to its decision)."""
    startup: Startup = Startup()
    """Start-up of a new licence requirement: applicants preparing their files, the
    authority's capacity ramping up."""
