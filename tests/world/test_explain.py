"""``explain``: the rules in force on a date and what they add up to, on a tiny scenario
whose answer is derived by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from builders import START, build, day, supply_chain

import simulator as sim
from simulator.world.effects import pace


def _tiny() -> sim.Scenario:
    """Baseline approval 0.9, information requests 0.2, validity 365 d (supply_chain's
    authority plus these). Regime ``tight`` from day 10: approval 0.5 for all, a
    DE-specific slow-down ×2 with priority 5. Overlay days 20..29: ×1.5 for all, and
    approval 0.7 for DE (as specific as the regime's DE rule, later: it wins)."""
    return build(
        supply_chain(
            approval={"probability": 0.9},
            information_requests={"probability": 0.2},
            policy={
                "regimes": [
                    {
                        "name": "tight",
                        "label": "tight",
                        "rules": [
                            {"approval_probability": 0.5, "note": "everyone"},
                            {
                                "where": {"destination": "DE"},
                                "review_time_factor": 2.0,
                                "priority": 5,
                                "note": "DE lane",
                            },
                        ],
                    }
                ],
                "timeline": [{"date": day(START, 10), "regime": "tight"}],
                "overlays": [
                    {
                        "from": day(START, 20),
                        "until": day(START, 29),
                        "review_time_factor": 1.5,
                        "label": "squeeze",
                    },
                    {
                        "from": day(START, 20),
                        "until": day(START, 29),
                        "where": {"destination": "DE"},
                        "approval_probability": 0.7,
                        "label": "DE approvals",
                    },
                ],
            },
        )
    )


def _only_group(e):
    assert len(e.cases) == 1
    assert len(e.cases[0].groups) == 1
    return e.cases[0], e.cases[0].groups[0]


def test_before_any_change_everything_is_the_baseline():
    e = sim.explain(_tiny(), day(START, 5), destination="DE")
    case, g = _only_group(e)
    assert case.regime == "neutral" and case.overlays == []
    assert g.rules == []
    assert g.effects["review_time_factor"] == 1.0
    assert g.effects["approval_probability"] == 0.9
    assert g.effects["information_request_probability"] == 0.2
    assert g.effects["priority"] == 0
    assert all(v == [] for v in g.decided_by.values())


def test_regime_rules_combine_by_hand():
    e = sim.explain(_tiny(), day(START, 15), destination="DE")
    case, g = _only_group(e)
    assert case.regime == "tight" and "timeline entry of" in e.regime_source
    assert [r.note for r in g.rules] == ["everyone", "DE lane"]
    assert g.effects["review_time_factor"] == 2.0
    assert g.effects["approval_probability"] == 0.5
    assert g.effects["priority"] == 5
    assert g.decided_by["review_time_factor"] == [1]
    assert g.decided_by["approval_probability"] == [0]
    # the US-bound background applications do not get the DE rule
    e = sim.explain(_tiny(), day(START, 15), destination="US")
    _, g = _only_group(e)
    assert g.effects["review_time_factor"] == 1.0 and g.effects["priority"] == 0


def test_overlays_layer_over_the_regime_by_hand():
    sc = _tiny()
    e = sim.explain(sc, day(START, 25), destination="DE")
    case, g = _only_group(e)
    assert case.overlays == ["squeeze", "DE approvals"]
    assert [r.source for r in g.rules] == [
        "regime tight",
        "regime tight",
        "overlay squeeze",
        "overlay DE approvals",
    ]
    assert g.effects["review_time_factor"] == pytest.approx(3.0)  # 2 × 1.5
    assert g.effects["approval_probability"] == 0.7  # same specificity, later
    assert g.decided_by["review_time_factor"] == [1, 2]
    assert g.decided_by["approval_probability"] == [3]
    assert g.effects["priority"] == 5
    # "until" is inclusive: day 29 still has the overlays, day 30 not
    assert sim.explain(sc, day(START, 29), destination="DE").cases[0].overlays
    assert not sim.explain(sc, day(START, 30), destination="DE").cases[0].overlays
    # every application asked about, grouped by their effects: DE (manufacturer) and US
    e = sim.explain(sc, day(START, 25))
    groups = e.cases[0].groups
    assert len(groups) == 2
    by_dest = {g.applications[0]["destination"]: g for g in groups}
    assert by_dest["US"].effects["review_time_factor"] == pytest.approx(1.5)
    assert by_dest["US"].effects["approval_probability"] == 0.5


def test_explain_matches_what_the_simulation_resolves():
    from simulator.world.effects import PolicyBook

    sc = _tiny()
    book = PolicyBook(sc.policy, sc.authority)
    sid = book.state(book.index["tight"], (0, 1))
    e = sim.explain(sc, day(START, 25))
    for g in e.cases[0].groups:
        a = g.applications[0]
        res = book.resolve(
            sid, (a["destination"], a["product"], a["end_use"], a["exporter"], a["applicant"])
        )
        assert g.effects["review_time_factor"] == res.review_time_factor
        assert g.effects["approval_probability"] == res.approval_probability
        assert g.effects["priority"] == res.priority


def test_pulses_are_shown_as_possible_and_the_text_names_each_part():
    data = supply_chain(
        policy={
            "pulses": [
                {
                    "rate_per_year": 6,
                    "duration_days": {"kind": "constant", "value": 5},
                    "suspend": True,
                    "label": "freeze",
                }
            ]
        }
    )
    e = sim.explain(build(data), day(START, 40), destination="DE")
    assert [c.pulse for c in e.cases] == [None, "freeze"]
    assert e.cases[1].groups[0].effects["suspend"] is True
    text = str(e)
    assert "IF pulse freeze is on" in text
    assert "decisions suspended" in text and "yes" in text


def test_pace_colours_slowdowns_below_one_and_speedups_above():
    from simulator.world.effects import PolicyBook, combine

    sc = _tiny()
    book = PolicyBook(sc.policy, sc.authority)
    base = book.base
    slow = combine(list(sc.policy.regimes[0].rules), ("DE", "magnet", "civil", "cn1", "m1"), base)
    assert pace(slow, base) < 1
    squeeze = combine(list(sc.policy.overlays[:1]), ("US", "magnet", "civil", "", ""), base)
    assert pace(squeeze, base) < 1  # ×1.5 review time: a slow-down
    from simulator.scenario.policy import Rule

    fast = combine([Rule(review_time_factor=0.5)], ("US", "magnet", "civil", "", ""), base)
    assert pace(fast, base) == pytest.approx(2.0)
    lifted = combine([Rule(licence_required=False)], ("US", "magnet", "civil", "", ""), base)
    assert pace(lifted, base) == 4.0
    assert pace(base, base) == 1


def test_cli_explain(tmp_path: Path):
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "explain",
            "scenarios/eu-autumn-slowdown.yaml",
            "--date",
            "2025-10-15",
            "--destination",
            "EU",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert r.returncode == 0, r.stderr
    assert "overlays in force: EU autumn slowdown" in r.stdout
    assert "review time            ×2" in r.stdout
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "explain",
            "scenarios/eu-autumn-slowdown.yaml",
            "--date",
            "15/10/2025",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr and "Traceback" not in r.stderr
