"""Holds that leak (``customs.hold_days``): a shipment held at the port is released after
its own drawn delay even while the hold is in force — "once an inspection starts, it can
take one or two months" — not only when the rule ends; then it goes through the port's
release throughput. Without ``hold_days`` a hold lasts as long as its rule."""

from __future__ import annotations

import numpy as np
import pytest
from builders import START, authority_only, build, day

import simulator as sim

D_HOLD, DAYS = 10, 150


def _scenario(hold_days: dict | None, release: float | None = None) -> sim.Scenario:
    data = authority_only(
        days=DAYS,
        reviewers=60,
        work={"kind": "constant", "value": 1},
        streams=[
            {"destination": "XX", "rate_per_wd": 3.0, "tonnes": {"kind": "constant", "value": 2}}
        ],
        approval={"probability": 1.0},
    )
    if hold_days is not None:
        data.setdefault("customs", {})["hold_days"] = hold_days
    if release is not None:
        data.setdefault("customs", {})["release_t_per_day"] = release
    data["policy"] = {
        "regimes": [{"name": "hold", "rules": [{"customs_hold": 0.5}]}],
        "timeline": [{"date": day(START, D_HOLD), "regime": "hold"}],
    }
    return build(data)


def _held(res: sim.RunResult):
    sh = res.shipments
    return sh[sh["held_at"].notna()]


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_held_goods_leak_out_after_their_own_delay(engine: str) -> None:
    held = _held(sim.run(_scenario({"kind": "constant", "value": 20}), seed=2, engine=engine))
    assert len(held) > 50
    waited = (held["released_at"] - held["held_at"]).dt.total_seconds() / 86400
    # every hold that had 20 days to run was released after exactly 20 days
    had_time = held["held_at"] < np.datetime64(START) + np.timedelta64(DAYS - 21, "D")
    assert np.allclose(waited[had_time], 20.0)
    assert (held.loc[had_time, "departed_at"] >= held.loc[had_time, "released_at"]).all()


def test_without_hold_days_a_hold_lasts_as_long_as_its_rule() -> None:
    held = _held(sim.run(_scenario(None), seed=2))
    assert len(held) > 50
    assert held["released_at"].isna().all()  # the rule never ends within the horizon


def test_leaking_holds_drain_through_the_release_throughput_and_engines_agree() -> None:
    sc = _scenario({"kind": "uniform", "low": 5, "high": 40}, release=1.0)
    k, s = sim.run(sc, seed=3, engine="kernel"), sim.run(sc, seed=3, engine="simpy")
    assert k.shipments.equals(s.shipments)
    held = _held(k)
    # 1 t a day for 2 t shipments: departures of released goods at least 2 days apart
    dep = np.sort(held["departed_at"].dropna().to_numpy()).astype("datetime64[s]").astype(float)
    assert len(dep) > 20 and (np.diff(dep) >= 2 * 86400 - 1).all()
