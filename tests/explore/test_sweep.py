"""Sweeps (:mod:`simulator.explore.sweep`): identical on every executor, common random
numbers across points, resuming after an interruption, refusing what cannot resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simulator as sim
from simulator.errors import ScenarioError
from simulator.report.atomic import OutputExists, OutputRefused

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"
PARAMS = [
    "policy.regimes[controls].rules.0.review_time_factor=1:3:2",
    "manufacturers[us_plant].initial_cover_days=20:50:2",
]
REPS, SEED = 3, 5


def run(**kw: Any) -> sim.SweepResult:
    args: dict[str, Any] = {"reps": REPS, "seed": SEED, "workers": 1, "figures": False}
    args.update(kw)
    return sim.sweep(SMALL, PARAMS, **args)


@pytest.fixture(scope="module")
def serial() -> sim.SweepResult:
    return run(executor="serial")


def test_a_sweep_is_a_tidy_table_of_ensembles(serial: sim.SweepResult) -> None:
    f = serial.frame
    assert list(f.columns) == [
        "point",
        *(p.split("=")[0] for p in PARAMS),
        "entity",
        "kpi",
        "mean",
        "ci_low",
        "ci_high",
        "se",
        "n",
    ]
    # 2 levels each, and the scenario's own value (1.5; 35) as a third: the base point
    assert sorted(f["point"].unique()) == list(range(9))
    # every point is exactly the ensemble of its scenario, with the sweep's seed
    point = sim.load_scenario(
        SMALL,
        {
            "policy.regimes[controls].rules.0.review_time_factor": 3.0,
            "manufacturers[us_plant].initial_cover_days": 20.0,
        },
    )
    ens = sim.run_ensemble(point, reps=REPS, seed=SEED, workers=1).summary_dict()["kpis"]
    row = f[(f["point"] == 6) & (f["entity"] == "us_plant") & (f["kpi"] == "lost_units")]
    assert row["mean"].item() == ens["us_plant"]["lost_units"]["mean"]
    assert row["n"].item() == REPS


@pytest.mark.slow
def test_the_same_sweep_on_processes_and_on_a_dask_cluster_is_identical(
    serial: sim.SweepResult,
) -> None:
    distributed = pytest.importorskip("distributed")
    procs = run(workers=2, executor="processes")
    pd.testing.assert_frame_equal(procs.frame, serial.frame)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        on_dask = run(executor=client)
    finally:
        client.close()
        cluster.close()
    pd.testing.assert_frame_equal(on_dask.frame, serial.frame)


def test_points_share_random_numbers_with_the_scenario_itself() -> None:
    """One at a time starts at the scenario's own values: that point is the plain
    scenario's ensemble, draw for draw (common random numbers)."""
    res = sim.sweep(
        SMALL,
        ["manufacturers[de_plant].initial_cover_days=30:60"],
        design="oat",
        reps=REPS,
        seed=SEED,
        workers=1,
    )
    base = sim.run_ensemble(sim.load_scenario(SMALL), reps=REPS, seed=SEED, workers=1)
    f = res.frame[res.frame["point"] == res.design.base]
    for entity, kpis in base.summary_dict()["kpis"].items():
        for kpi, st in kpis.items():
            if kpi.endswith("_date"):  # dates of the days_to_* KPIs: not in the sweep table
                continue
            got = f[(f["entity"] == entity) & (f["kpi"] == kpi)]
            assert got["n"].item() == st["n"]
            if st["mean"] is not None:
                assert got["mean"].item() == st["mean"], (entity, kpi)


def test_an_interrupted_sweep_resumes_and_skips_finished_points(
    tmp_path: Path, serial: sim.SweepResult
) -> None:
    out = tmp_path / "sw"
    seen: list[int] = []

    def stop_after_two(done: int, total: int) -> None:
        seen.append(done)
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(out=out, progress=stop_after_two)
    partial = tmp_path / "sw.partial"
    assert not out.exists() and sorted(p.name for p in (partial / "points").iterdir()) == [
        "p000000.json",
        "p000001.json",
    ]
    ran: list[int] = []
    res = run(out=out, progress=lambda d, t: ran.append(d))
    assert res.resumed == 2 and ran == list(range(2, 10))  # two read back, seven run
    pd.testing.assert_frame_equal(res.frame, serial.frame)
    assert not partial.exists()
    stored = pd.read_parquet(out / "sweep.parquet")
    pd.testing.assert_frame_equal(stored, serial.frame, check_dtype=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["resumed_points"] == 2 and manifest["points"] == 9
    assert manifest["design"]["kind"] == "grid" and manifest["reps"] == REPS
    with pytest.raises(OutputExists, match="already exists; use --force"):
        run(out=out)


def test_a_sweep_that_changed_cannot_resume_another_s_points(tmp_path: Path) -> None:
    out = tmp_path / "sw"

    def stop(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(out=out, progress=stop)
    with pytest.raises(ScenarioError) as e:
        run(out=out, reps=REPS + 1)
    assert "with a different number of replications" in str(e.value)
    assert str(tmp_path / "sw.partial" / "manifest.json") in str(e.value)
    with pytest.raises(ScenarioError, match="different design"):
        sim.sweep(SMALL, PARAMS[:1], reps=REPS, seed=SEED, workers=1, out=out)
    # --force discards the other sweep's points and starts afresh
    res = run(out=out, reps=REPS + 1, force=True)
    assert res.resumed == 0 and out.exists()


def test_an_invalid_point_is_named_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    with pytest.raises(ScenarioError) as e:
        sim.sweep(
            SMALL,
            ["policy.regimes[controls].rules.1.approval_probability=0.5:1.5:3"],
            reps=2,
            workers=1,
            out=out,
        )
    first, *rest = e.value.problems
    assert first.file == "--param policy.regimes[controls].rules.1.approval_probability=0.5:1.5:3"
    assert "point 2 of the grid design" in first.message and "=1.5)" in first.message
    assert any("less than or equal to 1" in p.message for p in rest)
    assert not out.exists() and not (tmp_path / "sw.partial").exists()


def test_the_uncertainties_block_is_the_default_and_bare_paths_select_from_it() -> None:
    example = ROOT / "scenarios" / "examples" / "sweep-slowdown.yaml"
    from simulator.explore.sweep import prepare

    whole = prepare(example, design="lhs", points=8, reps=2)
    assert [p.label for p in whole.design.params] == [
        "slowdown factor",
        "slowdown duration",
        "slowdown start",
        "US plant cover",
    ]
    two = prepare(
        example,
        ["policy.overlays[0].duration_days", "policy.overlays.0.review_time_factor=1:2:2"],
        reps=2,
    )
    assert [p.name for p in two.design.params] == [
        "slowdown duration",
        "policy.overlays.0.review_time_factor",
    ]
    assert two.design.n == 5 * 2  # the block's levels: 5; the option's: 2
    with pytest.raises(ScenarioError, match="has no entry in the scenario's `uncertainties:`"):
        prepare(example, ["authority.reviewers"], reps=2)
    with pytest.raises(ScenarioError, match="nothing to sweep"):
        prepare(SMALL, reps=2)


def test_a_partial_directory_that_is_not_a_sweep_s_is_never_touched(tmp_path: Path) -> None:
    foreign = tmp_path / "sw.partial"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputRefused, match="is not an unfinished relsim sweep"):
        run(out=tmp_path / "sw", force=True)
    assert (foreign / "notes.txt").read_text() == "mine"
    with pytest.raises(OutputRefused, match="not a relsim run directory"):
        other = tmp_path / "other"
        other.mkdir()
        run(out=other, force=True)


def test_both_engines_give_the_same_sweep() -> None:
    """``engine="simpy"`` (the reference model) and the compiled kernel (the default)
    give the same table, point for point."""
    args = (SMALL, ["manufacturers[de_plant].initial_cover_days=30:60"])
    kw = {"design": "oat", "reps": 2, "seed": SEED, "workers": 1}
    a = sim.sweep(*args, **kw)
    b = sim.sweep(*args, **kw, engine="simpy")
    pd.testing.assert_frame_equal(a.frame, b.frame)


def test_the_points_past_the_horizon_are_known_before_anything_runs() -> None:
    """The points at which a swept overlay runs past the end (whose shortages after it
    are not counted) are listed with the warning, for the stress map to mark."""
    from simulator.explore.sweep import prepare

    slowdown = ROOT / "scenarios" / "examples" / "sweep-slowdown.yaml"
    prep = prepare(slowdown, ["policy.overlays.0.duration_days=30:200:4"])
    durations = prep.design.coords[:, 0]
    assert prep.past_horizon == [i for i, v in enumerate(durations) if v == 200]
    assert len(prep.past_horizon) == 1 and len(prep.warnings) == 1
    assert prepare(slowdown, ["policy.overlays.0.duration_days=30:100:3"]).past_horizon == []
