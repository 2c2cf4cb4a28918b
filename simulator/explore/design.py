"""Designs: which points of the parameter space a sweep runs.

``grid``
    Every combination of each parameter's levels (``N`` of ``--param PATH=LOW:HIGH:N``,
    ``levels:`` in ``uncertainties:``, else about ``points ** (1/D)``, else 5), spread
    evenly over [low, high] (in log for ``loguniform``), plus the scenario's own value
    (clipped into the range) when they miss it, so that the base point is the scenario;
    the first parameter varies slowest. Stress-test maps and tornado charts.
``oat``
    One at a time: the base point (every parameter at the scenario's own value, clipped
    into its range; the middle when the scenario leaves it unset), then each parameter
    alone at its levels (default 2: low and high) with the others at base. Tornado charts.
``lhs``
    Latin hypercube of ``points`` points, mapped through each parameter's distribution.
``sobol``
    Saltelli's scheme for Sobol indices (SALib, first and total order): ``points`` must be
    ``N × (D + 2)`` with ``N`` a power of two.
``morris``
    Morris trajectories for screening (SALib, 4 levels): ``points`` must be ``r × (D + 1)``
    with ``r ≥ 2`` trajectories.

Sampling designs draw from ``SeedSequence([seed, DESIGN_KEY])`` (:mod:`.seeds`),
independent of the replications' streams (``SeedSequence(seed, spawn_key=(i, …))``), so
one seed gives the same design and the same replications everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import Problem, ScenarioError
from simulator.explore.params import Param, point_overrides, values_of
from simulator.explore.seeds import DESIGN_KEY, design_seed, int_seed
from simulator.limits import Limits

__all__ = ["DESIGNS", "DESIGN_KEY", "MORRIS_LEVELS", "Design", "make_design"]

DESIGNS = ("grid", "oat", "lhs", "sobol", "morris")
"""Design kinds."""
MORRIS_LEVELS = 4
"""Levels of the Morris grid (SALib's default)."""
DEFAULT_LEVELS = 5
"""Grid levels of a parameter when neither ``N`` nor ``--points`` says."""


@dataclass(frozen=True)
class Design:
    """The points of a sweep.

    Attributes:
        kind: One of :data:`DESIGNS`.
        params: The (resolved) parameters, one column each.
        coords: Points × parameters, coordinates (dates as day numbers), rounded.
        unit: Points × parameters in [0, 1] before the inverse CDF (sampling designs),
            else None; SALib's Morris analysis reads it.
        seed: The sweep's root seed.
        base: Index of the base point (``oat``; ``grid``: the level nearest each nominal
            value), else None.
    """

    kind: str
    params: tuple[Param, ...]
    coords: np.ndarray
    unit: np.ndarray | None = None
    seed: int = 0
    base: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.coords.shape[0])

    @property
    def names(self) -> list[str]:
        """Parameter paths, in column order."""
        return [p.path for p in self.params]

    def values(self, i: int) -> dict[str, Any]:
        """``{path: value}`` of point ``i`` (dates as dates, integers as ints)."""
        return values_of(self.params, self.coords[i])

    def overrides(self, i: int) -> dict[str, Any]:
        """The ``--set``-style overrides of point ``i`` (an overlay's ``duration_days``
        becomes its ``until``)."""
        return point_overrides(self.params, self.coords[i])

    def frame(self) -> pd.DataFrame:
        """One row per point: ``point`` and one column per parameter (its values)."""
        cols: dict[str, Any] = {"point": np.arange(self.n)}
        for j, p in enumerate(self.params):
            cols[p.path] = _column(p, self.coords[:, j])
        return pd.DataFrame(cols)

    def digest(self) -> str:
        """SHA-256 (16 hex digits) of the kind, the parameters and every coordinate."""
        h = hashlib.sha256()
        h.update(repr((self.kind, [p.to_dict() for p in self.params], self.base)).encode())
        h.update(np.ascontiguousarray(self.coords, dtype="<f8").tobytes())
        return h.hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description (for manifests)."""
        return {
            "kind": self.kind,
            "points": self.n,
            "seed": self.seed,
            "base_point": self.base,
            "parameters": [p.to_dict() for p in self.params],
            "digest": self.digest(),
            **self.meta,
        }


def _column(p: Param, x: np.ndarray) -> Any:
    if p.kind == "date":
        return [dt.date.fromordinal(round(float(v))) for v in x]
    if p.kind == "int":
        return np.round(x).astype("int64")
    return x.astype(float)


def _bad(kind: str, message: str) -> ScenarioError:
    return ScenarioError(Problem(message, "", f"--design {kind}"))


def make_design(
    kind: str,
    params: Sequence[Param],
    *,
    points: int | None = None,
    seed: int = 0,
) -> Design:
    """Build a design over resolved parameters.

    Args:
        kind: One of :data:`DESIGNS`.
        params: Resolved parameters (:func:`simulator.explore.params.resolve`).
        points: Number of points (``lhs``, ``sobol``, ``morris``: required; ``grid``:
            sets the default levels; ``oat``: unused).
        seed: The sweep's root seed (sampling designs are drawn from it).

    Returns:
        The design.

    Raises:
        ScenarioError: Unknown kind, a points count that does not fit the design, or more
            than :attr:`Limits.MAX_SWEEP_POINTS` points.
    """
    params = tuple(params)
    if kind not in DESIGNS:
        raise _bad(kind, f"unknown design {kind!r}; choose one of {', '.join(DESIGNS)}")
    if not params:
        raise _bad(kind, "no parameters to sweep")
    if points is not None and not 1 <= points <= Limits.MAX_SWEEP_POINTS:
        raise _bad(
            kind,
            f"--points must be from 1 to {Limits.MAX_SWEEP_POINTS:,} (Limits.MAX_SWEEP_POINTS)",
        )
    if kind in ("lhs", "sobol", "morris"):
        with_n = [p for p in params if p.levels is not None and p.origin.startswith("--param")]
        if with_n:
            raise ScenarioError(
                Problem(
                    f"N (grid levels) applies to --design grid and oat; {kind} takes --points",
                    "",
                    with_n[0].origin,
                )
            )
        if points is None:
            raise _bad(kind, f"a {kind} design needs --points")
    if kind == "grid":
        return _grid(params, points, seed)
    if kind == "oat":
        return _oat(params, seed)
    assert points is not None
    if kind == "lhs":
        return _lhs(params, points, seed)
    if kind == "sobol":
        return _sobol(params, points, seed)
    return _morris(params, points, seed)


def _check_points(kind: str, n: int) -> None:
    if n > Limits.MAX_SWEEP_POINTS:
        raise _bad(
            kind,
            f"the design has {n:,} points; at most {Limits.MAX_SWEEP_POINTS:,} "
            "(Limits.MAX_SWEEP_POINTS)",
        )


def _grid(params: tuple[Param, ...], points: int | None, seed: int) -> Design:
    d = len(params)
    default = DEFAULT_LEVELS if points is None else max(2, math.floor(points ** (1 / d) + 1e-9))
    default = min(default, Limits.MAX_GRID_LEVELS)
    # each parameter's levels, and its scenario value (within the range) as one more if
    # the levels miss it: the base point, where the other parameters sit in a tornado,
    # is then the scenario as written, not the grid's centre
    levels = []
    for p in params:
        v = p.even(p.levels or default)
        if p.nominal is not None:
            v = np.unique(np.append(v, p.base()))
        levels.append(v)
    n = math.prod(len(v) for v in levels)
    _check_points("grid", n)
    coords = np.array(list(itertools.product(*levels)), dtype=float).reshape(n, d)
    base_levels = [
        v[int(np.argmin(np.abs(v - p.base())))] for p, v in zip(params, levels, strict=True)
    ]
    base = int(np.flatnonzero(np.all(coords == np.array(base_levels), axis=1))[0])
    return Design("grid", params, coords, None, seed, base, {"levels": [len(v) for v in levels]})


def _oat(params: tuple[Param, ...], seed: int) -> Design:
    base = np.array([p.base() for p in params])
    rows = [base]
    for j, p in enumerate(params):
        for x in p.even(p.levels or 2):
            if x == base[j]:
                continue
            row = base.copy()
            row[j] = x
            rows.append(row)
    _check_points("oat", len(rows))
    return Design("oat", params, np.array(rows), None, seed, 0)


def _from_unit(params: tuple[Param, ...], unit: np.ndarray) -> np.ndarray:
    return np.column_stack([p.ppf(unit[:, j]) for j, p in enumerate(params)])


def _lhs(params: tuple[Param, ...], points: int, seed: int) -> Design:
    rng = np.random.default_rng(design_seed(seed))
    d = len(params)
    # one stratum per point in every dimension, in an independent random order per dimension
    strata = np.column_stack([rng.permutation(points) for _ in range(d)])
    unit = (strata + rng.random((points, d))) / points
    return Design("lhs", params, _from_unit(params, unit), unit, seed)


def _salib_problem(params: tuple[Param, ...]) -> dict[str, Any]:
    return {
        "num_vars": len(params),
        "names": [p.path for p in params],
        "bounds": [[0.0, 1.0]] * len(params),
    }


def _sobol(params: tuple[Param, ...], points: int, seed: int) -> Design:
    from SALib.sample import sobol as salib_sobol

    d = len(params)
    base_n, rest = divmod(points, d + 2)
    if rest or base_n < 2 or base_n & (base_n - 1):
        ok = ", ".join(
            str(2**k * (d + 2)) for k in range(1, 12) if 2**k * (d + 2) <= 10 * max(points, 1)
        )
        raise _bad(
            "sobol",
            f"--points {points}: a Sobol design of {d} parameters has N × {d + 2} points with N a "
            f"power of two (N ≥ 2), e.g. {ok}",
        )
    unit = salib_sobol.sample(
        _salib_problem(params), base_n, calc_second_order=False, scramble=True, seed=int_seed(seed)
    )
    _check_points("sobol", len(unit))
    return Design(
        "sobol", params, _from_unit(params, unit), unit, seed, None, {"base_samples": base_n}
    )


def _morris(params: tuple[Param, ...], points: int, seed: int) -> Design:
    from SALib.sample import morris as salib_morris

    d = len(params)
    r, rest = divmod(points, d + 1)
    if rest or r < 2:
        raise _bad(
            "morris",
            f"--points {points}: a Morris design of {d} parameters has r × {d + 1} points with "
            f"r ≥ 2 trajectories, e.g. {', '.join(str(k * (d + 1)) for k in (2, 5, 10, 20))}",
        )
    unit = salib_morris.sample(
        _salib_problem(params), r, num_levels=MORRIS_LEVELS, seed=int_seed(seed)
    )
    return Design(
        "morris",
        params,
        _from_unit(params, unit),
        unit,
        seed,
        None,
        {"trajectories": r, "morris_levels": MORRIS_LEVELS},
    )
