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
CASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
TARGETS = ROOT / "scenarios" / "calibration" / "cn-2025-targets.yaml"


def step_times(reps: int, scenario: Path = CASE, targets: Path = TARGETS) -> dict[str, float]:
    """Median CPU milliseconds of each step of a bank simulation (default: the case study).

    Args:
        reps: Simulations timed (at prior draws of the targets file's parameters).
        scenario: Scenario file.
        targets: Its targets file (with ``parameters:``).

    Returns:
        Step name → median CPU ms: ``scenario``, ``plan``, ``draws``, ``loop``,
        ``summarise``, ``decode`` and the derived ``summary_only`` (draws + loop +
        summarise), ``full_path`` (draws + loop + decode) and ``bank_simulation``
        (scenario + plan + summary-only replication).
    """
    from simulator.explore.forecast import prepare
    from simulator.explore.summaries import trace_summaries
    from simulator.kernel.engine import _run, simulate_kernel, warm
    from simulator.kernel.pack import PLAN_LOCK, plan_for
    from simulator.kernel.summary import summarise
    from simulator.world.draws import fill_draws

    setup = prepare(scenario, targets)
    sim = setup.simulator
    warm()
    rng = np.random.default_rng(0)
    thetas = setup.prior.sample(rng, reps)
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
    run = med["draws"] + med["loop"]
    med["summary_only"] = run + med["summarise"]
    med["full_path"] = run + med["decode"]
    med["bank_simulation"] = med["scenario"] + med["plan"] + med["summary_only"]
    return med


def bank_rate(
    n: int, workers: int, scenario: Path = CASE, targets: Path = TARGETS
) -> tuple[float, float]:
    """Simulate an unstored bank of ``n`` simulations on ``workers`` processes.

    Args:
        n: Simulations.
        workers: Worker processes (1: serially).
        scenario: Scenario file (default: the case study).
        targets: Its targets file (with ``parameters:``).

    Returns:
        Wall seconds and simulations per second.
    """
    from simulator.ensemble.options import Execution
    from simulator.explore.forecast import build, prepare

    setup = prepare(scenario, targets)
    t = time.perf_counter()
    build(setup, n, 12345, Execution(workers=workers), None)
    wall = time.perf_counter() - t
    return wall, n / wall


def main() -> None:
    """Print the step times and a bank's rate (see the module docstring)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--bank", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    med = step_times(a.reps)
    print(f"load average {os.getloadavg()}")
    print("CPU ms per case-study simulation (median of", a.reps, "):")
    for k in ("scenario", "plan", "draws", "loop", "summarise", "decode"):
        print(f"  {k:10} {med[k]:7.1f}")
    print(f"  replication, summary-only: {med['summary_only']:.1f} ms; "
          f"full path: {med['full_path']:.1f} ms")  # fmt: skip
    print(f"  simulation of a bank (scenario + plan + summary-only replication): "
          f"{med['bank_simulation']:.1f} ms")  # fmt: skip
    if a.bank:
        wall, rate = bank_rate(a.bank, a.workers)
        print(f"bank of {a.bank} on {a.workers} processes: {wall:.1f} s wall, "
              f"{rate:.1f} simulations/s; load average {os.getloadavg()}")  # fmt: skip


if __name__ == "__main__":
    main()
