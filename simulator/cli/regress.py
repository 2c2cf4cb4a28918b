"""``relsim regress``: KPIs of scenarios against stored baselines (exit 1 if any moved)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from simulator.cli.app import ENGINE_DEFAULT, AllowOpt, EngineOpt, WorkersOpt, app
from simulator.errors import clean
from simulator.limits import Limits

if TYPE_CHECKING:  # pragma: no cover
    from simulator.regress.judge import Row, ScenarioCheck

__all__ = ["regress_command"]

_SHOWN = 30
"""Moved KPIs listed per scenario without --verbose."""


def _table(c: ScenarioCheck, rows: Sequence[Row], exact: bool) -> Any:
    from rich.table import Table

    from simulator.cli.console import cell
    from simulator.regress.judge import SKIP
    from simulator.regress.reports import delta_text, describe, tolerance_text

    t = Table(
        title=cell(f"{c.label}: {'all KPIs' if len(rows) == len(c.rows) else 'moved'}"),
        title_justify="left",
    )
    t.add_column("metric", no_wrap=True)
    for col in ("baseline", "current", "Δ", "tolerance"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("status")
    for r in rows:
        style = "bold red" if r.failed else ("yellow" if r.status == SKIP else "")
        status = r.status + (f" ({r.note})" if r.note else "")
        t.add_row(
            cell(r.metric),
            cell(describe(r.base)),
            cell(describe(r.cur)),
            cell(delta_text(r)),
            cell(tolerance_text(r, exact)),
            cell(status, style=style),
        )
    return t


@app.command("regress", short_help="Compare KPIs with stored baselines (CI).")
def regress_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="Scenario files or directories (their *.yaml, not recursive). "
            "Default: scenarios/*.yaml.",
            show_default=False,
        ),
    ] = None,
    baselines: Annotated[
        Path,
        typer.Option(
            "--baselines", metavar="DIR", help="Baseline directory (<stem>.json per scenario)."
        ),
    ] = Path("scenarios/baselines"),
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Rewrite the baselines from this run (exit 0): the changes are intended.",
        ),
    ] = False,
    allow_changed: Annotated[
        bool,
        typer.Option(
            "--allow-changed",
            help="A scenario that changed since its baseline does not fail by itself "
            "(its changes are still listed); only moved KPIs fail.",
        ),
    ] = False,
    reps: Annotated[
        int | None,
        typer.Option(
            min=2,
            max=Limits.MAX_REPS,
            metavar="N",
            help="Replications (default: the baseline's, else the scenario's).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=Limits.MAX_SEED,
            metavar="S",
            help="Root seed (default: the baseline's, else the scenario's).",
        ),
    ] = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="Fail on any difference in the rounded means (same platform)."
        ),
    ] = False,
    alpha: Annotated[
        float | None,
        typer.Option(
            metavar="ALPHA",
            help="Family-wise false-alarm rate over all compared KPIs (default: the "
            "baselines', else 0.01).",
        ),
    ] = None,
    k: Annotated[
        float | None,
        typer.Option(
            "--k",
            min=0.0,
            metavar="K",
            help="Fixed tolerance multiplier k (instead of one derived from --alpha).",
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write a JUnit XML report here.")
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write a Markdown report here (also appended to $GITHUB_STEP_SUMMARY when set).",
        ),
    ] = None,
    workers: WorkersOpt = None,
    engine: EngineOpt = ENGINE_DEFAULT,
    allow: AllowOpt = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show every KPI, not only the moved ones.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an internal error.")
    ] = False,
) -> None:
    """Re-run scenarios and compare their KPIs with stored baselines (exit 1 if any moved,
    or if a scenario changed since its baseline).

    Each scenario runs with its baseline's seed and replication count, so replication i
    draws what the baseline's replication i drew, and KPIs are compared in pairs: a KPI
    moved when the mean paired difference exceeds k·se (k set for a family-wise
    false-alarm rate α over the KPIs that could fail) and its absolute floor (scenario
    `tolerances:`). A scenario whose resolved form differs from the baseline's fails,
    naming the files and fields that changed, unless --update or --allow-changed says
    the change is intended.
    """
    from rich.console import Console

    from simulator.cli.console import out, say, say_table, tell
    from simulator.ensemble.options import Execution
    from simulator.regress.baseline import BadInput, baseline_data, write_baseline
    from simulator.regress.judge import DEFAULT_ALPHA, judge, notable_moves
    from simulator.regress.reports import (
        describe,
        junit_xml,
        markdown_report,
        rule_text,
        write_markdown,
    )
    from simulator.regress.run import change_text, changed_files_shown, prepare, run_check

    tty = sys.stdout.isatty()
    wide = Console(highlight=False, soft_wrap=True, width=None if tty else 200)  # tables
    del debug  # handled by the entry point (main checks for --debug)
    if alpha is not None and not 0.0 < alpha < 1.0:  # NaN fails this too
        tell(f"relsim regress: --alpha must be in (0, 1), got {alpha}")
        raise typer.Exit(2)
    if k is not None and not math.isfinite(k):  # an infinite k would pass every KPI
        tell(f"relsim regress: --k must be a finite number, got {k}")
        raise typer.Exit(2)
    from simulator.report.atomic import OutputRefused, check_file_target

    try:  # before anything runs
        for target in (junit, markdown):
            if target is not None:
                check_file_target(target)
    except OutputRefused as e:
        tell(f"relsim regress: {e}")
        raise typer.Exit(2) from None
    try:
        checks, warnings = prepare(paths, baselines, update, allow or ())
        for target in (junit, markdown):  # again, now the inputs are known
            if target is not None:
                check_file_target(target)
    except (BadInput, OutputRefused) as e:
        tell(f"relsim regress: {e}")
        raise typer.Exit(2) from None
    for w in warnings:
        tell(w)

    execution = Execution(engine=engine.value, seed=seed, workers=workers, progress=False)
    for c in checks:
        b = c.baseline or {}
        n = reps if reps is not None else b.get("reps", c.scenario.reps)
        s = seed if seed is not None else b.get("seed", c.scenario.seed)
        tell(f"running {c.path} ({n} replications, seed {s}) …")
        c.allow_changed = allow_changed
        run_check(c, reps, execution)

    if alpha is None:
        stored = [
            float(c.baseline["tolerance"]["alpha"])
            for c in checks
            if c.baseline
            and isinstance(c.baseline.get("tolerance"), dict)
            and isinstance(c.baseline["tolerance"].get("alpha"), int | float)
        ]
        alpha = min(stored) if stored else DEFAULT_ALPHA
    all_rows = [r for c in checks for r in c.rows]
    m = judge(all_rows, alpha=alpha, k=k, exact=exact)

    if update:
        for c in checks:
            floors = (c.baseline or {}).get("floors")
            data = baseline_data(
                c.scenario,
                scenario_file=c.path,
                baseline_file=c.baseline_path,
                seed=c.seed,
                reps=c.reps,
                kpis=c.kpis,
                alpha=alpha,
                values=c.values,
                files=c.files,
                floors=floors,
            )
            old = c.baseline_path.read_text(encoding="utf-8") if c.baseline_path.exists() else None
            write_baseline(c.baseline_path, data)
            new = c.baseline_path.read_text(encoding="utf-8")
            moved = f"{len(c.failures)} KPI(s) had moved beyond tolerance"
            what = (
                "created"
                if old is None
                else "unchanged"
                if old == new
                else f"updated ({moved}"
                + (f"; {len(c.changes)} field(s) of the scenario changed" if c.changed else "")
                + ")"
            )
            say(
                f"{what}: {c.baseline_path} ({c.reps} replications, seed {c.seed}, "
                f"{c.elapsed_s:.1f} s)"
            )
        return

    width = (out.width or 100) - 6
    for c in checks:
        f = c.failures
        verdict = "FAIL" if c.failed else "ok"
        what = f"{len(f)} of {len(c.rows)} KPIs moved"
        if c.changed:
            what += "; the scenario changed" + (" (allowed)" if c.allow_changed else "")
        say(
            f"{verdict:4}  {c.path}: {what} "
            f"(seed {c.seed}, {c.reps} replications paired, {c.elapsed_s:.1f} s)",
            style="bold red" if c.failed else None,
        )
        if c.changed:
            for line in change_text(c, width=width).splitlines():
                say(f"      {clean(line, 300)}")
            notable = notable_moves(c.rows)
            if notable:
                say(
                    "      what the change did, each KPI judged on its own (95%; not "
                    "family-wise, so not a failure):"
                )
                for r, text in notable:
                    say(
                        f"        {clean(r.metric, 80)}  {describe(r.base)} → "
                        f"{describe(r.cur)}  ({text})"
                    )
        for note in c.notes:
            say(f"      note: {clean(note, 300)}")
        shown = c.rows if verbose else f[:_SHOWN]
        if shown:
            say_table(_table(c, shown, exact), to=wide)
        if not verbose and len(f) > _SHOWN:
            say(f"      … {len(f) - _SHOWN} more moved (--verbose lists every KPI)")
    n_rows = len(all_rows)
    failed = [c for c in checks if c.failed]
    n_fail = sum(len(c.failures) for c in checks)
    n_changed = sum(c.changed and not c.allow_changed for c in checks)
    say(f"rule: {rule_text(alpha, m, k, exact)}")
    if junit is not None:
        from simulator.report.atomic import write_text_atomic

        write_text_atomic(junit, junit_xml(checks, exact=exact))
        say(f"wrote {junit}")
    md = markdown_report(checks, alpha=alpha, m=m, k=k, exact=exact, verbose=verbose)
    for p in write_markdown(md, markdown):
        say(f"wrote {p}")
    if failed:
        for c in failed:
            if c.changed and not c.allow_changed:
                fields = [d.path for d in c.changes]
                shown = ", ".join(fields[:8]) + (
                    f", … ({len(fields)} in all)" if len(fields) > 8 else ""
                )
                files = ", ".join(f for f, _ in changed_files_shown(c)) or "its resolved form"
                say(f"changed: {c.path}: {files} — {shown or 'see above'}")
            if c.failures:
                names = [r.metric for r in c.failures]
                more = f", … ({len(names)} in all)" if len(names) > 10 else ""
                say(f"moved in {c.label}: {', '.join(names[:10])}{more}")
        parts = [f"{n_fail} of {n_rows} KPIs moved beyond tolerance"]
        if n_changed:
            parts.append(f"{n_changed} scenario(s) changed since their baseline")
        say(
            f"regress: FAIL — {'; '.join(parts)} ({len(failed)} of {len(checks)} "
            "scenario(s) failed)",
            style="bold red",
        )
        raise typer.Exit(1)
    say(f"regress: ok — {n_rows} KPIs in {len(checks)} scenario(s) within tolerance")
