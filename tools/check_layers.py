"""Stages of ``simulator/`` import downward only.

The package is a pipeline of stages, bottom to top::

    ground (errors.py, limits.py, stats.py, version.py) < scenario < world < kernel
    < replication < ensemble < report < explore < regress < cli < face (__init__.py)

A module's stage is the first path component under ``simulator/`` (``world/policy.py``
is in ``world``; a new module or sub-package inside a stage is covered without a
change here). An *upward import* is an import, at the top of a module or inside a
function, of a module of a higher stage; imports under ``if TYPE_CHECKING:`` never
run and are not counted. ``from simulator import NAME`` imports the face unless
``NAME`` is a module. A *private crossing* is a private name (``_x``, not a dunder)
imported from, or read as an attribute of, a module of another stage.

Usage::

    python tools/check_layers.py [--max-lines N] [--max-depth N]

Prints every upward import as ``file:line (stage) -> module (stage)``, every private
crossing, every module over 800 lines (or over N with ``--max-lines``) and the longest
chain of imports between modules (every runtime import, function-local ones included;
importing ``simulator.a.b`` also imports ``simulator.a``). Exits 1 on any upward import,
private crossing (except those listed in :data:`PENDING`, printed apart) or module of
an unknown stage (a new top-level module or sub-package must be placed in
:data:`STAGES` or :data:`TOP_MODULES`); with ``--max-lines N`` also on a module
over N lines, with ``--max-depth N`` on a chain longer than N layers.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = "simulator"

#: Stages bottom to top; an import may only go to its own stage or one listed before it.
STAGES = (
    "ground",
    "scenario",
    "world",
    "kernel",
    "replication",
    "ensemble",
    "report",
    "explore",
    "regress",
    "cli",
    "face",
)
#: Modules directly under ``simulator/`` and their stage.
TOP_MODULES = {
    "errors": "ground",
    "limits": "ground",
    "stats": "ground",
    "version": "ground",
    "__init__": "face",
    "__main__": "face",
}
#: Lines above which a module is listed (``--max-lines`` changes it and makes it fail).
REPORT_LINES = 800
#: Private names that still cross stages because the change that ends the crossing
#: belongs to a stage being rewritten elsewhere: listed with that change, not failed.
#: Remove an entry when its change lands.
PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    """One runtime import of a ``simulator`` module.

    Attributes:
        path: The importing file, relative to the repository root.
        line: Line of the import statement.
        source: The importing module's dotted name.
        target: The imported module's dotted name (for ``from M import N``: ``M.N``
            when that is a module, else ``M``).
        names: The names taken from ``target`` by ``from ... import`` (empty for
            ``import M`` and for a module imported by name).
    """

    path: str
    line: int
    source: str
    target: str
    names: tuple[str, ...]


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package is its ``__init__``)."""
    out: dict[str, Path] = {}
    for p in sorted((root / PKG).rglob("*.py")):
        parts = list(p.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def stage(module: str) -> str:
    """The stage of a dotted module name: its first component under ``simulator``.

    Returns ``"?"`` for a module directly under ``simulator/`` that is not listed in
    :data:`TOP_MODULES` or a sub-package that is not a stage.
    """
    parts = module.split(".")
    if parts[0] != PKG:
        raise ValueError(f"not a {PKG} module: {module}")
    if len(parts) == 1:
        return "face"
    first = parts[1]
    if first in TOP_MODULES:
        return TOP_MODULES[first]
    return first if first in STAGES[1:-1] else "?"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _runtime(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (their ``else`` is kept)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(reversed(node.orelse))
            continue
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def imports(module: str, path: Path, known: dict[str, Path], root: Path = ROOT) -> list[Import]:
    """The runtime imports of ``simulator`` modules in one module, in file order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(root).as_posix()
    out: list[Import] = []
    for node in _runtime(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == PKG:
                    out.append(Import(rel, node.lineno, module, a.name, ()))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != PKG:
                continue
            plain = []
            for a in node.names:
                if f"{mod}.{a.name}" in known:
                    out.append(Import(rel, node.lineno, module, f"{mod}.{a.name}", ()))
                else:
                    plain.append(a.name)
            if plain:
                out.append(Import(rel, node.lineno, module, mod, tuple(plain)))
    return sorted(out, key=lambda i: i.line)


def private_attributes(module: str, path: Path, known: dict[str, Path]) -> list[tuple[int, str]]:
    """``alias._x`` reads in a module, where ``alias`` is a ``simulator`` module of
    another stage bound by an import: ``(line, "module._x")``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases: dict[str, str] = {}
    for node in _runtime(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == PKG and a.asname:
                    aliases[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in known:
                    aliases[a.asname or a.name] = full
    mine = stage(module)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _is_private(node.attr)
            and stage(aliases[node.value.id]) != mine
        ):
            found.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return found


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    """The longest simple path in the import graph (exact, depth-first: the graph is
    small and, with imports going downward, almost acyclic)."""
    best: list[str] = []

    def dfs(path: list[str], on_path: set[str]) -> None:
        nonlocal best
        if len(path) > len(best):
            best = list(path)
        for m in sorted(graph.get(path[-1], ())):
            if m not in on_path:
                path.append(m)
                on_path.add(m)
                dfs(path, on_path)
                on_path.discard(m)
                path.pop()

    for n in sorted(graph):
        dfs([n], {n})
    return best


def import_graph(found: dict[str, list[Import]], known: dict[str, Path]) -> dict[str, set[str]]:
    """Edges module → every module its imports load (the target and its packages, except
    the importer's own packages, which are loaded already)."""
    graph: dict[str, set[str]] = {}
    for module, imps in found.items():
        edges = graph.setdefault(module, set())
        for imp in imps:
            parts = imp.target.split(".")
            for i in range(2, len(parts) + 1):
                cand = ".".join(parts[:i])
                if cand in known and cand != module and not module.startswith(cand + "."):
                    edges.add(cand)
    return graph


@dataclass
class Findings:
    """What :func:`check` found.

    Attributes:
        unknown: Modules of no stage (repository-relative paths).
        upward: Upward imports, as printed.
        private: Private names across stages, as printed.
        pending: Private crossings listed in :data:`PENDING`, with the change that ends
            each.
        lines: ``(lines, path)`` of the modules over the line limit, longest first.
        chain: The longest import chain (dotted module names).
        n_modules: Modules checked.
    """

    unknown: list[str]
    upward: list[str]
    private: list[str]
    pending: list[str]
    lines: list[tuple[int, str]]
    chain: list[str]
    n_modules: int


def check(root: Path = ROOT, max_lines: int = REPORT_LINES) -> Findings:
    """Check the package under ``root`` (see the module documentation)."""
    known = modules(root)
    found = {m: imports(m, p, known, root) for m, p in known.items()}
    rank = {s: i for i, s in enumerate(STAGES)}

    def rel(m: str) -> str:
        return known[m].relative_to(root).as_posix()

    unknown = sorted(rel(m) for m in known if stage(m) == "?")
    upward = [
        f"{i.path}:{i.line} ({stage(i.source)}) -> {i.target} ({stage(i.target)})"
        for m in sorted(found)
        for i in found[m]
        if "?" not in (stage(i.source), stage(i.target))
        and rank[stage(i.target)] > rank[stage(i.source)]
    ]
    crossings = [
        (i.path, i.line, f"{i.target}.{n}", stage(i.source), stage(i.target))
        for imps in found.values()
        for i in imps
        for n in i.names
        if _is_private(n) and stage(i.source) != stage(i.target)
    ]
    for m, p in known.items():
        for line, name in private_attributes(m, p, known):
            crossings.append((rel(m), line, name, stage(m), stage(name)))
    private, pending = [], []
    for path, line, name, src, dst in sorted(crossings):
        text = f"{path}:{line} ({src}) -> {name} ({dst})"
        if name in PENDING:
            pending.append(f"{text}: until {PENDING[name]}")
        else:
            private.append(text)
    lines = sorted(
        ((n, rel(m)) for m, p in known.items() if (n := _count_lines(p)) > max_lines),
        reverse=True,
    )
    chain = longest_chain(import_graph(found, known))
    return Findings(unknown, upward, private, pending, lines, chain, len(known))


def _count_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def main(argv: list[str] | None = None) -> int:
    """Print the report; the exit status says whether the rules hold."""
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument(
        "--max-lines",
        type=int,
        default=None,
        metavar="N",
        help=f"fail on a module over N lines (without it: list those over {REPORT_LINES})",
    )
    ap.add_argument(
        "--max-depth", type=int, default=None, metavar="N", help="fail on a chain over N layers"
    )
    ap.add_argument(
        "--root", type=Path, default=ROOT, help="repository root (default: this tool's)"
    )
    args = ap.parse_args(argv)
    limit = args.max_lines if args.max_lines is not None else REPORT_LINES
    f = check(args.root.resolve(), limit)

    def show(title: str, items: list[str]) -> None:
        print(title)
        for item in items:
            print(f"  {item}")

    if f.unknown:
        show(
            f"modules of no stage: {len(f.unknown)} (add them to STAGES or TOP_MODULES)", f.unknown
        )
    show(f"upward imports: {len(f.upward)}", f.upward)
    show(f"private names across stages: {len(f.private)}", f.private)
    if f.pending:
        show(
            f"pending private names across stages (listed, not failed): {len(f.pending)}", f.pending
        )
    note = "" if args.max_lines is not None else " (listed only; --max-lines N fails)"
    show(
        f"modules over {limit} lines: {len(f.lines)}{note}",
        [f"{path} {n}" for n, path in f.lines],
    )
    print(f"longest import chain: {len(f.chain) - 1} layers ({f.n_modules} modules)")
    print("  " + " -> ".join(f.chain))
    failed = bool(f.unknown or f.upward or f.private)
    failed |= args.max_lines is not None and bool(f.lines)
    if args.max_depth is not None and len(f.chain) - 1 > args.max_depth:
        print(f"longer than --max-depth {args.max_depth}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
