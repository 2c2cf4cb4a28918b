"""Sweep parameters (:mod:`simulator.explore.params`): the --param option, the
uncertainties: block, paths checked against the scenario, overlay windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import simulator as sim
from simulator.errors import ScenarioError
from simulator.explore.params import parse_param, point_overrides, resolve
from simulator.report.rundir import scenario_hash

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "examples" / "sweep-slowdown.yaml"


@pytest.fixture(scope="module")
def example() -> sim.Scenario:
    return sim.load_scenario(EXAMPLE)


def test_the_param_option_reads_numbers_dates_and_levels() -> None:
    path, p = parse_param("policy.overlays.0.review_time_factor=1.5:3:4")
    assert path == "policy.overlays.0.review_time_factor"
    assert p is not None and (p.low, p.high, p.levels, p.kind) == (1.5, 3.0, 4, "float")
    _, d = parse_param("policy.overlays[0].from=2025-03-15:2025-05-15")
    assert d is not None and d.kind == "date"
    assert d.value(d.low) == dt.date(2025, 3, 15) and d.high - d.low == 61
    assert parse_param("authority.reviewers") == ("authority.reviewers", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("authority.reviewers=600", "expected LOW:HIGH or LOW:HIGH:N"),
        ("authority.reviewers=900:600", "HIGH must be above LOW"),
        ("authority.reviewers=600:600", "HIGH must be above LOW"),
        ("authority.reviewers=600:900:1", "N (grid levels) must be a whole number from 2"),
        ("authority.reviewers=600:900:2.5", "N (grid levels) must be a whole number from 2"),
        ("authority.reviewers=600:2025-01-01", "must both be dates or both numbers"),
        ("authority.reviewers=lots:900", "LOW must be a number or a date"),
        ("authority..reviewers=1:2", "cannot read the path"),
        ("=1:2", "the PATH is empty"),
    ],
)
def test_bad_param_options_are_refused_at_the_option(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_param(text)
    first = str(e.value.problems[0])
    assert first.startswith(f"--param {text}: "), first
    assert message in first


def _with_block(tmp_path: Path, block: str) -> Path:
    f = tmp_path / "s.yaml"
    f.write_text(
        EXAMPLE.read_text().split("\nuncertainties:\n")[0] + "\n" + "uncertainties:\n" + block
    )
    return f


def test_a_bad_uncertainties_block_is_refused_at_file_line_col(tmp_path: Path) -> None:
    f = _with_block(
        tmp_path,
        "  - {path: authority.reviewers, low: 20, high: 10}\n"
        "  - {path: authority.reviewers, low: 0, high: 10, distribution: {kind: loguniform}}\n"
        "  - {path: x.y, low: 1, high: 3, distribution: {kind: triangular, mode: 5}}\n"
        "  - {path: x.y, low: 1, high: 3, distribution: {kind: normall}}\n"
        "  - {path: policy.overlays.0.from, low: 2025-03-01, high: 9}\n",
    )
    lines = f.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("uncertainties:")) + 2
    with pytest.raises(ScenarioError) as e:
        sim.load_scenario(f)
    text = str(e.value)
    assert f"{f}:{first}:" in text and "uncertainties[0].high: must be above low (20" in text
    assert "uncertainties[1].low: a loguniform range needs low > 0 (got 0.0)" in text
    assert "uncertainties[2].distribution.mode: must lie in [1, 3] (got 5" in text
    assert "unknown kind 'normall'; did you mean 'normal'?" in text
    assert "uncertainties[4].high: low and high must both be dates or both numbers" in text
    assert all(p.line for p in e.value.problems), text


def test_paths_are_checked_against_the_scenario(example: sim.Scenario) -> None:
    bad = [
        "policy.overlays.0.review_time_factr=1:2",  # a key of no mapping: unknown later
        "authority.reviewrs.x=1:2",
        "policy.overlays.3.review_time_factor=1:2",
        "policy.overlays.0.from=1:2",
        "authority.reviewers=2025-01-01:2025-02-01",
        "policy.overlays.0.label=1:2",
        "policy.overlays.0.duration_days=0:20",
        "policy.overlays.1.duration_days=5:20",
    ]
    with pytest.raises(ScenarioError) as e:
        resolve([parse_param(t)[1] for t in bad[1:]], example)  # type: ignore[misc]
    text = str(e.value)
    assert "--param authority.reviewrs.x=1:2: authority.reviewrs.x: no such value" in text
    assert "policy.overlays.3.review_time_factor: no such value" in text
    assert "policy.overlays.0.from: is a date: give LOW and HIGH as dates" in text
    assert "authority.reviewers: is a number, not a date" in text
    assert "policy.overlays.0.label: is not a number (str)" in text
    assert "duration_days must be at least 1 day" in text
    assert "policy.overlays.1.duration_days: no such overlay" in text
    # an unset key of an existing mapping is allowed here and judged point by point
    [p] = resolve([parse_param(bad[0])[1]], example)  # type: ignore[list-item]
    assert p.nominal is None


def test_a_path_swept_twice_or_until_with_duration_is_refused(example: sim.Scenario) -> None:
    twice = [parse_param(t)[1] for t in ("authority.reviewers=5:9", "authority[reviewers]=6:8")]
    with pytest.raises(ScenarioError, match="a path swept twice"):
        resolve(twice, example)  # type: ignore[arg-type]
    m = example.manufacturers[0].id  # one field under two spellings (issue 25)
    spelled = [
        parse_param(t)[1]
        for t in (
            "manufacturers.0.initial_cover_days=10:20",
            f"manufacturers[{m}].initial_cover_days=12:30",
        )
    ]
    with pytest.raises(ScenarioError, match="or spelled twice"):
        resolve(spelled, example)  # type: ignore[arg-type]
    both = [
        parse_param(t)[1]
        for t in (
            "policy.overlays.0.until=2025-05-01:2025-06-01",
            "policy.overlays.0.duration_days=10:20",
        )
    ]
    with pytest.raises(ScenarioError, match="either `until` or `duration_days`"):
        resolve(both, example)  # type: ignore[arg-type]


def test_kinds_and_nominal_values_come_from_the_scenario(example: sim.Scenario) -> None:
    texts = [
        "authority.reviewers=10:20",
        "policy.overlays.0.review_time_factor=1:4",
        "policy.overlays.0.duration_days=30:150",
        "policy.overlays.0.from=2025-03-15:2025-05-15",
    ]
    reviewers, factor, duration, start = resolve([parse_param(t)[1] for t in texts], example)  # type: ignore[misc]
    assert (reviewers.kind, reviewers.nominal) == ("int", 16.0)
    assert (factor.kind, factor.nominal) == ("float", 2.0)
    assert (duration.kind, duration.nominal) == ("int", 60.0)  # 2025-04-01 .. 2025-05-30
    assert start.kind == "date" and start.value(start.nominal) == dt.date(2025, 4, 1)
    assert reviewers.value(reviewers.snap(12.4)) == 12 and isinstance(reviewers.value(12.0), int)


def test_overlay_duration_sets_until_and_a_moved_start_keeps_the_duration(
    example: sim.Scenario,
) -> None:
    dur, start = resolve(
        [
            parse_param("policy.overlays.0.duration_days=30:150")[1],  # type: ignore[list-item]
            parse_param("policy.overlays.0.from=2025-03-15:2025-05-15")[1],  # type: ignore[list-item]
        ],
        example,
    )
    may1 = float(dt.date(2025, 5, 1).toordinal())
    ov = point_overrides([dur, start], [10, may1])
    assert ov == {
        "policy.overlays.0.from": dt.date(2025, 5, 1),
        "policy.overlays.0.until": dt.date(2025, 5, 10),  # from + 10 days - 1
    }
    ov = point_overrides([start], [may1])  # duration as written: 60 days
    assert ov["policy.overlays.0.until"] == dt.date(2025, 6, 29)
    ov = point_overrides([dur], [30])  # from as written: 2025-04-01
    assert ov == {"policy.overlays.0.until": dt.date(2025, 4, 30)}
    sc = sim.load_scenario(EXAMPLE, ov)
    assert sc.policy.overlays[0].until == dt.date(2025, 4, 30)


def test_run_ignores_the_block_and_the_hash_does_not_see_it(tmp_path: Path) -> None:
    with_block = sim.load_scenario(EXAMPLE)
    assert len(with_block.uncertainties) == 4
    plain = tmp_path / "plain.yaml"
    plain.write_text(EXAMPLE.read_text().split("\nuncertainties:\n")[0] + "\n")
    without = sim.load_scenario(plain)
    assert scenario_hash(with_block) == scenario_hash(without)
    assert "uncertainties" not in with_block.model_dump()
