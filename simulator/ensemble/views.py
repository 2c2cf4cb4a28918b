"""Notebook views of ensembles and comparisons: their tables as HTML, no figures.

``EnsembleResult._repr_html_`` (the headline KPI table with intervals and dates, and the
authority's line) and ``Comparison._repr_html_`` (the paired differences of the
headline KPIs) render here, below the report stage; ``report.html``
(:mod:`simulator.report.html`) embeds the same tables.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.replication.views import NOTEBOOK_CSS, ci_html, escape, fmt_date, fmt_value

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import Comparison, EnsembleResult

__all__ = [
    "DATES_NOTE",
    "DIFF_KPIS",
    "HEADLINE",
    "MEANS_NOTE",
    "authority_html",
    "comparison_html",
    "date_differences_html",
    "date_phrases",
    "date_range_text",
    "differences_table_html",
    "ensemble_html",
    "kpi_table_html",
    "share_text",
]

HEADLINE = (
    ("p_any_shortage", "P(any shortage)", "share"),
    ("first_shortage_date", "first shortage", "date"),
    ("recovery_date", "recovered by", "date"),
    ("fill_rate", "fill rate", "share"),
    ("lost_units", "lost units", "count"),
    ("shortfall_t", "shortfall (t)", "number"),
)
"""Columns of the headline KPI table: KPI, title, kind of value."""

DATES_NOTE = (
    "Dates: the median over the replications where it happens, the 5–95% range of those "
    "replications below it, and in how many replications it happens (a recovery may not "
    "come before the end of the horizon)."
)
"""How the headline table's dates read (captions of the terminal table and the page)."""
MEANS_NOTE = "Other KPIs: mean over replications, 95% interval of the mean below."
"""How the headline table's other KPIs read."""


def share_text(x: float | None) -> str:
    """A share of replications for people: ``71%``; ``<1%`` and ``>99%`` rather than
    a rounded 0 or 100 that is not; ``—`` when undefined."""
    if x is None or not math.isfinite(x):
        return "—"
    if 0 < x < 0.005:
        return "<1%"
    if 0.995 <= x < 1:
        return ">99%"
    return f"{100 * x:.0f}%"


def _day(x: Any) -> str | None:
    text = fmt_date(x)
    return None if text == "—" else text


def date_range_text(lo: Any, hi: Any, short: bool = False) -> str:
    """The 5–95 % range of a date: ``2025-06-04 – 2025-06-23``; ``short``: without the
    year when both ends share it (``06-04 – 06-23``); empty when undefined."""
    a, b = _day(lo), _day(hi)
    if a is None or b is None:
        return ""
    if a == b:
        return a[5:] if short else a
    if short and a[:4] == b[:4]:
        return f"{a[5:]} – {b[5:]}"
    return f"{a} – {b}"


def date_phrases(
    which: str,
    median: Any,
    p5: Any,
    p95: Any,
    *,
    share: float | None,
    p_short: float | None = None,
    short_at_end: float | None = None,
    short: bool = False,
) -> tuple[str, str, str]:
    """How a headline date reads: ``(headline, range, share)``, e.g. ``("2025-06-12",
    "2025-06-04 – 2025-06-23", "in 100%")``.

    The headline is the median date over the replications where the event happens,
    unless it happens in too few of them to lead with: a first shortage in no
    replication reads ``never``; a recovery reads ``not by the end`` when more of the
    replications with a shortage were still short at the end than recovered, the
    recovered ones' median then going into the share text.

    Args:
        which: ``first`` (first shortage) or ``recovery``.
        median: Median date (ISO text, Timestamp, None/NaT).
        p5: 5th percentile date.
        p95: 95th percentile date.
        share: Share of all replications where it happens.
        p_short: Share of replications with a shortage (``recovery`` only).
        short_at_end: Share of replications still short at the end (``recovery``).
        short: Dates of the range without the year where it is the median's.

    Returns:
        The headline, the 5–95 % range (empty when none) and the share text.
    """
    m = _day(median)
    rng = date_range_text(p5, p95, short)
    at_end = "short at end" if short else "still short at the end"
    if which == "first":
        if not share or m is None:
            return "never", "", "" if short else "in no replication"
        return m, rng, f"in {share_text(share)}"
    if not p_short:
        return "—", "", "" if short else "never short"
    left = short_at_end or 0.0
    if m is None or (share or 0.0) < left:
        tail = ""
        if m is not None:
            tail = f"; {share_text(share)} {'by' if short else 'recovered, median'} {m}"
        head = "not by end" if short else "not by the end"
        return head, "", f"{share_text(left)} {at_end}{tail}"
    text = f"in {share_text(share)}"
    if left > 0:
        text += f"; {share_text(left)} {at_end}"
    return m, rng, text


def kpi_table_html(kt: pd.DataFrame, caption: str = "") -> str:
    """The headline KPI table (:meth:`EnsembleResult.kpi_table`) as HTML.

    Dates read as :func:`date_phrases` (median date, 5–95 % range, share of
    replications); other cells as the mean with its 95 % interval. Every cell carries
    ``data-manufacturer``, ``data-kpi`` and ``data-value`` (the unformatted headline:
    the mean, or the median date in ISO form); date cells also ``data-mean``,
    ``data-p5``, ``data-p95``, ``data-share`` and ``data-n``."""
    head = "".join(f"<th class='num'>{escape(t)}</th>" for _, t, _ in HEADLINE)
    rows = []
    for r in kt.to_dict("records"):
        mid = str(r["manufacturer"])
        cells = [
            f"<td data-manufacturer='{escape(mid)}'><b>{escape(r['name'])}</b><br>"
            f"<code>{escape(mid)}</code></td>"
        ]
        for col, _, kind in HEADLINE:
            if kind == "date" and f"{col}_median" not in r:
                # a kpi_table.csv from before dates had their spread: the mean date and
                # the 95 % interval of the mean, said so
                text = fmt_date(r.get(col))
                ci = ci_html(fmt_date(r.get(f"{col}_low")), fmt_date(r.get(f"{col}_high")))
                note = "" if text == "—" else "<span class='ci'>mean date [95% CI]</span>"
                cells.append(
                    f"<td class='num' data-manufacturer='{escape(mid)}' data-kpi='{col}' "
                    f"data-value='{escape(text if text != '—' else '')}'>{escape(text)}{ci}"
                    f"{note}</td>"
                )
                continue
            if kind == "date":
                first = col.startswith("first")
                share = _num(r.get("p_any_shortage" if first else "p_recovered"))
                text, rng, says = date_phrases(
                    "first" if first else "recovery",
                    r.get(f"{col}_median"),
                    r.get(f"{col}_p5"),
                    r.get(f"{col}_p95"),
                    share=share,
                    p_short=_num(r.get("p_any_shortage")),
                    short_at_end=_num(r.get("p_short_at_end")),
                )
                n = r.get("first_shortage_n" if first else "recovery_n")
                attrs = "".join(
                    f" data-{k}='{escape(v)}'"
                    for k, v in (
                        ("mean", fmt_date(r.get(col))),
                        ("p5", fmt_date(r.get(f"{col}_p5"))),
                        ("p95", fmt_date(r.get(f"{col}_p95"))),
                        ("share", "" if share is None else repr(share)),
                        ("n", "" if n is None or pd.isna(n) else str(int(n))),
                    )
                )
                raw = fmt_date(r.get(f"{col}_median"))
                below = "".join(
                    f"<span class='ci'>{escape(t)}</span>" for t in (rng, *says.split("; ")) if t
                )
                cells.append(
                    f"<td class='num' data-manufacturer='{escape(mid)}' data-kpi='{col}' "
                    f"data-value='{escape(raw)}'{attrs}>{escape(text)}{below}</td>"
                )
                continue
            v, lo, hi = r.get(col), r.get(f"{col}_low"), r.get(f"{col}_high")
            text = fmt_value(v, kind)
            raw = "" if text == "—" else repr(float(v))
            ci = ci_html(fmt_value(lo, kind), fmt_value(hi, kind))
            cells.append(
                f"<td class='num' data-manufacturer='{escape(mid)}' data-kpi='{col}' "
                f"data-value='{escape(raw)}'>{escape(text)}{ci}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption class='note'>{escape(caption)}</caption>" if caption else ""
    return (
        f"<table class='kpis'>{cap}<thead><tr><th>manufacturer</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _num(x: Any) -> float | None:
    """A finite float, or None (NaN, NA, None)."""
    if x is None or x is pd.NA:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def authority_html(summary: dict[str, Any]) -> str:
    """The licensing authority's line (median and 90th-percentile wait, share decided late,
    approval rate) from ``summary.json``'s content."""
    a = summary.get("kpis", {}).get("authority", {})

    def m(k: str) -> Any:
        return a.get(k, {}).get("mean")

    if m("wait_wd_p50") is None:
        return "<p class='note'>The authority decided no application.</p>"
    parts = [
        f"median wait <b data-kpi='wait_wd_p50' data-value='{m('wait_wd_p50')!r}'>"
        f"{m('wait_wd_p50'):.1f}</b> working days",
        f"90th percentile <b data-kpi='wait_wd_p90'>{m('wait_wd_p90'):.1f}</b>",
    ]
    if m("share_over_limit") is not None:
        parts.append(
            f"<b data-kpi='share_over_limit'>{100 * m('share_over_limit'):.1f}%</b> decided "
            "after the statutory limit"
        )
    if m("approval_rate") is not None:
        parts.append(
            f"approval rate <b data-kpi='approval_rate'>{100 * m('approval_rate'):.1f}%</b>"
        )
    return "<p>Licensing authority (mean over replications): " + ", ".join(parts) + ".</p>"


DIFF_KPIS = (
    ("any_shortage", "P(any shortage)", "share"),
    ("shortage_days", "shortage days", "number"),
    ("fill_rate", "fill rate", "share"),
    ("lost_units", "lost units", "count"),
    ("shortfall_t", "shortfall (t)", "number"),
    ("wait_wd_p50", "median wait (wd)", "number"),
    ("approval_rate", "approval rate", "share"),
)
"""KPIs of the paired-differences table: KPI, title, kind of value."""


def differences_table_html(cmp: Comparison) -> str:
    """The paired differences B − A of the headline KPIs with 95 % intervals."""
    d = cmp.differences()
    keep = {k for k, _, _ in DIFF_KPIS}
    d = d[d["kpi"].isin(keep) & d["part"].isna()]
    label = {k: (t, kind) for k, t, kind in DIFF_KPIS}
    rows = []
    for r in d.to_dict("records"):
        t, kind = label[r["kpi"]]
        if not pd.isna(r["manufacturer"]):
            who = str(r["manufacturer"])
        elif not pd.isna(r["destination"]):
            who = f"authority → {r['destination']}"
        else:
            who = str(r["scope"])
        dk = "share" if kind == "share" else "number"
        diff = fmt_value(r["diff"], dk)
        if kind == "share" and diff != "—":
            diff = f"{100 * r['diff']:+.1f} pts"
        rows.append(
            f"<tr><td>{escape(who)}</td><td>{escape(t)}</td>"
            f"<td class='num'>{fmt_value(r['mean_a'], kind)}</td>"
            f"<td class='num'>{fmt_value(r['mean_b'], kind)}</td>"
            f"<td class='num' data-kpi='{escape(r['kpi'])}' data-manufacturer='{escape(who)}' "
            f"data-value='{r['diff']!r}'>{escape(diff)}"
            f"{ci_html(fmt_value(r['ci_low'], dk), fmt_value(r['ci_high'], dk))}</td></tr>"
        )
    return (
        "<table class='differences'><thead><tr><th>who</th><th>KPI</th><th class='num'>A</th>"
        "<th class='num'>B</th><th class='num'>B − A [95%]</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def date_differences_html(cmp: Comparison) -> str:
    """When each manufacturer's line first stops and recovers in A and in B (median
    date, 5–95 % range, share of replications: :func:`date_phrases`) and by how many
    days B moves it, paired over the replications where both have it
    (:meth:`Comparison.date_differences`). Cells carry ``data-manufacturer``,
    ``data-kpi`` and ``data-value`` (dates ISO; the difference in days)."""
    d = cmp.date_differences()
    names = {m.id: m.name or m.id for m in cmp.a.scenario.manufacturers}
    rows = []
    for r in d.to_dict("records"):
        first = r["kpi"] == "first_shortage_date"
        mid = str(r["manufacturer"])
        cells = []
        for side in ("a", "b"):
            share, at_end = _num(r[f"share_{side}"]), _num(r[f"short_at_end_{side}"])
            text, rng, says = date_phrases(
                "first" if first else "recovery",
                r[f"date_{side}"],
                r[f"date_{side}_p5"],
                r[f"date_{side}_p95"],
                share=share,
                p_short=None if at_end is None else (share or 0.0) + at_end,
                short_at_end=at_end,
            )
            below = "".join(
                f"<span class='ci'>{escape(t)}</span>" for t in (rng, *says.split("; ")) if t
            )
            cells.append(
                f"<td class='num' data-manufacturer='{escape(mid)}' "
                f"data-kpi='{r['kpi']}_{side}' data-value='{escape(fmt_date(r[f'date_{side}']))}'>"
                f"{escape(text)}{below}</td>"
            )
        diff = _num(r["diff"])
        if diff is None:
            delta = "—"
        else:
            delta = f"{diff + 0.0:+.0f} days"
            lo, hi = _num(r["ci_low"]), _num(r["ci_high"])
            if lo is not None and hi is not None and (lo, hi) != (diff, diff):
                delta += f"<span class='ci'>[{lo + 0.0:+.0f} – {hi + 0.0:+.0f}]</span>"
            delta += f"<span class='ci'>{int(r['n'])} paired replications</span>"
        name = escape(names.get(mid, mid))
        who = f"<td rowspan='2'><b>{name}</b><br><code>{escape(mid)}</code></td>" if first else ""
        rows.append(
            f"<tr>{who}<td>{'first shortage' if first else 'recovered by'}</td>{''.join(cells)}"
            f"<td class='num' data-manufacturer='{escape(mid)}' data-kpi='{r['kpi']}_diff' "
            f"data-value='{'' if diff is None else repr(diff)}'>{delta}</td></tr>"
        )
    return (
        "<table class='dates'><thead><tr><th>manufacturer</th><th></th><th class='num'>A</th>"
        "<th class='num'>B</th><th class='num'>B − A [95%]</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def ensemble_html(ens: EnsembleResult) -> str:
    """``EnsembleResult._repr_html_``: the headline KPI table with intervals and dates."""
    cap = (
        f"{ens.scenario.name}: {ens.reps} replications, seed {ens.seed} "
        f"({ens.elapsed_s:.1f} s on {ens.workers} worker{'s' if ens.workers != 1 else ''}). "
        f"{DATES_NOTE} {MEANS_NOTE}"
    )
    table = kpi_table_html(ens.kpi_table(), cap)
    return f"<div><style>{NOTEBOOK_CSS}</style>{table}{authority_html(ens.summary_dict())}</div>"


def comparison_html(cmp: Comparison) -> str:
    """``Comparison._repr_html_``: the paired differences of the headline KPIs."""
    cap = (
        f"B “{cmp.b.scenario.name}” − A “{cmp.a.scenario.name}”: {cmp.a.reps} paired "
        "replications (common random numbers)"
    )
    dates = date_differences_html(cmp)
    table = differences_table_html(cmp)
    return (
        f"<div><style>{NOTEBOOK_CSS}</style><p><b>{escape(cap)}</b></p>"
        f"<p>When lines stop and recover: {escape(DATES_NOTE)}</p>{dates}"
        f"<p>Paired differences B − A, 95% intervals:</p>{table}</div>"
    )
