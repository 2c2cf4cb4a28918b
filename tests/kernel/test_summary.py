"""Summary-only replications give the full path's statistics, value for value.

The summary-only path (:func:`simulator.kernel.engine.simulate_summary`) reads targets,
monthly exports, shortfall, first line stops and waits from the kernel's state; the full
path decodes the trace into tables and observes the targets
(:func:`simulator.explore.summaries.trace_summaries`). They must agree exactly (NaN where
both are undefined) on several scenarios (with
batch releases and a start-up among them), seeds and replications.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import simulator as sim
from simulator.explore.summaries import SummaryLayout, trace_summaries
from simulator.explore.targets import Target, load_targets
from simulator.kernel.engine import simulate_kernel, simulate_summary
from simulator.kernel.summary import SummarySpec, vector_size
from simulator.world.calendar import build_calendar

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
TARGETS = ROOT / "scenarios" / "calibration" / "cn-2025-targets.yaml"
OTHERS = [
    ROOT / "scenarios" / "eu-autumn-slowdown-regimes.yaml",
    ROOT / "scenarios" / "examples" / "bill-of-materials.yaml",
    ROOT / "scenarios" / "examples" / "files-that-sit.yaml",
    ROOT / "scenarios" / "examples" / "backlog-vs-lost.yaml",
    ROOT / "scenarios" / "examples" / "batch-release.yaml",  # releases decide files
    ROOT / "scenarios" / "examples" / "new-requirement.yaml",  # start-up: prep, ramp
]


def every_kind(sc: sim.Scenario) -> list[Target]:
    """Targets of every kind over a scenario's horizon (observed values are unused)."""
    months = []
    d = dt.date(sc.start.year, sc.start.month, 1)
    while d <= sc.end:
        months.append(f"{d.year:04d}-{d.month:02d}")
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    dests = [c.id for c in sc.countries]
    tol = {"relative": 0.1}
    out: list[dict] = []
    for i, m in enumerate(months):
        out.append({"id": f"x{i}", "kind": "monthly_exports", "month": m})
        out.append(
            {"id": f"a{i}", "kind": "monthly_arrivals", "month": m, "destinations": dests[:1]}
        )
        out.append({"id": f"s{i}", "kind": "export_share", "month": m, "destinations": dests[-1:]})
        if i >= 2:
            out.append({"id": f"r{i}", "kind": "export_ratio", "month": m, "months": months[:2]})
    mid = sc.start + (sc.end - sc.start) / 2
    window = {"submitted_from": sc.start, "submitted_until": mid, "by": sc.end}
    for kind in ("applications", "approved_share", "over_limit_share", "median_wait_days"):
        out.append({"id": f"{kind}_all", "kind": kind, **window})
        out.append({"id": f"{kind}_one", "kind": kind, "destinations": dests[:1], **window})
    return [Target(observed=1.0, tolerance=tol, **t) for t in out]


def same(sc: sim.Scenario, targets: list[Target], seeds: tuple[int, ...], reps: int) -> None:
    layout = SummaryLayout.build(sc, targets)
    cal = build_calendar(sc)
    for seed in seeds:
        for rep in range(reps):
            fast = simulate_summary(sc, seed, rep, layout.spec, cal)
            full = trace_summaries(sc, simulate_kernel(sc, seed, rep, cal), cal, targets, layout)
            assert fast.shape == (len(layout.names),)
            bad = [
                layout.names[i]
                for i in np.flatnonzero(~((fast == full) | (np.isnan(fast) & np.isnan(full))))
            ]
            assert not bad, f"{sc.name} seed {seed} rep {rep}: {bad[:5]}"


def test_case_study_targets_identical() -> None:
    sc = sim.load_scenario(CASE)
    targets = list(load_targets(TARGETS).targets)
    same(sc, targets, (0, 7), 2)


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.stem)
def test_every_kind_identical(path: Path) -> None:
    sc = sim.load_scenario(path)
    same(sc, every_kind(sc), (1, 2), 2)


def test_layout_names_and_size() -> None:
    sc = sim.load_scenario(CASE)
    targets = list(load_targets(TARGETS).targets)
    layout = SummaryLayout.build(sc, targets)
    assert layout.names[: len(targets)] == tuple(t.id for t in targets)
    assert vector_size(layout.spec) == len(layout.names)
    assert "exports/2025-08/US" in layout.names
    assert layout.names[-1] == f"wait/{sc.end.year}-{sc.end.month:02d}"
    assert isinstance(layout.spec, SummarySpec)
    assert layout.digest() == SummaryLayout.build(sc, targets).digest()
