"""Identity check: ``summary.json`` of every shipped scenario and example, on both engines.

Runs each scenario of ``scenarios/*.yaml`` and ``scenarios/examples/*.yaml`` on the compiled
kernel and on the SimPy reference (serially, in this process) and prints the SHA-256 of
the ``summary.json`` each would write, and whether the two engines agree. With
``--save FILE`` the hashes are stored; with ``--check FILE`` they are compared with a
stored set (exit 1 on any difference): the way to show that a refactoring changed no
result, before and after, on both engines.

Usage: python bench/identity.py [--reps 4] [--seed 3] [--engine kernel|simpy|both]
                                [--save FILE | --check FILE] [FILE ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import simulator as sim
from simulator.ensemble.runner import run_ensemble

ROOT = Path(__file__).resolve().parents[1]


def summary_hash(path: Path, engine: str, reps: int, seed: int) -> str:
    """SHA-256 of the ``summary.json`` a run of ``path`` would write."""
    sc = sim.load_scenario(path, allow=[ROOT / "scenarios" / "data"])
    ens = run_ensemble(sc, reps=reps, seed=seed, workers=1, progress=False, engine=engine)
    text = json.dumps(ens.summary_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main() -> int:
    """Run the check and print one line per scenario and engine."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="scenarios (default: every shipped one)")
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--engine", choices=("kernel", "simpy", "both"), default="both")
    ap.add_argument("--save", help="store the hashes in this JSON file")
    ap.add_argument("--check", help="compare with hashes stored by --save")
    a = ap.parse_args()
    files = [Path(f) for f in a.files] or sorted((ROOT / "scenarios").glob("*.yaml")) + sorted(
        (ROOT / "scenarios" / "examples").glob("*.yaml")
    )
    engines = ("kernel", "simpy") if a.engine == "both" else (a.engine,)
    stored = json.loads(Path(a.check).read_text()) if a.check else {}
    out: dict[str, dict[str, str]] = {}
    bad = 0
    for f in files:
        name = str(f.resolve().relative_to(ROOT))
        row = out.setdefault(name, {})
        cells = []
        for eng in engines:
            t0 = time.perf_counter()
            row[eng] = summary_hash(f, eng, a.reps, a.seed)
            mark = ""
            if stored:
                old = stored.get(name, {}).get(eng)
                mark = " =" if old == row[eng] else " CHANGED"
                bad += old != row[eng]
            cells.append(f"{eng} {row[eng][:12]}{mark} ({time.perf_counter() - t0:.1f} s)")
        same = len(set(row.values())) == 1
        bad += not same
        print(f"{name:55s} {'  '.join(cells)}  {'engines agree' if same else 'ENGINES DIFFER'}")
    if a.save:
        Path(a.save).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{len(files)} scenarios, reps {a.reps}, seed {a.seed}: {bad} difference(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
