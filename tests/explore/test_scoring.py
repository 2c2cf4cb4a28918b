"""Scores of ensemble forecasts and the naive baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator.explore.scoring import (
    aggregate,
    coverage,
    crps,
    crps_normal,
    persistence,
    pit,
    pit_histogram,
    score_table,
    seasonal,
)


@pytest.mark.parametrize("y", [0.0, 0.7, -2.5])
def test_crps_of_normal_draws_matches_the_closed_form(y):
    rng = np.random.default_rng(0)
    mu, sigma, m, reps = 1.0, 2.0, 2_000, 50
    draws = mu + sigma * rng.standard_normal((reps, m))
    scores = crps(np.full(reps, y), draws)
    se = scores.std(ddof=1) / np.sqrt(reps)
    exact = float(crps_normal(y, mu, sigma))
    assert abs(scores.mean() - exact) < 4 * se + 1e-3, (scores.mean(), exact, se)


@pytest.mark.slow  # scoringrules compiles its numba functions on import (~7 s)
def test_crps_is_scoringrules_fair_estimator():
    sr = pytest.importorskip("scoringrules")
    rng = np.random.default_rng(4)
    obs, draws = rng.normal(size=30), rng.gamma(2.0, size=(30, 57))
    expected = sr.crps_ensemble(obs, draws, estimator="fair", backend="numpy")
    assert np.allclose(crps(obs, draws), expected, rtol=1e-10, atol=1e-12)
    draws[3, :50] = np.nan  # NaN members are dropped
    assert np.isclose(
        crps(obs, draws)[3], sr.crps_ensemble(obs[3], draws[3, 50:], estimator="fair")
    )


def test_fair_crps_does_not_penalise_small_ensembles():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(20_000)
    small = crps(y, rng.standard_normal((20_000, 5)))
    assert abs(small.mean() - crps_normal(y, 0, 1).mean()) < 0.01


def test_calibrated_forecasts_cover_their_nominal_share_and_have_uniform_pit():
    rng = np.random.default_rng(2)
    n, m = 2_000, 500
    centre = rng.normal(0, 5, n)
    obs = centre + rng.standard_normal(n)
    draws = centre[:, None] + rng.standard_normal((n, m))
    for level in (0.5, 0.9):
        share = coverage(obs, draws, level).mean()
        assert abs(share - level) < 3 * np.sqrt(level * (1 - level) / n)
    hist = pit_histogram(pit(obs, draws))
    assert hist["count"].sum() == n and hist.attrs["p_value"] > 1e-3
    too_narrow = centre[:, None] + 0.2 * rng.standard_normal((n, m))
    assert coverage(obs, too_narrow, 0.9).mean() < 0.5
    assert pit_histogram(pit(obs, too_narrow)).attrs["p_value"] < 1e-6


def test_pit_counts_ties_half():
    assert pit(1.0, np.array([0.0, 1.0, 1.0, 2.0])) == pytest.approx(0.5)


def test_persistence_is_the_last_value_with_the_history_changes():
    y = np.array([100.0, 110.0, 121.0, 133.1, np.nan, 161.051])
    members = persistence(y, 1)  # log changes of +10 % each month (3 pairs)
    assert np.allclose(members, 161.051 * 1.1)
    two = persistence(y, 2)
    assert np.allclose(two, 161.051 * 1.21)
    short = persistence(np.array([100.0, 120.0]), 3)  # one change: random-walk √h
    assert np.allclose(short, 120 * np.exp(np.log(1.2) * np.sqrt(3)))


def test_seasonal_is_the_same_month_a_year_earlier_times_the_trend():
    months = np.arange(24)
    season = 1 + 0.3 * np.sin(2 * np.pi * months / 12)
    y = 100 * season * np.where(months >= 12, 1.5, 1.0)  # +50 % year on year, same season
    history = y[:20]
    for h in (1, 2, 3):
        members = seasonal(history, h)
        assert np.allclose(members, y[19 + h])  # exact: every backcast error is 0
    assert np.all(np.isnan(seasonal(y[:5], 3)))  # no month a year earlier


def test_score_table_and_aggregate():
    rng = np.random.default_rng(3)
    records = []
    for origin in ("2025-05", "2025-06"):
        for h in (1, 2):
            obs = 10.0
            records.append(
                dict(
                    origin=origin,
                    series="total",
                    horizon=h,
                    forecast="model",
                    observed=obs,
                    draws=rng.normal(10, 1, 400),
                )
            )
            records.append(
                dict(
                    origin=origin,
                    series="total",
                    horizon=h,
                    forecast="persistence",
                    observed=obs,
                    draws=rng.normal(13, 1, 9),
                )
            )
    records.append(
        dict(
            origin="2025-07",
            series="total",
            horizon=1,
            forecast="model",
            observed=np.nan,
            draws=rng.normal(10, 1, 400),
        )
    )
    table = score_table(records)
    assert {"crps", "in50", "in90", "pit", "q05", "q95", "members"} <= set(table.columns)
    assert len(table) == 9 and np.isnan(table["crps"].iloc[-1])
    agg = aggregate(table).set_index("forecast")
    assert agg.loc["model", "n"] == 4 and agg.loc["model", "coverage90"] == 1.0
    assert agg.loc["persistence", "coverage90"] == 0.0
    assert agg.loc["model", "crps_skill"] > 0.5 and agg.loc["persistence", "crps_skill"] == 0
    assert isinstance(agg, pd.DataFrame)
