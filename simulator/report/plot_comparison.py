"""Figures of a paired comparison (``cmp.plot``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import Comparison

from simulator.report.plot_style import (
    PALETTE,
    date_axis,
    find_manufacturer,
    horizon,
    legend,
    new_axes,
    place_labels,
    regime_handles,
    shade_regimes,
    style,
)

__all__ = ["ComparisonPlots"]


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
        _, m = find_manufacturer(a, manufacturer)
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
        start, end = horizon(a)
        col = PALETTE["purple"]
        owned = ax is None
        with style():
            fig, ax = new_axes(ax)
            texts = shade_regimes(ax, ra)
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
            handles += regime_handles(a, ra, " (A)")
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
            date_axis(ax, start, end)
            ax.set_xlabel("date")
            ax.set_ylabel("Δ shortfall, B − A (t/day)")
            who = m.name or m.id
            ax.set_title(
                f"{who} — daily shortfall, B − A\nB “{b.scenario.name}” − "
                f"A “{a.scenario.name}”, {a.reps} paired replications"
            )
            legend(fig, ax, handles, owned, ncols=min(len(handles), 6))
            frac = place_labels(fig, ax, texts)
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
