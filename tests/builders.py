"""Small scenario builders shared by the engine tests (plain dicts, validated by
:func:`simulator.scenario_from_dict`, exactly as a YAML file would be)."""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import numpy as np

import simulator as sim

START = dt.date(2025, 1, 1)


def end_date(start: dt.date, days: int) -> str:
    """ISO date of the last day of a ``days``-day horizon from ``start``."""
    return (start + dt.timedelta(days=days - 1)).isoformat()


def day(start: dt.date, n: int) -> str:
    """ISO date ``n`` days after ``start``."""
    return (start + dt.timedelta(days=n)).isoformat()


def authority_only(
    *,
    days: int,
    reviewers: int,
    work: dict[str, Any],
    streams: list[dict[str, Any]],
    start: dt.date = START,
    all_working: bool = True,
    limit: float | None = None,
    rule: str = "decide",
    policy: dict[str, Any] | None = None,
    countries: tuple[str, ...] = ("XX", "YY", "ZZ"),
    **authority: Any,
) -> dict[str, Any]:
    """A scenario with only the authority and background streams."""
    data: dict[str, Any] = {
        "name": "authority-only",
        "start": start.isoformat(),
        "end": end_date(start, days),
        "calendar": {"all_working": True} if all_working else {"country": "CN"},
        "countries": [{"id": c} for c in countries],
        "products": [{"id": "magnet"}],
        "authority": {
            "reviewers": reviewers,
            "review_work_wd": work,
            "statutory_limit_wd": limit,
            "deadline_rule": rule,
            "background": [{"product": "magnet", **s} for s in streams],
            **authority,
        },
    }
    if policy is not None:
        data["policy"] = policy
    return data


def mmc(c: int, rho: float, mean_service: float, days: int) -> dict[str, Any]:
    """M/M/c: all working days, neutral policy, one Poisson stream, exponential work,
    no statutory limit. Arrival rate ``rho * c / mean_service`` per day."""
    lam = rho * c / mean_service
    return authority_only(
        days=days,
        reviewers=c,
        work={"kind": "exponential", "mean": mean_service},
        streams=[{"destination": "XX", "rate_per_wd": lam}],
    )


def erlang_c_wq(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c (Erlang C formula)."""
    a = lam / mu
    rho = a / c
    assert rho < 1, "unstable queue"
    s = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1.0 - rho)
    p_wait = top / (s + top)
    return p_wait / (c * mu - lam)


def supply_chain(
    *,
    days: int = 120,
    start: dt.date = START,
    reviewers: int = 4,
    work: dict[str, Any] | None = None,
    bg_rate: float = 0.5,
    manufacturer: dict[str, Any] | None = None,
    exporter: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    all_working: bool = True,
    **authority: Any,
) -> dict[str, Any]:
    """One licensed Chinese exporter, one sea lane, one manufacturer, background load."""
    m = {
        "id": "m1",
        "country": "DE",
        "material": "magnet",
        "units_per_day": 1000,
        "kg_per_unit": 1.0,
        "initial_cover_days": 30,
        "replenishment": {"kind": "order_up_to", "review_days": 7, "safety_days": 7},
        "lead_time": {"initial_days": 40},
        "suppliers": [{"exporter": "cn1"}],
    }
    m.update(manufacturer or {})
    ex = {"id": "cn1", "country": "CN", "products": ["magnet"], "capacity_t_per_month": 300}
    ex.update(exporter or {})
    data: dict[str, Any] = {
        "name": "supply-chain",
        "start": start.isoformat(),
        "end": end_date(start, days),
        "calendar": {"all_working": True} if all_working else {"country": "CN"},
        "countries": [{"id": "CN"}, {"id": "DE"}, {"id": "US"}],
        "products": [{"id": "magnet"}],
        "authority": {
            "reviewers": reviewers,
            "review_work_wd": work or {"kind": "exponential", "mean": 5},
            "statutory_limit_wd": 45,
            "background": [{"destination": "US", "product": "magnet", "rate_per_wd": bg_rate}]
            if bg_rate > 0
            else [],
            **authority,
        },
        "exporters": [ex],
        "lanes": [
            {
                "id": "cn-de-sea",
                "origin": "CN",
                "destination": "DE",
                "transit_days": {"kind": "constant", "value": 10},
            }
        ],
        "manufacturers": [m],
    }
    if policy is not None:
        data["policy"] = policy
    return data


def build(data: dict[str, Any], **overrides: Any) -> sim.Scenario:
    """Validate a scenario dict (deep-copied, so builders can be reused)."""
    return sim.scenario_from_dict(copy.deepcopy(data), overrides or None)


def mean_and_se(x: np.ndarray) -> tuple[float, float]:
    """Mean of independent replication results and its standard error."""
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))
