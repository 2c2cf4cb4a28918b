"""Regression baselines: what a scenario's ensemble gave, read and written
deterministically (see :mod:`simulator.regress.judge` for how they are compared).

A baseline (format 2) holds, besides the seed, replication count and tolerance:

* ``kpis`` — per entity and KPI the mean, its standard error and ``n``;
* ``values`` — every replication's value of every KPI (6 significant digits, null
  where undefined), so that a re-run on the same seeds is compared replication by
  replication (paired, common random numbers);
* ``scenario_resolved`` — the scenario as it resolved (after ``extends:`` and
  defaults), so that a changed scenario is named field by field (``relsim diff``
  against it), and ``scenario_files`` — the hash of each file it was read from, so
  that the file that changed is named too.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

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
    "baseline_json",
    "check_floor_keys",
    "current_kpis",
    "current_values",
    "file_hashes",
    "read_baseline",
    "write_baseline",
]

BASELINE_FORMAT = 2
"""Version of the baseline file layout (2: per-replication values, the resolved
scenario and its files' hashes)."""


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


def current_values(ens: Any) -> dict[str, dict[str, list[float | None]]]:
    """Every replication's KPIs, rounded like the baseline (6 significant digits):
    ``{entity: {kpi: [value of replication 0, 1, …]}}`` (None where undefined).

    Args:
        ens: An :class:`~simulator.ensemble.EnsembleResult` of replications 0 … n − 1.
    """
    reps, cols = ens.kpi_values()
    order = np.argsort(reps, kind="stable")
    out: dict[str, dict[str, list[float | None]]] = {}
    for (entity, kpi), v in cols.items():
        out.setdefault(str(entity), {})[str(kpi)] = [sig(float(x)) for x in v[order]]
    return out


def _relative(path: Path, baseline_file: Path) -> str:
    try:
        rel = os.path.relpath(Path(path).resolve(), Path(baseline_file).resolve().parent)
    except ValueError:  # pragma: no cover - different drives on Windows
        rel = str(Path(path).resolve())
    return Path(rel).as_posix()


def file_hashes(files: Sequence[str | Path], baseline_file: Path) -> dict[str, str]:
    """SHA-256 (first 16 hex digits) of each file a scenario was read from, keyed by its
    path relative to the baseline's directory (files that cannot be read are left out:
    the loader just read them, so this only happens if one vanished since)."""
    import hashlib

    from simulator.scenario.reading import UnreadableFile, read_limited

    out: dict[str, str] = {}
    for f in files:
        try:
            raw = read_limited(Path(f), Limits.MAX_SCENARIO_BYTES, "scenario file")
        except (UnreadableFile, OSError):
            continue
        out[_relative(Path(f), baseline_file)] = hashlib.sha256(raw).hexdigest()[:16]
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
    values: Mapping[str, Any] | None = None,
    files: Sequence[str | Path] = (),
    floors: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The content of a baseline file (no dates: rewriting an unchanged baseline gives
    the same bytes).

    Args:
        sc: The resolved scenario (stored whole: ``scenario_resolved``).
        scenario_file: Scenario file (stored relative to the baseline's directory).
        baseline_file: Where the baseline goes.
        seed: Root seed used.
        reps: Replications used.
        kpis: From :func:`current_kpis`.
        alpha: Family-wise false-alarm rate recorded with the baseline.
        values: From :func:`current_values` (every replication's KPIs).
        files: The files the scenario was read from (their hashes are stored).
        floors: Hand-written absolute floors to keep.
    """
    from simulator.report.rundir import scenario_data, scenario_hash
    from simulator.version import __version__

    m = sum(len(v) for v in kpis.values())
    rel = _relative(Path(scenario_file), Path(baseline_file))
    data: dict[str, Any] = {
        "format": BASELINE_FORMAT,
        "tool": "relsim",
        "version": __version__,
        "scenario": sc.name,
        "scenario_file": rel,
        "scenario_files": file_hashes(files, Path(baseline_file)),
        "scenario_hash": scenario_hash(sc),
        "scenario_resolved": scenario_data(sc),
        "seed": int(seed),
        "reps": int(reps),
        "tolerance": {
            "alpha": alpha,
            "k": sig(bonferroni_k(alpha, m, max(int(reps) - 1, 1)), 4),
            "m": m,
            "rule": "paired: flag if |mean(c_i - b_i)| > max(k*se(c_i - b_i), floor) over "
            "the replications i both define (same seeds: common random numbers); "
            "definedness by the exact McNemar test; k = Bonferroni (t, reps - 1 d.f.) "
            "over the KPIs that could fail in a run (this k: this scenario's KPIs alone)",
        },
        "kpis": {e: {k: dict(v) for k, v in ks.items()} for e, ks in kpis.items()},
        "values": {e: {k: list(v) for k, v in ks.items()} for e, ks in (values or {}).items()},
    }
    if floors:
        data["floors"] = dict(floors)
    return data


def baseline_json(data: Mapping[str, Any]) -> str:
    """A baseline as text: JSON with sorted keys and 2-space indents, each list of
    plain values on one line (a replication's values read across), and the resolved
    scenario in its own field order (as ``relsim diff`` lists it); deterministic."""

    def dump(v: Any, indent: int, sort: bool) -> str:
        pad = "  " * (indent + 1)
        if isinstance(v, Mapping):
            if not v:
                return "{}"
            keys = sorted(v) if sort else list(v)
            items = [
                f"{pad}{json.dumps(str(k))}: "
                f"{dump(v[k], indent + 1, sort and k != 'scenario_resolved')}"
                for k in keys
            ]
            return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
        if isinstance(v, list | tuple):
            if all(not isinstance(x, Mapping | list | tuple) for x in v):
                return "[" + ", ".join(json.dumps(x, allow_nan=False) for x in v) + "]"
            return (
                "[\n"
                + ",\n".join(pad + dump(x, indent + 1, sort) for x in v)
                + "\n"
                + "  " * indent
                + "]"
            )
        return json.dumps(v, allow_nan=False)

    return dump(dict(data), 0, True) + "\n"


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
    out += _values_problems(data.get("values"), kpis, data["reps"])
    files = data.get("scenario_files", {})
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and len(k) <= 1000 and isinstance(v, str) and len(v) <= 64
        for k, v in files.items()
    ):
        out.append("scenario_files: must map file paths to short hash strings")
    resolved = data.get("scenario_resolved")
    if resolved is not None and not (
        isinstance(resolved, dict) and _depth(resolved) <= _MAX_SCENARIO_DEPTH
    ):
        out.append(f"scenario_resolved: must be an object at most {_MAX_SCENARIO_DEPTH} deep")
    return out


_MAX_SCENARIO_DEPTH = 40
"""How deep a stored resolved scenario may nest (the model's own depth is about 10)."""


def _depth(v: Any, limit: int = _MAX_SCENARIO_DEPTH + 1) -> int:
    """Nesting depth of plain data, counted up to ``limit`` (iteratively: no recursion on
    untrusted input)."""
    deepest, stack = 0, [(v, 0)]
    while stack:
        x, d = stack.pop()
        deepest = max(deepest, d)
        if d >= limit:
            return d
        if isinstance(x, dict):
            stack.extend((y, d + 1) for y in x.values())
        elif isinstance(x, list):
            stack.extend((y, d + 1) for y in x)
    return deepest


def _values_problems(values: Any, kpis: dict[str, Any], reps: Any) -> list[str]:
    """What is wrong with a baseline's per-replication values (``values``: entity ->
    KPI -> a list of ``reps`` finite numbers or nulls, one per replication; entities
    and KPIs those of ``kpis``)."""
    if values is None:
        return ["values: missing (every replication's KPIs); regenerate with --update"]
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        return ["values: must map entity -> kpi -> [one value per replication]"]
    out: list[str] = []
    n = reps if _whole(reps, 1, Limits.MAX_REPS) else None
    for entity, ks in values.items():
        for kpi, v in ks.items():
            where = clean(f"values.{entity}.{kpi}", 80)
            if not isinstance(v, list) or (n is not None and len(v) != n):
                out.append(f"{where}: must be a list of one value per replication")
            elif not all(x is None or _finite(x) for x in v):
                out.append(f"{where}: must hold finite numbers or nulls")
            elif kpi not in kpis.get(entity, {}):
                out.append(f"{where}: no such KPI in kpis")
            if len(out) > 20:
                return out
    return out


def write_baseline(path: Path, data: Mapping[str, Any]) -> None:
    """Write a baseline atomically (temp file + rename), deterministic JSON
    (:func:`baseline_json`; it replaces the baseline it was read from: ``--update``)."""
    from simulator.report.atomic import atomic_file

    with atomic_file(path, update=True) as tmp:
        tmp.write_text(baseline_json(data), encoding="utf-8")


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
