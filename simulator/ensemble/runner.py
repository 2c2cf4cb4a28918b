"""Monte Carlo ensembles and paired comparisons: running replications on executors.

Replication ``i`` runs with ``SeedSequence(seed, spawn_key=(i, ...))`` (see
:mod:`simulator.world.rng`). Chunks of replications run on an executor (serial, local
processes, Dask; :mod:`simulator.ensemble.executors`); each worker simulates a
replication, keeps its digest and drops its trace. Digests are folded into an
:class:`~simulator.ensemble.aggregate.Aggregator` **in replication order** as they
arrive, so a seed gives identical results for any number of workers.
"""

from __future__ import annotations

import gc
import math
import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.ensemble.aggregate import Aggregator, Moments
from simulator.ensemble.executors import ChunkExecutor, _what, is_cluster_failure
from simulator.ensemble.options import Execution, ProgressFn
from simulator.ensemble.results import Comparison, EnsembleResult
from simulator.errors import ClusterLost, ReplicationError
from simulator.limits import Limits
from simulator.replication.columns import conform
from simulator.replication.digest import RepSummary, digest
from simulator.replication.engines import (
    DEFAULT_ENGINE,
    GC_EVERY,
    Simulate,
    check_budget,
    prepare_engine,
    simulator_for,
)
from simulator.replication.result import RunResult
from simulator.stats import half_width, standard_error
from simulator.world.calendar import build_calendar

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar
    from simulator.world.trace import Trace

__all__ = [
    "FAULT_ENV",
    "MAX_CHUNK",
    "Execution",
    "Observe",
    "ReplicationError",
    "compare",
    "compare_with",
    "drive",
    "progress_callback",
    "replications",
    "run_ensemble",
    "run_ensemble_with",
]

MAX_CHUNK = 20
"""Largest chunk, replications (≈20 s of the realistic scenario on one core)."""
FAULT_ENV = "RELSIM_FAULT_INJECT"
"""Test hook: ``RELSIM_FAULT_INJECT=rep:<i>[,<j>…]`` makes those replications raise
``RuntimeError`` inside the worker (read by every chunk, so it reaches process and
Dask workers that inherit the environment). Never set it outside tests."""


@dataclass
class _Failed:
    rep: int
    detail: str


# ------------------------------------------------------------------------ workers
def _fault_reps() -> frozenset[int]:
    """Replications the :data:`FAULT_ENV` test hook makes fail (usually none)."""
    v = os.environ.get(FAULT_ENV, "")
    if not v.startswith("rep:"):
        return frozenset()
    return frozenset(int(x) for x in v[4:].split(",") if x.strip())


def _inject_fault(rep: int, faults: frozenset[int]) -> None:
    if rep in faults:
        raise RuntimeError(f"fault injected in replication {rep} ({FAULT_ENV})")


_since_gc = 0


def _digest(
    scenario: Scenario, seed: int, rep: int, cal: Any, sim: Simulate, gc_every: int
) -> RepSummary:
    """Simulate one replication and keep only its digest (the trace is dropped).

    A finished SimPy world is a web of reference cycles (processes, their events and
    generator frames) that only a full collection frees, and the engine's sparse GC
    thresholds (:mod:`simulator.world.world`) make full collections rare: measured on the
    case study (100 replications in one worker), RSS climbs to 355 MiB without help
    and stays at 245 MiB with a full collection every :data:`GC_EVERY` replications,
    whose ~30 ms per 10 replications (< 1 % of their CPU) is repaid by the smaller heap.
    ``sim`` is the engine's simulate function; ``gc_every``: see :data:`GC_EVERY`.
    """
    out = digest(scenario, sim(scenario, seed, rep, cal), cal)
    _collect_now_and_then(gc_every)
    return out


def _collect_now_and_then(gc_every: int) -> None:
    """Count a replication; run a full collection every ``gc_every`` (see :func:`_digest`)."""
    global _since_gc
    _since_gc += 1
    if _since_gc >= gc_every:
        _since_gc = 0
        gc.collect()


@dataclass
class _Kept:
    """A replication returned in full (its :class:`RunResult`), not only its digest."""

    result: RunResult


def _engine_of(payload: tuple[Any, ...], at: int) -> tuple[Simulate, int]:
    """The simulate function and GC period of the engine named at ``payload[at]``
    (the default engine if the payload is shorter)."""
    engine = payload[at] if len(payload) > at else DEFAULT_ENGINE
    return simulator_for(engine), GC_EVERY[engine]


def _chunk(
    payload: tuple[Scenario, int] | tuple[Scenario, int, int | None, str], start: int, stop: int
) -> list[RepSummary | _Kept | _Failed]:
    """Run replications ``start .. stop-1`` and return their digests (replication
    ``keep`` of the payload, if any, in full as a :class:`_Kept`); a failed replication
    becomes a :class:`_Failed` carrying its traceback and ends the chunk.
    ``payload``: ``(scenario, seed[, keep[, engine]])``."""
    scenario, seed = payload[0], payload[1]
    keep = payload[2] if len(payload) > 2 else None
    sim, gc_every = _engine_of(payload, 3)
    cal = build_calendar(scenario)
    faults = _fault_reps()
    out: list[RepSummary | _Kept | _Failed] = []
    for rep in range(start, stop):
        try:
            _inject_fault(rep, faults)
            if rep == keep:
                full = RunResult(scenario, sim(scenario, seed, rep, cal), cal)
                _ = full.summary  # computed where the trace is, shipped with it
                out.append(_Kept(full))
                continue
            out.append(_digest(scenario, seed, rep, cal, sim, gc_every))
        except Exception:
            out.append(_Failed(rep, traceback.format_exc()))
            break  # the ensemble stops here: don't run the rest of the chunk
    return out


def _pair_chunk(
    payload: tuple[Scenario, Scenario, int] | tuple[Scenario, Scenario, int, str],
    start: int,
    stop: int,
) -> list[tuple[RepSummary, RepSummary] | _Failed]:
    a, b, seed = payload[0], payload[1], payload[2]
    sim, gc_every = _engine_of(payload, 3)
    ca, cb = build_calendar(a), build_calendar(b)
    faults = _fault_reps()
    out: list[tuple[RepSummary, RepSummary] | _Failed] = []
    for rep in range(start, stop):
        try:
            _inject_fault(rep, faults)
            out.append(
                (
                    _digest(a, seed, rep, ca, sim, gc_every),
                    _digest(b, seed, rep, cb, sim, gc_every),
                )
            )
        except Exception:
            out.append(_Failed(rep, traceback.format_exc()))
            break
    return out


Observe = Callable[["Scenario", "Trace", "WorkCalendar", Any], Any]
"""``(scenario, trace, calendar, context) -> value``: what :func:`replications` keeps of
each replication, computed in the worker next to the trace (a module-level function, so
that process and Dask workers can import it)."""


def _observe_chunk(
    payload: tuple[Scenario, int, Observe | None, Any, str], start: int, stop: int
) -> list[Any]:
    """Run replications ``start .. stop-1`` and keep each one's digest (``observe``
    None) or ``observe(scenario, trace, calendar, context)``; a failed replication
    becomes a :class:`_Failed` and ends the chunk.
    ``payload``: ``(scenario, seed, observe, context, engine)``."""
    scenario, seed, observe, context, engine = payload
    sim, gc_every = simulator_for(engine), GC_EVERY[engine]
    cal = build_calendar(scenario)
    faults = _fault_reps()
    out: list[Any] = []
    for rep in range(start, stop):
        try:
            _inject_fault(rep, faults)
            if observe is None:
                out.append(_digest(scenario, seed, rep, cal, sim, gc_every))
            else:
                out.append(observe(scenario, sim(scenario, seed, rep, cal), cal, context))
                _collect_now_and_then(gc_every)
        except Exception:
            out.append(_Failed(rep, traceback.format_exc()))
            break
    return out


def _chunks(reps: int, workers: int, rep_offset: int = 0) -> list[tuple[int, int]]:
    """Replication ranges ``[start, stop)`` sent to workers as one task each.

    Guided sizes: each chunk is about a quarter of the remaining work per worker, at
    most :data:`MAX_CHUNK` replications, so task overhead stays small while the last
    chunks shrink to single replications and the workers finish together. Chunking
    never changes results (each replication has its own seed; aggregation is in
    replication order).
    """
    w = max(1, workers)
    out: list[tuple[int, int]] = []
    a = 0
    while a < reps:
        size = max(1, min(MAX_CHUNK, math.ceil((reps - a) / (4 * w))))
        b = min(reps, a + size)
        out.append((rep_offset + a, rep_offset + b))
        a = b
    return out


def _in_order(results: Iterator[tuple[int, list[Any]]], n_chunks: int) -> Iterator[Any]:
    """Re-order chunk results; yield items in replication order as soon as possible."""
    pending: dict[int, list[Any]] = {}  # bounded by the executors' submission window
    nxt = 0
    for i, items in results:
        pending[i] = items
        del items
        while nxt in pending:
            yield from pending.pop(nxt)
            nxt += 1
    if nxt != n_chunks:
        raise RuntimeError(f"executor returned {nxt} of {n_chunks} chunks")


def drive(
    fn: Any,
    payload: Any,
    reps: int,
    seed: int,
    ex: ChunkExecutor,
    progress: ProgressFn | None,
    rep_offset: int = 0,
) -> Iterator[Any]:
    """Run chunks on ``ex``; yield digests in replication order. A failed replication
    raises :class:`ReplicationError` as soon as every replication before it is in; the
    caller closes ``ex`` (which stops workers still running)."""
    chunks = _chunks(reps, ex.workers, rep_offset)
    results = ex.run(fn, payload, chunks)
    done = 0
    items = _in_order(results, len(chunks))
    try:
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except Exception as exc:
                if is_cluster_failure(ex, exc):  # not a defect: the cluster went away
                    raise ClusterLost(rep_offset + done, rep_offset + reps, _what(exc)) from exc
                raise
            if isinstance(item, _Failed):
                raise ReplicationError(item.rep, seed, item.detail)
            done += 1
            if progress is not None:
                progress(done, reps)
            yield item
    finally:
        results.close()  # type: ignore[attr-defined]  # generator: cancels queued chunks


def run_ensemble(
    scenario: Scenario,
    reps: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    *,
    scheduler: str | None = None,
    progress: ProgressFn | bool | str | None = "auto",
    band_reps: int = 1000,
    keep_rep: int | None = None,
    engine: str = DEFAULT_ENGINE,
) -> EnsembleResult:
    """Run ``reps`` replications and aggregate them.

    Args:
        scenario: The scenario.
        reps: Replications (default: ``scenario.reps``).
        seed: Root seed (default: ``scenario.seed``).
        workers: Worker processes (default: every core; 1 = serial in this process).
        executor: ``"serial"``, ``"processes"``, ``"dask"``, a ``distributed.Client``,
            or a ``concurrent.futures.Executor`` (e.g. ``client.get_executor()``).
        scheduler: Dask scheduler address (``tcp://host:8786``).
        progress: ``"auto"`` (default: a ``tqdm.auto`` bar in a notebook or a terminal,
            none in CI — ``CI`` set — or when stderr is not a terminal), True for a bar
            always, a callback ``(done, total)``, or False/None for none.
        band_reps: Replications kept for exact quantile bands.
        keep_rep: A replication to keep in full (``EnsembleResult.kept``, a
            :class:`~simulator.replication.result.RunResult`), e.g. 0 for a run
            directory's ``rep0/`` tables; it is simulated once, like the others.
        engine: One of :data:`~simulator.replication.engines.ENGINES`: the compiled
            kernel (the default, :data:`~simulator.replication.engines.DEFAULT_ENGINE`)
            or ``"simpy"`` (the reference model); the same results.

    Returns:
        The :class:`EnsembleResult`; identical for a seed whatever the executor and
        the engine.

    Raises:
        ValueError: ``reps``, ``seed``, ``workers`` or ``engine`` is out of range
            (:class:`~simulator.limits.Limits`,
            :data:`~simulator.replication.engines.ENGINES`).
        ReplicationError: A replication failed (its index and seed are named).
        ClusterLost: The Dask cluster went away before every replication ran.
    """
    execution = Execution(
        engine=engine,
        seed=seed,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        progress=progress,
    )
    return run_ensemble_with(scenario, execution, reps, band_reps=band_reps, keep_rep=keep_rep)


def run_ensemble_with(
    scenario: Scenario,
    execution: Execution,
    reps: int | None = None,
    *,
    band_reps: int = 1000,
    keep_rep: int | None = None,
) -> EnsembleResult:
    """:func:`run_ensemble` with its execution options in one object.

    Args:
        scenario: The scenario.
        execution: Engine, seed, workers, executor, scheduler and progress.
        reps: Replications (default: ``scenario.reps``).
        band_reps: Replications kept for exact quantile bands.
        keep_rep: A replication to keep in full (see :func:`run_ensemble`).

    Returns:
        The :class:`EnsembleResult`.

    Raises:
        ValueError: ``reps``, ``seed``, ``workers`` or ``engine`` is out of range.
        ReplicationError: A replication failed (its index and seed are named).
        ClusterLost: The Dask cluster went away before every replication ran.
    """
    reps, seed = _checked(scenario.reps if reps is None else reps, execution.seed_for(scenario))
    check_budget(scenario, execution.engine)  # what one replication costs, before any runs
    prepare_engine(execution.engine)
    ex = execution.chunk_executor(reps)
    cb = progress_callback(execution.progress)
    t0 = time.perf_counter()
    agg = Aggregator(scenario, band_reps=band_reps, expected_reps=reps)
    kept: RunResult | None = None
    if keep_rep is not None and not 0 <= keep_rep < reps:
        raise ValueError(f"keep_rep must be a replication index below {reps}, got {keep_rep}")
    try:
        payload = (scenario, seed, keep_rep, execution.engine)
        for s in drive(_chunk, payload, reps, seed, ex, cb):
            if isinstance(s, _Kept):
                kept = s.result
                s = kept.summary
            agg.add(s)
            del s  # fold and forget: only the aggregator's bounded state survives
    finally:
        ex.close()
        if hasattr(cb, "close"):
            cb.close()  # type: ignore[union-attr]
    return EnsembleResult(
        scenario, seed, reps, agg, time.perf_counter() - t0, ex.workers, kept=kept
    )


def replications(
    scenario: Scenario,
    execution: Execution,
    reps: int | None = None,
    observe: Observe | None = None,
    context: Any = None,
) -> Iterator[Any]:
    """Run an ensemble's replications and hand over what each one gives, in replication
    order (the same for any executor): its digest, or what ``observe`` makes of it.

    The work starts when the iterator is first advanced; closing it (or leaving a
    ``for`` loop over it early) stops the workers.

    Args:
        scenario: The scenario.
        execution: Engine, seed, workers, executor, scheduler and progress.
        reps: Replications (default: ``scenario.reps``).
        observe: ``(scenario, trace, calendar, context) -> value``, run in the worker next
            to the trace (see :data:`Observe`); None: each replication's
            :class:`~simulator.replication.digest.RepSummary`.
        context: Passed to ``observe`` (e.g. what to observe); travels with every chunk.

    Returns:
        An iterator of one value per replication.

    Raises:
        ValueError: ``reps`` or ``engine`` is out of range, or ``seed`` is not a whole
            number ≥ 0 (at once: a seed derived from a root seed, such as a fit's
            confirmation seed + 1, may exceed ``Limits.MAX_SEED``); ``workers`` or
            ``executor`` (when the iterator starts).
        ReplicationError: A replication failed (its index and seed are named).
        ClusterLost: The Dask cluster went away before every replication ran.
    """
    reps, seed = _checked(
        scenario.reps if reps is None else reps, execution.seed_for(scenario), max_seed=None
    )
    check_budget(scenario, execution.engine)
    prepare_engine(execution.engine)
    payload = (scenario, seed, observe, context, execution.engine)
    return _replications(payload, reps, seed, execution)


def _replications(
    payload: tuple[Any, ...], reps: int, seed: int, execution: Execution
) -> Iterator[Any]:
    ex = execution.chunk_executor(reps)
    cb = progress_callback(execution.progress)
    try:
        yield from drive(_observe_chunk, payload, reps, seed, ex, cb)
    finally:
        ex.close()
        if hasattr(cb, "close"):
            cb.close()  # type: ignore[union-attr]


def _checked(reps: Any, seed: Any, max_seed: int | None = Limits.MAX_SEED) -> tuple[int, int]:
    """``reps`` and ``seed`` as whole numbers within :class:`Limits` (``seed`` at most
    ``max_seed``; None: any), or ValueError."""
    for name, value, low, high in (
        ("reps", reps, 1, Limits.MAX_REPS),
        ("seed", seed, 0, max_seed),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        if high is None and value < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")
        if high is not None and not low <= value <= high:
            raise ValueError(f"{name} must be between {low} and {high:,} (Limits), got {value}")
    return int(reps), int(seed)


def _interactive() -> bool:
    """A person is watching: a Jupyter kernel or a terminal, and not CI."""
    import sys

    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        return False
    shell = sys.modules.get("IPython")
    if shell is not None:
        try:
            ip = shell.get_ipython()  # type: ignore[attr-defined]
        except Exception:  # pragma: no cover - defensive
            ip = None
        if ip is not None and type(ip).__name__ == "ZMQInteractiveShell":
            return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # pragma: no cover - closed or replaced stderr
        return False


def progress_callback(
    progress: ProgressFn | bool | str | None, unit: str = "rep", desc: str = "replications"
) -> ProgressFn | None:
    """A ``(done, total)`` callback from a ``progress`` argument: ``"auto"`` (a bar when
    a person is watching, see :func:`_interactive`), True (a ``tqdm.auto`` bar counting
    ``unit``), False/None (none) or a callback (itself). A bar has ``close()``."""
    if progress == "auto":
        progress = _interactive()
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=None, unit=unit, desc=desc)

        class _Bar:
            def __call__(self, done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            def close(self) -> None:
                bar.close()

        return _Bar()
    if progress is False or progress is None:
        return None
    return progress


def compare(
    a: Scenario,
    b: Scenario,
    reps: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    *,
    scheduler: str | None = None,
    progress: ProgressFn | bool | str | None = "auto",
    engine: str = DEFAULT_ENGINE,
) -> Comparison:
    """Run two scenarios on the same replications (common random numbers) and pair them.

    Both scenarios must have the same horizon and manufacturers for the daily
    difference; KPIs are paired by (replication, entity, KPI).

    Args:
        a: Baseline scenario.
        b: Alternative scenario.
        reps: Replications (default: ``a.reps``).
        seed: Root seed (default: ``a.seed``).
        workers: Worker processes.
        executor: See :func:`run_ensemble`.
        scheduler: Dask scheduler address.
        progress: As for :func:`run_ensemble` (default ``"auto"``).
        engine: See :func:`run_ensemble`.

    Returns:
        The :class:`Comparison`.
    """
    execution = Execution(
        engine=engine,
        seed=seed,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        progress=progress,
    )
    return compare_with(a, b, execution, reps)


def compare_with(
    a: Scenario, b: Scenario, execution: Execution, reps: int | None = None
) -> Comparison:
    """:func:`compare` with its execution options in one object.

    Args:
        a: Baseline scenario.
        b: Alternative scenario.
        execution: Engine, seed (default: ``a.seed``), workers, executor, scheduler and
            progress.
        reps: Replications (default: ``a.reps``).

    Returns:
        The :class:`Comparison`.
    """
    reps, seed = _checked(a.reps if reps is None else reps, execution.seed_for(a))
    check_budget(a, execution.engine)
    check_budget(b, execution.engine)
    prepare_engine(execution.engine)
    same_shape = a.horizon_days == b.horizon_days and [m.id for m in a.manufacturers] == [
        m.id for m in b.manufacturers
    ]
    t0 = time.perf_counter()
    agg_a, agg_b = Aggregator(a, expected_reps=reps), Aggregator(b, expected_reps=reps)
    H, M = a.horizon_days, len(a.manufacturers)
    dmom = Moments((H, M))
    ex = execution.chunk_executor(reps)
    cb = progress_callback(execution.progress)
    try:
        for sa, sb in drive(_pair_chunk, (a, b, seed, execution.engine), reps, seed, ex, cb):
            agg_a.add(sa)
            agg_b.add(sb)
            if same_shape:
                dmom.add(sb.shortfall - sa.shortfall)
    finally:
        ex.close()
        if hasattr(cb, "close"):
            cb.close()  # type: ignore[union-attr]
    el = time.perf_counter() - t0
    w = ex.workers
    ea = EnsembleResult(a, seed, reps, agg_a, el, w)
    eb = EnsembleResult(b, seed, reps, agg_b, el, w)
    if same_shape:
        mean = dmom.mean()
        hw = half_width(standard_error(dmom.var(), reps), reps)
        dates = ea.dates
        diff = pd.DataFrame(
            {
                "date": np.tile(dates, M),
                "manufacturer": np.repeat([m.id for m in a.manufacturers], H),
                "diff_shortfall_t": mean.T.ravel(),
                "half_width": hw.T.ravel(),
            }
        )
    else:
        diff = pd.DataFrame(columns=["date", "manufacturer", "diff_shortfall_t", "half_width"])
    diff = conform(diff, "shortfall_difference_daily")
    return Comparison(ea, eb, diff)
