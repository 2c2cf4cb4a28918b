"""The policy timeline figure: regimes and overlays over time, coloured by pace.

Each regime (in order of first appearance) and each overlay gets a row; its spans are
coloured by its *pace* against the authority's baseline
(:func:`simulator.world.effects.pace`: approvals per unit of time, a heuristic for
direction, not a model output) on a diverging scale: red slower, blue faster.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure

from simulator.report.layout import one_pass
from simulator.report.plot_style import DPI, date_axis, horizon, new_figure, style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from simulator.ensemble.results import EnsembleResult

__all__ = ["PACE_CMAP", "PolicyPlots", "differing_spans", "pace_colour", "policy_rows"]

PACE_CMAP = LinearSegmentedColormap.from_list(
    "relsim_pace", ["#B2182B", "#EF8A62", "#F7F7F7", "#67A9CF", "#2166AC"]
)
"""Diverging red (slower) – white (baseline) – blue (faster), colour-blind safe."""
_NORM = Normalize(vmin=-2.0, vmax=2.0)  # log2 of pace: ×1/4 .. ×4


def pace_colour(p: float) -> Any:
    """Colour of a pace (1 = baseline) on :data:`PACE_CMAP`."""
    return PACE_CMAP(_NORM(math.log2(max(p, 1e-9))))


def policy_rows(ens: EnsembleResult) -> list[dict[str, Any]]:
    """The rows of the policy timeline of replication 0: one per regime in order of first
    appearance, then one per overlay that was in force; each ``{"label", "kind"
    ("regime" | "dated" | "pulse"), "pace", "spans": [(start, end), …]}``."""
    from simulator.world.effects import policy_paces

    sc = ens.scenario
    paces, layer_paces = policy_paces(sc)
    rows: dict[tuple[str, Any], dict[str, Any]] = {}
    for r in ens.regimes().itertuples(index=False):
        row = rows.setdefault(
            ("regime", r.regime),
            {"label": r.label, "kind": "regime", "pace": paces[r.regime], "spans": []},
        )
        row["spans"].append((r.start, r.end))
    for o in ens.overlays().itertuples(index=False):
        row = rows.setdefault(
            ("overlay", o.overlay),
            {"label": o.label, "kind": o.kind, "pace": layer_paces[o.overlay], "spans": []},
        )
        row["spans"].append((o.start, o.end))
    return list(rows.values())


class PolicyPlots:
    """The policy timeline (mixed into ``ens.plot``)."""

    ens: EnsembleResult

    def policy_timeline(self, ax: Axes | None = None) -> Figure:
        """Regimes and overlays over time, coloured by their pace against the baseline
        (red: slow-down, blue: speed-up), with their labels and paces.

        Args:
            ax: Axes to draw into; default: a new figure sized to the number of rows.

        Returns:
            The figure. Stochastic regimes (switching) and pulses show replication 0.
        """
        ens = self.ens
        sc = ens.scenario
        rows = policy_rows(ens)
        start, end = horizon(ens)
        n = max(1, len(rows))
        stochastic = sc.policy.switching is not None or bool(sc.policy.pulses)
        with style():
            if ax is None:
                fig = new_figure((10.0, 1.9 + 0.36 * n), dpi=DPI)
                ax = fig.add_subplot()
            else:
                fig = ax.get_figure()  # type: ignore[assignment]
            engine = one_pass(fig)
            labels = []
            for y, row in enumerate(rows):
                colour = pace_colour(row["pace"])
                for s, e in row["spans"]:
                    x0, x1 = mdates.date2num(s), mdates.date2num(e)
                    ax.barh(
                        y,
                        x1 - x0,
                        left=x0,
                        height=0.7,
                        color=colour,
                        edgecolor="#444444",
                        lw=0.6,
                        hatch="//" if row["kind"] == "pulse" else None,
                        zorder=2,
                    )
                kind = {"regime": "", "dated": "overlay: ", "pulse": "pulse: "}[row["kind"]]
                labels.append(f"{kind}{row['label']}  ×{row['pace']:.2g}")
            if not rows:
                ax.text(0.5, 0.5, "no policy", transform=ax.transAxes, ha="center")
            n_regimes = sum(r["kind"] == "regime" for r in rows)
            if 0 < n_regimes < len(rows):
                ax.axhline(n_regimes - 0.5, color="#888888", lw=0.8, ls="--", zorder=1)
            ax.set_yticks(np.arange(len(rows)), labels)
            ax.set_ylim(len(rows) - 0.5, -0.5)
            ax.grid(axis="y", visible=False)
            date_axis(ax, start, end)
            ax.set_xlabel("date")
            title = f"Policy timeline — {sc.name}"
            if stochastic:
                title += " (stochastic: replication 0)"
            ax.set_title(title)
            sm = _mappable()
            if engine is not None:  # our figure: the colour bar is stacked by the layout
                cax = fig.add_axes((0.2, 0.05, 0.6, 0.02))
                engine.set_colorbar(cax, shrink=0.6, aspect=40)
                cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
            else:
                cb = fig.colorbar(
                    sm, ax=ax, orientation="horizontal", location="bottom", shrink=0.6, aspect=40
                )
            cb.set_ticks([-2, -1, 0, 1, 2], labels=["×¼", "×½", "×1", "×2", "×4"])
            cb.set_label(
                "pace vs the authority's baseline (approvals per unit of time; heuristic): "
                "red slower, blue faster",
                fontsize=9,
            )
        return fig


def _mappable() -> Any:
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=_NORM, cmap=PACE_CMAP)
    sm.set_array(np.array([]))
    return sm


def differing_spans(
    a_rows: list[dict[str, Any]], b_rows: list[dict[str, Any]], start: pd.Timestamp, days: int
) -> list[tuple[pd.Timestamp, pd.Timestamp, str, float]]:
    """Spans where B's policy (regime and overlays) differs from A's, with B's label
    there and its pace: ``[(start, end exclusive, label, pace), …]``."""

    def per_day(rows: list[dict[str, Any]]) -> tuple[list[tuple[str, ...]], list[float]]:
        keys: list[list[str]] = [[] for _ in range(days)]
        pace = [1.0] * days
        for row in rows:
            for s, e in row["spans"]:
                for d in range(max(0, (s - start).days), min(days, (e - start).days)):
                    keys[d].append(f"{row['kind']}:{row['label']}")
                    pace[d] *= row["pace"]
        return [tuple(sorted(k)) for k in keys], pace

    ka, _ = per_day(a_rows)
    kb, pb = per_day(b_rows)
    out: list[tuple[pd.Timestamp, pd.Timestamp, str, float]] = []
    d = 0
    while d < days:
        if ka[d] == kb[d]:
            d += 1
            continue
        e = d
        while e < days and ka[e] != kb[e] and kb[e] == kb[d]:
            e += 1
        only_b = [k.split(":", 1)[1] for k in kb[d] if k not in ka[d]]
        label = " + ".join(only_b) if only_b else "(A's policy removed)"
        out.append((start + pd.Timedelta(days=d), start + pd.Timedelta(days=e), label, pb[d]))
        d = e
    return out
