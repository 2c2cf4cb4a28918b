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

import difflib
import json
import math
import os
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from statistics import NormalDist
from typing import Annotated, Any

import typer

from simulator.kpis import AUTHORITY_KPIS, MANUFACTURER_KPIS
from simulator.schema import Scenario

__all__ = [
    "BASELINE_FORMAT",
    "Row",
    "ScenarioCheck",
    "baseline_data",
    "compare",
    "current_kpis",
    "judge",
    "junit_xml",
    "k_normal",
    "markdown_report",
    "regress_command",
    "t_quantile",
]

BASELINE_FORMAT = 1
"""Version of the baseline file layout."""
DEFAULT_ALPHA = 0.01
"""Default family-wise false-alarm rate."""
SIG_DIGITS = 6
"""Significant digits kept in baselines (and applied to current results before comparing)."""
EPS_REL = 1e-9
"""Relative tolerance for KPIs without spread (se = 0 on both sides)."""
SHARE = "share_defined"

OK, FAIL, SKIP = "ok", "FAIL", "skip"


# ----------------------------------------------------------------------------- numbers
def sig(x: float | None, digits: int = SIG_DIGITS) -> float | None:
    """Round to ``digits`` significant digits; None for None, NaN or infinity."""
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return 0.0
    return float(f"{x:.{digits}g}")


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function ``I_x(a, b)``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(ln_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _t_sf(t: float, df: float) -> float:
    """Upper tail ``P(T > t)`` of Student's t with ``df`` degrees of freedom, ``t >= 0``."""
    return 0.5 * _betai(df / 2.0, 0.5, df / (df + t * t))


@lru_cache(maxsize=4096)
def t_quantile(q: float, df: float) -> float:
    """Quantile of Student's t distribution (no scipy needed).

    Args:
        q: Probability, ``0.5 <= q < 1``.
        df: Degrees of freedom (> 0; ``inf`` gives the normal quantile).

    Returns:
        ``t`` with ``P(T <= t) = q``.
    """
    if not 0.5 <= q < 1.0:
        raise ValueError(f"q must be in [0.5, 1), got {q}")
    z = NormalDist().inv_cdf(q)
    if not math.isfinite(df) or df > 1e7:
        return z
    if df <= 0:
        raise ValueError(f"df must be > 0, got {df}")
    p = 1.0 - q
    lo, hi = 0.0, max(1.0, z)
    while _t_sf(hi, df) > p:
        lo, hi = hi, hi * 2.0
        if hi > 1e15:
            return math.inf
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _t_sf(mid, df) > p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


def k_normal(alpha: float, m: int) -> float:
    """Bonferroni multiplier ``Φ⁻¹(1 − α/(2m))`` for ``m`` two-sided tests.

    Args:
        alpha: Family-wise false-alarm rate.
        m: Number of tests (at least 1 is assumed).
    """
    return NormalDist().inv_cdf(1.0 - alpha / (2.0 * max(m, 1)))


# ----------------------------------------------------------------------------- baselines
def current_kpis(ens: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Rounded KPI statistics of an ensemble: ``{entity: {kpi: {mean, se, n}}}``.

    Args:
        ens: An :class:`~simulator.ensemble.EnsembleResult`.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in ens.kpi_summary().itertuples(index=False):
        n = int(r.n)
        out.setdefault(str(r.entity), {})[str(r.kpi)] = {
            "mean": sig(float(r.mean)) if n > 0 else None,
            "se": sig(float(r.se)) if n > 1 else None,
            "n": n,
        }
    return out


def baseline_data(
    sc: Scenario,
    *,
    scenario_file: Path,
    baseline_file: Path,
    seed: int,
    reps: int,
    kpis: Mapping[str, Any],
    alpha: float,
    floors: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The content of a baseline file (no dates: rewriting an unchanged baseline gives
    the same bytes).

    Args:
        sc: The resolved scenario.
        scenario_file: Scenario file (stored relative to the baseline's directory).
        baseline_file: Where the baseline goes.
        seed: Root seed used.
        reps: Replications used.
        kpis: From :func:`current_kpis`.
        alpha: Family-wise false-alarm rate recorded with the baseline.
        floors: Hand-written absolute floors to keep.
    """
    from simulator import __version__
    from simulator.output import scenario_hash

    m = sum(len(v) for v in kpis.values())
    try:
        rel = os.path.relpath(Path(scenario_file).resolve(), Path(baseline_file).resolve().parent)
    except ValueError:  # pragma: no cover - different drives on Windows
        rel = str(Path(scenario_file).resolve())
    data: dict[str, Any] = {
        "format": BASELINE_FORMAT,
        "tool": "relsim",
        "version": __version__,
        "scenario": sc.name,
        "scenario_file": Path(rel).as_posix(),
        "scenario_hash": scenario_hash(sc),
        "seed": int(seed),
        "reps": int(reps),
        "tolerance": {
            "alpha": alpha,
            "k": sig(k_normal(alpha, m), 4),
            "m": m,
            "rule": "flag if |mean_b - mean_c| > max(k*sqrt(se_b^2 + se_c^2), floor); "
            "k = Bonferroni over all KPIs compared in a run (this k: this "
            "scenario's KPIs alone, normal quantile)",
        },
        "kpis": {e: {k: dict(v) for k, v in ks.items()} for e, ks in kpis.items()},
    }
    if floors:
        data["floors"] = dict(floors)
    return data


class BadInput(Exception):
    """Bad input: the message is printed and the command exits 2."""


def read_baseline(path: Path) -> dict[str, Any]:
    """Read and check a baseline file.

    Raises:
        BadInput: Unreadable, not JSON, or missing required fields.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read baseline: {e}") from None
    except json.JSONDecodeError as e:
        raise BadInput(
            f"{path}:{e.lineno}:{e.colno}: baseline is not valid JSON: {e.msg}; "
            "regenerate it with --update"
        ) from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: baseline must be a JSON object")
    missing = [k for k in ("seed", "reps", "kpis") if k not in data]
    if missing:
        raise BadInput(f"{path}: baseline lacks {', '.join(missing)}; regenerate it with --update")
    if data.get("format", BASELINE_FORMAT) != BASELINE_FORMAT:
        raise BadInput(
            f"{path}: baseline format {data.get('format')!r} is not "
            f"{BASELINE_FORMAT}; regenerate it with --update"
        )
    if not isinstance(data["kpis"], dict) or not all(
        isinstance(v, dict) for v in data["kpis"].values()
    ):
        raise BadInput(f"{path}: `kpis` must map entity -> kpi -> {{mean, se, n}}")
    floors = data.get("floors", {})
    if not isinstance(floors, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in floors.values()
    ):
        raise BadInput(f"{path}: `floors` must map KPI keys to numbers")
    return data


def write_baseline(path: Path, data: Mapping[str, Any]) -> None:
    """Write a baseline atomically (temp file + rename), deterministic JSON."""
    from simulator.output import atomic_file, write_json

    with atomic_file(path) as tmp:
        write_json(tmp, data)


def check_floor_keys(
    floors: Mapping[str, float], entities: Sequence[str], where: str, kpis: Sequence[str] = ()
) -> list[str]:
    """Problems with floor keys (unknown KPI or entity, negative value).

    Args:
        floors: Key -> absolute floor.
        entities: Entity ids of the scenario (manufacturers and ``authority``).
        where: Origin for messages (file and field).
        kpis: KPI names known besides :mod:`simulator.kpis`' (e.g. from a baseline).
    """
    known = set(MANUFACTURER_KPIS + AUTHORITY_KPIS) | set(kpis)
    problems = []
    for key, value in floors.items():
        if not isinstance(value, int | float) or value < 0 or not math.isfinite(value):
            problems.append(f"{where}: {key}: floor must be a finite number >= 0, got {value!r}")
            continue
        base = key.removesuffix("." + SHARE)
        if base in known:
            continue
        entity, _, kpi = base.rpartition(".")
        if entity and kpi in known and entity in entities:
            continue
        choices = sorted(known) + [f"{e}.{k}" for e in entities for k in sorted(known)]
        close = difflib.get_close_matches(base, choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(
            f"{where}: unknown KPI key {key!r} (use kpi, entity.kpi, or either with .{SHARE}){hint}"
        )
    return problems


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
    sb = b.get("se") if nb > 1 else None
    sc_ = c.get("se") if nc > 1 else None
    if sb is None and sc_ is None:
        return None, math.inf
    if sb is None or sc_ is None:
        # One side has a single defined replication: estimate its spread from the other.
        s_known, n_known, n_one = (sc_, nc, nb) if sb is None else (sb, nb, nc)
        sd = float(s_known) * math.sqrt(n_known)
        se2 = float(s_known) ** 2 + (sd / math.sqrt(max(n_one, 1))) ** 2
        return math.sqrt(se2), float(n_known - 1)
    vb, vc = float(sb) ** 2, float(sc_) ** 2
    total = vb + vc
    if total == 0:
        return 0.0, math.inf
    denom = vb * vb / (nb - 1) + vc * vc / (nc - 1)
    return math.sqrt(total), (total * total / denom if denom > 0 else math.inf)


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
            pbar = (nb + nc) / max(base_reps + cur_reps, 1)
            inv = 1.0 / max(base_reps, 1) + 1.0 / max(cur_reps, 1)
            se = math.sqrt(max(pbar * (1 - pbar), 0.0) * inv)
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
                    extra=0.5 * inv if se > 0 else 0.0,
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
    q = 1.0 - alpha / (2.0 * max(m, 1))
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
                else (t_quantile(q, r.df) if not r.share else NormalDist().inv_cdf(q))
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


def expand_paths(paths: Sequence[Path] | None) -> list[Path]:
    """Scenario files: given files, ``*.yaml``/``*.yml`` of given directories
    (not recursive), or ``scenarios/*.yaml`` by default.

    Raises:
        BadInput: A path does not exist, or nothing was found.
    """
    given = list(paths or [])
    if not given:
        d = Path("scenarios")
        if not d.is_dir():
            raise BadInput(
                "no scenarios given and no scenarios/ directory here; pass "
                "scenario files or directories"
            )
        given = [d]
    out: list[Path] = []
    for p in given:
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found and paths:
                raise BadInput(f"{p}: directory holds no *.yaml scenario files")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise BadInput(f"{p}: no such scenario file or directory")
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    if not unique:
        raise BadInput("no scenario files found")
    return unique


def _describe(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.6g}"


def _delta(r: Row) -> str:
    d = r.delta
    if d is None:
        if r.base_n != r.cur_n:
            return f"n {r.base_n}→{r.cur_n}"
        return "—"
    return f"{d:+.4g}"


def _tol(r: Row, exact: bool) -> str:
    if exact:
        return "exact"
    if r.tolerance is None:
        return "—"
    text = f"±{r.tolerance:.3g}"
    if r.k is not None and "floor" not in r.note:
        text += f" (k={r.k:.2f})"
    elif "floor" in r.note:
        text += " (floor)"
    return text


# ----------------------------------------------------------------------------- reports
def junit_xml(checks: Sequence[ScenarioCheck], *, exact: bool = False) -> str:
    """JUnit XML: one ``<testsuite>`` per scenario, one ``<testcase>`` per compared row.

    Args:
        checks: Compared scenarios.
        exact: Whether ``--exact`` was used (for failure messages).
    """
    root = ET.Element("testsuites", name="relsim regress")
    total = fails = skips = 0
    for c in checks:
        f = len(c.failures)
        s = sum(r.status == SKIP for r in c.rows)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=c.label,
            tests=str(len(c.rows)),
            failures=str(f),
            errors="0",
            skipped=str(s),
            time=f"{c.elapsed_s:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        for k, v in (
            ("scenario", c.scenario.name),
            ("file", str(c.path)),
            ("baseline", str(c.baseline_path)),
            ("seed", str(c.seed)),
            ("reps", str(c.reps)),
        ):
            ET.SubElement(props, "property", name=k, value=v)
        for r in c.rows:
            case = ET.SubElement(suite, "testcase", classname=c.label, name=r.metric, time="0")
            if r.failed:
                msg = (
                    f"{r.metric}: baseline {_describe(r.base)}, current "
                    f"{_describe(r.cur)}, Δ {_delta(r)}, tolerance {_tol(r, exact)}"
                )
                fail = ET.SubElement(case, "failure", message=msg, type="regression")
                fail.text = msg + (f" ({r.note})" if r.note else "")
            elif r.status == SKIP:
                ET.SubElement(case, "skipped", message=r.note or "not tested")
        if c.notes:
            ET.SubElement(suite, "system-out").text = "\n".join(c.notes)
        total, fails, skips = total + len(c.rows), fails + f, skips + s
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", "0")
    root.set("skipped", str(skips))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rule_text(alpha: float, m: int, k: float | None, exact: bool) -> str:
    if exact:
        return "exact mode: any difference in the rounded (6 significant digits) values fails"
    if k is not None:
        return f"flag if |Δ| > max(k·√(se_b² + se_c²), floor) with fixed k = {k:g}"
    return (
        f"flag if |Δ| > max(k·√(se_b² + se_c²), floor); family-wise false-alarm rate "
        f"α = {alpha:g} over m = {m} tests (Bonferroni): k = Φ⁻¹(1 − α/2m) = "
        f"{k_normal(alpha, m):.2f}, Student-t with Welch d.f. for means"
    )


def markdown_report(
    checks: Sequence[ScenarioCheck],
    *,
    alpha: float,
    m: int,
    k: float | None = None,
    exact: bool = False,
    verbose: bool = False,
) -> str:
    """Markdown summary for CI job summaries.

    Args:
        checks: Compared scenarios.
        alpha: Family-wise false-alarm rate.
        m: Number of tests.
        k: Fixed multiplier, if any.
        exact: Exact mode.
        verbose: All rows, not only failures.
    """
    n_rows = sum(len(c.rows) for c in checks)
    failed = [c for c in checks if c.failures]
    n_fail = sum(len(c.failures) for c in checks)
    head = (
        f"FAIL: {n_fail} of {n_rows} KPIs moved beyond tolerance in {len(failed)} of "
        f"{len(checks)} scenarios"
        if failed
        else f"PASS: {n_rows} KPIs in {len(checks)} scenarios within tolerance"
    )
    lines = [
        f"## relsim regress — {head}",
        "",
        "| scenario | KPIs | failed | seed | reps | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in checks:
        lines.append(
            f"| {_md(c.label)} | {len(c.rows)} | {len(c.failures)} | {c.seed} | "
            f"{c.reps} | {_md('; '.join(c.notes))} |"
        )
    shown = [(c, r) for c in checks for r in c.rows if verbose or r.failed]
    if shown:
        lines += [
            "",
            "### All KPIs" if verbose else "### Moved KPIs",
            "",
            "| scenario | metric | baseline | current | Δ | tolerance | status |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for c, r in shown:
            status = r.status + (f" ({r.note})" if r.note else "")
            lines.append(
                f"| {_md(c.label)} | {_md(r.metric)} | {_describe(r.base)} | "
                f"{_describe(r.cur)} | {_delta(r)} | {_md(_tol(r, exact))} | "
                f"{_md(status)} |"
            )
    lines += ["", f"_{_rule_text(alpha, m, k, exact)}._", ""]
    return "\n".join(lines)


def _table(c: ScenarioCheck, rows: Sequence[Row], exact: bool) -> Any:
    from rich.table import Table
    from rich.text import Text

    t = Table(
        title=Text(f"{c.label}: {'all KPIs' if len(rows) == len(c.rows) else 'moved'}"),
        title_justify="left",
    )
    t.add_column("metric", no_wrap=True)
    for col in ("baseline", "current", "Δ", "tolerance"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("status")
    for r in rows:
        style = "bold red" if r.failed else ("yellow" if r.status == SKIP else "")
        status = r.status + (f" ({r.note})" if r.note else "")
        t.add_row(
            Text(r.metric),
            Text(_describe(r.base)),
            Text(_describe(r.cur)),
            Text(_delta(r)),
            Text(_tol(r, exact)),
            Text(status, style=style),
        )
    return t


def _write_markdown(text: str, target: Path | None) -> list[Path]:
    """Write to ``target`` (replacing it) and append to ``$GITHUB_STEP_SUMMARY``."""
    written = []
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    summary_path = Path(summary).resolve() if summary else None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if summary_path is not None and target.resolve() == summary_path:
            with target.open("a", encoding="utf-8") as fh:
                fh.write(text + "\n")
            return [target]
        from simulator.output import write_text_atomic

        write_text_atomic(target, text)
        written.append(target)
    if summary_path is not None:
        with summary_path.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
        written.append(summary_path)
    return written


# ----------------------------------------------------------------------------- command
def _entities(sc: Scenario) -> list[str]:
    from simulator.results import ALL_MANUFACTURERS

    return [m.id for m in sc.manufacturers] + ["authority", ALL_MANUFACTURERS]


def _prepare(
    paths: Sequence[Path] | None, baselines: Path, update: bool
) -> tuple[list[ScenarioCheck], list[str]]:
    from simulator.load import load_scenario_located

    files = expand_paths(paths)
    by_stem: dict[str, Path] = {}
    for f in files:
        if f.stem in by_stem:
            raise BadInput(
                f"{f} and {by_stem[f.stem]} would share the baseline "
                f"{baselines / (f.stem + '.json')}; regress them with "
                "separate --baselines directories"
            )
        by_stem[f.stem] = f
    checks = []
    warnings: list[str] = []
    for f in files:
        sc, _ = load_scenario_located(f)  # ScenarioError propagates (exit 2)
        bpath = baselines / f"{f.stem}.json"
        base = None
        if bpath.exists():
            try:
                base = read_baseline(bpath)
            except BadInput as e:
                if not update:
                    raise
                warnings.append(f"warning: {e} (replaced by --update)")
        elif not update:
            raise BadInput(
                f"{bpath}: no baseline for {f}; create it with "
                f"`relsim regress {f} --baselines {baselines} --update` "
                "(and commit it)"
            )
        c = ScenarioCheck(f, f.stem, sc, bpath, base)
        ents = _entities(sc) + list((base or {}).get("kpis", {}))
        names = [k for ks in (base or {}).get("kpis", {}).values() for k in ks]
        errs = check_floor_keys(sc.tolerances, ents, f"{f}: tolerances", names)
        errs += check_floor_keys((base or {}).get("floors", {}), ents, f"{bpath}: floors", names)
        if errs:
            raise BadInput("\n".join(errs))
        checks.append(c)
    return checks, warnings


def _run_one(c: ScenarioCheck, reps: int | None, seed: int | None, workers: int | None) -> None:
    """Run the scenario's ensemble and compare it with its baseline (if any)."""
    from simulator import __version__
    from simulator.ensemble import run_ensemble
    from simulator.output import scenario_hash

    b = c.baseline or {}
    c.seed = int(seed if seed is not None else b.get("seed", c.scenario.seed))
    c.reps = int(reps if reps is not None else b.get("reps", c.scenario.reps))
    if c.baseline is not None:
        if b.get("scenario_hash") != scenario_hash(c.scenario):
            c.notes.append(
                f"scenario changed since baseline (hash {b.get('scenario_hash')} "
                f"→ {scenario_hash(c.scenario)})"
            )
        if c.seed != b.get("seed"):
            c.notes.append(f"seed {c.seed} (baseline {b.get('seed')})")
        if c.reps != b.get("reps"):
            c.notes.append(f"{c.reps} replications (baseline {b.get('reps')})")
        if b.get("version") not in (None, __version__):
            c.notes.append(f"baseline made with relsim {b.get('version')} (now {__version__})")
    t0 = time.perf_counter()
    ens = run_ensemble(c.scenario, reps=c.reps, seed=c.seed, workers=workers)
    c.elapsed_s = time.perf_counter() - t0
    c.kpis = current_kpis(ens)
    if c.baseline is not None:
        c.rows = compare(
            c.label, b["kpis"], c.kpis, base_reps=int(b["reps"]), cur_reps=c.reps, floors=c.floors()
        )


def regress_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Scenario files or directories (their *.yaml, not recursive). "
            "Default: scenarios/*.yaml.",
            show_default=False,
        ),
    ] = None,
    baselines: Annotated[
        Path, typer.Option("--baselines", help="Baseline directory (<stem>.json per scenario).")
    ] = Path("scenarios/baselines"),
    update: Annotated[
        bool, typer.Option("--update", help="Rewrite the baselines from this run (exit 0).")
    ] = False,
    reps: Annotated[
        int | None,
        typer.Option(min=2, help="Replications (default: the baseline's, else the scenario's)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="Root seed (default: the baseline's, else the scenario's)."),
    ] = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="Fail on any difference in the rounded means (same platform)."
        ),
    ] = False,
    alpha: Annotated[
        float | None,
        typer.Option(
            help="Family-wise false-alarm rate over all compared KPIs (default: the "
            "baselines', else 0.01)."
        ),
    ] = None,
    k: Annotated[
        float | None,
        typer.Option(
            "--k",
            min=0.0,
            help="Fixed tolerance multiplier k (instead of one derived from --alpha).",
        ),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(
            help="Write a Markdown report here (also appended to $GITHUB_STEP_SUMMARY when set)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: every core).")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show every KPI, not only the moved ones.")
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Re-run scenarios and compare their KPIs with stored baselines (exit 1 if any moved).

    Each scenario runs with its baseline's seed and replication count. A KPI moved when
    |Δ| exceeds both k·√(se_b² + se_c²), with k set for a family-wise false-alarm rate
    α across all compared KPIs, and its absolute floor (scenario `tolerances:`).
    """
    from rich.console import Console
    from rich.text import Text

    tty = sys.stdout.isatty()
    out = Console(highlight=False, soft_wrap=True, width=None if tty else 200)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    del debug  # handled by the entry point (main checks for --debug)
    if alpha is not None and not 0.0 < alpha < 1.0:
        err.print(f"relsim regress: --alpha must be in (0, 1), got {alpha}", markup=False)
        raise typer.Exit(2)
    try:
        checks, warnings = _prepare(paths, baselines, update)
    except BadInput as e:
        err.print(f"relsim regress: {e}", markup=False)
        raise typer.Exit(2) from None
    for w in warnings:
        err.print(w, markup=False)

    for c in checks:
        b = c.baseline or {}
        n = reps if reps is not None else b.get("reps", c.scenario.reps)
        s = seed if seed is not None else b.get("seed", c.scenario.seed)
        err.print(f"running {c.path} ({n} replications, seed {s}) …", markup=False)
        _run_one(c, reps, seed, workers)

    if alpha is None:
        stored = [
            float(c.baseline["tolerance"]["alpha"])
            for c in checks
            if c.baseline
            and isinstance(c.baseline.get("tolerance"), dict)
            and isinstance(c.baseline["tolerance"].get("alpha"), int | float)
        ]
        alpha = min(stored) if stored else DEFAULT_ALPHA
    all_rows = [r for c in checks for r in c.rows]
    m = judge(all_rows, alpha=alpha, k=k, exact=exact)

    if update:
        for c in checks:
            floors = (c.baseline or {}).get("floors")
            data = baseline_data(
                c.scenario,
                scenario_file=c.path,
                baseline_file=c.baseline_path,
                seed=c.seed,
                reps=c.reps,
                kpis=c.kpis,
                alpha=alpha,
                floors=floors,
            )
            old = c.baseline_path.read_text(encoding="utf-8") if c.baseline_path.exists() else None
            write_baseline(c.baseline_path, data)
            new = c.baseline_path.read_text(encoding="utf-8")
            what = (
                "created"
                if old is None
                else "unchanged"
                if old == new
                else f"updated ({len(c.failures)} KPI(s) had moved beyond tolerance)"
            )
            out.print(
                f"{what}: {c.baseline_path} ({c.reps} replications, seed {c.seed}, "
                f"{c.elapsed_s:.1f} s)",
                markup=False,
            )
        return

    for c in checks:
        f = c.failures
        verdict = "FAIL" if f else "ok"
        out.print(
            Text(
                f"{verdict:4}  {c.path}: {len(f)} of {len(c.rows)} KPIs moved "
                f"(seed {c.seed}, {c.reps} replications, {c.elapsed_s:.1f} s)",
                style="bold red" if f else "",
            )
        )
        for note in c.notes:
            out.print(f"      note: {note}", markup=False)
        shown = c.rows if verbose else f
        if shown:
            out.print(_table(c, shown, exact))
    n_rows = len(all_rows)
    failed = [c for c in checks if c.failures]
    n_fail = sum(len(c.failures) for c in checks)
    out.print(f"rule: {_rule_text(alpha, m, k, exact)}", markup=False)
    if junit is not None:
        from simulator.output import write_text_atomic

        write_text_atomic(junit, junit_xml(checks, exact=exact))
        out.print(f"wrote {junit}", markup=False)
    md = markdown_report(checks, alpha=alpha, m=m, k=k, exact=exact, verbose=verbose)
    for p in _write_markdown(md, markdown):
        out.print(f"wrote {p}", markup=False)
    if failed:
        for c in failed:
            out.print(
                f"moved in {c.label}: {', '.join(r.metric for r in c.failures)}", markup=False
            )
        out.print(
            Text(
                f"regress: FAIL — {n_fail} of {n_rows} KPIs moved beyond tolerance "
                f"in {len(failed)} of {len(checks)} scenario(s)",
                style="bold red",
            )
        )
        raise typer.Exit(1)
    out.print(
        f"regress: ok — {n_rows} KPIs in {len(checks)} scenario(s) within tolerance", markup=False
    )
