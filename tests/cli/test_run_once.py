"""``relsim run`` simulates every replication once: replication 0's full tables
(``rep0/``) come from the ensemble's own replication 0, not from a second run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import simulator as sim
from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"


def test_each_replication_is_simulated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulator.ensemble.runner as runner
    import simulator.replication.engine as engine

    calls: Counter[int] = Counter()

    def counting(real: Any) -> Any:
        def simulate(scenario: Any, seed: int, rep: int, cal: Any) -> Any:
            calls[rep] += 1
            return real(scenario, seed, rep, cal)

        return simulate

    monkeypatch.setattr(runner, "simulate", counting(runner.simulate))
    monkeypatch.setattr(engine, "simulate", counting(engine.simulate))
    out = tmp_path / "run"
    code = main(
        [
            "run",
            str(SMALL),
            "--reps",
            "3",
            "--seed",
            "5",
            "--workers",
            "1",
            "--no-figures",
            "--no-report",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert dict(calls) == {0: 1, 1: 1, 2: 1}
    # the kept replication is replication 0 itself, table for table
    fresh = sim.run(sim.load_scenario(SMALL), seed=5, rep=0)
    for name in ("licences", "daily"):
        stored = pd.read_parquet(out / "rep0" / f"{name}.parquet")
        pd.testing.assert_frame_equal(
            stored.reset_index(drop=True),
            getattr(fresh, name).reset_index(drop=True),
            check_dtype=False,
        )


def test_keep_rep_returns_that_replication_in_full() -> None:
    sc = sim.load_scenario(SMALL)
    ens = sim.run_ensemble(sc, reps=3, seed=2, workers=1, progress=False, keep_rep=1)
    assert ens.kept is not None and ens.kept.rep == 1
    assert ens.kept.kpis.equals(sim.run(sc, seed=2, rep=1).kpis)
    with pytest.raises(ValueError, match="keep_rep"):
        sim.run_ensemble(sc, reps=3, seed=2, workers=1, progress=False, keep_rep=3)
