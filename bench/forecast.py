"""Benchmark: where a forecast's simulation spends its time, and how many run per second.

One case-study simulation of a bank (``CaseSimulator``: the scenario at a parameter
vector, then one replication on the summary-only path) is split into its steps, each
timed in CPU milliseconds of this process (``time.process_time``), median over
``--reps`` simulations at prior draws, alternating so that load from other users of
the machine hits every step alike:

* ``scenario``: the scenario at the parameter vector (overrides applied, validated);
* ``plan``: its compiled form (``world.static`` + the kernel's packing);
* ``draws``: the replication's draw table (``world.draws.fill_draws``);
* ``loop``: the compiled event loop;
* ``summarise``: the summary vector from the kernel's state (summary-only path);
* ``decode``: the same numbers through the full path (trace, tables, targets).

Then ``--bank N`` simulations through ``build_bank`` on ``--workers`` processes (wall
time, simulations per second). Prints the machine's load average beside the numbers.

Usage: python bench/forecast.py [--reps 20] [--bank 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--bank", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()

    from simulator.ensemble.options import Execution
    from simulator.explore.forecast import build, prepare
    from simulator.explore.summaries import trace_summaries
    from simulator.kernel.engine import _run, log_columns, simulate_kernel, warm  # noqa: F401
    from simulator.kernel.pack import PLAN_LOCK, plan_for
    from simulator.kernel.summary import summarise
    from simulator.world.draws import fill_draws

    setup = prepare(
        ROOT / "scenarios" / "cn-2025-april-controls.yaml",
        ROOT / "scenarios" / "calibration" / "cn-2025-targets.yaml",
    )
    sim = setup.simulator
    warm()
    rng = np.random.default_rng(0)
    thetas = setup.prior.sample(rng, a.reps)
    steps: dict[str, list[float]] = {
        k: [] for k in ("scenario", "plan", "draws", "loop", "summarise", "decode")
    }
    sim(thetas[0], 0, 1)  # first-use costs out of the way
    for i, th in enumerate(thetas):
        t = time.process_time()
        sc = sim.scenario(th)
        steps["scenario"].append(time.process_time() - t)
        cal = sim.calendar(sc)
        t = time.process_time()
        with PLAN_LOCK:
            plan = plan_for(sc, cal)
        steps["plan"].append(time.process_time() - t)
        t = time.process_time()
        fill_draws(plan.static, 1, i)
        steps["draws"].append(time.process_time() - t)
        t = time.process_time()
        K, _, _, demand = _run(sc, 1, i, cal)  # draws again + loop
        steps["loop"].append(time.process_time() - t - steps["draws"][-1])
        t = time.process_time()
        fast = summarise(K, demand, setup.layout.spec, cal)
        steps["summarise"].append(time.process_time() - t)
        t0 = time.process_time()
        trace = simulate_kernel(sc, 1, i, cal)
        t1 = time.process_time()
        full = trace_summaries(sc, trace, cal, setup.targets, setup.layout)
        t2 = time.process_time()
        # decoding = building the trace beyond the loop, plus tables and targets
        steps["decode"].append((t1 - t0) - steps["draws"][-1] - steps["loop"][-1] + (t2 - t1))
        assert np.array_equal(fast, full, equal_nan=True)
    med = {k: 1e3 * statistics.median(v) for k, v in steps.items()}
    print(f"load average {os.getloadavg()}")
    print("CPU ms per case-study simulation (median of", a.reps, "):")
    for k, v in med.items():
        print(f"  {k:10} {v:7.1f}")
    run = med["draws"] + med["loop"]
    print(f"  replication, summary-only: {run + med['summarise']:.1f} ms; "
          f"full path: {run + med['decode']:.1f} ms")  # fmt: skip
    print(f"  simulation of a bank (scenario + plan + summary-only replication): "
          f"{med['scenario'] + med['plan'] + run + med['summarise']:.1f} ms")  # fmt: skip
    if a.bank:
        t = time.perf_counter()
        c = time.process_time()
        build(setup, a.bank, 12345, Execution(workers=a.workers), None)
        wall = time.perf_counter() - t
        print(f"bank of {a.bank} on {a.workers} processes: {wall:.1f} s wall, "
              f"{a.bank / wall:.1f} simulations/s (parent CPU {time.process_time() - c:.1f} s); "
              f"load average {os.getloadavg()}")  # fmt: skip


if __name__ == "__main__":
    main()
