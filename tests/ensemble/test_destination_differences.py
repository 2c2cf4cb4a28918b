"""Per-destination licence KPIs in a paired comparison, on a two-destination toy where
the answer is known."""

from __future__ import annotations

import pytest
from builders import START, authority_only, build, day

import simulator as sim


def _toy(reviewers: int, slow_xx: bool, rate: float = 1.0) -> sim.Scenario:
    policy = (
        {
            "overlays": [
                {
                    "from": day(START, 0),
                    "until": day(START, 199),
                    "where": {"destination": "XX"},
                    "review_time_factor": 2.0,
                    "label": "slow XX",
                }
            ]
        }
        if slow_xx
        else None
    )
    return build(
        authority_only(
            days=200,
            reviewers=reviewers,
            work={"kind": "constant", "value": 10},
            streams=[
                {"destination": "XX", "rate_per_wd": rate},
                {"destination": "YY", "rate_per_wd": rate},
            ],
            policy=policy,
        )
    )


def _row(d, entity: str, kpi: str):
    """The row of ``authority/<destination>``: scope authority, the destination's id."""
    dest = entity.split("/", 1)[1]
    r = d[(d["scope"] == "authority") & (d["destination"] == dest) & (d["kpi"] == kpi)]
    assert len(r) == 1, (entity, kpi)
    return r.iloc[0]


def test_free_reviewers_slowing_one_destination_moves_only_its_waits():
    """Plenty of reviewers, 10 wd of work, every day working: waits are exactly 10 wd;
    an overlay doubling XX's review time makes XX's 20 wd and leaves YY's at 10."""
    cmp = sim.compare(_toy(500, False), _toy(500, True), reps=3, seed=1, workers=1)
    d = cmp.differences()
    xx, yy = _row(d, "authority/XX", "wait_wd_p50"), _row(d, "authority/YY", "wait_wd_p50")
    assert xx["mean_a"] == pytest.approx(10.0) and xx["mean_b"] == pytest.approx(20.0)
    assert xx["diff"] == pytest.approx(10.0)
    assert yy["mean_a"] == pytest.approx(10.0) and yy["diff"] == pytest.approx(0.0)
    assert _row(d, "authority/XX", "approval_rate")["diff"] == pytest.approx(0.0)


def test_a_shared_pool_passes_one_destinations_slowdown_on_to_the_other():
    """Few reviewers (load 2 × 1/wd × 10 wd = 20 busy of 24): XX's slower reviews hold
    reviewers longer, so YY's applications queue longer too — a paired difference whose
    interval lies above zero."""
    cmp = sim.compare(_toy(24, False), _toy(24, True), reps=8, seed=2, workers=1)
    d = cmp.differences()
    yy = _row(d, "authority/YY", "wait_wd_mean")
    assert yy["ci_low"] > 0.5, yy.to_dict()
    xx = _row(d, "authority/XX", "wait_wd_mean")
    assert xx["diff"] > yy["diff"] + 5  # XX gets the slowdown itself on top
