"""The scenario schema: everything a relsim scenario can say, with units.

A scenario is a YAML mapping validated into the frozen :class:`Scenario` model.
Field names carry units: ``_days`` calendar days, ``_wd`` Chinese working days
(see :mod:`simulator.calendar`), ``tonnes`` / ``_t`` metric tonnes, ``kg_`` kilograms,
``probability`` in [0, 1]. Distributions are chosen by ``kind:`` (see
:mod:`simulator.distributions`), as are replenishment policies.

Cross-references (a lane to a country, a supplier to an exporter, a regime to a
rule set) are checked on the raw data by :func:`reference_problems`, so that a
file with both a type error and a dangling reference gets both reported at once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from simulator.base import Model
from simulator.distributions import Constant, Distribution
from simulator.errors import FieldProblems

__all__ = [
    "SS",
    "Approval",
    "Authority",
    "BackgroundStream",
    "CalendarSpec",
    "Country",
    "Effects",
    "Expedite",
    "Exporter",
    "GeneralLicence",
    "InformationRequests",
    "Intake",
    "Lane",
    "LeadTime",
    "Limits",
    "Manufacturer",
    "MarkovSwitching",
    "OrderUpTo",
    "Policy",
    "Product",
    "RampPoint",
    "Regime",
    "RegimeChange",
    "Rule",
    "Scenario",
    "Supplier",
    "Where",
    "reference_problems",
]

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Probability = Annotated[float, Field(ge=0, le=1)]
NonNeg = Annotated[float, Field(ge=0)]


class Limits:
    """Sizes beyond which a scenario is refused before it eats memory or time."""

    MAX_HORIZON_DAYS = 36_600
    """At most 100 years of simulated time."""
    MAX_REVIEWERS = 100_000
    """At most this many reviewers."""
    MAX_ENTITIES = 10_000
    """At most this many manufacturers / exporters / lanes / background streams."""
    MAX_RATE_PER_WD = 100_000.0
    """At most this many background applications per working day per stream."""
    MAX_REPS = 1_000_000
    """At most this many replications."""
    MAX_DURATION_DAYS = 36_600
    """No duration (a ``_days`` or ``_wd`` field, or a distribution's value, bounds, mean
    or sd there) may exceed 100 years: longer ones mean nothing inside the horizon and
    make the working-day calendar grow without bound."""
    MAX_REVIEW_TIME_FACTOR = 100.0
    """At most this slow-down factor per policy rule."""
    MAX_APPLICATIONS = 1_000_000
    """At most this many expected background applications per replication
    (sum of ``rate_per_wd`` × horizon days); each costs about 0.5 ms and 4 kB."""
    MAX_DAILY_CELLS = 1_000_000
    """At most this many daily values per series per replication: horizon days ×
    (manufacturers + countries)."""


# --------------------------------------------------------------------------- time


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


# ----------------------------------------------------------------------- entities


class Country(Model):
    """A country goods are shipped from or to."""

    id: Id
    """Short id, e.g. ISO 3166 alpha-2 ``US``."""
    name: str = ""
    """Display name."""


class Product(Model):
    """A traded material, e.g. NdFeB magnets or dysprosium oxide."""

    id: Id
    """Product id."""
    name: str = ""
    """Display name."""
    controlled: bool = True
    """Exports from a licensed exporter need a licence (unless policy lifts it)."""


class RampPoint(Model):
    """Capacity from a date on (piecewise constant; the last point before t applies)."""

    date: dt.date
    """From this date."""
    capacity_t_per_month: NonNeg
    """Capacity from that date, tonnes per month (30.4375 days)."""


class Exporter(Model):
    """A producer that sells to manufacturers. ``licensed`` exporters (in China) need
    a licence per order for controlled products; alternative suppliers do not."""

    id: Id
    """Exporter id."""
    country: Id
    """Country id the goods leave from (must be in ``countries``)."""
    products: list[Id] = Field(min_length=1)
    """Products it sells (ids in ``products``)."""
    licensed: bool = True
    """Exports need licences from the authority (a Chinese exporter)."""
    capacity_t_per_month: NonNeg
    """Production/dispatch capacity, tonnes per month, for the modelled customers."""
    ramp: list[RampPoint] = []
    """Capacity changes over time (alternative suppliers ramping up)."""
    lead_time_days: Distribution = Constant(value=0)
    """Time from licence (or order, if unlicensed) to goods ready, calendar days, on
    top of waiting for capacity."""


class Lane(Model):
    """A transport link between two countries by one mode."""

    id: Id
    """Lane id."""
    origin: Id
    """Origin country id."""
    destination: Id
    """Destination country id."""
    mode: Literal["sea", "rail", "air", "road"] = "sea"
    """Transport mode."""
    transit_days: Distribution
    """Door-to-door transit time, calendar days."""


# ------------------------------------------------------------------------ authority


class Intake(Model):
    """Completeness check before the statutory clock starts."""

    screening_wd: Distribution = Constant(value=0)
    """Time to screen an application, working days."""
    return_probability: Probability = 0.0
    """Chance an application is returned as incomplete (each time it is screened)."""
    resubmit_days: Distribution = Constant(value=10)
    """Time the applicant takes to resubmit a returned application, calendar days."""
    max_returns: int = Field(default=3, ge=0, le=100)
    """After this many returns the application is accepted as it is."""


class InformationRequests(Model):
    """Stop-the-clock requests for more information during review."""

    probability: Probability = 0.0
    """Chance that a review raises a request (at most ``max_per_application``)."""
    response_days: Distribution = Constant(value=10)
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
    rate_per_wd: float = Field(ge=0)
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
    valid_days: int = Field(default=365, ge=1)
    """Validity, calendar days."""


class Authority(Model):
    """The licensing authority (MOFCOM): intake, reviewers, statutory clock, decisions."""

    reviewers: int = Field(ge=0, le=Limits.MAX_REVIEWERS)
    """Reviewers working in parallel (capacity ``c``)."""
    intake: Intake = Intake()
    """Completeness check and returns."""
    review_work_wd: Distribution
    """Reviewer effort per application at normal speed, working days."""
    statutory_limit_wd: float | None = Field(default=45, gt=0)
    """Statutory review limit counted from acceptance, working days (null: none)."""
    deadline_rule: Literal["decide", "approve", "deny", "continue"] = "decide"
    """At the statutory limit: ``decide`` with the usual odds, ``approve``, ``deny``, or
    ``continue`` reviewing past the limit."""
    information_requests: InformationRequests = InformationRequests()
    """Stop-the-clock requests."""
    approval: Approval = Approval()
    """Decision odds."""
    licence_validity_days: int = Field(default=365, ge=1)
    """Validity of a single licence, calendar days: goods must leave before it ends."""
    general_licences: list[GeneralLicence] = []
    """General licences in force."""
    background: list[BackgroundStream] = []
    """Background load (rest of the world)."""


# ---------------------------------------------------------------------------- policy


def _one_or_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Selector = Annotated[
    list[str] | None,
    BeforeValidator(_one_or_list),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "null"},
            ]
        }
    ),
]
"""One id/label or a list of them (``destination: US`` or ``destination: [US, DE]``)."""


class Where(Model):
    """Which applications a rule applies to. Each key takes one value or a list; an
    omitted key matches everything. Specificity = number of keys given."""

    destination: Selector = None
    """Destination country ids."""
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


class Effects(Model):
    """What a rule does. Unset effects leave the baseline alone."""

    review_time_factor: float | None = Field(default=None, gt=0)
    """Multiplies review time: 2 = reviews take twice as long ("slow down"); 0.5 = twice
    as fast. Factors of all matching rules multiply."""
    capacity_factor: float | None = Field(default=None, ge=0)
    """Multiplies the number of reviewers (rules without ``where`` only). Factors multiply."""
    approval_probability: Probability | None = None
    """Replaces the approval probability."""
    information_request_probability: Probability | None = None
    """Replaces the information-request probability."""
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    """Queue priority: larger is served first (a "green channel"); baseline 0."""
    suspend: bool | None = None
    """Hold all decisions (approve or deny) while in force; reviews may continue."""
    licence_required: bool | None = None
    """Whether a licence is needed at all (false before controls or when lifted)."""
    licence_validity_days: int | None = Field(default=None, ge=1)
    """Replaces licence validity (e.g. 6-month temporary licences)."""


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


class RegimeChange(Model):
    """From ``date`` on, ``regime`` is in force."""

    date: dt.date
    """First day of the regime."""
    regime: Id
    """Regime name."""


class MarkovSwitching(Model):
    """Stochastic switching among named regimes: hold each for an exponential time with
    the given mean, then move according to ``transitions``."""

    start: dt.date | None = None
    """From this date (default: scenario start) the chain governs."""
    initial: Id
    """Regime at ``start``."""
    mean_duration_days: dict[Id, float]
    """Mean holding time per regime, calendar days (> 0)."""
    transitions: dict[Id, dict[Id, Probability]]
    """Next-regime probabilities per regime; each row sums to 1."""

    @model_validator(mode="after")
    def _rows(self) -> MarkovSwitching:
        problems = []
        for name, d in self.mean_duration_days.items():
            if d <= 0:
                problems.append((("mean_duration_days", name), "must be > 0", d))
        for name, row in self.transitions.items():
            s = sum(row.values())
            if abs(s - 1.0) > 1e-6:
                problems.append(
                    (("transitions", name), f"probabilities must sum to 1 (sum is {s:g})", row)
                )
        if problems:
            raise FieldProblems(problems)
        return self


class Policy(Model):
    """How Beijing speeds up and slows down: regimes over time."""

    regimes: list[Regime] = []
    """Named rule sets. ``neutral`` (no rules) always exists."""
    initial: Id = "neutral"
    """Regime in force at the start."""
    timeline: list[RegimeChange] = []
    """Dated regime changes, in date order."""
    switching: MarkovSwitching | None = None
    """Stochastic regime switching (after the dated timeline's last change)."""


# --------------------------------------------------------------------- manufacturers


class OrderUpTo(Model):
    """Periodic review: every ``review_days`` order up to
    ``daily demand × (lead-time estimate + review_days + safety_days)``."""

    kind: Literal["order_up_to"] = "order_up_to"
    review_days: int = Field(default=7, ge=1, le=365)
    """Review period, calendar days."""
    safety_days: NonNeg = 7
    """Safety stock, days of demand."""


class SS(Model):
    """(s, S) with daily review: when inventory position falls to
    ``s = demand × (lead-time estimate + safety_days)`` order up to ``s + demand × order_days``."""

    kind: Literal["s_S"] = "s_S"
    safety_days: NonNeg = 7
    """Safety stock, days of demand."""
    order_days: float = Field(default=30, gt=0)
    """Order size (S − s), days of demand."""


Replenishment = Annotated[OrderUpTo | SS, Field(discriminator="kind")]


class LeadTime(Model):
    """The manufacturer's lead-time estimate that sizes its orders."""

    initial_days: NonNeg = 30
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
    below_cover_days: float = Field(gt=0)
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
    demand_cv: NonNeg = 0.0
    """Coefficient of variation of daily demand (gamma noise; 0: constant)."""
    operating_days: Literal["all", "weekdays"] = "all"
    """Days the plant consumes material."""
    initial_cover_days: NonNeg
    """Inventory at the start, days of demand."""
    replenishment: Replenishment = OrderUpTo()
    """Replenishment policy."""
    lead_time: LeadTime = LeadTime()
    """Lead-time estimate used to size orders."""
    suppliers: list[Supplier] = Field(min_length=1)
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


# --------------------------------------------------------------------------- scenario


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
    seed: int = Field(default=0, ge=0)
    """Default seed."""
    reps: int = Field(default=100, ge=1, le=Limits.MAX_REPS)
    """Default number of replications."""
    calendar: CalendarSpec = CalendarSpec()
    """The authority's calendar."""
    countries: list[Country] = Field(min_length=1)
    """Countries."""
    products: list[Product] = Field(min_length=1)
    """Products."""
    authority: Authority
    """The licensing authority."""
    policy: Policy = Policy()
    """Policy regimes."""
    exporters: list[Exporter] = []
    """Exporters and alternative suppliers."""
    lanes: list[Lane] = []
    """Transport lanes."""
    manufacturers: list[Manufacturer] = []
    """Downstream manufacturers."""
    observed_exports: str | None = None
    """Optional CSV (path relative to the scenario) of observed monthly exports
    (``month,total_t,...``) to overlay on plots and calibrate against."""
    tolerances: dict[str, float] = {}
    """Regression floors per KPI name (absolute), used by ``relsim regress``."""

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        problems = reference_problems(self.model_dump(by_alias=True))
        if problems:
            raise FieldProblems(problems)
        return self

    @property
    def horizon_days(self) -> int:
        """Simulated days (``end - start + 1``)."""
        return (self.end - self.start).days + 1


# ------------------------------------------------------------------ cross-reference


def _ids(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [x["id"] for x in items if isinstance(x, dict) and isinstance(x.get("id"), str)]


def _suggest(value: Any, allowed: Iterable[str]) -> str:
    import difflib

    allowed = sorted(set(allowed))
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, allowed, n=1)
        if close:
            hint = f"; did you mean '{close[0]}'?"
    shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
    return f"{hint} (known: {shown or 'none'})"


def _date(x: Any) -> dt.date | None:
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    if isinstance(x, str):
        try:
            return dt.date.fromisoformat(x)
        except ValueError:
            return None
    return None


def reference_problems(data: Any) -> list[tuple[tuple, str, Any]]:
    """Find cross-field problems in raw scenario data.

    Works on plain (possibly invalid) data so it can run even when other fields fail
    validation. Checks: ids unique per kind; every reference resolves (countries,
    products, exporters, manufacturers, regimes); dates inside the horizon and in
    order; supplier shares sum to 1; a lane exists for every supply link; no cycles
    in multi-tier supply or regime includes; horizon, durations, list lengths and
    factors within :class:`Limits`; every number finite (no ``.inf`` / ``.nan``).

    Args:
        data: Scenario mapping as loaded from YAML.

    Returns:
        (path, message, value) triples; empty when all is well.
    """
    out: list[tuple[tuple, str, Any]] = []
    if not isinstance(data, dict):
        return out
    _size_problems(data, out)

    def lst(key: str) -> list[Any]:
        v = data.get(key)
        return v if isinstance(v, list) else []

    for key in ("countries", "products", "exporters", "lanes", "manufacturers"):
        seen: dict[str, int] = {}
        items = lst(key)
        if len(items) > Limits.MAX_ENTITIES:
            out.append(((key,), f"at most {Limits.MAX_ENTITIES} entries allowed", len(items)))
        for i, it in enumerate(items):
            if isinstance(it, dict) and isinstance(it.get("id"), str):
                if it["id"] in seen:
                    out.append(
                        ((key, i, "id"), f"duplicate id (also {key}[{seen[it['id']]}])", it["id"])
                    )
                seen.setdefault(it["id"], i)

    countries = set(_ids(lst("countries")))
    products = set(_ids(lst("products")))
    exporters = {x["id"]: x for x in lst("exporters") if isinstance(x, dict) and "id" in x}
    manufacturers = {x["id"]: x for x in lst("manufacturers") if isinstance(x, dict) and "id" in x}

    def ref(path: tuple, value: Any, allowed: set[str], what: str) -> None:
        if isinstance(value, str) and value not in allowed:
            out.append((path, f"unknown {what}{_suggest(value, allowed)}", value))

    start, end = _date(data.get("start")), _date(data.get("end"))
    if start and end:
        if end < start:
            out.append((("end",), f"end is before start ({start})", data.get("end")))
        elif (end - start).days + 1 > Limits.MAX_HORIZON_DAYS:
            out.append(
                (
                    ("end",),
                    f"horizon of {(end - start).days + 1} days exceeds the limit of "
                    f"{Limits.MAX_HORIZON_DAYS} days",
                    data.get("end"),
                )
            )

    def in_horizon(path: tuple, value: Any) -> None:
        d = _date(value)
        # a reversed horizon is reported once (at `end`), not again at every dated field
        if d and start and end and start <= end and not (start <= d <= end):
            out.append((path, f"date outside the horizon {start} .. {end}", value))

    lanes_by_pair: set[tuple[str, str]] = set()
    for i, lane in enumerate(lst("lanes")):
        if not isinstance(lane, dict):
            continue
        ref(("lanes", i, "origin"), lane.get("origin"), countries, "country")
        ref(("lanes", i, "destination"), lane.get("destination"), countries, "country")
        lanes_by_pair.add((lane.get("origin"), lane.get("destination")))

    for i, ex in enumerate(lst("exporters")):
        if not isinstance(ex, dict):
            continue
        ref(("exporters", i, "country"), ex.get("country"), countries, "country")
        for j, p in enumerate(ex.get("products") or []):
            ref(("exporters", i, "products", j), p, products, "product")

    auth = data.get("authority") if isinstance(data.get("authority"), dict) else {}
    for i, bg in enumerate(auth.get("background") or []):
        if isinstance(bg, dict):
            ref(
                ("authority", "background", i, "destination"),
                bg.get("destination"),
                countries,
                "country",
            )
            ref(("authority", "background", i, "product"), bg.get("product"), products, "product")
            r = bg.get("rate_per_wd")
            if isinstance(r, int | float) and r > Limits.MAX_RATE_PER_WD:
                out.append(
                    (
                        ("authority", "background", i, "rate_per_wd"),
                        f"exceeds the limit of {Limits.MAX_RATE_PER_WD:g} applications "
                        "per working day (Limits.MAX_RATE_PER_WD)",
                        r,
                    )
                )
    for i, gl in enumerate(auth.get("general_licences") or []):
        if isinstance(gl, dict):
            ref(
                ("authority", "general_licences", i, "exporter"),
                gl.get("exporter"),
                set(exporters),
                "exporter",
            )
            ref(
                ("authority", "general_licences", i, "customer"),
                gl.get("customer"),
                set(manufacturers),
                "manufacturer",
            )
            in_horizon(("authority", "general_licences", i, "start"), gl.get("start"))

    # manufacturers and their supply links
    for i, m in enumerate(lst("manufacturers")):
        if not isinstance(m, dict):
            continue
        ref(("manufacturers", i, "country"), m.get("country"), countries, "country")
        ref(("manufacturers", i, "material"), m.get("material"), products, "product")
        sups = m.get("suppliers") if isinstance(m.get("suppliers"), list) else []
        shares = []
        for j, s in enumerate(sups):
            if not isinstance(s, dict):
                continue
            share = s.get("share", 1.0)
            if isinstance(share, int | float):
                shares.append(share)
            origin = None
            if isinstance(s.get("exporter"), str):
                ref(
                    ("manufacturers", i, "suppliers", j, "exporter"),
                    s["exporter"],
                    set(exporters),
                    "exporter",
                )
                ex = exporters.get(s["exporter"])
                if ex is not None:
                    origin = ex.get("country")
                    prods = ex.get("products") or []
                    if isinstance(m.get("material"), str) and m["material"] not in prods:
                        out.append(
                            (
                                ("manufacturers", i, "suppliers", j, "exporter"),
                                f"exporter does not sell {m['material']!r} (sells: "
                                f"{', '.join(map(str, prods))})",
                                s["exporter"],
                            )
                        )
            if isinstance(s.get("manufacturer"), str):
                ref(
                    ("manufacturers", i, "suppliers", j, "manufacturer"),
                    s["manufacturer"],
                    set(manufacturers),
                    "manufacturer",
                )
                up = manufacturers.get(s["manufacturer"])
                if up is not None:
                    origin = up.get("country")
                    if up.get("output_product") != m.get("material"):
                        out.append(
                            (
                                ("manufacturers", i, "suppliers", j, "manufacturer"),
                                f"manufacturer does not make {m.get('material')!r} "
                                f"(its output_product is {up.get('output_product')!r})",
                                s["manufacturer"],
                            )
                        )
            dest = m.get("country")
            if (
                isinstance(origin, str)
                and isinstance(dest, str)
                and origin in countries
                and dest in countries
                and (origin, dest) not in lanes_by_pair
            ):
                out.append(
                    (
                        ("manufacturers", i, "suppliers", j),
                        f"no lane from {origin} to {dest}; add one to `lanes`",
                        s,
                    )
                )
        if shares and abs(sum(shares) - 1.0) > 1e-6:
            out.append(
                (
                    ("manufacturers", i, "suppliers"),
                    f"supplier shares must sum to 1 (sum is {sum(shares):g})",
                    shares,
                )
            )
        exp = m.get("expedite")
        if isinstance(exp, dict) and isinstance(exp.get("mode"), str):
            modes = {
                ln.get("mode", "sea")
                for ln in lst("lanes")
                if isinstance(ln, dict) and ln.get("destination") == m.get("country")
            }
            if exp["mode"] not in modes:
                out.append(
                    (
                        ("manufacturers", i, "expedite", "mode"),
                        f"no {exp['mode']} lane into {m.get('country')}",
                        exp["mode"],
                    )
                )

    # cycles in multi-tier supply
    graph = {
        mid: [
            s["manufacturer"]
            for s in (m.get("suppliers") or [])
            if isinstance(s, dict) and isinstance(s.get("manufacturer"), str)
        ]
        for mid, m in manufacturers.items()
    }
    cyc = _find_cycle(graph)
    if cyc:
        idx = list(manufacturers).index(cyc[0])
        out.append(
            (("manufacturers", idx, "suppliers"), "supply cycle: " + " -> ".join(cyc), cyc[0])
        )

    # policy
    pol = data.get("policy") if isinstance(data.get("policy"), dict) else {}
    regimes = pol.get("regimes") if isinstance(pol.get("regimes"), list) else []
    names = set(_ids([{"id": r.get("name")} for r in regimes if isinstance(r, dict)]))
    seen_r: dict[str, int] = {}
    for i, r in enumerate(regimes):
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            if r["name"] in seen_r or r["name"] == "neutral":
                out.append(
                    (
                        ("policy", "regimes", i, "name"),
                        "duplicate regime name"
                        if r["name"] in seen_r
                        else "'neutral' is built in (no rules); choose another name",
                        r["name"],
                    )
                )
            seen_r.setdefault(r["name"], i)
    names.add("neutral")
    for i, r in enumerate(regimes):
        if isinstance(r, dict):
            for j, inc in enumerate(r.get("includes") or []):
                ref(("policy", "regimes", i, "includes", j), inc, names, "regime")
    inc_graph = {
        r["name"]: [x for x in (r.get("includes") or []) if isinstance(x, str)]
        for r in regimes
        if isinstance(r, dict) and isinstance(r.get("name"), str)
    }
    cyc = _find_cycle(inc_graph)
    if cyc:
        out.append(
            (
                ("policy", "regimes", seen_r.get(cyc[0], 0), "includes"),
                "regime include cycle: " + " -> ".join(cyc),
                cyc[0],
            )
        )
    ref(("policy", "initial"), pol.get("initial"), names, "regime")
    prev = None
    for i, ch in enumerate(pol.get("timeline") or []):
        if not isinstance(ch, dict):
            continue
        ref(("policy", "timeline", i, "regime"), ch.get("regime"), names, "regime")
        in_horizon(("policy", "timeline", i, "date"), ch.get("date"))
        d = _date(ch.get("date"))
        if d and prev and d < prev:
            out.append(
                (
                    ("policy", "timeline", i, "date"),
                    f"timeline dates must be in order (previous is {prev})",
                    ch.get("date"),
                )
            )
        prev = d or prev
    sw = pol.get("switching")
    if isinstance(sw, dict):
        ref(("policy", "switching", "initial"), sw.get("initial"), names, "regime")
        in_horizon(("policy", "switching", "start"), sw.get("start"))
        for key in ("mean_duration_days", "transitions"):
            block = sw.get(key)
            if isinstance(block, dict):
                for name, row in block.items():
                    ref(("policy", "switching", key, name), name, names, "regime")
                    if key == "transitions" and isinstance(row, dict):
                        for to in row:
                            ref(("policy", "switching", key, name, to), to, names, "regime")
        md = sw.get("mean_duration_days")
        tr = sw.get("transitions")
        if isinstance(md, dict) and isinstance(tr, dict):
            for name in set(tr) | ({sw.get("initial")} - {None}):
                if isinstance(name, str) and name in names and name not in md:
                    out.append(
                        (
                            ("policy", "switching", "mean_duration_days"),
                            f"no mean duration for regime {name!r}",
                            md,
                        )
                    )
    for i, r in enumerate(regimes):
        if not isinstance(r, dict):
            continue
        for j, rule in enumerate(r.get("rules") or []):
            if not isinstance(rule, dict) or not isinstance(rule.get("where"), dict):
                continue
            w = rule["where"]
            for key, allowed, what in (
                ("destination", countries, "country"),
                ("product", products, "product"),
                ("applicant", set(manufacturers), "manufacturer"),
            ):
                vals = w.get(key)
                vals = [vals] if isinstance(vals, str) else vals
                if isinstance(vals, list):
                    for k, v in enumerate(vals):
                        p = ("policy", "regimes", i, "rules", j, "where", key)
                        ref((*p, k) if isinstance(w.get(key), list) else p, v, allowed, what)
    return out


_DIST_PARAMS = ("value", "low", "mode", "high", "mean", "sd")


def _size_problems(data: dict[str, Any], out: list[tuple[tuple, str, Any]]) -> None:
    """Non-finite numbers anywhere; durations, list lengths and factors over the limits."""

    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    def duration(path: tuple, value: Any, unit: str) -> None:
        if number(value) and math.isfinite(value) and value > Limits.MAX_DURATION_DAYS:
            out.append(
                (
                    path,
                    f"exceeds the limit of {Limits.MAX_DURATION_DAYS:,} {unit} for any "
                    "duration (Limits.MAX_DURATION_DAYS, 100 years)",
                    value,
                )
            )

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, float) and not math.isfinite(node):
            out.append((path, "must be a finite number (not .inf or .nan)", node))
        elif isinstance(node, dict):
            _numeric_problems(node, path, out)
            for key, value in node.items():
                sub = (*path, key)
                if path == () and key == "tolerances":
                    continue  # KPI names like shortage_days are not durations
                if isinstance(key, str) and key.endswith(("_days", "_wd")) and "_per_" not in key:
                    unit = "working days" if key.endswith("_wd") else "days"
                    duration(sub, value, unit)
                    if isinstance(value, dict):  # a distribution, or {regime: mean}
                        keys = _DIST_PARAMS if "kind" in value else tuple(value)
                        for k in keys:
                            duration((*sub, k), value.get(k), unit)
                        values = value.get("values") if "kind" in value else None
                        if isinstance(values, list):
                            for i, v in enumerate(values):
                                duration((*sub, "values", i), v, unit)
                walk(value, sub)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))

    walk(data, ())
    auth = data.get("authority") if isinstance(data.get("authority"), dict) else {}
    pol = data.get("policy") if isinstance(data.get("policy"), dict) else {}
    for path, items in (
        (("authority", "background"), auth.get("background")),
        (("authority", "general_licences"), auth.get("general_licences")),
        (("policy", "regimes"), pol.get("regimes")),
        (("policy", "timeline"), pol.get("timeline")),
    ):
        if isinstance(items, list) and len(items) > Limits.MAX_ENTITIES:
            out.append(
                (
                    path,
                    f"at most {Limits.MAX_ENTITIES} entries allowed (Limits.MAX_ENTITIES)",
                    len(items),
                )
            )
    start, end = _date(data.get("start")), _date(data.get("end"))
    days = (end - start).days + 1 if start and end and start <= end else 0
    if 0 < days <= Limits.MAX_HORIZON_DAYS:
        streams = auth.get("background") if isinstance(auth.get("background"), list) else []
        rates = [
            s["rate_per_wd"]
            for s in streams
            if isinstance(s, dict)
            and number(s.get("rate_per_wd"))
            and math.isfinite(s["rate_per_wd"])
        ]
        expected = sum(rates) * days
        if expected > Limits.MAX_APPLICATIONS and max(rates) <= Limits.MAX_RATE_PER_WD:
            out.append(
                (
                    ("authority", "background"),
                    f"about {expected:,.0f} background applications per replication (sum of "
                    f"rate_per_wd × {days} days) exceeds the limit of "
                    f"{Limits.MAX_APPLICATIONS:,} (Limits.MAX_APPLICATIONS)",
                    sum(rates),
                )
            )
        width = sum(
            len(data[k]) for k in ("manufacturers", "countries") if isinstance(data.get(k), list)
        )
        if days * width > Limits.MAX_DAILY_CELLS:
            out.append(
                (
                    ("end",),
                    f"{days} days × {width} manufacturers and countries = {days * width:,} "
                    f"daily values per series exceeds the limit of {Limits.MAX_DAILY_CELLS:,} "
                    "(Limits.MAX_DAILY_CELLS); shorten the horizon",
                    data.get("end"),
                )
            )
    for i, regime in enumerate(pol.get("regimes") or []):
        rules = regime.get("rules") if isinstance(regime, dict) else None
        for j, rule in enumerate(rules if isinstance(rules, list) else []):
            f = rule.get("review_time_factor") if isinstance(rule, dict) else None
            if number(f) and math.isfinite(f) and f > Limits.MAX_REVIEW_TIME_FACTOR:
                out.append(
                    (
                        ("policy", "regimes", i, "rules", j, "review_time_factor"),
                        f"exceeds the limit of {Limits.MAX_REVIEW_TIME_FACTOR:g} "
                        "(Limits.MAX_REVIEW_TIME_FACTOR)",
                        f,
                    )
                )


MIN_CV, MAX_CV = 1e-6, 1e3
"""Coefficients of variation (sd / mean) the gamma and lognormal samplers and the demand
noise can handle: outside them their parameters under- or overflow."""


def _numeric_problems(node: dict[str, Any], path: tuple, out: list[tuple[tuple, str, Any]]) -> None:
    """Parameters that validate but break the samplers' arithmetic (e.g. a gamma with
    ``sd: 1e-300`` overflows its shape, ``demand_cv: 1e-200`` divides by zero)."""

    def num(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    kind = node.get("kind")
    mean, sd = node.get("mean"), node.get("sd")
    if kind in ("gamma", "lognormal") and num(mean) and num(sd) and mean > 0 and sd > 0:
        cv = sd / mean
        low = MIN_CV if kind == "gamma" else 0.0
        if not low <= cv <= MAX_CV:
            out.append(
                (
                    (*path, "sd"),
                    f"sd / mean (coefficient of variation) is {cv:.3g}; a {kind} needs it "
                    f"between {low:g} and {MAX_CV:g}",
                    sd,
                )
            )
    weights = node.get("weights")
    if (
        kind == "empirical"
        and isinstance(weights, list)
        and all(num(w) for w in weights)
        and not math.isfinite(sum(weights))
    ):
        out.append(((*path, "weights"), "the weights' sum overflows; scale them down", weights))
    cv = node.get("demand_cv")
    if num(cv) and cv != 0 and not (MIN_CV <= cv <= MAX_CV):
        out.append(
            (
                (*path, "demand_cv"),
                f"must be 0 (constant demand) or between {MIN_CV:g} and {MAX_CV:g}",
                cv,
            )
        )


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    color: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        color[n] = 1
        stack.append(n)
        for nxt in graph.get(n, []):
            if color.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if color.get(nxt) is None and nxt in graph:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        color[n] = 2
        return None

    for n in graph:
        if color.get(n) is None:
            found = visit(n)
            if found:
                return found
    return None
