"""Designs (:mod:`simulator.explore.design`): shapes, seeding, distributions, limits."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.explore.design import make_design
from simulator.explore.params import Param
from simulator.limits import Limits


def params(d: int = 2, **kw: object) -> list[Param]:
    return [Param(f"p{i}", 0.0, 10.0, **kw) for i in range(d)]  # type: ignore[arg-type]


def test_a_grid_is_every_combination_with_the_first_parameter_slowest() -> None:
    a = Param("a", 1.0, 3.0, levels=3)
    b = Param("b", 0.0, 1.0, levels=2)
    d = make_design("grid", [a, b])
    assert d.coords.tolist() == [[1, 0], [1, 1], [2, 0], [2, 1], [3, 0], [3, 1]]
    # without levels: about points ** (1 / D) per parameter, else 5
    assert make_design("grid", params(2), points=16).n == 16
    assert make_design("grid", params(2)).n == 25
    # whole-number kinds: rounded, duplicates dropped
    c = Param("c", 1.0, 3.0, kind="int", levels=10)
    assert make_design("grid", [c]).coords[:, 0].tolist() == [1, 2, 3]


def test_loguniform_levels_are_evenly_spread_in_log() -> None:
    p = Param("f", 1.0, 100.0, shape="loguniform", levels=3)
    assert make_design("grid", [p]).coords[:, 0] == pytest.approx([1, 10, 100])


def test_one_at_a_time_starts_at_the_nominal_values() -> None:
    a = Param("a", 0.0, 10.0, nominal=4.0)
    b = Param("b", 0.0, 1.0)  # unset in the scenario: the middle
    d = make_design("oat", [a, b])
    assert d.base == 0
    assert d.coords.tolist() == [[4, 0.5], [0, 0.5], [10, 0.5], [4, 0], [4, 1]]
    # a grid's base is the scenario's own value: added as a level when the grid misses it
    g = make_design("grid", [Param("a", 0.0, 10.0, nominal=4.0, levels=3), b], points=None)
    assert g.coords[g.base].tolist() == [4.0, 0.5]
    assert sorted(set(g.coords[:, 0])) == [0.0, 4.0, 5.0, 10.0]
    on = make_design("grid", [Param("a", 0.0, 10.0, nominal=5.0, levels=3), b], points=None)
    assert sorted(set(on.coords[:, 0])) == [0.0, 5.0, 10.0]  # already a level: no extra


@pytest.mark.parametrize(("kind", "points"), [("lhs", 20), ("sobol", 16), ("morris", 12)])
def test_sampling_designs_depend_on_the_seed_and_nothing_else(kind: str, points: int) -> None:
    one = make_design(kind, params(2), points=points, seed=7)
    again = make_design(kind, params(2), points=points, seed=7)
    other = make_design(kind, params(2), points=points, seed=8)
    assert one.n == points
    assert np.array_equal(one.coords, again.coords) and one.digest() == again.digest()
    assert not np.array_equal(one.coords, other.coords)
    assert one.unit is not None and np.all((one.unit >= 0) & (one.unit <= 1))


def test_latin_hypercube_puts_one_point_in_every_stratum() -> None:
    d = make_design("lhs", params(3), points=50, seed=1)
    assert d.unit is not None
    for j in range(3):
        assert sorted(np.floor(d.unit[:, j] * 50).astype(int)) == list(range(50))


def test_samples_follow_each_parameter_s_distribution() -> None:
    n = 2000
    log = Param("log", 1.0, 100.0, shape="loguniform")
    tri = Param("tri", 0.0, 10.0, shape="triangular", mode=8.0)
    nor = Param("nor", 0.0, 10.0, shape="normal", mean=3.0, sd=1.0)
    d = make_design("lhs", [log, tri, nor], points=n, seed=3)
    x = d.coords
    assert np.median(x[:, 0]) == pytest.approx(10.0, rel=0.05)  # √(1 · 100)
    assert x[:, 1].mean() == pytest.approx((0 + 8 + 10) / 3, abs=0.05)
    assert x[:, 2].mean() == pytest.approx(3.0, abs=0.05)
    assert x[:, 2].std() == pytest.approx(1.0, abs=0.05)  # truncation at 0 and 10: negligible
    assert x.min() >= 0 and x[:, 0].max() <= 100


def test_design_sizes_are_checked_before_anything_runs() -> None:
    with pytest.raises(ScenarioError, match=r"N × 4 points with N a power of two.*e.g. 8, 16"):
        make_design("sobol", params(2), points=12)
    with pytest.raises(ScenarioError, match=r"r × 3 points with r ≥ 2 trajectories"):
        make_design("morris", params(2), points=7)
    with pytest.raises(ScenarioError, match="a lhs design needs --points"):
        make_design("lhs", params(2))
    with pytest.raises(ScenarioError, match="unknown design 'latin'"):
        make_design("latin", params(2))
    with pytest.raises(ScenarioError, match="N \\(grid levels\\) applies to --design grid"):
        make_design("lhs", [Param("a", 0.0, 1.0, levels=3, origin="--param a=0:1:3")], points=5)
    big = [Param(f"p{i}", 0.0, 1.0, levels=Limits.MAX_GRID_LEVELS) for i in range(3)]
    with pytest.raises(ScenarioError) as e:
        make_design("grid", big)
    assert f"{Limits.MAX_GRID_LEVELS**3:,} points" in str(e.value)
    assert "Limits.MAX_SWEEP_POINTS" in str(e.value)


def test_the_design_table_shows_values_in_their_kind() -> None:
    day = float(dt.date(2025, 4, 1).toordinal())
    d = make_design(
        "grid",
        [
            Param("n", 1.0, 2.0, kind="int", levels=2),
            Param("d", day, day + 30, kind="date", levels=2),
        ],
    )
    f = d.frame()
    assert f["n"].tolist() == [1, 1, 2, 2]
    assert [str(v) for v in f["d"]] == ["2025-04-01", "2025-05-01"] * 2
    assert math.isclose(d.coords[1, 1] - d.coords[0, 1], 30)
