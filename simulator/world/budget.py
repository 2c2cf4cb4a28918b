"""What one replication will cost, estimated from the compiled scenario before anything
runs: events, memory and time.

"What validates runs": a scenario whose fields are each within their limits can still
ask for more than a machine has — a part with many suppliers over a long horizon sizes
draw arrays by the most shipments it could make (``Static.part_bound``), pulses that
switch on and off hundreds of times a year make policy states by the million, each
re-planning the reviews in progress. :func:`estimate` adds up, from the compiled scenario
(:class:`~simulator.world.static.Static`), what the engines allocate and do:

* **memory**: the replication's draws (:mod:`simulator.world.draws`: per application and
  shipment slot, per lead-time and transit pair, background contracts, demand noise),
  the engine's working arrays or objects (:class:`EngineCost`, declared per engine in
  :data:`simulator.replication.engines.ENGINE_COSTS`), the daily records and the policy
  effects table (states × application classes);
* **events**: each expected application's steps (with its preparation after a licence
  requirement starts and its batch release, where the scenario has them), its
  shipment's, each day's step of each production line, each change of policy state (and
  the reviews in progress it re-plans), each step of the authority's start-up capacity
  ramp, each policy state's effects per application class;
* **time**: events × the engine's cost per event (measured on the shipped scenarios,
  rounded up); a policy state's effects are resolved in Python on both engines
  (:data:`SECONDS_PER_STATE_STEP` per rule and application class).

:func:`budget_problems` checks them against :attr:`~simulator.limits.Limits.MAX_REPLICATION_EVENTS`,
:attr:`~simulator.limits.Limits.MAX_REPLICATION_BYTES` and
:attr:`~simulator.limits.Limits.MAX_REPLICATION_SECONDS`; ``relsim validate`` and every
command that runs refuse a scenario over them, naming the estimate, the limit and what
drives it, before anything runs. The estimates are upper bounds of what the code sizes,
not predictions of a run's average. :func:`bound` bounds the estimate from the scenario
alone, in pure Python: :func:`check_budget` compiles the scenario for the estimate only
when that bound is over a limit, so ``relsim validate`` imports none of the simulation
stack for a scenario far within them (``tests/cli/test_validate_light.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.limits import Limits

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.static import Static

__all__ = [
    "APP_UNIT_DRAWS",
    "SECONDS_PER_STATE_STEP",
    "SHIP_UNIT_DRAWS",
    "STATE_BYTES",
    "Budget",
    "EngineCost",
    "bound",
    "budget_problems",
    "check_budget",
    "estimate",
]

SECONDS_PER_STATE_STEP = 5e-6
"""Cost of resolving one rule for one application class in a new policy state, seconds
(Python on both engines; measured about 2e-6 with 60 pulses)."""
STATE_BYTES = 2_000
"""A policy state's Python objects (its rules, its caches), bytes."""
_DRAW_COPIES = 2
"""Draw arrays exist twice at the peak (blocks and their concatenation)."""


@dataclass(frozen=True)
class EngineCost:
    """What an engine spends per unit of work (declared per engine in
    :data:`simulator.replication.engines.ENGINE_COSTS`).

    Attributes:
        seconds_per_event: Time of one event, seconds (measured on the shipped scenarios,
            rounded up).
        slot_bytes: Working arrays per application-and-shipment slot, bytes (a compiled
            engine sizes them by the slots; ``tests/kernel`` checks the bound).
        app_bytes: Objects per expected application, bytes (an interpreted engine's
            processes, events and records).
        draw_bytes: Bytes per draw held while it runs, beyond the arrays (32 when the
            draws are also Python lists).
    """

    seconds_per_event: float
    slot_bytes: float = 0.0
    app_bytes: float = 0.0
    draw_bytes: float = 0.0


@dataclass(frozen=True)
class Budget:
    """What one replication will cost on one engine (see the module docstring).

    Attributes:
        events: Expected events (upper bound).
        bytes: Memory, bytes (upper bound of what is allocated).
        seconds: Time, seconds.
        parts: What each term contributes: name -> (events, bytes), for messages.
        changes: Changes of policy state and steps of the capacity ramp (upper bound).
        slots: Application and shipment slots the draws are sized for.
    """

    events: float
    bytes: float
    seconds: float
    parts: dict[str, tuple[float, float]] = field(default_factory=dict)
    changes: float = 0.0
    slots: float = 0.0

    def driver(self, by: str = "events") -> str:
        """The term that contributes most ``events`` or ``bytes``."""
        k = 0 if by == "events" else 1
        return max(self.parts, key=lambda n: self.parts[n][k]) if self.parts else ""


def _demand_bound(sc: Scenario) -> float:
    """The largest factor the policy's ``demand_factor`` can put on a background stream's
    rate, upper bound: the largest product of a regime's factors above 1 (with the rules
    it includes), times every overlay's and pulse's above 1 (all in force at once), times
    1 + the largest ``restock.share`` (over the horizon, contracts placed later are at
    most that share of the contracts)."""
    pol = sc.policy
    by_name = pol.regimes_by_name()

    def above_one(rule: Any) -> float:
        return max(getattr(rule, "demand_factor", None) or 1.0, 1.0)

    def product(name: str, seen: tuple[str, ...]) -> float:
        if name in seen:
            return 1.0
        reg = by_name[name]
        out = math.prod(above_one(r) for r in reg.rules)
        return out * math.prod(product(i, (*seen, name)) for i in reg.includes)

    regimes = max((product(n, ()) for n in by_name), default=1.0)
    every = [r for reg in pol.regimes for r in reg.rules] + list(pol.layers())
    # contracts held back and placed later: at most ``share`` per contract of the horizon
    back = max([0.0] + [float(r.restock.share) for r in every if r.restock is not None])
    return regimes * math.prod(above_one(ly) for ly in pol.layers()) * (1.0 + back)


def _background(sc: Scenario, working: float) -> tuple[float, float]:
    """Background contracts over ``working`` days of the authority: (expected at the
    streams' highest rates, the same plus six standard deviations, as the arrival draws
    are sized)."""
    expected = 0.0
    demand = _demand_bound(sc)
    for b in sc.authority.background:
        rate = b.rate_per_wd * (max(b.month_factors) if b.month_factors else 1.0)
        rate *= max([1.0, *(ch.factor for ch in b.rate_changes)]) * demand
        expected += rate * working
    return expected, expected + 6 * math.sqrt(expected) + 16 * len(sc.authority.background)


def _orders(sc: Scenario) -> float:
    """The most orders the manufacturers' parts can place (one per supplier per review
    period, per day for (s, S))."""
    days = sc.horizon_days
    n = 0
    for m in sc.manufacturers:
        for part in m.bill():
            review = getattr(part.replenishment, "review_days", 1)
            n += -(-days // review) * len(part.suppliers)
    return float(n)


def _policy_changes(sc: Scenario) -> float:
    """Changes of policy state in a replication, upper bound: dated regime changes, two
    per overlay, the Markov chain's expected changes, two per pulse cycle."""
    pol = sc.policy
    days = sc.horizon_days
    n = float(len(pol.timeline) + 2 * len(pol.overlays))
    sw = pol.switching
    if sw is not None and sw.mean_duration_days:
        shortest = min(d for d in sw.mean_duration_days.values() if d > 0)
        n += 2.0 * days / shortest + 1
    for pu in pol.pulses:
        lo = max(pu.from_ or sc.start, sc.start)
        hi = min(pu.until or sc.end, sc.end)
        window = max((hi - lo).days + 1, 0)
        n += 2.0 * window * pu.rate_per_year / 365.0 + 2
    return n


def _max_active(sc: Scenario) -> int:
    """The most overlays and pulses in force on one day (pulses counted over their whole
    window)."""
    edges: list[tuple[int, int]] = []
    for ly in [*sc.policy.overlays, *sc.policy.pulses]:
        lo = max(getattr(ly, "from_", None) or sc.start, sc.start)
        hi = min(getattr(ly, "until", None) or sc.end, sc.end)
        if lo <= hi:
            edges += [(lo.toordinal(), 1), (hi.toordinal() + 1, -1)]
    active = best = 0
    for _, d in sorted(edges):
        active += d
        best = max(best, active)
    return best


def _ramp_steps(ramp_days: float, H: int, changes: float) -> float:
    """Steps of the start-up capacity ramp (``authority.startup.capacity_ramp``), upper
    bound: one a day after each change of state that starts a licence requirement, until
    full or the next start (so at most a day's step per day of the horizon, plus one per
    start)."""
    if ramp_days <= 0:
        return 0.0
    return min(changes * math.ceil(ramp_days), H + changes)


APP_UNIT_DRAWS = 12
"""Draws of one value per application in the draw table (:data:`simulator.world.draws.DRAWS`;
the others are one per intake return, information request or parking distribution):
:func:`bound` counts them without importing the draw table (``tests/world/test_budget.py``
checks the number)."""
SHIP_UNIT_DRAWS = 8
"""Draws of one value per shipment likewise (the other: one per inspection distribution)."""


def _widths(st: Static) -> tuple[int, int]:
    """Draws per application and per shipment slot (every row of the draw table of those
    families is allocated, drawn or filled with its default)."""
    from simulator.world.draws import DRAWS

    app = sum(d.width(st) for d in DRAWS if d.family == "application")
    ship = sum(d.width(st) for d in DRAWS if d.family == "shipment")
    return app, ship


@dataclass(frozen=True)
class _Work:
    """The quantities a replication's cost is made of (each enters it increasingly, so
    upper bounds of them bound the cost)."""

    H: float
    M: float
    P: float
    C: float
    classes: float
    bg_expected: float
    bg_sized: float
    part_slots: float
    app_width: float
    ship_width: float
    lead: float
    transit: float
    changes: float
    ramp: float
    states: float
    rules_max: float
    apps: float
    per_app: float
    inflight: float


def _states(changes: float, names: int, layers: int) -> float:
    """Policy states met, upper bound: the regimes, and one per change (at most every set
    of overlays)."""
    return max(min(changes + names + 1, float(2 ** min(layers, 60))), float(names))


def _per_app(n_info: int, n_ret: int, prep: bool, release: bool) -> int:
    """Events of one application: its steps, each information request and intake return,
    its preparation (a wait) and a batch release (its timeout, the interrupt of its wait
    or review, the log)."""
    return 10 + 2 * n_info + 2 * n_ret + int(prep) + 3 * int(release)


def _cost(w: _Work, cost: EngineCost) -> Budget:
    """A replication's events, memory and time on an engine from its quantities."""
    H, M, P, C = w.H, w.M, w.P, w.C
    slots = w.bg_sized + w.part_slots + 1
    draw_floats = slots * (w.app_width + w.ship_width) + w.lead + w.transit + 2 * w.bg_sized + H * M
    ev = {
        "applications and shipments": w.apps * w.per_app,
        "daily steps": H * (P + M + 1.0),
        "policy changes": w.changes * (1 + w.inflight) + w.ramp,
        "policy states": w.states * w.classes * (1 + w.rules_max),
    }
    daily = 8.0 * H * (6 * P + 3 * M + 4 + 2 * M + 2 * C)
    mem = {
        "applications and shipments": (
            slots * cost.slot_bytes
            + w.apps * cost.app_bytes
            + draw_floats * (8.0 * _DRAW_COPIES + cost.draw_bytes)
        ),
        "daily steps": daily,
        # time, priority, kind, state, reviewers of each change
        "policy changes": 5 * 8.0 * (w.changes + w.ramp),
        "policy states": w.states * (2 * 8.0 * w.classes * 12 + STATE_BYTES + 8.0 * w.rules_max),
    }
    events = math.fsum(ev.values())
    stepping = events - ev["policy states"]
    return Budget(
        events=events,
        bytes=math.fsum(mem.values()),
        seconds=stepping * cost.seconds_per_event + ev["policy states"] * SECONDS_PER_STATE_STEP,
        parts={k: (ev[k], mem[k]) for k in ev},
        changes=w.changes + w.ramp,
        slots=slots,
    )


def estimate(st: Static, cost: EngineCost) -> Budget:
    """Estimate one replication's events, memory and time on an engine from the compiled
    scenario.

    Args:
        st: The compiled scenario (:func:`simulator.world.static.compile_scenario`).
        cost: The engine's costs (:data:`simulator.replication.engines.ENGINE_COSTS`).
    """
    sc = st.sc
    H = st.H
    bg_expected, bg_sized = _background(sc, float(st.cal.work_time(float(H))))
    app_width, ship_width = _widths(st)
    changes = _policy_changes(sc)
    apps = bg_expected + _orders(sc) + float(st.pipe_part.size)
    reviewers = st.reviewers * max([1.0, *st.book.capacity_factor])
    w = _Work(
        H=float(H),
        M=float(st.M),
        P=float(st.P),
        C=float(len(st.country)),
        classes=float(max(len(st.class_keys), 1)),
        bg_expected=bg_expected,
        bg_sized=bg_sized,
        part_slots=float(st.part_bound.sum()),
        app_width=float(app_width),
        ship_width=float(ship_width),
        lead=len(st.lead_pairs) * (H + 1.0),
        transit=float(sum(int(st.part_bound[p]) + H + 1 for _, p in st.transit_pairs)),
        changes=changes,
        ramp=_ramp_steps(st.ramp_days, H, changes),
        states=_states(changes, len(st.book.names), len(st.book.layers)),
        rules_max=float(max((len(r) for r in st.book.regime_rules), default=0) + _max_active(sc)),
        apps=apps,
        per_app=float(_per_app(st.n_info, st.n_ret, st.has_prep, st.any_release)),
        inflight=min(reviewers, apps),
    )
    return _cost(w, cost)


def _flat_rules(by_name: dict[str, Any], name: str, seen: tuple[str, ...]) -> int:
    """Rules of a regime with those it includes (as
    :meth:`simulator.world.effects.PolicyBook` flattens them)."""
    if name in seen:
        return 0
    reg = by_name[name]
    return len(reg.rules) + sum(_flat_rules(by_name, i, (*seen, name)) for i in reg.includes)


def bound(sc: Scenario, cost: EngineCost) -> Budget:
    """An upper bound of :func:`estimate` from the scenario alone, in pure Python: no
    compiled scenario, calendar or draw table (so ``relsim validate`` stays light when a
    scenario is far within the limits; :func:`check_budget` estimates only when it is
    not). Every quantity is the estimate's or more: working days are counted as calendar
    days, every rule may set every probability, every pipeline shipment is one, and every
    application may be in review at a change of state.

    Args:
        sc: A validated scenario.
        cost: The engine's costs.
    """
    auth, pol = sc.authority, sc.policy
    H = sc.horizon_days
    parts = [(m, part) for m in sc.manufacturers for part in m.bill()]
    by_name = pol.regimes_by_name()
    layers = pol.layers()
    every = [r for reg in by_name.values() for r in reg.rules] + list(layers)
    n_park = len([r for r in every if r.park is not None and r.park.days])
    n_insp = len([r for r in every if r.inspection is not None])
    n_sup = [len(part.suppliers) for _, part in parts]
    n_pipe = [len(part.initial_shipments) for _, part in parts]
    part_bound = [(H + 1) * s + q for s, q in zip(n_sup, n_pipe, strict=True)]
    lead_pairs = {
        (s.exporter, p)
        for p, (_, part) in enumerate(parts)
        for s in part.suppliers
        if s.manufacturer is None
    }
    transit = 0.0
    for p, (m, _) in enumerate(parts):
        lanes = sum(1 for ln in sc.lanes if ln.destination == m.country)
        transit += lanes * (part_bound[p] + H + 1.0)
    bg_expected, bg_sized = _background(sc, float(H))
    changes = _policy_changes(sc)
    apps = bg_expected + _orders(sc) + float(sum(n_pipe))
    release = any(r.release is not None for r in every)
    ramp = auth.startup.capacity_ramp
    w = _Work(
        H=float(H),
        M=float(len(sc.manufacturers)),
        P=float(len(parts)),
        C=float(len(sc.countries)),
        classes=float(max(len(auth.background) + sum(n_sup) + sum(n_pipe), 1)),
        bg_expected=bg_expected,
        bg_sized=bg_sized,
        part_slots=float(sum(part_bound)),
        app_width=float(
            APP_UNIT_DRAWS
            + 2 * auth.intake.max_returns
            + 3 * auth.information_requests.max_per_application
            + n_park
        ),
        ship_width=float(SHIP_UNIT_DRAWS + n_insp),
        lead=len(lead_pairs) * (H + 1.0),
        transit=transit,
        changes=changes,
        ramp=_ramp_steps(float(ramp.days) if ramp is not None else 0.0, H, changes),
        states=_states(changes, len(by_name), len(layers)),
        rules_max=float(max((_flat_rules(by_name, n, ()) for n in by_name), default=0))
        + _max_active(sc),
        apps=apps,
        per_app=float(
            _per_app(
                auth.information_requests.max_per_application,
                auth.intake.max_returns,
                auth.startup.preparation_days is not None,
                release,
            )
        ),
        inflight=apps,
    )
    return _cost(w, cost)


def _over(b: Budget) -> bool:
    return (
        b.events > Limits.MAX_REPLICATION_EVENTS
        or b.bytes > Limits.MAX_REPLICATION_BYTES
        or b.seconds > Limits.MAX_REPLICATION_SECONDS
    )


def _size(b: float) -> str:
    for unit, n in (("GiB", 2**30), ("MiB", 2**20), ("kiB", 2**10)):
        if b >= n:
            return f"{b / n:,.3g} {unit}"
    return f"{b:,.0f} B"


def _duration(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:,.3g} h"
    if s >= 60:
        return f"{s / 60:,.3g} min"
    return f"{s:,.3g} s"


_WHERE = {
    "applications and shipments": ("manufacturers",),
    "daily steps": ("end",),
    "policy changes": ("policy",),
    "policy states": ("policy",),
}
"""Where in the scenario each term comes from (messages are located there)."""


def budget_problems(st: Static, cost: EngineCost, engine: str) -> list[tuple[tuple[Any, ...], str]]:
    """The estimate (:func:`estimate`) against the limits, as ``(scenario path,
    message)`` pairs (empty when within them).

    Args:
        st: The compiled scenario.
        cost: The costs of the engine that will run it.
        engine: Its name, for messages.
    """
    b = estimate(st, cost)
    out: list[tuple[tuple[Any, ...], str]] = []

    def where(term: str) -> tuple[Any, ...]:
        sc = st.sc
        if term == "applications and shipments" and sc.authority.background:
            bg, _ = _background(sc, float(st.cal.work_time(float(st.H))))
            if bg >= _orders(sc):
                return ("authority", "background")
        if term.startswith("policy"):
            pol = sc.policy
            for key, present in (
                ("pulses", pol.pulses),
                ("overlays", pol.overlays),
                ("switching", pol.switching),
            ):
                if present:
                    return ("policy", key)
        return _WHERE.get(term, ())

    if b.events > Limits.MAX_REPLICATION_EVENTS:
        term = b.driver("events")
        out.append(
            (
                where(term),
                f"one replication would take about {b.events:,.3g} events (mostly {term}: "
                f"{b.parts[term][0]:,.3g}); the limit is {Limits.MAX_REPLICATION_EVENTS:,.0f} "
                "(Limits.MAX_REPLICATION_EVENTS)",
            )
        )
    if b.bytes > Limits.MAX_REPLICATION_BYTES:
        term = b.driver("bytes")
        out.append(
            (
                where(term),
                f"one replication would need about {_size(b.bytes)} of memory on the {engine} "
                f"engine (mostly {term}: {_size(b.parts[term][1])}); the limit is "
                f"{_size(Limits.MAX_REPLICATION_BYTES)} (Limits.MAX_REPLICATION_BYTES)",
            )
        )
    if b.seconds > Limits.MAX_REPLICATION_SECONDS and not out:
        term = b.driver("events")
        out.append(
            (
                where(term),
                f"one replication would take about {_duration(b.seconds)} on the {engine} "
                f"engine ({b.events:,.3g} events, mostly {term}); the limit is "
                f"{_duration(Limits.MAX_REPLICATION_SECONDS)} (Limits.MAX_REPLICATION_SECONDS)",
            )
        )
    return out


def check_budget(sc: Scenario, cost: EngineCost, engine: str, loc: Any = None) -> None:
    """Refuse a scenario one replication of which would exceed the limits on an engine
    (:func:`budget_problems`), before anything runs.

    Args:
        sc: A validated scenario.
        cost: The costs of the engine that will run it.
        engine: Its name, for messages.
        loc: Where the scenario was read (:class:`~simulator.scenario.located.Located`):
            problems are located at ``file:line:col``; None: at the field path.

    Raises:
        ScenarioError: With the estimate and the limit.
    """
    if not _over(bound(sc, cost)):
        return  # far within: no need to compile the scenario (validate stays light)
    from simulator.errors import Problem, ScenarioError, format_path
    from simulator.world.calendar import build_calendar
    from simulator.world.static import compile_scenario

    found = budget_problems(compile_scenario(sc, build_calendar(sc)), cost, engine)
    if not found:
        return
    if loc is not None:
        raise ScenarioError([loc.problem(path, message) for path, message in found])
    raise ScenarioError([Problem(message, format_path(path)) for path, message in found])
