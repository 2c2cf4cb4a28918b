"""The scenario: everything a relsim scenario can say, with units.

A scenario is a YAML mapping validated into the frozen :class:`Scenario` model, built
from the parts in :mod:`~simulator.scenario.authority`, :mod:`~simulator.scenario.policy`,
:mod:`~simulator.scenario.goods` and :mod:`~simulator.scenario.manufacturers`. Field
names carry units: ``_days`` calendar days, ``_wd`` Chinese working days (see
:mod:`simulator.world.calendar`), ``tonnes`` / ``_t`` metric tonnes, ``kg_`` kilograms,
``probability`` in [0, 1]; the field types (:mod:`simulator.scenario.types`) carry the
limits. Distributions and replenishment policies are chosen by ``kind:``.

Cross-field rules (references resolve, ids are unique, dates fall in the horizon, …)
are named functions in :mod:`simulator.scenario.rules`, run once when a scenario is
validated.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from simulator.errors import FieldProblems
from simulator.limits import Limits
from simulator.scenario.authority import Authority
from simulator.scenario.base import Model
from simulator.scenario.goods import Country, Customs, Exporter, Lane, Product, Production
from simulator.scenario.manufacturers import Manufacturer
from simulator.scenario.policy import Policy
from simulator.scenario.types import Entities
from simulator.scenario.uncertainties import Uncertainty

__all__ = ["CalendarSpec", "Scenario"]


class CalendarSpec(Model):
    """The licensing authority's working-day calendar."""

    country: Literal["CN"] | None = "CN"
    """Statutory calendar: ``CN`` = China's holidays and adjusted weekend working days
    (from the ``holidays`` package); null = plain Monday–Friday."""
    all_working: bool = False
    """Every day is a working day (for validation against queueing theory)."""
    extra_holidays: list[dt.date] = []
    """Dates made non-working (e.g. a newly announced holiday)."""
    extra_workdays: list[dt.date] = []
    """Dates made working (e.g. an announced adjusted weekend working day)."""


class Scenario(Model):
    """A complete relsim scenario."""

    name: str = Field(min_length=1)
    """Scenario name."""
    description: str = ""
    """The question the scenario answers."""
    start: dt.date
    """First simulated day."""
    end: dt.date
    """Last simulated day (inclusive)."""
    seed: int = Field(default=0, ge=0, le=Limits.MAX_SEED)
    """Default seed (0 .. 2**64 - 1)."""
    reps: int = Field(default=100, ge=1, le=Limits.MAX_REPS)
    """Default number of replications."""
    calendar: CalendarSpec = CalendarSpec()
    """The authority's calendar."""
    countries: Entities[Country] = Field(min_length=1)
    """Countries."""
    products: Entities[Product] = Field(min_length=1)
    """Products."""
    authority: Authority
    """The licensing authority."""
    policy: Policy = Policy()
    """Policy regimes."""
    exporters: Entities[Exporter] = []
    """Exporters and alternative suppliers."""
    lanes: Entities[Lane] = []
    """Transport lanes."""
    customs: Customs = Customs()
    """Chinese customs: handling time, release throughput after holds."""
    production: Production = Production()
    """The pace of production over the year (e.g. the Spring-Festival shutdown)."""
    manufacturers: Entities[Manufacturer] = []
    """Downstream manufacturers."""
    observed_exports: str | None = None
    """Optional CSV (path relative to the scenario) of observed monthly exports
    (``month,total_t,...``) to overlay on plots and calibrate against."""
    tolerances: dict[str, float] = {}
    """Regression floors per KPI name (absolute), used by ``relsim regress``."""
    uncertainties: Entities[Uncertainty] = Field(default=[], exclude=True)
    """Values ``relsim sweep`` may move, with their ranges (ignored by ``relsim run``; not
    part of the resolved scenario or its hash). See
    :mod:`simulator.scenario.uncertainties`."""

    @model_validator(mode="before")
    @classmethod
    def _country_groups(cls, data: Any) -> Any:
        """Country groups in selectors (``destination: EU27``) become the scenario's
        countries they cover (:mod:`simulator.scenario.groups`)."""
        from simulator.scenario.groups import expand_groups

        return expand_groups(data)

    @model_validator(mode="after")
    def _rules(self) -> Scenario:
        from simulator.scenario.rules import check_rules

        problems = check_rules(self)
        if problems:
            raise FieldProblems(problems)
        return self

    @property
    def horizon_days(self) -> int:
        """Simulated days (``end - start + 1``)."""
        return (self.end - self.start).days + 1
