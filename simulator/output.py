"""Writing run directories atomically.

A run directory is assembled in a hidden temporary sibling and renamed into place
only when complete, so a crash, Ctrl-C or SIGTERM never leaves a directory that
looks like a finished run. Layout::

    manifest.json            versions, seed, reps, scenario hash, files, timing
    scenario.resolved.yaml   the scenario after extends/overrides, as validated
    summary.json             KPI mean, 95% interval, se and n per entity (deterministic)
    kpi_summary.csv          the same as a table
    kpis_by_rep.parquet      per-replication KPIs (.csv too when small)
    bands_shortfall.parquet  per-day mean and p5..p95 per manufacturer (t/day)
    bands_inventory.parquet  the same for inventory (t)
    bands_backlog.parquet    applications pending per destination
    p_shortage.parquet       P(shortage on day d) per manufacturer
    exports_monthly.csv      licensed exports per month: mean and bands
    wait_histogram.csv       submission-to-decision waits, working days
    rep0/                    replication 0 in full: licences, daily, exports, events, kpis
    figures/*.png            fan charts, licence waits, exports
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.schema import Scenario
from simulator.yamlio import to_yaml

__all__ = [
    "OutputExists",
    "atomic_dir",
    "atomic_file",
    "scenario_hash",
    "write_json",
    "write_run_dir",
    "write_text_atomic",
]

SMALL_ROWS = 100_000
"""Tables with fewer rows are also written as CSV."""


COMMITTED: list[Path] = []
"""Directories and files :func:`atomic_dir` and :func:`atomic_file` have put in place in
this process, in order (the CLI names them when a late Ctrl-C interrupts it after an
output was committed)."""


class OutputExists(FileExistsError):
    """The run directory exists and ``force`` was not given."""


def scenario_data(sc: Scenario) -> dict[str, Any]:
    """The scenario as plain JSON-able data (aliases, ISO dates)."""
    return sc.model_dump(mode="json", by_alias=True)


def scenario_hash(sc: Scenario) -> str:
    """SHA-256 of the resolved scenario (canonical JSON), first 16 hex digits."""
    text = json.dumps(scenario_data(sc), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_json(path: Path, data: Any) -> None:
    """Write JSON deterministically (sorted keys, 2-space indent, trailing newline)."""
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
    )


@contextlib.contextmanager
def atomic_dir(target: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``target`` on success.

    Args:
        target: Final directory.
        force: Replace an existing ``target``.

    Raises:
        OutputExists: ``target`` exists and ``force`` is False.
    """
    target = Path(target)
    if target.exists() and not force:
        raise OutputExists(f"{target} already exists; use --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        with _signals_held():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    with _signals_held():
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            target.rename(old)
        tmp.rename(target)
        COMMITTED.append(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` that replaces ``target`` on success.

    Whatever is written to the yielded path (text, JSON, a figure) appears at
    ``target`` whole or not at all: an error or Ctrl-C while writing removes the
    temporary file and leaves any previous ``target`` as it was.

    Args:
        target: Final file; its directory is created if missing.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        with _signals_held():
            os.replace(tmp, target)
            COMMITTED.append(target)
    finally:
        with _signals_held():
            tmp.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` (UTF-8), whole or not at all (see
    :func:`atomic_file`)."""
    with atomic_file(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while directories are renamed or removed, so a second
    Ctrl-C cannot leave a half-removed temporary directory, or the old run renamed away
    with the new one not yet in its place. A signal received meanwhile is delivered
    when the block ends.

    Python-level handlers that only record the signal are swapped in: blocking the
    signals with ``pthread_sigmask`` is not enough, because it blocks them in the
    calling thread only — the kernel then hands a Ctrl-C to another thread (numpy's
    BLAS threads), whose C handler still makes the main thread raise
    ``KeyboardInterrupt`` in the middle of the block. Off the main thread (where
    handlers cannot be set, and Python never runs them) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def record(signum: int, frame: Any) -> None:
        received.append(signum)

    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, record) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for sig in dict.fromkeys(received):  # each signal once, in the order received
            signal.raise_signal(sig)


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
    import numpy
    import pandas
    import simpy

    from simulator import __version__
    from simulator.world import build_calendar

    estimated = list(build_calendar(sc).estimated_years)
    return {
        "tool": "relsim",
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
        "packages": {
            "numpy": numpy.__version__,
            "pandas": pandas.__version__,
            "simpy": simpy.__version__,
        },
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
        ens.wait_histogram().query("count > 0").to_csv(tmp / "wait_histogram.csv", index=False)
        if rep0 is not None:
            d = tmp / "rep0"
            d.mkdir()
            _table(rep0.licences, d / "licences")
            _table(rep0.daily, d / "daily")
            _table(rep0.authority_daily, d / "authority_daily")
            _table(rep0.exports, d / "exports")
            _table(rep0.events, d / "events", csv=False)
            rep0.kpis.to_csv(d / "kpis.csv", index=False)
            rep0.regimes.to_csv(d / "regimes.csv", index=False)
        if figures:
            from simulator.plotting import save_figures

            fig_dir = tmp / "figures"
            fig_dir.mkdir()
            save_figures(ens, fig_dir, observed=observed)
    return Path(out)
