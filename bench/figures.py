"""Benchmark: the figures of a run directory (issue 15, item 5: ≤ 1 s in total).

Builds the case-study ensemble once (``scenarios/cn-2025-april-controls.yaml``, 4
replications by default; the figures' cost hardly depends on the replications), then
makes and saves every figure of :func:`~simulator.report.figures.figure_jobs` through
:func:`~simulator.report.figures.save_figure`, the code ``relsim run`` uses (PNG at the
default 150 dpi, the PNG bytes kept for report.html). Prints per figure the seconds
(make + savefig + close) and how many times the figure was drawn (``Figure.draw``
calls: the layout engine's and label placement's measuring draws count, the savefig
is one), and the total.

The first pass is what a fresh ``relsim run`` pays (font cache and first-use costs in
this process included); further passes show the warm cost; per figure the best pass is
printed too. Then the whole ``save_figures`` call, with 1 and with ``--workers``
processes (it forks only when the load average leaves a core free; ``--force-fork``
forks anyway). Run on an older checkout (``PYTHONPATH=...``), it times the code before.

Usage: python bench/figures.py [--reps 4] [--repeat 3] [--dpi 150] [--out DIR]
                               [--workers 2] [--force-fork] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import inspect
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

import simulator as sim
from simulator.report import figures as F
from simulator.report.figures import figure_jobs, save_figures
from simulator.report.observed import load_observed_exports
from simulator.report.plot_style import DPI

# relsim before the fast figures had no save_figure/figure_gc: the same loop inline, so
# that this script measures the code before and after on one machine state
figure_gc: Any = getattr(F, "figure_gc", contextlib.nullcontext)
HAS_WORKERS = "workers" in inspect.signature(save_figures).parameters


def _old_save_figure(make: Any, path: Path, dpi: int, fmt: str, keep: Any) -> Path:
    fig = make()
    try:
        fig.savefig(path, dpi=dpi, format=fmt)
        if keep is not None:
            keep[path.stem] = path.read_bytes()
    finally:
        F.close_figure(fig)
    return path


save_figure: Any = getattr(F, "save_figure", _old_save_figure)

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"

DRAWS: collections.Counter[int] = collections.Counter()
_draw = Figure.draw


def _counting_draw(self: Figure, renderer: Any) -> None:
    DRAWS[id(self)] += 1
    _draw(self, renderer)


def one_pass(
    ens: Any, observed: Any, outdir: Path, dpi: int
) -> list[tuple[str, float, float, int]]:
    """Every figure once, as :func:`~simulator.report.figures.save_figures` makes them:
    ``[(stem, wall seconds, CPU seconds, draws), …]``."""
    with figure_gc():
        return _one_pass(ens, observed, outdir, dpi)


def _one_pass(
    ens: Any, observed: Any, outdir: Path, dpi: int
) -> list[tuple[str, float, float, int]]:
    out = []
    keep: dict[str, bytes] = {}
    for stem, _title, make in figure_jobs(ens, observed):
        made: list[Figure] = []

        def make_and_note(make: Any = make, made: list[Figure] = made) -> Figure:
            fig = make()
            made.append(fig)
            return fig

        t0, c0 = time.perf_counter(), time.process_time()
        save_figure(make_and_note, outdir / f"{stem}.png", dpi=dpi, fmt="png", keep=keep)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        out.append((stem, dt, dc, DRAWS.pop(id(made[0]), 0)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3, help="passes over all figures")
    ap.add_argument("--dpi", type=int, default=DPI)
    ap.add_argument("--out", type=Path, default=None, help="keep the PNGs here")
    ap.add_argument("--profile", action="store_true", help="profile one warm pass")
    ap.add_argument(
        "--workers", type=int, default=2, help="also time save_figures with this many processes"
    )
    ap.add_argument(
        "--force-fork", action="store_true", help="fork the workers whatever the load average"
    )
    args = ap.parse_args()

    sc = sim.load_scenario(CASE)
    observed = load_observed_exports(CASE.parent / sc.observed_exports)
    t0 = time.perf_counter()
    ens = sim.run_ensemble(sc, reps=args.reps, seed=0, workers=1, progress=False)
    print(f"ensemble: {args.reps} replications in {time.perf_counter() - t0:.1f} s")
    Figure.draw = _counting_draw  # type: ignore[method-assign]
    passes = []
    with tempfile.TemporaryDirectory() as tmp:
        outdir = args.out or Path(tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        for _ in range(args.repeat):
            passes.append(one_pass(ens, observed, outdir, args.dpi))
        if args.profile:
            pr = cProfile.Profile()
            pr.enable()
            one_pass(ens, observed, outdir, args.dpi)
            pr.disable()
            pstats.Stats(pr).sort_stats("cumulative").print_stats(45)
    stems = [p[0] for p in passes[0]]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"\n{'figure':<26}{'first s':>9}{'best s':>9}{'best CPU':>9}{'draws':>7}")
    for i, stem in enumerate(stems):
        wall = [p[i][1] for p in passes]
        cpu = [p[i][2] for p in passes]
        print(f"{stem:<26}{wall[0]:9.3f}{min(wall):9.3f}{min(cpu):9.3f}{passes[0][i][3]:7d}")
    totals = [sum(x[1] for x in p) for p in passes]
    cpus = [sum(x[2] for x in p) for p in passes]
    draws = sum(x[3] for x in passes[0])
    print(
        f"{'total':<26}{totals[0]:9.3f}{min(totals):9.3f}{min(cpus):9.3f}{draws:7d}"
        f"   ({len(stems)} figures at {args.dpi} dpi)"
    )
    print(
        "passes, wall (CPU) s: "
        + ", ".join(f"{t:.3f} ({c:.3f})" for t, c in zip(totals, cpus, strict=True))
    )
    # the whole call relsim run makes, 1 process vs --workers, alternating
    Figure.draw = _draw  # type: ignore[method-assign]
    # (save_figures forks only when the load average leaves a core free; --force-fork
    # measures the forked path whatever the load)
    modes = [1] + ([args.workers] if HAS_WORKERS and args.workers > 1 else [])
    if args.force_fork:
        os.getloadavg = lambda: (0.0, 0.0, 0.0)  # type: ignore[assignment]
    best: dict[int, float] = {}
    forked: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for w in modes:
                kw = {"workers": w} if HAS_WORKERS else {}
                if HAS_WORKERS:
                    forked[w] = F._fork_workers(w, len(passes[0]))
                t0 = time.perf_counter()
                save_figures(ens, Path(tmp), observed=observed, keep={}, **kw)
                best[w] = min(best.get(w, 1e9), time.perf_counter() - t0)
    print(
        "save_figures (as relsim run), best wall s: "
        + ", ".join(
            f"workers={w} ({forked.get(w, 1)} process{'es' if forked.get(w, 1) > 1 else ''}) "
            f"{t:.3f}"
            for w, t in best.items()
        )
    )


if __name__ == "__main__":
    main()
