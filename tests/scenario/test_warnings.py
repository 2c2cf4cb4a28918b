"""Warnings: parts of a valid scenario that silently do nothing (``relsim validate``
prints them and exits 0; ``--strict`` exits 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from builders import START, build, day, supply_chain

from simulator.scenario.warnings import check_warnings


def _paths(sc) -> list[tuple]:
    return [p for p, _, _ in check_warnings(sc)]


def test_a_clean_scenario_has_no_warnings():
    assert check_warnings(build(supply_chain())) == []


def test_a_regime_nothing_schedules_is_warned_about():
    sc = build(
        supply_chain(
            policy={
                "regimes": [
                    {"name": "used", "includes": ["base"]},
                    {"name": "base", "rules": [{"approval_probability": 0.5}]},
                    {"name": "orphan", "rules": [{"review_time_factor": 2}]},
                ],
                "timeline": [{"date": day(START, 10), "regime": "used"}],
            }
        )
    )
    found = check_warnings(sc)
    assert [p for p, _, _ in found] == [("policy", "regimes", 2, "name")]
    assert "never in force" in found[0][1] and found[0][2] == "orphan"


def test_regimes_of_a_switching_chain_are_scheduled():
    sc = build(
        supply_chain(
            policy={
                "regimes": [{"name": "a"}, {"name": "b"}],
                "switching": {
                    "initial": "a",
                    "mean_duration_days": {"a": 10, "b": 10},
                    "transitions": {"a": {"b": 1.0}, "b": {"a": 1.0}},
                },
            }
        )
    )
    assert _paths(sc) == []


def test_an_overlay_outside_the_horizon_is_warned_about():
    sc = build(
        supply_chain(
            days=100,
            policy={
                "overlays": [
                    {"from": day(START, 200), "until": day(START, 230), "suspend": True},
                    {"from": day(START, 10), "until": day(START, 20), "suspend": True},
                    {"from": "2024-01-01", "until": "2024-02-01", "suspend": True},
                ]
            },
        )
    )
    assert _paths(sc) == [("policy", "overlays", 0), ("policy", "overlays", 2)]


def test_a_selector_that_matches_nothing_is_warned_about():
    sc = build(
        supply_chain(
            policy={
                "overlays": [
                    # JP: no stream, manufacturer or lane goes there
                    {
                        "from": day(START, 1),
                        "until": day(START, 5),
                        "where": {"destination": "JP"},
                        "suspend": True,
                    },
                    # one of two values matches (US background): fine
                    {
                        "from": day(START, 1),
                        "until": day(START, 5),
                        "where": {"destination": ["JP", "US"]},
                        "suspend": True,
                    },
                    {
                        "from": day(START, 1),
                        "until": day(START, 5),
                        "where": {"product": "dysprosium"},
                        "suspend": True,
                    },
                ]
            }
        )
        | {
            "countries": [{"id": "CN"}, {"id": "DE"}, {"id": "US"}, {"id": "JP"}],
            "products": [{"id": "magnet"}, {"id": "dysprosium"}],
        }
    )
    found = check_warnings(sc)
    assert [p for p, _, _ in found] == [
        ("policy", "overlays", 0, "where", "destination"),
        ("policy", "overlays", 2, "where", "product"),
    ]
    assert "matches nothing" in found[0][1] and "JP" in found[0][1]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args], capture_output=True, text=True, cwd=cwd
    )


def test_validate_prints_located_warnings_and_strict_fails(tmp_path: Path):
    f = tmp_path / "s.yaml"
    f.write_text(
        "name: s\nstart: 2025-01-01\nend: 2025-03-31\n"
        "countries: [{id: CN}, {id: US}]\nproducts: [{id: magnet}]\n"
        "authority:\n  reviewers: 2\n  review_work_wd: {kind: constant, value: 3}\n"
        "  background: [{destination: US, product: magnet, rate_per_wd: 1}]\n"
        "policy:\n  regimes:\n    - name: forgotten\n      rules: [{suspend: true}]\n",
        encoding="utf-8",
    )
    r = _cli("validate", str(f), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"warning: {f}:12:13: policy.regimes[0].name" in r.stderr, r.stderr
    assert "never in force" in r.stderr
    r = _cli("validate", "--strict", str(f), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "with warnings (--strict)" in r.stderr


def test_the_shipped_scenarios_have_no_warnings():
    root = Path(__file__).resolve().parents[2]
    files = sorted(str(p) for p in (root / "scenarios").glob("*.yaml"))
    files += sorted(str(p) for p in (root / "scenarios" / "examples").glob("*.yaml"))
    r = _cli("validate", "--strict", *files, cwd=root)
    assert r.returncode == 0, r.stderr


def _overlay(where: dict) -> dict:
    return {
        "overlays": [
            {"from": day(START, 10), "until": day(START, 40), "where": where,
             "review_time_factor": 2.0}
        ]
    }  # fmt: skip


def test_a_selector_whose_keys_never_meet_reaches_nothing():
    """Issue 24: each key matches something (DE has a plant, US a background stream) but
    no application goes to DE from the background: the overlay never applies."""
    sc = build(supply_chain(policy=_overlay({"destination": "DE", "applicant": "background"})))
    found = check_warnings(sc)
    assert [p for p, _, _ in found] == [("policy", "overlays", 0, "where")]
    assert "reaches no modelled manufacturer and no background stream" in found[0][1]
    ok = build(supply_chain(policy=_overlay({"destination": "DE", "applicant": "m1"})))
    assert check_warnings(ok) == []


def test_an_overlay_on_background_only_gets_a_note_naming_a_group():
    """`destination: EU` reaches the other member states' background stream but not the
    German plant: a note (not a warning) says so and names EU27."""
    from simulator.scenario.warnings import check_notes

    data = supply_chain(policy=_overlay({"destination": "EU"}))
    data["countries"].append({"id": "EU", "name": "Other EU member states"})
    data["authority"]["background"].append(
        {"destination": "EU", "product": "magnet", "rate_per_wd": 0.2}
    )
    sc = build(data)
    assert check_warnings(sc) == []  # it does something: no warning, --strict passes
    notes = check_notes(sc)
    assert [p for p, _, _ in notes] == [("policy", "overlays", 0, "where")]
    assert "no modelled manufacturer" in notes[0][1]
    assert "did you mean destination: EU27 (DE, EU)" in notes[0][1]


def test_eu27_is_the_union_among_the_scenario_countries():
    """`destination: EU27` resolves to every member state the scenario models: DE and
    the `EU` bucket, not US; the resolved scenario lists them."""
    from simulator.scenario.warnings import check_notes

    data = supply_chain(policy=_overlay({"destination": ["EU27", "US"]}))
    data["countries"].append({"id": "EU"})
    sc = build(data)
    assert sc.policy.overlays[0].where.destination == ["DE", "EU", "US"]
    assert check_warnings(sc) == [] and check_notes(sc) == []
    # a scenario with a country called EU27 keeps its own
    data = supply_chain(policy=_overlay({"destination": "EU27"}))
    data["countries"].append({"id": "EU27"})
    assert build(data).policy.overlays[0].where.destination == ["EU27"]
    # a group with no member here is an unknown country, as before
    data = supply_chain(policy=_overlay({"destination": "EU27"}))
    data["countries"] = [{"id": "CN"}, {"id": "US"}]
    data["manufacturers"][0]["country"] = "US"
    import pytest

    from simulator.errors import ScenarioError

    with pytest.raises(ScenarioError, match="EU27"):
        build(data)
