"""The monthly exports figure: simulated totals and destinations against observed data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import EnsembleResult

from simulator.report.observed import observed_frame
from simulator.report.plot_style import (
    FIGSIZE,
    PALETTE,
    date_axis,
    dest_styles,
    footer,
    horizon,
    legend,
    month_mid,
    new_axes,
    new_figure,
    norm_key,
    style,
)

__all__ = ["ExportsPlots"]


class ExportsPlots:
    """The exports figure of :class:`~simulator.report.plots.EnsemblePlots` (a mixin: the
    subclass sets ``self.ens``)."""

    ens: EnsembleResult

    def arrivals(self, by_destination: bool = True, ax: Axes | None = None) -> Figure:
        """Monthly arrivals of Chinese exports at their destinations: median and 5–95%
        band of the total, and the median per destination (no observed data exist).

        Args:
            by_destination: Also draw the median per destination (see :meth:`exports`).
            ax: Axes to draw into; default: a new figure.

        Returns:
            The figure.
        """
        return self._flows(None, by_destination, ax, arrivals=True)

    def exports(
        self,
        observed: pd.DataFrame | str | Path | None = None,
        by_destination: bool = False,
        ax: Axes | None = None,
    ) -> Figure:
        """Monthly exports through Chinese customs (counted at departure, the customs
        export date): median and 5–95% band of the total, optionally the median per
        destination, with observed data overlaid.

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
        return self._flows(observed, by_destination, ax, arrivals=False)

    def _flows(
        self,
        observed: pd.DataFrame | str | Path | None,
        by_destination: bool,
        ax: Axes | None,
        arrivals: bool,
    ) -> Figure:
        ens = self.ens
        ex = ens.arrivals() if arrivals else ens.exports()
        tot = ens.arrivals_total() if arrivals else ens.exports_total()
        what = "arrivals" if arrivals else "exports"
        obs = observed_frame(observed)
        if obs is not None:
            obs = obs[obs["month"].isin(set(ex["month"]))]
        x = month_mid(tot["month"])
        blue = PALETTE["blue"]
        start, end = horizon(ens)
        owned = ax is None
        title = (
            f"Monthly {'arrivals of Chinese exports' if arrivals else 'exports at Chinese customs'}"
            f", {ens.reps} replications ({ens.scenario.name})"
        )
        with style():
            if owned and by_destination:
                fig = new_figure((FIGSIZE[0], FIGSIZE[1] + 1.5))
                ax, dax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.25, 1]})
                fig.suptitle(title)
            else:
                fig, ax = new_axes(ax)
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
            date_axis(ax, start, end)
            ax.set_ylim(0, max(ymax, dmax if dax is ax else 0.0, 1e-9) * 1.1)
            ax.set_ylabel(f"{what} (t/month)")
            if dax is not ax:
                date_axis(dax, start, end)
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
                legend(fig, ax, handles, owned=False, ncols=1)
            if owned:
                src = str((obs.attrs.get("source") if obs is not None else "") or "")
                footer(fig, ens, source=Path(src).name if src else "")
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
        ox = month_mid(o["month"])
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
        styles = dest_styles(self.ens)
        countries = {c.id: c for c in self.ens.scenario.countries}
        ymax = 0.0
        any_obs = drawn = False
        for dest, g in ex.groupby("destination", sort=False):
            dest = str(dest)
            if not (g["p95"] > 0).any():
                continue
            col, ls = styles.get(dest, (PALETTE["grey"], "-"))
            gx = month_mid(g["month"])
            (dl,) = ax.plot(gx, g["p50"], color=col, ls=ls, lw=1.5, marker="o", ms=3, label=dest)
            handles.append(dl)
            drawn = True
            ymax = max(ymax, float(g["p50"].max()))
            if obs is None or obs.empty:
                continue
            c = countries.get(dest)
            keys = {norm_key(dest)} | ({norm_key(c.name)} if c is not None and c.name else set())
            match = [
                cn
                for cn in obs.columns
                if cn.endswith("_t") and cn != "total_t" and norm_key(cn[:-2]) in keys
            ]
            if not match:
                continue
            v = obs[match[0]].to_numpy(dtype=float)
            has = np.isfinite(v)
            if has.any():
                ax.plot(
                    month_mid(obs["month"])[has],
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
