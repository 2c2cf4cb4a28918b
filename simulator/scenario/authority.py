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
    Distribution,
    WorkingDaysDist,
)
from simulator.scenario.types import (
    Entities,
    Id,
    Probability,
    RatePerWd,
    ValidDays,
    WorkingDays,
)

__all__ = [
    "Approval",
    "Authority",
    "BackgroundStream",
    "GeneralLicence",
    "InformationRequests",
    "Intake",
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
    partial_fraction: Distribution = Constant(value=0.5)
    """Fraction of the quantity approved in a partial approval, in [0, 1]."""


class BackgroundStream(Model):
    """Applications from the rest of the world (not modelled downstream) that compete
    for reviewers: a Poisson process per working day."""

    destination: Id
    """Destination country id."""
    product: Id
    """Product id."""
    end_use: str = "civil"
    """End-use label (policy rules may select on it)."""
    exporter: str = "background"
    """Applicant label (policy rules may select on it)."""
    rate_per_wd: RatePerWd
    """Mean applications per working day."""
    tonnes: Distribution = Constant(value=1.0)
    """Quantity per application, tonnes."""


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
    deadline_rule: Literal["decide", "approve", "deny", "continue"] = "decide"
    """At the statutory limit: ``decide`` with the usual odds, ``approve``, ``deny``, or
    ``continue`` reviewing past the limit."""
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
