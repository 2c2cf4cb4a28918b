"""Notebook views of ensembles and comparisons: their tables as HTML, no figures.

``EnsembleResult._repr_html_`` (the headline KPI table with intervals and dates, and the
authority's line) and ``Comparison._repr_html_`` (the paired differences of the
headline KPIs) render here, below the report stage; ``report.html``
(:mod:`simulator.report.html`) embeds the same tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.replication.views import NOTEBOOK_CSS, ci_html, escape, fmt_date, fmt_value

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.results import Comparison, EnsembleResult

__all__ = [
    "DIFF_KPIS",
    "HEADLINE",
    "authority_html",
    "comparison_html",
    "differences_table_html",
    "ensemble_html",
    "kpi_table_html",
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


def kpi_table_html(kt: pd.DataFrame, caption: str = "") -> str:
    """The headline KPI table (:meth:`EnsembleResult.kpi_table`) as HTML: mean and 95%
    interval per cell; every cell carries ``data-manufacturer``, ``data-kpi`` and
    ``data-value`` (the unformatted mean; ISO date for dates)."""
    head = "".join(f"<th class='num'>{escape(t)}</th>" for _, t, _ in HEADLINE)
    rows = []
    for r in kt.to_dict("records"):
        mid = str(r["manufacturer"])
        cells = [
            f"<td data-manufacturer='{escape(mid)}'><b>{escape(r['name'])}</b><br>"
            f"<code>{escape(mid)}</code></td>"
        ]
        for col, _, kind in HEADLINE:
            v, lo, hi = r.get(col), r.get(f"{col}_low"), r.get(f"{col}_high")
            if kind == "date":
                text, raw = fmt_date(v), fmt_date(v)
                ci = ci_html(fmt_date(lo), fmt_date(hi))
                n = r.get("first_shortage_n" if col.startswith("first") else "recovery_n")
                if text == "—" and col == "recovery_date" and r.get("first_shortage_n"):
                    text = "not within horizon"
                extra = f" data-n='{int(n)}'" if n is not None else ""
            else:
                text = fmt_value(v, kind)
                raw = "" if text == "—" else repr(float(v))
                ci = ci_html(fmt_value(lo, kind), fmt_value(hi, kind))
                extra = ""
            cells.append(
                f"<td class='num' data-manufacturer='{escape(mid)}' data-kpi='{col}' "
                f"data-value='{escape(raw)}'{extra}>{escape(text)}{ci}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption class='note'>{escape(caption)}</caption>" if caption else ""
    return (
        f"<table class='kpis'>{cap}<thead><tr><th>manufacturer</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


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
    ("days_to_first_shortage", "days to first shortage", "number"),
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


def ensemble_html(ens: EnsembleResult) -> str:
    """``EnsembleResult._repr_html_``: the headline KPI table with intervals and dates."""
    cap = (
        f"{ens.scenario.name}: {ens.reps} replications, seed {ens.seed} "
        f"({ens.elapsed_s:.1f} s on {ens.workers} worker{'s' if ens.workers != 1 else ''}); "
        "mean [95% interval]"
    )
    table = kpi_table_html(ens.kpi_table(), cap)
    return f"<div><style>{NOTEBOOK_CSS}</style>{table}{authority_html(ens.summary_dict())}</div>"


def comparison_html(cmp: Comparison) -> str:
    """``Comparison._repr_html_``: the paired differences of the headline KPIs."""
    cap = (
        f"B “{cmp.b.scenario.name}” − A “{cmp.a.scenario.name}”: {cmp.a.reps} paired "
        "replications (common random numbers)"
    )
    table = differences_table_html(cmp)
    return f"<div><style>{NOTEBOOK_CSS}</style><p><b>{escape(cap)}</b></p>{table}</div>"
