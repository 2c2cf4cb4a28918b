"""The single-replication entry: scenario + seed + replication index → RunResult."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from simulator.replication.result import RunResult
from simulator.world.calendar import WorkCalendar, build_calendar
from simulator.world.world import simulate

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.trace import Trace

__all__ = ["DEFAULT_ENGINE", "ENGINES", "run", "simulator_for"]

ENGINES = ("kernel", "simpy")
"""The engines that simulate a replication: ``kernel``, the compiled event kernel
(:mod:`simulator.kernel`, numba, cached on disk); ``simpy``, the readable SimPy reference
model (:mod:`simulator.world`). Both give the same :class:`~simulator.world.trace.Trace`
(``tests/kernel/test_differential.py``)."""
DEFAULT_ENGINE = "kernel"
"""The engine used unless one is named."""

Simulate = Callable[["Scenario", int, int, WorkCalendar], "Trace"]


def simulator_for(engine: str = DEFAULT_ENGINE) -> Simulate:
    """The function ``(scenario, seed, rep, calendar) -> Trace`` of an engine.

    Args:
        engine: One of :data:`ENGINES`.

    Raises:
        ValueError: An unknown engine.
    """
    if engine == "simpy":
        return simulate
    if engine == "kernel":
        from simulator.kernel import simulate_kernel

        return simulate_kernel
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


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
        engine: ``"kernel"`` (compiled) or ``"simpy"`` (the reference); same result.

    Returns:
        The replication's :class:`~simulator.replication.result.RunResult` (frames built on first
        access from the replication's trace; the simulated world is not kept).
    """
    sim = simulator_for(engine)
    s = scenario.seed if seed is None else int(seed)
    cal = calendar if calendar is not None else build_calendar(scenario)
    return RunResult(scenario, sim(scenario, s, rep, cal), cal)
