"""Ctrl-C and SIGTERM during ``relsim run``: a clean exit 130, no traceback, no run
directory that looks complete, no leftover temporary directories, no stray workers.

A real subprocess runs ``tests/bad_inputs/base_valid.yaml`` for 500 replications on two
worker processes (about 20 s on the SimPy engine), in its own session so that "Ctrl-C"
can be simulated by signalling the whole process group (as a terminal does) or only the
parent.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "bad_inputs" / "base_valid.yaml"

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and fork"),
    pytest.mark.slow,  # signals to real subprocesses
]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that never comes counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "simulator", "run", str(SCENARIO), "--out", str(out), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONFAULTHANDLER": "1"},
        start_new_session=True,  # its own process group, like a job in a terminal
    )


def _wait_for(
    condition: Callable[[], bool], proc: subprocess.Popen[str], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"relsim ended early ({proc.returncode}): {proc.stderr.read()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("timed out waiting for relsim")
        time.sleep(0.02)


def _finish(proc: subprocess.Popen[str], timeout: float = 30) -> tuple[str, str, float]:
    start = time.monotonic()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGABRT)  # faulthandler dumps every thread's stack
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"relsim hung after the signal:\n{err[-6000:]}") from None
    return out, err, time.monotonic() - start


def _assert_clean_interrupt(proc: subprocess.Popen[str], out: str, err: str) -> None:
    assert proc.returncode == 130, f"exit {proc.returncode}\n{err}"
    assert "relsim: interrupted" in err, err
    assert "Traceback" not in out + err, err
    assert "KeyboardInterrupt" not in out + err, err


@pytest.mark.parametrize("group", [True, False], ids=["process-group", "parent-only"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_ensemble_leaves_nothing_behind(
    sig: signal.Signals, group: bool, tmp_path: Path
) -> None:
    target = tmp_path / "run"
    # the SimPy engine: long enough to interrupt (the kernel runs these 500 in ~2 s)
    proc = _start(target, "--reps", "500", "--workers", "2", "--quiet", "--engine", "simpy")
    _wait_for(lambda: len(_children(proc.pid)) >= 1, proc)  # the worker pool is up
    time.sleep(1.5)
    workers = _children(proc.pid)
    assert proc.poll() is None, "the run finished before the signal; make it longer"
    if group:
        os.killpg(proc.pid, sig)  # what Ctrl-C in a terminal does
    else:
        os.kill(proc.pid, sig)
    out, err, seconds = _finish(proc)
    _assert_clean_interrupt(proc, out, err)
    assert seconds < 15, f"took {seconds:.1f} s to stop"  # workers are not waited for
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [], "temporary directories left behind"
    time.sleep(0.2)
    assert not [w for w in workers if _alive(w)], "worker processes outlived the parent"


def test_interrupt_while_writing_keeps_the_previous_run(tmp_path: Path) -> None:
    """Ctrl-C while the run directory is being written (``--force`` over an old run):
    the old run stays whole, the half-written one and its temporary sibling vanish."""
    target = tmp_path / "run"
    for _attempt in range(3):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        (target / "manifest.json").write_text('{"tool": "relsim"}')  # the previous run
        (target / "summary.json").write_text("{}")
        proc = _start(target, "--reps", "4", "--workers", "1", "--force", "--quiet")

        def writing() -> bool:
            return any(p.name.startswith(".run.tmp-") for p in tmp_path.iterdir())

        _wait_for(writing, proc)
        os.killpg(proc.pid, signal.SIGINT)
        out, err, _ = _finish(proc)
        if proc.returncode == 0:  # it finished writing before the signal: try again
            continue
        _assert_clean_interrupt(proc, out, err)
        if f"interrupted after writing {target}" in err:  # the signal hit the commit
            assert (target / "manifest.json").exists()  # which finished: try again
            continue
        assert "no results written" in err, err
        assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "summary.json"]
        assert [p.name for p in tmp_path.iterdir()] == ["run"]
        return
    pytest.fail("could not interrupt relsim while it was writing its run directory")


EXEC_INTERRUPT = textwrap.dedent(
    """
    import sys
    import simulator.scenario.load

    def interrupted_inside_exec(*args, **kwargs):
        # Ctrl-C landing while code built by exec() of a string runs (dataclasses and
        # namedtuple do that, e.g. in a lazy import while the run directory is written)
        exec("import os, signal\\nos.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(9): pass")

    simulator.scenario.load.load_scenario_located = interrupted_inside_exec
    from simulator.cli import main

    raise SystemExit(main(sys.argv[1:]))
    """
)


def test_interrupt_inside_exec_still_exits_130(tmp_path: Path) -> None:
    """CPython 3.11 remembers a plain KeyboardInterrupt that passed through exec() of a
    string as unhandled, even once caught, and ``python -m`` then kills itself with
    SIGINT at exit (status -2; seen in CI about one run in five). relsim's handlers
    raise a subclass, which CPython does not remember."""
    (tmp_path / "relsim_exec_interrupt.py").write_text(EXEC_INTERRUPT)
    proc = subprocess.run(
        [sys.executable, "-m", "relsim_exec_interrupt", "validate", str(SCENARIO)],
        cwd=tmp_path,  # run with -m like ``python -m simulator``
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 130, f"exit {proc.returncode}\n{proc.stderr}"
    assert proc.stderr == "relsim: interrupted; no results written\n"


COMMIT_INTERRUPT = textwrap.dedent(
    """
    import os, signal, sys, threading
    from pathlib import Path
    from simulator.report import atomic as output

    base = Path(sys.argv[1])
    target = base / "run"
    target.mkdir()
    (target / "manifest.json").write_text('{"tool": "relsim"}')  # an earlier run
    (target / "old.txt").write_text("old")
    # another thread that does not block signals, as numpy's BLAS threads are
    threading.Thread(target=threading.Event().wait, daemon=True).start()
    real_rename = Path.rename

    def rename_then_ctrl_c(self, dest):
        moved = real_rename(self, dest)
        os.kill(os.getpid(), signal.SIGINT)  # process-directed, as from a terminal
        for _ in range(10_000):  # bytecodes in which a handler could raise
            pass
        return moved

    Path.rename = rename_then_ctrl_c
    try:
        with output.atomic_dir(target, force=True) as tmp:
            (tmp / "new.txt").write_text("new")
        print("not interrupted")
    except KeyboardInterrupt:
        print("interrupted")
    print(sorted(p.name for p in base.iterdir()), sorted(p.name for p in target.iterdir()))
    print([str(p) for p in output.COMMITTED] == [str(target)])
    """
)


def test_ctrl_c_during_the_commit_waits_for_it(tmp_path: Path) -> None:
    """Ctrl-C between the renames that replace an old run with the new one is held
    until both are done, then delivered: the new run is whole, nothing is left over —
    even when the kernel hands the signal to another thread of the process."""
    proc = subprocess.run(
        [sys.executable, "-c", COMMIT_INTERRUPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["interrupted", "['run'] ['new.txt']", "True"]


def _die_while_sending(payload: object, start: int, stop: int) -> None:
    """In a pool worker: write the start of a result message, then die (as if terminated
    while sending a large result)."""
    import multiprocessing as mp
    import struct

    queue = mp.current_process()._args[1]  # _process_worker(call_queue, result_queue, ...)
    os.write(queue._writer.fileno(), struct.pack("!i", 1000) + b"partial")
    os.kill(os.getpid(), signal.SIGKILL)


def test_pool_shutdown_survives_a_worker_killed_mid_result() -> None:
    """The pool's manager thread, blocked reading a half-sent result, must not keep the
    interpreter from exiting once the ensemble is interrupted (it did: relsim printed
    "interrupted" and then hung at exit)."""
    import contextlib
    import multiprocessing.queues
    import threading
    from concurrent.futures.process import BrokenProcessPool

    from simulator.ensemble.executors import ProcessExecutor

    ex = ProcessExecutor(workers=1)
    results = ex.run(_die_while_sending, None, [(0, 1)])

    def consume() -> None:
        with contextlib.suppress(BrokenProcessPool):  # how the killed chunk ends
            list(results)

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()  # blocks: the result never completes
    deadline = time.monotonic() + 30
    while ex._pool is None or not ex._pool._processes:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    pool = ex._pool
    if not isinstance(pool._result_queue, multiprocessing.queues.SimpleQueue):
        pytest.skip("concurrent.futures internals differ on this Python")
    manager = pool._executor_manager_thread
    while any(p.is_alive() for p in list(pool._processes.values())):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)  # the manager thread is now stuck reading the partial message
    ex.close()  # what an interrupt does
    manager.join(timeout=10)
    assert not manager.is_alive(), "the pool's manager thread is stuck: exit would hang"
    consumer.join(timeout=10)
    assert not consumer.is_alive()
