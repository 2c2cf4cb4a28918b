"""Simulation-based calibration with relsim itself as the simulator: a bank of the small
scenario's summary vector (tests/data/small.yaml, its targets as in test_forecast.py),
synthetic data sets held out from it. The checks must pass for the inference and fail
for a posterior that collapses (five times too narrow) or ignores the data (the prior)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_forecast import scenario_copy, targets_file

from simulator.ensemble.options import Execution
from simulator.explore.forecast import build, prepare
from simulator.explore.sbc import calibrate, run_sbc

K, L = 100, 49

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    tmp = tmp_path_factory.mktemp("sbc")
    setup = prepare(scenario_copy(tmp), targets_file(tmp))
    bank = build(setup, 700, 3, Execution(workers=2), None)
    return setup, bank


def test_inference_on_relsim_summaries_is_calibrated_and_learns(case: tuple) -> None:
    setup, bank = case
    mask = setup.evidence()
    res = run_sbc(bank, mask, method="abc", held_out=K, draws=L, seed=1, noise=setup.noise())
    assert res.k + res.skipped == K and res.k >= 90
    assert res.checks["learns"], res.messages
    # the reviewers set the waits and so the exports: well learnt
    assert res.contraction[0] > 0.3
    assert res.checks["uniform"] and res.checks["covers90"], res.messages
    hist = res.histogram()
    assert hist.groupby("parameter")["count"].sum().eq(res.k).all()


def test_collapsed_and_data_blind_posteriors_fail(case: tuple) -> None:
    setup, bank = case
    fit, test = bank.split(K)
    mask = setup.evidence()
    from simulator.explore.inference import train

    est = train(fit, mask, method="abc", seed=1)
    xs = test.x[:, mask]
    ok = np.all(np.isfinite(xs), axis=1)

    def collapsed(x: np.ndarray, i: int) -> np.ndarray:
        d = est.posterior(x, seed=i).draws(L, i)
        return d.mean(axis=0) + (d - d.mean(axis=0)) / 5

    res = calibrate(collapsed, test.theta[ok], xs[ok], bank.prior, seed=1)
    assert not res.passed and not res.checks["covers90"]
    rng = np.random.default_rng(2)

    def blind(x: np.ndarray, i: int) -> np.ndarray:
        return bank.prior.sample(rng, L)

    res = calibrate(blind, test.theta[ok], xs[ok], bank.prior, seed=1)
    assert not res.checks["learns"] and not res.passed
    assert "ignores the data" in " ".join(res.messages)


def test_bank_is_the_same_serially(case: tuple, tmp_path: Path) -> None:
    setup, bank = case
    small = build(setup, 64, 3, Execution(workers=1), None)
    np.testing.assert_array_equal(small.x, bank.x[:64])
