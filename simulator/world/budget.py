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
  the kernel's working arrays (about :data:`SLOT_BYTES` per application slot, the daily
  records), the policy effects table (states × application classes) and, for the SimPy
  engine, its Python objects (about :data:`SIMPY_APP_BYTES` per application, 32 bytes
  per draw);
* **events**: each expected application's steps, its shipment's, each day's step of
  each production line, each change of policy state (and the reviews in progress it
  re-plans), each policy state's effects per application class;
* **time**: events × the engine's cost per event (:data:`SECONDS_PER_EVENT`, measured on
  the shipped scenarios, rounded up); a policy state's effects are resolved in Python on
  both engines (:data:`SECONDS_PER_STATE_STEP` per rule and application class).

:func:`budget_problems` checks them against :attr:`~simulator.limits.Limits.MAX_REPLICATION_EVENTS`,
:attr:`~simulator.limits.Limits.MAX_REPLICATION_BYTES` and
:attr:`~simulator.limits.Limits.MAX_REPLICATION_SECONDS`; ``relsim validate`` and every
command that runs refuse a scenario over them, naming the estimate, the limit and what
drives it, before anything runs. The estimates are upper bounds of what the code sizes,
not predictions of a run's average.
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
    "SECONDS_PER_EVENT",
    "SECONDS_PER_STATE_STEP",
    "SIMPY_APP_BYTES",
    "SLOT_BYTES",
    "STATE_BYTES",
    "Budget",
    "budget_problems",
    "check_budget",
    "estimate",
]

SLOT_BYTES = 2_000
"""The kernel's working arrays per application-and-shipment slot, bytes (its application,
shipment, request, heap and log rows; ``tests/kernel`` checks this against what the
kernel allocates)."""
SIMPY_APP_BYTES = 4_000
"""The SimPy engine's Python objects per application (its process, events, records)."""
SECONDS_PER_EVENT = {"kernel": 2e-6, "simpy": 4e-5}
"""Cost of one event on each engine, seconds (the shipped scenarios measure about a
third of these on the project's 2-core VM)."""
SECONDS_PER_STATE_STEP = 5e-6
"""Cost of resolving one rule for one application class in a new policy state, seconds
(Python on both engines; measured about 2e-6 with 60 pulses)."""
STATE_BYTES = 2_000
"""A policy state's Python objects (its rules, its caches), bytes."""
_DRAW_COPIES = 2
"""Draw arrays exist twice at the peak (blocks and their concatenation)."""


@dataclass(frozen=True)
class Budget:
    """What one replication will cost (see the module docstring).

    Attributes:
        events: Expected events (upper bound).
        bytes: Memory on each engine, bytes (upper bound of what is allocated).
        seconds: Time on each engine, seconds.
        parts: What each term contributes: name -> (events, kernel bytes), for messages.
        changes: Changes of policy state (upper bound).
        slots: Application and shipment slots the draws are sized for.
    """

    events: float
    bytes: dict[str, float]
    seconds: dict[str, float]
    parts: dict[str, tuple[float, float]] = field(default_factory=dict)
    changes: float = 0.0
    slots: float = 0.0

    def driver(self, by: str = "events") -> str:
        """The term that contributes most ``events`` or (kernel) ``bytes``."""
        k = 0 if by == "events" else 1
        return max(self.parts, key=lambda n: self.parts[n][k]) if self.parts else ""


def _background(sc: Scenario, st: Static) -> tuple[float, float]:
    """Background contracts: (expected at the streams' highest rates, the same plus six
    standard deviations, as the arrival draws are sized)."""
    working = float(st.cal.work_time(float(st.H)))
    expected = 0.0
    for b in sc.authority.background:
        rate = b.rate_per_wd * (max(b.month_factors) if b.month_factors else 1.0)
        rate *= max([1.0, *(ch.factor for ch in b.rate_changes)])
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


def estimate(st: Static) -> Budget:
    """Estimate one replication's events, memory and time from the compiled scenario.

    Args:
        st: The compiled scenario (:func:`simulator.world.static.compile_scenario`).
    """
    sc = st.sc
    H, M, P = st.H, st.M, st.P
    C = len(st.country)
    classes = max(len(st.class_keys), 1)
    bg_expected, bg_sized = _background(sc, st)
    part_slots = float(st.part_bound.sum())
    slots = bg_sized + part_slots + 1
    app_width = 8 + 2 * st.n_ret + 3 * st.n_info + st.n_park_dists
    ship_width = 5 + st.n_insp_dists
    lead = len(st.lead_pairs) * (H + 1.0)
    transit = float(sum(int(st.part_bound[p]) + H + 1 for _, p in st.transit_pairs))
    draw_floats = slots * (app_width + ship_width) + lead + transit + 2 * bg_sized + H * M
    changes = _policy_changes(sc)
    states = min(changes + len(st.book.names) + 1, float(2 ** min(len(st.book.layers), 60)))
    states = max(states, float(len(st.book.names)))
    rules_max = max((len(r) for r in st.book.regime_rules), default=0) + _max_active(sc)

    apps = bg_expected + _orders(sc) + float(st.pipe_part.size)
    per_app = 10 + 2 * st.n_info + 2 * st.n_ret
    reviewers = st.reviewers * max([1.0, *st.book.capacity_factor])
    inflight = min(reviewers, apps)
    ev = {
        "applications and shipments": apps * per_app,
        "daily steps": H * (P + M + 1.0),
        "policy changes": changes * (1 + inflight),
        "policy states": states * classes * (1 + rules_max),
    }
    daily = 8.0 * H * (6 * P + 3 * M + 4 + 2 * M + 2 * C)
    mem = {
        "applications and shipments": slots * SLOT_BYTES + 8.0 * _DRAW_COPIES * draw_floats,
        "daily steps": daily,
        "policy changes": 3 * 8.0 * changes,
        "policy states": states * (2 * 8.0 * classes * 12 + STATE_BYTES + 8.0 * rules_max),
    }
    kernel = math.fsum(mem.values())
    simpy = (
        kernel
        - slots * SLOT_BYTES
        + apps * SIMPY_APP_BYTES
        + 32.0 * draw_floats  # the draws as Python lists
    )
    events = math.fsum(ev.values())
    stepping = events - ev["policy states"]
    return Budget(
        events=events,
        bytes={"kernel": kernel, "simpy": simpy},
        seconds={
            e: stepping * c + ev["policy states"] * SECONDS_PER_STATE_STEP
            for e, c in SECONDS_PER_EVENT.items()
        },
        parts={k: (ev[k], mem[k]) for k in ev},
        changes=changes,
        slots=slots,
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


def budget_problems(st: Static, engine: str = "kernel") -> list[tuple[tuple[Any, ...], str]]:
    """The estimate (:func:`estimate`) against the limits, as ``(scenario path,
    message)`` pairs (empty when within them).

    Args:
        st: The compiled scenario.
        engine: The engine that will run it (its memory and time are checked).
    """
    b = estimate(st)
    out: list[tuple[tuple[Any, ...], str]] = []
    mem, secs = b.bytes.get(engine, b.bytes["kernel"]), b.seconds.get(engine, 0.0)

    def where(term: str) -> tuple[Any, ...]:
        sc = st.sc
        if term == "applications and shipments" and sc.authority.background:
            bg, _ = _background(sc, st)
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
    if mem > Limits.MAX_REPLICATION_BYTES:
        term = b.driver("bytes")
        out.append(
            (
                where(term),
                f"one replication would need about {_size(mem)} of memory on the {engine} "
                f"engine (mostly {term}: {_size(b.parts[term][1])}); the limit is "
                f"{_size(Limits.MAX_REPLICATION_BYTES)} (Limits.MAX_REPLICATION_BYTES)",
            )
        )
    if secs > Limits.MAX_REPLICATION_SECONDS and not out:
        term = b.driver("events")
        out.append(
            (
                where(term),
                f"one replication would take about {_duration(secs)} on the {engine} engine "
                f"({b.events:,.3g} events, mostly {term}); the limit is "
                f"{_duration(Limits.MAX_REPLICATION_SECONDS)} (Limits.MAX_REPLICATION_SECONDS)",
            )
        )
    return out


def check_budget(sc: Scenario, engine: str = "kernel", loc: Any = None) -> None:
    """Refuse a scenario one replication of which would exceed the limits on ``engine``
    (:func:`budget_problems`), before anything runs.

    Args:
        sc: A validated scenario.
        engine: The engine that will run it.
        loc: Where the scenario was read (:class:`~simulator.scenario.located.Located`):
            problems are located at ``file:line:col``; None: at the field path.

    Raises:
        ScenarioError: With the estimate and the limit.
    """
    from simulator.errors import Problem, ScenarioError, format_path
    from simulator.world.calendar import build_calendar
    from simulator.world.static import compile_scenario

    found = budget_problems(compile_scenario(sc, build_calendar(sc)), engine)
    if not found:
        return
    if loc is not None:
        raise ScenarioError([loc.problem(path, message) for path, message in found])
    raise ScenarioError([Problem(message, format_path(path)) for path, message in found])
