"""``relsim sweep`` and ``relsim fit`` through a real subprocess: outputs, exit codes,
located errors without tracebacks, Ctrl-C and resuming."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # sweeps and fits through real subprocesses

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "examples" / "sweep-slowdown.yaml"
SMALL = ROOT / "tests" / "data" / "small.yaml"
SMALL_SWEEP = EXAMPLE
ENV = {**os.environ, "MPLBACKEND": "Agg"}


def relsim(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=ENV,
    )


@pytest.fixture(scope="module")
def swept(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A small grid sweep of the example (15 points × 2 replications) and its output."""
    out = tmp_path_factory.mktemp("sweep") / "sw"
    r = relsim(
        "sweep", str(EXAMPLE),
        "--param", "policy.overlays.0.review_time_factor=1:4:2",
        "--param", "policy.overlays.0.duration_days",  # from the uncertainties: block
        "--reps", "2", "--workers", "1", "--out", str(out),
    )  # fmt: skip
    return out, r


@pytest.mark.slow
def test_relsim_sweep_writes_a_table_figures_and_prints_what_moved(
    swept: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, r = swept
    assert r.returncode == 0, r.stderr
    # factor levels 1 and 4 and the scenario's own 2 (the base point is the scenario)
    assert "grid design, 15 points × 2 replications, seed 3" in r.stdout
    assert "us_plant" in r.stdout and "highest at" in r.stdout
    # default KPIs: those that vary across the points (P(line stop) may not)
    assert "KPIs shown: " in r.stdout and "(those that vary across the points" in r.stdout
    shown = r.stdout.split("KPIs shown: ")[1].split(" (")[0].split(", ")
    assert f"one at a time ({shown[0]} at the low end" in r.stdout
    assert "± the 95% Monte Carlo interval" in r.stdout
    assert f"wrote {out} (15 points" in r.stdout
    frame = pd.read_parquet(out / "sweep.parquet")
    assert frame["point"].nunique() == 15
    assert sorted(set(frame["policy.overlays.0.review_time_factor"])) == [1.0, 2.0, 4.0]
    assert {"policy.overlays.0.review_time_factor", "policy.overlays.0.duration_days"} <= set(
        frame.columns
    )
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == sorted(f"{kind}_{k}.png" for kind in ("stress", "tornado") for k in shown)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "sweep" and manifest["design"]["points"] == 15
    assert manifest["kpis"] == shown
    # the page for a briefing: self-contained, the design, what moved, every figure
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "data-value='15'" in page and "us_plant" in page and "de_plant" in page
    assert "policy.overlays.0.review_time_factor" in page and "One at a time" in page
    assert "Monte Carlo" in page
    assert page.count("<img ") == len(figures)


def test_a_slowdown_swept_past_the_horizon_is_warned_about(tmp_path: Path) -> None:
    r = relsim(
        "sweep", str(SMALL_SWEEP), "--reps", "2", "--workers", "1", "--out", str(tmp_path / "s"),
        "--param", "policy.overlays.0.duration_days=10:400:2",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "warning: at 1 of 3 points the swept overlay" in r.stderr
    assert "runs past the end of the horizon" in r.stderr


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("CI", "").lower() in ("", "0", "false")
    and not all(__import__("browser").find_chromium()),
    reason="no Chromium installed (apt-get install chromium chromium-driver); CI always runs it",
)
def test_sweep_page_in_headless_chromium(
    swept: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """No console errors; the figures decode; the point count is in the DOM."""
    from browser import chromium, console_errors, full_page_screenshot

    out, r = swept
    assert r.returncode == 0, r.stderr
    with chromium() as d:
        d.get((out / "report.html").as_uri())
        assert console_errors(d) == []
        assert d.find_element("id", "points").get_attribute("data-value") == "15"
        widths = d.execute_script(
            "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)"
        )
        assert len(widths) == 4 and min(widths) > 500
        w, h = full_page_screenshot(d, tmp_path / "sweep-report.png")
        assert w >= 800 and h > 1500
        keep = os.environ.get("RELSIM_SCREENSHOT_DIR")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "sweep-report.png", Path(keep) / "sweep-report.png")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--param", "authority.reviewers=9:3"], "authority.reviewers=9:3: HIGH must be above"),
        (["--param", "authority.reviewrs=3:9"], "unknown key 'reviewrs'; did you mean 'reviewers'"),
        (["--design", "sobol", "--points", "10"], "--design sobol: --points 10: a Sobol design"),
        (["--kpi", "lost"], "--kpi lost: unknown KPI"),
    ],
)  # fmt: skip
def test_relsim_sweep_refuses_bad_input_with_exit_2_and_writes_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    out = tmp_path / "sw"
    r = relsim("sweep", str(EXAMPLE), "--reps", "2", "--out", str(out), *args)
    assert r.returncode == 2, r.stderr
    assert expected in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists() and not (tmp_path / "sw.partial").exists()


def test_relsim_sweep_locates_a_bad_uncertainties_block(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    text = EXAMPLE.read_text().replace("low: 1, high: 4, levels: 5", "low: 4, high: 1, levels: 5")
    f.write_text(text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "low: 4, high: 1" in s)
    r = relsim("sweep", str(f), "--reps", "2", "--out", str(tmp_path / "sw"))
    assert r.returncode == 2, r.stderr
    assert f"{f}:{line}:" in r.stderr and "uncertainties[0].high: must be above low (4)" in r.stderr
    assert "Traceback" not in r.stderr


def test_ctrl_c_keeps_finished_points_and_the_same_command_resumes(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    args = [
        sys.executable, "-m", "simulator", "sweep", str(SMALL),
        "--param", "manufacturers[us_plant].initial_cover_days=20:60:8",
        "--reps", "6", "--workers", "1", "--out", str(out), "--no-figures",
    ]  # fmt: skip
    proc = subprocess.Popen(
        args, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    points = tmp_path / "sw.partial" / "points"
    deadline = time.monotonic() + 120
    # a finished point (p*.json), not the temporary file it is written through: a Ctrl-C
    # before that file is renamed keeps no point
    while not (points.is_dir() and any(points.glob("p*.json"))):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "no point finished"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "points are kept in" in err and "run the same command again" in err, err
    assert "Traceback" not in err
    kept = len(list(points.glob("p*.json")))
    assert not out.exists() and 1 <= kept < 9  # 8 levels and the scenario's own value
    r = subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"({kept} points read back from an interrupted run)" in r.stdout
    assert not (tmp_path / "sw.partial").exists()
    assert pd.read_parquet(out / "sweep.parquet")["point"].nunique() == 9


def test_relsim_fit_prints_the_calibration_and_writes_a_file_that_extends(
    tmp_path: Path,
) -> None:
    t = tmp_path / "t.yaml"
    t.write_text(
        "scenario: ../elsewhere.yaml\n"
        "targets:\n"
        "  - {id: mar, kind: monthly_exports, month: 2025-03, observed: 150,"
        " tolerance: {relative: 0.3}, source: test}\n"
        "parameters:\n"
        "  - {path: authority.reviewers, low: 3, high: 12}\n"
    )
    out = tmp_path / "fit"
    scenario = tmp_path / "small.yaml"
    scenario.write_text(SMALL.read_text())
    r = relsim(
        "fit", str(scenario), "--targets", str(t), "--trials", "3", "--reps", "2",
        "--workers", "1", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "1 free parameters fitted to 1 targets" in r.stdout
    assert "authority.reviewers" in r.stdout and "near-best range" in r.stdout
    assert "targets within tolerance" in r.stdout
    assert "was written for ../elsewhere.yaml" in r.stderr
    fitted = tmp_path / "small-fitted.yaml"
    assert f"wrote {fitted} (extends small.yaml) and {out}" in r.stdout
    assert "extends: small.yaml" in fitted.read_text() and "reviewers:" in fitted.read_text()
    v = relsim("validate", str(fitted))  # beside the original: no --allow-path needed
    assert v.returncode == 0, v.stderr
    assert json.loads((out / "manifest.json").read_text())["command"] == "fit"
    r2 = relsim("fit", str(scenario), "--targets", str(t), "--trials", "3", "--out", str(out))
    assert r2.returncode == 2 and "already exists; use --force" in r2.stderr


def test_relsim_fit_locates_a_bad_parameters_block(tmp_path: Path) -> None:
    t = tmp_path / "t.yaml"
    t.write_text(
        "targets:\n"
        "  - {id: mar, kind: monthly_exports, month: 2025-03, observed: 150,"
        " tolerance: {relative: 0.3}}\n"
        "parameters:\n"
        "  - {path: authority.reviewers, low: 12, high: 3}\n"
    )
    r = relsim("fit", str(SMALL), "--targets", str(t), "--out", str(tmp_path / "fit"))
    assert r.returncode == 2, r.stderr
    assert f"{t}:4:" in r.stderr and "parameters[0].high: must be above low (12)" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "fit").exists()


def test_the_design_option_offers_every_design() -> None:
    from simulator.cli.sweep import DesignKind
    from simulator.explore.design import DESIGNS

    assert tuple(d.value for d in DesignKind) == DESIGNS
