"""Regression reports: JUnit XML, Markdown (CI job summaries), text cells."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from simulator.regress.judge import SKIP, Row, ScenarioCheck
from simulator.stats import bonferroni_k

__all__ = [
    "change_lines",
    "delta_text",
    "describe",
    "junit_xml",
    "markdown_report",
    "rule_text",
    "tolerance_text",
    "write_markdown",
]


def describe(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.6g}"


def delta_text(r: Row) -> str:
    d = r.delta
    if d is None:
        if r.base_n != r.cur_n:
            return f"n {r.base_n}→{r.cur_n}"
        return "—"
    return f"{d:+.4g}"


def tolerance_text(r: Row, exact: bool) -> str:
    if exact:
        return "exact"
    if r.paired and r.share:
        if not r.only_base + r.only_cur:
            return "—"
        return f"McNemar p={r.p:.2g} ({r.only_base}→ / →{r.only_cur})"
    if r.tolerance is None:
        return "—"
    text = f"±{r.tolerance:.3g}"
    if r.k is not None and "floor" not in r.note:
        text += f" (k={r.k:.2f})"
    elif "floor" in r.note:
        text += " (floor)"
    return text


def junit_xml(checks: Sequence[ScenarioCheck], *, exact: bool = False) -> str:
    """JUnit XML: one ``<testsuite>`` per scenario, one ``<testcase>`` per compared row.

    Args:
        checks: Compared scenarios.
        exact: Whether ``--exact`` was used (for failure messages).
    """
    root = ET.Element("testsuites", name="relsim regress")
    total = fails = skips = 0
    for c in checks:
        changed = int(c.changed)
        f = len(c.failures) + int(c.changed and not c.allow_changed)
        s = sum(r.status == SKIP for r in c.rows)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=c.label,
            tests=str(len(c.rows) + changed),
            failures=str(f),
            errors="0",
            skipped=str(s),
            time=f"{c.elapsed_s:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        for k, v in (
            ("scenario", c.scenario.name),
            ("file", str(c.path)),
            ("baseline", str(c.baseline_path)),
            ("seed", str(c.seed)),
            ("reps", str(c.reps)),
        ):
            ET.SubElement(props, "property", name=k, value=v)
        if c.changed:
            case = ET.SubElement(suite, "testcase", classname=c.label, name="scenario", time="0")
            detail = "\n".join(change_lines(c))
            if c.allow_changed:
                ET.SubElement(case, "system-out").text = "changed (allowed):\n" + detail
            else:
                msg = f"{c.path}: the scenario changed since its baseline {c.baseline_path}"
                fail = ET.SubElement(case, "failure", message=msg, type="scenario-changed")
                fail.text = msg + "\n" + detail
        for r in c.rows:
            case = ET.SubElement(suite, "testcase", classname=c.label, name=r.metric, time="0")
            if r.failed:
                msg = (
                    f"{r.metric}: baseline {describe(r.base)}, current "
                    f"{describe(r.cur)}, Δ {delta_text(r)}, tolerance {tolerance_text(r, exact)}"
                )
                fail = ET.SubElement(case, "failure", message=msg, type="regression")
                fail.text = msg + (f" ({r.note})" if r.note else "")
            elif r.status == SKIP:
                ET.SubElement(case, "skipped", message=r.note or "not tested")
        if c.notes:
            ET.SubElement(suite, "system-out").text = "\n".join(c.notes)
        total, fails, skips = total + len(c.rows) + changed, fails + f, skips + s
    root.set("tests", str(total))
    root.set("failures", str(fails))
    root.set("errors", "0")
    root.set("skipped", str(skips))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rule_text(alpha: float, m: int, k: float | None, exact: bool) -> str:
    if exact:
        return "exact mode: any difference in the rounded (6 significant digits) values fails"
    paired = (
        "replications paired with the baseline's (same seeds): flag if the mean paired "
        "difference |Δ| > max(k·se(Δ), floor, 0.01% of the KPI)"
    )
    if k is not None:
        return f"{paired} with fixed k = {k:g}"
    if m == 0:
        return f"{paired}; no KPI could fail: every paired difference is zero"
    return (
        f"{paired}, definedness by the exact McNemar test at p < α/m; family-wise "
        f"false-alarm rate α = {alpha:g} over the m = {m} KPIs that could fail "
        f"(Bonferroni–Tarone): k = t⁻¹(1 − α/2m) with pairs − 1 d.f. "
        f"(Φ⁻¹ = {bonferroni_k(alpha, max(m, 1)):.2f})"
    )


def change_lines(c: ScenarioCheck) -> list[str]:
    """The scenario's change since its baseline, one line per file and field (no
    wrapping: for reports)."""
    from simulator.scenario.diff import format_value

    if not c.changed:
        return []
    out = [f"changed file: {f}" for f in c.changed_files]
    out += [f"{d.path}: {format_value(d.a, 120)} → {format_value(d.b, 120)}" for d in c.changes]
    return out or ["the resolved scenario differs from the baseline's"]


def markdown_report(
    checks: Sequence[ScenarioCheck],
    *,
    alpha: float,
    m: int,
    k: float | None = None,
    exact: bool = False,
    verbose: bool = False,
) -> str:
    """Markdown summary for CI job summaries.

    Args:
        checks: Compared scenarios.
        alpha: Family-wise false-alarm rate.
        m: Number of tests.
        k: Fixed multiplier, if any.
        exact: Exact mode.
        verbose: All rows, not only failures.
    """
    n_rows = sum(len(c.rows) for c in checks)
    failed = [c for c in checks if c.failed]
    n_fail = sum(len(c.failures) for c in checks)
    n_changed = sum(c.changed and not c.allow_changed for c in checks)
    what = f"{n_fail} of {n_rows} KPIs moved beyond tolerance"
    if n_changed:
        what += f", {n_changed} scenario(s) changed since their baseline"
    head = (
        f"FAIL: {what} ({len(failed)} of {len(checks)} scenarios failed)"
        if failed
        else f"PASS: {n_rows} KPIs in {len(checks)} scenarios within tolerance"
    )
    lines = [
        f"## relsim regress — {head}",
        "",
        "| scenario | KPIs | failed | seed | reps | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in checks:
        notes = (["scenario changed" + (" (allowed)" if c.allow_changed else "")] * c.changed) + (
            c.notes
        )
        lines.append(
            f"| {_md(c.label)} | {len(c.rows)} | {len(c.failures)} | {c.seed} | "
            f"{c.reps} | {_md('; '.join(notes))} |"
        )
    for c in checks:
        if c.changed:
            lines += ["", f"### {_md(c.label)}: changed since its baseline", ""]
            lines += [f"- `{_md(x)}`" for x in change_lines(c)]
    shown = [(c, r) for c in checks for r in c.rows if verbose or r.failed]
    if shown:
        lines += [
            "",
            "### All KPIs" if verbose else "### Moved KPIs",
            "",
            "| scenario | metric | baseline | current | Δ | tolerance | status |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for c, r in shown:
            status = r.status + (f" ({r.note})" if r.note else "")
            lines.append(
                f"| {_md(c.label)} | {_md(r.metric)} | {describe(r.base)} | "
                f"{describe(r.cur)} | {delta_text(r)} | {_md(tolerance_text(r, exact))} | "
                f"{_md(status)} |"
            )
    lines += ["", f"_{rule_text(alpha, m, k, exact)}._", ""]
    return "\n".join(lines)


def write_markdown(text: str, target: Path | None) -> list[Path]:
    """Write to ``target`` (replacing it) and append to ``$GITHUB_STEP_SUMMARY``."""
    written = []
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    summary_path = Path(summary).resolve() if summary else None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if summary_path is not None and target.resolve() == summary_path:
            with target.open("a", encoding="utf-8") as fh:
                fh.write(text + "\n")
            return [target]
        from simulator.report.atomic import write_text_atomic

        write_text_atomic(target, text)
        written.append(target)
    if summary_path is not None:
        with summary_path.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
        written.append(summary_path)
    return written
