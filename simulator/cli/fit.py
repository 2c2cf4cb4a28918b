"""``relsim fit``: the free parameters of a targets file fitted to its targets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.app import DEBUG, Fail, SetOpt, app, overrides_of
from simulator.cli.console import err, out, progress_bar, targets_text


@app.command()
def fit(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    targets: Annotated[
        Path,
        typer.Option(
            metavar="FILE",
            help="Targets file (as for relsim calibrate --targets) with a parameters: block.",
        ),
    ],
    trials: Annotated[int, typer.Option(min=1, help="Parameter points tried.")] = 60,
    reps: Annotated[
        int, typer.Option(min=2, help="Replications per trial (the same for every trial).")
    ] = 20,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: scenario)")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: every core)")
    ] = None,
    executor: Annotated[str | None, typer.Option(help="serial | processes | dask")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler, tcp://host:8786")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Output directory (default: runs/<scenario file stem>-fit)"),
    ] = None,
    sets: SetOpt = None,
    force: Annotated[bool, typer.Option(help="Replace an existing output directory.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Fit the free parameters of a targets file to its targets; write the fitted
    scenario (a file that extends FILE) and print the calibration table."""
    DEBUG["on"] = debug
    from simulator.explore.fit import fit as run_fit

    target = out_dir or Path("runs") / f"{file.stem}-fit"
    if target.exists() and not force:
        raise Fail(f"{target} already exists; use --force to replace it, or --out DIR")
    cb, prog = progress_bar(quiet, "trials")
    try:
        res = run_fit(
            file,
            targets,
            trials=trials,
            reps=reps,
            seed=seed,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            overrides=overrides_of(sets),
            out=target,
            force=force,
            progress=cb,
        )
    except ImportError as e:
        raise Fail(f"{e}; the dask executor needs: pip install 'relsim[dask]'") from None
    finally:
        if prog is not None:
            prog.stop()
    _note_other_scenario(file, targets)
    out.print(
        f"{res.scenario.name}: {len(res.params)} free parameters fitted to "
        f"{len(res.table)} targets of {targets}; {len(res.trials)} trials × {res.reps} "
        f"replications, seed {res.seed}",
        markup=False,
    )
    out.print(parameters_text(res), markup=False)
    start_ok = sum(r["ok"] for r in res.start_table)
    out.print(
        f"\ncalibration at the fitted values, on fresh replications (seed {res.seed + 1}; "
        f"at the start values {start_ok} of {len(res.start_table)} were within tolerance):",
        markup=False,
    )
    out.print(targets_text(res.table), markup=False)
    for r in res.ranges.itertuples():
        if r.at_bound:
            err.print(
                f"note: {r.parameter} = {r.best} is at its bound: the best value may lie "
                "outside the range searched; widen it in the targets file",
                markup=False,
            )
    out.print(
        f"wrote {target / 'fitted.yaml'} (extends {file}) and the trials ({res.elapsed_s:.1f} s)",
        markup=False,
    )


def parameters_text(res: Any) -> str:
    """The fitted parameters: start, best and near-best range, search bounds."""

    def v(x: Any) -> str:
        return f"{x:.4g}" if isinstance(x, float) else str(x)

    head = f"{'parameter':52} {'start':>9} {'fitted':>9}   {'near-best range':21} {'searched':>17}"
    lines = [head, "-" * len(head)]
    for r in res.ranges.itertuples():
        near = f"[{v(r.near_low)}, {v(r.near_high)}]"
        lines.append(
            f"{r.parameter:52} {v(r.start):>9} {v(r.best):>9}   {near:21} "
            f"{'[' + v(r.low) + ', ' + v(r.high) + ']':>17}"
        )
    lines.append(
        f"loss (Σ z², tolerances as one sd): start {res.trials['loss'].iloc[0]:.4g}, "
        f"fitted {res.best_loss:.4g} (fresh replications {res.confirm_loss:.4g}); near-best: "
        f"{int(res.trials['near_best'].sum())} trials within {res.threshold:.3g} of the best"
    )
    return "\n".join(lines)


def _note_other_scenario(file: Path, targets: Path) -> None:
    """Say so when the targets file names another scenario than FILE."""
    from simulator.report.targets import load_targets

    named = load_targets(targets).scenario
    if not named:
        return
    theirs = os.path.realpath(os.path.join(os.path.dirname(targets), named))
    if theirs != os.path.realpath(file):
        err.print(
            f"note: {targets} was written for {named}; fitted {file} to it as asked",
            markup=False,
        )
