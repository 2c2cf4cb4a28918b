"""The single-replication entry: scenario + seed + replication index → RunResult."""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.replication.engines import (
    DEFAULT_ENGINE,
    ENGINES,
    check_budget,
    prepare_engine,
    simulator_for,
)
from simulator.replication.result import RunResult
from simulator.world.calendar import WorkCalendar, build_calendar

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["DEFAULT_ENGINE", "ENGINES", "run", "simulator_for"]


def run(
    scenario: Scenario,
    seed: int | None = None,
    rep: int = 0,
    calendar: WorkCalendar | None = None,
    engine: str = DEFAULT_ENGINE,
) -> RunResult:
    """Run one replication.

    Args:
        scenario: A validated scenario (see :func:`simulator.load_scenario`).
        seed: Root seed (default: the scenario's ``seed``).
        rep: Replication index; replication ``i`` draws from
            ``SeedSequence(seed, spawn_key=(i, ...))``.
        calendar: A prebuilt calendar for this scenario (saves rebuilding it per rep).
        engine: One of :data:`ENGINES`: the compiled kernel (the default,
            :data:`DEFAULT_ENGINE`) or ``"simpy"`` (the reference); the same result.

    Returns:
        The replication's :class:`~simulator.replication.result.RunResult` (frames built on first
        access from the replication's trace; the simulated world is not kept).
    """
    check_budget(scenario, engine)  # what the replication costs, before it runs
    prepare_engine(engine)  # the compiled-code cache checked before anything loads
    sim = simulator_for(engine)
    s = scenario.seed if seed is None else int(seed)
    cal = calendar if calendar is not None else build_calendar(scenario)
    return RunResult(scenario, sim(scenario, s, rep, cal), cal)
