"""Ensemble results and paired comparisons: tables, bands, intervals, plots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.ensemble.aggregate import BAND_NAMES, QUANTILES, WAIT_BIN_WD, Aggregator
from simulator.replication.kpis import AUTHORITY_KPIS, MANUFACTURER_KPIS
from simulator.replication.tables import overlay_frame, part_names, regime_frame
from simulator.stats import interval, t95

if TYPE_CHECKING:  # pragma: no cover
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
    """

    scenario: Scenario
    seed: int
    reps: int
    agg: Aggregator = field(repr=False)
    elapsed_s: float = 0.0
    workers: int = 1

    # -- tables --------------------------------------------------------------------
    @property
    def dates(self) -> pd.DatetimeIndex:
        """Simulated dates."""
        return pd.date_range(self.scenario.start, periods=self.scenario.horizon_days, freq="D")

    @property
    def kpi_reps(self) -> pd.DataFrame:
        """Per-replication KPIs: ``rep``, ``entity``, ``kpi``, ``value``."""
        return self.agg.kpis.frame()

    def kpi_summary(self) -> pd.DataFrame:
        """KPI means with 95% intervals per entity: ``entity``, ``kpi``, ``mean``, ``sd``,
        ``se``, ``ci_low``, ``ci_high``, ``n`` (replications where the KPI is defined —
        e.g. days to first shortage only where a shortage happened), ``share_defined``."""
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
        out = pd.DataFrame(rows)
        if out.empty:
            return out
        ent_order = {m.id: i for i, m in enumerate(self.scenario.manufacturers)}
        out["_e"] = out["entity"].map(lambda e: ent_order.get(e, 10_000))
        return out.sort_values(["_e", "_o"]).drop(columns=["_e", "_o"]).reset_index(drop=True)

    def bands(self, series: str = "shortfall_t") -> pd.DataFrame:
        """Per-day mean and quantile bands.

        Args:
            series: ``shortfall_t`` or ``inventory_t`` (per manufacturer, tonnes), or
                ``backlog`` (applications pending, per destination country).

        Returns:
            Long frame: ``date``, ``entity``, ``mean``, ``p5``, ``p25``, ``p50``, ``p75``,
            ``p95``.
        """
        a, sc = self.agg, self.scenario
        if series == "shortfall_t":
            mom, stack, names = a.shortfall, a.band_short, [m.id for m in sc.manufacturers]
        elif series == "inventory_t":
            mom, stack, names = a.inventory, a.band_inv, part_names(sc)
        elif series == "backlog":
            mom, stack, names = a.backlog, a.band_backlog, [c.id for c in sc.countries]
        else:
            raise ValueError(f"unknown series {series!r}; choose shortfall_t, inventory_t, backlog")
        mean = mom.mean()
        H = mean.shape[0]
        frames = []
        for j, name in enumerate(names):
            # one entity at a time: the quantile's working copy stays small
            q = np.quantile(stack[:, :, j], QUANTILES, axis=0)  # (5, H)
            d = {"date": self.dates, "entity": name, "mean": mean[:, j]}
            for k, bn in enumerate(BAND_NAMES):
                d[bn] = q[k]
            frames.append(pd.DataFrame(d))
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        out.attrs["units"] = {
            "shortfall_t": "t/day",
            "inventory_t": "t",
            "backlog": "applications",
        }[series]
        out.attrs["band_reps"] = len(stack)
        del H
        return out

    def p_shortage(self) -> pd.DataFrame:
        """P(shortage on day d) per manufacturer: ``date``, ``manufacturer``, ``p``."""
        p = self.agg.short_count / max(self.agg.n, 1)
        return pd.DataFrame(
            {
                "date": np.tile(self.dates, p.shape[1]),
                "manufacturer": np.repeat([m.id for m in self.scenario.manufacturers], p.shape[0]),
                "p": p.T.ravel(),
            }
        )

    def exports(self) -> pd.DataFrame:
        """Monthly exports through Chinese customs (counted at departure, the customs
        export date), tonnes: mean and bands of the total and per destination. Columns
        ``month``, ``destination`` (``ALL`` for the total), ``mean``, ``p5`` … ``p95``."""
        return self._monthly(self.agg.band_exports)

    def arrivals(self) -> pd.DataFrame:
        """Monthly arrivals of those exports at their destinations, tonnes (columns as
        :meth:`exports`)."""
        return self._monthly(self.agg.band_arrivals)

    def _monthly(self, stack: np.ndarray) -> pd.DataFrame:
        sc = self.scenario
        months = pd.period_range(pd.Timestamp(sc.start), periods=stack.shape[1], freq="M")
        tot = stack.sum(axis=2)
        rows = []
        for dest, arr in [("ALL", tot)] + [
            (c.id, stack[:, :, j]) for j, c in enumerate(sc.countries)
        ]:
            q = np.quantile(arr, QUANTILES, axis=0)
            for i, mth in enumerate(months):
                rows.append(
                    {
                        "month": str(mth),
                        "destination": dest,
                        "mean": arr[:, i].mean(),
                        **{bn: q[k, i] for k, bn in enumerate(BAND_NAMES)},
                    }
                )
        out = pd.DataFrame(rows)
        out.attrs["units"] = "t/month"
        return out

    def wait_histogram(self) -> pd.DataFrame:
        """Waits from submission to decision, all decided applications of all
        replications: ``wait_wd_low``, ``wait_wd_high``, ``count``, ``share``."""
        h = self.agg.wait_hist
        lo = np.arange(h.size) * WAIT_BIN_WD
        return pd.DataFrame(
            {
                "wait_wd_low": lo,
                "wait_wd_high": lo + WAIT_BIN_WD,
                "count": h,
                "share": h / max(h.sum(), 1),
            }
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
        return overlay_frame(self.scenario, self.agg.overlays)

    def to_frame(self) -> pd.DataFrame:
        """Everything per day in one tidy frame: ``date``, ``entity``, ``series``,
        ``stat``, ``value`` (series: shortfall_t, inventory_t, backlog, p_shortage)."""
        parts = []
        for series in ("shortfall_t", "inventory_t", "backlog"):
            b = self.bands(series).melt(id_vars=["date", "entity"], var_name="stat")
            b.insert(2, "series", series)
            parts.append(b)
        p = self.p_shortage().rename(columns={"manufacturer": "entity", "p": "value"})
        p.insert(2, "series", "p_shortage")
        p.insert(3, "stat", "p")
        parts.append(p)
        return pd.concat(parts, ignore_index=True)

    def summary_dict(self) -> dict[str, Any]:
        """The content of ``summary.json``: KPI mean and 95% interval per entity."""
        ks = self.kpi_summary()
        kpis: dict[str, dict[str, Any]] = {}
        for r in ks.itertuples(index=False):
            kpis.setdefault(r.entity, {})[r.kpi] = {
                "mean": _clean(r.mean),
                "ci_low": _clean(r.ci_low),
                "ci_high": _clean(r.ci_high),
                "se": _clean(r.se),
                "n": int(r.n),
            }
        return {"scenario": self.scenario.name, "seed": self.seed, "reps": self.reps, "kpis": kpis}

    @property
    def plot(self) -> Any:
        """Plot accessor: ``.shortage_curve()``, ``.licence_waits()``, ``.exports()``."""
        from simulator.report.plots import EnsemblePlots

        return EnsemblePlots(self)

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
        (``variance_reduction`` = var(A) + var(B) over var(B − A))."""
        ka = self.a.kpi_reps.set_index(["rep", "entity", "kpi"])["value"]
        kb = self.b.kpi_reps.set_index(["rep", "entity", "kpi"])["value"]
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
            indep_hw = t95(n) * math.sqrt(indep_var / n) if n > 1 else math.nan
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
        return pd.DataFrame(rows)

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
        for r in self.differences().itertuples(index=False):
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

    @property
    def plot(self) -> Any:
        """Plot accessor: ``.shortage_difference(manufacturer=...)``."""
        from simulator.report.plot_comparison import ComparisonPlots

        return ComparisonPlots(self)
