"""The run directory: everything an ensemble run leaves behind, written atomically.

Layout::

    manifest.json            "tool": "relsim", versions, seed, reps, scenario hash, files, timing
    scenario.resolved.yaml   the scenario after extends/overrides, as validated
    summary.json             KPI mean, 95% interval, se and n per entity (deterministic)
    kpi_summary.csv          the same as a table
    kpis_by_rep.parquet      per-replication KPIs (.csv too when small)
    bands_shortfall.parquet  per-day mean and p5..p95 per manufacturer (t/day)
    bands_inventory.parquet  the same for inventory (t)
    bands_backlog.parquet    applications pending per destination
    p_shortage.parquet       P(shortage on day d) per manufacturer
    exports_monthly.csv      exports at Chinese customs per month: mean and bands
    arrivals_monthly.csv     arrivals of those exports per month: mean and bands
    wait_histogram.csv       submission-to-decision waits, working days
    rep0/                    replication 0 in full: licences, daily, exports, events, kpis
    figures/*.png            fan charts, licence waits, exports
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.report.atomic import TOOL, atomic_dir, write_json
from simulator.scenario.dump import to_yaml

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["SMALL_ROWS", "manifest", "scenario_data", "scenario_hash", "write_run_dir"]

SMALL_ROWS = 100_000
"""Tables with fewer rows are also written as CSV."""


def scenario_data(sc: Scenario) -> dict[str, Any]:
    """The scenario as plain JSON-able data (aliases, ISO dates)."""
    return sc.model_dump(mode="json", by_alias=True)


def scenario_hash(sc: Scenario) -> str:
    """SHA-256 of the resolved scenario (canonical JSON), first 16 hex digits."""
    text = json.dumps(scenario_data(sc), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _table(df: pd.DataFrame, base: Path, csv: bool | None = None) -> None:
    df = df.copy()
    df.attrs = {}
    df.to_parquet(base.with_suffix(".parquet"), index=False)
    if csv or (csv is None and len(df) < SMALL_ROWS):
        df.to_csv(base.with_suffix(".csv"), index=False)


def manifest(
    sc: Scenario,
    *,
    seed: int,
    reps: int,
    files: list[str],
    workers: int,
    elapsed_s: float,
    command: str = "run",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Provenance of a run."""
    from simulator import __version__
    from simulator.world.calendar import build_calendar

    estimated = list(build_calendar(sc).estimated_years)
    return {
        "tool": TOOL,  # what makes a directory a relsim output (atomic.is_relsim_output)
        "version": __version__,
        "command": command,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenario": sc.name,
        "scenario_hash": scenario_hash(sc),
        "scenario_files": files,
        "seed": seed,
        "reps": reps,
        "workers": workers,
        "elapsed_s": round(elapsed_s, 3),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "calendar_estimated_years": estimated,
        "packages": package_versions(),
        **(extra or {}),
    }


def write_run_dir(
    out: Path,
    ens: Any,
    *,
    files: list[str],
    rep0: Any | None = None,
    observed: pd.DataFrame | None = None,
    figures: bool = True,
    force: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write an ensemble's run directory atomically.

    Args:
        out: Target directory.
        ens: The :class:`~simulator.ensemble.EnsembleResult`.
        files: Scenario files read (for the manifest).
        rep0: Replication 0's :class:`~simulator.results.RunResult` for full detail.
        observed: Observed monthly exports to overlay on the exports figure.
        figures: Write PNG figures.
        force: Replace an existing directory.
        extra: More provenance for ``manifest.json`` (e.g. the ``--set`` overrides and
            what they changed).

    Returns:
        The directory written.
    """
    sc = ens.scenario
    with atomic_dir(out, force) as tmp:
        write_json(
            tmp / "manifest.json",
            manifest(
                sc,
                seed=ens.seed,
                reps=ens.reps,
                files=files,
                workers=ens.workers,
                elapsed_s=ens.elapsed_s,
                extra=extra,
            ),
        )
        (tmp / "scenario.resolved.yaml").write_text(to_yaml(scenario_data(sc)), encoding="utf-8")
        write_json(tmp / "summary.json", ens.summary_dict())
        ens.kpi_summary().to_csv(tmp / "kpi_summary.csv", index=False)
        _table(ens.kpi_reps, tmp / "kpis_by_rep")
        _table(ens.bands("shortfall_t"), tmp / "bands_shortfall", csv=False)
        _table(ens.bands("inventory_t"), tmp / "bands_inventory", csv=False)
        _table(ens.bands("backlog"), tmp / "bands_backlog", csv=False)
        _table(ens.p_shortage(), tmp / "p_shortage", csv=False)
        ens.exports().to_csv(tmp / "exports_monthly.csv", index=False)
        ens.arrivals().to_csv(tmp / "arrivals_monthly.csv", index=False)
        ens.wait_histogram().query("count > 0").to_csv(tmp / "wait_histogram.csv", index=False)
        if rep0 is not None:
            d = tmp / "rep0"
            d.mkdir()
            _table(rep0.licences, d / "licences")
            _table(rep0.daily, d / "daily")
            _table(rep0.authority_daily, d / "authority_daily")
            _table(rep0.exports, d / "exports")
            _table(rep0.arrivals, d / "arrivals")
            _table(rep0.events, d / "events", csv=False)
            rep0.kpis.to_csv(d / "kpis.csv", index=False)
            rep0.regimes.to_csv(d / "regimes.csv", index=False)
            rep0.overlays.to_csv(d / "overlays.csv", index=False)
        if figures:
            from simulator.report.figures import save_figures

            fig_dir = tmp / "figures"
            fig_dir.mkdir()
            save_figures(ens, fig_dir, observed=observed)
    return Path(out)


NUMERIC_PACKAGES = ("numpy", "scipy", "simpy", "pandas", "holidays", "pydantic")
"""Packages whose version can change a run's numbers (recorded in every manifest)."""


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`NUMERIC_PACKAGES` (and of numba when present)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (*NUMERIC_PACKAGES, "numba"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            if name != "numba":
                out[name] = "not installed"
    return out
