"""report.html: one self-contained page per run, per comparison, rebuilt from a run
directory; opened in headless Chromium (screenshot, no console errors, key numbers in
the DOM match summary.json); notebook views of results."""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import simulator as sim
from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "scenarios" / "cn-2025-april-controls.yaml"
SMALL = ROOT / "tests" / "data" / "small.yaml"


def _run(*args: str) -> None:
    assert main(list(args)) == 0


@pytest.fixture(scope="module")
def case_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The case study as shipped, 4 replications on 2 workers (the page's content does
    not depend on the count; ~15 s)."""
    out = tmp_path_factory.mktemp("case") / "run"
    _run("run", str(CASE), "--reps", "4", "--workers", "2", "--out", str(out), "--quiet")
    return out


def _no_network_refs(page: str) -> None:
    for m in re.finditer(r"""(?:src|href)\s*=\s*['"]([^'"]+)""", page):
        assert m.group(1).startswith(("data:", "#", "figures/")), m.group(1)
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page


def test_report_html_is_self_contained_with_every_section(case_run: Path) -> None:
    page = (case_run / "report.html").read_text(encoding="utf-8")
    _no_network_refs(page)
    for section in ("kpis", "fan-charts", "exports", "waits", "policy", "assumptions"):
        assert f"id='{section}'" in page, section
    assert "cn-2025-april-controls" in page
    assert "How much production did downstream manufacturers" in page  # QUESTION.
    assert "2025 case study" in page  # description
    # the overview, five fan charts, waits, exports, arrivals, backlog, policy timeline
    assert page.count("data:image/png;base64,") == 1 + 5 + 5
    assert "Known Limits" in page and "Sources" in page
    man = json.loads((case_run / "manifest.json").read_text())
    assert f"relsim <span id='version'>{man['version']}</span>" in page


def _dom_number(driver, selector: str) -> str:
    el = driver.find_element("css selector", selector)
    return el.get_attribute("data-value")


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("CI", "").lower() in ("", "0", "false")
    and not all(__import__("browser").find_chromium()),
    reason="no Chromium installed (apt-get install chromium chromium-driver); CI always runs it",
)
def test_case_study_report_in_headless_chromium(case_run: Path, tmp_path: Path) -> None:
    """Opens the case study's report.html in headless Chromium: no console errors, no
    request leaves the file, the KPI table's numbers and dates are summary.json's, the
    figures are decoded (natural width > 0); saves a full-page screenshot."""
    from browser import chromium, console_errors, full_page_screenshot

    summary = json.loads((case_run / "summary.json").read_text())
    kt = pd.read_csv(case_run / "kpi_table.csv")
    with chromium() as d:
        d.get((case_run / "report.html").as_uri())
        assert d.execute_script("return document.readyState") == "complete"
        assert console_errors(d) == []
        assert d.find_element("id", "scenario-name").text == "cn-2025-april-controls"
        assert d.find_element("id", "reps").get_attribute("data-value") == "4"
        for m in ("us_automaker", "eu_auto_supplier", "jp_automaker", "in_ev_maker"):
            k = summary["kpis"][m]
            fill = float(_dom_number(d, f"td[data-manufacturer='{m}'][data-kpi='fill_rate']"))
            assert fill == pytest.approx(k["fill_rate"]["mean"], rel=1e-12)
            text = d.find_element(
                "css selector", f"td[data-manufacturer='{m}'][data-kpi='fill_rate']"
            ).text
            assert f"{100 * k['fill_rate']['mean']:.1f}%" in text
            cell = f"td[data-manufacturer='{m}'][data-kpi='first_shortage_date']"
            date = _dom_number(d, cell)  # the headline: the median date
            assert date == k["first_shortage_date"]["median"]
            row = kt[kt["manufacturer"] == m].iloc[0]
            assert date == row["first_shortage_date_median"][:10]
            el = d.find_element("css selector", cell)
            assert el.get_attribute("data-mean") == k["first_shortage_date"]["mean"]
            assert el.get_attribute("data-p5") == k["first_shortage_date"]["p5"]
            assert el.text.splitlines()[0] == date  # median first, its range under it
            rng = f"{k['first_shortage_date']['p5']} – {k['first_shortage_date']['p95']}"
            if k["first_shortage_date"]["p5"] != k["first_shortage_date"]["p95"]:
                assert rng in el.text
            assert "in 100%" in el.text or "in " in el.text.splitlines()[-1]
        wait = float(
            d.find_element("css selector", "b[data-kpi='wait_wd_p50']").get_attribute("data-value")
        )
        assert wait == pytest.approx(summary["kpis"]["authority"]["wait_wd_p50"]["mean"])
        widths = d.execute_script(
            "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)"
        )
        assert len(widths) == 11 and min(widths) > 500
        # nothing but the file itself and its data: URIs was requested
        urls = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert all(u.startswith(("data:", "file:")) for u in urls), urls
        shot = tmp_path / "report.png"
        w, h = full_page_screenshot(d, shot)
        assert shot.read_bytes()[:4] == b"\x89PNG" and w >= 1000 and h > 3000
        keep = os.environ.get("RELSIM_SCREENSHOT_DIR")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(keep) / "case-study-report.png")
        print(f"screenshot: {shot} ({w}x{h} CSS px)")


def test_relsim_report_rebuilds_the_page_from_the_run_directory(
    case_run: Path, tmp_path: Path
) -> None:
    target = tmp_path / "again.html"
    _run("report", str(case_run), "--output", str(target))
    page = target.read_text(encoding="utf-8")
    _no_network_refs(page)
    summary = json.loads((case_run / "summary.json").read_text())
    k = summary["kpis"]["us_automaker"]
    assert f"data-value='{k['first_shortage_date']['median']}'" in page
    assert f"data-mean='{k['first_shortage_date']['mean']}'" in page
    assert f"data-value='{k['fill_rate']['mean']!r}'" in page
    assert page.count("data:image/png;base64,") == 11
    assert "How much production" in page


def test_variant_report_lists_what_it_changes(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    shutil.copy(SMALL, base)
    variant = tmp_path / "variant.yaml"
    variant.write_text(
        textwrap.dedent(
            """\
            # QUESTION. What if the authority had twice the reviewers?
            #
            # SOURCES. None: an illustration.
            extends: base.yaml
            name: more-reviewers
            authority:
              reviewers: 12
            """
        )
    )
    out = tmp_path / "run"
    _run(
        "run",
        str(variant),
        "--reps",
        "3",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--set",
        "manufacturers[us_plant].initial_cover_days=40",
    )
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "What if the authority had twice the reviewers?" in page
    assert "id='changes'" in page and "base.yaml" in page
    assert "<code>authority.reviewers</code></td><td>6</td><td>12</td>" in page
    assert "manufacturers[us_plant].initial_cover_days" in page
    notes = json.loads((out / "scenario.notes.json").read_text())
    assert notes["overrides"] == {"manufacturers[us_plant].initial_cover_days": 40}


def test_compare_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    _run(
        "compare",
        str(SMALL),
        str(SMALL),
        "--reps",
        "3",
        "--workers",
        "1",
        "--set-b",
        "authority.reviewers=30",
        "--out",
        str(out),
        "--quiet",
        "--format",
        "svg",
    )
    page = (out / "report.html").read_text(encoding="utf-8")
    _no_network_refs(page)
    assert "id='differences'" in page and "data-kpi='fill_rate'" in page
    # compare in dates: when each line stops and recovers in A and B, and by how much
    assert "id='dates'" in page and "data-kpi='first_shortage_date_a'" in page
    assert "data-kpi='recovery_date_diff'" in page and "paired replications" in page
    dates = pd.read_csv(out / "date_differences.csv")
    assert set(dates["kpi"]) == {"first_shortage_date", "recovery_date"}
    first = dates[(dates["manufacturer"] == "us_plant") & (dates["kpi"] == "first_shortage_date")]
    assert f"data-value='{first['date_a'].iloc[0][:10]}'" in page
    # what differs, leaf by leaf, and both scenarios' assumptions
    assert "id='changes'" in page and "<code>authority.reviewers</code></td><td>6</td>" in page
    assert "id='assumptions'" in page and "data-kpi='shortage_days'" in page
    # a difference figure per plant, the policy timelines of A and B
    assert page.count("data:image/png;base64,") == 4
    assert sorted(p.suffix for p in (out / "figures").iterdir()) == [".svg"] * 4


def test_notebook_views_are_html_tables() -> None:
    sc = sim.load_scenario(SMALL)
    one = sim.run(sc, seed=1)
    ens = sim.run_ensemble(sc, reps=3, seed=1, workers=1)
    cmp = sim.compare(sc, sc, reps=2, seed=1, workers=1)
    r = one._repr_html_()
    assert "<table" in r and "first shortage" in r and "us_plant" in r
    k = one.kpis.set_index("manufacturer")
    assert k.loc["us_plant", "first_shortage_date"].date().isoformat() in r
    e = ens._repr_html_()
    kt = ens.kpi_table()
    assert "<table" in e and "3 replications" in e
    assert kt.loc[0, "first_shortage_date_median"].date().isoformat() in e
    assert "[" in e and "–" in e  # intervals
    assert "5–95%" in e and "median" in e  # the caption says how dates read
    c = cmp._repr_html_()
    assert "<table" in c and "B − A" in c
    assert "table class='dates'" in c and "first shortage" in c and "recovered by" in c
