"""``explain``: which rules apply to an application on a date, and what they add up to.

The answer is computed by the same code the simulation uses (:mod:`simulator.world.effects`),
so it cannot drift from what a run does. It is deterministic: the regime on a date comes
from the dated timeline; after a stochastic switching chain takes over, every regime the
chain can be in is explained in turn, and pulses (stochastic overlays) whose window holds
the date are shown as "may be in force" with what they would change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.world.codes import EFFECTS_TABLE
from simulator.world.effects import (
    EFFECTS,
    FACTORS,
    SELECTORS,
    AppKey,
    PolicyBook,
    Resolved,
    application_keys,
    capacity,
    matches,
    select,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.scenario.policy import Rule

__all__ = ["Explanation", "InForce", "explain"]

_MAX_GROUPS = 50
"""Most distinct groups of applications listed (a scenario has few; bounds the output)."""


@dataclass(frozen=True)
class InForce:
    """One matching rule in force, and where it comes from."""

    source: str
    """``regime <name>`` (the regime, or ``regime <name> ← <included>``), ``overlay
    <label>`` or ``pulse <label>``."""
    where: dict[str, list[str]]
    """The rule's selectors (empty: every application)."""
    effects: dict[str, Any]
    """The effects the rule sets."""
    note: str
    """The rule's note."""


@dataclass(frozen=True)
class Group:
    """Applications that get the same effects."""

    applications: list[dict[str, str]]
    """Their attributes (destination, product, end_use, exporter, applicant)."""
    rules: list[InForce]
    """The rules in force that match them, in the order they apply."""
    effects: dict[str, Any]
    """The combined effects (JSON-friendly), with the baseline for effects no rule sets."""
    decided_by: dict[str, list[int]]
    """For each effect, the indices in :attr:`rules` of the rules that decide it (all the
    factors for ``review_time_factor``; the winning rule otherwise; empty: baseline)."""


@dataclass(frozen=True)
class Case:
    """One policy state that may be in force on the date."""

    regime: str
    """Regime name."""
    regime_label: str
    """Its label."""
    overlays: list[str]
    """Labels of the dated overlays in force."""
    pulse: str | None
    """The pulse assumed on (``None``: no pulse)."""
    capacity_factor: float
    """Product of the capacity factors in force."""
    reviewers: float
    """Reviewers in force (baseline × capacity factor)."""
    groups: list[Group]
    """The applications asked about, grouped by their combined effects."""


@dataclass(frozen=True)
class Explanation:
    """What the policy does to applications on one date.

    Attributes mirror the printed text; :meth:`to_dict` gives them as JSON-friendly data.
    """

    scenario: str
    date: dt.date
    working_day: bool | None
    """Whether the date is a Chinese working day (``None``: outside the calendar)."""
    asked: dict[str, str]
    """The attributes asked about (omitted ones: every value in the scenario)."""
    regime_source: str
    """How the regime is set on the date (timeline entry, initial regime, chain)."""
    cases: list[Case]
    general_licences: list[str]
    """General licences valid on the date (exporter → customer)."""
    notes: list[str] = field(default_factory=list)
    """Caveats (nothing in the scenario matches what was asked, groups cut, …)."""

    def to_dict(self) -> dict[str, Any]:
        """The explanation as JSON-friendly data."""
        from dataclasses import asdict

        d = asdict(self)
        d["date"] = self.date.isoformat()
        return d

    def __str__(self) -> str:
        return _render(self)


def explain(
    scenario: Scenario,
    date: dt.date | str,
    *,
    destination: str | None = None,
    product: str | None = None,
    end_use: str | None = None,
    exporter: str | None = None,
    applicant: str | None = None,
) -> Explanation:
    """Explain the policy in force on ``date`` for the applications asked about.

    Args:
        scenario: A validated scenario.
        date: The day (``datetime.date`` or ISO ``YYYY-MM-DD``).
        destination: Destination country id (omitted: every destination in the scenario).
        product: Product id.
        end_use: End-use label.
        exporter: Exporter id (or a background stream's exporter label).
        applicant: Manufacturer id, or ``background`` for background applications.

    Returns:
        The active regime and overlays, every matching rule with its note, and the combined
        effects (review time factor, approval and information-request probabilities,
        capacity, priority, suspension, licence requirement and validity, customs holds,
        inspections, parking). ``str()`` of it is the text ``relsim explain`` prints.

    Raises:
        ValueError: ``date`` is not an ISO date.
    """
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    asked = {
        k: v
        for k, v in zip(
            SELECTORS, (destination, product, end_use, exporter, applicant), strict=True
        )
        if v is not None
    }
    pol = scenario.policy
    book = PolicyBook(pol, scenario.authority)
    notes: list[str] = []
    if not scenario.start <= date <= scenario.end:
        notes.append(
            f"{date} is outside the scenario's horizon {scenario.start} .. {scenario.end}; "
            "shown as the policy would stand on that date"
        )

    keys = application_keys(scenario)
    picked = [k for k in keys if all(k[SELECTORS.index(s)] == v for s, v in asked.items())]
    if not picked:
        picked = [tuple(asked.get(s, "") for s in SELECTORS)]  # type: ignore[misc]
        notes.append(
            "no application in this scenario has these attributes; the rules are matched "
            "against the attributes given (rules selecting on others do not match)"
        )

    regimes, regime_source = _regimes_on(scenario, date)
    dated = [i for i, ov in enumerate(pol.overlays) if ov.from_ <= date <= ov.until]
    n_dated = len(pol.overlays)
    pulses = [
        n_dated + k
        for k, pu in enumerate(pol.pulses)
        if (pu.from_ or scenario.start) <= date <= (pu.until or scenario.end)
    ]
    cases = []
    for r in regimes:
        for pulse in [None, *pulses]:
            layers = tuple(sorted([*dated, *([pulse] if pulse is not None else [])]))
            cases.append(_case(book, scenario, r, layers, pulse, picked, notes))
    if len(picked) > 1 and any(len(c.groups) >= _MAX_GROUPS for c in cases):
        notes.append(f"only the first {_MAX_GROUPS} groups of applications are listed")

    working: bool | None = None
    try:
        from simulator.world.calendar import build_calendar

        cal = build_calendar(scenario)
        t = float((date - scenario.start).days)
        if 0 <= t < cal.n_days:
            working = bool(cal.is_working(t))
    except Exception:  # the calendar is a courtesy here
        working = None

    gls = []
    for g in scenario.authority.general_licences:
        last = g.start + dt.timedelta(days=g.valid_days - 1)
        if g.start <= date <= last:
            gls.append(f"{g.exporter} → {g.customer} ({g.start} .. {last})")
    return Explanation(
        scenario=scenario.name,
        date=date,
        working_day=working,
        asked=asked,
        regime_source=regime_source,
        cases=cases,
        general_licences=gls,
        notes=notes,
    )


def _regimes_on(sc: Scenario, date: dt.date) -> tuple[list[str], str]:
    pol = sc.policy
    regime, source = pol.initial, f"initial regime (no timeline entry on or before {date})"
    for ch in pol.timeline:
        if ch.date <= date:
            regime, source = ch.regime, f"timeline entry of {ch.date}"
    sw = pol.switching
    if sw is not None:
        t0 = max(sw.start or sc.start, pol.timeline[-1].date if pol.timeline else sc.start)
        if date >= t0:
            names = [sw.initial, *sw.mean_duration_days, *sw.transitions]
            names += [to for row in sw.transitions.values() for to in row]
            uniq = list(dict.fromkeys(names))
            return uniq, (
                f"stochastic: the switching chain governs from {t0} (starting in "
                f"{sw.initial}); every regime it can be in is shown"
            )
    return [regime], source


def _sources(book: PolicyBook, sc: Scenario, regime: str) -> list[str]:
    """The source of each of a regime's flattened rules."""
    by_name = sc.policy.regimes_by_name()
    out: list[str] = []

    def walk(name: str, chain: tuple[str, ...]) -> None:
        if name in chain:
            return
        reg = by_name[name]
        for inc in reg.includes:
            walk(inc, (*chain, name))
        where = " ← ".join((*chain, name)[1:]) if chain else ""
        label = f"regime {regime}" + (f" ← {where}" if where else "")
        out.extend([label] * len(reg.rules))

    walk(regime, ())
    return out


def _jsonable(v: Any) -> Any:
    if hasattr(v, "model_dump"):
        return v.model_dump(mode="json", by_alias=True, exclude_defaults=False)
    return v


def _set_effects(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for eff in (e.name for e in EFFECTS_TABLE):
        v = getattr(rule, eff)
        if v is not None:
            out[eff] = _jsonable(v)
    return out


def _case(
    book: PolicyBook,
    sc: Scenario,
    regime: str,
    layers: tuple[int, ...],
    pulse: int | None,
    picked: list[AppKey],
    notes: list[str],
) -> Case:
    r = book.index[regime]
    sid = book.state(r, layers)
    rules = book.rules[sid]
    sources = _sources(book, sc, regime)
    n_dated = len(sc.policy.overlays)
    for i in layers:
        kind = "overlay" if i < n_dated else "pulse"
        sources.append(f"{kind} {book.layer_labels[i]}")
    groups: dict[
        Resolved, tuple[list[AppKey], list[int], tuple[dict[str, list[int]], dict[str, int]]]
    ] = {}
    for key in picked:
        res = book.resolve(sid, key)
        factors, chosen = select(rules, key)
        matching = [i for i, ru in enumerate(rules) if matches(ru, key)]
        g = groups.get(res)
        if g is None and len(groups) < _MAX_GROUPS:
            groups[res] = ([key], matching, (factors, chosen))
        elif g is not None:
            g[0].append(key)
    out_groups = []
    for res, (keys, matching, (factors, chosen)) in groups.items():
        pos = {i: j for j, i in enumerate(matching)}
        decided = {f: [pos[i] for i in idx] for f, idx in factors.items()}
        for eff in EFFECTS:
            decided[eff] = [pos[chosen[eff]]] if eff in chosen else []
        out_groups.append(
            Group(
                applications=[dict(zip(SELECTORS, k, strict=True)) for k in keys],
                rules=[
                    InForce(
                        source=sources[i],
                        where={
                            s: list(getattr(rules[i].where, s))
                            for s in SELECTORS
                            if getattr(rules[i].where, s) is not None
                        },
                        effects=_set_effects(rules[i]),
                        note=rules[i].note,
                    )
                    for i in matching
                ],
                effects={
                    **{f: getattr(res, f) for f in FACTORS},
                    **{eff: _jsonable(getattr(res, eff)) for eff in EFFECTS},
                },
                decided_by=decided,
            )
        )
    cap = capacity(rules)
    ov_labels = [book.layer_labels[i] for i in layers if i < n_dated]
    return Case(
        regime=regime,
        regime_label=book.labels[r],
        overlays=ov_labels,
        pulse=book.layer_labels[pulse] if pulse is not None else None,
        capacity_factor=cap,
        reviewers=sc.authority.reviewers * cap,
        groups=out_groups,
    )


# ------------------------------------------------------------------------------ text
_NAMES = {e.name: e.label for e in EFFECTS_TABLE if e.scope == "application"}


def _dist(d: dict[str, Any] | None) -> str:
    if not d:
        return "—"
    kind = d.get("kind", "")
    params = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items() if k != "kind"
    )
    return f"{kind}({params}) d"


def _value(eff: str, v: Any) -> str:
    if eff == "review_time_factor":
        if v == 1:
            return "×1 (baseline speed)"
        return f"×{v:g} ({'slower' if v > 1 else 'faster'}: reviews take {v:g}× as long)"
    if eff in ("approval_probability", "information_request_probability"):
        return f"{v:.0%}" if v * 100 == int(v * 100) else f"{v:.1%}"
    if eff == "customs_hold":
        return "none" if not v else f"{v:.0%} of shipments held at the port"
    if eff in ("suspend", "licence_required"):
        return "yes" if v else "no"
    if eff == "licence_validity_days":
        return f"{v} days"
    if eff == "inspection":
        return "none" if v is None else f"{v['probability']:.0%} of shipments, {_dist(v['days'])}"
    if eff == "release":
        if v is None:
            return "none"
        return (
            f"{v['share']:.0%} of the files waiting on the authority decided within "
            f"{v['within_days']:g} days, {v['approval_probability']:.0%} approved"
        )
    if eff == "restock":
        if v is None:
            return "none"
        return (
            f"{v['share']:g} of the contracts held back placed later, over {v['over_days']:g} days"
        )
    if eff == "park":
        if v is None:
            return "none"
        days = _dist(v.get("days")) if v.get("days") else "until the policy changes"
        return f"{v['probability']:.0%} of reviewed files sit, {days}"
    return str(v)


def _app(a: dict[str, str]) -> str:
    who = a["applicant"] or "?"
    parts = [f"→{a['destination'] or '?'}", a["product"] or "?", a["end_use"] or "?"]
    if a["exporter"]:
        parts.append(f"from {a['exporter']}")
    return f"{who} ({' '.join(parts)})"


def _render(e: Explanation) -> str:
    wd = {True: "a Chinese working day", False: "not a Chinese working day", None: ""}
    day = e.date.strftime("%A")
    lines = [
        f"{e.scenario} on {e.date} ({day}{', ' + wd[e.working_day] if wd[e.working_day] else ''})"
    ]
    if e.asked:
        lines.append("asked about: " + ", ".join(f"{k}={v}" for k, v in e.asked.items()))
    lines.append(f"regime set by: {e.regime_source}")
    if e.general_licences:
        lines.append(
            "general licences valid (no per-shipment review): " + "; ".join(e.general_licences)
        )
    for c in e.cases:
        lines.append("")
        head = f"regime {c.regime}" + (f" ({c.regime_label})" if c.regime_label != c.regime else "")
        lines.append(head)
        lines.append("  overlays in force: " + (", ".join(c.overlays) if c.overlays else "none"))
        if c.pulse is not None:
            lines.append(f"  IF pulse {c.pulse} is on (it may be on this date):")
        lines.append(
            f"  reviewers: {c.reviewers:g}"
            + (f" (baseline × {c.capacity_factor:g})" if c.capacity_factor != 1 else " (baseline)")
        )
        for g in c.groups:
            lines.append("")
            apps = [_app(a) for a in g.applications]
            shown = ", ".join(apps[:6]) + (f", … {len(apps) - 6} more" if len(apps) > 6 else "")
            lines.append(f"  applications: {shown}")
            if g.rules:
                lines.append("  rules that match, in the order they apply:")
                for j, ru in enumerate(g.rules, 1):
                    where = (
                        "{" + ", ".join(f"{k}: {v}" for k, v in ru.where.items()) + "}"
                        if ru.where
                        else "all"
                    )
                    eff = ", ".join(f"{k}: {_short(v)}" for k, v in ru.effects.items())
                    lines.append(f"    {j}. [{ru.source}] where {where}: {eff}")
                    if ru.note:
                        lines.append(f"       note: {ru.note}")
            else:
                lines.append("  no rule matches: every effect is the authority's baseline")
            lines.append("  combined effect:")
            for eff, v in g.effects.items():
                by = g.decided_by.get(eff, [])
                src = (
                    "baseline"
                    if not by
                    else ("rules " if len(by) > 1 else "rule ") + ", ".join(str(i + 1) for i in by)
                )
                lines.append(f"    {_NAMES[eff]:<22} {_value(eff, v)}  [{src}]")
    for n in e.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines)


def _short(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_short(x)}" for k, x in v.items()) + "}"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
