"""What a batch release does: files waiting on the authority by destination just before
the release and after its window, and the exports of the next two months, with and
without the release (the same scenario with its ``release`` overlays removed; common
random numbers: the same seed and replications).

Usage::

    python tools/release_effect.py SCENARIO [--reps N]

Reads the first overlay that carries a ``release``.
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


def waiting(lic, day: float, dest: str) -> int:
    """Files of ``dest`` submitted before ``day`` and not decided by then."""
    sel = (lic["destination"] == dest) & (lic["submitted_days"] < day)
    return int((sel & ~(lic["decided_days"] <= day)).sum())


def months_after(sc: sim.Scenario, start: dt.date) -> list[str]:
    first = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    second = (first + dt.timedelta(days=32)).replace(day=1)
    return [first.strftime("%Y-%m"), second.strftime("%Y-%m")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--reps", type=int, default=20)
    a = ap.parse_args()
    sc = sim.load_scenario(a.scenario)
    ov = next(o for o in sc.policy.overlays if o.release is not None)
    without = sc.model_copy(
        update={
            "policy": sc.policy.model_copy(
                update={"overlays": [o for o in sc.policy.overlays if o.release is None]}
            )
        }
    )
    t0 = (ov.from_ - sc.start).days
    t1 = t0 + float(ov.release.within_days)
    dests = sorted({b.destination for b in sc.authority.background})
    months = months_after(sc, ov.from_)
    rows: dict[str, list[float]] = {}
    for rep in range(a.reps):
        for tag, s in (("with", sc), ("without", without)):
            r = sim.run(s, rep=rep)
            lic = r.licences
            ex = r.exports
            ex = ex.assign(m=ex["month"].dt.strftime("%Y-%m"))
            for d in dests:
                rows.setdefault(f"{tag} waiting {d} before", []).append(waiting(lic, t0, d))
                rows.setdefault(f"{tag} waiting {d} after", []).append(waiting(lic, t1, d))
                for m in months:
                    t = ex.loc[(ex["destination"] == d) & (ex["m"] == m), "tonnes"].sum()
                    rows.setdefault(f"{tag} exports {d} {m}", []).append(float(t))
    print(
        f"{sc.name}: release '{ov.label}' from {ov.from_} within {ov.release.within_days:g} "
        f"days; median [5–95 %] over {a.reps} replications"
    )
    for key, v in rows.items():
        x = np.asarray(v, dtype=float)
        lo, hi = quantiles(x, (0.05, 0.95))
        print(f"  {key:34} {np.median(x):9.0f}  [{lo:.0f}–{hi:.0f}]")


if __name__ == "__main__":
    main()
