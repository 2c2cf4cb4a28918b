"""Backtests: how good the forecasts have been, scored against what happened next.

``relsim backtest SCENARIO --targets FILE --origins 2025-05:2025-11 --horizon 3`` (and
:func:`backtest`): for each origin month ``T``, the forecast made at the end of ``T``
(conditioned on the targets public by then: :meth:`Setup.public_mask`) predicts the
monthly export series of the targets file for months ``T+1 … T+horizon``; each
prediction is scored against the observed value (:mod:`simulator.explore.scoring`:
coverage of the central 50 % and 90 % intervals, fair CRPS, PIT), beside the naive
baselines on the same cells: *last value* (:func:`~simulator.explore.scoring.persistence`)
and *same month a year earlier scaled by the year's trend*
(:func:`~simulator.explore.scoring.seasonal`), both fed the same public history (the
targets file's figures and the scenario's ``observed_exports`` file, each public on the
20th of the following month).

A **series** is a monthly export figure of the targets file: ``exports`` (all
destinations) or ``exports <country>`` (one destination). One bank serves every origin
(only the mask of public figures differs); each origin trains its own posterior and
simulates its own predictive.

With ``sbc > 0`` the backtest also checks the inference itself: simulation-based
calibration (:func:`simulator.explore.sbc.run_sbc`) on the last ``sbc`` simulations of
the bank as synthetic data sets, conditioned on the figures public at the last origin.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.ensemble.options import Execution, ProgressFn
from simulator.errors import Problem, ScenarioError
from simulator.explore.forecast import (
    DEFAULT_SIMULATIONS,
    Setup,
    _progress,
    add_months,
    build,
    month_end,
    on_bank,
    posterior_for,
    predictive_draws,
    prepare,
)
from simulator.explore.inference import METHODS
from simulator.explore.scoring import aggregate, persistence, pit_histogram, score_table, seasonal
from simulator.replication.columns import conform

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.sbc import SBCResult

__all__ = ["BacktestResult", "backtest", "parse_origins", "series_of"]

DEFAULT_BACKTEST_DRAWS = 200
"""Posterior predictive simulations per origin unless told otherwise."""
FORECASTERS = ("relsim", "persistence", "seasonal")


def parse_origins(text: str) -> list[str]:
    """``2025-05:2025-11`` (inclusive) or ``2025-05,2025-08`` → month labels.

    Raises:
        ScenarioError: Not months, or more than 36 of them.
    """

    def month(s: str) -> str:
        s = s.strip()
        try:
            d = dt.date.fromisoformat(s + "-01")
        except ValueError:
            raise ScenarioError(
                Problem(f"not a month such as 2025-05: {s[:20]!r}", "", "--origins")
            ) from None
        return f"{d.year:04d}-{d.month:02d}"

    if ":" in text:
        a, b = (month(x) for x in text.split(":", 1))
        out = [a]
        while out[-1] < b and len(out) <= 36:
            out.append(add_months(out[-1], 1))
        if out[-1] != b:
            raise ScenarioError(
                Problem("origins: the first month must not be after the last", "", "--origins")
            )
    else:
        out = sorted({month(x) for x in text.split(",") if x.strip()})
    if not 1 <= len(out) <= 36:
        raise ScenarioError(Problem("give 1 to 36 origin months", "", "--origins"))
    return out


def series_of(setup: Setup) -> dict[str, dict[str, int]]:
    """The scored series: name → {month: index of its target in the summary vector}
    (``monthly_exports`` targets of all destinations or of one, used as evidence)."""
    out: dict[str, dict[str, int]] = {}
    for k, t in enumerate(setup.targets):
        if t.kind != "monthly_exports" or t.month is None or t.used_for != "target":
            continue
        if t.destinations is None:
            name = "exports"
        elif len(t.destinations) == 1:
            name = f"exports {t.destinations[0]}"
        else:
            continue
        out.setdefault(name, {})[t.month] = k
    return out


def _history(setup: Setup, series: str, months: dict[str, int], origin: str) -> np.ndarray:
    """The series' monthly values public by the end of ``origin`` (NaN where missing),
    from the first month known to the month before the origin."""
    from simulator.explore.targets import published_on

    cut = month_end(origin)
    values: dict[str, float] = {}
    extra = _observed_file(setup)
    col = "total_t" if series == "exports" else None
    if col is not None and extra is not None:
        for m, v in extra.items():
            if dt.date.fromisoformat(add_months(m, 1) + "-20") <= cut:
                values[m] = v
    for m, k in months.items():
        if published_on(setup.targets[k]) <= cut:
            values[m] = setup.targets[k].observed
    if not values:
        return np.zeros(0)
    first, last = min(values), add_months(origin, -1)
    out = []
    m = first
    while m <= last:
        out.append(values.get(m, np.nan))
        m = add_months(m, 1)
    return np.array(out, dtype=float)


def _observed_file(setup: Setup) -> dict[str, float] | None:
    """Monthly totals of the scenario's ``observed_exports`` file, if it has one."""
    name = getattr(setup.scenario, "observed_exports", None)
    if not name:
        return None
    from simulator.report.observed import load_observed_exports

    path = Path(setup.scenario_file).parent / str(name)
    try:
        df = load_observed_exports(path)
    except (OSError, ValueError):
        return None
    return {
        f"{m.year:04d}-{m.month:02d}": float(v)
        for m, v in zip(pd.to_datetime(df["month"]), df["total_t"], strict=True)
        if np.isfinite(v)
    }


@dataclass
class BacktestResult:
    """A finished backtest.

    Attributes:
        setup: Scenario, targets, parameters, prior, layout.
        origins: Origin months ``YYYY-MM``.
        horizon: Months scored after each origin.
        scores: Table ``backtest_scores``.
        summary: Table ``backtest_summary``.
        pit: Table ``backtest_pit``.
        posteriors: Per origin, the posterior median per parameter.
        sbc: Simulation-based calibration, if run.
        method: ``npe`` or ``abc``.
        seed: Root seed.
        simulations: Simulations in the bank.
        timings: Wall seconds per step.
        out: The backtest directory, if written.
    """

    setup: Setup
    origins: list[str]
    horizon: int
    scores: pd.DataFrame
    summary: pd.DataFrame
    pit: pd.DataFrame
    posteriors: dict[str, dict[str, float]]
    sbc: SBCResult | None
    method: str
    seed: int
    simulations: int
    timings: dict[str, float]
    out: Path | None = None

    def __repr__(self) -> str:
        return (
            f"BacktestResult(origins={self.origins[0]}..{self.origins[-1]}, "
            f"horizon={self.horizon}, forecasts={len(self.scores)})"
        )


def _records(
    setup: Setup, series: dict[str, dict[str, int]], origin: str, horizon: int, x: np.ndarray
) -> list[dict[str, Any]]:
    recs = []
    for name, months in series.items():
        hist = _history(setup, name, months, origin)
        for h in range(1, horizon + 1):
            m = add_months(origin, h)
            if m not in months:
                continue
            k = months[m]
            cell = {
                "origin_month": pd.Timestamp(origin + "-01"),
                "series": name,
                "horizon_months": h,
                "month": pd.Timestamp(m + "-01"),
                "observed": setup.targets[k].observed,
            }
            # the history ends the month before the origin (the origin's own figure is
            # not public at its end): a baseline's horizon counts from its last value
            lead = h + 1
            recs.append({**cell, "forecaster": "relsim", "draws": x[:, k]})
            base = persistence(hist, lead) if hist.size else np.full(1, np.nan)
            recs.append({**cell, "forecaster": "persistence", "draws": base})
            seas = seasonal(hist, lead) if hist.size and lead <= 12 else np.full(1, np.nan)
            recs.append({**cell, "forecaster": "seasonal", "draws": seas})
    return recs


def _scores_frame(recs: list[dict[str, Any]]) -> pd.DataFrame:
    t = score_table(recs)
    if t.empty:
        t = pd.DataFrame(columns=["origin_month", "series", "horizon_months", "month"])
    t = t.rename(columns={"median": "p50", "q05": "p5", "q25": "p25", "q75": "p75", "q95": "p95"})
    return conform(t, "backtest_scores")


def backtest(
    scenario: str | Path,
    targets: str | Path,
    origins: Sequence[str] | str,
    *,
    horizon: int = 3,
    simulations: int = DEFAULT_SIMULATIONS,
    draws: int = DEFAULT_BACKTEST_DRAWS,
    method: str = "npe",
    sbc: int = 0,
    seed: int | None = None,
    workers: int | None = None,
    executor: Any = None,
    scheduler: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    allow: Sequence[str | Path] = (),
    out: str | Path | None = None,
    bank: str | Path | None = None,
    force: bool = False,
    progress: ProgressFn | bool | None = None,
) -> BacktestResult:
    """Score the forecasts made at each origin against what happened (see module).

    Args:
        scenario: The scenario file.
        targets: Its targets file, with a ``parameters:`` block.
        origins: Origin months, a list or ``2025-05:2025-11``.
        horizon: Months after each origin to score (1 to 12).
        simulations: Simulations in the bank (one bank for every origin).
        draws: Posterior predictive simulations per origin.
        method: ``npe`` or ``abc``.
        sbc: Synthetic data sets of simulation-based calibration (0: none; ≥ 100 for a
            meaningful test), held out from the end of the bank.
        seed: Root seed (default: the scenario's).
        workers: Worker processes (default: every core).
        executor: As for :func:`simulator.explore.forecast.forecast`.
        scheduler: Dask scheduler address.
        overrides: ``--set``-style overrides.
        allow: Folders ``extends:`` may read.
        out: The backtest directory (written whole or not at all).
        bank: Where the bank is stored (default: as for a forecast, shared with it).
        force: Replace an existing backtest directory (a relsim output).
        progress: Progress of the bank's simulations.

    Returns:
        The :class:`BacktestResult`.
    """
    from simulator.explore.forecast_io import check_outputs

    t0 = time.perf_counter()
    months = parse_origins(origins) if isinstance(origins, str) else list(origins)
    if not 1 <= horizon <= 12:
        raise ScenarioError(Problem("horizon must be 1 to 12 months", "", "--horizon"))
    if method not in METHODS:
        raise ScenarioError(Problem(f"method must be one of {', '.join(METHODS)}", "", "--method"))
    if sbc and not 10 <= sbc < simulations // 2:
        raise ScenarioError(
            Problem("--sbc must be from 10 to half the simulations (0: none)", "", "--sbc")
        )
    out_path, bank_dir, _ = check_outputs(scenario, targets, out, bank, None, force, "backtest")
    setup = prepare(scenario, targets, overrides, allow)
    series = series_of(setup)
    if not series:
        raise ScenarioError(
            Problem("the targets file has no monthly_exports targets to score", "", str(targets))
        )
    execution = Execution(seed=seed, workers=workers, executor=executor, scheduler=scheduler)
    s = int(setup.scenario.seed if seed is None else seed)
    cb = _progress(progress)
    timings: dict[str, float] = {}
    recs: list[dict[str, Any]] = []
    medians: dict[str, dict[str, float]] = {}
    sbc_res = None
    from simulator.explore.cluster import shared_executor

    with on_bank(bank_dir, cb), shared_executor(execution) as shared:
        t = time.perf_counter()
        bk = build(setup, simulations, s, shared, bank_dir, cb)
        timings["bank"] = time.perf_counter() - t
        timings["inference"] = timings["predictive"] = 0.0
        for origin in months:
            t = time.perf_counter()
            mask = setup.public_mask(month_end(origin))
            post = posterior_for(setup, bk, mask, method, s)
            timings["inference"] += time.perf_counter() - t
            t = time.perf_counter()
            q = post.quantile(0.5)
            medians[origin] = {p.path: float(v) for p, v in zip(setup.params, q, strict=True)}
            _, x = predictive_draws(setup, post, s, draws, shared)
            timings["predictive"] += time.perf_counter() - t
            recs += _records(setup, series, origin, horizon, x)
        if sbc:
            from simulator.explore.sbc import run_sbc

            t = time.perf_counter()
            sbc_res = run_sbc(
                bk,
                setup.public_mask(month_end(months[-1])),
                method=method,
                held_out=sbc,
                draws=99,
                seed=s,
                noise=setup.noise(),
            )
            timings["sbc"] = time.perf_counter() - t
    scores = _scores_frame(recs)
    summary = _summary(scores)
    pit = _pit(scores)
    res = BacktestResult(
        setup,
        months,
        horizon,
        scores,
        summary,
        pit,
        medians,
        sbc_res,
        method,
        s,
        simulations,
        timings,
        out_path,
    )
    if out_path is not None:
        write_backtest(res, force, bank_dir, draws)
    res.timings["total"] = time.perf_counter() - t0
    return res


def _summary(scores: pd.DataFrame) -> pd.DataFrame:
    t = scores.rename(columns={"forecaster": "forecast", "origin_month": "origin"})
    t = t.rename(columns={"horizon_months": "horizon"})
    agg = aggregate(t, by=("series", "forecast"), baseline="persistence")
    agg = agg.rename(columns={"forecast": "forecaster"})
    order = {f: i for i, f in enumerate(FORECASTERS)}
    agg = agg.sort_values(
        ["series", "forecaster"], key=lambda c: c.map(order) if c.name == "forecaster" else c
    )
    if "crps_skill" not in agg:
        agg["crps_skill"] = np.nan
    return conform(agg, "backtest_summary")


def _pit(scores: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for f in FORECASTERS:
        h = pit_histogram(scores.loc[scores.forecaster == f, "pit"].to_numpy(dtype=float))
        for r in h.itertuples():
            rows.append(
                {
                    "forecaster": f,
                    "pit_low": r.bin_low,
                    "pit_high": r.bin_high,
                    "forecasts": int(r.count),
                    "share": r.share,
                }
            )
    return conform(pd.DataFrame(rows), "backtest_pit")


def sbc_tables(res: SBCResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables ``sbc_ranks`` and ``sbc_summary`` of a calibration."""
    h = res.histogram().rename(columns={"count": "datasets"})
    ranks = conform(h[["parameter", "rank_low", "rank_high", "datasets", "expected"]], "sbc_ranks")
    f = res.frame()
    summary = conform(
        f[["parameter", "chi2", "p_value", "contraction", "coverage50", "coverage90"]],
        "sbc_summary",
    )
    return ranks, summary


def write_backtest(res: BacktestResult, force: bool, bank_dir: Path | None, draws: int) -> None:
    """Write the backtest directory: ``manifest.json``, ``scores.csv``, ``summary.csv``,
    ``pit.csv``, ``posteriors.csv``, the SBC tables if run, ``figures/``, ``report.html``."""
    from simulator.explore.forecast_io import _jsonable
    from simulator.report.atomic import atomic_dir, write_json
    from simulator.report.forecast_page import backtest_figures, backtest_page
    from simulator.version import __version__

    assert res.out is not None
    ranks = sbc_sum = None
    note = ""
    if res.sbc is not None:
        ranks, sbc_sum = sbc_tables(res.sbc)
        note = (
            f"{res.sbc.k} synthetic data sets held out from the bank, {res.sbc.draws} posterior "
            f"draws each, conditioned on the figures public at {res.origins[-1]}; checks "
            + ", ".join(f"{k}: {'pass' if v else 'FAIL'}" for k, v in res.sbc.checks.items())
        )
    man = _jsonable(
        {
            "tool": "relsim",
            "version": __version__,
            "command": "backtest",
            "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "scenario": res.setup.scenario.name,
            "scenario_files": res.setup.loc.files,
            "targets": str(res.setup.targets_file),
            "origins": f"{res.origins[0]}..{res.origins[-1]}",
            "origin_months": res.origins,
            "horizon": res.horizon,
            "method": res.method,
            "seed": res.seed,
            "simulations": res.simulations,
            "draws": draws,
            "bank": str(bank_dir) if bank_dir else None,
            "posterior_median": res.posteriors,
            "sbc_note": note,
            "sbc_passed": None if res.sbc is None else res.sbc.passed,
            "timings_s": {k: round(v, 3) for k, v in res.timings.items()},
        }
    )
    figs = backtest_figures(res.scores, res.summary, res.pit, ranks)
    with atomic_dir(res.out, force) as tmp:
        write_json(tmp / "manifest.json", json.loads(json.dumps(man, allow_nan=False)))
        res.scores.to_csv(tmp / "scores.csv", index=False)
        res.scores.to_parquet(tmp / "scores.parquet", index=False)
        res.summary.to_csv(tmp / "summary.csv", index=False)
        res.pit.to_csv(tmp / "pit.csv", index=False)
        pd.DataFrame([{"origin_month": o, **v} for o, v in res.posteriors.items()]).to_csv(
            tmp / "posteriors.csv", index=False
        )
        if ranks is not None and sbc_sum is not None:
            ranks.to_csv(tmp / "sbc_ranks.csv", index=False)
            sbc_sum.to_csv(tmp / "sbc_summary.csv", index=False)
        (tmp / "figures").mkdir()
        for f in figs:
            (tmp / "figures" / f"{f['stem']}.png").write_bytes(f["data"])
        page = backtest_page(
            {
                "name": res.setup.scenario.name,
                "manifest": man,
                "summary": res.summary,
                "sbc": sbc_sum,
                "figures": figs,
            }
        )
        (tmp / "report.html").write_text(page, encoding="utf-8")
