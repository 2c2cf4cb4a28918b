"""relsim: a discrete-event simulator of rare-earth export-licence delays.

Public surface::

    import simulator as sim
    sc = sim.load_scenario("scenarios/cn-2025-april-controls.yaml")
    one = sim.run(sc, seed=0)                      # RunResult: frames + KPIs
    ens = sim.run_ensemble(sc, reps=200, seed=0)   # EnsembleResult: bands + intervals
    ens.plot.shortage_curve(manufacturer="eu_auto_supplier")
    cmp = sim.compare(sc_a, sc_b, reps=200)        # paired, common random numbers

Heavy modules (pandas, SimPy, matplotlib) load on first use, so the CLI starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from simulator.errors import Problem, ScenarioError

__version__ = "0.1.0"

_LAZY = {
    "run": "simulator.engine",
    "RunResult": "simulator.results",
    "load_scenario": "simulator.load",
    "scenario_from_dict": "simulator.load",
    "Scenario": "simulator.schema",
    "run_ensemble": "simulator.ensemble",
    "compare": "simulator.ensemble",
    "EnsembleResult": "simulator.ensemble",
    "Comparison": "simulator.ensemble",
    "ReplicationError": "simulator.ensemble",
    "WorkCalendar": "simulator.calendar",
    "export_fit": "simulator.calibration",
    "load_observed_exports": "simulator.plotting",
}

__all__ = [
    "Comparison",
    "EnsembleResult",
    "Problem",
    "ReplicationError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "WorkCalendar",
    "__version__",
    "compare",
    "export_fit",
    "load_observed_exports",
    "load_scenario",
    "run",
    "run_ensemble",
    "scenario_from_dict",
]

if TYPE_CHECKING:  # pragma: no cover
    from simulator.calendar import WorkCalendar
    from simulator.calibration import export_fit
    from simulator.engine import run
    from simulator.ensemble import (
        Comparison,
        EnsembleResult,
        ReplicationError,
        compare,
        run_ensemble,
    )
    from simulator.load import load_scenario, scenario_from_dict
    from simulator.plotting import load_observed_exports
    from simulator.results import RunResult
    from simulator.schema import Scenario


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
