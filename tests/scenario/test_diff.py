"""``diff``: exactly the changed paths, as ``--set`` takes them, with both values."""

from __future__ import annotations

import datetime as dt
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


def test_items_with_names_match_by_name_and_additions_are_listed_leaf_by_leaf():
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
        "policy.regimes.z.name",  # its unset fields (empty label, no rules) say nothing
        "policy.timeline.1.date",
        "policy.timeline.1.regime",
    ]
    added = {x.path: x for x in d}["policy.regimes.z.name"]
    assert added.a is ABSENT and added.b == "z"
    assert d.to_list()[1] == {"path": "policy.regimes.z.name", "b": "z"}
    assert d.to_list()[3] == {"path": "policy.timeline.1.regime", "b": "y"}


def test_an_added_overlay_is_its_fields_and_long_values_wrap():
    """Issue 24: `relsim diff` and the report showed an added overlay as one JSON blob cut
    off before its dates and destinations."""
    root = Path(__file__).resolve().parents[2]
    a = sim.load_scenario(root / "scenarios" / "cn-2025-april-controls.yaml")
    b = sim.load_scenario(root / "scenarios" / "eu-autumn-slowdown.yaml")
    d = sim.diff(a, b)
    got = {x.path: x.b for x in d}
    assert got["policy.overlays.0.from"] == dt.date(2025, 9, 1)
    assert got["policy.overlays.0.until"] == dt.date(2025, 10, 31)
    assert got["policy.overlays.0.where.destination"] == ["DE", "EU"]
    assert got["policy.overlays.0.review_time_factor"] == 2
    assert all(x.a is ABSENT for x in d if x.path.startswith("policy.overlays"))
    text = d.render(width=60)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "  policy.overlays.0.where.destination" in text and "[DE, EU]" in text
    assert "…" not in text  # wrapped, never cut
    words = b.description.split()
    assert all(w in text for w in words)
    one_line = d.render(width=None).splitlines()
    assert len(one_line) == len(d) + 1


def test_a_structured_field_set_on_one_side_is_listed_by_leaf():
    a = build(supply_chain())
    data = supply_chain()
    data["policy"] = {
        "regimes": [{"name": "x"}, {"name": "y"}],
        "switching": {
            "initial": "x",
            "mean_duration_days": {"x": 30, "y": 10},
            "transitions": {"x": {"y": 1.0}, "y": {"x": 1.0}},
        },
    }
    d = sim.diff(a, build(data))
    paths = d.paths()
    assert "policy.switching.mean_duration_days.x" in paths
    assert "policy.switching.transitions.y.x" in paths
    assert {x.path: x.a for x in d}["policy.switching.initial"] is None


def test_a_field_one_side_lacks_and_the_other_leaves_empty_is_no_difference():
    """A model field added since one side was stored (``authority.startup: {}`` at its
    default) says nothing; the same field with a value set is a difference, by leaf."""
    from simulator.scenario.diff import diff_data

    stored = {"authority": {"reviewers": 4}}
    assert list(diff_data(stored, {"authority": {"reviewers": 4, "startup": {}}})) == []
    empty = {"reviewers": 4, "startup": {"capacity_ramp": None, "preparation_days": None}}
    assert list(diff_data({"authority": empty}, stored)) == []
    ramp = {"reviewers": 4, "startup": {"capacity_ramp": {"from_factor": 0.5, "days": 30}}}
    d = diff_data(stored, {"authority": ramp})
    assert d.paths() == [
        "authority.startup.capacity_ramp.from_factor",
        "authority.startup.capacity_ramp.days",
    ]
    assert all(x.a is ABSENT for x in d)
    # an item added to a list is a difference even with nothing set
    assert diff_data({"timeline": []}, {"timeline": [{}]}).paths() == ["timeline.0"]


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
    assert lines[0].startswith("8 differences")
    paths = [x.split()[0] for x in lines[1:] if x.startswith("  ") and not x.startswith("    ")]
    green = "policy.regimes.green_channel_rules.rules.0"
    release = "policy.regimes.eu_release_rules.rules.0"
    assert paths == [
        "name",
        "description",
        f"{green}.priority",
        f"{green}.note",
        *(f"{release}.release.{k}" for k in ("share", "within_days", "approval_probability")),
        f"{release}.note",
    ]
    assert any(
        f"{release}.release.approval_probability" in x and "0.95 → null" in x for x in lines
    ), r.stdout
