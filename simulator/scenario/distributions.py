"""Probability distributions used in scenarios, and fast samplers for them.

Every distribution is a small frozen pydantic model chosen by its ``kind:`` key
(a discriminated union), so a scenario reads::

    review_work_wd: {kind: lognormal, mean: 20, sd: 8}

The unit of a distribution is the unit of the field that holds it (the field name
says it: ``_days`` calendar days, ``_wd`` working days, ``tonnes``).

Each distribution draws blocks of values from a :class:`numpy.random.Generator`
(:meth:`draw`); :mod:`simulator.world.sampling` hands them out one at a time. The
coefficient of variation of a gamma or lognormal is bounded
(:attr:`~simulator.limits.Limits.MIN_CV` .. :attr:`~simulator.limits.Limits.MAX_CV`)
so that their parameters never under- or overflow.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from simulator.errors import FieldProblems
from simulator.limits import Limits
from simulator.scenario.base import Model
from simulator.scenario.types import bounded_dist, bounded_duration, fraction_dist

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "Constant",
    "DaysDist",
    "Distribution",
    "Empirical",
    "Exponential",
    "FractionDist",
    "Gamma",
    "Lognormal",
    "TonnesDist",
    "Triangular",
    "Uniform",
    "WorkingDaysDist",
]


class Constant(Model):
    """Always the same value."""

    kind: Literal["constant"] = "constant"
    value: float = Field(ge=0)
    """The value (unit of the field holding the distribution)."""

    def mean(self) -> float:
        """Expected value."""
        return self.value

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        import numpy as np

        return np.full(n, self.value)


class Exponential(Model):
    """Exponential with the given mean (memoryless; M/M/c service)."""

    kind: Literal["exponential"] = "exponential"
    mean_value: float = Field(gt=0, alias="mean")
    """Mean (unit of the field)."""

    def mean(self) -> float:
        """Expected value."""
        return self.mean_value

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        return rng.exponential(self.mean_value, n)


class Uniform(Model):
    """Uniform on [low, high]."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(ge=0)
    """Lower bound (unit of the field)."""
    high: float = Field(ge=0)
    """Upper bound (unit of the field)."""

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def mean(self) -> float:
        """Expected value."""
        return 0.5 * (self.low + self.high)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        return rng.uniform(self.low, self.high, n)


class Triangular(Model):
    """Triangular on [low, high] with the given mode."""

    kind: Literal["triangular"] = "triangular"
    low: float = Field(ge=0)
    """Lower bound (unit of the field)."""
    mode: float = Field(ge=0)
    """Most likely value (unit of the field)."""
    high: float = Field(ge=0)
    """Upper bound (unit of the field)."""

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high):
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self

    def mean(self) -> float:
        """Expected value."""
        return (self.low + self.mode + self.high) / 3.0

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        import numpy as np

        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, n)


class Lognormal(Model):
    """Lognormal given by its own mean and standard deviation (not the log's)."""

    kind: Literal["lognormal"] = "lognormal"
    mean_value: float = Field(gt=0, alias="mean")
    """Mean (unit of the field)."""
    sd: float = Field(ge=0)
    """Standard deviation (unit of the field)."""

    @model_validator(mode="after")
    def _cv(self) -> Lognormal:
        _check_cv(self, "lognormal", 0.0)
        return self

    def mean(self) -> float:
        """Expected value."""
        return self.mean_value

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        s2 = math.log1p((self.sd / self.mean_value) ** 2)
        mu = math.log(self.mean_value) - 0.5 * s2
        return rng.lognormal(mu, math.sqrt(s2), n)


class Gamma(Model):
    """Gamma given by mean and standard deviation (Erlang-like review work)."""

    kind: Literal["gamma"] = "gamma"
    mean_value: float = Field(gt=0, alias="mean")
    """Mean (unit of the field)."""
    sd: float = Field(gt=0)
    """Standard deviation (unit of the field)."""

    @model_validator(mode="after")
    def _cv(self) -> Gamma:
        _check_cv(self, "gamma", Limits.MIN_CV)
        return self

    def mean(self) -> float:
        """Expected value."""
        return self.mean_value

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        shape = (self.mean_value / self.sd) ** 2
        return rng.gamma(shape, self.mean_value / shape, n)


class Empirical(Model):
    """Draw from listed values with optional weights (resampling observed data)."""

    kind: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1)
    """Observed values (unit of the field); each must be >= 0."""
    weights: list[float] | None = None
    """Relative weights, one per value (default: equal)."""

    @model_validator(mode="after")
    def _check(self) -> Empirical:
        if any(v < 0 for v in self.values):
            raise ValueError("values must be >= 0")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
            if not math.isfinite(sum(self.weights)):
                raise FieldProblems(
                    [(("weights",), "the weights' sum overflows; scale them down", self.weights)]
                )
        return self

    def _p(self) -> np.ndarray | None:
        import numpy as np

        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def mean(self) -> float:
        """Expected value."""
        import numpy as np

        p = self._p()
        v = np.asarray(self.values)
        return float(v.mean() if p is None else (v * p).sum())

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values."""
        import numpy as np

        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._p())


def _check_cv(d: Lognormal | Gamma, kind: str, low: float) -> None:
    """Refuse a coefficient of variation the sampler's arithmetic cannot handle."""
    if d.mean_value > 0 and d.sd > 0:
        cv = d.sd / d.mean_value
        if not low <= cv <= Limits.MAX_CV:
            raise FieldProblems(
                [
                    (
                        ("sd",),
                        f"sd / mean (coefficient of variation) is {cv:.3g}; a {kind} needs "
                        f"it between {low:g} and {Limits.MAX_CV:g}",
                        d.sd,
                    )
                ]
            )


Distribution = Annotated[
    Constant | Exponential | Uniform | Triangular | Lognormal | Gamma | Empirical,
    Field(discriminator="kind"),
]
"""Any distribution, selected by ``kind``."""

DaysDist = Annotated[Distribution, bounded_duration("days")]
"""A distribution of durations in calendar days (every parameter at most 36,600)."""
WorkingDaysDist = Annotated[Distribution, bounded_duration("working days")]
"""A distribution of durations in Chinese working days (every parameter at most 36,600)."""
TonnesDist = Annotated[
    Distribution,
    bounded_dist(
        Limits.MAX_TONNES, f"exceeds the limit of {Limits.MAX_TONNES:g} tonnes (Limits.MAX_TONNES)"
    ),
]
"""A distribution of quantities in tonnes (every parameter at most 1e9)."""
FractionDist = Annotated[Distribution, fraction_dist()]
"""A distribution of fractions in [0, 1] (constant, bounds, values and mean at most 1)."""
