"""Warnings: parts of a valid scenario that do nothing.

A scenario can be valid and still contain something that silently has no effect: a
regime nothing schedules, an overlay outside the horizon, a rule whose selector matches
no application that can ever exist — by one of its keys, or by its keys together (a
destination and an applicant that no manufacturer's order and no background stream
combine). These are reported as warnings (``relsim validate`` exits 0; ``--strict``
makes them errors), located like errors.

**Notes** (:func:`check_notes`) point at what is easy to get wrong but does something:
an overlay that reaches background applications only, no modelled manufacturer (e.g.
``destination: EU`` in a scenario whose German plant is ``DE``: ``EU27`` covers both).
They never fail ``--strict``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from simulator.scenario.rules import Found, selector_rules

if TYPE_CHECKING:  # pragma: no cover
    from simulator.errors import Problem
    from simulator.scenario.located import Located
    from simulator.scenario.model import Scenario

__all__ = [
    "application_keys",
    "check_notes",
    "check_warnings",
    "scenario_notes",
    "scenario_warnings",
]


def _scheduled(sc: Scenario) -> set[str]:
    """Regimes that can be in force: the initial one, the timeline's, the chain's, and
    everything they include."""
    pol = sc.policy
    roots = {pol.initial} | {ch.regime for ch in pol.timeline}
    sw = pol.switching
    if sw is not None:
        roots |= {sw.initial} | set(sw.mean_duration_days) | set(sw.transitions)
        roots |= {to for row in sw.transitions.values() for to in row}
    by_name = pol.regimes_by_name()
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend(by_name[name].includes)
    return seen


def _unscheduled(sc: Scenario) -> Iterator[Found]:
    used = _scheduled(sc)
    for i, r in enumerate(sc.policy.regimes):
        if r.name not in used:
            yield (
                ("policy", "regimes", i, "name"),
                "regime is never in force: not the initial regime, not in the timeline or "
                "the switching chain, and no scheduled regime includes it",
                r.name,
            )


def _outside(sc: Scenario) -> Iterator[Found]:
    for i, ov in enumerate(sc.policy.overlays):
        if ov.until < sc.start or ov.from_ > sc.end:
            yield (
                ("policy", "overlays", i),
                f"overlay {ov.from_} .. {ov.until} lies outside the horizon "
                f"{sc.start} .. {sc.end}: it is never in force",
                ov.label or i,
            )
    for i, pu in enumerate(sc.policy.pulses):
        if (pu.until is not None and pu.until < sc.start) or (
            pu.from_ is not None and pu.from_ > sc.end
        ):
            yield (
                ("policy", "pulses", i),
                f"pulse window lies outside the horizon {sc.start} .. {sc.end}",
                pu.label or i,
            )


def _matches_nothing(sc: Scenario) -> Iterator[Found]:
    bg = sc.authority.background
    parts = [(m, p) for m in sc.manufacturers for p in m.bill()]
    can = {
        "destination": {b.destination for b in bg}
        | {m.country for m in sc.manufacturers}
        | {ln.destination for ln in sc.lanes},
        "product": {b.product for b in bg} | {p.material for _, p in parts},
        "end_use": {b.end_use for b in bg} | {m.end_use for m in sc.manufacturers},
        "exporter": {b.exporter for b in bg} | {e.id for e in sc.exporters},
        "applicant": {m.id for m in sc.manufacturers} | ({"background"} if bg else set()),
    }
    what = {
        "destination": "no background stream, manufacturer or lane goes to",
        "product": "no background stream or manufacturer's part is",
        "end_use": "no background stream or manufacturer has the end use",
        "exporter": "no exporter or background stream is",
        "applicant": "no application comes from",
    }
    for path, ru in selector_rules(sc):
        for key, allowed in can.items():
            vals = getattr(ru.where, key)
            if vals is None:
                continue
            dead = [v for v in vals if v not in allowed]
            if dead and len(dead) == len(vals):
                yield (
                    (*path, "where", key),
                    f"selector matches nothing in this scenario: {what[key]} "
                    f"{', '.join(map(str, dead))}; the rule never applies",
                    vals if len(vals) > 1 else vals[0],
                )


SELECTOR_KEYS = ("destination", "product", "end_use", "exporter", "applicant")
"""What a rule's ``where`` selects on, in the order of :func:`application_keys`."""


def application_keys(sc: Scenario) -> list[tuple[str, str, str, str, str]]:
    """Every kind of licence application the scenario can produce, as ``(destination,
    product, end_use, exporter, applicant)``: each background stream (applicant
    ``background``), and each manufacturer's part from each licensed exporter supplying
    it (applicant: the manufacturer). The same keys as
    :func:`simulator.world.effects.application_keys` (which the engines match rules
    against), computed here from the scenario alone."""
    out: dict[tuple[str, str, str, str, str], None] = {}
    for b in sc.authority.background:
        out[(b.destination, b.product, b.end_use, b.exporter, "background")] = None
    licensed = {e.id for e in sc.exporters if e.licensed}
    for m in sc.manufacturers:
        for part in m.bill():
            sources = [s.exporter for s in part.suppliers]
            sources += [ship.exporter for ship in part.initial_shipments]
            for ex in sources:
                if ex is not None and ex in licensed:
                    out[(m.country, part.material, m.end_use, ex, m.id)] = None
    return list(out)


def _reached(ru: object, keys: list[tuple[str, str, str, str, str]]) -> list[tuple[str, ...]]:
    """The application keys a rule's ``where`` matches, all its keys together."""
    where = ru.where  # type: ignore[attr-defined]
    sel = [(i, getattr(where, k)) for i, k in enumerate(SELECTOR_KEYS)]
    sel = [(i, set(v)) for i, v in sel if v is not None]
    return [key for key in keys if all(key[i] in v for i, v in sel)]


def _matches_nothing_together(sc: Scenario) -> Iterator[Found]:
    """Rules whose keys each match something but never together (a destination no
    application from that applicant goes to): they reach no modelled manufacturer and
    no background stream."""
    keys = application_keys(sc)
    single = {path for path, _, _ in _matches_nothing(sc)}
    for path, ru in selector_rules(sc):
        if ru.where.specificity() < 2 or any(p[: len(path)] == path for p in single):
            continue
        if not _reached(ru, keys):
            given = {k: v for k in SELECTOR_KEYS if (v := getattr(ru.where, k)) is not None}
            text = ", ".join(f"{k}: {v[0] if len(v) == 1 else v}" for k, v in given.items())
            yield (
                (*path, "where"),
                f"selector {{{text}}} reaches no modelled manufacturer and no background "
                "stream: no application has these together; the rule never applies",
                None,
            )


WARNINGS = (_unscheduled, _outside, _matches_nothing, _matches_nothing_together)
"""Every warning check, in the order they run."""


def check_warnings(sc: Scenario) -> list[Found]:
    """Every warning of a valid scenario as ``(path, message, value)``."""
    out: list[Found] = []
    for fn in WARNINGS:
        out.extend(fn(sc))
    return out


def check_notes(sc: Scenario) -> list[Found]:
    """Overlays (dated or pulses) that reach background applications but no modelled
    manufacturer, as ``(path, message, value)``: they slow no modelled plant's own
    licences (the shared reviewer pool may still pass some effect on), which is rarely
    what "slow X from D1 to D2" means; the message names a country group that would
    reach a plant too."""
    from simulator.scenario.groups import COUNTRY_GROUPS, group_members

    keys = application_keys(sc)
    plants = sorted({m.country for m in sc.manufacturers})
    ids = [c.id for c in sc.countries]
    out: list[Found] = []
    for path, ru in selector_rules(sc):
        if path[1] not in ("overlays", "pulses") or not sc.manufacturers:
            continue
        reached = _reached(ru, keys)
        if not reached or any(k[4] != "background" for k in reached):
            continue
        dests = ru.where.destination or []
        hint = ""
        for g in COUNTRY_GROUPS:
            members = group_members(g, ids)
            if dests and set(dests) <= set(members) and set(members) & set(plants):
                hint = f"; did you mean destination: {g} ({', '.join(members)})?"
        out.append(
            (
                (*path, "where"),
                "reaches background applications only, no modelled manufacturer (their "
                f"countries: {', '.join(plants)}): it slows no modelled plant's own "
                f"licences{hint}",
                None,
            )
        )
    return out


def scenario_notes(sc: Scenario, loc: Located) -> list[Problem]:
    """:func:`check_notes`, located at ``file:line:col`` (those in the file itself, as
    :func:`scenario_warnings`)."""
    return _located(sc, loc, check_notes(sc))


def scenario_warnings(sc: Scenario, loc: Located) -> list[Problem]:
    """The scenario's warnings, located at ``file:line:col``: those in the file itself
    (a variant that ``extends:`` a base is not warned about what it inherits and does
    not use)."""
    return _located(sc, loc, check_warnings(sc))


def _located(sc: Scenario, loc: Located, found: list[Found]) -> list[Problem]:
    from simulator.errors import MISSING

    own = loc.files[-1] if loc.files else None
    out = []
    for path, message, value in found:
        p = loc.problem(path, message, value if value is not None else MISSING)
        if own is None or p.file in (own, None) or not p.file or p.file.startswith("--set"):
            out.append(p)
    return out
