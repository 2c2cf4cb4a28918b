"""Figures for ensembles and paired comparisons (matplotlib only, headless-safe).

Every function returns a :class:`matplotlib.figure.Figure`. Figures are created
with :class:`~matplotlib.figure.Figure` directly (not through ``pyplot``), so
nothing is registered with a GUI backend, nothing is shown, and a notebook does
not display a figure twice; pass ``ax=`` to draw into an axes of your own.

Accessors::

    ens = sim.run_ensemble(sc, reps=200)
    ens.plot.shortage_curve("eu_auto_supplier")   # fan chart + P(shortage)
    ens.plot.licence_waits()                      # wait distribution vs 45 wd
    ens.plot.exports(load_observed_exports("data/cn_magnet_exports.csv"))
    ens.plot.backlog()
    ens.plot.policy_timeline()                    # regimes and overlays, by pace
    cmp = sim.compare(a, b, reps=200)
    cmp.plot.shortage_difference()                # paired B − A with 95% band
    save_figures(ens, Path("out/figures"))        # the PNGs of a run directory

Colours are the Okabe–Ito palette (colour-blind safe); policy regimes are shaded
in alternating light greys and labelled at the top of the time-series panels.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import EnsembleResult

from simulator.report.observed import load_observed_exports
from simulator.report.plot_exports import ExportsPlots
from simulator.report.plot_policy import PolicyPlots
from simulator.report.plot_style import (
    FIGSIZE,
    PALETTE,
    arrange_value_labels,
    date_axis,
    dest_styles,
    find_manufacturer,
    headroom,
    horizon,
    legend,
    new_axes,
    place_labels,
    regime_handles,
    shade_regimes,
    style,
)

__all__ = ["EnsemblePlots", "load_observed_exports"]


# --------------------------------------------------------------------------- ensembles
class EnsemblePlots(ExportsPlots, PolicyPlots):
    """Plots of an :class:`~simulator.ensemble.EnsembleResult` (``ens.plot``).

    Args:
        ens: The ensemble.
    """

    def __init__(self, ens: EnsembleResult) -> None:
        self.ens = ens

    # ------------------------------------------------------------------ shortage
    def shortage_curve(
        self, manufacturer: str | None = None, series: str = "shortfall_t", ax: Axes | None = None
    ) -> Figure:
        """Fan chart of one manufacturer's daily shortfall (or inventory).

        Nested bands p5–p95 and p25–p75, the median, the mean (dashed), the first sample
        paths (shortfall only), policy regimes shaded and labelled, and P(shortage on
        day d) — in a panel below (own figure) or on a right-hand axis (``ax`` given).

        Args:
            manufacturer: Manufacturer id or name (default: the first).
            series: ``"shortfall_t"`` (t/day) or ``"inventory_t"`` (end of day, t).
            ax: Axes to draw into; default: a new figure.

        Returns:
            The figure.

        Raises:
            ValueError: Unknown manufacturer or series, or no manufacturers.
        """
        ens = self.ens
        if series not in ("shortfall_t", "inventory_t"):
            raise ValueError(f"series must be 'shortfall_t' or 'inventory_t', got {series!r}")
        j, m = find_manufacturer(ens, manufacturer)
        b = ens.bands(series)
        b = b[b["entity"] == m.id]
        p = ens.p_shortage()
        p = p[p["manufacturer"] == m.id]
        regimes = ens.regimes()
        start, end = horizon(ens)
        # values are for whole days: draw day d at its midday
        x = mdates.date2num(pd.DatetimeIndex(b["date"]).to_pydatetime()) + 0.5
        blue = PALETTE["blue"]
        with style():
            owned = ax is None
            if owned:
                fig = Figure(figsize=FIGSIZE, layout="constrained")
                main, pax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3.2, 1]})
            else:
                fig, main = new_axes(ax)
                pax = main.twinx()
            texts = shade_regimes(main, regimes)
            if owned:
                shade_regimes(pax, regimes, labels=False)
            # daily values: steps, so a day's band is a block, not a slanted sliver
            main.fill_between(
                x, b["p5"], b["p95"], color=blue, alpha=0.18, lw=0, zorder=2, step="mid"
            )
            main.fill_between(
                x, b["p25"], b["p75"], color=blue, alpha=0.38, lw=0, zorder=2.1, step="mid"
            )
            handles: list[Any] = [
                Patch(facecolor=blue, alpha=0.18, label="5–95%"),
                Patch(facecolor=blue, alpha=0.45, label="25–75%"),
            ]
            data_max = float(np.nanmax(b["p95"])) if len(b) else 0.0
            if series == "shortfall_t":
                paths = [s[:, j] for s in ens.samples()]
                for k, s in enumerate(paths):
                    main.plot(
                        x,
                        s,
                        color=PALETTE["grey"],
                        lw=0.6,
                        alpha=0.55,
                        zorder=2.5,
                        drawstyle="steps-mid",
                        label="_sample" if k else "sample paths",
                    )
                if paths:
                    data_max = max(data_max, float(np.nanmax(np.stack(paths))))
                    handles.append(
                        Line2D(
                            [],
                            [],
                            color=PALETTE["grey"],
                            lw=0.8,
                            alpha=0.7,
                            label=f"{len(paths)} sample paths",
                        )
                    )
            (med,) = main.plot(
                x,
                b["p50"],
                color="#003F66",
                lw=2.0,
                zorder=3,
                drawstyle="steps-mid",
                label="median",
            )
            (mean,) = main.plot(
                x,
                b["mean"],
                color=PALETTE["black"],
                lw=1.3,
                ls=(0, (4, 2)),
                zorder=3.1,
                label="mean",
            )
            data_max = max(data_max, float(np.nanmax(b["mean"])) if len(b) else 0.0)
            handles += [med, mean]
            # P(shortage on day d)
            red = PALETTE["vermillion"]
            pv = 100.0 * p["p"].to_numpy()
            if owned:
                pax.fill_between(x, 0, pv, color=red, alpha=0.25, lw=0, step="mid", zorder=2)
                pax.plot(x, pv, color=red, lw=1.2, drawstyle="steps-mid", zorder=3)
                pax.set_ylim(0, 100)
                pax.set_yticks([0, 50, 100])
                pax.set_ylabel("P(shortage)\n(% of reps)")
            else:
                pax.plot(x, pv, color=red, lw=1.0, alpha=0.8, drawstyle="steps-mid", zorder=3)
                pax.set_ylim(0, 100)
                pax.set_ylabel("P(shortage on day) (%)", color=red)
                pax.tick_params(axis="y", colors=red)
                pax.grid(False)
            pax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
            handles.append(
                Patch(facecolor=red, alpha=0.35, edgecolor=red, label="P(shortage on day)")
            )
            handles += regime_handles(ens, regimes)
            what = "daily shortfall" if series == "shortfall_t" else "end-of-day inventory"
            main.set_ylabel("shortfall (t/day)" if series == "shortfall_t" else "inventory (t)")
            who = m.name or m.id
            title = f"{who} — {what}, {ens.reps} replications ({ens.scenario.name})"
            date_axis(main, start, end)
            if owned:
                date_axis(pax, start, end)
                main.tick_params(labelbottom=False)
                pax.set_xlabel("date")
                fig.suptitle(title)
                legend(fig, main, handles, owned=True, ncols=min(len(handles), 5))
            else:
                main.set_xlabel("date")
                main.set_title(title)
                # right of the twin axis's labels
                pax.legend(
                    handles=handles,
                    loc="upper left",
                    bbox_to_anchor=(1.12, 1.0),
                    borderaxespad=0.0,
                    fontsize=8,
                    frameon=False,
                )
            if data_max <= 0 and series == "shortfall_t":
                main.text(
                    0.5,
                    0.4,
                    "no shortfall in any replication",
                    transform=main.transAxes,
                    ha="center",
                    va="center",
                    fontsize=11,
                    color=PALETTE["grey"],
                    zorder=6,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                )
            frac = place_labels(fig, main, texts)
            # a flat-zero curve gets the daily demand as its scale
            headroom(main, data_max if data_max > 0 else m.daily_demand_t(), frac)
        return fig

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
        regimes = ens.regimes()
        start, end = horizon(ens)
        styles = dest_styles(ens)
        owned = ax is None
        with style():
            fig, ax = new_axes(ax)
            texts = shade_regimes(ax, regimes)
            handles: list[Any] = []
            data_max = 0.0
            for dest, g in b.groupby("entity", sort=False):
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
            handles += regime_handles(ens, regimes)
            date_axis(ax, start, end)
            ax.set_xlabel("date")
            ax.set_ylabel("applications pending (count)")
            ax.set_title(
                f"Licence applications pending by destination (median), "
                f"{ens.reps} replications ({ens.scenario.name})"
            )
            legend(fig, ax, handles, owned, ncols=min(len(handles), 7))
            frac = place_labels(fig, ax, texts)
            headroom(ax, data_max, frac)
        return fig
