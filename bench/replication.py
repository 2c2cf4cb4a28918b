"""Benchmark: one case-study replication, compiled kernel vs SimPy engine, one process.

Both engines run the same replications of ``scenarios/cn-2025-april-controls.yaml``
(``simulate`` → the same :class:`~simulator.world.trace.Trace`), alternating
kernel/SimPy replication by replication so that load from other users of the machine
hits both alike. Times are CPU seconds of this process (``time.process_time``) per
replication; the kernel is compiled (or loaded from its cache) before timing. Prints the
median and best of each engine, the ratio of medians (SimPy / kernel) and the machine's
load average. With ``--ensemble N``, then also runs N replications of the scenario on the
kernel with ``--workers`` local processes (``run_ensemble``, as ``relsim run`` does) and
prints the wall time and the workers' CPU time (on a shared machine, wall time depends on
what else runs; CPU time much less).

Usage: python bench/replication.py [--reps 10] [--scenario FILE] [--ensemble 1000]
                                   [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import simulator as sim
from simulator.kernel import simulate_kernel
from simulator.world.calendar import build_calendar
from simulator.world.world import simulate

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=10, help="replications per engine")
    ap.add_argument("--scenario", default=str(CASE), help="scenario file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ensemble", type=int, default=0, help="then N replications on workers")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (--ensemble)")
    a = ap.parse_args()
    sc = sim.load_scenario(a.scenario)
    cal = build_calendar(sc)
    t0 = time.perf_counter()
    simulate_kernel(sc, a.seed, 0, cal)  # compile, or load the cache
    first = time.perf_counter() - t0
    simulate(sc, a.seed, 0, cal)  # warm the SimPy engine's imports and caches
    tk, ts = [], []
    for rep in range(a.reps):
        c = time.process_time()
        simulate_kernel(sc, a.seed, rep, cal)
        tk.append(time.process_time() - c)
        c = time.process_time()
        simulate(sc, a.seed, rep, cal)
        ts.append(time.process_time() - c)
    mk, ms = statistics.median(tk), statistics.median(ts)
    print(f"scenario        {Path(a.scenario).name}, seed {a.seed}, {a.reps} replications each")
    print(f"kernel first    {first:.2f} s wall (compile or cache load, + one replication)")
    print(f"kernel          median {mk * 1e3:8.1f} ms   best {min(tk) * 1e3:8.1f} ms CPU")
    print(f"simpy           median {ms * 1e3:8.1f} ms   best {min(ts) * 1e3:8.1f} ms CPU")
    print(f"ratio           {ms / mk:.1f}x (median)   {min(ts) / min(tk):.1f}x (best)")
    print(f"load average    {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if a.ensemble:
        from simulator.ensemble.runner import run_ensemble

        c0 = os.times()
        t0 = time.perf_counter()
        ens = run_ensemble(sc, reps=a.ensemble, seed=a.seed, workers=a.workers, engine="kernel")
        wall = time.perf_counter() - t0
        c1 = os.times()
        cpu = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
        print(
            f"ensemble        {ens.reps} replications on {ens.workers} worker processes "
            f"(kernel): {wall:.1f} s wall; workers' CPU {cpu:.1f} s "
            f"({cpu / wall:.2f} cores busy, {cpu / ens.reps * 1e3:.1f} ms a replication)"
        )
        print(f"load average    {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
