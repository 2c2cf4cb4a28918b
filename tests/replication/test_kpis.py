"""KPIs (:mod:`simulator.replication.kpis`) on hand-computed cases, directly and through
the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import build, supply_chain

import simulator as sim
from simulator.replication.kpis import (
    AUTHORITY_KPIS,
    MANUFACTURER_KPIS,
    PART_KPIS,
    authority_kpis,
    manufacturer_kpis,
    part_kpis,
)

# ------------------------------------------------------------------ manufacturer KPIs


def test_manufacturer_kpis_lost_mode_recovered():
    demand = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])  # units
    short = np.array([0.0, 0.0, 0.5, 2.0, 0.0, 1.0, 0.0, 0.0])
    k = manufacturer_kpis(demand, short, t_per_unit=0.0005)  # 0.5 kg per unit
    assert set(k) == set(MANUFACTURER_KPIS)
    assert k["fill_rate"] == pytest.approx(1 - 3.5 / 16)
    assert k["shortfall_t"] == pytest.approx(3.5 * 0.0005)
    assert k["lost_units"] == pytest.approx(3.5)
    assert k["shortage_days"] == 3  # days 2, 3, 5
    assert k["days_to_first_shortage"] == 2
    assert k["days_to_recover"] == 4  # first short day 2 .. end of last short day 5


def test_manufacturer_kpis_never_short():
    demand = np.array([1.0, 0.0, 1.0])
    k = manufacturer_kpis(demand, np.zeros(3), t_per_unit=0.002)
    assert k["fill_rate"] == 1.0 and k["shortfall_t"] == 0.0 and k["lost_units"] == 0.0
    assert k["shortage_days"] == 0
    assert math.isnan(k["days_to_first_shortage"])
    assert math.isnan(k["days_to_recover"])


def test_manufacturer_kpis_still_short_at_the_end():
    demand = np.ones(5)
    short = np.array([0.0, 1.0, 0.0, 0.2, 1.0])
    k = manufacturer_kpis(demand, short, t_per_unit=0.001)
    assert k["days_to_first_shortage"] == 1
    assert k["shortage_days"] == 3
    assert math.isnan(k["days_to_recover"]), "not recovered within the horizon"


def test_manufacturer_kpis_backlog_mode_counts_only_what_is_still_owed():
    demand = np.ones(6)
    short = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 0.0])  # made up later from deliveries
    k = manufacturer_kpis(
        demand, short, t_per_unit=0.00025, backlog_end_units=0.5, backlog_mode=True
    )
    assert k["shortfall_t"] == pytest.approx(2.0 * 0.00025)
    assert k["fill_rate"] == pytest.approx(1 - 2 / 6)
    assert k["lost_units"] == pytest.approx(0.5)  # units still owed
    assert k["days_to_recover"] == 2
    k0 = manufacturer_kpis(demand, short, 0.00025, backlog_end_units=0.0, backlog_mode=True)
    assert k0["lost_units"] == 0.0


def test_manufacturer_kpis_edge_cases():
    # no demand at all: fill rate 1 by definition
    k = manufacturer_kpis(np.zeros(4), np.zeros(4), t_per_unit=0.0)
    assert k["fill_rate"] == 1.0 and k["lost_units"] == 0.0
    # rounding noise below 1e-6 of the day's demand is not a shortage day
    k = manufacturer_kpis(np.full(3, 10.0), np.array([0.0, 1e-9, 0.0]), t_per_unit=0.001)
    assert k["shortage_days"] == 0 and math.isnan(k["days_to_first_shortage"])
    # a single short day that is the last day: not recovered
    k = manufacturer_kpis(np.ones(3), np.array([0.0, 0.0, 1.0]), t_per_unit=0.001)
    assert k["days_to_first_shortage"] == 2 and math.isnan(k["days_to_recover"])
    # short on day 0 only: recovered after one day
    k = manufacturer_kpis(np.ones(3), np.array([1.0, 0.0, 0.0]), t_per_unit=0.001)
    assert k["days_to_first_shortage"] == 0 and k["days_to_recover"] == 1


def test_part_kpis_count_the_part_s_own_stockouts():
    need = np.full(4, 2.0)
    stockout = np.array([0.0, 2.0, 1.0, 0.0])
    k = part_kpis(need, stockout)
    assert set(k) == set(PART_KPIS)
    assert k["fill_rate"] == pytest.approx(1 - 3 / 8)
    assert k["shortfall_t"] == 3.0 and k["shortage_days"] == 2
    assert k["days_to_first_shortage"] == 1 and k["days_to_recover"] == 2


# ------------------------------------------------------------------ authority KPIs


def test_authority_kpis_hand_computed():
    wait = np.array([1.0, 2.0, 3.0, 4.0, 50.0])
    approved = np.array([True, True, False, True, False])
    k = authority_kpis(wait, approved, limit_wd=45)
    assert set(k) == set(AUTHORITY_KPIS)
    assert k["wait_wd_p50"] == 3.0
    assert k["wait_wd_p90"] == pytest.approx(4 + 0.6 * 46)  # linear interpolation: 31.6
    assert k["wait_wd_p95"] == pytest.approx(4 + 0.8 * 46)  # 40.8
    assert k["wait_wd_mean"] == pytest.approx(12.0)
    assert k["share_over_limit"] == pytest.approx(0.2)
    assert k["approval_rate"] == pytest.approx(0.6)
    assert k["decided"] == 5


def test_authority_kpis_limit_boundary_and_no_limit():
    wait = np.array([45.0, 45.0 + 1e-12, 45.5])
    k = authority_kpis(wait, np.ones(3, bool), limit_wd=45)
    assert k["share_over_limit"] == pytest.approx(1 / 3), "exactly 45 wd is within the limit"
    assert math.isnan(authority_kpis(wait, np.ones(3, bool), limit_wd=None)["share_over_limit"])


def test_authority_kpis_empty():
    k = authority_kpis(np.array([]), np.array([], bool), limit_wd=45)
    assert k["decided"] == 0
    for name in AUTHORITY_KPIS:
        if name != "decided":
            assert math.isnan(k[name]), name


# ------------------------------------------------------------------ through the engine


def _tiny(unmet: str, alt: bool):
    """Demand 1 t/day, 3.5 days of cover. Without ``alt`` the only exporter has no
    capacity (nothing ever arrives); with ``alt`` an unlicensed supplier with ample
    capacity delivers the day-0 order after 5.5 days of transit."""
    data = supply_chain(
        days=12,
        bg_rate=0,
        manufacturer={
            "initial_cover_days": 3.5,
            "unmet_demand": unmet,
            "suppliers": [{"exporter": "au1" if alt else "cn1"}],
        },
        exporter={"capacity_t_per_month": 0},
    )
    data["countries"].append({"id": "AU"})
    data["exporters"].append(
        {
            "id": "au1",
            "country": "AU",
            "products": ["magnet"],
            "licensed": False,
            "capacity_t_per_month": 1e7,
        }
    )
    data["lanes"].append(
        {
            "id": "au-de",
            "origin": "AU",
            "destination": "DE",
            "transit_days": {"kind": "constant", "value": 5.5},
        }
    )
    res = sim.run(build(data), seed=0)
    kp = res.kpis
    return res, kp[kp["manufacturer"] == "m1"].iloc[0]


def test_engine_kpis_never_supplied():
    res, k = _tiny("lost", alt=False)
    d = res.daily
    np.testing.assert_allclose(d["consumed_t"], [1, 1, 1, 0.5] + [0] * 8)
    np.testing.assert_allclose(d["shortfall_t"], [0, 0, 0, 0.5] + [1] * 8)
    assert k["shortfall_t"] == pytest.approx(8.5)
    assert k["fill_rate"] == pytest.approx(1 - 8.5 / 12)
    assert k["lost_units"] == pytest.approx(8500)
    assert k["shortage_days"] == 9
    assert k["days_to_first_shortage"] == 3
    assert math.isnan(k["days_to_recover"])
    assert (res.events["kind"] == "expired").any(), "approved but never producible"


def test_engine_kpis_recovery_lost_and_backlog():
    res, k = _tiny("lost", alt=True)
    d = res.daily
    np.testing.assert_allclose(d["shortfall_t"], [0, 0, 0, 0.5, 1, 1] + [0] * 6, atol=1e-9)
    assert k["shortfall_t"] == pytest.approx(2.5)
    assert k["lost_units"] == pytest.approx(2500)
    assert k["shortage_days"] == 3
    assert k["days_to_first_shortage"] == 3
    assert k["days_to_recover"] == 3
    assert k["fill_rate"] == pytest.approx(1 - 2.5 / 12)

    res, k = _tiny("backlog", alt=True)
    d = res.daily
    np.testing.assert_allclose(d["backlog_t"], [0, 0, 0, 0.5, 1.5, 2.5] + [0] * 6, atol=1e-9)
    np.testing.assert_allclose(d["consumed_t"], [1, 1, 1, 0.5, 0, 0, 3.5] + [1] * 5, atol=1e-9)
    assert k["shortfall_t"] == pytest.approx(2.5)
    assert k["lost_units"] == pytest.approx(0.0), "backlog was made up"
    assert k["days_to_recover"] == 3


def test_engine_authority_kpis_match_the_licences_frame():
    res = sim.run(
        build(
            supply_chain(
                days=200,
                bg_rate=2,
                reviewers=3,
                approval={"probability": 0.6, "partial_probability": 0.3},
            )
        ),
        seed=3,
    )
    lic = res.licences
    d = lic[lic["outcome"] != "pending"]
    k = res.totals.iloc[0]
    assert k["decided"] == len(d) > 100
    assert k["approval_rate"] == pytest.approx(d["outcome"].isin(["approved", "partial"]).mean())
    assert k["wait_wd_mean"] == pytest.approx(d["wait_wd"].mean())
    assert k["wait_wd_p90"] == pytest.approx(d["wait_wd"].quantile(0.9))
    assert k["share_over_limit"] == pytest.approx((d["wait_wd"] > 45 + 1e-9).mean())
