"""Uncertainties: which scenario values a sweep may move, over which range, how likely.

An optional ``uncertainties:`` block lists paths into the scenario (written as for
``relsim run --set``) with a range and, for sampling designs, a distribution over it::

    uncertainties:
      - {path: policy.overlays.0.review_time_factor, low: 1.5, high: 3, label: slowdown factor}
      - {path: policy.overlays.0.duration_days, low: 30, high: 120}   # until = from + d − 1
      - {path: policy.overlays.0.from, low: 2025-08-01, high: 2025-10-01}
      - path: authority.reviewers
        low: 600
        high: 900
        distribution: {kind: triangular, mode: 760}

``relsim run`` ignores the block (a run uses the values written in the scenario);
``relsim sweep`` and :func:`simulator.sweep` read it. The block is not part of the
resolved scenario (nor of its hash): it says what to explore, not what to simulate.
How paths are resolved and applied (the derived ``duration_days`` of an overlay, a
moved ``from`` keeping the duration) is :mod:`simulator.explore.params`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.errors import FieldProblems
from simulator.limits import Limits
from simulator.scenario.base import Model

__all__ = [
    "LogUniformShape",
    "NormalShape",
    "Shape",
    "TriangularShape",
    "Uncertainty",
    "UniformShape",
]


class UniformShape(Model):
    """Every value in [low, high] equally likely."""

    kind: Literal["uniform"] = "uniform"


class LogUniformShape(Model):
    """The logarithm uniform on [log low, log high] (``low`` > 0): for factors and rates
    whose plausible values span orders of magnitude."""

    kind: Literal["loguniform"] = "loguniform"


class TriangularShape(Model):
    """Triangular on [low, high] with the given mode."""

    kind: Literal["triangular"] = "triangular"
    mode: float
    """Most likely value (unit of the path), in [low, high]."""


class NormalShape(Model):
    """Normal with the given mean and standard deviation, truncated to [low, high]."""

    kind: Literal["normal"] = "normal"
    mean: float
    """Mean before truncation (unit of the path)."""
    sd: float = Field(gt=0)
    """Standard deviation before truncation (unit of the path), > 0."""


Shape = Annotated[
    UniformShape | LogUniformShape | TriangularShape | NormalShape,
    Field(discriminator="kind"),
]
"""How likely each value in [low, high] is, for sampling designs (``lhs``, ``sobol``,
``morris``); grid and one-at-a-time designs span [low, high] evenly (``loguniform``:
evenly in log)."""


class Uncertainty(Model):
    """One scenario value a sweep may move."""

    path: str = Field(min_length=1, max_length=300)
    """Dotted path as for ``--set`` (``authority.reviewers``,
    ``manufacturers[us_automaker].initial_cover_days``,
    ``policy.overlays.0.review_time_factor``). Overlays also take
    ``policy.overlays.<i>.duration_days`` (calendar days; sets ``until = from +
    duration − 1``); moving an overlay's ``from`` keeps its duration unless ``until`` or
    ``duration_days`` is swept too."""
    low: float | dt.date
    """Lowest value (unit of the path; a date for date fields)."""
    high: float | dt.date
    """Highest value (unit of the path; a date for date fields), above ``low``."""
    distribution: Shape = UniformShape()
    """How likely each value is (sampling designs); default uniform."""
    integer: bool = False
    """Whole numbers only (implied for integer fields and for ``duration_days``)."""
    levels: int | None = Field(default=None, ge=2, le=Limits.MAX_GRID_LEVELS)
    """Values of a grid design (default: from ``--points``, else 5)."""
    label: str = Field(default="", max_length=80)
    """Short label for figures (default: the path)."""

    @model_validator(mode="after")
    def _range(self) -> Uncertainty:
        problems: list[tuple[tuple[str, ...], str, object]] = []
        lo, hi = self.low, self.high
        dates = [isinstance(v, dt.date) for v in (lo, hi)]
        if dates[0] != dates[1]:
            problems.append((("high",), "low and high must both be dates or both numbers", hi))
        elif hi <= lo:  # type: ignore[operator]
            problems.append((("high",), f"must be above low ({_text(lo)})", hi))
        shape = self.distribution
        if all(dates) and not isinstance(shape, UniformShape):
            problems.append(
                (("distribution", "kind"), "dates are swept uniformly only", shape.kind)
            )
        if not any(dates):
            if isinstance(shape, LogUniformShape) and lo <= 0:  # type: ignore[operator]
                problems.append((("low",), "a loguniform range needs low > 0", lo))
            if isinstance(shape, TriangularShape) and not lo <= shape.mode <= hi:  # type: ignore[operator]
                problems.append(
                    (
                        ("distribution", "mode"),
                        f"must lie in [{_text(lo)}, {_text(hi)}]",
                        shape.mode,
                    )
                )
        if problems:
            raise FieldProblems(problems)
        return self


def _text(v: float | dt.date) -> str:
    return v.isoformat() if isinstance(v, dt.date) else f"{v:g}"
