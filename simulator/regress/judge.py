"""Regression testing of scenario KPIs against stored baselines (``relsim regress``).

A **baseline** (``scenarios/baselines/<stem>.json``) holds, per entity and KPI, the
ensemble mean, its standard error and ``n`` (replications where the KPI is defined),
with the seed, replication count and scenario hash that produced them. It is small,
rounded (6 significant digits), key-sorted JSON with no timestamps, so that
``--update`` rewrites it byte-for-byte identically when nothing changed.

``relsim regress`` re-runs each scenario with the baseline's seed and replication
count and compares. Rows of the comparison:

``<entity>.<kpi>`` (the mean)
    Flagged when ``|Δ| > max(k·√(se_b² + se_c²), floor)``: the move exceeds **both**
    the statistical tolerance and the absolute floor.
``<entity>.<kpi>.share_defined`` (share of replications where the KPI is defined,
    e.g. P(shortage) for ``days_to_first_shortage``; only when it is below 1 somewhere)
    Two-proportion test with pooled standard error and a continuity correction:
    flagged when ``|Δp| > max(k·√(p̄(1−p̄)(1/N_b + 1/N_c)) + ½(1/N_b + 1/N_c), floor)``.

**k** controls the family-wise false-alarm rate ``α`` (default 0.01) over all ``m``
rows compared in one invocation (all scenarios together), by Bonferroni: each row is
tested at two-sided level ``α/m``. For the share rows and for large replication counts
``k = Φ⁻¹(1 − α/(2m))``; for means the standard errors are estimated from few
replications, so ``k`` is the Student-t quantile ``t⁻¹_ν(1 − α/(2m))`` with
Welch–Satterthwaite degrees of freedom ``ν`` (it tends to the normal ``k`` as the
replications grow). ``--k K`` fixes ``k`` for every row instead.

Special cases: a KPI undefined in every replication on both sides passes; a KPI
defined on one side only is judged by its ``share_defined`` row (a move from n = 0 to
n > 0 is a change when that share moved beyond its tolerance); a KPI with se = 0 on
both sides (constant, e.g. fill rate 1 in every replication) gets the tolerance
``max(floor, 1e-9·max(1, |mean|))``; if one side has a single defined replication its
standard error is estimated from the other side's spread; with a single one on both
sides no spread is known and only the floor applies. ``--exact`` fails on any
difference in the rounded means, ``n`` or shares (meaningful on one platform only).

Floors come from the scenario's ``tolerances:`` (absolute, per KPI) and a ``floors``
object in the baseline file (kept by ``--update``); keys are ``kpi``, ``entity.kpi``,
``kpi.share_defined`` or ``entity.kpi.share_defined``; the most specific key wins, the
scenario's over the baseline's.
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
    pooled_share_se,
    se_of_difference,
    sig,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "DEFAULT_ALPHA",
    "EPS_REL",
    "FAIL",
    "OK",
    "SHARE",
    "SIG_DIGITS",
    "SKIP",
    "Row",
    "ScenarioCheck",
    "compare",
    "judge",
]

DEFAULT_ALPHA = 0.01
"""Default family-wise false-alarm rate."""
SIG_DIGITS = 6
"""Significant digits kept in baselines (and applied to current results before comparing)."""
EPS_REL = 1e-9
"""Relative tolerance for KPIs without spread (se = 0 on both sides)."""
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
) -> list[Row]:
    """Pair baseline and current KPIs into rows (not yet judged; see :func:`judge`).

    Args:
        label: Scenario label for the rows.
        base: Baseline ``{entity: {kpi: {mean, se, n}}}``.
        cur: Current ``{entity: {kpi: {mean, se, n}}}`` (rounded like the baseline).
        base_reps: Replications behind ``base``.
        cur_reps: Replications behind ``cur``.
        floors: Absolute floors by key.

    Returns:
        Rows in the current run's order, then any baseline-only KPIs.
    """
    floors = floors or {}
    rows: list[Row] = []
    keys: list[tuple[str, str]] = [(e, k) for e, ks in cur.items() for k in ks]
    keys += [(e, k) for e, ks in base.items() for k in ks if k not in cur.get(e, {})]
    for entity, kpi in keys:
        b = base.get(entity, {}).get(kpi)
        c = cur.get(entity, {}).get(kpi)
        if b is None or c is None:
            rows.append(
                Row(
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
            )
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
        The number of tests ``m`` used.
    """
    m = m if m is not None else sum(r.tested for r in rows)
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
        if d is None:  # undefined on one or both sides: see the share row
            r.status, r.tolerance = OK, None
            continue
        scale = max(1.0, abs(r.base or 0.0), abs(r.cur or 0.0))
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

    @property
    def failures(self) -> list[Row]:
        """Failed rows."""
        return [r for r in self.rows if r.failed]

    def floors(self) -> dict[str, float]:
        """Floors: the baseline's ``floors``, overridden by the scenario's ``tolerances``."""
        out: dict[str, float] = dict((self.baseline or {}).get("floors", {}))
        out.update(self.scenario.tolerances)
        return out
