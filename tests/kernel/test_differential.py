"""Differential tests: the compiled kernel and the SimPy reference give the same results.

For every shipped scenario and example, on several seeds and replications, and for
hypothesis-generated scenarios (the conservation property's generator: random policy,
calendar, goods chain, plants), both engines' licences, daily, exports and arrivals
tables and KPIs are compared: integers, dates and labels exactly, floats to a relative
1e-12 (in practice they are bit-identical: the traces are compared exactly too).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from world.test_conservation import scenarios  # tests/ is on the path (pyproject)

import simulator as sim
from simulator.kernel import simulate_kernel
from simulator.world.calendar import build_calendar
from simulator.world.world import simulate

pytestmark = pytest.mark.slow  # both engines on every shipped scenario and example

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
EXAMPLES = sorted((ROOT / "scenarios" / "examples").glob("*.yaml"))
TABLES = ("licences", "daily", "exports", "arrivals", "kpis")
RTOL = 1e-12


def assert_same_tables(sc: sim.Scenario, seed: int, rep: int) -> None:
    """Both engines' tables and KPIs for one replication, compared."""
    cal = build_calendar(sc)
    a = sim.run(sc, seed=seed, rep=rep, calendar=cal, engine="simpy")
    b = sim.run(sc, seed=seed, rep=rep, calendar=cal, engine="kernel")
    for name in TABLES:
        x, y = getattr(a, name), getattr(b, name)
        assert isinstance(x, pd.DataFrame), name
        pd.testing.assert_frame_equal(
            x, y, check_exact=False, rtol=RTOL, atol=0.0, obj=f"{sc.name}: {name}"
        )
        for c in x.columns:  # integers, dates and labels exactly
            if x[c].dtype.kind not in "fc":
                assert x[c].equals(y[c]), f"{sc.name}: {name}.{c}"


def assert_same_trace(sc: sim.Scenario, seed: int, rep: int) -> None:
    """Both engines' traces, every log and series, bit for bit."""
    cal = build_calendar(sc)
    a, b = simulate(sc, seed, rep, cal), simulate_kernel(sc, seed, rep, cal)
    for f in ("authority", "goods", "shipments", "applications", "regimes", "overlays"):
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape, f
        for c in x.dtype.names:
            np.testing.assert_array_equal(x[c], y[c], err_msg=f"{sc.name}: {f}.{c}")
    for grp in ("parts", "lines", "authority_daily", "parts_end"):
        ga, gb = getattr(a, grp), getattr(b, grp)
        assert list(ga) == list(gb), grp
        for k in ga:
            np.testing.assert_array_equal(ga[k], gb[k], err_msg=f"{sc.name}: {grp}.{k}")
    np.testing.assert_array_equal(a.backlog_end_units, b.backlog_end_units)
    assert (a.regime_names, a.regime_labels, a.horizon) == (
        b.regime_names,
        b.regime_labels,
        b.horizon,
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
@pytest.mark.parametrize(("seed", "rep"), [(0, 0), (11, 3)])
def test_shipped_scenarios_identical(path: Path, seed: int, rep: int):
    sc = sim.load_scenario(path)
    assert_same_tables(sc, seed, rep)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize(("seed", "rep"), [(0, 0), (1, 1), (2024, 7)])
def test_examples_identical(path: Path, seed: int, rep: int):
    sc = sim.load_scenario(path)
    assert_same_tables(sc, seed, rep)
    assert_same_trace(sc, seed, rep)


@pytest.mark.parametrize("path", SHIPPED[:3], ids=lambda p: p.stem)
def test_shipped_traces_bit_identical(path: Path):
    assert_same_trace(sim.load_scenario(path), 5, 2)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), seed=st.integers(0, 2**31 - 1), rep=st.integers(0, 50))
def test_generated_scenarios_identical(data, seed, rep):
    sc = sim.scenario_from_dict(data.draw(scenarios()))
    assert_same_trace(sc, seed, rep)
    assert_same_tables(sc, seed, rep)


def test_kernel_compiled_once():
    """Every scenario above, and the warm-up an ensemble runs before its workers start,
    ran on one compiled version of the loop (a scenario that made numba compile another
    would cost a user the compile time again)."""
    from simulator.kernel import warm
    from simulator.kernel.loop import run_loop

    warm()

    assert len(run_loop.signatures) == 1, run_loop.signatures


def test_array_that_runs_out_is_enlarged():
    """A preallocated array (heap, logs, waiters) too small for a run is enlarged and
    the replication rerun: the result is unchanged."""
    from simulator.kernel import engine

    sc = sim.load_scenario(ROOT / "scenarios" / "examples" / "files-that-sit.yaml")
    cal = build_calendar(sc)
    ref = simulate_kernel(sc, 3, 1, cal)
    orig = engine._state
    grown: list[dict[str, int]] = []

    def tiny(plan, n_arr, n_sources, n_pol, demand, caps=None):
        if caps is None:
            caps = {"heap": 1, "waiters": 1, "alog": 1, "glog": 1}
        grown.append(dict(caps))
        return orig(plan, n_arr, n_sources, n_pol, demand, caps)

    engine._state = tiny
    try:
        out = simulate_kernel(sc, 3, 1, cal)
    finally:
        engine._state = orig
    assert len(grown) > 5 and grown[-1]["alog"] > 1
    for f in ("authority", "goods", "shipments", "applications"):
        np.testing.assert_array_equal(getattr(ref, f), getattr(out, f))


def test_threads_give_the_same_replications():
    """Replications on threads of one process (a Dask worker's) share the scenario's
    plan, whose policy states grow as replications meet them: the same results."""
    from concurrent.futures import ThreadPoolExecutor

    from simulator.kernel import pack

    path = ROOT / "scenarios" / "examples" / "markov-switching.yaml"
    ref = [simulate_kernel(sim.load_scenario(path), 4, r) for r in range(8)]
    pack._PLANS.clear()
    sc = sim.load_scenario(path)
    with ThreadPoolExecutor(4) as ex:
        out = list(ex.map(lambda r: simulate_kernel(sc, 4, r), range(8)))
    for a, b in zip(ref, out, strict=True):
        for f in ("authority", "goods", "regimes"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
