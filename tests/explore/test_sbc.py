"""Simulation-based calibration: passes on calibrated posteriors, fails on broken ones."""

from __future__ import annotations

import numpy as np
import pytest
from forecast_toys import Gaussian, exact_posterior, gaussian_prior, two_param_prior

from simulator.explore.bank import build_bank
from simulator.explore.sbc import calibrate, run_sbc

K, L = 200, 99


@pytest.fixture(scope="module")
def synthetic() -> tuple[np.ndarray, np.ndarray]:
    """K data sets from the prior predictive of the Gaussian toy."""
    bank = build_bank(gaussian_prior(), Gaussian(), K, seed=11)
    return bank.theta, bank.x


def _exact(shrink: float = 1.0):
    rng = np.random.default_rng(5)

    def fn(x: np.ndarray, k: int) -> np.ndarray:
        mean, sd = exact_posterior(x)
        return (mean + sd / shrink * rng.standard_normal(L))[:, None]

    return fn


def test_exact_posterior_passes(synthetic):
    theta, xs = synthetic
    res = calibrate(_exact(), theta, xs, gaussian_prior(), seed=1)
    assert res.passed, res.messages
    assert res.ranks.shape == (K, 1) and res.ranks.min() >= 0 and res.ranks.max() <= L
    assert res.contraction[0] > 0.85  # 10 observations of sd 1 under an N(0, 1) prior
    hist = res.histogram()
    assert hist["count"].sum() == K and np.isclose(hist["expected"].sum(), K)


def test_posterior_that_ignores_the_data_fails(synthetic):
    theta, xs = synthetic
    rng = np.random.default_rng(6)
    prior_draws = lambda x, k: rng.standard_normal((L, 1))  # noqa: E731 - the prior again
    res = calibrate(prior_draws, theta, xs, gaussian_prior(), seed=1)
    assert res.checks["uniform"]  # SBC's blind spot: the prior is calibrated ...
    assert not res.checks["learns"] and not res.passed  # ... and contraction catches it
    assert "ignores the data" in " ".join(res.messages)


def test_posterior_five_times_too_narrow_fails(synthetic):
    theta, xs = synthetic
    res = calibrate(_exact(shrink=5.0), theta, xs, gaussian_prior(), seed=1)
    assert not res.checks["covers90"] and not res.checks["covers50"]
    assert not res.checks["uniform"] and not res.passed
    assert res.coverage[0.9][0] < 0.5


def test_abc_on_a_bank_is_calibrated_and_learns_only_the_identified_parameter():
    bank = build_bank(two_param_prior(), Gaussian(), 20_000 + K, seed=2)
    res = run_sbc(bank, method="abc", held_out=K, draws=L, seed=3)
    assert res.passed, res.messages
    frame = res.frame().set_index("parameter")
    assert frame.loc["mu", "contraction"] > 0.8
    assert abs(frame.loc["nu", "contraction"]) < 0.1  # unidentified: posterior ≈ prior


@pytest.mark.slow
def test_npe_on_a_bank_is_calibrated():
    bank = build_bank(two_param_prior(), Gaussian(), 5_000 + K, seed=2)
    res = run_sbc(bank, method="npe", held_out=K, draws=L, seed=3)
    assert res.passed, res.messages
    assert res.frame().set_index("parameter").loc["mu", "contraction"] > 0.8
