"""Shortage figures: the per-manufacturer fan chart and the all-plant overview.

Daily shortfall of a plant that works on weekdays alternates between its demand and zero
every weekend, so a daily 5–95 % band cannot be read. Both figures therefore aggregate
**by period over the plant's operating days** (default: weeks, Monday to Sunday): a
week's value is the mean shortfall per operating day of that week, computed per
replication, and the bands are quantiles of those weekly values over replications.
"""

from __future__ import annotations

import textwrap
import warnings
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from simulator.ensemble.aggregate import QUANTILES
from simulator.report.plot_style import (
    FIGSIZE,
    PALETTE,
    SERIES_COLOURS,
    SERIES_DASHES,
    date_axis,
    find_manufacturer,
    footer,
    headroom,
    horizon,
    legend,
    new_axes,
    new_figure,
    place_labels,
    regime_handles,
    shade_regimes,
    shared_regimes,
    style,
)
from simulator.stats import quantiles

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import EnsembleResult

__all__ = ["PERIODS", "ShortagePlots", "operating_days", "period_bins"]

PERIODS = {"D": "day", "W": "week", "M": "month"}
"""Aggregation periods of the shortage figures."""


def operating_days(ens: EnsembleResult) -> np.ndarray:
    """Whether each manufacturer works on each day, shape (days, manufacturers)
    (``operating_days: weekdays`` plants: Monday to Friday)."""
    dates = ens.dates
    weekday = np.asarray(dates.day_of_week) < 5
    cols = [
        weekday if m.operating_days == "weekdays" else np.ones(len(dates), dtype=bool)
        for m in ens.scenario.manufacturers
    ]
    return np.stack(cols, axis=1) if cols else np.ones((len(dates), 0), dtype=bool)


def period_bins(dates: pd.DatetimeIndex, period: str) -> tuple[np.ndarray, np.ndarray]:
    """Period index of each day and the period edges as matplotlib date numbers (the
    first edge is the first day, the last the day after the last day).

    Args:
        dates: The simulated days.
        period: ``"D"``, ``"W"`` (weeks starting on Monday) or ``"M"``.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    if period == "D":
        starts = dates
    elif period == "W":
        starts = dates - pd.to_timedelta(dates.day_of_week, unit="D")
    else:
        starts = dates.to_period("M").to_timestamp()
    codes, uniq = pd.factorize(starts)
    edges = [max(u, dates[0]) for u in uniq] + [dates[-1] + pd.Timedelta(days=1)]
    return codes, np.asarray(mdates.date2num(pd.DatetimeIndex(edges).to_pydatetime()))


def _by_period(x: np.ndarray, mask: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Mean over the masked days of each period, along the last axis (NaN: no such day)."""
    w = mask.astype(float)
    num = np.zeros((*x.shape[:-1], k))
    den = np.bincount(codes, weights=w, minlength=k)
    for i in range(k):  # few periods; vectorised over replications
        sel = codes == i
        num[..., i] = (x[..., sel] * w[sel]).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _stairs_band(ax: Axes, edges: np.ndarray, lo: np.ndarray, hi: np.ndarray, **kw: Any) -> None:
    ax.fill_between(edges, np.r_[lo, lo[-1:]], np.r_[hi, hi[-1:]], step="post", lw=0, **kw)


class ShortagePlots:
    """The shortage figures of :class:`~simulator.report.plots.EnsemblePlots` (a mixin:
    the subclass sets ``self.ens``)."""

    ens: EnsembleResult

    def shortage_curve(
        self,
        manufacturer: str | None = None,
        series: str = "shortfall_t",
        ax: Axes | None = None,
        *,
        period: str = "W",
        samples: int = 0,
        part: str | None = None,
    ) -> Figure:
        """Fan chart of one manufacturer's shortfall (or inventory), aggregated by period
        over its operating days.

        Panels (own figure): nested bands p5–p95 and p25–p75 of the period values over
        replications, the median and the mean; P(shortage on an operating day) per
        period; and (shortfall) the cumulative production not made on its day, in
        units, with its bands. Policy regimes are shaded by direction (tighter or easier
        than the regime before, for this manufacturer's licences) and labelled. With
        ``ax`` given: the fan chart only, P(shortage) on a right-hand axis.

        Args:
            manufacturer: Manufacturer id or name (default: the first).
            series: ``"shortfall_t"`` (t per operating day) or ``"inventory_t"`` (end of
                day, t).
            ax: Axes to draw into; default: a new figure.
            period: ``"W"`` (weeks, default), ``"M"`` (months) or ``"D"`` (days).
            samples: Sample paths to draw (replications 0, 1, …; default none).
            part: Part whose inventory to draw (multi-part lines; default the first).

        Returns:
            The figure.

        Raises:
            ValueError: Unknown manufacturer, part, series or period, or no manufacturers.
        """
        ens = self.ens
        if series not in ("shortfall_t", "inventory_t"):
            raise ValueError(f"series must be 'shortfall_t' or 'inventory_t', got {series!r}")
        j, m = find_manufacturer(ens, manufacturer)
        codes, edges = period_bins(ens.dates, period)
        k = len(edges) - 1
        mask = operating_days(ens)[:, j]
        agg = ens.agg
        if series == "shortfall_t":
            paths = agg.band_short[:, :, j].astype(float)
            mean_daily = agg.shortfall.mean()[:, j]
        else:
            bill = m.bill()
            names = [p.id for p in bill]
            if part is not None and part not in names:
                raise ValueError(f"unknown part {part!r} of {m.id}; known: {', '.join(names)}")
            first = sum(len(x.bill()) for x in ens.scenario.manufacturers[:j])
            pj = first + (names.index(part) if part is not None else 0)
            paths = agg.band_inv[:, :, pj].astype(float)
            mean_daily = agg.inventory.mean()[:, pj]
        per = _by_period(paths, mask, codes, k)  # (reps, periods)
        with warnings.catch_warnings():  # a period without an operating day: NaN, a gap
            warnings.simplefilter("ignore", RuntimeWarning)
            q = (
                quantiles(per, QUANTILES, axis=0, skip_nan=True)
                if len(per)
                else np.full((5, k), np.nan)
            )
        mean = _by_period(mean_daily, mask, codes, k)
        p_day = agg.short_count[:, j] / max(agg.n, 1)
        p_per = _by_period(p_day, mask, codes, k)
        regimes, directions = shared_regimes(self, m.id)
        start, end = horizon(ens)
        unit = PERIODS[period]
        blue = PALETTE["blue"]
        owned = ax is None
        with style():
            if owned:
                three = series == "shortfall_t"
                fig = new_figure((FIGSIZE[0], 7.6 if three else 6.2))
                ratios = [3.0, 1.0, 1.6] if three else [3.0, 1.0]
                axes = fig.subplots(
                    len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios}
                )
                main, pax = axes[0], axes[1]
                cax = axes[2] if three else None
            else:
                fig, main = new_axes(ax)
                pax = main.twinx()
                cax = None
            texts = shade_regimes(main, regimes, directions=directions)
            for a_ in (pax, cax):
                if owned and a_ is not None:
                    shade_regimes(a_, regimes, labels=False, directions=directions)
            _stairs_band(main, edges, q[0], q[4], color=blue, alpha=0.2, zorder=2)
            _stairs_band(main, edges, q[1], q[3], color=blue, alpha=0.42, zorder=2.1)
            handles: list[Any] = [
                Patch(facecolor=blue, alpha=0.2, label="5–95% of replications"),
                Patch(facecolor=blue, alpha=0.45, label="25–75%"),
            ]
            data_max = float(np.nanmax(q[4])) if np.isfinite(q[4]).any() else 0.0
            if samples > 0:
                sp = per[: int(samples)]
                for i, s in enumerate(sp):
                    main.stairs(
                        s,
                        edges,
                        color=PALETTE["grey"],
                        lw=0.7,
                        alpha=0.6,
                        zorder=2.5,
                        label="_sample" if i else "sample paths",
                        baseline=None,
                    )
                if len(sp):
                    handles.append(
                        Line2D(
                            [], [], color=PALETTE["grey"], lw=0.8, label=f"{len(sp)} sample paths"
                        )
                    )
            med = main.stairs(
                q[2], edges, color="#003F66", lw=2.0, zorder=3, label="median", baseline=None
            )
            mn = main.stairs(
                mean,
                edges,
                color=PALETTE["black"],
                lw=1.3,
                ls=(0, (4, 2)),
                zorder=3.1,
                label="mean",
                baseline=None,
            )
            handles += [
                Line2D([], [], color="#003F66", lw=2.0, label="median"),
                Line2D([], [], color=PALETTE["black"], lw=1.3, ls=(0, (4, 2)), label="mean"),
            ]
            del med, mn
            if np.isfinite(mean).any():
                data_max = max(data_max, float(np.nanmax(mean)))
            # P(shortage on an operating day), per period
            red = PALETTE["purple"]
            pv = 100.0 * np.nan_to_num(p_per)
            if owned:
                _stairs_band(pax, edges, np.zeros(k), pv, color=red, alpha=0.25, zorder=2)
                pax.stairs(pv, edges, color=red, lw=1.3, zorder=3)
                pax.set_ylim(0, 100)
                pax.set_yticks([0, 50, 100])
                pax.set_ylabel(f"P(shortage)\nper {unit}")
            else:
                pax.stairs(pv, edges, color=red, lw=1.0, alpha=0.85, zorder=3)
                pax.set_ylim(0, 100)
                pax.set_ylabel("P(shortage on an operating day) (%)", color=red)
                pax.tick_params(axis="y", colors=red)
                pax.grid(False)
            pax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
            handles.append(
                Patch(
                    facecolor=red,
                    alpha=0.35,
                    edgecolor=red,
                    label="P(shortage on an operating day)",
                )
            )
            if cax is not None:
                self._cumulative(cax, j, m)
                handles.append(
                    Patch(
                        facecolor=PALETTE["green"],
                        alpha=0.45,
                        label="cumulative shortfall, 5–95% / median",
                    )
                )
            handles += regime_handles(ens, regimes, directions=directions)
            days = "operating day" if m.operating_days == "weekdays" else "day"
            if series == "shortfall_t":
                what = f"shortfall per {days}, mean per {unit}"
                main.set_ylabel(f"shortfall (t per {days})")
            else:
                what = f"end-of-day inventory, mean per {unit}"
                main.set_ylabel("inventory (t)")
            who = m.name or m.id
            title = "\n".join(
                [
                    *textwrap.wrap(f"{who} — {what}", 95),
                    f"{ens.reps} replications of {ens.scenario.name}",
                ]
            )
            date_axis(main, start, end)
            if owned:
                for a_ in (pax, cax):
                    if a_ is not None:
                        date_axis(a_, start, end)
                for a_ in fig.axes[:-1]:
                    a_.tick_params(labelbottom=False)
                fig.axes[-1].set_xlabel("date")
                fig.suptitle(title)
                legend(fig, main, handles, owned=True, ncols=min(len(handles), 4))
                footer(fig, ens)
            else:
                main.set_xlabel("date")
                main.set_title(title)
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
            # a flat-zero curve gets the daily demand as its scale
            top = data_max if data_max > 0 else m.daily_demand_t()
            place_labels(fig, main, texts, lambda frac: headroom(main, top, frac))
        return fig

    def _cumulative(self, ax: Axes, j: int, m: Any) -> None:
        """Cumulative production not made on its day, units: bands and median."""
        ens = self.ens
        tpu = sum(p.kg_per_unit for p in m.bill()) / 1000.0
        paths = np.cumsum(ens.agg.band_short[:, :, j].astype(float), axis=1) / max(tpu, 1e-12)
        q = quantiles(paths, QUANTILES, axis=0) if len(paths) else np.zeros((5, 0))
        x = np.asarray(mdates.date2num((ens.dates + pd.Timedelta(days=1)).to_pydatetime()))
        orange = PALETTE["green"]
        if q.shape[1]:
            ax.fill_between(x, q[0], q[4], color=orange, alpha=0.25, lw=0, zorder=2)
            ax.fill_between(x, q[1], q[3], color=orange, alpha=0.45, lw=0, zorder=2.1)
            ax.plot(x, q[2], color="#00664A", lw=1.6, zorder=3)
            top = float(np.nanmax(q[4]))
            ax.set_ylim(0, top * 1.08 if top > 0 else 1.0)
        backlog = m.unmet_demand == "backlog"
        ax.set_ylabel("cumulative\nshortfall (units)" + ("\n(backlogged)" if backlog else ""))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _si(v)))

    def p_shortage_overview(self, period: str = "W", ax: Axes | None = None) -> Figure:
        """All manufacturers' probability of a shortage on one chart: per period, the
        share of (replication, operating day) pairs with a shortfall, one line per
        manufacturer; regimes shaded by direction.

        Args:
            period: ``"W"`` (weeks, default), ``"M"`` or ``"D"``.
            ax: Axes to draw into; default: a new figure.

        Returns:
            The figure.
        """
        ens = self.ens
        codes, edges = period_bins(ens.dates, period)
        k = len(edges) - 1
        ops = operating_days(ens)
        p = ens.agg.short_count / max(ens.agg.n, 1)
        regimes, directions = shared_regimes(self)
        start, end = horizon(ens)
        owned = ax is None
        with style():
            fig, ax = new_axes(ax)
            texts = shade_regimes(ax, regimes, directions=directions)
            handles: list[Any] = []
            n = len(SERIES_COLOURS)
            for j, m in enumerate(ens.scenario.manufacturers):
                pv = 100.0 * _by_period(p[:, j], ops[:, j], codes, k)
                colour = SERIES_COLOURS[j % n]
                ls = SERIES_DASHES[(j // n) % len(SERIES_DASHES)]
                ax.stairs(
                    np.nan_to_num(pv), edges, color=colour, ls=ls, lw=1.9, zorder=3, baseline=None
                )
                label = textwrap.shorten(m.name or m.id, 42, placeholder="…")
                handles.append(Line2D([], [], color=colour, ls=ls, lw=1.9, label=label))
            if not handles:
                ax.text(
                    0.5,
                    0.4,
                    "no manufacturers",
                    transform=ax.transAxes,
                    ha="center",
                    color=PALETTE["grey"],
                )
            handles += regime_handles(ens, regimes, directions=directions)
            date_axis(ax, start, end)
            ax.set_xlabel("date")
            ax.set_ylabel(f"P(shortage on an operating day), per {PERIODS[period]}")
            ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
            ax.set_title(
                f"Probability of a shortage, all manufacturers\n{ens.reps} replications of "
                f"{ens.scenario.name}"
            )
            legend(fig, ax, handles, owned, ncols=min(len(handles), 3))
            if owned:
                footer(fig, ens)
            ax.set_yticks([0, 25, 50, 75, 100])

            def fit(frac: float) -> None:
                ax.set_ylim(0, 100.0 / max(0.35, 1.0 - frac - 0.03))

            place_labels(fig, ax, texts, fit)
        return fig


def _si(v: float) -> str:
    """1,200 → 1.2k; 3,400,000 → 3.4M."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"
