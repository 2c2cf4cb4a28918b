"""Dated overlays and pulses: rules layered over the regime in force.

Semantics (``simulator.world.effects``): an overlay's rules count after the regime's
rules; factors multiply; for other effects the most specific rule wins, ties to the
later one (the overlay). Every overlay edge is a change of policy state: reviews in
progress are re-planned at the new speed.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import START, authority_only, build, day, supply_chain
from test_policy import _finish, key

import simulator as sim
from simulator.scenario.policy import Policy
from simulator.world.effects import PolicyBook


def _overlay(d0: int, d1_inclusive: int, **rule) -> dict:
    return {"from": day(START, d0), "until": day(START, d1_inclusive), **rule}


# ------------------------------------------------------------------ precedence


def _book(regimes: list[dict], overlays: list[dict]) -> PolicyBook:
    return PolicyBook(
        Policy.model_validate(
            {
                "regimes": regimes,
                "overlays": [{"from": "2025-01-01", "until": "2025-01-02", **o} for o in overlays],
            }
        ),
        _authority(),
    )


def _authority():
    from simulator.scenario.authority import Authority

    return Authority.model_validate(
        {
            "reviewers": 1,
            "review_work_wd": {"kind": "constant", "value": 1},
            "approval": {"probability": 0.8},
            "information_requests": {"probability": 0.1},
            "licence_validity_days": 365,
        }
    )


def test_overlay_factors_multiply_with_the_regimes():
    b = _book(
        [{"name": "slow", "rules": [{"review_time_factor": 1.5}]}],
        [{"review_time_factor": 2.0}, {"where": {"destination": "US"}, "review_time_factor": 3}],
    )
    r = b.index["slow"]
    assert b.resolve(b.state(r, (0,)), key()).review_time_factor == pytest.approx(3.0)
    assert b.resolve(b.state(r, (0, 1)), key()).review_time_factor == pytest.approx(9.0)
    assert b.resolve(b.state(r, (0, 1)), key(dest="DE")).review_time_factor == pytest.approx(3.0)
    assert b.resolve(b.state(r, ()), key()).review_time_factor == pytest.approx(1.5)


def test_overlay_wins_ties_but_not_against_a_more_specific_regime_rule():
    regimes = [
        {
            "name": "r",
            "rules": [
                {"approval_probability": 0.5},
                {"where": {"destination": "US", "product": "magnet"}, "approval_probability": 0.2},
            ],
        }
    ]
    # same specificity as the regime's general rule: the overlay (later) wins
    b = _book(regimes, [{"approval_probability": 0.9}])
    s = b.state(b.index["r"], (0,))
    assert b.resolve(s, key(dest="DE")).approval_probability == 0.9
    # the regime's two-selector rule is more specific than the overlay: it stays
    assert b.resolve(s, key(dest="US")).approval_probability == 0.2
    # an equally specific overlay beats it (later)
    b = _book(
        regimes, [{"where": {"destination": "US", "product": "magnet"}, "approval_probability": 1}]
    )
    s = b.state(b.index["r"], (0,))
    assert b.resolve(s, key(dest="US")).approval_probability == 1.0
    # without the overlay the regime alone decides
    assert b.resolve(b.state(b.index["r"]), key(dest="US")).approval_probability == 0.2


def test_capacity_factors_of_overlays_multiply():
    b = _book(
        [{"name": "r", "rules": [{"capacity_factor": 0.5}]}],
        [{"capacity_factor": 0.5}, {"capacity_factor": 3.0}],
    )
    r = b.index["r"]
    assert b.capacity_factor[b.state(r, (0, 1))] == pytest.approx(0.75)
    assert b.capacity_factor[b.state(r, (1,))] == pytest.approx(1.5)


# ------------------------------------------------------------------ in the engine


def test_reviews_are_replanned_at_both_overlay_edges():
    """Constant 10 wd of work, free reviewers: an overlay slowing reviews ×2 on days
    20..29 (until inclusive) gives exactly the hand-computed decision times of a
    slow-down in [20, 30), for reviews in progress at either edge."""
    D0, D1 = 20, 30
    sc = build(
        authority_only(
            days=100,
            reviewers=200,
            work={"kind": "constant", "value": 10},
            streams=[{"destination": "XX", "rate_per_wd": 2.0}],
            policy={"overlays": [_overlay(D0, D1 - 1, review_time_factor=2.0, label="slow")]},
        )
    )
    r = sim.run(sc, seed=1)
    lic = r.licences
    lic = lic[lic["decided_days"].notna()]
    start = lic["review_start_days"].to_numpy()
    expected = np.array([_finish(s, 10.0, D0, D1, 2.0) for s in start])
    np.testing.assert_allclose(lic["decided_days"].to_numpy(), expected, atol=1e-9)
    # reviews in progress at each edge are present
    assert ((start > D0 - 10) & (start < D0)).sum() > 5
    assert ((start > D1 - 10) & (start < D1)).sum() > 5
    ov = r.overlays
    assert list(ov["label"]) == ["slow"]
    assert ov["start"].iloc[0] == np.datetime64(day(START, D0))
    assert ov["end"].iloc[0] == np.datetime64(day(START, D1))


def test_overlay_matches_only_its_destination():
    sc = build(
        authority_only(
            days=80,
            reviewers=200,
            work={"kind": "constant", "value": 10},
            streams=[
                {"destination": "XX", "rate_per_wd": 1.0},
                {"destination": "YY", "rate_per_wd": 1.0},
            ],
            policy={
                "overlays": [_overlay(0, 79, where={"destination": "XX"}, review_time_factor=3.0)]
            },
        )
    )
    lic = sim.run(sc, seed=2).licences
    lic = lic[lic["decided_days"].notna()]
    took = lic["decided_days"] - lic["review_start_days"]
    np.testing.assert_allclose(took[lic["destination"] == "XX"], 30.0)
    np.testing.assert_allclose(took[lic["destination"] == "YY"], 10.0)


def test_an_overlay_and_a_composite_regime_give_identical_runs():
    """The same policy written as an overlay or as composite regimes in the timeline
    (the way it had to be written before overlays) is the same model: identical KPIs
    at the same seed."""
    base_policy = {
        "regimes": [
            {"name": "tight", "rules": [{"approval_probability": 0.6}]},
            {
                "name": "tight_slow",
                "includes": ["tight"],
                "rules": [{"where": {"destination": "DE"}, "review_time_factor": 2.5}],
            },
            {
                "name": "neutral_slow",
                "rules": [{"where": {"destination": "DE"}, "review_time_factor": 2.5}],
            },
        ],
    }
    composite = {
        **base_policy,
        "timeline": [
            {"date": day(START, 20), "regime": "neutral_slow"},
            {"date": day(START, 40), "regime": "tight_slow"},
            {"date": day(START, 70), "regime": "tight"},
        ],
    }
    overlay = {
        "regimes": base_policy["regimes"][:1],
        "timeline": [{"date": day(START, 40), "regime": "tight"}],
        "overlays": [
            _overlay(20, 69, where={"destination": "DE"}, review_time_factor=2.5, label="DE")
        ],
    }
    a = build(supply_chain(days=150, bg_rate=2.0, policy=composite))
    b = build(supply_chain(days=150, bg_rate=2.0, policy=overlay))
    for rep in range(3):
        ka = sim.run(a, seed=5, rep=rep).kpis
        kb = sim.run(b, seed=5, rep=rep).kpis
        assert ka.equals(kb)
    la = sim.run(a, seed=5).licences
    lb = sim.run(b, seed=5).licences
    assert la.equals(lb)


def test_pulses_switch_on_and_off_within_their_window_and_are_reproducible():
    sc = build(
        authority_only(
            days=365,
            reviewers=20,
            work={"kind": "constant", "value": 5},
            streams=[{"destination": "XX", "rate_per_wd": 1.0}],
            policy={
                "pulses": [
                    {
                        "from": day(START, 30),
                        "until": day(START, 299),
                        "rate_per_year": 12,
                        "duration_days": {"kind": "constant", "value": 10},
                        "suspend": True,
                        "label": "freeze",
                    }
                ]
            },
        )
    )
    spans = sim.run(sc, seed=3).overlays
    assert len(spans) >= 3
    assert (spans["kind"] == "pulse").all()
    one_day = np.timedelta64(1, "D")
    t0 = ((spans["start"] - np.datetime64(START)) / one_day).to_numpy()
    t1 = ((spans["end"] - np.datetime64(START)) / one_day).to_numpy()
    assert (t0 >= 30).all() and (t1 <= 300).all()
    # 10-day pulses (the last may be cut at the window's end)
    np.testing.assert_allclose((t1 - t0)[:-1], 10.0)
    again = sim.run(sc, seed=3).overlays
    assert spans.equals(again)
    assert not spans.equals(sim.run(sc, seed=4).overlays)
    # no decision while a freeze is on
    lic = sim.run(sc, seed=3).licences
    dec = lic["decided_days"].dropna().to_numpy()
    for s, e in zip(t0, t1, strict=True):
        assert not ((dec > s + 1e-9) & (dec < e - 1e-9)).any()
