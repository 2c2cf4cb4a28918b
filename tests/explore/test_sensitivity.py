"""Sensitivity analyses (:mod:`simulator.explore.sensitivity`) through the sweep's own
path (design → table → analysis), with model functions whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.explore.design import make_design
from simulator.explore.params import Param
from simulator.explore.sweep import evaluate_design

A, B = 7.0, 0.1


def ishigami(v: dict[str, float]) -> dict[str, float]:
    """Ishigami & Homma (1990), a = 7, b = 0.1, inputs uniform on [-π, π]."""
    x1, x2, x3 = v["x1"], v["x2"], v["x3"]
    return {"y": math.sin(x1) + A * math.sin(x2) ** 2 + B * x3**4 * math.sin(x1)}


def ishigami_indices() -> tuple[list[float], list[float]]:
    """Analytic first-order and total indices (Sobol' & Levitan 1999)."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return [v1 / var, v2 / var, 0.0], [(v1 + v13) / var, v2 / var, v13 / var]


def test_sobol_indices_of_the_ishigami_function_lie_within_salib_s_intervals() -> None:
    ps = [Param(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]
    design = make_design("sobol", ps, points=1024 * 5, seed=0)
    result = evaluate_design(design, ishigami)
    table = result.sobol("y", "model")
    s1, st = ishigami_indices()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    for i, row in table.iterrows():
        assert abs(row["S1"] - s1[i]) <= row["S1_conf"], row
        assert abs(row["ST"] - st[i]) <= row["ST_conf"], row
        assert row["S1_conf"] < 0.1 and row["ST_conf"] < 0.1  # informative intervals
    # the same seed gives the same indices (design and bootstrap are seeded)
    again = evaluate_design(make_design("sobol", ps, points=1024 * 5, seed=0), ishigami)
    assert again.sobol("y", "model").equals(table)


def test_morris_screening_ranks_a_linear_function_by_its_slopes() -> None:
    ps = [Param("steep", 0.0, 1.0), Param("flat", 0.0, 2.0), Param("inert", 0.0, 1.0)]

    def f(v: dict[str, float]) -> dict[str, float]:
        return {"y": 10 * v["steep"] + 0.5 * v["flat"]}

    res = evaluate_design(make_design("morris", ps, points=40, seed=1), f)
    t = res.morris("y", "model").set_index("parameter")
    # elementary effects per whole range: slope × range
    assert t.loc["steep", "mu_star"] == pytest.approx(10.0)
    assert t.loc["flat", "mu_star"] == pytest.approx(1.0)
    assert t.loc["inert", "mu_star"] == pytest.approx(0.0)
    assert t["sigma"].max() == pytest.approx(0.0, abs=1e-9)  # linear: no spread


def test_a_tornado_swings_each_parameter_alone_from_the_base_point() -> None:
    ps = [Param("a", 0.0, 4.0, nominal=1.0), Param("b", 10.0, 20.0, nominal=15.0)]

    def f(v: dict[str, float]) -> dict[str, float]:
        return {"y": v["a"] ** 2 - v["b"]}

    res = evaluate_design(make_design("oat", ps), f)
    t = res.tornado("y", "model").set_index("parameter")
    assert t.loc["a", "base"] == pytest.approx(1 - 15)
    assert (t.loc["a", "at_low"], t.loc["a", "at_high"]) == pytest.approx((0 - 15, 16 - 15))
    assert (t.loc["b", "at_low"], t.loc["b", "at_high"]) == pytest.approx((1 - 10, 1 - 20))
    assert list(t.index) == ["a", "b"]  # largest swing first (16 > 10)
    grid = evaluate_design(make_design("grid", [*ps[:1], Param("b", 10.0, 20.0, levels=3)]), f)
    assert grid.tornado("y", "model").set_index("parameter").loc["b", "at_high"] == pytest.approx(
        grid.design.values(grid.design.base)["a"] ** 2 - 20
    )


def test_analyses_refuse_the_wrong_design_and_undefined_outputs() -> None:
    ps = [Param("a", 0.0, 1.0), Param("b", 0.0, 1.0)]
    lhs = evaluate_design(make_design("lhs", ps, points=8, seed=0), lambda v: {"y": v["a"]})
    with pytest.raises(ValueError, match="sobol indices need a sobol design"):
        lhs.sobol("y", "model")
    with pytest.raises(ValueError, match="a tornado chart needs one-at-a-time ranges"):
        lhs.tornado("y", "model")
    sob = evaluate_design(
        make_design("sobol", ps, points=16, seed=0),
        lambda v: {"y": v["a"] if v["b"] > 0.5 else float("nan")},
    )
    with pytest.raises(ValueError, match=r"undefined at \d+ of 16 points"):
        sob.sobol("y", "model")
    flat = evaluate_design(make_design("sobol", ps, points=16, seed=0), lambda v: {"y": 1.0})
    with pytest.raises(ValueError, match="the same at every point"):
        flat.sobol("y", "model")
    with pytest.raises(KeyError, match="no KPI 'z'"):
        sob.kpi("z", "model")
    assert np.isnan(sob.y("y", "model")).any()
