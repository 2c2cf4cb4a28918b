"""Downstream manufacturers: demand, inventory, replenishment, suppliers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from simulator.limits import Limits
from simulator.scenario.base import Model
from simulator.scenario.types import Days, Entities, Id, NonNeg, Probability

__all__ = ["SS", "Expedite", "LeadTime", "Manufacturer", "OrderUpTo", "Replenishment", "Supplier"]


def _cv_ok(cv: float) -> float:
    if cv != 0 and not (Limits.MIN_CV <= cv <= Limits.MAX_CV):
        raise ValueError(
            f"must be 0 (constant demand) or between {Limits.MIN_CV:g} and {Limits.MAX_CV:g}"
        )
    return cv


DemandCV = Annotated[float, Field(ge=0), AfterValidator(_cv_ok)]
"""Coefficient of variation of daily demand: 0, or within the gamma sampler's range."""


class OrderUpTo(Model):
    """Periodic review: every ``review_days`` order up to
    ``daily demand × (lead-time estimate + review_days + safety_days)``."""

    kind: Literal["order_up_to"] = "order_up_to"
    review_days: int = Field(default=7, ge=1, le=365)
    """Review period, calendar days."""
    safety_days: Days = 7
    """Safety stock, days of demand."""


class SS(Model):
    """(s, S) with daily review: when inventory position falls to
    ``s = demand × (lead-time estimate + safety_days)`` order up to ``s + demand × order_days``."""

    kind: Literal["s_S"] = "s_S"
    safety_days: Days = 7
    """Safety stock, days of demand."""
    order_days: Days = Field(default=30, gt=0)
    """Order size (S − s), days of demand."""


Replenishment = Annotated[OrderUpTo | SS, Field(discriminator="kind")]


class LeadTime(Model):
    """The manufacturer's lead-time estimate that sizes its orders."""

    initial_days: Days = 30
    """Estimate at the start, calendar days."""
    adapt: Probability = 0.0
    """Smoothing weight of each observed lead time (0: never adapt; panic ordering
    grows with it)."""


class Supplier(Model):
    """One source of a manufacturer's material: an exporter or another manufacturer."""

    exporter: Id | None = None
    """Exporter id."""
    manufacturer: Id | None = None
    """Manufacturer id (multi-tier supply)."""
    share: Probability = 1.0
    """Share of each order placed with this supplier (shares sum to 1)."""

    @model_validator(mode="after")
    def _one(self) -> Supplier:
        if (self.exporter is None) == (self.manufacturer is None):
            raise ValueError("give exactly one of `exporter` or `manufacturer`")
        return self


class Expedite(Model):
    """Switch shipments to another mode when cover runs low."""

    mode: Literal["sea", "rail", "air", "road"] = "air"
    """Mode to switch to (a lane with it must exist)."""
    below_cover_days: Days = Field(gt=0)
    """Switch when inventory covers fewer days of demand than this."""


class Manufacturer(Model):
    """A downstream plant that consumes a controlled material."""

    id: Id
    """Manufacturer id."""
    name: str = ""
    """Display name."""
    country: Id
    """Country id of the plant."""
    material: Id
    """Product id it consumes."""
    end_use: str = "civil"
    """End-use label of its licence applications (e.g. ``defence``)."""
    units_per_day: float = Field(ge=0)
    """Production at full supply, units per operating day."""
    kg_per_unit: float = Field(ge=0)
    """Material per unit, kilograms."""
    demand_cv: DemandCV = 0.0
    """Coefficient of variation of daily demand (gamma noise; 0: constant)."""
    operating_days: Literal["all", "weekdays"] = "all"
    """Days the plant consumes material."""
    initial_cover_days: Days
    """Inventory at the start, days of demand."""
    replenishment: Replenishment = OrderUpTo()
    """Replenishment policy."""
    lead_time: LeadTime = LeadTime()
    """Lead-time estimate used to size orders."""
    suppliers: Entities[Supplier] = Field(min_length=1)
    """Sources and their shares."""
    unmet_demand: Literal["lost", "backlog"] = "lost"
    """Unmet demand is lost production, or backlogged and made up later."""
    expedite: Expedite | None = None
    """Expedite rule."""
    output_product: Id | None = None
    """Product it makes for other manufacturers (multi-tier supply), if any."""
    output_kg_per_unit: NonNeg = 0.0
    """Output per unit made, kilograms (with ``output_product``)."""

    def daily_demand_t(self) -> float:
        """Material demand per operating day, tonnes."""
        return self.units_per_day * self.kg_per_unit / 1000.0
