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
    files: Annotated[list[Path], typer.Argument(help="Scenario files.")],
    sets: SetOpt = None,
) -> None:
    """Check scenario files; print every problem at file:line:col."""
    bad = 0
    for f in files:
        try:
            sc, _ = load(f, sets)
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
