"""Statistics used across relsim: the one place intervals and test quantiles are computed.

Everything here rests on :mod:`scipy.stats` (a core dependency), so a result does not
depend on which extras are installed:

* :func:`t_quantile` — Student-t quantiles (any degrees of freedom, ``inf`` = normal);
* :func:`interval` — mean, standard deviation, standard error and the two-sided 95 %
  Student-t interval of the finite values of a sample (ensemble KPIs, paired
  differences);
* :func:`standard_error` and :func:`half_width` — the standard error of a mean from a
  variance, and the 95 % half-width for a standard error and a sample size (also
  element-wise, for daily series);
* :func:`quantiles`, :func:`median` and :func:`median_se` — sample quantiles (the one
  definition behind the wait KPIs, the bands and the calibration targets), the median
  and its standard error;
* :func:`spread` — the median and the 5–95 % range of a sample across replications
  (headline dates: where outcomes fall, not how well their mean is known);
* :func:`se_of_difference`, :func:`pooled_share_se` and :func:`continuity_correction`
  — standard errors of a difference of two means (Welch) and of two proportions
  (pooled);
* :func:`paired_difference` and :func:`mcnemar_p` — the mean of paired differences
  with its standard error, and the exact McNemar test of paired yes/no outcomes: how
  ``relsim regress`` compares a re-run with its baseline replication by replication
  (common random numbers);
* :func:`normal_quantile`, :func:`bonferroni_k` and :func:`chi2_quantile` — normal
  quantiles, the Bonferroni multiplier for ``m`` two-sided tests (regression
  tolerances) and χ² quantiles (a fit's near-best region); :func:`tarone_count` — how
  many tests Bonferroni must count when some cannot reach significance (discrete
  tests, Tarone 1990);
* :func:`sig` — rounding to significant digits (baselines).

Bounded-memory accumulators of these (running sums over replications) are
:mod:`simulator.ensemble.aggregate`'s; they hand their variances to the functions here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "CONFIDENCE",
    "SPREAD",
    "bonferroni_k",
    "chi2_quantile",
    "continuity_correction",
    "half_width",
    "interval",
    "mcnemar_p",
    "median",
    "median_se",
    "normal_quantile",
    "paired_difference",
    "pooled_share_se",
    "quantiles",
    "se_of_difference",
    "sig",
    "spread",
    "standard_error",
    "t95",
    "t_quantile",
    "tarone_count",
]

CONFIDENCE = 0.95
"""Level of every interval relsim reports."""


def _scipy_stats() -> Any:
    """:mod:`scipy.stats`, imported on first use (this module is imported by light ones:
    a replication's KPIs need only numpy)."""
    from scipy import stats

    return stats


@lru_cache(maxsize=4096)
def t_quantile(q: float, df: float) -> float:
    """Quantile of Student's t distribution.

    Args:
        q: Probability, ``0 < q < 1``.
        df: Degrees of freedom (> 0; ``inf`` gives the normal quantile).

    Returns:
        ``t`` with ``P(T <= t) = q``.

    Raises:
        ValueError: ``q`` outside (0, 1) or ``df`` not positive.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    if not df > 0:
        raise ValueError(f"df must be > 0, got {df}")
    if math.isinf(df):
        return normal_quantile(q)
    return float(_scipy_stats().t.ppf(q, df))


def normal_quantile(q: float) -> float:
    """Quantile of the standard normal distribution, ``0 < q < 1``."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    return float(_scipy_stats().norm.ppf(q))


def t95(n: int) -> float:
    """Two-sided 95 % Student-t multiplier for a mean of ``n`` values (NaN if n < 2)."""
    if n < 2:
        return math.nan
    return t_quantile(0.5 + CONFIDENCE / 2, n - 1)


def chi2_quantile(q: float, df: float) -> float:
    """Quantile of the χ² distribution with ``df`` degrees of freedom, ``0 < q < 1``."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    return float(_scipy_stats().chi2.ppf(q, df))


def standard_error(variance: Any, n: int) -> Any:
    """Standard error of a mean of ``n`` values with sample variance ``variance``:
    ``√(variance / n)``; element-wise for an array of variances (NaN if n < 1)."""
    if n < 1:
        return variance * math.nan if isinstance(variance, np.ndarray) else math.nan
    if isinstance(variance, np.ndarray):
        return np.sqrt(variance / n)
    return math.sqrt(variance / n)


def half_width(se: Any, n: int) -> Any:
    """Half-width of the 95 % t-interval of a mean with standard error ``se`` from ``n``
    values; element-wise for an array of standard errors (NaN if n < 2)."""
    if n > 1:
        return t95(n) * se
    return se * math.nan if isinstance(se, np.ndarray) else math.nan


def interval(values: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation, standard error and 95 % t-interval of the finite values.

    Args:
        values: A sample (NaN and infinite values are ignored).

    Returns:
        ``mean``, ``sd``, ``se``, ``ci_low``, ``ci_high`` (NaN where undefined: no
        values, or spread with a single value) and ``n`` (finite values used).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        nan = math.nan
        return {"mean": nan, "sd": nan, "se": nan, "ci_low": nan, "ci_high": nan, "n": 0}
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    h = half_width(se, n)
    return {"mean": mean, "sd": sd, "se": se, "ci_low": mean - h, "ci_high": mean + h, "n": n}


def quantiles(
    values: Any, qs: Sequence[float], axis: int | None = None, *, skip_nan: bool = False
) -> np.ndarray:
    """Sample quantiles: linear interpolation between order statistics (numpy's default
    method), the one definition of relsim's quantiles — the wait KPIs of a replication,
    the bands over replications, the calibration targets' 5–95 % bands.

    Args:
        values: The sample (an array; along ``axis`` when given).
        qs: Probabilities in [0, 1].
        axis: Axis of the sample (None: every value).
        skip_nan: Ignore NaN values (a slice of NaN only gives NaN, with numpy's
            RuntimeWarning); otherwise a NaN gives NaN.

    Returns:
        One row per probability: shape ``(len(qs),)`` plus the other axes. An empty
        sample is the caller's to handle (numpy raises).
    """
    if skip_nan:
        return np.nanquantile(values, qs, axis=axis)
    return np.quantile(values, qs, axis=axis)


SPREAD = (0.05, 0.95)
"""Probabilities of the range :func:`spread` gives (5–95 % of replications)."""


def spread(values: Any, low: float = SPREAD[0], high: float = SPREAD[1]) -> dict[str, float]:
    """Where a sample's values fall: the median and the ``low``–``high`` quantile range
    of its finite values (for example the days of first shortage across replications),
    with :func:`quantiles`' definition.

    Unlike :func:`interval`, which says how precisely the *mean* is known (and shrinks
    as replications are added), this is the spread of the outcomes themselves.

    Args:
        values: A sample (NaN and infinite values are ignored: e.g. replications in
            which the event did not happen).
        low: Lower probability of the range, in [0, 1].
        high: Upper probability of the range, in [0, 1].

    Returns:
        ``median``, ``low``, ``high`` (NaN when no value is finite) and ``n`` (finite
        values used).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"median": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    q = quantiles(v, (0.5, low, high))
    return {"median": float(q[0]), "low": float(q[1]), "high": float(q[2]), "n": int(v.size)}


def median(values: Any) -> float:
    """The median of a sample (NaN if it is empty); the caller drops values it does not
    count (NaN in, NaN out)."""
    v = np.asarray(values)
    return float(np.median(v)) if v.size else math.nan


def median_se(values: np.ndarray) -> float:
    """Standard error of the median of a sample, from the normal approximation
    ``√(π/2) · sd / √n``; 0 for fewer than 2 values (no spread known: a single value is
    taken as exact)."""
    n = values.size
    if n < 2:
        return 0.0
    return math.sqrt(math.pi / 2) * float(values.std(ddof=1)) / math.sqrt(n)


def se_of_difference(
    se_a: float | None, n_a: int, se_b: float | None, n_b: int
) -> tuple[float | None, float]:
    """Standard error of the difference of two independent means, and its
    Welch–Satterthwaite degrees of freedom.

    Args:
        se_a: Standard error of mean A (None: unknown).
        n_a: Values behind mean A; with fewer than 2, ``se_a`` is not used.
        se_b: Standard error of mean B (None: unknown).
        n_b: Values behind mean B; with fewer than 2, ``se_b`` is not used.

    Returns:
        ``(se, df)``: ``√(se_a² + se_b²)`` and ``ν``; ``(None, inf)`` when neither
        spread is known; when only one is, the other side's spread is estimated from it
        (its standard deviation over the other side's ``n``), with that side's ``n − 1``
        degrees of freedom; ``(0, inf)`` when both are 0.
    """
    sa = se_a if n_a > 1 else None
    sb = se_b if n_b > 1 else None
    if sa is None and sb is None:
        return None, math.inf
    if sa is None or sb is None:
        # One side has a single defined value: estimate its spread from the other.
        s_known, n_known, n_one = (sb, n_b, n_a) if sa is None else (sa, n_a, n_b)
        sd = float(s_known) * math.sqrt(n_known)  # type: ignore[arg-type]
        se2 = float(s_known) ** 2 + (sd / math.sqrt(max(n_one, 1))) ** 2  # type: ignore[arg-type]
        return math.sqrt(se2), float(n_known - 1)
    va, vb = float(sa) ** 2, float(sb) ** 2
    total = va + vb
    if total == 0:
        return 0.0, math.inf
    denom = va * va / (n_a - 1) + vb * vb / (n_b - 1)
    return math.sqrt(total), (total * total / denom if denom > 0 else math.inf)


def paired_difference(a: Any, b: Any) -> dict[str, float]:
    """The mean paired difference ``b − a`` of two samples of the same units (e.g. the
    same replications of a baseline and of a re-run), over the units where both are
    finite.

    Args:
        a: First sample (array-like; NaN where undefined).
        b: Second sample, same length, unit ``i`` paired with ``a[i]``.

    Returns:
        ``mean``, ``sd`` and ``se`` of the differences (``se`` NaN below 2 pairs),
        ``df`` (pairs − 1), ``n`` (pairs used), and the means of ``a`` and ``b`` over
        those pairs (``mean_a``, ``mean_b``).

    Raises:
        ValueError: The samples differ in length.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.shape} vs {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n == 0:
        nan = math.nan
        return {"mean": nan, "sd": nan, "se": nan, "df": nan, "n": 0, "mean_a": nan,
                "mean_b": nan}  # fmt: skip
    d = y[ok] - x[ok]
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    return {
        "mean": float(d.mean()),
        "sd": sd,
        "se": sd / math.sqrt(n) if n > 1 else math.nan,
        "df": float(n - 1),
        "n": n,
        "mean_a": float(x[ok].mean()),
        "mean_b": float(y[ok].mean()),
    }


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar test of paired yes/no outcomes: the probability, if both
    sides were alike, of a split of the discordant pairs at least as uneven as
    ``only_a`` against ``only_b`` (binomial with p = ½). 1 when there is no discordant
    pair.

    Args:
        only_a: Pairs with the outcome on side A only (e.g. replications where a KPI is
            defined in the baseline but not in the re-run).
        only_b: Pairs with the outcome on side B only.
    """
    n = int(only_a) + int(only_b)
    if n == 0:
        return 1.0
    return float(_scipy_stats().binomtest(int(only_a), n, 0.5).pvalue)


def pooled_share_se(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """Pooled standard error of the difference of two proportions ``k_a/n_a`` and
    ``k_b/n_b``: ``√(p̄(1 − p̄)(1/n_a + 1/n_b))`` with ``p̄ = (k_a + k_b)/(n_a + n_b)``
    (a sample size below 1 counts as 1)."""
    pbar = (k_a + k_b) / max(n_a + n_b, 1)
    inv = 1.0 / max(n_a, 1) + 1.0 / max(n_b, 1)
    return math.sqrt(max(pbar * (1 - pbar), 0.0) * inv)


def continuity_correction(n_a: int, n_b: int) -> float:
    """Continuity correction of a two-proportion test: ``½(1/n_a + 1/n_b)`` (a sample
    size below 1 counts as 1)."""
    return 0.5 * (1.0 / max(n_a, 1) + 1.0 / max(n_b, 1))


def bonferroni_k(alpha: float, m: int, df: float = math.inf) -> float:
    """Multiplier for ``m`` two-sided tests at family-wise level ``alpha`` (Bonferroni):
    the ``1 − α/(2m)`` quantile of Student's t with ``df`` degrees of freedom (normal
    for ``df = inf``).

    Args:
        alpha: Family-wise false-alarm rate, ``0 < alpha < 1``.
        m: Number of tests (at least 1 is assumed).
        df: Degrees of freedom.
    """
    return t_quantile(1.0 - alpha / (2.0 * max(m, 1)), df)


def tarone_count(min_p: Sequence[float], alpha: float) -> int:
    """Tarone's refinement of Bonferroni: the number ``K`` of tests to divide ``alpha``
    by when some tests cannot reach significance (a discrete test's smallest possible
    p-value, e.g. McNemar's with few discordant pairs, may exceed ``alpha/K``): the
    smallest ``K`` such that at most ``K`` tests have a smallest possible p-value below
    ``alpha/K``. Testing those at ``alpha/K`` keeps the family-wise false-alarm rate at
    most ``alpha``; the others cannot reject.

    Args:
        min_p: Each test's smallest attainable p-value (0 for a continuous test).
        alpha: Family-wise level, ``0 < alpha < 1``.

    Returns:
        ``K`` (at least 1; 1 for no tests).
    """
    if not min_p:
        return 1
    for k in range(1, len(min_p) + 1):
        if sum(p < alpha / k for p in min_p) <= k:
            return k
    return len(min_p)  # pragma: no cover - the loop returns by k = len(min_p)


def sig(x: float | None, digits: int = 6) -> float | None:
    """Round to ``digits`` significant digits; None for None, NaN or infinity."""
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return 0.0
    return float(f"{x:.{digits}g}")
