"""Calibration: the free parameters of a targets file fitted to its targets.

A targets file (:mod:`simulator.explore.targets`, the format ``relsim calibrate
--targets`` reads) lists observed facts with tolerances and, under ``parameters:``, the
scenario values a fit may move with their ranges. :func:`fit` searches those ranges
with Optuna's TPE sampler (seeded: the same inputs give the same fit) for the values
whose simulated medians come closest to the observations.

The objective (:func:`discrepancy`) is a sum of squares of standardised errors,
``Σ_k z_k²`` over targets, with

``z_k = (median_k − observed_k) / √(scale_k² + se_k²)``

* ``median_k``: median over the trial's replications (what ``relsim calibrate`` judges);
* ``scale_k``: the target's tolerance read as one standard deviation (``relative`` ×
  \\|observed\\|, ``absolute``; for a ``range``, the distance to the nearer end over half
  the range's width, 0 inside);
* ``se_k``: the Monte Carlo standard error of that median (``√(π/2) · sd / √n``), so a
  target the replications pin down loosely weighs less (noise-aware);
* a target undefined in every replication counts as :data:`Z_UNDEFINED` tolerances off.

Every trial runs the same replications (one seed: common random numbers), so two trials
differ only through their parameters, not through luck, and the loss is a deterministic
function of the parameters: :data:`SEARCH_SHARE` of the trials search the whole box
(Optuna's TPE, starting from the scenario's own values), the rest polish the best point
found with a bounded Nelder–Mead simplex (SciPy). The best trial is then run
again on fresh replications (seed + 1): its calibration table and loss are honest, not
picked out of the search's noise. Uncertainty: the trials whose loss is within
``χ²(0.95; d)`` of the best (``d`` free parameters; with tolerances read as standard
deviations, an approximate 95 % profile region) give each parameter's *near-best range*
— the lowest and highest value among them.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.ensemble.options import Execution, ProgressFn
from simulator.errors import Problem, ScenarioError
from simulator.explore.params import Param, from_fit_parameter, point_overrides, resolve
from simulator.limits import Limits
from simulator.replication.engines import DEFAULT_ENGINE
from simulator.stats import chi2_quantile, median, median_se

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.targets import Target, Targets
    from simulator.scenario.located import Located
    from simulator.scenario.model import Scenario

__all__ = ["Z_UNDEFINED", "FitResult", "discrepancy", "fit", "fitted_document", "free_parameters"]

Z_UNDEFINED = 10.0
"""Standardised error of a target undefined in every replication of a trial."""
FIT_KEY = 0x0F17
"""Second entropy word of the optimiser's seed (keeps it apart from replications)."""
SEARCH_SHARE = 0.6
"""Share of the trials spent on the global search (TPE); the rest polish its best point
locally (Nelder–Mead)."""
POLISH_STEP = 0.1
"""First step of the local polish, as a share of each parameter's range."""


# ----------------------------------------------------------------------------- objective
@dataclass(frozen=True)
class _Scale:
    observed: float
    scale: float
    low: float | None = None
    high: float | None = None


def _scales(targets: Sequence[Target], where: Callable[[int], str]) -> list[_Scale]:
    out, problems = [], []
    for k, t in enumerate(targets):
        tol = t.tolerance
        if tol.range is not None:
            lo, hi = tol.range
            if hi <= lo:
                problems.append(
                    Problem(
                        f"target {t.id}: a range tolerance of zero width cannot weigh a fit; "
                        "give low < high, or a relative or absolute tolerance",
                        "",
                        where(k),
                        value=list(tol.range),
                    )
                )
                continue
            out.append(_Scale(t.observed, (hi - lo) / 2, lo, hi))
        elif tol.relative is not None:
            if t.observed == 0:
                problems.append(
                    Problem(
                        f"target {t.id}: a relative tolerance of an observed 0 is 0; give an "
                        "absolute tolerance",
                        "",
                        where(k),
                    )
                )
                continue
            out.append(_Scale(t.observed, tol.relative * abs(t.observed)))
        else:
            out.append(_Scale(t.observed, float(tol.absolute or 0.0)))
    if problems:
        raise ScenarioError(problems)
    return out


def discrepancy(values: np.ndarray, scales: Sequence[_Scale]) -> tuple[float, np.ndarray]:
    """The fit's loss of one trial.

    Args:
        values: Target values, replications × targets (NaN where undefined).
        scales: Per target: observed value and tolerance scale.

    Returns:
        ``(loss, z)``: the sum of squared standardised errors and each target's ``z``.
    """
    z = np.empty(len(scales))
    for k, s in enumerate(scales):
        v = values[:, k]
        v = v[np.isfinite(v)]
        if v.size == 0:
            z[k] = Z_UNDEFINED
            continue
        med = median(v)
        se = median_se(v)
        denom = math.sqrt(s.scale**2 + se**2)
        if s.low is not None and s.high is not None:
            err = max(s.low - med, 0.0, med - s.high)
        else:
            err = med - s.observed
        z[k] = err / denom if denom > 0 else (0.0 if err == 0 else Z_UNDEFINED)
    return float(np.sum(z**2)), z


# ----------------------------------------------------------------------------- result
@dataclass
class FitResult:
    """A finished fit.

    Attributes:
        scenario: The base scenario (after ``extends:`` and ``--set``).
        fitted: The base scenario with the best values.
        params: The free parameters.
        best: Best value per parameter path.
        best_loss: The best trial's loss (search replications).
        confirm_loss: Its loss on fresh replications (seed + 1).
        ranges: Per parameter: ``best``, ``near_low``, ``near_high`` (near-best range),
            ``start``, ``low``, ``high`` (search bounds), ``at_bound``.
        trials: One row per trial: ``trial``, the parameters, ``loss``, ``near_best``.
        table: The calibration table at the best values, fresh replications (rows as
            :func:`simulator.explore.targets.evaluate`); only its ``fit``/``train``
            targets were fitted (``phase``).
        start_table: The same table at the start values, fresh replications.
        reps: Replications per trial.
        seed: Seed of the search (the confirmation uses seed + 1).
        threshold: Loss above the best that still counts as near-best.
        elapsed_s: Wall time, seconds.
        overrides: What the fitted file sets (``--set`` options and the fitted values).
        train_until: The targets file's split day (ISO), if it has one.
        out: Directory of the fit's record, if written.
        fitted_file: The fitted scenario file, if written.
    """

    scenario: Scenario
    fitted: Scenario
    params: list[Param]
    best: dict[str, Any]
    best_loss: float
    confirm_loss: float
    ranges: pd.DataFrame
    trials: pd.DataFrame
    table: list[dict[str, Any]]
    start_table: list[dict[str, Any]]
    reps: int
    seed: int
    threshold: float
    elapsed_s: float = 0.0
    overrides: dict[str, Any] = field(default_factory=dict, repr=False)
    train_until: str | None = None
    out: Path | None = None
    fitted_file: Path | None = None

    def __repr__(self) -> str:
        return (
            f"FitResult(best={self.best}, loss={self.best_loss:.3g}, "
            f"confirmed={self.confirm_loss:.3g}, trials={len(self.trials)}, reps={self.reps})"
        )


# ----------------------------------------------------------------------------- fitting
def fit(
    scenario: str | Path,
    targets: str | Path,
    *,
    trials: int = 60,
    reps: int = 20,
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    scheduler: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    allow: Sequence[str | Path] = (),
    out: str | Path | None = None,
    fitted: str | Path | None = None,
    force: bool = False,
    progress: ProgressFn | bool | None = None,
    engine: str = DEFAULT_ENGINE,
) -> FitResult:
    """Fit a targets file's free parameters to its targets.

    Args:
        scenario: The scenario file.
        targets: The targets file, with a ``parameters:`` block.
        trials: Parameter points tried (the first is the scenario's own values).
        reps: Replications per trial (the same ones for every trial).
        seed: Root seed (default: the scenario's).
        workers: Worker processes (default: every core; 1: serial).
        executor: As for :func:`simulator.run_ensemble` (``"dask"``: one LocalCluster for
            the whole fit).
        scheduler: Dask scheduler address.
        overrides: ``--set``-style overrides of the scenario file (kept in the fitted
            file).
        allow: Folders besides the scenario's own that ``extends:`` may read from.
        out: Output directory of the fit's record: ``manifest.json`` (best values,
            near-best ranges, losses), ``trials.csv``, ``calibration.csv``.
        fitted: The fitted scenario file, which ``extends:`` the scenario file (default,
            with ``out``: ``<stem>-fitted.yaml`` beside it, where ``extends:`` may read
            it without ``--allow-path``). Each output is written whole or not at all,
            the fitted file only once it loads back to the fitted scenario.
        force: Replace an existing ``out`` (a relsim output) and ``fitted``.
        progress: Callback ``(trials done, trials)``, True for a tqdm bar, or None.
        engine: One of :data:`~simulator.replication.engines.ENGINES` (default: the
            compiled kernel, :data:`~simulator.replication.engines.DEFAULT_ENGINE`);
            identical results.

    Returns:
        The :class:`FitResult`.

    Raises:
        ScenarioError: Bad scenario, targets or parameters (located).
        OutputRefused: ``out`` or ``fitted`` exists (without ``force``) or may not be
            replaced (checked before anything runs).
        ReplicationError: A replication failed.
    """
    from simulator.explore.targets import (
        check_against,
        evaluate,
        load_targets_located,
        observe_ensemble,
        phase,
    )
    from simulator.report.atomic import (
        OutputExists,
        check_dir_target,
        check_file_target,
        check_not_input,
    )
    from simulator.scenario.load import load_scenario_located

    execution = Execution(
        engine=engine,
        seed=seed,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        progress=progress,
    )
    t0 = time.perf_counter()
    if not 1 <= trials <= Limits.MAX_FIT_TRIALS:
        raise ScenarioError(
            Problem(f"trials must be from 1 to {Limits.MAX_FIT_TRIALS:,}", "", "--trials")
        )
    if not 2 <= reps <= Limits.MAX_REPS or trials * reps > Limits.MAX_SWEEP_RUNS:
        raise ScenarioError(
            Problem(
                f"reps must be from 2 to {Limits.MAX_REPS:,}, and trials × reps at most "
                f"{Limits.MAX_SWEEP_RUNS:,} (Limits.MAX_SWEEP_RUNS)",
                "",
                "--reps",
            )
        )
    out_path = Path(out) if out is not None else None
    fitted_path = Path(fitted) if fitted is not None else None
    if fitted_path is None and out_path is not None:
        fitted_path = Path(scenario).with_name(f"{Path(scenario).stem}-fitted.yaml")
    if out_path is not None:
        check_dir_target(out_path, force)  # before the work; the commit checks again
    if fitted_path is not None:
        check_file_target(fitted_path)
        if fitted_path.exists() and not force:
            raise OutputExists(
                f"{fitted_path} already exists; use --force to replace it, or --fitted FILE"
            )
    sc, loc = load_scenario_located(scenario, overrides, allow=allow)
    tg, tloc = load_targets_located(targets)
    check_against(tg, tloc, sc)  # months, windows, destinations: before anything runs
    tfile = str(targets)
    # the fitted file extends the scenario: never in place of it, a file it extends or
    # the targets file (--force replaces outputs only)
    for target in (fitted_path, out_path):
        if target is not None:
            check_not_input(target, [*loc.files, targets])
    params = free_parameters(sc, loc, tg, tloc, tfile, "fit")
    tlist = list(tg.targets)
    fitted_idx = [k for k, t in enumerate(tlist) if phase(t, tg.split) in ("fit", "train")]
    if not fitted_idx:
        raise ScenarioError(
            Problem(
                "no target to fit: every target is a setting or public after split.train_until",
                "",
                tfile,
            )
        )
    scales = _scales(tlist, lambda k: _position(tloc, ("targets", k, "tolerance"), tfile))
    fit_scales = [scales[k] for k in fitted_idx]
    s = sc.seed if execution.seed is None else int(execution.seed)
    start = np.array([p.base() for p in params])

    from simulator.ensemble.runner import progress_callback
    from simulator.explore.cluster import shared_executor

    rows: list[dict[str, Any]] = []
    seen: dict[tuple[float, ...], float] = {}
    n_search = trials if trials < 2 * (len(params) + 1) else math.ceil(SEARCH_SHARE * trials)
    cb = progress_callback(execution.progress, unit="trial", desc="trials")
    with contextlib.ExitStack() as stack:
        if hasattr(cb, "close"):
            stack.callback(cb.close)  # type: ignore[union-attr]
        shared = stack.enter_context(shared_executor(execution))

        def observe(coords: np.ndarray, at_seed: int) -> np.ndarray:
            sc_x = _scenario_at(loc, params, coords)
            each = replace(shared, seed=at_seed, progress=False)
            return observe_ensemble(sc_x, tlist, reps, each)

        def loss_at(coords: np.ndarray, stage: str) -> float:
            key = tuple(float(v) for v in coords)
            if key in seen:  # common random numbers: the same point gives the same loss
                return seen[key]
            loss, _ = discrepancy(observe(coords, s)[:, fitted_idx], fit_scales)
            seen[key] = loss
            values = {p.path: p.value(v) for p, v in zip(params, coords, strict=True)}
            rows.append({"trial": len(rows), "stage": stage, **values, "loss": loss})
            if cb is not None:
                cb(len(rows), trials)
            return loss

        study, dists = _study(params, start, s)
        for _ in range(n_search):
            trial = study.ask(dists)
            x = np.array([_coord_of(p, trial.params[p.path]) for p in params])
            study.tell(trial, loss_at(x, "search"))
        _polish(params, rows, trials - len(rows), loss_at)
        frame = pd.DataFrame(rows)
        best_i = int(frame["loss"].idxmin())
        best_x = np.array([_round(p, _coord_of(p, frame.loc[best_i, p.path])) for p in params])
        confirm = observe(best_x, s + 1)
        start_values = observe(start, s + 1)
    confirm_loss, _ = discrepancy(confirm[:, fitted_idx], fit_scales)
    threshold = chi2_quantile(0.95, len(params))
    best_loss = float(frame.loc[best_i, "loss"])
    frame["near_best"] = frame["loss"] <= best_loss + threshold
    near = frame[frame["near_best"]]
    ranges = pd.DataFrame(
        [
            {
                "parameter": p.path,
                "best": p.value(best_x[j]),
                "near_low": p.value(float(near[p.path].map(lambda v, p=p: _coord_of(p, v)).min())),
                "near_high": p.value(float(near[p.path].map(lambda v, p=p: _coord_of(p, v)).max())),
                "start": p.value(start[j]),
                "low": p.value(p.low),
                "high": p.value(p.high),
                "at_bound": bool(best_x[j] <= p.low or best_x[j] >= p.high),
                "n_near": len(near),
            }
            for j, p in enumerate(params)
        ]
    )
    fit_overrides = point_overrides(params, best_x)
    fitted = _scenario_at(loc, params, best_x)
    result = FitResult(
        sc,
        fitted,
        params,
        {p.path: p.value(best_x[j]) for j, p in enumerate(params)},
        best_loss,
        confirm_loss,
        ranges,
        frame,
        evaluate(tlist, confirm, tg.split),
        evaluate(tlist, start_values, tg.split),
        reps,
        s,
        threshold,
        time.perf_counter() - t0,
        {**dict(overrides or {}), **fit_overrides},
        tg.split.train_until.isoformat() if tg.split else None,
        out_path,
        fitted_path,
    )
    if out_path is not None or fitted_path is not None:
        _write_outputs(result, Path(scenario), loc, tfile, allow, force)
    result.elapsed_s = time.perf_counter() - t0
    return result


def free_parameters(
    scenario: Scenario,
    loc: Located,
    targets: Targets,
    tloc: Located,
    targets_file: str | Path,
    command: str,
) -> list[Param]:
    """The free parameters of a targets file's ``parameters:`` block, as ``relsim fit``,
    ``relsim forecast`` and ``relsim backtest`` read them: resolved against the scenario,
    each located (``file:line:column: parameters[j]``), and the scenario built at the
    start values and at each parameter's bounds (the others at their start) so that a
    range that makes an invalid scenario fails now, not after the first simulations.

    Args:
        scenario: The scenario (after ``extends:`` and ``--set``).
        loc: Its located data (what the parameters are applied to).
        targets: The targets file read (:func:`simulator.explore.targets.load_targets_located`).
        tloc: The targets file's located data (positions for the messages).
        targets_file: The targets file, named where a position is unknown.
        command: The command named in the message when there are no parameters
            (``fit``, ``forecast``).

    Returns:
        The parameters in the file's order.

    Raises:
        ScenarioError: No ``parameters:`` block; a bad parameter (located); a bound at
            which the scenario is invalid.
    """
    tfile = str(targets_file)
    if not targets.parameters:
        raise ScenarioError(
            Problem(
                "no free parameters: add a `parameters:` block (path, low, high per "
                f"parameter) for relsim {command}",
                "",
                tfile,
            )
        )
    params = resolve(
        [
            from_fit_parameter(p, f"{_position(tloc, ('parameters', j), tfile)}: parameters[{j}]")
            for j, p in enumerate(targets.parameters)
        ],
        scenario,
    )
    start = np.array([p.base() for p in params])
    for row in _probe_points(params, start):
        _scenario_at(loc, params, row)
    return params


def _position(tloc: Located, path: tuple[Any, ...], tfile: str) -> str:
    """``file:line:column`` of ``path`` in the targets file, or ``tfile``."""
    pos = tloc.position(path)
    return f"{pos[0]}:{pos[1]}:{pos[2]}" if pos and pos[1] > 0 else tfile


def _polish(
    params: Sequence[Param],
    rows: list[dict[str, Any]],
    budget: int,
    loss_at: Callable[[np.ndarray, str], float],
) -> None:
    """Refine the best point so far with Nelder–Mead in unit coordinates (each range
    scaled to [0, 1], in log for log-scale parameters), at most ``budget`` new trials.

    With common random numbers the loss is a deterministic function of the parameters,
    so a local simplex search can finish what the global search found.
    """
    from scipy.optimize import minimize

    d = len(params)
    if budget < d + 1 or not rows:
        return
    best = min(rows, key=lambda r: r["loss"])
    x0 = np.array([_unit(p, _coord_of(p, best[p.path])) for p in params])
    simplex = [x0]
    for j in range(d):
        step = np.zeros(d)
        step[j] = POLISH_STEP if x0[j] + POLISH_STEP <= 1 else -POLISH_STEP
        simplex.append(np.clip(x0 + step, 0, 1))
    limit = len(rows) + budget

    def f(u: np.ndarray) -> float:
        if len(rows) >= limit:  # the budget counts new trials; cached points are free
            raise _Budget
        return loss_at(
            np.array([_from_unit(p, v) for p, v in zip(params, u, strict=True)]), "polish"
        )

    with contextlib.suppress(_Budget):
        minimize(
            f,
            x0,
            method="Nelder-Mead",
            bounds=[(0.0, 1.0)] * d,
            options={
                "initial_simplex": np.array(simplex),
                "maxfev": 4 * budget,
                "xatol": 1e-4,
                "fatol": 0.0,
            },
        )


class _Budget(Exception):
    """The local polish has spent its trials."""


def _unit(p: Param, x: float) -> float:
    if p.shape == "loguniform":
        return (math.log(x) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    return (x - p.low) / (p.high - p.low)


def _from_unit(p: Param, u: float) -> float:
    u = min(max(float(u), 0.0), 1.0)
    if p.shape == "loguniform":
        return float(p.snap(math.exp(math.log(p.low) + u * (math.log(p.high) - math.log(p.low)))))
    return float(p.snap(p.low + u * (p.high - p.low)))


def _round(p: Param, x: float) -> float:
    """A fitted value rounded to a thousandth of its range (or finer: a power of ten),
    so that the fitted file reads as what it is: no 16-digit false precision."""
    if p.kind != "float":
        return x
    digits = -math.floor(math.log10((p.high - p.low) / 1000))
    return float(min(max(round(x, digits), p.low), p.high))


def _coord_of(p: Param, v: Any) -> float:
    return float(v.toordinal()) if hasattr(v, "toordinal") else float(v)


def _probe_points(params: Sequence[Param], start: np.ndarray) -> list[np.ndarray]:
    """The start, and each parameter alone at either bound (others at start)."""
    rows = [start]
    for j, p in enumerate(params):
        for b in (p.low, p.high):
            r = start.copy()
            r[j] = float(p.snap(b))
            rows.append(r)
    return rows


def _scenario_at(loc: Located, params: Sequence[Param], coords: np.ndarray) -> Scenario:
    from simulator.scenario.compose import apply_overrides
    from simulator.scenario.diff import format_value
    from simulator.scenario.model import Scenario
    from simulator.scenario.translate import validate

    ov = point_overrides(params, coords)
    label = ", ".join(f"{k}={format_value(v, 40)}" for k, v in ov.items())
    try:
        data = apply_overrides(loc, ov, origin="fit:", share=True)
        if isinstance(data.data.get("name"), str):
            data.data["name"] = f"{data.data['name']} [{label}]"
        return validate(data, Scenario)
    except ScenarioError as e:
        where = sorted({p.origin for p in params if p.origin})
        head = Problem(
            f"the fit's parameters at ({label}) make an invalid scenario (they are declared "
            f"at {'; '.join(where)}):",
            "",
            where[0] if where else None,
        )
        raise ScenarioError([head, *e.problems]) from None


def _study(params: Sequence[Param], start: np.ndarray, seed: int) -> tuple[Any, dict[str, Any]]:
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists: dict[str, Any] = {}
    for p in params:
        log = p.shape == "loguniform"
        if p.kind in ("int", "date"):
            dists[p.path] = IntDistribution(math.ceil(p.low), math.floor(p.high), log=log)
        else:
            dists[p.path] = FloatDistribution(p.low, p.high, log=log)
    sampler_seed = int(np.random.SeedSequence([seed, FIT_KEY]).generate_state(1)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-feature notices of the sampler options
        sampler = optuna.samplers.TPESampler(
            seed=sampler_seed,
            multivariate=True,
            n_startup_trials=max(5, min(20, 2 * len(params) + 3)),
        )
        study = optuna.create_study(direction="minimize", sampler=sampler)
        study.enqueue_trial(
            {
                p.path: (round(float(x)) if p.kind in ("int", "date") else float(x))
                for p, x in zip(params, start, strict=True)
            }
        )
    return study, dists


# ----------------------------------------------------------------------------- output
def fitted_document(
    loc: Located, overrides: Mapping[str, Any], base_file: Path, out_dir: Path, name: str
) -> dict[str, Any]:
    """The fitted scenario as a file that ``extends:`` the original: only the fitted (and
    ``--set``) values, written so that ``extends:`` merges them back in place.

    Mappings carry just the changed keys; lists of items with an ``id`` (or a regime's
    ``name``) carry just the changed items, named; other lists (rules, overlays) are
    replaced whole by ``extends:``, so they are written whole, with the changes.

    Args:
        loc: The original's located data (after ``extends:``; without the overrides).
        overrides: ``{path: value}``: ``--set`` options and the fitted values.
        base_file: The original scenario file.
        out_dir: Directory the fitted file will live in (``extends:`` is relative to it).
        name: The fitted scenario's name.

    Returns:
        Plain data for :func:`simulator.scenario.dump.to_yaml`.
    """
    import copy

    from simulator.scenario.compose import apply_overrides, override_tokens

    new = apply_overrides(loc, overrides, origin="fit:").data
    rel = os.path.relpath(os.path.abspath(base_file), os.path.abspath(out_dir))
    doc: dict[str, Any] = {"extends": Path(rel).as_posix(), "name": name}
    for path in overrides:
        tokens = override_tokens(path, path)
        child: Any = doc
        node: Any = new
        for i, tok in enumerate(tokens):
            last = i == len(tokens) - 1
            if isinstance(node, dict):
                value = node[tok]
                if last or (isinstance(value, list) and not _keyed(value)):
                    child[tok] = copy.deepcopy(value)
                    break
                if isinstance(value, list):
                    child = child.setdefault(tok, [])
                else:
                    child = child.setdefault(tok, {})
                node = value
            else:  # a list of named items (unnamed lists were copied whole above)
                item = _select(node, tok)
                key = "id" if "id" in item else "name"
                mine = next((c for c in child if c.get(key) == item[key]), None)
                if mine is None:
                    mine = {key: item[key]}
                    child.append(mine)
                if last:
                    child[child.index(mine)] = copy.deepcopy(item)
                    break
                child, node = mine, item
    return doc


def _keyed(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(x, dict) and ("id" in x or "name" in x) for x in items)


def _select(items: list[Any], tok: str) -> dict[str, Any]:
    if tok.lstrip("-").isdigit():
        return items[int(tok)]
    return next(e for e in items if str(e.get("id", e.get("name"))) == tok)


def _write_outputs(
    res: FitResult,
    base_file: Path,
    loc: Located,
    targets_file: str,
    allow: Sequence[str | Path],
    force: bool,
) -> None:
    """Write the fitted file (checked: it must load back, through ``extends:``, to the
    fitted scenario) and the fit's record directory."""
    import json

    from simulator.report.atomic import atomic_dir, atomic_file, write_json
    from simulator.report.rundir import write_csv
    from simulator.scenario.compose import load_located
    from simulator.scenario.diff import diff
    from simulator.scenario.dump import to_yaml
    from simulator.scenario.load import load_scenario
    from simulator.version import __version__

    within = res.ranges.itertuples()
    record = _jsonable(
        {
            "tool": "relsim",
            "version": __version__,
            "command": "fit",
            "scenario": res.scenario.name,
            "scenario_files": loc.files,
            "targets": targets_file,
            "fitted_file": str(res.fitted_file) if res.fitted_file else None,
            "trials": len(res.trials),
            "reps": res.reps,
            "seed": res.seed,
            "confirm_seed": res.seed + 1,
            "best": res.best,
            "best_loss": res.best_loss,
            "confirm_loss": res.confirm_loss,
            "near_best_threshold": res.threshold,
            "ranges": res.ranges.to_dict(orient="records"),
            "within_tolerance": int(sum(r["ok"] for r in res.table)),
            "targets_count": len(res.table),
            "elapsed_s": round(res.elapsed_s, 3),
        }
    )
    if res.fitted_file is not None:
        target = res.fitted_file
        base_loc = load_located(base_file, allow=allow)  # without --set: they go in the file
        name = f"{base_loc.data.get('name', base_file.stem)}-fitted"
        doc = fitted_document(base_loc, res.overrides, base_file, target.parent, name)
        header = (
            f"# Fitted by relsim fit {__version__} against {targets_file}: {len(res.trials)} "
            f"trials × {res.reps} replications, seed {res.seed}.\n"
            f"# Loss {res.best_loss:.4g} (fresh replications: {res.confirm_loss:.4g}); "
            f"{record['within_tolerance']} of {len(res.table)} targets within tolerance.\n"
            "# Near-best ranges (loss within chi2(0.95, d) of the best):\n"
            + "".join(
                f"#   {r.parameter}: {_short(r.best)} [{_short(r.near_low)} .. "
                f"{_short(r.near_high)}]\n"
                for r in within
            )
        )
        reach = [*allow, os.path.dirname(os.path.abspath(base_file))]
        with atomic_file(target) as tmp:
            tmp.write_text(header + to_yaml(doc), encoding="utf-8")
            check = load_scenario(tmp, allow=reach)  # validated, through extends:
            differences = [d for d in diff(res.fitted, check) if d.path != "name"]
            if differences:
                raise RuntimeError(
                    "the fitted file does not reproduce the fitted scenario: "
                    + "; ".join(d.path for d in differences[:5])
                )
    if res.out is not None:
        with atomic_dir(res.out, force) as tmp:
            write_json(tmp / "manifest.json", json.loads(json.dumps(record, allow_nan=False)))
            write_csv(res.trials, tmp / "trials.csv")
            write_csv(pd.DataFrame(res.table), tmp / "calibration.csv")


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
