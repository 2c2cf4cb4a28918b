"""Monte Carlo ensembles and paired comparisons.

Replication ``i`` runs with ``SeedSequence(seed, spawn_key=(i, ...))`` (see
:mod:`simulator.rng`). Chunks of replications run on an executor (serial, local
processes, Dask); their digests are folded into :class:`Aggregator` **in replication
order** as they arrive, so a seed gives identical results for any number of workers,
and memory does not grow with the number of replications:

* KPIs: one float per replication and KPI, in a numpy table (the per-rep KPI table);
* daily means and P(shortage): running sums over all replications;
* quantile bands (p5 … p95): exact quantiles over the first ``band_reps``
  replications (default 1,000; beyond that only means use the extra replications);
* licence waits: a fixed-bin histogram (0.5 working-day bins) over all replications;
* a few sample paths (the first ``sample_paths`` replications) for plots.
"""

from __future__ import annotations

import gc
import math
import os
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.engine import run as run_one
from simulator.executors import ChunkExecutor, make_executor
from simulator.kpis import AUTHORITY_KPIS, MANUFACTURER_KPIS
from simulator.results import RepSummary, RunResult, month_index, regime_frame
from simulator.schema import Scenario
from simulator.world import build_calendar

__all__ = ["Comparison", "EnsembleResult", "ReplicationError", "compare", "run_ensemble"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_NAMES = ("p5", "p25", "p50", "p75", "p95")
WAIT_BIN_WD = 0.5
WAIT_MAX_WD = 400.0
MAX_CHUNK = 20
"""Largest chunk, replications (≈20 s of the realistic scenario on one core)."""
FAULT_ENV = "RELSIM_FAULT_INJECT"
"""Test hook: ``RELSIM_FAULT_INJECT=rep:<i>[,<j>…]`` makes those replications raise
``RuntimeError`` inside the worker (read by every chunk, so it reaches process and
Dask workers that inherit the environment). Never set it outside tests."""


class ReplicationError(RuntimeError):
    """A replication failed; re-run it alone with ``relsim run FILE --rep-index I``.

    Attributes:
        rep: Replication index.
        seed: Root seed.
        detail: The worker's traceback text.
    """

    def __init__(self, rep: int, seed: int, detail: str) -> None:
        self.rep, self.seed, self.detail = rep, seed, detail
        last = detail.strip().splitlines()[-1] if detail.strip() else "error"
        super().__init__(
            f"replication {rep} (seed {seed}) failed: {last}; re-run it alone with "
            f"`relsim run FILE --seed {seed} --rep-index {rep} --debug`"
        )


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


_GC_EVERY = 10
_since_gc = 0


def _release(r: RunResult) -> None:
    """Give a finished replication's memory back once its digest is taken.

    Most of it is freed at once (:meth:`RunResult._dispose`); what is left are small
    reference cycles of SimPy processes and events (~0.3 MiB per case-study
    replication) that only a full collection frees, and with the engine's sparse GC
    thresholds full collections are rare, so the worker's RSS crept up with every
    replication. A full collection every ``_GC_EVERY`` replications (~50 ms, i.e.
    < 1% of their CPU) keeps it flat (``bench/memory.py``)."""
    global _since_gc
    r._dispose()
    _since_gc += 1
    if _since_gc >= _GC_EVERY:
        _since_gc = 0
        gc.collect()


def _chunk(payload: tuple[Scenario, int], start: int, stop: int) -> list[RepSummary | _Failed]:
    """Run replications ``start .. stop-1`` and return their digests; a failed
    replication becomes a :class:`_Failed` carrying its traceback and ends the chunk."""
    scenario, seed = payload
    cal = build_calendar(scenario)
    faults = _fault_reps()
    out: list[RepSummary | _Failed] = []
    for rep in range(start, stop):
        try:
            _inject_fault(rep, faults)
            r = run_one(scenario, seed=seed, rep=rep, calendar=cal)
            out.append(r.summary)
            _release(r)
        except Exception:
            out.append(_Failed(rep, traceback.format_exc()))
            break  # the ensemble stops here: don't run the rest of the chunk
    return out


def _pair_chunk(
    payload: tuple[Scenario, Scenario, int], start: int, stop: int
) -> list[tuple[RepSummary, RepSummary] | _Failed]:
    a, b, seed = payload
    ca, cb = build_calendar(a), build_calendar(b)
    faults = _fault_reps()
    out: list[tuple[RepSummary, RepSummary] | _Failed] = []
    for rep in range(start, stop):
        try:
            _inject_fault(rep, faults)
            ra = run_one(a, seed=seed, rep=rep, calendar=ca)
            rb = run_one(b, seed=seed, rep=rep, calendar=cb)
            out.append((ra.summary, rb.summary))
            _release(ra)
            _release(rb)
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


# ------------------------------------------------------------------------ aggregation
class _Moments:
    """Running sum and sum of squares (deterministic when fed in the same order)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.n = 0
        self.s = np.zeros(shape)
        self.ss = np.zeros(shape)

    def add(self, x: np.ndarray) -> None:
        self.n += 1
        self.s += x
        self.ss += x * x

    def mean(self) -> np.ndarray:
        return self.s / max(self.n, 1)

    def var(self) -> np.ndarray:
        if self.n < 2:
            return np.full_like(self.s, np.nan)
        m = self.mean()
        return np.maximum(self.ss / self.n - m * m, 0.0) * self.n / (self.n - 1)


class _KpiTable:
    """Per-replication KPI values as a growing float64 table (replications × KPIs):
    8 bytes per value instead of a Python tuple per row, so 10,000 replications of
    a few dozen KPIs take a few MB."""

    def __init__(self) -> None:
        self.cols: dict[tuple[str, str], int] = {}
        self.n = 0
        self._rep = np.zeros(0, dtype=np.int64)
        self._val = np.zeros((0, 0))
        self._has = np.zeros((0, 0), dtype=bool)

    def add(self, rep: int, kpis: dict[tuple[str, str], float]) -> None:
        for key in kpis:
            if key not in self.cols:
                self.cols[key] = len(self.cols)
        rows, k = self._val.shape
        if self.n == rows or len(self.cols) > k:
            rows2 = max(16, 2 * rows) if self.n == rows else rows
            k2 = max(len(self.cols), k)
            val = np.full((rows2, k2), np.nan)
            has = np.zeros((rows2, k2), dtype=bool)
            val[:rows, :k] = self._val
            has[:rows, :k] = self._has
            rep_ = np.zeros(rows2, dtype=np.int64)
            rep_[:rows] = self._rep
            self._val, self._has, self._rep = val, has, rep_
        i = self.n
        self._rep[i] = rep
        for key, v in kpis.items():
            j = self.cols[key]
            self._val[i, j] = math.nan if v is None else v
            self._has[i, j] = True
        self.n += 1

    def column(self, j: int) -> np.ndarray:
        """Values of KPI column ``j`` in replication order (replications that have it)."""
        return self._val[: self.n, j][self._has[: self.n, j]]

    def frame(self) -> pd.DataFrame:
        """Long frame ``rep``, ``entity``, ``kpi``, ``value`` in replication order."""
        n, k = self.n, len(self.cols)
        ent = np.array([e for e, _ in self.cols], dtype=object)
        kpi = np.array([q for _, q in self.cols], dtype=object)
        has = self._has[:n, :k].ravel()
        return pd.DataFrame(
            {
                "rep": np.repeat(self._rep[:n], k)[has],
                "entity": np.tile(ent, n)[has],
                "kpi": np.tile(kpi, n)[has],
                "value": self._val[:n, :k].ravel()[has],
            }
        )


class _Rows:
    """The first ``cap`` arrays of one shape, stored in one preallocated block (no
    list of small arrays, and no ``np.stack`` copy when the bands are computed).
    ``np.empty`` maps large blocks lazily, so rows never filled cost no memory."""

    def __init__(self, cap: int, dtype: Any) -> None:
        self.cap, self.dtype, self.n = cap, dtype, 0
        self._a: np.ndarray | None = None

    def add(self, x: np.ndarray) -> None:
        if self.n >= self.cap:
            return
        if self._a is None:
            self._a = np.empty((self.cap, *x.shape), dtype=self.dtype)
        self._a[self.n] = x
        self.n += 1

    def view(self) -> np.ndarray:
        """The rows filled so far, shape (n, ...)."""
        return self._a[: self.n] if self._a is not None else np.empty((0,), self.dtype)

    def __len__(self) -> int:
        return self.n


class Aggregator:
    """Folds replication digests (in replication order) into ensemble statistics.

    Memory is bounded: running sums for means, P(shortage) and the wait histogram;
    float32 daily paths of the first ``band_reps`` replications for exact quantile
    bands; one float per replication and KPI (:class:`_KpiTable`)."""

    def __init__(
        self,
        sc: Scenario,
        band_reps: int = 1000,
        sample_paths: int = 5,
        expected_reps: int | None = None,
    ) -> None:
        H = sc.horizon_days
        M, C = len(sc.manufacturers), len(sc.countries)
        self.sc = sc
        self.band_reps = band_reps
        self.sample_paths = sample_paths
        self.n = 0
        self.kpis = _KpiTable()
        self.shortfall = _Moments((H, M))
        self.inventory = _Moments((H, M))
        self.backlog = _Moments((H, C))
        self.exports = _Moments((int(month_index(sc.start, H)[-1]) + 1, C))
        self.short_count = np.zeros((H, M))
        cap = min(band_reps, expected_reps) if expected_reps else band_reps
        self._bands = {
            "short": _Rows(cap, np.float32),
            "inv": _Rows(cap, np.float32),
            "backlog": _Rows(cap, np.float32),
            "exports": _Rows(cap, np.float64),
        }
        self.samples: list[np.ndarray] = []
        self.wait_hist = np.zeros(int(WAIT_MAX_WD / WAIT_BIN_WD) + 1, dtype=np.int64)
        self.regimes: list[tuple[float, int]] = []
        self._demand_floor = np.array([m.daily_demand_t() for m in sc.manufacturers]) * 1e-6

    def add(self, s: RepSummary) -> None:
        """Fold one replication (call in replication order)."""
        if self.n == 0:
            self.regimes = list(s.regimes)
        self.n += 1
        self.kpis.add(s.rep, s.kpis)
        self.shortfall.add(s.shortfall)
        self.inventory.add(s.inventory)
        self.backlog.add(s.backlog)
        self.exports.add(s.exports)
        self.short_count += s.shortfall > np.maximum(self._demand_floor, 1e-12)
        b = self._bands
        b["short"].add(s.shortfall)  # each keeps only its first rows (band_reps)
        b["inv"].add(s.inventory)
        b["backlog"].add(s.backlog)
        b["exports"].add(s.exports)
        if len(self.samples) < self.sample_paths:
            self.samples.append(s.shortfall.astype(np.float32))
        idx = np.minimum((s.wait_wd / WAIT_BIN_WD).astype(np.int64), self.wait_hist.size - 1)
        self.wait_hist += np.bincount(idx, minlength=self.wait_hist.size)

    # daily paths of the first band_reps replications, (reps, days, entities)
    @property
    def band_short(self) -> np.ndarray:
        """Shortfall paths kept for bands, float32 (reps, days, manufacturers)."""
        return self._bands["short"].view()

    @property
    def band_inv(self) -> np.ndarray:
        """Inventory paths kept for bands, float32 (reps, days, manufacturers)."""
        return self._bands["inv"].view()

    @property
    def band_backlog(self) -> np.ndarray:
        """Backlog paths kept for bands, float32 (reps, days, countries)."""
        return self._bands["backlog"].view()

    @property
    def band_exports(self) -> np.ndarray:
        """Monthly exports kept for bands, float64 (reps, months, countries)."""
        return self._bands["exports"].view()


def _ratio(independent: float, paired: float) -> float:
    """How many times narrower (or smaller) the paired figure is: ``inf`` when common
    random numbers remove all the variance, NaN when there is none to remove (a KPI
    constant in both scenarios) or too few replications."""
    if not (math.isfinite(independent) and math.isfinite(paired)):
        return math.nan
    if paired > 0:
        return independent / paired
    return math.inf if independent > 0 else math.nan


def _t95(n: int) -> float:
    """Two-sided 95% Student-t quantile with n-1 degrees of freedom."""
    if n < 2:
        return math.nan
    try:
        from scipy.stats import t

        return float(t.ppf(0.975, n - 1))
    except ImportError:  # pragma: no cover - scipy is optional
        return 1.96 + 2.4 / (n - 1)


def interval(values: np.ndarray) -> dict[str, float]:
    """Mean, standard deviation, standard error and 95% t-interval of finite values."""
    v = values[np.isfinite(values)]
    n = v.size
    if n == 0:
        return {
            "mean": math.nan,
            "sd": math.nan,
            "se": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "n": 0,
        }
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    h = _t95(n) * se if n > 1 else math.nan
    return {"mean": mean, "sd": sd, "se": se, "ci_low": mean - h, "ci_high": mean + h, "n": n}


# ------------------------------------------------------------------------ results
@dataclass
class EnsembleResult:
    """Results of many replications.

    Attributes:
        scenario: The scenario.
        seed: Root seed.
        reps: Number of replications.
        elapsed_s: Wall time, seconds.
        workers: Workers used.
    """

    scenario: Scenario
    seed: int
    reps: int
    agg: Aggregator = field(repr=False)
    elapsed_s: float = 0.0
    workers: int = 1

    # -- tables --------------------------------------------------------------------
    @property
    def dates(self) -> pd.DatetimeIndex:
        """Simulated dates."""
        return pd.date_range(self.scenario.start, periods=self.scenario.horizon_days, freq="D")

    @property
    def kpi_reps(self) -> pd.DataFrame:
        """Per-replication KPIs: ``rep``, ``entity``, ``kpi``, ``value``."""
        return self.agg.kpis.frame()

    def kpi_summary(self) -> pd.DataFrame:
        """KPI means with 95% intervals per entity: ``entity``, ``kpi``, ``mean``, ``sd``,
        ``se``, ``ci_low``, ``ci_high``, ``n`` (replications where the KPI is defined —
        e.g. days to first shortage only where a shortage happened), ``share_defined``."""
        table = self.agg.kpis
        rows = []
        order = {k: i for i, k in enumerate(MANUFACTURER_KPIS + AUTHORITY_KPIS)}
        for (entity, kpi), j in table.cols.items():  # straight from the array table:
            v = table.column(j)  # no long frame of every replication's KPIs
            st = interval(v)
            rows.append(
                {
                    "entity": entity,
                    "kpi": kpi,
                    **st,
                    "share_defined": st["n"] / max(v.size, 1),
                    "_o": order.get(kpi, 99),
                }
            )
        out = pd.DataFrame(rows)
        if out.empty:
            return out
        ent_order = {m.id: i for i, m in enumerate(self.scenario.manufacturers)}
        out["_e"] = out["entity"].map(lambda e: ent_order.get(e, 10_000))
        return out.sort_values(["_e", "_o"]).drop(columns=["_e", "_o"]).reset_index(drop=True)

    def bands(self, series: str = "shortfall_t") -> pd.DataFrame:
        """Per-day mean and quantile bands.

        Args:
            series: ``shortfall_t`` or ``inventory_t`` (per manufacturer, tonnes), or
                ``backlog`` (applications pending, per destination country).

        Returns:
            Long frame: ``date``, ``entity``, ``mean``, ``p5``, ``p25``, ``p50``, ``p75``,
            ``p95``.
        """
        a, sc = self.agg, self.scenario
        if series == "shortfall_t":
            mom, stack, names = a.shortfall, a.band_short, [m.id for m in sc.manufacturers]
        elif series == "inventory_t":
            mom, stack, names = a.inventory, a.band_inv, [m.id for m in sc.manufacturers]
        elif series == "backlog":
            mom, stack, names = a.backlog, a.band_backlog, [c.id for c in sc.countries]
        else:
            raise ValueError(f"unknown series {series!r}; choose shortfall_t, inventory_t, backlog")
        mean = mom.mean()
        H = mean.shape[0]
        frames = []
        for j, name in enumerate(names):
            # one entity at a time: the quantile's working copy stays small
            q = np.quantile(stack[:, :, j], QUANTILES, axis=0)  # (5, H)
            d = {"date": self.dates, "entity": name, "mean": mean[:, j]}
            for k, bn in enumerate(BAND_NAMES):
                d[bn] = q[k]
            frames.append(pd.DataFrame(d))
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        out.attrs["units"] = {
            "shortfall_t": "t/day",
            "inventory_t": "t",
            "backlog": "applications",
        }[series]
        out.attrs["band_reps"] = len(stack)
        del H
        return out

    def p_shortage(self) -> pd.DataFrame:
        """P(shortage on day d) per manufacturer: ``date``, ``manufacturer``, ``p``."""
        p = self.agg.short_count / max(self.agg.n, 1)
        return pd.DataFrame(
            {
                "date": np.tile(self.dates, p.shape[1]),
                "manufacturer": np.repeat([m.id for m in self.scenario.manufacturers], p.shape[0]),
                "p": p.T.ravel(),
            }
        )

    def exports(self) -> pd.DataFrame:
        """Monthly licensed exports (through the authority), tonnes: mean and bands of the
        total and per destination. Columns ``month``, ``destination`` (``ALL`` for the
        total), ``mean``, ``p5`` … ``p95``."""
        sc = self.scenario
        stack = self.agg.band_exports  # (R, months, C)
        months = pd.period_range(pd.Timestamp(sc.start), periods=stack.shape[1], freq="M")
        tot = stack.sum(axis=2)
        rows = []
        for dest, arr in [("ALL", tot)] + [
            (c.id, stack[:, :, j]) for j, c in enumerate(sc.countries)
        ]:
            q = np.quantile(arr, QUANTILES, axis=0)
            for i, mth in enumerate(months):
                rows.append(
                    {
                        "month": str(mth),
                        "destination": dest,
                        "mean": arr[:, i].mean(),
                        **{bn: q[k, i] for k, bn in enumerate(BAND_NAMES)},
                    }
                )
        out = pd.DataFrame(rows)
        out.attrs["units"] = "t/month"
        return out

    def wait_histogram(self) -> pd.DataFrame:
        """Waits from submission to decision, all decided applications of all
        replications: ``wait_wd_low``, ``wait_wd_high``, ``count``, ``share``."""
        h = self.agg.wait_hist
        lo = np.arange(h.size) * WAIT_BIN_WD
        return pd.DataFrame(
            {
                "wait_wd_low": lo,
                "wait_wd_high": lo + WAIT_BIN_WD,
                "count": h,
                "share": h / max(h.sum(), 1),
            }
        )

    def samples(self) -> list[np.ndarray]:
        """Shortfall sample paths of the first replications, each (days, manufacturers)."""
        return list(self.agg.samples)

    def regimes(self) -> pd.DataFrame:
        """Regime timeline of replication 0 (identical in every replication unless the
        policy switches stochastically)."""
        from simulator.policy import PolicyBook

        book = PolicyBook(self.scenario.policy, self.scenario.authority)
        return regime_frame(self.scenario, self.agg.regimes, book.names, book.labels)

    def to_frame(self) -> pd.DataFrame:
        """Everything per day in one tidy frame: ``date``, ``entity``, ``series``,
        ``stat``, ``value`` (series: shortfall_t, inventory_t, backlog, p_shortage)."""
        parts = []
        for series in ("shortfall_t", "inventory_t", "backlog"):
            b = self.bands(series).melt(id_vars=["date", "entity"], var_name="stat")
            b.insert(2, "series", series)
            parts.append(b)
        p = self.p_shortage().rename(columns={"manufacturer": "entity", "p": "value"})
        p.insert(2, "series", "p_shortage")
        p.insert(3, "stat", "p")
        parts.append(p)
        return pd.concat(parts, ignore_index=True)

    def summary_dict(self) -> dict[str, Any]:
        """The content of ``summary.json``: KPI mean and 95% interval per entity."""
        ks = self.kpi_summary()
        kpis: dict[str, dict[str, Any]] = {}
        for r in ks.itertuples(index=False):
            kpis.setdefault(r.entity, {})[r.kpi] = {
                "mean": _clean(r.mean),
                "ci_low": _clean(r.ci_low),
                "ci_high": _clean(r.ci_high),
                "se": _clean(r.se),
                "n": int(r.n),
            }
        return {"scenario": self.scenario.name, "seed": self.seed, "reps": self.reps, "kpis": kpis}

    @property
    def plot(self) -> Any:
        """Plot accessor: ``.shortage_curve()``, ``.licence_waits()``, ``.exports()``."""
        from simulator.plotting import EnsemblePlots

        return EnsemblePlots(self)

    def __repr__(self) -> str:
        return (
            f"EnsembleResult(scenario={self.scenario.name!r}, reps={self.reps}, "
            f"seed={self.seed}, elapsed={self.elapsed_s:.1f}s, workers={self.workers})"
        )


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# ------------------------------------------------------------------------ runners
ProgressFn = Callable[[int, int], None]


def _drive(
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
    try:
        for item in _in_order(results, len(chunks)):
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
    progress: ProgressFn | bool | None = None,
    band_reps: int = 1000,
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
        progress: A callback ``(done, total)``, True for a tqdm bar, or None.
        band_reps: Replications kept for exact quantile bands.

    Returns:
        The :class:`EnsembleResult`; identical for a seed whatever the executor.

    Raises:
        ReplicationError: A replication failed (its index and seed are named).
    """
    reps = scenario.reps if reps is None else int(reps)
    seed = scenario.seed if seed is None else int(seed)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    cb = _progress(progress)
    t0 = time.perf_counter()
    agg = Aggregator(scenario, band_reps=band_reps, expected_reps=reps)
    ex = make_executor(executor, workers, scheduler)
    try:
        for s in _drive(_chunk, (scenario, seed), reps, seed, ex, cb):
            agg.add(s)
            del s  # fold and forget: only the aggregator's bounded state survives
    finally:
        ex.close()
        if hasattr(cb, "close"):
            cb.close()  # type: ignore[union-attr]
    return EnsembleResult(scenario, seed, reps, agg, time.perf_counter() - t0, ex.workers)


def _progress(progress: ProgressFn | bool | None) -> ProgressFn | None:
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=None, unit="rep")

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


# ------------------------------------------------------------------------ comparison
@dataclass
class Comparison:
    """Paired comparison of two scenarios run with common random numbers.

    Attributes:
        a: Ensemble of scenario A.
        b: Ensemble of scenario B (same seeds, same replications).
        diff_daily: Per-day mean of the paired difference (B − A) in shortfall and its
            95% half-width, per manufacturer (long frame).
    """

    a: EnsembleResult
    b: EnsembleResult
    diff_daily: pd.DataFrame

    def differences(self) -> pd.DataFrame:
        """Per KPI: mean of A and B, paired difference B − A with 95% interval, the
        half-width an independent-seeds comparison would have, and their ratio
        (``variance_reduction`` = var(A) + var(B) over var(B − A))."""
        ka = self.a.kpi_reps.set_index(["rep", "entity", "kpi"])["value"]
        kb = self.b.kpi_reps.set_index(["rep", "entity", "kpi"])["value"]
        joined = pd.concat({"a": ka, "b": kb}, axis=1).reset_index()
        rows = []
        for (entity, kpi), g in joined.groupby(["entity", "kpi"], sort=False):
            va, vb = g["a"].to_numpy(float), g["b"].to_numpy(float)
            ok = np.isfinite(va) & np.isfinite(vb)
            d = interval(vb[ok] - va[ok])
            ia, ib = interval(va[ok]), interval(vb[ok])
            n = int(ok.sum())
            paired_hw = d["ci_high"] - d["mean"] if n > 1 else math.nan
            indep_var = (ia["sd"] ** 2 + ib["sd"] ** 2) if n > 1 else math.nan
            indep_hw = _t95(n) * math.sqrt(indep_var / n) if n > 1 else math.nan
            dvar = d["sd"] ** 2 if n > 1 else math.nan
            rows.append(
                {
                    "entity": entity,
                    "kpi": kpi,
                    "mean_a": ia["mean"],
                    "mean_b": ib["mean"],
                    "diff": d["mean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "paired_half_width": paired_hw,
                    "independent_half_width": indep_hw,
                    "narrower_x": _ratio(indep_hw, paired_hw),
                    "variance_reduction": _ratio(indep_var, dvar),
                    "n": n,
                }
            )
        return pd.DataFrame(rows)

    def summary_dict(self) -> dict[str, Any]:
        """Content of ``comparison.json``."""
        out: dict[str, Any] = {
            "a": self.a.scenario.name,
            "b": self.b.scenario.name,
            "seed": self.a.seed,
            "reps": self.a.reps,
            "kpis": {},
        }
        for r in self.differences().itertuples(index=False):
            out["kpis"].setdefault(r.entity, {})[r.kpi] = {
                "mean_a": _clean(r.mean_a),
                "mean_b": _clean(r.mean_b),
                "diff": _clean(r.diff),
                "ci_low": _clean(r.ci_low),
                "ci_high": _clean(r.ci_high),
                "narrower_x": _clean(r.narrower_x),
                "n": int(r.n),
            }
        return out

    @property
    def plot(self) -> Any:
        """Plot accessor: ``.shortage_difference(manufacturer=...)``."""
        from simulator.plotting import ComparisonPlots

        return ComparisonPlots(self)


def compare(
    a: Scenario,
    b: Scenario,
    reps: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    *,
    scheduler: str | None = None,
    progress: ProgressFn | bool | None = None,
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
        progress: Progress callback or True.

    Returns:
        The :class:`Comparison`.
    """
    reps = a.reps if reps is None else int(reps)
    seed = a.seed if seed is None else int(seed)
    same_shape = a.horizon_days == b.horizon_days and [m.id for m in a.manufacturers] == [
        m.id for m in b.manufacturers
    ]
    t0 = time.perf_counter()
    agg_a, agg_b = Aggregator(a, expected_reps=reps), Aggregator(b, expected_reps=reps)
    H, M = a.horizon_days, len(a.manufacturers)
    dmom = _Moments((H, M))
    cb = _progress(progress)
    ex = make_executor(executor, workers, scheduler)
    try:
        for sa, sb in _drive(_pair_chunk, (a, b, seed), reps, seed, ex, cb):
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
        hw = _t95(reps) * np.sqrt(dmom.var() / reps)
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
    return Comparison(ea, eb, diff)
