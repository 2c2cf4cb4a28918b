"""Which parameters matter: Sobol indices and Morris screening (SALib), and tornado swings.

All three read a KPI's mean at every point of a design, in point order (any model
works: :func:`simulator.explore.sweep.evaluate_design` puts a plain function through the
same path).

* :func:`sobol_indices` — first-order (``S1``: the share of the output's variance due to
  one parameter alone) and total (``ST``: including all its interactions) Sobol indices
  with bootstrap confidence intervals (SALib's Saltelli/Jansen estimators, a ``sobol``
  design). Indices describe the variance of the *ensemble mean*, so Monte Carlo noise of
  the mean (its ``se``) shows up as a little unexplained variance: use enough
  replications per point that the ``se`` is small beside the spread across points.
* :func:`morris_indices` — elementary effects per unit of each parameter's range
  (``mu_star``: mean absolute effect, for ranking; ``sigma``: their spread, large for
  non-linear or interacting parameters; a ``morris`` design).
* :func:`tornado_table` — one parameter at a time from the base point to its lowest and
  highest value (``oat`` or ``grid`` designs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.explore.seeds import analysis_seed

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.design import Design

__all__ = ["morris_indices", "sobol_indices", "tornado_table"]


def _problem(design: Design) -> dict[str, Any]:
    d = len(design.params)
    return {"num_vars": d, "names": design.names, "bounds": [[0.0, 1.0]] * d}


def _check(design: Design, y: np.ndarray, kind: str) -> np.ndarray:
    if design.kind != kind:
        raise ValueError(
            f"{kind} indices need a {kind} design (--design {kind}); this sweep is {design.kind}"
        )
    y = np.asarray(y, dtype=float)
    if y.shape != (design.n,):
        raise ValueError(f"expected {design.n} outputs (one per point), got shape {y.shape}")
    bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise ValueError(
            f"the output is undefined at {bad} of {design.n} points (e.g. days to first "
            "shortage where no line stopped); choose an output defined everywhere"
        )
    return y


def sobol_indices(
    design: Design, y: np.ndarray, conf_level: float = 0.95, num_resamples: int = 1000
) -> pd.DataFrame:
    """First-order and total Sobol indices with confidence intervals.

    Args:
        design: A ``sobol`` design.
        y: The output at every point, in point order.
        conf_level: Level of the bootstrap intervals.
        num_resamples: Bootstrap resamples.

    Returns:
        One row per parameter: ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (``*_conf``: half-width of the interval, so ``S1 ± S1_conf``).

    Raises:
        ValueError: Not a sobol design, the output is undefined somewhere, or it is the
            same everywhere.
    """
    from SALib.analyze import sobol

    y = _check(design, y, "sobol")
    if float(np.var(y)) == 0.0:
        raise ValueError(
            "the output is the same at every point: it does not vary with the parameters, "
            "so it has no variance to share out (Sobol indices are undefined)"
        )
    si = sobol.analyze(
        _problem(design),
        y,
        calc_second_order=False,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=analysis_seed(design.seed),
    )
    return pd.DataFrame(
        {
            "parameter": design.names,
            "S1": si["S1"],
            "S1_conf": si["S1_conf"],
            "ST": si["ST"],
            "ST_conf": si["ST_conf"],
        }
    )


def morris_indices(
    design: Design, y: np.ndarray, conf_level: float = 0.95, num_resamples: int = 1000
) -> pd.DataFrame:
    """Morris elementary effects per unit of each parameter's range.

    Args:
        design: A ``morris`` design.
        y: The output at every point, in point order.
        conf_level: Level of the bootstrap interval of ``mu_star``.
        num_resamples: Bootstrap resamples.

    Returns:
        One row per parameter: ``parameter``, ``mu``, ``mu_star``, ``mu_star_conf``
        (half-width), ``sigma``; sorted as the parameters.

    Raises:
        ValueError: Not a morris design, or the output is undefined somewhere.
    """
    from SALib.analyze import morris

    y = _check(design, y, "morris")
    assert design.unit is not None
    si = morris.analyze(
        _problem(design),
        design.unit,
        y,
        num_resamples=num_resamples,
        conf_level=conf_level,
        num_levels=int(design.meta.get("morris_levels", 4)),
        seed=analysis_seed(design.seed),
    )
    return pd.DataFrame(
        {
            "parameter": design.names,
            "mu": np.asarray(si["mu"], dtype=float),
            "mu_star": np.asarray(si["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
            "sigma": np.asarray(si["sigma"], dtype=float),
        }
    )


def tornado_table(design: Design, table: pd.DataFrame) -> pd.DataFrame:
    """Swing of an output from the base point, one parameter at a time.

    For each parameter, the points where every *other* parameter is at its base value;
    of those, the ones with the parameter at its lowest and highest value.

    Args:
        design: An ``oat`` or ``grid`` design (it has a base point).
        table: The output at every point (:meth:`SweepResult.kpi`: ``point``, ``mean``,
            ``ci_low``, ``ci_high``).

    Returns:
        One row per parameter, largest swing first: ``parameter``, ``low``, ``high``
        (parameter values), ``at_low``, ``at_high`` (output means), ``at_low_ci``,
        ``at_high_ci`` (their 95 % half-widths), ``base`` (output at the base point: the
        scenario's values) and ``base_ci``, ``swing`` (``|at_high − at_low|``) and
        ``within_noise`` (the swing is no larger than the two ends' half-widths
        together, which are not both 0: Monte Carlo noise could make it).

    Raises:
        ValueError: The design has no base point (lhs, sobol, morris).
    """
    if design.base is None:
        raise ValueError(
            "a tornado chart needs one-at-a-time ranges: --design oat (or grid); "
            f"this sweep is {design.kind}"
        )
    mean = table["mean"].to_numpy(dtype=float)
    half = (table["ci_high"] - table["mean"]).to_numpy(dtype=float)
    c = design.coords
    b = c[design.base]
    rows = []
    for j, p in enumerate(design.params):
        others = np.delete(np.arange(c.shape[1]), j)
        on_axis = np.flatnonzero(np.all(c[:, others] == b[others], axis=1))
        lo = on_axis[np.argmin(c[on_axis, j])]
        hi = on_axis[np.argmax(c[on_axis, j])]
        rows.append(
            {
                "parameter": p.path,
                "label": p.name,
                "low": p.value(c[lo, j]),
                "high": p.value(c[hi, j]),
                "base_value": p.value(b[j]),
                "at_low": mean[lo],
                "at_high": mean[hi],
                "at_low_ci": half[lo],
                "at_high_ci": half[hi],
                "base": mean[design.base],
                "base_ci": half[design.base],
                "swing": abs(mean[hi] - mean[lo]),
                # the swing is no larger than the Monte Carlo noise of its two ends
                "within_noise": bool(
                    np.isfinite(half[lo])
                    and np.isfinite(half[hi])
                    and half[lo] + half[hi] > 0
                    and abs(mean[hi] - mean[lo]) <= half[lo] + half[hi]
                ),
            }
        )
    out = pd.DataFrame(rows)
    order = out["swing"].fillna(-1.0).to_numpy()
    return out.iloc[np.argsort(-order, kind="stable")].reset_index(drop=True)
