"""Regenerate the generated documentation: ``docs/outputs.md`` (every table and column
with its unit, from ``simulator/replication/columns.py``) and
``docs/scenario-reference.md`` (every scenario field with its unit, default and limits,
from the scenario schema). Tests fail when these files and the code drift apart.

Usage: ``python tools/gen_docs.py`` (from the repository root) writes them;
``python tools/gen_docs.py --check`` exits 1 if either is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from simulator.replication.columns import outputs_markdown
    from simulator.scenario.reference import reference_markdown

    check = "--check" in sys.argv[1:]
    stale = 0
    for name, text in (
        ("outputs.md", outputs_markdown()),
        ("scenario-reference.md", reference_markdown()),
    ):
        path = ROOT / "docs" / name
        if check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                print(f"{path.relative_to(ROOT)} is stale; run python tools/gen_docs.py")
                stale += 1
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
