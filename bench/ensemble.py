"""Benchmark: ensemble throughput, serial vs local processes vs a Dask LocalCluster.

Runs the same ensemble (the realistic scenario, 1,000 replications by default) three
ways in one process — serially, on a local process pool, and on a Dask LocalCluster
with single-threaded worker processes — and prints wall times, replications per
second, speed-ups over serial, and whether the three ``summary.json`` payloads are
identical (they must be: results for a seed never depend on the executor).

The Dask cluster is started (and its workers have imported relsim) before each
Dask run and stopped after it, outside the timing; its start-up is printed
separately (its scheduler runs inside this process and would otherwise add CPU to
the other modes). The process pool is started inside the timed
run (it forks in milliseconds). Repeats interleave the modes so that load from
other users of the machine hits them alike; best-of-N is reported.

Diagnostics printed for the speed-up: the parent's cost per replication (unpickling
a chunk of digests and folding it into the aggregator, which competes with the
workers for a core) and the workers' CPU time (``os.times`` children) against wall
time.

Usage: python bench/ensemble.py [--reps 1000] [--workers 2] [--repeat 1]
                                [--modes serial,processes,dask] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import simulator as sim
from simulator.ensemble.aggregate import Aggregator
from simulator.ensemble.runner import _chunk

ROOT = Path(__file__).resolve().parents[1]
REALISTIC = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
SMALL = ROOT / "tests" / "data" / "small.yaml"


def load(path: str | None) -> tuple[sim.Scenario, str]:
    """The scenario to benchmark: ``path``, else the realistic one if it validates,
    else the small test scenario."""
    if path:
        return sim.load_scenario(path), path
    try:
        return sim.load_scenario(REALISTIC), str(REALISTIC.relative_to(ROOT))
    except sim.ScenarioError as e:
        print(f"realistic scenario does not validate ({e}); using {SMALL.name}", file=sys.stderr)
        return sim.load_scenario(SMALL), str(SMALL.relative_to(ROOT))


def dump(ens: sim.EnsembleResult) -> str:
    return json.dumps(ens.summary_dict(), sort_keys=True)


def parent_cost(sc: sim.Scenario, seed: int, n: int = 5) -> tuple[float, float, int]:
    """Seconds per replication the parent spends on a digest (unpickle + fold), the
    seconds of one replication in a worker, and the pickled size of a digest."""
    t = time.perf_counter()
    items = _chunk((sc, seed), 0, n)
    t_rep = (time.perf_counter() - t) / n
    blob = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    agg = Aggregator(sc)
    t = time.perf_counter()
    for _ in range(20):
        for s in pickle.loads(blob):
            agg.add(s)
    t_parent = (time.perf_counter() - t) / (20 * n)
    return t_parent, t_rep, len(blob) // n


def start_dask(workers: int) -> tuple[Any, Any]:
    """A LocalCluster of single-threaded worker processes, imports warmed."""
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    client.run(lambda: bool(__import__("simulator.ensemble.runner")))  # warm the workers' imports
    print(f"dask LocalCluster start-up (incl. worker imports) {time.perf_counter() - t:.1f} s")
    return client, cluster


def stop_dask(client: Any, cluster: Any) -> None:
    client.close()
    cluster.close()


def _dask_cpu(client: Any) -> float:
    """CPU seconds used so far by all Dask worker processes."""
    return float(sum(client.run(time.process_time).values()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", help="scenario file (default: the realistic scenario)")
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--modes", default="serial,processes,dask")
    ap.add_argument("--quick", action="store_true", help="100 replications, once")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.repeat = 100, 1
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    sc, name = load(args.scenario)
    print(f"scenario {name}: {sc.horizon_days} days, {len(sc.manufacturers)} manufacturers")
    print(
        f"{args.reps} replications, seed {args.seed}, {args.workers} workers, "
        f"nproc {os.cpu_count()}"
    )
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

    t_parent, t_rep, size = parent_cost(sc, args.seed)
    print(
        f"one replication {t_rep:.3f} s; parent per digest (unpickle + fold) "
        f"{t_parent * 1e3:.2f} ms = {t_parent / t_rep:.2%} of a replication; "
        f"digest {size / 1024:.0f} KiB pickled"
    )

    best: dict[str, float] = {}
    cpu_best: dict[str, float] = {}  # CPU seconds of the replications (all workers)
    dumps: dict[str, str] = {}
    client: Any = None
    cluster: Any = None
    try:
        for r in range(args.repeat):
            for mode in modes:
                if mode == "dask":
                    # started per run, outside the timing: the LocalCluster's scheduler
                    # lives in this process and would add its own CPU to other modes
                    client, cluster = start_dask(args.workers)
                kw: dict[str, Any] = {
                    "serial": {"executor": "serial"},
                    "processes": {"executor": "processes", "workers": args.workers},
                    "dask": {"executor": client},
                }[mode]
                c0 = os.times()
                d0 = _dask_cpu(client) if mode == "dask" else 0.0
                t = time.perf_counter()
                ens = sim.run_ensemble(sc, reps=args.reps, seed=args.seed, **kw)
                wall = time.perf_counter() - t
                c1 = os.times()
                dask_cpu = _dask_cpu(client) - d0 if mode == "dask" else 0.0
                child_cpu = (c1.children_user + c1.children_system) - (
                    c0.children_user + c0.children_system
                )
                own_cpu = (c1.user + c1.system) - (c0.user + c0.system)
                work_cpu = {"serial": own_cpu, "processes": child_cpu, "dask": dask_cpu}[mode]
                extra = f"; CPU {work_cpu:.1f} s = {work_cpu / wall:.2f} cores busy"
                if mode != "serial":
                    extra += f"; parent CPU {own_cpu:.1f} s"
                print(
                    f"run {r + 1} {mode:9s}: {wall:8.1f} s  {args.reps / wall:7.2f} rep/s"
                    f"  (load {os.getloadavg()[0]:.1f}){extra}",
                    flush=True,
                )
                best[mode] = min(best.get(mode, float("inf")), wall)
                cpu_best[mode] = min(cpu_best.get(mode, float("inf")), work_cpu)
                d = dump(ens)
                if mode in dumps and dumps[mode] != d:
                    raise SystemExit(f"{mode}: results differ between repeats")
                dumps[mode] = d
                if mode == "dask":
                    stop_dask(client, cluster)
                    client = cluster = None
    finally:
        if client is not None:
            stop_dask(client, cluster)

    print(f"best of {args.repeat}:")
    base = best.get("serial")
    for mode, wall in best.items():
        sp = f"  speed-up {base / wall:.2f}x" if base else ""
        print(f"  {mode:9s} {wall:8.1f} s  {args.reps / wall:7.2f} rep/s{sp}")
    if "serial" in cpu_best:
        # what the speed-up would be with every worker on its own idle core: serial CPU
        # over the workers' CPU shared evenly (parallel overhead shows up as extra CPU)
        for mode in ("processes", "dask"):
            if cpu_best.get(mode):
                n = args.workers
                print(
                    f"  {mode}: replications' CPU {cpu_best[mode]:.1f} s vs serial "
                    f"{cpu_best['serial']:.1f} s (efficiency "
                    f"{cpu_best['serial'] / cpu_best[mode]:.2f}); CPU-normalised speed-up "
                    f"{n * cpu_best['serial'] / cpu_best[mode]:.2f}x on {n} idle cores"
                )
    same = len(set(dumps.values())) == 1
    print(f"summary.json identical across {', '.join(dumps)}: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
