"""Executors: identical results for a seed on every executor; failures name the
replication and seed and never hang; chunking and the bounded submission window."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

import simulator as sim
from simulator.ensemble.executors import (
    DaskExecutor,
    FuturesExecutor,
    ProcessExecutor,
    _windowed,
    make_executor,
    window_for,
)
from simulator.ensemble.runner import FAULT_ENV, MAX_CHUNK, ReplicationError, _chunks
from simulator.world.world import World

SMALL = Path(__file__).resolve().parents[1] / "data" / "small.yaml"
REPS, SEED = 12, 5


def dump(ens: sim.EnsembleResult) -> str:
    return json.dumps(ens.summary_dict(), sort_keys=True)


@pytest.fixture(scope="module")
def small() -> sim.Scenario:
    return sim.load_scenario(SMALL)


@pytest.fixture(scope="module")
def serial_dump(small: sim.Scenario) -> str:
    return dump(sim.run_ensemble(small, reps=REPS, seed=SEED, executor="serial"))


@pytest.fixture(scope="module")
def dask_client() -> Any:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


# ------------------------------------------------------------------ identical results
def test_processes_identical_to_serial(small: sim.Scenario, serial_dump: str) -> None:
    ens = sim.run_ensemble(small, reps=REPS, seed=SEED, workers=2)
    assert ens.workers == 2
    assert dump(ens) == serial_dump


@pytest.mark.slow
def test_dask_client_identical_to_serial(
    small: sim.Scenario, serial_dump: str, dask_client: Any
) -> None:
    ens = sim.run_ensemble(small, reps=REPS, seed=SEED, executor=dask_client)
    assert ens.workers == 2
    assert dump(ens) == serial_dump


def test_dask_get_executor_identical_to_serial(
    small: sim.Scenario, serial_dump: str, dask_client: Any
) -> None:
    cf_ex = dask_client.get_executor()
    # routed through the client, so the scenario is scattered once, not sent per chunk
    assert isinstance(make_executor(cf_ex), DaskExecutor)
    ens = sim.run_ensemble(small, reps=REPS, seed=SEED, executor=cf_ex)
    assert dump(ens) == serial_dump


def test_dask_scheduler_address_identical_to_serial(
    small: sim.Scenario, serial_dump: str, dask_client: Any
) -> None:
    ens = sim.run_ensemble(small, reps=REPS, seed=SEED, scheduler=dask_client.scheduler.address)
    assert dump(ens) == serial_dump


def test_plain_futures_executor_identical_to_serial(small: sim.Scenario, serial_dump: str) -> None:
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(2) as pool:
        assert isinstance(make_executor(pool), FuturesExecutor)
        ens = sim.run_ensemble(small, reps=REPS, seed=SEED, executor=pool)
    assert dump(ens) == serial_dump


def test_kpi_table_matches_per_rep_runs(small: sim.Scenario) -> None:
    ens = sim.run_ensemble(small, reps=3, seed=SEED, executor="serial")
    per = ens.agg.kpis.frame()
    assert list(per["rep"].unique()) == [0, 1, 2]
    one = sim.run(small, seed=SEED, rep=1).summary.kpis
    got = per[per.rep == 1].set_index(["entity", "kpi"])["value"]
    assert len(got) == len(one)
    for key, v in one.items():
        assert got[key] == pytest.approx(v, nan_ok=True)


# ------------------------------------------------------------------ failures
def _failing_run(bad_rep: int) -> Any:
    orig = World.run

    def run(self: World) -> World:
        if self.rep == bad_rep:
            raise ValueError("boom in the world")
        return orig(self)

    return run


def test_failed_replication_serial_names_rep_and_seed(small: sim.Scenario) -> None:
    # the SimPy engine's world fails (the kernel has no World to patch)
    with (
        mock.patch.object(World, "run", _failing_run(4)),
        pytest.raises(ReplicationError) as err,
    ):
        sim.run_ensemble(small, reps=REPS, seed=SEED, executor="serial", engine="simpy")
    e = err.value
    assert (e.rep, e.seed) == (4, SEED)
    assert "replication 4" in str(e) and f"seed {SEED}" in str(e)
    assert "boom in the world" in str(e) and "ValueError" in e.detail


def test_failed_replication_processes_names_rep_and_seed(
    small: sim.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, "rep:7")
    t0 = time.perf_counter()
    with pytest.raises(ReplicationError) as err:
        sim.run_ensemble(small, reps=REPS, seed=SEED, workers=2)
    assert (err.value.rep, err.value.seed) == (7, SEED)
    assert "replication 7" in str(err.value) and FAULT_ENV in err.value.detail
    assert time.perf_counter() - t0 < 60


def test_failure_stops_long_ensemble_without_waiting(
    small: sim.Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rep 0 fails: the error surfaces at once and the workers still busy with
    other chunks are terminated, not waited for."""
    monkeypatch.setenv(FAULT_ENV, "rep:0")
    ex = ProcessExecutor(2)
    t0 = time.perf_counter()
    with pytest.raises(ReplicationError) as err:
        sim.run_ensemble(small, reps=2000, seed=SEED, executor=ex, engine="simpy")
    assert err.value.rep == 0
    assert time.perf_counter() - t0 < 30  # 2,000 SimPy reps would take minutes
    assert ex._pool is None


def test_failed_replication_dask_names_rep_and_seed(small: sim.Scenario, dask_client: Any) -> None:
    # the workers were started before the test: set the hook in their environment
    dask_client.run(lambda: os.environ.__setitem__(FAULT_ENV, "rep:9"))
    try:
        with pytest.raises(ReplicationError) as err:
            sim.run_ensemble(small, reps=REPS, seed=SEED, executor=dask_client)
    finally:
        dask_client.run(lambda: os.environ.pop(FAULT_ENV, None))
    assert (err.value.rep, err.value.seed) == (9, SEED)
    assert FAULT_ENV in err.value.detail


# ------------------------------------------------------------------ chunks and window
@pytest.mark.parametrize("reps,workers", [(1, 1), (12, 2), (1000, 2), (10_000, 8), (7, 32)])
def test_chunks_cover_reps_once_and_shrink(reps: int, workers: int) -> None:
    ch = _chunks(reps, workers, rep_offset=3)
    assert ch[0][0] == 3 and ch[-1][1] == reps + 3
    assert all(a < b for a, b in ch)
    assert all(ch[i][1] == ch[i + 1][0] for i in range(len(ch) - 1))
    sizes = [b - a for a, b in ch]
    assert max(sizes) <= MAX_CHUNK and sizes == sorted(sizes, reverse=True)
    assert sizes[-1] == 1


def test_window_bounds_chunks_in_flight() -> None:
    """Chunk j is never submitted before chunk j - window has finished, even when the
    first chunk is the slowest (results can't pile up out of order)."""
    import concurrent.futures as cf
    import threading

    window = window_for(2)
    gate = threading.Event()
    submitted: list[int] = []
    lock = threading.Lock()
    outstanding = set()
    max_ahead = 0

    def work(a: int) -> int:
        if a == 0:
            gate.wait(5)
        return a

    with cf.ThreadPoolExecutor(4) as pool:

        def submit(a: int, b: int) -> cf.Future:
            nonlocal max_ahead
            with lock:
                submitted.append(a)
                outstanding.add(a)
                max_ahead = max(max_ahead, a - min(outstanding))
            f = pool.submit(work, a)
            f.add_done_callback(lambda _f: outstanding.discard(a))
            return f

        chunks = [(i, i + 1) for i in range(40)]
        it = _windowed(submit, chunks, window)
        got = []
        for _i, r in it:
            got.append(r)
            if len(got) == window - 1:
                assert len(submitted) == window  # blocked behind chunk 0
                gate.set()
    assert sorted(got) == list(range(40))
    assert max_ahead < window


# ------------------------------------------------------------------ limits, parent death, Dask
def test_workers_never_exceed_replications_or_the_limit(small: sim.Scenario) -> None:
    from simulator.limits import Limits

    ens = sim.run_ensemble(small, reps=2, seed=SEED, workers=Limits.MAX_WORKERS)
    assert ens.workers == 2  # not 256 processes for 2 replications
    with pytest.raises(ValueError, match="between 1 and 256"):
        make_executor(workers=Limits.MAX_WORKERS + 1)
    with pytest.raises(ValueError, match="reps must be between 1 and 1,000,000"):
        sim.run_ensemble(small, reps=Limits.MAX_REPS + 1, workers=1)
    with pytest.raises(ValueError, match="seed must be between"):
        sim.run_ensemble(small, reps=2, seed=-1, workers=1)


WATCHDOG = """
import os, sys, time
from simulator.ensemble import executors
executors.sys = type("nolinux", (), {"platform": "other"})  # no prctl: the watchdog alone
executors.PARENT_POLL_S = 0.2
r, w = os.pipe()
if os.fork() == 0:  # the parent that will die
    if os.fork() == 0:  # its worker
        executors._die_with_parent(os.getppid())
        os.write(w, b"%d\\n" % os.getpid())
        time.sleep(60)
        os._exit(0)
    time.sleep(0.5)
    os._exit(0)  # dies without stopping its worker
pid = int(os.read(r, 100))
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        state = "gone"
    if state in ("gone", "Z"):
        print("gone")
        break
    time.sleep(0.05)
else:
    os.kill(pid, 9)
    print("alive")
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="uses /proc and fork")
def test_worker_watchdog_ends_a_worker_whose_parent_died() -> None:
    """Where PR_SET_PDEATHSIG is missing, the watchdog thread alone ends a worker within
    a poll or two of its parent's death."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", WATCHDOG], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "gone", r.stdout + r.stderr


def test_lost_dask_cluster_names_the_replications_not_run(small: sim.Scenario) -> None:
    """The cluster goes away mid-ensemble: a ClusterLost naming the replications that
    did not run, not a cryptic cancelled future (and not a hang)."""
    distributed = pytest.importorskip("distributed")
    from simulator.errors import ClusterLost

    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    client = distributed.Client(cluster)

    def lose_cluster(done: int, total: int) -> None:
        if done == 1:
            cluster.close()

    t0 = time.perf_counter()
    try:
        with pytest.raises(ClusterLost) as err:
            sim.run_ensemble(small, reps=40, seed=SEED, executor=client, progress=lose_cluster)
    finally:
        client.close()
        cluster.close()
    assert err.value.done >= 1 and err.value.reps == 40
    assert f"replications {err.value.done}..39 of 40 did not run" in str(err.value)
    assert time.perf_counter() - t0 < 60
