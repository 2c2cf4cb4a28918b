"""The ``relsim`` command line. It never simulates itself: it loads, calls the library,
prints and writes.

Exit codes: 0 ok; 1 regression/check failed; 2 bad input or usage; 70 internal error;
130 interrupted (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from simulator.errors import ScenarioError

app = typer.Typer(
    name="relsim",
    help="Simulate rare-earth export-licence delays and the shortages they cause.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
_WIDTH = None if sys.stdout.isatty() else 120  # logs and CI: do not wrap at 80 columns
out = Console(highlight=False, width=_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130
_DEBUG = {"on": False}


class Fail(Exception):
    """A handled failure: message and exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a field: key.path=value (repeatable)."),
]


def _overrides(items: list[str] | None) -> dict[str, Any]:
    from simulator.yamlio import parse_set_option

    result: dict[str, Any] = {}
    for text in items or []:
        key, value = parse_set_option(text)
        result[key] = value
    return result


def _load(path: Path, sets: list[str] | None) -> tuple[Any, Any]:
    from simulator.load import load_scenario_located

    return load_scenario_located(path, _overrides(sets))


# ---------------------------------------------------------------------------- validate
@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files.")],
    sets: SetOpt = None,
) -> None:
    """Check scenario files; print every problem at file:line:col."""
    bad = 0
    for f in files:
        try:
            sc, _ = _load(f, sets)
        except ScenarioError as e:
            bad += 1
            for p in e.problems:
                err.print(str(p), markup=False)
            continue
        out.print(
            f"ok  {f}  ({sc.name}: {sc.start}..{sc.end}, "
            f"{len(sc.manufacturers)} manufacturers, {len(sc.policy.regimes)} regimes)",
            markup=False,
        )
    if bad:
        err.print(f"{bad} of {len(files)} file(s) invalid", markup=False)
        raise typer.Exit(EXIT_INPUT)


# ---------------------------------------------------------------------------- schema
@app.command()
def schema(
    write: Annotated[Path | None, typer.Option(help="Write the schema to this file.")] = None,
    check: Annotated[Path | None, typer.Option(help="Exit 1 if this file is stale.")] = None,
) -> None:
    """Print the scenario JSON Schema (for editor completion and validation)."""
    from simulator.jsonschema import scenario_json_schema

    text = scenario_json_schema()
    if check is not None:
        current = check.read_text(encoding="utf-8") if check.exists() else ""
        if current != text:
            err.print(
                f"{check} is stale; regenerate with `relsim schema --write {check}`", markup=False
            )
            raise typer.Exit(EXIT_FAIL)
        out.print(f"{check} is up to date", markup=False)
        return
    if write is not None:
        from simulator.output import write_text_atomic

        write_text_atomic(write, text)
        out.print(f"wrote {write}", markup=False)
        return
    sys.stdout.write(text)


# ---------------------------------------------------------------------------- run
def _progress_cb(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    prog = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = prog.add_task("replications", total=None)
    prog.start()

    def cb(done: int, total: int) -> None:
        prog.update(task, completed=done, total=total)

    return cb, prog


def _fmt(
    mean: float | None,
    lo: float | None,
    hi: float | None,
    pct: bool = False,
    digits: int = 0,
    sep: str = " ",
) -> str:
    """``mean [lo, hi]``; percentages to 0.1 point; numbers of 10,000 or more to three
    significant digits with k or M (exact values are in summary.json)."""
    if mean is None:
        return "—"
    if pct:
        s = f"{100 * mean:.1f}%"
        if lo is not None and hi is not None:
            s += f"{sep}[{100 * lo:.1f}, {100 * hi:.1f}]"
        return s
    values = [mean] if lo is None or hi is None else [mean, lo, hi]
    biggest = max(abs(v) for v in values)
    if biggest >= 10_000:
        scale, unit = (1e6, "M") if biggest >= 1e6 else (1e3, "k")

        def fmt(v: float) -> str:
            text = f"{v / scale:.3g}"
            return (text if "e" not in text else f"{v / scale:,.0f}") + unit
    else:

        def fmt(v: float) -> str:
            return f"{v:,.{digits}f}"

    s = fmt(mean)
    if lo is not None and hi is not None:
        s += f"{sep}[{fmt(lo)}, {fmt(hi)}]"
    return s


def _summary_table(summary: dict[str, Any], sc: Any, width: int | None = None) -> Table:
    """The per-manufacturer KPI table: one line per manufacturer, or, when that would
    not fit in ``width`` columns, each interval under its mean."""
    from rich.measure import Measurement

    table = _kpi_table(summary, sc, narrow=False)
    unbounded = out.options.update_width(10_000)
    if width is None or Measurement.get(out, unbounded, table).maximum <= width:
        return table
    return _kpi_table(summary, sc, narrow=True)


def _kpi_table(summary: dict[str, Any], sc: Any, narrow: bool) -> Table:
    from rich import box

    sep = "\n" if narrow else " "
    t = Table(
        title=f"{sc.name}: {summary['reps']} replications, seed {summary['seed']} "
        "(mean [95% interval])",
        title_justify="left",
        box=None if narrow else box.HEAVY_HEAD,
        pad_edge=not narrow,
        leading=int(narrow),  # a blank line between two-line rows
    )
    t.add_column("manufacturer", overflow="fold")
    for header in (
        "fill rate",
        "lost units",
        "days to first\nshortage" if narrow else "days to first shortage",
        "P(any\nshortage)" if narrow else "P(any shortage)",
    ):
        t.add_column(header, justify="right", no_wrap=True)
    for m in sc.manufacturers:
        k = summary["kpis"].get(m.id, {})

        def g(name: str, k: dict[str, Any] = k) -> tuple[Any, Any, Any]:
            v = k.get(name, {})
            return v.get("mean"), v.get("ci_low"), v.get("ci_high")

        t.add_row(
            m.id,
            _fmt(*g("fill_rate"), pct=True, sep=sep),
            _fmt(*g("lost_units"), sep=sep),
            _fmt(*g("days_to_first_shortage"), sep=sep),
            _fmt(*g("any_shortage"), pct=True, sep=sep),
        )
    return t


def _authority_line(summary: dict[str, Any]) -> str:
    a = summary["kpis"].get("authority", {})

    def m(k: str) -> float | None:
        return a.get(k, {}).get("mean")

    p50, p90, over = m("wait_wd_p50"), m("wait_wd_p90"), m("share_over_limit")
    if p50 is None:
        return "authority: no decisions"
    text = f"authority: licence wait median {p50:.1f} wd, p90 {p90:.1f} wd"
    if over is not None:
        text += f", {100 * over:.1f}% over the statutory limit"
    appr = m("approval_rate")
    if appr is not None:
        text += f", approval rate {100 * appr:.1f}%"
    return text


def _observed(sc: Any, loc: Any) -> Any:
    if not sc.observed_exports:
        return None
    from simulator.plotting import load_observed_exports

    base = Path(loc.files[-1]).parent if loc.files else Path(".")
    path = (base / sc.observed_exports).resolve()
    if not path.exists():
        raise Fail(f"{loc.files[-1]}: observed_exports: file not found: {path}")
    try:
        return load_observed_exports(path)
    except (ValueError, OSError) as e:
        raise Fail(f"{loc.files[-1]}: observed_exports: {e}") from None


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    reps: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: scenario)")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: scenario)")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run directory (default: runs/<scenario file stem>)"),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: every core)")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler, tcp://host:8786")] = None,
    executor: Annotated[str | None, typer.Option(help="serial | processes | dask")] = None,
    sets: SetOpt = None,
    force: Annotated[bool, typer.Option(help="Replace an existing run directory.")] = False,
    rep_index: Annotated[
        int | None, typer.Option(min=0, help="Run only this replication (serially, full detail).")
    ] = None,
    figures: Annotated[bool, typer.Option(help="Write PNG figures.")] = True,
    quiet: Annotated[bool, typer.Option(help="No progress bar or table.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Run a scenario's ensemble and write its run directory."""
    _DEBUG["on"] = debug
    from simulator.engine import run as run_one
    from simulator.ensemble import run_ensemble
    from simulator.output import OutputExists, atomic_dir, write_run_dir

    sc, loc = _load(file, sets)
    observed = _observed(sc, loc)
    target = out_dir or Path("runs") / file.stem
    if target.exists() and not force:
        raise Fail(f"{target} already exists; use --force to replace it, or --out DIR")
    s = sc.seed if seed is None else seed
    if rep_index is not None:
        r = run_one(sc, seed=s, rep=rep_index)
        with atomic_dir(target, force) as tmp:
            for name in ("licences", "daily", "authority_daily", "exports", "kpis", "regimes"):
                getattr(r, name).to_csv(tmp / f"{name}.csv", index=False)
        out.print(f"replication {rep_index} (seed {s}) ok; wrote {target}", markup=False)
        return
    n = sc.reps if reps is None else reps
    cb, prog = _progress_cb(quiet)
    try:
        ens = run_ensemble(
            sc, reps=n, seed=s, workers=workers, executor=executor, scheduler=scheduler, progress=cb
        )
    finally:
        if prog is not None:
            prog.stop()
    rep0 = run_one(sc, seed=s, rep=0)
    try:
        write_run_dir(
            target, ens, files=loc.files, rep0=rep0, observed=observed, figures=figures, force=force
        )
    except OutputExists as e:
        raise Fail(str(e)) from None
    summary = ens.summary_dict()
    _warn_estimated(sc)
    if not quiet:
        out.print(_summary_table(summary, sc, out.width))
        out.print(_authority_line(summary), markup=False)
    out.print(
        f"wrote {target} ({n} replications in {ens.elapsed_s:.1f} s, {ens.workers} worker(s))",
        markup=False,
    )


def _warn_estimated(sc: Any) -> None:
    from simulator.world import build_calendar

    years = build_calendar(sc).estimated_years
    if years:
        err.print(
            f"note: no official holiday notice yet for {', '.join(map(str, years))}; "
            "working days there are estimated (statutory holidays by rule, no adjusted "
            "weekend working days). Add known dates with calendar.extra_holidays / "
            "extra_workdays.",
            markup=False,
        )


# ---------------------------------------------------------------------------- compare
@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="Baseline scenario.")],
    b: Annotated[Path, typer.Argument(help="Alternative scenario.")],
    reps: Annotated[int | None, typer.Option(min=2, help="Replications (default: A's)")] = None,
    seed: Annotated[int | None, typer.Option(min=0)] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: every core)")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler, tcp://host:8786")] = None,
    executor: Annotated[str | None, typer.Option(help="serial | processes | dask")] = None,
    sets_a: Annotated[
        list[str] | None,
        typer.Option("--set-a", help="Override a field of A: key.path=value (repeatable)."),
    ] = None,
    sets_b: Annotated[
        list[str] | None,
        typer.Option("--set-b", help="Override a field of B: key.path=value (repeatable)."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write comparison.json and figures here")
    ] = None,
    force: Annotated[bool, typer.Option()] = False,
    quiet: Annotated[bool, typer.Option()] = False,
    debug: Annotated[bool, typer.Option()] = False,
) -> None:
    """Compare two scenarios on the same replications (common random numbers).

    A and B may be the same file with different --set-a / --set-b overrides, e.g.
    ``relsim compare s.yaml s.yaml --set-b authority.reviewers=20``.
    """
    _DEBUG["on"] = debug
    from simulator.ensemble import compare as compare_fn
    from simulator.output import atomic_dir, manifest, write_json

    sa, la = _load(a, sets_a)
    sb, lb = _load(b, sets_b)
    if out_dir is not None and out_dir.exists() and not force:
        raise Fail(f"{out_dir} already exists; use --force to replace it")
    same_days = sa.horizon_days == sb.horizon_days
    same_mfrs = [m.id for m in sa.manufacturers] == [m.id for m in sb.manufacturers]
    if not (same_days and same_mfrs):
        why = (
            f"horizons differ ({sa.horizon_days} vs {sb.horizon_days} days)"
            if not same_days
            else "their manufacturers differ"
        )
        err.print(
            f"warning: {why}: KPIs are paired where both have them, but there is no "
            "daily shortfall difference and no difference figures.",
            markup=False,
        )
    cb, prog = _progress_cb(quiet)
    try:
        cmp = compare_fn(
            sa,
            sb,
            reps=reps,
            seed=seed,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            progress=cb,
        )
    finally:
        if prog is not None:
            prog.stop()
    diff = cmp.differences()
    t = Table(
        title=f"{sb.name} − {sa.name}: paired over {cmp.a.reps} replications "
        "(common random numbers)",
        title_justify="left",
    )
    for col in ("entity", "kpi", "A", "B", "B − A [95% interval]", "narrower ×"):
        t.add_column(col, justify="left" if col in ("entity", "kpi") else "right")
    for r in diff.itertuples(index=False):
        if r.kpi not in (
            "fill_rate",
            "shortfall_t",
            "lost_units",
            "days_to_first_shortage",
            "wait_wd_p50",
            "wait_wd_p90",
            "approval_rate",
        ):
            continue
        digits = 3 if r.kpi in ("fill_rate", "approval_rate") else 1

        def num(x: float, digits: int = digits) -> str:
            return "—" if x != x else f"{x:,.{digits}f}"  # NaN: e.g. never short

        t.add_row(
            r.entity,
            r.kpi,
            num(r.mean_a),
            num(r.mean_b),
            "—" if r.diff != r.diff else f"{num(r.diff)} [{num(r.ci_low)}, {num(r.ci_high)}]",
            "—" if r.narrower_x != r.narrower_x else f"{r.narrower_x:.1f}",
        )
    if not quiet:
        out.print(t)
    if out_dir is not None:
        with atomic_dir(out_dir, force) as tmp:
            summary = cmp.summary_dict()
            overrides = {"a": _overrides(sets_a), "b": _overrides(sets_b)}
            # dates and the like in ISO form, as the user wrote them
            summary["overrides"] = json.loads(json.dumps(overrides, default=str))
            write_json(tmp / "comparison.json", summary)
            write_json(
                tmp / "manifest.json",
                manifest(
                    sa,
                    seed=cmp.a.seed,
                    reps=cmp.a.reps,
                    files=la.files + lb.files,
                    workers=cmp.a.workers,
                    elapsed_s=cmp.a.elapsed_s,
                    command="compare",
                ),
            )
            diff.to_csv(tmp / "differences.csv", index=False)
            figs = tmp / "figures"
            figs.mkdir()
            import matplotlib.pyplot as plt

            if same_days and same_mfrs:
                cmp.diff_daily.to_csv(tmp / "shortfall_difference_daily.csv", index=False)
            for m in sa.manufacturers if same_days and same_mfrs else []:
                fig = cmp.plot.shortage_difference(manufacturer=m.id)
                fig.savefig(figs / f"difference_{m.id}.png", dpi=110)
                plt.close(fig)
        out.print(f"wrote {out_dir}", markup=False)


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
    _DEBUG["on"] = debug
    from simulator.calibration import export_fit
    from simulator.ensemble import run_ensemble

    sc, loc = _load(file, sets)
    observed = _observed(sc, loc)
    if observed is None:
        raise Fail(f"{file}: set `observed_exports:` (a CSV of month,total_t,...) to calibrate")
    cb, prog = _progress_cb(False)
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

        from simulator.output import atomic_file

        fig = ens.plot.exports(observed=observed)
        with atomic_file(figure) as tmp:
            fig.savefig(tmp, dpi=110, format=figure.suffix.lstrip(".") or "png")
        plt.close(fig)
        out.print(f"wrote {figure}", markup=False)


# ---------------------------------------------------------------------------- regress
from simulator.regress import regress_command  # noqa: E402 - defined in its own module

app.command("regress")(regress_command)


# ---------------------------------------------------------------------------- entry
class _Interrupted(KeyboardInterrupt):
    """Raised by relsim's own SIGINT and SIGTERM handlers; caught like any
    KeyboardInterrupt.

    A subclass on purpose: CPython 3.11 marks a plain ``KeyboardInterrupt`` that passes
    through ``exec()`` of a source string (dataclasses and namedtuple build methods that
    way, e.g. during a lazy import while outputs are written) as unhandled even when it
    is caught later, and ``python -m simulator`` then kills itself with SIGINT at exit
    (status -2) instead of returning 130. CPython checks for the exact type, so a
    subclass is not marked (tests/test_interrupt.py reproduces it).
    """


def _on_sigint(signum: int, frame: Any) -> None:
    raise _Interrupted


def _on_sigterm(signum: int, frame: Any) -> None:
    # once: a second SIGTERM must not interrupt the cleanup the first one started
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Interrupted


def _debug_for_every_command(args: list[str]) -> list[str]:
    """``--debug`` (which the internal-error hint suggests) works with every command: drop
    it from the arguments of a command that does not declare it (main() reads it)."""
    try:
        group: Any = typer.main.get_command(app)
        name = next(a for a in args if not a.startswith("-"))
        command = group.commands.get(name)
    except Exception:  # no command given, or not a group: leave the usage error to typer
        return args
    if command is None or any("--debug" in p.opts for p in command.params):
        return args
    return [a for a in args if a != "--debug"]


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, map failures to exit codes, no tracebacks
    unless ``--debug``."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    signal.signal(signal.SIGTERM, _on_sigterm)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (nohup)
        signal.signal(signal.SIGINT, _on_sigint)
    args = sys.argv[1:] if argv is None else argv
    _DEBUG["on"] = "--debug" in args
    if _DEBUG["on"]:
        args = _debug_for_every_command(args)
    try:
        rv = app(args=args, prog_name="relsim", standalone_mode=False)
        if rv == EXIT_INTERRUPTED:  # typer turns KeyboardInterrupt into a return of 130
            raise _Interrupted
        if isinstance(rv, int) and rv:
            return rv
    except ScenarioError as e:
        for p in e.problems:
            err.print(str(p), markup=False)
        return EXIT_INPUT
    except Fail as e:
        err.print(f"relsim: {e}", markup=False)
        return e.code
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except KeyboardInterrupt:
        output = sys.modules.get("simulator.output")  # not imported: nothing written
        written = [str(p) for p in getattr(output, "COMMITTED", [])]
        done = ", ".join(written[:3]) + (f" and {len(written) - 3} more" * (len(written) > 3))
        err.print(
            f"relsim: interrupted after writing {done}"
            if done
            else "relsim: interrupted; no results written",
            markup=False,
        )
        return EXIT_INTERRUPTED
    except Exception as e:
        # usage errors: click's, or the copy of click vendored by typer >= 0.20
        kinds = {c.__name__ for c in type(e).__mro__}
        if "ClickException" in kinds and hasattr(e, "show"):
            e.show()
            return EXIT_INPUT
        if "Abort" in kinds:
            err.print("relsim: aborted", markup=False)
            return EXIT_INTERRUPTED
        if isinstance(e, OSError) and e.filename and not _DEBUG["on"]:
            # a path the user gave cannot be read or written (e.g. --out in /proc)
            err.print(f"relsim: {e.strerror or e}: {e.filename}", markup=False)
            return EXIT_INPUT
        from simulator.ensemble import ReplicationError

        if isinstance(e, ReplicationError):
            err.print(f"relsim: {e}", markup=False)
            if _DEBUG["on"]:
                err.print(e.detail, markup=False)
            return EXIT_INTERNAL
        if _DEBUG["on"]:
            import traceback

            traceback.print_exc()
        else:
            err.print(
                f"relsim: internal error: {type(e).__name__}: {e}\n"
                "re-run with --debug for the traceback",
                markup=False,
            )
        return EXIT_INTERNAL
    return EXIT_OK


def entry() -> None:  # pragma: no cover
    """``python -m simulator``."""
    raise SystemExit(main())
