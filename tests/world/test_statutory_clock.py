"""The statutory clock on China's real working-day calendar.

The clock counts working days from acceptance, stops while the applicant answers an
information request, and caps the review at ``statutory_limit_wd`` (45). The engine
computes ``clock_wd`` from its own timestamps; these tests also recompute deadlines
independently with :class:`simulator.world.calendar.WorkCalendar`.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from builders import authority_only, build

import simulator as sim
from simulator.world.calendar import build_calendar

LIMIT = 45.0
EPS = 1e-9


def overloaded(**kw):
    """A year on the CN calendar with twice as much work arriving as reviewers can do,
    so queues grow and many applications reach the 45-working-day limit."""
    base = {
        "days": 365,
        "reviewers": 20,
        "work": {"kind": "exponential", "mean": 10},
        "streams": [{"destination": "XX", "rate_per_wd": 4.0}],
        "all_working": False,
        "limit": LIMIT,
    }
    base.update(kw)
    return build(authority_only(**base))


@functools.cache
def _run(rule: str = "decide", info: bool = False, approve: float = 1.0, seed: int = 3):
    kw = {"rule": rule, "approval": {"probability": approve}}
    if info:
        kw["information_requests"] = {
            "probability": 1.0,
            "response_days": {"kind": "constant", "value": 12},
        }
    sc = overloaded(**kw)
    return sc, sim.run(sc, seed=seed)


def _decided(res: sim.RunResult) -> pd.DataFrame:
    lic = res.licences
    return lic[lic["outcome"] != "pending"]


def test_calendar_is_real_cn_calendar():
    sc, _ = _run()
    cal = build_calendar(sc)
    # 2025: 261 weekdays - 18 weekday holidays + 5 adjusted weekend working days (调休)
    assert cal.working_days_in(2025) == 248
    assert not cal.all_working


@pytest.mark.parametrize("seed", [3, 4])
def test_no_decision_beyond_45_working_days_without_information_requests(seed):
    sc, res = _run(seed=seed)
    cal = build_calendar(sc)
    d = _decided(res)
    assert len(d) > 500
    acc, dec = d["accepted_days"].to_numpy(), d["decided_days"].to_numpy()
    from_acceptance_wd = cal.work_time(dec) - cal.work_time(acc)
    print(
        f"\nseed {seed}: {len(d)} decided, {int(d['at_deadline'].sum())} at the deadline; "
        f"max clock_wd {d['clock_wd'].max():.12f}, max wait from acceptance "
        f"{from_acceptance_wd.max():.12f} wd"
    )
    assert (d["clock_wd"] <= LIMIT + EPS).all(), (
        f"statutory clock exceeded: max clock_wd = {d['clock_wd'].max()!r}"
    )
    assert (from_acceptance_wd <= LIMIT + EPS).all(), "decided later than 45 wd after acceptance"
    np.testing.assert_allclose(d["clock_wd"], from_acceptance_wd, atol=1e-9)
    # the limit binds: the test would notice an engine that ignores the deadline
    hit = d[d["at_deadline"]]
    assert len(hit) >= 50, f"only {len(hit)} applications reached the deadline"
    np.testing.assert_allclose(hit["clock_wd"], LIMIT, atol=1e-6)
    # ... and lands exactly where the calendar says 45 working days after acceptance end
    expected = cal.add_work(hit["accepted_days"].to_numpy(), LIMIT)
    np.testing.assert_allclose(hit["decided_days"], expected, atol=1e-9)
    # the rest finished their work inside the limit
    assert (d.loc[~d["at_deadline"], "clock_wd"] < LIMIT + EPS).all()
    # daily counters agree with the timestamps, including applications that reached the
    # deadline while still queued (their reviewer request is withdrawn)
    lic, ad, H = res.licences, res.authority_daily, sc.horizon_days
    acc_all = lic["accepted_days"].to_numpy()
    rs_all = lic["review_start_days"].to_numpy()
    dec_all = np.nan_to_num(lic["decided_days"].to_numpy(), nan=H)
    q_end = np.where(np.isnan(rs_all), dec_all, rs_all)
    days = np.arange(H, dtype=float)[:, None]
    assert np.isnan(rs_all).sum() > 20, "no application timed out in the queue"
    np.testing.assert_array_equal(
        ad["queued"].to_numpy(), ((acc_all <= days) & (q_end > days)).sum(axis=1), "queued"
    )
    # pending applications at the end are all younger than the limit
    pend = res.licences[res.licences["outcome"] == "pending"]
    age = cal.work_time(float(sc.horizon_days)) - cal.work_time(pend["accepted_days"].to_numpy())
    assert (age <= LIMIT + EPS).all(), "an application outlived its deadline undecided"


def test_information_requests_stop_the_clock():
    """With a request on every review and 12-day answers, applications decided at the
    deadline have run exactly 45 working days of clock, plus exactly the stopped time."""
    sc, res = _run(info=True)
    cal = build_calendar(sc)
    d = _decided(res)
    asked = d[d["info_requests"] == 1]
    assert len(asked) > 300
    np.testing.assert_allclose(asked["stopped_days"], 12.0, atol=1e-9)
    assert (d["info_requests"] <= 1).all(), "max_per_application is 1"
    hit = asked[asked["at_deadline"]]
    assert len(hit) >= 20, f"only {len(hit)} applications with a request hit the deadline"
    np.testing.assert_allclose(hit["clock_wd"], LIMIT, atol=1e-6)

    # Independent reconstruction from the event log and the calendar.
    ev = res.events
    req = ev[ev["kind"] == "info_request"].set_index("application")["time_days"]
    resp = ev[ev["kind"] == "info_response"].set_index("application")["time_days"]
    ids = hit["application"].to_numpy()
    t_acc = hit["accepted_days"].to_numpy()
    t_req, t_resp = req.loc[ids].to_numpy(), resp.loc[ids].to_numpy()
    t_dec = hit["decided_days"].to_numpy()
    np.testing.assert_allclose(t_resp - t_req, 12.0, atol=1e-9)
    used_before = cal.work_time(t_req) - cal.work_time(t_acc)
    stopped_wd = cal.work_time(t_resp) - cal.work_time(t_req)
    total_wd = cal.work_time(t_dec) - cal.work_time(t_acc)
    # calendar: decision = 45 - used working days after the clock restarts
    np.testing.assert_allclose(t_dec, cal.add_work(t_resp, LIMIT - used_before), atol=1e-9)
    # working days from acceptance to decision = 45 running + exactly the stopped ones
    np.testing.assert_allclose(total_wd, LIMIT + stopped_wd, atol=1e-6)
    # calendar span = the span of 45 wd of running clock + the 12 stopped calendar days
    running_span = (t_req - t_acc) + (t_dec - t_resp)
    np.testing.assert_allclose(t_dec - t_acc, running_span + 12.0, atol=1e-9)
    assert (stopped_wd > 0).all() and (stopped_wd <= 12.0).all()
    # this is how real waits exceed the limit: stopped time on top of 45 wd
    assert (d["wait_wd"] > LIMIT + 1.0).sum() >= 20
    assert (d["clock_wd"] <= LIMIT + EPS).all()
    print(
        f"\n{len(hit)} at deadline after a request; wait from acceptance "
        f"{total_wd.min():.3f}..{total_wd.max():.3f} wd = 45 + stopped "
        f"{stopped_wd.min():.3f}..{stopped_wd.max():.3f} wd"
    )


@pytest.mark.parametrize(
    ("rule", "approve", "at_deadline_outcome", "other_outcome"),
    [
        ("approve", 0.0, "approved", "denied"),
        ("deny", 1.0, "denied", "approved"),
    ],
)
def test_deadline_rules(rule, approve, at_deadline_outcome, other_outcome):
    _, res = _run(rule=rule, approve=approve)
    d = _decided(res)
    hit, rest = d[d["at_deadline"]], d[~d["at_deadline"]]
    assert len(hit) >= 50 and len(rest) >= 50
    assert set(hit["outcome"]) == {at_deadline_outcome}, hit["outcome"].value_counts()
    assert set(rest["outcome"]) == {other_outcome}, rest["outcome"].value_counts()
    approved = d["outcome"] == "approved"
    np.testing.assert_allclose(d.loc[approved, "approved_t"], d.loc[approved, "tonnes"])
    assert (d.loc[~approved, "approved_t"] == 0).all()


def test_deadline_rule_decide_uses_the_usual_odds():
    _, res = _run(rule="decide", approve=0.5)
    hit = _decided(res)
    hit = hit[hit["at_deadline"]]
    share = (hit["outcome"] == "approved").mean()
    assert 0.3 < share < 0.7, f"approval share at the deadline {share:.2f} with p=0.5"


def test_deadline_rule_continue_lets_reviews_run_past_the_limit():
    _, res = _run(rule="continue")
    d = _decided(res)
    assert not d["at_deadline"].any()
    assert (d["clock_wd"] > LIMIT + 1).sum() > 50, "no review ran past the limit under continue"


def test_intake_time_is_not_on_the_clock():
    """Screening and returns happen before acceptance: the 45 wd count from acceptance,
    so waits from submission may exceed 45 wd while the clock never does."""
    sc = overloaded(
        intake={
            "screening_wd": {"kind": "uniform", "low": 1, "high": 3},
            "return_probability": 0.5,
            "resubmit_days": {"kind": "constant", "value": 20},
        }
    )
    res = sim.run(sc, seed=5)
    d = _decided(res)
    assert (d["accepted_days"] > d["submitted_days"]).all(), "screening took no time"
    assert (d["returns"] > 0).sum() > 100
    assert (d["clock_wd"] <= LIMIT + EPS).all()
    assert d["at_deadline"].sum() >= 50
    assert (d["wait_wd"] > LIMIT + 1).sum() > 20


def test_work_beyond_the_horizon_never_finishes_and_costs_nothing() -> None:
    """Review work far past the horizon (36,000 working days, slowed 100x) leaves the
    applications pending; the calendar is not grown to reach their completion."""
    import time
    from pathlib import Path

    import simulator as sim

    path = Path(__file__).resolve().parents[1] / "data" / "small.yaml"
    sc = sim.load_scenario(
        path,
        overrides={
            "authority.review_work_wd": {"kind": "constant", "value": 36_000},
            "authority.statutory_limit_wd": None,
            "policy.regimes[controls].rules[0].review_time_factor": 100,
        },
    )
    cal = build_calendar(sc)
    t0 = time.perf_counter()
    r = sim.run(sc, seed=0, calendar=cal)
    assert time.perf_counter() - t0 < 10
    assert set(r.licences["outcome"]) == {"pending"}
    assert cal.n_days < sc.horizon_days + 2000
