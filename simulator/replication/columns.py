"""Every column of every table relsim hands out, declared once: name, type, unit, meaning.

One schema for all tables (frames of :class:`~simulator.replication.result.RunResult`
and :class:`~simulator.ensemble.results.EnsembleResult`, and the files of a run
directory):

* **ids are strings** in a column named after what they identify: ``manufacturer``,
  ``part``, ``destination``, ``exporter`` … (never an integer index, never ``entity``);
* **missing is null**: nullable integers (``Int64``) and strings, ``NaT`` for events that
  did not happen, never a ``-1`` or ``""`` sentinel;
* **one timestamp unit**: every date and time is ``datetime64[ms]`` (parquet
  ``timestamp[ms]``); daily tables use the day's midnight, monthly tables the first day
  of the month;
* **totals are separate tables** (or rows whose ``scope`` says so), never a fake id such
  as ``ALL`` among destinations;
* **a unit per column**, declared here once. Statistics columns (``mean``, ``p5`` …)
  are in the table's value unit, declared with the table.

:data:`COLUMNS` declares the columns, :data:`TABLES` the tables; :func:`conform` puts a
frame in its declared shape (order, dtypes, ``attrs["units"]``) and fails on drift;
:func:`outputs_markdown` renders ``docs/outputs.md`` (a test keeps it current).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.replication.forecast_tables import FORECAST_COLUMNS, forecast_tables
from simulator.replication.kpis import AUTHORITY_KPIS
from simulator.world.trace import Column  # name, dtype (here a pandas dtype), unit, doc

__all__ = [
    "COLUMNS",
    "STAT_COLUMNS",
    "TABLES",
    "TIME_UNIT",
    "VALUE",
    "Column",
    "Table",
    "conform",
    "outputs_markdown",
    "unit_of",
]

from simulator.replication.table_types import DT as _DT
from simulator.replication.table_types import TIME_UNIT, VALUE, Table

_COLS: list[Column] = [
    # ---------------------------------------------------------------- ids and labels
    Column("manufacturer", "string", "id", "manufacturer id (null: not a manufacturer's)"),
    Column("part", "string", "id", "critical part id (a one-part line's part is its material)"),
    Column("destination", "string", "id", "destination country id"),
    Column(
        "origin",
        "string",
        "id",
        "origin country id (a background export: the licensing country, that of the "
        "licensed exporters or else the calendar's)",
    ),
    Column("product", "string", "id", "product id"),
    Column("exporter", "string", "id", "exporter id (background: the stream's applicant label)"),
    Column("end_use", "string", "label", "end use (e.g. civil, defence)"),
    Column("lane", "string", "id", "lane taken (null: a background stream's own transit)"),
    Column("source", "string", "label", "`manufacturer`/`order`, `background` or `pipeline`"),
    Column("scope", "string", "label", "`manufacturer`, `part`, `total` or `authority`"),
    Column("kpi", "string", "label", "KPI name (see the README's KPI table)"),
    Column("unit", "string", "label", "unit of the KPI's values"),
    Column("regime", "string", "id", "policy regime name"),
    Column(
        "overlay", "int64", "index", "overlay index (dated overlays in scenario order, then pulses)"
    ),
    Column("label", "string", "label", "regime or overlay label (for plots)"),
    Column("name", "string", "label", "display name"),
    Column(
        "kind",
        "category",
        "label",
        "events: an `Ev` or `G` kind (simulator/world/trace.py); overlays: `dated` or `pulse`",
    ),
    Column(
        "outcome",
        "string",
        "label",
        "`pending`, `approved`, `partial`, `denied` or `withdrawn` (by the buyer)",
    ),
    Column("application", "Int64", "id", "licence application id (null: not an application's)"),
    Column("shipment", "Int64", "id", "shipment id (null: none)"),
    Column("rep", "int64", "index", "replication index"),
    # ---------------------------------------------------------------- time
    Column("date", _DT, "date", "the day (midnight)"),
    Column("month", _DT, "date", "the month (its first day)"),
    Column("start", _DT, "date", "first day in force"),
    Column("end", _DT, "date", "first day no longer in force (exclusive)"),
    Column("time", _DT, "timestamp", "when it happened"),
    Column("day", "int64", "days since start", "day index (0 = the scenario's start)"),
    Column("time_days", "float64", "days since start", "when it happened, calendar days"),
    Column("submitted_at", _DT, "timestamp", "submitted (NaT: never)"),
    Column("accepted_at", _DT, "timestamp", "accepted, the statutory clock starts (NaT: not yet)"),
    Column("review_started_at", _DT, "timestamp", "a reviewer started (NaT: not yet)"),
    Column("decided_at", _DT, "timestamp", "decided (NaT: pending)"),
    Column("parked_at", _DT, "timestamp", "parked after review, no decision (NaT: never)"),
    Column("submitted_days", "float64", "days since start", "`submitted_at`, calendar days"),
    Column("accepted_days", "float64", "days since start", "`accepted_at`, calendar days"),
    Column("review_start_days", "float64", "days since start", "`review_started_at`, days"),
    Column("decided_days", "float64", "days since start", "`decided_at`, calendar days"),
    Column("ordered_at", _DT, "timestamp", "ordered (or the contract made)"),
    Column("applied_at", _DT, "timestamp", "licence applied for (NaT: none needed)"),
    Column("presented_at", _DT, "timestamp", "made and presented at customs (NaT: not yet)"),
    Column("held_at", _DT, "timestamp", "held at the port by a customs hold (NaT: never)"),
    Column("released_at", _DT, "timestamp", "released from a hold (NaT: never held, or still)"),
    Column(
        "departed_at",
        _DT,
        "timestamp",
        "departed: the customs export date (first part; NaT: not yet, or left before the start)",
    ),
    Column("arrived_at", _DT, "timestamp", "arrived at destination (first part; NaT: not yet)"),
    Column(
        "cancelled_at",
        _DT,
        "timestamp",
        "denied tonnes, an expired licence or a lapsed contract (NaT: never)",
    ),
    Column("first_shortage_date", _DT, "date", "first day the line (or part) was short"),
    Column(
        "recovery_date",
        _DT,
        "date",
        "first day after the last shortage day (NaT: never short, or still short at the end)",
    ),
    # ---------------------------------------------------------------- quantities
    Column("tonnes", "float64", "t", "quantity"),
    Column("approved_t", "float64", "t", "approved quantity (NaT/NaN: undecided)"),
    Column("denied_t", "float64", "t", "quantity refused by the authority"),
    Column("expired_t", "float64", "t", "licensed quantity not presented before expiry"),
    Column(
        "lapsed_t",
        "float64",
        "t",
        "background contract not made: due while its makers were closed (production.windows)",
    ),
    Column("departed_t", "float64", "t", "quantity departed"),
    Column("arrived_t", "float64", "t", "quantity arrived"),
    Column("licensed", "bool", "flag", "went through Chinese customs and its licence control"),
    Column("returns", "int64", "count", "returned as incomplete at intake"),
    Column("info_requests", "int64", "count", "information requests (clock stopped)"),
    Column("stopped_days", "float64", "calendar days", "clock stopped for information requests"),
    Column("parked_days", "float64", "calendar days", "sat parked after review"),
    Column("extended", "bool", "flag", "statutory limit extended"),
    Column("at_deadline", "bool", "flag", "decided at the statutory limit (`deadline_rule`)"),
    Column("released", "bool", "flag", "decided in a batch release (a rule's `release`)"),
    Column("wait_days", "float64", "calendar days", "submission to decision"),
    Column("wait_wd", "float64", "working days", "submission to decision"),
    Column("clock_wd", "float64", "working days", "statutory clock used (accepted to decided)"),
    Column("detail", "float64", "per kind", "per kind, see `Ev` / `G` in simulator/world/trace.py"),
    # daily series
    Column("demand_t", "float64", "t/day", "the part's material needed for the day's demand"),
    Column("consumed_t", "float64", "t/day", "material used (demand and backlog made)"),
    Column(
        "stockout_t", "float64", "t/day", "the day's need this part's own stock could not cover"
    ),
    Column("inventory_t", "float64", "t", "stock at the end of the day"),
    Column("on_order_t", "float64", "t", "ordered, not yet delivered or cancelled"),
    Column(
        "backlog_t", "float64", "t", "material of unmet demand still to be made (backlog lines)"
    ),
    Column("demand_units", "float64", "units/day", "units to make that day"),
    Column("made_units", "float64", "units/day", "units made (the day's demand and backlog)"),
    Column("short_units", "float64", "units/day", "units of the day's demand not made"),
    Column("backlog_units", "float64", "units", "units still to be made (backlog lines)"),
    Column("queued", "int64", "applications", "waiting for a reviewer (start of day)"),
    Column("in_review", "int64", "applications", "a reviewer works on them (start of day)"),
    Column("awaiting_decision", "int64", "applications", "reviewed, no decision yet"),
    Column("in_system", "int64", "applications", "submitted, not yet decided (start of day)"),
    Column("submitted", "int64", "applications", "submitted that day"),
    Column("decided", "float64", "applications", "decided (that day; or in the replication)"),
    # ---------------------------------------------------------------- KPIs
    Column("fill_rate", "float64", "share", "demand made on the day it arose / demand"),
    Column(
        "shortfall_t",
        "float64",
        "t",
        "material of the demand not made on its day (daily bands: t/day)",
    ),
    Column("lost_units", "float64", "units", "production lost (backlog lines: still owed at end)"),
    Column("shortage_days", "float64", "days", "days with a shortfall"),
    Column("days_to_first_shortage", "float64", "days", "first shortage day (0 = start)"),
    Column("any_shortage", "float64", "0/1", "short on any day (its mean: P(any shortage))"),
    Column("days_to_recover", "float64", "days", "first shortage day to the end of the last"),
    Column("p_any_shortage", "float64", "share", "share of replications short on any day"),
    Column("wait_wd_p50", "float64", "working days", "median wait, submission to decision"),
    Column("wait_wd_p90", "float64", "working days", "90th percentile wait"),
    Column("wait_wd_p95", "float64", "working days", "95th percentile wait"),
    Column("wait_wd_mean", "float64", "working days", "mean wait"),
    Column("share_over_limit", "float64", "share", "decisions after the statutory limit"),
    Column("approval_rate", "float64", "share", "approved (fully or partly) / decided"),
    # ---------------------------------------------------------------- statistics
    Column("value", "float64", "(KPI unit)", "the KPI's value (unit: column `unit` / KPI table)"),
    Column("mean", "float64", VALUE, "mean over replications"),
    Column("sd", "float64", VALUE, "standard deviation over replications"),
    Column("se", "float64", VALUE, "standard error of the mean"),
    Column("ci_low", "float64", VALUE, "95% interval of the mean, low end (Student t)"),
    Column("ci_high", "float64", VALUE, "95% interval of the mean, high end"),
    Column("n", "int64", "replications", "replications where the value is defined"),
    Column("share_defined", "float64", "share", "n / replications"),
    Column("p5", "float64", VALUE, "5th percentile over replications"),
    Column("p25", "float64", VALUE, "25th percentile"),
    Column("p50", "float64", VALUE, "median"),
    Column("p75", "float64", VALUE, "75th percentile"),
    Column("p95", "float64", VALUE, "95th percentile"),
    Column("p", "float64", "share", "share of replications short that day"),
    Column("mean_a", "float64", VALUE, "mean of scenario A"),
    Column("mean_b", "float64", VALUE, "mean of scenario B"),
    Column("diff", "float64", VALUE, "mean paired difference B − A"),
    Column("paired_half_width", "float64", VALUE, "95% half-width of the paired difference"),
    Column(
        "independent_half_width",
        "float64",
        VALUE,
        "95% half-width with independent seeds (for comparison)",
    ),
    Column("narrower_x", "float64", "ratio", "independent over paired half-width"),
    Column("variance_reduction", "float64", "ratio", "(var A + var B) / var(B − A)"),
    Column("diff_shortfall_t", "float64", "t/day", "mean paired difference B − A of the shortfall"),
    Column("date_a", _DT, "date", "scenario A: median date over the replications where it happens"),
    Column("date_a_p5", _DT, "date", "scenario A: 5th percentile of that date"),
    Column("date_a_p95", _DT, "date", "scenario A: 95th percentile of that date"),
    Column("date_b", _DT, "date", "scenario B: median date over the replications where it happens"),
    Column("date_b_p5", _DT, "date", "scenario B: 5th percentile of that date"),
    Column("date_b_p95", _DT, "date", "scenario B: 95th percentile of that date"),
    Column("share_a", "float64", "share", "scenario A: share of replications where it happens"),
    Column("share_b", "float64", "share", "scenario B: share of replications where it happens"),
    Column(
        "short_at_end_a", "float64", "share", "scenario A: share of replications short at the end"
    ),
    Column(
        "short_at_end_b", "float64", "share", "scenario B: share of replications short at the end"
    ),
    Column("half_width", "float64", "t/day", "its 95% half-width"),
    Column("wait_wd_low", "float64", "working days", "bin's lower edge"),
    Column("wait_wd_high", "float64", "working days", "bin's upper edge"),
    Column("count", "int64", "applications", "decided applications in the bin, all replications"),
    Column("share", "float64", "share", "count / all decided applications"),
]

# headline KPI table: each KPI with its 95% interval (same unit)
_HEADLINE = (
    "p_any_shortage",
    "first_shortage_date",
    "recovery_date",
    "fill_rate",
    "lost_units",
    "shortfall_t",
    "shortage_days",
)
for _k in _HEADLINE:
    _base = next(c for c in _COLS if c.name == _k)
    _COLS += [
        Column(f"{_k}_low", _base.dtype, _base.unit, f"95% interval of `{_k}`, low end"),
        Column(f"{_k}_high", _base.dtype, _base.unit, f"95% interval of `{_k}`, high end"),
    ]
for _k in ("first_shortage_date", "recovery_date"):  # dates: where outcomes fall
    _COLS += [
        Column(
            f"{_k}_median",
            _DT,
            "date",
            f"median `{_k}` over the replications where it happens (the headline date)",
        ),
        Column(f"{_k}_p5", _DT, "date", f"5th percentile of `{_k}` over those replications"),
        Column(f"{_k}_p95", _DT, "date", f"95th percentile of `{_k}` over those replications"),
    ]
_COLS += [
    Column("first_shortage_n", "int64", "replications", "replications with a shortage"),
    Column("recovery_n", "int64", "replications", "replications that recovered in the horizon"),
    Column("p_recovered", "float64", "share", "share of replications recovered in the horizon"),
    Column(
        "p_short_at_end",
        "float64",
        "share",
        "share of replications short on some day and still short at the end",
    ),
]

_COLS += FORECAST_COLUMNS

COLUMNS: dict[str, Column] = {c.name: c for c in _COLS}
"""Every column, by name (declared once)."""
if len(COLUMNS) != len(_COLS):  # pragma: no cover - a declaration error
    raise RuntimeError("a column is declared twice")

STAT_COLUMNS = ("mean", "p5", "p25", "p50", "p75", "p95")
"""Mean and quantile band columns of the band and monthly tables."""

_LICENCE_TIMES = (
    "submitted_at",
    "accepted_at",
    "review_started_at",
    "decided_at",
    "parked_at",
)
_KPI_COLS = (
    "fill_rate",
    "shortfall_t",
    "lost_units",
    "shortage_days",
    "any_shortage",
    "days_to_first_shortage",
    "first_shortage_date",
    "days_to_recover",
    "recovery_date",
)
_TOTAL_COLS = ("fill_rate", "shortfall_t", *AUTHORITY_KPIS)
_SUMMARY = ("mean", "sd", "se", "ci_low", "ci_high", "n", "share_defined")

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        # ------------------------------------------------------------ one replication
        Table(
            "licences",
            "RunResult.licences · rep0/licences.parquet",
            "one row per licence application, with the time of every step and its waits",
            (
                "application",
                "source",
                "manufacturer",
                "destination",
                "product",
                "end_use",
                "exporter",
                "shipment",
                "tonnes",
                *_LICENCE_TIMES,
                "submitted_days",
                "accepted_days",
                "review_start_days",
                "decided_days",
                "returns",
                "info_requests",
                "stopped_days",
                "parked_days",
                "extended",
                "outcome",
                "at_deadline",
                "released",
                "approved_t",
                "wait_days",
                "wait_wd",
                "clock_wd",
            ),
        ),
        Table(
            "shipments",
            "RunResult.shipments · rep0/shipments.parquet",
            "the goods table: one row per shipment (a manufacturer's order, a background "
            "export, goods in the pipeline at the start) with the time of every stage",
            (
                "shipment",
                "source",
                "manufacturer",
                "part",
                "exporter",
                "origin",
                "destination",
                "product",
                "licensed",
                "tonnes",
                "application",
                "ordered_at",
                "applied_at",
                "presented_at",
                "held_at",
                "released_at",
                "departed_at",
                "arrived_at",
                "cancelled_at",
                "lane",
                "denied_t",
                "expired_t",
                "lapsed_t",
                "departed_t",
                "arrived_t",
            ),
        ),
        Table(
            "events",
            "RunResult.events · rep0/events.parquet",
            "every authority and goods event in time order",
            (
                "time",
                "time_days",
                "kind",
                "application",
                "shipment",
                "manufacturer",
                "tonnes",
                "detail",
            ),
        ),
        Table(
            "daily",
            "RunResult.daily · rep0/daily.parquet",
            "per manufacturer, critical part and day: the part's tonnes and the line's units",
            (
                "date",
                "day",
                "manufacturer",
                "part",
                "demand_t",
                "consumed_t",
                "shortfall_t",
                "stockout_t",
                "inventory_t",
                "on_order_t",
                "backlog_t",
                "demand_units",
                "made_units",
                "short_units",
                "backlog_units",
            ),
        ),
        Table(
            "authority_daily",
            "RunResult.authority_daily · rep0/authority_daily.parquet",
            "the authority's queue per day (counts at the start of the day)",
            (
                "date",
                "queued",
                "in_review",
                "awaiting_decision",
                "in_system",
                "submitted",
                "decided",
            ),
        ),
        Table(
            "exports",
            "RunResult.exports · rep0/exports.parquet",
            "tonnes departed per month (the customs export date)",
            ("month", "origin", "destination", "product", "licensed", "tonnes"),
        ),
        Table(
            "arrivals",
            "RunResult.arrivals · rep0/arrivals.parquet",
            "tonnes arrived per month",
            ("month", "origin", "destination", "product", "licensed", "tonnes"),
        ),
        Table(
            "kpis",
            "RunResult.kpis · rep0/kpis.csv",
            "KPIs of one replication: a row per manufacturer (`part` null) and per part "
            "of a multi-part line",
            ("manufacturer", "part", *_KPI_COLS),
        ),
        Table(
            "totals",
            "RunResult.totals · rep0/totals.csv",
            "KPIs of one replication as a whole: over all manufacturers (`fill_rate`, "
            "`shortfall_t`) and of the authority",
            _TOTAL_COLS,
        ),
        Table(
            "regimes",
            "RunResult.regimes · EnsembleResult.regimes() · rep0/regimes.csv",
            "the policy regime timeline",
            ("start", "end", "regime", "label"),
        ),
        # ------------------------------------------------------------ ensembles
        Table(
            "overlays",
            "RunResult.overlays · EnsembleResult.overlays() · overlays.csv",
            "policy overlays and pulses in force (spans; end exclusive)",
            ("start", "end", "overlay", "label", "kind"),
        ),
        Table(
            "kpi_summary",
            "EnsembleResult.kpi_summary() · kpi_summary.csv",
            "every KPI's mean and 95% interval over replications (`scope`: a manufacturer, "
            "a part of a multi-part line, the total over manufacturers, the authority — "
            "overall, or for one `destination`)",
            ("scope", "manufacturer", "part", "destination", "kpi", "unit", *_SUMMARY),
            value_unit="the KPI's (column `unit`)",
        ),
        Table(
            "kpi_table",
            "EnsembleResult.kpi_table() · kpi_table.csv",
            "the headline KPIs per manufacturer (the table of the CLI, report.html and "
            "notebooks): dates as the median and 5–95% range over the replications where "
            "they happen, with the shares of replications short, recovered and still short "
            "at the end (the mean date and its 95% interval for CI); other KPIs as means "
            "with 95% intervals",
            (
                "manufacturer",
                "name",
                *[
                    x
                    for k in _HEADLINE
                    for x in (
                        (k, f"{k}_low", f"{k}_high")
                        + ((f"{k}_median", f"{k}_p5", f"{k}_p95") if k.endswith("_date") else ())
                    )
                ],
                "first_shortage_n",
                "recovery_n",
                "p_recovered",
                "p_short_at_end",
            ),
        ),
        Table(
            "kpis_by_rep",
            "EnsembleResult.kpi_reps · kpis_by_rep.parquet",
            "every KPI of every replication",
            ("rep", "scope", "manufacturer", "part", "destination", "kpi", "value"),
        ),
        Table(
            "bands_shortfall",
            "EnsembleResult.bands('shortfall_t') · bands_shortfall.parquet",
            "per day and manufacturer: mean and quantiles of the shortfall",
            ("date", "manufacturer", *STAT_COLUMNS),
            value_unit="t/day",
        ),
        Table(
            "bands_inventory",
            "EnsembleResult.bands('inventory_t') · bands_inventory.parquet",
            "per day, manufacturer and part: end-of-day inventory",
            ("date", "manufacturer", "part", *STAT_COLUMNS),
            value_unit="t",
        ),
        Table(
            "bands_backlog",
            "EnsembleResult.bands('backlog') · bands_backlog.parquet",
            "per day and destination: licence applications pending",
            ("date", "destination", *STAT_COLUMNS),
            value_unit="applications",
        ),
        Table(
            "p_shortage",
            "EnsembleResult.p_shortage() · p_shortage.parquet",
            "per day and manufacturer: share of replications short that day",
            ("date", "manufacturer", "p"),
        ),
        Table(
            "exports_monthly",
            "EnsembleResult.exports() · exports_monthly.csv",
            "exports through Chinese customs per month and destination",
            ("month", "destination", *STAT_COLUMNS),
            value_unit="t/month",
        ),
        Table(
            "exports_monthly_total",
            "EnsembleResult.exports_total() · exports_monthly_total.csv",
            "exports through Chinese customs per month, all destinations",
            ("month", *STAT_COLUMNS),
            value_unit="t/month",
        ),
        Table(
            "arrivals_monthly",
            "EnsembleResult.arrivals() · arrivals_monthly.csv",
            "arrivals of those exports per month and destination",
            ("month", "destination", *STAT_COLUMNS),
            value_unit="t/month",
        ),
        Table(
            "arrivals_monthly_total",
            "EnsembleResult.arrivals_total() · arrivals_monthly_total.csv",
            "arrivals of those exports per month, all destinations",
            ("month", *STAT_COLUMNS),
            value_unit="t/month",
        ),
        Table(
            "date_differences",
            "Comparison.date_differences() · date_differences.csv (relsim compare --out)",
            "when each manufacturer's first shortage and recovery come in A and in B (median "
            "date and 5–95% range over the replications where it happens, the share of "
            "replications), and the paired difference B − A in days over the replications "
            "where both have it (`kpi`: first_shortage_date, recovery_date)",
            (
                "manufacturer",
                "kpi",
                "date_a",
                "date_a_p5",
                "date_a_p95",
                "share_a",
                "date_b",
                "date_b_p5",
                "date_b_p95",
                "share_b",
                "short_at_end_a",
                "short_at_end_b",
                "diff",
                "ci_low",
                "ci_high",
                "n",
            ),
            value_unit="days",
        ),
        Table(
            "differences",
            "Comparison.differences() · differences.csv (relsim compare --out)",
            "paired differences B − A of every KPI over common random numbers",
            (
                "scope",
                "manufacturer",
                "part",
                "destination",
                "kpi",
                "mean_a",
                "mean_b",
                "diff",
                "ci_low",
                "ci_high",
                "paired_half_width",
                "independent_half_width",
                "narrower_x",
                "variance_reduction",
                "n",
            ),
            value_unit="the KPI's",
        ),
        Table(
            "shortfall_difference_daily",
            "Comparison.diff_daily · shortfall_difference_daily.csv (relsim compare --out)",
            "per day and manufacturer: paired difference B − A of the shortfall",
            ("date", "manufacturer", "diff_shortfall_t", "half_width"),
        ),
        Table(
            "wait_histogram",
            "EnsembleResult.wait_histogram() · wait_histogram.csv",
            "submission-to-decision waits of every decided application, 0.5-wd bins",
            ("wait_wd_low", "wait_wd_high", "count", "share"),
        ),
    ]
}
TABLES.update(forecast_tables(STAT_COLUMNS))
"""Every table, by name."""


def unit_of(column: str, table: str | None = None) -> str:
    """The unit of ``column`` (in ``table``, for statistics columns)."""
    unit = COLUMNS[column].unit
    if unit == VALUE and table is not None:
        return TABLES[table].value_unit
    return unit


def conform(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Put ``df`` in the declared shape of ``table``: its columns in order, each with
    its declared dtype, ``attrs["units"]`` set.

    Raises:
        ValueError: ``df`` lacks a declared column or has one that is not declared
            (the schema and the code drifted apart).
    """
    spec = TABLES[table]
    cols = list(spec.columns)
    missing = [c for c in cols if c not in df.columns]
    extra = [c for c in df.columns if c not in cols]
    if missing or extra:
        raise ValueError(
            f"table {table}: columns differ from simulator/replication/columns.py "
            f"(missing {missing}, undeclared {extra})"
        )
    out = pd.DataFrame(index=df.index)
    for c in cols:
        dtype = COLUMNS[c].dtype
        s = df[c]
        if dtype.startswith("datetime64"):
            s = pd.to_datetime(s).astype(dtype)
        elif dtype == "string":
            s = s.astype(object).where(s.notna(), None).astype("string")
        elif dtype == "Int64":
            s = pd.array(s, dtype="Int64") if not isinstance(s.dtype, pd.Int64Dtype) else s
        elif dtype == "category":
            if not isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype("category")
        elif dtype == "int64" and s.dtype != np.int64:
            s = s.astype(np.int64)
        elif dtype != "int64":
            s = s.astype(dtype)
        out[c] = s
    out = out.reset_index(drop=True)
    out.attrs["units"] = {c: unit_of(c, table) for c in cols}
    out.attrs["table"] = table
    return out


def outputs_markdown() -> str:
    """``docs/outputs.md``: every table and every column with its unit."""
    lines = [
        "# Outputs: tables and columns",
        "",
        "<!-- Generated by `python tools/gen_docs.py` from simulator/replication/columns.py;",
        "     tests/replication/test_columns.py fails when this file and the code drift. -->",
        "",
        "Every table relsim hands out — the frames of `RunResult` and `EnsembleResult` and",
        "the files of a run directory — follows one schema:",
        "",
        "- ids are strings in a column named after what they identify (`manufacturer`,",
        "  `part`, `destination`, `exporter`, …), the same name in every table, so tables",
        "  join on them without renaming;",
        "- missing values are null (nullable integers and strings, `NaT` for events that did",
        "  not happen), never `-1` or empty-string sentinels;",
        f"- every date and time is `datetime64[{TIME_UNIT}]` (parquet `timestamp[{TIME_UNIT}]`,",
        "  ISO text in CSV); daily tables use the day, monthly tables the first day of the",
        "  month;",
        "- totals are tables of their own (or rows whose `scope` says so), never a fake id;",
        "- each column has one unit, below. Statistics columns (`mean`, `p5` … `p95`, `sd`,",
        "  `se`, `ci_low`, `ci_high`) are in the unit given with their table.",
        "",
        "## Tables",
        "",
    ]
    for t in TABLES.values():
        unit = f" Values in **{t.value_unit}**." if t.value_unit else ""
        lines += [
            f"### `{t.name}`",
            "",
            f"{t.doc[0].upper()}{t.doc[1:]}.{unit} Where: {t.where}.",
            "",
            "Columns: " + ", ".join(f"`{c}`" for c in t.columns) + ".",
            "",
        ]
    lines += [
        "## Columns",
        "",
        "| column | type | unit | meaning |",
        "|---|---|---|---|",
    ]
    for c in COLUMNS.values():
        lines.append(f"| `{c.name}` | {c.dtype} | {c.unit} | {c.doc} |")
    return "\n".join(lines) + "\n"
