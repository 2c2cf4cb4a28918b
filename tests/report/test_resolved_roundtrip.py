"""A run directory's ``scenario.resolved.yaml`` is the scenario as run: it loads back to
the same hash and reruns to the same ``summary.json``; background exports name their
origin (the licensing country)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import simulator as sim
from simulator.report.rundir import scenario_hash

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    p
    for p in [*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("scenarios/examples/*.yaml")]
    if "-fitted" not in p.name
)
FAST = [ROOT / "scenarios" / "cn-2025-april-controls.yaml"]


def _run(scenario: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "run",
            str(scenario),
            "--reps",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
            "--no-figures",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=out.parent,
        check=False,
    )


def _roundtrip(scenario: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    r = _run(scenario, first)
    assert r.returncode == 0, r.stderr
    resolved = first / "scenario.resolved.yaml"
    again = sim.load_scenario(resolved)
    assert scenario_hash(again) == scenario_hash(sim.load_scenario(scenario))
    second = tmp_path / "second"
    r = _run(resolved, second)
    assert r.returncode == 0, r.stderr
    a = json.loads((first / "summary.json").read_text())
    b = json.loads((second / "summary.json").read_text())
    assert a == b


@pytest.mark.parametrize("scenario", FAST, ids=lambda p: p.stem)
def test_the_case_studys_resolved_scenario_loads_back_and_reruns_the_same(
    scenario: Path, tmp_path: Path
) -> None:
    """The case study has a manufacturer with `parts` and observed exports: both made the
    resolved scenario unloadable before."""
    _roundtrip(scenario, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_resolved_scenario_loads_back_and_reruns_the_same(
    scenario: Path, tmp_path: Path
) -> None:
    _roundtrip(scenario, tmp_path)


def test_background_exports_name_the_licensing_country_as_origin(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = _run(FAST[0], out)
    assert r.returncode == 0, r.stderr
    for table in ("exports", "arrivals", "shipments"):
        df = pd.read_parquet(out / "rep0" / f"{table}.parquet")
        assert df["origin"].notna().all(), table
        assert set(df["origin"]) <= {"CN", "US"}, table
