"""The ``relsim`` command line's infrastructure: the typer app, consoles, exit codes,
shared options, and the entry point that maps failures to exit codes. Commands live in
one module each (:mod:`.validate`, :mod:`.run`, :mod:`.compare`, :mod:`.calibrate`,
:mod:`.regress`, :mod:`.sweep`, :mod:`.fit`); the CLI never simulates itself: it loads,
calls the library, prints and writes.

Exit codes: 0 ok; 1 regression/check failed, or the Dask cluster went away before every
replication ran; 2 bad input or usage (one line naming the file or option, no
traceback); 70 internal error (a defect; ``--debug`` shows the traceback); 130
interrupted (Ctrl-C, SIGTERM or SIGHUP).

Everything printed goes through :mod:`.console`'s :func:`~.console.say`,
:func:`~.console.tell`, :func:`~.console.say_json` and :func:`~.console.say_table`:
control characters and escape sequences from files and options are shown as escapes,
nothing is read as markup.

Each command runs inside :func:`simulator.scenario.reading.track_reads`: no output it
writes may replace a file it read (:func:`simulator.report.atomic.check_not_input`).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.console import tell
from simulator.errors import InputRefused, ScenarioError, clean, clean_lines
from simulator.limits import Limits
from simulator.replication.engines import DEFAULT_ENGINE, ENGINES

app = typer.Typer(
    name="relsim",
    help="Simulate rare-earth export-licence delays and the shortages they cause.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # help never wraps at 80 columns when piped, and option help is never cut
    context_settings={
        "max_content_width": 110,
        "terminal_width": 110,
        "help_option_names": ["--help", "-h"],
    },
)


def _version(value: bool) -> None:
    if value:
        from simulator.cli.console import say
        from simulator.version import __version__

        say(f"relsim {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print relsim's version and exit.",
        ),
    ] = False,
) -> None:
    """Simulate rare-earth export-licence delays and the shortages they cause."""


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    """``1 manufacturer``, ``2 manufacturers`` (``plural_word`` for irregular ones)."""
    return f"{n:,} {word if n == 1 else (plural_word or word + 's')}"


class Executor(StrEnum):
    """Where replications run (``--executor``)."""

    serial = "serial"
    processes = "processes"
    dask = "dask"


Engine = StrEnum("Engine", [(name, name) for name in ENGINES])  # type: ignore[misc]
Engine.__doc__ = """What simulates the replications (``--engine``): one of
:data:`~simulator.replication.engines.ENGINES`."""
ENGINE_DEFAULT = Engine(DEFAULT_ENGINE)
"""The ``--engine`` default: :data:`~simulator.replication.engines.DEFAULT_ENGINE`."""


class Format(StrEnum):
    """Figure file format (``--format``)."""

    png = "png"
    svg = "svg"
    pdf = "pdf"


RepsOpt = Annotated[
    int | None,
    typer.Option(
        min=1, max=Limits.MAX_REPS, metavar="N", help="Replications (default: the scenario's reps)."
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        min=0, max=Limits.MAX_SEED, metavar="S", help="Root seed (default: the scenario's seed)."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=Limits.MAX_WORKERS,
        metavar="N",
        help="Worker processes (default: every core, never more than replications; 1 runs "
        "serially).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(metavar="ADDRESS", help="Dask scheduler to run on, e.g. tcp://host:8786."),
]
ExecutorOpt = Annotated[
    Executor | None,
    typer.Option(help="Where replications run (default: processes, or dask with --scheduler)."),
]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        help="kernel: the compiled event kernel (fast; compiled once per machine and cached, "
        "see README); simpy: the readable SimPy reference model (~15x slower). Both give "
        "identical results.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bar and no table.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Replace the output directory if it exists.")
]
FormatOpt = Annotated[
    Format, typer.Option("--format", help="Figure file format.", case_sensitive=False)
]
DpiOpt = Annotated[
    int | None,
    typer.Option(min=30, max=1200, metavar="N", help="Resolution of PNG figures (default 150)."),
]

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 70, 130
DEBUG = {"on": False}
"""Whether ``--debug`` was given (tracebacks shown)."""


class Fail(Exception):
    """A handled failure: message and exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a field, e.g. authority.reviewers=30 (repeatable).",
    ),
]
AllowOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-path",
        metavar="DIR",
        help="Also read files a scenario names (extends:, observed_exports:) under this "
        "folder; by default only the scenario's own folder (repeatable).",
    ),
]


def overrides_of(items: list[str] | None) -> dict[str, Any]:
    from simulator.scenario.compose import parse_set_option

    result: dict[str, Any] = {}
    for text in items or []:
        key, value = parse_set_option(text)
        result[key] = value
    return result


def run_options(
    seed: int | None,
    workers: int | None,
    executor: Executor | None,
    scheduler: str | None,
    sets: list[str] | None,
    allow: list[Path] | None,
) -> dict[str, Any]:
    """The keyword arguments every explore command (``fit``, ``sweep``, ``forecast``,
    ``backtest``) hands its library function from the shared options: ``seed``,
    ``workers``, ``executor`` (its value), ``scheduler``, ``overrides`` (the ``--set``
    options) and ``allow`` (the ``--allow-path`` folders)."""
    return {
        "seed": seed,
        "workers": workers,
        "executor": executor.value if executor is not None else None,
        "scheduler": scheduler,
        "overrides": overrides_of(sets),
        "allow": allow or (),
    }


def load(
    path: Path,
    sets: list[str] | None,
    allow: list[Path] | None = None,
    check_data: bool = True,
    budget: bool = True,
) -> tuple[Any, Any]:
    """Load and validate a scenario file with ``--set`` options; its data files are
    checked too (:func:`observed_for`), so what ``validate`` accepts, ``run`` reads, and
    what one replication would cost (:func:`simulator.world.budget.check_budget`, on
    the default engine), so what ``validate`` accepts, ``run`` runs.
    ``check_data=False`` for a caller that reads them right after (the same checks);
    ``budget=False`` for a command that runs nothing (``explain``, ``diff``, ``new``)."""
    from simulator.scenario.load import load_scenario_located

    sc, loc = load_scenario_located(path, overrides_of(sets), allow=allow or ())
    if budget:
        from simulator.replication.engines import check_budget

        check_budget(sc, DEFAULT_ENGINE, loc)
    if check_data:
        observed_for(sc, loc, allow, path, check_only=True)
    return sc, loc


def observed_for(
    sc: Any,
    loc: Any,
    allow: list[Path] | None = None,
    path: Path | None = None,
    check_only: bool = False,
) -> Any:
    """The scenario's observed exports (None when it names none, or with ``check_only``:
    then the file is checked exactly as it would be read, without pandas).

    Raises:
        ScenarioError: Located at ``observed_exports``: outside the allowed folders, not
            a regular file, too large, or not a table of month,total_t (never quoting it).
    """
    from simulator.scenario.load import data_file

    target = data_file(sc, loc, allow=allow or (), path=path)
    if target is None:
        return None
    from simulator.report.observed import check_observed_exports, load_observed_exports

    try:
        if check_only:
            check_observed_exports(target)
            return None
        return load_observed_exports(target)
    except (ValueError, OSError) as e:
        raise ScenarioError(loc.problem(("observed_exports",), str(e))) from None


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
    # once: a second SIGTERM (or SIGHUP) must not interrupt the cleanup the first started
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
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


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Python warnings, printed through :func:`~.console.tell` (cleaned); relsim's own
    (``relsim: ...``) as they are."""
    text = str(message)
    tell(text if text.startswith("relsim: ") else f"warning: {category.__name__}: {text}")


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, map failures to exit codes, no tracebacks
    unless ``--debug``."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from simulator.ensemble.executors import QUIET_DASK

    QUIET_DASK["on"] = True  # a lost cluster is reported by relsim, not by Dask's tracebacks
    signal.signal(signal.SIGTERM, _on_sigterm)
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
        signal.signal(signal.SIGHUP, _on_sigterm)  # the terminal closed (not under nohup)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (nohup)
        signal.signal(signal.SIGINT, _on_sigint)
    args = sys.argv[1:] if argv is None else argv
    DEBUG["on"] = "--debug" in args
    if DEBUG["on"]:
        args = _debug_for_every_command(args)
    from simulator.scenario.reading import track_reads

    try:
        # what the command reads (no output of it may replace it); Python warnings (e.g.
        # a glyph a figure's font lacks, named by its character) printed cleaned too
        with track_reads(), warnings.catch_warnings():
            warnings.showwarning = _show_warning
            rv = app(args=args, prog_name="relsim", standalone_mode=False)
        if rv == EXIT_INTERRUPTED:  # typer turns KeyboardInterrupt into a return of 130
            raise _Interrupted
        if isinstance(rv, int) and rv:
            return rv
    except ScenarioError as e:
        for p in e.problems:
            tell(str(p))
        return EXIT_INPUT
    except Fail as e:
        tell(f"relsim: {clean_lines(str(e))}")
        return e.code
    except InputRefused as e:
        tell(f"relsim: {clean_lines(str(e))}")
        return EXIT_INPUT
    except typer.Exit as e:
        return int(e.exit_code or 0)
    except KeyboardInterrupt:
        output = sys.modules.get("simulator.report.atomic")  # not imported: nothing written
        written = [str(p) for p in getattr(output, "COMMITTED", [])]
        done = ", ".join(written[:3]) + (f" and {len(written) - 3} more" * (len(written) > 3))
        tell(
            f"relsim: interrupted after writing {done}"
            if done
            else "relsim: interrupted; no results written"
        )
        return EXIT_INTERRUPTED
    except Exception as e:
        # usage errors: click's, or the copy of click vendored by typer >= 0.20
        kinds = {c.__name__ for c in type(e).__mro__}
        if "ClickException" in kinds and hasattr(e, "show"):
            if hasattr(e, "message"):
                e.message = clean(e.message, 300)  # e.g. a 5,000-digit --reps
            e.show()
            return EXIT_INPUT
        if "Abort" in kinds:
            tell("relsim: aborted")
            return EXIT_INTERRUPTED
        from simulator.errors import ClusterLost, ReplicationError, SchedulerUnreachable
        from simulator.report.atomic import OutputRefused

        if isinstance(e, OutputRefused):
            tell(f"relsim: {clean_lines(str(e))}")
            return EXIT_INPUT
        if isinstance(e, SchedulerUnreachable):
            tell(f"relsim: --scheduler: {clean(str(e))}")
            return EXIT_INPUT
        if isinstance(e, ClusterLost):
            tell(f"relsim: {clean(str(e))}")
            return EXIT_FAIL
        if isinstance(e, OSError) and e.filename and not DEBUG["on"]:
            # a path the user gave cannot be read or written (e.g. --out in /proc)
            tell(f"relsim: {clean(e.strerror or str(e))}: {clean(e.filename)}")
            return EXIT_INPUT
        if isinstance(e, ReplicationError):
            tell(f"relsim: {clean(str(e), 1000)}")
            if DEBUG["on"]:
                tell(clean_lines(e.detail))
            return EXIT_INTERNAL
        if DEBUG["on"]:
            import traceback

            traceback.print_exc()
        else:
            tell(
                f"relsim: internal error: {type(e).__name__}: {clean(str(e), 500)}\n"
                "re-run with --debug for the traceback"
            )
        return EXIT_INTERNAL
    return EXIT_OK


def entry() -> None:  # pragma: no cover
    """``python -m simulator``."""
    raise SystemExit(main())
