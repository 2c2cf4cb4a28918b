"""The simulation bank: the same however it ran, resumable, refused when it changed."""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing as mp

import numpy as np
import pytest
from forecast_toys import N_OBS, FailAt, Gaussian, two_param_prior

from simulator.explore.bank import BankMismatch, bank_theta, build_bank, load_bank
from simulator.explore.priors import ParamPrior, Prior

N = 1_000


def test_draws_come_from_the_prior_and_a_small_bank_is_a_prefix():
    prior = two_param_prior()
    big = bank_theta(prior, 3_000, seed=4)
    assert np.array_equal(bank_theta(prior, 1_500, seed=4), big[:1_500])
    assert not np.array_equal(bank_theta(prior, 1_500, seed=5), big[:1_500])
    assert abs(big[:, 0].mean()) < 0.1 and abs(big[:, 0].std() - 1) < 0.05
    assert big[:, 1].min() >= 0 and big[:, 1].max() <= 1


def test_serial_and_two_processes_give_the_same_bank():
    prior = two_param_prior()
    serial = build_bank(prior, Gaussian(), N, seed=1, chunk=64)
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
        parallel = build_bank(prior, Gaussian(), N, seed=1, executor=pool, chunk=37)
    assert serial.x.shape == (N, N_OBS)
    assert np.array_equal(serial.theta, parallel.theta)
    assert np.array_equal(serial.x, parallel.x)
    # the simulations use their own (seed, index): x tracks theta
    assert np.corrcoef(serial.theta[:, 0], serial.x.mean(axis=1))[0, 1] > 0.9


def test_interrupted_bank_resumes_to_the_same_bank(tmp_path):
    prior = two_param_prior()
    whole = build_bank(prior, Gaussian(), N, seed=1, chunk=100)
    allow = tmp_path / "allow"
    out = tmp_path / "bank"
    with pytest.raises(KeyboardInterrupt):
        build_bank(prior, FailAt(650, str(allow)), N, seed=1, directory=out, fingerprint="toy")
    assert not json.loads((out / "manifest.json").read_text())["complete"]
    kept = sorted(p.name for p in (out / "chunks").glob("c*.npz"))
    assert kept == [f"c{a:09d}.npz" for a in range(0, 640, 128)]  # chunks before the failure
    allow.touch()
    calls = []
    resumed = build_bank(
        prior,
        FailAt(650, str(allow)),
        N,
        seed=1,
        directory=out,
        fingerprint="toy",
        progress=lambda done, total: calls.append(done),
    )
    assert calls[0] == 128 and calls[4] == 640 and calls[-1] == N  # kept chunks, then the rest
    assert np.array_equal(resumed.x, whole.x) and np.array_equal(resumed.theta, whole.theta)
    assert not (out / "chunks").exists() and (out / "bank.npz").is_file()
    again = load_bank(out, prior)
    assert np.array_equal(again.x, whole.x) and again.simulator == "toy"


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"seed": 2}, "seed"),
        ({"n": N + 1}, "number of simulations"),
        ({"fingerprint": "other"}, "simulator fingerprint"),
        ({"prior": Prior((ParamPrior("mu", -8, 8), ParamPrior("nu", 0, 1)))}, "prior"),
    ],
)
def test_a_changed_bank_is_refused(tmp_path, change, word):
    out = tmp_path / "bank"
    args = {"prior": two_param_prior(), "n": N, "seed": 1, "fingerprint": "toy"}
    build_bank(args["prior"], Gaussian(), args["n"], args["seed"], directory=out, fingerprint="toy")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*"))
    args.update(change)
    with pytest.raises(BankMismatch, match=word):
        build_bank(
            args["prior"],
            Gaussian(),
            args["n"],
            args["seed"],
            directory=out,
            fingerprint=args["fingerprint"],
        )
    assert sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*")) == before


def test_a_folder_that_is_not_a_bank_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(BankMismatch, match="holds no simulation bank"):
        build_bank(two_param_prior(), Gaussian(), 10, seed=1, directory=tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_sizes_are_bounded():
    with pytest.raises(ValueError, match=r"Limits\.MAX_BANK_SIMS"):
        build_bank(two_param_prior(), Gaussian(), 0, seed=1)
    with pytest.raises(ValueError, match=r"Limits\.MAX_BANK_SIMS"):
        build_bank(two_param_prior(), Gaussian(), 10**7, seed=1)


@pytest.mark.slow
def test_dask_gives_the_same_bank():
    distributed = pytest.importorskip("distributed")
    prior = two_param_prior()
    serial = build_bank(prior, Gaussian(), N, seed=1)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = build_bank(prior, Gaussian(), N, seed=1, executor=client.get_executor())
    assert np.array_equal(serial.x, on_dask.x)
