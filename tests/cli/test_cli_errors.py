"""How the CLI fails: usage errors exit 2; an unexpected internal error prints one short
line with a hint to re-run with ``--debug`` and exits 70; ``--debug`` shows the traceback;
a failed replication names its index and seed and how to re-run it alone.

Replication failures use the ensemble's test hook ``RELSIM_FAULT_INJECT=rep:<i>`` (see
:data:`simulator.ensemble.runner.FAULT_ENV`): no valid scenario is known to make the engine raise.
Exit codes are checked through real subprocesses; the many small usage cases call
:func:`simulator.cli.main` in-process (same code, no interpreter start-up).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator import cli

pytestmark = pytest.mark.slow  # failing replications through real subprocesses

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "bad_inputs" / "base_valid.yaml"


def relsim(
    *args: str, env: dict[str, str] | None = None, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m simulator ARGS`` (or ``python -c CODE ARGS``) in a subprocess."""
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "simulator"]
    return subprocess.run(
        [*cmd, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
    )


def test_failed_replication_names_index_seed_and_rerun(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = relsim(
        "run",
        str(SCENARIO),
        "--reps",
        "6",
        "--seed",
        "11",
        "--workers",
        "2",
        "--out",
        str(out),
        "--quiet",
        "--no-figures",
        env={"RELSIM_FAULT_INJECT": "rep:3"},
    )
    assert r.returncode == 70, r.stderr
    assert "replication 3 (seed 11) failed: RuntimeError: fault injected" in r.stderr
    assert "--seed 11 --rep-index 3 --debug" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # short
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_failed_replication_with_debug_shows_the_worker_traceback(tmp_path: Path) -> None:
    r = relsim(
        "run",
        str(SCENARIO),
        "--reps",
        "4",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "r"),
        "--quiet",
        "--no-figures",
        "--debug",
        env={"RELSIM_FAULT_INJECT": "rep:2"},
    )
    assert r.returncode == 70, r.stderr
    assert "replication 2 (seed 7) failed" in r.stderr
    assert "Traceback (most recent call last)" in r.stderr
    assert "in _chunk" in r.stderr  # the worker's frames, not the parent's


Main = Callable[..., tuple[int, str, str]]


@pytest.fixture
def main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Main:
    """Call ``cli.main(args)`` in-process; return ``(exit code, stdout, stderr)``."""
    import signal

    monkeypatch.setenv("MPLBACKEND", "Agg")
    previous = signal.getsignal(signal.SIGTERM)

    def call(*args: str) -> tuple[int, str, str]:
        try:
            code = cli.main(list(args))
        finally:
            signal.signal(signal.SIGTERM, previous)  # main() installs its own handler
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_suggested_rerun_of_one_replication_works(main: Main, tmp_path: Path) -> None:
    out = tmp_path / "one"
    code, stdout, err = main(
        "run", str(SCENARIO), "--seed", "11", "--rep-index", "3", "--debug", "--out", str(out)
    )
    assert code == 0, err
    assert "replication 3 (seed 11) ok" in stdout
    assert (out / "rep3" / "licences.parquet").is_file()


BOOM = textwrap.dedent(
    """
    import sys
    import simulator.scenario.load

    def boom(*args, **kwargs):
        raise RuntimeError("boom in the loader")

    simulator.scenario.load.load_scenario_located = boom
    from simulator.cli import main

    raise SystemExit(main(sys.argv[1:]))
    """
)


def test_internal_error_is_one_line_with_a_debug_hint() -> None:
    r = relsim("validate", str(SCENARIO), code=BOOM)
    assert r.returncode == 70, r.stderr
    assert r.stderr.splitlines() == [
        "relsim: internal error: RuntimeError: boom in the loader",
        "re-run with --debug for the traceback",
    ]
    assert "Traceback" not in r.stdout + r.stderr


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom in the loader")


def test_debug_shows_the_internal_traceback(main: Main, monkeypatch: pytest.MonkeyPatch) -> None:
    import simulator.scenario.load

    monkeypatch.setattr(simulator.scenario.load, "load_scenario_located", _boom)
    code, _, err = main("validate", str(SCENARIO))
    assert code == 70
    assert "internal error: RuntimeError: boom in the loader" in err
    code, _, err = main("validate", str(SCENARIO), "--debug")  # the hint works for validate
    assert code == 70
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: boom in the loader" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["run"], "Missing argument"),
        (["run", str(SCENARIO), "--reps", "0"], "Invalid value for '--reps'"),
        (["run", str(SCENARIO), "--no-such-option"], "No such option"),
        (["validate"], "Missing argument"),
    ],
    ids=["unknown-command", "missing-file", "reps-0", "unknown-option", "validate-nothing"],
)
def test_usage_errors_exit_2(main: Main, args: list[str], message: str) -> None:
    code, out, err = main(*args)
    assert code == 2, err
    assert message in err
    assert "Traceback" not in out + err
    assert "internal error" not in err


def test_usage_error_in_a_real_process() -> None:
    r = relsim("bogus")
    assert r.returncode == 2 and "No such command 'bogus'" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_unwritable_output_directory_is_a_usage_error(main: Main, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = main(
        "run",
        str(SCENARIO),
        "--reps",
        "2",
        "--workers",
        "1",
        "--no-figures",
        "--quiet",
        "--out",
        str(blocker / "run"),
    )
    assert code == 2, err
    assert str(blocker) in err and "Traceback" not in err
    assert "internal error" not in err


def test_malformed_observed_exports_is_bad_input(main: Main, tmp_path: Path) -> None:
    (tmp_path / "obs.csv").write_text("a,b\n1,2\n")
    f = tmp_path / "s.yaml"
    f.write_text(f"extends: {SCENARIO}\nobserved_exports: obs.csv\n")
    code, _, err = main(
        "run",
        str(f),
        "--reps",
        "2",
        "--workers",
        "1",
        "--no-figures",
        "--quiet",
        "--out",
        str(tmp_path / "run"),
        "--allow-path",
        str(SCENARIO.parent),  # the base it extends is outside tmp_path
    )
    assert code == 2, err
    assert f"{f}:2:19: observed_exports: " in err and "obs.csv" in err
    assert "missing column(s) month, total_t" in err and "internal error" not in err
    assert "a,b" not in err  # the file's header is not quoted
    assert not (tmp_path / "run").exists()
