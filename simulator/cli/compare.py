"""``relsim compare``: two scenarios on the same replications (common random numbers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

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
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    app,
    load,
    overrides_of,
)
from simulator.cli.console import comparison_table, out, progress_bar, say, say_table, tell
from simulator.limits import Limits


# ---------------------------------------------------------------------------- compare
@app.command(short_help="Compare two scenarios on the same replications.")
def compare(
    a: Annotated[Path, typer.Argument(metavar="A", help="Baseline scenario file.")],
    b: Annotated[Path, typer.Argument(metavar="B", help="Alternative scenario file.")],
    reps: Annotated[
        int | None,
        typer.Option(
            min=2, max=Limits.MAX_REPS, metavar="N", help="Replications (default: A's reps)."
        ),
    ] = None,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    executor: ExecutorOpt = None,
    engine: EngineOpt = ENGINE_DEFAULT,
    sets_a: Annotated[
        list[str] | None,
        typer.Option("--set-a", metavar="KEY=VALUE", help="Override a field of A (repeatable)."),
    ] = None,
    sets_b: Annotated[
        list[str] | None,
        typer.Option("--set-b", metavar="KEY=VALUE", help="Override a field of B (repeatable)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Write comparison.json, differences.csv, figures and report.html here.",
        ),
    ] = None,
    allow: AllowOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing relsim output directory (only those)."),
    ] = False,
    fmt: FormatOpt = Format.png,
    dpi: DpiOpt = None,
    quiet: QuietOpt = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Also show how much the pairing narrowed each interval."
        ),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Compare two scenarios on the same replications (common random numbers).

    Prints what differs between A and B (as `relsim diff` does), then B − A per
    manufacturer and for the authority overall and per destination. A and B may be the
    same file with different --set-a / --set-b overrides, e.g.
    ``relsim compare s.yaml s.yaml --set-b authority.reviewers=20``.
    """
    DEBUG["on"] = debug
    from simulator.ensemble.options import Execution
    from simulator.ensemble.runner import compare_with
    from simulator.report.atomic import atomic_dir, check_dir_target, write_json
    from simulator.report.plot_style import DPI
    from simulator.report.rundir import manifest, write_csv

    sa, la = load(a, sets_a, allow)
    sb, lb = load(b, sets_b, allow)
    if out_dir is not None:
        check_dir_target(out_dir, force)  # before the work; the commit checks again
    same_days = sa.horizon_days == sb.horizon_days
    same_mfrs = [m.id for m in sa.manufacturers] == [m.id for m in sb.manufacturers]
    if not (same_days and same_mfrs):
        why = (
            f"horizons differ ({sa.horizon_days} vs {sb.horizon_days} days)"
            if not same_days
            else "their manufacturers differ"
        )
        tell(
            f"warning: {why}: KPIs are paired where both have them, but there is no "
            "daily shortfall difference and no difference figures."
        )
    cb, prog = progress_bar(quiet)
    try:
        execution = Execution(
            engine=engine.value,
            seed=seed,
            workers=workers,
            executor=executor.value if executor is not None else None,
            scheduler=scheduler,
            progress=cb,
        )
        cmp = compare_with(sa, sb, execution, reps)
    finally:
        if prog is not None:
            prog.stop()
    diff = cmp.differences()
    dates = cmp.date_differences()
    scen_diff = cmp.scenario_diff()
    if not quiet:
        say(scen_diff.render(limit=40, width=out.width))
        if not scen_diff:
            tell("warning: A and B are the same scenario: every difference is 0")
        say()
        say_table(
            comparison_table(cmp._differences(), sa, sb, cmp.a.reps, verbose=verbose, dates=dates)
        )
    if out_dir is not None:
        from simulator.report.figures import figure_gc, save_figure
        from simulator.report.html import REPORT_FILE, write_comparison_report
        from simulator.scenario.notes import scenario_notes

        with atomic_dir(out_dir, force) as tmp:
            summary = cmp.summary_dict()
            overrides = {"a": overrides_of(sets_a), "b": overrides_of(sets_b)}
            # dates and the like in ISO form, as the user wrote them
            summary["overrides"] = json.loads(json.dumps(overrides, default=str))
            write_json(tmp / "comparison.json", summary)
            man = manifest(
                sa,
                seed=cmp.a.seed,
                reps=cmp.a.reps,
                files=la.files + lb.files,
                workers=cmp.a.workers,
                elapsed_s=cmp.a.elapsed_s,
                command="compare",
            )
            write_json(tmp / "manifest.json", man)
            write_csv(diff, tmp / "differences.csv")
            write_csv(dates, tmp / "date_differences.csv")
            figs = tmp / "figures"
            figs.mkdir()
            if same_days and same_mfrs:
                write_csv(cmp.diff_daily, tmp / "shortfall_difference_daily.csv")
            pngs: dict[str, bytes] = {}
            # each figure drawn once (a PNG file's bytes are embedded in report.html too)
            opts = {"dpi": dpi or DPI, "fmt": fmt.value, "keep": pngs}
            with figure_gc():
                for which, ens in (("a", cmp.a), ("b", cmp.b)):
                    name = f"policy_timeline_{which}.{fmt.value}"
                    save_figure(ens.plot.policy_timeline, figs / name, **opts)
                for m in sa.manufacturers if same_days and same_mfrs else []:
                    save_figure(
                        lambda mid=m.id: cmp.plot.shortage_difference(manufacturer=mid),
                        figs / f"difference_{m.id}.{fmt.value}",
                        **opts,
                    )
            notes = {"a": scenario_notes(a), "b": scenario_notes(b)}
            write_comparison_report(tmp / REPORT_FILE, cmp, man, pngs, notes)
        say(f"wrote {out_dir}")
