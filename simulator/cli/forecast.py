"""``relsim forecast`` and ``relsim backtest``: forecasts conditioned on the figures public
by a date, and how good such forecasts have been."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.app import (
    DEBUG,
    AllowOpt,
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

TargetsOpt = Annotated[
    Path,
    typer.Option(
        metavar="FILE",
        help="Targets file (as for relsim fit) with a parameters: block: the figures to "
        "condition on and the free parameters to infer.",
    ),
]
SimulationsOpt = Annotated[
    int,
    typer.Option(
        min=100,
        max=Limits.MAX_BANK_SIMS,
        metavar="N",
        help="Simulations in the bank (prior draws, one replication each; stored and reused).",
    ),
]
MethodOpt = Annotated[
    str,
    typer.Option(
        metavar="METHOD",
        help="npe: neural posterior estimation (sbi; needs pip install 'relsim[forecast]'); "
        "abc: rejection ABC with regression adjustment (numpy only).",
    ),
]
BankOpt = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="Where the simulation bank is kept (default: <scenario stem>-<targets stem>.bank "
        "beside the output; shared by forecasts and backtests of the same files). An "
        "interrupted run resumes from it.",
    ),
]
ForceOpt = Annotated[
    bool, typer.Option(help="Replace an existing output (a relsim output) and fitted file.")
]
QuietOpt = Annotated[bool, typer.Option(help="No progress bar.")]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks.")]


def _method(method: str) -> str:
    from simulator.explore.inference import METHODS

    if method not in METHODS:
        raise Fail(f"--method must be one of {', '.join(METHODS)}")
    if method == "npe":
        try:
            import sbi  # noqa: F401
            import torch  # noqa: F401
        except ImportError:
            raise Fail(
                "--method npe needs the forecast extra: pip install 'relsim[forecast]' "
                "(or use --method abc)"
            ) from None
    return method


def _interrupted(bank: Path | None) -> None:
    from simulator.explore.bank import MANIFEST

    if bank is not None and (bank / MANIFEST).exists():
        n = len(list((bank / "chunks").glob("c*.npz"))) if (bank / "chunks").exists() else 0
        tell(
            f"relsim: the bank in {clean(bank)} keeps its finished chunks ({n}); run the same "
            "command again to resume from them"
        )


def _bank_of(out_dir: Path, file: Path, targets: Path, bank: Path | None) -> Path:
    return bank or out_dir.parent / f"{file.stem}-{targets.stem}.bank"


def _running(
    quiet: bool, out_dir: Path, file: Path, targets: Path, bank: Path | None
) -> AbstractContextManager[Callable[[int, int], None] | None]:
    """The progress of a forecast's or a backtest's simulations; on Ctrl-C, what the
    bank keeps (:func:`_interrupted`)."""
    return progress_run(
        quiet, "simulations", lambda: _interrupted(_bank_of(out_dir, file, targets, bank))
    )


@app.command(short_help="Forecast a scenario from the figures public by a date.")
def forecast(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    targets: TargetsOpt,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="Use only the targets published on or before this date (YYYY-MM-DD).",
        ),
    ],
    simulations: SimulationsOpt = 4_000,
    draws: Annotated[
        int,
        typer.Option(
            min=10, max=Limits.MAX_BANK_SIMS, metavar="N", help="Posterior predictive simulations."
        ),
    ] = 400,
    method: MethodOpt = "npe",
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Forecast directory (default: runs/<scenario stem>-forecast-<DATE>)."
        ),
    ] = None,
    bank: BankOpt = None,
    fitted: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Scenario at the posterior median, a file that extends FILE (default: "
            "<stem>-forecast.yaml beside FILE).",
        ),
    ] = None,
    sets: SetOpt = None,
    allow: AllowOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Infer the targets file's free parameters from the figures public by --as-of, then
    simulate forward: monthly exports by destination with bands, shortage curves and
    P(line stop by date) per manufacturer, licence waits. Writes a forecast directory
    (tables, figures, report.html) and a fitted file at the posterior median."""
    DEBUG["on"] = debug
    from simulator.explore.forecast import forecast as run_forecast

    m = _method(method)
    target = out_dir or Path("runs") / f"{file.stem}-forecast-{clean(as_of, 20)}"
    with _running(quiet, target, file, targets, bank) as cb:
        res = run_forecast(
            file,
            targets,
            as_of,
            simulations=simulations,
            draws=draws,
            method=m,
            **run_options(seed, workers, executor, scheduler, sets, allow),
            out=target,
            bank=bank,
            fitted=fitted,
            force=force,
            progress=cb,
        )
    say(
        f"{clean(res.setup.scenario.name, 200)}: forecast as of {res.as_of}, conditioned on "
        f"{int(res.mask.sum())} of {len(res.setup.targets)} targets of {clean(targets)} "
        f"({res.method}, {res.simulations:,} simulations, {len(res.theta):,} predictive, "
        f"seed {res.seed})"
    )
    say(parameters_text(res.parameters()))
    say(checks_text(res.tables()["forecast_targets"]))
    assert res.fitted_file is not None
    say(
        f"wrote {clean(target)} and {clean(res.fitted_file)} (extends {clean(file.name)}); "
        f"bank {clean(res.bank_dir)} ({res.timings.get('total', 0):.1f} s)"
    )


def parameters_text(frame: Any) -> str:
    """The posterior per parameter: median, 90 % interval, prior range."""

    def v(x: Any) -> str:
        return f"{x:.4g}"

    head = f"{'parameter':56} {'median':>9}   {'90% interval':23} {'prior range':>19}"
    lines = [head, "-" * len(head)]
    for r in frame.itertuples():
        lines.append(
            f"{clean(r.parameter, 56):56} {v(r.p50):>9}   "
            f"{'[' + v(r.p5) + ', ' + v(r.p95) + ']':23} "
            f"{'[' + v(r.prior_low) + ', ' + v(r.prior_high) + ']':>19}"
        )
    return "\n".join(lines)


def checks_text(frame: Any) -> str:
    """The targets that came after the as-of date: observed against the 90 % band."""
    later = frame[~frame["public"].astype(bool)]
    if later.empty:
        return "every target was public by the as-of date: nothing later to check against"
    inside = int(((later["p5"] <= later["observed"]) & (later["observed"] <= later["p95"])).sum())
    return (
        f"targets published after the as-of date: {inside} of {len(later)} inside the "
        "forecast's 90 % band (table: targets.csv)"
    )


@app.command(short_help="Score forecasts from past origins against what happened.")
def backtest(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    targets: TargetsOpt,
    origins: Annotated[
        str,
        typer.Option(
            metavar="FROM:TO",
            help="Origin months, e.g. 2025-05:2025-11 (or a list 2025-05,2025-08): each "
            "forecasts from the figures public by the end of its month.",
        ),
    ],
    horizon: Annotated[
        int, typer.Option(min=1, max=12, metavar="N", help="Months scored after each origin.")
    ] = 3,
    simulations: SimulationsOpt = 4_000,
    draws: Annotated[
        int,
        typer.Option(
            min=10,
            max=Limits.MAX_BANK_SIMS,
            metavar="N",
            help="Posterior predictive simulations per origin.",
        ),
    ] = 200,
    method: MethodOpt = "npe",
    sbc: Annotated[
        int,
        typer.Option(
            min=0,
            max=Limits.MAX_BANK_SIMS,
            metavar="K",
            help="Also check the inference: simulation-based calibration on K synthetic data "
            "sets held out from the bank (0: none; 100 or more for a meaningful test).",
        ),
    ] = 0,
    seed: SeedOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = None,
    scheduler: SchedulerOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Backtest directory (default: runs/<scenario stem>-backtest)."),
    ] = None,
    bank: BankOpt = None,
    sets: SetOpt = None,
    allow: AllowOpt = None,
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """For each origin month, forecast the next --horizon months from the figures public
    by then and score them against the observed values (50 %/90 % coverage, CRPS, PIT),
    beside the last-value and same-month-last-year baselines. One bank serves every
    origin."""
    DEBUG["on"] = debug
    from simulator.explore.backtest import backtest as run_backtest

    m = _method(method)
    target = out_dir or Path("runs") / f"{file.stem}-backtest"
    with _running(quiet, target, file, targets, bank) as cb:
        res = run_backtest(
            file,
            targets,
            origins,
            horizon=horizon,
            simulations=simulations,
            draws=draws,
            method=m,
            sbc=sbc,
            **run_options(seed, workers, executor, scheduler, sets, allow),
            out=target,
            bank=bank,
            force=force,
            progress=cb,
        )
    say(
        f"{clean(res.setup.scenario.name, 200)}: backtest of {len(res.origins)} origins "
        f"({res.origins[0]} … {res.origins[-1]}), horizon {res.horizon} months, "
        f"{res.method} on {res.simulations:,} simulations, seed {res.seed}"
    )
    say(summary_text(res.summary))
    if res.sbc is not None:
        p = ", ".join(f"{x:.2g}" for x in res.sbc.p_value)
        say(
            f"simulation-based calibration, {res.sbc.k} data sets: rank uniformity p = {p}; "
            + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in res.sbc.checks.items())
        )
    say(f"wrote {clean(target)} ({res.timings.get('total', 0):.1f} s)")


def summary_text(frame: Any) -> str:
    """Coverage and CRPS per series and forecaster."""
    head = (
        f"{'series':14} {'forecaster':12} {'n':>3} {'cov50':>6} {'cov90':>6} {'CRPS':>9} "
        f"{'skill':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in frame.itertuples():
        lines.append(
            f"{clean(r.series, 14):14} {r.forecaster:12} {int(r.n):>3} {r.coverage50:>6.2f} "
            f"{r.coverage90:>6.2f} {r.crps:>9.1f} {r.crps_skill:>6.2f}"
        )
    return "\n".join(lines)
