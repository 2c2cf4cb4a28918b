"""Goods: countries, products, exporters (Chinese licensed makers and alternative
suppliers) and transport lanes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.scenario.base import Model
from simulator.scenario.distributions import Constant, DaysDist
from simulator.scenario.types import Entities, Id, Probability, TonnesPerMonth

__all__ = [
    "Country",
    "Customs",
    "Exporter",
    "Lane",
    "PaceWindow",
    "Product",
    "Production",
    "RampPoint",
]


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
    controlled_share: Probability = 1.0
    """Of a controlled product's *background* exports, the share that contains the
    controlled elements and needs a licence (e.g. NdFeB grades with dysprosium or
    terbium); the rest leave without one (drawn per shipment). The modelled
    manufacturers' parts are controlled whole (a part names its own product)."""


class RampPoint(Model):
    """Capacity from a date on (piecewise constant; the last point before t applies)."""

    date: dt.date
    """From this date."""
    capacity_t_per_month: TonnesPerMonth
    """Capacity from that date, tonnes per month (30.4375 days)."""


class Exporter(Model):
    """A producer that sells to manufacturers. ``licensed`` exporters (in China) need
    a licence per order for controlled products; alternative suppliers do not."""

    id: Id
    """Exporter id."""
    country: Id
    """Country id the goods leave from (must be in ``countries``)."""
    products: Entities[Id] = Field(min_length=1)
    """Products it sells (ids in ``products``)."""
    licensed: bool = True
    """Exports need licences from the authority (a Chinese exporter)."""
    capacity_t_per_month: TonnesPerMonth
    """Production/dispatch capacity, tonnes per month, for the modelled customers."""
    ramp: Entities[RampPoint] = []
    """Capacity changes over time (alternative suppliers ramping up)."""
    lead_time_days: DaysDist = Constant(value=0)
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
    transit_days: DaysDist
    """Door-to-door transit time, calendar days."""


class Customs(Model):
    """Chinese customs, where every export from a licensed exporter is presented: the
    licence is checked there (not when the goods were ordered), policy may hold or
    inspect goods, and the port clears them for departure (the customs export date, on
    which monthly exports are counted)."""

    handling_days: DaysDist = Constant(value=0)
    """From presentation at customs to departure (port dwell, container cut-off),
    calendar days."""
    release_t_per_day: float | None = Field(default=None, gt=0)
    """After a customs hold, the port releases held goods at this many tonnes per day per
    destination, first come first served (null: all at once)."""
    release_by_destination: dict[Id, Annotated[float, Field(gt=0)]] = {}
    """Release throughput for particular destinations, tonnes per day (overrides
    ``release_t_per_day``)."""
    hold_days: DaysDist | None = None
    """Holds that leak: a held shipment is released after this many days (drawn per
    shipment, counted from the day it was held) even while the hold is in force — "once
    an inspection starts, it can take one or two months"; then it goes through the
    release throughput like any held goods. Null: held until the rule holding it ends."""

    def release_rate(self, destination: str) -> float | None:
        """Release throughput towards ``destination``, tonnes per day (None: unlimited)."""
        return self.release_by_destination.get(destination, self.release_t_per_day)


class PaceWindow(Model):
    """A stretch of days on which production in a country runs at a factor of its normal
    pace (a holiday shutdown, the rush before it, power rationing): either dated
    (``start``–``end``) or around every Spring Festival in the horizon (``around:
    spring_festival``, days ``from_day``–``to_day`` counted from the first day of the
    Chinese New Year, from the ``holidays`` package, both inclusive).

    Production on those days advances at ``pace`` days of normal production per calendar
    day: a background contract's ``production_days`` and an exporter's capacity and lead
    time are stretched by a slow pace (shutdowns delay goods; nothing is lost) and
    shortened by a fast one."""

    name: str = ""
    """Label (e.g. ``Spring Festival shutdown``)."""
    country: Id = "CN"
    """Country whose producers (exporters located there; background streams, made in the
    licensing country) the window slows or speeds."""
    around: Literal["spring_festival"] | None = None
    """Repeat around every Spring Festival (then give ``from_day`` and ``to_day``)."""
    from_day: int | None = Field(default=None, ge=-60, le=60)
    """First day of the window, days from the Spring Festival (negative: before)."""
    to_day: int | None = Field(default=None, ge=-60, le=60)
    """Last day of the window, days from the Spring Festival (inclusive)."""
    start: dt.date | None = None
    """First day of a dated window."""
    end: dt.date | None = None
    """Last day of a dated window (inclusive)."""
    pace: Annotated[float, Field(ge=0, le=5)]
    """Days of normal production done per calendar day in the window (0: closed; 1:
    normal; above 1: overtime)."""

    @model_validator(mode="after")
    def _one_kind(self) -> PaceWindow:
        """A window is either dated or around the Spring Festival, with its two ends."""
        relative = (self.from_day, self.to_day)
        dated = (self.start, self.end)
        if self.around is not None:
            if None in relative or self.start is not None or self.end is not None:
                raise ValueError("a window around the Spring Festival takes from_day and to_day")
            if relative[0] > relative[1]:  # type: ignore[operator]
                raise ValueError("from_day must not be after to_day")
        else:
            if None in dated or self.from_day is not None or self.to_day is not None:
                raise ValueError("a dated window takes start and end (or around: spring_festival)")
            if dated[0] > dated[1]:  # type: ignore[operator]
                raise ValueError("start must not be after end")
        return self


class Production(Model):
    """The pace of production in the origin countries over the year: seasonality where
    it happens (factories close around the Spring Festival), not in when contracts are
    signed."""

    windows: list[PaceWindow] = Field(default=[], max_length=64)
    """Windows of slower or faster production; where windows overlap, their paces
    multiply."""
