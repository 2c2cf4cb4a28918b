"""``relsim calibrate``: observed vs simulated monthly exports, or calibration targets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from simulator.cli.app import (
    DEBUG,
    AllowOpt,
    DebugOpt,
    Engine,
    EngineOpt,
    Fail,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    app,
    load,
    observed_for,
)
from simulator.cli.console import progress_bar, say
from simulator.errors import clean
from simulator.limits import Limits

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.options import Execution


# ---------------------------------------------------------------------------- calibrate
@app.command(short_help="Observed against simulated exports, or a targets table.")
def calibrate(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Scenario with observed_exports set.")
    ],
    reps: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=Limits.MAX_REPS,
            metavar="N",
            help="Replications (default: the scenario's reps).",
        ),
    ] = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    engine: EngineOpt = Engine.kernel,
    figure: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write the overlay figure (.png, .pdf, .svg, ...)."),
    ] = None,
    targets: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Targets file: print every target (observed, simulated median and 90% "
            "band, error, within tolerance).",
        ),
    ] = None,
    year: Annotated[
        int | None,
        typer.Option(
            min=1900,
            max=2199,
            metavar="YEAR",
            help="Year of the shape statistics (May / Jan-Mar, US share of May, Jul-Dec "
            "error); default: the year of the controls (the policy's first dated change).",
        ),
    ] = None,
    sets: SetOpt = None,
    allow: AllowOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Observed vs simulated: monthly exports (median, 90% band, error per month, and
    shape statistics for the year of the controls), or every target of a targets
    file."""
    DEBUG["on"] = debug
    from simulator.ensemble.options import Execution
    from simulator.ensemble.runner import run_ensemble_with
    from simulator.report.atomic import check_file_target
    from simulator.report.calibration import export_fit

    sc, loc = load(file, sets, allow)
    execution = Execution(engine=engine.value, seed=seed, workers=workers)
    if targets is not None:
        _targets_table(sc, targets, reps, execution)
        return
    observed = observed_for(sc, loc, allow, file)
    if observed is None:
        raise Fail(
            f"{clean(file)}: set `observed_exports:` (a CSV of month,total_t,...) to calibrate"
        )
    if figure is not None:  # before the ensemble runs, not after
        fmt = _figure_format(figure)
        check_file_target(figure)
    cb, prog = progress_bar(False)
    try:
        ens = run_ensemble_with(sc, replace(execution, progress=cb), reps)
    finally:
        if prog is not None:
            prog.stop()
    fit = export_fit(ens, observed, year=year)
    say(
        f"{clean(sc.name, 200)}: monthly exports at Chinese customs (departures), "
        f"{ens.reps} replications, seed {ens.seed}"
    )
    say(fit.to_text())
    if figure is not None:
        from simulator.report.atomic import atomic_file
        from simulator.report.figures import close_figure
        from simulator.report.plot_style import DPI

        fig = ens.plot.exports(observed=observed)
        with atomic_file(figure) as tmp:
            fig.savefig(tmp, dpi=DPI, format=fmt)
        close_figure(fig)
        say(f"wrote {figure}")


def _figure_format(figure: Path) -> str:
    """The image format of ``--figure`` from its extension (none: PNG), or a usage
    error listing the formats matplotlib writes."""
    from matplotlib.figure import Figure

    fmt = figure.suffix.lstrip(".").lower() or "png"
    known = Figure().canvas.get_supported_filetypes()
    if fmt not in known:
        raise Fail(
            f"--figure {clean(figure)}: unsupported image format {clean(repr(fmt), 20)}; "
            f"use one of {', '.join('.' + k for k in sorted(known))}"
        )
    return fmt


def _targets_table(sc: Any, path: Path, reps: int | None, execution: Execution) -> None:
    """Observe a targets file's targets in every replication and print the table."""
    from simulator.explore.targets import (
        check_against,
        evaluate,
        load_targets_located,
        observe_ensemble,
    )
    from simulator.report.calibration import targets_text

    tg, tloc = load_targets_located(path)
    check_against(tg, tloc, sc)  # months, windows, destinations: before anything runs
    n = sc.reps if reps is None else reps
    cb, prog = progress_bar(False)
    try:
        values = observe_ensemble(sc, list(tg.targets), n, replace(execution, progress=cb))
    finally:
        if prog is not None:
            prog.stop()
    rows = evaluate(list(tg.targets), values, tg.split)
    s = execution.seed_for(sc)
    say(f"{clean(sc.name, 200)}: {len(rows)} targets from {path}, {n} replications, seed {s}")
    until = tg.split.train_until.isoformat() if tg.split else None
    say(targets_text(rows, until))
