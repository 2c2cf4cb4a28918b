"""Sweeps: one ensemble per point of a design, with common random numbers across points.

Every point is the base scenario with the design's values set (as ``--set`` would),
validated like a file, and run as an ensemble of ``reps`` replications with the sweep's
seed (:func:`simulator.ensemble.runner.run_ensemble`, on any executor): replication
``i`` of every point draws from ``SeedSequence(seed, spawn_key=(i, …))``, so points
differ only where their parameters make them differ (common random numbers), and a
sweep gives the same numbers serially, on local processes or on a Dask cluster.

The result is a tidy table (:attr:`SweepResult.frame`): one row per point × entity ×
KPI with the point's parameter values and the KPI's mean over replications, 95 %
interval, standard error and the number of replications where it is defined.

With ``out``, finished points are kept on disk as they come
(:class:`~simulator.explore.store.PointStore`): an interrupted sweep run again resumes
where it stopped, and the output directory appears only when every point is in.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.ensemble.options import Execution, ProgressFn
from simulator.errors import Problem, ScenarioError
from simulator.explore.cluster import shared_executor
from simulator.explore.design import Design, make_design
from simulator.explore.params import (
    Param,
    from_uncertainty,
    merge_requests,
    parse_param,
    resolve,
)
from simulator.limits import Limits
from simulator.replication.engines import DEFAULT_ENGINE

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.located import Located
    from simulator.scenario.model import Scenario

__all__ = ["STATS", "SweepResult", "evaluate_design", "point_scenario", "prepare", "sweep"]

STATS = ("mean", "ci_low", "ci_high", "se", "n")
"""KPI statistics of each point, per entity and KPI (as in ``summary.json``)."""
DEFAULT_KPIS = ("lost_units", "shortage_days")
"""KPIs drawn when none is asked for and none of :data:`CANDIDATE_KPIS` varies."""
CANDIDATE_KPIS = (
    "lost_units",
    "shortage_days",
    "any_shortage",
    "days_to_first_shortage",
    "fill_rate",
    "shortfall_t",
)
"""KPIs a sweep draws by default, the first two that vary across its points beyond
their Monte Carlo noise (:meth:`SweepResult.informative_kpis`): P(line stop) says
nothing when every point stops every line (the 2025 case study)."""


# ----------------------------------------------------------------------------- result
@dataclass
class SweepResult:
    """A finished sweep.

    Attributes:
        scenario: The base scenario (None for a model function, see
            :func:`evaluate_design`).
        design: The design (parameters and points).
        frame: Tidy table: ``point``, one column per parameter, ``entity``, ``kpi``,
            ``mean``, ``ci_low``, ``ci_high``, ``se``, ``n``.
        reps: Replications per point.
        seed: Root seed (the same for every point).
        elapsed_s: Wall time of this call, seconds (points read back from an
            interrupted run cost nothing).
        workers: Workers used.
        resumed: Points read back from an interrupted run of the same sweep.
        out: Output directory, if one was written.
        rerun: Points of an interrupted run whose record did not read back well formed
            (``file: field: why``), run again.
    """

    scenario: Scenario | None
    design: Design
    frame: pd.DataFrame
    reps: int
    seed: int
    elapsed_s: float = 0.0
    workers: int = 1
    resumed: int = 0
    out: Path | None = None
    timing: list[float] = field(default_factory=list, repr=False)
    rerun: list[str] = field(default_factory=list, repr=False)
    warnings: list[str] = field(default_factory=list)
    """What may make the sweep mislead (e.g. a swept overlay that runs past the end of
    the horizon at some points), for people."""
    past_horizon: list[int] = field(default_factory=list)
    """Points (design rows) at which a swept overlay runs past the end of the horizon:
    shortages it causes after the end are not counted (the stress map hatches them)."""

    def informative_kpis(self, n: int = 2) -> list[str]:
        """The first ``n`` KPIs of :data:`CANDIDATE_KPIS` whose mean varies across the
        points by more than its Monte Carlo noise (the largest 95 % half-width) for some
        manufacturer; then any that varies at all; :data:`DEFAULT_KPIS` when none does.
        """
        present = set(self.frame["kpi"])
        ents = self.entities()
        strong: list[str] = []
        weak: list[str] = []
        for kpi in CANDIDATE_KPIS:
            if kpi not in present:
                continue
            for e in ents:
                try:
                    t = self.kpi(kpi, e)
                except KeyError:
                    continue
                m = t["mean"].to_numpy(float)
                m = m[np.isfinite(m)]
                if m.size < 2 or m.max() == m.min():
                    continue
                noise = (t["ci_high"] - t["mean"]).to_numpy(float)
                noise = noise[np.isfinite(noise)]
                spread = m.max() - m.min()
                if spread > (noise.max() if noise.size else 0.0):
                    strong.append(kpi)
                    break
                if kpi not in weak:
                    weak.append(kpi)
        chosen = strong[:n]
        chosen += [k for k in weak if k not in chosen][: n - len(chosen)]
        return chosen or list(DEFAULT_KPIS[:n])

    @property
    def params(self) -> list[Param]:
        """The swept parameters."""
        return list(self.design.params)

    def entities(self) -> list[str]:
        """Manufacturers of the scenario (in scenario order), else every entity."""
        present = list(dict.fromkeys(self.frame["entity"]))
        if self.scenario is not None:
            ids = [m.id for m in self.scenario.manufacturers if m.id in present]
            if ids:
                return ids
        return present

    def kpi(self, kpi: str, entity: str) -> pd.DataFrame:
        """One KPI of one entity at every point, in point order: ``point``, the
        parameters, ``mean``, ``ci_low``, ``ci_high``, ``se``, ``n`` (NaN where the KPI
        is undefined).

        Raises:
            KeyError: The sweep has no such entity or KPI.
        """
        f = self.frame
        rows = f[(f["entity"] == entity) & (f["kpi"] == kpi)]
        if rows.empty:
            ents = ", ".join(dict.fromkeys(f["entity"]))
            kpis = ", ".join(dict.fromkeys(f.loc[f["entity"] == entity, "kpi"])) or "none"
            raise KeyError(f"no KPI {kpi!r} for entity {entity!r} (entities: {ents}; KPIs: {kpis})")
        table = self.design.frame().merge(
            rows[["point", *STATS]], on="point", how="left", validate="one_to_one"
        )
        return table

    def y(self, kpi: str, entity: str) -> np.ndarray:
        """The KPI's mean at every point, in point order."""
        return self.kpi(kpi, entity)["mean"].to_numpy(dtype=float)

    def sobol(
        self, kpi: str, entity: str, conf_level: float = 0.95, num_resamples: int = 1000
    ) -> pd.DataFrame:
        """First-order and total Sobol indices of a KPI mean (``sobol`` designs); see
        :func:`simulator.explore.sensitivity.sobol_indices`."""
        from simulator.explore.sensitivity import sobol_indices

        return sobol_indices(self.design, self.y(kpi, entity), conf_level, num_resamples)

    def morris(
        self, kpi: str, entity: str, conf_level: float = 0.95, num_resamples: int = 1000
    ) -> pd.DataFrame:
        """Morris screening of a KPI mean (``morris`` designs); see
        :func:`simulator.explore.sensitivity.morris_indices`."""
        from simulator.explore.sensitivity import morris_indices

        return morris_indices(self.design, self.y(kpi, entity), conf_level, num_resamples)

    def tornado(self, kpi: str, entity: str) -> pd.DataFrame:
        """One-at-a-time swings of a KPI mean (``oat`` and ``grid`` designs); see
        :func:`simulator.explore.sensitivity.tornado_table`."""
        from simulator.explore.sensitivity import tornado_table

        return tornado_table(self.design, self.kpi(kpi, entity))

    @property
    def plot(self) -> Any:
        """Figures: ``.stress_map()``, ``.tornado()``, ``.sobol()``, ``.morris()``."""
        from simulator.explore.plots import SweepPlots

        return SweepPlots(self)

    def __repr__(self) -> str:
        return (
            f"SweepResult(design={self.design.kind!r}, points={self.design.n}, "
            f"params={self.design.names}, reps={self.reps}, seed={self.seed}, "
            f"elapsed={self.elapsed_s:.1f}s, resumed={self.resumed})"
        )


# ----------------------------------------------------------------------------- preparing
@dataclass
class Prepared:
    """A sweep's inputs, checked: the base scenario, its located data and the design."""

    scenario: Scenario
    located: Located
    design: Design
    reps: int
    seed: int
    files: list[str]
    warnings: list[str] = field(default_factory=list)
    past_horizon: list[int] = field(default_factory=list)
    """Points at which a swept overlay runs past the end of the horizon."""


def prepare(
    scenario: str | Path | Scenario,
    params: Sequence[str | Param | Mapping[str, Any]] | None = None,
    *,
    design: str = "grid",
    points: int | None = None,
    reps: int | None = None,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    allow: Sequence[str | Path] = (),
) -> Prepared:
    """Read a scenario and parameters, build the design and validate every point's
    scenario, before anything runs.

    Raises:
        ScenarioError: Every problem, located at ``file:line:col``, ``--param TEXT`` or
            ``--design KIND``; a point that makes an invalid scenario is named with its
            values.
    """
    from simulator.scenario.dump import plain
    from simulator.scenario.load import load_scenario_located
    from simulator.scenario.located import Located

    if isinstance(scenario, str | Path):
        sc, loc = load_scenario_located(scenario, overrides, allow=allow)
        files = list(loc.files)
    else:
        if overrides:
            raise ValueError("overrides apply to a scenario file; set them on the Scenario")
        sc = scenario
        loc = Located(plain(sc), {}, {}, [f"<scenario {sc.name}>"])
        files = []
    block: dict[str, Param] = {}
    for i, u in enumerate(sc.uncertainties):
        pos = loc.position(("uncertainties", i))
        origin = f"{pos[0]}:{pos[1]}:{pos[2]}" if pos and pos[1] > 0 else f"uncertainties[{i}]"
        block[u.path] = from_uncertainty(u, f"{origin}: uncertainties[{i}]")
    requests = [_request(p) for p in params or []]
    resolved = resolve(merge_requests(requests, block), sc)
    r = sc.reps if reps is None else int(reps)
    s = sc.seed if seed is None else int(seed)
    if not 1 <= r <= Limits.MAX_REPS:
        raise ScenarioError(Problem(f"reps must be from 1 to {Limits.MAX_REPS:,}", "", "--reps"))
    if not 0 <= s <= Limits.MAX_SEED:
        raise ScenarioError(Problem(f"seed must be from 0 to {Limits.MAX_SEED:,}", "", "--seed"))
    d = make_design(design, resolved, points=points, seed=s)
    if d.n * r > Limits.MAX_SWEEP_RUNS:
        raise ScenarioError(
            Problem(
                f"{d.n:,} points × {r:,} replications = {d.n * r:,} replications; at most "
                f"{Limits.MAX_SWEEP_RUNS:,} (Limits.MAX_SWEEP_RUNS)",
                "",
                f"--design {design}",
            )
        )
    swept = _swept_overlays(d)
    past: dict[int, list[int]] = {}
    for i in range(d.n):  # every point must make a valid scenario before anything runs
        sc_i = point_scenario(loc, d, i)
        for j in swept:
            if j < len(sc_i.policy.overlays) and sc_i.policy.overlays[j].until > sc_i.end:
                past.setdefault(j, []).append(i)
    late = sorted({i for points in past.values() for i in points})
    return Prepared(sc, loc, d, r, s, files, _horizon_warnings(sc, d, past), late)


def _swept_overlays(d: Design) -> set[int]:
    """Indices of the overlays a design moves (``policy.overlays.<i>.…``)."""
    out = set()
    for p in d.params:
        t = p.tokens
        if len(t) > 2 and t[0] == "policy" and t[1] == "overlays" and str(t[2]).isdigit():
            out.add(int(t[2]))
    return out


def _horizon_warnings(sc: Scenario, d: Design, past: Mapping[int, list[int]]) -> list[str]:
    """The warnings of swept overlays that run past the end of the horizon at some points
    (``past``: overlay index -> those points): shortages they cause after the end are
    not counted, so those points look milder than they are."""
    out = []
    for j, points in sorted(past.items()):
        label = sc.policy.overlays[j].label or f"policy.overlays.{j}"
        out.append(
            f"at {len(points)} of {d.n} points the swept overlay {label!r} runs past the end "
            f"of the horizon ({sc.end}): shortages it causes after that are not counted, so "
            "those points look milder than they are; move `end` later or narrow the range"
        )
    return out


def _request(p: str | Param | Mapping[str, Any]) -> tuple[str, Param | None]:
    if isinstance(p, Param):
        return p.path, p
    if isinstance(p, str):
        return parse_param(p)
    from simulator.scenario.located import Located
    from simulator.scenario.translate import validate
    from simulator.scenario.uncertainties import Uncertainty

    u = validate(Located(dict(p), {}, {}, ["<parameter>"]), Uncertainty)
    return u.path, from_uncertainty(u, f"parameter {u.path}")


def point_scenario(loc: Located, design: Design, i: int) -> Scenario:
    """The validated scenario of point ``i``: the base data with the point's overrides,
    named ``base [path=value, …]``.

    Raises:
        ScenarioError: The point makes an invalid scenario; the first problem names the
            point and its values, the others say what is wrong.
    """
    from simulator.replication.engines import check_budget
    from simulator.scenario.compose import apply_overrides
    from simulator.scenario.diff import format_value
    from simulator.scenario.model import Scenario
    from simulator.scenario.translate import validate

    overrides = design.overrides(i)
    label = ", ".join(f"{k}={format_value(v, 40)}" for k, v in overrides.items())
    try:
        data = apply_overrides(loc, overrides, origin=f"point {i}:")
        if isinstance(data.data.get("name"), str):
            data.data["name"] = f"{data.data['name']} [{label}]"
        sc = validate(data, Scenario)
        check_budget(sc, loc=data)  # what one replication costs (the default engine)
        return sc
    except ScenarioError as e:
        where = sorted({p.origin for p in design.params if p.origin})
        head = Problem(
            f"point {i} of the {design.kind} design ({label}) is not a valid scenario (the "
            f"parameters are declared at {'; '.join(where) or 'the call'}); nothing ran:",
            "",
            where[0] if where else None,
        )
        raise ScenarioError([head, *e.problems]) from None


# ----------------------------------------------------------------------------- running
def sweep(
    scenario: str | Path | Scenario,
    params: Sequence[str | Param | Mapping[str, Any]] | None = None,
    *,
    design: str = "grid",
    points: int | None = None,
    reps: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    scheduler: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    allow: Sequence[str | Path] = (),
    out: str | Path | None = None,
    force: bool = False,
    figures: bool = True,
    kpis: Sequence[str] | None = None,
    progress: ProgressFn | bool | None = None,
    engine: str = DEFAULT_ENGINE,
) -> SweepResult:
    """Run an ensemble at every point of a design (common random numbers across points).

    Args:
        scenario: Scenario file (or a :class:`~simulator.scenario.model.Scenario`).
        params: ``"PATH=LOW:HIGH[:N]"`` texts (as ``--param``), bare ``"PATH"`` texts
            (the scenario's ``uncertainties:`` entry for it), :class:`Param` objects or
            mappings like an ``uncertainties:`` entry; None: the scenario's whole
            ``uncertainties:`` block.
        design: ``grid``, ``oat``, ``lhs``, ``sobol`` or ``morris`` (see
            :mod:`simulator.explore.design`).
        points: Number of points (required by ``lhs``, ``sobol``, ``morris``).
        reps: Replications per point (default: the scenario's).
        seed: Root seed of every point and of the design (default: the scenario's).
        workers: Worker processes per point (default: every core; 1: serial).
        executor: As for :func:`simulator.run_ensemble`: ``"serial"``, ``"processes"``,
            ``"dask"`` (one LocalCluster for the whole sweep), a ``distributed.Client`` …
        scheduler: Dask scheduler address (one client for the whole sweep).
        overrides: ``--set``-style overrides of the scenario file.
        allow: Folders besides the scenario's own that ``extends:`` may read from.
        out: Output directory: the sweep resumes from an interrupted run there, and
            writes ``sweep.parquet``, ``design.parquet``, ``manifest.json`` and figures.
        force: Replace an existing ``out`` (and discard another sweep's unfinished work).
        figures: Write figures to ``out/figures``.
        kpis: KPIs of the figures (default: the first two of :data:`CANDIDATE_KPIS`
            that vary across the points, :meth:`SweepResult.informative_kpis`).
        progress: Callback ``(points done, points)``, True for a tqdm bar, or None.
        engine: One of :data:`~simulator.replication.engines.ENGINES` (default: the
            compiled kernel, :data:`~simulator.replication.engines.DEFAULT_ENGINE`);
            identical results.

    Returns:
        The :class:`SweepResult`.

    Raises:
        ScenarioError: Bad parameters, design or scenario, or an unfinished sweep of
            another design in ``out.partial`` (before anything runs).
        OutputRefused: ``out`` exists (without ``force``) or is not a relsim output.
        ReplicationError: A replication failed.
    """
    from simulator.explore.store import PointStore
    from simulator.report.atomic import check_dir_target

    execution = Execution(
        engine=engine,
        seed=seed,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        progress=progress,
    )
    t0 = time.perf_counter()
    if out is not None:
        check_dir_target(Path(out), force)  # before the work; the commit checks again
    prep = prepare(
        scenario,
        params,
        design=design,
        points=points,
        reps=reps,
        seed=execution.seed,
        overrides=overrides,
        allow=allow,
    )
    d = prep.design
    store = PointStore(Path(out), fingerprint(prep), d.n, force) if out is not None else None
    records = store.finished() if store is not None else {}
    rerun = list(store.rejected) if store is not None else []
    for i, rec in list(records.items()):  # the design's own values, or it runs again
        if rec["values"] != _canonical({"v": {k: _plain(v) for k, v in d.values(i).items()}})["v"]:
            rerun.append(f"point {i}: values: are not this design's point")
            del records[i]
    resumed = len(records)
    from simulator.ensemble.runner import progress_callback

    cb = progress_callback(execution.progress, unit="point", desc="points")
    timing: list[float] = [float(r.get("elapsed_s", 0.0)) for r in records.values()]
    used_workers = 1
    try:
        if cb is not None:
            cb(len(records), d.n)
        with shared_executor(execution) as shared:
            from simulator.ensemble.runner import run_ensemble_with

            per_point = replace(shared, seed=prep.seed, progress=False)
            for i in range(d.n):
                if i in records:
                    continue
                sc_i = point_scenario(prep.located, d, i)
                t = time.perf_counter()
                ens = run_ensemble_with(sc_i, per_point, prep.reps)
                used_workers = ens.workers
                rec = _canonical(
                    {
                        "point": i,
                        "values": {k: _plain(v) for k, v in d.values(i).items()},
                        "elapsed_s": round(time.perf_counter() - t, 3),
                        "kpis": ens.summary_dict()["kpis"],
                    }
                )
                del ens
                if store is not None:
                    store.save(i, rec)
                records[i] = rec
                timing.append(rec["elapsed_s"])
                if cb is not None:
                    cb(len(records), d.n)
    finally:
        if hasattr(cb, "close"):
            cb.close()  # type: ignore[union-attr]
    result = SweepResult(
        prep.scenario,
        d,
        _frame(d, records),
        prep.reps,
        prep.seed,
        time.perf_counter() - t0,
        used_workers,
        resumed,
        Path(out) if out is not None else None,
        timing,
        rerun,
        list(prep.warnings),
        list(prep.past_horizon),
    )
    if kpis is None:
        kpis = result.informative_kpis()
    if store is not None:
        from simulator.explore.output import write_sweep_dir

        write_sweep_dir(result, store.out, prep.files, figures=figures, kpis=kpis, force=force)
        store.discard()
    return result


def fingerprint(prep: Prepared) -> dict[str, Any]:
    """What must match for an interrupted sweep to resume: the resolved scenario's
    hash, the design (parameters and every point), replications, seed and versions."""
    from simulator.report.rundir import package_versions, scenario_hash
    from simulator.version import __version__

    return {
        "scenario_hash": scenario_hash(prep.scenario),
        "design": prep.design.to_dict(),
        "reps": prep.reps,
        "seed": prep.seed,
        "versions": {"relsim": __version__, **package_versions()},
    }


def _plain(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def _canonical(record: dict[str, Any]) -> dict[str, Any]:
    """The record as it reads back from disk (JSON, sorted keys, NaN as null), so a
    resumed sweep and an uninterrupted one build the same table."""
    return json.loads(json.dumps(record, sort_keys=True, allow_nan=False))


def _frame(d: Design, records: Mapping[int, Mapping[str, Any]]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for i in range(d.n):
        for entity, kpis in records[i]["kpis"].items():
            for kpi, st in kpis.items():
                if kpi.endswith("_date"):  # first_shortage_date, recovery_date: ISO dates of
                    continue  # the days_to_* KPIs, which the table carries as numbers
                rows.append(
                    {
                        "point": i,
                        "entity": entity,
                        "kpi": kpi,
                        **{k: (math.nan if st.get(k) is None else st[k]) for k in STATS},
                    }
                )
    long = pd.DataFrame(rows, columns=["point", "entity", "kpi", *STATS])
    long["n"] = long["n"].astype("int64")
    for k in STATS[:-1]:
        long[k] = long[k].astype(float)
    out = d.frame().merge(long, on="point", how="right", validate="one_to_many")
    out.attrs["parameters"] = d.names
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- a model
def evaluate_design(
    design: Design,
    model: Callable[[dict[str, Any]], Mapping[str, float]],
    entity: str = "model",
) -> SweepResult:
    """Evaluate a plain function at every point of a design, into the same table a
    sweep makes (one row per point and output; ``n`` = 1, no intervals): the analyses
    and figures of :class:`SweepResult` then apply to it (e.g. Sobol indices of a test
    function with known indices).

    Args:
        design: The design.
        model: ``{path: value}`` -> ``{output name: value}``.
        entity: Entity name of the outputs.

    Returns:
        A :class:`SweepResult` without a scenario (``reps`` 1).
    """
    t0 = time.perf_counter()
    records: dict[int, dict[str, Any]] = {}
    for i in range(design.n):
        outputs = model(design.values(i))
        records[i] = {
            "kpis": {
                entity: {
                    str(k): {"mean": float(v), "ci_low": None, "ci_high": None, "se": None, "n": 1}
                    for k, v in outputs.items()
                }
            }
        }
    return SweepResult(
        None, design, _frame(design, records), 1, design.seed, time.perf_counter() - t0
    )
