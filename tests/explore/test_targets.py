"""Calibration targets (:mod:`simulator.explore.targets`): reading, observing, judging."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from builders import authority_only, build

from simulator.ensemble.options import Execution
from simulator.errors import ScenarioError
from simulator.explore.targets import Target, Tolerance, evaluate, load_targets, observe_ensemble

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "scenarios" / "calibration" / "cn-2025-targets.yaml"


def test_the_case_study_targets_load_and_cite_their_sources() -> None:
    t = load_targets(CASE)
    assert len(t.targets) >= 40
    assert all(x.source for x in t.targets), "every target names its source"
    kinds = {x.kind for x in t.targets}
    assert {"monthly_exports", "approved_share", "over_limit_share"} <= kinds


def test_a_bad_targets_file_is_refused_at_file_line_col(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(
        "targets:\n"
        "  - {id: a, kind: monthly_exports, observed: 1, tolerance: {relative: 0.1}}\n"
        "  - {id: b, kind: monthly_export, month: 2025-01, observed: 1,"
        " tolerance: {relative: 0.1}}\n"
    )
    with pytest.raises(ScenarioError) as e:
        load_targets(f)
    text = str(e.value)
    assert f"{f}:2:5: targets[0]: a monthly_exports target needs month" in text
    assert "monthly_export" in text and "did you mean 'monthly_exports'" in text


def test_tolerances_judge_the_median() -> None:
    assert Tolerance(relative=0.25).ok(100, 124) and not Tolerance(relative=0.25).ok(100, 126)
    assert Tolerance(absolute=0.08).ok(0.5, 0.43) and not Tolerance(absolute=0.08).ok(0.5, 0.41)
    assert Tolerance(range=(0.0, 0.05)).ok(0.03, 0.049)
    assert not Tolerance(range=(0.0, 0.05)).ok(0.03, float("nan"))
    with pytest.raises(ValueError):
        Tolerance(relative=0.1, absolute=1)


def test_observed_values_match_a_hand_computed_queue() -> None:
    """One destination, every application approved after exactly 2 working days of
    review, 1 t each, no production or port time: exports of a month are the month's
    decisions; every application is decided within the limit; the median wait is 2
    days (all-working calendar)."""
    sc = build(
        authority_only(
            days=90,
            reviewers=100,
            work={"kind": "constant", "value": 2},
            limit=45,
            streams=[{"destination": "XX", "rate_per_wd": 3.0}],
        )
    )
    targets = [
        Target(
            id="jan",
            kind="monthly_exports",
            month="2025-01",
            observed=90,
            tolerance=Tolerance(relative=0.3),
        ),
        Target(
            id="approved",
            kind="approved_share",
            submitted_from="2025-01-01",
            submitted_until="2025-02-26",
            by="2025-03-31",
            observed=1.0,
            tolerance=Tolerance(absolute=1e-9),
        ),
        Target(
            id="late",
            kind="over_limit_share",
            submitted_from="2025-01-01",
            submitted_until="2025-02-26",
            by="2025-03-31",
            observed=0.0,
            tolerance=Tolerance(absolute=1e-9),
        ),
        Target(
            id="wait",
            kind="median_wait_days",
            submitted_from="2025-01-01",
            submitted_until="2025-02-26",
            by="2025-03-31",
            observed=2.0,
            tolerance=Tolerance(absolute=1e-9),
        ),
    ]
    values = observe_ensemble(sc, targets, 6, Execution(seed=0, workers=1))
    assert values.shape == (6, 4)
    # January departures: decisions of Jan 1..31 (submitted Dec 30 .. Jan 29), ~3 a day
    assert np.all(np.abs(values[:, 0] - 90) < 40)
    rows = {r["id"]: r for r in evaluate(targets, values)}
    assert rows["approved"]["ok"] and rows["late"]["ok"] and rows["wait"]["ok"]
    assert rows["wait"]["median"] == pytest.approx(2.0)


def test_relsim_calibrate_prints_every_target(tmp_path: Path) -> None:
    f = tmp_path / "t.yaml"
    f.write_text(
        "targets:\n"
        "  - {id: feb, kind: monthly_exports, month: 2025-02, observed: 50,"
        " tolerance: {relative: 0.5}, source: test}\n"
        "  - {id: wait, kind: median_wait_days, submitted_from: 2025-01-01,"
        " submitted_until: 2025-02-28, by: 2025-03-31, observed: 10,"
        " tolerance: {range: [0, 1]}, source: test}\n"
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "calibrate",
            str(ROOT / "tests" / "data" / "small.yaml"),
            "--targets",
            str(f),
            "--reps",
            "3",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "feb " in r.stdout and "wait " in r.stdout
    assert "targets within tolerance" in r.stdout


# ------------------------------------------------------------------ time split, settings
def test_a_split_puts_each_target_in_train_or_test_by_the_day_it_was_public() -> None:
    """Monthly customs detail is public on the 20th of the next month: July's figures
    (public 2025-08-20) are train under a split at 2025-08-31, August's are test; a figure
    used to set a parameter is a setting whatever its date."""
    from simulator.explore.targets import Split, phase, published_on

    split = Split(train_until="2025-08-31")
    tol = Tolerance(relative=0.25)
    jul = Target(id="j", kind="monthly_exports", month="2025-07", observed=1, tolerance=tol)
    aug = Target(id="a", kind="monthly_exports", month="2025-08", observed=1, tolerance=tol)
    dec = Target(id="d", kind="monthly_exports", month="2025-12", observed=1, tolerance=tol)
    jan = Target(
        id="s",
        kind="monthly_exports",
        month="2025-01",
        observed=1,
        tolerance=tol,
        used_for="setting",
    )
    assert str(published_on(jul)) == "2025-08-20"
    assert str(published_on(dec)) == "2026-01-20"
    assert [phase(t, split) for t in (jul, aug, dec, jan)] == ["train", "test", "test", "setting"]
    assert phase(aug, None) == "fit"


def test_the_case_study_declares_its_split_settings_and_free_parameters() -> None:
    """The case study's calibration is honest about what it was fitted to: a split, the
    figures shares were set from marked as settings, every free parameter declared, and
    a test set larger than the train set."""
    from simulator.explore.targets import phase

    t = load_targets(CASE)
    assert t.split is not None and str(t.split.train_until) == "2025-08-31"
    phases = [phase(x, t.split) for x in t.targets]
    assert phases.count("test") >= phases.count("train") >= 10
    settings = {x.id for x in t.targets if x.used_for == "setting"}
    assert {"exports_2025_01", "exports_us_2025_03", "exports_de_2025_07"} <= settings
    assert len(t.parameters) >= 4
    # a range tolerance that cannot fail downward is not a target
    for x in t.targets:
        if x.tolerance.range is not None and x.used_for == "target":
            assert x.tolerance.range[0] > 0, x.id


def test_a_fit_never_sees_its_test_targets(tmp_path: Path) -> None:
    """Moving a test target's observed value does not change the fit's loss: only train
    targets are fitted."""
    from simulator.explore.fit import _scales, discrepancy
    from simulator.explore.targets import Split, phase

    tol = Tolerance(relative=0.25)
    train = Target(id="tr", kind="monthly_exports", month="2025-03", observed=100, tolerance=tol)
    test = Target(id="te", kind="monthly_exports", month="2025-10", observed=100, tolerance=tol)
    split = Split(train_until="2025-05-31")
    values = np.array([[100.0, 300.0], [101.0, 310.0]])
    idx = [k for k, t in enumerate((train, test)) if phase(t, split) in ("fit", "train")]
    assert idx == [0]
    scales = _scales([train, test], lambda k: "t")
    loss, _ = discrepancy(values[:, idx], [scales[k] for k in idx])
    assert loss < 0.1
    rows = evaluate([train, test], values, split)
    assert [r["phase"] for r in rows] == ["train", "test"]
    assert not rows[1]["ok"]
