"""Ensemble results and paired comparisons: tables, bands, intervals, plots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.ensemble.accessors import plots
from simulator.ensemble.aggregate import BAND_NAMES, QUANTILES, WAIT_BIN_WD, Aggregator
from simulator.replication.columns import COLUMNS, TABLES, conform, unit_of
from simulator.replication.kpis import AUTHORITY_KPIS, MANUFACTURER_KPIS, split_entity
from simulator.replication.tables import overlay_frame, regime_frame
from simulator.stats import (
    half_width,
    interval,
    paired_difference,
    quantiles,
    spread,
    standard_error,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.replication.result import RunResult
    from simulator.scenario.model import Scenario

__all__ = ["Comparison", "EnsembleResult"]


def _ratio(independent: float, paired: float) -> float:
    """How many times narrower (or smaller) the paired figure is: ``inf`` when common
    random numbers remove all the variance, NaN when there is none to remove (a KPI
    constant in both scenarios) or too few replications."""
    if not (math.isfinite(independent) and math.isfinite(paired)):
        return math.nan
    if paired > 0:
        return independent / paired
    return math.inf if independent > 0 else math.nan


@dataclass
class EnsembleResult:
    """Results of many replications.

    Attributes:
        scenario: The scenario.
        seed: Root seed.
        reps: Number of replications.
        elapsed_s: Wall time, seconds.
        workers: Workers used.
        kept: The replication kept in full (``run_ensemble(keep_rep=…)``), or None.
    """

    scenario: Scenario
    seed: int
    reps: int
    agg: Aggregator = field(repr=False)
    elapsed_s: float = 0.0
    workers: int = 1
    kept: RunResult | None = field(default=None, repr=False, compare=False)
    """The replication ``run_ensemble(keep_rep=…)`` kept in full, else None."""

    # -- tables --------------------------------------------------------------------
    @property
    def dates(self) -> pd.DatetimeIndex:
        """Simulated dates."""
        return pd.date_range(self.scenario.start, periods=self.scenario.horizon_days, freq="D")

    def _split(self, entity: str) -> tuple[str, str | None, str | None, str | None]:
        multi = {m.id for m in self.scenario.manufacturers if m.multi_part}
        return split_entity(entity, multi)

    @property
    def kpi_reps(self) -> pd.DataFrame:
        """Per-replication KPIs, long: ``rep``, ``scope``, ``manufacturer``, ``part``,
        ``kpi``, ``value`` (the ``kpis_by_rep`` table)."""
        f = self.agg.kpis.frame()
        split = {e: self._split(e) for e in f["entity"].unique()}
        f.insert(1, "scope", f["entity"].map(lambda e: split[e][0]))
        f.insert(2, "manufacturer", f["entity"].map(lambda e: split[e][1]))
        f.insert(3, "part", f["entity"].map(lambda e: split[e][2]))
        f.insert(4, "destination", f["entity"].map(lambda e: split[e][3]))
        return conform(f.drop(columns="entity"), "kpis_by_rep")

    def kpi_values(self) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
        """Every replication's KPIs as arrays, for pairing replication by replication
        (``relsim regress`` against a baseline on the same seeds).

        Returns:
            ``(reps, values)``: the replication indices in order, and per ``(entity,
            kpi)`` (keyed as in ``summary.json``) the value of each replication (NaN
            where undefined), in :meth:`kpi_stats`' order.
        """
        table = self.agg.kpis
        order = [(r["entity"], r["kpi"]) for r in self.kpi_stats()]
        return table.reps, {key: table.values(table.cols[key]) for key in order}

    def kpi_stats(self) -> list[dict[str, Any]]:
        """Every KPI's statistics keyed as in ``summary.json`` (``entity``: a manufacturer
        id, ``<manufacturer>/<part>``, ``all_manufacturers`` or ``authority``), in
        display order: dicts of ``entity``, ``kpi``, ``mean``, ``sd``, ``se``,
        ``ci_low``, ``ci_high``, ``n``, ``share_defined``."""
        table = self.agg.kpis
        rows = []
        order = {k: i for i, k in enumerate(MANUFACTURER_KPIS + AUTHORITY_KPIS)}
        for (entity, kpi), j in table.cols.items():  # straight from the array table:
            v = table.column(j)  # no long frame of every replication's KPIs
            st = interval(v)
            rows.append(
                {
                    "entity": entity,
                    "kpi": kpi,
                    **st,
                    "share_defined": st["n"] / max(v.size, 1),
                    "_o": order.get(kpi, 99),
                }
            )
        ent_order = {m.id: i for i, m in enumerate(self.scenario.manufacturers)}

        def key(r: dict[str, Any]) -> tuple[int, int]:
            e = r["entity"]
            return (ent_order.get(e.split("/", 1)[0], 10_000), r["_o"])

        return sorted(rows, key=key)  # stable: parts after their line, in part order

    def kpi_summary(self) -> pd.DataFrame:
        """KPI means with 95% intervals: ``scope`` (manufacturer, part, total,
        authority), ``manufacturer``, ``part``, ``destination`` (the authority's KPIs
        per destination), ``kpi``, ``unit``, ``mean``, ``sd``,
        ``se``, ``ci_low``, ``ci_high``, ``n`` (replications where the KPI is defined —
        e.g. days to first shortage only where a shortage happened), ``share_defined``."""
        rows = []
        for r in self.kpi_stats():
            scope, mid, pid, dest = self._split(r["entity"])
            rows.append(
                {
                    "scope": scope,
                    "manufacturer": mid,
                    "part": pid,
                    "destination": dest,
                    "kpi": r["kpi"],
                    "unit": unit_of(r["kpi"]) if r["kpi"] in COLUMNS else "applications",
                    **{k: r[k] for k in ("mean", "sd", "se", "ci_low", "ci_high", "n")},
                    "share_defined": r["share_defined"],
                }
            )
        cols = TABLES["kpi_summary"].columns
        return conform(pd.DataFrame(rows, columns=list(cols)), "kpi_summary")

    def _date_stats(self, entity: str) -> dict[str, dict[str, Any]]:
        """First-shortage and recovery dates of one entity, over the replications where
        they happen: the median date and the 5–95 % range across those replications
        (``median``, ``p5``, ``p95``: where outcomes fall), the mean and its 95 %
        interval (``mean``, ``ci_low``, ``ci_high``: how precisely the mean is known),
        all as dates rounded down to the day; ``n`` and ``share`` (of all
        replications). The recovery entry also has ``short_at_end``: the share of
        replications short on some day that were still short at the end."""
        table = self.agg.kpis
        j_first = table.cols.get((entity, "days_to_first_shortage"))
        j_rec = table.cols.get((entity, "days_to_recover"))
        out: dict[str, dict[str, Any]] = {}
        if j_first is None:
            return out
        n = table.n
        first = table._val[:n, j_first]
        rec = table._val[:n, j_rec] if j_rec is not None else np.full(n, np.nan)
        start = pd.Timestamp(self.scenario.start)
        reps = max(n, 1)

        def day(x: float | None) -> Any:
            if x is None or not math.isfinite(x):
                return pd.NaT
            return start + pd.Timedelta(days=math.floor(x))

        for name, days in (("first_shortage_date", first), ("recovery_date", first + rec)):
            st = interval(days)
            sp = spread(days)
            out[name] = {k: day(st[k]) for k in ("mean", "ci_low", "ci_high")}
            out[name].update(
                {"median": day(sp["median"]), "p5": day(sp["low"]), "p95": day(sp["high"])}
            )
            out[name]["n"] = int(st["n"])
            out[name]["share"] = int(st["n"]) / reps
        n_short = out["first_shortage_date"]["n"]
        out["recovery_date"]["short_at_end"] = (n_short - out["recovery_date"]["n"]) / reps
        return out

    def kpi_table(self) -> pd.DataFrame:
        """The headline KPIs per manufacturer (the ``kpi_table`` table: the one the CLI,
        ``report.html`` and notebooks show).

        Dates of the first shortage and of the recovery are given over the replications
        where they happen, as the median date and the 5–95 % range across them
        (``_median``, ``_p5``, ``_p95``: the headline), with ``p_any_shortage``,
        ``p_recovered`` and ``p_short_at_end`` saying in how many replications; their
        mean and its 95 % interval (``_low``, ``_high``) stay for comparisons and CI.
        P(any shortage), fill rate, lost units, shortfall (t) and shortage days are
        means with 95 % intervals."""
        stats = {(r["entity"], r["kpi"]): r for r in self.kpi_stats()}
        rows = []
        for m in self.scenario.manufacturers:
            row: dict[str, Any] = {"manufacturer": m.id, "name": m.name or m.id}
            for col, kpi in (
                ("p_any_shortage", "any_shortage"),
                ("fill_rate", "fill_rate"),
                ("lost_units", "lost_units"),
                ("shortfall_t", "shortfall_t"),
                ("shortage_days", "shortage_days"),
            ):
                r = stats.get((m.id, kpi), {})
                row[col] = r.get("mean", np.nan)
                row[f"{col}_low"] = r.get("ci_low", np.nan)
                row[f"{col}_high"] = r.get("ci_high", np.nan)
            dates = self._date_stats(m.id)
            for col in ("first_shortage_date", "recovery_date"):
                d = dates.get(col, {})
                row[col] = d.get("mean", pd.NaT)
                row[f"{col}_low"] = d.get("ci_low", pd.NaT)
                row[f"{col}_high"] = d.get("ci_high", pd.NaT)
                row[f"{col}_median"] = d.get("median", pd.NaT)
                row[f"{col}_p5"] = d.get("p5", pd.NaT)
                row[f"{col}_p95"] = d.get("p95", pd.NaT)
            rec = dates.get("recovery_date", {})
            row["p_recovered"] = rec.get("share", np.nan)
            row["p_short_at_end"] = rec.get("short_at_end", np.nan)
            row["first_shortage_n"] = dates.get("first_shortage_date", {}).get("n", 0)
            row["recovery_n"] = rec.get("n", 0)
            rows.append(row)
        cols = TABLES["kpi_table"].columns
        return conform(pd.DataFrame(rows, columns=list(cols)), "kpi_table")

    def bands(self, series: str = "shortfall_t") -> pd.DataFrame:
        """Per-day mean and quantile bands.

        Args:
            series: ``shortfall_t`` (per manufacturer, t/day), ``inventory_t`` (per
                manufacturer and part, t), or ``backlog`` (applications pending, per
                destination country).

        Returns:
            Long frame: ``date``, ``manufacturer`` (and ``part``) or ``destination``,
            ``mean``, ``p5``, ``p25``, ``p50``, ``p75``, ``p95``.
        """
        a, sc = self.agg, self.scenario
        if series == "shortfall_t":
            mom, stack, table = a.shortfall, a.band_short, "bands_shortfall"
            ids: list[dict[str, str]] = [{"manufacturer": m.id} for m in sc.manufacturers]
        elif series == "inventory_t":
            mom, stack, table = a.inventory, a.band_inv, "bands_inventory"
            ids = [{"manufacturer": m.id, "part": p.id} for m in sc.manufacturers for p in m.bill()]
        elif series == "backlog":
            mom, stack, table = a.backlog, a.band_backlog, "bands_backlog"
            ids = [{"destination": c.id} for c in sc.countries]
        else:
            raise ValueError(f"unknown series {series!r}; choose shortfall_t, inventory_t, backlog")
        mean = mom.mean()
        frames = []
        for j, key in enumerate(ids):
            # one entity at a time: the quantile's working copy stays small
            q = quantiles(stack[:, :, j], QUANTILES, axis=0)  # (5, H)
            d: dict[str, Any] = {"date": self.dates, **key, "mean": mean[:, j]}
            for k, bn in enumerate(BAND_NAMES):
                d[bn] = q[k]
            frames.append(pd.DataFrame(d))
        cols = list(TABLES[table].columns)
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        out = conform(out, table)
        out.attrs["band_reps"] = len(stack)
        return out

    def p_shortage(self) -> pd.DataFrame:
        """P(shortage on day d) per manufacturer: ``date``, ``manufacturer``, ``p``."""
        p = self.agg.short_count / max(self.agg.n, 1)
        return conform(
            pd.DataFrame(
                {
                    "date": np.tile(self.dates, p.shape[1]),
                    "manufacturer": np.repeat(
                        [m.id for m in self.scenario.manufacturers], p.shape[0]
                    ),
                    "p": p.T.ravel(),
                }
            ),
            "p_shortage",
        )

    def exports(self) -> pd.DataFrame:
        """Monthly exports through Chinese customs (counted at departure, the customs
        export date) per destination, tonnes: ``month`` (first day), ``destination``,
        ``mean``, ``p5`` … ``p95``. The total is :meth:`exports_total`."""
        return self._monthly(self.agg.band_exports, "exports_monthly")

    def exports_total(self) -> pd.DataFrame:
        """Monthly exports through Chinese customs, all destinations: ``month``,
        ``mean``, ``p5`` … ``p95`` (quantiles of the replications' totals)."""
        return self._monthly(self.agg.band_exports, "exports_monthly_total")

    def arrivals(self) -> pd.DataFrame:
        """Monthly arrivals of those exports at their destinations, tonnes (columns as
        :meth:`exports`)."""
        return self._monthly(self.agg.band_arrivals, "arrivals_monthly")

    def arrivals_total(self) -> pd.DataFrame:
        """Monthly arrivals, all destinations (columns as :meth:`exports_total`)."""
        return self._monthly(self.agg.band_arrivals, "arrivals_monthly_total")

    def _monthly(self, stack: np.ndarray, table: str) -> pd.DataFrame:
        sc = self.scenario
        months = pd.period_range(pd.Timestamp(sc.start), periods=stack.shape[1], freq="M")
        starts = months.to_timestamp()
        if table.endswith("_total"):
            series: list[tuple[dict[str, str], np.ndarray]] = [({}, stack.sum(axis=2))]
        else:
            series = [({"destination": c.id}, stack[:, :, j]) for j, c in enumerate(sc.countries)]
        frames = []
        for key, arr in series:
            q = quantiles(arr, QUANTILES, axis=0)
            frames.append(
                pd.DataFrame(
                    {
                        "month": starts,
                        **key,
                        "mean": arr.mean(axis=0),
                        **{bn: q[k] for k, bn in enumerate(BAND_NAMES)},
                    }
                )
            )
        return conform(pd.concat(frames, ignore_index=True), table)

    def wait_histogram(self) -> pd.DataFrame:
        """Waits from submission to decision, all decided applications of all
        replications: ``wait_wd_low``, ``wait_wd_high``, ``count``, ``share``."""
        h = self.agg.wait_hist
        lo = np.arange(h.size) * WAIT_BIN_WD
        return conform(
            pd.DataFrame(
                {
                    "wait_wd_low": lo,
                    "wait_wd_high": lo + WAIT_BIN_WD,
                    "count": h,
                    "share": h / max(h.sum(), 1),
                }
            ),
            "wait_histogram",
        )

    def samples(self) -> list[np.ndarray]:
        """Shortfall sample paths of the first replications, each (days, manufacturers)."""
        return list(self.agg.samples)

    def regimes(self) -> pd.DataFrame:
        """Regime timeline of replication 0 (identical in every replication unless the
        policy switches stochastically)."""
        return regime_frame(
            self.scenario, self.agg.regimes, self.agg.regime_names, self.agg.regime_labels
        )

    def overlays(self) -> pd.DataFrame:
        """Overlay spans of replication 0 (dated overlays are the same in every
        replication; pulses are random): ``start``, ``end`` (exclusive), ``overlay``,
        ``label``, ``kind``."""
        return conform(overlay_frame(self.scenario, self.agg.overlays), "overlays")

    def summary_dict(self) -> dict[str, Any]:
        """The content of ``summary.json``: KPI mean and 95% interval per entity, and per
        manufacturer (and part) ``first_shortage_date`` and ``recovery_date``: ``mean``,
        ``ci_low``, ``ci_high``, ``median``, ``p5``, ``p95`` as ISO dates (the median
        and 5–95 % range over the replications where the date exists), ``n``,
        ``share`` (n / replications) and, for the recovery, ``short_at_end``."""
        kpis: dict[str, dict[str, Any]] = {}
        for r in self.kpi_stats():
            kpis.setdefault(r["entity"], {})[r["kpi"]] = {
                "mean": _clean(r["mean"]),
                "ci_low": _clean(r["ci_low"]),
                "ci_high": _clean(r["ci_high"]),
                "se": _clean(r["se"]),
                "n": int(r["n"]),
            }
        for entity, ks in kpis.items():
            for name, d in self._date_stats(entity).items():
                ks[name] = {
                    k: v
                    if k == "n"
                    else _clean(v)
                    if k in ("share", "short_at_end")
                    else (None if pd.isna(v) else v.date().isoformat())
                    for k, v in d.items()
                }
        return {"scenario": self.scenario.name, "seed": self.seed, "reps": self.reps, "kpis": kpis}

    @property
    def plot(self) -> Any:
        """Plot accessor: ``.shortage_curve()``, ``.licence_waits()``, ``.exports()``
        (:class:`simulator.report.plots.EnsemblePlots`, see
        :mod:`simulator.ensemble.accessors`)."""
        return plots(self)

    def _repr_html_(self) -> str:
        from simulator.ensemble.views import ensemble_html

        return ensemble_html(self)

    def __repr__(self) -> str:
        return (
            f"EnsembleResult(scenario={self.scenario.name!r}, reps={self.reps}, "
            f"seed={self.seed}, elapsed={self.elapsed_s:.1f}s, workers={self.workers})"
        )


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass
class Comparison:
    """Paired comparison of two scenarios run with common random numbers.

    Attributes:
        a: Ensemble of scenario A.
        b: Ensemble of scenario B (same seeds, same replications).
        diff_daily: Per-day mean of the paired difference (B − A) in shortfall and its
            95% half-width, per manufacturer (long frame).
    """

    a: EnsembleResult
    b: EnsembleResult
    diff_daily: pd.DataFrame

    def differences(self) -> pd.DataFrame:
        """Per KPI: mean of A and B, paired difference B − A with 95% interval, the
        half-width an independent-seeds comparison would have, and their ratio
        (``variance_reduction`` = var(A) + var(B) over var(B − A)). Rows are keyed like
        :meth:`EnsembleResult.kpi_summary`: ``scope``, ``manufacturer``, ``part``,
        ``destination`` (the authority's KPIs per destination), ``kpi``."""
        d = self._differences()
        split = [self.a._split(e) for e in d["entity"]]
        d.insert(0, "scope", [x[0] for x in split])
        d.insert(1, "manufacturer", [x[1] for x in split])
        d.insert(2, "part", [x[2] for x in split])
        d.insert(3, "destination", [x[3] for x in split])
        return conform(d.drop(columns="entity"), "differences")

    def _differences(self) -> pd.DataFrame:
        """:meth:`differences` keyed by internal entity (``comparison.json``'s keys)."""
        ka = self.a.agg.kpis.frame().set_index(["rep", "entity", "kpi"])["value"]
        kb = self.b.agg.kpis.frame().set_index(["rep", "entity", "kpi"])["value"]
        joined = pd.concat({"a": ka, "b": kb}, axis=1).reset_index()
        rows = []
        for (entity, kpi), g in joined.groupby(["entity", "kpi"], sort=False):
            va, vb = g["a"].to_numpy(float), g["b"].to_numpy(float)
            ok = np.isfinite(va) & np.isfinite(vb)
            d = interval(vb[ok] - va[ok])
            ia, ib = interval(va[ok]), interval(vb[ok])
            n = int(ok.sum())
            paired_hw = d["ci_high"] - d["mean"] if n > 1 else math.nan
            indep_var = (ia["sd"] ** 2 + ib["sd"] ** 2) if n > 1 else math.nan
            indep_hw = half_width(standard_error(indep_var, n), n) if n > 1 else math.nan
            dvar = d["sd"] ** 2 if n > 1 else math.nan
            rows.append(
                {
                    "entity": entity,
                    "kpi": kpi,
                    "mean_a": ia["mean"],
                    "mean_b": ib["mean"],
                    "diff": d["mean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "paired_half_width": paired_hw,
                    "independent_half_width": indep_hw,
                    "narrower_x": _ratio(indep_hw, paired_hw),
                    "variance_reduction": _ratio(indep_var, dvar),
                    "n": n,
                }
            )
        cols = ["entity", *TABLES["differences"].columns[4:]]
        return pd.DataFrame(rows, columns=cols)

    def date_differences(self) -> pd.DataFrame:
        """When each manufacturer's line first stops and recovers, in A and in B (the
        ``date_differences`` table): per manufacturer and date (``kpi``:
        ``first_shortage_date``, ``recovery_date``) the median date and 5–95 % range
        over the replications where it happens and their share (A's and B's, as
        :meth:`EnsembleResult.kpi_table` gives them), and the paired difference B − A
        in days with its 95 % interval, over the replications where both have it
        (``n``)."""
        ka, kb = self.a.kpi_table(), self.b.kpi_table()
        ka, kb = ka.set_index("manufacturer"), kb.set_index("manufacturer")
        rows = []
        for mid in [m for m in ka.index if m in kb.index]:
            ra, rb = ka.loc[mid], kb.loc[mid]
            days_a, days_b = self._event_days(self.a, mid), self._event_days(self.b, mid)
            for col, share, at_end in (
                ("first_shortage_date", "p_any_shortage", None),
                ("recovery_date", "p_recovered", "p_short_at_end"),
            ):
                da, db = days_a[col], days_b[col]
                n = min(da.size, db.size)
                st = paired_difference(da[:n], db[:n])
                h = half_width(st["se"], st["n"]) if st["n"] > 1 else math.nan
                rows.append(
                    {
                        "manufacturer": mid,
                        "kpi": col,
                        "date_a": ra[f"{col}_median"],
                        "date_a_p5": ra[f"{col}_p5"],
                        "date_a_p95": ra[f"{col}_p95"],
                        "share_a": ra[share],
                        "date_b": rb[f"{col}_median"],
                        "date_b_p5": rb[f"{col}_p5"],
                        "date_b_p95": rb[f"{col}_p95"],
                        "share_b": rb[share],
                        "short_at_end_a": ra[at_end] if at_end else np.nan,
                        "short_at_end_b": rb[at_end] if at_end else np.nan,
                        "diff": st["mean"],
                        "ci_low": st["mean"] - h,
                        "ci_high": st["mean"] + h,
                        "n": st["n"],
                    }
                )
        cols = list(TABLES["date_differences"].columns)
        return conform(pd.DataFrame(rows, columns=cols), "date_differences")

    @staticmethod
    def _event_days(ens: EnsembleResult, entity: str) -> dict[str, np.ndarray]:
        """Each replication's first-shortage and recovery day (days since the start; NaN
        where it does not happen), in replication order."""
        _, cols = ens.kpi_values()
        n = ens.agg.kpis.n
        first = cols.get((entity, "days_to_first_shortage"), np.full(n, np.nan))
        rec = cols.get((entity, "days_to_recover"), np.full(n, np.nan))
        return {"first_shortage_date": first, "recovery_date": first + rec}

    def scenario_diff(self) -> Any:
        """What differs between the two scenarios (:func:`simulator.diff`): check that a
        comparison compares what you meant it to."""
        from simulator.scenario.diff import diff

        return diff(self.a.scenario, self.b.scenario)

    def summary_dict(self) -> dict[str, Any]:
        """Content of ``comparison.json``: both names, seed, replications, what differs
        between the scenarios, and every KPI's paired difference."""
        out: dict[str, Any] = {
            "a": self.a.scenario.name,
            "b": self.b.scenario.name,
            "seed": self.a.seed,
            "reps": self.a.reps,
            "scenario_differences": self.scenario_diff().to_list(),
            "kpis": {},
        }
        for r in self._differences().itertuples(index=False):
            out["kpis"].setdefault(r.entity, {})[r.kpi] = {
                "mean_a": _clean(r.mean_a),
                "mean_b": _clean(r.mean_b),
                "diff": _clean(r.diff),
                "ci_low": _clean(r.ci_low),
                "ci_high": _clean(r.ci_high),
                "narrower_x": _clean(r.narrower_x),
                "n": int(r.n),
            }
        return out

    def _repr_html_(self) -> str:
        from simulator.ensemble.views import comparison_html

        return comparison_html(self)

    @property
    def plot(self) -> Any:
        """Plot accessor: ``.shortage_difference(manufacturer=...)``
        (:class:`simulator.report.plot_comparison.ComparisonPlots`, see
        :mod:`simulator.ensemble.accessors`)."""
        return plots(self)
