"""``relsim validate`` and ``relsim schema``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.app import EXIT_FAIL, EXIT_INPUT, AllowOpt, Fail, SetOpt, app, load, plural
from simulator.cli.console import say, say_raw, tell
from simulator.errors import ScenarioError, clean
from simulator.limits import Limits


# ---------------------------------------------------------------------------- validate
@app.command(short_help="Check scenario files; every problem at file:line:col.")
def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Scenario files (YAML).")],
    sets: SetOpt = None,
    allow: AllowOpt = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Treat warnings (parts of a scenario that do nothing) as errors."
        ),
    ] = False,
) -> None:
    """Check scenario files and the data files they name; print every problem at
    file:line:col, warnings for parts that do nothing (a regime never scheduled, an
    overlay outside the horizon, a rule that matches nothing or reaches no modelled
    manufacturer and no background stream), and notes (an overlay that reaches no
    modelled manufacturer; they never fail --strict). What validate accepts, run runs."""
    from simulator.scenario.warnings import scenario_notes, scenario_warnings

    bad = 0
    for f in files:
        try:
            sc, loc = load(f, sets, allow)
        except ScenarioError as e:
            bad += 1
            for p in e.problems:
                tell(p)
            continue
        warned = scenario_warnings(sc, loc)
        for p in warned:
            tell(f"warning: {p}")
        for p in scenario_notes(sc, loc):
            tell(f"note: {p}")
        if warned and strict:
            bad += 1
            continue
        say(
            f"ok  {f}  ({clean(sc.name, 200)}: {sc.start}..{sc.end}, "
            f"{plural(len(sc.manufacturers), 'manufacturer')}, "
            f"{plural(len(sc.policy.regimes), 'regime')})"
        )
    if bad:
        what = "invalid or with warnings (--strict)" if strict else "invalid"
        tell(f"{bad} of {plural(len(files), 'file')} {'is' if bad == 1 else 'are'} {what}")
        raise typer.Exit(EXIT_INPUT)


# ---------------------------------------------------------------------------- schema
@app.command(short_help="Print the scenario JSON Schema (for editors).")
def schema(
    write: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the schema to this file.")
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Exit 1 if this file differs from the schema."),
    ] = None,
) -> None:
    """Print the scenario JSON Schema (for editor completion and validation)."""
    from simulator.scenario.jsonschema import scenario_json_schema

    text = scenario_json_schema()
    if check is not None:
        from simulator.scenario.reading import UnreadableFile, read_limited

        try:
            current = read_limited(check, Limits.MAX_SCENARIO_BYTES, "JSON file").decode(
                "utf-8", "replace"
            )
        except UnreadableFile as e:
            if not check.exists() or "not found" in str(e):
                current = ""
            else:
                raise Fail(f"--check {check}: {e}") from None
        if current != text:
            tell(f"{check} is stale; regenerate with `relsim schema --write {check}`")
            raise typer.Exit(EXIT_FAIL)
        say(f"{check} is up to date")
        return
    if write is not None:
        from simulator.report.atomic import write_text_atomic

        write_text_atomic(write, text)
        say(f"wrote {write}")
        return
    say_raw(text)
