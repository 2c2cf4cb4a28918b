"""Calibration tables, for people: observed monthly exports against an ensemble's, and a
targets file's table as text.

This module drives no replication and holds no target: targets are read, observed in
every replication and judged in :mod:`simulator.explore.targets`;
:func:`targets_text` renders the rows :func:`~simulator.explore.targets.evaluate` gives.

:func:`export_fit` lines up an ensemble's monthly exports at Chinese customs (all destinations,
median and 90% band over replications) with an observed series (e.g. China's customs
data for NdFeB magnets, ``scenarios/data/cn_magnet_exports.csv``) and computes the
error per month and the shape statistics the 2025 case study is judged on:

* ``may_ratio`` — May / mean(January–March) of simulated medians (observed 0.24);
* ``us_share_may`` — US share of simulated May exports (mean over replications);
* ``jul_dec_max_abs_error`` — largest |simulated median / observed − 1| over Jul–Dec.

All three are taken in **the year of the controls** (:func:`controls_year`: the year of
the policy's first dated change, e.g. 2025 for controls from 2025-04-04), not the year
the simulation starts in (the case study starts in December 2024, so that goods already
in production and at sea reach January).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ExportFit", "controls_year", "export_fit", "targets_text"]


@dataclass
class ExportFit:
    """Observed vs simulated monthly exports.

    Attributes:
        table: Per month: ``month``, ``observed_t``, ``median_t``, ``p5_t``, ``p95_t``,
            ``error`` (median / observed − 1), ``in_band`` (observed inside 5–95%; NA
            for a month without an observed value).
        stats: Shape statistics (see module docstring) in ``year``; NaN where data are
            missing.
        year: The calendar year of the shape statistics.
    """

    table: pd.DataFrame
    stats: dict[str, float]
    year: int = 0

    def to_text(self) -> str:
        """A fixed-width table for terminals and notes."""
        lines = [
            f"{'month':8} {'observed t':>11} {'sim median':>11} {'sim 5%':>9} "
            f"{'sim 95%':>9} {'error':>8}  band"
        ]
        for r in self.table.itertuples(index=False):
            obs = "" if np.isnan(r.observed_t) else f"{r.observed_t:11,.0f}"
            err = "" if np.isnan(r.error) else f"{100 * r.error:+7.1f}%"
            band = "" if pd.isna(r.in_band) else ("yes" if r.in_band else "no")
            lines.append(
                f"{r.month:%Y-%m}   {obs:>11} {r.median_t:11,.0f} {r.p5_t:9,.0f} "
                f"{r.p95_t:9,.0f} {err:>8}  {band}"
            )
        s, y = self.stats, self.year

        def num(x: float, pct: bool = False) -> str:
            if not np.isfinite(x):
                return "— (no data)"
            return f"{100 * x:.1f}%" if pct else f"{x:.3f}"

        lines.append("")
        lines.append(f"shape statistics of {y}:")
        lines.append(
            f"May / mean(Jan-Mar) {y}: simulated {num(s['may_ratio'])}, "
            f"observed {num(s['may_ratio_observed'])}"
        )
        lines.append(
            f"US share of May {y} exports: simulated {num(s['us_share_may'], True)}, "
            f"observed {num(s['us_share_may_observed'], True)}"
        )
        lines.append(f"Jul-Dec {y} largest |error|: {num(s['jul_dec_max_abs_error'], True)}")
        return "\n".join(lines)


def _month_value(df: pd.DataFrame, month: str, col: str) -> float:
    row = df.loc[df["month"].dt.strftime("%Y-%m") == month, col]
    return float(row.iloc[0]) if len(row) and pd.notna(row.iloc[0]) else float("nan")


def controls_year(sc: Any) -> int:
    """The calendar year of a scenario's controls: the year of its policy's first dated
    change inside the horizon (a timeline entry or an overlay's start), else the year
    holding most of the horizon (the later one on a tie).

    Args:
        sc: A :class:`~simulator.scenario.model.Scenario`.
    """
    pol = sc.policy
    dates = [ch.date for ch in pol.timeline] + [ov.from_ for ov in pol.overlays]
    if pol.switching is not None:
        dates.append(pol.switching.start)
    inside = sorted(d for d in dates if d is not None and sc.start <= d <= sc.end)
    if inside:
        return inside[0].year
    days = pd.date_range(sc.start, sc.end, freq="D")
    counts = pd.Series(days.year).value_counts()
    return int(max(counts.index, key=lambda y: (counts[y], y)))


def export_fit(
    ens: Any, observed: pd.DataFrame, us_id: str = "US", year: int | None = None
) -> ExportFit:
    """Compare an ensemble's monthly exports (departures) with observed data.

    Args:
        ens: An :class:`~simulator.ensemble.EnsembleResult`.
        observed: Frame with ``month`` (first day of the month, as
            :func:`~simulator.report.observed.load_observed_exports` returns it) and
            ``total_t`` (and ``us_t``).
        us_id: Country id of the United States in the scenario.
        year: Calendar year of the shape statistics (default: :func:`controls_year`).

    Returns:
        The :class:`ExportFit`.
    """
    sim = ens.exports()
    sim = sim.assign(ym=sim["month"].dt.strftime("%Y-%m"))
    tot = ens.exports_total()
    obs = observed.assign(ym=pd.to_datetime(observed["month"]).dt.strftime("%Y-%m")).set_index("ym")
    table = pd.DataFrame(
        {
            "month": tot["month"],
            "observed_t": [
                float(obs["total_t"].get(m, np.nan)) for m in tot["month"].dt.strftime("%Y-%m")
            ],
            "median_t": tot["p50"],
            "p5_t": tot["p5"],
            "p95_t": tot["p95"],
        }
    )
    table["error"] = table["median_t"] / table["observed_t"] - 1.0
    inside = (table["observed_t"] >= table["p5_t"]) & (table["observed_t"] <= table["p95_t"])
    table["in_band"] = inside.astype("boolean").where(table["observed_t"].notna(), pd.NA)
    y = int(year) if year is not None else controls_year(ens.scenario)
    year_text = f"{y:04d}"

    def med(m: str) -> float:
        return _month_value(table, f"{year_text}-{m}", "median_t")

    def ob(m: str) -> float:
        return _month_value(table, f"{year_text}-{m}", "observed_t")

    jan_mar = np.mean([med("01"), med("02"), med("03")])
    jan_mar_obs = np.mean([ob("01"), ob("02"), ob("03")])
    us = sim[(sim["destination"] == us_id) & (sim["ym"] == f"{year_text}-05")]
    all_may = tot[tot["month"].dt.strftime("%Y-%m") == f"{year_text}-05"]
    us_share = (
        float(us["mean"].iloc[0]) / float(all_may["mean"].iloc[0])
        if len(us) and len(all_may) and float(all_may["mean"].iloc[0]) > 0
        else float("nan")
    )
    us_obs = (
        float(obs["us_t"].get(f"{year_text}-05", np.nan)) / ob("05")
        if "us_t" in obs.columns
        else float("nan")
    )
    h2_months = [f"{year_text}-{m:02d}" for m in range(7, 13)]
    h2 = table[table["month"].dt.strftime("%Y-%m").isin(h2_months)]
    return ExportFit(
        table=table,
        stats={
            "may_ratio": med("05") / jan_mar if jan_mar > 0 else float("nan"),
            "may_ratio_observed": ob("05") / jan_mar_obs if jan_mar_obs > 0 else float("nan"),
            "us_share_may": us_share,
            "us_share_may_observed": us_obs,
            "jul_dec_max_abs_error": float(h2["error"].abs().max()) if len(h2) else float("nan"),
        },
        year=y,
    )


PHASE_TITLES = {
    "fit": "targets (all fitted)",
    "train": "train: public by {until}, fitted",
    "test": "test: public after {until}, never fitted",
    "setting": "settings: figures a parameter was set from (not counted)",
}
"""Section titles of :func:`targets_text`, by :func:`simulator.explore.targets.phase`."""


def targets_text(rows: list[dict[str, Any]], train_until: str | None = None) -> str:
    """A targets file's calibration table as fixed-width text: per target the observed
    value, the simulated median and 5–95 % band, the error and the verdict, in sections
    by phase (fitted, train, test, settings) with a count of each
    (``rows``: :func:`simulator.explore.targets.evaluate`; ``train_until``: the split day,
    for the titles)."""

    def num(x: float) -> str:
        if x != x:
            return "—"
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"

    head = (
        f"{'target':30} {'observed':>9} {'median':>9} {'5%':>9} {'95%':>9} "
        f"{'error':>8} {'tolerance':>12}  ok"
    )
    lines: list[str] = []
    counts: list[str] = []
    for ph, title in PHASE_TITLES.items():
        part = [r for r in rows if r.get("phase", "fit") == ph]
        if not part:
            continue
        if lines:
            lines.append("")
        lines += [title.format(until=train_until or "?"), head, "-" * len(head)]
        for r in part:
            err = r["relative_error"]
            e = "—" if err != err else f"{100 * err:+.0f}%"
            lines.append(
                f"{r['id']:30} {num(r['observed']):>9} {num(r['median']):>9} "
                f"{num(r['p5']):>9} {num(r['p95']):>9} {e:>8} {r['tolerance']:>12}  "
                f"{'yes' if r['ok'] else 'NO'}"
            )
        ok = sum(r["ok"] for r in part)
        share = f"within tolerance ({100 * ok / len(part):.0f}%)"
        if ph == "fit":
            counts.append(f"{ok} of {len(part)} targets {share}")
        else:
            counts.append(f"{'settings' if ph == 'setting' else ph} {ok} of {len(part)} {share}")
    lines += ["", "; ".join(counts)]
    return "\n".join(lines)
