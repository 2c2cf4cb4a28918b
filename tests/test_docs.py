"""The documentation stays true: the generated references are current, every YAML block
of the cookbook validates, and every code block of the README runs.

README blocks run in a scratch folder holding a copy of ``scenarios/`` (so outputs such
as ``runs/`` and YAML written by a block land there), with these documented changes,
which keep the suite fast without changing what a command does:

* replication counts shrink to 2 (``--reps N`` and ``reps=N``): the case study's
  command 1 with 100 replications is verified by the same command with 2;
* the quick start's ``python3 -m venv … && pip install … &&`` prefix is dropped (the
  test runs inside that install) and its second command, ``pytest -q``, is this suite;
* ``relsim regress`` (every shipped scenario with its baseline's 200 replications) runs
  as the equivalent small invocation: ``--update`` then a check of ``tests/data/small.yaml``
  against a scratch baseline;
* Dask's scheduler and workers start in the background on a free port (one scheduler,
  one worker process per ``dask worker`` line), ``SCHEDULER_HOST`` is this machine, and
  they are stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


# --------------------------------------------------------------------------- generated
def test_scenario_reference_is_generated_from_the_schema() -> None:
    from simulator.scenario.reference import reference_markdown

    doc = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert doc == reference_markdown(), "stale: run python tools/gen_docs.py"


def test_scenario_reference_covers_every_field() -> None:
    """Every field of every scenario model appears with its default and limits."""
    from simulator.scenario.manufacturers import Manufacturer, Part
    from simulator.scenario.model import Scenario
    from simulator.scenario.policy import Effects

    doc = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    for model in (Scenario, Manufacturer, Part, Effects):
        for name in model.model_fields:
            assert f"| `{name}` |" in doc, f"{model.__name__}.{name}"
    assert "| `reps` | integer |  | `100` | ≥ 1, ≤ 1000000 |" in doc
    assert "| `statutory_limit_wd` |" in doc and "working days" in doc


# --------------------------------------------------------------------------- cookbook
COOKBOOK = _blocks(ROOT / "docs" / "cookbook.md", "yaml")


def test_cookbook_has_the_six_cases() -> None:
    text = (ROOT / "docs" / "cookbook.md").read_text(encoding="utf-8")
    for case in (
        "Slow one destination for a period",
        "Hold goods at the port",
        "Grant a general licence",
        "Ramp an alternative supplier",
        "A line with two critical parts",
        "A Spring Festival with licences in force",
    ):
        assert f". {case}" in text
    assert len(COOKBOOK) == 6


@pytest.mark.parametrize("i", range(len(COOKBOOK)))
def test_cookbook_yaml_validates_and_changes_what_it_says(i: int, tmp_path: Path) -> None:
    from simulator.report.rundir import scenario_data
    from simulator.scenario.load import load_scenario
    from simulator.scenario.notes import scenario_changes

    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    f = tmp_path / "scenarios" / f"cookbook-{i}.yaml"
    f.write_text(COOKBOOK[i], encoding="utf-8")
    sc = load_scenario(f)  # raises ScenarioError with file:line:col if it does not validate
    base = load_scenario(tmp_path / "scenarios" / "cn-2025-april-controls.yaml")
    changes = {c["path"] for c in scenario_changes(scenario_data(base), scenario_data(sc))}
    expected = [
        "policy.overlays.0.review_time_factor",
        "policy.overlays.0.customs_hold",
        "authority.general_licences.1.start",
        "manufacturers.eu_auto_supplier.suppliers.1.exporter",
        "manufacturers.de_ev_line.parts.steering_magnet.kg_per_unit",
        "production.windows.Spring Festival shutdown.pace",
    ][i]
    assert expected in changes, sorted(changes)
    if i < 2:  # an overlay: nothing inherited changes (no timeline restated)
        assert all(c.startswith(("policy.overlays.", "customs.")) for c in changes), changes


# --------------------------------------------------------------------------- README
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _commands(block: str) -> list[str]:
    """Shell commands of a bash block: continuations joined, comments dropped."""
    text = block.replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(ROOT / "scenarios", root / "scenarios")
        (root / "schemas").symlink_to(ROOT / "schemas")
        (root / "tests").symlink_to(ROOT / "tests")
        self.port = _free_port()
        self.background: list[subprocess.Popen] = []
        self.scheduler = False
        self.env = {
            **os.environ,
            "MPLBACKEND": "Agg",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "CI": "true",
        }

    def shrink(self, cmd: str) -> str:
        cmd = re.sub(r"--reps \d+", "--reps 2", cmd)
        cmd = re.sub(r"\breps=\d[\d_]*", "reps=2", cmd)
        # sweeps: a few points (Sobol: N × (D + 2), Morris: r × (D + 1), D = 4 here)
        few = 12 if "--design sobol" in cmd else 10 if "--design morris" in cmd else 4
        cmd = re.sub(r"--points \d+", f"--points {few}", cmd)
        cmd = re.sub(r"--trials \d+", "--trials 4", cmd)  # fits: a few trials
        cmd = re.sub(r"\btrials=\d+", "trials=4", cmd)
        if cmd.startswith(("relsim forecast", "relsim backtest")):  # a small bank, ABC
            cmd += " --simulations 120 --draws 12 --method abc"
        cmd = cmd.replace("SCHEDULER_HOST", "127.0.0.1").replace("8786", str(self.port))
        return re.sub(r"--nworkers (-?\d+)", "--nworkers 1", cmd)

    def sh(self, cmd: str) -> None:
        if cmd.endswith("&") or cmd.startswith(("dask scheduler", "dask worker")):
            cmd = cmd.rstrip("&").strip()
            if cmd.startswith("dask scheduler"):
                if self.scheduler:
                    return  # one scheduler for the whole README
                self.scheduler = True
                cmd = cmd.replace("--host 0.0.0.0", "--host 127.0.0.1")
                if "--no-dashboard" not in cmd:
                    cmd += " --no-dashboard"
            elif "--no-dashboard" not in cmd:
                cmd += " --no-dashboard"
            self.background.append(
                subprocess.Popen(
                    cmd,
                    shell=True,
                    cwd=self.root,
                    env=self.env,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            self._wait_for_scheduler()
            return
        r = subprocess.run(
            cmd,
            shell=True,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert r.returncode == 0, (
            f"README command failed: {cmd}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
        )

    def _wait_for_scheduler(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise AssertionError("the README's dask scheduler did not start")

    def python(self, code: str) -> None:
        r = subprocess.run(
            [sys.executable, "-c", code],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert r.returncode == 0, f"README Python block failed:\n{code}\n{r.stderr[-3000:]}"

    def close(self) -> None:
        for p in self.background:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.background:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def _readme_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S)]


def test_readme_has_only_runnable_blocks() -> None:
    langs = {lang for lang, _ in _readme_blocks()}
    assert langs <= {"bash", "python", "yaml"}, langs


@pytest.mark.slow
def test_every_readme_code_block_runs(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ran: list[str] = []
    try:
        for i, (lang, body) in enumerate(_readme_blocks()):
            if lang == "yaml":
                f = tmp_path / "scenarios" / f"readme-block-{i}.yaml"
                f.write_text(body, encoding="utf-8")
                ws.sh(f"relsim validate {f}")
                ran.append(f"yaml {i}")
                continue
            if lang == "python":
                ws.python(ws.shrink(body))
                ran.append(f"python {i}")
                continue
            for cmd in _commands(body):
                if cmd.startswith("python3 -m venv"):
                    cmd = cmd.rsplit("&& ", 1)[-1]  # the test runs inside that install
                    if cmd.startswith("pytest"):
                        continue  # the second quick-start command is this suite
                if cmd == "relsim regress":
                    base = tmp_path / "baselines"
                    ws.sh(f"relsim regress tests/data/small.yaml --baselines {base} --update")
                    ws.sh(f"relsim regress tests/data/small.yaml --baselines {base}")
                else:
                    ws.sh(ws.shrink(cmd))
                ran.append(cmd.split()[0:2].__str__())
    finally:
        ws.close()
    assert (tmp_path / "runs" / "case-study" / "report.html").is_file()
    assert (tmp_path / "runs" / "cn-2025-april-controls-rep17" / "summary.json").is_file()
    assert (tmp_path / "my-variant.yaml").is_file()  # a draft: not among scenarios/
    assert len(ran) >= 20
