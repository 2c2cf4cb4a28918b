"""Start-up of a new licence regime: applicants prepare their files after the day a licence
becomes required (a file needed before it is ready is submitted when it is ready, later
ones at once), and the authority's capacity for the new work ramps up day by day."""

from __future__ import annotations

import numpy as np
import pytest
from builders import START, authority_only, build, day

import simulator as sim

D = 20  # the requirement starts


def _scenario(startup: dict, *, from_start: bool = False) -> sim.Scenario:
    data = authority_only(
        days=90,
        reviewers=20,
        work={"kind": "constant", "value": 3},
        streams=[{"destination": "XX", "rate_per_wd": 4.0}],
        startup=startup,
    )
    if not from_start:
        data["policy"] = {
            "initial": "open",
            "regimes": [{"name": "open", "rules": [{"licence_required": False}]}],
            "timeline": [{"date": day(START, D), "regime": "neutral"}],
        }
    return build(data)


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_files_are_submitted_when_prepared(engine: str):
    res = sim.run(
        _scenario({"preparation_days": {"kind": "uniform", "low": 10, "high": 20}}),
        seed=4,
        engine=engine,
    )
    sh, lic = res.shipments, res.licences
    sh = sh[sh["application"].notna()].set_index("application")
    applied = (sh["applied_at"] - np.datetime64(START)).dt.total_seconds() / 86400
    sub = lic.set_index("application")["submitted_days"]
    applied = applied.reindex(sub.index)
    assert (sub >= D + 10 - 1e-9).all(), "no file before it can be ready"
    early = applied < D + 10
    assert early.sum() > 20 and (sub[early] > applied[early] + 1e-9).all(), "early files wait"
    late = applied > D + 20
    assert late.sum() > 50 and np.allclose(sub[late], applied[late]), "later files go at once"


def test_a_requirement_in_force_from_the_start_needs_no_preparation():
    res = sim.run(
        _scenario({"preparation_days": {"kind": "constant", "value": 30}}, from_start=True), seed=4
    )
    lic = res.licences
    assert lic["submitted_days"].min() < 2


@pytest.mark.parametrize("engine", ["kernel", "simpy"])
def test_capacity_ramps_up_day_by_day(engine: str):
    ad = sim.run(
        _scenario({"capacity_ramp": {"from_factor": 0.25, "days": 10}}), seed=4, engine=engine
    ).authority_daily
    busy = ad["in_review"].to_numpy()
    for k in range(10):  # on day D + k at most round(20 × (0.25 + 0.75 k / 10)) review
        assert busy[D + k] <= round(20 * (0.25 + 0.75 * k / 10)), (k, busy[D + k])
    assert busy[D] <= 5 and ad["queued"].to_numpy()[D + 5] > 0, "a queue builds while few review"
    assert busy[D + 15 : D + 40].max() > 15, "the full complement works after the ramp"
