"""The autumn EU slowdown written as an overlay (scenarios/eu-autumn-slowdown.yaml, 6
lines) and with composite regimes (scenarios/eu-autumn-slowdown-regimes.yaml, three
regimes and four timeline entries) is the same model: at the same seed, the same
comparison with the base."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import simulator as sim

SCEN = Path(__file__).resolve().parents[2] / "scenarios"


def test_overlay_and_composite_regimes_give_the_same_comparison():
    base = sim.load_scenario(SCEN / "cn-2025-april-controls.yaml")
    overlay = sim.load_scenario(SCEN / "eu-autumn-slowdown.yaml")
    regimes = sim.load_scenario(SCEN / "eu-autumn-slowdown-regimes.yaml")
    a = sim.compare(base, overlay, reps=2, seed=7, workers=1).differences()
    b = sim.compare(base, regimes, reps=2, seed=7, workers=1).differences()
    pd.testing.assert_frame_equal(a, b)
    # and the slowdown does something: EU-bound waits rise
    eu = a[(a["destination"] == "EU") & (a["kpi"] == "wait_wd_mean")]
    assert float(eu["diff"].iloc[0]) > 1.0
