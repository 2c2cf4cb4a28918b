"""Field types of the scenario format, with their units and limits declared once.

A field's type says what it holds and what is allowed: ``Days`` is a duration in
calendar days (0 .. :attr:`Limits.MAX_DURATION_DAYS`), ``Probability`` a number in
[0, 1], ``Factor`` a positive multiplier up to :attr:`Limits.MAX_REVIEW_TIME_FACTOR`, and
so on. Every float is finite (the models forbid ``.inf`` / ``.nan``). Distributions of
durations (``DaysDist``, ``WorkingDaysDist``) bound every parameter the same way.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from simulator.errors import FieldProblems
from simulator.limits import Limits

__all__ = [
    "Count",
    "Days",
    "Entities",
    "Factor",
    "Id",
    "NonNeg",
    "Probability",
    "RatePerWd",
    "Selector",
    "Tonnes",
    "TonnesPerMonth",
    "UnitsPerDay",
    "ValidDays",
    "WorkingDays",
    "at_most",
    "bounded_dist",
    "bounded_duration",
    "fraction_dist",
]

T = TypeVar("T")

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
"""An identifier: 1–64 letters, digits, ``_``, ``.`` or ``-``."""
Probability = Annotated[float, Field(ge=0, le=1)]
"""A probability or share, in [0, 1]."""
NonNeg = Annotated[float, Field(ge=0)]
"""A non-negative number."""


def _duration_limit(unit: str) -> Any:
    def check(value: float | None) -> float | None:
        if value is not None and value > Limits.MAX_DURATION_DAYS:
            raise ValueError(
                f"exceeds the limit of {Limits.MAX_DURATION_DAYS:,} {unit} for any duration "
                "(Limits.MAX_DURATION_DAYS, 100 years)"
            )
        return value

    return AfterValidator(check)


def at_most(limit: float, what: str) -> Any:
    """An ``AfterValidator`` refusing values over ``limit`` with "exceeds the limit of
    ``limit`` ``what``"."""

    def check(value: float | None) -> float | None:
        if value is not None and value > limit:
            raise ValueError(f"exceeds the limit of {limit:g} {what}")
        return value

    return AfterValidator(check)


Tonnes = Annotated[
    float,
    Field(ge=0, json_schema_extra={"maximum": Limits.MAX_TONNES}),
    at_most(Limits.MAX_TONNES, "tonnes (Limits.MAX_TONNES)"),
]
"""Metric tonnes, 0 .. 1e9."""
TonnesPerMonth = Annotated[
    float,
    Field(ge=0, json_schema_extra={"maximum": Limits.MAX_TONNES}),
    at_most(Limits.MAX_TONNES, "tonnes per month (Limits.MAX_TONNES)"),
]
"""A capacity in tonnes per month, 0 .. 1e9."""
UnitsPerDay = Annotated[
    float,
    Field(ge=0, json_schema_extra={"maximum": Limits.MAX_UNITS_PER_DAY}),
    at_most(Limits.MAX_UNITS_PER_DAY, "units per day (Limits.MAX_UNITS_PER_DAY)"),
]
"""Production in units per day, 0 .. 1e12."""

_MAX = {"maximum": Limits.MAX_DURATION_DAYS}
Days = Annotated[float, Field(ge=0, json_schema_extra=_MAX), _duration_limit("days")]
"""A duration in calendar days, 0 .. 36,600."""
WorkingDays = Annotated[float, Field(ge=0, json_schema_extra=_MAX), _duration_limit("working days")]
"""A duration in Chinese working days (see :mod:`simulator.world.calendar`), 0 .. 36,600."""
ValidDays = Annotated[int, Field(ge=1, json_schema_extra=_MAX), _duration_limit("days")]
"""A validity period in whole calendar days, 1 .. 36,600."""
Factor = Annotated[
    float,
    Field(gt=0, json_schema_extra={"maximum": Limits.MAX_REVIEW_TIME_FACTOR}),
    at_most(Limits.MAX_REVIEW_TIME_FACTOR, "(Limits.MAX_REVIEW_TIME_FACTOR)"),
]
"""A positive multiplier (2 = twice as long), at most 100."""
RatePerWd = Annotated[
    float,
    Field(ge=0, json_schema_extra={"maximum": Limits.MAX_RATE_PER_WD}),
    at_most(Limits.MAX_RATE_PER_WD, "applications per working day (Limits.MAX_RATE_PER_WD)"),
]
"""Applications per working day, 0 .. 100,000."""
Count = Annotated[int, Field(ge=0)]
"""A non-negative whole number."""


def _at_most_entities(items: list[T]) -> list[T]:
    if len(items) > Limits.MAX_ENTITIES:
        raise FieldProblems(
            [
                (
                    (),
                    f"at most {Limits.MAX_ENTITIES} entries allowed (Limits.MAX_ENTITIES)",
                    len(items),
                )
            ]
        )
    return items


Entities = Annotated[
    list[T],
    AfterValidator(_at_most_entities),
    Field(json_schema_extra={"maxItems": Limits.MAX_ENTITIES}),
]
"""A list of at most :attr:`Limits.MAX_ENTITIES` items."""


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

_DIST_PARAMS = ("value", "low", "mode", "high", "mean_value", "sd")
_DIST_KEYS = {"mean_value": "mean"}


def bounded_dist(limit: float, message: str) -> Any:
    """An ``AfterValidator`` for a distribution: every parameter (value, bounds, mean,
    sd, listed values) at most ``limit``; a problem says "``message``" at each."""

    def check(dist: Any) -> Any:
        problems: list[tuple[tuple[Any, ...], str, Any]] = []
        for attr in _DIST_PARAMS:
            v = getattr(dist, attr, None)
            if isinstance(v, int | float) and v > limit:
                problems.append(((_DIST_KEYS.get(attr, attr),), message, v))
        for i, v in enumerate(getattr(dist, "values", None) or ()):
            if v > limit:
                problems.append((("values", i), message, v))
        if problems:
            raise FieldProblems(problems)
        return dist

    return AfterValidator(check)


def bounded_duration(unit: str) -> Any:
    """An ``AfterValidator`` for a distribution of durations: every parameter (value,
    bounds, mean, sd, listed values) at most :attr:`Limits.MAX_DURATION_DAYS`."""
    return bounded_dist(
        Limits.MAX_DURATION_DAYS,
        f"exceeds the limit of {Limits.MAX_DURATION_DAYS:,} {unit} for any duration "
        "(Limits.MAX_DURATION_DAYS, 100 years)",
    )


def fraction_dist() -> Any:
    """An ``AfterValidator`` for a distribution of fractions: a constant, bounds, listed
    values or a mean above 1 are refused (draws are used in [0, 1])."""

    def check(dist: Any) -> Any:
        problems: list[tuple[tuple[Any, ...], str, Any]] = []
        message = "a fraction must be at most 1"
        for attr in ("value", "high", "mean_value"):
            v = getattr(dist, attr, None)
            if isinstance(v, int | float) and v > 1:
                problems.append(((_DIST_KEYS.get(attr, attr),), message, v))
        for i, v in enumerate(getattr(dist, "values", None) or ()):
            if v > 1:
                problems.append((("values", i), message, v))
        if problems:
            raise FieldProblems(problems)
        return dist

    return AfterValidator(check)
