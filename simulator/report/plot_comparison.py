"""Figures of a paired comparison (``cmp.plot``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import Comparison

from simulator.report.plot_style import (
    PALETTE,
    date_axis,
    find_manufacturer,
    footer,
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
            The figure: A's regimes shaded grey; where B's policy (regime or overlays)
            differs from A's, hatched in vermillion with B's label in the legend.

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
        ra = a.regimes()
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
            handles += _shade_b_policy(ax, cmp)
            date_axis(ax, start, end)
            ax.set_xlabel("date")
            ax.set_ylabel("Δ shortfall, B − A (t/day)")
            who = m.name or m.id
            ax.set_title(
                f"{who} — daily shortfall, B − A\nB “{b.scenario.name}” − "
                f"A “{a.scenario.name}”, {a.reps} paired replications"
            )
            legend(fig, ax, handles, owned, ncols=min(len(handles), 6))
            if owned:
                footer(fig, b)
            hwz = np.nan_to_num(hw)
            lo_v = float(min(np.nanmin(mean - hwz), 0.0))
            hi_v = float(max(np.nanmax(mean + hwz), 0.0))
            if hi_v - lo_v <= 0:
                lo_v, hi_v = -1.0, 1.0
            pad = 0.05 * (hi_v - lo_v)
            lo = lo_v - pad

            def fit(frac: float) -> None:
                ax.set_ylim(lo, lo + (hi_v + pad - lo) / max(0.35, 1.0 - frac - 0.03))

            place_labels(fig, ax, texts, fit)
        return fig


def _shade_b_policy(ax: Axes, cmp: Comparison) -> list[Any]:
    """Hatch the spans where B's regimes or overlays differ from A's; legend entries
    name B's policy there (at most six distinct labels, the rest summarised)."""
    from simulator.report.plot_policy import differing_spans, policy_rows

    a, b = cmp.a, cmp.b
    start, _ = horizon(a)
    spans = differing_spans(policy_rows(a), policy_rows(b), start, a.scenario.horizon_days)
    col = PALETTE["vermillion"]
    labels: list[str] = []
    for s, e, label, _pace in spans:
        ax.axvspan(
            mdates.date2num(s),
            mdates.date2num(e),
            facecolor="none",
            edgecolor=col,
            hatch="///",
            lw=0.0,
            alpha=0.45,
            zorder=0.5,
        )
        if label not in labels:
            labels.append(label)
    shown = labels[:6]
    if len(labels) > 6:
        shown.append(f"… {len(labels) - 6} more")
    return [
        Patch(facecolor="none", edgecolor=col, hatch="///", alpha=0.6, label=f"B's own: {lab}")
        for lab in shown
    ]
