"""``report.html``: one self-contained page per run (and per comparison) for a briefing.

The page embeds its figures (PNG as ``data:`` URIs), carries its own CSS and no script,
and loads nothing from the network. It shows the scenario's name, question and
description; what it changes against its base (variants that ``extends:`` one); the
headline KPI table with first-shortage and recovery **dates** (median, 5–95 % range and
share of replications) and the other KPIs' means with 95% intervals; the
all-plant probability-of-shortage overview; the fan charts; exports and arrivals
against observed data; licence waits; the policy timeline; assumptions and sources
from the scenario's header; and a footer with relsim's version, seed, replications and
date.

Two ways in, one renderer: :func:`write_run_report` right after a run (figures passed
in memory), :func:`simulator.report.readback.report_from_run_dir` for ``relsim report
RUN_DIR`` (everything read back from the run directory's files, checked). Key numbers
carry ``data-*`` attributes, so a test can read them from the DOM.

The tables are the notebook views' (``_repr_html_`` of ``RunResult``, ``EnsembleResult``
and ``Comparison``), which render below this stage, without figures:
:mod:`simulator.replication.views` (formatting, a replication's table) and
:mod:`simulator.ensemble.views` (the headline KPI table, the authority's line, paired
differences).
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.ensemble.views import (
    DATES_NOTE,
    MEANS_NOTE,
    authority_html,
    date_differences_html,
    differences_table_html,
    kpi_table_html,
)
from simulator.replication.views import escape as _e
from simulator.replication.views import fmt_date

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import Comparison, EnsembleResult

__all__ = [
    "NOTES_FILE",
    "REPORT_FILE",
    "render_report",
    "scenario_dict",
    "sweep_page",
    "write_comparison_report",
    "write_run_report",
]

REPORT_FILE = "report.html"
NOTES_FILE = "scenario.notes.json"
"""What the scenario file says about itself (header, changes against its base): kept in
the run directory so that ``relsim report`` can rebuild the page from the directory
alone."""

_CSS = """
:root { --ink:#1d1d1d; --muted:#5a5a5a; --rule:#d6d6d6; --blue:#0072B2; --band:#f4f6f8; }
* { box-sizing: border-box; }
body { font: 15px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0; background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 30px 0 8px; padding-bottom: 4px;
     border-bottom: 2px solid var(--blue); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.question { font-size: 17px; font-weight: 600; margin: 8px 0; }
.description, .meta, .note { color: var(--muted); }
.meta { font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13.5px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--rule); text-align: left;
         vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td .ci { color: var(--muted); font-size: 12px; display: block; }
caption { text-align: left; padding: 0 0 6px; font-size: 13px; }
figure { margin: 14px 0 22px; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.tighter { background: #F7D9C6; } .easier { background: #D3E6F3; }
code { font-size: 12.5px; background: var(--band); padding: 0 3px; }
footer { border-top: 1px solid var(--rule); margin-top: 28px; padding: 10px 0 24px;
         color: var(--muted); font-size: 12.5px; }
@media print { main { max-width: none; } figure { break-inside: avoid; } }
"""


_DATES_DETAIL = (
    "First shortage: the first day a line made less than demand; recovered by: the first "
    "day after its last shortage day. The mean dates and their 95% intervals are in "
    "kpi_table.csv and summary.json."
)

# --------------------------------------------------------------------------- formatting


def _figure(fig: dict[str, Any]) -> str:
    mime, payload = fig["mime"], fig["data"]
    cap = f"<figcaption>{_e(fig.get('caption', ''))}</figcaption>" if fig.get("caption") else ""
    if mime == "link":
        return f"<p class='note'>{_e(fig['title'])}: <a href='{_e(payload)}'>{_e(payload)}</a></p>"
    b64 = base64.b64encode(payload).decode("ascii")
    return (
        f"<figure id='fig-{_e(fig['stem'])}'><img alt='{_e(fig['title'])}' "
        f"src='data:{mime};base64,{b64}'>{cap}</figure>"
    )


def _value_text(v: Any) -> str:
    """A field's value as ``relsim diff`` writes it (``[DE, EU]``, ``2025-09-01``), whole:
    the page wraps it."""
    from simulator.scenario.diff import format_value

    if v is None:
        return "—"
    return format_value(v, None)


def _regimes_html(regimes: pd.DataFrame, directions: list[str]) -> str:
    rows = []
    for i, r in enumerate(regimes.to_dict("records")):
        d = directions[i] if i < len(directions) else ""
        mark = {"tighter": "▲ tighter", "easier": "▼ easier"}.get(d, "")
        rows.append(
            f"<tr class='{d}'><td>{fmt_date(r['start'])}</td><td>{fmt_date(r['end'])}</td>"
            f"<td><code>{_e(r['regime'])}</code></td><td>{_e(r['label'])}</td><td>{mark}</td></tr>"
        )
    return (
        "<table class='regimes'><thead><tr><th>from</th><th>until (excl.)</th><th>regime</th>"
        "<th>label</th><th>than before</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


# --------------------------------------------------------------------------- the page
def render_report(d: dict[str, Any]) -> str:
    """The page, from plain inputs.

    Args:
        d: ``scenario`` (name, description, start, end, observed), ``notes`` (see
            :func:`simulator.scenario.notes.scenario_notes`, plus ``changes`` and
            ``overrides``), ``kpi_table`` (frame), ``summary`` (summary.json),
            ``figures`` (list of ``{stem, title, caption, mime, data}``), ``regimes``
            (frame), ``directions``, ``policy_timeline`` (figure dict or None),
            ``manifest`` (manifest.json).
    """
    sc, notes, man = d["scenario"], d.get("notes") or {}, d["manifest"]
    figs = {f["stem"]: f for f in d.get("figures", [])}
    out: list[str] = []
    w = out.append
    w("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>")
    w("<meta name='viewport' content='width=device-width, initial-scale=1'>")
    w(
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">"
    )
    w(f"<title>{_e(sc['name'])} — relsim report</title><style>{_CSS}</style></head><body><main>")
    w(f"<header><h1 id='scenario-name'>{_e(sc['name'])}</h1>")
    question = notes.get("question") or ""
    if question:
        w(f"<p class='question' id='question'>{_e(question)}</p>")
    if sc.get("description"):
        w(f"<p class='description' id='description'>{_e(sc['description'])}</p>")
    w(
        f"<p class='meta'>Simulated {_e(sc['start'])} to {_e(sc['end'])} · "
        f"<span id='reps' data-value='{int(man['reps'])}'>{int(man['reps'])}</span> "
        f"replications · seed <span id='seed'>{_e(man['seed'])}</span> · "
        f"scenario hash <code>{_e(man.get('scenario_hash', ''))}</code></p></header>"
    )
    changes, overrides = notes.get("changes") or [], notes.get("overrides") or {}
    if notes.get("extends") or overrides:
        w("<section id='changes'><h2>What this scenario changes</h2>")
        if notes.get("extends"):
            bases = ", ".join(f"<code>{_e(Path(b).name)}</code>" for b in notes["extends"])
            w(f"<p>It extends {bases}; the fields whose resolved values differ:</p>")
        if overrides:
            items = ", ".join(
                f"<code>{_e(k)}={_e(_value_text(v))}</code>" for k, v in overrides.items()
            )
            w(f"<p>Set on the command line: {items}.</p>")
        if changes:
            w(
                "<table class='changes'><thead><tr><th>field</th><th>base</th>"
                "<th>this scenario</th></tr></thead><tbody>"
            )
            for c in changes:
                w(
                    f"<tr><td><code>{_e(c['path'])}</code></td><td>{_e(_value_text(c['base']))}</td>"
                    f"<td>{_e(_value_text(c['value']))}</td></tr>"
                )
            w("</tbody></table>")
        elif notes.get("extends"):
            w("<p class='note'>No resolved field differs from the base.</p>")
        w("</section>")
    # key results
    w("<section id='kpis'><h2>Who runs short, when, and how badly</h2>")
    kt = d.get("kpi_table")
    if kt is not None and len(kt):
        w(kpi_table_html(kt, f"{DATES_NOTE} {MEANS_NOTE} {_DATES_DETAIL}"))
    else:
        w("<p class='note'>The scenario has no manufacturers.</p>")
    w(authority_html(d.get("summary") or {}))
    if "p_shortage" in figs:
        w("<h3>Probability of a shortage, all plants</h3>" + _figure(figs["p_shortage"]))
    w("</section>")
    fans = [f for s, f in figs.items() if s.startswith("shortage_")]
    if fans:
        w(
            "<section id='fan-charts'><h2>Shortfall by plant</h2><p class='note'>Weekly mean "
            "shortfall per operating day (5–95% and 25–75% of replications, median, mean), the "
            "probability of a shortage and the cumulative shortfall; policy regimes shaded by "
            "direction (▲ tighter, ▼ easier than the regime before).</p>"
        )
        for f in fans:
            w(_figure(f))
        w("</section>")
    if "exports" in figs or "arrivals" in figs:
        obs = sc.get("observed")
        w("<section id='exports'><h2>Exports and arrivals against observed data</h2>")
        if obs:
            w(f"<p class='note'>Observed: <code>{_e(obs)}</code> (monthly customs data).</p>")
        for s in ("exports", "arrivals"):
            if s in figs:
                w(_figure(figs[s]))
        w("</section>")
    if "licence_waits" in figs or "backlog" in figs:
        w("<section id='waits'><h2>Licence waits</h2>")
        for s in ("licence_waits", "backlog"):
            if s in figs:
                w(_figure(figs[s]))
        w("</section>")
    w("<section id='policy'><h2>Policy timeline</h2>")
    if "policy_timeline" in figs:
        w(_figure(figs["policy_timeline"]))
    elif d.get("policy_timeline") is not None:
        w(_figure(d["policy_timeline"]))
    regimes = d.get("regimes")
    if regimes is not None and len(regimes):
        w(_regimes_html(regimes, d.get("directions") or []))
    w("</section>")
    sections = notes.get("sections") or []
    w("<section id='assumptions'><h2>Assumptions and sources</h2>")
    if sections:
        for title, text in sections:
            paras = "".join(f"<p>{_e(p)}</p>" for p in str(text).split("\n\n"))
            w(f"<h3>{_e(title)}</h3>{paras}")
    else:
        w("<p class='note'>The scenario file has no header of assumptions and sources.</p>")
    files = man.get("scenario_files") or []
    if files:
        w(
            "<p class='note'>Scenario files read: "
            + ", ".join(f"<code>{_e(Path(f).name)}</code>" for f in files)
            + ".</p>"
        )
    w("</section></main>")
    created = str(man.get("created_utc", ""))[:10]
    w(
        "<footer><main style='padding-top:0'>relsim "
        f"<span id='version'>{_e(man.get('version', ''))}</span>"
        f" · scenario <code>{_e(sc['name'])}</code> · seed {_e(man['seed'])} · "
        f"{int(man['reps'])} replications · made <span id='created'>{_e(created)}</span>"
        f" · command <code>relsim {_e(man.get('command', 'run'))}</code> · Python "
        f"{_e(man.get('python', ''))}</main></footer>"
    )
    w("</body></html>")
    return "\n".join(out)


def scenario_dict(sc: Any) -> dict[str, Any]:
    """What the page shows of the scenario itself (name, description, dates, observed
    data file)."""
    return _scenario_dict(sc)


def _scenario_dict(sc: Any) -> dict[str, Any]:
    return {
        "name": sc.name,
        "description": sc.description,
        "start": sc.start.isoformat(),
        "end": sc.end.isoformat(),
        "observed": sc.observed_exports or "",
    }


def _policy_timeline(ens: Any) -> dict[str, Any] | None:
    """The policy-timeline figure when the plot accessor has one (issue 14)."""
    plot = ens.plot
    if not hasattr(plot, "policy_timeline"):
        return None
    from simulator.report.figures import close_figure, png_bytes

    fig = plot.policy_timeline()
    try:
        data = png_bytes(fig, 110)
    finally:
        close_figure(fig)
    return {
        "stem": "policy_timeline",
        "title": "Policy timeline",
        "mime": "image/png",
        "data": data,
    }


def write_run_report(
    target: Path,
    ens: EnsembleResult,
    manifest: dict[str, Any],
    figures: dict[str, bytes],
    notes: dict[str, Any] | None,
) -> Path:
    """Write ``report.html`` for an ensemble just run (figures as PNG bytes by stem)."""
    from simulator.report.figures import figure_jobs
    from simulator.report.plot_style import regime_directions

    titles = {stem: title for stem, title, _ in figure_jobs(ens)}
    figs = [
        {"stem": s, "title": titles.get(s, s), "mime": "image/png", "data": b}
        for s, b in figures.items()
    ]
    regimes = ens.regimes()
    page = render_report(
        {
            "scenario": _scenario_dict(ens.scenario),
            "notes": notes or {},
            "manifest": manifest,
            "summary": ens.summary_dict(),
            "kpi_table": ens.kpi_table(),
            "figures": figs,
            "regimes": regimes,
            "directions": regime_directions(ens.scenario, regimes),
            "policy_timeline": None if "policy_timeline" in figures else _policy_timeline(ens),
        }
    )
    target.write_text(page, encoding="utf-8")
    return target


# --------------------------------------------------------------------------- comparisons


def _diff_table(d: Any) -> str:
    """What differs between two scenarios (:class:`~simulator.scenario.diff.ScenarioDiff`),
    one row per field, values whole (the page wraps them)."""
    from simulator.scenario.diff import format_value

    if not d:
        return (
            "<p class='note'>A and B are the same scenario (resolved): every difference is 0.</p>"
        )
    rows = "".join(
        f"<tr><td><code>{_e(x.path)}</code></td><td>{_e(format_value(x.a, None))}</td>"
        f"<td>{_e(format_value(x.b, None))}</td></tr>"
        for x in d
    )
    return (
        "<table class='changes'><thead><tr><th>field</th><th>A</th><th>B</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def comparison_page(
    cmp: Comparison,
    manifest: dict[str, Any],
    figures: list[dict[str, Any]],
    notes: dict[str, Any] | None = None,
) -> str:
    """The page of a paired comparison: both scenarios and what differs between them
    (leaf by leaf), when each line stops and recovers in A and in B (median dates, 5–95 %
    ranges, shares) and by how many days B moves it, the paired differences of the
    headline KPIs with 95% intervals, the daily difference figures, both scenarios'
    assumptions and sources, a footer."""
    a, b = cmp.a.scenario, cmp.b.scenario
    notes = notes or {}
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(b.name)} vs {_e(a.name)} — relsim comparison</title>"
        f"<style>{_CSS}</style></head><body><main>",
        f"<header><h1 id='scenario-name'>{_e(b.name)} <span class='note'>vs</span> "
        f"{_e(a.name)}</h1>",
    ]
    for tag, s in (("A", a), ("B", b)):
        q = (notes.get(tag.lower()) or {}).get("question") or s.description
        out.append(f"<p><b>{tag}</b> <code>{_e(s.name)}</code>: {_e(q)}</p>")
    out.append(
        f"<p class='meta'>{cmp.a.reps} paired replications (common random numbers), seed "
        f"{cmp.a.seed}.</p></header>"
    )
    out.append(
        "<section id='changes'><h2>What differs between A and B</h2>"
        + _diff_table(cmp.scenario_diff())
        + "</section>"
    )
    out.append(
        "<section id='dates'><h2>When lines stop and recover</h2>"
        f"<p class='note'>{_e(DATES_NOTE)} B − A: the paired difference in days over the "
        "replications where both have the date, with its 95% interval.</p>"
        + date_differences_html(cmp)
        + "</section>"
    )
    out.append(
        "<section id='differences'><h2>Paired differences B − A</h2>"
        "<p class='note'>Means over replications; B − A paired over the same replications "
        "(common random numbers), 95% interval below; rates in percentage points.</p>"
        + differences_table_html(cmp)
        + "</section>"
    )
    if figures:
        out.append("<section id='figures'><h2>Daily shortfall, B − A</h2>")
        out += [_figure(f) for f in figures]
        out.append("</section>")
    out.append("<section id='assumptions'><h2>Assumptions and sources</h2>")
    for tag, s in (("A", a), ("B", b)):
        sections = (notes.get(tag.lower()) or {}).get("sections") or []
        out.append(f"<h3>{tag}: <code>{_e(s.name)}</code></h3>")
        if not sections:
            out.append("<p class='note'>The scenario file has no header of assumptions.</p>")
        for title, text in sections:
            paras = "".join(f"<p>{_e(p)}</p>" for p in str(text).split("\n\n"))
            out.append(f"<h4>{_e(title)}</h4>{paras}")
    out.append("</section>")
    created = str(manifest.get("created_utc", ""))[:10]
    out.append(
        f"</main><footer><main style='padding-top:0'>relsim {_e(manifest.get('version', ''))} · "
        f"seed {_e(manifest['seed'])} · {int(manifest['reps'])} replications · made "
        f"{_e(created)} · command <code>relsim compare</code></main></footer></body></html>"
    )
    return "\n".join(out)


def write_comparison_report(
    target: Path,
    cmp: Comparison,
    manifest: dict[str, Any],
    figures: dict[str, bytes],
    notes: dict[str, Any] | None = None,
) -> Path:
    """Write a comparison's ``report.html`` (figures as PNG bytes by stem)."""
    figs = [{"stem": s, "title": s, "mime": "image/png", "data": v} for s, v in figures.items()]
    target.write_text(comparison_page(cmp, manifest, figs, notes), encoding="utf-8")
    return target


def _rows_table(columns: list[str], rows: list[list[Any]], cls: str) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def sweep_page(d: dict[str, Any]) -> str:
    """The page of a sweep directory, from plain (already formatted) inputs.

    Args:
        d: ``name``, ``description``, ``start``, ``end``, ``design`` (kind), ``points``,
            ``reps``, ``seed``, ``params`` (``{name, path, low, high}``), ``ranges``
            (rows: manufacturer, KPI, lowest, highest, where the highest is reached),
            ``tables`` (``{title, columns, rows}``: tornado swings, Sobol or Morris
            indices), ``figures`` (as for :func:`render_report`), ``manifest``;
            optional ``warnings`` (texts shown above the results).
    """
    man = d["manifest"]
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(d['name'])} — relsim sweep</title><style>{_CSS}</style></head><body><main>",
        f"<header><h1 id='scenario-name'>{_e(d['name'])} <span class='note'>sweep</span></h1>",
    ]
    if d.get("description"):
        out.append(f"<p class='description' id='description'>{_e(d['description'])}</p>")
    out.append(
        f"<p class='meta'>Simulated {_e(d['start'])} to {_e(d['end'])} · {_e(d['design'])} "
        f"design, <span id='points' data-value='{int(d['points'])}'>{int(d['points'])}</span> "
        f"points × <span id='reps' data-value='{int(d['reps'])}'>{int(d['reps'])}</span> "
        f"replications · seed <span id='seed'>{_e(d['seed'])}</span> · every point on the "
        "same random numbers</p></header>"
    )
    for w in d.get("warnings") or []:
        out.append(f"<p class='warning' style='color:#8a4b00'><b>Warning:</b> {_e(w)}</p>")
    out.append("<section id='parameters'><h2>What the sweep moves</h2>")
    out.append(
        _rows_table(
            ["parameter", "path", "low", "high"],
            [[p["name"], p["path"], p["low"], p["high"]] for p in d["params"]],
            "params",
        )
    )
    out.append("</section><section id='ranges'><h2>How far each outcome moves</h2>")
    out.append(
        "<p class='note'>Lowest and highest mean over the points, and the parameter values "
        "where the highest is reached.</p>"
    )
    out.append(
        _rows_table(
            ["manufacturer", "KPI", "lowest", "highest", "highest at"], d["ranges"], "ranges"
        )
    )
    out.append("</section>")
    for i, t in enumerate(d.get("tables") or []):
        out.append(f"<section id='analysis-{i}'><h2>{_e(t['title'])}</h2>")
        out.append(_rows_table(t["columns"], t["rows"], "analysis"))
        out.append("</section>")
    if d.get("figures"):
        out.append("<section id='figures'><h2>Figures</h2>")
        out += [_figure(f) for f in d["figures"]]
        out.append("</section>")
    created = str(man.get("created_utc", ""))[:10]
    out.append(
        f"</main><footer><main style='padding-top:0'>relsim {_e(man.get('version', ''))} · "
        f"seed {_e(man['seed'])} · {int(man['reps'])} replications per point · made "
        f"{_e(created)} · command <code>relsim sweep</code></main></footer></body></html>"
    )
    return "\n".join(out)


# --------------------------------------------------------------------------- notebooks


def _today() -> str:  # pragma: no cover - trivial
    return dt.date.today().isoformat()
