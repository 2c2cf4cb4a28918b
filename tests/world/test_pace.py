"""Seasonality where it happens: the pace of production (``production.windows``).

A Spring-Festival shutdown slows production: background contracts due to be made in the
window lapse but for the share the pace makes, goods in hand are delayed, and an
exporter's capacity is multiplied by the pace. With licences in force the dip shows at
customs in the festival's month, while a dip in *contract arrivals* (``month_factors``)
reaches customs only after the licence wait — the defect the production pace replaces.
Both engines run the same arithmetic (:func:`simulator.world.arith.paced_finish`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from builders import authority_only, build, supply_chain

import simulator as sim
from simulator.world.arith import paced_finish
from simulator.world.pace import spring_festivals

FESTIVAL_2026 = dt.date(2026, 2, 17)


def test_spring_festival_dates_come_from_the_holidays_package():
    assert spring_festivals(2024, 2027) == [
        dt.date(2024, 2, 10),
        dt.date(2025, 1, 29),
        FESTIVAL_2026,
        dt.date(2027, 2, 6),
    ]


def test_paced_finish_stretches_work_over_slow_days_and_keeps_normal_days_exact():
    pace = np.ones((1, 30))
    pace[0, 10:15] = 0.0  # closed five days
    pace[0, 15:20] = 0.5  # half pace five days
    cum = np.zeros((1, 31))
    np.cumsum(pace, axis=1, out=cum[:, 1:])
    assert paced_finish(True, cum, pace, 0, 2.0, 3.0) == 5.0  # before the window: t + p
    assert paced_finish(True, cum, pace, 0, 8.0, 4.0) == 19.0  # 2 d, closed 5 d, 2 d at ½
    assert paced_finish(True, cum, pace, 0, 12.0, 1.0) == 17.0  # waits for the reopening
    assert paced_finish(True, cum, pace, 0, 28.0, 5.0) == 33.0  # past the horizon: pace 1
    assert paced_finish(False, cum, pace, 0, 8.0, 4.0) == 12.0  # no window anywhere
    assert paced_finish(True, cum, pace, -1, 8.0, 4.0) == 12.0  # a country without windows


def _controls_over_the_festival(kind: str | None) -> sim.Scenario:
    """Licences in force from 2025-10-01 to 2026-05-31, decided after 30 days by ample
    reviewers, then 7–21 days of production: a flat stream of exports."""
    stream: dict = {
        "destination": "XX",
        "rate_per_wd": 20.0,
        "production_days": {"kind": "uniform", "low": 7, "high": 21},
    }
    if kind == "contracts":
        stream["month_factors"] = [1.0, 0.4] + [1.0] * 10
    data = authority_only(
        days=243,
        start=dt.date(2025, 10, 1),
        reviewers=1000,
        work={"kind": "constant", "value": 30},
        streams=[stream],
        countries=("CN", "XX"),
    )
    if kind == "production":
        data["production"] = {
            "windows": [{"around": "spring_festival", "from_day": -7, "to_day": 14, "pace": 0.1}]
        }
    return build(data)


def _monthly(sc: sim.Scenario, engine: str) -> dict[str, float]:
    ex = sim.run(sc, seed=3, engine=engine).exports
    m = ex.groupby("month")["tonnes"].sum()
    return {str(k)[:7]: float(v) for k, v in m.items()}


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_a_shutdown_shows_at_customs_in_the_festival_month_while_licences_are_needed(engine):
    flat = _monthly(_controls_over_the_festival(None), engine)
    shut = _monthly(_controls_over_the_festival("production"), engine)
    contracts = _monthly(_controls_over_the_festival("contracts"), engine)
    # months before and well after the festival are untouched (common random numbers)
    for m in ("2025-12", "2026-01", "2026-04", "2026-05"):
        assert shut[m] == pytest.approx(flat[m]), m
    assert shut["2026-02"] < 0.6 * flat["2026-02"], "the dip is at customs in February"
    assert shut["2026-03"] == pytest.approx(flat["2026-03"], rel=0.15), "no echo in March"
    # the old way: fewer February contracts reach customs only after the licence wait
    assert contracts["2026-02"] == pytest.approx(flat["2026-02"], rel=0.05)
    assert min(contracts["2026-03"], contracts["2026-04"]) < 0.85 * flat["2026-03"]


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_contracts_due_while_the_makers_are_closed_lapse_and_are_accounted(engine):
    sc = _controls_over_the_festival("production")
    res = sim.run(sc, seed=3, engine=engine)
    sh = res.shipments
    lapsed = sh[sh["lapsed_t"] > 0]
    window = (np.datetime64("2026-02-10"), np.datetime64("2026-03-04"))  # day -7 .. +14
    assert len(lapsed) > 50
    assert (lapsed["cancelled_at"] >= window[0]).all()
    assert (lapsed["cancelled_at"] < window[1]).all()
    assert lapsed["departed_at"].isna().all() and lapsed["presented_at"].isna().all()
    assert np.allclose(lapsed["lapsed_t"], lapsed["tonnes"])
    # at a tenth of the pace, about nine in ten contracts licensed in the window lapse
    lic = res.licences
    inside = lic[(lic["decided_at"] >= window[0]) & (lic["decided_at"] < window[1])]
    share = sh.set_index("shipment").loc[inside["shipment"], "lapsed_t"].gt(0).mean()
    assert 0.8 < share < 0.97, share


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_an_exporter_closed_for_a_window_finishes_orders_after_it(engine):
    start = dt.date(2025, 1, 1)
    closed = {"windows": [{"start": "2025-01-20", "end": "2025-02-03", "pace": 0.0}]}
    runs = {}
    for name, production in (("open", None), ("closed", closed)):
        data = supply_chain(days=120, start=start, bg_rate=0.0)
        data["authority"]["reviewers"] = 50
        if production:
            data["production"] = production
        runs[name] = sim.run(build(data), seed=2, engine=engine).shipments
    days = lambda s: (s - np.datetime64(start)).dt.total_seconds() / 86400  # noqa: E731
    for name, sh in runs.items():
        sh = sh[sh["source"] == "order"]
        presented = days(sh["presented_at"]).dropna().to_numpy()
        if name == "closed":  # nothing is finished while the factory is closed
            assert not ((presented > 19) & (presented < 34)).any()
        else:
            assert ((presented > 19) & (presented < 34)).any()


def test_a_window_naming_an_unknown_country_is_a_scenario_error():
    data = supply_chain(days=60)
    data["production"] = {
        "windows": [{"country": "XX", "start": "2025-01-05", "end": "2025-01-09", "pace": 0.5}]
    }
    with pytest.raises(sim.ScenarioError) as e:
        build(data)
    msg = str(e.value)
    assert "production.windows[0].country" in msg and "unknown country" in msg, msg
    assert "'XX'" in msg and "CN, DE, US" in msg, msg  # the bad value and what is allowed
