"""Determinism and common random numbers.

* The same scenario and seed give identical frames, however many times it is run.
* A different seed (or replication index) gives different results.
* Randomness is keyed by source, so two scenarios that differ only in a policy rule
  (or in unrelated structure) see the same draws for the applications they share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from builders import START, authority_only, build, day, supply_chain

import simulator as sim
from simulator.world.calendar import build_calendar

FRAMES = ("licences", "daily", "exports", "kpis", "events", "authority_daily", "regimes")


def _rich():
    """A scenario touching every source of randomness: background arrivals and
    tonnes, review work, intake returns, information requests, partial approvals,
    transit, exporter lead times, demand noise and Markov regime switching."""
    data = supply_chain(
        days=240,
        all_working=False,
        bg_rate=1.5,
        reviewers=3,
        work={"kind": "lognormal", "mean": 6, "sd": 4},
        intake={"return_probability": 0.2, "resubmit_days": {"kind": "exponential", "mean": 5}},
        information_requests={
            "probability": 0.3,
            "response_days": {"kind": "uniform", "low": 5, "high": 20},
        },
        approval={"probability": 0.8, "partial_probability": 0.3},
        manufacturer={"demand_cv": 0.3, "lead_time": {"initial_days": 40, "adapt": 0.3}},
        exporter={"lead_time_days": {"kind": "exponential", "mean": 3}},
        policy={
            "regimes": [
                {"name": "slow", "rules": [{"review_time_factor": 2.5}]},
                {"name": "fast", "rules": [{"review_time_factor": 0.7}]},
            ],
            "switching": {
                "initial": "slow",
                "mean_duration_days": {"slow": 30, "fast": 20},
                "transitions": {"slow": {"fast": 1.0}, "fast": {"slow": 1.0}},
            },
        },
    )
    data["authority"]["background"][0]["tonnes"] = {"kind": "lognormal", "mean": 2, "sd": 1}
    data["lanes"][0]["transit_days"] = {"kind": "triangular", "low": 20, "mode": 25, "high": 40}
    return build(data)


def test_same_seed_gives_identical_frames():
    sc = _rich()
    a, b = sim.run(sc, seed=11), sim.run(sc, seed=11)
    c = sim.run(sc, seed=11, calendar=build_calendar(sc))
    for name in FRAMES:
        fa = getattr(a, name)
        assert len(fa) > 0, f"{name} is empty: the scenario tests nothing"
        pdt.assert_frame_equal(fa, getattr(b, name), obj=name)
        pdt.assert_frame_equal(fa, getattr(c, name), obj=name)
    assert len(a.regimes) > 3, "regime switching did not happen"
    assert (a.licences["info_requests"] > 0).any() and (a.licences["returns"] > 0).any()


def test_default_seed_is_the_scenario_seed():
    sc = build(supply_chain(days=60), seed=5)
    pdt.assert_frame_equal(sim.run(sc).licences, sim.run(sc, seed=5).licences)


@pytest.mark.parametrize("other", [{"seed": 12}, {"seed": 11, "rep": 1}])
def test_different_seed_or_replication_differs(other):
    sc = _rich()
    a, b = sim.run(sc, seed=11), sim.run(sc, **other)
    assert not a.licences["submitted_days"].equals(b.licences["submitted_days"])
    assert not np.allclose(a.daily["demand_t"], b.daily["demand_t"])
    assert not a.regimes["start"].equals(b.regimes["start"]) or len(a.regimes) != len(b.regimes)


def _bg(days=150, policy=None, streams=None, reviewers=500):
    return build(
        authority_only(
            days=days,
            reviewers=reviewers,  # no queueing: review time = work × speed factor
            work={"kind": "exponential", "mean": 4},
            streams=streams
            or [
                {
                    "destination": "XX",
                    "rate_per_wd": 2.0,
                    "tonnes": {"kind": "lognormal", "mean": 3, "sd": 2},
                },
                {
                    "destination": "YY",
                    "rate_per_wd": 1.0,
                    "tonnes": {"kind": "exponential", "mean": 5},
                },
            ],
            approval={"probability": 0.5},
            policy=policy,
        )
    )


def test_common_random_numbers_across_a_policy_rule():
    """Slowing YY down (factor 2 from day 50) changes nothing for XX and only stretches
    YY's reviews: every application keeps its arrival time, tonnes, review work (seen
    as review time) and approval draw."""
    base = sim.run(_bg(), seed=7).licences
    slow = sim.run(
        _bg(
            policy={
                "regimes": [
                    {
                        "name": "slow",
                        "rules": [{"where": {"destination": "YY"}, "review_time_factor": 2.0}],
                    }
                ],
                "timeline": [{"date": day(START, 50), "regime": "slow"}],
            }
        ),
        seed=7,
    ).licences
    assert len(base) == len(slow) > 300
    for col in ("application", "destination", "tonnes", "submitted_days", "review_start_days"):
        pdt.assert_series_equal(base[col], slow[col], obj=col)
    both = (base["outcome"] != "pending") & (slow["outcome"] != "pending")
    assert both.sum() > 300
    pdt.assert_series_equal(base.loc[both, "outcome"], slow.loc[both, "outcome"])
    dur_b = (base["decided_days"] - base["review_start_days"]).to_numpy()
    dur_s = (slow["decided_days"] - slow["review_start_days"]).to_numpy()
    done = ~np.isnan(dur_s)
    xx = (base["destination"] == "XX").to_numpy()
    late_yy = (~xx) & (base["review_start_days"] >= 50).to_numpy()
    np.testing.assert_allclose(dur_s[xx & done], dur_b[xx & done], rtol=0, atol=1e-9)
    np.testing.assert_allclose(dur_s[late_yy & done], 2 * dur_b[late_yy & done], rtol=1e-12)
    assert (late_yy & done).sum() > 50


def test_common_random_numbers_across_added_structure():
    """Adding a background stream and a manufacturer leaves the draws of an existing
    stream alone (matched by arrival time, since application ids interleave)."""
    one = sim.run(
        _bg(
            streams=[
                {
                    "destination": "XX",
                    "rate_per_wd": 2.0,
                    "tonnes": {"kind": "lognormal", "mean": 3, "sd": 2},
                }
            ]
        ),
        seed=9,
    ).licences
    two = sim.run(_bg(), seed=9).licences
    two = two[two["destination"] == "XX"].reset_index(drop=True)
    assert len(one) == len(two) > 200
    for col in ("tonnes", "submitted_days", "outcome"):
        pdt.assert_series_equal(one[col], two[col], obj=col)
    np.testing.assert_allclose(one["decided_days"], two["decided_days"], atol=1e-9)

    # a manufacturer of its own does not disturb the background either
    sc = supply_chain(days=150, bg_rate=2.0)
    alone = dict(sc, manufacturers=[], exporters=[], lanes=[])
    a = sim.run(build(alone), seed=4).licences
    b = sim.run(build(sc), seed=4).licences
    b = b[b["source"] == "background"].reset_index(drop=True)
    pdt.assert_series_equal(a["tonnes"], b["tonnes"])
    pdt.assert_series_equal(a["submitted_days"], b["submitted_days"])
    assert isinstance(a, pd.DataFrame)


def test_background_streams_with_the_same_labels_draw_independently():
    """Two streams with the same destination/product/end use/applicant (e.g. small and
    large applications) must be independent Poisson processes, not copies of one
    another; the first keeps the draws it has when it is alone (common random
    numbers)."""
    small = {"destination": "XX", "rate_per_wd": 1.0, "tonnes": {"kind": "constant", "value": 1}}
    large = {"destination": "XX", "rate_per_wd": 1.0, "tonnes": {"kind": "constant", "value": 50}}
    days = 400
    both = sim.run(_bg(days=days, streams=[small, large]), seed=3).licences
    alone = sim.run(_bg(days=days, streams=[small]), seed=3).licences
    sub = both["submitted_days"].to_numpy()
    assert np.unique(sub).size == sub.size, "two streams arrive at identical times"
    first = both[both["tonnes"] == 1].reset_index(drop=True)
    second = both[both["tonnes"] == 50].reset_index(drop=True)
    pdt.assert_series_equal(first["submitted_days"], alone["submitted_days"])
    pdt.assert_series_equal(first["decided_days"], alone["decided_days"])
    # independent: the second stream's count is Poisson(400), not a copy of the first
    assert abs(len(second) - days) < 4 * np.sqrt(days)
    assert len(second) != len(first)
    # review work is not duplicated either (no queueing: review time = work)
    w1 = (first["decided_days"] - first["review_start_days"]).to_numpy()[:100]
    w2 = (second["decided_days"] - second["review_start_days"]).to_numpy()[:100]
    assert not np.allclose(w1, w2)


def test_run_leaves_the_garbage_collector_as_it_found_it():
    """The engine raises the GC thresholds while it runs (speed) and must restore the
    caller's settings afterwards, also when the run fails."""
    import gc

    sc = build(supply_chain(days=60))
    saved = gc.get_threshold()
    try:
        gc.set_threshold(1234, 11, 12)
        sim.run(sc, seed=1)
        assert gc.get_threshold() == (1234, 11, 12)

        from simulator.world.world import World

        w = World(sc, 1, 0, None)

        def boom():
            yield w.env.timeout(1)
            raise RuntimeError("boom")

        w.env.process(boom())
        with pytest.raises(RuntimeError, match="boom"):
            w.run()
        assert gc.get_threshold() == (1234, 11, 12)
    finally:
        gc.set_threshold(*saved)
