"""Where replications run: serially, on local processes, or on a Dask cluster.

All executors run *chunks* of replications (so task overhead stays small) and yield
``(chunk index, result)`` as chunks finish; the ensemble re-orders them, so results
never depend on the executor or the number of workers. The scenario is shipped once
per worker (process initializer; ``Client.scatter(broadcast=True)`` on Dask), not
once per replication or chunk.

Chunks are submitted through a bounded window (:func:`_windowed`): chunk ``j`` is
submitted only once every chunk before ``j - window`` has finished, so results that
arrive out of order can never pile up in the parent (memory stays bounded however
many replications run), while every worker always has work queued.

If the consumer stops early (a failed replication, Ctrl-C), queued chunks are
cancelled and local worker processes are terminated at once rather than waited for.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import signal
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


def window_for(workers: int) -> int:
    """Chunks allowed in flight beyond the oldest unfinished one: enough to keep every
    worker busy while one slow chunk finishes, few enough to bound parent memory."""
    return max(2, 3 * workers)


class ChunkExecutor(Protocol):
    """Runs chunk functions; yields results as they finish."""

    workers: int

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Run ``fn(payload, start, stop)`` for each chunk; yield ``(index, result)``."""
        ...

    def close(self) -> None:
        """Release resources (stop local workers that are still running)."""
        ...


def _windowed(
    submit: Callable[[int, int], Any], chunks: Sequence[tuple[int, int]], window: int
) -> Iterator[tuple[int, Any]]:
    """Submit chunks through a bounded window and yield ``(index, result)`` as they finish.

    ``submit(start, stop)`` returns a future with ``add_done_callback``, ``result`` and
    ``cancel`` (``concurrent.futures`` and Dask futures both qualify). Chunk ``j`` is
    submitted only when ``j < lo + window``, ``lo`` being the oldest unfinished chunk; a
    finished future is dropped as soon as its result is yielded. On early exit every
    outstanding future is cancelled.
    """
    done: queue.SimpleQueue[int] = queue.SimpleQueue()
    inflight: dict[int, Any] = {}
    finished: set[int] = set()
    n, lo, nxt = len(chunks), 0, 0

    def fill() -> None:
        nonlocal nxt
        while nxt < n and nxt < lo + window:
            fut = submit(*chunks[nxt])
            inflight[nxt] = fut
            fut.add_done_callback(lambda _f, i=nxt: done.put(i))
            nxt += 1

    try:
        fill()
        while inflight:
            i = done.get()
            result = inflight.pop(i).result()  # re-raises a worker-side exception
            finished.add(i)
            while lo in finished:
                finished.discard(lo)
                lo += 1
            fill()  # keep workers busy while the consumer folds this result
            yield i, result
            del result
    finally:
        for fut in inflight.values():
            fut.cancel()
        inflight.clear()


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
    # Ctrl-C reaches the whole process group: only the parent handles it (and then
    # terminates the pool). A forked worker also inherits the CLI's SIGTERM handler,
    # which raises KeyboardInterrupt; with it, ``terminate()`` could interrupt a worker
    # inside the pool's queue code and leave it (and the parent's exit) hanging.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _call_with_global(fn: ChunkFn, a: int, b: int) -> Any:
    return fn(_PAYLOAD, a, b)


class ProcessExecutor:
    """Local worker processes: ``fork`` on Linux (fast start, works from unguarded
    scripts), ``spawn`` elsewhere (scripts there need ``if __name__ == "__main__":``).
    The payload reaches each worker once, through the pool initializer.

    Args:
        workers: Number of processes (default: every usable core).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: cf.ProcessPoolExecutor | None = None

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Run chunks on a new pool; the payload goes once to each worker."""
        pool = cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=mp.get_context(_start_method()),
            initializer=_init_worker,
            initargs=(payload,),
        )
        self._pool = pool
        completed = False
        try:
            yield from _windowed(
                lambda a, b: pool.submit(_call_with_global, fn, a, b),
                chunks,
                window_for(self.workers),
            )
            completed = True
        finally:
            self._shutdown(kill=not completed)

    def close(self) -> None:
        """Stop the pool; workers still running (early exit) are terminated."""
        self._shutdown(kill=True)

    def _shutdown(self, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not kill:
            pool.shutdown(wait=True)
            return
        # concurrent.futures cannot stop a running task before Python 3.14
        # (terminate_workers); terminate the processes so a failed or interrupted
        # ensemble never waits for chunks whose results nobody will read.
        procs = list((getattr(pool, "_processes", None) or {}).values())
        results = getattr(pool, "_result_queue", None)  # shutdown() drops the reference
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=10)
        # A worker killed while sending its result leaves the pool's manager thread
        # blocked reading the rest of the message, and the interpreter then hangs at exit
        # joining that thread. The pool holds the last write end of the result pipe:
        # closing it turns the blocked read into EOF, the thread sees a broken pool and
        # ends. (The manager thread never writes to this pipe.)
        writer = getattr(results, "_writer", None)
        if writer is not None and not any(p.is_alive() for p in procs):
            writer.close()


def _start_method() -> str:
    return (
        "fork"
        if "fork" in mp.get_all_start_methods()
        and os.name == "posix"
        and os.uname().sysname == "Linux"
        else "spawn"
    )


class FuturesExecutor:
    """Any ``concurrent.futures.Executor``; the payload travels with each chunk (a
    Dask ``client.get_executor()`` is routed to :class:`DaskExecutor` instead, which
    ships the payload once per worker).

    Args:
        executor: The executor (not shut down by us).
        workers: Parallelism hint used to size chunks and the submission window.
    """

    def __init__(self, executor: cf.Executor, workers: int | None = None) -> None:
        self.executor = executor
        self.workers = workers or default_workers()

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Submit chunks through the bounded window; yield as completed."""
        yield from _windowed(
            lambda a, b: self.executor.submit(fn, payload, a, b),
            chunks,
            window_for(self.workers),
        )

    def close(self) -> None:
        """The caller owns the executor."""


class DaskExecutor:
    """A Dask distributed cluster.

    Workers must be able to import ``simulator`` (same environment as the client).

    Args:
        address: Scheduler address (``tcp://host:8786``); None starts a LocalCluster
            with one single-threaded worker process per core.
        client: An existing ``distributed.Client`` to use instead (not closed by us).
        workers: Workers for a new LocalCluster.
        submit_kwargs: Extra ``Client.submit`` arguments (e.g. ``resources``), as
            given to ``client.get_executor(**kwargs)``.
    """

    def __init__(
        self,
        address: str | None = None,
        client: Any = None,
        workers: int | None = None,
        submit_kwargs: dict[str, Any] | None = None,
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
        self.submit_kwargs = dict(submit_kwargs or {})
        # parallelism = worker threads now connected (a worker may run several)
        self.workers = max(1, sum(client.nthreads().values()))

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Scatter the payload to every worker once, then submit chunks through the
        bounded window."""
        # a one-element list: scatter would otherwise split a tuple payload into parts
        [fut_payload] = self.client.scatter([payload], broadcast=True, hash=False)
        kw = {"pure": False, **self.submit_kwargs}
        try:
            yield from _windowed(
                lambda a, b: self.client.submit(fn, fut_payload, a, b, **kw),
                chunks,
                window_for(self.workers),
            )
        finally:
            fut_payload.release()

    def close(self) -> None:
        """Close the client and cluster we started (not one passed in)."""
        for obj in self._own:
            obj.close()
        self._own = []


def _is_dask_client(obj: Any) -> bool:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is optional
        return False
    return isinstance(obj, Client)


def _dask_client_executor(obj: Any) -> Any:
    """The ``distributed.Client`` behind ``client.get_executor()``, or None."""
    try:
        from distributed.cfexecutor import ClientExecutor
    except ImportError:  # pragma: no cover - dask is optional
        return None
    return obj._client if isinstance(obj, ClientExecutor) else None


def make_executor(
    executor: Any = None, workers: int | None = None, scheduler: str | None = None
) -> ChunkExecutor:
    """Choose an executor.

    Args:
        executor: None (processes when ``workers`` != 1, else serial), ``"serial"``,
            ``"processes"``, ``"dask"`` (LocalCluster), a ``distributed.Client``, a
            ``concurrent.futures.Executor`` (``client.get_executor()`` runs through the
            client, with the scenario scattered once), or a :class:`ChunkExecutor`.
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
    if _is_dask_client(executor):
        return DaskExecutor(client=executor)
    if isinstance(executor, cf.Executor):
        client = _dask_client_executor(executor)
        if client is not None:
            return DaskExecutor(client=client, submit_kwargs=getattr(executor, "_kwargs", None))
        return FuturesExecutor(executor, workers)
    if hasattr(executor, "run") and hasattr(executor, "close"):
        return executor
    raise TypeError(f"cannot use {executor!r} as an executor")
