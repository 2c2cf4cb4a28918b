"""Warnings: parts of a valid scenario that do nothing.

A scenario can be valid and still contain something that silently has no effect: a
regime nothing schedules, an overlay outside the horizon, a rule whose selector matches
no application that can ever exist. These are reported as warnings (``relsim validate``
exits 0; ``--strict`` makes them errors), located like errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from simulator.scenario.rules import Found, selector_rules

if TYPE_CHECKING:  # pragma: no cover
    from simulator.errors import Problem
    from simulator.scenario.located import Located
    from simulator.scenario.model import Scenario

__all__ = ["check_warnings", "scenario_warnings"]


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


WARNINGS = (_unscheduled, _outside, _matches_nothing)
"""Every warning check, in the order they run."""


def check_warnings(sc: Scenario) -> list[Found]:
    """Every warning of a valid scenario as ``(path, message, value)``."""
    out: list[Found] = []
    for fn in WARNINGS:
        out.extend(fn(sc))
    return out


def scenario_warnings(sc: Scenario, loc: Located) -> list[Problem]:
    """The scenario's warnings, located at ``file:line:col``: those in the file itself
    (a variant that ``extends:`` a base is not warned about what it inherits and does
    not use)."""
    from simulator.errors import MISSING

    own = loc.files[-1] if loc.files else None
    out = []
    for path, message, value in check_warnings(sc):
        p = loc.problem(path, message, value if value is not None else MISSING)
        if own is None or p.file in (own, None) or not p.file or p.file.startswith("--set"):
            out.append(p)
    return out
