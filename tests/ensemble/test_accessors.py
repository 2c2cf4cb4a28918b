"""``.plot`` accessors and notebook views without an upward import: the ensemble stage
holds a registry the report stage fills, and the package face loads the report stage
the first time a figure is asked for (:mod:`simulator.ensemble.accessors`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.ensemble import accessors

ROOT = Path(__file__).resolve().parents[2]


def test_views_and_plots_load_the_report_stage_only_for_figures() -> None:
    """Imported the way the tests and the CLI do (a submodule, not ``simulator``): the
    notebook views render without the report stage, ``.plot`` loads it."""
    code = (
        "import sys\n"
        "from simulator.ensemble.runner import compare, run_ensemble\n"
        "from simulator.replication.engine import run\n"
        "from simulator.scenario.load import load_scenario\n"
        "sc = load_scenario('tests/data/small.yaml')\n"
        "kw = dict(reps=2, seed=0, workers=1, progress=False, engine='simpy')\n"
        "ens, cmp = run_ensemble(sc, **kw), compare(sc, sc, **kw)\n"
        "html = run(sc, seed=0, engine='simpy')._repr_html_() + ens._repr_html_()"
        " + cmp._repr_html_()\n"
        "before = sorted(m for m in sys.modules if m.startswith('simulator.report'))\n"
        "print(before, 'matplotlib' in sys.modules, '<table' in html)\n"
        "print(type(ens.plot).__name__, type(cmp.plot).__name__)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    first, second = r.stdout.strip().splitlines()[-2:]
    assert first == "[] False True"
    assert second == "EnsemblePlots ComparisonPlots"


def test_registry_finds_subclasses_and_runs_loaders_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accessors, "_FACTORIES", {})
    monkeypatch.setattr(accessors, "_LOADERS", [])

    class Result:
        pass

    class Special(Result):
        pass

    calls: list[str] = []

    def load() -> None:
        calls.append("load")
        accessors.register_plots(Result, lambda r: ("plots of", r))

    accessors.add_loader(load)
    accessors.add_loader(load)  # once
    s = Special()
    assert accessors.plots(s) == ("plots of", s)
    assert accessors.plots(Result())[0] == "plots of"
    assert calls == ["load"]

    class Other:
        pass

    with pytest.raises(LookupError, match="no plots registered for Other"):
        accessors.plots(Other())
