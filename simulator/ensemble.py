"""Monte Carlo ensembles and paired comparisons.

Replication ``i`` runs with ``SeedSequence(seed, spawn_key=(i, ...))`` (see
:mod:`simulator.rng`). Chunks of replications run on an executor (serial, local
processes, Dask); their digests are folded into :class:`Aggregator` **in replication
order** as they arrive, so a seed gives identical results for any number of workers,
and memory does not grow with the number of replications:

* KPIs: one small row per replication (kept: the per-rep KPI table);
* daily means and P(shortage): running sums over all replications;
* quantile bands (p5 … p95): exact quantiles over the first ``band_reps``
  replications (default 1,000; beyond that only means use the extra replications);
* licence waits: a fixed-bin histogram (0.5 working-day bins) over all replications;
* a few sample paths (the first ``sample_paths`` replications) for plots.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulator.engine import run as run_one
from simulator.executors import make_executor
from simulator.kpis import AUTHORITY_KPIS, MANUFACTURER_KPIS
from simulator.results import RepSummary, month_index, regime_frame
from simulator.schema import Scenario
from simulator.world import build_calendar

__all__ = ["Comparison", "EnsembleResult", "ReplicationError", "compare", "run_ensemble"]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_NAMES = ("p5", "p25", "p50", "p75", "p95")
WAIT_BIN_WD = 0.5
WAIT_MAX_WD = 400.0


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
def _chunk(payload: tuple[Scenario, int], start: int, stop: int) -> list[RepSummary | _Failed]:
    """Run replications ``start .. stop-1`` and return their digests."""
    scenario, seed = payload
    cal = build_calendar(scenario)
    out: list[RepSummary | _Failed] = []
    for rep in range(start, stop):
        try:
            out.append(run_one(scenario, seed=seed, rep=rep, calendar=cal).summary)
        except Exception:
            out.append(_Failed(rep, traceback.format_exc()))
    return out


def _pair_chunk(
    payload: tuple[Scenario, Scenario, int], start: int, stop: int
) -> list[tuple[RepSummary, RepSummary] | _Failed]:
    a, b, seed = payload
    ca, cb = build_calendar(a), build_calendar(b)
    out: list[tuple[RepSummary, RepSummary] | _Failed] = []
    for rep in range(start, stop):
        try:
            out.append(
                (
                    run_one(a, seed=seed, rep=rep, calendar=ca).summary,
                    run_one(b, seed=seed, rep=rep, calendar=cb).summary,
                )
            )
        except Exception:
            out.append(_Failed(rep, traceback.format_exc()))
    return out


def _chunks(reps: int, workers: int, rep_offset: int = 0) -> list[tuple[int, int]]:
    """Chunks small enough to balance load and report progress, large enough to keep
    task overhead small: about 4 chunks per worker, at most 50 replications each."""
    size = max(1, min(50, math.ceil(reps / (4 * max(1, workers)))))
    return [(rep_offset + a, rep_offset + min(reps, a + size)) for a in range(0, reps, size)]


def _in_order(results: Iterator[tuple[int, list[Any]]], n_chunks: int) -> Iterator[Any]:
    """Re-order chunk results; yield items in replication order as soon as possible."""
    pending: dict[int, list[Any]] = {}
    nxt = 0
    for i, items in results:
        pending[i] = items
        while nxt in pending:
            yield from pending.pop(nxt)
            nxt += 1
    assert nxt == n_chunks, "missing chunks"


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


class Aggregator:
    """Folds replication digests (in replication order) into ensemble statistics."""

    def __init__(self, sc: Scenario, band_reps: int = 1000, sample_paths: int = 5) -> None:
        H = sc.horizon_days
        M, C = len(sc.manufacturers), len(sc.countries)
        self.sc = sc
        self.band_reps = band_reps
        self.sample_paths = sample_paths
        self.n = 0
        self.kpi_rows: list[tuple[int, str, str, float]] = []
        self.shortfall = _Moments((H, M))
        self.inventory = _Moments((H, M))
        self.backlog = _Moments((H, C))
        self.exports = _Moments((int(month_index(sc.start, H)[-1]) + 1, C))
        self.short_count = np.zeros((H, M))
        self.band_short: list[np.ndarray] = []
        self.band_inv: list[np.ndarray] = []
        self.band_backlog: list[np.ndarray] = []
        self.band_exports: list[np.ndarray] = []
        self.samples: list[np.ndarray] = []
        self.wait_hist = np.zeros(int(WAIT_MAX_WD / WAIT_BIN_WD) + 1, dtype=np.int64)
        self.regimes: list[tuple[float, int]] = []
        self._demand_floor = np.array([m.daily_demand_t() for m in sc.manufacturers]) * 1e-6

    def add(self, s: RepSummary) -> None:
        """Fold one replication (call in replication order)."""
        if self.n == 0:
            self.regimes = list(s.regimes)
        self.n += 1
        for (entity, kpi), v in s.kpis.items():
            self.kpi_rows.append((s.rep, entity, kpi, v))
        self.shortfall.add(s.shortfall)
        self.inventory.add(s.inventory)
        self.backlog.add(s.backlog)
        self.exports.add(s.exports)
        self.short_count += s.shortfall > np.maximum(self._demand_floor, 1e-12)
        if len(self.band_short) < self.band_reps:
            self.band_short.append(s.shortfall.astype(np.float32))
            self.band_inv.append(s.inventory.astype(np.float32))
            self.band_backlog.append(s.backlog.astype(np.float32))
            self.band_exports.append(s.exports)
        if len(self.samples) < self.sample_paths:
            self.samples.append(s.shortfall.astype(np.float32))
        idx = np.minimum((s.wait_wd / WAIT_BIN_WD).astype(np.int64), self.wait_hist.size - 1)
        self.wait_hist += np.bincount(idx, minlength=self.wait_hist.size)


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
        return pd.DataFrame(self.agg.kpi_rows, columns=["rep", "entity", "kpi", "value"])

    def kpi_summary(self) -> pd.DataFrame:
        """KPI means with 95% intervals per entity: ``entity``, ``kpi``, ``mean``, ``sd``,
        ``se``, ``ci_low``, ``ci_high``, ``n`` (replications where the KPI is defined —
        e.g. days to first shortage only where a shortage happened), ``share_defined``."""
        df = self.kpi_reps
        rows = []
        order = {k: i for i, k in enumerate(MANUFACTURER_KPIS + AUTHORITY_KPIS)}
        for (entity, kpi), g in df.groupby(["entity", "kpi"], sort=False):
            st = interval(g["value"].to_numpy(dtype=float))
            rows.append(
                {
                    "entity": entity,
                    "kpi": kpi,
                    **st,
                    "share_defined": st["n"] / max(len(g), 1),
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
        q = np.quantile(np.stack(stack), QUANTILES, axis=0)  # (5, H, E)
        mean = mom.mean()
        H = mean.shape[0]
        frames = []
        for j, name in enumerate(names):
            d = {"date": self.dates, "entity": name, "mean": mean[:, j]}
            for k, bn in enumerate(BAND_NAMES):
                d[bn] = q[k, :, j]
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
        stack = np.stack(self.agg.band_exports)  # (R, months, C)
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
    workers: int | None,
    executor: Any,
    scheduler: str | None,
    progress: ProgressFn | None,
    rep_offset: int = 0,
) -> Iterator[Any]:
    ex = make_executor(executor, workers, scheduler)
    chunks = _chunks(reps, ex.workers, rep_offset)
    done = 0
    try:
        for item in _in_order(ex.run(fn, payload, chunks), len(chunks)):
            if isinstance(item, _Failed):
                raise ReplicationError(item.rep, seed, item.detail)
            done += 1
            if progress is not None:
                progress(done, reps)
            yield item
    finally:
        ex.close()


def _workers_of(executor: Any, workers: int | None) -> int:
    from simulator.executors import default_workers

    return 1 if executor == "serial" else (workers or default_workers())


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
    agg = Aggregator(scenario, band_reps=band_reps)
    try:
        for s in _drive(_chunk, (scenario, seed), reps, seed, workers, executor, scheduler, cb):
            agg.add(s)
    finally:
        if hasattr(cb, "close"):
            cb.close()  # type: ignore[union-attr]
    return EnsembleResult(
        scenario, seed, reps, agg, time.perf_counter() - t0, _workers_of(executor, workers)
    )


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
                    "narrower_x": indep_hw / paired_hw
                    if paired_hw and paired_hw > 0
                    else math.inf
                    if n > 1
                    else math.nan,
                    "variance_reduction": indep_var / dvar
                    if dvar and dvar > 0
                    else math.inf
                    if n > 1
                    else math.nan,
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
    agg_a, agg_b = Aggregator(a), Aggregator(b)
    H, M = a.horizon_days, len(a.manufacturers)
    dmom = _Moments((H, M))
    cb = _progress(progress)
    try:
        for sa, sb in _drive(
            _pair_chunk, (a, b, seed), reps, seed, workers, executor, scheduler, cb
        ):
            agg_a.add(sa)
            agg_b.add(sb)
            if same_shape:
                dmom.add(sb.shortfall - sa.shortfall)
    finally:
        if hasattr(cb, "close"):
            cb.close()  # type: ignore[union-attr]
    el = time.perf_counter() - t0
    w = _workers_of(executor, workers)
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
