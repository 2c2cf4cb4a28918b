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
from simulator.regress.baseline import (
    BadInput,
    check_floor_keys,
    current_kpis,
    current_values,
    file_hashes,
    read_baseline,
)
from simulator.regress.judge import ScenarioCheck, compare
from simulator.replication.kpis import ALL_MANUFACTURERS

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = [
    "change_text",
    "changed_files_shown",
    "expand_paths",
    "prepare",
    "run_check",
    "scenario_changes",
]


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
    if not update:  # every scenario without a baseline, named at once
        missing = [f for f in files if not (baselines / f"{f.stem}.json").exists()]
        if missing:
            listed = "\n".join(f"  {f}  (no {baselines / (f.stem + '.json')})" for f in missing)
            raise BadInput(
                f"{len(missing)} of {len(files)} scenario(s) have no baseline:\n{listed}\n"
                "create them with `relsim regress "
                + " ".join(str(f) for f in missing)
                + f" --baselines {baselines} --update` (and commit them), or name the "
                "scenarios to check (`relsim regress FILE ...`)"
            )
    checks = []
    warnings: list[str] = []
    for f in files:
        sc, loc = load_scenario_located(f, allow=allow)  # ScenarioError propagates (exit 2)
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
        c = ScenarioCheck(f, f.stem, sc, bpath, base, files=list(loc.files))
        ents = _entities(sc) + list((base or {}).get("kpis", {}))
        names = [k for ks in (base or {}).get("kpis", {}).values() for k in ks]
        errs = check_floor_keys(sc.tolerances, ents, f"{f}: tolerances", names)
        errs += check_floor_keys((base or {}).get("floors", {}), ents, f"{bpath}: floors", names)
        if errs:
            raise BadInput("\n".join(errs))
        checks.append(c)
    return checks, warnings


def scenario_changes(c: ScenarioCheck) -> None:
    """Whether the scenario changed since its baseline, and what: the fields (the
    stored resolved scenario against this one, leaf by leaf as ``relsim diff``) and the
    files (their hashes against the stored ones). Sets ``c.changed``, ``c.changes`` and
    ``c.changed_files``."""
    from simulator.report.rundir import scenario_data, scenario_hash
    from simulator.scenario.diff import diff_data

    b = c.baseline or {}
    if c.baseline is None or b.get("scenario_hash") == scenario_hash(c.scenario):
        return
    stored = b.get("scenario_resolved")
    then = b.get("scenario_files") or {}
    now = file_hashes(c.files, c.baseline_path)
    c.changed_files = [f for f in now if then.get(f) != now[f]]
    c.changed_files += [f for f in then if f not in now]
    if isinstance(stored, dict):
        c.changes = list(diff_data(stored, scenario_data(c.scenario)))
        if not c.changes and not c.changed_files:
            # the same files, the same values: only relsim's scenario model differs (a
            # field added since, unset here); the KPIs judge whether that matters
            c.notes.append(
                "the resolved scenario differs from the baseline's only in fields unset on "
                "both sides (relsim's scenario model changed since): judged by its KPIs; "
                "--update stores the new form"
            )
            return
    c.changed = True


def changed_files_shown(c: ScenarioCheck) -> list[tuple[str, bool]]:
    """The changed files as paths relative to the working directory (absolute when
    that is shorter or on another drive), each with whether it is the scenario's own
    file (else one it extends)."""
    import os

    out = []
    for f in c.changed_files:
        full = (c.baseline_path.parent / f).resolve()
        try:
            rel = os.path.relpath(full)
        except ValueError:  # pragma: no cover - another drive on Windows
            rel = str(full)
        shown = rel if len(rel) <= len(str(full)) else str(full)
        out.append((shown, full == Path(c.path).resolve()))
    return out


def change_text(c: ScenarioCheck, width: int | None = 100, limit: int = 30) -> str:
    """What changed in a scenario since its baseline, for people: the files (relative to
    the working directory where possible) and the fields with both values, wrapped to
    ``width``; and how to accept the change."""
    from simulator.scenario.diff import ScenarioDiff

    lines = [f"the scenario changed since its baseline {c.baseline_path}"]
    for shown, own in changed_files_shown(c):
        role = "this scenario's file" if own else "a file it extends"
        lines.append(f"changed file: {shown} ({role})")
    if c.changes:
        d = ScenarioDiff(c.changes)
        d.a_name, d.b_name = "baseline", "now"
        lines += d.render(limit=limit, width=width).splitlines()
    elif c.baseline is not None and not isinstance(c.baseline.get("scenario_resolved"), dict):
        lines.append("(the baseline does not hold the resolved scenario: no field list)")
    lines.append(
        f"if the change is intended: `relsim regress {c.path} --update` rewrites the "
        "baseline (commit it); `--allow-changed` judges the KPIs without failing on it"
    )
    return "\n".join(lines)


def run_check(c: ScenarioCheck, reps: int | None, execution: Execution) -> None:
    """Run the scenario's ensemble and compare it with its baseline, replication by
    replication (common random numbers: the baseline's seed).

    Args:
        c: The scenario and its baseline.
        reps: Replications (default: the baseline's, else the scenario's).
        execution: Engine, workers and executor; its seed (default: the baseline's, else
            the scenario's). No progress is shown.
    """
    from simulator.ensemble.runner import run_ensemble_with
    from simulator.version import __version__

    b = c.baseline or {}
    seed = execution.seed
    c.seed = int(seed if seed is not None else b.get("seed", c.scenario.seed))
    c.reps = int(reps if reps is not None else b.get("reps", c.scenario.reps))
    if c.baseline is not None:
        scenario_changes(c)
        if c.seed != b.get("seed"):
            c.notes.append(
                f"seed {c.seed} (baseline {b.get('seed')}): replications are paired but "
                "draw different random numbers (no common random numbers)"
            )
        if c.reps != b.get("reps"):
            c.notes.append(
                f"{c.reps} replications (baseline {b.get('reps')}): "
                f"{min(c.reps, int(b.get('reps') or 0))} compared in pairs"
            )
        if b.get("version") not in (None, __version__):
            c.notes.append(f"baseline made with relsim {b.get('version')} (now {__version__})")
    t0 = time.perf_counter()
    ens = run_ensemble_with(c.scenario, replace(execution, seed=c.seed, progress=False), c.reps)
    c.elapsed_s = time.perf_counter() - t0
    c.kpis = current_kpis(ens)
    c.values = current_values(ens)
    if c.baseline is not None:
        c.rows = compare(
            c.label,
            b["kpis"],
            c.kpis,
            base_reps=int(b["reps"]),
            cur_reps=c.reps,
            floors=c.floors(),
            base_values=b.get("values"),
            cur_values=c.values,
        )
