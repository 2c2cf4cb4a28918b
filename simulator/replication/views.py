"""Notebook view of a replication, and the HTML formatting every view and page shares.

``RunResult._repr_html_`` renders here: a table, no figures, nothing of the stages
above (the notebook views of ensembles and comparisons are in
:mod:`simulator.ensemble.views`; ``report.html`` pages in :mod:`simulator.report.html`
are built on the same helpers).
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from simulator.replication.result import RunResult

__all__ = ["NOTEBOOK_CSS", "ci_html", "escape", "fmt_date", "fmt_value", "run_result_html"]


def escape(x: Any) -> str:
    """``x`` as text safe inside HTML elements and quoted attributes."""
    return html.escape(str(x), quote=True)


def fmt_value(x: Any, kind: str = "number") -> str:
    """A KPI value for people: ``share`` as 61.2%, counts with thousands separators,
    10,000 and more as 12.3k / 1.2M; ``—`` when undefined."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)) or x is pd.NA:
        return "—"
    v = float(x)
    if kind == "share":
        return f"{100 * v:.1f}%"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 100 or kind == "count":
        return f"{v:,.0f}"
    return f"{v:.3g}"


def fmt_date(x: Any) -> str:
    """``2025-05-22`` (ISO, sorts and reads everywhere); ``—`` when undefined."""
    if x is None or x is pd.NaT or (not isinstance(x, str) and pd.isna(x)):
        return "—"
    return pd.Timestamp(x).date().isoformat()


def ci_html(lo: str, hi: str) -> str:
    """A formatted 95 % interval below a value (nothing when either end is undefined)."""
    return (
        "" if lo == "—" or hi == "—" else f"<span class='ci'>[{escape(lo)} – {escape(hi)}]</span>"
    )


def run_result_html(r: RunResult) -> str:
    """``RunResult._repr_html_``: the replication's KPIs with dates."""
    k = r.kpis
    rows = []
    for x in k.to_dict("records"):
        who = x["manufacturer"] + (
            f" / {x['part']}" if x["part"] is not pd.NA and x["part"] else ""
        )
        rows.append(
            f"<tr><td>{escape(who)}</td><td class='num'>{fmt_value(x['fill_rate'], 'share')}</td>"
            f"<td class='num'>{fmt_value(x['lost_units'], 'count')}</td>"
            f"<td class='num'>{fmt_value(x['shortfall_t'])}</td>"
            f"<td class='num'>{fmt_date(x['first_shortage_date'])}</td>"
            f"<td class='num'>{fmt_date(x['recovery_date'])}</td></tr>"
        )
    cap = (
        f"{r.scenario.name}: replication {r.rep} of seed {r.seed}, "
        f"{r.trace.n_applications:,} licence applications"
    )
    return (
        f"<div><style>{NOTEBOOK_CSS}</style><table class='kpis'><caption>{escape(cap)}</caption>"
        "<thead><tr>"
        "<th>manufacturer</th><th class='num'>fill rate</th><th class='num'>lost units</th>"
        "<th class='num'>shortfall (t)</th><th class='num'>first shortage</th>"
        "<th class='num'>recovered by</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


NOTEBOOK_CSS = (
    "table.kpis, table.differences, table.dates { border-collapse: collapse; font-size: 13px; }"
    " table.kpis th, table.kpis td, table.differences th, table.differences td,"
    " table.dates th, table.dates td "
    "{ padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: left; }"
    " table td.num, table th.num { text-align: right; white-space: nowrap; }"
    " td .ci { color: #666; font-size: 11.5px; display: block; }"
    " table.kpis caption { text-align: left; color: #555; padding-bottom: 4px; }"
)
"""Style of the notebook views' tables (a notebook page has its own)."""
