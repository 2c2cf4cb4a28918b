"""relsim: a discrete-event simulator of rare-earth export-licence delays.

Public surface::

    import simulator as sim
    sc = sim.load_scenario("scenarios/cn-2025-april-controls.yaml")
    one = sim.run(sc, seed=0)                      # RunResult: frames + KPIs
    ens = sim.run_ensemble(sc, reps=200, seed=0)   # EnsembleResult: bands + intervals
    ens.plot.shortage_curve(manufacturer="eu_auto_supplier")
    cmp = sim.compare(sc_a, sc_b, reps=200)        # paired, common random numbers
    print(sim.diff(sc_a, sc_b))                    # what differs between two scenarios
    print(sim.explain(sc, "2025-09-15", destination="DE"))  # rules in force on a day
    sw = sim.sweep("scenarios/eu-autumn-slowdown.yaml", reps=20)  # its uncertainties: block
    sw.frame                                       # point × parameters × entity × KPI
    sw.plot.stress_map("any_shortage")             # P(line stop) over two parameters
    fitted = sim.fit("scenario.yaml", "targets.yaml")  # free parameters → targets
    fc = sim.forecast("scenario.yaml", "targets.yaml", "2025-07-31")  # posterior + predictive
    bt = sim.backtest("scenario.yaml", "targets.yaml", "2025-05:2025-11", horizon=3)

Heavy modules (pandas, SimPy, matplotlib) load on first use, so the CLI starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from simulator.ensemble import accessors as _accessors
from simulator.errors import Problem, ReplicationError, ScenarioError
from simulator.version import __version__

_LAZY = {
    "run": "simulator.replication.engine",
    "RunResult": "simulator.replication.result",
    "Trace": "simulator.world.trace",
    "load_scenario": "simulator.scenario.load",
    "scenario_from_dict": "simulator.scenario.load",
    "Scenario": "simulator.scenario.model",
    "run_ensemble": "simulator.ensemble.runner",
    "compare": "simulator.ensemble.runner",
    "EnsembleResult": "simulator.ensemble.results",
    "Comparison": "simulator.ensemble.results",
    "WorkCalendar": "simulator.world.calendar",
    "export_fit": "simulator.report.calibration",
    "load_observed_exports": "simulator.report.observed",
    "explain": "simulator.world.explain",
    "diff": "simulator.scenario.diff",
    "sweep": "simulator.explore.sweep",
    "SweepResult": "simulator.explore.sweep",
    "fit": "simulator.explore.fit",
    "FitResult": "simulator.explore.fit",
    "forecast": "simulator.explore.forecast",
    "ForecastResult": "simulator.explore.forecast",
    "backtest": "simulator.explore.backtest",
    "BacktestResult": "simulator.explore.backtest",
}

__all__ = [
    "BacktestResult",
    "Comparison",
    "EnsembleResult",
    "FitResult",
    "ForecastResult",
    "Problem",
    "ReplicationError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SweepResult",
    "Trace",
    "WorkCalendar",
    "__version__",
    "backtest",
    "compare",
    "diff",
    "explain",
    "export_fit",
    "fit",
    "forecast",
    "load_observed_exports",
    "load_scenario",
    "run",
    "run_ensemble",
    "scenario_from_dict",
    "sweep",
]

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import Comparison, EnsembleResult
    from simulator.ensemble.runner import compare, run_ensemble
    from simulator.explore.backtest import BacktestResult, backtest
    from simulator.explore.fit import FitResult, fit
    from simulator.explore.forecast import ForecastResult, forecast
    from simulator.explore.sweep import SweepResult, sweep
    from simulator.replication.engine import run
    from simulator.replication.result import RunResult
    from simulator.report.calibration import export_fit
    from simulator.report.observed import load_observed_exports
    from simulator.scenario.diff import diff
    from simulator.scenario.load import load_scenario, scenario_from_dict
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar
    from simulator.world.explain import explain
    from simulator.world.trace import Trace


def _load_figures() -> None:
    """Import the figures (report stage), which register ``ens.plot`` and ``cmp.plot``:
    the results' stage may not import a stage above it, the face may (see
    :mod:`simulator.ensemble.accessors`)."""
    import simulator.report.plots  # noqa: F401


_accessors.add_loader(_load_figures)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
