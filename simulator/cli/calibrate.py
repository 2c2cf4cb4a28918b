"""``relsim calibrate``: observed vs simulated monthly exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.app import DEBUG, Fail, SetOpt, app, load, observed_for
from simulator.cli.console import out, progress_bar


# ---------------------------------------------------------------------------- calibrate
@app.command()
def calibrate(
    file: Annotated[Path, typer.Argument(help="Scenario with observed_exports set.")],
    reps: Annotated[
        int | None, typer.Option(min=2, help="Replications (default: scenario)")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0)] = None,
    workers: Annotated[int | None, typer.Option(min=1)] = None,
    figure: Annotated[Path | None, typer.Option(help="Write the overlay figure (PNG).")] = None,
    sets: SetOpt = None,
    debug: Annotated[bool, typer.Option()] = False,
) -> None:
    """Observed vs simulated monthly licensed exports: median, 90% band, error per month."""
    DEBUG["on"] = debug
    from simulator.ensemble.runner import run_ensemble
    from simulator.report.calibration import export_fit

    sc, loc = load(file, sets)
    observed = observed_for(sc, loc)
    if observed is None:
        raise Fail(f"{file}: set `observed_exports:` (a CSV of month,total_t,...) to calibrate")
    cb, prog = progress_bar(False)
    try:
        ens = run_ensemble(sc, reps=reps, seed=seed, workers=workers, progress=cb)
    finally:
        if prog is not None:
            prog.stop()
    fit = export_fit(ens, observed)
    out.print(
        f"{sc.name}: monthly licensed exports, {ens.reps} replications, seed {ens.seed}",
        markup=False,
    )
    out.print(fit.to_text(), markup=False)
    if figure is not None:
        import matplotlib.pyplot as plt

        from simulator.report.atomic import atomic_file

        fig = ens.plot.exports(observed=observed)
        with atomic_file(figure) as tmp:
            fig.savefig(tmp, dpi=110, format=figure.suffix.lstrip(".") or "png")
        plt.close(fig)
        out.print(f"wrote {figure}", markup=False)
