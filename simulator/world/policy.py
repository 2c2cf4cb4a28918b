"""Policy throttles: regimes of rules that speed up or slow down licensing.

Combination semantics (the one place they are defined)
------------------------------------------------------
At any moment exactly one regime is in force. Its rules are its included regimes'
rules (in ``includes`` order, recursively) followed by its own. For an application
with attributes (destination, product, end use, exporter, applicant):

* a rule **matches** when every selector it gives contains the application's value
  (an omitted selector matches everything);
* **factors multiply**: ``review_time_factor`` of all matching rules multiply
  (baseline 1); ``capacity_factor`` of all rules (they have no selector) multiply;
* **every other effect** (approval probability, information-request probability,
  priority, suspension, licence requirement, licence validity) is set by the most
  specific matching rule that sets it (specificity = number of selectors given);
  among equally specific rules, the later one wins;
* an effect no matching rule sets keeps the authority's baseline.

A regime change takes effect at once: reviews in progress are re-planned at the new
speed (remaining work is conserved, time is not), capacity changes apply to the next
reviewer assignment (no review is pre-empted), suspended decisions are re-checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulator.world.events import POLICY, At

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.authority import Authority
    from simulator.scenario.policy import Inspection, Parking, Policy, Regime, Rule

__all__ = ["PolicyBook", "PolicyController", "Resolved"]

AppKey = tuple[str, str, str, str, str]
"""(destination, product, end_use, exporter, applicant)."""

_SELECTORS = ("destination", "product", "end_use", "exporter", "applicant")
_OVERRIDES = (
    "approval_probability",
    "information_request_probability",
    "priority",
    "suspend",
    "licence_required",
    "licence_validity_days",
    "customs_hold",
    "inspection",
    "park",
)


@dataclass(frozen=True, slots=True)
class Resolved:
    """The effects in force for one application under one regime."""

    review_time_factor: float
    """Review time multiplier (2 = twice as slow)."""
    approval_probability: float
    """Chance of approval."""
    information_request_probability: float
    """Chance of each information request."""
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


def _matches(rule: Rule, key: AppKey) -> bool:
    w = rule.where
    for sel, value in zip(_SELECTORS, key, strict=True):
        allowed = getattr(w, sel)
        if allowed is not None and value not in allowed:
            return False
    return True


class PolicyBook:
    """Regimes compiled for fast look-up, with a per-regime cache of resolved effects.

    Args:
        policy: The scenario's policy.
        authority: Baseline values for effects no rule sets.
    """

    def __init__(self, policy: Policy, authority: Authority) -> None:
        by_name = policy.regimes_by_name()
        self.names: list[str] = list(by_name)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.labels: list[str] = [by_name[n].label or n for n in self.names]
        self.rules: list[list[Rule]] = [self._flatten(by_name, n, ()) for n in self.names]
        self._base = Resolved(
            review_time_factor=1.0,
            approval_probability=authority.approval.probability,
            information_request_probability=authority.information_requests.probability,
            priority=0,
            suspend=False,
            licence_required=True,
            licence_validity_days=authority.licence_validity_days,
            customs_hold=0.0,
            inspection=None,
            park=None,
        )
        self._cache: list[dict[AppKey, Resolved]] = [{} for _ in self.names]
        self.capacity_factor: list[float] = [
            float(np.prod([r.capacity_factor for r in rules if r.capacity_factor is not None]))
            for rules in self.rules
        ]
        every = [r for rules in self.rules for r in rules]
        self.max_info_p = max(
            [authority.information_requests.probability]
            + [r.information_request_probability or 0.0 for r in every]
        )
        """Largest information-request probability any rule can set."""
        self.max_park_p = max([0.0] + [r.park.probability for r in every if r.park is not None])
        """Largest parking share any rule can set."""
        self.park_dists = _distinct([r.park.days for r in every if r.park and r.park.days])
        """Every distinct distribution of parking times (each application draws one value
        from each when it is created, so its parking time does not depend on the order
        files are parked in)."""
        self.inspection_dists = _distinct([r.inspection.days for r in every if r.inspection])
        """Every distinct distribution of inspection times (drawn per shipment likewise)."""

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

    def resolve(self, regime: int, key: AppKey) -> Resolved:
        """Return the effects in force for ``key`` under regime index ``regime``."""
        cache = self._cache[regime]
        hit = cache.get(key)
        if hit is not None:
            return hit
        factor = 1.0
        chosen: dict[str, tuple[int, int, object]] = {}
        for order, rule in enumerate(self.rules[regime]):
            if not _matches(rule, key):
                continue
            if rule.review_time_factor is not None:
                factor *= rule.review_time_factor
            spec = rule.where.specificity()
            for eff in _OVERRIDES:
                v = getattr(rule, eff)
                if v is None:
                    continue
                prev = chosen.get(eff)
                if prev is None or (spec, order) >= (prev[0], prev[1]):
                    chosen[eff] = (spec, order, v)
        base = self._base
        res = Resolved(
            review_time_factor=factor,
            **{
                eff: (chosen[eff][2] if eff in chosen else getattr(base, eff)) for eff in _OVERRIDES
            },
        )
        cache[key] = res
        return res


def _distinct(items: list[Any]) -> list[Any]:
    """``items`` without repeats (by equality), in first-seen order."""
    out: list[Any] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


class PolicyController:
    """Switches regimes over simulated time (dated timeline, then optional Markov chain).

    Args:
        env: SimPy environment.
        book: Compiled regimes.
        policy: The scenario's policy.
        start: Scenario start date (time 0).
        horizon: Simulated days.
        rng: Generator of the regime chain.
        on_change: Called with the new regime index after each change.
        log: Receives ``(time, regime index)`` for every change, including time 0.
    """

    def __init__(
        self,
        env: simpy.Environment,
        book: PolicyBook,
        policy: Policy,
        start: dt.date,
        horizon: float,
        rng: np.random.Generator,
        on_change: Callable[[int], None],
        log: list[tuple[float, int]],
    ) -> None:
        self.env = env
        self.book = book
        self.current = book.index[policy.initial]
        self._on_change = on_change
        self._log = log
        self._horizon = horizon
        self._rng = rng
        self._policy = policy
        self._start = start
        self.changed: simpy.Event = env.event()
        """Succeeds (and is replaced) at every regime change."""
        log.append((0.0, self.current))
        env.process(self._run())

    def _set(self, idx: int) -> None:
        if idx == self.current:
            return
        self.current = idx
        self._log.append((self.env.now, idx))
        ev, self.changed = self.changed, self.env.event()
        self._on_change(idx)
        ev.succeed(idx)

    def _run(self):
        env, book, pol = self.env, self.book, self._policy
        for ch in pol.timeline:
            t = float((ch.date - self._start).days)
            if t > env.now:
                yield At(env, t - env.now, POLICY)
            self._set(book.index[ch.regime])
        sw = pol.switching
        if sw is None:
            return
        t0 = float(((sw.start or self._start) - self._start).days)
        if t0 > env.now:
            yield At(env, t0 - env.now, POLICY)
        state = sw.initial
        self._set(book.index[state])
        while env.now < self._horizon:
            hold = self._rng.exponential(sw.mean_duration_days[state])
            yield At(env, hold, POLICY)
            row = sw.transitions.get(state)
            if not row:
                return
            names = list(row)
            state = names[int(self._rng.choice(len(names), p=np.asarray(list(row.values()))))]
            self._set(book.index[state])
