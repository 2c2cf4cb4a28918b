"""Priors of the free parameters of a forecast: what is believed before the data.

A parameter is declared as in a targets file's ``parameters:`` or a scenario's
``uncertainties:`` block (``path``, ``low``, ``high``, optional ``log``, ``integer``,
``distribution: {kind: uniform | loguniform | triangular (mode) | normal (mean, sd)}``);
every shape is truncated to [low, high]. :class:`Prior` is the joint prior of several
such parameters, independent of each other.

Values are *coordinates* as :mod:`simulator.explore.params` uses them: numbers as they
are, dates as day numbers; integer parameters (``integer: true``, integer fields, dates)
take whole values: a draw is the continuous shape's draw rounded, so its probability is
the shape's mass over [k − ½, k + ½] (clipped to the range).

Inference methods work in an unbounded space: :meth:`Prior.to_unbounded` maps a value
``θ`` to ``z = logit(F(θ))`` with ``F`` the parameter's prior CDF, so that under the
prior every ``z`` is standard logistic whatever the shape, and
:meth:`Prior.from_unbounded` maps back (always inside [low, high]).

Randomness only through a :class:`numpy.random.Generator` given by the caller.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["SHAPES", "U_EPS", "ParamPrior", "Prior"]

SHAPES = ("uniform", "loguniform", "triangular", "normal")
"""Prior shapes (as :data:`simulator.explore.params.SHAPES`)."""
U_EPS = 1e-12
"""CDF values are kept within [U_EPS, 1 − U_EPS] before the logit (finite ``z``)."""


@dataclass(frozen=True)
class ParamPrior:
    """The prior of one parameter.

    Attributes:
        name: The parameter's path (``--set`` syntax) or any label.
        low: Lowest value (unit of the path; dates as day numbers).
        high: Highest value, above ``low``.
        shape: One of :data:`SHAPES`.
        mode: Mode of a triangular shape.
        mean: Mean of a normal shape before truncation.
        sd: Standard deviation of a normal shape before truncation, > 0.
        integer: Whole values only (draws rounded).
    """

    name: str
    low: float
    high: float
    shape: str = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.high > self.low):
            raise ValueError(f"{self.name}: need finite low < high, got [{self.low}, {self.high}]")
        if self.shape not in SHAPES:
            raise ValueError(f"{self.name}: unknown distribution {self.shape!r}; one of {SHAPES}")
        if self.shape == "loguniform" and self.low <= 0:
            raise ValueError(f"{self.name}: a loguniform prior needs low > 0")
        if self.shape == "triangular" and (
            self.mode is None or not self.low <= self.mode <= self.high
        ):
            raise ValueError(f"{self.name}: a triangular prior needs a mode in [low, high]")
        if self.shape == "normal" and (self.mean is None or self.sd is None or self.sd <= 0):
            raise ValueError(f"{self.name}: a normal prior needs a mean and an sd > 0")
        if self.integer and math.floor(self.high) < math.ceil(self.low):
            raise ValueError(f"{self.name}: no whole number in [{self.low}, {self.high}]")

    # ------------------------------------------------------------------ continuous shape
    def _dist(self) -> Any:
        lo, hi = self.low, self.high
        if self.shape == "triangular":
            assert self.mode is not None
            return stats.triang((self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        if self.shape == "normal":
            assert self.mean is not None and self.sd is not None
            m, s = self.mean, self.sd
            return stats.truncnorm((lo - m) / s, (hi - m) / s, loc=m, scale=s)
        return None

    def _cdf_c(self, x: np.ndarray) -> np.ndarray:
        """CDF of the continuous shape."""
        lo, hi = self.low, self.high
        x = np.clip(np.asarray(x, dtype=float), lo, hi)
        if self.shape == "uniform":
            return (x - lo) / (hi - lo)
        if self.shape == "loguniform":
            return (np.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return np.asarray(self._dist().cdf(x), dtype=float)

    def _ppf_c(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF of the continuous shape."""
        lo, hi = self.low, self.high
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.shape == "uniform":
            x = lo + u * (hi - lo)
        elif self.shape == "loguniform":
            x = np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        else:
            x = np.asarray(self._dist().ppf(u), dtype=float)
        return np.clip(x, lo, hi)

    def _logpdf_c(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.low, self.high
        x = np.asarray(x, dtype=float)
        inside = (x >= lo) & (x <= hi)
        if self.shape == "uniform":
            out = np.full(x.shape, -math.log(hi - lo))
        elif self.shape == "loguniform":
            with np.errstate(divide="ignore", invalid="ignore"):
                out = -np.log(x) - math.log(math.log(hi) - math.log(lo))
        else:
            out = np.asarray(self._dist().logpdf(x), dtype=float)
        return np.where(inside, out, -np.inf)

    # ------------------------------------------------------------------ public
    def snap(self, x: np.ndarray | float) -> np.ndarray:
        """Clip to [low, high] and round whole-number parameters."""
        x = np.clip(np.asarray(x, dtype=float), self.low, self.high)
        if self.integer:
            x = np.clip(np.round(x), math.ceil(self.low), math.floor(self.high))
        return x

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        """Prior CDF at ``x`` (integer parameters: at the middle of ``x``'s mass, so that
        :meth:`ppf` of it gives ``x`` back)."""
        x = np.asarray(x, dtype=float)
        if not self.integer:
            return self._cdf_c(x)
        k = self.snap(x)
        return 0.5 * (self._cdf_c(k - 0.5) + self._cdf_c(k + 0.5))

    def ppf(self, u: np.ndarray | float) -> np.ndarray:
        """Inverse prior CDF of ``u`` in [0, 1] (rounded for integer parameters)."""
        return self.snap(self._ppf_c(np.asarray(u, dtype=float)))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws (inverse CDF of ``rng.random(n)``)."""
        return self.ppf(rng.random(n))

    def logpdf(self, x: np.ndarray | float) -> np.ndarray:
        """Log prior density at ``x`` (−inf outside [low, high]); integer parameters: the
        log of the probability of the whole value ``x`` (−inf off whole numbers)."""
        x = np.asarray(x, dtype=float)
        if not self.integer:
            return self._logpdf_c(x)
        k = self.snap(x)
        with np.errstate(divide="ignore"):
            mass = np.log(self._cdf_c(k + 0.5) - self._cdf_c(k - 0.5))
        ok = (x == k) & (x >= self.low - 0.5) & (x <= self.high + 0.5)
        return np.where(ok, mass, -np.inf)

    def mean_sd(self) -> tuple[float, float]:
        """Prior mean and standard deviation (numerically, on 20,001 quantiles)."""
        u = (np.arange(20_001) + 0.5) / 20_001
        x = self.ppf(u)
        return float(x.mean()), float(x.std())

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description (fingerprints, manifests)."""
        out: dict[str, Any] = {
            "name": self.name,
            "low": self.low,
            "high": self.high,
            "shape": self.shape,
        }
        for k in ("mode", "mean", "sd"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        if self.integer:
            out["integer"] = True
        return out


@dataclass(frozen=True)
class Prior:
    """Independent priors of several parameters, in column order.

    Attributes:
        params: One :class:`ParamPrior` per parameter.
    """

    params: tuple[ParamPrior, ...]

    def __post_init__(self) -> None:
        if not self.params:
            raise ValueError("a prior needs at least one parameter")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter names repeat: {names}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_declarations(cls, decls: Sequence[Mapping[str, Any]]) -> Prior:
        """A prior from declarations as written in YAML.

        Args:
            decls: Mappings with ``path`` (or ``name``), ``low``, ``high`` and optional
                ``log`` (loguniform), ``integer`` and ``distribution`` (``{kind,
                mode | mean, sd}``; ``kind: loguniform`` is the same as ``log: true``).

        Raises:
            ValueError: A declaration is incomplete or inconsistent.
        """
        out = []
        for d in decls:
            dist = dict(d.get("distribution") or {})
            shape = str(dist.get("kind", "loguniform" if d.get("log") else "uniform"))
            if d.get("log") and shape not in ("uniform", "loguniform"):
                raise ValueError(f"{d.get('path')}: log: true and distribution {shape!r}")
            if d.get("log"):
                shape = "loguniform"
            out.append(
                ParamPrior(
                    str(d.get("path", d.get("name", ""))),
                    float(d["low"]),
                    float(d["high"]),
                    shape,
                    _opt(dist.get("mode")),
                    _opt(dist.get("mean")),
                    _opt(dist.get("sd")),
                    bool(d.get("integer", False)),
                )
            )
        return cls(tuple(out))

    @classmethod
    def from_params(cls, params: Sequence[Any]) -> Prior:
        """A prior from :class:`simulator.explore.params.Param` objects (after
        :func:`~simulator.explore.params.resolve`: dates and integer fields take whole
        values)."""
        return cls(
            tuple(
                ParamPrior(
                    p.path,
                    float(p.low),
                    float(p.high),
                    p.shape,
                    p.mode,
                    p.mean,
                    p.sd,
                    p.kind in ("int", "date"),
                )
                for p in params
            )
        )

    # ------------------------------------------------------------------ properties
    @property
    def names(self) -> list[str]:
        """Parameter names, in column order."""
        return [p.name for p in self.params]

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.params)

    # ------------------------------------------------------------------ numbers
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws, ``n × dim`` (one ``rng.random((n, dim))`` block, column j through
        parameter j's inverse CDF)."""
        u = rng.random((n, self.dim))
        return self.ppf(u)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Unit values ``… × dim`` to parameter values."""
        u = np.asarray(u, dtype=float)
        return np.stack([p.ppf(u[..., j]) for j, p in enumerate(self.params)], axis=-1)

    def cdf(self, theta: np.ndarray) -> np.ndarray:
        """Parameter values ``… × dim`` to prior CDF values."""
        theta = np.asarray(theta, dtype=float)
        return np.stack([p.cdf(theta[..., j]) for j, p in enumerate(self.params)], axis=-1)

    def logpdf(self, theta: np.ndarray) -> np.ndarray:
        """Joint log prior density of ``… × dim`` values (sum over parameters)."""
        theta = np.asarray(theta, dtype=float)
        return np.sum(
            np.stack([p.logpdf(theta[..., j]) for j, p in enumerate(self.params)], axis=-1),
            axis=-1,
        )

    def to_unbounded(self, theta: np.ndarray) -> np.ndarray:
        """``z = logit(F(θ))`` per parameter (standard logistic under the prior)."""
        u = np.clip(self.cdf(theta), U_EPS, 1 - U_EPS)
        return np.log(u) - np.log1p(-u)

    def from_unbounded(self, z: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_unbounded`: ``θ = F⁻¹(sigmoid(z))``, inside [low, high]."""
        z = np.asarray(z, dtype=float)
        with np.errstate(over="ignore"):
            u = 1.0 / (1.0 + np.exp(-z))
        return self.ppf(u)

    def mean_sd(self) -> tuple[np.ndarray, np.ndarray]:
        """Prior mean and standard deviation per parameter."""
        ms = [p.mean_sd() for p in self.params]
        return np.array([m for m, _ in ms]), np.array([s for _, s in ms])

    # ------------------------------------------------------------------ identity
    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-friendly description."""
        return [p.to_dict() for p in self.params]

    def digest(self) -> str:
        """SHA-256 (16 hex digits) of :meth:`to_dict`."""
        text = json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _opt(v: Any) -> float | None:
    return None if v is None else float(v)
