"""The authority as an M/M/c queue agrees with queueing theory.

With every day a working day, neutral policy, one Poisson background stream,
exponential review work and no statutory limit, the licensing authority is an M/M/c
queue, so:

* the mean wait for a reviewer (``review_start_days - accepted_days``) must match
  Erlang C;
* Little's law ``L = λ W`` must hold for the time-average number in the system;
* the daily counters in ``authority_daily`` must equal the counts reconstructed from
  the per-application timestamps.

Tolerance for Erlang C (derived, not tuned): ``R`` independent replications (distinct
seeds) each give one mean wait over a long window after a warm-up; the replication
means are i.i.d., so their standard error ``se = sd / sqrt(R)`` is an honest Monte
Carlo error of the grand mean. We assert ``|grand mean - theory| < 4 se``: for a
correct engine this fails with probability ~6e-5 (t-distribution with R-1 = 7 d.f.
makes it ~5e-3; the seeds are fixed, so the test is deterministic anyway), while a
wrong queue discipline, capacity or service-time scaling moves the mean by many se.
We also require ``se`` to be small relative to theory (< 10 %), so the test cannot
pass merely by being noisy.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from builders import build, erlang_c_wq, mean_and_se, mmc

import simulator as sim

REPS = 8
WARMUP = 0.1  # share of the horizon discarded at the start
SETTINGS = [
    # (c, rho, mean service days, horizon days): ~10k applications per replication
    pytest.param(4, 0.8, 0.25, 800, id="c4-rho0.8"),
    pytest.param(10, 0.7, 0.5, 600, id="c10-rho0.7"),
]


@functools.cache
def _runs(c: int, rho: float, mean_service: float, days: int) -> list[sim.RunResult]:
    """``REPS`` independent replications (seeds 0..REPS-1), shared by the tests below."""
    sc = build(mmc(c, rho, mean_service, days))
    return [sim.run(sc, seed=seed) for seed in range(REPS)]


def _window(lic, days: int):
    """Applications accepted after the warm-up and early enough to have started review."""
    acc = lic["accepted_days"].to_numpy()
    return lic[(acc >= WARMUP * days) & (acc < days - 5.0)]


@pytest.mark.parametrize(("c", "rho", "mean_service", "days"), SETTINGS)
def test_mean_queue_wait_matches_erlang_c(c, rho, mean_service, days):
    lam, mu = rho * c / mean_service, 1.0 / mean_service
    theory = erlang_c_wq(c, lam, mu)
    rep_means, rep_service = [], []
    for res in _runs(c, rho, mean_service, days):
        lic = _window(res.licences, days)
        assert len(lic) > 0.8 * lam * days * (1 - WARMUP) * 0.9, "too few applications"
        wq = (lic["review_start_days"] - lic["accepted_days"]).to_numpy()
        assert not np.isnan(wq).any(), "an application in the window never reached review"
        assert (wq >= -1e-12).all(), "negative queue wait"
        rep_means.append(wq.mean())
        rep_service.append((lic["decided_days"] - lic["review_start_days"]).mean())
    mean, se = mean_and_se(np.array(rep_means))
    s_mean, s_se = mean_and_se(np.array(rep_service))
    print(
        f"\nM/M/{c} rho={rho}: Wq simulated {mean:.5f} ± {se:.5f} d (se, {REPS} reps), "
        f"Erlang C {theory:.5f} d, z = {(mean - theory) / se:+.2f}; "
        f"service {s_mean:.5f} ± {s_se:.5f} d vs 1/mu {mean_service}"
    )
    assert se < 0.1 * theory, f"Monte Carlo error too large to test anything (se={se:.4g})"
    assert abs(mean - theory) < 4 * se, (
        f"M/M/{c} at rho={rho}: mean queue wait {mean:.5f} d differs from Erlang C "
        f"{theory:.5f} d by more than 4 standard errors (se={se:.5f})"
    )
    assert abs(s_mean - mean_service) < 4 * s_se, (
        f"mean review time {s_mean:.5f} d is not the configured {mean_service} d (se={s_se:.5f})"
    )


@pytest.mark.parametrize(("c", "rho", "mean_service", "days"), SETTINGS)
def test_littles_law_and_daily_counters(c, rho, mean_service, days):
    """L = λW on the authority (time-average number in system, integrated exactly from
    the submit/decide timestamps, and as sampled by ``authority_daily``), and the daily
    counters equal the counts reconstructed from the timestamps."""
    a, b = WARMUP * days, float(days)
    for seed, res in enumerate(_runs(c, rho, mean_service, days)[:3]):
        lic, ad = res.licences, res.authority_daily
        sub = lic["submitted_days"].to_numpy()
        rs = lic["review_start_days"].to_numpy()
        dec = np.nan_to_num(lic["decided_days"].to_numpy(), nan=b)  # undecided: in system
        rs = np.nan_to_num(rs, nan=b)
        # time-average number in system over [a, b], exact
        L = np.clip(np.minimum(dec, b) - np.maximum(sub, a), 0.0, None).sum() / (b - a)
        arrived = (sub >= a) & (sub < b)
        lam_hat = arrived.sum() / (b - a)
        W = (dec - sub)[arrived].mean()
        L_daily = ad["in_system"].to_numpy()[int(a) :].mean()
        print(
            f"\nM/M/{c} seed {seed}: L={L:.4f} lambda*W={lam_hat * W:.4f} "
            f"L(daily samples)={L_daily:.4f}"
        )
        assert abs(L - lam_hat * W) < 0.03 * lam_hat * W, (
            f"Little's law fails: L={L:.4f} vs lambda*W={lam_hat * W:.4f}"
        )
        assert abs(L_daily - lam_hat * W) < 0.03 * lam_hat * W, (
            f"authority_daily.in_system averages {L_daily:.4f}, Little's law says {lam_hat * W:.4f}"
        )
        # daily counters (start of day d) against the timestamps
        d = np.arange(days, dtype=float)[:, None]
        n_sys = ((sub <= d) & (dec > d)).sum(axis=1)
        n_queue = ((sub <= d) & (rs > d)).sum(axis=1)
        n_review = ((rs <= d) & (dec > d)).sum(axis=1)
        np.testing.assert_array_equal(ad["in_system"].to_numpy(), n_sys, "in_system")
        np.testing.assert_array_equal(ad["queued"].to_numpy(), n_queue, "queued")
        np.testing.assert_array_equal(ad["in_review"].to_numpy(), n_review, "in_review")
        assert (ad["in_review"] <= c).all(), "more reviews in progress than reviewers"
        sub_per_day = np.bincount(np.floor(sub).astype(int), minlength=days)[:days]
        np.testing.assert_array_equal(ad["submitted"].to_numpy(), sub_per_day, "submitted")
        assert ad["decided"].sum() == np.isfinite(lic["decided_days"]).sum()
