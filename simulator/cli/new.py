"""``relsim new NAME --from BASE``: a commented variant that ``extends:`` a base scenario."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.cli.app import Fail, ForceOpt, app, load
from simulator.cli.console import say
from simulator.errors import clean

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def default_variant_path(base: Path, filename: str) -> Path:
    """Where a new variant of ``base`` goes by default (``relsim new``, ``relsim fit``):
    the working directory when ``base`` lies below it in a subfolder (``extends:`` may
    read files under the variant's own folder, and ``relsim regress``, which checks
    ``scenarios/*.yaml``, does not pick up a draft that has no baseline yet); else
    beside ``base``."""
    here = Path.cwd().resolve()
    folder = base.resolve().parent
    if folder != here and folder.is_relative_to(here):
        return Path(filename)
    return base.parent / filename


def _date_in(sc: Any, frac: float) -> dt.date:
    """A date ``frac`` of the way through the scenario's horizon (a first of the month)."""
    d = sc.start + dt.timedelta(days=int(frac * (sc.end - sc.start).days))
    return d.replace(day=1) if d.replace(day=1) >= sc.start else d


def variant_text(name: str, base_file: Path, target: Path, sc: Any) -> str:
    """The text of a new variant of ``sc`` (read from ``base_file``) written to
    ``target``: a header to fill in, ``extends:`` the base by a relative path, and
    commented examples of the common changes using the base's own ids and dates — an
    overlay first ("slow X from D1 to D2", layered over every inherited rule)."""
    from simulator.scenario.groups import COUNTRY_GROUPS, group_members

    rel = Path(os.path.relpath(base_file.resolve(), target.resolve().parent)).as_posix()
    schema = None
    for parent in [target.resolve().parent, *target.resolve().parents]:
        candidate = parent / "schemas" / "scenario.schema.json"
        if candidate.is_file():
            schema = Path(os.path.relpath(candidate, target.resolve().parent)).as_posix()
            break
    m = sc.manufacturers[0].id if sc.manufacturers else "MANUFACTURER_ID"
    country = sc.manufacturers[0].country if sc.manufacturers else "US"
    ids = [c.id for c in sc.countries]
    dest, covers = country, ""
    for g in COUNTRY_GROUPS:
        members = group_members(g, ids)
        if country in members and len(members) > 1:
            dest, covers = g, f"  # {g}: {', '.join(members)} in this scenario"
    if not covers:
        covers = "  # a country id, a list, or a group (EU27)"
    exporter = next((e.id for e in sc.exporters if e.licensed), "EXPORTER_ID")
    d1, d2 = _date_in(sc, 0.6), _date_in(sc, 0.75) - dt.timedelta(days=1)
    lines = [
        *([f"# yaml-language-server: $schema={schema}", "#"] if schema else []),
        f"# {name}: a variant of {base_file.name} ({sc.name}).",
        "#",
        "# QUESTION. What does this variant ask that the base does not? (One or two",
        "# sentences; report.html shows this paragraph under the title.)",
        "#",
        f"# CHANGES. It inherits every field of {base_file.name} and writes only what",
        "# it changes. Mappings merge key by key; list items with an `id` (manufacturers,",
        "# exporters, lanes, countries) or a `name` (policy regimes) merge item by item;",
        "# other lists (timeline, rules, background streams) are replaced whole.",
        "# report.html and `relsim diff` list every resolved field that differs.",
        "#",
        "# SOURCES. Where the changed numbers come from (scenarios/data/README.md,",
        "# a dated announcement, an assumption and why).",
        "",
        f"extends: {rel}",
        "",
        f"name: {name}",
        "description: >-",
        f"  Variant of {sc.name}: say here what changes.",
        "",
        "# Common changes — uncomment and edit (docs/cookbook.md has worked cases).",
        "#",
        "# Slow one destination for a period: an overlay, in force from `from` to `until`",
        "# (inclusive) over whatever regime is active; every inherited rule stays in force",
        "# (factors multiply). Check it with `relsim explain THIS_FILE --date "
        f"{d1} --destination {country}`.",
        "#",
        "# policy:",
        "#   overlays:",
        f"#     - from: {d1}",
        f"#       until: {d2}",
        f"#       where: {{destination: {dest}}}{covers}",
        "#       review_time_factor: 2.0         # reviews twice as slow (or approval_probability,",
        "#       label: slower reviews           #  suspend, customs_hold, park, …)",
        "#",
        "# authority:",
        f"#   reviewers: {max(1, sc.authority.reviewers * 2)}        # twice the base's reviewers",
        "#",
        "# manufacturers:",
        f"#   - {{id: {m}, initial_cover_days: 20}}      # one field of one manufacturer",
        "#",
        "# exporters:",
        f"#   - {{id: {exporter}, capacity_t_per_month: 100}}",
        "#",
        "# Writing `policy: regimes:` with a base regime's name replaces that regime's",
        "# rules (a list is replaced whole): the base's standing rules (what every regime",
        "# `includes:`) would be lost. Prefer an overlay; `relsim diff BASE THIS_FILE`",
        "# shows what a change does to the resolved scenario.",
        "",
    ]
    return "\n".join(lines)


@app.command("new", short_help="Write a commented variant that extends a base scenario.")
def new(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Name of the new scenario (and of its file).")
    ],
    base: Annotated[
        Path,
        typer.Option("--from", metavar="BASE", help="The scenario file to extend."),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Where to write (default: NAME.yaml in the working directory when BASE is "
            "in a folder below it, so that relsim regress does not check a draft without "
            "a baseline; else beside BASE).",
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Write NAME.yaml: a commented variant that `extends:` BASE, with a header to fill
    in and commented examples of the common changes (an overlay first: it keeps every
    inherited rule). It validates as written (it changes nothing yet)."""
    from simulator.report.atomic import check_not_input, write_text_atomic

    if not _NAME.fullmatch(name):  # fullmatch: "$" would let a final newline through
        raise Fail(
            f"NAME {clean(repr(name), 80)}: use letters, digits, '_', '-' or '.', starting "
            "with a letter or digit (at most 64 characters)"
        )
    sc, loc = load(base, None, budget=False)
    target = output or default_variant_path(base, f"{name}.yaml")
    # never over the base or a file it extends (--force replaces outputs only)
    check_not_input(target, loc.files)
    if target.exists() and not force:
        raise Fail(f"{target} already exists; use --force to replace it")
    write_text_atomic(target, variant_text(name, base, target, sc))
    say(f"wrote {target} (extends {base.name}); check it with: relsim validate {target}")
