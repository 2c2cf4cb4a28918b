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
    cmp = sim.compare(a, b, reps=200)
    cmp.plot.shortage_difference()                # paired B − A with 95% band
    save_figures(ens, Path("out/figures"))        # the PNGs of a run directory

Colours are the Okabe–Ito palette (colour-blind safe); policy regimes are shaded
in alternating light greys and labelled at the top of the time-series panels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

if TYPE_CHECKING:
    from simulator.ensemble import Comparison, EnsembleResult

__all__ = [
    "PALETTE",
    "ComparisonPlots",
    "EnsemblePlots",
    "load_observed_exports",
    "save_figures",
]

#: Okabe–Ito colour-blind-safe palette.
PALETTE: dict[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#666666",
}
#: Colour cycle for categorical series (destinations): Paul Tol's colour-blind-safe
#: "muted" scheme (nine colours, distinct from the Okabe–Ito blue used for totals and
#: the black of observed data). After nine, line styles change.
SERIES_COLOURS: tuple[str, ...] = (
    "#CC6677",  # rose
    "#117733",  # green
    "#332288",  # indigo
    "#DDAA33",  # sand (darkened for lines on white)
    "#882255",  # wine
    "#44AA99",  # teal
    "#88CCEE",  # cyan
    "#999933",  # olive
    "#AA4499",  # purple
)
SERIES_DASHES: tuple[Any, ...] = ("-", (0, (5, 2)), (0, (1.5, 1.5)), (0, (6, 2, 1.5, 2)))
REGIME_SHADES: tuple[str, str] = ("#E4E4E4", "#F6F6F6")
REGIME_GID = "regime-span"
REGIME_LABEL_GID = "regime-label"
REGIME_LINE_GID = "regime-change"
FIGSIZE = (10.0, 5.5)
DPI = 110

_STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.labelsize": 10.5,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "figure.titlesize": 12.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#B0B0B0",
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
}


# --------------------------------------------------------------------------- helpers
@contextmanager
def _style() -> Iterator[None]:
    with mpl.rc_context(_STYLE):
        yield


def _new_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: the caller's axes, or a new 10×5.5 in figure."""
    if ax is not None:
        parent = ax.figure  # a Figure, or a SubFigure whose .figure is the root Figure
        return parent.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    return fig, fig.add_subplot()


def _date_axis(ax: Axes, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Month ticks (concise labels: ``Jan\\n2025``, ``Feb`` …) and limits ``[start, end]``."""
    months = max(1, round((end - start).days / 30.4))
    step = 1 if months <= 15 else 2 if months <= 30 else 3 if months <= 48 else 6
    loc = mdates.MonthLocator(bymonth=range(1, 13, step))
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, show_offset=False))
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))


def _horizon(ens: EnsembleResult) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(ens.scenario.start)
    return start, start + pd.Timedelta(days=ens.scenario.horizon_days)


def _regime_note(ens: EnsembleResult) -> str:
    return " (replication 0)" if ens.scenario.policy.switching is not None else ""


def _shade_regimes(
    ax: Axes, regimes: pd.DataFrame, *, labels: bool = True, lines: bool = True
) -> list[Any]:
    """Shade each regime span (alternating greys), draw lines at changes, and add the
    regime labels at the top of ``ax`` (positions are fixed by :func:`_place_labels`).

    Returns:
        The label texts (empty when ``labels`` is False).
    """
    texts = []
    for i, r in enumerate(regimes.itertuples(index=False)):
        x0, x1 = mdates.date2num(r.start), mdates.date2num(r.end)
        ax.axvspan(
            x0, x1, facecolor=REGIME_SHADES[i % 2], edgecolor="none", zorder=0, gid=REGIME_GID
        )
        if lines and i > 0:
            ax.axvline(x0, color=PALETTE["grey"], lw=0.9, ls="--", zorder=1.5, gid=REGIME_LINE_GID)
        if labels:
            t = ax.text(
                x0,
                0.98,
                f" {r.label or r.regime}",
                transform=ax.get_xaxis_transform(),
                ha="left",
                va="top",
                fontsize=8.5,
                color="#333333",
                zorder=5,
                clip_on=False,
                gid=REGIME_LABEL_GID,
                bbox={
                    "boxstyle": "square,pad=0.15",
                    "facecolor": "white",
                    "edgecolor": "none",
                    "alpha": 0.75,
                },
            )
            texts.append(t)
    return texts


def _place_labels(fig: Figure, ax: Axes, texts: list[Any], max_rows: int = 7) -> float:
    """Stagger regime labels into rows so that none overlap, keeping them inside ``ax``.

    Labels are left-aligned at their regime's start. A label goes one row below every
    earlier label it would touch, so a cluster of quick changes reads as a staircase in
    date order. Labels that would need more than ``max_rows`` rows are hidden (the
    shading and change lines remain). Measures the texts after running the layout
    engine (no display needed).

    Returns:
        The fraction of the axes height (from the top) taken by the label rows.
    """
    if not texts:
        return 0.0
    fig.draw_without_rendering()
    axbox = ax.get_window_extent()
    gap_px = 6.0
    placed: list[tuple[float, float, int]] = []  # (left px, right px, row)
    height = 0.0
    inv = ax.transData.inverted()
    levels: list[int] = []
    for t in texts:
        bb = t.get_window_extent()
        height = max(height, bb.height)
        x0, w = bb.x0, bb.width
        if x0 + w > axbox.x1 - 2:  # keep inside the axes on the right
            x0 = max(axbox.x0 + 2, axbox.x1 - 2 - w)
            t.set_x(inv.transform((x0, axbox.y1))[0])
        x1 = x0 + w
        touching = [r for (a, b, r) in placed if x0 < b + gap_px and x1 + gap_px > a]
        level = max(touching) + 1 if touching else 0
        if level >= max_rows:
            t.set_visible(False)
            levels.append(-1)
            continue
        placed.append((x0, x1, level))
        levels.append(level)
    step = (height + 2.0) / max(axbox.height, 1.0)
    for t, level in zip(texts, levels, strict=True):
        if level >= 0:
            t.set_y(0.985 - level * step)
    rows = 1 + max((r for *_, r in placed), default=0)
    return 0.015 + rows * step


def _arrange_value_labels(fig: Figure, ax: Axes, anns: list[Any], lines_x: list[float]) -> None:
    """Put each value label right or left of its vertical line, on the first row where it
    crosses no other marked line and no earlier label (measured after layout)."""
    fig.draw_without_rendering()
    axbox = ax.get_window_extent()
    xs = [float(ax.transData.transform((x, 0))[0]) for x in lines_x]
    to_pt = 72.0 / fig.dpi
    placed: list[tuple[float, float, int]] = []
    for ann in anns:
        own = float(ax.transData.transform((ann.xy[0], 0))[0])
        bb = ann.get_window_extent()
        w, h = bb.width + 4.0, bb.height + 2.0
        choice = None
        for row in range(3):
            for side in (1, -1):
                x0, x1 = (own + 3, own + 3 + w) if side > 0 else (own - 3 - w, own - 3)
                if x0 < axbox.x0 or x1 > axbox.x1:
                    continue
                if any(x0 - 2 < x < x1 + 2 for x in xs if abs(x - own) > 0.5):
                    continue
                if any(r == row and x0 < b and x1 > a for a, b, r in placed):
                    continue
                choice = (row, side, x0, x1)
                break
            if choice:
                break
        row, side, x0, x1 = choice or (len(placed), 1, own + 3, own + 3 + w)
        placed.append((x0, x1, row))
        ann.xyann = (4 * side, -4 - row * h * to_pt)
        ann.set_horizontalalignment("left" if side > 0 else "right")


def _headroom(ax: Axes, data_max: float, label_frac: float, bottom: float = 0.0) -> None:
    """Set the y-range so that ``data_max`` stays below the label rows."""
    if not math.isfinite(data_max) or data_max <= bottom:
        data_max = bottom + 1.0
    free = max(0.35, 1.0 - label_frac - 0.03)
    ax.set_ylim(bottom, bottom + (data_max - bottom) / free)


def _regime_handles(ens: EnsembleResult, regimes: pd.DataFrame, which: str = "") -> list[Any]:
    """Legend entries for the regime shading and change lines (``which``: e.g. " (A)")."""
    if len(regimes) < 1:
        return []
    out: list[Any] = [
        Patch(
            facecolor=REGIME_SHADES[0],
            edgecolor="#BBBBBB",
            label=f"policy regimes{which}{_regime_note(ens)}",
        )
    ]
    if len(regimes) > 1:
        out.append(
            Line2D([], [], color=PALETTE["grey"], lw=0.9, ls="--", label=f"regime change{which}")
        )
    return out


def _find_manufacturer(ens: EnsembleResult, manufacturer: str | None) -> tuple[int, Any]:
    mfrs = ens.scenario.manufacturers
    if not mfrs:
        raise ValueError(f"scenario {ens.scenario.name!r} has no manufacturers to plot")
    if manufacturer is None:
        return 0, mfrs[0]
    for i, m in enumerate(mfrs):
        if manufacturer in (m.id, m.name):
            return i, m
    known = ", ".join(m.id for m in mfrs)
    raise ValueError(f"unknown manufacturer {manufacturer!r}; known: {known}")


def _legend(fig: Figure, ax: Axes, handles: list[Any], owned: bool, ncols: int) -> None:
    """Legend below the axes (figure level) when we own the figure; else to the right of
    the caller's ``ax``, so it never hides data or regime labels."""
    if owned:
        fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False)
    else:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            fontsize=8,
            frameon=False,
        )


def _dest_styles(ens: EnsembleResult) -> dict[str, tuple[str, Any]]:
    """``{country id: (colour, line style)}``, the same in every figure of a scenario.

    Only countries that receive anything (manufacturers, background streams, lanes) get a
    style, in the scenario's country order.
    """
    sc = ens.scenario
    used = (
        {m.country for m in sc.manufacturers}
        | {b.destination for b in sc.authority.background}
        | {lane.destination for lane in sc.lanes}
    )
    out: dict[str, tuple[str, Any]] = {}
    n = len(SERIES_COLOURS)
    for k, c in enumerate(c for c in sc.countries if c.id in used):
        out[c.id] = (SERIES_COLOURS[k % n], SERIES_DASHES[(k // n) % len(SERIES_DASHES)])
    return out


def _month_mid(months: pd.Series | list[str]) -> np.ndarray:
    """Mid-month matplotlib date numbers for ``'YYYY-MM'`` strings."""
    ts = pd.PeriodIndex(list(months), freq="M").to_timestamp() + pd.Timedelta(days=14)
    return np.asarray(mdates.date2num(ts.to_pydatetime()))


def _norm_key(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


# --------------------------------------------------------------------------- observed data
def load_observed_exports(path: str | Path) -> pd.DataFrame:
    """Read observed monthly exports (e.g. ``data/cn_magnet_exports.csv``).

    The CLI resolves ``Scenario.observed_exports`` against the scenario file's
    directory and calls this.

    Args:
        path: CSV with a ``month`` column (``YYYY-MM`` or any date in the month), a
            ``total_t`` column (tonnes per month) and optional per-destination columns
            ``<destination>_t`` (tonnes per month; blank = not reported). Other columns
            (e.g. ``quality``: ``reported``/``derived``, ``notes``) are kept.

    Returns:
        Frame sorted by month: ``month`` (``'YYYY-MM'`` str), ``total_t`` (float, t/month),
        per-destination ``*_t`` (float, NaN where missing), other columns unchanged;
        ``attrs["units"] = "t/month"`` and ``attrs["source"]``.

    Raises:
        ValueError: The file lacks ``month`` or ``total_t``, or a month is unreadable.
    """
    path = Path(path)
    df = pd.read_csv(path, dtype={"month": str}, comment=None)
    out = _normalise_observed(df, str(path))
    out.attrs["source"] = str(path)
    return out


def _normalise_observed(df: pd.DataFrame, where: str = "observed exports") -> pd.DataFrame:
    missing = [c for c in ("month", "total_t") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {', '.join(missing)}; need month,total_t"
            f" (have {', '.join(map(str, df.columns))})"
        )
    df = df.copy()
    try:
        df["month"] = pd.PeriodIndex(
            pd.to_datetime(df["month"].astype(str), format="mixed"), freq="M"
        ).astype(str)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{where}: unreadable month value ({e})") from None
    for c in df.columns:
        if c.endswith("_t"):
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df = df.sort_values("month", kind="stable").reset_index(drop=True)
    df.attrs["units"] = "t/month"
    return df


def _observed_frame(observed: pd.DataFrame | str | Path | None) -> pd.DataFrame | None:
    if observed is None:
        return None
    if isinstance(observed, pd.DataFrame):
        return _normalise_observed(observed)
    return load_observed_exports(observed)


# --------------------------------------------------------------------------- ensembles
class EnsemblePlots:
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
        j, m = _find_manufacturer(ens, manufacturer)
        b = ens.bands(series)
        b = b[b["entity"] == m.id]
        p = ens.p_shortage()
        p = p[p["manufacturer"] == m.id]
        regimes = ens.regimes()
        start, end = _horizon(ens)
        # values are for whole days: draw day d at its midday
        x = mdates.date2num(pd.DatetimeIndex(b["date"]).to_pydatetime()) + 0.5
        blue = PALETTE["blue"]
        with _style():
            owned = ax is None
            if owned:
                fig = Figure(figsize=FIGSIZE, layout="constrained")
                main, pax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3.2, 1]})
            else:
                fig, main = _new_axes(ax)
                pax = main.twinx()
            texts = _shade_regimes(main, regimes)
            if owned:
                _shade_regimes(pax, regimes, labels=False)
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
            handles += _regime_handles(ens, regimes)
            what = "daily shortfall" if series == "shortfall_t" else "end-of-day inventory"
            main.set_ylabel("shortfall (t/day)" if series == "shortfall_t" else "inventory (t)")
            who = m.name or m.id
            title = f"{who} — {what}, {ens.reps} replications ({ens.scenario.name})"
            _date_axis(main, start, end)
            if owned:
                _date_axis(pax, start, end)
                main.tick_params(labelbottom=False)
                pax.set_xlabel("date")
                fig.suptitle(title)
                _legend(fig, main, handles, owned=True, ncols=min(len(handles), 5))
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
            frac = _place_labels(fig, main, texts)
            # a flat-zero curve gets the daily demand as its scale
            _headroom(main, data_max if data_max > 0 else m.daily_demand_t(), frac)
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
        with _style():
            fig, ax = _new_axes(ax)
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
            _arrange_value_labels(fig, ax, anns, [med, p90] + ([limit] if limit else []))
        return fig

    # ------------------------------------------------------------------ exports
    def exports(
        self,
        observed: pd.DataFrame | str | Path | None = None,
        by_destination: bool = False,
        ax: Axes | None = None,
    ) -> Figure:
        """Monthly licensed exports: median and 5–95% band of the total, optionally the
        median per destination, with observed data overlaid.

        ``Scenario.observed_exports`` is relative to the scenario file, which the result
        does not know: pass ``load_observed_exports(path)`` (as the CLI does) or a path.

        Args:
            observed: Observed monthly exports (frame or CSV path, see
                :func:`load_observed_exports`); months outside the simulated horizon are
                not shown. Reported points are filled diamonds, ``quality == "derived"``
                hollow ones.
            by_destination: Also draw the median per destination (destinations with
                exports only) — in a second panel below the total when the figure is
                new, on the same axes when ``ax`` is given; observed ``<destination>_t``
                columns matching a country id or name are overlaid in the same colour.
            ax: Axes to draw into; default: a new figure.

        Returns:
            The figure.
        """
        ens = self.ens
        ex = ens.exports()
        obs = _observed_frame(observed)
        if obs is not None:
            obs = obs[obs["month"].isin(set(ex["month"]))]
        tot = ex[ex["destination"] == "ALL"]
        x = _month_mid(tot["month"])
        blue = PALETTE["blue"]
        start, end = _horizon(ens)
        owned = ax is None
        title = f"Monthly licensed exports, {ens.reps} replications ({ens.scenario.name})"
        with _style():
            if owned and by_destination:
                fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] + 1.5), layout="constrained")
                ax, dax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.25, 1]})
                fig.suptitle(title)
            else:
                fig, ax = _new_axes(ax)
                dax = ax
                ax.set_title(title)
            handles: list[Any] = []
            ax.fill_between(x, tot["p5"], tot["p95"], color=blue, alpha=0.2, lw=0)
            handles.append(Patch(facecolor=blue, alpha=0.2, label="simulated total, 5–95%"))
            (ln,) = ax.plot(
                x, tot["p50"], color=blue, lw=2.0, marker="o", ms=4, label="simulated total, median"
            )
            handles.append(ln)
            ymax = float(np.nanmax(tot["p95"])) if len(tot) else 0.0
            if obs is not None:
                ymax = max(ymax, self._observed_total(ax, obs, handles))
            dhandles: list[Any] = handles if dax is ax else []
            dmax = 0.0
            if by_destination:
                dmax = self._by_destination(dax, ex, obs, dhandles)
            _date_axis(ax, start, end)
            ax.set_ylim(0, max(ymax, dmax if dax is ax else 0.0, 1e-9) * 1.1)
            ax.set_ylabel("licensed exports (t/month)")
            if dax is not ax:
                _date_axis(dax, start, end)
                dax.set_ylim(0, max(dmax, 1e-9) * 1.1)
                dax.set_ylabel("by destination (t/month)")
                ax.tick_params(labelbottom=False)
                dax.set_xlabel("month")
                for a_, h_ in ((ax, handles), (dax, dhandles)):
                    a_.legend(
                        handles=h_,
                        loc="upper left",
                        bbox_to_anchor=(1.01, 1.0),
                        borderaxespad=0.0,
                        frameon=False,
                    )
            elif owned:
                ax.set_xlabel("month")
                ax.legend(
                    handles=handles,
                    loc="upper left",
                    bbox_to_anchor=(1.01, 1.0),
                    borderaxespad=0.0,
                    frameon=False,
                )
            else:
                ax.set_xlabel("month")
                _legend(fig, ax, handles, owned=False, ncols=1)
        return fig

    @staticmethod
    def _observed_total(ax: Axes, o: pd.DataFrame, handles: list[Any]) -> float:
        """Overlay observed totals (filled: reported, hollow: derived); returns their max."""
        derived = (
            (o["quality"].astype(str).str.lower() == "derived").to_numpy()
            if "quality" in o.columns
            else np.zeros(len(o), dtype=bool)
        )
        ok = o["total_t"].notna().to_numpy()
        if not ok.any():
            handles.append(
                Patch(
                    facecolor="none", edgecolor="none", label="observed: no months in the horizon"
                )
            )
            return 0.0
        ox = _month_mid(o["month"])
        y = o["total_t"].to_numpy(dtype=float)
        black = PALETTE["black"]
        ax.plot(ox[ok], y[ok], color=black, lw=1.0, zorder=4)
        rep, der = ok & ~derived, ok & derived
        ax.plot(ox[rep], y[rep], ls="none", marker="D", ms=6, color=black, zorder=5)
        ax.plot(ox[der], y[der], ls="none", marker="D", ms=6, mfc="white", mec=black, zorder=5)
        handles.append(
            Line2D(
                [],
                [],
                color=black,
                marker="D",
                ms=6,
                lw=1.0,
                label="observed total" + (" (reported)" if der.any() else ""),
            )
        )
        if der.any():
            handles.append(
                Line2D(
                    [],
                    [],
                    color=black,
                    marker="D",
                    ms=6,
                    mfc="white",
                    lw=0,
                    label="observed total (derived)",
                )
            )
        return float(np.nanmax(y[ok]))

    def _by_destination(
        self, ax: Axes, ex: pd.DataFrame, obs: pd.DataFrame | None, handles: list[Any]
    ) -> float:
        """Median exports per destination, with matching observed columns; returns max."""
        styles = _dest_styles(self.ens)
        countries = {c.id: c for c in self.ens.scenario.countries}
        ymax = 0.0
        any_obs = drawn = False
        for dest, g in ex[ex["destination"] != "ALL"].groupby("destination", sort=False):
            dest = str(dest)
            if not (g["p95"] > 0).any():
                continue
            col, ls = styles.get(dest, (PALETTE["grey"], "-"))
            gx = _month_mid(g["month"])
            (dl,) = ax.plot(gx, g["p50"], color=col, ls=ls, lw=1.5, marker="o", ms=3, label=dest)
            handles.append(dl)
            drawn = True
            ymax = max(ymax, float(g["p50"].max()))
            if obs is None or obs.empty:
                continue
            c = countries.get(dest)
            keys = {_norm_key(dest)} | ({_norm_key(c.name)} if c is not None and c.name else set())
            match = [
                cn
                for cn in obs.columns
                if cn.endswith("_t") and cn != "total_t" and _norm_key(cn[:-2]) in keys
            ]
            if not match:
                continue
            v = obs[match[0]].to_numpy(dtype=float)
            has = np.isfinite(v)
            if has.any():
                ax.plot(
                    _month_mid(obs["month"])[has],
                    v[has],
                    ls="none",
                    marker="D",
                    ms=6,
                    color=col,
                    mec=PALETTE["black"],
                    mew=0.7,
                    zorder=5,
                )
                ymax = max(ymax, float(v[has].max()))
                any_obs = True
        if drawn:
            handles.append(
                Line2D([], [], ls="-", marker="o", ms=3, color="0.4", label="simulated median")
            )
        if any_obs:
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="D",
                    ms=6,
                    color="0.6",
                    mec=PALETTE["black"],
                    mew=0.7,
                    label="observed (same colour)",
                )
            )
        return ymax

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
        start, end = _horizon(ens)
        styles = _dest_styles(ens)
        owned = ax is None
        with _style():
            fig, ax = _new_axes(ax)
            texts = _shade_regimes(ax, regimes)
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
            handles += _regime_handles(ens, regimes)
            _date_axis(ax, start, end)
            ax.set_xlabel("date")
            ax.set_ylabel("applications pending (count)")
            ax.set_title(
                f"Licence applications pending by destination (median), "
                f"{ens.reps} replications ({ens.scenario.name})"
            )
            _legend(fig, ax, handles, owned, ncols=min(len(handles), 7))
            frac = _place_labels(fig, ax, texts)
            _headroom(ax, data_max, frac)
        return fig


# --------------------------------------------------------------------------- comparisons


class ComparisonPlots:
    """Plots of a paired :class:`~simulator.ensemble.Comparison` (``cmp.plot``).

    Args:
        cmp: The comparison.
    """

    def __init__(self, cmp: Comparison) -> None:
        self.cmp = cmp

    def shortage_difference(
        self, manufacturer: str | None = None, ax: Axes | None = None
    ) -> Figure:
        """Paired mean difference B − A in daily shortfall with its 95% band.

        Args:
            manufacturer: Manufacturer id or name (default: the first).
            ax: Axes to draw into; default: a new figure.

        Returns:
            The figure (regimes of A shaded; B's regime changes dotted where they differ).

        Raises:
            ValueError: Unknown manufacturer, or the scenarios differ in horizon or
                manufacturers (no daily difference).
        """
        cmp = self.cmp
        a, b = cmp.a, cmp.b
        _, m = _find_manufacturer(a, manufacturer)
        d = cmp.diff_daily
        d = d[d["manufacturer"] == m.id]
        if d.empty:
            raise ValueError(
                "no daily difference: scenarios A and B must have the same "
                "horizon and manufacturers"
            )
        x = mdates.date2num(pd.DatetimeIndex(d["date"]).to_pydatetime()) + 0.5
        mean = d["diff_shortfall_t"].to_numpy(dtype=float)
        hw = d["half_width"].to_numpy(dtype=float)
        ra, rb = a.regimes(), b.regimes()
        start, end = _horizon(a)
        col = PALETTE["purple"]
        owned = ax is None
        with _style():
            fig, ax = _new_axes(ax)
            texts = _shade_regimes(ax, ra)
            (ln,) = ax.plot(
                x,
                mean,
                color="#8B3A6B",
                lw=1.6,
                zorder=3,
                drawstyle="steps-mid",
                label="mean difference B − A",
            )
            handles: list[Any] = [ln]
            band = np.isfinite(hw)
            if band.any():
                ax.fill_between(
                    x,
                    mean - hw,
                    mean + hw,
                    where=band,
                    color=col,
                    alpha=0.3,
                    lw=0,
                    zorder=2,
                    step="mid",
                )
                handles.append(Patch(facecolor=col, alpha=0.3, label="95% interval (paired)"))
            handles.append(
                ax.axhline(0, color=PALETTE["black"], lw=1.0, zorder=2.5, label="no difference")
            )
            handles += _regime_handles(a, ra, " (A)")
            changes_a = set(ra["start"].iloc[1:])
            extra_b = [t for t in rb["start"].iloc[1:] if t not in changes_a]
            for t in extra_b:
                ax.axvline(
                    mdates.date2num(t), color=PALETTE["vermillion"], lw=1.0, ls=":", zorder=1.6
                )
            if extra_b:
                handles.append(
                    Line2D(
                        [],
                        [],
                        color=PALETTE["vermillion"],
                        lw=1.0,
                        ls=":",
                        label="regime change (B only)",
                    )
                )
            _date_axis(ax, start, end)
            ax.set_xlabel("date")
            ax.set_ylabel("Δ shortfall, B − A (t/day)")
            who = m.name or m.id
            ax.set_title(
                f"{who} — daily shortfall, B − A\nB “{b.scenario.name}” − "
                f"A “{a.scenario.name}”, {a.reps} paired replications"
            )
            _legend(fig, ax, handles, owned, ncols=min(len(handles), 6))
            frac = _place_labels(fig, ax, texts)
            hwz = np.nan_to_num(hw)
            lo_v = float(min(np.nanmin(mean - hwz), 0.0))
            hi_v = float(max(np.nanmax(mean + hwz), 0.0))
            if hi_v - lo_v <= 0:
                lo_v, hi_v = -1.0, 1.0
            pad = 0.05 * (hi_v - lo_v)
            lo = lo_v - pad
            free = max(0.35, 1.0 - frac - 0.03)
            ax.set_ylim(lo, lo + (hi_v + pad - lo) / free)
        return fig


# --------------------------------------------------------------------------- files
def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", s) or "x"


def save_figures(
    ens: EnsembleResult,
    outdir: Path | str,
    observed: pd.DataFrame | str | Path | None = None,
    dpi: int = DPI,
) -> list[Path]:
    """Write the standard figures of a run directory as PNGs.

    Files: ``shortage_<manufacturer id>.png`` per manufacturer (none without
    manufacturers), ``licence_waits.png``, ``exports.png`` (with ``observed`` overlaid),
    ``backlog.png``.

    Args:
        ens: The ensemble.
        outdir: Directory (created if missing).
        observed: Observed monthly exports (frame or CSV path) for ``exports.png``.
        dpi: Resolution, dots per inch.

    Returns:
        The paths written, in the order above.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    plots = EnsemblePlots(ens)
    obs = _observed_frame(observed)
    jobs: list[tuple[str, Any]] = [
        (f"shortage_{_safe_name(m.id)}.png", lambda mid=m.id: plots.shortage_curve(mid))
        for m in ens.scenario.manufacturers
    ]
    jobs += [
        ("licence_waits.png", plots.licence_waits),
        ("exports.png", lambda: plots.exports(obs, by_destination=True)),
        ("backlog.png", plots.backlog),
    ]
    paths: list[Path] = []
    for name, make in jobs:
        fig = make()
        path = outdir / name
        try:
            fig.savefig(path, dpi=dpi)
        finally:
            _close(fig)
        paths.append(path)
    return paths


def _close(fig: Figure) -> None:
    """Release a figure (and drop it from pyplot if a caller registered it there)."""
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    fig.clear()
