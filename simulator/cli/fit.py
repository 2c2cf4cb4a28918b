"""``relsim fit``: the free parameters of a targets file fitted to its targets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.app import (
    DEBUG,
    ENGINE_DEFAULT,
    AllowOpt,
    EngineOpt,
    ExecutorOpt,
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


@app.command(short_help="Fit a targets file's free parameters to its targets.")
def fit(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    targets: Annotated[
        Path,
        typer.Option(
            metavar="FILE",
            help="Targets file (as for relsim calibrate --targets) with a parameters: block.",
        ),
    ],
    trials: Annotated[
        int, typer.Option(min=1, max=Limits.MAX_FIT_TRIALS, help="Parameter points tried.")
    ] = 60,
    reps: Annotated[
        int,
        typer.Option(
            min=2, max=Limits.MAX_REPS, help="Replications per trial (the same for every trial)."
        ),
    ] = 20,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    engine: EngineOpt = ENGINE_DEFAULT,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Directory of the fit's record (default: runs/<scenario file stem>-fit)"
        ),
    ] = None,
    fitted: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The fitted scenario, a file that extends FILE (default: <stem>-fitted.yaml "
            "in the working directory when FILE is in a folder below it, so that relsim "
            "regress does not check it before it has a baseline; else beside FILE).",
        ),
    ] = None,
    sets: SetOpt = None,
    allow: AllowOpt = None,
    force: Annotated[
        bool, typer.Option(help="Replace an existing record (a relsim output) and fitted file.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Fit the free parameters of a targets file to its targets; write the fitted
    scenario (a file that extends FILE) and print the calibration table."""
    DEBUG["on"] = debug
    from simulator.cli.new import default_variant_path
    from simulator.explore.fit import fit as run_fit
    from simulator.report.calibration import targets_text

    target = out_dir or Path("runs") / f"{file.stem}-fit"
    if fitted is None:
        fitted = default_variant_path(file, f"{file.stem}-fitted.yaml")
    with progress_run(quiet, "trials") as cb:
        res = run_fit(
            file,
            targets,
            engine=engine.value,
            trials=trials,
            reps=reps,
            **run_options(seed, workers, executor, scheduler, sets, allow),
            out=target,
            fitted=fitted,
            force=force,
            progress=cb,
        )
    _note_other_scenario(file, targets)
    say(
        f"{clean(res.scenario.name, 200)}: {len(res.params)} free parameters fitted to "
        f"{_fitted_count(res.table)} targets of {targets}; {len(res.trials)} trials × "
        f"{res.reps} replications, seed {res.seed}"
    )
    say(parameters_text(res))
    fitted = [r for r in res.start_table if r["phase"] in ("fit", "train")]
    start_ok = sum(r["ok"] for r in fitted)
    say(
        f"\ncalibration at the fitted values, on fresh replications (seed {res.seed + 1}; "
        f"at the start values {start_ok} of the {len(fitted)} fitted were within tolerance):"
    )
    say(targets_text(res.table, res.train_until))
    for r in res.ranges.itertuples():
        if r.at_bound:
            tell(
                f"note: {r.parameter} = {r.best} is at its bound: the best value may "
                "lie outside the range searched; widen it in the targets file"
            )
    assert res.fitted_file is not None
    here = os.path.realpath(res.fitted_file.parent)
    if here != os.path.realpath(file.parent):
        tell(
            f"note: {res.fitted_file} extends a file in another folder: run it with "
            f"--allow-path {file.parent}"
        )
    say(f"wrote {res.fitted_file} (extends {file.name}) and {target} ({res.elapsed_s:.1f} s)")


def parameters_text(res: Any) -> str:
    """The fitted parameters: start, best and near-best range, search bounds."""

    def v(x: Any) -> str:
        return f"{x:.4g}" if isinstance(x, float) else str(x)

    head = f"{'parameter':52} {'start':>9} {'fitted':>9}   {'near-best range':21} {'searched':>17}"
    lines = [head, "-" * len(head)]
    for r in res.ranges.itertuples():
        near = f"[{v(r.near_low)}, {v(r.near_high)}]"
        lines.append(
            f"{clean(r.parameter, 52):52} {v(r.start):>9} {v(r.best):>9}   {near:21} "
            f"{'[' + v(r.low) + ', ' + v(r.high) + ']':>17}"
        )
    lines.append(
        f"loss (sum of z², tolerances read as one sd): start {res.trials['loss'].iloc[0]:.4g}, "
        f"fitted {res.best_loss:.4g}, on fresh replications {res.confirm_loss:.4g}"
    )
    lines.append(
        f"near-best: {int(res.trials['near_best'].sum())} trials within "
        f"{res.threshold:.3g} of the best loss (chi2, 95%, {len(res.params)} parameters)"
    )
    return "\n".join(lines)


def _note_other_scenario(file: Path, targets: Path) -> None:
    """Say so when the targets file names another scenario than FILE."""
    from simulator.explore.targets import load_targets

    named = load_targets(targets).scenario
    if not named:
        return
    theirs = os.path.realpath(os.path.join(os.path.dirname(targets), named))
    if theirs != os.path.realpath(file):
        tell(f"note: {targets} was written for {clean(named, 200)}; fitted {file} to it as asked")


def _fitted_count(table: list[dict]) -> str:
    """How many targets were fitted: ``N``, or ``N of the M`` when some are test
    targets or settings."""
    n = sum(r["phase"] in ("fit", "train") for r in table)
    return str(n) if n == len(table) else f"{n} of the {len(table)}"
