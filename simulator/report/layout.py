"""One-pass layout of relsim's own figures: margins from measured extents, one draw.

Matplotlib's constrained layout solves the layout twice per draw, and relsim's label
placement used to draw a figure to measure its texts: a figure of a run directory was
drawn three or four times before it was saved. :class:`OnePassLayout` instead runs once,
inside the one draw of ``savefig``: it measures each axes' decorations (tick labels, axis
labels, titles, legends beside the axes) on the renderer that is about to draw, stacks
the footer, a figure legend and a colour bar at the bottom and a suptitle at the top,
sets the subplot parameters, and runs the figure's placement hooks (regime label rows,
value labels) with the final positions. Text extents are measured, not estimated, so
nothing is clipped and labels do not overlap at any dpi.

It is not a Matplotlib layout engine: ``savefig`` runs an engine in a draw of its own
before the draw that renders. :class:`LaidOutFigure` runs it at the start of its
``draw`` instead, so saving a figure draws it exactly once.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure

__all__ = ["LaidOutFigure", "OnePassLayout", "deferred", "measure_renderer", "one_pass"]

Hook = Callable[[RendererBase], None]

PAD_PT = 5.0
"""Gap between stacked elements and around the figure's edge, points."""


class OnePassLayout:
    """A layout engine for a figure of stacked subplots (one column of a GridSpec)
    with an optional suptitle, figure legend below, colour bar and footer.

    Register with :meth:`add_hook` what must be placed once the axes have their final
    position (it receives the renderer that draws); :meth:`set_bottom_legend` and
    :meth:`set_colorbar` name the figure legend and the colour bar axes to stack below
    the subplots.
    """

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self.bottom_legend: Any = None
        self.colorbar: tuple[Axes, float, float] | None = None

    def add_hook(self, hook: Hook) -> None:
        """Run ``hook(renderer)`` once the axes have their final position."""
        self.hooks.append(hook)

    def set_bottom_legend(self, leg: Any) -> None:
        """Stack ``leg`` (a figure legend) centred below the subplots, above the footer."""
        self.bottom_legend = leg

    def set_colorbar(self, cax: Axes, shrink: float = 0.6, aspect: float = 40.0) -> None:
        """Stack the colour bar axes ``cax`` (horizontal) below the subplots, centred,
        ``shrink`` of their width and ``1/aspect`` of that high."""
        self.colorbar = (cax, shrink, aspect)

    # ------------------------------------------------------------------ the layout
    def execute(self, fig: Figure, r: RendererBase) -> None:
        """Lay ``fig`` out for the renderer ``r`` that is about to draw it."""
        W, H = fig.bbox.width, fig.bbox.height
        pad = PAD_PT * fig.dpi / 72.0
        grid = [a for a in fig.axes if a.get_subplotspec() is not None and a.get_visible()]
        if not grid:
            for hook in self.hooks:
                hook(r)
            return
        gs = grid[0].get_subplotspec().get_topmost_subplotspec().get_gridspec()
        nrows, ncols = gs.get_geometry()

        # bottom stack: footer, figure legend, colour bar (its ticks and label below it)
        bottom = pad
        foot = [t for t in fig.texts if t.get_gid() == "relsim-footer" and t.get_visible()]
        if foot:
            bottom = max(t.get_window_extent(r).y1 for t in foot) + pad
        if self.bottom_legend is not None:
            leg = self.bottom_legend
            leg.set_bbox_to_anchor((0.5, bottom / H), transform=fig.transFigure)
            bottom += leg.get_window_extent(r).height + pad
        cb_box: tuple[float, float] | None = None
        if self.colorbar is not None:
            cax, _, _ = self.colorbar
            cax.set_position((0.2, 0.5, 0.6, 0.02))
            tb = cax.get_tightbbox(r, for_layout_only=True)
            below = cax.bbox.y0 - tb.y0 if tb is not None else 0.0
            cb_h = max(4.0, 0.14 * fig.dpi)
            cb_box = (bottom + below, cb_h)
            bottom += below + cb_h + 2 * pad
        top = H - pad
        sup = fig._suptitle
        if sup is not None and sup.get_visible() and sup.get_text():
            sup.set_y(1.0 - pad / H)
            sup.set_verticalalignment("top")
            top -= sup.get_window_extent(r).height + pad

        # first guess of the margins, then measure the axes' decorations there
        pars = {"left": 0.08, "right": 0.97, "bottom": bottom / H, "top": top / H}
        self._apply(fig, grid, pars, hspace=0.1, wspace=0.1, cb=cb_box)
        for hook in self.hooks:
            hook(r)
        over = {a: _overhang(a, r) for a in grid}

        def edge(side: str, pick: Callable[[Any], bool]) -> float:
            return max((over[a][side] for a in grid if pick(a.get_subplotspec())), default=0.0)

        left = edge("left", lambda s: s.colspan.start == 0) + pad
        right = edge("right", lambda s: s.colspan.stop == ncols) + pad
        top_deco = edge("top", lambda s: s.rowspan.start == 0)
        bot_deco = edge("bottom", lambda s: s.rowspan.stop == nrows)
        # gaps between rows and columns: the larger decoration pair, plus a pad
        vgap = max(
            (over[a]["bottom"] + over[b]["top"] for a in grid for b in grid if _below(a, b)),
            default=0.0,
        )
        hgap = max(
            (over[a]["right"] + over[b]["left"] for a in grid for b in grid if _left_of(a, b)),
            default=0.0,
        )
        pars = {
            "left": left / W,
            "right": 1.0 - right / W,
            "bottom": (bottom + bot_deco) / H,
            "top": (top - top_deco - pad * 0.5) / H,
        }
        if pars["right"] - pars["left"] < 0.2:  # absurd decorations: keep a usable plot
            pars["left"], pars["right"] = 0.1, 0.9
        if pars["top"] - pars["bottom"] < 0.2:
            pars["bottom"], pars["top"] = 0.1, 0.9
        ah = (pars["top"] - pars["bottom"]) * H
        aw = (pars["right"] - pars["left"]) * W
        gap_h = vgap + pad if nrows > 1 else 0.0
        gap_w = hgap + 2 * pad if ncols > 1 else 0.0
        hspace = gap_h / max((ah - (nrows - 1) * gap_h) / nrows, 1.0)
        wspace = gap_w / max((aw - (ncols - 1) * gap_w) / ncols, 1.0)
        self._apply(fig, grid, pars, hspace=hspace, wspace=wspace, cb=cb_box)
        # placement with the final positions (it may set y-limits: new tick labels)
        for hook in self.hooks:
            hook(r)
        if self.hooks:
            need = max(
                (
                    a.bbox.x0 - a.yaxis.get_tightbbox(r).x0
                    for a in grid
                    if a.get_subplotspec().colspan.start == 0 and a.yaxis.get_visible()
                ),
                default=0.0,
            )
            if need + pad > left + 0.5:
                pars["left"] = (need + pad) / W
                self._apply(fig, grid, pars, hspace=hspace, wspace=wspace, cb=cb_box)
                for hook in self.hooks:
                    hook(r)

    def _apply(
        self,
        fig: Figure,
        grid: list[Axes],
        pars: dict[str, float],
        hspace: float,
        wspace: float,
        cb: tuple[float, float] | None,
    ) -> None:
        fig.subplotpars.update(hspace=hspace, wspace=wspace, **pars)
        for a in grid:
            a._set_position(a.get_subplotspec().get_position(fig))
        if cb is not None and self.colorbar is not None:
            cax, shrink, _aspect = self.colorbar
            H = fig.bbox.height
            width = (pars["right"] - pars["left"]) * shrink
            x0 = pars["left"] + 0.5 * (pars["right"] - pars["left"]) * (1 - shrink)
            cax.set_position((x0, cb[0] / H, width, cb[1] / H))


def _overhang(a: Axes, r: RendererBase) -> dict[str, float]:
    """How far ``a``'s decorations reach beyond its frame on each side, pixels."""
    tb = a.get_tightbbox(r, for_layout_only=True)
    bb = a.bbox
    if tb is None:
        return {"left": 0.0, "right": 0.0, "top": 0.0, "bottom": 0.0}
    return {
        "left": max(0.0, bb.x0 - tb.x0),
        "right": max(0.0, tb.x1 - bb.x1),
        "top": max(0.0, tb.y1 - bb.y1),
        "bottom": max(0.0, bb.y0 - tb.y0),
    }


def _below(a: Axes, b: Axes) -> bool:
    """``b`` is in the grid row right below ``a`` (overlapping columns)."""
    sa, sb = a.get_subplotspec(), b.get_subplotspec()
    return sb.rowspan.start == sa.rowspan.stop and _overlap(sa.colspan, sb.colspan)


def _left_of(a: Axes, b: Axes) -> bool:
    sa, sb = a.get_subplotspec(), b.get_subplotspec()
    return sb.colspan.start == sa.colspan.stop and _overlap(sa.rowspan, sb.rowspan)


def _overlap(x: range, y: range) -> bool:
    return x.start < y.stop and y.start < x.stop


class LaidOutFigure(Figure):
    """A :class:`~matplotlib.figure.Figure` laid out by its :class:`OnePassLayout` at the
    start of each draw (no Matplotlib layout engine: one draw per ``savefig``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.one_pass_layout = OnePassLayout()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle support: the placement hooks are closures, so they are run (a draw
        without rendering) and left out; the positions they set are kept."""
        if self.one_pass_layout.hooks:
            self.draw_without_rendering()
        state = super().__getstate__()
        layout = copy.copy(self.one_pass_layout)
        layout.hooks = []
        state["one_pass_layout"] = layout
        return state

    def draw(self, renderer: RendererBase) -> None:
        """Lay the figure out on ``renderer``, then draw it. If a caller gave the figure
        a layout engine (``tight_layout()``, ``set_layout_engine``), that engine places
        the axes and the placement hooks follow it."""
        if self.get_visible():
            engine = self.get_layout_engine()
            if engine is None:
                self.one_pass_layout.execute(self, renderer)
            else:
                engine.execute(self)
                for hook in self.one_pass_layout.hooks:
                    hook(renderer)
        super().draw(renderer)


def one_pass(fig: Any) -> OnePassLayout | None:
    """The figure's :class:`OnePassLayout`, or None (a caller's figure laid out otherwise)."""
    root = getattr(fig, "figure", fig) or fig
    if isinstance(root, LaidOutFigure) and root.get_layout_engine() is None:
        return root.one_pass_layout
    return None


def deferred(fig: Any, hook: Hook) -> None:
    """Run ``hook(renderer)`` when the layout is final: in the one draw of a figure laid
    out by :class:`OnePassLayout`; else now, after a draw without rendering (the
    caller's own figure: its layout engine decides the positions)."""
    engine = one_pass(fig)
    if engine is not None:
        engine.add_hook(hook)
        return
    root = getattr(fig, "figure", fig) or fig
    root.draw_without_rendering()
    hook(root._get_renderer())


@functools.lru_cache(maxsize=8)
def measure_renderer(dpi: float) -> RendererBase:
    """A small Agg renderer for measuring text before a figure is drawn (extents in
    pixels at ``dpi``)."""
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(8, 8, dpi)
