"""Console formatting shared by the commands: numbers, KPI tables, progress bars, and
the one way text reaches the terminal.

**Printing.** Every command prints through :func:`say` (standard output), :func:`tell`
(standard error), :func:`say_json` and :func:`say_table` — nothing else in
``simulator/cli`` calls ``print`` or a console's ``print`` (``tests/cli`` checks). Text may
hold names, labels, notes, file names and values from files and options: each line is
passed through :func:`simulator.errors.clean` (escape sequences, carriage returns and
bidirectional overrides shown as ``\\x1b``-style escapes) and printed without markup
interpretation; JSON escapes the same characters as ``\\u001b``; a table's cells are
made with :func:`cell`.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from simulator.errors import clean, clean_json, clean_lines

__all__ = [
    "authority_line",
    "cell",
    "comparison_table",
    "date_cell",
    "err",
    "fmt",
    "fmt_diff",
    "out",
    "progress_bar",
    "progress_run",
    "say",
    "say_json",
    "say_table",
    "summary_table",
    "tell",
    "warn_estimated",
]

_WIDTH = None if sys.stdout.isatty() else 120  # logs and CI: do not wrap at 80 columns
out = Console(highlight=False, width=_WIDTH, soft_wrap=True)
"""Standard output (soft-wrapped: a message is one line however long, tables are laid out
for the terminal's width, or 120 columns when piped)."""
err = Console(stderr=True, highlight=False, soft_wrap=True)
"""Standard error: problems, warnings, progress."""


def say(text: Any = "", *, style: str | None = None) -> None:
    """Print ``text`` on standard output, every line cleaned (:func:`clean_lines`), never
    read as markup.

    Args:
        text: Anything; ``str()`` of it is printed.
        style: A rich style for the whole text (e.g. ``"bold red"``), or None.
    """
    out.print(Text(clean_lines(str(text)), style=style or ""), soft_wrap=True)


def tell(text: Any, *, style: str | None = None) -> None:
    """Print ``text`` on standard error (problems, warnings, notes), as :func:`say` does."""
    err.print(Text(clean_lines(str(text)), style=style or ""), soft_wrap=True)


def say_json(data: Any) -> None:
    """Print ``data`` as indented JSON on standard output; control and bidirectional
    characters inside strings are written as ``\\uXXXX`` escapes (still valid JSON)."""
    sys.stdout.write(clean_json(json.dumps(data, indent=2, ensure_ascii=False, default=str)))
    sys.stdout.write("\n")
    sys.stdout.flush()


def say_raw(text: str) -> None:
    """Write relsim's own generated text (the JSON Schema) to standard output unchanged."""
    sys.stdout.write(clean_json(text))
    sys.stdout.flush()


def say_table(table: Any, *, to: Console | None = None) -> None:
    """Print a rich table (or other renderable) whose cells, titles and captions are
    :class:`rich.text.Text` made with :func:`cell` (plain strings in a table are read
    as markup by rich)."""
    (to or out).print(table)


def cell(value: Any, style: str = "") -> Text:
    """A table cell, title or caption: ``str(value)`` cleaned, never read as markup."""
    return Text(clean_lines(str(value)), style=style)


def progress_bar(quiet: bool, what: str = "replications") -> Any:
    """A progress bar on standard error (none when ``quiet`` or not a terminal).

    Args:
        quiet: No bar.
        what: What is counted (``replications``, ``points``, ``trials``).

    Returns:
        ``(callback(done, total), progress)``; call ``progress.stop()`` when done (both
        None without a bar).
    """
    if quiet or not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    prog = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = prog.add_task(what, total=None)
    prog.start()

    def cb(done: int, total: int) -> None:
        prog.update(task, completed=done, total=total)

    return cb, prog


@contextlib.contextmanager
def progress_run(
    quiet: bool,
    what: str = "replications",
    on_interrupt: Callable[[], None] | None = None,
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar (:func:`progress_bar`) around a command's long work: the ``with``
    block. The bar is stopped however the block ends; on Ctrl-C it is stopped first,
    then ``on_interrupt`` says what was kept (through :func:`tell`), then the
    ``KeyboardInterrupt`` goes on to :func:`simulator.cli.app.main` (exit 130).

    Args:
        quiet: No bar.
        what: What is counted (``replications``, ``points``, ``trials``, ``simulations``).
        on_interrupt: Called on Ctrl-C after the bar is gone, or None.

    Yields:
        The progress callback ``(done, total)`` to hand to the work (None without a bar).
    """
    cb, prog = progress_bar(quiet, what)
    try:
        yield cb
    except KeyboardInterrupt:
        if prog is not None:
            prog.stop()
            prog = None
        if on_interrupt is not None:
            on_interrupt()
        raise
    finally:
        if prog is not None:
            prog.stop()


def fmt(
    mean: float | None,
    lo: float | None,
    hi: float | None,
    pct: bool = False,
    digits: int = 0,
    sep: str = " ",
) -> str:
    """``mean [lo, hi]``; percentages to 0.1 point; numbers of 10,000 or more to three
    significant digits with k or M (exact values are in summary.json)."""
    if mean is None:
        return "—"
    if pct:
        s = f"{100 * mean:.1f}%"
        if lo is not None and hi is not None:
            s += f"{sep}[{100 * lo:.1f}, {100 * hi:.1f}]"
        return s
    values = [mean] if lo is None or hi is None else [mean, lo, hi]
    biggest = max(abs(v) for v in values)
    if biggest >= 10_000:
        scale, unit = (1e6, "M") if biggest >= 1e6 else (1e3, "k")

        def fmt(v: float) -> str:
            text = f"{v / scale:.3g}"
            return (text if "e" not in text else f"{v / scale:,.0f}") + unit
    else:

        def fmt(v: float) -> str:
            return f"{v:,.{digits}f}"

    s = fmt(mean)
    if lo is not None and hi is not None:
        s += f"{sep}[{fmt(lo)}, {fmt(hi)}]"
    return s


def summary_table(summary: dict[str, Any], sc: Any, width: int | None = None) -> Table:
    """The per-manufacturer KPI table: a row per manufacturer, the dates as the median
    with the 5–95 % range and the share of replications under it, the other KPIs with
    their 95 % interval under the mean; laid out without box lines when the boxed table
    would not fit in ``width`` columns."""
    from rich.measure import Measurement

    table = kpi_table(summary, sc, narrow=False)
    unbounded = out.options.update_width(10_000)
    if width is None or Measurement.get(out, unbounded, table).maximum <= width:
        return table
    return kpi_table(summary, sc, narrow=True)


def date_cell(which: str, k: dict[str, Any], single: bool = False) -> str:
    """A headline date from a manufacturer's ``summary.json`` entries ``k``: the median
    date, the 5–95 % range across the replications where it happens, and in how many
    (:func:`simulator.ensemble.views.date_phrases`), one per line; ``single`` (one
    replication): the date alone."""
    from simulator.ensemble.views import date_phrases

    name = "first_shortage_date" if which == "first" else "recovery_date"
    v = k.get(name) or {}
    p_short = (k.get("any_shortage") or {}).get("mean")
    text, rng, says = date_phrases(
        which,
        v.get("median"),
        v.get("p5"),
        v.get("p95"),
        share=v.get("share", 0.0 if not v else None),
        p_short=p_short,
        short_at_end=v.get("short_at_end"),
        short=True,
    )
    if single:
        return text
    return "\n".join(t for t in (text, rng, *says.split("; ")) if t)


def kpi_table(summary: dict[str, Any], sc: Any, narrow: bool) -> Table:
    from rich import box

    single = int(summary.get("reps", 0)) == 1
    t = Table(
        # a Text: the scenario's name is shown as written, never read as markup
        title=Text(
            clean(
                summary.get("title")
                or f"{sc.name}: {summary['reps']} replications, seed {summary['seed']}"
            )
        ),
        title_justify="left",
        caption=Text(
            "one replication: its dates and KPIs"
            if single
            else "dates: median over the replications where it happens, 5–95% of them "
            "below, in how many; others: mean, 95% interval of the mean below"
        ),
        caption_justify="left",
        box=None if narrow else box.HEAVY_HEAD,
        pad_edge=not narrow,
        padding=(0, 1, 0, 0) if narrow else (0, 1),
        leading=0 if single else 1,  # a blank line between rows of several lines
    )
    t.add_column("manufacturer", overflow="fold")
    t.add_column("first shortage", justify="right", no_wrap=True)
    t.add_column("recovered by", justify="right")
    for header in ("fill rate", "lost units"):
        t.add_column(header, justify="right", no_wrap=True)
    for i, m in enumerate(sc.manufacturers):
        k = summary["kpis"].get(m.id, {})
        if narrow and i and not single:
            t.add_row()  # no box: a blank line between rows of several lines

        def g(name: str, k: dict[str, Any] = k) -> tuple[Any, Any, Any]:
            v = k.get(name, {})
            return v.get("mean"), v.get("ci_low"), v.get("ci_high")

        t.add_row(
            Text(clean(m.id)),
            date_cell("first", k, single),
            date_cell("recovery", k, single),
            fmt(*g("fill_rate"), pct=True, sep="\n"),
            fmt(*g("lost_units"), sep="\n"),
        )
    return t


def authority_line(summary: dict[str, Any]) -> str:
    a = summary["kpis"].get("authority", {})

    def m(k: str) -> float | None:
        return a.get(k, {}).get("mean")

    p50, p90, over = m("wait_wd_p50"), m("wait_wd_p90"), m("share_over_limit")
    if p50 is None:
        return "authority: no decisions"
    text = f"authority: licence wait median {p50:.1f} wd, p90 {p90:.1f} wd"
    if over is not None:
        text += f", {100 * over:.1f}% over the statutory limit"
    appr = m("approval_rate")
    if appr is not None:
        text += f", approval rate {100 * appr:.1f}%"
    return text


def warn_estimated(sc: Any) -> None:
    from simulator.world.calendar import build_calendar

    years = build_calendar(sc).estimated_years
    if years:
        err.print(
            f"note: no official holiday notice yet for {', '.join(map(str, years))}; "
            "working days there are estimated (statutory holidays by rule, no adjusted "
            "weekend working days). Add known dates with calendar.extra_holidays / "
            "extra_workdays.",
            markup=False,
        )


_CMP_ROWS = (
    ("shortage_days", "shortage days", False),
    ("lost_units", "lost units", False),
    ("fill_rate", "fill rate", True),
    ("any_shortage", "P(any shortage)", True),
)
_CMP_DATES = (("first_shortage_date", "first shortage"), ("recovery_date", "recovered by"))
_CMP_AUTHORITY = (
    ("wait_wd_p50", "median wait, wd", False),
    ("wait_wd_p90", "p90 wait, wd", False),
    ("approval_rate", "approval rate", True),
)


def fmt_diff(
    mean: float | None, lo: float | None, hi: float | None, pct: bool = False, digits: int = 0
) -> str:
    """A difference B − A with its interval: signed; rates in percentage points."""
    if mean is None:
        return "—"
    if pct:

        def one(v: float) -> str:
            return f"{round(100 * v, 1) + 0.0:+.1f}"  # + 0.0: no "-0.0"

        s = f"{one(mean)} pp"
        return s if lo is None or hi is None else f"{s} [{one(lo)}, {one(hi)}]"
    s = fmt(mean, lo, hi, digits=digits)
    return s if s.startswith("-") else "+" + s


def _date_pair_cells(r: Any) -> tuple[str, str, str]:
    """A ``date_differences`` row as three cells: A's and B's date (median, 5–95 %
    range, share of replications) and B − A in days over the replications where both
    have it."""
    from simulator.ensemble.views import date_phrases

    which = "first" if r.kpi == "first_shortage_date" else "recovery"
    cells = []
    for side in ("a", "b"):
        share = getattr(r, f"share_{side}")
        at_end = getattr(r, f"short_at_end_{side}")
        text, rng, says = date_phrases(
            which,
            getattr(r, f"date_{side}"),
            getattr(r, f"date_{side}_p5"),
            getattr(r, f"date_{side}_p95"),
            share=None if share != share else float(share),
            p_short=None if at_end != at_end else float(share) + float(at_end),
            short_at_end=None if at_end != at_end else float(at_end),
            short=True,
        )
        cells.append("\n".join(t for t in (text, rng, *says.split("; ")) if t))
    if r.n == 0 or r.diff != r.diff:
        delta = "—"
    else:
        lo, hi = r.ci_low, r.ci_high
        delta = f"{r.diff + 0.0:+.0f} d"
        if lo == lo and hi == hi and (lo, hi) != (r.diff, r.diff):
            delta += f" [{lo + 0.0:+.0f}, {hi + 0.0:+.0f}]"
        delta += f"\n({int(r.n)} pairs)"
    return cells[0], cells[1], delta


def comparison_table(
    differences: Any,
    sa: Any,
    sb: Any,
    reps: int,
    verbose: bool = False,
    dates: Any = None,
) -> Table:
    """The paired comparison as ``relsim compare`` prints it: per manufacturer when its
    line first stops and when it recovers in A and in B (median date, 5–95 % range,
    share of replications) and by how many days B moves them, then shortage days, lost
    units, fill rate and P(any shortage); then the authority overall and per
    destination (where a slowdown aimed at one country lands, and what the shared
    reviewer pool passes on to others). ``verbose`` adds the ``narrower ×`` column (how
    much common random numbers narrowed each interval).

    Args:
        differences: ``Comparison._differences()`` (keyed by entity).
        sa: Scenario A.
        sb: Scenario B.
        reps: Paired replications.
        verbose: Add the ``narrower ×`` column.
        dates: ``Comparison.date_differences()`` (None: no date rows).
    """
    from rich import box

    rows = {(r.entity, r.kpi): r for r in differences.itertuples(index=False)}
    date_rows = {
        (r.manufacturer, r.kpi): r
        for r in (dates.itertuples(index=False) if dates is not None else [])
    }

    def num(x: float) -> float | None:
        return None if x != x else float(x)  # NaN: e.g. never short

    caption = (
        "B − A with its 95% interval over paired replications; dates: median over the "
        "replications where it happens, 5–95% of them, in how many; B − A in days over "
        "the replications where both have it; rates in percentage points (pp); wd = "
        "Chinese working days; — = never happened in any replication"
    )
    if verbose:
        caption += (
            ". narrower ×: how many times narrower the paired interval is than "
            "independent seeds would give for the same replications"
        )
    t = Table(
        title=Text(
            f"B − A over {reps} paired replications (common random numbers)\n"
            f"A: {clean(sa.name, 120)}\nB: {clean(sb.name, 120)}"
        ),
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
    )
    t.add_column("", overflow="fold")
    t.add_column("kpi")
    for col in ("A", "B", "B − A [95% interval]", *(("narrower ×",) if verbose else ())):
        t.add_column(col, justify="right", no_wrap=True)

    def add(entity: str, label: str, kpi: str, name: str, pct: bool, first: bool) -> bool:
        r = rows.get((entity, kpi))
        if r is None:
            return False
        digits = 1 if kpi.startswith("wait") else 0
        cells: list[Any] = [
            Text(clean(label)) if first else "",
            name,
            fmt(num(r.mean_a), None, None, pct=pct, digits=digits),
            fmt(num(r.mean_b), None, None, pct=pct, digits=digits),
            fmt_diff(num(r.diff), num(r.ci_low), num(r.ci_high), pct=pct, digits=digits),
        ]
        if verbose:
            cells.append("—" if r.narrower_x != r.narrower_x else f"{r.narrower_x:.1f}")
        t.add_row(*cells)
        return True

    mfrs = [m.id for m in sa.manufacturers]
    mfrs += [m.id for m in sb.manufacturers if m.id not in mfrs]
    for m in mfrs:
        first = True
        for kpi, name in _CMP_DATES:
            r = date_rows.get((m, kpi))
            if r is None:
                continue
            a_cell, b_cell, delta = _date_pair_cells(r)
            t.add_row(
                Text(clean(m)) if first else "", name, a_cell, b_cell, delta,
                *(("",) if verbose else ()),
            )  # fmt: skip
            first = False
        for kpi, name, pct in _CMP_ROWS:
            if add(m, m, kpi, name, pct, first):
                first = False
        t.add_section()
    by_dest = sorted({e for e, _ in rows if e.startswith("authority/")})
    entities = ["authority", *by_dest]
    for e in entities:
        label = "authority (all)" if e == "authority" else "  → " + e.split("/", 1)[1]
        kpis = _CMP_AUTHORITY if e == "authority" else (_CMP_AUTHORITY[0], _CMP_AUTHORITY[2])
        for i, (kpi, name, pct) in enumerate(kpis):
            add(e, label, kpi, name, pct, i == 0)
    return t
