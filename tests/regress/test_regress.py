"""``relsim regress``: baselines, statistically honest tolerances, reports, exit codes.

The command is exercised through a Typer app built here around
:func:`simulator.cli.regress.regress_command` (independent of its registration in
``simulator.cli``); one test also runs ``python -m simulator regress`` once it is
registered. Scenarios are tiny (120 days, one manufacturer, ~0.06 s a replication).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from simulator.cli.regress import regress_command
from simulator.regress.judge import FAIL, OK, SKIP, compare, judge
from simulator.replication.kpis import AUTHORITY_KPIS, MANUFACTURER_KPIS
from simulator.stats import bonferroni_k, sig


def k_normal(alpha: float, m: int) -> float:
    """The Bonferroni multiplier with the normal quantile."""
    return bonferroni_k(alpha, m)


REPS = 12
TINY = """\
name: tiny
start: 2025-01-01
end: 2025-04-30
seed: 0
reps: 200
calendar: {all_working: true}
countries: [{id: CN}, {id: US}]
products: [{id: ndfeb, controlled: true}]
authority:
  reviewers: 6
  review_work_wd: {kind: gamma, mean: 10, sd: 5}
  statutory_limit_wd: 45
  background:
    - {destination: US, product: ndfeb, rate_per_wd: 0.5, tonnes: {kind: lognormal, mean: 6, sd: 6}}
exporters:
  - {id: cn_x, country: CN, products: [ndfeb], licensed: true, capacity_t_per_month: 60,
     lead_time_days: {kind: uniform, low: 5, high: 10}}
lanes:
  - {id: cn-us-sea, origin: CN, destination: US, mode: sea,
     transit_days: {kind: uniform, low: 10, high: 20}}
manufacturers:
  - id: maker
    country: US
    material: ndfeb
    units_per_day: 1000
    kg_per_unit: 1.0
    demand_cv: 0.1
    initial_cover_days: 25
    replenishment: {kind: order_up_to, review_days: 7, safety_days: 10}
    lead_time: {initial_days: 30}
    suppliers: [{exporter: cn_x}]
"""


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("regress")(regress_command)

    @app.callback()
    def _root() -> None:
        """relsim (test harness)."""

    return app


APP = _app()


def regress(*args: str | Path) -> object:
    """Invoke ``regress`` in-process; returns the click Result."""
    result = CliRunner().invoke(APP, ["regress", *map(str, args)], catch_exceptions=False)
    return result


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """A scenario file and a baseline directory holding its fresh baseline."""
    sc = tmp_path / "scenarios" / "tiny.yaml"
    sc.parent.mkdir()
    sc.write_text(TINY, encoding="utf-8")
    base = tmp_path / "scenarios" / "baselines"
    r = regress(sc, "--baselines", base, "--update", "--reps", REPS, "--workers", 1)
    assert r.exit_code == 0, r.output
    return sc, base


# ----------------------------------------------------------------------------- statistics
def test_bonferroni_k() -> None:
    # k = Φ⁻¹(1 − α/(2m)): α = 0.01 over 1 KPI is the familiar 2.576.
    assert k_normal(0.01, 1) == pytest.approx(2.5758, abs=1e-4)
    assert k_normal(0.01, 40) > k_normal(0.01, 10) > k_normal(0.01, 1)


def _kpi(mean: float | None, se: float | None, n: int) -> dict[str, object]:
    return {"mean": mean, "se": se, "n": n}


def test_special_cases_of_the_rule() -> None:
    base = {
        "m": {
            "const": _kpi(1.0, 0.0, 10),
            "never": _kpi(None, None, 0),
            "rare": _kpi(None, None, 0),
            "noisy": _kpi(10.0, 1.0, 10),
            "floored": _kpi(10.0, 0.01, 10),
            "gone": _kpi(1.0, 0.1, 10),
        }
    }
    cur = {
        "m": {
            "const": _kpi(1.0, 0.0, 10),
            "never": _kpi(None, None, 0),
            "rare": _kpi(5.0, None, 1),
            "noisy": _kpi(13.0, 1.0, 10),
            "floored": _kpi(10.5, 0.01, 10),
            "new": _kpi(1.0, 0.1, 10),
        }
    }
    rows = compare("s", base, cur, base_reps=10, cur_reps=10, floors={"m.floored": 1.0})
    judge(rows)
    st = {r.kpi: r.status for r in rows}
    assert st["const"] == OK  # se = 0 on both sides, equal
    assert st["never"] == OK  # undefined everywhere on both sides
    assert st["rare"] == OK and st["rare.share_defined"] == OK  # 0/10 → 1/10 is noise
    assert st["noisy"] == OK  # 3 se apart: within k ≈ 4 (t, 18 d.f.)
    assert st["floored"] == OK  # 50 se apart, but within the 1.0 floor
    assert st["gone"] == FAIL and st["new"] == FAIL  # structural changes
    # A constant KPI that moves fails; a definedness flip 0/10 → 10/10 fails.
    cur["m"]["const"] = _kpi(0.999, 0.0, 10)
    cur["m"]["rare"] = _kpi(5.0, 0.5, 10)
    rows = compare("s", base, cur, base_reps=10, cur_reps=10)
    judge(rows)
    st = {r.kpi: r.status for r in rows}
    assert st["const"] == FAIL
    assert st["rare.share_defined"] == FAIL
    # One defined replication on each side: no spread known, skipped unless floored.
    rows = compare(
        "s",
        {"m": {"x": _kpi(1.0, None, 1)}},
        {"m": {"x": _kpi(9.0, None, 1)}},
        base_reps=10,
        cur_reps=10,
    )
    judge(rows)
    assert rows[0].status == SKIP
    # --exact: any difference fails, identity passes.
    rows = compare("s", base, base, base_reps=10, cur_reps=10)
    judge(rows, exact=True)
    assert all(r.status == OK for r in rows)
    rows = compare(
        "s", base, {"m": {**base["m"], "noisy": _kpi(10.00001, 1.0, 10)}}, base_reps=10, cur_reps=10
    )
    judge(rows, exact=True)
    assert [r.kpi for r in rows if r.failed] == ["noisy"]


def test_sig_rounds_to_six_digits() -> None:
    assert sig(0.123456789) == 0.123457
    assert sig(123456789.0) == 123457000.0
    assert sig(float("nan")) is None and sig(0.0) == 0.0


# ----------------------------------------------------------------------------- command
def test_baseline_is_small_stable_and_rounded(tree: tuple[Path, Path]) -> None:
    sc, base = tree
    path = base / "tiny.json"
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["seed"] == 0 and data["reps"] == REPS
    assert data["scenario_file"] == "../tiny.yaml" and len(data["scenario_hash"]) == 16
    assert data["tolerance"]["alpha"] == 0.01 and data["tolerance"]["k"] > 2
    assert "created" not in text and "date" not in text.split('"scenario_resolved"')[0]
    assert data["format"] == 2
    means = [v["mean"] for ks in data["kpis"].values() for v in ks.values() if v["mean"]]
    assert all(len(f"{x:.15g}".replace(".", "").lstrip("0-")) <= 6 for x in means)
    # every replication's value, one list per KPI on one line, rounded the same way
    fill = data["values"]["maker"]["fill_rate"]
    assert len(fill) == REPS and f'"fill_rate": {json.dumps(fill)}' in text
    assert all(len(f"{x:.15g}".replace(".", "").lstrip("0-")) <= 6 for x in fill)
    assert sum(fill) / REPS == pytest.approx(data["kpis"]["maker"]["fill_rate"]["mean"], rel=1e-5)
    # the resolved scenario (to name what changed) and the file it was read from
    assert data["scenario_resolved"]["authority"]["reviewers"] == 6
    assert list(data["scenario_files"]) == ["../tiny.yaml"]
    # --update of an unchanged tree rewrites identical bytes; it keeps seed and reps.
    r = regress(sc, "--baselines", base, "--update", "--workers", 1)
    assert r.exit_code == 0 and "unchanged" in r.output
    assert path.read_text(encoding="utf-8") == text


def test_unchanged_tree_passes(tree: tuple[Path, Path]) -> None:
    sc, base = tree
    r = regress(sc, "--baselines", base, "--workers", 1)
    assert r.exit_code == 0, r.output
    assert "0 of" in r.output and "FAIL" not in r.output


def test_edit_that_changes_outcomes_fails_and_names_kpis(tree: tuple[Path, Path]) -> None:
    sc, base = tree
    sc.write_text(TINY.replace("reviewers: 6", "reviewers: 3"), encoding="utf-8")
    r = regress(sc, "--baselines", base, "--workers", 1)
    assert r.exit_code == 1, r.output
    assert "the scenario changed since its baseline" in r.output
    assert "changed file: " in r.output and "tiny.yaml (this scenario's file)" in r.output
    assert any(
        line.split()[:4] == ["authority.reviewers", "6", "→", "3"] for line in r.output.splitlines()
    ), r.output
    for name in (
        "authority.wait_wd_p50",
        "authority.wait_wd_mean",
        "maker.fill_rate",
        "maker.shortfall_t",
    ):
        assert name in r.output
    assert "authority.approval_rate" not in r.output  # unchanged KPIs are not listed
    # ... with --verbose every KPI is shown.
    r = regress(sc, "--baselines", base, "--workers", 1, "--verbose")
    assert "authority.approval_rate" in r.output
    # --update accepts the change; then the tree passes.
    r = regress(sc, "--baselines", base, "--update", "--workers", 1)
    assert r.exit_code == 0 and "updated" in r.output
    r = regress(sc, "--baselines", base, "--workers", 1)
    assert r.exit_code == 0, r.output
    assert "scenario changed" not in r.output


def test_a_changed_scenario_fails_even_when_no_kpi_moves(tree: tuple[Path, Path]) -> None:
    """Issue 24: an edit that moves no KPI beyond tolerance still fails, naming the
    field; --allow-changed judges the KPIs only; --update accepts it."""
    sc, base = tree
    sc.write_text(TINY.replace("demand_cv: 0.1", "demand_cv: 0.1001"), encoding="utf-8")
    r = regress(sc, "--baselines", base, "--workers", 1)
    assert r.exit_code == 1, r.output
    assert "0 of" in r.output and "the scenario changed" in r.output
    assert "manufacturers.maker.demand_cv" in r.output and "0.1 → 0.1001" in r.output
    assert "--update" in r.output and "--allow-changed" in r.output
    r = regress(sc, "--baselines", base, "--workers", 1, "--allow-changed")
    assert r.exit_code == 0, r.output
    assert "(allowed)" in r.output and "manufacturers.maker.demand_cv" in r.output


def test_paired_differences_catch_a_25_percent_move_that_means_alone_miss() -> None:
    """The same replications with every value 25 % higher: comparing two means with
    √(se_b² + se_c²) lets it through at 12 replications; the paired differences do not."""
    rng = __import__("numpy").random.default_rng(3)
    base_v = [float(x) for x in rng.gamma(4.0, 25.0, size=12)]  # CV 50 %
    cur_v = [1.25 * x for x in base_v]

    def summary(v: list[float]) -> dict[str, object]:
        st = __import__("simulator.stats", fromlist=["interval"]).interval(v)
        return {"m": {"lost_units": _kpi(sig(st["mean"]), sig(st["se"]), 12)}}

    unpaired = compare("s", summary(base_v), summary(cur_v), base_reps=12, cur_reps=12)
    judge(unpaired, m=100)
    assert unpaired[0].status == OK  # missed
    paired = compare(
        "s",
        summary(base_v),
        summary(cur_v),
        base_reps=12,
        cur_reps=12,
        base_values={"m": {"lost_units": base_v}},
        cur_values={"m": {"lost_units": cur_v}},
    )
    judge(paired, m=100)
    assert paired[0].paired and paired[0].status == FAIL  # caught
    # identical replications: nothing moves, nothing counts towards m
    same = compare(
        "s",
        summary(base_v),
        summary(base_v),
        base_reps=12,
        cur_reps=12,
        base_values={"m": {"lost_units": base_v}},
        cur_values={"m": {"lost_units": base_v}},
    )
    assert judge(same) == 0 and same[0].status == OK and not same[0].tested


def test_paired_definedness_by_mcnemar() -> None:
    """Replications that recover in the baseline but not in the re-run: judged pair by
    pair (exact McNemar), not as two independent shares."""
    base_v = [1.0] * 10 + [None] * 2
    lost = [None] * 9 + [1.0, 1.0, None]  # 9 stopped recovering, 1 started
    base = {"m": {"days_to_recover": _kpi(1.0, 0.0, 10)}}
    cur = {"m": {"days_to_recover": _kpi(1.0, 0.0, 3)}}
    rows = compare(
        "s",
        base,
        cur,
        base_reps=12,
        cur_reps=12,
        base_values={"m": {"days_to_recover": base_v}},
        cur_values={"m": {"days_to_recover": lost}},
    )
    share = next(r for r in rows if r.share)
    assert (share.only_base, share.only_cur) == (9, 1) and share.p == pytest.approx(0.0215, 1e-2)
    judge(rows, alpha=0.05)  # one testable row at 5 %: fails
    assert share.status == FAIL
    judge(rows, alpha=0.05, m=100)  # among 100: does not
    assert share.status == OK


@pytest.mark.slow
def test_false_alarm_rate_over_seeds(tree: tuple[Path, Path]) -> None:
    """Same settings, other seeds: only noise differs (the pairs draw different random
    numbers), so at α = 0.01 family-wise at most ~1 run in 100 may fail; require at
    least 19 of 20 to pass."""
    sc, base = tree
    results = [
        regress(sc, "--baselines", base, "--workers", 1, "--seed", s).exit_code
        for s in range(1, 21)
    ]
    assert set(results) <= {0, 1}
    alarms = sum(results)
    print(f"false-alarm rate: {alarms}/20 seeds (nominal family-wise α = 0.01)")
    assert alarms <= 1


def test_exact_mode(tree: tuple[Path, Path]) -> None:
    sc, base = tree
    r = regress(sc, "--baselines", base, "--workers", 1, "--exact")
    assert r.exit_code == 0, r.output
    r = regress(sc, "--baselines", base, "--workers", 1, "--exact", "--seed", 1)
    assert r.exit_code == 1
    # A tiny edit that the statistical mode tolerates still fails --exact.
    sc.write_text(TINY.replace("rate_per_wd: 0.5", "rate_per_wd: 0.51"), encoding="utf-8")
    assert regress(sc, "--baselines", base, "--workers", 1, "--exact").exit_code == 1


def test_junit_and_markdown(tree: tuple[Path, Path], tmp_path: Path) -> None:
    sc, base = tree
    other = tmp_path / "other" / "tiny2.yaml"
    other.parent.mkdir()
    other.write_text(TINY.replace("name: tiny", "name: tiny2"), encoding="utf-8")
    assert (
        regress(other, "--baselines", base, "--update", "--reps", 6, "--workers", 1).exit_code == 0
    )
    sc.write_text(TINY.replace("reviewers: 6", "reviewers: 3"), encoding="utf-8")
    junit, md = tmp_path / "out" / "junit.xml", tmp_path / "out" / "summary.md"
    r = regress(sc, other, "--baselines", base, "--workers", 1, "--junit", junit, "--markdown", md)
    assert r.exit_code == 1
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["tiny", "tiny2"]
    total = 0
    for s in suites:
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases) > 10
        assert int(s.get("failures")) == len(s.findall("testcase/failure"))
        assert {c.get("classname") for c in cases} == {s.get("name")}
        assert all(c.get("name").count(".") >= 1 or c.get("name") == "scenario" for c in cases)
        total += len(cases)
    assert int(root.get("tests")) == total
    tiny, tiny2 = suites
    assert int(tiny.get("failures")) > 0 and int(tiny2.get("failures")) == 0
    failed = {c.get("name") for c in tiny.findall("testcase") if c.find("failure") is not None}
    assert "authority.wait_wd_p50" in failed
    assert "scenario" in failed  # the edit itself, with the field it changed
    changed = next(c for c in tiny.findall("testcase") if c.get("name") == "scenario")
    assert "authority.reviewers: 6 → 3" in changed.find("failure").text
    text = md.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("## relsim regress — FAIL")
    i = lines.index("| scenario | KPIs | failed | seed | reps | notes |")
    assert lines[i + 1].startswith("|---")
    assert "| scenario | metric | baseline | current | Δ | tolerance | status |" in lines
    assert any("authority.wait_wd_p50" in line for line in lines)


def test_markdown_appends_to_github_step_summary(
    tree: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc, base = tree
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert regress(sc, "--baselines", base, "--workers", 1).exit_code == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "## relsim regress — PASS" in text
    # --markdown "$GITHUB_STEP_SUMMARY" appends once, not twice.
    assert regress(sc, "--baselines", base, "--workers", 1, "--markdown", summary).exit_code == 0
    assert summary.read_text(encoding="utf-8").count("## relsim regress") == 2


def test_missing_baseline_is_bad_input(tmp_path: Path) -> None:
    sc = tmp_path / "tiny.yaml"
    sc.write_text(TINY, encoding="utf-8")
    r = regress(sc, "--baselines", tmp_path / "nowhere", "--workers", 1)
    assert r.exit_code == 2
    assert str(tmp_path / "nowhere" / "tiny.json") in r.output
    assert "--update" in r.output


def test_every_scenario_without_a_baseline_is_named(tree: tuple[Path, Path]) -> None:
    """Issue 24: regress stopped on the first file without a baseline."""
    sc, base = tree
    for name in ("draft-a", "draft-b"):
        (sc.parent / f"{name}.yaml").write_text(
            TINY.replace("name: tiny", f"name: {name}"), encoding="utf-8"
        )
    r = regress(sc.parent, "--baselines", base, "--workers", 1)
    assert r.exit_code == 2
    assert "2 of 3 scenario(s) have no baseline" in r.output
    assert "draft-a.yaml" in r.output and "draft-b.yaml" in r.output
    assert "tiny.yaml" not in r.output.split("have no baseline")[1].split("create")[0]


def test_an_old_format_baseline_is_refused(tree: tuple[Path, Path]) -> None:
    sc, base = tree
    path = base / "tiny.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format"] = 1
    del data["values"]
    path.write_text(json.dumps(data), encoding="utf-8")
    r = regress(sc, "--baselines", base, "--workers", 1)
    assert r.exit_code == 2 and "format 1 is not 2" in r.output and "--update" in r.output


def test_bad_inputs_exit_2(tree: tuple[Path, Path], tmp_path: Path) -> None:
    sc, base = tree
    assert regress(tmp_path / "missing.yaml", "--baselines", base).exit_code == 2
    (base / "tiny.json").write_text("{not json", encoding="utf-8")
    r = regress(sc, "--baselines", base)
    assert r.exit_code == 2 and "not valid JSON" in r.output
    sc.write_text(TINY + "tolerances: {fill_rat: 0.01}\n", encoding="utf-8")
    r = regress(sc, "--baselines", base, "--update")
    assert r.exit_code == 2 and "fill_rate" in r.output  # did you mean


def test_scenario_floor_widens_tolerance(tree: tuple[Path, Path]) -> None:
    sc, base = tree
    edited = TINY.replace("reviewers: 6", "reviewers: 5")
    sc.write_text(edited, encoding="utf-8")
    r = regress(sc, "--baselines", base, "--workers", 1, "--exact")
    assert r.exit_code == 1
    floors = "\n".join(
        f"  {k}: 1.0e+9"
        for k in (*MANUFACTURER_KPIS, *AUTHORITY_KPIS, "days_to_recover.share_defined")
    )
    sc.write_text(edited + "tolerances:\n" + floors + "\n", encoding="utf-8")
    r = regress(sc, "--baselines", base, "--workers", 1, "--allow-changed")
    assert r.exit_code == 0, r.output


def test_default_paths_and_directories(
    tree: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc, _ = tree
    monkeypatch.chdir(tmp_path)  # scenarios/tiny.yaml, scenarios/baselines/tiny.json
    r = regress("--workers", 1)
    assert r.exit_code == 0, r.output
    assert "tiny.yaml" in r.output
    r = regress(sc.parent, "--workers", 1)
    assert r.exit_code == 0, r.output


@pytest.mark.slow
@pytest.mark.skipif(
    not any(c.name == "regress" for c in __import__("simulator.cli").cli.app.registered_commands),
    reason="`relsim regress` is not registered in simulator.cli yet",
)
def test_python_m_simulator_regress(tree: tuple[Path, Path]) -> None:
    sc, base = tree
    env = {**os.environ}
    env.pop("GITHUB_STEP_SUMMARY", None)
    cmd = [
        sys.executable,
        "-m",
        "simulator",
        "regress",
        str(sc),
        "--baselines",
        str(base),
        "--workers",
        "1",
    ]
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    sc.write_text(TINY.replace("reviewers: 6", "reviewers: 3"), encoding="utf-8")
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1 and "authority.wait_wd_p50" in bad.stdout
    missing = subprocess.run(
        [*cmd[:5], "--baselines", str(base / "none")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert missing.returncode == 2 and "--update" in missing.stderr


def test_a_few_equal_differences_of_a_whole_number_kpi_are_not_a_certain_change() -> None:
    """Seen in the false-alarm experiment: two pairs of recovery days that both moved by
    exactly 35 days (other seeds, independent pairs) had se = 0 and failed."""
    base = {"m": {"days_to_recover": _kpi(27.0, 5.0, 2)}}
    cur = {"m": {"days_to_recover": _kpi(62.0, 5.0, 2)}}
    kw = {"base_reps": 10, "cur_reps": 10}
    two = compare(
        "s", base, cur, **kw,
        base_values={"m": {"days_to_recover": [32.0, 22.0] + [None] * 8}},
        cur_values={"m": {"days_to_recover": [67.0, 57.0] + [None] * 8}},
    )  # fmt: skip
    judge(two, m=100)
    assert two[0].grain == 1.0 and two[0].status == OK
    # the same shift in ten pairs (common random numbers, a real change) still fails
    ten = compare(
        "s", base, cur, **kw,
        base_values={"m": {"days_to_recover": [float(20 + i) for i in range(10)]}},
        cur_values={"m": {"days_to_recover": [float(55 + i) for i in range(10)]}},
    )  # fmt: skip
    judge(ten, m=100)
    assert ten[0].status == FAIL and "the same change in all 10 pairs" in ten[0].note


def test_a_field_added_to_the_model_is_not_a_scenario_change(tree: tuple[Path, Path]) -> None:
    """A baseline stored before the scenario model gained a field (unset here): the files
    and values are the same, so the KPIs judge; no "scenario changed" failure."""
    sc, base = tree
    path = base / "tiny.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    m = data["scenario_resolved"]["manufacturers"][0]
    unset = next(k for k, v in m.items() if v is None)
    del m[unset]  # as if the field did not exist when the baseline was made
    data["scenario_hash"] = "0" * 16
    path.write_text(json.dumps(data), encoding="utf-8")
    r = regress(sc, "--baselines", base, "--workers", 1)
    assert r.exit_code == 0, r.output
    assert "fields unset on both sides" in r.output and "the scenario changed" not in r.output
