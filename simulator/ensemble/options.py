"""How replications run: one options object for every function that runs ensembles.

Internal functions take an :class:`Execution`; the public ones
(:func:`simulator.run_ensemble`, :func:`simulator.compare`, :func:`simulator.sweep`,
:func:`simulator.fit`, the ``relsim`` commands) keep their keyword arguments and build
one at their start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.replication.engines import DEFAULT_ENGINE

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.executors import ChunkExecutor
    from simulator.scenario.model import Scenario

__all__ = ["Execution", "ProgressFn"]

ProgressFn = Callable[[int, int], None]
"""A progress callback: ``(done, total)``."""


@dataclass(frozen=True)
class Execution:
    """How an ensemble's replications run, and from which seed.

    Only ``seed`` changes results: a seed gives the same numbers on either engine, on
    any executor and any number of workers. Change a field with
    :func:`dataclasses.replace`.
    """

    engine: str = DEFAULT_ENGINE
    """What simulates a replication: one of
    :data:`~simulator.replication.engines.ENGINES` (default
    :data:`~simulator.replication.engines.DEFAULT_ENGINE`, the compiled kernel; ``simpy``
    is the reference model). Checked when the ensemble starts."""
    seed: int | None = None
    """Root seed: replication ``i`` draws from ``SeedSequence(seed, spawn_key=(i, …))``
    (None: the scenario's ``seed``)."""
    workers: int | None = None
    """Worker processes (None: every core, never more than replications; 1: serially in
    this process), at most :attr:`~simulator.limits.Limits.MAX_WORKERS`."""
    executor: Any = None
    """Where chunks of replications run: None (local processes when ``workers`` is not
    1, else serially), ``"serial"``, ``"processes"``, ``"dask"`` (a LocalCluster), a
    ``distributed.Client`` (left open), a ``concurrent.futures.Executor`` (e.g.
    ``client.get_executor()``) or a
    :class:`~simulator.ensemble.executors.ChunkExecutor`."""
    scheduler: str | None = None
    """Dask scheduler address (``tcp://host:8786``); implies Dask."""
    progress: ProgressFn | bool | str | None = "auto"
    """Progress of the call's work (replications of an ensemble, points of a sweep,
    trials of a fit): ``"auto"`` (a ``tqdm.auto`` bar when a person is watching: a
    notebook or a terminal, not CI), True (a bar always), a :data:`ProgressFn`, or
    False/None (none)."""

    def seed_for(self, scenario: Scenario) -> Any:
        """The root seed for ``scenario``: :attr:`seed`, else the scenario's (unchecked)."""
        return scenario.seed if self.seed is None else self.seed

    def chunk_executor(self, reps: int | None = None) -> ChunkExecutor:
        """The executor of :attr:`executor`, :attr:`workers` and :attr:`scheduler` for
        ``reps`` replications (no more local workers than that); close it when done.

        Raises:
            ValueError: ``workers`` is out of range or ``executor`` an unknown name.
            SchedulerUnreachable: ``scheduler`` is malformed or does not answer.
        """
        from simulator.ensemble.executors import make_executor

        return make_executor(self.executor, self.workers, self.scheduler, reps=reps)
