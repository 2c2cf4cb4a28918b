"""Event priorities of the world: what happens first when events share an instant.

SimPy processes events in order of (time, priority, order scheduled). relsim uses
three priorities: policy changes (:data:`POLICY`) before anything else at the same
instant, then everything else (:data:`NORMAL`, SimPy's timeouts and grants) in the order
it was scheduled, then the plants' daily step (:data:`DAILY`), so goods arriving at
midnight are in stock for that day's step. The compiled kernel keeps the same order.
"""

from __future__ import annotations

import heapq

import simpy

from simulator.world.codes import Priority

__all__ = ["DAILY", "NORMAL", "POLICY", "At", "AtTime"]

POLICY = Priority.POLICY
"""Priority of policy changes (regimes, overlays)."""
NORMAL = Priority.NORMAL
"""SimPy's priority of timeouts and succeeded events."""
DAILY = Priority.DAILY
"""Priority of the plants' daily step."""
assert (NORMAL, Priority.URGENT) == (simpy.events.NORMAL, simpy.events.URGENT)


class At(simpy.events.Event):
    """An event ``delay`` from now with an explicit ``priority`` (SimPy's timeouts all
    have normal priority)."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority, delay)


class AtTime(simpy.events.Event):
    """An event at exactly time ``t`` (not ``now + (t - now)``, which may differ from ``t``
    in the last bit) with an explicit ``priority``: replays events recorded at known
    times (:class:`~simulator.world.policy.PolicyReplay`), as the compiled kernel does."""

    def __init__(self, env: simpy.Environment, t: float, priority: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        # Environment.schedule adds a delay to now; this places the event at ``t`` itself
        # (SimPy 4 queues (time, priority, event id, event) on ``env._queue``)
        heapq.heappush(env._queue, (t, priority, next(env._eid), self))  # type: ignore[attr-defined]
