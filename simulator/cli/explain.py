"""``relsim explain`` (the rules in force on a date) and ``relsim diff`` (what differs
between two scenarios)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.app import Fail, SetOpt, app, load
from simulator.cli.console import out, say, say_json


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Fail(f"--date {text!r}: expected a date as YYYY-MM-DD, e.g. 2025-09-15") from None


# ---------------------------------------------------------------------------- explain
@app.command(short_help="Which rules apply on a date, and what they add up to.")
def explain(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Scenario file.")],
    date: Annotated[str, typer.Option("--date", metavar="DATE", help="The day, YYYY-MM-DD.")],
    destination: Annotated[
        str | None, typer.Option(metavar="ID", help="Destination country id.")
    ] = None,
    product: Annotated[str | None, typer.Option(metavar="ID", help="Product id.")] = None,
    end_use: Annotated[
        str | None, typer.Option("--end-use", metavar="LABEL", help="End-use label.")
    ] = None,
    exporter: Annotated[str | None, typer.Option(metavar="ID", help="Exporter id.")] = None,
    applicant: Annotated[
        str | None, typer.Option(metavar="ID", help="Manufacturer id, or `background`.")
    ] = None,
    sets: SetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Which rules apply on a date, and what they add up to.

    Prints the regime and overlays in force, every rule that matches the applications
    asked about (omitted attributes: every application in the scenario), with its note,
    and the combined effect: review speed, approval and information-request
    probabilities, reviewers, priority, suspension, licence validity, customs holds,
    inspections and parked files.
    """
    from simulator.world.explain import explain as explain_fn

    day = _date(date)
    sc, _ = load(file, sets, budget=False)
    e = explain_fn(
        sc,
        day,
        destination=destination,
        product=product,
        end_use=end_use,
        exporter=exporter,
        applicant=applicant,
    )
    if as_json:
        say_json(e.to_dict())
    else:
        say(e)


# ---------------------------------------------------------------------------- diff
@app.command(short_help="What differs between two scenarios, path by path.")
def diff(
    a: Annotated[
        Path, typer.Argument(metavar="A", help="First scenario file (e.g. the baseline).")
    ],
    b: Annotated[Path, typer.Argument(metavar="B", help="Second scenario file.")],
    sets_a: Annotated[
        list[str] | None,
        typer.Option("--set-a", metavar="KEY=VALUE", help="Override a field of A (repeatable)."),
    ] = None,
    sets_b: Annotated[
        list[str] | None,
        typer.Option("--set-b", metavar="KEY=VALUE", help="Override a field of B (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """What differs between two scenarios, after `extends:`, overrides and defaults:
    one line per path (as --set takes it) with A's and B's values. Exit 0 either way."""
    from simulator.scenario.diff import diff as diff_fn

    sa, _ = load(a, sets_a, budget=False)
    sb, _ = load(b, sets_b, budget=False)
    d = diff_fn(sa, sb)
    if as_json:
        say_json(d.to_list())
    else:
        say(d.render(limit=10_000, width=out.width))
