"""The physical chain from licence to factory line, on tiny hand-computed cases.

Every case uses an all-working-days calendar and constant times, so that each date can
be computed by hand (the comment next to each assertion does it).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from builders import START, authority_only, build, day, supply_chain

import simulator as sim


def const(v: float) -> dict[str, Any]:
    return {"kind": "constant", "value": v}


def goods(res: sim.RunResult) -> pd.DataFrame:
    ev = res.events
    return ev[ev["application"].isna()]


def first(ev: pd.DataFrame, shipment: int, kind: str) -> float:
    rows = ev[(ev["shipment"] == shipment) & (ev["kind"] == kind)]
    return float(rows["time_days"].iloc[0])


# ------------------------------------------------------------------ licence at customs


def _one_order(lead: float, controls_day: int) -> sim.Scenario:
    """One manufacturer with no stock orders on day 0; controls begin on ``controls_day``;
    the exporter makes the order at once and takes ``lead`` days to present it."""
    data = supply_chain(
        days=60,
        bg_rate=0,
        reviewers=1,
        work=const(2),
        manufacturer={
            "initial_cover_days": 0,
            "replenishment": {"kind": "order_up_to", "review_days": 365, "safety_days": 0},
            "lead_time": {"initial_days": 10},
        },
        exporter={"capacity_t_per_month": 1e9, "lead_time_days": const(lead)},
        policy={
            "regimes": [{"name": "open", "rules": [{"licence_required": False}]}],
            "initial": "open",
            "timeline": [{"date": day(START, controls_day), "regime": "neutral"}],
        },
    )
    data["customs"] = {"handling_days": const(3)}
    return build(data)


def test_an_order_placed_before_the_controls_needs_a_licence_at_customs():
    res = sim.run(_one_order(lead=15, controls_day=10), seed=0)
    ev = goods(res)
    (sid,) = ev.loc[ev["kind"] == "order", "shipment"].unique()
    made = first(ev, sid, "presented")
    # ordered on day 0, made at once (375 t at 1e9 t/month: 1e-5 days), lead 15
    assert made == pytest.approx(15, abs=1e-3)
    lic = res.licences
    assert len(lic) == 1, "controls began on day 10: the goods need a licence at customs"
    assert lic["submitted_days"].iloc[0] == pytest.approx(made)  # applied at customs
    decided = lic["decided_days"].iloc[0]
    assert decided == pytest.approx(made + 2)  # 2 working days of review
    assert first(ev, sid, "departed") == pytest.approx(decided + 3)  # 3 days of handling
    assert first(ev, sid, "arrived") == pytest.approx(decided + 3 + 10)  # 10 days at sea


def test_goods_presented_before_the_controls_leave_without_a_licence():
    res = sim.run(_one_order(lead=5, controls_day=10), seed=0)
    ev = goods(res)
    (sid,) = ev.loc[ev["kind"] == "order", "shipment"].unique()
    assert len(res.licences) == 0
    assert first(ev, sid, "departed") == pytest.approx(5 + 3, abs=1e-3)  # presented day 5


def test_pipeline_goods_at_the_exporter_need_a_licence_those_at_sea_do_not():
    data = supply_chain(days=40, bg_rate=0, reviewers=1, work=const(4))
    m = data["manufacturers"][0]
    # (s, S) with s = 0 and 100 days on hand: no orders; only the pipeline moves
    m["replenishment"] = {"kind": "s_S", "safety_days": 0, "order_days": 10}
    m["lead_time"] = {"initial_days": 0}
    m["initial_cover_days"] = 100
    m["initial_shipments"] = [
        {"stage": "in_transit", "day": 6, "tonnes": 5},
        {"stage": "at_exporter", "day": 2, "tonnes": 7},
    ]
    res = sim.run(build(data), seed=0)
    ev = goods(res)
    sea = ev[(ev["kind"] == "arrived") & (ev["tonnes"] == 5)]
    assert sea["time_days"].tolist() == [6.0]
    assert len(res.licences) == 1 and res.licences["tonnes"].iloc[0] == 7
    assert res.licences["submitted_days"].iloc[0] == 2.0  # presented on day 2
    exp = res.exports
    assert exp["tonnes"].sum() == pytest.approx(7)  # goods at sea left before the start


# ------------------------------------------------------------------ the physical chain


def test_background_departure_and_arrival_are_decision_plus_production_port_transit():
    data = authority_only(
        days=120,
        reviewers=3,
        work=const(1.5),
        streams=[
            {
                "destination": "XX",
                "rate_per_wd": 0.5,
                "production_days": const(4),
                "transit_days": const(7),
            }
        ],
    )
    data["customs"] = {"handling_days": const(2)}
    res = sim.run(build(data), seed=3)
    lic = res.licences
    ev = goods(res)
    dec = lic.set_index("shipment")["decided_days"]
    dep = ev[ev["kind"] == "departed"].set_index("shipment")["time_days"]
    arr = ev[ev["kind"] == "arrived"].set_index("shipment")["time_days"]
    both = dep.index.intersection(dec.index)
    assert len(both) > 20
    np.testing.assert_allclose(dep[both], dec[both] + 4 + 2)  # production 4, port 2
    inner = arr.index.intersection(both)
    np.testing.assert_allclose(arr[inner], dep[inner] + 7)  # transit 7
    # monthly exports count departures, arrivals count arrivals
    assert res.exports["tonnes"].sum() == pytest.approx(
        ev.loc[ev["kind"] == "departed", "tonnes"].sum()
    )
    assert res.arrivals["tonnes"].sum() == pytest.approx(arr.size * 1.0)


# ------------------------------------------------------------------ customs holds


def _held(release: float | None, hold_days: tuple[int, int] = (5, 30)) -> sim.RunResult:
    data = authority_only(
        days=80,
        reviewers=50,
        work=const(0.5),
        streams=[{"destination": "XX", "rate_per_wd": 2.0, "tonnes": const(10)}],
        policy={
            "regimes": [{"name": "hold", "rules": [{"customs_hold": 1.0}]}],
            "timeline": [
                {"date": day(START, hold_days[0]), "regime": "hold"},
                {"date": day(START, hold_days[1]), "regime": "neutral"},
            ],
        },
    )
    data["customs"] = {"handling_days": const(1)}
    if release is not None:
        data["customs"]["release_t_per_day"] = release
    return sim.run(build(data), seed=0)


def test_a_customs_hold_keeps_goods_at_the_port_and_drains_at_the_release_throughput():
    res = _held(release=20.0)
    ev = goods(res)
    held = ev[ev["kind"] == "held"]
    released = ev[ev["kind"] == "released"]
    assert len(held) > 20 and set(held["shipment"]) == set(released["shipment"])
    assert (held["time_days"] >= 5).all() and (held["time_days"] < 31).all()
    assert (released["time_days"] == 30).all()  # all released when the hold ends
    dep = ev[ev["kind"] == "departed"].set_index("shipment")["time_days"]
    out = dep[released["shipment"]].sort_values().to_numpy()
    # 10 t each at 20 t/day: one every half day, first at 30.5, in the order held
    np.testing.assert_allclose(out, 30 + 0.5 * np.arange(1, out.size + 1))
    assert dep[released["shipment"]].is_monotonic_increasing
    # goods cleared while the backlog drains queue behind it
    late = ev[(ev["kind"] == "departed") & ~ev["shipment"].isin(released["shipment"])]
    during = late[(late["time_days"] > 30) & (late["time_days"] <= out[-1] + 0.5)]
    assert (during["time_days"] > out[-1] - 1e-9).all()


def test_without_a_release_throughput_held_goods_leave_at_once():
    res = _held(release=None)
    ev = goods(res)
    released = ev.loc[ev["kind"] == "released", "shipment"]
    dep = ev[ev["kind"] == "departed"].set_index("shipment")["time_days"]
    assert len(released) > 20 and (dep[released] == 30).all()


def test_an_inspection_delays_a_share_of_shipments():
    data = authority_only(
        days=200,
        reviewers=50,
        work=const(0.5),
        streams=[{"destination": "XX", "rate_per_wd": 3.0}],
        policy={
            "regimes": [
                {
                    "name": "inspect",
                    "rules": [{"inspection": {"probability": 0.25, "days": const(6)}}],
                }
            ],
            "initial": "inspect",
        },
    )
    data["customs"] = {"handling_days": const(1)}
    res = sim.run(build(data), seed=2)
    ev = goods(res)
    pres = ev[ev["kind"] == "presented"].set_index("shipment")["time_days"]
    dep = ev[ev["kind"] == "departed"].set_index("shipment")["time_days"]
    both = pres.index.intersection(dep.index)
    dwell = (dep[both] - pres[both]).round(9)
    assert set(dwell) == {1.0, 7.0}  # handling 1, or 1 + 6 when inspected
    assert 0.15 < (dwell == 7.0).mean() < 0.35


# ------------------------------------------------------------------ files that sit


def _parked(park: dict[str, Any], timeline: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    policy: dict[str, Any] = {
        "regimes": [{"name": "sit", "rules": [{"park": park}]}],
        "initial": "sit",
    }
    if timeline is not None:
        policy["timeline"] = timeline
    data = authority_only(
        days=150,
        reviewers=20,
        work=const(2),
        streams=[{"destination": "XX", "rate_per_wd": 1.0}],
        policy=policy,
    )
    return sim.run(build(data), seed=4).licences


def test_a_parked_file_waits_the_declared_days():
    lic = _parked({"probability": 1.0, "days": const(20)})
    d = lic[lic["outcome"] != "pending"]
    assert len(d) > 50
    # reviewed 2 working days after acceptance, then parked 20 calendar days
    np.testing.assert_allclose(d["decided_days"], d["accepted_days"] + 2 + 20)
    np.testing.assert_allclose(d["parked_days"], 20)


def test_a_file_parked_until_the_policy_changes_is_decided_then():
    lic = _parked({"probability": 1.0}, timeline=[{"date": day(START, 60), "regime": "neutral"}])
    before = lic[lic["accepted_days"] + 2 < 60]
    assert len(before) > 30
    assert (before["decided_days"] == 60).all()  # all sat until the regime changed
    after = lic[(lic["accepted_days"] > 60) & (lic["outcome"] != "pending")]
    np.testing.assert_allclose(after["decided_days"], after["accepted_days"] + 2)


def test_parking_a_share_parks_about_that_share():
    lic = _parked({"probability": 0.3, "days": const(10)})
    d = lic[lic["outcome"] != "pending"]
    share = (d["parked_days"] > 0).mean()
    assert 0.2 < share < 0.4


# ------------------------------------------------------------------ deadline rules


@pytest.mark.parametrize(
    ("rule", "decided_after", "at_deadline"),
    [
        ("decide", 10, True),  # decided at the limit
        ("approve", 10, True),
        ("deny", 10, True),
        ("extend", 15, True),  # limit + 5 working days of extension, then decided
        ("continue", 30, False),  # the limit is ignored: the 30 days of work run out
    ],
)
def test_each_deadline_rule_decides_as_documented(rule, decided_after, at_deadline):
    data = authority_only(
        days=200,
        reviewers=100,
        work=const(30),
        limit=10,
        rule=rule,
        streams=[{"destination": "XX", "rate_per_wd": 0.3}],
        deadline_extension_wd=const(5),
    )
    lic = sim.run(build(data), seed=1).licences
    d = lic[lic["outcome"] != "pending"]
    assert len(d) > 20
    np.testing.assert_allclose(d["decided_days"], d["accepted_days"] + decided_after)
    assert (d["at_deadline"] == at_deadline).all()
    assert d["extended"].all() == (rule == "extend")
    if rule == "approve":
        assert (d["outcome"] == "approved").all()
    if rule == "deny":
        assert (d["outcome"] == "denied").all()


# ------------------------------------------------------------------ time-varying background


def _arrivals(stream: dict[str, Any], days: int = 120, reps: int = 20) -> pd.DataFrame:
    data = authority_only(
        days=days,
        reviewers=1000,
        work=const(0.1),
        streams=[{"destination": "XX", "rate_per_wd": 10.0, **stream}],
    )
    sc = build(data)
    rows = []
    for rep in range(reps):
        lic = sim.run(sc, seed=0, rep=rep).licences
        month = (pd.Timestamp(START) + pd.to_timedelta(lic["submitted_days"], unit="D")).dt.month
        rows.append(month.value_counts().reindex([1, 2, 3, 4], fill_value=0))
    return pd.DataFrame(rows)


def test_a_monthly_profile_scales_arrivals_month_by_month():
    factors = [1.0, 0.5, 0.0] + [2.0] * 9
    counts = _arrivals({"month_factors": factors}).mean()
    # all-working calendar: Jan 31 days × 10 × 1, Feb 28 × 10 × 0.5, Mar 0, Apr 30 × 10 × 2
    expect = {1: 310, 2: 140, 3: 0, 4: 600}
    for month, n in expect.items():
        sd = max(np.sqrt(n / 20), 1e-9)  # Poisson, mean of 20 replications
        assert abs(counts[month] - n) <= 4 * sd, (month, counts[month], n)
    assert counts[3] == 0


def test_a_dated_rate_change_applies_from_its_date():
    counts = _arrivals({"rate_changes": [{"date": "2025-02-15", "factor": 0.0}]}).mean()
    assert counts[3] == 0 and counts[4] == 0
    # February: 14 days at the base rate, then none
    assert abs(counts[2] - 140) <= 4 * np.sqrt(140 / 20)


# ------------------------------------------------------------------ bill of materials


def test_a_two_part_line_stops_when_its_scarcer_part_runs_out():
    data = supply_chain(days=40, bg_rate=0)
    m = data["manufacturers"][0]
    for k in ("material", "kg_per_unit", "initial_cover_days", "replenishment", "lead_time"):
        m.pop(k, None)
    m.pop("suppliers")
    no_orders = {"kind": "order_up_to", "review_days": 365, "safety_days": 0}
    data["exporters"][0]["capacity_t_per_month"] = 0  # nothing more ever arrives
    data["products"].append({"id": "coil"})
    data["exporters"][0]["products"] = ["magnet", "coil"]
    m["parts"] = [
        {
            "id": "magnet",
            "material": "magnet",
            "kg_per_unit": 2.0,
            "initial_cover_days": 500,
            "replenishment": no_orders,
            "suppliers": [{"exporter": "cn1"}],
        },
        {
            "id": "coil",
            "material": "coil",
            "kg_per_unit": 0.5,
            "initial_cover_days": 10,
            "replenishment": no_orders,
            "suppliers": [{"exporter": "cn1"}],
        },
    ]
    res = sim.run(build(data), seed=0)
    d = res.daily
    line = d[d["part"] == "coil"].set_index("day")
    assert (line.loc[:9, "made_units"] == 1000).all() and (line.loc[10:, "made_units"] == 0).all()
    magnet = d[d["part"] == "magnet"].set_index("day")
    # plentiful magnets are used only while coils last: 10 days × 1000 units × 2 kg
    assert magnet["inventory_t"].iloc[-1] == pytest.approx(500 * 2.0 - 10 * 2.0)
    assert (magnet["stockout_t"] == 0).all() and (magnet["shortfall_t"].loc[10:] == 2.0).all()
    k = res.kpis.set_index(["manufacturer", "part"])
    assert k.loc[("m1", pd.NA), "days_to_first_shortage"] == 10  # the first line stop
    assert k.loc[("m1", pd.NA), "first_shortage_date"] == pd.Timestamp(
        res.scenario.start
    ) + pd.Timedelta(days=10)
    assert k.loc[("m1", pd.NA), "lost_units"] == pytest.approx(30 * 1000)
    assert k.loc[("m1", "coil"), "days_to_first_shortage"] == 10
    assert k.loc[("m1", "magnet"), "any_shortage"] == 0
    assert res.kpi("days_to_first_shortage", "m1", "coil") == 10


def test_a_one_part_line_is_the_same_written_either_way():
    data = supply_chain(days=90)
    parted = copy.deepcopy(data)
    m = parted["manufacturers"][0]
    part = {k: m.pop(k) for k in ("material", "kg_per_unit", "initial_cover_days", "lead_time")}
    part.update(id="magnet", suppliers=m.pop("suppliers"), replenishment=m.pop("replenishment"))
    m["parts"] = [part]
    a = sim.run(build(data), seed=5)
    b = sim.run(build(parted), seed=5)
    pd.testing.assert_frame_equal(a.licences, b.licences)
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
