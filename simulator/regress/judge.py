"""Regression testing of scenario KPIs against stored baselines (``relsim regress``).

A **baseline** (``scenarios/baselines/<stem>.json``, :mod:`.baseline`) holds, per entity
and KPI, every replication's value (6 significant digits) besides the mean, its
standard error and ``n``, with the seed, the replication count, the resolved scenario
and its files' hashes. ``relsim regress`` re-runs each scenario with the baseline's
seed, so replication *i* of the re-run draws the same random numbers as replication *i*
of the baseline (common random numbers), and compares them **in pairs**:

``<entity>.<kpi>`` (the mean)
    Over the replications where both define the KPI, the differences ``d_i = c_i −
    b_i``: flagged when ``|mean d| > max(k·se(d), floor, 10⁻⁴·max(1, |mean|))``, where a
    KPI of whole numbers (days, applications) has ``se(d) ≥ 1/√pairs`` (a few pairs
    whose differences happen to be equal are not a certain change). An
    unchanged model on unchanged inputs gives ``d_i = 0`` exactly; a change gives
    differences whose spread is small beside the spread of the KPI itself (both runs
    share the same draws), so a 25 % move is caught at a dozen replications where
    comparing two means with ``√(se_b² + se_c²)`` let it through. The last term is a
    numerical floor (0.01 %): a refactoring that only reorders floating-point sums
    does not fail.
``<entity>.<kpi>.share_defined`` (share of replications where the KPI is defined,
    e.g. P(shortage) for ``days_to_first_shortage``; only when it is below 1 somewhere)
    The exact McNemar test of the replications defined on one side only: flagged
    when its p-value is below ``α/m``.

**k** and ``α/m`` control the family-wise false-alarm rate ``α`` (default 0.01) over
the ``m`` rows of one invocation that could fail (all scenarios together), by
Bonferroni with Tarone's refinement: a row whose differences are all zero, or a share
row with too few discordant replications to ever reach ``α/m``, cannot fail and is not
counted. ``k = t⁻¹_{n−1}(1 − α/(2m))`` for ``n`` pairs. ``--k K`` fixes ``k`` for every
row instead (share rows: the normal approximation of McNemar's statistic).

A re-run with another seed than the baseline's pairs independent replications: the
test stays valid (its false-alarm rate is what ``α`` says) but loses the power common
random numbers give. Without per-replication values (:func:`compare` called with
summaries only) rows are judged unpaired: ``|Δ| > max(k·√(se_b² + se_c²), floor)``
with Welch degrees of freedom, shares by a pooled two-proportion test.

Special cases: a KPI undefined in every replication on both sides passes; a KPI
defined on one side only is judged by its ``share_defined`` row; a single pair gives no
spread, so only a floor judges it (else ``skip``). ``--exact`` fails on any difference
in the rounded means, ``n`` or shares (meaningful on one platform only).

Floors come from the scenario's ``tolerances:`` (absolute, per KPI) and a ``floors``
object in the baseline file (kept by ``--update``); keys are ``kpi``, ``entity.kpi``,
``kpi.share_defined`` or ``entity.kpi.share_defined``; the most specific key wins, the
scenario's over the baseline's.

A scenario that changed since its baseline (its resolved form differs from the stored
one) fails as a whole unless the change is declared intended (``--update`` rewrites
the baseline; ``--allow-changed`` judges the KPIs only); :mod:`.run` names the files
and fields that changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.stats import (
    bonferroni_k,
    continuity_correction,
    half_width,
    mcnemar_p,
    normal_quantile,
    paired_difference,
    pooled_share_se,
    se_of_difference,
    sig,
    tarone_count,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "DEFAULT_ALPHA",
    "EPS_REL",
    "FAIL",
    "NUMERIC_REL",
    "OK",
    "SHARE",
    "SIG_DIGITS",
    "SKIP",
    "Row",
    "ScenarioCheck",
    "compare",
    "judge",
    "notable_moves",
]

DEFAULT_ALPHA = 0.01
"""Default family-wise false-alarm rate."""
SIG_DIGITS = 6
"""Significant digits kept in baselines (and applied to current results before comparing)."""
EPS_REL = 1e-9
"""Relative tolerance for KPIs without spread (se = 0 on both sides; unpaired rows)."""
NUMERIC_REL = 1e-4
"""Paired rows: moves below this share of a KPI's magnitude (at least 1) are numerical
noise (floating-point order), not a regression."""
SHARE = "share_defined"

OK, FAIL, SKIP = "ok", "FAIL", "skip"


# ----------------------------------------------------------------------------- comparing
@dataclass
class Row:
    """One compared metric of one scenario.

    Attributes:
        scenario: Scenario label (file stem).
        entity: Manufacturer id or ``authority``.
        kpi: KPI name (``<kpi>.share_defined`` for share rows).
        base: Baseline value (mean or share); None if undefined.
        cur: Current value; None if undefined.
        se: Combined standard error of the difference (None: not estimable).
        df: Degrees of freedom of ``se`` (inf for share rows).
        floor: Absolute floor (0 if none).
        tested: Whether the row counts towards ``m`` (has a statistical test).
        base_n: Baseline ``n``; cur_n: current ``n``.
        share: Whether this is a share row.
        extra: Continuity correction added to the statistical tolerance (share rows).
        tolerance: Effective tolerance (set by :func:`judge`).
        k: Multiplier used (set by :func:`judge`).
        status: ``ok``, ``FAIL`` or ``skip`` (set by :func:`judge`).
        note: Why, in words.
        structural: The KPI exists on one side only (a different set of entities or
            KPIs); always a failure.
        paired: Judged replication by replication (``base`` and ``cur`` are then the
            means over the pairs, ``se`` the standard error of their mean difference).
        pairs: Replications compared in pairs (both define the KPI).
        grain: The KPI's resolution when its values are whole numbers (days,
            applications: 1), else 0: the smallest spread a paired difference's standard
            error is given, so that a few pairs whose differences happen to be equal
            (two recoveries both 35 days later) are not read as a certain change.
        only_base: Share rows, paired: replications defining the KPI in the baseline
            only; only_cur: in the current run only.
        p: Share rows, paired: the exact McNemar p-value.
    """

    scenario: str
    entity: str
    kpi: str
    base: float | None
    cur: float | None
    se: float | None = None
    df: float = math.inf
    floor: float = 0.0
    tested: bool = False
    base_n: int = 0
    cur_n: int = 0
    share: bool = False
    extra: float = 0.0
    tolerance: float | None = None
    k: float | None = None
    status: str = OK
    note: str = ""
    structural: bool = False
    paired: bool = False
    pairs: int = 0
    grain: float = 0.0
    only_base: int = 0
    only_cur: int = 0
    p: float | None = None

    @property
    def metric(self) -> str:
        """``entity.kpi``."""
        return f"{self.entity}.{self.kpi}"

    @property
    def delta(self) -> float | None:
        """Current − baseline (None when either is undefined)."""
        if self.base is None or self.cur is None:
            return None
        return self.cur - self.base

    @property
    def failed(self) -> bool:
        """Whether the row failed."""
        return self.status == FAIL

    @property
    def min_p(self) -> float:
        """The smallest p-value this row's test could give (0 for a mean with spread; a
        paired share row: McNemar's with every discordant replication on one side; 1
        for a row that cannot fail)."""
        if self.structural or not self.tested:
            return 1.0
        if self.paired and self.share:
            return mcnemar_p(0, self.only_base + self.only_cur)
        return 0.0


def _floor(floors: Mapping[str, float], entity: str, kpi: str) -> float:
    for key in (f"{entity}.{kpi}", kpi):
        if key in floors:
            return float(floors[key])
    return 0.0


def _se_pair(b: Mapping[str, Any], c: Mapping[str, Any]) -> tuple[float | None, float]:
    """Combined standard error of the difference of two means and its Welch d.f."""
    nb, nc = int(b.get("n") or 0), int(c.get("n") or 0)
    return se_of_difference(b.get("se"), nb, c.get("se"), nc)


def compare(
    label: str,
    base: Mapping[str, Any],
    cur: Mapping[str, Any],
    *,
    base_reps: int,
    cur_reps: int,
    floors: Mapping[str, float] | None = None,
    base_values: Mapping[str, Any] | None = None,
    cur_values: Mapping[str, Any] | None = None,
) -> list[Row]:
    """Pair baseline and current KPIs into rows (not yet judged; see :func:`judge`).

    Args:
        label: Scenario label for the rows.
        base: Baseline ``{entity: {kpi: {mean, se, n}}}``.
        cur: Current ``{entity: {kpi: {mean, se, n}}}`` (rounded like the baseline).
        base_reps: Replications behind ``base``.
        cur_reps: Replications behind ``cur``.
        floors: Absolute floors by key.
        base_values: The baseline's values per replication ``{entity: {kpi: [v_0, …]}}``
            (None: unpaired rows from the summaries).
        cur_values: The current run's, rounded like the baseline, on the same seeds.

    Returns:
        Rows in the current run's order, then any baseline-only KPIs.
    """
    floors = floors or {}
    if base_values is not None and cur_values is not None:
        return _compare_paired(label, base, cur, base_values, cur_values, floors)
    rows: list[Row] = []
    keys: list[tuple[str, str]] = [(e, k) for e, ks in cur.items() for k in ks]
    keys += [(e, k) for e, ks in base.items() for k in ks if k not in cur.get(e, {})]
    for entity, kpi in keys:
        b = base.get(entity, {}).get(kpi)
        c = cur.get(entity, {}).get(kpi)
        if b is None or c is None:
            rows.append(_structural(label, entity, kpi, b, c))
            continue
        nb, nc = int(b.get("n") or 0), int(c.get("n") or 0)
        mb, mc = b.get("mean"), c.get("mean")
        row = Row(
            label,
            entity,
            kpi,
            mb if nb else None,
            mc if nc else None,
            base_n=nb,
            cur_n=nc,
            floor=_floor(floors, entity, kpi),
        )
        if nb == 0 and nc == 0:
            row.note = "undefined in every replication on both sides"
        elif nb == 0 or nc == 0:
            side = "current run" if nb == 0 else "baseline"
            row.note = f"defined only in the {side} (n {nb} → {nc}); judged by {kpi}.{SHARE}"
        else:
            row.se, row.df = _se_pair(b, c)
            row.tested = True
            if row.se is None:
                row.tested = False
                row.note = "one defined replication on each side: no spread known, floor only"
        rows.append(row)
        # Share of replications where the KPI is defined (e.g. P(shortage)).
        pb, pc = nb / max(base_reps, 1), nc / max(cur_reps, 1)
        if (pb < 1 or pc < 1) and (nb > 0 or nc > 0):
            se = pooled_share_se(nb, base_reps, nc, cur_reps)
            rows.append(
                Row(
                    label,
                    entity,
                    f"{kpi}.{SHARE}",
                    sig(pb),
                    sig(pc),
                    se=se,
                    df=math.inf,
                    tested=True,
                    base_n=nb,
                    cur_n=nc,
                    share=True,
                    extra=continuity_correction(base_reps, cur_reps) if se > 0 else 0.0,
                    floor=_floor(floors, entity, f"{kpi}.{SHARE}"),
                )
            )
    return rows


def _structural(label: str, entity: str, kpi: str, b: Any, c: Any) -> Row:
    return Row(
        label,
        entity,
        kpi,
        None if b is None else b.get("mean"),
        None if c is None else c.get("mean"),
        structural=True,
        note="not in the baseline (re-run with --update)"
        if b is None
        else "in the baseline but not in this run",
    )


def _compare_paired(
    label: str,
    base: Mapping[str, Any],
    cur: Mapping[str, Any],
    base_values: Mapping[str, Any],
    cur_values: Mapping[str, Any],
    floors: Mapping[str, float],
) -> list[Row]:
    """:func:`compare` replication by replication (see the module docstring)."""
    import numpy as np

    rows: list[Row] = []
    keys: list[tuple[str, str]] = [(e, k) for e, ks in cur.items() for k in ks]
    keys += [(e, k) for e, ks in base.items() for k in ks if k not in cur.get(e, {})]
    for entity, kpi in keys:
        b, c = base.get(entity, {}).get(kpi), cur.get(entity, {}).get(kpi)
        bv = base_values.get(entity, {}).get(kpi)
        cv = cur_values.get(entity, {}).get(kpi)
        if b is None or c is None or bv is None or cv is None:
            rows.append(_structural(label, entity, kpi, b, c))
            continue
        n = min(len(bv), len(cv))
        x = np.array([np.nan if v is None else v for v in bv[:n]], dtype=float)
        y = np.array([np.nan if v is None else v for v in cv[:n]], dtype=float)
        dx, dy = np.isfinite(x), np.isfinite(y)
        st = paired_difference(x, y)
        row = Row(
            label,
            entity,
            kpi,
            st["mean_a"] if st["n"] else None,
            st["mean_b"] if st["n"] else None,
            base_n=int(dx.sum()),
            cur_n=int(dy.sum()),
            floor=_floor(floors, entity, kpi),
            paired=True,
            pairs=st["n"],
        )
        if not dx.any() and not dy.any():
            row.note = "undefined in every replication on both sides"
        elif st["n"] == 0:
            side = "current run" if not dx.any() else "baseline"
            row.note = f"defined only in the {side} (n {row.base_n} → {row.cur_n}); " + (
                f"judged by {kpi}.{SHARE}"
            )
        elif st["n"] == 1:
            row.note = "one replication in pairs: no spread known, floor only"
        else:
            row.se, row.df = st["se"], st["df"]
            both = np.concatenate([x[dx & dy], y[dx & dy]])
            row.grain = 1.0 if both.size and np.all(both == np.round(both)) else 0.0
            row.tested = st["se"] > 0 or (st["mean"] != 0 and row.grain > 0)
            if st["se"] == 0 and st["mean"] != 0:
                row.note = f"the same change in all {st['n']} pairs"
        rows.append(row)
        if (dx.all() and dy.all()) or not (dx.any() or dy.any()):
            continue
        only_b, only_c = int((dx & ~dy).sum()), int((~dx & dy).sum())
        rows.append(
            Row(
                label,
                entity,
                f"{kpi}.{SHARE}",
                sig(float(dx.mean())),
                sig(float(dy.mean())),
                tested=only_b + only_c > 0,
                base_n=int(dx.sum()),
                cur_n=int(dy.sum()),
                share=True,
                floor=_floor(floors, entity, f"{kpi}.{SHARE}"),
                paired=True,
                pairs=n,
                only_base=only_b,
                only_cur=only_c,
                p=mcnemar_p(only_b, only_c),
            )
        )
    return rows


def judge(
    rows: Sequence[Row],
    *,
    alpha: float = DEFAULT_ALPHA,
    k: float | None = None,
    exact: bool = False,
    m: int | None = None,
) -> int:
    """Set tolerance and status of every row (in place).

    Args:
        rows: Rows of all scenarios compared together.
        alpha: Family-wise false-alarm rate over the tested rows.
        k: Fixed multiplier for every row instead of the α-derived one.
        exact: Fail on any difference of the rounded values.
        m: Number of tests for Bonferroni (default: the tested rows).

    Returns:
        The number of tests ``m`` used: the rows that could fail (Tarone's refinement
        of Bonferroni, see the module docstring), unless given.
    """
    if m is None:
        tested = [r for r in rows if r.tested]
        m = tarone_count([r.min_p for r in tested], alpha) if tested else 0
    for r in rows:
        if r.structural:
            r.status, r.tolerance = FAIL, None
            continue
        d = r.delta
        if exact:
            r.tolerance, r.k = 0.0, None
            same = r.base == r.cur and (r.share or r.base_n == r.cur_n)
            r.status = OK if same else FAIL
            if not same and r.base_n != r.cur_n and not r.note:
                r.note = f"n {r.base_n} → {r.cur_n}"
            continue
        if r.paired and r.share:
            _judge_paired_share(r, alpha, m, k)
            continue
        if d is None:  # undefined on one or both sides: see the share row
            r.status, r.tolerance = OK, None
            continue
        scale = max(1.0, abs(r.base or 0.0), abs(r.cur or 0.0))
        if r.paired:
            _judge_paired_mean(r, d, scale, alpha, m, k)
            continue
        if r.se is None:  # no spread known: only a floor can judge
            r.k = None
            if r.floor > 0:
                r.tolerance = max(r.floor, EPS_REL * scale)
                r.status = FAIL if abs(d) > r.tolerance else OK
            else:
                r.tolerance, r.status = None, SKIP
            continue
        if r.se == 0 or not math.isfinite(r.se):
            r.k = None
            stat = EPS_REL * scale
        else:
            r.k = (
                k
                if k is not None
                else (bonferroni_k(alpha, m, r.df) if not r.share else bonferroni_k(alpha, m))
            )
            stat = r.k * r.se + r.extra
        r.tolerance = max(stat, r.floor)
        r.status = FAIL if abs(d) > r.tolerance else OK
        if r.floor > stat:
            r.note = (r.note + "; " if r.note else "") + "floor"
    return m


def _judge_paired_mean(
    r: Row, d: float, scale: float, alpha: float, m: int, k: float | None
) -> None:
    """A paired mean row: ``|mean d| > max(k·se(d), floor, NUMERIC_REL·scale)``."""
    numeric = NUMERIC_REL * scale
    if r.se is None or not math.isfinite(r.se):  # fewer than 2 pairs
        r.k = None
        if r.floor > 0 or d == 0:
            r.tolerance = max(r.floor, numeric)
            r.status = FAIL if abs(d) > r.tolerance else OK
        else:
            r.tolerance, r.status = None, SKIP
        return
    stat = 0.0
    # a whole-number KPI's differences are never known better than its grain: equal
    # differences in a few pairs are a coincidence as often as a change
    se = max(r.se, r.grain / math.sqrt(max(r.pairs, 1)))
    if se > 0:
        r.k = k if k is not None else bonferroni_k(alpha, max(m, 1), r.df)
        stat = r.k * se
    r.tolerance = max(stat, r.floor, numeric)
    r.status = FAIL if abs(d) > r.tolerance else OK
    if r.floor > max(stat, numeric):
        r.note = (r.note + "; " if r.note else "") + "floor"


def _judge_paired_share(r: Row, alpha: float, m: int, k: float | None) -> None:
    """A paired share row: the exact McNemar p-value against ``α/m`` (a fixed ``k``:
    McNemar's normal statistic against it); a move within the floor passes."""
    n = r.only_base + r.only_cur
    moved = abs((r.cur or 0.0) - (r.base or 0.0))
    r.tolerance = r.floor if r.floor > 0 else None
    if n == 0:
        r.status = OK
        return
    if k is not None:
        r.k = k
        significant = abs(r.only_cur - r.only_base) / math.sqrt(n) > k
    else:
        r.k = normal_quantile(1 - alpha / (2 * max(m, 1)))
        significant = (r.p if r.p is not None else 1.0) < alpha / max(m, 1)
    r.status = FAIL if significant and moved > r.floor else OK
    if significant and moved <= r.floor:
        r.note = (r.note + "; " if r.note else "") + "floor"


def notable_moves(rows: Sequence[Row], limit: int = 6) -> list[tuple[Row, str]]:
    """Paired rows that moved when each is judged on its own (a 95 % interval of the
    mean paired difference that excludes 0; a share row's McNemar p < 0.05) but did not
    fail the family-wise test: what an intended change did, for people. Largest
    standardised moves first, with their interval (or p-value) as text.

    These are not regressions: among some hundred KPIs, a few pass this bar by chance
    alone."""
    found: list[tuple[float, Row, str]] = []
    for r in rows:
        if not r.paired or r.failed or r.delta is None:
            continue
        if r.share:
            if r.p is not None and r.p < 0.05:
                found.append((-r.p, r, f"McNemar p={r.p:.2g}"))
            continue
        if r.se is None or not r.se > 0:
            continue
        h = half_width(r.se, r.pairs)
        if math.isfinite(h) and abs(r.delta) > h:
            lo, hi = r.delta - h, r.delta + h
            found.append((abs(r.delta) / r.se, r, f"Δ {r.delta:+.4g} [{lo:+.3g}, {hi:+.3g}]"))
    found.sort(key=lambda x: -x[0])
    return [(r, text) for _, r, text in found[:limit]]


# ----------------------------------------------------------------------------- one scenario
@dataclass
class ScenarioCheck:
    """A scenario to regress and what came of it.

    Attributes:
        path: Scenario file.
        label: File stem (baseline name, JUnit classname).
        scenario: The resolved scenario.
        baseline_path: Baseline file.
        baseline: Baseline content (None when missing).
        seed: Seed used.
        reps: Replications used.
        notes: Scenario-level remarks (scenario changed since baseline, seed differs, …).
        rows: Compared rows.
        elapsed_s: Simulation wall time.
        kpis: Current rounded KPIs (see :func:`current_kpis`).
        values: Current rounded KPIs of every replication (see :func:`current_values`).
        files: The files the scenario was read from (``extends:`` order, itself last).
        changes: What differs between the baseline's resolved scenario and this one
            (:class:`~simulator.scenario.diff.Difference` items; empty: unchanged).
        changed_files: The files whose content differs from when the baseline was made
            (or that it was not read from then).
        changed: The resolved scenario differs from the baseline's.
        allow_changed: A change of the scenario is declared intended
            (``--allow-changed``): it does not fail by itself.
    """

    path: Path
    label: str
    scenario: Scenario
    baseline_path: Path
    baseline: dict[str, Any] | None
    seed: int = 0
    reps: int = 0
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    elapsed_s: float = 0.0
    kpis: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    changes: list[Any] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    changed: bool = False
    allow_changed: bool = False

    @property
    def failures(self) -> list[Row]:
        """Failed rows."""
        return [r for r in self.rows if r.failed]

    @property
    def failed(self) -> bool:
        """Whether the scenario fails: a KPI moved, or the scenario changed since its
        baseline without ``--allow-changed``."""
        return bool(self.failures) or (self.changed and not self.allow_changed)

    def floors(self) -> dict[str, float]:
        """Floors: the baseline's ``floors``, overridden by the scenario's ``tolerances``."""
        out: dict[str, float] = dict((self.baseline or {}).get("floors", {}))
        out.update(self.scenario.tolerances)
        return out
