"""Scoring forecasts against what happened: CRPS, interval coverage, PIT, naive baselines.

Every forecast here is an **ensemble**: draws of the predictive distribution of one
value (a series at one horizon from one origin). The scores:

* **CRPS** (continuous ranked probability score, unit of the series; lower is better)
  with the *fair* estimator (Ferro 2014): unbiased for the CRPS of the distribution the
  members were drawn from, so a 9-member baseline and a 1,000-draw forecast are scored
  alike (the plain estimator penalises small ensembles). It is the number
  ``scoringrules.crps_ensemble(obs, draws, estimator="fair")`` gives (checked by the
  tests), computed here from the sorted members: scoringrules compiles its numba
  functions on import (~6.5 s per process here) and its numpy backend builds an
  ``M × M`` matrix per forecast. For a normal predictive it tends to the closed form
  ``σ [z (2Φ(z) − 1) + 2φ(z) − 1/√π]`` (:func:`crps_normal`).
* **Coverage**: whether the observation lies in the central 50 % and 90 % intervals (the
  ensemble's 25–75 % and 5–95 % quantiles); over many forecasts, calibrated ones cover
  50 % and 90 %.
* **PIT** (probability integral transform): the share of members below the observation
  (ties count half); uniform on [0, 1] for calibrated forecasts; :func:`pit_histogram`.

**Naive baselines**, as ensembles so they get a CRPS too (``history``: the monthly
values up to and including the origin; missing months NaN):

* :func:`persistence` — *last value*: the last observed value carried forward, with the
  history's own ``h``-month changes as its uncertainty: members
  ``y_T · y_{t+h} / y_t`` over every pair of months ``t, t + h`` in the history (log
  changes; differences ``y_T + y_{t+h} − y_t`` when a value is ≤ 0). With fewer than
  :data:`MIN_MEMBERS` such pairs, one-month changes scaled by ``√h`` (a random walk).
* :func:`seasonal` — *same month a year earlier scaled by the year's trend*: point
  ``y_{T+h−12} · trend``, ``trend = Σ y_{T−k+1..T} / Σ y_{T−k+1−12..T−12}`` over the last
  ``k ≤ 12`` months that have a value a year earlier; its uncertainty is the log errors of
  the same construction backcast at every earlier origin of the history; with fewer
  than :data:`MIN_MEMBERS` of those, the persistence spread (its log changes) around the
  point.

:func:`score_table` makes the tidy table, one row per (origin, series, horizon, forecast),
and :func:`aggregate` the summary per series and forecast (coverage, mean CRPS, skill
against a baseline).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "LEVELS",
    "MIN_MEMBERS",
    "aggregate",
    "coverage",
    "crps",
    "crps_normal",
    "persistence",
    "pit",
    "pit_histogram",
    "score_table",
    "seasonal",
]

LEVELS = (0.5, 0.9)
"""Central interval levels scored."""
MIN_MEMBERS = 3
"""Fewest empirical changes or errors a baseline's spread is built from."""


# ----------------------------------------------------------------------------- scores
def _crps_fair(obs: np.ndarray, fct: np.ndarray) -> np.ndarray:
    """Fair CRPS of ensembles ``… × M`` (finite members) at observations ``…``."""
    m = fct.shape[-1]
    x = np.sort(fct, axis=-1)
    first = np.mean(np.abs(x - obs[..., None]), axis=-1)
    # Σ_i Σ_j |x_i − x_j| = 2 Σ_i (2i − M − 1) x_(i) over the sorted members (i = 1 … M)
    pairs = 2 * np.sum((2 * np.arange(1, m + 1) - m - 1) * x, axis=-1)
    return first - pairs / (2 * m * (m - 1))


def crps(observed: np.ndarray | float, draws: np.ndarray) -> np.ndarray:
    """CRPS of ensemble forecasts (fair estimator; unit of the values).

    The same number as ``scoringrules.crps_ensemble(..., estimator="fair")`` (the tests
    check it), computed from the sorted members in O(M log M) time and O(M) memory.

    Args:
        observed: Observations, shape ``S`` (or a scalar).
        draws: Ensembles, shape ``S × M`` (members on the last axis; NaN members dropped;
            fewer than 2 members left gives NaN).

    Returns:
        CRPS per forecast, shape ``S``.
    """
    obs = np.asarray(observed, dtype=float)
    fct = np.asarray(draws, dtype=float)
    if fct.shape[:-1] != obs.shape:
        raise ValueError(f"draws {fct.shape} do not match observations {obs.shape}")
    if np.all(np.isfinite(fct)):
        return _crps_fair(obs, fct) if fct.shape[-1] > 1 else np.full(obs.shape, np.nan)
    flat_o, flat_f = obs.reshape(-1), fct.reshape(-1, fct.shape[-1])
    out = np.array(
        [
            float(_crps_fair(np.asarray(o), f[np.isfinite(f)]))
            if np.isfinite(f).sum() > 1
            else np.nan
            for o, f in zip(flat_o, flat_f, strict=True)
        ]
    )
    return out.reshape(obs.shape)


def crps_normal(observed: np.ndarray | float, mu: float, sigma: float) -> np.ndarray:
    """Closed-form CRPS of a normal forecast ``N(mu, sigma²)``."""
    z = (np.asarray(observed, dtype=float) - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / np.sqrt(np.pi))


def coverage(observed: np.ndarray | float, draws: np.ndarray, level: float) -> np.ndarray:
    """Whether each observation lies in its ensemble's central ``level`` interval (the
    ``(1 − level)/2`` and ``(1 + level)/2`` quantiles, inclusive)."""
    obs = np.asarray(observed, dtype=float)
    lo, hi = np.nanquantile(np.asarray(draws, dtype=float), [(1 - level) / 2, (1 + level) / 2], -1)
    return (obs >= lo) & (obs <= hi)


def pit(observed: np.ndarray | float, draws: np.ndarray) -> np.ndarray:
    """Probability integral transform: share of members below the observation, ties
    counting half (NaN members dropped)."""
    obs = np.asarray(observed, dtype=float)[..., None]
    fct = np.asarray(draws, dtype=float)
    valid = np.isfinite(fct)
    below = np.sum((fct < obs) & valid, axis=-1)
    ties = np.sum((fct == obs) & valid, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (below + 0.5 * ties) / valid.sum(axis=-1)


def pit_histogram(values: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """PIT histogram table: ``bin_low``, ``bin_high``, ``count``, ``share``, ``expected``
    (the share if calibrated), and the chi-square test of uniformity in ``attrs``
    (``chi2``, ``p_value``)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.histogram(np.clip(v, 0.0, 1.0), bins=edges)[0]
    out = pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "count": counts,
            "share": counts / max(len(v), 1),
            "expected": 1.0 / bins,
        }
    )
    if len(v):
        chi2, p = stats.chisquare(counts)
        out.attrs.update(chi2=float(chi2), p_value=float(p), n=len(v))
    return out


# ----------------------------------------------------------------------------- baselines
def _changes(history: np.ndarray, h: int, log: bool) -> np.ndarray:
    """Every ``h``-month change in the history (log ratios or differences)."""
    a, b = history[:-h], history[h:]
    ok = np.isfinite(a) & np.isfinite(b)
    if log:
        return np.log(b[ok] / a[ok])
    return b[ok] - a[ok]


def _last(history: np.ndarray) -> float:
    ok = np.flatnonzero(np.isfinite(history))
    if not ok.size:
        raise ValueError("the history has no value")
    return float(history[ok[-1]])


def _spread(history: np.ndarray, h: int, log: bool) -> np.ndarray:
    """The persistence members' changes for horizon ``h`` (see module)."""
    ch = _changes(history, h, log) if len(history) > h else np.empty(0)
    if ch.size < MIN_MEMBERS:
        one = _changes(history, 1, log) if len(history) > 1 else np.empty(0)
        if one.size == 0:
            return np.zeros(1)
        ch = one * np.sqrt(h)
    return ch


def persistence(history: Sequence[float] | np.ndarray, horizon: int) -> np.ndarray:
    """The *last value* baseline's ensemble for ``horizon`` months ahead (see module).

    Args:
        history: Monthly values up to and including the origin (NaN: missing).
        horizon: Months ahead, ≥ 1.

    Returns:
        Members (unit of the series).
    """
    y = np.asarray(history, dtype=float)
    last = _last(y)
    log = bool(np.all(y[np.isfinite(y)] > 0))
    ch = _spread(y, horizon, log)
    return last * np.exp(ch) if log else last + ch


def _seasonal_point(y: np.ndarray, horizon: int) -> float:
    """``y_{T+h−12} · trend`` for the history ``y`` ending at the origin ``T`` (NaN when
    the month a year earlier or the trend is missing)."""
    t = len(y) - 1
    ref = t + horizon - 12
    if ref < 0 or ref > t or not np.isfinite(y[ref]):
        return np.nan
    now, before = [], []
    for s in range(t, max(t - 12, 11), -1):  # the last ≤ 12 months with a year-earlier value
        if np.isfinite(y[s]) and np.isfinite(y[s - 12]):
            now.append(y[s])
            before.append(y[s - 12])
    if not now or sum(before) <= 0:
        return np.nan
    return float(y[ref] * sum(now) / sum(before))


def seasonal(history: Sequence[float] | np.ndarray, horizon: int) -> np.ndarray:
    """The *same month a year earlier, scaled by the year's trend* baseline's ensemble
    (see module). Needs the month ``12 − horizon`` before the origin and at least one month
    with a value a year earlier; otherwise all members are NaN.

    Args:
        history: Monthly values up to and including the origin (NaN: missing).
        horizon: Months ahead, 1 to 12.

    Returns:
        Members (unit of the series).
    """
    if not 1 <= horizon <= 12:
        raise ValueError("the seasonal baseline forecasts 1 to 12 months ahead")
    y = np.asarray(history, dtype=float)
    point = _seasonal_point(y, horizon)
    if not np.isfinite(point):
        return np.full(1, np.nan)
    errors = []
    for t in range(len(y) - horizon):  # earlier origins whose target month is in the history
        p = _seasonal_point(y[: t + 1], horizon)
        obs = y[t + horizon]
        if np.isfinite(p) and p > 0 and np.isfinite(obs) and obs > 0:
            errors.append(np.log(obs / p))
    if len(errors) < MIN_MEMBERS:
        positive = bool(np.all(y[np.isfinite(y)] > 0))
        ch = _spread(y, horizon, positive)
        return point * np.exp(ch) if positive and point > 0 else point + ch * abs(point)
    return point * np.exp(np.asarray(errors))


# ----------------------------------------------------------------------------- tables
def score_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Score forecasts, one row each.

    Args:
        records: Mappings with ``origin``, ``series``, ``horizon``, ``forecast`` (its
            name: ``model``, ``persistence``, …), ``observed`` and ``draws`` (the
            ensemble); other keys are kept as columns.

    Returns:
        One row per record: the keys (without ``draws``), ``members``, ``mean``,
        ``median``, ``q05``, ``q25``, ``q75``, ``q95``, ``crps``, ``in50``, ``in90``,
        ``pit`` (NaN scores where the observation or the ensemble is missing).
    """
    rows = []
    for rec in records:
        d = np.asarray(rec["draws"], dtype=float).ravel()
        d = d[np.isfinite(d)]
        obs = float(rec["observed"])
        row = {k: v for k, v in rec.items() if k != "draws"}
        row["members"] = int(d.size)
        ok = d.size > 0 and np.isfinite(obs)
        if d.size:
            q = np.quantile(d, [0.05, 0.25, 0.5, 0.75, 0.95])
            row.update(mean=float(d.mean()), median=q[2], q05=q[0], q25=q[1], q75=q[3], q95=q[4])
        else:
            row.update({k: np.nan for k in ("mean", "median", "q05", "q25", "q75", "q95")})
        row["crps"] = float(crps(obs, d)) if ok and d.size > 1 else np.nan
        for level in LEVELS:
            row[f"in{round(level * 100)}"] = bool(coverage(obs, d, level)) if ok else np.nan
        row["pit"] = float(pit(obs, d)) if ok else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate(
    table: pd.DataFrame,
    by: Sequence[str] = ("series", "forecast"),
    baseline: str | None = "persistence",
) -> pd.DataFrame:
    """Scores summarised per group: ``n`` (scored forecasts), ``coverage50``,
    ``coverage90``, ``crps`` (mean), and ``crps_skill`` = 1 − CRPS / the baseline's CRPS on
    the same (origin, series, horizon) cells (when ``baseline`` is a forecast of the
    table; > 0: better than the baseline)."""
    scored = table[np.isfinite(table["crps"].astype(float))]
    out = (
        scored.groupby(list(by), sort=True)
        .agg(
            n=("crps", "size"),
            coverage50=("in50", "mean"),
            coverage90=("in90", "mean"),
            crps=("crps", "mean"),
        )
        .reset_index()
    )
    if baseline is not None and "forecast" in by and baseline in set(table["forecast"]):
        cell = ["origin", "series", "horizon"]
        base = scored[scored["forecast"] == baseline].set_index(cell)["crps"]
        skills = []
        for _, r in out.iterrows():
            mine = scored[
                (scored["forecast"] == r["forecast"])
                & np.all([scored[k] == r[k] for k in by if k != "forecast"], axis=0)
            ].set_index(cell)["crps"]
            common = mine.index.intersection(base.index)
            b = float(base.loc[common].mean()) if len(common) else np.nan
            skills.append(1 - float(mine.loc[common].mean()) / b if b and b > 0 else np.nan)
        out["crps_skill"] = skills
    return out
