"""``relsim run``: a scenario's ensemble and its run directory; ``relsim report``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.app import (
    DEBUG,
    ENGINE_DEFAULT,
    AllowOpt,
    DebugOpt,
    DpiOpt,
    EngineOpt,
    ExecutorOpt,
    Format,
    FormatOpt,
    QuietOpt,
    RepsOpt,
    SchedulerOpt,
    SeedOpt,
    SetOpt,
    WorkersOpt,
    app,
    load,
    observed_for,
    overrides_of,
    plural,
)
from simulator.cli.console import (
    authority_line,
    out,
    progress_bar,
    say,
    say_table,
    summary_table,
    warn_estimated,
)
from simulator.limits import Limits


def notes_for(
    file: Path, sc: Any, sets: list[str] | None, allow: list[Path] | None = None
) -> dict[str, Any]:
    """What the scenario file says about itself, the fields it changes against the base
    it ``extends:`` and the ``--set`` overrides (for report.html)."""
    from simulator.errors import ScenarioError
    from simulator.report.rundir import scenario_data
    from simulator.scenario.notes import scenario_changes, scenario_notes

    notes = scenario_notes(file)
    changes: list[dict[str, Any]] = []
    if notes["extends"]:
        try:
            base, _ = load(Path(notes["extends"][0]), None, allow)
            changes = scenario_changes(scenario_data(base), scenario_data(sc))
        except (ScenarioError, OSError):
            changes = []
    elif sets:  # no base file: the overrides are the changes
        try:
            base, _ = load(file, None, allow)
            changes = scenario_changes(scenario_data(base), scenario_data(sc))
        except (ScenarioError, OSError):
            changes = []
    notes["changes"] = changes
    notes["overrides"] = overrides_of(sets)
    return notes


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


@app.command(short_help="Run a scenario's ensemble and write its run directory.")
def run(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Scenario file (YAML).")],
    reps: RepsOpt = None,
    seed: SeedOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Run directory (default: runs/<file stem>, or runs/<file stem>-rep<I> "
            "with --rep-index).",
        ),
    ] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    executor: ExecutorOpt = None,
    engine: EngineOpt = ENGINE_DEFAULT,
    sets: SetOpt = None,
    allow: AllowOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing relsim run directory (only those)."),
    ] = False,
    rep_index: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=Limits.MAX_REPS - 1,
            metavar="I",
            help="Run only replication I (serially) and write its complete run directory.",
        ),
    ] = None,
    figures: Annotated[
        bool, typer.Option("--figures/--no-figures", help="Write figures (and embed them).")
    ] = True,
    fmt: FormatOpt = Format.png,
    dpi: DpiOpt = None,
    xlsx: Annotated[
        bool,
        typer.Option(
            "--xlsx",
            help="Also write tables.xlsx (a few seconds): one sheet per table; replication "
            "0's per-event tables (events, licences, shipments) stay in rep0/*.parquet and "
            ".csv, which their sheets name.",
        ),
    ] = False,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html (one page).")
    ] = True,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run a scenario's ensemble and write its run directory (tables, figures, report.html).

    With --rep-index I, run replication I alone and write its complete run directory to
    runs/<file stem>-rep<I>, printing that replication's KPIs.
    """
    DEBUG["on"] = debug
    from simulator.ensemble.options import Execution
    from simulator.ensemble.runner import run_ensemble_with
    from simulator.replication.engine import run as run_one
    from simulator.report.atomic import check_dir_target
    from simulator.report.rundir import write_run_dir

    sc, loc = load(file, sets, allow, check_data=False)  # read and checked next
    observed = observed_for(sc, loc, allow, file)
    default = file.stem if rep_index is None else f"{file.stem}-rep{rep_index}"
    target = out_dir or Path("runs") / default
    check_dir_target(target, force)  # before the work; the commit checks again
    s = sc.seed if seed is None else seed
    notes = notes_for(file, sc, sets, allow)
    if rep_index is not None:
        from simulator.ensemble.aggregate import Aggregator
        from simulator.ensemble.results import EnsembleResult

        t0 = time.perf_counter()
        one = run_one(sc, seed=s, rep=rep_index, engine=engine.value)
        agg = Aggregator(sc, expected_reps=1)
        agg.add(one.summary)
        ens = EnsembleResult(sc, s, 1, agg, time.perf_counter() - t0, 1)
        extra = {"rep_index": rep_index}
        n = 1
    else:
        n = sc.reps if reps is None else reps
        cb, prog = progress_bar(quiet)
        try:
            execution = Execution(
                engine=engine.value,
                seed=s,
                workers=workers,
                executor=executor.value if executor is not None else None,
                scheduler=scheduler,
                progress=cb,
            )
            # rep0/ in full: simulated once, with the others
            ens = run_ensemble_with(sc, execution, n, keep_rep=0)
        finally:
            if prog is not None:
                prog.stop()
        one = ens.kept
        extra = None
    write_run_dir(
        target,
        ens,
        files=loc.files,
        rep0=one,
        observed=observed,
        figures=figures,
        force=force,
        fmt=fmt.value,
        dpi=dpi,
        xlsx=xlsx,
        notes=notes,
        report=report,
        command="run" if rep_index is None else f"run --rep-index {rep_index}",
        extra={**(extra or {}), **(_overrides_record(file, sets, allow) or {})} or None,
    )
    summary = ens.summary_dict()
    warn_estimated(sc)
    if not quiet:
        if rep_index is not None:
            summary["title"] = f"{sc.name}: replication {rep_index}, seed {s}"
        say_table(summary_table(summary, sc, out.width))
        say(authority_line(summary))
    if rep_index is not None:
        say(f"replication {rep_index} (seed {s}) ok; wrote {target}")
        return
    say(
        f"wrote {target} ({plural(n, 'replication')} in {ens.elapsed_s:.1f} s, "
        f"{plural(ens.workers, 'worker')})"
    )


@app.command("report", short_help="Rebuild report.html of a run directory.")
def report_command(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="A run directory written by relsim run.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Where to write (default: RUN_DIR/report.html)."
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Rebuild the one-page report.html of a run directory from its files (figures,
    tables, manifest, the scenario as run). The directory is read as untrusted input:
    regular files inside it only, within size limits, each checked before anything of
    it reaches the page."""
    DEBUG["on"] = debug
    from simulator.report.atomic import OutputRefused, write_text_atomic
    from simulator.report.html import REPORT_FILE
    from simulator.report.readback import report_from_run_dir

    page = report_from_run_dir(run_dir)
    target = output or run_dir / REPORT_FILE
    if output is None and (target.is_symlink() or (target.exists() and not target.is_file())):
        # the run directory's own report.html: replaced in place, never written through
        raise OutputRefused(
            f"{target} is not a regular file (a link, a device?); relsim report replaces "
            "only the report.html it wrote, so nothing was changed; remove it or give "
            "--output FILE"
        )
    write_text_atomic(target, page)
    say(f"wrote {target}")
