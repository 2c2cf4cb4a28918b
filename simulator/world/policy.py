"""Policy throttles: regimes of rules that speed up or slow down licensing, and overlays
layered over them.

How rules combine into effects is defined once, in :mod:`simulator.world.effects`.

A *policy state* is a regime plus the set of active overlays. Every change of state (a
regime change, an overlay starting or ending; all changes of one instant count as one)
takes effect at once: reviews in progress are re-planned at the new speed (remaining
work is conserved, time is not), capacity changes apply to the next reviewer
assignment (no review is pre-empted), suspended decisions, parked files and held goods
are re-checked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulator.world.codes import Priority
from simulator.world.effects import PolicyBook, Resolved
from simulator.world.events import POLICY, At, AtTime
from simulator.world.static import reviewer_capacity

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.policy import Policy

__all__ = [
    "CAPACITY",
    "STATE",
    "PolicyBook",
    "PolicyController",
    "PolicyPath",
    "PolicyReplay",
    "Resolved",
    "policy_path",
]


class PolicyController:
    """Changes the policy state over simulated time: the dated timeline of regimes and
    the dated overlays (all changes of one instant applied together), then the optional
    Markov chain of regimes, and the stochastic pulses.

    Args:
        env: SimPy environment.
        book: Compiled policy.
        policy: The scenario's policy.
        start: Scenario start date (time 0).
        horizon: Simulated days.
        streams: ``streams(*names)`` → a generator (the regime chain, each pulse).
        on_change: Called with the new state id after each change.
        log: Receives ``(time, regime index)`` for every regime change, including time 0.
        layer_log: Receives ``(time, overlay index, 1 on / 0 off)`` for every overlay edge.
    """

    def __init__(
        self,
        env: simpy.Environment,
        book: PolicyBook,
        policy: Policy,
        start: dt.date,
        horizon: float,
        streams: Callable[..., np.random.Generator],
        on_change: Callable[[int], None],
        log: list[tuple[float, int]],
        layer_log: list[tuple[float, int, int]],
    ) -> None:
        self.env = env
        self.book = book
        self._on_change = on_change
        self._log = log
        self._layer_log = layer_log
        self._horizon = horizon
        self._policy = policy
        self._start = start
        self.regime = book.index[policy.initial]
        self.layers: set[int] = set()
        # dated changes: time -> (new regime or None, overlays on, overlays off)
        dated: dict[float, tuple[list[int], set[int], set[int]]] = {}
        for ch in policy.timeline:
            dated.setdefault(self._t(ch.date), ([], set(), set()))[0].append(book.index[ch.regime])
        for i, ov in enumerate(policy.overlays):
            t_on, t_off = max(0.0, self._t(ov.from_)), self._t(ov.until) + 1.0
            if t_off <= 0 or t_on >= horizon:
                continue  # outside the horizon (validation warns)
            if t_on <= 0:
                self.layers.add(i)
            else:
                dated.setdefault(t_on, ([], set(), set()))[1].add(i)
            if t_off < horizon:
                dated.setdefault(t_off, ([], set(), set()))[2].add(i)
        self._dated = sorted(dated.items())
        self.current = book.state(self.regime, tuple(sorted(self.layers)))
        self.current0 = self.current
        """The state at time 0, before any change."""
        self.changed: simpy.Event = env.event()
        """Succeeds (and is replaced) at every change of state."""
        log.append((0.0, self.regime))
        for i in sorted(self.layers):
            layer_log.append((0.0, i, 1))
        self._chain_rng = streams("regime")
        env.process(self._run())
        n_dated = len(policy.overlays)
        for k, pulse in enumerate(policy.pulses):
            idx = n_dated + k
            env.process(
                self._pulse(
                    idx, pulse, streams("pulse", str(k), "off"), streams("pulse", str(k), "on")
                )
            )

    def _t(self, d: dt.date) -> float:
        return float((d - self._start).days)

    def _apply(self, regime: int | None, on: set[int], off: set[int]) -> None:
        """Apply the changes of one instant as one change of state."""
        now = self.env.now
        if regime is not None and regime != self.regime:
            self.regime = regime
            self._log.append((now, regime))
        for i in sorted(off & self.layers):
            self.layers.discard(i)
            self._layer_log.append((now, i, 0))
        for i in sorted(on - self.layers):
            self.layers.add(i)
            self._layer_log.append((now, i, 1))
        sid = self.book.state(self.regime, tuple(sorted(self.layers)))
        if sid == self.current:
            return
        self.current = sid
        ev, self.changed = self.changed, self.env.event()
        self._on_change(sid)
        ev.succeed(sid)

    def _run(self):
        env, book, pol = self.env, self.book, self._policy
        for t, (regimes, on, off) in self._dated:
            if t > env.now:
                yield At(env, t - env.now, POLICY)
            self._apply(regimes[-1] if regimes else None, on, off)
        sw = pol.switching
        if sw is None:
            return
        t_last = self._t(pol.timeline[-1].date) if pol.timeline else 0.0
        t0 = max(self._t(sw.start or self._start), t_last)
        if t0 > env.now:
            yield At(env, t0 - env.now, POLICY)
        state = sw.initial
        self._apply(book.index[state], set(), set())
        rng = self._chain_rng
        while env.now < self._horizon:
            hold = rng.exponential(sw.mean_duration_days[state])
            yield At(env, hold, POLICY)
            row = sw.transitions.get(state)
            if not row:
                return
            names = list(row)
            state = names[int(rng.choice(len(names), p=np.asarray(list(row.values()))))]
            self._apply(book.index[state], set(), set())

    def _pulse(self, idx: int, pulse: Any, off_rng: np.random.Generator, on_rng: Any):
        """A stochastic overlay: off for an exponential time, on for a drawn duration."""
        from simulator.world.sampling import Sampler

        env = self.env
        lo = max(0.0, self._t(pulse.from_)) if pulse.from_ else 0.0
        hi = min(self._horizon, self._t(pulse.until) + 1.0) if pulse.until else self._horizon
        duration = Sampler(pulse.duration_days, on_rng)
        mean_off = 365.0 / pulse.rate_per_year
        t = lo
        while True:
            t += off_rng.exponential(mean_off)
            if t >= hi:
                return
            yield At(env, t - env.now, POLICY)
            self._apply(None, {idx}, set())
            t = min(hi, env.now + duration())
            if t >= self._horizon:
                return
            yield At(env, t - env.now, POLICY)
            self._apply(None, set(), {idx})


STATE, CAPACITY = 0, 1
"""Kinds of a policy path's changes: a new policy state; the reviewers in force only (a
step of the capacity ramp after a licence requirement starts)."""


@dataclass(frozen=True)
class PolicyPath:
    """Every change of policy state in one replication, in the order it happens, with the
    reviewers in force after each.

    Policy changes depend on nothing else that happens in a run (dates, the regime chain's
    and the pulses' own draws), so a replication's path is computed once, before the run,
    by :class:`PolicyController` (:func:`policy_path`), and both engines replay it.

    Attributes:
        state0: The policy state at time 0, before any change.
        capacity0: Reviewers in force at time 0.
        t: Time of each change, days since start.
        prio: Priority of the event that made it (``Priority.URGENT`` for changes made
            as the controller starts at time 0, ``Priority.POLICY`` afterwards).
        kind: :data:`STATE` (a new policy state) or :data:`CAPACITY` (the reviewers only).
        state: The policy state after the change.
        capacity: Reviewers in force after the change.
        regimes: Rows of the REGIMES log (time, regime), including time 0.
        layers: Rows of the OVERLAYS log (time, overlay, on/off).
    """

    state0: int
    capacity0: int
    t: tuple[float, ...]
    prio: tuple[int, ...]
    kind: tuple[int, ...]
    state: tuple[int, ...]
    capacity: tuple[int, ...]
    regimes: tuple[tuple[float, int], ...]
    layers: tuple[tuple[float, int, int], ...]


def policy_path(st: Any, streams: Callable[..., np.random.Generator]) -> PolicyPath:
    """Run the policy controller alone over the horizon and record every change of state
    it makes (adds the states it meets to the compiled scenario's policy book), then the
    reviewers in force after each change: the state's capacity (``reviewers`` × capacity
    factors) times the start-up ramp (``authority.startup.capacity_ramp``: from each time
    a licence becomes required for a class that did not need one, the factor rises day
    by day from ``from_factor`` to 1; a step of the ramp is a change of kind
    :data:`CAPACITY`, after the state changes of its instant)."""
    book, sc = st.book, st.sc
    horizon = float(st.H)
    env = simpy.Environment()
    regimes: list[tuple[float, int]] = []
    layers: list[tuple[float, int, int]] = []
    changes: list[tuple[float, int, int]] = []  # (time, priority, state)

    def changed(sid: int) -> None:
        # at time 0: the controller's start (a process start, URGENT: dated changes at or
        # before the start, a chain that starts at once); later: a POLICY-priority event
        prio = Priority.URGENT if env.now == 0.0 else Priority.POLICY
        changes.append((env.now, prio, sid))

    ctrl = PolicyController(
        env, book, sc.policy, sc.start, horizon, streams, changed, regimes, layers
    )
    env.run(until=horizon)
    state0 = ctrl.current0
    # the capacity ramp: a step each day after a requirement starts, merged in time order
    keys = st.class_keys
    required = [bool(st.class_controlled[c]) for c in range(len(keys))]

    def needs(state: int) -> frozenset[int]:
        return frozenset(
            c for c, k in enumerate(keys) if required[c] and book.resolve(state, k).licence_required
        )

    # a requirement starts when a state change makes a licence needed for a class that did
    # not need one; the ramp's steps follow it day by day until full or the next start
    steps = math.ceil(st.ramp_days) if st.ramp_days > 0 else 0
    starts: list[int] = []  # indices of the state changes that start a requirement
    if steps:
        need = needs(state0)
        for j, (_t, _prio, sid) in enumerate(changes):
            now_need = needs(sid)
            if now_need - need:
                starts.append(j)
            need = now_need
    ramp: list[tuple[float, float]] = []  # (time, multiplier) of each step
    for n, j in enumerate(starts):
        t0 = changes[j][0]
        t_next = changes[starts[n + 1]][0] if n + 1 < len(starts) else math.inf
        for k in range(1, steps + 1):
            t = t0 + k
            if t >= t_next or t > horizon:
                break
            ramp.append((t, st.ramp_from + (1.0 - st.ramp_from) * min(1.0, k / st.ramp_days)))
    # merged in time order; a ramp step after the state changes of its instant
    merged: list[tuple[float, int, int, int, float]] = []  # time, priority, kind, state, mult
    i = 0
    start_set = set(starts)
    for j, (t, prio, sid) in enumerate(changes):
        while i < len(ramp) and ramp[i][0] < t:
            merged.append((ramp[i][0], Priority.POLICY, CAPACITY, -1, ramp[i][1]))
            i += 1
        merged.append((t, prio, STATE, sid, st.ramp_from if j in start_set else -1.0))
    merged += [(t, Priority.POLICY, CAPACITY, -1, m) for t, m in ramp[i:]]
    state, mult = state0, 1.0
    out_state, out_cap = [], []
    for _t, _prio, kind, sid, m in merged:
        if kind == STATE:
            state = sid
        if m >= 0.0:
            mult = m
        out_state.append(state)
        out_cap.append(reviewer_capacity(st.reviewers, book.capacity_factor[state] * mult))
    return PolicyPath(
        state0=state0,
        capacity0=reviewer_capacity(st.reviewers, book.capacity_factor[state0]),
        t=tuple(m[0] for m in merged),
        prio=tuple(m[1] for m in merged),
        kind=tuple(m[2] for m in merged),
        state=tuple(out_state),
        capacity=tuple(out_cap),
        regimes=tuple(regimes),
        layers=tuple(layers),
    )


class PolicyReplay:
    """Replays a :class:`PolicyPath` in a SimPy environment: :attr:`current` is the state in
    force, :attr:`changed` succeeds (and is replaced) at every change of state, and
    ``on_change(state, reviewers)`` is called first; a change of the reviewers only calls
    ``on_capacity(reviewers)``. Started at the place the controller was, so that events at
    the same instant keep the order they had (changes at time 0 run as the process
    starts; later ones are events of priority ``POLICY`` at their exact times).

    Args:
        env: SimPy environment.
        path: The replication's policy path.
        on_change: Called with the new state id and the reviewers in force.
        on_capacity: Called with the reviewers in force after a capacity step.
    """

    def __init__(
        self,
        env: simpy.Environment,
        path: PolicyPath,
        on_change: Callable[[int, int], None],
        on_capacity: Callable[[int], None],
    ) -> None:
        self.env = env
        self._path = path
        self._on_change = on_change
        self._on_capacity = on_capacity
        self.current = path.state0
        self.changed: simpy.Event = env.event()
        """Succeeds (and is replaced) at every change of state."""
        env.process(self._run())

    def _run(self):
        env, path = self.env, self._path
        for t, kind, sid, cap in zip(path.t, path.kind, path.state, path.capacity, strict=True):
            if t > env.now:
                yield AtTime(env, t, POLICY)
            if kind == CAPACITY:
                self._on_capacity(cap)
                continue
            self.current = sid
            ev, self.changed = self.changed, env.event()
            self._on_change(sid, cap)
            ev.succeed(sid)
