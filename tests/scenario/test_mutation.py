"""Mutation tests: break a valid scenario one leaf or one key at a time.

Every mutant must either validate and run (a short horizon, seed 0) or be refused with a
:class:`~simulator.ScenarioError` whose every problem names a file and a field path. Any
other exception (a crash in validation or in the engine) is a bug.

Mutants are written back to YAML and loaded with :func:`simulator.load_scenario`, exactly
as a user's file would be, so the positions are checked too.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator
from simulator.errors import ScenarioError
from simulator.scenario.compose import load_located
from simulator.scenario.dump import to_yaml

ROOT = Path(__file__).resolve().parents[2]
BASE_VALID = ROOT / "tests" / "bad_inputs" / "base_valid.yaml"
MINIMAL = ROOT / "scenarios" / "examples" / "minimal.yaml"
MAX_HORIZON_DAYS = 60

Path_ = tuple[Any, ...]
_DELETE = object()


def _leaves(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Paths to every scalar (and every empty list or mapping)."""
    if isinstance(data, dict) and data:
        for k, v in data.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(data, list) and data:
        for i, v in enumerate(data):
            yield from _leaves(v, (*path, i))
    else:
        yield path, data


def _keys(data: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Paths to every mapping key, outermost first."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield (*path, k)
            yield from _keys(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _keys(v, (*path, i))


def _negative(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return -1
    return -abs(value) - 1


def _mutations(value: Any) -> list[tuple[str, Any]]:
    return [
        ("string", "x"),
        ("list", ["x", 1]),
        ("negative", _negative(value)),
        ("huge", 1e12),
        ("null", None),
    ]


def _set(data: Any, path: Path_, value: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _capped(data: dict[str, Any]) -> dict[str, Any]:
    """The base with its horizon cut to at most MAX_HORIZON_DAYS days."""
    start, end = data.get("start"), data.get("end")
    if isinstance(start, dt.date) and isinstance(end, dt.date):
        last = start + dt.timedelta(days=MAX_HORIZON_DAYS - 1)
        if end > last:
            data = {**data, "end": last}
    return data


def _base(path: Path) -> dict[str, Any]:
    data = _capped(load_located(path).data)
    try:
        simulator.scenario_from_dict(copy.deepcopy(data))
    except ScenarioError as exc:  # e.g. dated events after the capped end
        pytest.skip(f"{path.name} is not valid with a {MAX_HORIZON_DAYS}-day horizon: {exc}")
    return data


def _check_mutant(tmp: Path, name: str, data: Any) -> str:
    """Load a mutant from YAML and run it; return "ran" / "refused" or raise AssertionError."""
    tmp.write_text(to_yaml(data), encoding="utf-8")
    try:
        sc = simulator.load_scenario(tmp)
    except ScenarioError as exc:
        assert exc.problems, f"{name}: ScenarioError without problems"
        for p in exc.problems:
            assert p.file == str(tmp), f"{name}: problem without its file: {p}"
            assert p.line is not None, f"{name}: problem without a line: {p}"
            # a problem with the whole file (syntax, limits) has no field path
            assert p.path or p.line == 1, f"{name}: problem without a field path: {p}"
        return "refused"
    except Exception:
        raise AssertionError(
            f"{name}: validation raised a non-ScenarioError\n{traceback.format_exc()}"
        ) from None
    assert sc.horizon_days <= MAX_HORIZON_DAYS, name
    try:
        result = simulator.run(sc, seed=0)
        result.kpis  # noqa: B018 - build the frames too
    except Exception:
        raise AssertionError(
            f"{name}: validated but the engine crashed\n{traceback.format_exc()}"
        ) from None
    return "ran"


def _mutants(data: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for path, value in _leaves(data):
        if not path:
            continue
        for label, new in _mutations(value):
            yield f"{label} at {path}", _set(data, path, new)
    for path in _keys(data):
        yield f"delete {path}", _set(data, path, _DELETE)


def _bases() -> list[Path]:
    return [BASE_VALID] + ([MINIMAL] if MINIMAL.is_file() else [])


@pytest.mark.slow
@pytest.mark.parametrize("base", _bases(), ids=lambda p: p.name)
def test_every_mutant_validates_and_runs_or_is_refused_with_located_problems(
    base: Path, tmp_path: Path
) -> None:
    data = _base(base)
    target = tmp_path / "mutant.yaml"
    failures: list[str] = []
    outcomes = {"ran": 0, "refused": 0}
    started = time.perf_counter()
    for name, mutant in _mutants(data):
        try:
            outcomes[_check_mutant(target, name, mutant)] += 1
        except AssertionError as exc:
            failures.append(str(exc))
    elapsed = time.perf_counter() - started
    assert not failures, f"{len(failures)} bad mutant(s):\n\n" + "\n\n".join(failures[:10])
    # the mutants exercise both outcomes, and every key was deleted at least once
    assert outcomes["ran"] > 10 and outcomes["refused"] > 100, outcomes
    assert elapsed < 60, f"mutation test took {elapsed:.0f} s"


def test_every_key_is_deleted_and_every_leaf_mutated() -> None:
    """Guard the generator: nothing in the base escapes mutation."""
    data = _base(BASE_VALID)
    names = [name for name, _ in _mutants(data)]
    deleted = {name for name in names if name.startswith("delete ")}
    assert len(deleted) == len(list(_keys(data)))
    for key in ("authority", "manufacturers", "policy", "lanes", "exporters", "calendar"):
        assert f"delete ('{key}',)" in deleted
    leaves = [p for p, _ in _leaves(data) if p]
    assert len(names) == 5 * len(leaves) + len(deleted)


# ------------------------------------------------------------------------------ properties
# Hypothesis: generated scenarios of varied shapes. A valid one must run without crashing
# (conservation of material is tested elsewhere); a broken one must be refused with a
# ScenarioError, never another exception.

SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _small(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def distributions(draw: st.DrawFn, hi: float = 30.0) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["constant", "exponential", "uniform", "triangular", "lognormal", "gamma", "empirical"]
        )
    )
    if kind == "constant":
        return {"kind": kind, "value": draw(_small(0, hi))}
    if kind in ("exponential",):
        return {"kind": kind, "mean": draw(_small(0.01, hi))}
    if kind in ("lognormal", "gamma"):
        mean = draw(_small(0.01, hi))
        cv = draw(_small(0.01 if kind == "gamma" else 0, 5))  # sd / mean
        return {"kind": kind, "mean": mean, "sd": mean * cv}
    if kind == "empirical":
        values = draw(st.lists(_small(0, hi), min_size=1, max_size=4))
        return {"kind": kind, "values": values}
    a, b, c = sorted(draw(st.lists(_small(0, hi), min_size=3, max_size=3)))
    return {"kind": kind, "low": a, "high": c} | ({"mode": b} if kind == "triangular" else {})


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A valid scenario dict: 10-60 days, up to 4 countries, 2 products, 3 exporters,
    3 manufacturers (possibly two-tier), background streams and policy regimes."""
    start = dt.date(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 700)))
    days = draw(st.integers(10, MAX_HORIZON_DAYS))
    end = start + dt.timedelta(days=days - 1)

    def day() -> dt.date:
        return start + dt.timedelta(days=draw(st.integers(0, days - 1)))

    countries = ["CN", *[f"C{i}" for i in range(draw(st.integers(1, 3)))]]
    products = ["p0", "p1"][: draw(st.integers(1, 2))]
    exporters = []
    for i in range(draw(st.integers(0, 3))):
        licensed = draw(st.booleans())
        ex: dict[str, Any] = {
            "id": f"x{i}",
            "country": "CN" if licensed else draw(st.sampled_from(countries[1:])),
            "products": draw(st.lists(st.sampled_from(products), min_size=1, unique=True)),
            "licensed": licensed,
            "capacity_t_per_month": draw(_small(0, 500)),
            "lead_time_days": draw(distributions(20)),
        }
        if draw(st.booleans()):
            ex["ramp"] = [{"date": day(), "capacity_t_per_month": draw(_small(0, 500))}]
        exporters.append(ex)
    lanes: dict[tuple[str, str, str], dict[str, Any]] = {}

    def lane(origin: str, dest: str, mode: str = "sea") -> None:
        lanes.setdefault(
            (origin, dest, mode),
            {
                "id": f"{origin}-{dest}-{mode}",
                "origin": origin,
                "destination": dest,
                "mode": mode,
                "transit_days": draw(distributions(40)),
            },
        )

    manufacturers: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 3))):
        material = draw(st.sampled_from(products))
        sellers = [e for e in exporters if material in e["products"]]
        if not sellers:
            continue
        chosen = draw(
            st.lists(st.sampled_from(sellers), min_size=1, max_size=2, unique_by=lambda e: e["id"])
        )
        shares = [1.0] if len(chosen) == 1 else [0.25, 0.75]
        country = draw(st.sampled_from(countries[1:]))
        for e in chosen:
            lane(e["country"], country)
        m: dict[str, Any] = {
            "id": f"m{i}",
            "country": country,
            "material": material,
            "units_per_day": draw(_small(0, 1000)),
            "kg_per_unit": draw(_small(0, 5)),
            "demand_cv": draw(st.just(0.0) | _small(1e-6, 1)),
            "operating_days": draw(st.sampled_from(["all", "weekdays"])),
            "initial_cover_days": draw(_small(0, 60)),
            "replenishment": draw(
                st.sampled_from(
                    [
                        {"kind": "order_up_to", "review_days": 7, "safety_days": 5},
                        {"kind": "s_S", "safety_days": 3, "order_days": 20},
                    ]
                )
            ),
            "lead_time": {"initial_days": draw(_small(0, 90)), "adapt": draw(_small(0, 1))},
            "suppliers": [
                {"exporter": e["id"], "share": s} for e, s in zip(chosen, shares, strict=True)
            ],
            "unmet_demand": draw(st.sampled_from(["lost", "backlog"])),
        }
        if draw(st.booleans()):
            lane(chosen[0]["country"], country, "air")
            m["expedite"] = {"mode": "air", "below_cover_days": draw(_small(0.5, 20))}
        manufacturers.append(m)
    if manufacturers and draw(st.booleans()):  # a second tier buys from the first
        up = manufacturers[0]
        up["output_product"] = "made"
        up["output_kg_per_unit"] = draw(_small(0, 5))
        products.append("made")
        country = draw(st.sampled_from(countries[1:]))
        lane(up["country"], country, "road")
        manufacturers.append(
            {
                "id": "tier2",
                "country": country,
                "material": "made",
                "units_per_day": draw(_small(0, 100)),
                "kg_per_unit": draw(_small(0, 5)),
                "initial_cover_days": draw(_small(0, 30)),
                "suppliers": [{"manufacturer": up["id"]}],
            }
        )
    background = [
        {
            "destination": draw(st.sampled_from(countries)),
            "product": draw(st.sampled_from(products)),
            "rate_per_wd": draw(_small(0, 5)),
            "tonnes": draw(distributions(10)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    authority: dict[str, Any] = {
        "reviewers": draw(st.integers(0, 20)),
        "review_work_wd": draw(distributions(30)),
        "statutory_limit_wd": draw(st.none() | _small(1, 60)),
        "deadline_rule": draw(st.sampled_from(["decide", "approve", "deny", "continue"])),
        "intake": {
            "screening_wd": draw(distributions(3)),
            "return_probability": draw(_small(0, 0.5)),
            "resubmit_days": draw(distributions(15)),
            "max_returns": draw(st.integers(0, 3)),
        },
        "information_requests": {
            "probability": draw(_small(0, 1)),
            "response_days": draw(distributions(20)),
            "max_per_application": draw(st.integers(0, 3)),
        },
        "approval": {
            "probability": draw(_small(0, 1)),
            "partial_probability": draw(_small(0, 1)),
            "partial_fraction": {"kind": "uniform", "low": 0.1, "high": 0.9},
        },
        "licence_validity_days": draw(st.integers(1, 400)),
        "background": background,
    }
    licensed = [e for e in exporters if e["licensed"]]
    if licensed and manufacturers and draw(st.booleans()):
        authority["general_licences"] = [
            {
                "exporter": licensed[0]["id"],
                "customer": manufacturers[0]["id"],
                "start": day(),
                "valid_days": draw(st.integers(1, 400)),
            }
        ]
    rules = st.fixed_dictionaries(
        {},
        optional={
            "review_time_factor": _small(0.1, 5),
            "approval_probability": _small(0, 1),
            "information_request_probability": _small(0, 1),
            "priority": st.integers(-5, 5),
            "suspend": st.booleans(),
            "licence_required": st.booleans(),
            "licence_validity_days": st.integers(1, 400),
            "where": st.fixed_dictionaries(
                {},
                optional={
                    "destination": st.sampled_from(countries),
                    "product": st.sampled_from(products),
                    "end_use": st.sampled_from(["civil", "defence"]),
                },
            ),
        },
    )
    regimes = [
        {"name": f"r{i}", "rules": draw(st.lists(rules, max_size=3))}
        for i in range(draw(st.integers(0, 2)))
    ]
    if regimes and draw(st.booleans()):
        regimes[0]["rules"].append({"capacity_factor": draw(_small(0, 2))})
    names = ["neutral", *[r["name"] for r in regimes]]
    policy: dict[str, Any] = {"regimes": regimes, "initial": draw(st.sampled_from(names))}
    dates = sorted(day() for _ in range(draw(st.integers(0, 3))))
    policy["timeline"] = [{"date": d, "regime": draw(st.sampled_from(names))} for d in dates]
    if len(names) > 1 and draw(st.booleans()):
        a, b = names[0], names[1]
        policy["switching"] = {
            "initial": a,
            "mean_duration_days": {a: draw(_small(1, 30)), b: draw(_small(1, 30))},
            "transitions": {a: {b: 1.0}, b: {a: 1.0}},
        }
        # the chain governs after the dated changes (a change on or after its start is
        # refused: it would never apply)
        after = dates[-1] + dt.timedelta(days=1) if dates else None
        if after is not None and after <= end:
            policy["switching"]["start"] = after
        elif after is not None:
            policy["timeline"] = []
    return {
        "name": "generated",
        "start": start,
        "end": end,
        "seed": draw(st.integers(0, 2**32)),
        "calendar": draw(
            st.sampled_from([{"all_working": True}, {"country": "CN"}, {"country": None}])
        ),
        "countries": [{"id": c} for c in countries],
        "products": [{"id": p} for p in products],
        "authority": authority,
        "policy": policy,
        "exporters": exporters,
        "lanes": list(lanes.values()),
        "manufacturers": manufacturers,
    }


@settings(SETTINGS, max_examples=40)
@given(data=scenarios(), seed=st.integers(0, 2**32))
def test_valid_generated_scenarios_run_without_crashing(data: dict[str, Any], seed: int) -> None:
    try:
        sc = simulator.scenario_from_dict(data)
    except ScenarioError as exc:  # the generator only makes valid scenarios
        raise AssertionError(f"generated scenario refused:\n{exc}") from None
    result = simulator.run(sc, seed=seed)
    assert len(result.kpis) == len(sc.manufacturers) and not result.totals.empty


JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.dates(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.integers(), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def broken(draw: st.DrawFn) -> dict[str, Any]:
    """A generated scenario with one subtree replaced by junk, or one key deleted."""
    data = draw(scenarios())
    paths = [p for p, _ in _leaves(data) if p] + list(_keys(data))
    path = draw(st.sampled_from(sorted(set(paths), key=repr)))
    if draw(st.booleans()) and isinstance(path[-1], str):
        return _set(data, path, _DELETE)
    return _set(data, path, draw(JUNK))


@settings(SETTINGS, max_examples=150)
@given(data=broken())
def test_broken_generated_scenarios_are_refused_or_run(data: dict[str, Any]) -> None:
    try:
        sc = simulator.scenario_from_dict(data)
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p.message, str) for p in exc.problems)
        str(exc)  # renders
        return
    simulator.run(sc, seed=0).kpis  # noqa: B018 - a junk value that validates must run
