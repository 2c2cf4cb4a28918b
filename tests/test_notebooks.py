"""The notebooks in ``notebooks/`` run top to bottom, fast, and are committed clean.

Each notebook is executed in a fresh kernel of *this* interpreter (a throw-away
kernelspec whose argv is ``sys.executable``, so a user-level ``python3`` kernelspec
pointing elsewhere cannot be picked up), from the notebook's own directory (as
nbmake and Jupyter do), with ``RELSIM_NB_REPS`` small and ``MPLBACKEND=Agg``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbclient
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = ("01-quickstart.ipynb", "02-policy-comparison.ipynb", "03-case-study-2025.ipynb")
REPS = 8  # replications per ensemble inside the notebooks (their default is 40)
MAX_SECONDS = 180.0  # per notebook
KERNEL = "relsim-nbtest"
_PROBE = "import os, sys\nprint(sys.executable)\nprint(os.environ.get('RELSIM_NB_REPS'))"


def test_notebooks_present() -> None:
    found = sorted(p.name for p in NB_DIR.glob("*.ipynb"))
    assert found == sorted(NOTEBOOKS), f"notebooks/ holds {found}; the test runs {NOTEBOOKS}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_committed_clean(name: str) -> None:
    """No outputs or execution counts in the repository (clear them before committing)."""
    nb = nbformat.read(NB_DIR / name, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{name}: cells {dirty} have outputs or execution counts; clear them, e.g. "
        f"`jupyter nbconvert --clear-output --inplace notebooks/{name}`"
    )


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernelspec for this interpreter, with the test environment baked in."""
    root = tmp_path_factory.mktemp("kernels")
    spec_dir = root / KERNEL
    spec_dir.mkdir()
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "relsim notebook test",
        "language": "python",
        "env": {"RELSIM_NB_REPS": str(REPS), "MPLBACKEND": "Agg"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(root)], ensure_native_kernel=False)


def _cell_seconds(cell: nbformat.NotebookNode) -> float:
    ex = cell.get("metadata", {}).get("execution", {})
    a, b = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (a and b):
        return 0.0
    from datetime import datetime

    def parse(s: str) -> datetime:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))

    return (parse(b) - parse(a)).total_seconds()


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str, kernel_specs: KernelSpecManager) -> None:
    nb = nbformat.read(NB_DIR / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))  # in memory only
    km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = nbclient.NotebookClient(
        nb,
        km=km,
        kernel_name=KERNEL,
        timeout=600,
        resources={"metadata": {"path": str(NB_DIR)}},
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError (with the traceback) if a cell fails
    elapsed = time.perf_counter() - t0

    errors = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)
    ]
    assert not errors, f"{name}: cells {errors} errored"
    # nothing a reader would take for a broken notebook: no NaN statistics, no missing
    # widget front end for the progress bars
    texts = [
        (i, str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.outputs
    ]
    assert not [i for i, t in texts if "IProgress not found" in t], f"{name}: no ipywidgets"
    assert not [i for i, t in texts if ": nan" in t or "nan," in t], f"{name}: NaN printed"

    probe = "".join(o.get("text", "") for o in nb.cells[-1].outputs).split()
    assert probe == [sys.executable, str(REPS)], f"kernel ran {probe}, expected {sys.executable}"

    slowest = sorted(
        ((_cell_seconds(c), i) for i, c in enumerate(nb.cells) if c.cell_type == "code"),
        reverse=True,
    )[:3]
    detail = ", ".join(f"cell {i}: {s:.1f}s" for s, i in slowest)
    print(f"{name}: {elapsed:.1f}s (REPS={REPS}; slowest {detail})")
    assert elapsed < MAX_SECONDS, f"{name} took {elapsed:.0f}s (limit {MAX_SECONDS:.0f}s); {detail}"
