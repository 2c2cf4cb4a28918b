"""The engines that simulate a replication, by name (imports nothing heavy: the engine
is imported when it is asked for)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar
    from simulator.world.trace import Trace

__all__ = ["DEFAULT_ENGINE", "ENGINES", "GC_EVERY", "Simulate", "prepare_engine", "simulator_for"]

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
