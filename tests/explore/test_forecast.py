"""relsim forecast and backtest end to end on a small scenario (ABC: fast, numpy only):
the as-of rule, the outputs, the bank shared and resumed, the same results on any
executor, the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import simulator as sim
from simulator.cli import main
from simulator.explore.backtest import parse_origins, series_of
from simulator.explore.forecast import month_end, prepare
from simulator.explore.targets import PUBLICATION_DAY, Target, published_on
from simulator.replication.columns import TABLES
from simulator.report.atomic import OutputExists

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"
MONTHS = ["2025-03", "2025-04", "2025-05", "2025-06"]
OBSERVED = {"2025-03": 180.0, "2025-04": 150.0, "2025-05": 60.0, "2025-06": 70.0}


def targets_file(tmp_path: Path, **extra: object) -> Path:
    """A targets file for tests/data/small.yaml: monthly exports (all, and to DE), a
    licensing share, a setting, and two free parameters."""
    targets = [
        {
            "id": f"exports_{m}",
            "kind": "monthly_exports",
            "month": m,
            "observed": OBSERVED[m],
            "tolerance": {"relative": 0.25},
            "noise": {"relative": 0.05},
        }
        for m in MONTHS
    ]
    targets += [
        {
            "id": f"exports_de_{m}",
            "kind": "monthly_exports",
            "month": m,
            "destinations": ["DE"],
            "observed": OBSERVED[m] / 3,
            "tolerance": {"relative": 0.35},
        }
        for m in MONTHS
    ]
    targets += [
        {
            "id": "approved_us",
            "kind": "approved_share",
            "destinations": ["US"],
            "submitted_from": "2025-04-04",
            "submitted_until": "2025-05-15",
            "by": "2025-05-31",
            "observed": 0.3,
            "tolerance": {"absolute": 0.1},
            "noise": {"absolute": 0.05},
        },
        {
            "id": "set_by_hand",
            "kind": "monthly_exports",
            "month": "2025-03",
            "observed": 999.0,
            "tolerance": {"relative": 0.5},
            "used_for": "setting",
        },
    ]
    doc = {
        "scenario": "small.yaml",
        "targets": targets,
        "parameters": [
            {"path": "authority.reviewers", "low": 3, "high": 12},
            {"path": "policy.regimes[controls].rules.1.approval_probability", "low": 0.1,
             "high": 0.9, "distribution": "triangular", "mode": 0.4},
        ],
        **extra,
    }  # fmt: skip
    f = tmp_path / "targets.yaml"
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    return f


def scenario_copy(tmp_path: Path) -> Path:
    f = tmp_path / "small.yaml"
    f.write_text(SMALL.read_text())
    return f


# ----------------------------------------------------------------------------- as-of rule
def test_published_default_rule() -> None:
    tol = {"relative": 0.1}
    t = Target(id="a", kind="monthly_exports", month="2025-07", observed=1, tolerance=tol)
    assert published_on(t) == dt.date(2025, 8, PUBLICATION_DAY)
    t = Target(id="b", kind="monthly_exports", month="2025-12", observed=1, tolerance=tol)
    assert published_on(t) == dt.date(2026, 1, 20)
    t = Target(
        id="c", kind="export_ratio", month="2025-05", months=["2025-01"], observed=1, tolerance=tol
    )
    assert published_on(t) == dt.date(2025, 6, 20)
    t = Target(
        id="d",
        kind="approved_share",
        submitted_from=dt.date(2025, 4, 1),
        submitted_until=dt.date(2025, 6, 1),
        by=dt.date(2025, 6, 4),
        observed=0.25,
        tolerance={"absolute": 0.1},
    )
    assert published_on(t) == dt.date(2025, 6, 4)
    t = t.model_copy(update={"published": dt.date(2025, 6, 10)})
    assert published_on(t) == dt.date(2025, 6, 10)


def test_noise_needs_exactly_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Target(
            id="a",
            kind="monthly_exports",
            month="2025-07",
            observed=1,
            tolerance={"relative": 0.1},
            noise={"relative": 0.1, "absolute": 2},
        )


def test_public_mask_settings_and_noise(tmp_path: Path) -> None:
    setup = prepare(scenario_copy(tmp_path), targets_file(tmp_path))
    ids = [t.id for t in setup.targets]
    mask = setup.public_mask(dt.date(2025, 5, 31))
    public = {ids[k] for k in np.flatnonzero(mask)}
    # March and April figures are out by 20 May; May's on 20 June; the setting never
    assert public == {"exports_2025-03", "exports_2025-04", "exports_de_2025-03",
                      "exports_de_2025-04", "approved_us"}  # fmt: skip
    assert not setup.public_mask(dt.date(2025, 4, 19)).any()
    noise = setup.noise()
    assert noise.relative[ids.index("exports_2025-03")] == 0.05
    assert noise.absolute[ids.index("approved_us")] == 0.05
    assert noise.relative[ids.index("exports_de_2025-03")] == 0.0
    assert setup.prior.params[1].shape == "triangular"
    assert set(series_of(setup)) == {"exports", "exports DE"}


def test_parse_origins() -> None:
    assert parse_origins("2025-05:2025-08") == ["2025-05", "2025-06", "2025-07", "2025-08"]
    assert parse_origins("2025-11:2026-01") == ["2025-11", "2025-12", "2026-01"]
    assert parse_origins("2025-08,2025-05") == ["2025-05", "2025-08"]
    with pytest.raises(sim.ScenarioError):
        parse_origins("2025-09:2025-05")
    with pytest.raises(sim.ScenarioError):
        parse_origins("May")
    assert month_end("2025-02") == dt.date(2025, 2, 28)


# ----------------------------------------------------------------------------- forecast
def test_forecast_end_to_end(tmp_path: Path) -> None:
    sc = scenario_copy(tmp_path)
    tf = targets_file(tmp_path)
    out = tmp_path / "runs" / "fc"
    res = sim.forecast(
        sc, tf, "2025-05-31", simulations=160, draws=24, method="abc", workers=1, out=out
    )
    assert res.mask.sum() == 5
    files = {p.name for p in out.iterdir()}
    assert {"manifest.json", "parameters.csv", "posterior.parquet", "targets.csv", "exports.csv",
            "exports_total.csv", "shortfall.csv", "line_stop.csv", "waits.csv", "figures",
            "report.html"} <= files  # fmt: skip
    figs = {p.name for p in (out / "figures").iterdir()}
    assert {"exports_total.png", "line_stop.png", "waits.png", "parameters.png"} <= figs
    man = json.loads((out / "manifest.json").read_text())
    assert man["tool"] == "relsim" and man["command"] == "forecast"
    assert man["as_of"] == "2025-05-31" and len(man["conditioned_on"]) == 5
    # tables in the one schema
    for name, table in res.tables().items():
        assert list(table.columns) == list(TABLES[name].columns), name
    params = res.parameters()
    assert list(params["parameter"]) == [p.path for p in res.setup.params]
    assert (params["p5"] >= params["prior_low"]).all() and (
        params["p95"] <= params["prior_high"]
    ).all()
    tot = pd.read_csv(out / "exports_total.csv")
    assert len(tot) == 4 and tot["public"].tolist() == [True, True, False, False]
    stop = res.tables()["forecast_line_stop"]
    assert stop.groupby("manufacturer")["p_stop"].apply(lambda s: s.is_monotonic_increasing).all()
    # the fitted file extends the original at the posterior median
    fitted = tmp_path / "small-forecast.yaml"
    doc = yaml.safe_load(fitted.read_text())
    assert doc["extends"] == "small.yaml"
    assert doc["authority"]["reviewers"] == res.median["authority.reviewers"]
    assert sim.load_scenario(fitted).authority.reviewers == res.median["authority.reviewers"]
    # the page escapes, embeds and names the as-of date
    page = (out / "report.html").read_text()
    assert "as-of" in page and "data:image/png;base64," in page and "<script" not in page
    # nothing replaced without --force; the bank is reused
    bank = tmp_path / "runs" / "small-targets.bank"
    assert (bank / "bank.npz").exists()
    with pytest.raises(OutputExists):
        sim.forecast(sc, tf, "2025-05-31", simulations=160, draws=24, method="abc", out=out)
    again = sim.forecast(
        sc, tf, "2025-05-31", simulations=160, draws=24, method="abc", workers=1, out=out,
        force=True,
    )  # fmt: skip
    assert again.timings["bank"] < 1.0
    np.testing.assert_array_equal(again.x, res.x)


def test_forecast_same_on_processes(tmp_path: Path) -> None:
    sc = scenario_copy(tmp_path)
    tf = targets_file(tmp_path)
    kw = {"simulations": 96, "draws": 16, "method": "abc"}
    a = sim.forecast(sc, tf, "2025-06-30", workers=1, **kw)
    b = sim.forecast(sc, tf, "2025-06-30", workers=2, **kw)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.x, b.x)


@pytest.mark.slow
def test_forecast_same_on_dask(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    sc = scenario_copy(tmp_path)
    tf = targets_file(tmp_path)
    kw = {"simulations": 64, "draws": 16, "method": "abc"}
    a = sim.forecast(sc, tf, "2025-06-30", workers=1, **kw)
    b = sim.forecast(sc, tf, "2025-06-30", workers=2, executor="dask", **kw)
    np.testing.assert_array_equal(a.x, b.x)


def test_resume_and_mismatch(tmp_path: Path) -> None:
    """An interrupted bank resumes from its chunks with the same result; a bank directory
    of another bank is refused with a message that says why."""
    sc = scenario_copy(tmp_path)
    tf = targets_file(tmp_path)
    bank = tmp_path / "bank"
    kw = {"simulations": 96, "draws": 8, "method": "abc", "workers": 1, "bank": bank}
    full = sim.forecast(sc, tf, "2025-06-30", **{**kw, "bank": tmp_path / "other"})

    def stop(done: int, total: int) -> None:
        if done >= 48:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sim.forecast(sc, tf, "2025-06-30", progress=stop, **kw)
    kept = sorted((bank / "chunks").glob("c*.npz"))
    assert kept and not (bank / "bank.npz").exists()
    again = sim.forecast(sc, tf, "2025-06-30", **kw)
    np.testing.assert_array_equal(again.x, full.x)
    np.testing.assert_array_equal(again.theta, full.theta)
    with pytest.raises(sim.ScenarioError, match="seed"):
        sim.forecast(sc, tf, "2025-06-30", seed=1, **kw)


def test_fitted_file_keeps_the_schema_line(tmp_path: Path) -> None:
    """A fitted file starts with the base's JSON-schema line, pointing to the same schema
    from its own folder; a base without one gives none."""
    from simulator.explore.forecast_io import schema_line

    case = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
    beside = schema_line(case, case.parent)
    assert beside == "# yaml-language-server: $schema=../schemas/scenario.schema.json\n"
    deeper = schema_line(case, ROOT / "scenarios" / "a" / "b")
    assert deeper == "# yaml-language-server: $schema=../../../schemas/scenario.schema.json\n"
    plain = tmp_path / "plain.yaml"
    plain.write_text("name: x\n", encoding="utf-8")
    assert schema_line(plain, tmp_path) is None


# ----------------------------------------------------------------------------- backtest
def test_backtest_end_to_end(tmp_path: Path) -> None:
    sc = scenario_copy(tmp_path)
    tf = targets_file(tmp_path)
    out = tmp_path / "bt"
    res = sim.backtest(
        sc, tf, "2025-04:2025-05", horizon=1, simulations=96, draws=16, method="abc",
        workers=1, out=out,
    )  # fmt: skip
    s = res.scores
    assert set(s["forecaster"]) == {"relsim", "persistence", "seasonal"}
    rel = s[s.forecaster == "relsim"]
    assert set(rel["series"]) == {"exports", "exports DE"}
    assert rel["crps"].notna().all() and rel["members"].eq(16).all()
    # origin 2025-04 forecasts May from March (April's figure is out on 20 May)
    cell = rel[(rel.series == "exports") & (rel.origin_month == pd.Timestamp("2025-04-01"))]
    assert cell["month"].iloc[0] == pd.Timestamp("2025-05-01")
    assert cell["observed"].iloc[0] == OBSERVED["2025-05"]
    assert list(res.summary.columns) == list(TABLES["backtest_summary"].columns)
    names = {p.name for p in out.iterdir()}
    assert names >= {"scores.csv", "summary.csv", "pit.csv",
                     "report.html", "figures", "manifest.json"}  # fmt: skip
    page = (out / "report.html").read_text()
    assert "Scores per series" in page and "<script" not in page


# ----------------------------------------------------------------------------- command line
def test_cli_forecast_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = scenario_copy(tmp_path)
    tf = targets_file(tmp_path)
    out = tmp_path / "fc"
    args = ["forecast", str(sc), "--targets", str(tf), "--simulations", "100", "--draws", "12",
            "--method", "abc", "--workers", "1", "--out", str(out), "--quiet"]  # fmt: skip
    assert main([*args, "--as-of", "2025-05-31"]) == 0
    text = capsys.readouterr().out
    assert "forecast as of 2025-05-31" in text and "authority.reviewers" in text
    assert main([*args, "--as-of", "2025-05-31"]) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--as-of", "31/05/2025", "--force"]) == 2
    assert "--as-of" in capsys.readouterr().err
    assert main([*args, "--as-of", "2025-04-01", "--force"]) == 2
    assert "no target is public" in capsys.readouterr().err
    assert main([*args, "--as-of", "2025-05-31", "--method", "magic", "--force"]) == 2
    bt = ["backtest", str(sc), "--targets", str(tf), "--origins", "2025-04:2025-05",
          "--horizon", "1", "--simulations", "100", "--draws", "12", "--method", "abc",
          "--workers", "1", "--out", str(tmp_path / "bt"), "--quiet"]  # fmt: skip
    assert main(bt) == 0
    assert "relsim" in capsys.readouterr().out
