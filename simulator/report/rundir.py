"""The run directory: everything an ensemble run leaves behind, written atomically.

Layout::

    manifest.json            "tool": "relsim", versions, seed, reps, scenario hash, files, timing
    scenario.resolved.yaml   the scenario after extends/overrides, as validated
    summary.json             KPI mean, 95% interval, se and n per entity (deterministic)
    report.html              the one-page report: KPIs with dates, figures, assumptions
    kpi_table.csv            headline KPIs per manufacturer with intervals and dates
    kpi_summary.csv          every KPI's mean and 95% interval (scope/manufacturer/part)
    kpis_by_rep.parquet      per-replication KPIs (.csv too when small)
    bands_shortfall.parquet  per-day mean and p5..p95 per manufacturer (t/day)
    bands_inventory.parquet  the same for inventory per manufacturer and part (t)
    bands_backlog.parquet    applications pending per destination
    p_shortage.parquet       P(shortage on day d) per manufacturer
    exports_monthly.csv      exports at Chinese customs per month and destination
    exports_monthly_total.csv    … all destinations
    arrivals_monthly.csv     arrivals of those exports per month and destination
    arrivals_monthly_total.csv   … all destinations
    wait_histogram.csv       submission-to-decision waits, working days
    regimes.csv              the policy regime timeline
    scenario.notes.json      the scenario's header and its changes against its base
    rep0/                    replication 0 in full: kpis, totals, licences, shipments,
                             daily, authority_daily, exports, arrivals, events, regimes
    figures/*.png            P(shortage) overview, fan charts, waits, exports, backlog
    tables.xlsx              with --xlsx: one sheet per table (per-event tables: a pointer)

Every table follows the schema of :mod:`simulator.replication.columns`
(``docs/outputs.md``).

Text cells of every table written here (CSV and workbook) can never become spreadsheet
formulas (:func:`formula_safe`, :func:`write_xlsx`).

A run directory read back (``relsim report``) is untrusted input:
:mod:`simulator.report.readback`.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.report.atomic import TOOL, atomic_dir, write_json
from simulator.scenario.dump import to_yaml

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "SMALL_ROWS",
    "formula_safe",
    "manifest",
    "scenario_data",
    "scenario_hash",
    "unguard",
    "write_csv",
    "write_run_dir",
]

SMALL_ROWS = 100_000
"""Tables with fewer rows are also written as CSV."""


def scenario_data(sc: Scenario) -> dict[str, Any]:
    """The scenario as plain JSON-able data (aliases, ISO dates)."""
    return sc.model_dump(mode="json", by_alias=True)


def scenario_hash(sc: Scenario) -> str:
    """SHA-256 of the resolved scenario (canonical JSON), first 16 hex digits."""
    text = json.dumps(scenario_data(sc), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_RISKY = r"^'*[=+\-@\t\r]"
"""A text cell a spreadsheet could read as a formula: one starting with ``= + - @``, a
tab or a carriage return (after any apostrophes already guarding it)."""
_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _text_columns(df: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in df.columns
        if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype | pd.CategoricalDtype)
    ]


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell that a spreadsheet could run as a formula (one
    starting with ``= + - @``, a tab or a carriage return, unless it is a plain number
    such as ``-3``) guarded by a leading apostrophe, as OWASP advises for CSV; a cell that
    already starts with apostrophes before such a character gets one more, so
    :func:`unguard` gives the text back exactly. Numbers and dates are left alone."""
    out = None
    for c in _text_columns(df):
        s = df[c].astype(object)
        text = s.map(lambda v: isinstance(v, str))
        if not text.any():
            continue
        st = s.where(text, "").astype(str)
        risky = text & st.str.contains(_RISKY, regex=True) & ~st.str.match(_NUMBER)
        if risky.any():
            out = df.copy() if out is None else out
            out[c] = s.where(~risky, "'" + st)
    return df if out is None else out


def unguard(s: pd.Series) -> pd.Series:
    """Undo :func:`formula_safe` on a text column read back from a CSV relsim wrote."""
    text = s.map(lambda v: isinstance(v, str))
    st = s.where(text, "").astype(str)
    guarded = text & st.str.match(r"^'+[=+\-@\t\r]")
    return s.where(~guarded, st.str.slice(1))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as CSV (no index) with formula-safe text cells (:func:`formula_safe`):
    every CSV relsim writes goes through here."""
    formula_safe(df).to_csv(path, index=False)


def _write_observed_copy(tmp: Path, declared: str | None, observed: pd.DataFrame | None) -> None:
    """A copy of the observed exports at the path the resolved scenario declares, relative
    to the run directory, so ``scenario.resolved.yaml`` loads back as it is (same hash)
    without reading outside the run directory. Written only for a plain relative path
    inside the directory (no ``..``, not absolute); the table as read and checked, not
    the file's bytes."""
    if not declared or observed is None:
        return
    rel = PurePosixPath(declared.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or ":" in rel.parts[0]:
        return
    df = observed.copy()
    df.attrs = {}
    df["month"] = pd.to_datetime(df["month"]).dt.strftime("%Y-%m")
    target = tmp.joinpath(*rel.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(target, index=False)


def _table(df: pd.DataFrame, base: Path, csv: bool | None = None) -> None:
    df = df.copy()
    df.attrs = {}
    df.to_parquet(base.with_suffix(".parquet"), index=False)
    if csv or (csv is None and len(df) < SMALL_ROWS):
        write_csv(df, base.with_suffix(".csv"))


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
    from simulator.version import __version__
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


def run_tables(ens: Any, rep0: Any | None = None) -> dict[str, pd.DataFrame]:
    """Every table of a run directory by file stem (``rep<i>/…`` for the replication
    given in full: replication 0 of a run, replication I of ``--rep-index I``)."""
    tables: dict[str, pd.DataFrame] = {
        "kpi_table": ens.kpi_table(),
        "kpi_summary": ens.kpi_summary(),
        "kpis_by_rep": ens.kpi_reps,
        "bands_shortfall": ens.bands("shortfall_t"),
        "bands_inventory": ens.bands("inventory_t"),
        "bands_backlog": ens.bands("backlog"),
        "p_shortage": ens.p_shortage(),
        "exports_monthly": ens.exports(),
        "exports_monthly_total": ens.exports_total(),
        "arrivals_monthly": ens.arrivals(),
        "arrivals_monthly_total": ens.arrivals_total(),
        "wait_histogram": ens.wait_histogram().query("count > 0").reset_index(drop=True),
        "regimes": ens.regimes(),
        "overlays": ens.overlays(),
    }
    if rep0 is not None:
        for name in (
            "kpis",
            "totals",
            "licences",
            "shipments",
            "daily",
            "authority_daily",
            "exports",
            "arrivals",
            "regimes",
            "overlays",
            "events",
        ):
            tables[f"rep{rep0.rep}/{name}"] = getattr(rep0, name)
    return tables


# written as CSV only (small), as parquet only (large, per day) or both
_CSV_ONLY = {
    "kpi_table",
    "kpi_summary",
    "exports_monthly",
    "exports_monthly_total",
    "arrivals_monthly",
    "arrivals_monthly_total",
    "wait_histogram",
    "regimes",
    "overlays",
    "kpis",
    "totals",
}
_PARQUET_ONLY = {
    "bands_shortfall",
    "bands_inventory",
    "bands_backlog",
    "p_shortage",
    "events",
}


def _parquet_only(name: str) -> bool:
    """Whether table ``name`` (``rep0/events`` …) is written as parquet only."""
    return name.split("/", 1)[-1] in _PARQUET_ONLY


def write_tables(tables: dict[str, pd.DataFrame], root: Path) -> None:
    """Write tables under ``root``: small ones as CSV, per-day ones as parquet, the rest
    as both (CSV when under :data:`SMALL_ROWS` rows)."""
    for name, df in tables.items():
        base = root / name
        base.parent.mkdir(parents=True, exist_ok=True)
        key = name.split("/", 1)[-1]
        if key in _CSV_ONLY:
            write_csv(df, base.with_suffix(".csv"))
        else:
            _table(df, base, csv=False if key in _PARQUET_ONLY else None)


EXCEL_MAX_ROWS = 1_048_575
"""Rows an Excel sheet holds below its header."""
XLSX_MAX_CELLS = 60_000
"""Largest table (rows × columns) written as a sheet of ``tables.xlsx``: the summary
tables and per-day bands fit; replication 0's per-event tables (``events``, ``licences``,
``shipments``: about a million cells in the case study, most of the workbook's size and
of a minute's writing) stay in their parquet and CSV files, which the sheet names."""


def write_xlsx(
    tables: dict[str, pd.DataFrame], path: Path, max_cells: int = XLSX_MAX_CELLS
) -> list[str]:
    """One workbook, one sheet per table (sheet names ≤ 31 characters: ``rep0/daily``
    becomes ``rep0 daily``) and a sheet of units; a table larger than ``max_cells``
    cells (or too long for a sheet) gets a sheet that says where it is in the run
    directory.

    Returns:
        The sheet names written.
    """
    from simulator.replication.columns import COLUMNS

    names: list[str] = []
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, df in tables.items():
            sheet = name.replace("/", " ")[:31]
            if len(df) > EXCEL_MAX_ROWS or len(df) * max(len(df.columns), 1) > max_cells:
                where = f"{name}.parquet" + (
                    f" and {name}.csv" if len(df) < SMALL_ROWS and not _parquet_only(name) else ""
                )
                pd.DataFrame(
                    {
                        "note": [
                            f"{len(df):,} rows × {len(df.columns)} columns: left out of the "
                            f"workbook (it would take most of its size and time); see {where} "
                            "in the run directory"
                        ]
                    }
                ).to_excel(xl, sheet_name=sheet, index=False)
            else:
                out = df.copy()
                for c in out.columns:
                    if str(out[c].dtype) == "category":
                        out[c] = out[c].astype(str)
                out = _xlsx_text(out)
                out.to_excel(xl, sheet_name=sheet, index=False)
                _cells_as_text(out, xl.sheets[sheet])
            names.append(sheet)
        # a sheet of units, declared once (simulator/replication/columns.py)
        pd.DataFrame(
            [(c.name, c.unit, c.doc) for c in COLUMNS.values()],
            columns=["column", "unit", "meaning"],
        ).to_excel(xl, sheet_name="units", index=False)
    return names


def _xlsx_text(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells an Excel file cannot hold (control characters other than tab, line
    feed and carriage return) shown as escapes (:func:`simulator.errors.clean`)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from simulator.errors import clean

    for c in _text_columns(df):
        s = df[c].astype(object)
        bad = s.map(lambda v: isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v) is not None)
        if bad.any():
            df[c] = s.where(~bad, s.map(lambda v: clean(v) if isinstance(v, str) else v))
    return df


def _cells_as_text(df: pd.DataFrame, ws: Any) -> None:
    """Make every text cell of sheet ``ws`` (written from ``df``, header in row 1) a text
    cell: openpyxl reads a string starting with ``=`` as a formula, which Excel would run;
    such cells, and those starting with ``+ - @``, a tab or a carriage return, become
    strings marked with Excel's quote prefix (shown and edited as text)."""
    for j, c in enumerate(df.columns, start=1):
        if c not in _text_columns(df):
            continue
        s = df[c].astype(object)
        text = s.map(lambda v: isinstance(v, str))
        st = s.where(text, "").astype(str)
        risky = (text & st.str.contains(r"^[=+\-@\t\r]", regex=True)).to_numpy().nonzero()[0]
        for i in risky:
            cell = ws.cell(row=int(i) + 2, column=j)
            cell.value = st.iloc[int(i)]
            cell.data_type = "s"
            cell.quotePrefix = True


def write_run_dir(
    out: Path,
    ens: Any,
    *,
    files: list[str],
    rep0: Any | None = None,
    observed: pd.DataFrame | None = None,
    figures: bool = True,
    force: bool = False,
    fmt: str = "png",
    dpi: int | None = None,
    xlsx: bool = False,
    notes: dict[str, Any] | None = None,
    report: bool = True,
    command: str = "run",
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write an ensemble's run directory atomically.

    Args:
        out: Target directory.
        ens: The :class:`~simulator.ensemble.EnsembleResult`.
        files: Scenario files read (for the manifest).
        rep0: Replication 0's :class:`~simulator.results.RunResult` for full detail.
        observed: Observed monthly exports to overlay on the exports figure.
        figures: Write figures (and embed them in report.html).
        force: Replace an existing directory.
        fmt: Figure format: ``png``, ``svg`` or ``pdf``.
        dpi: Resolution of raster figures (default :data:`~.plot_style.DPI`).
        xlsx: Also write ``tables.xlsx``, one sheet per table.
        notes: What the scenario says about itself (:mod:`simulator.scenario.notes`,
            plus ``changes`` and ``overrides``), for report.html.
        report: Write ``report.html``.
        command: The command recorded in the manifest.
        extra: More provenance for ``manifest.json`` (e.g. the ``--set`` overrides and
            what they changed).

    Returns:
        The directory written.
    """
    from simulator.report.html import NOTES_FILE, REPORT_FILE, write_run_report
    from simulator.report.plot_style import DPI

    sc = ens.scenario
    with atomic_dir(out, force) as tmp:
        man = manifest(
            sc,
            seed=ens.seed,
            reps=ens.reps,
            files=files,
            workers=ens.workers,
            elapsed_s=ens.elapsed_s,
            command=command,
            extra=extra,
        )
        write_json(tmp / "manifest.json", man)
        (tmp / "scenario.resolved.yaml").write_text(to_yaml(scenario_data(sc)), encoding="utf-8")
        _write_observed_copy(tmp, sc.observed_exports, observed)
        write_json(tmp / "summary.json", ens.summary_dict())
        if notes is not None:
            write_json(tmp / NOTES_FILE, json.loads(json.dumps(notes, default=str)))
        tables = run_tables(ens, rep0)
        write_tables(tables, tmp)
        if xlsx:
            write_xlsx(tables, tmp / "tables.xlsx")
        pngs: dict[str, bytes] = {}
        if figures:
            from simulator.report.figures import save_figures

            fig_dir = tmp / "figures"
            fig_dir.mkdir()
            save_figures(
                ens,
                fig_dir,
                observed=observed,
                dpi=dpi or DPI,
                fmt=fmt,
                keep=pngs if report else None,
                workers=ens.workers,
            )
        if report:
            write_run_report(tmp / REPORT_FILE, ens, man, pngs, notes)
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
