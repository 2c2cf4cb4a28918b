"""Statistics used across relsim: the one place intervals and test quantiles are computed.

Everything here rests on :mod:`scipy.stats` (a core dependency), so a result does not
depend on which extras are installed:

* :func:`t_quantile` — Student-t quantiles (any degrees of freedom, ``inf`` = normal);
* :func:`interval` — mean, standard deviation, standard error and the two-sided 95 %
  Student-t interval of the finite values of a sample (ensemble KPIs, paired
  differences);
* :func:`half_width` — the 95 % half-width for a standard error and a sample size;
* :func:`normal_quantile` and :func:`bonferroni_k` — normal quantiles and the
  Bonferroni multiplier for ``m`` two-sided tests (regression tolerances);
* :func:`sig` — rounding to significant digits (baselines).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats as _st

__all__ = [
    "CONFIDENCE",
    "bonferroni_k",
    "half_width",
    "interval",
    "normal_quantile",
    "sig",
    "t95",
    "t_quantile",
]

CONFIDENCE = 0.95
"""Level of every interval relsim reports."""


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
    return float(_st.t.ppf(q, df))


def normal_quantile(q: float) -> float:
    """Quantile of the standard normal distribution, ``0 < q < 1``."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    return float(_st.norm.ppf(q))


def t95(n: int) -> float:
    """Two-sided 95 % Student-t multiplier for a mean of ``n`` values (NaN if n < 2)."""
    if n < 2:
        return math.nan
    return t_quantile(0.5 + CONFIDENCE / 2, n - 1)


def half_width(se: float, n: int) -> float:
    """Half-width of the 95 % t-interval of a mean with standard error ``se`` from ``n``
    values (NaN if n < 2)."""
    return t95(n) * se if n > 1 else math.nan


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


def sig(x: float | None, digits: int = 6) -> float | None:
    """Round to ``digits`` significant digits; None for None, NaN or infinity."""
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return 0.0
    return float(f"{x:.{digits}g}")
