"""Running scenarios for regression: find them, load their baselines, run, compare.

No command-line code here: ``relsim regress`` (:mod:`simulator.cli.regress`) calls
:func:`prepare` and :func:`run_check`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.ensemble.options import Execution
from simulator.regress.baseline import BadInput, check_floor_keys, current_kpis, read_baseline
from simulator.regress.judge import ScenarioCheck, compare
from simulator.replication.kpis import ALL_MANUFACTURERS

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["expand_paths", "prepare", "run_check"]


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


def _entities(sc: Scenario) -> list[str]:
    return [m.id for m in sc.manufacturers] + ["authority", ALL_MANUFACTURERS]


def prepare(
    paths: Sequence[Path] | None,
    baselines: Path,
    update: bool,
    allow: Sequence[Path] = (),
) -> tuple[list[ScenarioCheck], list[str]]:
    """Load every scenario and its baseline (checked: see
    :func:`~simulator.regress.baseline.read_baseline`).

    Args:
        paths: Scenario files or directories (default ``scenarios/``).
        baselines: Baseline directory.
        update: Baselines will be rewritten (a missing or bad one is not an error).
        allow: Folders besides each scenario's own it may read files from.

    Raises:
        BadInput: A path, a baseline or a floor is bad.
        ScenarioError: A scenario is invalid.
    """
    from simulator.scenario.load import load_scenario_located

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
        sc, _ = load_scenario_located(f, allow=allow)  # ScenarioError propagates (exit 2)
        bpath = baselines / f"{f.stem}.json"
        base = None
        if bpath.is_symlink():  # --update would write through it, wherever it leads
            raise BadInput(
                f"{bpath}: cannot read baseline: {bpath.name} is a symbolic link; relsim "
                "reads and writes only regular files inside the baselines folder (remove "
                "the link; nothing was changed)"
            )
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


def run_check(c: ScenarioCheck, reps: int | None, execution: Execution) -> None:
    """Run the scenario's ensemble and compare it with its baseline.

    Args:
        c: The scenario and its baseline.
        reps: Replications (default: the baseline's, else the scenario's).
        execution: Engine, workers and executor; its seed (default: the baseline's, else
            the scenario's). No progress is shown.
    """
    from simulator.ensemble.runner import run_ensemble_with
    from simulator.report.rundir import scenario_hash
    from simulator.version import __version__

    b = c.baseline or {}
    seed = execution.seed
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
    ens = run_ensemble_with(c.scenario, replace(execution, seed=c.seed, progress=False), c.reps)
    c.elapsed_s = time.perf_counter() - t0
    c.kpis = current_kpis(ens)
    if c.baseline is not None:
        c.rows = compare(
            c.label, b["kpis"], c.kpis, base_reps=int(b["reps"]), cur_reps=c.reps, floors=c.floors()
        )
