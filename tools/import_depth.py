"""Longest chain of imports inside the ``simulator`` package.

Counts every ``import``/``from ... import`` of a ``simulator`` module that can run:
top level and inside functions alike (a function-local import counts like a top-level
one); imports under ``if TYPE_CHECKING:`` never run and are not counted. A package's
``__init__`` is a module of its own; importing ``simulator.a.b`` also imports
``simulator.a``.

Usage::

    python tools/import_depth.py [--max N]

Prints the longest chain (modules, outermost first) and its length in import
layers (edges). With ``--max N`` exits 1 when the chain is longer than N.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = "simulator"


def modules() -> dict[str, Path]:
    out = {}
    for p in sorted((ROOT / PKG).rglob("*.py")):
        rel = p.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()

    def add(mod: str) -> None:
        # the module itself or, for `from pkg import name`, pkg.name when it is a module
        parts = mod.split(".")
        for i in range(2, len(parts) + 1):  # parents are imported too ...
            cand = ".".join(parts[:i])
            # ... unless they are the importer's own packages (already imported)
            if cand in known and cand != name and not name.startswith(cand + "."):
                found.add(cand)

    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == PKG:
                    add(a.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != PKG:
                continue
            add(mod)
            for a in node.names:
                add(f"{mod}.{a.name}")
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max", type=int, default=None, help="fail if longer than this")
    args = ap.parse_args()
    known = modules()
    graph = {
        n: {m for m in imports(n, p, known) if _real_import(n, m, known)} for n, p in known.items()
    }

    # exact longest simple path (depth-first; the package is small and mostly acyclic)
    best: list[str] = []

    def dfs(path: list[str]) -> None:
        nonlocal best
        if len(path) > len(best):
            best = list(path)
        for m in sorted(graph[path[-1]]):
            if m not in path:
                path.append(m)
                dfs(path)
                path.pop()

    for n in sorted(graph):
        dfs([n])
    chain = best
    print(f"longest import chain: {len(chain) - 1} layers ({len(chain)} modules)")
    print("  " + "\n  -> ".join(chain))
    lines = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in known.items()}
    big = sorted(((v, k) for k, v in lines.items()), reverse=True)[:5]
    print(f"{len(known)} modules; largest: " + ", ".join(f"{k} {v}" for v, k in big))
    if args.max is not None and len(chain) - 1 > args.max:
        print(f"FAIL: longer than {args.max}")
        return 1
    return 0


def _real_import(n: str, m: str, known: dict[str, Path]) -> bool:
    tree = ast.parse(known[n].read_text(encoding="utf-8"))
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import) and any(
            a.name == m or a.name.startswith(m + ".") for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and node.module:
            mod = node.module
            if (
                mod == m
                or mod.startswith(m + ".")
                or any(f"{mod}.{a.name}" == m for a in node.names)
            ):
                return True
        if isinstance(node, ast.ImportFrom) and node.level:
            return True  # relative imports resolved above; keep them
    return False


if __name__ == "__main__":
    raise SystemExit(main())
