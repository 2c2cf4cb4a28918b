"""Folding replication digests into ensemble statistics, in bounded memory.

Digests are folded **in replication order**, so a seed gives identical results for any
number of workers, and memory does not grow with the number of replications:

* KPIs: one float per replication and KPI, in a numpy table (:class:`KpiTable`);
* daily means and P(shortage): running sums over all replications (:class:`Moments`);
* quantile bands (p5 … p95): exact quantiles over the first ``band_reps``
  replications (default 1,000; beyond that only means use the extra replications);
* licence waits: a fixed-bin histogram (0.5 working-day bins) over all replications;
* a few sample paths (the first ``sample_paths`` replications) for plots.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.replication.digest import RepSummary
from simulator.replication.tables import month_index
from simulator.world.trace import OVERLAYS, REGIMES

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "BAND_NAMES",
    "QUANTILES",
    "WAIT_BIN_WD",
    "WAIT_MAX_WD",
    "Aggregator",
    "KpiTable",
    "Moments",
]

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_NAMES = ("p5", "p25", "p50", "p75", "p95")
WAIT_BIN_WD = 0.5
WAIT_MAX_WD = 400.0


class Moments:
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


class KpiTable:
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

    def values(self, j: int) -> np.ndarray:
        """Every replication's value of KPI column ``j``, in replication order (a copy;
        NaN where it is undefined or the replication does not have it)."""
        v = self._val[: self.n, j].copy()
        v[~self._has[: self.n, j]] = np.nan
        return v

    @property
    def reps(self) -> np.ndarray:
        """The replication index of each row, in the order added (a copy)."""
        return self._rep[: self.n].copy()

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
    bands; one float per replication and KPI (:class:`KpiTable`)."""

    def __init__(
        self,
        sc: Scenario,
        band_reps: int = 1000,
        sample_paths: int = 5,
        expected_reps: int | None = None,
    ) -> None:
        H = sc.horizon_days
        M, C = len(sc.manufacturers), len(sc.countries)
        P = sum(len(m.bill()) for m in sc.manufacturers)
        n_months = int(month_index(sc.start, H)[-1]) + 1
        self.sc = sc
        self.band_reps = band_reps
        self.sample_paths = sample_paths
        self.n = 0
        self.kpis = KpiTable()
        self.shortfall = Moments((H, M))
        self.inventory = Moments((H, P))
        self.backlog = Moments((H, C))
        self.exports = Moments((n_months, C))
        self.arrivals = Moments((n_months, C))
        self.short_count = np.zeros((H, M))
        cap = min(band_reps, expected_reps) if expected_reps else band_reps
        self._bands = {
            "short": _Rows(cap, np.float32),
            "inv": _Rows(cap, np.float32),
            "backlog": _Rows(cap, np.float32),
            "exports": _Rows(cap, np.float64),
            "arrivals": _Rows(cap, np.float64),
        }
        self.samples: list[np.ndarray] = []
        self.wait_hist = np.zeros(int(WAIT_MAX_WD / WAIT_BIN_WD) + 1, dtype=np.int64)
        self.regimes: np.ndarray = REGIMES.empty()  # regime changes of replication 0
        self.overlays: np.ndarray = OVERLAYS.empty()  # overlay edges of replication 0
        by_name = sc.policy.regimes_by_name()
        self.regime_names = tuple(by_name)
        self.regime_labels = tuple(r.label or n for n, r in by_name.items())
        self._demand_floor = np.array([m.daily_demand_t() for m in sc.manufacturers]) * 1e-6

    def add(self, s: RepSummary) -> None:
        """Fold one replication (call in replication order)."""
        if self.n == 0:
            self.regimes = s.regimes
            self.overlays = s.overlays
        self.n += 1
        self.kpis.add(s.rep, s.kpis)
        self.shortfall.add(s.shortfall)
        self.inventory.add(s.inventory)
        self.backlog.add(s.backlog)
        self.exports.add(s.exports)
        self.arrivals.add(s.arrivals)
        self.short_count += s.shortfall > np.maximum(self._demand_floor, 1e-12)
        b = self._bands
        b["short"].add(s.shortfall)  # each keeps only its first rows (band_reps)
        b["inv"].add(s.inventory)
        b["backlog"].add(s.backlog)
        b["exports"].add(s.exports)
        b["arrivals"].add(s.arrivals)
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
        """Inventory paths kept for bands, float32 (reps, days, parts)."""
        return self._bands["inv"].view()

    @property
    def band_backlog(self) -> np.ndarray:
        """Backlog paths kept for bands, float32 (reps, days, countries)."""
        return self._bands["backlog"].view()

    @property
    def band_exports(self) -> np.ndarray:
        """Monthly exports kept for bands, float64 (reps, months, countries)."""
        return self._bands["exports"].view()

    @property
    def band_arrivals(self) -> np.ndarray:
        """Monthly arrivals kept for bands, float64 (reps, months, countries)."""
        return self._bands["arrivals"].view()
