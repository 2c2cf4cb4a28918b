"""Shared style and layout helpers of relsim's figures (matplotlib only, headless-safe).

Colours are the Okabe–Ito palette (colour-blind safe); policy regimes are shaded in
alternating light greys and labelled at the top of the time-series panels.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedFormatter, FixedLocator

from simulator.report.layout import LaidOutFigure, deferred, measure_renderer, one_pass

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import EnsembleResult

__all__ = [
    "DPI",
    "FIGSIZE",
    "PALETTE",
    "SERIES_COLOURS",
    "arrange_value_labels",
    "date_axis",
    "dest_styles",
    "find_manufacturer",
    "footer",
    "headroom",
    "horizon",
    "legend",
    "month_mid",
    "new_axes",
    "new_figure",
    "norm_key",
    "place_labels",
    "regime_directions",
    "regime_handles",
    "regime_note",
    "shade_regimes",
    "shared_regimes",
    "style",
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
#: Shading of a regime tighter / easier than the one before it (light vermillion and
#: light blue of the Okabe–Ito palette: told apart with any colour vision, and by the
#: ▲ / ▼ in their labels).
DIRECTION_SHADES: dict[str, str] = {"tighter": "#F7D9C6", "easier": "#D3E6F3"}
DIRECTION_MARKS: dict[str, str] = {"tighter": "▲ ", "easier": "▼ "}
REGIME_GID = "regime-span"
REGIME_LABEL_GID = "regime-label"
REGIME_LINE_GID = "regime-change"
FIGSIZE = (10.0, 5.5)
DPI = 150
"""Default resolution of saved raster figures (``--dpi``): 10 in wide = 1,500 px."""
FOOTER_GID = "relsim-footer"

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
def style() -> Iterator[None]:
    with mpl.rc_context(_STYLE):
        yield


def new_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: the caller's axes, or a new 10×5.5 in figure laid out
    in its one draw (:class:`~simulator.report.layout.OnePassLayout`)."""
    if ax is not None:
        parent = ax.figure  # a Figure, or a SubFigure whose .figure is the root Figure
        return parent.figure, ax  # type: ignore[return-value]
    fig = new_figure(FIGSIZE)
    return fig, fig.add_subplot()


def new_figure(figsize: tuple[float, float], dpi: float | None = None) -> Figure:
    """A new figure of relsim's own, laid out once, in the draw that saves it."""
    return LaidOutFigure(figsize=figsize, dpi=dpi)


def date_axis(ax: Axes, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Month ticks (concise labels: the year at January, else ``Feb``, ``Mar`` …) and
    limits ``[start, end]``.

    The ticks are fixed once (the months of the range, every 1, 2, 3 or 6 by length)
    with the labels Matplotlib's concise date formatter gives them, so drawing does not
    run a date rule per axis; a range with fewer than two month starts falls back to
    the concise formatter's own ticks.
    """
    months = max(1, round((end - start).days / 30.4))
    step = 1 if months <= 15 else 2 if months <= 30 else 3 if months <= 48 else 6
    first = pd.Timestamp(start.year, start.month, 1)
    ticks = [
        t for t in pd.date_range(first, end, freq="MS") if t >= start and (t.month - 1) % step == 0
    ]
    if len(ticks) >= 2:
        ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(ticks)))
        ax.xaxis.set_major_formatter(
            FixedFormatter([str(t.year) if t.month == 1 else t.strftime("%b") for t in ticks])
        )
    else:
        loc = mdates.MonthLocator(bymonth=range(1, 13, step))
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, show_offset=False))
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))


def horizon(ens: EnsembleResult) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(ens.scenario.start)
    return start, start + pd.Timedelta(days=ens.scenario.horizon_days)


def regime_note(ens: EnsembleResult) -> str:
    return " (replication 0)" if ens.scenario.policy.switching is not None else ""


def shade_regimes(
    ax: Axes,
    regimes: pd.DataFrame,
    *,
    labels: bool = True,
    lines: bool = True,
    directions: list[str] | None = None,
) -> list[Any]:
    """Shade each regime span, draw lines at changes, and add the regime labels at the
    top of ``ax`` (positions are fixed by :func:`place_labels`). With ``directions``
    (:func:`regime_directions`), a regime tighter than the one before is shaded light
    vermillion and marked ▲, an easier one light blue and marked ▼, others in
    alternating greys.

    Returns:
        The label texts (empty when ``labels`` is False).
    """
    texts = []
    trans = ax.get_xaxis_transform()
    rows = list(regimes.itertuples(index=False))
    x = [(mdates.date2num(r.start), mdates.date2num(r.end)) for r in rows]
    dirs = [
        directions[i] if directions is not None and i < len(directions) else ""
        for i in range(len(rows))
    ]
    # one collection of spans and one of change lines, in axes-height coordinates: few
    # artists to draw, and none takes part in autoscaling (the date axis sets x)
    if rows:
        ax.add_collection(
            PatchCollection(
                [Rectangle((x0, 0.0), x1 - x0, 1.0) for x0, x1 in x],
                facecolors=[
                    DIRECTION_SHADES.get(d, REGIME_SHADES[i % 2]) for i, d in enumerate(dirs)
                ],
                edgecolors="none",
                linewidths=0.0,
                transform=trans,
                zorder=0,
                gid=REGIME_GID,
            ),
            autolim=False,
        )
    if lines and len(rows) > 1:
        ax.add_collection(
            LineCollection(
                [[(x0, 0.0), (x0, 1.0)] for x0, _ in x[1:]],
                colors=PALETTE["grey"],
                linewidths=0.9,
                linestyles="--",
                transform=trans,
                zorder=1.5,
                gid=REGIME_LINE_GID,
            ),
            autolim=False,
        )
    for i, r in enumerate(rows):
        x0 = x[i][0]
        d = dirs[i]
        if labels:
            t = ax.text(
                x0,
                0.98,
                f" {DIRECTION_MARKS.get(d, '')}{r.label or r.regime}",
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


def place_labels(
    fig: Figure,
    ax: Axes,
    texts: list[Any],
    fit: Callable[[float], None] | None = None,
    max_rows: int = 7,
) -> None:
    """Stagger regime labels into rows so that none overlap, keeping them inside ``ax``.

    Labels are left-aligned at their regime's start. A label goes one row below every
    earlier label it would touch, so a cluster of quick changes reads as a staircase in
    date order. Labels that would need more than ``max_rows`` rows are hidden (the
    shading and change lines remain). The texts are measured on the renderer of the
    figure's one draw, once the axes have their final size
    (:func:`~simulator.report.layout.deferred`).

    Args:
        fig: The figure.
        ax: The axes the labels are in.
        texts: The labels (:func:`shade_regimes`).
        fit: Called with the fraction of the axes height (from the top) taken by the
            label rows, e.g. to set the y-range (:func:`headroom`); called before the
            layout too, with a first guess.
        max_rows: Rows at most.
    """
    if fit is not None:
        fit(0.015 + 0.06 * min(max_rows, max(1, len(texts))) if texts else 0.0)
    if not texts:
        return
    xs = [t.get_position()[0] for t in texts]

    def hook(renderer: RendererBase) -> None:
        for t, x in zip(texts, xs, strict=True):
            t.set_x(x)
            t.set_visible(True)
        frac = _stagger(ax, texts, renderer, max_rows)
        if fit is not None:
            fit(frac)

    deferred(fig, hook)


def _stagger(ax: Axes, texts: list[Any], renderer: RendererBase, max_rows: int) -> float:
    axbox = ax.get_window_extent()
    px = renderer.points_to_pixels(72.0) / 100.0  # a pixel at 100 dpi, in this draw's
    gap_px = 6.0 * px
    placed: list[tuple[float, float, int]] = []  # (left px, right px, row)
    height = 0.0
    inv = ax.transData.inverted()
    levels: list[int] = []
    for t in texts:
        bb = t.get_window_extent(renderer)
        height = max(height, bb.height)
        x0, w = bb.x0, bb.width
        if x0 + w > axbox.x1 - 2 * px:  # keep inside the axes on the right
            x0 = max(axbox.x0 + 2 * px, axbox.x1 - 2 * px - w)
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
    step = (height + 2.0 * px) / max(axbox.height, 1.0)
    for t, level in zip(texts, levels, strict=True):
        if level >= 0:
            t.set_y(0.985 - level * step)
    rows = 1 + max((r for *_, r in placed), default=0)
    return 0.015 + rows * step


def arrange_value_labels(fig: Figure, ax: Axes, anns: list[Any], lines_x: list[float]) -> None:
    """Put each value label right or left of its vertical line, on the first row where it
    crosses no other marked line and no earlier label (measured in the figure's draw,
    once the layout is final)."""

    def hook(renderer: RendererBase) -> None:
        axbox = ax.get_window_extent()
        xs = [float(ax.transData.transform((x, 0))[0]) for x in lines_x]
        to_pt = 1.0 / renderer.points_to_pixels(1.0)
        px = renderer.points_to_pixels(72.0) / 100.0  # a pixel at 100 dpi
        placed: list[tuple[float, float, int]] = []
        for ann in anns:
            own = float(ax.transData.transform((ann.xy[0], 0))[0])
            bb = ann.get_window_extent(renderer)
            w, h = bb.width + 4.0 * px, bb.height + 2.0 * px
            choice = None
            for row in range(3):
                for side in (1, -1):
                    x0, x1 = (
                        (own + 3 * px, own + 3 * px + w)
                        if side > 0
                        else (own - 3 * px - w, own - 3 * px)
                    )
                    if x0 < axbox.x0 or x1 > axbox.x1:
                        continue
                    if any(x0 - 2 * px < x < x1 + 2 * px for x in xs if abs(x - own) > 0.5):
                        continue
                    if any(r == row and x0 < b and x1 > a for a, b, r in placed):
                        continue
                    choice = (row, side, x0, x1)
                    break
                if choice:
                    break
            row, side, x0, x1 = choice or (len(placed), 1, own + 3 * px, own + 3 * px + w)
            placed.append((x0, x1, row))
            ann.xyann = (4 * side, -4 - row * h * to_pt)
            ann.set_horizontalalignment("left" if side > 0 else "right")

    deferred(fig, hook)


def headroom(ax: Axes, data_max: float, label_frac: float, bottom: float = 0.0) -> None:
    """Set the y-range so that ``data_max`` stays below the label rows."""
    if not math.isfinite(data_max) or data_max <= bottom:
        data_max = bottom + 1.0
    free = max(0.35, 1.0 - label_frac - 0.03)
    ax.set_ylim(bottom, bottom + (data_max - bottom) / free)


def regime_handles(
    ens: EnsembleResult,
    regimes: pd.DataFrame,
    which: str = "",
    directions: list[str] | None = None,
) -> list[Any]:
    """Legend entries for the regime shading and change lines (``which``: e.g. " (A)")."""
    if len(regimes) < 1:
        return []
    out: list[Any] = [
        Patch(
            facecolor=REGIME_SHADES[0],
            edgecolor="#BBBBBB",
            label=f"policy regimes{which}{regime_note(ens)}",
        )
    ]
    for d, text in (("tighter", "▲ tighter than before"), ("easier", "▼ easier than before")):
        if directions is not None and d in directions:
            out.append(Patch(facecolor=DIRECTION_SHADES[d], edgecolor="#BBBBBB", label=text))
    if len(regimes) > 1:
        out.append(
            Line2D([], [], color=PALETTE["grey"], lw=0.9, ls="--", label=f"regime change{which}")
        )
    return out


def find_manufacturer(ens: EnsembleResult, manufacturer: str | None) -> tuple[int, Any]:
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


def legend(fig: Figure, ax: Axes, handles: list[Any], owned: bool, ncols: int) -> None:
    """Legend below the axes (figure level) when we own the figure, in at most ``ncols``
    columns and as many rows as it takes to fit the figure's width; else to the right of
    the caller's ``ax``, so it never hides data or regime labels."""
    if owned:
        # as many columns as fit the figure's width: a legend is never clipped (measured
        # on a renderer of the figure's dpi, without drawing the figure)
        width = fig.bbox.width
        renderer = measure_renderer(fig.dpi)
        engine = one_pass(fig)
        for n in range(max(1, ncols), 0, -1):
            if engine is not None:
                leg = fig.legend(
                    handles=handles, loc="lower center", ncols=n, frameon=False, borderaxespad=0
                )
            else:
                leg = fig.legend(
                    handles=handles, loc="outside lower center", ncols=n, frameon=False
                )
            if n == 1 or leg.get_window_extent(renderer).width <= 0.97 * width:
                break
            leg.remove()
        if engine is not None:
            engine.set_bottom_legend(leg)
    else:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            fontsize=8,
            frameon=False,
        )


def dest_styles(ens: EnsembleResult) -> dict[str, tuple[str, Any]]:
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


def month_mid(months: pd.Series | list[Any]) -> np.ndarray:
    """Mid-month matplotlib date numbers for months (first days, or ``'YYYY-MM'``)."""
    ts = pd.PeriodIndex(pd.to_datetime(list(months)), freq="M").to_timestamp() + pd.Timedelta(
        days=14
    )
    return np.asarray(mdates.date2num(ts.to_pydatetime()))


def norm_key(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _effects(book: Any, regime: int, key: tuple[str, ...]) -> dict[str, float]:
    """Every effect that counts for tighter/easier (``tighter != 0`` in
    :data:`~simulator.world.codes.EFFECTS_TABLE`), as a number, in policy state ``regime``."""
    from simulator.world.codes import EFFECTS_TABLE

    r = book.resolve(regime, key)
    out: dict[str, float] = {}
    for e in EFFECTS_TABLE:
        if e.tighter == 0:
            continue
        v = book.capacity_factor[regime] if e.scope == "authority" else getattr(r, e.name)
        out[e.name] = e.magnitude(v)
    return out


def shared_regimes(plots: Any, manufacturer: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The ensemble's regimes (replication 0) and their :func:`regime_directions` (for
    ``manufacturer``, or all), computed once per plots object: the figures of a run
    directory share them. Treat them as read-only."""
    cache = plots.__dict__.setdefault("_shared", {})
    if "regimes" not in cache:
        cache["regimes"] = plots.ens.regimes()
    key = ("directions", manufacturer)
    if key not in cache:
        cache[key] = regime_directions(plots.ens.scenario, cache["regimes"], manufacturer)
    return cache["regimes"], cache[key]


def regime_directions(sc: Any, regimes: pd.DataFrame, manufacturer: str | None = None) -> list[str]:
    """Whether each regime in ``regimes`` is ``tighter`` or ``easier`` than the one
    before it ("" for the first, for no change, or for as many changes each way).

    Every effect a regime resolves to (:class:`~simulator.world.policy.PolicyBook`) is
    compared for the licences that matter: the manufacturer's (its destination, parts'
    materials, end use, licensed suppliers), or every manufacturer's and background
    stream's. Slower reviews, lower approval, more information requests, holds,
    parking, inspections, suspension, a licence newly required, lower priority or
    fewer reviewers count as tighter; the opposite as easier; the majority decides.
    """
    from simulator.world.codes import EFFECT_BY_NAME
    from simulator.world.policy import PolicyBook

    if len(regimes) == 0:
        return []
    book = PolicyBook(sc.policy, sc.authority)
    keys: list[tuple[str, ...]] = []
    exporters = {e.id: e for e in sc.exporters}
    for m in sc.manufacturers:
        if manufacturer is not None and m.id != manufacturer:
            continue
        for p in m.bill():
            for s in p.suppliers:
                ex = exporters.get(getattr(s, "exporter", ""))
                if ex is not None and getattr(ex, "licensed", True):
                    keys.append((m.country, p.material, m.end_use, ex.id, m.id))
    if manufacturer is None:
        keys += [
            (b.destination, b.product, b.end_use, b.exporter, "background")
            for b in sc.authority.background
        ]
    keys = list(dict.fromkeys(keys))
    out = [""]
    names = list(regimes["regime"])
    for prev, cur in itertools.pairwise(names):
        i, j = book.index.get(prev), book.index.get(cur)
        if i is None or j is None or not keys:
            out.append("")
            continue
        votes = 0
        for key in keys:
            a, b = _effects(book, i, key), _effects(book, j, key)
            for eff in a:
                votes += EFFECT_BY_NAME[eff].tighter * int(np.sign(b[eff] - a[eff]))
        out.append("tighter" if votes > 0 else "easier" if votes < 0 else "")
    return out


def footer(fig: Figure, ens: Any, source: str = "") -> Any:
    """Add the provenance footer to ``fig``: relsim's version, the scenario, seed,
    replications and the date the figure was made (and a data source); room for it is
    kept at the bottom by relsim's layout (or a constrained layout)."""
    import datetime as dt

    from simulator.version import __version__

    sc = ens.scenario
    left = (
        f"relsim {__version__} · {sc.name} · seed {ens.seed} · {ens.reps} replications · "
        f"made {dt.date.today().isoformat()}"
    )
    right = "source: relsim simulation" + (f"; observed: {source}" if source else "")
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "set"):
        with contextlib.suppress(TypeError, NotImplementedError):  # no rect: as it is
            engine.set(rect=(0, 0.035, 1, 0.965))
    kw: dict[str, Any] = {"fontsize": 7.5, "color": "#555555", "va": "bottom", "gid": FOOTER_GID}
    fig.text(0.005, 0.004, left, ha="left", **kw)
    return fig.text(0.995, 0.004, right, ha="right", **kw)
