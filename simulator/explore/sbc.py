"""Simulation-based calibration: does the inference recover parameters it simulated from?

For ``K`` synthetic data sets drawn from the prior predictive (parameters ``θ_k`` from
the prior, summaries ``x_k`` simulated at them: rows of a bank held out from training),
the inference gives ``L`` posterior draws from ``x_k``; the *rank* of ``θ_k`` among them
(how many draws fall below it, ties broken at random) is uniform on ``0 … L`` for every
parameter when the posterior is right on average over the prior (Talts et al. 2018).

:class:`SBCResult` holds the ranks and four checks, each a pass/fail with its number:

``uniform``
    Chi-square test of each parameter's rank histogram against uniform (``bins`` bins,
    expected counts exact for ``L + 1`` rank values); fails if the smallest p-value is
    below ``alpha / dim`` (Bonferroni). A Kolmogorov–Smirnov p-value on the jittered
    normalised ranks is reported beside it.
``learns``
    Posterior contraction ``1 − E[posterior variance] / prior variance`` per parameter;
    fails if no parameter contracts by at least ``min_contraction``: a posterior that
    ignores the data (the prior again) has uniform ranks and passes ``uniform``, so this
    is the check that catches it. An unidentified parameter keeps contraction ≈ 0
    (listed in ``frame()``), which is right, not a failure, as long as another one learns.
``covers50`` / ``covers90``
    Share of ``θ_k`` inside the central 50 % and 90 % posterior intervals per parameter;
    fails if any is below nominal by more than :data:`COVERAGE_Z` binomial standard errors
    (over-confident posteriors: too narrow, ranks piled at the ends).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simulator.explore.bank import Bank
from simulator.explore.inference import Noise, train
from simulator.explore.priors import Prior

__all__ = ["COVERAGE_Z", "SBC_KEY", "PosteriorFn", "SBCResult", "calibrate", "run_sbc"]

PosteriorFn = Callable[[np.ndarray, int], np.ndarray]
"""``posterior_fn(x_k, k) -> draws``: ``L × dim`` equally weighted posterior draws for
synthetic data set ``k``."""
SBC_KEY = zlib.crc32(b"relsim.explore.sbc")
"""Second entropy word of the calibration's seeds (rank ties, noise on the data sets)."""
COVERAGE_Z = 3.0
"""A coverage this many binomial standard errors below nominal fails."""
ALPHA = 0.01
"""Family-wise level of the uniformity test."""
MIN_CONTRACTION = 0.1
"""Smallest posterior contraction of the best-learnt parameter."""


@dataclass
class SBCResult:
    """The outcome of simulation-based calibration.

    Attributes:
        names: Parameter names.
        ranks: Rank of each true parameter among its posterior draws, ``K × dim``, in
            ``0 … draws``.
        draws: Posterior draws per data set (``L``).
        contraction: ``1 − mean posterior variance / prior variance``, per parameter.
        coverage: Level → share of true values inside the central interval, per parameter.
        p_value: Chi-square p-value of the rank histogram, per parameter.
        ks_p_value: Kolmogorov–Smirnov p-value of the jittered normalised ranks.
        chi2: Chi-square statistic, per parameter.
        bins: Bins of the rank histogram.
        checks: Check name → passed.
        messages: Why each failed check failed.
        skipped: Held-out data sets left out (a masked summary undefined).
    """

    names: list[str]
    ranks: np.ndarray
    draws: int
    contraction: np.ndarray
    coverage: dict[float, np.ndarray]
    p_value: np.ndarray
    ks_p_value: np.ndarray
    chi2: np.ndarray
    bins: int
    checks: dict[str, bool] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    skipped: int = 0

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(self.checks.values())

    @property
    def k(self) -> int:
        """Number of synthetic data sets."""
        return int(self.ranks.shape[0])

    def histogram(self) -> pd.DataFrame:
        """Rank histogram: one row per parameter and bin: ``parameter``, ``bin``,
        ``rank_low``, ``rank_high`` (inclusive), ``count``, ``expected``."""
        rows = []
        for j, name in enumerate(self.names):
            counts, expected, edges = _hist(self.ranks[:, j], self.draws, self.bins)
            for b in range(self.bins):
                rows.append(
                    {
                        "parameter": name,
                        "bin": b,
                        "rank_low": int(edges[b]),
                        "rank_high": int(edges[b + 1] - 1),
                        "count": int(counts[b]),
                        "expected": float(expected[b]),
                    }
                )
        return pd.DataFrame(rows)

    def frame(self) -> pd.DataFrame:
        """One row per parameter: ``chi2``, ``p_value``, ``ks_p_value``, ``contraction``,
        ``coverage50``, ``coverage90``."""
        out = pd.DataFrame(
            {
                "parameter": self.names,
                "chi2": self.chi2,
                "p_value": self.p_value,
                "ks_p_value": self.ks_p_value,
                "contraction": self.contraction,
            }
        )
        for level, c in sorted(self.coverage.items()):
            out[f"coverage{round(level * 100)}"] = c
        return out


def _hist(ranks: np.ndarray, draws: int, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of ranks ``0 … draws`` in ``bins`` bins of whole ranks, and the exact counts
    expected under uniformity."""
    edges = np.round(np.linspace(0, draws + 1, bins + 1)).astype(int)
    counts = np.array([np.sum((ranks >= edges[b]) & (ranks < edges[b + 1])) for b in range(bins)])
    expected = len(ranks) * np.diff(edges) / (draws + 1)
    return counts, expected, edges


def calibrate(
    posterior_fn: PosteriorFn,
    theta: np.ndarray,
    xs: np.ndarray,
    prior: Prior,
    *,
    seed: int = 0,
    bins: int | None = None,
    alpha: float = ALPHA,
    min_contraction: float = MIN_CONTRACTION,
) -> SBCResult:
    """Ranks of the true parameters among posterior draws, and the checks.

    Args:
        posterior_fn: ``posterior_fn(x_k, k) -> L × dim`` equally weighted draws.
        theta: True parameters of the data sets, ``K × dim`` (prior draws).
        xs: Their data (as ``posterior_fn`` takes them), ``K × …``.
        prior: The prior (variance for the contraction, names).
        seed: Seed of the random tie-breaking of ranks and of the KS jitter.
        bins: Rank-histogram bins (default ``min(20, max(2, K // 10))``).
        alpha: Family-wise level of the uniformity test.
        min_contraction: Smallest contraction of the best-learnt parameter.

    Returns:
        The result with its checks.
    """
    k, dim = theta.shape
    if k < 2:
        raise ValueError("simulation-based calibration needs at least 2 data sets")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), SBC_KEY, 1]))
    ranks = np.empty((k, dim), dtype=int)
    post_var = np.empty((k, dim))
    inside = {level: np.empty((k, dim), dtype=bool) for level in (0.5, 0.9)}
    draws = -1
    for i in range(k):
        d = np.asarray(posterior_fn(xs[i], i), dtype=float)
        if d.ndim != 2 or d.shape[1] != dim:
            raise ValueError(f"data set {i}: posterior draws of shape {d.shape}, need L × {dim}")
        if draws < 0:
            draws = d.shape[0]
        elif d.shape[0] != draws:
            raise ValueError(f"data set {i}: {d.shape[0]} draws, earlier ones {draws}")
        below = np.sum(d < theta[i], axis=0)
        ties = np.sum(d == theta[i], axis=0)
        ranks[i] = below + np.floor(rng.random(dim) * (ties + 1)).astype(int)
        post_var[i] = d.var(axis=0)
        for level, arr in inside.items():
            lo, hi = np.quantile(d, [(1 - level) / 2, (1 + level) / 2], axis=0)
            arr[i] = (theta[i] >= lo) & (theta[i] <= hi)
    _, prior_sd = prior.mean_sd()
    contraction = 1 - post_var.mean(axis=0) / prior_sd**2
    bins = bins or min(20, max(2, k // 10))
    chi2, p = np.empty(dim), np.empty(dim)
    ks = np.empty(dim)
    for j in range(dim):
        counts, expected, _ = _hist(ranks[:, j], draws, bins)
        chi2[j], p[j] = stats.chisquare(counts, expected * counts.sum() / expected.sum())
        u = (ranks[:, j] + rng.random(k)) / (draws + 1)
        ks[j] = stats.kstest(u, "uniform").pvalue
    coverage = {level: arr.mean(axis=0) for level, arr in inside.items()}
    res = SBCResult(prior.names, ranks, draws, contraction, coverage, p, ks, chi2, bins)
    _judge(res, alpha, min_contraction)
    return res


def _judge(res: SBCResult, alpha: float, min_contraction: float) -> None:
    dim = len(res.names)
    worst = int(np.argmin(res.p_value))
    res.checks["uniform"] = bool(res.p_value[worst] >= alpha / dim)
    if not res.checks["uniform"]:
        res.messages.append(
            f"ranks of {res.names[worst]} are not uniform: chi-square p = "
            f"{res.p_value[worst]:.2g} < {alpha / dim:.2g}"
        )
    best = int(np.argmax(res.contraction))
    res.checks["learns"] = bool(res.contraction[best] >= min_contraction)
    if not res.checks["learns"]:
        res.messages.append(
            f"the posterior ignores the data: the largest contraction "
            f"({res.names[best]}) is {res.contraction[best]:.3f} < {min_contraction}"
        )
    for level, c in sorted(res.coverage.items()):
        floor = level - COVERAGE_Z * math.sqrt(level * (1 - level) / res.k)
        name = f"covers{round(level * 100)}"
        j = int(np.argmin(c))
        res.checks[name] = bool(c[j] >= floor)
        if not res.checks[name]:
            res.messages.append(
                f"over-confident: {c[j]:.0%} of true {res.names[j]} inside the central "
                f"{level:.0%} intervals (at least {floor:.0%} expected)"
            )


def run_sbc(
    bank: Bank,
    mask: np.ndarray | None = None,
    *,
    method: str = "npe",
    held_out: int = 200,
    draws: int = 100,
    seed: int = 0,
    noise: Noise | None = None,
    bins: int | None = None,
    **options: Any,
) -> SBCResult:
    """Simulation-based calibration of an inference method on a bank.

    The last ``held_out`` simulations of the bank are the synthetic data sets (with
    observation noise added, if any); the method trains on the others.

    Args:
        bank: The simulation bank.
        mask: Summaries observed (None: all).
        method: ``npe`` or ``abc``.
        held_out: Synthetic data sets ``K`` (≥ 100 for a meaningful test).
        draws: Posterior draws ``L`` per data set.
        seed: Seed of the inference and of the calibration.
        noise: Observation noise.
        bins: Rank-histogram bins.
        **options: Method options.

    Returns:
        The result (``skipped``: held-out data sets with a masked summary undefined).
    """
    fit_bank, test = bank.split(held_out)
    est = train(fit_bank, mask, method=method, noise=noise, seed=seed, **options)
    m = est.mask
    xs = test.x[:, m]
    ok = np.all(np.isfinite(xs), axis=1)
    xs, theta = xs[ok], test.theta[ok]
    if noise is not None and not noise.zero:
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), SBC_KEY, 2]))
        xs = noise.restrict(m).perturb(xs, rng)

    def posterior_fn(x: np.ndarray, i: int) -> np.ndarray:
        return est.posterior(x, draws=draws, seed=seed + i).draws(draws, seed + i)

    res = calibrate(posterior_fn, theta, xs, bank.prior, seed=seed, bins=bins)
    res.skipped = int((~ok).sum())
    return res
