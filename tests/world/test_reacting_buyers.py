"""Buyers who react (``replenishment.react``): after its line runs short, a part's safety
stock target rises by a stated number of days per short day, up to a cap, and halves
back over a stated half-life — stockpiling after a shock and drawing down later come
from behaviour. Both engines share the arithmetic (world/arith.plant_day)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import simulator as sim

ROOT_SC = "scenarios/cn-2025-april-controls.yaml"


def _case(react: dict | None) -> sim.Scenario:
    from pathlib import Path

    from simulator.scenario.load import load_scenario

    sc = load_scenario(Path(__file__).resolve().parents[2] / ROOT_SC)
    data = sc.model_dump(mode="json", by_alias=True)
    data = copy.deepcopy(data)
    for m in data["manufacturers"]:
        if m["id"] == "eu_auto_supplier":
            m["replenishment"]["react"] = react
    data["reps"] = 4
    return sim.scenario_from_dict(data)


def _orders(res: sim.RunResult) -> float:
    sh = res.shipments
    return float(sh.loc[sh["manufacturer"] == "eu_auto_supplier", "tonnes"].sum())


def test_a_buyer_that_ran_short_orders_more_afterwards() -> None:
    """The EU supplier runs short in 2025; with a reacting buyer it orders more tonnes over
    the year than the same buyer with a fixed target (same seeds: the same draws)."""
    react = {"extra_days_per_short_day": 2.0, "max_extra_days": 30, "half_life_days": 60}
    fixed = [_orders(sim.run(_case(None), seed=s)) for s in (1, 2, 3)]
    reacting = [_orders(sim.run(_case(react), seed=s)) for s in (1, 2, 3)]
    assert all(r > f for r, f in zip(reacting, fixed, strict=True)), (fixed, reacting)
    assert sum(reacting) > 1.03 * sum(fixed), (fixed, reacting)


@pytest.mark.parametrize("seed", [1, 2])
def test_reacting_buyers_are_identical_in_both_engines(seed: int) -> None:
    react = {"extra_days_per_short_day": 1.0, "max_extra_days": 20, "half_life_days": 30}
    sc = _case(react)
    k, s = sim.run(sc, seed=seed, engine="kernel"), sim.run(sc, seed=seed, engine="simpy")
    assert k.shipments.equals(s.shipments)
    assert np.array_equal(k.daily.to_numpy(), s.daily.to_numpy())


def test_the_compiled_cache_is_keyed_by_the_compiled_sources(tmp_path, monkeypatch) -> None:
    """An edit of any source (here a copy of the package's world/arith.py) changes the
    cache directory: numba alone checks only a function's own file, and the kernel's
    cached loop holds its callees' code (a stale plant_day ran after an edit)."""
    import importlib.util
    import shutil
    from pathlib import Path

    from simulator.world import jit

    pkg = Path(jit.__file__).resolve().parents[1]
    copy = tmp_path / "simulator"
    shutil.copytree(pkg, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def digest() -> str:
        spec = importlib.util.spec_from_file_location("jit_copy", copy / "world" / "jit.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod.source_digest()

    before = digest()
    assert before == jit.source_digest()
    with open(copy / "world" / "arith.py", "a") as f:
        f.write("\n# an edit\n")
    assert digest() != before
