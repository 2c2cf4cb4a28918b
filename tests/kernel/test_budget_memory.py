"""The memory estimate of simulator/world/budget.py bounds what the kernel allocates for a
replication (its draws and working arrays), so SLOT_BYTES stays true as the kernel
changes."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

import simulator as sim
from simulator.replication.engines import ENGINE_COSTS, prepare_engine, simulator_for
from simulator.world.budget import estimate
from simulator.world.calendar import build_calendar
from simulator.world.static import compile_scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name",
    [
        "cn-2025-april-controls.yaml",
        "japan-2026.yaml",
        "examples/multi-tier.yaml",
        "examples/new-requirement.yaml",
        "examples/batch-release.yaml",
    ],
)
def test_the_estimate_bounds_the_kernels_allocation(name: str) -> None:
    sc = sim.load_scenario(ROOT / "scenarios" / name)
    cal = build_calendar(sc)
    prepare_engine("kernel")
    run = simulator_for("kernel")
    tracemalloc.start()
    try:
        tracemalloc.clear_traces()
        tracemalloc.reset_peak()
        # the first replication of this scenario in this thread allocates the scratch
        # arrays (later ones reuse them): measure that one
        run(sc, 11, 0, cal)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    b = estimate(compile_scenario(sc, cal), ENGINE_COSTS["kernel"])
    assert peak <= b.bytes, (peak, b.bytes)
    assert b.bytes < 6 * peak + 4 * 2**20  # an upper bound, not a wild one
