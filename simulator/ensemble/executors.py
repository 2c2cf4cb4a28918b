"""Where replications run: serially, on local processes, or on a Dask cluster.

All executors run *chunks* of replications (so task overhead stays small) and yield
``(chunk index, result)`` as chunks finish; the ensemble re-orders them, so results
never depend on the executor or the number of workers. The scenario is shipped once
per worker (process initializer; on Dask, one task whose result every chunk depends
on), not once per replication or chunk.

On Dask, a lost worker costs only time: the scheduler reruns the chunks it was running
(and any result it held that was not yet collected) on the workers left, and the
scenario is a task's result, which the scheduler can recompute wherever it is lost
(scattered data cannot be: with the active memory manager dropping extra replicas, a
killed worker could take the only copy with it, failing the whole run with "already
forgotten"); a chunk that fails for a transient reason is retried
(:data:`DASK_RETRIES`). Only a cluster left with no worker for
:attr:`Limits.SCHEDULER_TIMEOUT_S`, or without its scheduler, ends the run.

Chunks are submitted through a bounded window (:func:`_windowed`): chunk ``j`` is
submitted only once every chunk before ``j - window`` has finished, so results that
arrive out of order can never pile up in the parent (memory stays bounded however
many replications run), while every worker always has work queued.

If the consumer stops early (a failed replication, Ctrl-C), queued chunks are
cancelled and local worker processes are terminated at once rather than waited for.
If the parent dies without stopping them (SIGKILL, the out-of-memory killer), local
workers exit too: on Linux the kernel sends them SIGKILL (``PR_SET_PDEATHSIG``), and
everywhere a watchdog thread ends a worker whose parent has changed
(:func:`_die_with_parent`).

Never more workers than :attr:`Limits.MAX_WORKERS`, nor than there are replications
(:func:`make_executor`). A Dask scheduler that does not answer within
:attr:`Limits.SCHEDULER_TIMEOUT_S`, or a cluster left without workers that long while
chunks wait, ends the run with an error instead of a hang.
"""

from __future__ import annotations

import concurrent.futures as cf
import concurrent.futures.process as cfp
import contextlib
import ctypes
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from simulator.errors import SchedulerUnreachable
from simulator.limits import Limits

__all__ = [
    "DASK_RETRIES",
    "ChunkExecutor",
    "ClusterStalled",
    "DaskExecutor",
    "FuturesExecutor",
    "ProcessExecutor",
    "SerialExecutor",
    "default_workers",
    "is_cluster_failure",
    "make_executor",
    "worker_count",
]

ChunkFn = Callable[[Any, int, int], Any]
"""``fn(payload, start, stop)`` -> result for replications ``start .. stop - 1``."""


QUIET_DASK = {"on": False}
"""Whether Dask's own logging is silenced (the command line sets it: relsim says itself
which replications a lost cluster did not run, without distributed's tracebacks)."""


def _quiet_dask_logs() -> None:
    """Silence ``distributed``'s loggers (already configured on import)."""
    import logging

    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]
    for name in ["distributed", *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


DASK_RETRIES = 2
"""Automatic retries of a Dask task that fails (``Client.submit(retries=)``); a task whose
worker dies is rerun by the scheduler itself (up to its ``allowed-failures``)."""


class _Opaque:
    """A payload Dask must not look into (it would walk tuples and lists for futures)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _unwrap(box: _Opaque) -> Any:
    """The payload on a Dask worker: the result every chunk task depends on."""
    return box.value


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
    submit: Callable[[int, int], Any],
    chunks: Sequence[tuple[int, int]],
    window: int,
    watch: Callable[[], None] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Submit chunks through a bounded window and yield ``(index, result)`` as they finish.

    ``submit(start, stop)`` returns a future with ``add_done_callback``, ``result`` and
    ``cancel`` (``concurrent.futures`` and Dask futures both qualify). Chunk ``j`` is
    submitted only when ``j < lo + window``, ``lo`` being the oldest unfinished chunk; a
    finished future is dropped as soon as its result is yielded. On early exit every
    outstanding future is cancelled. ``watch()``, when given, is called every second
    while no chunk finishes (it raises to end a run that can no longer progress).
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
            if watch is None:
                i = done.get()
            else:
                while True:
                    try:
                        i = done.get(timeout=1.0)
                        break
                    except queue.Empty:
                        watch()
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
_PR_SET_PDEATHSIG = 1
PARENT_POLL_S = 1.0
"""How often a worker's watchdog checks that its parent is alive, seconds."""


def _init_worker(payload: Any, parent: int) -> None:
    global _PAYLOAD
    _PAYLOAD = payload
    # Ctrl-C reaches the whole process group: only the parent handles it (and then
    # terminates the pool). A forked worker also inherits the CLI's SIGTERM handler,
    # which raises KeyboardInterrupt; with it, ``terminate()`` could interrupt a worker
    # inside the pool's queue code and leave it (and the parent's exit) hanging.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """Make this worker exit when process ``parent`` dies (killed with SIGKILL, by the
    out-of-memory killer, ...), instead of living on holding its pipes.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``;
    the pool starts workers from the thread that submits, which lives as long as the
    pool). A daemon thread polling ``os.getppid()`` every :data:`PARENT_POLL_S` is the
    portable fallback (and covers a parent that died before the ``prctl``).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog
            pass
    if os.getppid() != parent:
        os._exit(1)  # the parent died before we were set up

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="relsim-parent-watch", daemon=True).start()


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
            initargs=(payload, os.getpid()),
        )
        self._pool = pool
        _quiet_manager_thread_race()
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


def _quiet_manager_thread_race() -> None:
    """Silence one CPython race seen when workers die while futures are cancelled.

    When the workers are killed (a SIGTERM to the whole process group, or our own
    terminate below) after ``shutdown(cancel_futures=True)``, the pool's manager thread
    may mark the pool broken and call ``set_exception`` on a future this thread has just
    cancelled; before Python 3.12 that raises ``InvalidStateError`` in the manager
    thread and prints a traceback after relsim's own "interrupted" message (CPython
    gh-105829-like race). Nothing is lost: the future was cancelled on purpose. Only that
    exception in that thread is silenced; everything else reaches the previous hook.
    """
    previous = threading.excepthook
    if getattr(previous, "_relsim_quiet", False):
        return
    manager = getattr(cfp, "_ExecutorManagerThread", None)

    def hook(args: threading.ExceptHookArgs) -> None:
        if (
            manager is not None
            and isinstance(args.thread, manager)
            and args.exc_type is not None
            and issubclass(args.exc_type, cf.InvalidStateError)
        ):
            return
        previous(args)

    hook._relsim_quiet = True  # type: ignore[attr-defined]
    threading.excepthook = hook


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
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - dask is optional
            raise SchedulerUnreachable(
                "Dask is not installed; install it with pip install 'relsim[dask]'"
            ) from None

        self._own: list[Any] = []
        if QUIET_DASK["on"]:
            _quiet_dask_logs()
        if client is None:
            if address is None:
                import logging

                cluster = LocalCluster(
                    n_workers=workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL if QUIET_DASK["on"] else logging.WARNING,
                )
                self._own.append(cluster)
                client = Client(cluster)
            else:
                client = _connect(Client, address)
            self._own.insert(0, client)
        self.client = client
        self.submit_kwargs = dict(submit_kwargs or {})
        # parallelism = worker threads now connected (a worker may run several)
        self.workers = max(1, sum(client.nthreads().values()))

    def run(
        self, fn: ChunkFn, payload: Any, chunks: Sequence[tuple[int, int]]
    ) -> Iterator[tuple[int, Any]]:
        """Make the payload a task's result (recomputable where a worker holding it is
        lost; workers fetch it from each other once each), then submit chunks through the
        bounded window, each retried on failure."""
        kw = {"pure": False, "retries": DASK_RETRIES, **self.submit_kwargs}
        fut_payload = self.client.submit(
            _unwrap, _Opaque(payload), key=f"relsim-payload-{uuid.uuid4().hex}", **kw
        )
        try:
            yield from _windowed(
                lambda a, b: self.client.submit(fn, fut_payload, a, b, **kw),
                chunks,
                window_for(self.workers),
                self._watch,
            )
        finally:
            with _quiet():
                fut_payload.release()

    _idle_since: float | None = None

    def _watch(self) -> None:
        """Called while no chunk finishes: raise once the cluster has had no worker
        (or no answering scheduler) for :attr:`Limits.SCHEDULER_TIMEOUT_S` seconds."""
        try:
            alive = bool(self.client.scheduler_info().get("workers"))
            alive = alive and self.client.status == "running"
        except Exception:  # the scheduler is gone
            alive = False
        if alive:
            self._idle_since = None
            return
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since > Limits.SCHEDULER_TIMEOUT_S:
            self._idle_since = None
            raise ClusterStalled(
                f"no worker for {Limits.SCHEDULER_TIMEOUT_S:g} s (Limits.SCHEDULER_TIMEOUT_S)"
            )

    def close(self) -> None:
        """Close the client and cluster we started (not one passed in)."""
        for obj in self._own:
            obj.close()
        self._own = []


class ClusterStalled(RuntimeError):
    """A Dask cluster has had no worker for too long (see :meth:`DaskExecutor._watch`)."""


def _what(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _quiet(contextlib.suppress):
    """Suppress anything a closing or lost Dask client raises while we clean up."""

    def __init__(self) -> None:
        super().__init__(Exception)


def _connect(client_cls: Any, address: str) -> Any:
    """``Client(address)``, or :class:`SchedulerUnreachable` naming the address when it
    is malformed or no scheduler answers within :attr:`Limits.SCHEDULER_TIMEOUT_S`."""
    from simulator.errors import clean

    shown = clean(repr(address), 120)
    try:
        return client_cls(address, timeout=Limits.SCHEDULER_TIMEOUT_S)
    except (ValueError, TypeError) as exc:
        raise SchedulerUnreachable(
            f"{shown} is not a scheduler address such as tcp://host:8786 ({clean(_what(exc), 160)})"
        ) from None
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(
            f"no Dask scheduler answered at {shown} within {Limits.SCHEDULER_TIMEOUT_S:g} s "
            f"({clean(_what(exc), 160)})"
        ) from None


def is_cluster_failure(ex: Any, exc: BaseException) -> bool:
    """Whether ``exc``, raised while collecting results from executor ``ex``, means the
    Dask cluster went away (cancelled futures, a closed connection, a killed worker, no
    workers) rather than a defect."""
    if not isinstance(ex, DaskExecutor):
        return False
    if isinstance(exc, ClusterStalled | cf.CancelledError | OSError | TimeoutError):
        return True
    return type(exc).__module__.split(".")[0] == "distributed"


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


def worker_count(workers: int | None, reps: int | None = None) -> int | None:
    """The number of local workers to start: ``workers`` (None: every usable core), never
    more than ``reps`` replications.

    Raises:
        ValueError: ``workers`` is below 1 or above :attr:`Limits.MAX_WORKERS`.
    """
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int):
            raise TypeError(f"workers must be a whole number, got {workers!r}")
        if not 1 <= workers <= Limits.MAX_WORKERS:
            raise ValueError(
                f"workers must be between 1 and {Limits.MAX_WORKERS} "
                f"(Limits.MAX_WORKERS), got {workers}"
            )
    if reps is None:
        return workers
    return max(1, min(workers or default_workers(), reps))


def make_executor(
    executor: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    reps: int | None = None,
) -> ChunkExecutor:
    """Choose an executor.

    Args:
        executor: None (processes when ``workers`` != 1, else serial), ``"serial"``,
            ``"processes"``, ``"dask"`` (LocalCluster), a ``distributed.Client``, a
            ``concurrent.futures.Executor`` (``client.get_executor()`` runs through the
            client, with the scenario scattered once), or a :class:`ChunkExecutor`.
        workers: Number of workers (default: every core), at most
            :attr:`Limits.MAX_WORKERS`.
        scheduler: Dask scheduler address; implies Dask.
        reps: Replications to run: no more local workers than this are started.

    Returns:
        An executor; call ``close()`` when done.

    Raises:
        ValueError: ``workers`` is out of range or ``executor`` an unknown name.
        SchedulerUnreachable: ``scheduler`` is malformed or does not answer.
    """
    workers = worker_count(workers, reps)
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
