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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulator.world.codes import Priority
from simulator.world.effects import PolicyBook, Resolved
from simulator.world.events import POLICY, At, AtTime

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.policy import Policy

__all__ = [
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


@dataclass(frozen=True)
class PolicyPath:
    """Every change of policy state in one replication, in the order it happens.

    Policy changes depend on nothing else that happens in a run (dates, the regime chain's
    and the pulses' own draws), so a replication's path is computed once, before the run,
    by :class:`PolicyController` (:func:`policy_path`), and both engines replay it.

    Attributes:
        state0: The policy state at time 0, before any change.
        t: Time of each change, days since start.
        prio: Priority of the event that made it (``Priority.URGENT`` for changes made
            as the controller starts at time 0, ``Priority.POLICY`` afterwards).
        state: The new policy state.
        regimes: Rows of the REGIMES log (time, regime), including time 0.
        layers: Rows of the OVERLAYS log (time, overlay, on/off).
    """

    state0: int
    t: tuple[float, ...]
    prio: tuple[int, ...]
    state: tuple[int, ...]
    regimes: tuple[tuple[float, int], ...]
    layers: tuple[tuple[float, int, int], ...]


def policy_path(
    book: PolicyBook,
    policy: Policy,
    start: dt.date,
    horizon: float,
    streams: Callable[..., np.random.Generator],
) -> PolicyPath:
    """Run the policy controller alone over the horizon and record every change of state
    it makes (adds the states it meets to ``book``)."""
    env = simpy.Environment()
    regimes: list[tuple[float, int]] = []
    layers: list[tuple[float, int, int]] = []
    t_: list[float] = []
    prio_: list[int] = []
    state_: list[int] = []

    def changed(sid: int) -> None:
        t_.append(env.now)
        # at time 0: the controller's start (a process start, URGENT: dated changes at or
        # before the start, a chain that starts at once); later: a POLICY-priority event
        prio_.append(Priority.URGENT if env.now == 0.0 else Priority.POLICY)
        state_.append(sid)

    ctrl = PolicyController(env, book, policy, start, horizon, streams, changed, regimes, layers)
    env.run(until=horizon)
    return PolicyPath(
        state0=ctrl.current0,
        t=tuple(t_),
        prio=tuple(prio_),
        state=tuple(state_),
        regimes=tuple(regimes),
        layers=tuple(layers),
    )


class PolicyReplay:
    """Replays a :class:`PolicyPath` in a SimPy environment: :attr:`current` is the state in
    force, :attr:`changed` succeeds (and is replaced) at every change, and ``on_change``
    is called with the new state first. Started at the place the controller was, so that
    events at the same instant keep the order they had (changes at time 0 run as the
    process starts; later ones are events of priority ``POLICY`` at their exact times).

    Args:
        env: SimPy environment.
        path: The replication's policy path.
        on_change: Called with the new state id after each change.
    """

    def __init__(
        self, env: simpy.Environment, path: PolicyPath, on_change: Callable[[int], None]
    ) -> None:
        self.env = env
        self._path = path
        self._on_change = on_change
        self.current = path.state0
        self.changed: simpy.Event = env.event()
        """Succeeds (and is replaced) at every change of state."""
        env.process(self._run())

    def _run(self):
        env = self.env
        for t, sid in zip(self._path.t, self._path.state, strict=True):
            if t > env.now:
                yield AtTime(env, t, POLICY)
            self.current = sid
            ev, self.changed = self.changed, env.event()
            self._on_change(sid)
            ev.succeed(sid)
