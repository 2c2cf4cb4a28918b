"""A plant starts in steady state: its lead-time estimate can start at the mean of the
scenario's own chain (``lead_time.initial_days: expected``), and buyers anticipate their
suppliers' known closures, so no plant of the case study runs short in normal times."""

from __future__ import annotations

import datetime as dt

import pytest
from builders import build, supply_chain

import simulator as sim
from simulator.world.calendar import build_calendar
from simulator.world.static import compile_scenario

CASE = "scenarios/cn-2025-april-controls.yaml"


def test_the_expected_lead_is_the_chains_mean():
    data = supply_chain(days=60, bg_rate=0.0)
    data["exporters"][0]["lead_time_days"] = {"kind": "uniform", "low": 4, "high": 10}
    data["customs"] = {"handling_days": {"kind": "constant", "value": 2}}
    data["manufacturers"][0]["lead_time"] = {"initial_days": "expected"}
    sc = build(data)
    st = compile_scenario(sc, build_calendar(sc))
    week_t = 1000 * 1.0 / 1000 * 7  # 1 t a day, weekly orders
    making = week_t / (300 / 30.4375)
    assert st.lead_init[0] == pytest.approx(making + 7 + 2 + 10)


def test_a_declared_estimate_is_kept():
    sc = build(supply_chain(days=60, bg_rate=0.0))
    assert compile_scenario(sc, build_calendar(sc)).lead_init[0] == 40.0


def test_buyers_order_ahead_of_a_known_closure_and_naive_ones_do_not():
    closed = {"windows": [{"start": "2025-02-10", "end": "2025-02-24", "pace": 0.0}]}
    ahead = {}
    for anticipate in (True, False):
        data = supply_chain(days=100, start=dt.date(2025, 1, 1), bg_rate=0.0)
        data["production"] = closed
        data["manufacturers"][0]["lead_time"] = {
            "initial_days": 40,
            "anticipate_closures": anticipate,
        }
        sc = build(data)
        ahead[anticipate] = compile_scenario(sc, build_calendar(sc)).ahead[:, 0]
    # an order placed 40 days or less before the closure meets all 15 closed days
    assert ahead[True][0] == 0.0 and ahead[True][5] == pytest.approx(15.0)
    assert ahead[True][40] == pytest.approx(15.0) and ahead[True][60] == 0.0
    assert not ahead[False].any()


@pytest.mark.slow
def test_no_plant_of_the_case_study_is_short_before_the_controls():
    sc = sim.load_scenario(CASE)
    k = sim.run_ensemble(sc, reps=200).kpi_reps
    first = k[(k["kpi"] == "days_to_first_shortage") & (k["scope"] == "part")]
    controls = (dt.date(2025, 4, 4) - sc.start).days
    early = first[first["value"] < controls]
    assert early.empty, early[["rep", "manufacturer", "part", "value"]].to_string()
