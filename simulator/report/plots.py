"""Figures for ensembles and paired comparisons (matplotlib only, headless-safe).

Every function returns a :class:`matplotlib.figure.Figure`. Figures are created
with :class:`~matplotlib.figure.Figure` directly (not through ``pyplot``), so
nothing is registered with a GUI backend, nothing is shown, and a notebook does
not display a figure twice; pass ``ax=`` to draw into an axes of your own.

Accessors::

    ens = sim.run_ensemble(sc, reps=200)
    ens.plot.shortage_curve("eu_auto_supplier")   # weekly fan chart, P(shortage), cumulative
    ens.plot.p_shortage_overview()                # every plant's P(shortage), weekly
    ens.plot.licence_waits()                      # wait distribution vs 45 wd
    ens.plot.exports(load_observed_exports("data/cn_magnet_exports.csv"))
    ens.plot.backlog()
    ens.plot.policy_timeline()                    # regimes and overlays, by pace
    cmp = sim.compare(a, b, reps=200)
    cmp.plot.shortage_difference()                # paired B − A with 95% band
    save_figures(ens, Path("out/figures"))        # the PNGs of a run directory

Colours are the Okabe–Ito palette (colour-blind safe); policy regimes are shaded by
direction (light vermillion ▲: tighter than before; light blue ▼: easier) and labelled
at the top of the time-series panels. Figures a function makes itself carry a footer
with relsim's version, the scenario, seed, replications and date.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from simulator.ensemble.accessors import register_plots
from simulator.ensemble.results import Comparison, EnsembleResult
from simulator.report.observed import load_observed_exports
from simulator.report.plot_comparison import ComparisonPlots
from simulator.report.plot_exports import ExportsPlots
from simulator.report.plot_policy import PolicyPlots
from simulator.report.plot_shortage import ShortagePlots
from simulator.report.plot_style import (
    PALETTE,
    arrange_value_labels,
    date_axis,
    dest_styles,
    footer,
    headroom,
    horizon,
    legend,
    new_axes,
    place_labels,
    regime_handles,
    shade_regimes,
    shared_regimes,
    style,
)

__all__ = ["EnsemblePlots", "load_observed_exports"]


# --------------------------------------------------------------------------- ensembles
class EnsemblePlots(ShortagePlots, ExportsPlots, PolicyPlots):
    """Plots of an :class:`~simulator.ensemble.EnsembleResult` (``ens.plot``).

    Args:
        ens: The ensemble.
    """

    def __init__(self, ens: EnsembleResult) -> None:
        self.ens = ens

    # ------------------------------------------------------------------ waits
    def licence_waits(self, ax: Axes | None = None) -> Figure:
        """Distribution of waits from submission to decision, in working days.

        All decided applications of all replications (background and manufacturers),
        from the ensemble's 0.5-wd histogram, coarsened to at most ~150 bins and trimmed
        to the populated range. Marks the statutory limit, the median and the p90.

        Args:
            ax: Axes to draw into; default: a new figure.

        Returns:
            The figure.
        """
        ens = self.ens
        h = ens.wait_histogram()
        counts = h["count"].to_numpy(dtype=float)
        width0 = float(h["wait_wd_high"].iloc[0] - h["wait_wd_low"].iloc[0])
        limit = ens.scenario.authority.statutory_limit_wd
        total = counts.sum()
        owned = ax is None
        with style():
            fig, ax = new_axes(ax)
            if total <= 0:
                ax.text(
                    0.5,
                    0.5,
                    "no decided applications",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    fontsize=12,
                    color=PALETTE["grey"],
                )
                ax.set_xlabel("wait, submission → decision (working days)")
                ax.set_ylabel("share of decisions (%)")
                ax.set_title(f"Licence waits — {ens.scenario.name}: no decisions")
                ax.legend(handles=[Patch(facecolor="none", label="no data")], loc="upper right")
                return fig
            nz = np.flatnonzero(counts)
            lo_i, hi_i = int(nz[0]), int(nz[-1])
            overflow = hi_i == counts.size - 1 and counts[-1] > 0
            # coarsen for readability: at most ~150 bins over the populated range
            span = (hi_i + 1 - lo_i) * width0
            factor = max(1, math.ceil(span / width0 / 150))
            nice = [1, 2, 4, 10, 20, 40, 100]
            factor = next((f for f in nice if f >= factor), factor)
            width = width0 * factor
            lo_e = math.floor(lo_i * width0 / width) * width
            hi_e = (math.floor(hi_i * width0 / width) + 1) * width
            edges0 = h["wait_wd_low"].to_numpy()
            idx = np.floor((edges0[lo_i : hi_i + 1] - lo_e) / width + 1e-9).astype(int)
            nb = round((hi_e - lo_e) / width)
            c = np.bincount(idx, weights=counts[lo_i : hi_i + 1], minlength=nb)[:nb]
            share = 100.0 * c / total
            edges = lo_e + width * np.arange(nb + 1)
            ax.stairs(share, edges, fill=True, color=PALETTE["sky"], alpha=0.75, label="_hist")
            ax.stairs(share, edges, color=PALETTE["blue"], lw=1.0, label="_hist_edge")
            # quantiles from the fine histogram (linear within bins)
            cdf = np.cumsum(counts) / total
            lows = h["wait_wd_low"].to_numpy()

            def q(p: float) -> float:
                i = int(np.searchsorted(cdf, p))
                prev = cdf[i - 1] if i > 0 else 0.0
                frac = (p - prev) / max(cdf[i] - prev, 1e-12)
                return float(lows[i] + frac * width0)

            med, p90 = q(0.5), q(0.9)
            handles: list[Any] = [
                Patch(
                    facecolor=PALETTE["sky"],
                    edgecolor=PALETTE["blue"],
                    alpha=0.75,
                    label=f"share per {width:g}-wd bin",
                )
            ]
            handles.append(
                ax.axvline(
                    med, color=PALETTE["black"], lw=1.4, ls="--", label=f"median {med:.1f} wd"
                )
            )
            handles.append(
                ax.axvline(p90, color=PALETTE["orange"], lw=1.6, ls="-.", label=f"p90 {p90:.1f} wd")
            )
            ymax = float(share.max())
            over_txt = ""
            if limit is not None:
                over = float(counts[lows >= limit - 1e-9].sum() / total)
                # a bin straddling the limit: count its part above the limit
                straddle = (lows < limit) & (lows + width0 > limit)
                if straddle.any():
                    k = int(np.flatnonzero(straddle)[0])
                    over += float(counts[k] / total * (lows[k] + width0 - limit) / width0)
                handles.append(
                    ax.axvline(
                        limit,
                        color=PALETTE["vermillion"],
                        lw=2.0,
                        label=f"statutory limit {limit:g} wd",
                    )
                )
                xr = max(hi_e, limit + width)
                if xr > limit:
                    ax.axvspan(limit, xr, color=PALETTE["vermillion"], alpha=0.07, lw=0, zorder=0)
                handles.append(
                    Patch(
                        facecolor=PALETTE["vermillion"],
                        alpha=0.15,
                        label=f"over the limit: {100 * over:.1f}%",
                    )
                )
                over_txt = f"; {100 * over:.1f}% over the {limit:g}-wd limit"
            left = max(0.0, lo_e - width)
            right = hi_e + width
            if limit is not None:
                right = max(right, limit + 2 * width)
            ax.set_xlim(left, right)
            # value labels at the top of the median and p90 lines (arranged at the end)
            anns = [
                ax.annotate(
                    f"{txt} {xv:.1f} wd",
                    xy=(xv, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(4, -4),
                    textcoords="offset points",
                    ha="left",
                    va="top",
                    fontsize=9,
                    color=col,
                    bbox={
                        "boxstyle": "square,pad=0.15",
                        "facecolor": "white",
                        "edgecolor": "none",
                        "alpha": 0.85,
                    },
                )
                for xv, txt, col in (
                    (med, "median", PALETTE["black"]),
                    (p90, "p90", PALETTE["orange"]),
                )
            ]
            ax.set_ylim(0, ymax * 1.25)
            ax.yaxis.set_major_formatter(PercentFormatter(decimals=1 if ymax < 5 else 0))
            ax.set_xlabel("wait, submission → decision (working days)")
            ax.set_ylabel("share of decided applications (%)")
            n = int(total)
            ax.set_title(
                f"Licence waits, submission → decision — {ens.scenario.name}\n"
                f"{n:,} decisions, {ens.reps} replications{over_txt}"
            )
            if overflow:
                handles.append(
                    Patch(facecolor="none", edgecolor="none", label=f"last bin: ≥ {lows[-1]:g} wd")
                )
            # the side of the plot with less of the distribution, below the annotations
            mid = 0.5 * (left + right)
            heavier_left = share[edges[:-1] < mid].max(initial=0) > share[edges[:-1] >= mid].max(
                initial=0
            )
            ax.legend(
                handles=handles,
                loc="upper right" if heavier_left else "upper left",
                bbox_to_anchor=(1.0, 0.9) if heavier_left else (0.0, 0.9),
            )
            arrange_value_labels(fig, ax, anns, [med, p90] + ([limit] if limit else []))
            if owned:
                footer(fig, ens)
        return fig

    # ------------------------------------------------------------------ backlog
    def backlog(self, ax: Axes | None = None) -> Figure:
        """Licence applications pending (submitted, undecided) per destination: median and
        25–75% band, with policy regimes shaded.

        Args:
            ax: Axes to draw into; default: a new figure.

        Returns:
            The figure.
        """
        ens = self.ens
        b = ens.bands("backlog")
        regimes, directions = shared_regimes(self)
        start, end = horizon(ens)
        styles = dest_styles(ens)
        owned = ax is None
        with style():
            fig, ax = new_axes(ax)
            texts = shade_regimes(ax, regimes, directions=directions)
            handles: list[Any] = []
            data_max = 0.0
            for dest, g in b.groupby("destination", sort=False):
                if not (g["p95"] > 0).any():
                    continue
                col, ls = styles.get(str(dest), (PALETTE["grey"], "-"))
                x = mdates.date2num(pd.DatetimeIndex(g["date"]).to_pydatetime()) + 0.5
                ax.fill_between(
                    x, g["p25"], g["p75"], color=col, alpha=0.25, lw=0, zorder=2, step="mid"
                )
                (ln,) = ax.plot(
                    x,
                    g["p50"],
                    color=col,
                    ls=ls,
                    lw=1.6,
                    zorder=3,
                    drawstyle="steps-mid",
                    label=str(dest),
                )
                handles.append(ln)
                data_max = max(data_max, float(np.nanmax(g["p75"])))
            if handles:
                handles.append(Patch(facecolor="0.5", alpha=0.3, label="25–75% band"))
            else:
                ax.text(
                    0.5,
                    0.4,
                    "no applications",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    fontsize=11,
                    color=PALETTE["grey"],
                )
                handles.append(Patch(facecolor="none", edgecolor="none", label="no data"))
            handles += regime_handles(ens, regimes, directions=directions)
            date_axis(ax, start, end)
            ax.set_xlabel("date")
            ax.set_ylabel("applications pending (count)")
            ax.set_title(
                f"Licence applications pending by destination (median), "
                f"{ens.reps} replications ({ens.scenario.name})"
            )
            legend(fig, ax, handles, owned, ncols=min(len(handles), 7))
            if owned:
                footer(fig, ens)
            place_labels(fig, ax, texts, lambda frac: headroom(ax, data_max, frac))
        return fig


# ``ens.plot`` and ``cmp.plot`` (see simulator.ensemble.accessors): registered on import
register_plots(EnsembleResult, EnsemblePlots)
register_plots(Comparison, ComparisonPlots)
