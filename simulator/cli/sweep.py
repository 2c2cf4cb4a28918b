"""``relsim sweep``: an ensemble at every point of a design; maps, tornado, indices."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.app import (
    DEBUG,
    ENGINE_DEFAULT,
    AllowOpt,
    EngineOpt,
    ExecutorOpt,
    Fail,
    SchedulerOpt,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    app,
    run_options,
)
from simulator.cli.console import progress_run, say, tell
from simulator.errors import clean
from simulator.limits import Limits


class DesignKind(StrEnum):
    """Which points a sweep runs (``--design``; see :mod:`simulator.explore.design`)."""

    grid = "grid"
    oat = "oat"
    lhs = "lhs"
    sobol = "sobol"
    morris = "morris"


@app.command(short_help="Run a scenario over a design of parameter values (stress maps, indices).")
def sweep(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="PATH=LOW:HIGH[:N]",
            help="A value to sweep (as --set takes paths; numbers or dates; N: grid levels), "
            "or a bare PATH of the scenario's uncertainties: block. Repeatable; without "
            "any, the whole block.",
        ),
    ] = None,
    design: Annotated[
        DesignKind,
        typer.Option(
            help="grid; oat (one at a time: tornado); lhs (Latin hypercube); sobol (Sobol "
            "indices); morris (screening)."
        ),
    ] = DesignKind.grid,
    points: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=Limits.MAX_SWEEP_POINTS,
            help="Points (lhs, sobol, morris; grid: sets the default levels)",
        ),
    ] = None,
    reps: Annotated[
        int | None,
        typer.Option(min=1, max=Limits.MAX_REPS, help="Replications per point (default: scenario)"),
    ] = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    engine: EngineOpt = ENGINE_DEFAULT,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: runs/<scenario file stem>-sweep)"),
    ] = None,
    kpis: Annotated[
        list[str] | None,
        typer.Option(
            "--kpi",
            help="KPI of the figures and analyses (repeatable; default: the first two of "
            "lost_units, shortage_days, any_shortage, days_to_first_shortage, fill_rate, "
            "shortfall_t that vary across the points beyond their Monte Carlo noise)",
        ),
    ] = None,
    sets: SetOpt = None,
    allow: AllowOpt = None,
    figures: Annotated[bool, typer.Option(help="Write PNG figures.")] = True,
    force: Annotated[
        bool,
        typer.Option(
            help="Replace an existing output, and discard another sweep's unfinished points."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or tables.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Run an ensemble at every point of a design (common random numbers across points)
    and write a tidy table, stress-test maps, tornado charts or sensitivity indices.
    An interrupted sweep resumes when run again."""
    DEBUG["on"] = debug
    from simulator.explore.plots import KPI_LABELS
    from simulator.explore.store import PARTIAL_SUFFIX
    from simulator.explore.sweep import sweep as run_sweep

    chosen = list(kpis or [])
    unknown = [k for k in chosen if k not in KPI_LABELS]
    if unknown:
        raise Fail(
            f"--kpi {clean(unknown[0], 80)}: unknown KPI (choose from {', '.join(KPI_LABELS)})"
        )
    target = out_dir or Path("runs") / f"{file.stem}-sweep"
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    done = {"n": 0, "of": 0}

    def interrupted() -> None:
        # the points on disk (a point is saved just before the progress callback hears
        # of it: a Ctrl-C in between must still name it)
        folder = partial / "points"
        kept = len(list(folder.glob("p*.json"))) if folder.is_dir() else 0
        if kept and not partial.is_symlink():
            total = f" of {done['of']}" if done["of"] else ""
            tell(
                f"relsim: {kept}{total} points are kept in {partial}; run "
                "the same command again to resume the sweep"
            )

    with progress_run(quiet, "points", interrupted) as cb:

        def progress(n: int, total: int) -> None:
            done.update(n=n, of=total)
            if cb is not None:
                cb(n, total)

        res = run_sweep(
            file,
            params,
            engine=engine.value,
            design=design.value,
            points=points,
            reps=reps,
            **run_options(seed, workers, executor, scheduler, sets, allow),
            out=target,
            force=force,
            figures=figures,
            kpis=chosen or None,
            progress=progress,
        )
    head = (
        f"{clean(res.scenario.name if res.scenario else file, 200)}: {res.design.kind} design, "
        f"{res.design.n} points × {res.reps} replications, seed {res.seed}"
    )
    for why in res.rerun:
        tell(f"note: {why}; that point ran again")
    if res.resumed:
        head += f" ({res.resumed} points read back from an interrupted run)"
    say(head)
    if not chosen:
        chosen = res.informative_kpis()
        say(f"KPIs shown: {', '.join(chosen)} (those that vary across the points; --kpi to choose)")
    for w in res.warnings:
        tell(f"warning: {w}")
    if not quiet:
        say(ranges_text(res, chosen))
        extra = analyses_text(res, chosen[0])
        if extra:
            say(extra)
    rate = f"{sum(res.timing) / max(len(res.timing), 1):.1f} s per point"
    say(
        f"wrote {target} ({res.design.n} points in {res.elapsed_s:.1f} s, {rate}, "
        f"{res.workers} worker{'s' if res.workers != 1 else ''})"
    )


def ranges_text(res: Any, kpis: list[str]) -> str:
    """Per manufacturer and KPI: the lowest and highest mean over the points, and where."""
    from simulator.explore.output import fmt_kpi, ranges

    lines = [f"{'manufacturer':22} {'KPI':14} {'lowest':>9} {'highest':>9}  highest at"]
    lines.append("-" * 80)
    for r in ranges(res, kpis).itertuples():
        lines.append(
            f"{clean(r.entity, 22):22} {r.kpi:14} {fmt_kpi(r.kpi, r.lowest):>9} "
            f"{fmt_kpi(r.kpi, r.highest):>9}  {clean(r.highest_at, 200)}"
        )
    return "\n".join(lines)


def analyses_text(res: Any, kpi: str) -> str:
    """Tornado swings (oat, grid) or Sobol / Morris indices (sobol, morris) of ``kpi``,
    per manufacturer."""
    from simulator.explore.output import analyses, fmt_kpi, fmt_value, short_names

    torn, sens = analyses(res, [kpi])
    names = short_names(res.params)
    lines: list[str] = []
    if not torn.empty:
        lines.append(
            f"\none at a time ({kpi} at the low end → at the high end of each range, the "
            "others at the scenario's values; ± the 95% Monte Carlo interval of each end)"
        )
        for r in torn.itertuples():
            noise = max(r.at_low_ci, r.at_high_ci)
            pm = "" if noise != noise else f" ±{fmt_kpi(kpi, noise)}"
            flag = "  within noise" if r.within_noise else ""
            lines.append(
                f"  {r.entity:22} {names[r.parameter]:28} {fmt_kpi(kpi, r.at_low):>8} → "
                f"{fmt_kpi(kpi, r.at_high):<8}{pm:>8} ({fmt_value(r.low)} → "
                f"{fmt_value(r.high)}){flag}"
            )
    if not sens.empty and "S1" in sens:
        lines.append(f"\nSobol indices of {kpi} (first order S1, total ST, ± 95% interval)")
        for r in sens.itertuples():
            lines.append(
                f"  {r.entity:22} {names[r.parameter]:28} S1 {r.S1:5.2f} ± {r.S1_conf:4.2f}  "
                f"ST {r.ST:5.2f} ± {r.ST_conf:4.2f}"
            )
    elif not sens.empty:
        lines.append(f"\nMorris screening of {kpi} (mu*: mean |effect| over each range)")
        for r in sens.itertuples():
            lines.append(
                f"  {r.entity:22} {names[r.parameter]:28} mu* {r.mu_star:.3g} ± "
                f"{r.mu_star_conf:.2g}  sigma {r.sigma:.3g}"
            )
    return "\n".join(lines)
