"""The statistics every interval and regression tolerance rests on (:mod:`simulator.stats`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.stats import bonferroni_k, half_width, interval, sig, t95, t_quantile

# Student-t quantiles from a printed table (two-sided 95 % and 99 %: q = 0.975, 0.995)
T_TABLE = [
    (0.975, 1, 12.7062),
    (0.975, 2, 4.3027),
    (0.975, 4, 2.7764),
    (0.975, 30, 2.0423),
    (0.975, 120, 1.9799),
    (0.995, 10, 3.1693),
    (0.9995, 5, 6.8688),
]


@pytest.mark.parametrize(("q", "df", "t"), T_TABLE)
def test_t_quantile_matches_the_table(q: float, df: int, t: float) -> None:
    assert t_quantile(q, df) == pytest.approx(t, abs=1e-4)


def test_infinite_degrees_of_freedom_is_the_normal() -> None:
    assert t_quantile(0.975, math.inf) == pytest.approx(1.959964, abs=1e-6)
    assert bonferroni_k(0.01, 1) == pytest.approx(2.575829, abs=1e-6)
    assert bonferroni_k(0.05, 10) == pytest.approx(t_quantile(1 - 0.05 / 20, math.inf))


def test_interval_matches_hand_computation() -> None:
    v = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    st = interval(v)
    sd = math.sqrt(((v[:4] - 2.5) ** 2).sum() / 3)
    assert st["n"] == 4 and st["mean"] == 2.5
    assert st["se"] == pytest.approx(sd / 2)
    assert st["ci_high"] - st["mean"] == pytest.approx(3.182446 * sd / 2, rel=1e-6)
    assert t95(4) == pytest.approx(3.182446, rel=1e-6)


@pytest.mark.parametrize(("n", "t"), [(3, 4.302653), (5, 2.776445)])
def test_small_samples_get_the_exact_t_multiplier(n: int, t: float) -> None:
    """With few replications the interval is the exact Student-t one (an approximation
    such as 1.96 + 2.4/(n − 1) is 27 % too narrow at n = 3 and 8 % at n = 5)."""
    v = np.arange(n, dtype=float) ** 2
    st = interval(v)
    assert st["ci_high"] - st["mean"] == pytest.approx(t * st["se"], rel=1e-6)
    assert half_width(st["se"], n) == pytest.approx(t * st["se"], rel=1e-6)


def test_undefined_cases() -> None:
    assert interval(np.array([np.nan, np.inf]))["n"] == 0
    one = interval(np.array([2.0]))
    assert one["mean"] == 2.0 and math.isnan(one["ci_low"]) and math.isnan(one["se"])
    assert math.isnan(t95(1))
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)
    with pytest.raises(ValueError):
        t_quantile(0.9, 0)


def test_sig_rounds_to_significant_digits() -> None:
    assert sig(123456789.0) == 123457000.0
    assert sig(0.000123456789, 3) == 0.000123
    assert sig(0.0) == 0.0
    assert sig(math.nan) is None and sig(None) is None
