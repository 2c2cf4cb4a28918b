"""Forecasts you can check: condition a scenario on the figures public by a date, then
simulate forward.

``relsim forecast SCENARIO --targets FILE --as-of DATE`` (and :func:`forecast`):

1. **Prior** of the targets file's ``parameters:`` (ranges, ``log``, ``integer``,
   ``distribution``; :mod:`simulator.explore.priors`).
2. **Bank**: ``simulations`` prior draws, each simulated once on the summary-only path
   (:class:`~simulator.explore.summaries.CaseSimulator`), on every core by default or on
   Dask, stored chunk by chunk beside the output (``<out>.bank``) so an interrupted run
   resumes where it stopped (:mod:`simulator.explore.bank`). One bank serves every as-of
   date and every origin of a backtest.
3. **Posterior** of the parameters given the targets public on or before ``as_of``
   (:func:`simulator.explore.targets.published_on`; ``used_for: setting`` figures are
   not evidence), with each target's ``noise:`` as observation noise: neural posterior
   estimation (``npe``, the ``sbi`` package) or rejection ABC with regression adjustment
   (``abc``) on the bank (:mod:`simulator.explore.inference`).
4. **Posterior predictive**: one simulation at each of ``draws`` posterior draws — monthly
   exports by destination with bands, monthly shortfall and P(line stop by date) per
   manufacturer, licence waits by month of submission, every target.
5. **Outputs** (:func:`simulator.explore.forecast_io.write_forecast`): the forecast
   directory (posterior samples, predictive tables in the one table schema, figures,
   ``report.html``, ``manifest.json``) and a fitted scenario file that ``extends:`` the
   original with the posterior median.

Seeds: the bank, the inference and the predictive all derive from one seed (the
scenario's unless given), each with its own key: the same seed gives the same forecast
serially, on N processes or on Dask.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.ensemble.options import Execution, ProgressFn
from simulator.errors import Problem, ScenarioError
from simulator.explore.inference import METHODS, Noise, Posterior, predictive, train
from simulator.explore.priors import Prior
from simulator.explore.summaries import CaseSimulator, SummaryLayout

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.bank import Bank
    from simulator.explore.params import Param
    from simulator.explore.targets import Target
    from simulator.scenario.located import Located
    from simulator.scenario.model import Scenario

__all__ = [
    "DEFAULT_DRAWS",
    "DEFAULT_SIMULATIONS",
    "ForecastResult",
    "Setup",
    "forecast",
    "prepare",
]

DEFAULT_SIMULATIONS = 4_000
"""Simulations in a bank unless told otherwise."""
DEFAULT_DRAWS = 400
"""Posterior predictive simulations of a forecast unless told otherwise."""


@dataclass
class Setup:
    """What a forecast or a backtest reads: the scenario, its targets, the free parameters,
    their prior, the summary vector and the simulator.

    Attributes:
        scenario: The scenario (after ``extends:`` and ``--set``).
        loc: Its located data.
        scenario_file: The scenario file.
        targets_file: The targets file.
        targets: Every target, in file order.
        params: The free parameters (resolved against the scenario).
        prior: Their prior.
        layout: The summary vector.
        simulator: The bank's ``simulate``.
        overrides: ``--set`` overrides.
        allow: Folders ``extends:`` may read.
    """

    scenario: Scenario
    loc: Located
    scenario_file: Path
    targets_file: Path
    targets: list[Target]
    params: list[Param]
    prior: Prior
    layout: SummaryLayout
    simulator: CaseSimulator
    overrides: dict[str, Any] = field(default_factory=dict)
    allow: tuple[str | Path, ...] = ()

    def fingerprint(self, engine: str) -> str:
        """What a stored bank must match: the resolved scenario, the summary vector,
        relsim's version, the engine and the model's code (:func:`model_digest`)."""
        from simulator.version import __version__

        text = "|".join(
            [
                self.scenario.model_dump_json(),
                self.layout.digest(),
                __version__,
                engine,
                model_digest(),
            ]
        )
        return "relsim-forecast/" + hashlib.sha256(text.encode()).hexdigest()[:24]

    def evidence(self) -> np.ndarray:
        """Which summaries are targets used as evidence (not ``used_for: setting``)."""
        m = np.zeros(len(self.layout.names), dtype=bool)
        for k, t in enumerate(self.targets):
            m[k] = t.used_for == "target"
        return m

    def public_mask(self, as_of: dt.date) -> np.ndarray:
        """The evidence public on or before ``as_of``."""
        from simulator.explore.targets import published_on

        m = self.evidence()
        for k, t in enumerate(self.targets):
            m[k] &= published_on(t) <= as_of
        return m

    def observed(self) -> np.ndarray:
        """The observed value of every summary (NaN beyond the targets)."""
        x = np.full(len(self.layout.names), np.nan)
        x[: len(self.targets)] = [t.observed for t in self.targets]
        return x

    def noise(self) -> Noise:
        """Each target's ``noise:`` as the inference's observation noise (0 elsewhere)."""
        a = np.zeros(len(self.layout.names))
        r = np.zeros(len(self.layout.names))
        for k, t in enumerate(self.targets):
            if t.noise is not None:
                a[k] = t.noise.absolute or 0.0
                r[k] = t.noise.relative or 0.0
        return Noise(absolute=a, relative=r)


MODEL_CODE = ("simulator.scenario", "simulator.world", "simulator.kernel", "simulator.replication")
"""Packages (stages) whose source decides what a simulation returns (with
``explore/summaries.py``)."""


def model_digest() -> str:
    """A hash of the model's source (:data:`MODEL_CODE` and the summary vector's
    definition): a bank simulated by other code is not reused, even under the same
    version number."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    files = [f for pkg in MODEL_CODE for f in sorted((root / pkg.split(".")[1]).glob("*.py"))]
    for f in [*files, root / "explore" / "summaries.py"]:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def prepare(
    scenario: str | Path,
    targets: str | Path,
    overrides: Mapping[str, Any] | None = None,
    allow: Sequence[str | Path] = (),
) -> Setup:
    """Read a scenario and its targets file for a forecast.

    Raises:
        ScenarioError: Bad scenario, targets or parameters (located), or no parameters.
    """
    from simulator.explore.fit import free_parameters
    from simulator.explore.targets import load_targets_located
    from simulator.scenario.load import load_scenario_located

    sc, loc = load_scenario_located(scenario, overrides, allow=allow)
    tg, tloc = load_targets_located(targets)
    params = free_parameters(sc, loc, tg, tloc, targets, "forecast")
    try:
        prior = Prior.from_params(params)
    except ValueError as e:
        raise ScenarioError(Problem(f"the parameters' prior: {e}", "", str(targets))) from None
    tlist = list(tg.targets)
    layout = SummaryLayout.build(sc, tlist)
    return Setup(
        sc,
        loc,
        Path(scenario),
        Path(targets),
        tlist,
        params,
        prior,
        layout,
        CaseSimulator(loc, params, tlist, layout),
        dict(overrides or {}),
        tuple(allow),
    )


# ----------------------------------------------------------------------------- the bank
def build(
    setup: Setup,
    simulations: int,
    seed: int,
    execution: Execution,
    directory: Path | None,
    progress: ProgressFn | None = None,
) -> Bank:
    """The bank of ``setup``: ``simulations`` prior draws simulated once each, stored in
    ``directory`` (resumed if it holds this bank's chunks).

    Raises:
        BankMismatch: ``directory`` holds another bank; the message says what differs.
    """
    from simulator.explore.bank import build_bank

    with executor_for(execution, simulations) as ex:
        return build_bank(
            setup.prior,
            setup.simulator,
            simulations,
            seed,
            executor=ex,
            directory=directory,
            fingerprint=setup.fingerprint(execution.engine),
            summary_names=setup.layout.names,
            chunk=chunk_for(ex, simulations),
            progress=progress,
        )


# ----------------------------------------------------------------------------- result
@dataclass
class ForecastResult:
    """A finished forecast.

    Attributes:
        setup: Scenario, targets, parameters, prior, summary layout.
        as_of: Only figures public on or before this date were used.
        mask: Which summaries were conditioned on.
        posterior: The parameters' posterior.
        theta: The predictive's parameter draws (draws × parameters).
        x: Their simulated summaries (draws × summaries).
        median: Posterior median per parameter path (the fitted file's values).
        method: ``npe`` or ``abc``.
        seed: Root seed.
        simulations: Simulations in the bank.
        timings: Wall seconds per step (``bank``, ``inference``, ``predictive``, ``total``).
        bank_dir: Where the bank is stored.
        out: The forecast directory, if written.
        fitted_file: The fitted scenario file, if written.
    """

    setup: Setup
    as_of: dt.date
    mask: np.ndarray
    posterior: Posterior
    theta: np.ndarray
    x: np.ndarray
    median: dict[str, Any]
    method: str
    seed: int
    simulations: int
    timings: dict[str, float]
    bank_dir: Path | None = None
    out: Path | None = None
    fitted_file: Path | None = None

    def __repr__(self) -> str:
        return (
            f"ForecastResult(as_of={self.as_of}, method={self.method!r}, "
            f"conditioned on {int(self.mask.sum())} figures, median={self.median})"
        )

    def parameters(self) -> Any:
        """The posterior per parameter (table ``forecast_parameters``)."""
        from simulator.explore.forecast_io import parameters_frame

        return parameters_frame(self)

    def tables(self) -> dict[str, Any]:
        """Every predictive table, by name (the one table schema)."""
        from simulator.explore.forecast_io import predictive_tables

        return predictive_tables(self)


def median_point(setup: Setup, posterior: Posterior) -> np.ndarray:
    """The posterior median per parameter as a point of the parameters' coordinates
    (integers and dates rounded)."""
    q = np.asarray(posterior.quantile(0.5), dtype=float).ravel()
    return np.array([float(p.snap(v)) for p, v in zip(setup.params, q, strict=True)])


def posterior_for(
    setup: Setup,
    bank: Bank,
    mask: np.ndarray,
    method: str,
    seed: int,
    draws: int = 1000,
) -> Posterior:
    """The posterior given the observed values of the ``mask`` summaries."""
    if not mask.any():
        raise ScenarioError(
            Problem(
                "no target is public by the as-of date (published on or before it and not "
                "used_for: setting): nothing to condition on",
                "",
                str(setup.targets_file),
            )
        )
    est = train(bank, mask, method=method, noise=setup.noise(), seed=seed)
    return est.posterior(setup.observed(), draws=draws, seed=seed)


def forecast(
    scenario: str | Path,
    targets: str | Path,
    as_of: dt.date | str,
    *,
    simulations: int = DEFAULT_SIMULATIONS,
    draws: int = DEFAULT_DRAWS,
    method: str = "npe",
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    scheduler: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    allow: Sequence[str | Path] = (),
    out: str | Path | None = None,
    bank: str | Path | None = None,
    fitted: str | Path | None = None,
    force: bool = False,
    progress: ProgressFn | bool | None = None,
) -> ForecastResult:
    """Forecast a scenario from the figures public by ``as_of`` (see the module).

    Args:
        scenario: The scenario file.
        targets: Its targets file, with a ``parameters:`` block.
        as_of: Only targets published on or before this date are used.
        simulations: Simulations in the bank (prior draws, one replication each).
        draws: Posterior predictive simulations.
        method: ``npe`` (neural posterior estimation; needs the ``forecast`` extra) or
            ``abc`` (rejection ABC with regression adjustment).
        seed: Root seed (default: the scenario's).
        workers: Worker processes (default: every core; 1: serially).
        executor: ``"dask"`` (a LocalCluster), ``"processes"``, ``"serial"``, a
            ``distributed.Client``… as for :func:`simulator.run_ensemble`.
        scheduler: Dask scheduler address.
        overrides: ``--set``-style overrides of the scenario.
        allow: Folders ``extends:`` may read besides the scenario's.
        out: The forecast directory (written whole or not at all).
        bank: Where the bank is stored (default with ``out``:
            ``<scenario stem>-<targets stem>.bank`` beside it, shared with backtests of
            the same files; without ``out``: in memory).
        fitted: The fitted scenario file (default with ``out``: ``<stem>-forecast.yaml``
            beside the scenario).
        force: Replace an existing forecast directory (a relsim output) and fitted file.
        progress: ``(done, total)`` callback of the bank's and predictive's simulations,
            True for a bar, or None.

    Returns:
        The :class:`ForecastResult`.

    Raises:
        ScenarioError: Bad inputs (located), or nothing public by ``as_of``.
        OutputRefused: ``out`` or ``fitted`` exists (without ``force``) or may not be
            replaced (checked before anything runs).
        BankMismatch: The bank directory holds another bank.
    """
    from simulator.explore.forecast_io import check_fitted_place, check_outputs, write_forecast

    t0 = time.perf_counter()
    when = _date(as_of, "--as-of")
    if method not in METHODS:
        raise ScenarioError(Problem(f"method must be one of {', '.join(METHODS)}", "", "--method"))
    out_path, bank_dir, fitted_path = check_outputs(
        scenario, targets, out, bank, fitted, force, "forecast"
    )
    setup = prepare(scenario, targets, overrides, allow)
    if fitted_path is not None:
        check_fitted_place(setup, fitted_path)
    execution = Execution(seed=seed, workers=workers, executor=executor, scheduler=scheduler)
    s = int(setup.scenario.seed if seed is None else seed)
    cb = _progress(progress)
    timings: dict[str, float] = {}
    with on_bank(bank_dir, cb):
        t = time.perf_counter()
        from simulator.explore.cluster import shared_executor

        with shared_executor(execution) as shared:
            bk = build(setup, simulations, s, shared, bank_dir, cb)
            timings["bank"] = time.perf_counter() - t
            t = time.perf_counter()
            mask = setup.public_mask(when)
            post = posterior_for(setup, bk, mask, method, s)
            timings["inference"] = time.perf_counter() - t
            t = time.perf_counter()
            theta, x = predictive_draws(setup, post, s, draws, shared)
            timings["predictive"] = time.perf_counter() - t
    point = median_point(setup, post)
    res = ForecastResult(
        setup,
        when,
        mask,
        post,
        theta,
        x,
        {p.path: p.value(v) for p, v in zip(setup.params, point, strict=True)},
        method,
        s,
        simulations,
        timings,
        bank_dir,
        out_path,
        fitted_path,
    )
    if out_path is not None or fitted_path is not None:
        write_forecast(res, point, force)
    res.timings["total"] = time.perf_counter() - t0
    return res


@contextlib.contextmanager
def on_bank(bank_dir: Path | None, progress: Any) -> Iterator[None]:
    """The work of a forecast or a backtest on its bank (the ``with`` block).

    Args:
        bank_dir: Where the bank is stored (named in the message), or None.
        progress: The progress callback of the work, closed however it ends (if it can be).

    Raises:
        ScenarioError: The bank directory holds another bank
            (:class:`~simulator.explore.bank.BankMismatch`): what differs, and what to do.
    """
    from simulator.explore.bank import BankMismatch

    try:
        yield
    except BankMismatch as e:
        raise ScenarioError(
            Problem(
                f"{e}; give another --bank directory, or remove that one to start afresh",
                "",
                str(bank_dir),
            )
        ) from None
    finally:
        if hasattr(progress, "close"):
            progress.close()


def predictive_draws(
    setup: Setup, posterior: Posterior, seed: int, draws: int, execution: Execution
) -> tuple[np.ndarray, np.ndarray]:
    """The posterior predictive: one simulation at each of ``draws`` posterior draws, in
    chunks (:func:`chunk_for`) on the executor of ``execution``.

    Returns:
        The parameter draws (draws × parameters) and their simulated summaries (draws ×
        summaries).
    """
    with executor_for(execution, draws) as ex:
        return predictive(
            posterior,
            setup.simulator,
            seed=seed,
            draws=draws,
            executor=ex,
            chunk=chunk_for(ex, draws),
        )


def chunk_for(executor: Any, n: int) -> int:
    """Simulations per task: about four tasks per worker, 4 to 128 simulations each."""
    workers = int(getattr(executor, "workers", 1) or 1)
    return max(4, min(128, math.ceil(n / (4 * workers))))


@contextlib.contextmanager
def executor_for(execution: Execution, n: int) -> Iterator[Any]:
    """The chunk executor of ``execution`` for ``n`` simulations (every core by default),
    closed on exit."""
    ex = execution.chunk_executor(reps=n)
    try:
        yield ex
    finally:
        ex.close()


def _date(value: dt.date | str, option: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(Problem("not a date such as 2025-07-31", "", option)) from None


def _progress(progress: ProgressFn | bool | None) -> Any:
    if progress is None or progress is False:
        return None
    if progress is True:
        from simulator.ensemble.runner import progress_callback

        return progress_callback(True, unit="sim", desc="simulations")
    return progress


def month_end(month: str) -> dt.date:
    """The last day of ``YYYY-MM``."""
    y, m = (int(v) for v in month.split("-"))
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def add_months(month: str, k: int) -> str:
    """``YYYY-MM`` plus ``k`` months."""
    y, m = (int(v) for v in month.split("-"))
    y2, m2 = divmod(y * 12 + m - 1 + k, 12)
    return f"{y2:04d}-{m2 + 1:02d}"


def is_finite(v: Any) -> bool:
    """Whether ``v`` is a finite number."""
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
