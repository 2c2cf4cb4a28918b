"""Property tests: material and demand are conserved in random small scenarios.

For every manufacturer, whatever the policy, calendar, replenishment rule or supplier
mix:

* tonnes ordered = delivered + in transit + awaiting a licence + at the exporter
  (approved or unlicensed, not yet shipped) + denied + expired, and the engine's own
  ``on_order`` equals the undelivered, un-cancelled part;
* inventory is never negative, and initial + delivered − consumed = final inventory;
* lost mode: demand = consumed + shortfall every day; backlog mode: cumulative demand
  = cumulative consumption + backlog every day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator as sim

TOL = 1e-6  # tonnes

START = dt.date(2025, 3, 1)


def _dist(draw, lo: float, hi: float) -> dict[str, Any]:
    kind = draw(st.sampled_from(["constant", "exponential", "lognormal", "uniform"]))
    mean = draw(st.floats(lo, hi))
    if kind == "constant":
        return {"kind": "constant", "value": mean}
    if kind == "exponential":
        return {"kind": "exponential", "mean": mean}
    if kind == "lognormal":
        return {"kind": "lognormal", "mean": mean, "sd": mean * draw(st.floats(0.1, 1.0))}
    return {"kind": "uniform", "low": 0.5 * mean, "high": 1.5 * mean}


@st.composite
def scenarios(draw) -> dict[str, Any]:
    days = draw(st.integers(60, 200))
    iso = lambda n: (START + dt.timedelta(days=n)).isoformat()  # noqa: E731
    has_alt = draw(st.booleans())
    exporters = [
        {
            "id": "cn1",
            "country": "CN",
            "products": ["magnet"],
            "capacity_t_per_month": draw(st.floats(20, 600)),
            "lead_time_days": _dist(draw, 0.5, 10),
        }
    ]
    if has_alt:
        ramp_day = draw(st.integers(0, days - 1))
        exporters.append(
            {
                "id": "alt1",
                "country": "AU",
                "products": ["magnet"],
                "licensed": False,
                "capacity_t_per_month": draw(st.sampled_from([0.0, 5.0, 20.0])),
                "ramp": [{"date": iso(ramp_day), "capacity_t_per_month": draw(st.floats(0, 200))}],
            }
        )
    lanes = []
    for origin in ["CN", "AU"] if has_alt else ["CN"]:
        for dest in ("DE", "US"):
            lanes.append(
                {
                    "id": f"{origin}-{dest}-sea",
                    "origin": origin,
                    "destination": dest,
                    "transit_days": _dist(draw, 5, 40),
                }
            )
            lanes.append(
                {
                    "id": f"{origin}-{dest}-air",
                    "origin": origin,
                    "destination": dest,
                    "mode": "air",
                    "transit_days": _dist(draw, 0.5, 4),
                }
            )
    mfrs = []
    for i in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            repl = {
                "kind": "order_up_to",
                "review_days": draw(st.integers(1, 14)),
                "safety_days": draw(st.floats(0, 20)),
            }
        else:
            repl = {
                "kind": "s_S",
                "safety_days": draw(st.floats(0, 20)),
                "order_days": draw(st.floats(5, 60)),
            }
        if has_alt and draw(st.booleans()):
            share = draw(st.floats(0.05, 0.95))
            sups = [{"exporter": "cn1", "share": share}, {"exporter": "alt1", "share": 1 - share}]
        elif has_alt and draw(st.booleans()):
            sups = [{"exporter": "alt1"}]
        else:
            sups = [{"exporter": "cn1"}]
        m = {
            "id": f"m{i}",
            "country": draw(st.sampled_from(["DE", "US"])),
            "material": "magnet",
            "end_use": draw(st.sampled_from(["civil", "defence"])),
            "units_per_day": draw(st.floats(50, 3000)),
            "kg_per_unit": draw(st.floats(0.2, 3)),
            "demand_cv": draw(st.sampled_from([0.0, 0.3])),
            "operating_days": draw(st.sampled_from(["all", "weekdays"])),
            "initial_cover_days": draw(st.floats(0, 60)),
            "replenishment": repl,
            "lead_time": {
                "initial_days": draw(st.floats(5, 90)),
                "adapt": draw(st.sampled_from([0.0, 0.3])),
            },
            "suppliers": sups,
            "unmet_demand": draw(st.sampled_from(["lost", "backlog"])),
        }
        if draw(st.booleans()):
            m["expedite"] = {"mode": "air", "below_cover_days": draw(st.floats(1, 20))}
        mfrs.append(m)
    d0 = draw(st.integers(0, days - 1))
    d1 = draw(st.integers(d0, days - 1))
    slow_rule: dict[str, Any] = {"review_time_factor": draw(st.floats(1.0, 4.0))}
    if draw(st.booleans()):
        slow_rule["capacity_factor"] = draw(st.sampled_from([0.0, 0.5]))
    if draw(st.booleans()):
        slow_rule["suspend"] = True
    if draw(st.booleans()):
        slow_rule["licence_validity_days"] = draw(st.integers(1, 30))
    rules = [slow_rule]
    if draw(st.booleans()):
        rules.append({"where": {"end_use": "defence"}, "approval_probability": 0.0})
    return {
        "name": "random",
        "start": START.isoformat(),
        "end": iso(days - 1),
        "calendar": draw(st.sampled_from([{"all_working": True}, {"country": "CN"}])),
        "countries": [{"id": c} for c in ("CN", "AU", "DE", "US")],
        "products": [{"id": "magnet"}],
        "authority": {
            "reviewers": draw(st.integers(1, 6)),
            "review_work_wd": _dist(draw, 0.5, 20),
            "statutory_limit_wd": draw(st.sampled_from([45, 20, None])),
            "deadline_rule": draw(st.sampled_from(["decide", "approve", "deny", "continue"])),
            "intake": {
                "return_probability": draw(st.floats(0, 0.5)),
                "resubmit_days": _dist(draw, 1, 20),
                "screening_wd": _dist(draw, 0.01, 3),
            },
            "information_requests": {
                "probability": draw(st.floats(0, 1)),
                "response_days": _dist(draw, 1, 30),
                "max_per_application": draw(st.integers(0, 3)),
            },
            "approval": {
                "probability": draw(st.floats(0.3, 1)),
                "partial_probability": draw(st.floats(0, 1)),
                "partial_fraction": {"kind": "uniform", "low": 0.1, "high": 0.9},
            },
            "licence_validity_days": draw(st.integers(20, 365)),
            "background": [
                {
                    "destination": "US",
                    "product": "magnet",
                    "rate_per_wd": draw(st.one_of(st.just(0.0), st.floats(0.01, 2))),
                }
            ],
        },
        "policy": {
            "regimes": [{"name": "slow", "rules": rules}],
            "timeline": [
                {"date": iso(d0), "regime": "slow"},
                {"date": iso(d1), "regime": "neutral"},
            ],
        },
        "exporters": exporters,
        "lanes": lanes,
        "manufacturers": mfrs,
    }


def _by_order(ev: pd.DataFrame, kind: str) -> pd.Series:
    return ev[ev["kind"] == kind].groupby("order")["tonnes"].sum()


def check_conservation(res: sim.RunResult) -> None:
    sc, tr = res.scenario, res.trace
    end = tr.plants_end
    on_order, inventory = end["on_order_t"], end["inventory_t"]
    initial, backlog_end = end["initial_inventory_t"], end["backlog_t"]
    ev = res.events
    goods = ev[ev["order"] >= 0]
    orders = goods[goods["kind"] == "order"].set_index("order")
    assert orders.index.is_unique
    lic = res.licences
    mlic = lic[lic["source"] == "manufacturer"].set_index("order")
    assert mlic.index.is_unique, "an order produced two applications"
    per = pd.DataFrame({"m": orders["manufacturer"], "ordered": orders["tonnes"]})
    for kind in ("denied", "expired", "shipped", "delivered"):
        per[kind] = _by_order(goods, kind).reindex(per.index, fill_value=0.0)
    per["licensed"] = per.index.isin(mlic.index)
    per["pending"] = 0.0
    per["approved"] = per["ordered"]  # unlicensed orders go straight to the exporter
    if len(mlic):
        li = mlic.reindex(per.index[per["licensed"]])
        pend = li["outcome"] == "pending"
        np.testing.assert_allclose(li["tonnes"], per.loc[li.index, "ordered"], atol=TOL)
        per.loc[li.index, "pending"] = np.where(pend, li["tonnes"], 0.0)
        per.loc[li.index, "approved"] = np.where(pend, 0.0, li["approved_t"])
        dec = li[~pend]
        np.testing.assert_allclose(
            per.loc[dec.index, "denied"],
            dec["tonnes"] - dec["approved_t"],
            atol=TOL,
            err_msg="denied tonnes != applied - approved",
        )
    per["at_exporter"] = per["approved"] - per["expired"] - per["shipped"]
    per["in_transit"] = per["shipped"] - per["delivered"]
    for col in ("at_exporter", "in_transit", "pending", "denied", "expired", "delivered"):
        bad = per[per[col] < -TOL]
        assert bad.empty, f"negative {col}:\n{bad}"
    total = per[["delivered", "in_transit", "pending", "at_exporter", "denied", "expired"]].sum(
        axis=1
    )
    np.testing.assert_allclose(total, per["ordered"], atol=TOL, err_msg="order not conserved")
    # an expired licence means nothing of that order was shipped
    exp = per[per["expired"] > TOL]
    assert (exp["shipped"] <= TOL).all()

    daily = res.daily
    n = len(sc.manufacturers)
    H = tr.horizon
    for i, m in enumerate(sc.manufacturers):
        p = per[per["m"] == i]
        d = daily[daily["manufacturer"] == m.id]
        assert len(d) == H
        ordered = p["ordered"].sum()
        undelivered = ordered - p[["delivered", "denied", "expired"]].sum().sum()
        outstanding = p[["in_transit", "pending", "at_exporter"]].sum().sum()
        assert abs(on_order[i] - undelivered) < TOL * max(1.0, ordered), (
            f"{m.id}: engine on_order {on_order[i]} != ordered - delivered - denied"
            f" - expired = {undelivered}"
        )
        assert abs(outstanding - undelivered) < TOL * max(1.0, ordered)
        # inventory
        inv = d["inventory_t"].to_numpy()
        assert (inv >= -TOL).all(), f"{m.id}: negative inventory {inv.min()}"
        assert inventory[i] >= -TOL
        consumed = d["consumed_t"].to_numpy()
        delivered = p["delivered"].sum()
        balance = initial[i] + delivered - consumed.sum()
        assert abs(balance - inventory[i]) < TOL * max(1.0, delivered), (
            f"{m.id}: initial + delivered - consumed = {balance}, final inventory {inventory[i]}"
        )
        demand, short = d["demand_t"].to_numpy(), d["shortfall_t"].to_numpy()
        backlog = d["backlog_t"].to_numpy()
        assert (consumed >= -TOL).all() and (short >= -TOL).all()
        if m.unmet_demand == "lost":
            np.testing.assert_allclose(consumed + short, demand, atol=TOL)
            assert (backlog == 0).all()
        else:
            np.testing.assert_allclose(
                np.cumsum(demand),
                np.cumsum(consumed) + backlog,
                atol=TOL * H,
                err_msg=f"{m.id}: backlog does not account for unmet demand",
            )
            assert (backlog >= -TOL).all()
            assert abs(demand.sum() - consumed.sum() - backlog_end[i]) < TOL * H
        # on_order column: last recorded value + later changes = final state
        assert d["on_order_t"].to_numpy()[-1] >= -TOL
    assert per["m"].isin(range(n)).all()
    # exports frame totals what was shipped
    ex = res.exports
    shipped = ex.loc[ex["origin"] != "licensing", "tonnes"].sum()
    assert abs(shipped - per["shipped"].sum()) < TOL * max(1.0, shipped)
    # every application decided at most once; decisions never precede submission
    decided = lic[lic["outcome"] != "pending"]
    assert (decided["decided_days"] >= decided["submitted_days"] - 1e-9).all()
    assert (ev.loc[ev["kind"] == "decide", "application"].value_counts() <= 1).all()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_material_and_demand_are_conserved(data, seed):
    res = sim.run(sim.scenario_from_dict(data), seed=seed)
    check_conservation(res)


def test_conservation_check_sees_denials_expiries_and_shortages():
    """A fixed scenario where every branch is exercised, so the property above is not
    vacuous: denials (partial approvals), expiries (short licences, slow exporter),
    goods in transit, pending applications, unlicensed supply, lost and backlog."""
    from builders import supply_chain

    data = supply_chain(
        days=200,
        reviewers=2,
        bg_rate=0.3,
        work={"kind": "exponential", "mean": 8},
        approval={"probability": 0.7, "partial_probability": 0.5},
        licence_validity_days=20,
        exporter={"capacity_t_per_month": 60},
        manufacturer={"initial_cover_days": 10},
    )
    m2 = dict(
        data["manufacturers"][0],
        id="m2",
        unmet_demand="backlog",
        suppliers=[{"exporter": "cn1", "share": 0.5}, {"exporter": "au1", "share": 0.5}],
    )
    data["manufacturers"].append(m2)
    data["countries"].append({"id": "AU"})
    data["exporters"].append(
        {
            "id": "au1",
            "country": "AU",
            "products": ["magnet"],
            "licensed": False,
            "capacity_t_per_month": 30,
        }
    )
    data["lanes"].append(
        {
            "id": "au-de",
            "origin": "AU",
            "destination": "DE",
            "transit_days": {"kind": "constant", "value": 20},
        }
    )
    res = sim.run(sim.scenario_from_dict(data), seed=1)
    check_conservation(res)
    kinds = res.events["kind"].value_counts()
    for k in ("denied", "expired", "shipped", "delivered"):
        assert kinds.get(k, 0) > 0, f"no {k} events: scenario does not exercise them"
    lic = res.licences
    assert (lic["outcome"] == "partial").any() and (lic["outcome"] == "pending").any()
    d = res.daily
    assert (d["shortfall_t"] > 0).any() and (d["backlog_t"] > 0).any()


def test_exports_flag_licensed_shipments_by_supplier_not_by_country():
    """An unlicensed stockholder in China ships outside the licensing system: its
    shipments are not 'licensed' exports even though they leave from CN."""
    from builders import supply_chain

    data = supply_chain(days=150, bg_rate=0)
    data["exporters"].append(
        {
            "id": "cn_stock",
            "country": "CN",
            "products": ["magnet"],
            "licensed": False,
            "capacity_t_per_month": 1000,
        }
    )
    data["manufacturers"][0]["suppliers"] = [
        {"exporter": "cn1", "share": 0.5},
        {"exporter": "cn_stock", "share": 0.5},
    ]
    res = sim.run(sim.scenario_from_dict(data), seed=2)
    ev, lic = res.events, res.licences
    shipped = ev[ev["kind"] == "shipped"]
    from_licensed = shipped["order"].isin(lic["order"])
    assert from_licensed.any() and (~from_licensed).any()
    ex = res.exports
    assert ex.loc[ex["licensed"], "tonnes"].sum() == pytest.approx(
        shipped.loc[from_licensed, "tonnes"].sum()
    )
    assert ex.loc[~ex["licensed"], "tonnes"].sum() == pytest.approx(
        shipped.loc[~from_licensed, "tonnes"].sum()
    )
    # the ensemble digest counts licensed exports only
    assert res.summary.exports.sum() == pytest.approx(ex.loc[ex["licensed"], "tonnes"].sum())
