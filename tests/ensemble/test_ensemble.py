"""Ensembles: aggregation, intervals, and common random numbers for paired comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import simulator as sim
from simulator.stats import t95 as _t95

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"
BASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
VARIANT = ROOT / "scenarios" / "eu-green-channel-off.yaml"


@pytest.fixture(scope="module")
def small_ens() -> sim.EnsembleResult:
    return sim.run_ensemble(sim.load_scenario(SMALL), reps=10, seed=2, workers=1)


def test_kpi_summary_agrees_with_per_rep_table(small_ens: sim.EnsembleResult) -> None:
    reps = small_ens.kpi_reps
    summ = small_ens.kpi_summary()
    per = reps[(reps.manufacturer == "us_plant") & (reps.kpi == "shortfall_t")]["value"]
    row = summ[(summ.manufacturer == "us_plant") & (summ.kpi == "shortfall_t")].iloc[0]
    assert row["mean"] == pytest.approx(per.mean())
    assert row["n"] == 10 and row["ci_low"] <= row["mean"] <= row["ci_high"]
    assert row["unit"] == "t" and row["scope"] == "manufacturer"
    total = reps[(reps.scope == "total") & (reps.kpi == "shortfall_t")]
    parts = reps[reps.manufacturer.isin(["us_plant", "de_plant"]) & (reps.kpi == "shortfall_t")]
    assert total["value"].sum() == pytest.approx(parts["value"].sum())


def test_bands_are_ordered_and_mean_matches_runs(small_ens: sim.EnsembleResult) -> None:
    b = small_ens.bands("shortfall_t")
    assert (b["p5"] <= b["p25"] + 1e-12).all() and (b["p25"] <= b["p50"] + 1e-12).all()
    assert (b["p50"] <= b["p75"] + 1e-12).all() and (b["p75"] <= b["p95"] + 1e-12).all()
    # the ensemble mean equals the mean of the individual runs
    sc = small_ens.scenario
    runs = [sim.run(sc, seed=2, rep=i).daily for i in range(10)]
    us = np.mean([r[r.manufacturer == "us_plant"]["shortfall_t"].to_numpy() for r in runs], axis=0)
    np.testing.assert_allclose(b[b.manufacturer == "us_plant"]["mean"].to_numpy(), us, atol=1e-9)
    p = small_ens.p_shortage()
    assert ((p["p"] >= 0) & (p["p"] <= 1)).all()


def test_same_seed_same_summary_serial_and_processes() -> None:
    sc = sim.load_scenario(SMALL)
    a = sim.run_ensemble(sc, reps=8, seed=11, workers=1)
    b = sim.run_ensemble(sc, reps=8, seed=11, workers=2)
    c = sim.run_ensemble(sc, reps=8, seed=12, workers=1)
    dump = lambda e: json.dumps(e.summary_dict(), sort_keys=True)  # noqa: E731
    assert dump(a) == dump(b)
    assert dump(a) != dump(c)


def test_common_random_numbers_make_paired_intervals_3x_narrower() -> None:
    """On the shipped pair differing only in the EU green-channel rule, the paired 95%
    interval of the difference in total shortfall is at least 3x narrower than the
    interval from independent seeds (B run again with another seed)."""
    a, b = sim.load_scenario(BASE), sim.load_scenario(VARIANT)
    reps = 16
    cmp = sim.compare(a, b, reps=reps, seed=1)
    b_indep = sim.run_ensemble(b, reps=reps, seed=10_001)

    def totals(ens: sim.EnsembleResult) -> np.ndarray:
        k = ens.kpi_reps
        return (
            k[(k.scope == "total") & (k.kpi == "shortfall_t")]
            .sort_values("rep")["value"]
            .to_numpy()
        )

    ta, tb, tb2 = totals(cmp.a), totals(cmp.b), totals(b_indep)
    assert np.any(tb != ta), "the rule changed nothing: the pair cannot test CRN"
    t = _t95(reps)
    paired = t * np.std(tb - ta, ddof=1) / math.sqrt(reps)
    independent = t * math.sqrt((np.var(ta, ddof=1) + np.var(tb2, ddof=1)) / reps)
    ratio = independent / paired if paired > 0 else math.inf
    print(
        f"total shortfall B - A: paired half-width {paired:.2f} t, independent "
        f"{independent:.2f} t, ratio {ratio:.1f}x"
    )
    assert ratio >= 3.0
    d = cmp.differences()
    d = d[(d.scope == "total") & (d.kpi == "shortfall_t")].iloc[0]
    assert d["diff"] == pytest.approx(np.mean(tb - ta))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["simpy", "kernel"])
def test_worker_memory_stays_flat_across_replications(monkeypatch: pytest.MonkeyPatch, engine: str):
    """A finished SimPy world is a web of reference cycles; a worker collects them every
    GC_EVERY replications, so what it holds after 40 more replications is what it held
    after 10. Measured on this scenario: without the collections the 40 replications
    leave ~25 MB behind (~640 kB a world); with them, < 0.2 MB, which is CPython's free
    lists (up to 2,000 small tuples each, emptied only by a full collection) still
    counted as allocated by tracemalloc. The kernel leaves no world behind (collections
    every GC_EVERY["kernel"] replications only for its policy controller's cycles)."""
    import tracemalloc

    from simulator.ensemble import runner
    from simulator.ensemble.runner import GC_EVERY, _chunk

    n = GC_EVERY["simpy"]
    sc = sim.load_scenario(SMALL)
    _chunk((sc, 0, None, engine), 0, n)  # warm caches
    monkeypatch.setattr(runner, "_since_gc", 0)  # other tests ran replications too
    tracemalloc.start()
    try:
        _chunk((sc, 0, None, engine), n, 2 * n)
        after_10 = tracemalloc.get_traced_memory()[0]
        _chunk((sc, 0, None, engine), 2 * n, 6 * n)
        after_50 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_50 - after_10 < 1_000_000, (after_10, after_50)


def test_narrower_ratio_distinguishes_no_variance_from_all_removed() -> None:
    """``narrower ×`` in ``relsim compare``: a KPI constant in both scenarios (a
    manufacturer never short) has no variance to remove — NaN, shown as "—" — while a
    difference that common random numbers make exactly constant is infinitely
    narrower."""
    from simulator.ensemble.results import _ratio

    assert math.isnan(_ratio(0.0, 0.0))
    assert _ratio(2.5, 0.0) == math.inf
    assert _ratio(3.0, 1.5) == 2.0
    assert math.isnan(_ratio(math.nan, 1.0))
