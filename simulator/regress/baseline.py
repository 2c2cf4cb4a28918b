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

from simulator.errors import clean
from simulator.limits import Limits
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
    for r in ens.kpi_stats():
        n = int(r["n"])
        out.setdefault(str(r["entity"]), {})[str(r["kpi"])] = {
            "mean": sig(float(r["mean"])) if n > 0 else None,
            "se": sig(float(r["se"])) if n > 1 else None,
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
    from simulator.report.rundir import scenario_hash
    from simulator.version import __version__

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


class _NotANumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotANumber(name)


def read_baseline(path: Path) -> dict[str, Any]:
    """Read and check a baseline file: a regular JSON file inside its folder (not a
    symbolic link) of at most :attr:`Limits.MAX_BASELINE_BYTES`, with a whole ``seed``
    and ``reps`` within :class:`Limits`, and for every KPI a whole ``n`` (0 .. reps), a
    finite ``mean`` (null only when n = 0) and a finite ``se`` >= 0 (null only when
    n <= 1).

    A baseline that fails any check is bad input, never a pass: a NaN mean would make
    every comparison with it come out "within tolerance".

    Raises:
        BadInput: Why (naming the file and the JSON path, never quoting values).
    """
    from simulator.scenario.reading import UnreadableFile, read_inside

    try:  # a regular file inside the baselines folder: no link out of it
        raw = read_inside(path.parent, path.name, Limits.MAX_BASELINE_BYTES, "JSON file")
    except UnreadableFile as e:
        raise BadInput(f"{path}: cannot read baseline: {e}") from None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise BadInput(f"{path}: baseline is not UTF-8 text; regenerate it with --update") from None
    except json.JSONDecodeError as e:
        raise BadInput(
            f"{path}:{e.lineno}:{e.colno}: baseline is not valid JSON: {e.msg}; "
            "regenerate it with --update"
        ) from None
    except _NotANumber as e:
        raise BadInput(
            f"{path}: baseline holds {e} (not a number); regenerate it with --update"
        ) from None
    except (ValueError, RecursionError):  # a 5,000-digit number, 100,000 nested lists
        raise BadInput(
            f"{path}: baseline holds a number too long or nesting too deep; regenerate it "
            "with --update"
        ) from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: baseline must be a JSON object")
    missing = [k for k in ("seed", "reps", "kpis") if k not in data]
    if missing:
        raise BadInput(f"{path}: baseline lacks {', '.join(missing)}; regenerate it with --update")
    if data.get("format", BASELINE_FORMAT) != BASELINE_FORMAT:
        raise BadInput(
            f"{path}: baseline format {clean(repr(data.get('format')), 20)} is not "
            f"{BASELINE_FORMAT}; regenerate it with --update"
        )
    problems = _baseline_problems(data)
    if problems:
        shown = problems[:5] + ([f"{len(problems) - 5} more"] if len(problems) > 5 else [])
        raise BadInput(f"{path}: bad baseline ({'; '.join(shown)}); regenerate it with --update")
    return data


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _baseline_problems(data: dict[str, Any]) -> list[str]:
    """What is wrong with a parsed baseline, as ``json.path: what`` (no values)."""
    out: list[str] = []
    if not _whole(data["seed"], 0, Limits.MAX_SEED):
        out.append(f"seed: must be a whole number 0 .. {Limits.MAX_SEED}")
    if not _whole(data["reps"], 1, Limits.MAX_REPS):
        out.append(f"reps: must be a whole number 1 .. {Limits.MAX_REPS:,} (Limits.MAX_REPS)")
    reps = data["reps"] if _whole(data["reps"], 1, Limits.MAX_REPS) else Limits.MAX_REPS
    for key in ("scenario_hash", "version", "scenario", "scenario_file"):
        if key in data and not (isinstance(data[key], str) and len(data[key]) <= 200):
            out.append(f"{key}: must be a short string")
    tol = data.get("tolerance", {})
    if not isinstance(tol, dict):
        out.append("tolerance: must be an object")
    elif "alpha" in tol and not (_finite(tol["alpha"]) and 0 < tol["alpha"] < 1):
        out.append("tolerance.alpha: must be a number between 0 and 1")
    kpis = data["kpis"]
    if not isinstance(kpis, dict) or not all(isinstance(v, dict) for v in kpis.values()):
        return [*out, "kpis: must map entity -> kpi -> {mean, se, n}"]
    for entity, ks in kpis.items():
        for kpi, stat in ks.items():
            where = clean(f"kpis.{entity}.{kpi}", 80)
            if not isinstance(stat, dict):
                out.append(f"{where}: must be an object {{mean, se, n}}")
                continue
            n = stat.get("n")
            if not _whole(n, 0, reps):
                out.append(f"{where}.n: must be a whole number 0 .. reps")
                continue
            mean, se = stat.get("mean"), stat.get("se")
            if not (_finite(mean) or (mean is None and n == 0)):
                out.append(f"{where}.mean: must be a finite number (null only when n is 0)")
            if not ((_finite(se) and se >= 0) or (se is None and n <= 1)):
                out.append(f"{where}.se: must be a finite number >= 0 (null only when n <= 1)")
    floors = data.get("floors", {})
    if not isinstance(floors, dict) or not all(_finite(v) and v >= 0 for v in floors.values()):
        out.append("floors: must map KPI keys to finite numbers >= 0")
    return out


def write_baseline(path: Path, data: Mapping[str, Any]) -> None:
    """Write a baseline atomically (temp file + rename), deterministic JSON (it replaces
    the baseline it was read from: ``--update``)."""
    from simulator.report.atomic import atomic_file, write_json

    with atomic_file(path, update=True) as tmp:
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
            problems.append(
                f"{where}: {clean(key, 80)}: floor must be a finite number >= 0, "
                f"got {clean(repr(value), 40)}"
            )
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
            f"{where}: unknown KPI key {clean(repr(key), 80)} (use kpi, entity.kpi, or either "
            f"with .{SHARE}){hint}"
        )
    return problems
