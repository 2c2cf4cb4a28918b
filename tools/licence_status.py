"""The state of the licence files on given dates, by destination group: the share of
files submitted so far that are approved, denied, withdrawn or still waiting — to set
beside what was said publicly on those dates (scenarios/data/README.md).

Usage::

    python tools/licence_status.py SCENARIO [--reps N] [--dates 2025-06-04,...]

Prints, per date and destination group, the median share over replications and its
5–95 % range. Counts files submitted from the day licences became required.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simulator as sim  # noqa: E402
from simulator.stats import quantiles  # noqa: E402

GROUPS = {
    "EU (DE+EU)": ("DE", "EU"),
    "US": ("US",),
    "JP": ("JP",),
    "IN": ("IN",),
    "IN applicant": ("applicant:in_ev_maker",),
    "all": (),
}
"""Destination groups (country ids), or one modelled applicant (``applicant:ID``)."""
DATES = ("2025-06-04", "2025-06-30", "2025-09-09", "2025-11-05")


def status(lic: pd.DataFrame, start: dt.date, on: dt.date, dest: tuple[str, ...]) -> dict:
    """Shares of the files submitted before ``on`` by their state on ``on``."""
    day = (on - start).days
    sel = lic["submitted_days"] < day
    if dest and dest[0].startswith("applicant:"):
        sel &= lic["manufacturer"] == dest[0].split(":", 1)[1]
    elif dest:
        sel &= lic["destination"].isin(dest)
    sub = lic[sel]
    if sub.empty:
        return {"n": 0}
    done = sub["decided_days"] <= day
    out = sub["outcome"].where(done, "waiting")
    n = len(sub)
    return {
        "n": n,
        "approved": float(out.isin(["approved", "partial"]).sum() / n),
        "denied": float((out == "denied").sum() / n),
        "withdrawn": float((out == "withdrawn").sum() / n),
        "waiting": float((out == "waiting").sum() / n),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--dates", default=",".join(DATES))
    a = ap.parse_args()
    sc = sim.load_scenario(a.scenario)
    dates = [dt.date.fromisoformat(d) for d in a.dates.split(",")]
    rows = []
    for rep in range(a.reps):
        lic = sim.run(sc, rep=rep).licences
        for d in dates:
            for g, dest in GROUPS.items():
                rows.append({"rep": rep, "date": d, "group": g, **status(lic, sc.start, d, dest)})
    df = pd.DataFrame(rows)
    print(f"{sc.name}: files submitted so far, state on the date; median [5–95 %] of {a.reps} reps")
    print(
        f"{'date':11} {'group':11} {'files':>7} {'approved':>18} {'denied':>18} "
        f"{'withdrawn':>18} {'waiting':>18}"
    )
    for (d, g), part in df.groupby(["date", "group"], sort=False):
        cells = []
        for col in ("approved", "denied", "withdrawn", "waiting"):
            v = part[col].dropna().to_numpy()
            if v.size == 0:
                cells.append(f"{'—':>18}")
                continue
            lo, hi = quantiles(v, (0.05, 0.95))
            cells.append(f"{np.median(v):5.0%} [{lo:4.0%}–{hi:4.0%}]".rjust(18))
        print(f"{d!s:11} {g:11} {int(part['n'].median()):7d} " + " ".join(cells))


if __name__ == "__main__":
    main()
