"""Sweep figures (:mod:`simulator.explore.plots`): every figure a design supports is
drawn with labelled axes and units, and saved by :func:`write_figures`."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection, QuadMesh

from simulator.explore.design import make_design
from simulator.explore.params import Param
from simulator.explore.plots import kpi_label, param_label, write_figures
from simulator.explore.sweep import SweepResult, evaluate_design

DAY = float(dt.date(2025, 4, 1).toordinal())
FACTOR = Param("policy.overlays.0.review_time_factor", 1.0, 4.0, label="slowdown factor")
DURATION = Param("policy.overlays.0.duration_days", 30.0, 150.0, kind="int")
START = Param("policy.overlays.0.from", DAY, DAY + 60, kind="date")


def stop(v: dict[str, object]) -> dict[str, float]:
    f, d = float(v[FACTOR.path]), float(v.get(DURATION.path, 60))  # type: ignore[arg-type]
    return {"any_shortage": min(1.0, (f - 1) * d / 200), "lost_units": 1000 * (f - 1) * d}


def result(kind: str, params: list[Param], points: int | None = None) -> SweepResult:
    if len(params) == 3:
        params = [p if p.levels or kind != "grid" else replace(p, levels=3) for p in params]
    return evaluate_design(make_design(kind, params, points=points, seed=1), stop, "us_plant")


def labels(fig: object) -> list[str]:
    return [t for ax in fig.axes for t in (ax.get_xlabel(), ax.get_ylabel()) if t]  # type: ignore[attr-defined]


def test_a_grid_map_colours_and_labels_every_cell() -> None:
    fig = result("grid", [FACTOR, DURATION, START]).plot.stress_map("any_shortage")
    ax = fig.axes[0]
    assert any(isinstance(c, QuadMesh) for c in ax.collections)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9 and "100%" in texts and "0%" in texts
    assert ax.get_xlabel() == "slowdown factor (×)"
    assert ax.get_ylabel() == "policy.overlays.0.duration_days (days)"
    assert "P(line stop)" in labels(fig)  # the colour bar
    assert "averaged over policy.overlays.0.from" in fig._supxlabel.get_text()  # type: ignore[attr-defined]


def test_scattered_designs_are_points_and_one_parameter_is_a_line() -> None:
    fig = result("lhs", [START, FACTOR, DURATION], points=12).plot.stress_map(
        "lost_units", x=FACTOR.path, y=START.path
    )
    ax = fig.axes[0]
    assert any(isinstance(c, PathCollection) for c in ax.collections)
    assert ax.get_ylabel() == "policy.overlays.0.from (date)"
    assert "lost production (units)" in labels(fig)
    line = evaluate_design(
        make_design("grid", [Param(DURATION.path, 30.0, 150.0, kind="int", levels=4)]),
        lambda v: {"lost_units": float(v[DURATION.path])},
        "us_plant",
    ).plot.stress_map("lost_units")
    assert line.axes[0].get_ylabel() == "lost production (units)"
    assert np.allclose(line.axes[0].lines[0].get_ydata(), [30, 70, 110, 150])


def test_tornado_sobol_and_morris_figures() -> None:
    fig = result("oat", [FACTOR, DURATION]).plot.tornado("lost_units")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "lost production (units)"
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "policy.overlays.0.\nduration_days",
        "slowdown factor",
    ]  # largest swing on top
    sob = result("sobol", [FACTOR, DURATION], points=64).plot.sobol("lost_units")
    assert "index" in sob.axes[0].get_xlabel()
    mor = result("morris", [FACTOR, DURATION], points=30).plot.morris("lost_units")
    assert mor.axes[0].get_xlabel() == "μ*, mean |effect| over a range (units)"


def test_write_figures_saves_what_the_design_supports(tmp_path: Path) -> None:
    grid = write_figures(result("grid", [FACTOR, DURATION]), tmp_path / "g", ["any_shortage"])
    assert [p.name for p in grid] == ["stress_any_shortage.png", "tornado_any_shortage.png"]
    oat = write_figures(result("oat", [FACTOR, DURATION]), tmp_path / "o", ["lost_units"])
    assert [p.name for p in oat] == ["tornado_lost_units.png"]
    sob = write_figures(result("sobol", [FACTOR], points=12), tmp_path / "s", ["lost_units"])
    assert [p.name for p in sob] == ["stress_lost_units.png", "sobol_lost_units.png"]
    assert all(p.stat().st_size > 10_000 for p in grid + oat + sob)


@pytest.mark.parametrize(
    ("path", "kind", "label"),
    [
        ("authority.review_work_wd.mean", "float", "review_work_wd.mean (working days)"),
        ("manufacturers[us_plant].initial_cover_days", "float", "(days)"),
        ("authority.information_requests.probability", "float", "(probability)"),
        ("policy.overlays.0.until", "date", "(date)"),
    ],
)
def test_axis_labels_carry_units(path: str, kind: str, label: str) -> None:
    assert label in param_label(Param(path, 0.0, 1.0, kind=kind))
    assert kpi_label("shortage_days") == "shortage days (days)"


def test_tornado_ticks_read_apart_and_a_flat_panel_says_so() -> None:
    """Ticks over a narrow range of large values keep the digits that tell them apart
    (78.4k, 78.8k: not 78k twice); a manufacturer that nothing moves gets a sentence,
    not an axis of rounding noise."""
    near = evaluate_design(
        make_design("oat", [FACTOR, DURATION]),
        lambda v: {"lost_units": 78_000 + 800 * float(v[FACTOR.path])},
        "us_plant",
    )
    fig = near.plot.tornado("lost_units")
    fig.canvas.draw()
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), ticks
    flat = evaluate_design(
        make_design("oat", [FACTOR, DURATION]), lambda v: {"lost_units": 0.0}, "us_plant"
    )
    fig = flat.plot.tornado("lost_units")
    fig.canvas.draw()
    ax = fig.axes[0]
    assert "0 at every end of every range" in [t.get_text() for t in ax.texts]
    assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()] == ["0"]


def test_each_panel_has_its_own_colour_scale() -> None:
    """Issue 24: one colour scale for all plants hid a plant whose KPI moves little."""
    d = make_design("grid", [replace(FACTOR, levels=3), replace(DURATION, levels=3)], seed=1)

    def two(v: dict[str, object]) -> dict[str, float]:
        return {"lost_units": 1000 * float(v[FACTOR.path])}  # type: ignore[arg-type]

    a = evaluate_design(d, two, "big")
    b = evaluate_design(d, lambda v: {"lost_units": float(v[FACTOR.path])}, "small")  # type: ignore[arg-type]
    both = replace(a, frame=__import__("pandas").concat([a.frame, b.frame], ignore_index=True))
    fig = both.plot.stress_map("lost_units")
    panels = [ax for ax in fig.axes if ax.get_title()]  # not the colour bars
    meshes = [c for ax in panels for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 2 and len(fig.axes) == 4  # a colour bar each
    assert meshes[0].norm.vmax == pytest.approx(4000) and meshes[1].norm.vmax == pytest.approx(4)
    assert "each panel on its own colour scale" in fig._supxlabel.get_text()  # type: ignore[attr-defined]


def test_grid_cells_are_equal_whatever_the_levels_and_late_points_are_hatched() -> None:
    """A grid holding the scenario's own value (2 between 1.75 and 2.5) squeezed that
    column until its numbers ran into the next; points at which the swept overlay runs
    past the horizon look milder than they are and are hatched, with a note."""
    from matplotlib.patches import Rectangle

    uneven = replace(FACTOR, levels=3)
    d = make_design("grid", [uneven, replace(DURATION, levels=2)], seed=1)
    d = replace(d, coords=d.coords.copy())
    d.coords[d.coords[:, 0] == 2.5, 0] = 1.1  # levels 1, 1.1, 4: very uneven
    res = evaluate_design(d, stop, "us_plant")
    fig = res.plot.stress_map("lost_units")
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if isinstance(c, QuadMesh))
    xs = np.unique(mesh.get_coordinates()[..., 0])
    assert np.allclose(np.diff(xs), 1.0)  # every column one unit wide
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "1.1", "4"]
    assert not [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    late = [i for i in range(d.n) if d.coords[i, 1] == 150]
    fig = replace(res, past_horizon=late).plot.stress_map("lost_units")
    hatched = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == 3  # the three cells of the 150-day row
    assert {p.get_xy()[1] for p in hatched} == {0.5}
    note = " ".join(fig._supxlabel.get_text().split())  # type: ignore[attr-defined]
    assert "hatched cells: the swept overlay runs past the end of the horizon" in note


def test_tornado_shows_monte_carlo_error_and_swings_within_it() -> None:
    """Issue 24: ±13.8k of noise against a 5.4k swing looked like an effect."""
    from matplotlib.container import ErrorbarContainer

    from simulator.explore.sensitivity import tornado_table

    d = make_design("oat", [FACTOR, DURATION], seed=1)
    res = evaluate_design(d, stop, "us_plant")
    t = res.frame.copy()
    assert not tornado_table(d, res.kpi("lost_units", "us_plant"))["within_noise"].any()
    t["ci_low"], t["ci_high"] = t["mean"] - 100_000, t["mean"] + 100_000  # wide noise
    noisy = replace(res, frame=t)
    table = tornado_table(d, noisy.kpi("lost_units", "us_plant"))
    # the factor swings 270k (beyond ±100k at each end), the duration 180k (within)
    assert table.set_index("label")["within_noise"].to_dict() == {
        "slowdown factor": False,
        DURATION.path: True,
    }
    fig = noisy.plot.tornado("lost_units")
    ax = fig.axes[0]
    assert any(isinstance(c, ErrorbarContainer) for c in ax.containers)
    assert any("(within noise)" in t.get_text() for t in ax.get_yticklabels())


def test_the_default_kpis_are_those_that_vary() -> None:
    """P(line stop) at 100 % everywhere says nothing: lost production and shortage days
    come first, and a KPI constant over the points is left out."""
    d = make_design("grid", [replace(FACTOR, levels=3)], seed=1)
    res = evaluate_design(
        d,
        lambda v: {
            "any_shortage": 1.0,
            "lost_units": 1000 * float(v[FACTOR.path]),  # type: ignore[arg-type]
            "fill_rate": 1 / float(v[FACTOR.path]),  # type: ignore[arg-type]
        },
        "us_plant",
    )
    assert res.informative_kpis() == ["lost_units", "fill_rate"]
