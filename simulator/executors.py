"""Where replications run: serially, on local processes, or on a Dask cluster.

All executors run *chunks* of replications (so task overhead stays small) and yield
``(chunk index, result)`` as chunks finish; the ensemble re-orders them, so results
never depend on the executor or the number of workers. The scenario is shipped once
per worker (process initializer; ``Client.scatter(broadcast=True)`` on Dask), not
once per replication.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

__all__ = [
    "ChunkExecutor",
    "DaskExecutor",
    "FuturesExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "default_workers",
    "make_executor",
]

ChunkFn = Callable[[Any, int, int], Any]
"""``fn(payload, start, stop)`` -> result for replications ``start .. stop - 1``."""


def default_workers() -> int:
    """Number of usable cores (respects CPU affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


class ChunkExecutor(Protocol):
    """Runs chunk functions; yields results as they finish."""

    workers: int

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Run ``fn(payload, start, stop)`` for each chunk; yield ``(index, result)``."""
        ...

    def close(self) -> None:
        """Release resources."""
        ...


class SerialExecutor:
    """Everything in this process, in order."""

    workers = 1

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Run chunks one after another."""
        for i, (a, b) in enumerate(chunks):
            yield i, fn(payload, a, b)

    def close(self) -> None:
        """Nothing to release."""


_PAYLOAD: Any = None


def _init_worker(payload: Any) -> None:
    global _PAYLOAD
    _PAYLOAD = payload


def _call_with_global(fn: ChunkFn, a: int, b: int) -> Any:
    return fn(_PAYLOAD, a, b)


class ProcessExecutor:
    """Local worker processes: ``fork`` on Linux (fast start, works from unguarded
    scripts), ``spawn`` elsewhere (scripts there need ``if __name__ == "__main__":``).

    Args:
        workers: Number of processes (default: every usable core).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: cf.ProcessPoolExecutor | None = None

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Run chunks on the pool; the payload goes once to each worker."""
        self._pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=mp.get_context(_start_method()),
            initializer=_init_worker,
            initargs=(payload,),
        )
        futs = {
            self._pool.submit(_call_with_global, fn, a, b): i for i, (a, b) in enumerate(chunks)
        }
        try:
            for fut in cf.as_completed(futs):
                yield futs[fut], fut.result()
        finally:
            self.close()

    def close(self) -> None:
        """Shut the pool down, cancelling pending chunks."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _start_method() -> str:
    return (
        "fork"
        if "fork" in mp.get_all_start_methods()
        and os.name == "posix"
        and os.uname().sysname == "Linux"
        else "spawn"
    )


class FuturesExecutor:
    """Any ``concurrent.futures.Executor`` (e.g. ``dask_client.get_executor()``); the
    payload travels with each chunk.

    Args:
        executor: The executor (not shut down by us).
        workers: Parallelism hint used to size chunks.
    """

    def __init__(self, executor: cf.Executor, workers: int | None = None) -> None:
        self.executor = executor
        self.workers = workers or default_workers()

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Submit every chunk; yield as completed."""
        futs = {self.executor.submit(fn, payload, a, b): i for i, (a, b) in enumerate(chunks)}
        try:
            for fut in cf.as_completed(futs):
                yield futs[fut], fut.result()
        finally:
            for f in futs:
                f.cancel()

    def close(self) -> None:
        """The caller owns the executor."""


class DaskExecutor:
    """A Dask distributed cluster.

    Args:
        address: Scheduler address (``tcp://host:8786``); None starts a LocalCluster
            with one single-threaded worker process per core.
        client: An existing ``distributed.Client`` to use instead.
        workers: Workers for a new LocalCluster.
    """

    def __init__(
        self, address: str | None = None, client: Any = None, workers: int | None = None
    ) -> None:
        from distributed import Client, LocalCluster

        self._own: list[Any] = []
        if client is None:
            if address is None:
                cluster = LocalCluster(
                    n_workers=workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self._own.append(cluster)
                client = Client(cluster)
            else:
                client = Client(address)
            self._own.insert(0, client)
        self.client = client
        n = len(client.scheduler_info().get("workers", {}))
        self.workers = max(1, n)

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Scatter the payload to every worker once, then map chunks."""
        from distributed import as_completed

        fut_payload = self.client.scatter(payload, broadcast=True)
        futs = [self.client.submit(fn, fut_payload, a, b, pure=False) for a, b in chunks]
        index = {f.key: i for i, f in enumerate(futs)}
        try:
            for fut in as_completed(futs):
                yield index[fut.key], fut.result()
        finally:
            self.client.cancel(futs)

    def close(self) -> None:
        """Close the client and cluster we started (not one passed in)."""
        for obj in self._own:
            obj.close()
        self._own = []


def make_executor(
    executor: Any = None, workers: int | None = None, scheduler: str | None = None
) -> ChunkExecutor:
    """Choose an executor.

    Args:
        executor: None (processes when ``workers`` != 1, else serial), ``"serial"``,
            ``"processes"``, ``"dask"`` (LocalCluster), a ``distributed.Client``, a
            ``concurrent.futures.Executor``, or a :class:`ChunkExecutor`.
        workers: Number of workers (default: every core).
        scheduler: Dask scheduler address; implies Dask.

    Returns:
        An executor; call ``close()`` when done.
    """
    if scheduler is not None:
        return DaskExecutor(address=scheduler)
    if executor is None:
        w = workers or default_workers()
        return SerialExecutor() if w == 1 else ProcessExecutor(w)
    if isinstance(executor, str):
        kinds: dict[str, Callable[[], ChunkExecutor]] = {
            "serial": SerialExecutor,
            "processes": lambda: ProcessExecutor(workers),
            "dask": lambda: DaskExecutor(workers=workers),
        }
        if executor not in kinds:
            raise ValueError(f"unknown executor {executor!r}; choose one of {sorted(kinds)}")
        return kinds[executor]()
    if type(executor).__name__ == "Client" and hasattr(executor, "scatter"):
        return DaskExecutor(client=executor)
    if isinstance(executor, cf.Executor):
        return FuturesExecutor(executor, workers)
    if hasattr(executor, "run") and hasattr(executor, "close"):
        return executor
    raise TypeError(f"cannot use {executor!r} as an executor")
