"""``diff``: exactly the changed paths, as ``--set`` takes them, with both values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from builders import START, build, day, supply_chain

import simulator as sim
from simulator.scenario.diff import ABSENT


def test_identical_scenarios_have_no_differences():
    a = build(supply_chain())
    assert list(sim.diff(a, build(supply_chain()))) == []
    assert "same scenario" in str(sim.diff(a, a))


def test_exactly_the_changed_paths_are_listed():
    a = build(supply_chain())
    data = supply_chain(reviewers=9)
    data["manufacturers"][0]["initial_cover_days"] = 12
    data["authority"]["background"][0]["rate_per_wd"] = 0.75
    b = build(data)
    d = sim.diff(a, b)
    assert sorted(d.paths()) == [
        "authority.background.0.rate_per_wd",
        "authority.reviewers",
        "manufacturers.m1.initial_cover_days",
    ]
    got = {x.path: (x.a, x.b) for x in d}
    assert got["authority.reviewers"] == (4, 9)
    assert got["manufacturers.m1.initial_cover_days"] == (30, 12)


def test_items_with_names_match_by_name_and_additions_are_one_line():
    pol = {
        "regimes": [{"name": "x", "rules": [{"approval_probability": 0.5}]}, {"name": "y"}],
        "timeline": [{"date": day(START, 10), "regime": "x"}],
    }
    a = build(supply_chain(policy=pol))
    pol_b = {
        "regimes": [
            {"name": "y"},  # reordered: no difference
            {"name": "x", "rules": [{"approval_probability": 0.6}]},
            {"name": "z"},
        ],
        "timeline": [
            {"date": day(START, 10), "regime": "x"},
            {"date": day(START, 20), "regime": "y"},
        ],
    }
    b = build(supply_chain(policy=pol_b))
    d = sim.diff(a, b)
    assert d.paths() == [
        "policy.regimes.x.rules.0.approval_probability",
        "policy.regimes.z",
        "policy.timeline.1",
    ]
    added = {x.path: x for x in d}["policy.regimes.z"]
    assert added.a is ABSENT and added.b["name"] == "z"
    assert d.to_list()[1] == {"path": "policy.regimes.z", "b": added.to_dict()["b"]}


def test_overrides_show_in_the_name_and_in_the_diff():
    base = sim.load_scenario("scenarios/examples/minimal.yaml")
    over = sim.load_scenario("scenarios/examples/minimal.yaml", {"authority.reviewers": 3})
    assert over.name == f"{base.name} [authority.reviewers=3]"
    assert sim.diff(base, over).paths() == ["name", "authority.reviewers"]


def test_cli_diff_prints_paths_with_both_values():
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "diff",
            "scenarios/cn-2025-april-controls.yaml",
            "scenarios/eu-green-channel-off.yaml",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("5 differences")
    paths = [x.split()[0] for x in lines[1:]]
    rule = "policy.regimes.green_channel_rules.rules.0"
    assert paths == [
        "name",
        "description",
        *(f"{rule}.{k}" for k in ("approval_probability", "priority", "note")),
    ]
    assert any(
        "policy.regimes.green_channel_rules.rules.0.approval_probability" in x
        and "0.95 → null" in x
        for x in lines
    ), r.stdout
