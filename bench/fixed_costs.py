"""Benchmark: the fixed costs of a command that simulates nothing (issue 15, item 5).

``relsim validate FILE`` must take ≤ 0.3 s wall on an idle machine: an editor runs it on
save and CI runs it on every scenario of a pull request. This script runs it in fresh
processes (as a user does), prints the median and best wall time of ``--runs`` runs next
to a bare ``python -c pass`` (the interpreter's own start-up) and the load average, and
names any heavy package the command imported (there should be none).

Usage: python bench/fixed_costs.py [FILE] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "matplotlib", "simpy", "numba", "scipy", "numpy", "dask")


def wall(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default="scenarios/cn-2025-april-controls.yaml")
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    validate = [sys.executable, "-m", "simulator", "validate", a.file]
    bare = [sys.executable, "-c", "pass"]
    wall(validate)  # warm the file system cache and .pyc files
    v = [wall(validate) for _ in range(a.runs)]
    b = [wall(bare) for _ in range(a.runs)]
    print(
        f"relsim validate {a.file}: median {statistics.median(v):.3f} s, best {min(v):.3f} s "
        f"({a.runs} runs); python -c pass: median {statistics.median(b):.3f} s"
    )
    probe = (
        "import sys\nfrom simulator.cli import main\n"
        f"main(['validate', {a.file!r}])\n"
        f"print('heavy imports:', sorted(m for m in {HEAVY!r} if m in sys.modules) or 'none')"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    print(r.stdout.strip().splitlines()[-1])
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
