"""``relsim validate`` and ``relsim schema``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.app import EXIT_FAIL, EXIT_INPUT, SetOpt, app, load
from simulator.cli.console import err, out
from simulator.errors import ScenarioError


# ---------------------------------------------------------------------------- validate
@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files.", metavar="FILE...")],
    sets: SetOpt = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Treat warnings (parts of a scenario that do nothing) as errors."
        ),
    ] = False,
) -> None:
    """Check scenario files; print every problem at file:line:col, and warnings for parts
    that do nothing (a regime never scheduled, an overlay outside the horizon, a rule
    that matches nothing)."""
    from simulator.scenario.warnings import scenario_warnings

    bad = 0
    for f in files:
        try:
            sc, loc = load(f, sets)
        except ScenarioError as e:
            bad += 1
            for p in e.problems:
                err.print(str(p), markup=False)
            continue
        warned = scenario_warnings(sc, loc)
        for p in warned:
            err.print(f"warning: {p}", markup=False)
        if warned and strict:
            bad += 1
            continue
        out.print(
            f"ok  {f}  ({sc.name}: {sc.start}..{sc.end}, "
            f"{len(sc.manufacturers)} manufacturers, {len(sc.policy.regimes)} regimes)",
            markup=False,
        )
    if bad:
        what = "invalid or with warnings (--strict)" if strict else "invalid"
        err.print(f"{bad} of {len(files)} file(s) {what}", markup=False)
        raise typer.Exit(EXIT_INPUT)


# ---------------------------------------------------------------------------- schema
@app.command()
def schema(
    write: Annotated[Path | None, typer.Option(help="Write the schema to this file.")] = None,
    check: Annotated[Path | None, typer.Option(help="Exit 1 if this file is stale.")] = None,
) -> None:
    """Print the scenario JSON Schema (for editor completion and validation)."""
    from simulator.scenario.jsonschema import scenario_json_schema

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
        from simulator.report.atomic import write_text_atomic

        write_text_atomic(write, text)
        out.print(f"wrote {write}", markup=False)
        return
    sys.stdout.write(text)
