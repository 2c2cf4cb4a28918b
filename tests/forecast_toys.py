"""Toy simulators with known posteriors, for the forecast machinery's tests
(``simulator.explore.bank``, ``inference``, ``sbc``).

Each is a picklable callable ``simulate(theta, index, seed) -> summaries`` that draws its
randomness from ``SeedSequence(seed, spawn_key=(index,))``, as a relsim replication does.
"""

from __future__ import annotations

import math
import os

import numpy as np

from simulator.explore.priors import ParamPrior, Prior

N_OBS = 10
"""Observations per toy data set (the summaries)."""
PRIOR_MEAN, PRIOR_SD = 0.0, 1.0
"""Normal prior of the Gaussian mean (truncated at ±8 sd: no visible truncation)."""


def gaussian_prior() -> Prior:
    """Prior of the one-parameter Gaussian toy: ``mu ~ N(0, 1)``."""
    return Prior((ParamPrior("mu", -8.0, 8.0, "normal", mean=PRIOR_MEAN, sd=PRIOR_SD),))


def two_param_prior() -> Prior:
    """Prior of the two-parameter toy: ``mu ~ N(0, 1)``, ``nu ~ U(0, 1)`` (unidentified)."""
    return Prior((*gaussian_prior().params, ParamPrior("nu", 0.0, 1.0)))


class Gaussian:
    """``N_OBS`` draws of ``N(theta[0], sigma²)``; further parameters do nothing."""

    def __init__(self, sigma: float = 1.0) -> None:
        self.sigma = sigma

    def __call__(self, theta: np.ndarray, index: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
        return theta[0] + self.sigma * rng.standard_normal(N_OBS)


class FailAt(Gaussian):
    """The Gaussian toy, but raises at simulation ``at`` (an interrupted bank) unless the
    file ``allow`` exists."""

    def __init__(self, at: int, allow: str) -> None:
        super().__init__()
        self.at, self.allow = at, allow

    def __call__(self, theta: np.ndarray, index: int, seed: int) -> np.ndarray:
        if index == self.at and not os.path.exists(self.allow):
            raise KeyboardInterrupt("simulated interruption")
        return super().__call__(theta, index, seed)


def exact_posterior(
    observed: np.ndarray, sigma: float = 1.0, noise_sd: float = 0.0
) -> tuple[float, float]:
    """Conjugate posterior (mean, sd) of ``mu`` from observations of ``N(mu, sigma²)`` seen
    with extra noise ``noise_sd`` each, under the ``N(PRIOR_MEAN, PRIOR_SD²)`` prior."""
    var = sigma**2 + noise_sd**2
    precision = 1 / PRIOR_SD**2 + len(observed) / var
    mean = (PRIOR_MEAN / PRIOR_SD**2 + float(np.sum(observed)) / var) / precision
    return mean, math.sqrt(1 / precision)
