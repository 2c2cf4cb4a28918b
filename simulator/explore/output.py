"""A finished sweep's directory, written whole or not at all.

Layout::

    manifest.json            relsim and package versions, scenario hash and files, the
                             design (parameters, points, seed), replications, timing
    scenario.resolved.yaml   the base scenario (after extends: and --set)
    design.parquet/.csv      one row per point: its parameter values
    sweep.parquet            the tidy table: point × parameters × entity × KPI × (mean,
                             ci_low, ci_high, se, n); .csv too when small
    tornado.csv              one-at-a-time swings per manufacturer and KPI (oat, grid)
    sensitivity.csv          Sobol or Morris indices per manufacturer and KPI
    figures/*.png            stress-test maps, tornado charts, index charts
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.report.atomic import atomic_dir, write_json
from simulator.report.rundir import SMALL_ROWS, package_versions, scenario_data, scenario_hash
from simulator.scenario.dump import to_yaml

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.sweep import SweepResult

__all__ = ["analyses", "write_sweep_dir"]


def analyses(res: SweepResult, kpis: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tornado swings (oat/grid) and Sobol or Morris indices (sobol/morris) of every
    manufacturer for each KPI; combinations undefined at some point are left out.

    Returns:
        ``(tornado, sensitivity)`` long tables with ``entity`` and ``kpi`` columns (empty
        when the design supports neither).
    """
    torn, sens = [], []
    present = set(res.frame["kpi"])
    for kpi in kpis:
        if kpi not in present:
            continue
        for e in res.entities():
            try:
                if res.design.base is not None:
                    torn.append(res.tornado(kpi, e).assign(entity=e, kpi=kpi))
                if res.design.kind == "sobol":
                    sens.append(res.sobol(kpi, e).assign(entity=e, kpi=kpi))
                elif res.design.kind == "morris":
                    sens.append(res.morris(kpi, e).assign(entity=e, kpi=kpi))
            except (ValueError, KeyError):
                continue
    return (
        pd.concat(torn, ignore_index=True) if torn else pd.DataFrame(),
        pd.concat(sens, ignore_index=True) if sens else pd.DataFrame(),
    )


def write_sweep_dir(
    res: SweepResult,
    out: Path,
    files: list[str],
    *,
    figures: bool = True,
    kpis: Sequence[str] = ("any_shortage", "lost_units"),
    force: bool = False,
) -> Path:
    """Write a sweep's directory atomically (see the module documentation).

    Args:
        res: The finished sweep.
        out: Target directory.
        files: Scenario files read (for the manifest).
        figures: Write PNG figures.
        kpis: KPIs of the figures and analyses.
        force: Replace an existing directory.

    Returns:
        The directory written.
    """
    from simulator import __version__

    assert res.scenario is not None
    sc = res.scenario
    torn, sens = analyses(res, kpis)
    with atomic_dir(out, force) as tmp:
        manifest: dict[str, Any] = {
            "tool": "relsim",
            "version": __version__,
            "command": "sweep",
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "scenario": sc.name,
            "scenario_hash": scenario_hash(sc),
            "scenario_files": files,
            "design": res.design.to_dict(),
            "reps": res.reps,
            "seed": res.seed,
            "points": res.design.n,
            "resumed_points": res.resumed,
            "workers": res.workers,
            "elapsed_s": round(res.elapsed_s, 3),
            "point_seconds_total": round(sum(res.timing), 3),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "packages": package_versions(),
        }
        write_json(tmp / "manifest.json", manifest)
        (tmp / "scenario.resolved.yaml").write_text(to_yaml(scenario_data(sc)), encoding="utf-8")
        _table(res.design.frame(), tmp / "design")
        _table(res.frame, tmp / "sweep")
        if not torn.empty:
            torn.to_csv(tmp / "tornado.csv", index=False)
        if not sens.empty:
            sens.to_csv(tmp / "sensitivity.csv", index=False)
        if figures:
            from simulator.explore.plots import write_figures

            write_figures(res, tmp / "figures", kpis)
    return Path(out)


def _table(df: pd.DataFrame, base: Path) -> None:
    df = df.copy()
    df.attrs = {}
    df.to_parquet(base.with_suffix(".parquet"), index=False)
    if len(df) < SMALL_ROWS:
        df.to_csv(base.with_suffix(".csv"), index=False)
