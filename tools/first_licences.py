"""When a new licence requirement produces its first licences: per replication, the day
of the first approval and of the first departure under a licence, counted from the day
the requirement started — median and 90 % band over replications.

Usage::

    python tools/first_licences.py SCENARIO [--reps N]

The requirement's start is the first change of regime (a scenario that starts a
requirement with nothing else special, such as scenarios/examples/new-requirement.yaml).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simulator as sim  # noqa: E402
from simulator.stats import quantiles  # noqa: E402


def firsts(sc: sim.Scenario, rep: int) -> tuple[float, float, float]:
    """(requirement start, first approval, first licensed departure), days since start."""
    res = sim.run(sc, rep=rep)
    lic = res.licences
    reg = res.regimes
    later = reg.loc[reg["regime"] != reg["regime"].iloc[0], "start"]
    t0 = (later.iloc[0] - np.datetime64(sc.start)).days if len(later) else np.nan
    ok = lic[lic["outcome"].isin(["approved", "partial"])]
    first_ok = float(ok["decided_days"].min()) if len(ok) else np.nan
    sh = res.shipments
    licensed = sh[sh["application"].notna() & sh["departed_at"].notna()]
    dep = (licensed["departed_at"] - np.datetime64(sc.start)).dt.total_seconds() / 86400
    first_dep = float(dep.min()) if len(dep) else np.nan
    return t0, first_ok, first_dep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--reps", type=int, default=40)
    a = ap.parse_args()
    sc = sim.load_scenario(a.scenario)
    rows = np.array([firsts(sc, r) for r in range(a.reps)])
    t0 = float(np.nanmedian(rows[:, 0]))
    start = sc.start + dt.timedelta(days=t0)
    print(f"{sc.name}: requirement from {start} (day {t0:.0f}); {a.reps} replications")
    for j, what in ((1, "first approval"), (2, "first licensed departure")):
        v = rows[:, j] - rows[:, 0]
        v = v[np.isfinite(v)]
        lo, hi = quantiles(v, (0.05, 0.95))
        med = float(np.median(v))
        day = start + dt.timedelta(days=med)
        print(
            f"  {what:26} {med:5.1f} days after [{lo:.1f}–{hi:.1f}] (90 %), "
            f"median date {day}, in {v.size} of {a.reps} replications"
        )


if __name__ == "__main__":
    main()
