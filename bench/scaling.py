"""Benchmark: cost of one replication vs horizon and vs number of manufacturers.

Generated variants of the realistic scenario (built as plain dicts from its
``model_dump`` and validated with ``simulator.scenario_from_dict``):

* **horizon** 1x, 4x, 16x: ``end`` moved out by whole years; the policy timeline and
  the general licences are repeated every year (each later year starts in the
  initial, licence-free regime, as 2025 does), so every year carries the same load.
  The background is a stationary Poisson stream and simply continues.
* **manufacturers** 1x, 10x, 100x: every manufacturer is replicated under new ids
  together with its own copy of the exporters (so each copy sees the same exporter
  capacity), the general licences and the policy rules that name an applicant; the
  reviewers are scaled with the expected number of applications (measured on the
  1x run) so the authority's utilisation stays the same. The background is
  unchanged, so the total cost grows less than linearly; the *marginal* cost
  (total minus the same scenario with no manufacturers) is fitted as well.

Cost = CPU seconds (``time.process_time``, robust to other load on the machine) of
``simulator.run`` plus ``RunResult.summary`` for one replication (calendar prebuilt),
best of ``--reps`` replications. Growth exponents are least-squares log-log slopes;
the target is <= 1.1 for both.

Usage: python bench/scaling.py [--reps 2] [--what horizon,manufacturers] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

import simulator as sim
from simulator.replication.engine import run
from simulator.world.calendar import build_calendar

ROOT = Path(__file__).resolve().parents[1]
REALISTIC = ROOT / "scenarios" / "cn-2025-april-controls.yaml"


def base_dict(path: Path) -> dict[str, Any]:
    d = sim.load_scenario(path).model_dump(mode="json")
    d["observed_exports"] = None
    return d


def _shift_year(date: str, years: int) -> str:
    d = dt.date.fromisoformat(date)
    try:
        return d.replace(year=d.year + years).isoformat()
    except ValueError:  # 29 February
        return (d.replace(day=28).replace(year=d.year + years)).isoformat()


def horizon_variant(d0: dict[str, Any], k: int) -> dict[str, Any]:
    """The scenario over ``k`` years, its yearly policy and licences repeated."""
    d = copy.deepcopy(d0)
    start = dt.date.fromisoformat(d["start"])
    end = dt.date.fromisoformat(d["end"])
    if (end - start).days + 1 not in (365, 366):
        raise SystemExit("horizon scaling expects a one-year base scenario")
    d["end"] = _shift_year(d["end"], k - 1)
    pol = d["policy"]
    timeline = []
    for y in range(k):
        if y > 0 and pol.get("initial"):
            timeline.append({"date": _shift_year(d["start"], y), "regime": pol["initial"]})
        for e in d0["policy"].get("timeline") or []:
            timeline.append({**e, "date": _shift_year(e["date"], y)})
    if d0["policy"].get("timeline"):
        pol["timeline"] = timeline
    gls = d0["authority"].get("general_licences") or []
    d["authority"]["general_licences"] = [
        {**g, "start": _shift_year(g["start"], y)} for y in range(k) for g in gls
    ]
    return d


def _expand(value: Any, ids: dict[str, list[str]]) -> Any:
    """A ``where`` value naming entities -> the same names plus all their copies."""
    names = value if isinstance(value, list) else [value]
    out: list[str] = []
    for n in names:
        out.extend(ids.get(n, [n]))
    return out if isinstance(value, list) or len(out) != 1 else out[0]


def manufacturers_variant(
    d0: dict[str, Any], k: int, reviewer_factor: float, background_factor: float = 1.0
) -> dict[str, Any]:
    """``k`` copies of every manufacturer, each with its own copy of the exporters
    (``k = 0``: none); reviewers scaled by ``reviewer_factor``, background rates by
    ``background_factor``."""
    d = copy.deepcopy(d0)

    def sfx(name: str, r: int) -> str:
        return name if r == 0 else f"{name}__{r}"

    mids = {m["id"]: [sfx(m["id"], r) for r in range(k)] for m in d0["manufacturers"]}
    eids = {e["id"]: [sfx(e["id"], r) for r in range(k)] for e in d0["exporters"]}
    d["exporters"] = [{**e, "id": sfx(e["id"], r)} for r in range(k) for e in d0["exporters"]]
    mfrs = []
    for r in range(k):
        for m in d0["manufacturers"]:
            m2 = copy.deepcopy(m)
            m2["id"] = sfx(m["id"], r)
            if m2.get("name"):
                m2["name"] = f"{m['name']} #{r}"
            for s in m2.get("suppliers") or []:
                if s.get("exporter"):
                    s["exporter"] = sfx(s["exporter"], r)
                if s.get("manufacturer"):
                    s["manufacturer"] = sfx(s["manufacturer"], r)
            mfrs.append(m2)
    d["manufacturers"] = mfrs
    auth = d["authority"]
    auth["general_licences"] = [
        {**g, "exporter": sfx(g["exporter"], r), "customer": sfx(g["customer"], r)}
        for r in range(k)
        for g in d0["authority"].get("general_licences") or []
    ]
    auth["reviewers"] = max(1, round(d0["authority"]["reviewers"] * reviewer_factor))
    for reg in d["policy"].get("regimes") or []:
        rules = []
        for rule in reg.get("rules") or []:
            where = rule.get("where") or {}
            if where.get("applicant") is not None:
                where["applicant"] = _expand(where["applicant"], mids)
            if where.get("exporter") is not None:
                where["exporter"] = _expand(where["exporter"], eids)
            if where.get("applicant") != [] and where.get("exporter") != []:
                rules.append(rule)  # k = 0: rules naming only manufacturers go
        reg["rules"] = rules
    if background_factor != 1.0:
        for b in auth.get("background") or []:
            b["rate_per_wd"] *= background_factor
    return d


def cost(sc: sim.Scenario, reps: int) -> tuple[float, float, int]:
    """Best-of-``reps`` CPU and wall seconds of one replication, and its applications."""
    cal = build_calendar(sc)
    cpu, wall, apps = math.inf, math.inf, 0
    for rep in range(reps):
        c, w = time.process_time(), time.perf_counter()
        r = run(sc, seed=0, rep=rep, calendar=cal)
        r.summary  # noqa: B018 - the ensemble digest is part of a replication's cost
        cpu = min(cpu, time.process_time() - c)
        wall = min(wall, time.perf_counter() - w)
        apps = r.trace.n_applications
        del r
    return cpu, wall, apps


def slope(x: list[float], y: list[float]) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(REALISTIC))
    ap.add_argument("--reps", type=int, default=2, help="replications per point (best of)")
    ap.add_argument("--what", default="horizon,manufacturers")
    ap.add_argument("--horizons", default="1,4,16")
    ap.add_argument("--manufacturers", default="1,10,100")
    ap.add_argument(
        "--background",
        default="1,0",
        help="background-rate factors for the manufacturer scaling (0: manufacturers only)",
    )
    ap.add_argument("--quick", action="store_true", help="1x/4x and 1x/10x, one replication")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.horizons, args.manufacturers = 1, "1,4", "1,10"
    d0 = base_dict(Path(args.scenario))
    what = args.what.split(",")
    print(f"scenario {Path(args.scenario).name}; CPU s of run + summary, best of {args.reps}")

    if "horizon" in what:
        ks = [int(x) for x in args.horizons.split(",")]
        ys = []
        for k in ks:
            sc = sim.scenario_from_dict(horizon_variant(d0, k))
            c, w, n = cost(sc, args.reps)
            ys.append(c)
            print(
                f"horizon {k:>3}x ({sc.horizon_days:>5} days): {c:7.2f} s CPU ({w:6.2f} s wall),"
                f" {n} applications, {c / sc.horizon_days * 1e3:.2f} ms/day",
                flush=True,
            )
        print(f"horizon growth exponent (log-log slope): {slope(ks, ys):.3f}")

    if "manufacturers" in what:
        ks = [int(x) for x in args.manufacturers.split(",")]
        for bgf in [float(x) for x in args.background.split(",")]:
            scale_manufacturers(d0, ks, bgf, args.reps)


def scale_manufacturers(d0: dict[str, Any], ks: list[int], bgf: float, reps: int) -> None:
    """Cost vs copies of the manufacturers, background rates scaled by ``bgf``."""
    base = sim.scenario_from_dict(manufacturers_variant(d0, 1, max(bgf, 0.01), bgf))
    src = run(base, seed=0, rep=0).licences["source"]
    n_bg, n_mf = int((src == "background").sum()), int((src == "manufacturer").sum())
    reviewers = d0["authority"]["reviewers"]

    def variant(k: int) -> sim.Scenario:
        # reviewers follow the expected applications: same utilisation at every k
        apps = n_bg + k * n_mf
        factor = max(apps / max(1, n_bg + n_mf), 1 / reviewers) * max(bgf, 0.01)
        return sim.scenario_from_dict(manufacturers_variant(d0, k, factor, bgf))

    c0, _, _ = cost(variant(0), reps)
    print(
        f"manufacturers, background x{bgf:g}: 1x has {n_bg} background + {n_mf} "
        f"manufacturer applications; with no manufacturers {c0:.2f} s CPU"
    )
    ys, marg = [], []
    for k in ks:
        sc = variant(k)
        c, w, n = cost(sc, reps)
        ys.append(c)
        marg.append(c - c0)
        print(
            f"  {k:>3}x ({len(sc.manufacturers):>4} manufacturers, {sc.authority.reviewers} "
            f"reviewers): {c:7.2f} s CPU ({w:6.2f} s wall), {n} applications, "
            f"marginal {c - c0:.2f} s",
            flush=True,
        )
    print(f"  growth exponent, total cost: {slope(ks, ys):.3f}")
    if all(m > 0 for m in marg):
        print(f"  growth exponent, marginal cost (total - no manufacturers): {slope(ks, marg):.3f}")


if __name__ == "__main__":
    main()
