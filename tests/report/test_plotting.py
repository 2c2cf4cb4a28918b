"""Plots: every figure has a title, unit-labelled axes and a legend; fan charts carry
their bands and regime shading; waits mark the statutory limit; exports overlay
observed data; ``save_figures`` writes PNGs. Headless (Agg), small ensembles."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import builders as b
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import simulator as sim
from simulator.report.figures import save_figures
from simulator.report.observed import load_observed_exports
from simulator.report.plot_style import FOOTER_GID, REGIME_GID, REGIME_LABEL_GID

ROOT = Path(__file__).resolve().parents[2]

# the format of scenarios/data/cn_magnet_exports.csv (blank = not reported)
OBSERVED_TEXT = """month,total_t,us_t,germany_t,de_t,quality,notes
2024-12,6100,,,,reported,
2025-01,6357,,,,reported,record month
2025-02,3590,,,,derived,"Jan-Feb total minus January"
2025-03,5323,585,,40,derived,US value derived
2025-05,1238,46.4,150,,reported,
"""


@pytest.fixture
def observed_csv(tmp_path: Path) -> Path:
    p = tmp_path / "observed.csv"
    p.write_text(OBSERVED_TEXT)
    return p


POLICY: dict[str, Any] = {
    "regimes": [
        {
            "name": "controls",
            "label": "April controls: licences required",
            "rules": [{"review_time_factor": 3.0, "information_request_probability": 0.4}],
        },
        {"name": "thaw", "label": "Geneva thaw", "rules": [{"review_time_factor": 0.7}]},
        {"name": "tight", "label": "September scrutiny", "rules": [{"review_time_factor": 2.0}]},
    ],
    "timeline": [
        {"date": "2025-04-04", "regime": "controls"},
        {"date": "2025-06-10", "regime": "thaw"},
        {"date": "2025-06-20", "regime": "tight"},  # short span: labels must stagger
        {"date": "2025-11-10", "regime": "thaw"},
    ],
}


def _data(name: str = "plot-test", reviewers: int = 2) -> dict[str, Any]:
    d = b.supply_chain(days=365, reviewers=reviewers, bg_rate=0.4, policy=POLICY)
    d["name"] = name
    d["manufacturers"][0]["name"] = "EU auto supplier"
    d["manufacturers"].append(
        {**copy.deepcopy(d["manufacturers"][0]), "id": "m2", "name": "", "initial_cover_days": 60}
    )
    return d


@pytest.fixture(scope="module")
def ens() -> Any:
    return sim.run_ensemble(b.build(_data()), reps=6, seed=0, workers=1)


@pytest.fixture(autouse=True)
def _no_leaks() -> Any:
    yield
    assert plt.get_fignums() == [], "plotting must not register pyplot figures"


def _title(fig: Figure) -> str:
    sup = fig.get_suptitle()
    return sup or " ".join(ax.get_title() for ax in fig.axes)


def _has_legend(fig: Figure) -> bool:
    return bool(fig.legends) or any(ax.get_legend() is not None for ax in fig.axes)


def _labels(fig: Figure) -> list[str]:
    handles = [lg.legend_handles for lg in fig.legends] + [
        ax.get_legend().legend_handles for ax in fig.axes if ax.get_legend() is not None
    ]
    return [h.get_label() for h in itertools.chain.from_iterable(handles)]


def _spans(ax: Any) -> list[Any]:
    """The shaded regime spans of ``ax`` (one collection of rectangles)."""
    return [p for c in ax.collections if c.get_gid() == REGIME_GID for p in c.get_paths()]


# --------------------------------------------------------------------------- fan chart
def test_shortage_curve_fan_chart(ens: Any) -> None:
    """Weekly fan chart over operating days, P(shortage) and cumulative panels, regimes
    shaded by direction and labelled, a provenance footer; no sample paths by default."""
    fig = ens.plot.shortage_curve()
    assert isinstance(fig, Figure)
    title = _title(fig)
    assert "EU auto supplier" in title and "6 replications" in title and "plot-test" in title
    assert "mean per week" in title
    main, pax, cax = fig.axes[0], fig.axes[1], fig.axes[2]
    assert main.get_ylabel() == "shortfall (t per day)"
    assert "P(shortage" in pax.get_ylabel() and "week" in pax.get_ylabel()
    assert "cumulative" in cax.get_ylabel() and "units" in cax.get_ylabel()
    assert cax.get_xlabel() == "date"
    # nested bands (p5–p95, p25–p75) on the main axes
    assert sum(isinstance(c, PolyCollection) for c in main.collections) >= 2
    labels = _labels(fig)
    assert _has_legend(fig)
    for want in ("5–95% of replications", "25–75%", "median", "mean"):
        assert want in labels
    assert not any("sample paths" in s for s in labels)
    assert any(t.get_gid() == FOOTER_GID and "relsim" in t.get_text() for t in fig.texts)
    # one shaded span per regime span, one label each, lines at the changes
    regimes = ens.regimes()
    assert len(regimes) == 5
    assert len(_spans(main)) == len(regimes)
    texts = [t for t in main.texts if t.get_gid() == REGIME_LABEL_GID]
    marks = [t.get_text().strip().lstrip("▲▼ ") for t in texts]
    assert marks == list(regimes["label"])
    # the controls tighten (slower reviews), the thaw eases: marked and shaded
    assert texts[1].get_text().strip().startswith("▲")
    assert texts[2].get_text().strip().startswith("▼")
    assert "▲ tighter than before" in labels and "▼ easier than before" in labels
    # labels do not overlap each other and stay inside the axes horizontally
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in texts]
    for b1, b2 in itertools.combinations(boxes, 2):
        assert not b1.overlaps(b2)
    axbox = main.get_window_extent()
    assert all(bx.x0 >= axbox.x0 - 1 and bx.x1 <= axbox.x1 + 1 for bx in boxes)


def test_weekly_values_are_means_over_operating_days() -> None:
    """A weekday plant's week: the mean shortfall of its five working days, not of seven
    (weekends are not zeros that halve the band)."""
    from simulator.report.plot_shortage import _by_period, operating_days, period_bins

    d = _data()
    d["manufacturers"][0]["operating_days"] = "weekdays"
    e = sim.run_ensemble(b.build(d), reps=3, seed=0, workers=1)
    codes, edges = period_bins(e.dates, "W")
    ops = operating_days(e)[:, 0]
    assert ops.sum() < len(ops)  # weekends off
    daily = e.agg.band_short[:, :, 0].astype(float)
    weekly = _by_period(daily, ops, codes, len(edges) - 1)
    k = int(codes[40])
    days = (codes == k) & ops
    np.testing.assert_allclose(weekly[:, k], daily[:, days].mean(axis=1))
    assert np.all(np.diff(edges) <= 7 + 1e-9)
    fig = e.plot.shortage_curve(period="M", samples=2)
    assert "mean per month" in _title(fig) and "2 sample paths" in _labels(fig)
    with pytest.raises(ValueError, match="period"):
        e.plot.shortage_curve(period="Q")


def test_p_shortage_overview(ens: Any) -> None:
    fig = ens.plot.p_shortage_overview()
    ax = fig.axes[0]
    assert "all manufacturers" in _title(fig)
    assert "P(shortage" in ax.get_ylabel()
    labels = _labels(fig)
    assert "EU auto supplier" in labels and "m2" in labels
    assert len(_spans(ax)) == len(ens.regimes())


def test_shortage_curve_inventory_and_second_manufacturer(ens: Any) -> None:
    fig = ens.plot.shortage_curve("m2", series="inventory_t")
    assert fig.axes[0].get_ylabel() == "inventory (t)"
    assert _title(fig).startswith("m2 — end-of-day inventory")  # no name: the id


def test_shortage_curve_into_given_axes(ens: Any) -> None:
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    out = ens.plot.shortage_curve(manufacturer="EU auto supplier", ax=ax)
    assert out is fig
    assert len(fig.axes) == 2  # the twin axis with P(shortage)
    assert ax.get_title() and _has_legend(fig)
    assert len(_spans(ax)) == len(ens.regimes())


def test_shortage_curve_bad_arguments(ens: Any) -> None:
    with pytest.raises(ValueError, match="unknown manufacturer 'nope'; known: m1, m2"):
        ens.plot.shortage_curve("nope")
    with pytest.raises(ValueError, match="series"):
        ens.plot.shortage_curve(series="backlog")


# --------------------------------------------------------------------------- waits
def _limit_lines(fig: Figure) -> list[Line2D]:
    return [
        ln
        for ax in fig.axes
        for ln in ax.lines
        if str(ln.get_label()).startswith("statutory limit")
    ]


def test_licence_waits_marks_limit(ens: Any) -> None:
    fig = ens.plot.licence_waits()
    ax = fig.axes[0]
    assert "Licence waits" in _title(fig) and "over the 45-wd limit" in _title(fig)
    assert ax.get_xlabel().endswith("(working days)")
    assert ax.get_ylabel().endswith("(%)")
    (limit,) = _limit_lines(fig)
    assert limit.get_label() == "statutory limit 45 wd"
    assert limit.get_xdata()[0] == 45
    labels = _labels(fig)
    assert any(s.startswith("median ") for s in labels)
    assert any(s.startswith("p90 ") for s in labels)
    assert any(s.startswith("over the limit: ") for s in labels)
    # trimmed to the populated range, not the 400-wd histogram span
    assert ax.get_xlim()[1] < 200


def test_licence_waits_without_limit() -> None:
    d = _data()
    d["authority"]["statutory_limit_wd"] = None
    e = sim.run_ensemble(b.build(d), reps=1, seed=0, workers=1)
    fig = e.plot.licence_waits()
    assert _limit_lines(fig) == [] and _has_legend(fig)
    assert "limit" not in _title(fig)


# --------------------------------------------------------------------------- exports
def test_load_observed_exports(observed_csv: Path) -> None:
    obs = load_observed_exports(observed_csv)
    assert list(obs["month"].dt.strftime("%Y-%m")) == [
        "2024-12",
        "2025-01",
        "2025-02",
        "2025-03",
        "2025-05",
    ]
    assert str(obs["month"].dtype) == "datetime64[ms]"  # month starts, like every table
    assert obs["total_t"].dtype == float and obs["us_t"].dtype == float
    assert np.isnan(obs.loc[obs.month == "2025-01-01", "us_t"]).all()
    assert obs.loc[obs.month == "2025-05-01", "us_t"].item() == 46.4
    assert obs.loc[obs.month == "2025-02-01", "notes"].item() == "Jan-Feb total minus January"
    assert obs.attrs["units"] == "t/month" and obs.attrs["source"] == str(observed_csv)


def test_load_observed_exports_rejects_missing_columns(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("month,us_t\n2025-01,3\n")
    with pytest.raises(ValueError, match="missing column"):
        load_observed_exports(p)


def test_exports_overlays_observed(ens: Any) -> None:
    obs = pd.DataFrame(
        {
            "month": ["2024-12", "2025-02", "2025-03"],
            "total_t": [9.0, 123.0, 77.0],
            "de_t": [None, 11.0, None],
            "quality": ["reported", "reported", "derived"],
        }
    )
    fig = ens.plot.exports(observed=obs, by_destination=True)
    assert "Monthly exports at Chinese customs" in _title(fig) and _has_legend(fig)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "exports (t/month)"
    ys = [list(ln.get_ydata()) for a in fig.axes for ln in a.lines]
    assert [123.0, 77.0] in ys  # observed line (months outside the horizon dropped)
    assert [11.0] in ys  # observed DE overlaid on the destination panel
    labels = _labels(fig)
    assert "observed total (reported)" in labels and "observed total (derived)" in labels
    assert "DE" in labels and "simulated total, median" in labels


def test_exports_from_path_and_without_observed(ens: Any, observed_csv: Path) -> None:
    fig = ens.plot.exports(observed_csv, by_destination=True)
    labels = _labels(fig)
    assert "observed total (reported)" in labels and "observed total (derived)" in labels
    ys = [list(ln.get_ydata()) for a in fig.axes for ln in a.lines]
    assert [6357.0, 3590.0, 5323.0, 1238.0] in ys and [40.0] in ys  # de_t matches DE
    fig = ens.plot.exports()
    assert not any("observed" in s for s in _labels(fig))
    assert fig.axes[0].get_xlabel() == "month"


# --------------------------------------------------------------------------- backlog
def test_backlog(ens: Any) -> None:
    fig = ens.plot.backlog()
    ax = fig.axes[0]
    assert "pending" in _title(fig) and ax.get_ylabel().endswith("(count)")
    assert _has_legend(fig) and "DE" in _labels(fig)
    assert len(_spans(ax)) == len(ens.regimes())


# --------------------------------------------------------------------------- comparison
def test_shortage_difference() -> None:
    a = b.build(_data("baseline", reviewers=2))
    bb = b.build(_data("more reviewers", reviewers=3))
    cmp = sim.compare(a, bb, reps=3, seed=0, workers=1)
    fig = cmp.plot.shortage_difference()
    title = _title(fig)
    assert "baseline" in title and "more reviewers" in title and "B − A" in title
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Δ shortfall, B − A (t/day)" and ax.get_xlabel() == "date"
    assert any(list(ln.get_ydata()) == [0, 0] for ln in ax.lines)  # zero line
    assert "95% interval (paired)" in _labels(fig)
    assert len(_spans(ax)) == len(cmp.a.regimes())


# --------------------------------------------------------------------------- files
def test_save_figures_writes_pngs(ens: Any, tmp_path: Path, observed_csv: Path) -> None:
    paths = save_figures(ens, tmp_path / "figures", observed=observed_csv)
    names = [p.name for p in paths]
    assert names == [
        "p_shortage.png",
        "shortage_m1.png",
        "shortage_m2.png",
        "licence_waits.png",
        "exports.png",
        "arrivals.png",
        "backlog.png",
        "policy_timeline.png",
    ]
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_save_figures_draws_each_figure_once(
    ens: Any, tmp_path: Path, observed_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving a standard figure draws it exactly once: the layout (margins, legend,
    regime label rows, value labels) is measured inside savefig's draw, with no
    measuring draws before it and no layout engine's extra draw."""
    draws: dict[int, int] = {}
    seen: list[Figure] = []
    draw = Figure.draw

    def counting(self: Figure, renderer: Any) -> None:
        if id(self) not in draws:
            seen.append(self)  # keep it alive: ids stay unique
        draws[id(self)] = draws.get(id(self), 0) + 1
        draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting)
    keep: dict[str, bytes] = {}
    paths = save_figures(ens, tmp_path, observed=observed_csv, keep=keep)
    assert len(paths) == 8 and set(keep) == {p.stem for p in paths}
    assert len(seen) == len(paths)
    assert list(draws.values()) == [1] * len(paths)


def test_a_layout_engine_set_by_the_caller_still_places_the_regime_labels(ens: Any) -> None:
    """relsim's figures lay themselves out in their one draw; a caller who sets a layout
    engine of their own gets it, and the regime labels still do not overlap."""
    fig = ens.plot.backlog()
    fig.set_layout_engine("constrained")
    fig.draw_without_rendering()
    ax = fig.axes[0]
    boxes = [t.get_window_extent() for t in ax.texts if t.get_gid() == REGIME_LABEL_GID]
    assert len(boxes) == len(ens.regimes())
    for b1, b2 in itertools.combinations(boxes, 2):
        assert not b1.overlaps(b2)


def test_a_figure_pickles_and_draws_after_unpickling(ens: Any) -> None:
    """relsim's figures pickle as Matplotlib's do (their label placement runs first)."""
    import io
    import pickle

    fig = pickle.loads(pickle.dumps(ens.plot.backlog()))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
    boxes = [t.get_window_extent() for t in fig.axes[0].texts if t.get_gid() == REGIME_LABEL_GID]
    for b1, b2 in itertools.combinations(boxes, 2):
        assert not b1.overlaps(b2)


@pytest.mark.slow
def test_save_figures_in_worker_processes_writes_the_same_files(tmp_path: Path) -> None:
    """Figures drawn in two forked processes are the files drawn here, byte for byte,
    and report.html receives them in report order.

    Runs in a fresh interpreter: figures are forked only from a process with no other
    thread, and a test session may have some (progress bars, Dask, numba) by now."""
    import os
    import subprocess
    import sys
    import textwrap

    if not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("figures are drawn in forked processes on Linux with 2+ cores only")
    code = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        import simulator as sim
        import simulator.report.figures as figures
        os.getloadavg = lambda: (0.0, 0.0, 0.0)  # an idle machine
        assert figures._fork_workers(2, 8) == 2
        sc = sim.load_scenario({str(ROOT / "tests" / "data" / "small.yaml")!r})
        ens = sim.run_ensemble(sc, reps=3, seed=1, workers=1, progress=False)
        one, two = {{}}, {{}}
        tmp = Path({str(tmp_path)!r})
        a = figures.save_figures(ens, tmp / "a", keep=one, workers=1)
        b = figures.save_figures(ens, tmp / "b", keep=two, workers=2)
        assert [p.name for p in a] == [p.name for p in b]
        assert list(one) == list(two) == [p.stem for p in a]
        assert all(one[k] == two[k] for k in one)
        assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))
        print("ok", len(a))
        """
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert r.returncode == 0 and r.stdout.startswith("ok"), r.stdout + r.stderr[-3000:]


@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_save_figures_formats_and_dpi(ens: Any, tmp_path: Path, fmt: str, magic: bytes) -> None:
    keep: dict[str, bytes] = {}
    paths = save_figures(ens, tmp_path, fmt=fmt, keep=keep)
    assert all(p.suffix == f".{fmt}" and p.read_bytes().startswith(magic) for p in paths)
    assert set(keep) == {p.stem for p in paths}  # PNG copies for report.html
    assert all(v[:4] == b"\x89PNG" for v in keep.values())


def test_dpi_sets_the_pixel_size(ens: Any, tmp_path: Path) -> None:
    from PIL import Image

    (lo,) = [p for p in save_figures(ens, tmp_path / "lo", dpi=60) if p.stem == "backlog"]
    (hi,) = [p for p in save_figures(ens, tmp_path / "hi", dpi=200) if p.stem == "backlog"]
    w_lo, w_hi = Image.open(lo).size[0], Image.open(hi).size[0]
    assert w_lo == 600 and w_hi == 2000  # 10 in wide


def test_save_figures_without_manufacturers(tmp_path: Path) -> None:
    sc = b.build(
        b.authority_only(
            days=90,
            reviewers=2,
            work={"kind": "exponential", "mean": 3},
            streams=[{"destination": "XX", "rate_per_wd": 0.5}],
            limit=45,
        )
    )
    e = sim.run_ensemble(sc, reps=2, seed=0, workers=1)
    paths = save_figures(e, tmp_path)
    assert [p.name for p in paths] == [
        "licence_waits.png",
        "exports.png",
        "arrivals.png",
        "backlog.png",
        "policy_timeline.png",
    ]
    assert all(p.stat().st_size > 0 for p in paths)
    with pytest.raises(ValueError, match="no manufacturers"):
        e.plot.shortage_curve()


def test_policy_timeline_rows_and_colours_follow_the_direction_of_each_policy() -> None:
    """A regime that slows reviews ×2 is drawn red, an overlay that speeds them ×2 blue,
    each on its own row with its label and pace; the neutral start is white."""
    from matplotlib.patches import Rectangle

    from simulator.report.plot_policy import policy_rows

    sc = b.build(
        b.authority_only(
            days=120,
            reviewers=4,
            work={"kind": "constant", "value": 2},
            streams=[{"destination": "XX", "rate_per_wd": 0.5}],
            policy={
                "regimes": [
                    {"name": "slow", "label": "slow-down", "rules": [{"review_time_factor": 2}]}
                ],
                "timeline": [{"date": b.day(b.START, 30), "regime": "slow"}],
                "overlays": [
                    {
                        "from": b.day(b.START, 60),
                        "until": b.day(b.START, 89),
                        "review_time_factor": 0.5,
                        "label": "fast lane",
                    }
                ],
            },
        )
    )
    e = sim.run_ensemble(sc, reps=2, seed=0, workers=1)
    rows = policy_rows(e)
    assert [(r["label"], r["kind"]) for r in rows] == [
        ("neutral", "regime"),
        ("slow-down", "regime"),
        ("fast lane", "dated"),
    ]
    assert [round(r["pace"], 6) for r in rows] == [1.0, 0.5, 2.0]
    fig = e.plot.policy_timeline()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["neutral  ×1", "slow-down  ×0.5", "overlay: fast lane  ×2"]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    by_row = {round(p.get_y() + p.get_height() / 2): p.get_facecolor() for p in bars}
    red, blue = by_row[1], by_row[2]
    assert red[0] > red[2] + 0.2  # more red than blue
    assert blue[2] > blue[0] + 0.2
    assert abs(by_row[0][0] - by_row[0][2]) < 0.05  # neutral: white-grey
