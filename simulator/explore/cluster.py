"""One executor for a whole sweep or fit.

A sweep or a fit runs many ensembles; each would start (and stop) its own Dask
``LocalCluster`` if given ``executor="dask"``. :func:`shared_executor` starts one cluster
(or connects one client to a scheduler address) for all of them and hands the client
to every ensemble (:func:`simulator.ensemble.runner.run_ensemble` leaves a client it is
given open); every other executor is passed through unchanged (local process pools are
cheap to start per ensemble, and a serial run has nothing to share).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from simulator.ensemble.options import Execution

__all__ = ["shared_executor"]


@contextlib.contextmanager
def shared_executor(execution: Execution) -> Iterator[Execution]:
    """Yield the execution options for every ensemble of a sweep or fit.

    Args:
        execution: With ``executor="dask"``, one LocalCluster of ``workers``
            single-threaded processes (default: every core) for the whole sweep; with a
            ``scheduler``, one client of it; anything else is passed through.

    Yields:
        ``execution`` with a ``distributed.Client`` as its executor (closed, with its
        cluster, on exit) and no scheduler, or ``execution`` itself.

    Raises:
        SchedulerUnreachable: Dask is not installed, or no scheduler answers at
            ``scheduler`` (see :class:`simulator.ensemble.executors.DaskExecutor`).
    """
    if execution.scheduler is None and execution.executor != "dask":
        yield execution
        return
    from simulator.ensemble.executors import DaskExecutor

    dask = (
        DaskExecutor(address=execution.scheduler)
        if execution.scheduler is not None
        else DaskExecutor(workers=execution.workers)
    )
    try:
        yield replace(execution, executor=dask.client, scheduler=None)
    finally:
        dask.close()
