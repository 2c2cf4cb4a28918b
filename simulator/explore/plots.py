"""Figures of a sweep: stress-test maps, tornado charts, Sobol and Morris indices.

Every function returns a :class:`matplotlib.figure.Figure` (headless-safe, no pyplot
state), with one panel per manufacturer (or per entity asked for), units on every axis
and the number of replications per point in the title. :func:`write_figures` saves the
figures a sweep's design supports as PNGs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from simulator.report.plot_style import DPI, PALETTE, style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from simulator.explore.params import Param
    from simulator.explore.sweep import SweepResult

__all__ = ["KPI_LABELS", "SweepPlots", "kpi_label", "param_label", "write_figures"]

KPI_LABELS: dict[str, tuple[str, str]] = {
    "any_shortage": ("P(line stop)", ""),
    "lost_units": ("lost production", "units"),
    "shortfall_t": ("material short", "t"),
    "fill_rate": ("fill rate", "share of demand"),
    "shortage_days": ("shortage days", "days"),
    "days_to_first_shortage": ("days to first line stop", "days"),
    "days_to_recover": ("days to recover", "days"),
    "wait_wd_p50": ("median licence wait", "working days"),
    "wait_wd_p90": ("90th percentile licence wait", "working days"),
    "wait_wd_p95": ("95th percentile licence wait", "working days"),
    "wait_wd_mean": ("mean licence wait", "working days"),
    "share_over_limit": ("share over the statutory limit", "share"),
    "approval_rate": ("approval rate", "share"),
    "decided": ("decisions", "applications"),
}
"""Display name and unit of each KPI (definitions: :mod:`simulator.replication.kpis`)."""
_HIGHER_IS_BETTER = {"fill_rate", "approval_rate", "days_to_first_shortage"}
_SHARES = {"any_shortage", "fill_rate", "share_over_limit", "approval_rate"}
_MAX_ANNOTATED_CELLS = 144


def kpi_label(kpi: str) -> str:
    """``name (unit)`` of a KPI, e.g. ``P(line stop) (probability)``."""
    name, unit = KPI_LABELS.get(kpi, (kpi, ""))
    return f"{name} ({unit})" if unit else name


def param_label(p: Param) -> str:
    """Axis label of a parameter: its label or path, with a unit read from the path
    (``_days`` days, ``_wd`` working days, ``factor`` ×, …)."""
    parts = p.path.replace("[", ".").replace("]", "").split(".")
    last = parts[-1]
    if last in ("mean", "sd", "low", "high", "mode", "value") and len(parts) > 1:
        last = parts[-2]  # a distribution's parameter: the unit of the field holding it
    unit = ""
    if p.kind == "date":
        unit = "date"
    elif last.endswith("_days") or last == "days":
        unit = "days"
    elif last.endswith("_wd"):
        unit = "working days"
    elif "factor" in last:
        unit = "×"
    elif "probability" in last or last.endswith("_share"):
        unit = "probability"
    elif last.endswith("_t") or "tonnes" in last:
        unit = "t"
    elif last == "reviewers":
        unit = "reviewers"
    elif last.endswith("_per_wd"):
        unit = "per working day"
    name = p.label or p.path
    return f"{name} ({unit})" if unit and "(" not in name else name


def _fmt(kpi: str, v: float) -> str:
    if not math.isfinite(v):
        return "—"
    if kpi in _SHARES:
        return f"{100 * v:.0f}%"
    if abs(v) >= 10_000:
        return f"{v / 1000:,.0f}k"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _axis_values(p: Param, x: np.ndarray) -> np.ndarray:
    """Coordinates as plotted: dates as matplotlib day numbers."""
    if p.kind == "date":
        return np.asarray(x, dtype=float) - dt.date(1970, 1, 1).toordinal()
    return np.asarray(x, dtype=float)


def _date_axis(axis: Any, p: Param) -> None:
    if p.kind == "date":
        axis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
        axis.set_major_formatter(mdates.ConciseDateFormatter(axis.get_major_locator()))


def _panels(n: int, width: float = 4.6, height: float = 3.9) -> tuple[Figure, list[Axes]]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols + 1.4, height * rows + 1.3), layout="constrained")
    axes = list(np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _title(fig: Figure, res: SweepResult, what: str, note: str = "") -> None:
    name = res.scenario.name if res.scenario is not None else "model"
    fig.suptitle(f"{name}: {what}", fontweight="bold")
    sub = f"{res.design.kind} design, {res.design.n} points"
    if res.scenario is not None:
        sub += f" × {res.reps} replications (seed {res.seed}, common random numbers)"
    if note:
        sub += f"; {note}"
    import textwrap

    width = max(60, int(fig.get_figwidth() * 15))  # about 15 characters of 8.5 pt per inch
    sub = "\n".join(textwrap.fill(line, width) for line in sub.split("\n"))
    fig.supxlabel(sub, fontsize=8.5, color=PALETTE["grey"])


def _number_axis(axis: Any) -> None:
    """Tick labels of one style for the whole axis: thousands as ``k`` when the axis
    reaches 10,000, else plain numbers with separators; as many decimals as the view's
    span needs for neighbouring ticks to read differently (78.5k, not 78k twice)."""

    def fmt(v: float, _pos: Any = None) -> str:
        lo, hi = axis.get_view_interval()
        top = max(abs(lo), abs(hi))
        big = top >= 10_000
        step = abs(hi - lo) / 5 / (1000 if big else 1)  # about one tick's step
        digits = 0 if step <= 0 or step >= 1 else min(3, math.ceil(-math.log10(step)))
        if big:
            return f"{v / 1000:,.{digits}f}k" if v else "0"
        if top >= 100:
            return f"{v:,.{digits}f}"
        return f"{v:.3g}"

    axis.set_major_formatter(fmt)


class SweepPlots:
    """Figures of a :class:`~simulator.explore.sweep.SweepResult` (``result.plot``)."""

    def __init__(self, result: SweepResult) -> None:
        self.res = result

    def _entities(self, entities: Sequence[str] | str | None) -> list[str]:
        if isinstance(entities, str):
            return [entities]
        return list(entities) if entities else self.res.entities()

    def _param(self, path: str | None, default: int) -> Param:
        ps = self.res.params
        if path is None:
            return ps[default]
        for p in ps:
            if path in (p.path, p.label):
                return p
        raise KeyError(f"no swept parameter {path!r} (parameters: {', '.join(p.path for p in ps)})")

    # --------------------------------------------------------------------- stress map
    def stress_map(
        self,
        kpi: str = "any_shortage",
        entities: Sequence[str] | str | None = None,
        x: str | None = None,
        y: str | None = None,
    ) -> Figure:
        """A KPI's mean over two swept parameters, one panel per manufacturer.

        On a grid the cells are coloured and labelled; scattered designs (lhs, sobol, …)
        are drawn as coloured points. Parameters other than ``x`` and ``y`` are averaged
        over. A sweep of one parameter gives a line with its 95 % interval instead.

        Args:
            kpi: The KPI (default ``any_shortage``: P(line stop)).
            entities: Manufacturers (default: all of the scenario's).
            x: Parameter on the horizontal axis (default: the first).
            y: Parameter on the vertical axis (default: the second).
        """
        ents = self._entities(entities)
        px = self._param(x, 0)
        if len(self.res.params) == 1:
            return self._line(kpi, ents, px)
        py = self._param(y, 1 if px is self.res.params[0] else 0)
        tables = {e: self._cells(kpi, e, px, py) for e in ents}
        cmap = "YlOrRd_r" if kpi in _HIGHER_IS_BETTER else "YlOrRd"
        with style():
            fig, axes = _panels(len(ents), width=5.2)
            for ax, e in zip(axes, ents, strict=True):
                # each plant on its own colour scale: a plant whose KPI moves by 2 % is
                # not a flat colour beside one whose KPI moves by 200 %
                vals = tables[e]["mean"].to_numpy(float)
                finite = vals[np.isfinite(vals)]
                vmin = float(finite.min()) if finite.size else 0.0
                vmax = float(finite.max()) if finite.size else 1.0
                flat = not vmax > vmin
                if flat:
                    pad = 0.01 if kpi in _SHARES else max(1.0, abs(vmax) * 0.01)
                    vmin, vmax = vmin - pad, vmax + pad
                norm = Normalize(vmin, vmax)
                mappable = self._map_panel(ax, tables[e], px, py, kpi, cmap, norm)
                ax.set_title(
                    f"{e}"
                    + (f" ({_fmt(kpi, finite[0])} everywhere)" if flat and finite.size else "")
                )
                ax.set_xlabel(param_label(px))
                ax.set_ylabel(param_label(py))
                ax.grid(False)
                cb = fig.colorbar(mappable, ax=ax, shrink=0.9, pad=0.02)
                cb.set_label(kpi_label(kpi), fontsize=8)
                if kpi in _SHARES:
                    cb.ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
                else:
                    _number_axis(cb.ax.yaxis)
            others = [p.name for p in self.res.params if p is not px and p is not py]
            grid = all(_is_grid(t) for t in tables.values())
            if not others:
                note = "mean per point"
            elif grid:
                note = f"averaged over {', '.join(others)}"
            else:
                note = f"{', '.join(others)} vary from point to point"
            note = f"{note}; each panel on its own colour scale"
            if self.res.past_horizon:
                mark = "hatched cells" if grid else "points marked ×"
                note += (
                    f"; {mark}: the swept overlay runs past the end of the horizon there "
                    "(shortages after the end not counted)"
                )
            _title(fig, self.res, f"{KPI_LABELS.get(kpi, (kpi,))[0]}, stress-test map", note)
        return fig

    def _cells(self, kpi: str, entity: str, px: Param, py: Param) -> pd.DataFrame:
        d = self.res.design
        jx, jy = d.params.index(px), d.params.index(py)
        t = pd.DataFrame(
            {
                "x": d.coords[:, jx],
                "y": d.coords[:, jy],
                "mean": self.res.y(kpi, entity),
            }
        )
        return t.groupby(["x", "y"], as_index=False)["mean"].mean()

    def _late_cells(self, px: Param, py: Param) -> set[tuple[float, float]]:
        """The map's cells ``(x, y)`` holding a point at which a swept overlay runs past
        the end of the horizon."""
        d = self.res.design
        jx, jy = d.params.index(px), d.params.index(py)
        return {(d.coords[i, jx], d.coords[i, jy]) for i in self.res.past_horizon}

    def _map_panel(
        self, ax: Axes, t: pd.DataFrame, px: Param, py: Param, kpi: str, cmap: str, norm: Normalize
    ) -> Any:
        xs, ys = np.unique(t["x"]), np.unique(t["y"])
        full = _is_grid(t)
        X, Y = _axis_values(px, t["x"].to_numpy()), _axis_values(py, t["y"].to_numpy())
        late = self._late_cells(px, py)
        if full:
            # cells of one size whatever the spacing of the levels (a grid that includes
            # the scenario's own value, 2 between 1.75 and 2.5, would squeeze its column
            # and run its numbers into the next); the ticks name the levels
            grid = t.pivot(index="y", columns="x", values="mean").to_numpy(float)
            ex, ey = np.arange(len(xs) + 1) - 0.5, np.arange(len(ys) + 1) - 0.5
            m = ax.pcolormesh(ex, ey, np.ma.masked_invalid(grid), cmap=cmap, norm=norm)
            for ix, xv in enumerate(xs):
                for iy, yv in enumerate(ys):
                    if (xv, yv) in late:
                        ax.add_patch(
                            Rectangle(
                                (ix - 0.5, iy - 0.5),
                                1,
                                1,
                                fill=False,
                                hatch="///",
                                edgecolor=PALETTE["grey"],
                                linewidth=0,
                            )
                        )
            if grid.size <= _MAX_ANNOTATED_CELLS:
                cx, cy = np.arange(len(xs)), np.arange(len(ys))
                small = 7 if grid.size > 64 else 8.5
                for iy, yv in enumerate(cy):
                    for ix, xv in enumerate(cx):
                        v = grid[iy, ix]
                        dark = math.isfinite(v) and norm(v) > 0.6
                        ax.text(
                            xv,
                            yv,
                            _fmt(kpi, v),
                            ha="center",
                            va="center",
                            fontsize=small,
                            color="white" if dark else "black",
                        )
            ax.set_xlim(ex[0], ex[-1])
            ax.set_ylim(ey[0], ey[-1])
            _level_ticks(ax.xaxis, px, xs)
            _level_ticks(ax.yaxis, py, ys)
            return m
        else:
            m = ax.scatter(
                X, Y, c=t["mean"], cmap=cmap, norm=norm, s=28, edgecolors="0.3", linewidths=0.4
            )
            if late:
                on = np.array([(x, y) in late for x, y in zip(t["x"], t["y"], strict=True)])
                ax.scatter(X[on], Y[on], marker="x", s=40, c=PALETTE["grey"], linewidths=0.8)
        _date_axis(ax.xaxis, px)
        _date_axis(ax.yaxis, py)
        return m

    def _line(self, kpi: str, ents: list[str], px: Param) -> Figure:
        with style():
            fig, axes = _panels(len(ents))
            for ax, e in zip(axes, ents, strict=True):
                t = self.res.kpi(kpi, e).sort_values(px.path)
                xv = _axis_values(px, self.res.design.coords[t["point"].to_numpy(), 0])
                ax.plot(xv, t["mean"], color=PALETTE["blue"], marker="o", ms=3, label="mean")
                ax.fill_between(
                    xv,
                    t["ci_low"],
                    t["ci_high"],
                    color=PALETTE["sky"],
                    alpha=0.35,
                    label="95% interval",
                )
                ax.set_title(e)
                ax.set_xlabel(param_label(px))
                ax.set_ylabel(kpi_label(kpi))
                if kpi in _SHARES:
                    ax.set_ylim(-0.02, 1.02)
                _date_axis(ax.xaxis, px)
            axes[0].legend(loc="best")
            _title(fig, self.res, f"{KPI_LABELS.get(kpi, (kpi,))[0]} by {px.name}")
        return fig

    # --------------------------------------------------------------------- tornado
    def tornado(
        self, kpi: str = "any_shortage", entities: Sequence[str] | str | None = None
    ) -> Figure:
        """One-at-a-time swings of a KPI from the base point (``oat`` or ``grid``
        designs), largest on top, one panel per manufacturer."""
        ents = self._entities(entities)
        tables = {e: self.res.tornado(kpi, e) for e in ents}
        n_par = len(self.res.params)
        with style():
            fig, axes = _panels(len(ents), width=5.2, height=1.2 + 0.55 * n_par)
            for ax, e in zip(axes, ents, strict=True):
                t = tables[e].iloc[::-1].reset_index(drop=True)  # largest on top
                base = float(t["base"].iloc[0]) if len(t) else math.nan
                pos = np.arange(len(t))
                base_ci = float(t["base_ci"].iloc[0]) if len(t) and "base_ci" in t else math.nan
                if math.isfinite(base_ci) and base_ci > 0:
                    ax.axvspan(
                        base - base_ci,
                        base + base_ci,
                        color="0.85",
                        zorder=0,
                        label="base ± 95% Monte Carlo interval",
                    )
                for col, colour, tag, off in (
                    ("at_low", PALETTE["sky"], "low", 0.2),
                    ("at_high", PALETTE["vermillion"], "high", -0.2),
                ):
                    ax.barh(
                        pos + off,
                        t[col] - base,
                        left=base,
                        height=0.38,
                        color=colour,
                        label=f"parameter at its {tag} end",
                    )
                    err = t[f"{col}_ci"].to_numpy(float)
                    if np.isfinite(err).any() and np.nanmax(err) > 0:
                        ax.errorbar(
                            t[col],
                            pos + off,
                            xerr=np.nan_to_num(err),
                            fmt="none",
                            ecolor="0.2",
                            elinewidth=0.9,
                            capsize=2.5,
                            label="± 95% Monte Carlo interval" if tag == "high" else None,
                        )
                    for k, r in t.iterrows():
                        v = r[col]
                        if not math.isfinite(v):
                            continue
                        half = r.get(f"{col}_ci", 0.0)
                        half = half if isinstance(half, float) and math.isfinite(half) else 0.0
                        ax.annotate(
                            _value_text(r[tag]),
                            (v + half if v >= base else v - half, k + off),  # past its bar
                            xytext=(3 if v >= base else -3, 0),
                            textcoords="offset points",
                            ha="left" if v >= base else "right",
                            va="center",
                            fontsize=8,
                            color="0.15",
                        )
                ax.axvline(base, color="black", lw=1)
                ends = np.r_[t["at_low"].to_numpy(float), t["at_high"].to_numpy(float)]
                if len(t) and np.all(ends[np.isfinite(ends)] == base):
                    ax.text(
                        0.5,
                        0.5,
                        f"{_fmt(kpi, base)} at every end of every range",
                        transform=ax.transAxes,
                        ha="center",
                        va="center",
                        fontsize=9,
                        color="0.3",
                        bbox={"facecolor": "white", "edgecolor": "0.8", "pad": 3},
                    )
                    ax.set_xlim(base - 1, base + 1)
                    ax.set_xticks([base])
                labels = [
                    _wrap(x, 30) + ("\n(within noise)" if noisy else "")
                    for x, noisy in zip(
                        t["label"], t.get("within_noise", [False] * len(t)), strict=True
                    )
                ]
                ax.set_yticks(pos, labels)
                ax.set_xlabel(kpi_label(kpi))
                ax.set_title(f"{e} (base {_fmt(kpi, base)})")
                ax.use_sticky_edges = False
                ax.margins(x=0.25, y=0.08)
                flat = len(t) and np.all(ends[np.isfinite(ends)] == base)
                if flat:
                    ax.xaxis.set_major_formatter(lambda v, _: _fmt(kpi, v))
                elif kpi in _SHARES:
                    lo, hi = ax.get_xlim()
                    ax.set_xlim(max(lo, -0.15), min(hi, 1.15))
                    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
                else:
                    _number_axis(ax.xaxis)
                if not flat:
                    ax.xaxis.set_major_locator(MaxNLocator(5))
            handles, labels = axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside right upper", frameon=False)
            _title(
                fig,
                self.res,
                f"{KPI_LABELS.get(kpi, (kpi,))[0]}, one parameter at a time",
                "bars: mean at each end of a range (value at the bar), the others at the "
                "scenario's values;\n'within noise': the swing is within the ends' 95% "
                "Monte Carlo intervals",
            )
        return fig

    # --------------------------------------------------------------------- indices
    def sobol(
        self, kpi: str = "any_shortage", entities: Sequence[str] | str | None = None
    ) -> Figure:
        """First-order and total Sobol indices with 95 % intervals (``sobol`` designs)."""
        ents = self._entities(entities)
        tables = {e: self.res.sobol(kpi, e) for e in ents}
        with style():
            fig, axes = _panels(len(ents), width=5.0, height=1.4 + 0.5 * len(self.res.params))
            for ax, e in zip(axes, ents, strict=True):
                t = tables[e].iloc[::-1]
                pos = np.arange(len(t))
                ax.barh(
                    pos + 0.2,
                    t["S1"],
                    0.38,
                    xerr=t["S1_conf"],
                    color=PALETTE["blue"],
                    label="first order S1",
                    error_kw={"elinewidth": 0.8, "capsize": 2},
                )
                ax.barh(
                    pos - 0.2,
                    t["ST"],
                    0.38,
                    xerr=t["ST_conf"],
                    color=PALETTE["orange"],
                    label="total ST",
                    error_kw={"elinewidth": 0.8, "capsize": 2},
                )
                labels = [_wrap(self._param(p, 0).name, 30) for p in t["parameter"]]
                ax.set_yticks(pos, labels)
                ax.set_xlabel("share of the variance across points (index)")
                ax.set_xlim(min(-0.05, float(np.nanmin(t["S1"] - t["S1_conf"]))), 1.05)
                ax.axvline(0, color="black", lw=0.8)
                ax.set_title(e)
            handles, labels = axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside right upper", frameon=False)
            _title(
                fig,
                self.res,
                f"Sobol indices of {kpi_label(kpi)}",
                "whiskers: 95% bootstrap intervals",
            )
        return fig

    def morris(
        self, kpi: str = "any_shortage", entities: Sequence[str] | str | None = None
    ) -> Figure:
        """Morris screening: mean absolute elementary effect against its spread (``morris``
        designs); effects are per whole range of each parameter."""
        ents = self._entities(entities)
        tables = {e: self.res.morris(kpi, e) for e in ents}
        with style():
            fig, axes = _panels(len(ents))
            unit = KPI_LABELS.get(kpi, (kpi, ""))[1]
            unit = f" ({unit})" if unit else ""
            for ax, e in zip(axes, ents, strict=True):
                t = tables[e]
                ax.errorbar(
                    t["mu_star"],
                    t["sigma"],
                    xerr=t["mu_star_conf"],
                    fmt="o",
                    color=PALETTE["blue"],
                    ecolor="0.5",
                    elinewidth=0.8,
                    capsize=2,
                )
                for _, r in t.iterrows():
                    ax.annotate(
                        _wrap(self._param(r["parameter"], 0).name, 28),
                        (r["mu_star"], r["sigma"]),
                        xytext=(4, 3),
                        textcoords="offset points",
                        fontsize=8,
                    )
                xmax = float(np.nanmax(t["mu_star"] + t["mu_star_conf"].fillna(0)))
                ymax = float(np.nanmax(t["sigma"]))
                ax.set_xlim(0, 1.45 * xmax if xmax > 0 else 1.0)
                ax.set_ylim(0, 1.3 * ymax if ymax > 0 else 1.0)
                ax.set_xlabel(f"μ*, mean |effect| over a range{unit}")
                ax.set_ylabel(f"σ, spread of the effects{unit}")
                _number_axis(ax.xaxis)
                _number_axis(ax.yaxis)
                ax.set_title(e)
            _title(
                fig,
                self.res,
                f"Morris screening of {kpi_label(kpi)}",
                "right: matters more; up: non-linear or interacting",
            )
        return fig


def _is_grid(t: pd.DataFrame) -> bool:
    """Whether cells ``(x, y)`` cover every combination of their x and y values."""
    nx, ny = t["x"].nunique(), t["y"].nunique()
    return len(t) == nx * ny and nx > 1 and ny > 1


def _level_ticks(axis: Any, p: Param, levels: np.ndarray, most: int = 12) -> None:
    """Ticks at the cells' centres (cell *i* centred on *i*), labelled with the levels;
    with more than ``most`` levels, every ``⌈n / most⌉``-th is labelled."""
    every = max(1, math.ceil(len(levels) / most))
    pos = np.arange(0, len(levels), every)
    axis.set_ticks(pos, [_value_text(p.value(levels[i])) for i in pos])


def _value_text(v: Any) -> str:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _wrap(text: str, width: int = 22) -> str:
    """Break a long label at dots/spaces so that tick labels stay narrow."""
    if len(text) <= width:
        return text
    out, line = [], ""
    for part in text.replace(" ", " \x00").replace(".", ".\x00").split("\x00"):
        if line and len(line) + len(part) > width:
            out.append(line.rstrip())
            line = ""
        line += part
    out.append(line.rstrip())
    return "\n".join(out)


def write_figures(res: SweepResult, folder: Path, kpis: Sequence[str]) -> list[Path]:
    """Save every figure the design supports, for each KPI, as PNG in ``folder``:
    ``stress_<kpi>.png`` (all but oat), ``tornado_<kpi>.png`` (oat, grid),
    ``sobol_<kpi>.png`` or ``morris_<kpi>.png``. A figure whose KPI is undefined somewhere
    is skipped.

    Returns:
        The files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    plots = res.plot
    kinds = [] if res.design.kind == "oat" else ["stress"]  # oat: one axis at a time, no map
    if res.design.base is not None:
        kinds.append("tornado")
    if res.design.kind in ("sobol", "morris"):
        kinds.append(res.design.kind)
    present = set(res.frame["kpi"])
    for kpi in kpis:
        if kpi not in present:
            continue
        for kind in kinds:
            method = {"stress": plots.stress_map}.get(kind) or getattr(plots, kind)
            try:
                fig = method(kpi)
            except ValueError:  # undefined at some points (e.g. never short): nothing to draw
                continue
            path = folder / f"{kind}_{kpi}.png"
            fig.savefig(path, dpi=DPI)
            written.append(path)
    return written
