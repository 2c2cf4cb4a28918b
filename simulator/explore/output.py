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
    report.html              one self-contained page: the question, the design, what
                             each manufacturer's KPIs range over, the analyses and figures
"""

from __future__ import annotations

import math
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.report.atomic import atomic_dir, write_json
from simulator.report.rundir import (
    SMALL_ROWS,
    package_versions,
    scenario_data,
    scenario_hash,
    write_csv,
)
from simulator.scenario.dump import to_yaml

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.sweep import SweepResult

__all__ = ["analyses", "fmt_kpi", "fmt_value", "ranges", "short_names", "write_sweep_dir"]


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


_SHARES = ("any_shortage", "fill_rate", "share_over_limit", "approval_rate")


def fmt_kpi(kpi: str, v: float) -> str:
    """A KPI value as a reader wants it: shares in %, large numbers with separators."""
    if not math.isfinite(v):
        return "—"
    if kpi in _SHARES:
        return f"{100 * v:.0f}%"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_value(v: Any) -> str:
    """A parameter value: 4 significant digits, dates as ISO."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def short_names(params: Sequence[Any]) -> dict[str, str]:
    """A short name per parameter path: its label, else the last part of its path (the
    whole path where two would read the same)."""
    last = {
        p.path: p.label or p.path.replace("]", "").split(".")[-1].split("[")[-1] for p in params
    }
    counts: dict[str, int] = {}
    for v in last.values():
        counts[v] = counts.get(v, 0) + 1
    return {k: (v if counts[v] == 1 else k) for k, v in last.items()}


def ranges(res: SweepResult, kpis: Sequence[str]) -> pd.DataFrame:
    """Per manufacturer and KPI, the lowest and highest mean over the points and the
    parameter values where the highest is reached.

    Returns:
        Columns ``entity``, ``kpi``, ``lowest``, ``highest`` (KPI units) and
        ``highest_at`` (text, "(the same at every point)" when nothing moves); KPIs
        undefined at every point are left out.
    """
    names = short_names(res.params)
    rows: list[dict[str, Any]] = []
    present = set(res.frame["kpi"])
    for e in res.entities():
        for kpi in kpis:
            if kpi not in present:
                continue
            t = res.kpi(kpi, e)
            m = t["mean"].to_numpy(float)
            if not (m == m).any():
                continue
            hi = int(t["mean"].idxmax())
            lo_v, hi_v = float(t["mean"].min()), float(t["mean"].max())
            at = ", ".join(f"{names[p.path]}={fmt_value(t.loc[hi, p.path])}" for p in res.params)
            if lo_v == hi_v:
                at = "(the same at every point)"
            rows.append(
                {"entity": e, "kpi": kpi, "lowest": lo_v, "highest": hi_v, "highest_at": at}
            )
    return pd.DataFrame(rows, columns=["entity", "kpi", "lowest", "highest", "highest_at"])


def write_sweep_dir(
    res: SweepResult,
    out: Path,
    files: list[str],
    *,
    figures: bool = True,
    kpis: Sequence[str] | None = None,
    force: bool = False,
) -> Path:
    """Write a sweep's directory atomically (see the module documentation).

    Args:
        res: The finished sweep.
        out: Target directory.
        files: Scenario files read (for the manifest).
        figures: Write PNG figures.
        kpis: KPIs of the figures and analyses (default:
            :meth:`SweepResult.informative_kpis`).
        force: Replace an existing directory.

    Returns:
        The directory written.
    """
    from simulator.version import __version__

    assert res.scenario is not None
    sc = res.scenario
    kpis = list(kpis) if kpis else res.informative_kpis()
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
            "kpis": list(kpis),
            "warnings": list(res.warnings),
        }
        write_json(tmp / "manifest.json", manifest)
        (tmp / "scenario.resolved.yaml").write_text(to_yaml(scenario_data(sc)), encoding="utf-8")
        _table(res.design.frame(), tmp / "design")
        _table(res.frame, tmp / "sweep")
        if not torn.empty:
            write_csv(torn, tmp / "tornado.csv")
        if not sens.empty:
            write_csv(sens, tmp / "sensitivity.csv")
        written: list[Path] = []
        if figures:
            from simulator.explore.plots import write_figures

            written = write_figures(res, tmp / "figures", kpis)
        from simulator.report.html import sweep_page

        (tmp / "report.html").write_text(
            sweep_page(_page_inputs(res, kpis, torn, sens, written, manifest)), encoding="utf-8"
        )
    return Path(out)


_FIGURE_TITLES = {
    "stress": "Stress-test map",
    "tornado": "Tornado chart (one at a time)",
    "sobol": "Sobol indices",
    "morris": "Morris screening",
}


def _page_inputs(
    res: SweepResult,
    kpis: Sequence[str],
    torn: pd.DataFrame,
    sens: pd.DataFrame,
    figures: list[Path],
    manifest: dict[str, Any],
) -> dict[str, Any]:
    """Plain inputs of :func:`simulator.report.html.sweep_page` (formatted text)."""
    from simulator.explore.plots import kpi_label, param_label

    assert res.scenario is not None
    names = short_names(res.params)
    params = [
        {
            "name": param_label(p),
            "path": p.path,
            "low": fmt_value(p.value(p.low)),
            "high": fmt_value(p.value(p.high)),
        }
        for p in res.params
    ]
    rng = ranges(res, kpis)
    range_rows = [
        [
            r.entity,
            kpi_label(r.kpi),
            fmt_kpi(r.kpi, r.lowest),
            fmt_kpi(r.kpi, r.highest),
            r.highest_at,
        ]
        for r in rng.itertuples()
    ]
    tables: list[dict[str, Any]] = []
    if not torn.empty:
        tables.append(
            {
                "title": "One at a time: each parameter from the low to the high end of its "
                "range, the others at the scenario's values",
                "columns": [
                    "manufacturer",
                    "KPI",
                    "parameter",
                    "at low",
                    "at high",
                    "± 95% (Monte Carlo)",
                    "range",
                    "",
                ],
                "rows": [
                    [
                        r.entity,
                        kpi_label(r.kpi),
                        names[r.parameter],
                        fmt_kpi(r.kpi, r.at_low),
                        fmt_kpi(r.kpi, r.at_high),
                        f"±{fmt_kpi(r.kpi, max(r.at_low_ci, r.at_high_ci))}",
                        f"{fmt_value(r.low)} → {fmt_value(r.high)}",
                        "swing within noise" if r.within_noise else "",
                    ]
                    for r in torn.itertuples()
                ],
            }
        )
    if not sens.empty and "S1" in sens:
        tables.append(
            {
                "title": "Sobol indices (share of the variance of the points' means; "
                "first order S1, total ST, ± 95% interval)",
                "columns": ["manufacturer", "KPI", "parameter", "S1", "ST"],
                "rows": [
                    [
                        r.entity,
                        kpi_label(r.kpi),
                        names[r.parameter],
                        f"{r.S1:.2f} ± {r.S1_conf:.2f}",
                        f"{r.ST:.2f} ± {r.ST_conf:.2f}",
                    ]
                    for r in sens.itertuples()
                ],
            }
        )
    elif not sens.empty:
        tables.append(
            {
                "title": "Morris screening (mu*: mean absolute effect over each range)",
                "columns": ["manufacturer", "KPI", "parameter", "mu*", "sigma"],
                "rows": [
                    [
                        r.entity,
                        kpi_label(r.kpi),
                        names[r.parameter],
                        f"{r.mu_star:.3g} ± {r.mu_star_conf:.2g}",
                        f"{r.sigma:.3g}",
                    ]
                    for r in sens.itertuples()
                ],
            }
        )
    figs = []
    for f in figures:
        kind, _, kpi = f.stem.partition("_")
        figs.append(
            {
                "stem": f.stem,
                "title": f"{_FIGURE_TITLES.get(kind, kind)}: {kpi_label(kpi)}",
                "caption": f"{_FIGURE_TITLES.get(kind, kind)} of {kpi_label(kpi)}; "
                f"means of {res.reps} replications per point.",
                "mime": "image/png",
                "data": f.read_bytes(),
            }
        )
    sc = res.scenario
    return {
        "name": sc.name,
        "description": sc.description,
        "start": str(sc.start),
        "end": str(sc.end),
        "design": res.design.kind,
        "points": res.design.n,
        "reps": res.reps,
        "seed": res.seed,
        "params": params,
        "ranges": range_rows,
        "tables": tables,
        "warnings": list(res.warnings),
        "figures": figs,
        "manifest": manifest,
    }


def _table(df: pd.DataFrame, base: Path) -> None:
    df = df.copy()
    df.attrs = {}
    df.to_parquet(base.with_suffix(".parquet"), index=False)
    if len(df) < SMALL_ROWS:
        write_csv(df, base.with_suffix(".csv"))
