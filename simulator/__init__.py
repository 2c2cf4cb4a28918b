"""relsim: a discrete-event simulator of rare-earth export-licence delays.

Public surface::

    import simulator as sim
    sc = sim.load_scenario("scenarios/cn-2025-april-controls.yaml")
    one = sim.run(sc, seed=0)                      # RunResult: frames + KPIs
    ens = sim.run_ensemble(sc, reps=200, seed=0)   # EnsembleResult: bands + intervals
    ens.plot.shortage_curve(manufacturer="eu_auto_supplier")
    cmp = sim.compare(sc_a, sc_b, reps=200)        # paired, common random numbers
"""

from simulator.engine import run
from simulator.errors import Problem, ScenarioError
from simulator.load import load_scenario, scenario_from_dict
from simulator.results import RunResult
from simulator.schema import Scenario

__version__ = "0.1.0"

__all__ = [
    "Problem",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "run",
    "scenario_from_dict",
]


def __getattr__(name: str):  # noqa: ANN202 - lazy heavy imports
    if name in ("run_ensemble", "compare", "EnsembleResult", "Comparison"):
        from simulator import ensemble

        return getattr(ensemble, name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
