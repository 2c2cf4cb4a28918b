"""Buyers and grades: what background exports do besides waiting.

* Buyers who give up (``authority.withdrawal``): a background file still waiting on the
  authority when its buyer's patience runs out is withdrawn — decided as ``withdrawn``,
  no licence, its goods never made — while files decided earlier, or files whose buyer
  keeps waiting, are untouched. A waiting file is not always a file that comes back.
* Buyers who hold back orders (a rule's ``demand_factor``): background contracts of the
  matching destinations arrive at that share of their rate while the rule is in force.
* Grades without the controlled elements (a product's ``controlled_share``): that share
  of background shipments applies for a licence; the rest leave without one.

Both engines agree on each (the differential generator also draws them)."""

from __future__ import annotations

import numpy as np
import pytest
from builders import START, authority_only, build, day

import simulator as sim

D_PARK, AFTER = 10, 30


def _scenario(probability: float) -> sim.Scenario:
    data = authority_only(
        days=150,
        reviewers=60,
        work={"kind": "constant", "value": 2},
        streams=[{"destination": "XX", "rate_per_wd": 4.0}],
        approval={"probability": 1.0},
    )
    data["authority"]["withdrawal"] = {
        "probability": probability,
        "after_days": {"kind": "constant", "value": AFTER},
    }
    data["policy"] = {
        "regimes": [{"name": "sit", "rules": [{"park": {"probability": 1.0}}]}],
        "timeline": [{"date": day(START, D_PARK), "regime": "sit"}],
    }
    return build(data)


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_waiting_files_are_withdrawn_when_their_buyers_give_up(engine: str) -> None:
    lic = sim.run(_scenario(0.6), seed=5, engine=engine).licences
    sub, dec = lic["submitted_days"].to_numpy(), lic["decided_days"].to_numpy()
    out = lic["outcome"].to_numpy()
    withdrawn = out == "withdrawn"
    # decided exactly when the buyer's patience ran out, never before the files sit
    assert withdrawn.sum() > 100
    assert np.allclose(dec[withdrawn] - sub[withdrawn], AFTER)
    # files decided before their buyer gave up are not touched (approved)
    assert (out[dec - sub < AFTER - 1e-9] == "approved").all()
    # about 60 % of the files that sat (parked until the end) are withdrawn
    sat = ~(dec - sub < AFTER - 1e-9) & (sub < 150 - AFTER)
    share = withdrawn[sat].mean()
    assert 0.5 < share < 0.7, share
    # the rest still wait (parked until the policy changes: never here)
    assert (out[sat & ~withdrawn] == "pending").all()


def test_withdrawn_files_ship_nothing_and_both_engines_agree() -> None:
    sc = _scenario(0.6)
    k = sim.run(sc, seed=8, engine="kernel")
    s = sim.run(sc, seed=8, engine="simpy")
    assert k.licences.equals(s.licences)
    assert k.shipments.equals(s.shipments)
    lic = k.licences
    gone = set(lic.loc[lic["outcome"] == "withdrawn", "application"])
    sh = k.shipments
    sh = sh[sh["application"].isin(gone)]
    assert len(sh) > 0 and sh["departed_at"].isna().all()
    assert np.allclose(sh["denied_t"], sh["tonnes"])


def test_without_withdrawal_nothing_is_withdrawn() -> None:
    lic = sim.run(_scenario(0.0), seed=5, engine="kernel").licences
    assert not (lic["outcome"] == "withdrawn").any()


def _partly_controlled(share: float) -> sim.Scenario:
    data = authority_only(
        days=90,
        reviewers=5,
        work={"kind": "constant", "value": 20},
        streams=[{"destination": "XX", "rate_per_wd": 4.0}],
        approval={"probability": 1.0},
    )
    for p in data["products"]:
        p["controlled_share"] = share
    return build(data)


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_grades_without_controlled_elements_leave_without_a_licence(engine: str) -> None:
    """A product's controlled_share: about that share of background shipments apply for
    a licence; the others go straight to production and customs."""
    res = sim.run(_partly_controlled(0.3), seed=2, engine=engine)
    sh = res.shipments
    applied = sh["application"].notna() & (sh["application"] >= 0) & sh["applied_at"].notna()
    share = applied.mean()
    assert 0.25 < share < 0.35, share
    # the unlicensed ones depart long before a licence could come (queue of 20 wd reviews)
    free = sh[~applied]
    assert free["departed_at"].notna().mean() > 0.9


def test_controlled_share_is_identical_in_both_engines() -> None:
    sc = _partly_controlled(0.5)
    k, s = sim.run(sc, seed=4, engine="kernel"), sim.run(sc, seed=4, engine="simpy")
    assert k.shipments.equals(s.shipments)
    assert k.licences.equals(s.licences)


def _holding_back(factor: float) -> sim.Scenario:
    data = authority_only(
        days=120,
        reviewers=60,
        work={"kind": "constant", "value": 2},
        streams=[
            {"destination": "XX", "rate_per_wd": 4.0},
            {"destination": "YY", "rate_per_wd": 4.0},
        ],
        approval={"probability": 1.0},
    )
    data["policy"] = {
        "regimes": [
            {"name": "low", "rules": [{"where": {"destination": ["XX"]}, "demand_factor": factor}]}
        ],
        "timeline": [{"date": day(START, 60), "regime": "low"}],
    }
    return build(data)


def test_buyers_hold_back_orders_while_a_demand_factor_is_in_force() -> None:
    """From day 60, XX's contracts come at a quarter of their rate; YY's are untouched,
    and before day 60 nothing changes (the same arrivals as without the rule)."""
    cut = sim.run(_holding_back(0.25), seed=1).licences
    full = sim.run(_holding_back(1.0), seed=1).licences

    def count(lic, dest, after):
        x = lic.loc[lic["destination"] == dest, "submitted_days"]
        return int((x >= 60).sum() if after else (x < 60).sum())

    assert count(cut, "XX", False) == count(full, "XX", False)
    assert count(cut, "YY", True) == count(full, "YY", True)
    ratio = count(cut, "XX", True) / count(full, "XX", True)
    assert 0.15 < ratio < 0.35, ratio


def test_a_demand_factor_is_identical_in_both_engines() -> None:
    sc = _holding_back(0.4)
    k, s = sim.run(sc, seed=6, engine="kernel"), sim.run(sc, seed=6, engine="simpy")
    assert k.licences.equals(s.licences)
    assert k.shipments.equals(s.shipments)


def _held_back_then_restocked(restock: dict | None) -> sim.Scenario:
    """XX's buyers hold back to a quarter of their contracts on days 30–59, then come
    back (``restock``) or not."""
    data = authority_only(
        days=150,
        reviewers=60,
        work={"kind": "constant", "value": 2},
        streams=[{"destination": "XX", "rate_per_wd": 8.0}],
        approval={"probability": 1.0},
    )
    rule = {"demand_factor": 0.25, **({"restock": restock} if restock else {})}
    data["policy"] = {
        "regimes": [{"name": "low", "rules": [rule]}],
        "timeline": [
            {"date": day(START, 30), "regime": "low"},
            {"date": day(START, 60), "regime": "neutral"},
        ],
    }
    return build(data)


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_contracts_held_back_come_back_over_the_restock_window(engine: str) -> None:
    """All working days (authority_only): 30 days at a quarter owe 0.75 × 8 × 30 = 180
    contracts; with share 1 over 30 days they come back as 6 extra a day on days 60–89."""
    lost = sim.run(_held_back_then_restocked(None), seed=2, engine=engine).licences
    back = sim.run(
        _held_back_then_restocked({"share": 1.0, "over_days": 30}), seed=2, engine=engine
    ).licences

    def n(lic, a, b):
        x = lic["submitted_days"]
        return int(((x >= a) & (x < b)).sum())

    assert n(back, 0, 60) == n(lost, 0, 60), "nothing changes before the hold-back ends"
    extra = n(back, 60, 90) - n(lost, 60, 90)
    assert 140 < extra < 220, extra  # 180 expected (Poisson)
    assert abs(n(back, 90, 150) - n(lost, 90, 150)) < 60, "paid back within the window"
