"""What a scenario file says about itself, and what it changes against its base.

Scenario files in ``scenarios/`` open with a comment header in labelled paragraphs
(``QUESTION.``, ``SOURCES.``, ``FITTED``, ``ASSUMED``, ``KNOWN LIMITS.`` …); a variant
``extends:`` a base file. :func:`scenario_notes` reads the header and the ``extends:``
targets; :func:`scenario_changes` lists the resolved fields a variant changes against
its base, leaf by leaf as ``relsim diff`` does (for ``report.html``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["scenario_changes", "scenario_notes"]

_LABEL = re.compile(r"^([A-Z][A-Z /&-]{2,40})(?:[.:,]|\s(?=\())\s*(.*)$")
_MAX_HEADER_LINES = 400


def scenario_notes(path: str | Path) -> dict[str, Any]:
    """The header of a scenario file and its ``extends:`` targets.

    Args:
        path: The scenario file.

    Returns:
        ``{"question": str, "sections": [[title, text], ...], "extends": [path, ...]}``:
        the ``QUESTION`` paragraph (empty if none), every other labelled paragraph of the
        leading comment block (unlabelled paragraphs join the one before, or a section
        ``Notes``), and the files named by ``extends:`` (resolved against the file's
        folder).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {"question": "", "sections": [], "extends": []}
    lines = text.splitlines()
    comment: list[str] = []
    for line in lines[:_MAX_HEADER_LINES]:
        s = line.strip()
        if not s.startswith("#"):
            if s:
                break
            comment.append("")
            continue
        body = s[1:].strip()
        if body.startswith("yaml-language-server"):
            continue
        comment.append(body)
    paragraphs: list[str] = []
    cur: list[str] = []
    for body in [*comment, ""]:
        if body:
            cur.append(body)
        elif cur:
            paragraphs.append(" ".join(cur))
            cur = []
    sections: list[list[str]] = []
    question = ""
    for p in paragraphs:
        m = _LABEL.match(p)
        if m:
            title, rest = m.group(1).strip().title(), m.group(2).strip()
            if title == "Question" and not question:
                question = rest
                continue
            sections.append([title, rest])
        elif sections:
            sections[-1][1] += "\n\n" + p
        else:
            sections.append(["Notes", p])
    extends: list[str] = []
    for line in lines:
        m = re.match(r"^extends:\s*(.+?)\s*(#.*)?$", line)
        if m:
            value = m.group(1).strip()
            items = (
                [v.strip().strip("'\"") for v in value.strip("[]").split(",")]
                if value.startswith("[")
                else [value.strip("'\"")]
            )
            extends = [str((path.parent / v).resolve()) for v in items if v]
            break
    return {"question": question, "sections": sections, "extends": extends}


def scenario_changes(
    base: dict[str, Any], variant: dict[str, Any], limit: int = 200
) -> list[dict[str, Any]]:
    """Fields that differ between two resolved scenarios (plain data), leaf by leaf as
    ``relsim diff`` lists them (:func:`simulator.scenario.diff.diff_data`: an added
    overlay is its ``from``, ``until``, ``where.destination`` … each on a row):
    ``{"path", "base", "value"}`` (``None`` where a side lacks the field). ``name`` and
    ``description`` are left out; at most ``limit`` rows.
    """
    from simulator.scenario.diff import ABSENT, diff_data

    rows = []
    for d in diff_data(base, variant):
        if d.path in ("name", "description"):
            continue
        rows.append(
            {
                "path": d.path,
                "base": None if d.a is ABSENT else d.a,
                "value": None if d.b is ABSENT else d.b,
            }
        )
        if len(rows) >= limit:
            break
    return rows
