"""What ``relsim validate`` accepts, ``relsim run`` runs: a property test near every limit.

Hypothesis builds scenarios from a small valid one (a 10-40 day horizon) by pushing
any number of knobs to a limit of :class:`~simulator.limits.Limits` — exactly at it or
just beyond — together: quantities (tonnes, units per day, their products), reviewers
and capacity factors, review-time factors and their product, durations, holding
times, transition sums, dates at the calendar's ends, coefficients of variation, the
seed, customs release rates, holds, inspections, parked files, monthly rate factors,
deadline extensions, initial shipments (the workload limits only beyond them: a
replication at :attr:`~simulator.limits.Limits.MAX_APPLICATIONS` takes minutes). Each
scenario is validated through the CLI; if validate exits 0, run must exit 0 and write
finite KPIs with fill rates in [0, 1]; if not, validate must have said why (exit 2,
no internal error). Both run in this process (:func:`simulator.cli.main`), so the
property costs seconds, not minutes.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from simulator import cli
from simulator.limits import Limits
from simulator.scenario.dump import to_yaml

pytestmark = pytest.mark.slow  # generated inputs validated and run

EDGE = 1 + 1e-9  # "just beyond" a limit
BASE: dict[str, Any] = {
    "name": "near-limits",
    "start": dt.date(2025, 1, 1),
    "end": dt.date(2025, 1, 20),
    "seed": 1,
    "calendar": {"country": "CN"},
    "countries": [{"id": "CN"}, {"id": "DE"}],
    "products": [{"id": "magnet"}],
    "authority": {
        "reviewers": 3,
        "review_work_wd": {"kind": "gamma", "mean": 3, "sd": 1},
        "statutory_limit_wd": 45,
        "information_requests": {"probability": 0.3},
        "approval": {"probability": 0.9, "partial_probability": 0.2},
        "background": [{"destination": "DE", "product": "magnet", "rate_per_wd": 2}],
    },
    "policy": {
        "regimes": [{"name": "slow", "rules": [{"review_time_factor": 2}]}],
        "switching": {
            "initial": "neutral",
            "mean_duration_days": {"neutral": 5, "slow": 5},
            "transitions": {"neutral": {"slow": 1.0}, "slow": {"neutral": 1.0}},
        },
    },
    "exporters": [
        {"id": "cn1", "country": "CN", "products": ["magnet"], "capacity_t_per_month": 100}
    ],
    "lanes": [
        {
            "id": "cn-de",
            "origin": "CN",
            "destination": "DE",
            "transit_days": {"kind": "uniform", "low": 5, "high": 10},
        }
    ],
    "manufacturers": [
        {
            "id": "m1",
            "country": "DE",
            "material": "magnet",
            "units_per_day": 1000,
            "kg_per_unit": 1.0,
            "initial_cover_days": 10,
            "suppliers": [{"exporter": "cn1"}],
        }
    ],
}


def _limit(value: float, beyond: bool, *, up: bool = True) -> float:
    """``value`` itself, or just beyond it (above an upper limit, below a lower one)."""
    if not beyond:
        return value
    return value * EDGE if up else value / EDGE


def _knobs(beyond: bool) -> dict[str, Any]:
    """Edits that put the base at (or just beyond) one limit each."""
    T, U = Limits.MAX_TONNES, Limits.MAX_UNITS_PER_DAY
    D, F, C = Limits.MAX_DURATION_DAYS, Limits.MAX_REVIEW_TIME_FACTOR, Limits.MAX_COMBINED_FACTOR
    b = beyond
    return {
        "tonnes-capacity": ("exporters", 0, "capacity_t_per_month", _limit(T, b)),
        "tonnes-background": (
            "authority",
            "background",
            0,
            "tonnes",
            {"kind": "triangular", "low": 0, "mode": T / 2, "high": _limit(T, b)},
        ),
        "units": ("manufacturers", 0, "units_per_day", _limit(U, b)),
        "demand-product": ("manufacturers", 0, "kg_per_unit", _limit(T * 1000 / 1000, b)),
        "reviewers": ("authority", "reviewers", Limits.MAX_REVIEWERS + int(b)),
        "capacity-factor": (
            "policy",
            "regimes",
            0,
            "rules",
            1,
            {"capacity_factor": _limit(Limits.MAX_REVIEWERS / 3, b)},
        ),
        "review-factor": ("policy", "regimes", 0, "rules", 0, {"review_time_factor": F}),
        "review-factor-product": (
            "policy",
            "regimes",
            0,
            "rules",
            [
                {"review_time_factor": F},
                {"review_time_factor": F},
                {"review_time_factor": _limit(C / F / F, b)},
            ],
        ),
        "review-factor-tiny": (
            "policy",
            "regimes",
            0,
            "rules",
            [
                {"review_time_factor": 0.01},
                {"review_time_factor": 0.01},
                {"review_time_factor": _limit(0.01, b, up=False)},
            ],
        ),
        "statutory-limit": ("authority", "statutory_limit_wd", _limit(D, b)),
        "review-work": ("authority", "review_work_wd", {"kind": "constant", "value": _limit(D, b)}),
        "transit": ("lanes", 0, "transit_days", {"kind": "exponential", "mean": _limit(D, b)}),
        "cover": ("manufacturers", 0, "initial_cover_days", _limit(D, b)),
        "holding": (
            "policy",
            "switching",
            "mean_duration_days",
            {"neutral": _limit(Limits.MIN_HOLDING_DAYS, b, up=False), "slow": 1},
        ),
        "transition-sum": (
            "policy",
            "switching",
            "transitions",
            {
                "neutral": {"slow": 1 - Limits.TRANSITION_SUM_TOLERANCE * (1.5 if b else 0.9)},
                "slow": {"neutral": 1.0},
            },
        ),
        "gamma-cv-low": (
            "authority",
            "review_work_wd",
            {"kind": "gamma", "mean": 3, "sd": 3 * _limit(Limits.MIN_CV, b, up=False)},
        ),
        "gamma-cv-high": (
            "authority",
            "review_work_wd",
            {"kind": "gamma", "mean": 3, "sd": 3 * _limit(Limits.MAX_CV, b)},
        ),
        "lognormal-cv-high": (
            "lanes",
            0,
            "transit_days",
            {"kind": "lognormal", "mean": 5, "sd": 5 * _limit(Limits.MAX_CV, b)},
        ),
        "demand-cv": ("manufacturers", 0, "demand_cv", _limit(Limits.MAX_CV, b)),
        "partial-fraction": (
            "authority",
            "approval",
            "partial_fraction",
            {"kind": "uniform", "low": 0.5, "high": _limit(1.0, b)},
        ),
        "customs-release-tiny": ("customs", {"release_t_per_day": 5e-324}),
        "customs-release-huge": ("customs", {"release_t_per_day": 1e308}),
        "customs-hold": ("policy", "regimes", 0, "rules", 1, {"customs_hold": 1.0}),
        "inspection": (
            "policy",
            "regimes",
            0,
            "rules",
            1,
            {
                "inspection": {
                    "probability": 1.0,
                    "days": {"kind": "constant", "value": _limit(D, b)},
                }
            },
        ),
        "park": ("policy", "regimes", 0, "rules", 1, {"park": {"probability": 1.0}}),
        "month-factors": (
            "authority",
            "background",
            0,
            "month_factors",
            [1e300 if b else 10.0] * 12,  # at the workload limit a run takes minutes
        ),
        "rate-change": (
            "authority",
            "background",
            0,
            "rate_changes",
            [{"date": dt.date(2025, 1, 5), "factor": 1e-300}],
        ),
        "deadline-extension": (
            "authority",
            "deadline_extension_wd",
            {"kind": "constant", "value": _limit(D, b)},
        ),
        "initial-shipment": (
            "manufacturers",
            0,
            "initial_shipments",
            [{"stage": "in_transit", "day": 3, "tonnes": _limit(T, b)}],
        ),
        "seed": ("seed", Limits.MAX_SEED + int(b)),
        "reps": ("reps", Limits.MAX_REPS + int(b)),
    }


DATES = {
    "earliest": (Limits.EARLIEST_DATE, Limits.EARLIEST_DATE + dt.timedelta(days=19)),
    "latest": (Limits.LATEST_DATE - dt.timedelta(days=19), Limits.LATEST_DATE),
    "too-early": (
        Limits.EARLIEST_DATE - dt.timedelta(days=1),
        Limits.EARLIEST_DATE + dt.timedelta(days=18),
    ),
    "too-late": (
        Limits.LATEST_DATE - dt.timedelta(days=18),
        Limits.LATEST_DATE + dt.timedelta(days=1),
    ),
}


def _apply(data: dict[str, Any], edit: tuple[Any, ...]) -> None:
    *path, value = edit
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    last = path[-1]
    if isinstance(node, list) and last == len(node):
        node.append(value)
    elif isinstance(node, list) and isinstance(value, dict) and isinstance(node[last], dict):
        node[last] = {**node[last], **value} if "kind" not in value else value
    else:
        node[last] = value


@st.composite
def near_limits(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    days = draw(st.integers(10, 40))
    data["end"] = data["start"] + dt.timedelta(days=days - 1)
    names = sorted(_knobs(False))
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
    for name in chosen:
        beyond = draw(st.sampled_from([False, False, False, True]))  # mostly valid
        _apply(data, _knobs(beyond)[name])
    dates = draw(st.sampled_from([None, None, None, None, *DATES]))
    if dates is not None:
        data["start"], data["end"] = DATES[dates]
        data["policy"].pop("switching")  # its dates would fall outside the horizon
    return data


def _main(*args: str) -> int:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        return cli.main(list(args))
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


@settings(
    max_examples=int(os.environ.get("RELSIM_PROPERTY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=near_limits())
def test_validate_ok_means_run_exits_0(
    data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
    case.mkdir()
    scenario = case / "s.yaml"
    scenario.write_text(to_yaml(data), encoding="utf-8")
    code = _main("validate", str(scenario))
    _, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if code != 0:
        assert f"{scenario}:" in err  # refused with a location
        event("refused by validate")
        return
    event("validated and ran")
    out = case / "run"
    code = _main("run", str(scenario), "--reps", "2", "--workers", "1", "--no-figures",
                 "--quiet", "--out", str(out))  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 0, f"validate said ok, run exited {code}:\n{err}\n{to_yaml(data)}"
    summary = json.loads((out / "summary.json").read_text())
    for entity, kpis in summary["kpis"].items():
        for kpi, stats in kpis.items():
            mean = stats.get("mean")
            if kpi.endswith("_date"):  # first_shortage_date, recovery_date: ISO dates
                assert mean is None or dt.date.fromisoformat(mean), (entity, kpi, stats)
                continue
            assert mean is None or math.isfinite(mean), (entity, kpi, stats)
            if kpi == "fill_rate" and mean is not None:
                assert 0 <= mean <= 1, (entity, mean)
