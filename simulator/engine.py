"""The single-replication engine: scenario + seed + replication index -> RunResult."""

from __future__ import annotations

from simulator.calendar import WorkCalendar
from simulator.results import RunResult
from simulator.schema import Scenario
from simulator.world import World

__all__ = ["run"]


def run(
    scenario: Scenario, seed: int | None = None, rep: int = 0, calendar: WorkCalendar | None = None
) -> RunResult:
    """Run one replication.

    Args:
        scenario: A validated scenario (see :func:`simulator.load_scenario`).
        seed: Root seed (default: the scenario's ``seed``).
        rep: Replication index; replication ``i`` draws from
            ``SeedSequence(seed, spawn_key=(i, ...))``.
        calendar: A prebuilt calendar for this scenario (saves rebuilding it per rep).

    Returns:
        The replication's :class:`RunResult` (frames built on first access).
    """
    s = scenario.seed if seed is None else int(seed)
    world = World(scenario, s, rep, calendar).run()
    return RunResult(world, s, rep)
