"""The engines that simulate a replication, by name (imports nothing heavy: the engine
is imported when it is asked for)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simulator.world.budget import EngineCost

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar
    from simulator.world.trace import Trace

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_COSTS",
    "GC_EVERY",
    "Simulate",
    "check_budget",
    "prepare_engine",
    "simulator_for",
]

ENGINES = ("kernel", "simpy")
"""The engines that simulate a replication: ``kernel``, the compiled event kernel
(:mod:`simulator.kernel`, numba, cached on disk); ``simpy``, the readable SimPy reference
model (:mod:`simulator.world`). Both give the same :class:`~simulator.world.trace.Trace`
(``tests/kernel/test_differential.py``)."""
DEFAULT_ENGINE = "kernel"
"""The engine used unless one is named (the one default: every function, option and
command that takes an engine defaults to this constant)."""
GC_EVERY = {"simpy": 10, "kernel": 200}
"""A worker runs a full garbage collection after every this many replications of an
engine (the kernel leaves almost no reference cycles: only its policy controller's)."""

ENGINE_COSTS = {
    "kernel": EngineCost(seconds_per_event=2e-6, slot_bytes=2_000),
    "simpy": EngineCost(seconds_per_event=4e-5, app_bytes=4_000, draw_bytes=32),
}
"""What each engine spends (:class:`simulator.world.budget.EngineCost`): the kernel's
working arrays per application slot (``tests/kernel/test_budget_memory.py`` checks the
bound), the SimPy engine's objects per application and its draws as Python lists; time
per event measured on the shipped scenarios (about a third of these on the project's
2-core VM)."""

Simulate = Callable[["Scenario", int, int, "WorkCalendar"], "Trace"]
"""``(scenario, seed, rep, calendar) -> Trace``."""


def simulator_for(engine: str = DEFAULT_ENGINE) -> Simulate:
    """The function ``(scenario, seed, rep, calendar) -> Trace`` of an engine.

    Args:
        engine: One of :data:`ENGINES`.

    Raises:
        ValueError: An unknown engine.
    """
    if engine == "simpy":
        from simulator.world.world import simulate

        return simulate
    if engine == "kernel":
        from simulator.kernel import simulate_kernel

        return simulate_kernel
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def prepare_engine(engine: str) -> None:
    """Check ``engine`` and the compiled-code cache directory; for the kernel, compile
    it (or load its on-disk cache) here, before workers start: forked workers inherit the
    compiled code, others find it in the cache instead of each compiling it at once.

    Raises:
        ValueError: An unknown engine.
        UntrustedCache: The cache directory may be written by others
            (:func:`simulator.world.jit.check_cache_dir`).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    from simulator.world.jit import check_cache_dir

    check_cache_dir()  # both engines load compiled code: refuse an untrusted cache first
    if engine == "kernel":
        from simulator.kernel import warm

        warm()


def check_budget(scenario: Scenario, engine: str = DEFAULT_ENGINE, loc: Any = None) -> None:
    """Refuse a scenario one replication of which would exceed the limits on ``engine``
    (:func:`simulator.world.budget.check_budget`, with :data:`ENGINE_COSTS`), before
    anything runs.

    Raises:
        ScenarioError: With the estimate and the limit (located when ``loc`` is given).
        ValueError: An unknown engine.
    """
    from simulator.world.budget import check_budget as check

    if engine not in ENGINE_COSTS:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    check(scenario, ENGINE_COSTS[engine], engine, loc)
