"""Regression baselines: stored KPI statistics of a scenario, read and written
deterministically (see :mod:`simulator.regress.judge` for how they are compared)."""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.regress.judge import SHARE
from simulator.replication.kpis import AUTHORITY_KPIS, MANUFACTURER_KPIS
from simulator.stats import bonferroni_k, sig

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "BASELINE_FORMAT",
    "BadInput",
    "baseline_data",
    "check_floor_keys",
    "current_kpis",
    "read_baseline",
    "write_baseline",
]

BASELINE_FORMAT = 1
"""Version of the baseline file layout."""


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
    from simulator.report.rundir import scenario_hash

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
            "k": sig(bonferroni_k(alpha, m), 4),
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
    from simulator.report.atomic import atomic_file, write_json

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
