"""Benchmark: the compiled kernel's cold compile and warm start, in fresh processes.

Each round starts a new Python process with an empty ``RELSIM_CACHE_DIR`` and runs
:func:`simulator.kernel.warm` (compile everything a scenario needs), then a second fresh
process on the now-filled cache (load from disk). Prints wall and CPU seconds of each
(CPU time of the child process depends much less on what else runs on the machine than
wall time), their medians, and the load average.

Usage: python bench/compile.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CODE = "from simulator.kernel import warm; warm()"


def timed(env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process that warms the kernel."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", CODE], env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Run the rounds and print their figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    cold, warm = [], []
    for r in range(a.rounds):
        with tempfile.TemporaryDirectory() as d:
            env = {**os.environ, "RELSIM_CACHE_DIR": d}
            env.pop("NUMBA_CACHE_DIR", None)
            cold.append(timed(env))
            warm.append(timed(env))
        print(
            f"round {r}: cold {cold[-1][0]:.2f} s wall / {cold[-1][1]:.2f} s CPU, "
            f"warm {warm[-1][0]:.2f} s wall / {warm[-1][1]:.2f} s CPU"
        )
    for name, xs in (("cold", cold), ("warm", warm)):
        print(
            f"{name:5s} median {statistics.median(x[0] for x in xs):.2f} s wall, "
            f"{statistics.median(x[1] for x in xs):.2f} s CPU"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
