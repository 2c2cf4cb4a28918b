"""Priors of declared parameters: draws, densities and the unbounded space."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulator.explore.priors import ParamPrior, Prior

DECLS = [
    {"path": "authority.reviewers", "low": 600, "high": 900, "integer": True},
    {"path": "a.factor", "low": 0.8, "high": 2.0, "log": True},
    {"path": "b.p", "low": 0.3, "high": 0.8, "distribution": {"kind": "triangular", "mode": 0.55}},
    {
        "path": "c.q",
        "low": 0.0,
        "high": 1.0,
        "distribution": {"kind": "normal", "mean": 0.2, "sd": 0.3},
    },
]


def test_declarations_sample_inside_their_ranges_with_their_shapes():
    prior = Prior.from_declarations(DECLS)
    assert prior.names == [d["path"] for d in DECLS]
    th = prior.sample(np.random.default_rng(0), 20_000)
    assert np.all(th >= [600, 0.8, 0.3, 0.0]) and np.all(th <= [900, 2.0, 0.8, 1.0])
    assert np.array_equal(th[:, 0], np.round(th[:, 0]))
    # each column's draws follow its CDF (KS test)
    for j, p in enumerate(prior.params[1:], start=1):
        assert stats.kstest(th[:, j], p.cdf).pvalue > 1e-3
    assert abs(np.median(np.log(th[:, 1])) - np.log(np.sqrt(0.8 * 2.0))) < 0.02


def test_log_density_integrates_to_one_and_is_minus_infinity_outside():
    for p in Prior.from_declarations(DECLS[1:]).params:
        x = np.linspace(p.low, p.high, 200_001)
        assert abs(np.trapezoid(np.exp(p.logpdf(x)), x) - 1) < 1e-3
        assert p.logpdf(p.high + 1e-6) == -np.inf
    reviewers = Prior.from_declarations(DECLS[:1]).params[0]
    k = np.arange(600, 901)
    assert abs(np.exp(reviewers.logpdf(k)).sum() - 1) < 1e-9
    assert reviewers.logpdf(700.5) == -np.inf


def test_unbounded_space_round_trips_and_is_logistic_under_the_prior():
    prior = Prior.from_declarations(DECLS)
    th = prior.sample(np.random.default_rng(1), 5_000)
    z = prior.to_unbounded(th)
    assert np.all(np.isfinite(z))
    assert np.allclose(prior.from_unbounded(z), th, rtol=1e-9, atol=1e-9)
    for j in (1, 2, 3):
        assert stats.kstest(z[:, j], "logistic").pvalue > 1e-3
    assert np.all(prior.from_unbounded(np.array([[-1e3] * 4, [1e3] * 4])) >= [600, 0.8, 0.3, 0])


def test_bad_declarations_are_refused():
    with pytest.raises(ValueError, match="low < high"):
        ParamPrior("x", 1, 1)
    with pytest.raises(ValueError, match="loguniform"):
        Prior.from_declarations([{"path": "x", "low": 0, "high": 1, "log": True}])
    with pytest.raises(ValueError, match="mode"):
        ParamPrior("x", 0, 1, "triangular", mode=2)
    with pytest.raises(ValueError, match="repeat"):
        Prior((ParamPrior("x", 0, 1), ParamPrior("x", 0, 2)))


def test_prior_from_explore_params():
    from simulator.explore.params import Param

    prior = Prior.from_params(
        [Param("a", 1, 3, kind="int"), Param("b", 0.5, 2, shape="loguniform")]
    )
    assert prior.params[0].integer and prior.params[1].shape == "loguniform"
    assert (
        prior.digest()
        == Prior.from_params(
            [Param("a", 1, 3, kind="int"), Param("b", 0.5, 2, shape="loguniform")]
        ).digest()
    )
