"""Policy effects: which rules are in force in a policy state and what they add up to for
one application (pure: no simulation, used by the world and by ``relsim explain``).

Combination semantics (the one place they are defined)
------------------------------------------------------
At any moment exactly one regime is in force, and any number of overlays (dated
``policy.overlays`` between their ``from`` and ``until``, stochastic ``policy.pulses``
while a pulse lasts). The rules in force are the regime's — its included regimes'
rules (in ``includes`` order, recursively) followed by its own — then each active
overlay's, in declaration order (dated overlays, then pulses). For an application
with attributes (destination, product, end use, exporter, applicant):

* a rule **matches** when every selector it gives contains the application's value
  (an omitted selector matches everything);
* **factors multiply**: ``review_time_factor`` of all matching rules multiply
  (baseline 1); ``capacity_factor`` of all rules (they have no selector) multiply;
* **every other effect** (approval probability, information-request probability,
  priority, suspension, licence requirement, licence validity, customs holds,
  inspections, parking) is set by the most
  specific matching rule that sets it (specificity = number of selectors given);
  among equally specific rules, the later one wins;
* an effect no matching rule sets keeps the authority's baseline.

A *policy state* is a regime plus the set of active overlays; :class:`PolicyBook`
numbers the states met in a run and caches the effects resolved in each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.world.codes import EFFECTS_TABLE

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.authority import Authority
    from simulator.scenario.model import Scenario
    from simulator.scenario.policy import (
        Inspection,
        Parking,
        Policy,
        Regime,
        Release,
        Restock,
        Rule,
    )

__all__ = [
    "EFFECTS",
    "FACTORS",
    "PACE_CLIP",
    "SELECTORS",
    "AppKey",
    "PolicyBook",
    "Resolved",
    "application_keys",
    "capacity",
    "combine",
    "matches",
    "pace",
    "policy_paces",
    "select",
]

AppKey = tuple[str, str, str, str, str]
"""(destination, product, end_use, exporter, applicant)."""

SELECTORS = ("destination", "product", "end_use", "exporter", "applicant")
"""The attributes of an application, in :data:`AppKey` order."""
EFFECTS = tuple(
    e.name for e in EFFECTS_TABLE if e.combine == "most_specific" and e.scope == "application"
)
"""Effects set by the most specific matching rule (:data:`~simulator.world.codes.EFFECTS_TABLE`)."""
FACTORS = tuple(
    e.name for e in EFFECTS_TABLE if e.combine == "multiply" and e.scope == "application"
)
"""Per-application effects whose factors of every matching rule multiply (baseline 1)."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """The effects in force for one application under one regime."""

    review_time_factor: float
    """Review time multiplier (2 = twice as slow)."""
    demand_factor: float
    """Background contract rate multiplier (0.5 = half as many contracts)."""
    approval_probability: float
    """Chance of approval."""
    information_request_probability: float
    """Chance of each information request."""
    return_probability: float
    """Chance a file is returned as incomplete each time it is screened."""
    priority: int
    """Queue priority (larger first)."""
    suspend: bool
    """Decisions held."""
    licence_required: bool
    """Licence needed."""
    licence_validity_days: int
    """Validity of a licence granted now, calendar days."""
    customs_hold: float
    """Share of shipments held at the port (0: none)."""
    inspection: Inspection | None
    """Customs inspections (share and delay), if any."""
    park: Parking | None
    """Parking of reviewed files (share and duration), if any."""
    release: Release | None
    """A batch release of waiting files, if any."""
    restock: Restock | None
    """Background contracts held back that come back later, if any."""


def matches(rule: Rule, key: AppKey) -> bool:
    """Whether every selector ``rule`` gives contains the application's value."""
    w = rule.where
    for sel, value in zip(SELECTORS, key, strict=True):
        allowed = getattr(w, sel)
        if allowed is not None and value not in allowed:
            return False
    return True


class PolicyBook:
    """Policy states compiled for fast look-up, each with a cache of resolved effects.

    A state is a regime plus a set of active overlays; states are numbered as they are
    first met (the regimes alone, with no overlay, are states ``0 .. len(names) - 1``,
    in regime order).

    Args:
        policy: The scenario's policy.
        authority: Baseline values for effects no rule sets.
    """

    def __init__(self, policy: Policy, authority: Authority) -> None:
        by_name = policy.regimes_by_name()
        self.names: list[str] = list(by_name)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.labels: list[str] = [by_name[n].label or n for n in self.names]
        self.regime_rules: list[list[Rule]] = [self._flatten(by_name, n, ()) for n in self.names]
        self.layers: list[Rule] = list(policy.layers())
        """Every overlay (dated, then pulses); their indices name them in states."""
        self.layer_labels: list[str] = [
            getattr(o, "label", "") or f"overlay {i}" for i, o in enumerate(self.layers)
        ]
        self.base = Resolved(
            review_time_factor=1.0,
            demand_factor=1.0,
            approval_probability=authority.approval.probability,
            information_request_probability=authority.information_requests.probability,
            return_probability=authority.intake.return_probability,
            priority=0,
            suspend=False,
            licence_required=True,
            licence_validity_days=authority.licence_validity_days,
            customs_hold=0.0,
            inspection=None,
            park=None,
            release=None,
            restock=None,
        )
        self.states: list[tuple[int, tuple[int, ...]]] = [(r, ()) for r in range(len(self.names))]
        """State id → (regime index, active overlay indices)."""
        self._state_id = {st: i for i, st in enumerate(self.states)}
        self.rules: list[list[Rule]] = list(self.regime_rules)
        """State id → the rules in force, in order."""
        self._cache: list[dict[AppKey, Resolved]] = [{} for _ in self.states]
        self._infos: dict[int, _RuleInfo] = {}
        self._by_rules: dict[tuple[int, ...], Resolved] = {}
        self.capacity_factor: list[float] = [capacity(rules) for rules in self.rules]
        every = [r for rules in self.regime_rules for r in rules] + self.layers
        self.max_info_p = max(
            [authority.information_requests.probability]
            + [r.information_request_probability or 0.0 for r in every]
        )
        """Largest information-request probability any rule can set."""
        self.max_return_p = max(
            [authority.intake.return_probability] + [r.return_probability or 0.0 for r in every]
        )
        """Largest intake-return probability any rule can set."""
        self.max_park_p = max([0.0] + [r.park.probability for r in every if r.park is not None])
        """Largest parking share any rule can set."""
        self.any_demand = any(r.demand_factor is not None for r in every)
        """Whether any rule changes background demand (contract rates follow the policy
        path only then)."""
        self.any_release = any(r.release is not None for r in every)
        """Whether any rule releases files in a batch (release draws are made only then)."""
        self.park_dists = _distinct([r.park.days for r in every if r.park and r.park.days])
        """Every distinct distribution of parking times (each application draws one value
        from each when it is created, so its parking time does not depend on the order
        files are parked in)."""
        self.inspection_dists = _distinct([r.inspection.days for r in every if r.inspection])
        """Every distinct distribution of inspection times (drawn per shipment likewise)."""

    def state(self, regime: int, layers: tuple[int, ...] = ()) -> int:
        """The id of the state ``regime`` + active ``layers`` (sorted overlay indices)."""
        key = (regime, layers)
        sid = self._state_id.get(key)
        if sid is None:
            sid = len(self.states)
            self.states.append(key)
            self._state_id[key] = sid
            rules = self.regime_rules[regime] + [self.layers[i] for i in layers]
            self.rules.append(rules)
            self._cache.append({})
            self.capacity_factor.append(capacity(rules))
        return sid

    def park_index(self, dist: Any) -> int:
        """Index of a parking-time distribution in :attr:`park_dists`."""
        return self.park_dists.index(dist)

    def inspection_index(self, dist: Any) -> int:
        """Index of an inspection-time distribution in :attr:`inspection_dists`."""
        return self.inspection_dists.index(dist)

    def _flatten(self, by_name: dict[str, Regime], name: str, seen: tuple[str, ...]) -> list[Rule]:
        if name in seen:  # cycles are refused by validation; guard anyway
            return []
        reg = by_name[name]
        out: list[Rule] = []
        for inc in reg.includes:
            out.extend(self._flatten(by_name, inc, (*seen, name)))
        out.extend(reg.rules)
        return out

    def resolve(self, state: int, key: AppKey) -> Resolved:
        """Return the effects in force for ``key`` in policy state ``state``."""
        cache = self._cache[state]
        hit = cache.get(key)
        if hit is not None:
            return hit
        res = self._combine(self.rules[state], key)
        cache[key] = res
        return res

    def _combine(self, rules: list[Rule], key: AppKey) -> Resolved:
        """:func:`combine` of ``rules`` over :attr:`base`, on each rule's selectors and
        effects read once per book (:class:`_RuleInfo`). The result depends only on the
        matching rules, in order (the same rules win and the factors multiply in the
        same order), so states and keys that match the same rules share one
        :class:`Resolved`."""
        infos = self._infos
        matched: list[_RuleInfo] = []
        for rule in rules:
            info = infos.get(id(rule))
            if info is None or info.rule is not rule:
                info = infos[id(rule)] = _RuleInfo(rule)
            hit = info.hits.get(key)
            if hit is None:
                hit = info.hits[key] = info.matches(key)
            if hit:
                matched.append(info)
        sig = tuple(id(i.rule) for i in matched)
        hit = self._by_rules.get(sig)
        if hit is not None:
            return hit
        product = dict.fromkeys(FACTORS, 1.0)
        chosen: dict[str, tuple[tuple[int, int], Any]] = {}
        for order, info in enumerate(matched):
            for f, v in info.factors:
                product[f] *= v
            rank = (info.spec, order)
            for eff, v in info.sets:
                prev = chosen.get(eff)
                if prev is None or rank >= prev[0]:
                    chosen[eff] = (rank, v)
        base = self.base
        res = Resolved(
            **product,
            **{eff: (chosen[eff][1] if eff in chosen else getattr(base, eff)) for eff in EFFECTS},
        )
        self._by_rules[sig] = res
        return res


class _RuleInfo:
    """What :func:`select` reads of one rule, read once: its selectors (in
    :data:`SELECTORS` order, the omitted ones left out), its specificity, the factors it
    gives (:data:`FACTORS` order) and the other effects it sets (:data:`EFFECTS` order).

    Args:
        rule: The rule (kept, so that the book's cache by ``id`` stays valid).
    """

    __slots__ = ("factors", "hits", "rule", "selectors", "sets", "spec")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        w = rule.where
        self.selectors = tuple(
            (j, allowed)
            for j, sel in enumerate(SELECTORS)
            if (allowed := getattr(w, sel)) is not None
        )
        self.spec = w.specificity()
        self.factors = tuple((f, v) for f in FACTORS if (v := getattr(rule, f)) is not None)
        self.sets = tuple((e, v) for e in EFFECTS if (v := getattr(rule, e)) is not None)
        self.hits: dict[AppKey, bool] = {}
        """Whether the rule matches each key met so far."""

    def matches(self, key: AppKey) -> bool:
        """:func:`matches` of the rule and ``key``."""
        return all(key[j] in allowed for j, allowed in self.selectors)


def select(rules: list[Rule], key: AppKey) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Which of ``rules`` (in order) decide each effect for ``key``.

    Returns:
        For each multiplying effect (:data:`FACTORS`), the indices of the matching rules
        whose factors multiply; and for each other effect set by a matching rule, the
        index of the rule that sets it.
    """
    factors: dict[str, list[int]] = {f: [] for f in FACTORS}
    chosen: dict[str, tuple[int, int]] = {}
    for order, rule in enumerate(rules):
        if not matches(rule, key):
            continue
        for f in FACTORS:
            if getattr(rule, f) is not None:
                factors[f].append(order)
        spec = rule.where.specificity()
        for eff in EFFECTS:
            if getattr(rule, eff) is None:
                continue
            prev = chosen.get(eff)
            if prev is None or (spec, order) >= prev:
                chosen[eff] = (spec, order)
    return factors, {eff: order for eff, (_, order) in chosen.items()}


def combine(rules: list[Rule], key: AppKey, base: Resolved) -> Resolved:
    """The effects of ``rules`` (in order) for ``key`` over ``base`` (see the module
    documentation for the semantics)."""
    factors, chosen = select(rules, key)
    product: dict[str, float] = {}
    for f, idx in factors.items():
        x = 1.0
        for i in idx:
            x *= getattr(rules[i], f)
        product[f] = x
    return Resolved(
        **product,
        **{
            eff: (getattr(rules[chosen[eff]], eff) if eff in chosen else getattr(base, eff))
            for eff in EFFECTS
        },
    )


def capacity(rules: list[Rule]) -> float:
    """Product of the ``capacity_factor`` of ``rules`` (1 when none sets one)."""
    return float(np.prod([r.capacity_factor for r in rules if r.capacity_factor is not None]))


def _distinct(items: list[Any]) -> list[Any]:
    """``items`` without repeats (by equality), in first-seen order."""
    out: list[Any] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def application_keys(sc: Scenario) -> list[AppKey]:
    """Every application key the scenario can produce (background streams; manufacturers'
    parts from licensed exporters), in a stable order."""
    out: dict[AppKey, None] = {}
    for b in sc.authority.background:
        out[(b.destination, b.product, b.end_use, b.exporter, "background")] = None
    licensed = {e.id for e in sc.exporters if e.licensed}
    for m in sc.manufacturers:
        for part in m.bill():
            for s in part.suppliers:
                if s.exporter is not None and s.exporter in licensed:
                    out[(m.country, part.material, m.end_use, s.exporter, m.id)] = None
            for ship in part.initial_shipments:
                if ship.exporter is not None and ship.exporter in licensed:
                    out[(m.country, part.material, m.end_use, ship.exporter, m.id)] = None
    return list(out)


# ------------------------------------------------------------------------------ pace
PACE_CLIP = 4.0
"""Paces are shown within [1/4, 4] of the baseline (suspension: 1/4; no licence: 4)."""


def pace(
    res: Resolved,
    base: Resolved,
    capacity_factor: float = 1.0,
    review_wd: float = 1.0,
    response_days: float = 0.0,
    resubmit_days: float = 0.0,
) -> float:
    """How fast licences come out under ``res`` relative to ``base``: approvals per unit of
    time, ``approval × capacity × (1 − parked share) × (1 − held share) / (review time
    factor × review_wd + information-request probability × response_days + return
    probability × resubmit_days)``, over the same for the baseline; within [1/4, 4]
    (suspended: 1/4; no licence needed: 4).

    A heuristic for colouring timelines (slow-down below 1, speed-up above), not a model
    output: queueing makes the real effect non-linear.
    """
    if not res.licence_required:
        return PACE_CLIP
    if res.suspend:
        return 1.0 / PACE_CLIP

    def raw(r: Resolved, cap: float) -> float:
        park = r.park.probability if r.park is not None else 0.0
        took = (
            r.review_time_factor * review_wd
            + r.information_request_probability * response_days
            + r.return_probability * resubmit_days
        )
        return r.approval_probability * cap * (1 - park) * (1 - r.customs_hold) / max(took, 1e-9)

    b = raw(base, 1.0)
    x = raw(res, capacity_factor)
    if b <= 0:
        return 1.0 if x <= 0 else PACE_CLIP
    return float(min(PACE_CLIP, max(1.0 / PACE_CLIP, x / b)))


def policy_paces(sc: Scenario) -> tuple[dict[str, float], list[float]]:
    """The pace (see :func:`pace`) of every regime and every overlay against the
    authority's baseline, as a geometric mean over the applications they touch.

    Returns:
        ``({regime name: pace}, [pace of each overlay, in policy.layers() order])``;
        a regime's pace is over every application the scenario can make, an overlay's
        over those its selector matches (1 when it matches none).
    """
    import math

    book = PolicyBook(sc.policy, sc.authority)
    base = book.base
    keys = application_keys(sc) or [("", "", "", "", "")]
    auth = sc.authority
    review, response = auth.review_work_wd.mean(), auth.information_requests.response_days.mean()
    resubmit = auth.intake.resubmit_days.mean()

    def geo(values: list[float]) -> float:
        return math.exp(sum(math.log(v) for v in values) / len(values)) if values else 1.0

    regimes = {}
    for name, r in book.index.items():
        sid = book.state(r)
        cap = book.capacity_factor[sid]
        regimes[name] = geo(
            [pace(book.resolve(sid, k), base, cap, review, response, resubmit) for k in keys]
        )
    layers = []
    for ov in book.layers:
        hit = [k for k in keys if matches(ov, k)]
        cap = ov.capacity_factor if ov.capacity_factor is not None else 1.0
        layers.append(
            geo([pace(combine([ov], k, base), base, cap, review, response, resubmit) for k in hit])
            if hit
            else 1.0
        )
    return regimes, layers
