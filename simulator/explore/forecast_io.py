"""A forecast's tables and files: the posterior and predictive in the one table schema,
the forecast directory, the fitted scenario file.

The directory (written whole or not at all, like a run directory:
:func:`simulator.report.atomic.atomic_dir`; only a relsim output is ever replaced, and
only with ``force``)::

    manifest.json            what was run: inputs, as-of date, seeds, sizes, timings
    parameters.csv           forecast_parameters: the posterior per parameter
    posterior.parquet        forecast_posterior: the predictive's parameter draws
    targets.csv              forecast_targets: every target, predicted and observed
    exports.csv              forecast_exports: by month and destination
    exports_total.csv        forecast_exports_total
    shortfall.csv            forecast_shortfall: by month and manufacturer
    line_stop.csv            forecast_line_stop: P(line stopped by the date)
    waits.csv                forecast_waits: median wait by month of submission
    figures/*.png            the figures (as-of date marked, observations overlaid)
    report.html              one self-contained page

(tables: ``docs/outputs.md``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.replication.columns import conform
from simulator.stats import quantiles

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.forecast import ForecastResult, Setup

__all__ = [
    "check_outputs",
    "parameters_frame",
    "predictive_tables",
    "stat_row",
    "write_forecast",
]

QS = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of the band columns ``p5 … p95``."""


def stat_row(values: np.ndarray) -> dict[str, float]:
    """``mean``, ``p5`` … ``p95`` of the finite ``values`` (NaN if none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return dict.fromkeys(("mean", "p5", "p25", "p50", "p75", "p95"), np.nan)
    q = quantiles(v, QS)
    return {
        "mean": float(v.mean()),
        **{k: float(x) for k, x in zip(("p5", "p25", "p50", "p75", "p95"), q, strict=True)},
    }


def check_outputs(
    scenario: str | Path,
    targets: str | Path,
    out: str | Path | None,
    bank: str | Path | None,
    fitted: str | Path | None,
    force: bool,
    command: str,
) -> tuple[Path | None, Path | None, Path | None]:
    """Check the outputs before any work: ``(out, bank directory, fitted file)``.

    The bank defaults to ``<scenario stem>-<targets stem>.bank`` beside ``out`` (so a
    forecast and a backtest of the same files share it); the fitted file (forecasts
    only) to ``<scenario stem>-forecast.yaml`` beside the scenario.

    Raises:
        OutputRefused: ``out`` or ``fitted`` exists without ``force`` or is not
            relsim's to replace; the bank directory is not a directory.
    """
    from simulator.report.atomic import (
        OutputExists,
        OutputRefused,
        check_dir_target,
        check_file_target,
    )

    out_path = Path(out) if out is not None else None
    bank_dir = Path(bank) if bank is not None else None
    if bank_dir is None and out_path is not None:
        bank_dir = out_path.parent / f"{Path(scenario).stem}-{Path(targets).stem}.bank"
    if out_path is not None:
        check_dir_target(out_path, force)
    if bank_dir is not None and bank_dir.exists() and not bank_dir.is_dir():
        raise OutputRefused(f"{bank_dir} is not a directory; give another --bank")
    fitted_path = Path(fitted) if fitted is not None else None
    if command == "forecast" and fitted_path is None and out_path is not None:
        fitted_path = Path(scenario).with_name(f"{Path(scenario).stem}-forecast.yaml")
    if fitted_path is not None:
        check_file_target(fitted_path)
        if fitted_path.exists() and not force:
            raise OutputExists(
                f"{fitted_path} already exists; use --force to replace it, or --fitted FILE"
            )
    return out_path, bank_dir, fitted_path


# ----------------------------------------------------------------------------- tables
def parameters_frame(res: ForecastResult) -> pd.DataFrame:
    """Table ``forecast_parameters``: the posterior per parameter (from its draws)."""
    rows = []
    post = res.posterior
    w = post.draws(max(4000, len(post.theta)), res.seed)
    for j, p in enumerate(res.setup.params):
        st = stat_row(w[:, j])
        rows.append(
            {
                "parameter": p.path,
                "prior_low": float(p.low),
                "prior_high": float(p.high),
                "mean": st["mean"],
                "sd": float(np.std(w[:, j])),
                **{k: st[k] for k in ("p5", "p25", "p50", "p75", "p95")},
            }
        )
    return conform(pd.DataFrame(rows), "forecast_parameters")


def _month_ts(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01")


def predictive_tables(res: ForecastResult) -> dict[str, pd.DataFrame]:
    """Every predictive table of a forecast, by table name."""
    from simulator.explore.targets import published_on

    setup, x, lay = res.setup, res.x, res.setup.layout
    public = res.mask
    obs = _observed_exports(setup, public)
    tables: dict[str, pd.DataFrame] = {}
    rows = []
    for k, t in enumerate(setup.targets):
        rows.append(
            {
                "target": t.id,
                "target_kind": t.kind,
                "month": _month_ts(t.month) if t.month else pd.NaT,
                "observed": t.observed,
                "published": pd.Timestamp(published_on(t)),
                "public": bool(public[k]),
                **stat_row(x[:, k]),
            }
        )
    tables["forecast_targets"] = conform(pd.DataFrame(rows), "forecast_targets")
    rows = []
    block = x[:, lay.block("exports")].reshape(len(x), len(lay.months), len(lay.destinations))
    for i, m in enumerate(lay.months):
        for j, d in enumerate(lay.destinations):
            o, pub = obs.get((m, d), (np.nan, False))
            rows.append(
                {
                    "month": _month_ts(m),
                    "destination": d,
                    "observed": o,
                    "public": pub,
                    **stat_row(block[:, i, j]),
                }
            )
    tables["forecast_exports"] = conform(pd.DataFrame(rows), "forecast_exports")
    rows = []
    for i, m in enumerate(lay.months):
        o, pub = obs.get((m, None), (np.nan, False))
        rows.append(
            {
                "month": _month_ts(m),
                "observed": o,
                "public": pub,
                **stat_row(block[:, i, :].sum(axis=1)),
            }
        )
    tables["forecast_exports_total"] = conform(pd.DataFrame(rows), "forecast_exports_total")
    nm, nf = len(lay.months), len(lay.manufacturers)
    rows = []
    if nf:
        short = x[:, lay.block("shortfall")].reshape(len(x), nm, nf)
        for i, m in enumerate(lay.months):
            for j, f in enumerate(lay.manufacturers):
                rows.append({"month": _month_ts(m), "manufacturer": f, **stat_row(short[:, i, j])})
    tables["forecast_shortfall"] = conform(
        pd.DataFrame(
            rows, columns=["month", "manufacturer", "mean", "p5", "p25", "p50", "p75", "p95"]
        ),
        "forecast_shortfall",
    )
    rows = []
    H = setup.scenario.horizon_days
    days = pd.date_range(pd.Timestamp(setup.scenario.start), periods=H, freq="D")
    first = x[:, lay.block("first_stop")] if nf else np.zeros((len(x), 0))
    for j, f in enumerate(lay.manufacturers):
        fs = first[:, j]
        stopped = np.where(np.isfinite(fs), fs, np.inf)
        p = (stopped[None, :] <= np.arange(H)[:, None]).mean(axis=1)
        rows += [
            {"date": d, "manufacturer": f, "p_stop": float(v)} for d, v in zip(days, p, strict=True)
        ]
    tables["forecast_line_stop"] = conform(
        pd.DataFrame(rows, columns=["date", "manufacturer", "p_stop"]), "forecast_line_stop"
    )
    waits = x[:, lay.block("wait")]
    tables["forecast_waits"] = conform(
        pd.DataFrame(
            [{"month": _month_ts(m), **stat_row(waits[:, i])} for i, m in enumerate(lay.months)]
        ),
        "forecast_waits",
    )
    return tables


def _observed_exports(
    setup: Setup, public: np.ndarray
) -> dict[tuple[str, str | None], tuple[float, bool]]:
    """Observed monthly exports per (month, destination; None: all) from the targets
    file's ``monthly_exports`` targets of one destination or of all, with whether each
    was conditioned on (``public``)."""
    out: dict[tuple[str, str | None], tuple[float, bool]] = {}
    for k, t in enumerate(setup.targets):
        if t.kind != "monthly_exports" or t.month is None or t.used_for != "target":
            continue
        if t.destinations is None:
            out[(t.month, None)] = (t.observed, bool(public[k]))
        elif len(t.destinations) == 1:
            out[(t.month, t.destinations[0])] = (t.observed, bool(public[k]))
    return out


def posterior_frame(res: ForecastResult) -> pd.DataFrame:
    """Table ``forecast_posterior``: the predictive's parameter draws, long."""
    rows = [
        {"draw": i, "parameter": p.path, "theta": float(res.theta[i, j])}
        for i in range(len(res.theta))
        for j, p in enumerate(res.setup.params)
    ]
    return conform(pd.DataFrame(rows, columns=["draw", "parameter", "theta"]), "forecast_posterior")


# ----------------------------------------------------------------------------- writing
def manifest(res: ForecastResult) -> dict[str, Any]:
    """What the forecast directory's ``manifest.json`` records."""
    from simulator.version import __version__

    setup = res.setup
    return _jsonable(
        {
            "tool": "relsim",
            "version": __version__,
            "command": "forecast",
            "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "scenario": setup.scenario.name,
            "scenario_files": setup.loc.files,
            "targets": str(setup.targets_file),
            "as_of": res.as_of.isoformat(),
            "conditioned_on": [t.id for k, t in enumerate(setup.targets) if res.mask[k]],
            "method": res.method,
            "seed": res.seed,
            "simulations": res.simulations,
            "draws": len(res.theta),
            "bank": str(res.bank_dir) if res.bank_dir else None,
            "fitted_file": str(res.fitted_file) if res.fitted_file else None,
            "posterior_median": res.median,
            "posterior_info": {
                k: v for k, v in res.posterior.info.items() if isinstance(v, int | float | str)
            },
            "timings_s": {k: round(v, 3) for k, v in res.timings.items()},
        }
    )


def write_forecast(res: ForecastResult, point: np.ndarray, force: bool) -> None:
    """Write the fitted file (checked: it loads back to the scenario at the posterior
    median) and the forecast directory."""
    from simulator.report.atomic import atomic_dir, write_json

    if res.fitted_file is not None:
        _write_fitted(res, point)
    if res.out is None:
        return
    from simulator.report.forecast_page import forecast_figures, forecast_page

    tables = res.tables()
    params = res.parameters()
    man = manifest(res)
    with atomic_dir(res.out, force) as tmp:
        write_json(tmp / "manifest.json", json.loads(json.dumps(man, allow_nan=False)))
        params.to_csv(tmp / "parameters.csv", index=False)
        posterior_frame(res).to_parquet(tmp / "posterior.parquet", index=False)
        files = {
            "forecast_targets": "targets.csv",
            "forecast_exports": "exports.csv",
            "forecast_exports_total": "exports_total.csv",
            "forecast_shortfall": "shortfall.csv",
            "forecast_line_stop": "line_stop.csv",
            "forecast_waits": "waits.csv",
        }
        for name, file in files.items():
            tables[name].to_csv(tmp / file, index=False)
        (tmp / "figures").mkdir()
        figs = forecast_figures(res.setup.scenario, res.as_of, tables, params, res.setup.prior)
        for f in figs:
            (tmp / "figures" / f"{f['stem']}.png").write_bytes(f["data"])
        page = forecast_page(
            {
                "name": res.setup.scenario.name,
                "description": getattr(res.setup.scenario, "description", "") or "",
                "as_of": res.as_of.isoformat(),
                "manifest": man,
                "parameters": params,
                "targets": tables["forecast_targets"],
                "figures": figs,
            }
        )
        (tmp / "report.html").write_text(page, encoding="utf-8")


SCHEMA_PREFIX = "# yaml-language-server: $schema="


def schema_line(base_file: Path, out_dir: Path) -> str | None:
    """The base scenario's JSON-schema line, its path made relative to ``out_dir``.

    A shipped scenario starts with ``# yaml-language-server: $schema=<path>`` (editors
    validate it while typing; ``tests/cli/test_cli.py`` requires it). A fitted file beside
    it keeps that first line, pointing to the same schema from where it lives.

    Args:
        base_file: The scenario the fitted file extends.
        out_dir: Folder of the fitted file.

    Returns:
        The line with its newline, or None if the base declares no schema.
    """
    with open(base_file, encoding="utf-8") as f:
        first = f.readline().strip()
    if not first.startswith(SCHEMA_PREFIX):
        return None
    schema = (Path(base_file).resolve().parent / first[len(SCHEMA_PREFIX) :]).resolve()
    rel = Path(os.path.relpath(schema, Path(out_dir).resolve())).as_posix()
    return f"{SCHEMA_PREFIX}{rel}\n"


def check_fitted_place(setup: Setup, target: Path) -> None:
    """Refuse, before anything is simulated, a fitted file that could not load back.

    A file that ``extends:`` the scenario from another folder resolves the scenario's
    relative data files (``observed_exports:``) from its own folder; writing an empty
    extension there and loading it finds that out in milliseconds, not after the bank.

    Args:
        setup: The forecast's inputs.
        target: Where the fitted file will be written.

    Raises:
        ScenarioError: The fitted file would not load there (the reason, located).
    """
    from simulator.errors import Problem, ScenarioError
    from simulator.explore.fit import fitted_document
    from simulator.scenario.compose import load_located
    from simulator.scenario.dump import to_yaml
    from simulator.scenario.load import load_scenario

    base_file = setup.scenario_file
    base_loc = load_located(base_file, allow=setup.allow)
    doc = fitted_document(base_loc, {}, base_file, target.parent, "probe")
    reach = [*setup.allow, os.path.dirname(os.path.abspath(base_file))]
    target.parent.mkdir(parents=True, exist_ok=True)
    probe = target.parent / f".{target.stem}.{os.getpid()}.probe.yaml"
    try:
        probe.write_text(to_yaml(doc), encoding="utf-8")
        load_scenario(probe, allow=reach)
    except ScenarioError as e:
        raise ScenarioError(
            Problem(
                f"a fitted file there would not load back ({str(e).strip()}); "
                "put it beside the scenario (the default)",
                "",
                "--fitted",
            )
        ) from None
    finally:
        probe.unlink(missing_ok=True)


def _write_fitted(res: ForecastResult, point: np.ndarray) -> None:
    from simulator.explore.fit import _scenario_at, fitted_document
    from simulator.explore.params import point_overrides
    from simulator.report.atomic import atomic_file
    from simulator.scenario.compose import load_located
    from simulator.scenario.diff import diff
    from simulator.scenario.dump import to_yaml
    from simulator.scenario.load import load_scenario
    from simulator.version import __version__

    setup = res.setup
    assert res.fitted_file is not None
    target = res.fitted_file
    base_file = setup.scenario_file
    overrides = {**setup.overrides, **point_overrides(setup.params, point)}
    base_loc = load_located(base_file, allow=setup.allow)
    name = f"{base_loc.data.get('name', base_file.stem)}-forecast-{res.as_of.isoformat()}"
    doc = fitted_document(base_loc, overrides, base_file, target.parent, name)
    frame = res.parameters()
    header = (
        f"# Posterior median by relsim forecast {__version__} of {setup.targets_file} as of "
        f"{res.as_of.isoformat()}: {res.method}, {res.simulations} simulations, seed "
        f"{res.seed}; conditioned on {int(res.mask.sum())} figures.\n"
        "# Posterior median [90 % interval] per parameter:\n"
        + "".join(
            f"#   {r.parameter}: {r.p50:.4g} [{r.p5:.4g} .. {r.p95:.4g}]\n"
            for r in frame.itertuples()
        )
    )
    fitted_sc = _scenario_at(setup.loc, setup.params, point)
    reach = [*setup.allow, os.path.dirname(os.path.abspath(base_file))]
    schema = schema_line(base_file, target.parent)
    with atomic_file(target) as tmp:
        tmp.write_text((schema or "") + header + to_yaml(doc), encoding="utf-8")
        check = load_scenario(tmp, allow=reach)
        differences = [d for d in diff(fitted_sc, check) if d.path != "name"]
        if differences:
            raise RuntimeError(
                "the fitted file does not reproduce the scenario at the posterior median: "
                + "; ".join(d.path for d in differences[:5])
            )


def _jsonable(v: Any) -> Any:
    from simulator.explore.fit import _jsonable as j

    return j(v)
