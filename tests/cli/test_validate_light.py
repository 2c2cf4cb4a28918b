"""``relsim validate`` stays light: a CI job validating scenarios from pull requests, or
an editor running it on save, must not pay for the simulation's stack.

Its wall time (≤ 0.3 s on an idle machine) is measured by ``bench/fixed_costs.py``; the
test checks the cause that matters: no pandas, matplotlib, SimPy, numba, SciPy, NumPy or
Dask is imported, whatever feature a shipped scenario uses (observed exports are checked
by the same reader ``run`` uses, without pandas)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "matplotlib", "simpy", "numba", "scipy", "numpy", "dask")


def test_validate_imports_none_of_the_simulation_stack() -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    files += sorted(str(p) for p in (ROOT / "scenarios" / "examples").glob("*.yaml"))
    code = (
        "import sys\n"
        "from simulator.cli import main\n"
        f"rc = main(['validate', *{files!r}])\n"
        f"print(rc, sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "0 []", r.stdout[-2000:]


def test_validate_reads_observed_exports_as_run_does(tmp_path: Path) -> None:
    """A month that is not a date is refused by validate (located, exit 2), so that what
    validate accepts, run reads."""
    data = tmp_path / "obs.csv"
    data.write_text("month,total_t\n2025-04,100\nApril,90\n", encoding="utf-8")
    sc = tmp_path / "s.yaml"
    base = (ROOT / "tests" / "data" / "small.yaml").read_text(encoding="utf-8")
    sc.write_text(base + "\nobserved_exports: obs.csv\n", encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", str(sc)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "observed_exports" in r.stderr and "line 3: month is not a date" in r.stderr
    assert "April" not in r.stderr  # never quotes the file
    data.write_text("month,total_t,DE_t\n2025-04,100,\n2025-05-01,90,12.5\n", encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", str(sc)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    from simulator.report.observed import load_observed_exports

    df = load_observed_exports(data)
    assert [str(m.date()) for m in df["month"]] == ["2025-04-01", "2025-05-01"]
    assert df["DE_t"].isna().tolist() == [True, False]
