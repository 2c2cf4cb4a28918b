"""The standard figures of a run directory."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.report.observed import observed_frame
from simulator.report.plot_style import DPI
from simulator.report.plots import EnsemblePlots

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import EnsembleResult

__all__ = [
    "FORMATS",
    "close_figure",
    "figure_gc",
    "figure_jobs",
    "png_bytes",
    "save_figure",
    "save_figures",
]

FORMATS = ("png", "svg", "pdf")
"""Figure file formats (``--format``)."""


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", s) or "x"


def figure_jobs(
    ens: EnsembleResult, observed: pd.DataFrame | str | Path | None = None
) -> list[tuple[str, str, Any]]:
    """The standard figures of a run: ``(file stem, title, make)`` in report order:
    the all-plant P(shortage) overview, a fan chart per manufacturer, licence waits,
    exports (with ``observed`` overlaid), arrivals and the licence backlog."""
    plots = EnsemblePlots(ens)
    obs = observed_frame(observed)
    jobs: list[tuple[str, str, Any]] = [
        ("p_shortage", "Probability of a shortage, all manufacturers", plots.p_shortage_overview)
    ]
    jobs += [
        (
            f"shortage_{_safe_name(m.id)}",
            f"Shortfall: {m.name or m.id}",
            lambda mid=m.id: plots.shortage_curve(mid),
        )
        for m in ens.scenario.manufacturers
    ]
    jobs += [
        ("licence_waits", "Licence waits", plots.licence_waits),
        ("exports", "Exports against observed", lambda: plots.exports(obs, by_destination=True)),
        ("arrivals", "Arrivals", lambda: plots.arrivals(by_destination=True)),
        ("backlog", "Licence applications pending", plots.backlog),
        ("policy_timeline", "Policy timeline", plots.policy_timeline),
    ]
    if not ens.scenario.manufacturers:
        jobs = [j for j in jobs if j[0] != "p_shortage"]
    return jobs


def save_figures(
    ens: EnsembleResult,
    outdir: Path | str,
    observed: pd.DataFrame | str | Path | None = None,
    dpi: int = DPI,
    fmt: str = "png",
    keep: dict[str, bytes] | None = None,
    workers: int = 1,
) -> list[Path]:
    """Write the standard figures of a run directory.

    Files: ``p_shortage.<fmt>`` (every manufacturer's probability of a shortage; none
    without manufacturers), ``shortage_<manufacturer id>.<fmt>`` per manufacturer,
    ``licence_waits``, ``exports`` (with ``observed`` overlaid), ``arrivals``,
    ``backlog``, ``policy_timeline``.

    Args:
        ens: The ensemble.
        outdir: Directory (created if missing).
        observed: Observed monthly exports (frame or CSV path) for ``exports``.
        dpi: Resolution of raster output, dots per inch.
        fmt: ``png``, ``svg`` or ``pdf``.
        keep: If given, receives each figure as PNG bytes by file stem too (for
            report.html, whatever ``fmt`` is).
        workers: Processes to draw in at most (``relsim run`` passes the ensemble's
            workers): with more than one, figures are drawn in forked worker
            processes, on Linux, when this process runs no other thread and the load
            average leaves a core free (else one by one here). The files are the same
            either way.

    Returns:
        The paths written, in the order above.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    jobs = figure_jobs(ens, observed)
    paths = [outdir / f"{stem}.{fmt}" for stem, _title, _make in jobs]
    with figure_gc():
        n = _fork_workers(workers, len(jobs))
        if n > 1:
            _save_forked(jobs, paths, dpi, fmt, keep, n)
        else:
            for (_stem, _title, make), path in zip(jobs, paths, strict=True):
                save_figure(make, path, dpi=dpi, fmt=fmt, keep=keep)
    return paths


_FORKED: tuple[list[Any], list[Path], int, str, bool] | None = None
"""What forked figure workers inherit: jobs, paths, dpi, format, whether to keep PNGs."""


def _fork_workers(workers: int, jobs: int) -> int:
    """Worker processes to draw ``jobs`` figures in: 1 unless more were asked for, the
    platform forks (Linux), this process runs no other thread (a fork copies a lock
    another thread holds, locked) and the one-minute load average leaves a core unused
    (on a busy machine forked workers only compete, and their copy-on-write costs ~10%
    more CPU)."""
    import multiprocessing as mp
    import os
    import sys
    import threading

    if workers <= 1 or jobs <= 1 or not sys.platform.startswith("linux"):
        return 1
    if "fork" not in mp.get_all_start_methods() or threading.active_count() > 1:
        return 1
    cores = len(os.sched_getaffinity(0))
    free = cores - os.getloadavg()[0]  # cores the load average leaves unused
    return max(1, min(workers, jobs, cores, 1 + int(free))) if free >= 1.0 else 1


def _save_forked(
    jobs: list[Any],
    paths: list[Path],
    dpi: int,
    fmt: str,
    keep: dict[str, bytes] | None,
    n: int,
) -> None:
    """Draw the figures in ``n`` forked processes (they inherit the ensemble and the
    jobs; each returns its figure's PNG bytes when ``keep`` wants them)."""
    import gc
    import multiprocessing as mp

    global _FORKED
    _FORKED = (jobs, paths, dpi, fmt, keep is not None)
    # heaviest first (the fan charts have three panels), one figure at a time
    order = sorted(range(len(jobs)), key=lambda i: not jobs[i][0].startswith("shortage_"))
    gc.freeze()  # the workers' collections leave the inherited objects' pages shared
    pool = mp.get_context("fork").Pool(n, initializer=_worker_signals)
    try:
        got = pool.map(_save_nth, order, chunksize=1)
        pool.close()  # the workers finish and exit: no SIGTERM
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        gc.unfreeze()
        _FORKED = None
    if keep is not None:  # in report order
        by_index = dict(zip(order, got, strict=True))
        for i, path in enumerate(paths):
            png = by_index[i]
            if png is not None:
                keep[path.stem] = png


def _worker_signals() -> None:
    """In a forked worker: the default SIGTERM (not the CLI's handler, which raises) and
    no SIGINT (the parent handles Ctrl-C and ends the pool)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _save_nth(i: int) -> bytes | None:
    """In a forked worker: save figure ``i`` of :data:`_FORKED`; its PNG bytes if kept."""
    assert _FORKED is not None
    jobs, paths, dpi, fmt, want = _FORKED
    kept: dict[str, bytes] = {}
    save_figure(jobs[i][2], paths[i], dpi=dpi, fmt=fmt, keep=kept if want else None)
    return kept.get(paths[i].stem)


def figure_gc() -> Any:
    """A context in which the garbage collector runs rarely (as during replications):
    a figure allocates tens of thousands of small objects, and with CPython's default
    thresholds the collector rescans the ensemble's arrays and tables every few hundred
    of them (~10% of the figures' time)."""
    from simulator.world.world import SparseGC

    return SparseGC()


def save_figure(
    make: Any,
    path: Path,
    dpi: int = DPI,
    fmt: str = "png",
    keep: dict[str, bytes] | None = None,
) -> Path:
    """Make one figure of :func:`figure_jobs`, write it to ``path`` and release it.

    Args:
        make: The job's figure factory (no arguments, returns a Figure).
        path: Where to write; its stem is the key in ``keep``.
        dpi: Resolution of raster output, dots per inch.
        fmt: ``png``, ``svg`` or ``pdf``.
        keep: If given, receives the figure as PNG bytes under the path's stem.

    Returns:
        ``path``.
    """
    fig = make()
    try:
        if fmt == "png":
            png = png_bytes(fig, dpi)
            path.write_bytes(png)
            if keep is not None:
                keep[path.stem] = png
        else:
            fig.savefig(path, dpi=dpi, format=fmt)
            if keep is not None:
                keep[path.stem] = png_bytes(fig, min(dpi, 110))
    finally:
        close_figure(fig)
    return path


def png_bytes(fig: Figure, dpi: float) -> bytes:
    """``fig`` as PNG at ``dpi``: drawn once by ``savefig`` (raw RGBA), encoded by
    :func:`~simulator.report.png.encode_png` (faster than Pillow's encoder)."""
    from simulator.report.png import encode_png

    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format="raw")
    raw = np.frombuffer(buf.getbuffer(), dtype=np.uint8)
    width = int(fig.get_size_inches()[0] * dpi)  # as Agg sizes its canvas
    if width <= 0 or raw.size % (4 * width):
        raise RuntimeError(f"unexpected raw figure size: {raw.size} bytes, {width} px wide")
    return encode_png(raw.reshape(-1, width, 4), dpi=dpi)


def close_figure(fig: Figure) -> None:
    """Release a figure (and drop it from pyplot if a caller registered it there)."""
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
