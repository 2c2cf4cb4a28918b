"""What validates runs (issue 25): one replication's events, memory and time are
estimated from the compiled scenario and checked against Limits before anything runs;
a scenario over them is refused at file:line:col with the estimate and the limit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

import simulator as sim
from simulator.cli import main
from simulator.errors import ScenarioError
from simulator.limits import Limits
from simulator.replication.engines import ENGINE_COSTS, check_budget
from simulator.world.budget import budget_problems, estimate
from simulator.world.calendar import build_calendar
from simulator.world.static import compile_scenario

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("scenarios/examples/*.yaml")])
BASE = ROOT / "tests" / "hostile" / "project" / "base.yaml"


def _static(sc: sim.Scenario):  # type: ignore[no-untyped-def]
    return compile_scenario(sc, build_calendar(sc))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_scenario_is_well_within_the_limits(path: Path) -> None:
    st = _static(sim.load_scenario(path))
    for engine, cost in ENGINE_COSTS.items():
        b = estimate(st, cost)
        assert 0 < b.events < Limits.MAX_REPLICATION_EVENTS / 100, engine
        assert 0 < b.bytes < Limits.MAX_REPLICATION_BYTES / 4, engine
        assert b.seconds < Limits.MAX_REPLICATION_SECONDS / 10, engine


def _variant(tmp_path: Path, name: str, data: dict) -> Path:
    (tmp_path / "base.yaml").write_text(BASE.read_text())
    f = tmp_path / name
    f.write_text(yaml.safe_dump({"extends": "base.yaml", **data}))
    return f


def _pulses(n: int) -> list[dict]:
    return [
        {
            "rate_per_year": 365,
            "duration_days": {"kind": "constant", "value": 0.5},
            "review_time_factor": 1.01,
        }
        for _ in range(n)
    ]


def test_pulses_switching_all_year_for_decades_are_refused(tmp_path: Path) -> None:
    f = _variant(
        tmp_path,
        "pulses.yaml",
        {"end": "2044-12-31", "policy": {"switching": None, "timeline": [], "pulses": _pulses(60)}},
    )
    from simulator.scenario.load import load_scenario_located

    sc, loc = load_scenario_located(f)
    with pytest.raises(ScenarioError) as e:
        check_budget(sc, loc=loc)
    text = str(e.value)
    assert "pulses.yaml:" in text
    assert "policy.pulses: one replication would" in text
    assert "Limits.MAX_REPLICATION_EVENTS" in text or "Limits.MAX_REPLICATION_BYTES" in text


def test_a_part_with_hundreds_of_suppliers_for_a_decade_is_refused_at_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = [
        {
            "id": f"e{i}",
            "country": "CN",
            "products": ["magnet"],
            "capacity_t_per_month": 10,
            "lead_time_days": {"kind": "constant", "value": 3},
        }
        for i in range(300)
    ]
    sup = [{"exporter": f"e{i}", "share": 1 / 300} for i in range(300)]
    m1 = {"id": "m1", "suppliers": sup}
    m1["replenishment"] = {"kind": "order_up_to", "review_days": 365, "safety_days": 5}
    data = {"end": "2035-12-31", "policy": {"switching": None, "timeline": []}}
    f = _variant(tmp_path, "suppliers.yaml", {**data, "exporters": ex, "manufacturers": [m1]})
    assert main(["validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "suppliers.yaml:" in err and ": manufacturers: one replication would need about" in err
    assert "GiB of memory on the kernel engine" in err and "Limits.MAX_REPLICATION_BYTES" in err
    out = tmp_path / "out"
    assert main(["run", str(f), "--reps", "1", "--workers", "1", "--out", str(out)]) == 2
    assert not out.exists()


def test_the_runner_checks_the_engine_it_runs_on() -> None:
    sc = sim.load_scenario(ROOT / "scenarios" / "cn-2025-april-controls.yaml")
    st = _static(sc)
    assert all(budget_problems(st, cost, e) == [] for e, cost in ENGINE_COSTS.items())
    fast, slow = sorted((estimate(st, c) for c in ENGINE_COSTS.values()), key=lambda b: b.seconds)
    assert slow.seconds > 5 * fast.seconds


def test_overlapping_overlays_count_what_is_in_force_together(tmp_path: Path) -> None:
    d0 = dt.date(2025, 1, 1)
    ovs = [
        {
            "from": (d0 + dt.timedelta(days=i)).isoformat(),
            "until": (d0 + dt.timedelta(days=i + 20)).isoformat(),
            "review_time_factor": 1.0,
        }
        for i in range(40)
    ]
    f = _variant(
        tmp_path, "ov.yaml", {"policy": {"switching": None, "timeline": [], "overlays": ovs}}
    )
    b = estimate(_static(sim.load_scenario(f)), next(iter(ENGINE_COSTS.values())))
    assert b.changes == pytest.approx(2 * 40)  # two per overlay (no timeline, no chain)
    assert b.events < Limits.MAX_REPLICATION_EVENTS


def test_the_start_up_ramps_steps_are_counted_as_changes() -> None:
    """A capacity ramp after a licence requirement starts is a change a day (main's
    start-up policy): the estimate counts its steps, and bounds those of a real path."""
    from simulator.scenario.authority import Startup
    from simulator.world.draws import fill_draws
    from simulator.world.policy import CAPACITY

    sc = sim.load_scenario(ROOT / "scenarios" / "examples" / "new-requirement.yaml")
    flat = sc.model_copy(
        update={"authority": sc.authority.model_copy(update={"startup": Startup()})}
    )
    cost = ENGINE_COSTS["kernel"]
    st = _static(sc)
    with_ramp, without = estimate(st, cost), estimate(_static(flat), cost)
    days = sc.authority.startup.capacity_ramp.days  # type: ignore[union-attr]
    ramp = min(without.changes * days, st.H + without.changes)
    assert with_ramp.changes - without.changes == pytest.approx(ramp)
    steps = int((fill_draws(st, 1, 0).i("pol_kind") == CAPACITY).sum())
    assert 0 < steps <= with_ramp.changes - without.changes


BOUNDED = [*SHIPPED, *sorted((ROOT / "tests" / "hostile" / "project").glob("v-*.yaml")), BASE]


@pytest.mark.parametrize("path", BOUNDED, ids=[p.name for p in BOUNDED])
def test_the_pure_python_bound_bounds_the_estimate(path: Path) -> None:
    """check_budget skips compiling a scenario whose bound is within the limits: the bound
    must be at least the estimate, on every engine and in every measure."""
    from simulator.world.budget import bound

    try:
        sc = sim.load_scenario(path)
    except ScenarioError:
        pytest.skip("refused by validation")
    st = _static(sc)
    for engine, cost in ENGINE_COSTS.items():
        b, e = bound(sc, cost), estimate(st, cost)
        assert b.events >= e.events and b.bytes >= e.bytes and b.seconds >= e.seconds, engine
        assert b.changes >= e.changes and b.slots >= e.slots, engine


def test_the_bound_counts_the_draw_tables_unit_draws() -> None:
    from simulator.world import draws
    from simulator.world.budget import APP_UNIT_DRAWS, SHIP_UNIT_DRAWS

    def units(family: str) -> int:
        return sum(1 for d in draws.DRAWS if d.family == family and d.width is draws._one)

    assert (units("application"), units("shipment")) == (APP_UNIT_DRAWS, SHIP_UNIT_DRAWS)


def test_buyers_demand_factors_scale_the_background_estimate(tmp_path: Path) -> None:
    """Overlays with main's demand_factor multiply background contracts while in force:
    the estimate (and its pure-Python bound) counts them at the largest product."""
    from simulator.world.budget import bound

    d0 = dt.date(2025, 1, 1)
    ovs = [
        {
            "from": (d0 + dt.timedelta(days=i)).isoformat(),
            "until": (d0 + dt.timedelta(days=i + 30)).isoformat(),
            "demand_factor": 10,
        }
        for i in range(3)
    ]
    plain = _variant(tmp_path, "plain.yaml", {"policy": {"switching": None, "timeline": []}})
    more = _variant(
        tmp_path, "more.yaml", {"policy": {"switching": None, "timeline": [], "overlays": ovs}}
    )
    cost = ENGINE_COSTS["kernel"]
    sc0, sc1 = sim.load_scenario(plain), sim.load_scenario(more)
    if not sc0.authority.background:
        pytest.skip("base.yaml has no background stream")
    st0 = _static(sc0)
    a0, a1 = estimate(st0, cost), estimate(_static(sc1), cost)
    background0 = a0.slots - float(st0.part_bound.sum()) - 1  # the contracts' slots
    assert a1.slots - a0.slots > 100 * background0  # 10 ** 3 on the rate
    assert bound(sc1, cost).events >= a1.events
