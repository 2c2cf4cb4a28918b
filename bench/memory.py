"""Benchmark: peak memory vs number of replications (100, 1,000, 10,000).

Each ensemble runs in a fresh child process (``python -c ...``) so that peaks don't
mix. The child loads the scenario, runs ``run_ensemble`` on local worker processes
(the default executor), then builds ``summary_dict()`` and the shortfall bands (the
post-processing a ``relsim run`` does), and reports:

* **parent** — peak RSS of the ensemble's own process (``ru_maxrss`` of
  ``RUSAGE_SELF`` = ``VmHWM``): this is where digests are aggregated, so this is the
  number that must not grow with the replications;
* **workers** — the largest peak RSS among its worker processes (``ru_maxrss`` of
  ``RUSAGE_CHILDREN``, read after the pool has been joined). Workers are forked
  from the parent, so their RSS includes pages shared with it.

Scenario variants (``--variant``):

* ``full`` — the realistic scenario as shipped (~1 s of CPU per replication);
* ``thin`` (default) — the same scenario with the background applications and the
  reviewers both scaled by ``--thin`` (0.1): the horizon (365 days), manufacturers,
  destinations and KPIs — i.e. every array the aggregator keeps per replication —
  are unchanged, while a replication costs ~5x less CPU, so 10,000 replications fit
  in a benchmark run. ``full`` at 100 and 1,000 replications checks that ``thin``
  uses the same memory.

Usage: python bench/memory.py [--reps 100,1000,10000] [--variant thin|full]
                              [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REALISTIC = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
SMALL = ROOT / "tests" / "data" / "small.yaml"

CHILD = r"""
import json, resource, sys, time
import simulator as sim
path, variant = sys.argv[1], sys.argv[4]
reps, workers, thin = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[5])
sc = sim.load_scenario(path)
if variant == "thin":
    ov = {f"authority.background[{i}].rate_per_wd": b.rate_per_wd * thin
          for i, b in enumerate(sc.authority.background)}
    ov["authority.reviewers"] = max(1, round(sc.authority.reviewers * thin))
    sc = sim.load_scenario(path, overrides=ov)
def kib(who):
    return resource.getrusage(who).ru_maxrss
before = kib(resource.RUSAGE_SELF)
t = time.perf_counter()
ens = sim.run_ensemble(sc, reps=reps, seed=0, workers=workers)
elapsed = time.perf_counter() - t
after_run = kib(resource.RUSAGE_SELF)
json.dumps(ens.summary_dict())
ens.bands("shortfall_t")
ens.exports()
print(json.dumps({
    "reps": reps, "elapsed_s": elapsed, "parent_before_kib": before,
    "parent_after_run_kib": after_run, "parent_peak_kib": kib(resource.RUSAGE_SELF),
    "workers_peak_kib": kib(resource.RUSAGE_CHILDREN),
    "band_reps": len(ens.agg.band_short),
}))
"""


def run_child(path: str, reps: int, workers: int, variant: str, thin: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path, str(reps), str(workers), variant, str(thin)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=None, help="default: the realistic scenario")
    ap.add_argument("--reps", default="100,1000,10000")
    ap.add_argument("--variant", choices=["thin", "full"], default="thin")
    ap.add_argument("--thin", type=float, default=0.1, help="load factor of the thin variant")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="100 and 1,000 replications")
    args = ap.parse_args()
    if args.quick:
        args.reps = "100,1000"
    path = args.scenario or str(REALISTIC)
    reps = [int(x) for x in args.reps.split(",")]
    print(
        f"scenario {Path(path).name}, variant {args.variant}"
        + (f" (background and reviewers x{args.thin})" if args.variant == "thin" else "")
        + f", {args.workers} workers, nproc {os.cpu_count()}"
    )
    rows = []
    for n in reps:
        t = time.perf_counter()
        r = run_child(path, n, args.workers, args.variant, args.thin)
        rows.append(r)
        print(
            f"{n:>6} reps: parent peak {r['parent_peak_kib'] / 1024:7.1f} MiB "
            f"(after imports+load {r['parent_before_kib'] / 1024:.1f}, after run "
            f"{r['parent_after_run_kib'] / 1024:.1f}), workers peak "
            f"{r['workers_peak_kib'] / 1024:7.1f} MiB; ensemble {r['elapsed_s']:.0f} s "
            f"({n / r['elapsed_s']:.1f} rep/s), child total {time.perf_counter() - t:.0f} s",
            flush=True,
        )
    first = rows[0]
    for r in rows[1:]:
        print(
            f"ratio {r['reps']} / {first['reps']} reps: parent "
            f"{r['parent_peak_kib'] / first['parent_peak_kib']:.3f}x, workers "
            f"{r['workers_peak_kib'] / first['workers_peak_kib']:.3f}x"
        )


if __name__ == "__main__":
    main()
