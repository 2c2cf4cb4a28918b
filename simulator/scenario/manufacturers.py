"""Downstream manufacturers: demand, inventory, replenishment, suppliers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from simulator.errors import MISSING, FieldProblems
from simulator.limits import Limits
from simulator.scenario.base import Model
from simulator.scenario.types import (
    Days,
    Entities,
    Id,
    NonNeg,
    Probability,
    Tonnes,
    UnitsPerDay,
)

__all__ = [
    "ONE_PART",
    "SS",
    "Expedite",
    "InitialShipment",
    "LeadTime",
    "Manufacturer",
    "OrderUpTo",
    "Part",
    "Reaction",
    "Replenishment",
    "Supplier",
]


def _cv_ok(cv: float) -> float:
    if cv != 0 and not (Limits.MIN_CV <= cv <= Limits.MAX_CV):
        raise ValueError(
            f"must be 0 (constant demand) or between {Limits.MIN_CV:g} and {Limits.MAX_CV:g}"
        )
    return cv


DemandCV = Annotated[float, Field(ge=0), AfterValidator(_cv_ok)]
"""Coefficient of variation of daily demand: 0, or within the gamma sampler's range."""


class Reaction(Model):
    """Buyers who react: a part's safety stock target rises after its line runs short and
    decays back — stockpiling after a shock and drawing down later come from behaviour,
    not from dated factors."""

    extra_days_per_short_day: float = Field(ge=0, le=30)
    """Days of demand added to the safety stock target for each day the line is short."""
    max_extra_days: Days
    """Most extra safety stock, days of demand."""
    half_life_days: Days = Field(gt=0)
    """On days without a shortage the extra halves over this many days."""


class OrderUpTo(Model):
    """Periodic review: every ``review_days`` order up to
    ``daily demand × (lead-time estimate + review_days + safety_days)``."""

    kind: Literal["order_up_to"] = "order_up_to"
    review_days: int = Field(default=7, ge=1, le=365)
    """Review period, calendar days."""
    safety_days: Days = 7
    """Safety stock, days of demand."""
    react: Reaction | None = None
    """Safety stock that rises after shortages (null: fixed)."""


class SS(Model):
    """(s, S) with daily review: when inventory position falls to
    ``s = demand × (lead-time estimate + safety_days)`` order up to ``s + demand × order_days``."""

    kind: Literal["s_S"] = "s_S"
    safety_days: Days = 7
    """Safety stock, days of demand."""
    order_days: Days = Field(default=30, gt=0)
    """Order size (S − s), days of demand."""
    react: Reaction | None = None
    """Safety stock that rises after shortages (null: fixed)."""


Replenishment = Annotated[OrderUpTo | SS, Field(discriminator="kind")]


class LeadTime(Model):
    """The manufacturer's lead-time estimate that sizes its orders."""

    initial_days: Days | Literal["expected"] = 30.0
    """Estimate at the start, calendar days; ``expected``: the mean order-to-arrival time
    of the scenario's own chain (capacity, exporter lead, customs handling, lane transit,
    weighted by supplier share: :mod:`simulator.world.leads`), so that a plant starts in
    steady state."""
    adapt: Probability = 0.0
    """Smoothing weight of each observed lead time (0: never adapt; panic ordering
    grows with it)."""
    anticipate_closures: bool = True
    """The buyer knows its suppliers' production calendar (``production.windows``, e.g.
    the Spring Festival): an order placed on a day is sized for the estimate plus the
    delay those windows would add to that much production started that day (stock built
    ahead of a shutdown, drawn down after). False: a buyer who learns only from late
    deliveries."""


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


class InitialShipment(Model):
    """Goods a part already has in the pipeline at the start: ordered before ``start``,
    either still at the exporter (presented at customs on day ``day``, where a licence is
    needed if controls apply by then) or already at sea (arriving on day ``day``)."""

    stage: Literal["at_exporter", "in_transit"]
    """``at_exporter``: made, not yet exported; ``in_transit``: departed."""
    day: Days
    """Days after ``start``: presented at customs (``at_exporter``) or arriving
    (``in_transit``)."""
    tonnes: Tonnes | None = None
    """Quantity, tonnes (or give ``days_of_demand``)."""
    days_of_demand: Days | None = None
    """Quantity as days of the part's mean daily demand (or give ``tonnes``)."""
    exporter: Id | None = None
    """Exporter holding goods ``at_exporter`` (default: the part's first exporter)."""

    @model_validator(mode="after")
    def _one_quantity(self) -> InitialShipment:
        if (self.tonnes is None) == (self.days_of_demand is None):
            raise ValueError("give exactly one of `tonnes` or `days_of_demand`")
        return self


class Part(Model):
    """One critical part of a manufacturer's bill of materials: a material, how much of
    it a unit needs, where it comes from and how it is stocked. A line makes, each day,
    what its scarcest part allows."""

    id: Id
    """Part id, unique within the manufacturer (e.g. ``traction_magnet``)."""
    material: Id
    """Product id of the part's material."""
    kg_per_unit: float = Field(ge=0)
    """Material per unit made, kilograms."""
    initial_cover_days: Days
    """Inventory at the start, days of demand."""
    replenishment: Replenishment = OrderUpTo()
    """Replenishment policy."""
    lead_time: LeadTime = LeadTime()
    """Lead-time estimate used to size orders."""
    suppliers: Entities[Supplier] = Field(min_length=1)
    """Sources and their shares."""
    expedite: Expedite | None = None
    """Expedite rule."""
    initial_shipments: Entities[InitialShipment] = []
    """Goods ordered before the start (at the exporter or in transit)."""


ONE_PART = (
    "material",
    "kg_per_unit",
    "initial_cover_days",
    "replenishment",
    "lead_time",
    "suppliers",
    "expedite",
    "initial_shipments",
)
"""The fields of a one-part manufacturer, which a manufacturer with ``parts`` may not set
(each part sets its own)."""


class Manufacturer(Model):
    """A downstream plant. Its critical parts are either listed in ``parts`` (a bill of
    materials) or given directly (``material``, ``kg_per_unit``, ``suppliers``, … : a
    one-part line)."""

    id: Id
    """Manufacturer id."""
    name: str = ""
    """Display name."""
    country: Id
    """Country id of the plant."""
    end_use: str = "civil"
    """End-use label of its licence applications (e.g. ``defence``)."""
    units_per_day: UnitsPerDay
    """Production at full supply, units per operating day."""
    demand_cv: DemandCV = 0.0
    """Coefficient of variation of daily demand (gamma noise; 0: constant)."""
    operating_days: Literal["all", "weekdays"] = "all"
    """Days the plant consumes material."""
    unmet_demand: Literal["lost", "backlog"] = "lost"
    """Unmet demand is lost production, or backlogged and made up later."""
    output_product: Id | None = None
    """Product it makes for other manufacturers (multi-tier supply), if any."""
    output_kg_per_unit: NonNeg = 0.0
    """Output per unit made, kilograms (with ``output_product``)."""
    parts: Entities[Part] | None = None
    """Bill of materials: the critical parts, each with its own supply (or give the
    one-part fields below)."""
    material: Id | None = None
    """One-part line: product id it consumes."""
    kg_per_unit: float | None = Field(default=None, ge=0)
    """One-part line: material per unit, kilograms."""
    initial_cover_days: Days | None = None
    """One-part line: inventory at the start, days of demand."""
    replenishment: Replenishment = OrderUpTo()
    """One-part line: replenishment policy."""
    lead_time: LeadTime = LeadTime()
    """One-part line: lead-time estimate used to size orders."""
    suppliers: Entities[Supplier] | None = Field(default=None, min_length=1)
    """One-part line: sources and their shares."""
    expedite: Expedite | None = None
    """One-part line: expedite rule."""
    initial_shipments: Entities[InitialShipment] = []
    """One-part line: goods ordered before the start."""

    @model_validator(mode="after")
    def _parts_or_one(self) -> Manufacturer:
        # a field is given if set to something other than its default: a resolved
        # scenario (scenario.resolved.yaml) writes every default and must load back
        given = [
            k
            for k in ONE_PART
            if k in self.model_fields_set
            and getattr(self, k)
            != type(self).model_fields[k].get_default(call_default_factory=True)
        ]
        if self.parts is not None:
            if given:
                raise FieldProblems(
                    [
                        (
                            (given[0],),
                            "a manufacturer with `parts` lists its material and supply per "
                            "part; move this field into its part",
                            MISSING,
                        )
                    ]
                )
            ids = [p.id for p in self.parts]
            for i, pid in enumerate(ids):
                if pid in ids[:i]:
                    raise FieldProblems([(("parts", i, "id"), "duplicate part id", pid)])
            if not self.parts:
                raise FieldProblems([(("parts",), "list at least one part", [])])
            return self
        missing = [
            k
            for k in ("material", "kg_per_unit", "initial_cover_days", "suppliers")
            if getattr(self, k) is None
        ]
        if missing:
            raise ValueError(
                f"required field '{missing[0]}' is missing (or list the critical parts in `parts`)"
            )
        return self

    def bill(self) -> list[Part]:
        """The critical parts: ``parts``, or the one part given directly (its id is the
        material's)."""
        if self.parts is not None:
            return list(self.parts)
        return [
            Part(
                id=str(self.material),
                material=str(self.material),
                kg_per_unit=float(self.kg_per_unit or 0.0),
                initial_cover_days=float(self.initial_cover_days or 0.0),
                replenishment=self.replenishment,
                lead_time=self.lead_time,
                suppliers=list(self.suppliers or []),
                expedite=self.expedite,
                initial_shipments=list(self.initial_shipments),
            )
        ]

    @property
    def multi_part(self) -> bool:
        """Whether the line has several critical parts (a one-element ``parts`` list is a
        one-part line, named and drawn exactly like one written with ``material``)."""
        return self.parts is not None and len(self.parts) > 1

    def daily_demand_t(self) -> float:
        """Material demand per operating day summed over parts, tonnes."""
        return sum(self.units_per_day * p.kg_per_unit / 1000.0 for p in self.bill())
