"""``relsim run``: a scenario's ensemble and its run directory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.app import (
    DEBUG,
    AllowOpt,
    Engine,
    EngineOpt,
    ExecutorOpt,
    RepsOpt,
    SchedulerOpt,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    app,
    load,
    observed_for,
    overrides_of,
)
from simulator.cli.console import authority_line, out, progress_bar, summary_table, warn_estimated
from simulator.errors import clean
from simulator.limits import Limits


def _overrides_record(
    file: Path, sets: list[str] | None, allow: list[Path] | None
) -> dict[str, Any] | None:
    """The ``--set`` overrides and what they changed in the file's scenario (for the
    manifest); None without overrides."""
    if not sets:
        return None
    import json

    from simulator.errors import ScenarioError
    from simulator.scenario.diff import diff

    overrides = json.loads(json.dumps(overrides_of(sets), default=str))
    try:
        plain, _ = load(file, None, allow)
    except ScenarioError:  # the file is valid only with its overrides
        return {"overrides": overrides}
    with_sets, _ = load(file, sets, allow)
    return {"overrides": overrides, "overrides_changed": diff(plain, with_sets).to_list()}


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    reps: RepsOpt = None,
    seed: SeedOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run directory (default: runs/<scenario file stem>)"),
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    executor: ExecutorOpt = None,
    engine: EngineOpt = Engine.kernel,
    sets: SetOpt = None,
    allow: AllowOpt = None,
    force: Annotated[
        bool, typer.Option(help="Replace an existing relsim run directory (only those).")
    ] = False,
    rep_index: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=Limits.MAX_REPS - 1,
            help="Run only this replication (serially, full detail).",
        ),
    ] = None,
    figures: Annotated[bool, typer.Option(help="Write PNG figures.")] = True,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Run a scenario's ensemble and write its run directory."""
    DEBUG["on"] = debug
    from simulator.ensemble.runner import run_ensemble
    from simulator.replication.engine import run as run_one
    from simulator.report.atomic import atomic_dir, check_dir_target, write_json
    from simulator.report.rundir import manifest, write_run_dir

    sc, loc = load(file, sets, allow)
    observed = observed_for(sc, loc, allow, file)
    target = out_dir or Path("runs") / file.stem
    check_dir_target(target, force)  # before the work; the commit checks again
    s = sc.seed if seed is None else seed
    if rep_index is not None:
        t0 = time.perf_counter()
        r = run_one(sc, seed=s, rep=rep_index, engine=engine.value)
        with atomic_dir(target, force) as tmp:
            write_json(
                tmp / "manifest.json",
                manifest(
                    sc,
                    seed=s,
                    reps=1,
                    files=loc.files,
                    workers=1,
                    elapsed_s=time.perf_counter() - t0,
                    command="run --rep-index",
                    extra={"rep_index": rep_index},
                ),
            )
            for name in ("licences", "daily", "authority_daily", "exports", "kpis", "regimes"):
                getattr(r, name).to_csv(tmp / f"{name}.csv", index=False)
        out.print(f"replication {rep_index} (seed {s}) ok; wrote {clean(target)}", markup=False)
        return
    n = sc.reps if reps is None else reps
    cb, prog = progress_bar(quiet)
    try:
        ens = run_ensemble(
            sc,
            reps=n,
            seed=s,
            workers=workers,
            executor=executor.value if executor is not None else None,
            scheduler=scheduler,
            progress=cb,
            engine=engine.value,
        )
    finally:
        if prog is not None:
            prog.stop()
    rep0 = run_one(sc, seed=s, rep=0, engine=engine.value)
    write_run_dir(
        target,
        ens,
        files=loc.files,
        rep0=rep0,
        observed=observed,
        figures=figures,
        force=force,
        extra=_overrides_record(file, sets, allow),
    )
    summary = ens.summary_dict()
    warn_estimated(sc)
    if not quiet:
        out.print(summary_table(summary, sc, out.width))
        out.print(authority_line(summary), markup=False)
    out.print(
        f"wrote {clean(target)} ({n} replications in {ens.elapsed_s:.1f} s, "
        f"{ens.workers} worker(s))",
        markup=False,
    )
