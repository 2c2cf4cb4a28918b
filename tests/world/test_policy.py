"""Policy: rule-combination semantics (``PolicyBook.resolve``) and throttles in the
engine (slow-down, suspension, priority lanes, capacity, licence requirement).

The semantics under test are those written in the module docstring of
:mod:`simulator.world.policy`: factors multiply; for other effects the most specific
matching rule that sets the effect wins, ties go to the later rule; included regimes'
rules come first; ``capacity_factor`` only in rules without ``where``.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import START, authority_only, build, day, erlang_c_wq, mean_and_se, supply_chain

import simulator as sim
from simulator.scenario.authority import Authority
from simulator.scenario.policy import Policy
from simulator.world.policy import PolicyBook
from simulator.world.trace import Ev

# ----------------------------------------------------------------- PolicyBook.resolve


def book(regimes: list[dict]) -> PolicyBook:
    """Compile regimes against a baseline authority (approval 0.8, information requests
    0.1, licence validity 365 days)."""
    authority = Authority.model_validate(
        {
            "reviewers": 1,
            "review_work_wd": {"kind": "constant", "value": 1},
            "approval": {"probability": 0.8},
            "information_requests": {"probability": 0.1},
            "licence_validity_days": 365,
        }
    )
    return PolicyBook(Policy.model_validate({"regimes": regimes}), authority)


def key(dest="US", product="magnet", end_use="civil", exporter="cn1", applicant="m1"):
    return (dest, product, end_use, exporter, applicant)


def resolve(b: PolicyBook, regime: str, k=None):
    return b.resolve(b.index[regime], k or key())


def test_neutral_regime_is_the_baseline():
    b = book([])
    r = resolve(b, "neutral")
    assert r.review_time_factor == 1.0
    assert r.approval_probability == 0.8
    assert r.information_request_probability == 0.1
    assert r.priority == 0 and r.suspend is False and r.licence_required is True
    assert r.licence_validity_days == 365
    assert b.capacity_factor[b.index["neutral"]] == 1.0


def test_review_time_factors_of_all_matching_rules_multiply():
    b = book(
        [
            {
                "name": "slow",
                "rules": [
                    {"review_time_factor": 2.0},
                    {"where": {"destination": "US"}, "review_time_factor": 1.5},
                    {
                        "where": {"destination": "US", "product": "magnet"},
                        "review_time_factor": 0.5,
                    },
                    {"where": {"destination": "DE"}, "review_time_factor": 7.0},
                ],
            }
        ]
    )
    assert resolve(b, "slow", key("US", "magnet")).review_time_factor == pytest.approx(1.5)
    assert resolve(b, "slow", key("US", "oxide")).review_time_factor == pytest.approx(3.0)
    assert resolve(b, "slow", key("JP")).review_time_factor == pytest.approx(2.0)
    assert resolve(b, "slow", key("DE")).review_time_factor == pytest.approx(14.0)


def test_capacity_factors_multiply():
    b = book([{"name": "thin", "rules": [{"capacity_factor": 0.5}, {"capacity_factor": 0.8}]}])
    assert b.capacity_factor[b.index["thin"]] == pytest.approx(0.4)


def test_most_specific_rule_wins_regardless_of_order():
    b = book(
        [
            {
                "name": "r",
                "rules": [
                    {
                        "where": {"destination": "US", "product": "magnet"},
                        "approval_probability": 0.2,
                    },
                    {"where": {"destination": "US"}, "approval_probability": 0.9},
                    {"approval_probability": 0.5},
                ],
            }
        ]
    )
    assert resolve(b, "r", key("US", "magnet")).approval_probability == 0.2
    assert resolve(b, "r", key("US", "oxide")).approval_probability == 0.9
    assert resolve(b, "r", key("JP", "magnet")).approval_probability == 0.5


def test_ties_in_specificity_go_to_the_later_rule():
    b = book(
        [
            {
                "name": "r",
                "rules": [
                    {"where": {"destination": "US"}, "priority": 3},
                    {"where": {"product": "magnet"}, "priority": 7},
                ],
            },
            {
                "name": "r2",
                "rules": [
                    {"where": {"product": "magnet"}, "priority": 7},
                    {"where": {"destination": "US"}, "priority": 3},
                ],
            },
        ]
    )
    assert resolve(b, "r", key("US", "magnet")).priority == 7
    assert resolve(b, "r2", key("US", "magnet")).priority == 3
    assert resolve(b, "r", key("US", "oxide")).priority == 3


def test_a_specific_rule_that_does_not_set_an_effect_does_not_block_it():
    b = book(
        [
            {
                "name": "r",
                "rules": [
                    {"approval_probability": 0.3},
                    {"where": {"destination": "US", "product": "magnet"}, "priority": 9},
                ],
            }
        ]
    )
    r = resolve(b, "r", key("US", "magnet"))
    assert r.approval_probability == 0.3 and r.priority == 9


def test_falsy_values_override():
    """``suspend: false``, ``approval_probability: 0`` and ``priority: 0`` are values,
    not 'unset'."""
    b = book(
        [
            {
                "name": "r",
                "rules": [
                    {"suspend": True, "priority": 4, "licence_required": False},
                    {
                        "where": {"destination": "US"},
                        "suspend": False,
                        "priority": 0,
                        "approval_probability": 0.0,
                        "licence_required": True,
                    },
                ],
            }
        ]
    )
    us, jp = resolve(b, "r", key("US")), resolve(b, "r", key("JP"))
    assert us.suspend is False and us.priority == 0 and us.approval_probability == 0.0
    assert us.licence_required is True
    assert jp.suspend is True and jp.priority == 4 and jp.licence_required is False
    assert jp.approval_probability == 0.8


def test_included_rules_come_first():
    b = book(
        [
            {
                "name": "base",
                "rules": [
                    {"approval_probability": 0.1},
                    {"where": {"destination": "US"}, "priority": 5},
                    {"review_time_factor": 3.0},
                ],
            },
            {
                "name": "more",
                "includes": ["base"],
                "rules": [
                    {"approval_probability": 0.7},  # same specificity, later: wins
                    {"priority": 1},  # less specific than the included US rule: loses for US
                    {"review_time_factor": 2.0},  # factors multiply across includes
                ],
            },
            {"name": "top", "includes": ["more", "base"], "rules": [{"licence_validity_days": 90}]},
        ]
    )
    r = resolve(b, "more", key("US"))
    assert r.approval_probability == 0.7
    assert r.priority == 5
    assert r.review_time_factor == pytest.approx(6.0)
    assert resolve(b, "more", key("JP")).priority == 1
    # "top" includes "more" then "base": base's rules come last among includes, so its
    # general approval 0.1 is now the later tie and wins; factors: 3 * 2 * 3
    t = resolve(b, "top", key("US"))
    assert t.approval_probability == 0.1
    assert t.review_time_factor == pytest.approx(18.0)
    assert t.licence_validity_days == 90


def test_selector_lists_and_scalars():
    b = book(
        [
            {
                "name": "r",
                "rules": [
                    {"where": {"destination": ["US", "JP"], "end_use": "defence"}, "suspend": True},
                    {"where": {"applicant": ["m1"]}, "priority": 2},
                    {"where": {"exporter": "cn2"}, "priority": 8},
                ],
            }
        ]
    )
    assert resolve(b, "r", key("JP", end_use="defence")).suspend is True
    assert resolve(b, "r", key("DE", end_use="defence")).suspend is False
    assert resolve(b, "r", key("US", end_use="civil")).suspend is False
    assert resolve(b, "r", key(applicant="m1")).priority == 2
    assert resolve(b, "r", key(applicant="m1", exporter="cn2")).priority == 8
    assert resolve(b, "r", key(applicant="m2")).priority == 0


def test_capacity_factor_with_where_is_a_validation_error():
    data = authority_only(
        days=30,
        reviewers=1,
        work={"kind": "constant", "value": 1},
        streams=[],
        countries=("US",),
        policy={
            "regimes": [
                {"name": "r", "rules": [{"where": {"destination": "US"}, "capacity_factor": 0.5}]}
            ]
        },
    )
    with pytest.raises(sim.ScenarioError) as err:
        build(data)
    text = str(err.value)
    assert "capacity_factor" in text and "without `where`" in text, text


# ----------------------------------------------------------------- throttles in the engine


def _regimes(*changes: tuple[int, str], rules: dict[str, list[dict]]) -> dict:
    return {
        "regimes": [{"name": n, "rules": r} for n, r in rules.items()],
        "timeline": [{"date": day(START, d), "regime": n} for d, n in changes],
    }


def _finish(start: float, work: float, slow_from: float, slow_to: float, factor: float):
    """Reference: completion time of ``work`` working days started at ``start`` when
    reviews run ``factor`` times slower in [slow_from, slow_to) (every day working)."""
    t, left = start, work
    for a, b, f in ((0.0, slow_from, 1.0), (slow_from, slow_to, factor), (slow_to, np.inf, 1.0)):
        if t >= b:
            continue
        t = max(t, a)
        if t + left * f <= b:
            return t + left * f
        left -= (b - t) / f
        t = b
    raise AssertionError("unreachable")


def test_slow_down_replans_remaining_work():
    """Constant 10 wd of work, no queueing: a slow-down (factor 2) from day 20 to day 30
    doubles the time of the work left at day 20 and halves progress until day 30."""
    D0, D1 = 20, 30
    sc = build(
        authority_only(
            days=100,
            reviewers=200,
            work={"kind": "constant", "value": 10},
            streams=[{"destination": "XX", "rate_per_wd": 2.0}],
            policy=_regimes(
                (D0, "slow"), (D1, "neutral"), rules={"slow": [{"review_time_factor": 2.0}]}
            ),
        )
    )
    lic = sim.run(sc, seed=1).licences
    lic = lic[lic["decided_days"].notna()]
    start = lic["review_start_days"].to_numpy()
    np.testing.assert_array_equal(
        start, lic["accepted_days"].to_numpy(), "applications queued: test needs free reviewers"
    )
    expected = np.array([_finish(s, 10.0, D0, D1, 2.0) for s in start])
    got = lic["decided_days"].to_numpy()
    bad = np.abs(got - expected) > 1e-9
    assert not bad.any(), (
        f"{bad.sum()} decisions off; e.g. start {start[bad][:3]}, decided {got[bad][:3]}, "
        f"expected {expected[bad][:3]}"
    )
    # the cases that matter are present: in review at the slow-down and finished inside
    # it, spanning both changes, started inside it, in review only at the speed-up
    assert ((start > D0 - 10) & (start < D0 - 5)).sum() > 5
    assert ((start > D0 - 5) & (start < D0)).sum() > 5
    assert ((start >= D0) & (start < D1)).sum() > 5
    assert ((start > D1 - 10) & (start < D1)).sum() > 5
    # e.g. started at D0 - 8: 8 wd done, 2 left take 4 days -> decided D0 + 4
    assert _finish(D0 - 8, 10, D0, D1, 2.0) == D0 + 4
    # started at D0 - 2: 2 done; 5 more by D1; the last 3 at normal speed
    assert _finish(D0 - 2, 10, D0, D1, 2.0) == D1 + 3
    # started at D1 - 4: 2 done by D1, 8 left
    assert _finish(D1 - 4, 10, D0, D1, 2.0) == D1 + 8


def test_suspension_holds_decisions_and_they_resume_after():
    D0, D1 = 30, 45
    sc = build(
        authority_only(
            days=90,
            reviewers=50,
            work={"kind": "constant", "value": 3},
            streams=[{"destination": "XX", "rate_per_wd": 3.0}],
            policy=_regimes((D0, "halt"), (D1, "neutral"), rules={"halt": [{"suspend": True}]}),
        )
    )
    res = sim.run(sc, seed=2)
    lic, ad = res.licences, res.authority_daily
    dec = lic["decided_days"].to_numpy()
    inside = (dec >= D0) & (dec < D1)
    assert not inside.any(), f"{inside.sum()} decisions during the suspension"
    # review (3 wd, no queueing) completed inside the window: decision held until D1
    rs = lic["review_start_days"]
    held = lic[(rs >= D0 - 3) & (rs <= D1 - 3)]
    assert len(held) > 20
    # reviews went on during the suspension; held decisions come out at its end
    assert (held["decided_days"] == D1).all(), held["decided_days"].describe()
    assert (dec == D1).sum() > 20
    assert ((dec > D1) & (dec < D1 + 10)).sum() > 10, "decisions did not resume"
    assert ((dec < D0) & (dec > D0 - 10)).sum() > 10
    assert (ad["awaiting_decision"].to_numpy()[D0 + 5 : D1] > 0).all()
    assert (ad["awaiting_decision"].to_numpy()[D1 + 1 :] == 0).all()
    assert (ad["decided"].to_numpy()[D0:D1] == 0).all()


def test_priority_lane_overtakes_and_matches_priority_queue_theory():
    """Two equal Poisson streams into M/M/4 at rho 0.7; one destination gets priority.
    Non-preemptive priority M/M/c with equal service rates (Cobham):
    ``Wq_k = P_wait / (c mu (1 - s_{k-1}) (1 - s_k))`` with ``s_k`` the cumulative load
    of classes 1..k. Tolerance: 4 standard errors of the mean over independent seeds."""
    c, mean_service, rho, days = 4, 0.25, 0.7, 300
    lam = rho * c / mean_service
    mu = 1.0 / mean_service

    def scenario(prio: bool):
        pol = {
            "regimes": [
                {"name": "green", "rules": [{"where": {"destination": "YY"}, "priority": 5}]}
            ]
        }
        if prio:
            pol["initial"] = "green"
        return build(
            authority_only(
                days=days,
                reviewers=c,
                work={"kind": "exponential", "mean": mean_service},
                streams=[
                    {"destination": "XX", "rate_per_wd": lam / 2},
                    {"destination": "YY", "rate_per_wd": lam / 2},
                ],
                policy=pol,
            )
        )

    def waits(sc, reps):
        out = {"XX": [], "YY": []}
        for seed in range(reps):
            lic = sim.run(sc, seed=seed).licences
            lic = lic[(lic["accepted_days"] > 30) & (lic["accepted_days"] < days - 10)]
            wq = lic["review_start_days"] - lic["accepted_days"]
            assert wq.notna().all()
            for dest in out:
                out[dest].append(wq[lic["destination"] == dest].mean())
        return {d: np.array(v) for d, v in out.items()}

    p_wait = erlang_c_wq(c, lam, mu) * (c * mu - lam)
    s1 = rho / 2
    theory_hi = p_wait / (c * mu * (1 - s1))
    theory_lo = p_wait / (c * mu * (1 - s1) * (1 - rho))
    pr = {d: mean_and_se(v) for d, v in waits(scenario(True), 12).items()}
    fifo = waits(scenario(False), 4)
    print(
        f"\npriority YY {pr['YY'][0]:.4f} ± {pr['YY'][1]:.4f} (theory {theory_hi:.4f}); "
        f"XX {pr['XX'][0]:.4f} ± {pr['XX'][1]:.4f} (theory {theory_lo:.4f}); "
        f"FIFO XX {fifo['XX'].mean():.4f} YY {fifo['YY'].mean():.4f} "
        f"(Erlang C {erlang_c_wq(c, lam, mu):.4f})"
    )
    assert pr["YY"][0] < 0.5 * pr["XX"][0], "the priority destination did not overtake"
    assert abs(pr["YY"][0] - theory_hi) < 4 * pr["YY"][1], "priority class vs theory"
    assert abs(pr["XX"][0] - theory_lo) < 4 * pr["XX"][1], "other class vs theory"
    # without the rule both destinations wait alike (paired over the same seeds)
    d_mean, d_se = mean_and_se(fifo["XX"] - fifo["YY"])
    assert abs(d_mean) < 4 * d_se, f"FIFO classes differ: {d_mean:.4f} ± {d_se:.4f}"


def test_capacity_changes_neither_lose_nor_duplicate_applications():
    """Half the reviewers from day 60 to 120, then full again, then no licences needed
    from day 200 (background stops applying) so everything submitted gets decided."""
    c, D0, D1, D2, days = 6, 60, 120, 200, 300
    sc = build(
        authority_only(
            days=days,
            reviewers=c,
            work={"kind": "constant", "value": 2},
            streams=[{"destination": "XX", "rate_per_wd": 2.1}],  # rho 0.7, 1.4 when halved
            policy=_regimes(
                (D0, "half"),
                (D1, "neutral"),
                (D2, "open"),
                rules={
                    "half": [{"capacity_factor": 0.5}],
                    "open": [{"licence_required": False}],
                },
            ),
        )
    )
    res = sim.run(sc, seed=4)
    lic, ad, ev = res.licences, res.authority_daily, res.events
    sub = ev[ev["kind"] == "submit"]
    dec = ev[ev["kind"] == "decide"]
    assert sub["application"].is_unique and dec["application"].is_unique, "duplicated"
    assert set(dec["application"]) == set(sub["application"]) == set(lic["application"])
    assert (lic["outcome"] != "pending").all(), "applications lost"
    kinds = res.trace.authority["kind"]
    assert len(lic) == (kinds == Ev.SUBMIT).sum() == (kinds == Ev.DECIDE).sum()
    assert lic["submitted_days"].max() < D2
    assert (ev["kind"] == "departed").sum() > len(lic), "no exports after controls lifted"
    inr = ad["in_review"].to_numpy()
    assert inr.max() <= c
    assert inr[D0 + 2 : D1].max() <= c // 2, "more reviews than reviewers while halved"
    assert inr[D0 + 2 : D1].max() == c // 2
    q = ad["queued"].to_numpy()
    assert q[D1 - 1] > 20, "queue did not grow with half the reviewers"
    assert q[D2 - 1] == 0 and ad["in_system"].to_numpy()[-1] == 0
    assert inr[D1 + 1] == c, "capacity did not come back"


def test_licence_not_required_means_no_applications_and_goods_flow():
    open_all = {
        "regimes": [{"name": "open", "rules": [{"licence_required": False}]}],
        "initial": "open",
    }
    res = sim.run(build(supply_chain(days=120, policy=open_all)), seed=0)
    ev = res.events
    assert len(res.licences) == 0
    assert (ev["kind"] == "submit").sum() == 0
    assert ev.loc[ev["kind"] == "arrived", "tonnes"].sum() > 0
    assert (ev["kind"] == "departed").sum() > (ev["kind"] == "arrived").sum() - 1
    # the same scenario with licences needed does apply
    res2 = sim.run(build(supply_chain(days=120)), seed=0)
    assert (res2.licences["source"] == "manufacturer").sum() > 0
    # lifted only for the manufacturer's destination: background still applies
    de_only = {
        "regimes": [
            {"name": "open", "rules": [{"where": {"destination": "DE"}, "licence_required": False}]}
        ],
        "initial": "open",
    }
    res3 = sim.run(build(supply_chain(days=120, policy=de_only)), seed=0)
    assert (res3.licences["source"] == "manufacturer").sum() == 0
    assert (res3.licences["source"] == "background").sum() > 0
    assert res3.events.loc[res3.events["kind"] == "arrived", "tonnes"].sum() > 0


def test_returned_files_are_a_policy_effect_by_destination_and_date():
    """``return_probability`` in an overlay sends files for one destination back at intake
    while the overlay is in force (they are resubmitted and wait longer); other
    destinations and other dates keep the authority's baseline (no returns). Both engines
    agree (``tests/kernel/test_differential.py`` also draws this effect)."""
    D0, D1 = 20, 50
    data = authority_only(
        days=90,
        reviewers=40,
        work={"kind": "constant", "value": 2},
        streams=[
            {"destination": "XX", "rate_per_wd": 2.0},
            {"destination": "YY", "rate_per_wd": 2.0},
        ],
        intake={"resubmit_days": {"kind": "constant", "value": 7}, "max_returns": 2},
    )
    data["policy"] = {
        "overlays": [
            {
                "from": day(START, D0),
                "until": day(START, D1 - 1),
                "where": {"destination": "XX"},
                "return_probability": 1.0,
                "label": "documents sent back",
            }
        ]
    }
    sc = build(data)
    for engine in ("simpy", "kernel"):
        lic = sim.run(sc, seed=5, engine=engine).licences
        sub = lic["submitted_days"].to_numpy()
        xx = (lic["destination"] == "XX").to_numpy()
        inside = (sub >= D0) & (sub < D1 - 14)  # returned twice, resubmitted inside the window
        assert (lic["returns"].to_numpy()[xx & inside] == 2).all(), engine
        assert (lic["returns"].to_numpy()[~xx] == 0).all(), engine
        assert (lic["returns"].to_numpy()[xx & ((sub < D0) | (sub >= D1))] == 0).all(), engine
        wait = lic["wait_days"].to_numpy()
        assert np.nanmean(wait[xx & inside]) >= 14 + np.nanmean(wait[~xx & inside]), engine
