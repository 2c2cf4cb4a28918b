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
from typing import Any

__all__ = ["shared_executor"]


@contextlib.contextmanager
def shared_executor(executor: Any, workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """Yield what to pass as ``executor`` to every ensemble of a sweep or fit.

    Args:
        executor: ``"dask"`` (one LocalCluster of ``workers`` single-threaded processes for
            the whole sweep), or anything :func:`simulator.run_ensemble` takes (passed
            through).
        workers: Worker processes of the LocalCluster (default: every core).
        scheduler: Dask scheduler address: one client for the whole sweep.

    Yields:
        A ``distributed.Client`` (closed, with its cluster, on exit), or ``executor``.

    Raises:
        SchedulerUnreachable: Dask is not installed, or no scheduler answers at
            ``scheduler`` (see :class:`simulator.ensemble.executors.DaskExecutor`).
    """
    if scheduler is None and executor != "dask":
        yield executor
        return
    from simulator.ensemble.executors import DaskExecutor

    dask = (
        DaskExecutor(address=scheduler) if scheduler is not None else DaskExecutor(workers=workers)
    )
    try:
        yield dask.client
    finally:
        dask.close()
