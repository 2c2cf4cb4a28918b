"""Inference from a bank on toys with known posteriors.

Tolerances: the conjugate Gaussian posterior's mean within 0.15 posterior sd and its sd
within 10 % (ABC: ~270 effective draws, so about 2.5 Monte Carlo standard errors of the
mean), 0.25 sd and 15 % for NPE trained on 5,000 simulations (its approximation error);
an unidentified parameter's posterior keeps the prior's mean within 0.05 and sd within
15 % (uniform prior on [0, 1]: mean 0.5, sd 0.289).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp

import numpy as np
import pytest
from forecast_toys import N_OBS, Gaussian, exact_posterior, two_param_prior

from simulator.explore.bank import build_bank
from simulator.explore.inference import Noise, infer, predictive, train

OBSERVED = np.array([0.9, 0.5, 1.2, 0.3, 0.8, 1.1, np.nan, np.nan, np.nan, np.nan])
MASK = np.isfinite(OBSERVED)  # the first 6 of 10 summaries are public


@pytest.fixture(scope="module")
def bank():
    return build_bank(two_param_prior(), Gaussian(), 20_000, seed=3)


def _check(post, mean, sd, tol_mean, tol_sd):
    assert abs(post.mean()[0] - mean) < tol_mean * sd, (post.mean(), mean, sd)
    assert abs(post.sd()[0] / sd - 1) < tol_sd, (post.sd(), sd)
    assert abs(post.mean()[1] - 0.5) < 0.05
    assert abs(post.sd()[1] / np.sqrt(1 / 12) - 1) < 0.15


def test_abc_matches_the_conjugate_posterior_on_the_observed_subset(bank):
    post = infer(bank, OBSERVED, MASK, method="abc", seed=1)
    mean, sd = exact_posterior(OBSERVED[MASK])
    _check(post, mean, sd, 0.15, 0.10)
    assert post.weights is not None and np.isclose(post.weights.sum(), 1)
    assert post.info["accepted"] == 400 and post.info["dropped"] == 0
    frame = post.frame().set_index("parameter")
    assert frame.loc["mu", "q05"] < mean < frame.loc["mu", "q95"]


def test_abc_with_observation_noise_matches_the_noisy_conjugate_posterior(bank):
    post = infer(bank, OBSERVED, MASK, method="abc", noise=Noise(absolute=1.0), seed=1)
    mean, sd = exact_posterior(OBSERVED[MASK], noise_sd=1.0)
    _check(post, mean, sd, 0.15, 0.10)
    assert post.sd()[0] > exact_posterior(OBSERVED[MASK])[1] * 1.2  # wider than without


def test_more_observations_give_a_narrower_posterior(bank):
    full = np.array([0.9, 0.5, 1.2, 0.3, 0.8, 1.1, 0.7, 0.4, 1.0, 0.6])
    post = infer(bank, full, None, method="abc", seed=1)
    mean, sd = exact_posterior(full)
    _check(post, mean, sd, 0.15, 0.10)


def test_inference_is_deterministic_for_a_seed(bank):
    a = infer(bank, OBSERVED, MASK, method="abc", noise=Noise(relative=0.1), seed=4)
    b = infer(bank, OBSERVED[MASK], MASK, method="abc", noise=Noise(relative=0.1), seed=4)
    c = infer(bank, OBSERVED, MASK, method="abc", noise=Noise(relative=0.1), seed=5)
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.theta, c.theta)
    assert np.array_equal(a.draws(50, seed=1), b.draws(50, seed=1))


def test_bad_observations_are_refused(bank):
    with pytest.raises(ValueError, match="observed values"):
        infer(bank, OBSERVED[:3], MASK, method="abc")
    with pytest.raises(ValueError, match="not finite"):
        infer(bank, np.full(N_OBS, np.nan), MASK, method="abc")
    with pytest.raises(ValueError, match="no summary"):
        infer(bank, OBSERVED, np.zeros(N_OBS, bool), method="abc")
    with pytest.raises(ValueError, match="unknown method"):
        infer(bank, OBSERVED, MASK, method="mcmc")


def test_posterior_predictive_of_the_months_not_yet_seen(bank):
    post = infer(bank, OBSERVED, MASK, method="abc", seed=1)
    theta, x = predictive(post, Gaussian(), seed=2, draws=4_000)
    mean, sd = exact_posterior(OBSERVED[MASK])
    future = x[:, ~MASK]  # each unseen summary ~ N(mean, sd² + 1)
    assert abs(future.mean() - mean) < 0.1
    assert abs(future.std() / np.sqrt(sd**2 + 1) - 1) < 0.05
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
        theta2, x2 = predictive(post, Gaussian(), seed=2, draws=4_000, executor=pool, chunk=500)
    assert np.array_equal(theta, theta2) and np.array_equal(x, x2)
    # seeds apart from the bank's: the first predictive draw is not the bank's first row
    assert not np.array_equal(x[0], bank.x[0])


def test_abc_estimator_is_reused_across_observations(bank):
    est = train(bank, MASK, method="abc", seed=1)
    for obs in (OBSERVED, OBSERVED - 1.0):
        mean, sd = exact_posterior(obs[MASK])
        _check(est.posterior(obs), mean, sd, 0.15, 0.10)


@pytest.mark.slow
def test_npe_matches_the_conjugate_posterior_and_is_deterministic(bank):
    small = bank.subset(slice(0, 5_000))
    est = train(small, MASK, method="npe", seed=1)
    for obs in (OBSERVED, OBSERVED - 1.0):  # amortized: one training, two observations
        post = est.posterior(obs, draws=4_000, seed=2)
        mean, sd = exact_posterior(obs[MASK])
        _check(post, mean, sd, 0.25, 0.15)
        assert post.weights is None and post.theta.shape == (4_000, 2)
    again = train(small, MASK, method="npe", seed=1).posterior(OBSERVED, draws=4_000, seed=2)
    assert np.array_equal(again.theta, est.posterior(OBSERVED, draws=4_000, seed=2).theta)
