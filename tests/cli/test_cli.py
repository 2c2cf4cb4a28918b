"""The relsim command line, through a real subprocess (as users and CI call it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # relsim through real subprocesses

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.yaml"


def relsim(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m simulator ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
        env={**__import__("os").environ, "MPLBACKEND": "Agg"},
    )


BAD = """\
name: bad
start: 2025-01-01
end: 2025-06-30
countries: [{id: CN}, {id: US}]
products: [{id: magnet}]
authority:
  revewers: 10
  review_work_wd: {kind: exponential, mean: 10}
  information_requests:
    response_days: {kind: constant, value: -5}
exporters:
  - id: cn1
    country: CN
    products: [magnet]
    capacity_t_per_month: lots
lanes:
  - {id: l1, origin: CN, destination: US, transit_days: {kind: constant, value: 25}}
manufacturers:
  - id: m1
    country: US
    material: magnet
    units_per_day: 100
    kg_per_unit: 2
    initial_cover_days: 30
    suppliers: [{exporter: cn2}]
"""


def test_validate_reports_every_field_error_then_the_cross_field_ones(tmp_path: Path) -> None:
    """Field problems (types, limits, unknown keys) all come at once; cross-field rules
    (here a dangling reference) run on a scenario whose fields are valid, so they come
    once the field problems are fixed, located just the same."""
    f = tmp_path / "bad.yaml"
    f.write_text(BAD)
    r = relsim("validate", str(f))
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith(str(f))]
    assert len(lines) == 3, r.stderr
    misspelt, negative, wrong_type = lines
    assert misspelt.startswith(f"{f}:7:3: authority.revewers:")
    assert "did you mean 'reviewers'" in misspelt
    assert negative.startswith(f"{f}:10:44: authority.information_requests.response_days.value")
    assert "(got -5)" in negative
    assert wrong_type.startswith(f"{f}:15:27: exporters[0].capacity_t_per_month")
    assert "(got 'lots')" in wrong_type
    fixed = (
        BAD.replace("revewers", "reviewers")
        .replace("value: -5", "value: 5")
        .replace("capacity_t_per_month: lots", "capacity_t_per_month: 100")
    )
    f.write_text(fixed)
    r = relsim("validate", str(f))
    assert r.returncode == 2, r.stderr
    (unknown_ref,) = [ln for ln in r.stderr.splitlines() if ln.startswith(str(f))]
    assert unknown_ref.startswith(f"{f}:25:28: manufacturers[0].suppliers[0].exporter")
    assert "unknown exporter" in unknown_ref and "did you mean 'cn1'" in unknown_ref


def _scenario_files() -> list[Path]:
    """Every shipped scenario (not baselines or calibration targets)."""
    return [
        p
        for p in (ROOT / "scenarios").rglob("*.yaml")
        if not {"baselines", "calibration"} & set(p.relative_to(ROOT).parts)
    ]


def test_validate_accepts_every_shipped_scenario() -> None:
    files = sorted(str(p) for p in _scenario_files())
    assert files, "no scenarios shipped"
    r = relsim("validate", *files)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("ok  ") == len(files)


def test_shipped_scenarios_declare_the_json_schema() -> None:
    for p in _scenario_files():
        first = p.read_text(encoding="utf-8").splitlines()[0]
        rel = Path("../" * (len(p.relative_to(ROOT).parts) - 1)) / "schemas/scenario.schema.json"
        assert first == f"# yaml-language-server: $schema={rel.as_posix()}", p


def test_committed_schema_is_fresh() -> None:
    r = relsim("schema", "--check", "schemas/scenario.schema.json")
    assert r.returncode == 0, (
        r.stderr + "\nregenerate with: relsim schema --write schemas/scenario.schema.json"
    )


def test_set_override_goes_through_validation() -> None:
    r = relsim("validate", str(SMALL), "--set", "authority.reviewers=abc")
    assert r.returncode == 2
    assert "--set authority.reviewers=abc: authority.reviewers:" in r.stderr
    assert "Traceback" not in r.stderr


def test_run_writes_a_complete_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "run"
    r = relsim("run", str(SMALL), "--reps", "4", "--seed", "3", "--out", str(out), "--workers", "1")
    assert r.returncode == 0, r.stderr
    for name in (
        "manifest.json",
        "summary.json",
        "scenario.resolved.yaml",
        "kpi_summary.csv",
        "kpis_by_rep.parquet",
        "bands_shortfall.parquet",
        "exports_monthly.csv",
        "rep0/licences.parquet",
        "rep0/daily.parquet",
        "rep0/exports.csv",
        "rep0/events.parquet",
    ):
        assert (out / name).is_file(), name
    pngs = list((out / "figures").glob("*.png"))
    assert any(p.name.startswith("shortage_us_plant") for p in pngs), pngs
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 3 and man["reps"] == 4 and len(man["scenario_hash"]) == 16
    summ = json.loads((out / "summary.json").read_text())
    assert set(summ["kpis"]) == {
        "us_plant",
        "de_plant",
        "all_manufacturers",
        "authority",
        "authority/US",
        "authority/DE",
    }
    assert (out / "figures" / "policy_timeline.png").is_file()
    fr = summ["kpis"]["us_plant"]["fill_rate"]
    assert fr["ci_low"] <= fr["mean"] <= fr["ci_high"]
    # the terminal summary names each manufacturer with its fill rate
    assert "us_plant" in r.stdout and "fill rate" in r.stdout
    # the resolved scenario is itself a valid scenario
    assert relsim("validate", str(out / "scenario.resolved.yaml")).returncode == 0


def test_run_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = relsim(
        "run", str(SMALL), "--reps", "2", "--out", str(out), "--workers", "1", "--no-figures"
    )
    assert r.returncode == 2
    assert "already exists" in r.stderr and "--force" in r.stderr
    assert (out / "keep.txt").read_text() == "mine"
    r = relsim(
        "run",
        str(SMALL),
        "--reps",
        "2",
        "--out",
        str(out),
        "--workers",
        "1",
        "--no-figures",
        "--force",
    )
    # --force replaces only a relsim run directory: this one is the user's, and kept
    assert r.returncode == 2, r.stderr
    assert "is not a relsim run directory" in r.stderr and str(out) in r.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"
    run = tmp_path / "a-run"
    common = ("--reps", "2", "--workers", "1", "--no-figures", "--quiet")
    assert relsim("run", str(SMALL), *common, "--out", str(run)).returncode == 0
    r = relsim("run", str(SMALL), *common, "--seed", "3", "--out", str(run), "--force")
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "manifest.json").read_text())["seed"] == 3  # replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-run", "run"]  # nothing left over


def test_summary_json_is_byte_identical_for_1_and_2_workers(tmp_path: Path) -> None:
    outs = []
    for w in ("1", "2"):
        out = tmp_path / f"w{w}"
        r = relsim(
            "run",
            str(SMALL),
            "--reps",
            "12",
            "--seed",
            "5",
            "--out",
            str(out),
            "--workers",
            w,
            "--no-figures",
            "--quiet",
        )
        assert r.returncode == 0, r.stderr
        outs.append((out / "summary.json").read_bytes())
    assert outs[0] == outs[1]


def test_rep_index_reruns_one_replication(tmp_path: Path) -> None:
    out = tmp_path / "one"
    r = relsim("run", str(SMALL), "--rep-index", "3", "--seed", "5", "--out", str(out))
    assert r.returncode == 0, r.stderr
    # a complete run directory of that replication, its KPIs printed
    for f in ("report.html", "summary.json", "kpi_table.csv", "rep3/licences.csv", "figures"):
        assert (out / f).exists(), f
    man = json.loads((out / "manifest.json").read_text())
    assert man["rep_index"] == 3 and man["reps"] == 1
    assert "replication 3, seed 5" in r.stdout and "us_plant" in r.stdout
    reps = pd.read_csv(out / "kpis_by_rep.csv")
    assert set(reps["rep"]) == {3}


def test_rep_index_default_directory_is_its_own(tmp_path: Path) -> None:
    """runs/<name>-rep<I>: a later full run is not blocked by it."""
    r = relsim("run", str(SMALL), "--rep-index", "2", "--no-figures", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "runs" / "small-rep2" / "summary.json").is_file()
    assert not (tmp_path / "runs" / "small").exists()


@pytest.mark.skipif(
    not (Path(sys.executable).parent / "relsim").exists(), reason="no console script"
)
def test_console_script_is_installed() -> None:
    r = subprocess.run(
        [str(Path(sys.executable).parent / "relsim"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "validate" in r.stdout and "run" in r.stdout


def test_compare_one_file_against_an_override(tmp_path: Path) -> None:
    """The common analyst question "what if there were more reviewers?" without a
    second file: B = A with --set-b; paired differences and figures are written."""
    out_dir = tmp_path / "cmp"
    p = relsim(
        "compare", str(SMALL), str(SMALL), "--reps", "4", "--workers", "1",
        "--set-b", "authority.reviewers=30", "--out", str(out_dir), "--quiet",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    data = json.loads((out_dir / "comparison.json").read_text())
    assert data["overrides"] == {"a": {}, "b": {"authority.reviewers": 30}}
    waits = [k["wait_wd_p50"] for k in data["kpis"].values() if "wait_wd_p50" in k]
    assert waits and all(w["diff"] < 0 for w in waits), waits  # 30 reviewers: shorter waits
    assert sorted(f.name for f in (out_dir / "figures").iterdir()) == [
        "difference_de_plant.png",
        "difference_us_plant.png",
        "policy_timeline_a.png",
        "policy_timeline_b.png",
    ]
    assert (out_dir / "shortfall_difference_daily.csv").exists()
    # what differs is stored, and the override is in B's name
    changed = {d["path"]: d for d in data["scenario_differences"]}
    assert sorted(changed) == ["authority.reviewers", "name"]
    assert changed["authority.reviewers"]["b"] == 30
    assert data["b"].endswith("[authority.reviewers=30]")


def test_compare_prints_what_differs_and_waits_per_destination(tmp_path: Path) -> None:
    p = relsim(
        "compare", str(SMALL), str(SMALL), "--reps", "3", "--workers", "1",
        "--set-b", "authority.reviewers=30",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("2 differences")
    assert any(x.split()[:4] == ["authority.reviewers", "6", "→", "30"] for x in lines), lines
    assert any("→ DE" in x and "median wait, wd" in x for x in lines), p.stdout
    # in dates: when each line stops and recovers in A and B, and B − A in days
    assert any("first shortage" in x and " d" in x.split()[-1] + " d" for x in lines)
    assert any("recovered by" in x for x in lines) and "pairs)" in p.stdout
    assert any("shortage days" in x for x in lines) and any("lost units" in x for x in lines)
    assert any("→ US" in x for x in lines)
    assert "narrower" not in p.stdout  # behind -v
    assert "percentage" in p.stdout  # the caption explains the units
    v = relsim(
        "compare", str(SMALL), str(SMALL), "--reps", "3", "--workers", "1",
        "--set-b", "authority.reviewers=30", "-v",
    )  # fmt: skip
    assert "narrower ×" in v.stdout and "independent seeds" in v.stdout
    same = relsim("compare", str(SMALL), str(SMALL), "--reps", "2", "--workers", "1")
    assert "same scenario" in same.stdout and "every difference is 0" in same.stderr


def test_compare_different_horizons_warns_instead_of_crashing(tmp_path: Path) -> None:
    out_dir = tmp_path / "cmp"
    p = relsim(
        "compare", str(SMALL), str(SMALL), "--reps", "3", "--workers", "1",
        "--set-b", "end=2025-05-31", "--out", str(out_dir), "--quiet",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "horizons differ (122 vs 92 days)" in p.stderr
    assert "Traceback" not in p.stderr
    data = json.loads((out_dir / "comparison.json").read_text())
    assert data["overrides"]["b"] == {"end": "2025-05-31"}
    assert not (out_dir / "shortfall_difference_daily.csv").exists()


def test_compare_bad_override_exits_2_and_names_the_field(tmp_path: Path) -> None:
    p = relsim("compare", str(SMALL), str(SMALL), "--set-a", "authority.reviewers=-1")
    assert p.returncode == 2
    assert "authority.reviewers" in p.stderr and "-1" in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("width", [80, 120])
def test_summary_table_fits_the_terminal(width: int) -> None:
    """The run summary never wraps a number or folds an id: a row per manufacturer,
    intervals and date ranges under the headline; big counts as 238k; dates as the
    median with the 5–95 % range and the share of replications, a recovery that most
    replications do not reach as "not by end"."""
    import io

    from rich.console import Console

    import simulator.cli.console as cli
    from simulator.scenario.load import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "cn-2025-april-controls.yaml")

    def dates(recovered: float) -> dict[str, Any]:
        return {
            "first_shortage_date": {
                "mean": "2025-06-25",
                "ci_low": "2025-06-23",
                "ci_high": "2025-06-28",
                "median": "2025-06-24",
                "p5": "2025-06-04",
                "p95": "2025-07-20",
                "n": 100,
                "share": 1.0,
            },
            "recovery_date": {
                "mean": "2025-11-30",
                "ci_low": "2025-11-24",
                "ci_high": "2025-12-05",
                "median": "2025-12-01",
                "p5": "2025-10-10",
                "p95": "2025-12-28",
                "n": round(100 * recovered),
                "share": recovered,
                "short_at_end": 1.0 - recovered,
            },
        }

    kpis = {
        m.id: {
            "fill_rate": {"mean": 0.566, "ci_low": 0.558, "ci_high": 1.0},
            "lost_units": {"mean": 237_695.0, "ci_low": 232_105.0, "ci_high": 243_285.0},
            "days_to_first_shortage": {"mean": 206.0, "ci_low": 204.0, "ci_high": 209.0},
            **dates(0.09 if m.id == "in_ev_maker" else 0.71),
            "any_shortage": {"mean": 1.0, "ci_low": 1.0, "ci_high": 1.0},
        }
        for m in sc.manufacturers
    }
    buf = io.StringIO()
    console = Console(file=buf, width=width, highlight=False)
    old = cli.out
    cli.out = console
    try:
        console.print(cli.summary_table({"reps": 100, "seed": 1, "kpis": kpis}, sc, width))
    finally:
        cli.out = old
    text = buf.getvalue()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if any(m.id in line for m in sc.manufacturers)]
    assert len(rows) == len(sc.manufacturers)  # ids are never folded
    assert all("238k" in r for r in rows)
    assert all("2025-06-24" in r for r in rows)  # the median date, not the mean
    assert sum("2025-12-01" in r for r in rows) == len(sc.manufacturers) - 1
    assert "not by end" in next(r for r in rows if "in_ev_maker" in r)
    assert text.count("06-04 – 07-20") == len(sc.manufacturers)  # the 5–95 % range
    assert text.count("in 71%") == len(sc.manufacturers) - 1
    assert text.count("29% short at end") == len(sc.manufacturers) - 1
    assert "91% short at end" in text and "9% by 2025-12-01" in text
    assert "2025-06-25" not in text  # the mean date is in summary.json, not the headline
    assert text.count("[232k, 243k]") == len(sc.manufacturers)
