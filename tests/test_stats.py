"""The statistics every interval, band, fit and regression tolerance rests on
(:mod:`simulator.stats`), and the rule that nothing else computes them."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from simulator.stats import (
    bonferroni_k,
    chi2_quantile,
    continuity_correction,
    half_width,
    interval,
    mcnemar_p,
    median,
    median_se,
    normal_quantile,
    paired_difference,
    pooled_share_se,
    quantiles,
    se_of_difference,
    sig,
    spread,
    standard_error,
    t95,
    t_quantile,
    tarone_count,
)

ROOT = Path(__file__).resolve().parents[1]

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


def test_standard_error_and_half_width_of_scalars_and_series() -> None:
    assert standard_error(4.0, 16) == 0.5
    assert math.isnan(standard_error(4.0, 0))
    var = np.array([4.0, 9.0, 0.0])
    se = standard_error(var, 4)
    assert se.tolist() == [1.0, 1.5, 0.0]
    assert half_width(se, 4) == pytest.approx(3.182446 * se, rel=1e-6)
    assert np.isnan(half_width(se, 1)).all() and half_width(se, 1).shape == (3,)
    assert math.isnan(half_width(1.0, 1))


def test_quantiles_interpolate_linearly_and_may_skip_nan() -> None:
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert quantiles(v, (0.0, 0.5, 0.9, 1.0)).tolist() == pytest.approx([1.0, 2.5, 3.7, 4.0])
    m = np.array([[1.0, np.nan], [3.0, 5.0], [5.0, 7.0]])
    q = quantiles(m, (0.5,), axis=0, skip_nan=True)
    assert q.shape == (1, 2) and q[0].tolist() == [3.0, 6.0]
    assert np.isnan(quantiles(m, (0.5,), axis=0)[0, 1])


def test_spread_is_where_outcomes_fall_not_how_well_the_mean_is_known() -> None:
    v = np.array([*range(1, 101), np.nan, np.inf])  # 1..100; undefined values ignored
    sp = spread(v)
    assert sp["n"] == 100 and sp["median"] == 50.5
    assert sp["low"] == pytest.approx(5.95) and sp["high"] == pytest.approx(95.05)
    # the range stays put as replications are added; the mean's interval shrinks
    more = np.tile(v[:100], 10)
    assert spread(more)["high"] - spread(more)["low"] == pytest.approx(89.1, abs=0.1)
    assert interval(more)["ci_high"] - interval(more)["ci_low"] < 4
    empty = spread(np.array([np.nan]))
    assert empty["n"] == 0 and math.isnan(empty["median"])


def test_median_and_its_standard_error() -> None:
    assert median(np.array([3.0, 1.0, 2.0, 10.0])) == 2.5
    assert math.isnan(median(np.array([])))
    v = np.array([1.0, 2.0, 3.0, 4.0])
    sd = float(np.std(v, ddof=1))
    assert median_se(v) == pytest.approx(math.sqrt(math.pi / 2) * sd / 2)
    assert median_se(np.array([5.0])) == 0.0


def test_welch_standard_error_of_a_difference() -> None:
    se, df = se_of_difference(0.3, 10, 0.4, 5)
    assert se == pytest.approx(0.5)
    # Welch-Satterthwaite: (va + vb)^2 / (va^2/(na-1) + vb^2/(nb-1))
    assert df == pytest.approx(0.25**2 / (0.09**2 / 9 + 0.16**2 / 4))
    assert se_of_difference(None, 10, 0.2, 1) == (None, math.inf)  # no spread known
    assert se_of_difference(0.0, 5, 0.0, 5) == (0.0, math.inf)
    # one side with a single value: its spread estimated from the other side's
    se, df = se_of_difference(0.1, 9, 7.0, 1)
    assert se == pytest.approx(math.sqrt(0.01 + (0.1 * 3) ** 2)) and df == 8.0


def test_paired_difference_over_units_both_define() -> None:
    a = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    b = np.array([2.0, 2.5, 5.0, 1.0, np.nan])
    st = paired_difference(a, b)
    d = np.array([1.0, 0.5, 2.0])
    assert st["n"] == 3 and st["df"] == 2 and st["mean"] == pytest.approx(d.mean())
    assert st["se"] == pytest.approx(d.std(ddof=1) / math.sqrt(3))
    assert (st["mean_a"], st["mean_b"]) == (2.0, pytest.approx(9.5 / 3))
    assert paired_difference(a, a)["se"] == 0.0  # the same units: no spread at all
    assert paired_difference([np.nan], [1.0])["n"] == 0
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 2.0])


def test_mcnemar_exact_p_values() -> None:
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(0, 5) == pytest.approx(2 * 0.5**5)
    assert mcnemar_p(9, 1) == pytest.approx(22 / 1024)  # 2·(1 + 10)/2¹⁰
    assert mcnemar_p(3, 3) == 1.0


def test_tarone_counts_only_tests_that_could_reject() -> None:
    assert tarone_count([], 0.01) == 1
    assert tarone_count([0.0] * 5, 0.05) == 5  # continuous tests all count
    # three discrete tests that can never reach 0.05/K do not count: K = 2
    assert tarone_count([0.0, 0.0, 0.5, 0.5, 0.5], 0.05) == 2
    # K = 1 would let three through (p_min < 0.05): not enough; K = 3 lets two
    assert tarone_count([0.001, 0.001, 0.03], 0.05) == 2


def test_two_proportion_standard_error_and_continuity_correction() -> None:
    pbar = (8 + 4) / 20
    assert pooled_share_se(8, 10, 4, 10) == pytest.approx(math.sqrt(pbar * (1 - pbar) * 0.2))
    assert pooled_share_se(0, 10, 0, 10) == 0.0
    assert continuity_correction(10, 40) == pytest.approx(0.5 * (0.1 + 0.025))
    assert continuity_correction(0, 0) == 1.0  # sizes below 1 count as 1


def test_normal_and_chi2_quantiles() -> None:
    assert normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert chi2_quantile(0.95, 1) == pytest.approx(3.841459, abs=1e-6)
    assert chi2_quantile(0.95, 3) == pytest.approx(7.814728, abs=1e-6)
    with pytest.raises(ValueError):
        chi2_quantile(1.0, 2)


#: Calls that compute a statistic: only simulator/stats.py may make them.
STATISTICS = re.compile(
    r"np\.(median|nanmedian|quantile|nanquantile|percentile|nanpercentile|std|var)\("
    r"|\.std\(|\.ppf\(|from scipy import stats|scipy\.stats|t95\("
)
#: Modules that may: the distributions a sweep's design samples parameters from (inverse
#: CDFs of a parameter's distribution, not statistics of results), and a sensitivity
#: analysis's test for a constant output.
ALLOWED = {
    "simulator/explore/params.py": "scipy.stats distributions of swept parameters",
    "simulator/explore/design.py": "a parameter's inverse CDF (params.Param.ppf)",
    "simulator/explore/sensitivity.py": "np.var(y) == 0: a constant output has no indices",
    # the forecasting modules (issue 23) work on posterior and predictive *draws*, not on
    # the replications' KPIs whose intervals stats.py owns: quantiles of draws, a prior's
    # inverse CDF, the rank-uniformity test of simulation-based calibration, PIT, and the
    # standardisation of summaries before an ABC regression
    "simulator/explore/priors.py": "prior distributions' inverse CDFs and moments (scipy.stats)",
    "simulator/explore/inference.py": "median/MAD standardisation of summaries (ABC regression)",
    "simulator/explore/sbc.py": "rank-uniformity chi-square test and posterior-draw quantiles",
    "simulator/explore/scoring.py": "quantiles of an ensemble's members (coverage, PIT, bands)",
    "simulator/explore/forecast_io.py": "posterior draws' standard deviation per parameter",
    "simulator/report/forecast_page.py": "binomial band of a rank histogram's bins (figure)",
}


def test_statistics_only_through_stats() -> None:
    """Intervals, standard errors, medians and quantiles are computed in stats.py only
    (docs/architecture.md: "Statistics only through stats.py")."""
    found = []
    for p in sorted((ROOT / "simulator").rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        if rel == "simulator/stats.py" or rel in ALLOWED:
            continue
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if STATISTICS.search(line.split("#")[0]):
                found.append(f"{rel}:{i}: {line.strip()}")
    assert not found, "statistics outside simulator/stats.py:\n" + "\n".join(found)
