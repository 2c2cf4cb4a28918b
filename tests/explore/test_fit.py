"""Fitting (:mod:`simulator.explore.fit`): known parameters recovered from synthetic
targets, the fitted file extends the original, bad parameter blocks are located."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from builders import authority_only

import simulator as sim
from simulator.ensemble.options import Execution
from simulator.errors import ScenarioError
from simulator.explore.fit import discrepancy, fitted_document
from simulator.explore.targets import Target, Tolerance, evaluate, observe_ensemble
from simulator.report.atomic import OutputExists
from simulator.scenario.compose import load_located

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"

TRUTH = {
    "authority.background.0.rate_per_wd": 3.0,
    "authority.review_work_wd.mean": 8.0,
    "authority.approval.probability": 0.8,
}
START = {  # the scenario file's values: where the fit starts
    "authority.background.0.rate_per_wd": 2.0,
    "authority.review_work_wd.mean": 12.0,
    "authority.approval.probability": 0.6,
}
BOUNDS = {
    "authority.background.0.rate_per_wd": (0.5, 6.0),
    "authority.review_work_wd.mean": (3.0, 30.0),
    "authority.approval.probability": (0.2, 1.0),
}
TARGETS: list[dict[str, Any]] = [
    # applications in Q1 pin the arrival rate, the median wait the review work, the
    # approved share the approval probability
    {"id": "apps", "kind": "applications", "submitted_from": "2025-01-01",
     "submitted_until": "2025-03-31"},
    {"id": "wait", "kind": "median_wait_days", "submitted_from": "2025-01-01",
     "submitted_until": "2025-03-31", "by": "2025-04-30"},
    {"id": "approved", "kind": "approved_share", "submitted_from": "2025-01-01",
     "submitted_until": "2025-03-31", "by": "2025-04-30"},
]  # fmt: skip
TOLERANCE = 0.10
"""Stated recovery tolerance: every fitted value within 10 % of the truth."""


def scenario_file(tmp_path: Path) -> Path:
    data = authority_only(
        days=120,
        reviewers=40,
        work={"kind": "gamma", "mean": START["authority.review_work_wd.mean"], "sd": 4},
        streams=[
            {
                "destination": "XX",
                "rate_per_wd": START["authority.background.0.rate_per_wd"],
                "tonnes": {"kind": "constant", "value": 5},
            }
        ],
        limit=45,
        approval={"probability": START["authority.approval.probability"]},
    )
    data["name"] = "synthetic"
    f = tmp_path / "scenario.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    return f


def test_fit_recovers_known_parameters_from_synthetic_targets(tmp_path: Path) -> None:
    sc_file = scenario_file(tmp_path)
    # the "observations": medians of 40 replications of the true scenario, seed 99
    truth = sim.load_scenario(sc_file, TRUTH)
    probe = [Target(**t, observed=1.0, tolerance=Tolerance(relative=0.1)) for t in TARGETS]
    observed = evaluate(probe, observe_ensemble(truth, probe, 40, Execution(seed=99, workers=1)))
    targets = {
        "scenario": sc_file.name,
        "targets": [
            {**t, "observed": float(r["median"]), "tolerance": {"relative": 0.05}}
            for t, r in zip(TARGETS, observed, strict=True)
        ],
        "parameters": [{"path": k, "low": lo, "high": hi} for k, (lo, hi) in BOUNDS.items()],
    }
    t_file = tmp_path / "targets.yaml"
    t_file.write_text(yaml.safe_dump(targets, sort_keys=False))

    # the fit: another seed (its replications are not the observations'), 40 trials
    res = sim.fit(sc_file, t_file, trials=40, reps=12, seed=0, workers=1, out=tmp_path / "fit")
    for path, true in TRUTH.items():
        assert abs(res.best[path] - true) <= TOLERANCE * true, (path, res.best[path], true)
        r = res.ranges.set_index("parameter").loc[path]
        assert r["near_low"] <= true <= r["near_high"], (path, r.to_dict())
    start_loss = res.trials["loss"].iloc[0]
    assert res.trials.iloc[0][list(START)].tolist() == list(START.values())
    assert res.best_loss < start_loss / 20
    assert set(res.trials["stage"]) == {"search", "polish"} and len(res.trials) == 40

    # the fitted file extends the original (beside it) and reproduces the fitted scenario
    fitted = tmp_path / "scenario-fitted.yaml"
    assert res.fitted_file == fitted
    doc = yaml.safe_load(fitted.read_text())
    assert doc["extends"] == "scenario.yaml" and doc["name"] == "synthetic-fitted"
    again = sim.load_scenario(fitted)
    assert again.authority.review_work_wd.mean_value == res.best["authority.review_work_wd.mean"]
    assert (
        again.authority.background[0].rate_per_wd == res.best["authority.background.0.rate_per_wd"]
    )
    assert again.authority.reviewers == 40  # untouched values come from the original
    record = tmp_path / "fit"
    assert {p.name for p in record.iterdir()} == {"manifest.json", "trials.csv", "calibration.csv"}
    assert yaml.safe_load((record / "manifest.json").read_text())["tool"] == "relsim"
    with pytest.raises(OutputExists, match=r"scenario-fitted\.yaml already exists"):
        sim.fit(sc_file, t_file, trials=2, reps=2, workers=1, out=tmp_path / "again")


def test_the_loss_weighs_each_target_by_its_tolerance_and_noise() -> None:
    from simulator.explore.fit import Z_UNDEFINED, _Scale

    values = np.array([[10.0, 0.5, np.nan], [12.0, 0.7, np.nan], [14.0, 0.9, np.nan]])
    scales = [_Scale(10.0, 1.0), _Scale(0.5, 0.1, 0.2, 0.6), _Scale(1.0, 1.0)]
    loss, z = discrepancy(values, scales)
    se = np.sqrt(np.pi / 2) * 2.0 / np.sqrt(3)  # median's standard error, sd 2
    assert z[0] == pytest.approx(2.0 / np.sqrt(1.0 + se**2))
    se2 = np.sqrt(np.pi / 2) * 0.2 / np.sqrt(3)
    assert z[1] == pytest.approx((0.7 - 0.6) / np.sqrt(0.1**2 + se2**2))  # above the range
    assert z[2] == Z_UNDEFINED
    assert loss == pytest.approx(float(np.sum(z**2)))


def test_the_fitted_document_merges_back_named_and_whole_lists(tmp_path: Path) -> None:
    overrides = {
        "manufacturers[us_plant].initial_cover_days": 21.5,
        "policy.regimes[controls].rules.0.review_time_factor": 1.25,
        "authority.reviewers": 9,
    }
    out = tmp_path / "deep" / "fit"
    doc = fitted_document(load_located(SMALL), overrides, SMALL, out, "small-fitted")
    assert doc["manufacturers"] == [{"id": "us_plant", "initial_cover_days": 21.5}]
    [regime] = doc["policy"]["regimes"]
    assert regime["name"] == "controls" and len(regime["rules"]) == 2  # rules: whole list
    out.mkdir(parents=True)
    from simulator.scenario.dump import to_yaml

    (out / "fitted.yaml").write_text(to_yaml(doc))
    fitted = sim.load_scenario(out / "fitted.yaml", allow=[SMALL.parent])
    expected = sim.load_scenario(SMALL, overrides)
    assert fitted.model_copy(update={"name": expected.name}) == expected


def _targets(tmp_path: Path, parameters: str, tolerance: str = "{relative: 0.1}") -> Path:
    f = tmp_path / "t.yaml"
    f.write_text(
        "targets:\n"
        "  - {id: feb, kind: monthly_exports, month: 2025-03, observed: 50,"
        f" tolerance: {tolerance}}}\n" + parameters
    )
    return f


@pytest.mark.parametrize(
    ("parameters", "where", "message"),
    [
        ("parameters:\n  - {path: authority.reviewers, low: 9, high: 3}\n", "4:",
         "parameters[0].high: must be above low (9) (got 3.0)"),
        ("parameters:\n  - {path: authority.reviewers, low: 0, high: 3, log: true}\n", "4:",
         "parameters[0].low: a log-scale parameter needs low > 0"),
        ("parameters:\n  - {path: authority.revewers.x, low: 1, high: 3}\n", "4:5: parameters[0]:",
         "authority.revewers.x: no such value in the scenario"),
        ("parameters:\n  - {path: authority.reviewers, low: 1, high: 3, step: 1}\n", "4:",
         "unknown key 'step'"),
        ("", "t.yaml", "no free parameters: add a `parameters:` block"),
    ],
)  # fmt: skip
def test_a_bad_parameters_block_is_refused_where_it_is_written(
    tmp_path: Path, parameters: str, where: str, message: str
) -> None:
    with pytest.raises(ScenarioError) as e:
        sim.fit(SMALL, _targets(tmp_path, parameters), trials=2, reps=2, workers=1)
    text = str(e.value)
    assert message in text, text
    assert f"{tmp_path / 't.yaml'}" in text and where in text, text


def test_a_zero_width_range_cannot_weigh_a_fit(tmp_path: Path) -> None:
    f = _targets(
        tmp_path,
        "parameters:\n  - {path: authority.reviewers, low: 3, high: 9}\n",
        "{range: [5, 5]}",
    )
    with pytest.raises(ScenarioError, match="a range tolerance of zero width cannot weigh a fit"):
        sim.fit(SMALL, f, trials=2, reps=2, workers=1)


def test_the_case_study_s_free_parameters_make_valid_scenarios_at_every_bound() -> None:
    """The parameters block of the case study's targets file names real values of the
    case study, each starting inside its range, and every bound makes a valid scenario
    (what ``relsim fit`` checks before it runs)."""
    from simulator.explore.fit import free_parameters
    from simulator.explore.targets import load_targets_located
    from simulator.scenario.load import load_scenario_located

    sc, loc = load_scenario_located(ROOT / "scenarios" / "cn-2025-april-controls.yaml")
    tfile = ROOT / "scenarios" / "calibration" / "cn-2025-targets.yaml"
    tg, tloc = load_targets_located(tfile)
    params = free_parameters(sc, loc, tg, tloc, tfile, "fit")  # raises at a bad bound
    assert len(params) >= 5
    for p in params:
        assert p.nominal is not None and p.low < p.nominal < p.high, p
