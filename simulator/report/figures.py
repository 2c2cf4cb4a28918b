"""The standard figures of a run directory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from simulator.report.observed import observed_frame
from simulator.report.plot_style import DPI
from simulator.report.plots import EnsemblePlots

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import EnsembleResult

__all__ = ["save_figures"]


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
    ``arrivals.png``, ``backlog.png``, ``policy_timeline.png``.

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
    obs = observed_frame(observed)
    jobs: list[tuple[str, Any]] = [
        (f"shortage_{_safe_name(m.id)}.png", lambda mid=m.id: plots.shortage_curve(mid))
        for m in ens.scenario.manufacturers
    ]
    jobs += [
        ("licence_waits.png", plots.licence_waits),
        ("exports.png", lambda: plots.exports(obs, by_destination=True)),
        ("arrivals.png", lambda: plots.arrivals(by_destination=True)),
        ("backlog.png", plots.backlog),
        ("policy_timeline.png", plots.policy_timeline),
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
