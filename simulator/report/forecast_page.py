"""Figures and ``report.html`` of a forecast and of a backtest.

Everything here takes plain tables (the ``forecast_*``, ``backtest_*`` and ``sbc_*``
tables of :mod:`simulator.replication.columns`) and returns PNG bytes or an HTML page,
so a page can be rebuilt from a directory's files. Every forecast figure marks the as-of
date and overlays the observed values: filled where they were public by then (the
forecast conditioned on them), hollow where they came later (what the forecast is
checked against). Pages embed their figures, carry their own CSS and no script, and
escape every text they show.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.replication.views import escape as _e
from simulator.report.figures import png_bytes
from simulator.report.html import _CSS, _figure, _rows_table
from simulator.report.plot_style import DPI, PALETTE, style

__all__ = ["backtest_figures", "backtest_page", "forecast_figures", "forecast_page"]

BAND90, BAND50, MEDIAN = "#C6DBEF", "#6BAED6", "#08519C"
COLOURS = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
"""Line colours in order (the Okabe–Ito palette of :mod:`simulator.report.plot_style`)."""
PUBLIC, LATER = "#1d1d1d", "#D55E00"


def _fig(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (10.0, 5.0)) -> Figure:
    fig = Figure(figsize=size, layout="constrained")
    fig.subplots(nrows, ncols, squeeze=False)
    return fig


def _panels(n: int, most_cols: int, width: float) -> Figure:
    """A figure of ``n`` small panels, at most ``most_cols`` a row (fewer for fewer
    panels), 2.6 inches a row, ``width`` inches wide; ``fig.axes[:n]`` are the panels in
    reading order, the axes left over in the last row hidden."""
    cols = max(1, min(n, most_cols))
    rows = math.ceil(n / cols)
    fig = _fig(rows, cols, (width, 2.6 * rows + 0.6))
    for ax in fig.axes[n:]:
        ax.set_visible(False)
    return fig


def _png(fig: Figure, stem: str, title: str, caption: str) -> dict[str, Any]:
    return {
        "stem": stem,
        "title": title,
        "caption": caption,
        "mime": "image/png",
        "data": png_bytes(fig, DPI * 0.8),
    }


def _as_of_line(ax: Any, as_of: str) -> None:
    x = pd.Timestamp(as_of)
    ax.axvline(x, color="#444", ls="--", lw=1.1)
    ax.annotate(
        f"as of {as_of}",
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        va="top",
        bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
        fontsize=8.5,
        color="#444",
    )


def _band(ax: Any, frame: pd.DataFrame, x: str, label: str) -> None:
    t = pd.to_datetime(frame[x]) + (pd.Timedelta(days=14) if x == "month" else pd.Timedelta(0))
    ax.fill_between(t, frame["p5"], frame["p95"], color=BAND90, lw=0, label="90 % band")
    ax.fill_between(t, frame["p25"], frame["p75"], color=BAND50, lw=0, label="50 % band")
    ax.plot(t, frame["p50"], color=MEDIAN, lw=1.6, label=label)


def _observed(ax: Any, frame: pd.DataFrame) -> None:
    if "observed" not in frame or not frame["observed"].notna().any():
        return
    t = pd.to_datetime(frame["month"]) + pd.Timedelta(days=14)
    pub = frame["public"].astype(bool) & frame["observed"].notna()
    later = ~frame["public"].astype(bool) & frame["observed"].notna()
    if pub.any():
        ax.plot(t[pub], frame["observed"][pub], "o", color=PUBLIC, ms=5, label="observed, public")
    if later.any():
        ax.plot(
            t[later],
            frame["observed"][later],
            "o",
            mfc="white",
            mec=LATER,
            mew=1.6,
            ms=6,
            label="observed later (check)",
        )


def _band_panels(frames: dict[str, pd.DataFrame], as_of: str, ylabel: str, title: str) -> Figure:
    """A panel per monthly table (``{panel title: frame}``, two a row): the predictive
    median and bands, the observed values if the table has them, the as-of date."""
    fig = _panels(len(frames), 2, 10.0)
    for ax, (name, f) in zip(fig.axes, frames.items(), strict=False):
        _band(ax, f, "month", "median")
        _observed(ax, f)
        _as_of_line(ax, as_of)
        ax.set_title(name)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
    fig.suptitle(title)
    return fig


def forecast_figures(
    sc: Any, as_of: Any, tables: dict[str, pd.DataFrame], params: pd.DataFrame, prior: Any
) -> list[dict[str, Any]]:
    """The forecast's figures as ``{stem, title, caption, mime, data}`` (PNG bytes)."""
    a = str(as_of)
    out = []
    with style():
        fig = _fig()
        ax = fig.axes[0]
        tot = tables["forecast_exports_total"]
        _band(ax, tot, "month", "median forecast")
        _observed(ax, tot)
        _as_of_line(ax, a)
        ax.set_ylabel("exports through Chinese customs, t/month")
        ax.set_title(f"Monthly exports, all destinations: forecast as of {a}")
        ax.set_ylim(bottom=0)
        ax.legend(loc="lower right", ncols=2)
        out.append(
            _png(
                fig,
                "exports_total",
                "Exports, all destinations",
                "Posterior predictive median, 50 % and 90 % bands; observed months filled "
                "where public by the as-of date, hollow where they came later.",
            )
        )
        ex = tables["forecast_exports"]
        dests = [
            d
            for d in ex["destination"].unique()
            if ex.loc[ex.destination == d, "observed"].notna().any()
        ]
        if not dests:
            dests = list(ex.groupby("destination")["p50"].sum().nlargest(6).index)
        fig = _band_panels(
            {f"to {d}": ex[ex.destination == d] for d in dests},
            a,
            "t/month",
            f"Monthly exports by destination: forecast as of {a}",
        )
        out.append(
            _png(
                fig,
                "exports_by_destination",
                "Exports by destination",
                "Destinations with observed figures; bands and markers as above.",
            )
        )
        stop = tables["forecast_line_stop"]
        fig = _fig()
        ax = fig.axes[0]
        for i, (m, f) in enumerate(stop.groupby("manufacturer", sort=False)):
            ax.plot(
                pd.to_datetime(f["date"]),
                f["p_stop"],
                color=COLOURS[i % len(COLOURS)],
                lw=1.8,
                label=m,
            )
        _as_of_line(ax, a)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("P(line stopped by the date)")
        ax.set_title(f"Probability of a line stop by each date: forecast as of {a}")
        if len(stop):
            ax.legend(loc="upper left", ncols=2)
        out.append(
            _png(
                fig,
                "line_stop",
                "P(line stop by date)",
                "Share of posterior predictive simulations whose line had its first shortage "
                "day on or before the date.",
            )
        )
        sh = tables["forecast_shortfall"]
        mfrs = [
            m for m in sh["manufacturer"].unique() if sh.loc[sh.manufacturer == m, "p95"].max() > 0
        ]
        if mfrs:
            fig = _band_panels(
                {m: sh[sh.manufacturer == m] for m in mfrs},
                a,
                "t/month short",
                f"Shortage curves: material of the demand not made, as of {a}",
            )
            out.append(
                _png(
                    fig,
                    "shortfall",
                    "Shortage curves",
                    "Monthly shortfall per manufacturer with a shortage in some simulation.",
                )
            )
        fig = _fig()
        ax = fig.axes[0]
        _band(ax, tables["forecast_waits"], "month", "median")
        _as_of_line(ax, a)
        ax.set_ylabel("median wait, calendar days")
        ax.set_title(f"Licence waits by month of submission: forecast as of {a}")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left")
        out.append(
            _png(
                fig,
                "waits",
                "Licence waits",
                "Median days from submission to decision of the applications submitted each "
                "month (decided within the horizon: the last months count only quick decisions, so "
                "their waits are biased low).",
            )
        )
        out.append(_parameters_figure(params, a))
    return out


def _parameters_figure(params: pd.DataFrame, as_of: str) -> dict[str, Any]:
    n = len(params)
    fig = _fig(1, 1, (10.0, 0.55 * n + 1.4))
    ax = fig.axes[0]
    for i, r in enumerate(params.itertuples()):
        lo, hi = r.prior_low, r.prior_high
        span = hi - lo if hi > lo else 1.0

        def u(v: float, lo: float = lo, span: float = span) -> float:
            return (v - lo) / span

        y = n - 1 - i
        ax.plot([0, 1], [y, y], color="#ccc", lw=6, solid_capstyle="butt")
        ax.plot([u(r.p5), u(r.p95)], [y, y], color=BAND50, lw=6, solid_capstyle="butt")
        ax.plot([u(r.p25), u(r.p75)], [y, y], color=MEDIAN, lw=6, solid_capstyle="butt")
        ax.plot([u(r.p50)], [y], "|", color="white", ms=12, mew=2)
        ax.annotate(
            f"{r.p50:.3g} [{r.p5:.3g}, {r.p95:.3g}]",
            (1.01, y),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize=8.5,
        )
    ax.set_yticks(range(n), [_short(str(p), 44) for p in params["parameter"]][::-1])
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.5, 1], ["prior low", "mid-range", "prior high"])
    ax.grid(False)
    ax.set_title(f"Posterior of the free parameters as of {as_of} (grey: prior range)")
    return _png(
        fig,
        "parameters",
        "Posterior of the parameters",
        "Each parameter's prior range scaled to [0, 1]: 90 % (light) and 50 % (dark) "
        "posterior intervals, median (white tick); values: median [90 % interval].",
    )


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else "…" + text[-(n - 1) :]


def _num(v: Any, digits: int = 4) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "—" if not math.isfinite(f) else f"{f:.{digits}g}"


def _nums(r: Any, **digits: int) -> list[str]:
    """The named fields of a table row, each as :func:`_num` writes it to its digits."""
    return [_num(getattr(r, name), n) for name, n in digits.items()]


def _panel(
    section: str, heading: str, note: str, columns: list[str], rows: list[list[Any]], cls: str
) -> str:
    """A page's section of one table: the heading, a note if any, the table.

    Args:
        section: The section's id.
        heading: Its ``h2`` (written as it is).
        note: HTML of the note above the table (its text escaped by the caller), or "".
        columns: The table's headers.
        rows: Its cells (escaped by :func:`simulator.report.html._rows_table`).
        cls: The table's class.

    Returns:
        The section's HTML, its lines as the pages have always written them.
    """
    head = f"<section id='{section}'><h2>{heading}</h2>"
    body = [f"<p class='note'>{note}</p>"] if note else []
    return "\n".join([head, *body, _rows_table(columns, rows, cls), "</section>"])


def _head(title: str, kind: str) -> list[str]:
    return [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)} — relsim {kind}</title><style>{_CSS}</style></head><body><main>",
    ]


def _foot(man: dict[str, Any], command: str) -> str:
    return (
        f"</main><footer><main style='padding-top:0'>relsim {_e(man.get('version', ''))} · "
        f"seed {_e(man.get('seed', ''))} · {_e(man.get('simulations', ''))} simulations in "
        f"the bank · made {_e(str(man.get('created_utc', ''))[:10])} · command "
        f"<code>relsim {_e(command)}</code></main></footer></body></html>"
    )


def forecast_page(d: dict[str, Any]) -> str:
    """The forecast directory's ``report.html``.

    Args:
        d: ``name``, ``description``, ``as_of``, ``manifest``, ``parameters``
            (``forecast_parameters``), ``targets`` (``forecast_targets``), ``figures``.
    """
    man = d["manifest"]
    out = _head(d["name"], "forecast")
    out.append(
        f"<header><h1 id='scenario-name'>{_e(d['name'])} <span class='note'>forecast</span></h1>"
    )
    if d.get("description"):
        out.append(f"<p class='description'>{_e(d['description'])}</p>")
    n_cond = len(man.get("conditioned_on", []))
    out.append(
        f"<p class='meta'>As of <span id='as-of' data-value='{_e(d['as_of'])}'>"
        f"{_e(d['as_of'])}</span>: conditioned on <span id='conditioned' data-value='{n_cond}'>"
        f"{n_cond}</span> figures public by then · {_e(man.get('method', ''))} on "
        f"{_e(man.get('simulations', ''))} simulations · {_e(man.get('draws', ''))} "
        f"predictive simulations · targets <code>{_e(man.get('targets', ''))}</code></p>"
        "</header>"
    )
    parameters = _panel(
        "parameters",
        "Posterior of the free parameters",
        "",
        ["parameter", "prior range", "median", "90 % interval", "50 % interval"],
        [
            [
                r.parameter,
                f"[{_num(r.prior_low)}, {_num(r.prior_high)}]",
                _num(r.p50),
                f"[{_num(r.p5)}, {_num(r.p95)}]",
                f"[{_num(r.p25)}, {_num(r.p75)}]",
            ]
            for r in d["parameters"].itertuples()
        ],
        "params",
    )
    targets = _panel(
        "targets",
        "Targets: predicted and observed",
        "Posterior predictive median and 90 % interval of every target; <em>public</em> "
        "figures were conditioned on, the others are checks of the forecast.",
        ["target", "kind", "observed", "published", "used", "median", "90 % interval", "inside"],
        [
            [
                r.target,
                r.target_kind,
                _num(r.observed),
                str(r.published)[:10],
                "public" if r.public else "later: check",
                _num(r.p50),
                f"[{_num(r.p5)}, {_num(r.p95)}]",
                "yes" if r.p5 <= r.observed <= r.p95 else "no",
            ]
            for r in d["targets"].itertuples()
        ],
        "targets",
    )
    # one line as before: the sections follow each other without a line break
    out.append(parameters + targets + "<section id='figures'><h2>Figures</h2>")
    out += [_figure(f) for f in d["figures"]]
    out.append("</section>")
    out.append(_foot(man, "forecast"))
    return "\n".join(out)


# ----------------------------------------------------------------------------- backtest
def backtest_figures(
    scores: pd.DataFrame,
    summary: pd.DataFrame,
    pit: pd.DataFrame,
    sbc_ranks: pd.DataFrame | None = None,
) -> list[dict[str, Any]]:
    """The backtest's figures: CRPS and coverage per series, PIT histograms, the total's
    forecasts per origin, and the SBC rank histograms if given."""
    out = []
    with style():
        series = list(summary["series"].unique())
        who = ["relsim", "persistence", "seasonal"]
        fig = _fig(1, 2, (11.0, 0.45 * len(series) + 2.0))
        ax = fig.axes[0]
        y = np.arange(len(series))
        for k, f in enumerate(who):
            s = summary[summary.forecaster == f].set_index("series").reindex(series)
            ax.barh(y + (k - 1) * 0.27, s["crps"], height=0.26, color=COLOURS[k], label=f)
        ax.set_yticks(y, series)
        ax.invert_yaxis()
        ax.set_xlabel("mean CRPS, t/month (lower: better)")
        ax.set_title("CRPS per series")
        ax.legend(loc="lower right")
        ax = fig.axes[1]
        s = summary[summary.forecaster == "relsim"].set_index("series").reindex(series)
        ax.plot(s["coverage50"], y, "o", color=BAND50, label="50 % interval")
        ax.plot(s["coverage90"], y, "s", color=MEDIAN, label="90 % interval")
        ax.axvline(0.5, color=BAND50, ls=":")
        ax.axvline(0.9, color=MEDIAN, ls=":")
        ax.set_yticks(y, [""] * len(series))
        ax.invert_yaxis()
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("share of observed values inside (dotted: nominal)")
        ax.set_title("relsim coverage per series")
        ax.legend(loc="lower left")
        out.append(
            _png(
                fig,
                "scores",
                "Scores per series",
                "Mean CRPS of relsim and of the naive baselines on the same cells, and the "
                "coverage of relsim's central intervals.",
            )
        )
        fig = _fig(1, 3, (11.0, 3.2))
        for k, f in enumerate(who):
            ax = fig.axes[k]
            h = pit[pit.forecaster == f]
            ax.bar(
                h["pit_low"],
                h["share"],
                width=h["pit_high"] - h["pit_low"],
                align="edge",
                color=COLOURS[k],
            )
            if len(h):
                ax.axhline(1 / len(h), color="#444", ls="--", lw=1)
            ax.set_title(f)
            ax.set_xlabel("PIT")
        fig.axes[0].set_ylabel("share of forecasts")
        out.append(
            _png(
                fig,
                "pit",
                "PIT histograms",
                "Flat if calibrated (dashed); a U: too narrow; a hump: too wide.",
            )
        )
        tot = scores[(scores.series == "exports") & (scores.forecaster == "relsim")]
        if len(tot):
            fig = _fig()
            ax = fig.axes[0]
            for i, (o, f) in enumerate(tot.groupby("origin_month")):
                t = pd.to_datetime(f["month"]) + pd.Timedelta(days=14)
                c = COLOURS[i % len(COLOURS)]
                ax.fill_between(t, f["p5"], f["p95"], color=c, alpha=0.18, lw=0)
                ax.plot(t, f["p50"], color=c, lw=1.5, label=f"from {str(o)[:7]}")
            obs = tot.drop_duplicates("month").sort_values("month")
            ax.plot(
                pd.to_datetime(obs["month"]) + pd.Timedelta(days=14),
                obs["observed"],
                "o-",
                color=PUBLIC,
                lw=1,
                label="observed",
            )
            ax.set_ylim(bottom=0)
            ax.set_ylabel("exports, t/month")
            ax.set_title(
                "Total exports: each origin's forecast (median, 90 % band) and what happened"
            )
            ax.legend(loc="lower right", ncols=3)
            out.append(
                _png(
                    fig,
                    "origins",
                    "Forecasts per origin",
                    "Each origin's forecast of the next months from the data public by the "
                    "end of the origin month.",
                )
            )
        if sbc_ranks is not None and len(sbc_ranks):
            out.append(sbc_figure(sbc_ranks))
    return out


def sbc_figure(ranks: pd.DataFrame) -> dict[str, Any]:
    """Rank histograms of simulation-based calibration, one panel per parameter, with
    the 99 % band of a uniform histogram."""
    from scipy import stats

    names = list(ranks["parameter"].unique())
    fig = _panels(len(names), 3, 11.0)
    for ax, name in zip(fig.axes, names, strict=False):
        h = ranks[ranks.parameter == name]
        k = int(h["datasets"].sum())
        ax.bar(range(len(h)), h["datasets"], color=BAND50, width=0.9)
        e = h["expected"].to_numpy(dtype=float)
        lo = stats.binom.ppf(0.005, k, e / max(k, 1))
        hi = stats.binom.ppf(0.995, k, e / max(k, 1))
        ax.fill_between(np.arange(len(h)), lo, hi, step="mid", color="#999", alpha=0.3, lw=0)
        ax.plot(np.arange(len(h)), e, color="#444", ls="--", lw=1)
        ax.set_title(str(name)[-40:], fontsize=9)
        ax.set_xticks([])
    fig.suptitle("Simulation-based calibration: rank of the truth among posterior draws")
    return _png(
        fig,
        "sbc_ranks",
        "SBC rank histograms",
        "Uniform if the posterior is calibrated; grey: 99 % band of each bin under uniformity.",
    )


def backtest_page(d: dict[str, Any]) -> str:
    """The backtest directory's ``report.html``.

    Args:
        d: ``name``, ``manifest``, ``summary`` (``backtest_summary``), ``sbc``
            (``sbc_summary`` or None), ``figures``.
    """
    man = d["manifest"]
    out = _head(d["name"], "backtest")
    out.append(
        f"<header><h1 id='scenario-name'>{_e(d['name'])} <span class='note'>backtest</span></h1>"
    )
    out.append(
        f"<p class='meta'>Origins {_e(man.get('origins', ''))} · horizon "
        f"{_e(man.get('horizon', ''))} months · {_e(man.get('method', ''))} on "
        f"{_e(man.get('simulations', ''))} simulations (one bank for every origin) · "
        f"{_e(man.get('draws', ''))} predictive simulations per origin</p></header>"
    )
    out.append(
        _panel(
            "summary",
            "Scores per series",
            "Coverage: share of observed values inside the central interval (nominal 0.5 "
            "and 0.9). CRPS in t/month, lower is better; skill = 1 − CRPS / the "
            "last-value baseline's.",
            ["series", "forecaster", "n", "coverage 50 %", "coverage 90 %", "CRPS", "skill"],
            [
                [
                    r.series,
                    r.forecaster,
                    int(r.n),
                    *_nums(r, coverage50=2, coverage90=2, crps=4, crps_skill=2),
                ]
                for r in d["summary"].itertuples()
            ],
            "summary",
        )
    )
    sbc = d.get("sbc")
    if sbc is not None and len(sbc):
        out.append(
            _panel(
                "sbc",
                "Simulation-based calibration",
                _e(man.get("sbc_note", "")),
                ["parameter", "chi²", "p-value", "contraction", "coverage 50 %", "coverage 90 %"],
                [
                    [
                        r.parameter,
                        *_nums(r, chi2=4, p_value=3, contraction=3, coverage50=3, coverage90=3),
                    ]
                    for r in sbc.itertuples()
                ],
                "sbc",
            )
        )
    out.append("<section id='figures'><h2>Figures</h2>")
    out += [_figure(f) for f in d["figures"]]
    out.append("</section>")
    out.append(_foot(man, "backtest"))
    return "\n".join(out)
