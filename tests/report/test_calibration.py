"""Calibration against observed monthly exports (``export_fit``, ``relsim calibrate``):
the shape statistics are computed for the year of the controls, never NaN for the case
study, and a month without an observed value has no band verdict."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

import simulator as sim
from simulator.report.calibration import controls_year, export_fit
from simulator.report.observed import load_observed_exports

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
OBSERVED = ROOT / "scenarios" / "data" / "cn_magnet_exports.csv"


def test_the_year_of_the_controls_is_not_the_year_the_run_starts() -> None:
    sc = sim.load_scenario(CASE)
    assert sc.start.year == 2024  # starts in December 2024 (goods at sea by January)
    assert controls_year(sc) == 2025  # the first dated change: 2025-04-04
    # no dated change: the year holding most of the horizon
    plain = sim.load_scenario(ROOT / "tests" / "data" / "small.yaml")
    plain = plain.model_copy(update={"policy": plain.policy.model_copy(update={"timeline": []})})
    years = {plain.start.year, plain.end.year}
    assert controls_year(plain) in years
    assert controls_year(plain) == max(
        years,
        key=lambda y: (
            (min(plain.end, dt.date(y, 12, 31)) - max(plain.start, dt.date(y, 1, 1))).days,
            y,
        ),
    )


def test_case_study_calibration_statistics_are_numbers() -> None:
    """The README's `relsim calibrate` example and notebook 03 printed `nan` for all
    three statistics once the start moved to 2024-12 (issue 24): they must be numbers."""
    sc = sim.load_scenario(CASE)
    ens = sim.run_ensemble(sc, reps=3, seed=sc.seed, workers=1, progress=False)
    fit = export_fit(ens, load_observed_exports(OBSERVED))
    assert fit.year == 2025
    for name, value in fit.stats.items():
        assert math.isfinite(value), f"{name} is {value}"
    assert 0.1 < fit.stats["may_ratio_observed"] < 0.4  # 1,238 / mean(6,357, 3,590, 5,323)
    text = fit.to_text()
    assert "nan" not in text.lower() and "shape statistics of 2025" in text
    first = next(line for line in text.splitlines() if line.startswith("2024-12"))
    assert not first.rstrip().endswith(("no", "yes"))  # no observed value: no verdict
    assert fit.table["in_band"].isna().sum() == fit.table["observed_t"].isna().sum()
    # another year on request: no data there, said so (not nan)
    other = export_fit(ens, load_observed_exports(OBSERVED), year=2024)
    assert other.year == 2024 and "no data" in other.to_text()


@pytest.mark.parametrize("year", [None, 2025])
def test_export_fit_year_is_stable(year: int | None) -> None:
    sc = sim.load_scenario(CASE)
    ens = sim.run_ensemble(sc, reps=2, seed=1, workers=1, progress=False)
    assert export_fit(ens, load_observed_exports(OBSERVED), year=year).year == 2025
