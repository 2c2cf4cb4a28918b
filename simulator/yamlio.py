"""Safe, located YAML loading and validation of scenario files.

Users write scenarios as YAML; every defect must be reported at ``file:line:col`` with the
field path, what was found and what is allowed. This module:

* loads YAML safely (plain data only, no tags beyond the standard scalar/collection ones),
  remembering the position of every value and key (:func:`load_yaml`);
* refuses hostile or broken input with a located message: files over a size limit, alias
  bombs, duplicate keys, non-UTF-8 bytes, tab indentation, syntax errors;
* resolves ``extends:`` (deep merge onto one or more base files, lists of items with an
  ``id`` or ``name`` merged item by item) and ``--set`` style
  overrides while keeping positions (:func:`load_located`, :func:`apply_overrides`);
* validates the plain data with any pydantic model and turns *every* validation error into a
  located :class:`~simulator.errors.Problem` (:func:`validate`).

Scalar rules differ from PyYAML's YAML 1.1 defaults in a few user-friendly ways: only
``true``/``false`` (any case) are booleans, so ``NO`` or ``on`` stay strings (pydantic still
accepts ``yes``/``no``/``on``/``off`` for bool fields); ``1:30`` and leading-zero numbers like
``0755`` stay strings rather than becoming sexagesimal/octal integers; plain ``1e3`` or
``2.5e-3`` are floats. Mapping keys are always strings (the key's text). YAML merge keys
(``<<: *defaults``) are supported with standard semantics (explicit keys win); values reached
through an alias are located at the anchored node.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import enum
import os
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.errors import _MISSING, FieldProblems, Problem, ScenarioError, format_path

__all__ = [
    "Located",
    "Pos",
    "apply_overrides",
    "load_located",
    "load_yaml",
    "parse_set_option",
    "to_yaml",
    "validate",
]

Pos = tuple[str, int, int]
"""``(file, line, col)``, 1-based. ``line == 0`` means "no line" (e.g. a ``--set`` option)."""

M = TypeVar("M", bound=BaseModel)

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_T = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
_TIMESTAMP, _VALUE, _MERGE = _T + "timestamp", _T + "value", _T + "merge"
_MAP, _SEQ = _T + "map", _T + "seq"
_KEY_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP, _VALUE})

_ALLOWED = "only plain YAML: mappings, lists, strings, numbers, booleans, dates, null"
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$")
_OCTAL = re.compile(r"^[-+]?0[0-9_]+$")
_SIMILAR = 0.7  # difflib ratio for "did you mean" (0.6 would suggest "id" for "kind")
_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_OVERRIDE_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)|(\.)")


@dataclass
class Located:
    """Plain YAML data plus where each value came from.

    Attributes:
        data: Plain Python data: dict / list / str / int / float / bool / None / date.
        pos: Path tuple (str keys, int indices) -> position of the value node.
        keypos: Path tuple -> position of the key, for mapping entries.
        files: Files read, in extends order (bases first, the named file last).
    """

    data: Any
    pos: dict[tuple[Any, ...], Pos] = field(default_factory=dict)
    keypos: dict[tuple[Any, ...], Pos] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def position(self, path: Sequence[Any], *, key: bool = False) -> Pos | None:
        """Return the position of ``path``, or of its nearest located ancestor.

        Args:
            path: Data path (str keys, int indices).
            key: Prefer the position of the mapping key rather than of the value.

        Returns:
            The position, or None if nothing on the path is located.
        """
        path = tuple(path)
        if key and path in self.keypos:
            return self.keypos[path]
        while True:
            found = self.pos.get(path)
            if found is not None:
                return found
            if not path:
                return None
            path = path[:-1]

    def problem(
        self, path: Sequence[Any], message: str, value: Any = _MISSING, *, key: bool = False
    ) -> Problem:
        """Build a :class:`Problem` located at ``path``.

        Args:
            path: Data path of the offending value.
            message: What is wrong and what is allowed.
            value: The offending value; omitted from the text when not given.
            key: Locate at the mapping key rather than at the value.

        Returns:
            The located problem.
        """
        return _problem_at(self.position(path, key=key), tuple(path), message, value)


def _problem_at(pos: Pos | None, path: tuple[Any, ...], message: str, value: Any) -> Problem:
    if pos is None:
        return Problem(message, format_path(path), value=value)
    file, line, col = pos
    if line <= 0:
        return Problem(message, format_path(path), file, value=value)
    return Problem(message, format_path(path), file, line, col, value=value)


def _fail(
    file: str, message: str, line: int | None = None, col: int | None = None
) -> ScenarioError:
    return ScenarioError(Problem(message, "", file, line, col))


# --------------------------------------------------------------------------------------------
# Loading one file


def load_yaml(
    path: str | Path,
    *,
    max_bytes: int = 5_000_000,
    max_nodes: int = 200_000,
    max_depth: int = 100,
) -> Located:
    """Load one YAML file as plain data with the position of every value and key.

    ``extends`` is not interpreted here (see :func:`load_located`).

    Args:
        path: The YAML file.
        max_bytes: Refuse larger files before parsing.
        max_nodes: Refuse documents with more nodes than this, counting every repetition
            through aliases (defends against "billion laughs" alias bombs).
        max_depth: Refuse documents nested deeper than this.

    Returns:
        The located data; its top level is always a mapping.

    Raises:
        ScenarioError: The file is missing, too large, not UTF-8, empty, not valid YAML, uses
            tags or duplicate keys, exceeds a limit, or its top level is not a mapping.
    """
    name = str(path)
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise _fail(name, f"file is {size:,} bytes; the limit is {max_bytes:,} bytes")
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise _fail(name, "file not found") from None
    except IsADirectoryError:
        raise _fail(name, "is a directory, not a YAML file") from None
    except OSError as exc:
        raise _fail(name, f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise _fail(name, f"file is over {max_bytes:,} bytes; the limit is {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(
            name,
            f"file is not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            line,
            col,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    builder = _Builder(name, max_nodes, max_depth)
    root = _compose(text, name, max_nodes)
    if root is None or (
        isinstance(root, ScalarNode) and root.tag == _NULL and root.value in _NULL_WORDS
    ):
        raise _fail(name, "the file is empty: expected a mapping (key: value lines)")
    if not isinstance(root, MappingNode):
        builder.run(root)  # reports a disallowed tag, if that is the problem
        kind = "a list" if isinstance(root, SequenceNode) else "a single value"
        raise _fail(
            name,
            f"the top level must be a mapping (key: value lines), not {kind}",
            root.start_mark.line + 1,
            root.start_mark.column + 1,
        )
    data = builder.run(root)
    return Located(data, builder.pos, builder.keypos, [name])


_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def _compose(text: str, name: str, max_nodes: int) -> Node | None:
    """Parse ``text`` into a YAML node graph, turning every parser error into a ScenarioError.

    The text is first scanned as a stream of parser events, refusing it as soon as it holds
    more than ``max_nodes`` nodes: composing a node graph costs far more time and memory than
    the events (a 5 MB flow list of 2.4 million numbers took ~40 s and ~900 MB to compose),
    so a hostile file is stopped before the graph is built. Alias expansion is bounded later
    by :meth:`_Builder._size`.
    """
    try:
        count = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, _NODE_EVENTS):
                count += 1
                if count > max_nodes:
                    mark = event.start_mark
                    raise _fail(
                        name,
                        f"document is too large: more than {max_nodes:,} YAML nodes; the limit "
                        f"is {max_nodes:,} nodes",
                        mark.line + 1,
                        mark.column + 1,
                    )
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = _syntax_message(exc, text)
        if mark is None:
            raise _fail(name, message) from None
        raise _fail(name, message, mark.line + 1, mark.column + 1) from None
    except yaml.reader.ReaderError as exc:
        offset = min(max(exc.position, 0), len(text))
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise _fail(
            name, f"character #x{char:04x} is not allowed in YAML ({exc.reason})", line, col
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - defensive
        raise _fail(name, f"YAML error: {exc}") from None
    except RecursionError:  # pragma: no cover - only with the pure-Python parser
        raise _fail(name, "YAML is nested too deeply") from None


def _syntax_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    problem = (exc.problem or "invalid YAML").strip()
    message = f"YAML syntax error: {problem}"
    cmark, pmark = exc.context_mark, exc.problem_mark
    if exc.context:
        if problem.startswith("but "):
            message = f"YAML syntax error: {exc.context}, {problem}"
        elif cmark is not None and (pmark is None or cmark.line != pmark.line):
            message += f" ({exc.context} at line {cmark.line + 1}, column {cmark.column + 1})"
    if pmark is not None:
        lines = text.splitlines()
        line = lines[pmark.line] if pmark.line < len(lines) else ""
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        at = line[pmark.column : pmark.column + 1]
        if "\t" in indent or at == "\t":
            message += "; YAML does not allow tab characters for indentation; use spaces"
    return message


def _clip(text: str, limit: int = 40) -> str:
    """Shorten text quoted in a message (a 4 MB number must not become a 4 MB message)."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _tag_text(tag: str) -> str:
    return "!!" + tag[len(_T) :] if tag.startswith(_T) else tag


class _Builder:
    """Turn a composed node graph into plain data, recording positions and problems."""

    def __init__(self, file: str, max_nodes: int, max_depth: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.pos: dict[tuple[Any, ...], Pos] = {}
        self.keypos: dict[tuple[Any, ...], Pos] = {}
        self.problems: list[Problem] = []
        self._sizes: dict[int, int] = {}
        self._active: set[int] = set()

    def run(self, root: Node) -> Any:
        try:
            self._size(root, 0)
        except RecursionError:  # pragma: no cover - guarded by max_depth
            raise _fail(self.file, "YAML is nested too deeply") from None
        self._sizes.clear()
        data = self._build(root, ())
        if self.problems:
            raise ScenarioError(self.problems)
        return data

    def _error(self, node: Node, message: str) -> ScenarioError:
        mark = node.start_mark
        return _fail(self.file, message, mark.line + 1, mark.column + 1)

    def _size(self, node: Node, depth: int) -> int:
        """Count nodes as the build will visit them (aliases repeat), memoised per node."""
        key = id(node)
        size = self._sizes.get(key)
        if size is not None:
            return size
        if isinstance(node, ScalarNode):
            size = 1
        else:
            if key in self._active:
                raise self._error(node, "recursive alias: this node contains itself")
            if depth >= self.max_depth:
                raise self._error(
                    node, f"YAML is nested more than {self.max_depth} levels deep (the limit)"
                )
            self._active.add(key)
            size = 1
            if isinstance(node, SequenceNode):
                for child in node.value:
                    size += self._size(child, depth + 1)
            else:
                for knode, vnode in node.value:
                    size += self._size(knode, depth + 1) + self._size(vnode, depth + 1)
            self._active.discard(key)
        if size > self.max_nodes:
            raise self._error(
                node,
                f"document is too large: more than {self.max_nodes:,} YAML nodes once aliases "
                f"(*name) are expanded; the limit is {self.max_nodes:,} nodes",
            )
        self._sizes[key] = size
        return size

    def _bad_tag(self, node: Node, path: tuple[Any, ...]) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(
                f"tag {_tag_text(node.tag)} is not allowed ({_ALLOWED})",
                format_path(path),
                self.file,
                mark.line + 1,
                mark.column + 1,
            )
        )

    def _build(self, node: Node, path: tuple[Any, ...]) -> Any:
        mark = node.start_mark
        self.pos[path] = (self.file, mark.line + 1, mark.column + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                self._bad_tag(node, path)
                return None
            return [self._build(child, (*path, i)) for i, child in enumerate(node.value)]
        if node.tag != _MAP:
            self._bad_tag(node, path)
            return None
        result: dict[str, Any] = {}
        for key, knode, vnode in self._pairs(node, path):
            sub = (*path, key)
            kmark = knode.start_mark
            self.keypos[sub] = (self.file, kmark.line + 1, kmark.column + 1)
            result[key] = self._build(vnode, sub)
        return result

    def _pairs(self, node: MappingNode, path: tuple[Any, ...]) -> list[tuple[str, Node, Node]]:
        """Entries of a mapping, with ``<<`` merges applied (explicit keys win)."""
        explicit: dict[str, tuple[Node, Node]] = {}
        sources: list[MappingNode] = []
        for knode, vnode in node.value:
            if not isinstance(knode, ScalarNode):
                self._key_problem(knode, path, "mapping keys must be plain values, not a list")
                continue
            if knode.tag == _MERGE:
                if isinstance(vnode, MappingNode):
                    sources.append(vnode)
                elif isinstance(vnode, SequenceNode) and all(
                    isinstance(v, MappingNode) for v in vnode.value
                ):
                    sources.extend(vnode.value)
                else:
                    self._key_problem(
                        vnode,
                        path,
                        "the merge key '<<' needs a mapping or a list of mappings, "
                        "e.g. '<<: *defaults'",
                    )
                continue
            if knode.tag not in _KEY_TAGS:
                self._bad_tag(knode, path)
                continue
            key = knode.value
            if key in explicit:
                first = explicit[key][0].start_mark.line + 1
                self._key_problem(
                    knode, (*path, key), f"duplicate key '{key}' (first defined at line {first})"
                )
                continue
            explicit[key] = (knode, vnode)
        if not sources:
            return [(k, kn, vn) for k, (kn, vn) in explicit.items()]
        merged: dict[str, tuple[Node, Node]] = {}
        for source in sources:
            for key, knode, vnode in self._pairs(source, path):
                if key not in explicit:
                    merged.setdefault(key, (knode, vnode))
        merged.update(explicit)
        return [(k, kn, vn) for k, (kn, vn) in merged.items()]

    def _key_problem(self, node: Node, path: tuple[Any, ...], message: str) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(message, format_path(path), self.file, mark.line + 1, mark.column + 1)
        )

    def _scalar(self, node: ScalarNode, path: tuple[Any, ...]) -> Any:
        tag, text = node.tag, node.value
        plain = not node.style  # None (pure-Python parser) or "" (libyaml)
        try:
            if tag == _STR:
                if plain and _EXP_FLOAT.match(text):
                    return float(text.replace("_", ""))
                return text
            if tag == _INT:
                if plain and (":" in text or _OCTAL.match(text)):
                    return text
                return _CONSTRUCTOR.construct_yaml_int(node)
            if tag == _FLOAT:
                if plain and ":" in text:
                    return text
                return _CONSTRUCTOR.construct_yaml_float(node)
            if tag == _BOOL:
                lowered = text.lower()
                return lowered == "true" if lowered in ("true", "false") else text
            if tag == _NULL:
                return None
            if tag == _TIMESTAMP:
                return _CONSTRUCTOR.construct_yaml_timestamp(node)
            if tag in (_VALUE, _MERGE):
                return text
        except (ValueError, TypeError, AttributeError, OverflowError):
            mark = node.start_mark
            self.problems.append(
                Problem(
                    f"cannot read {_clip(text)!r} as {_tag_text(tag)}",
                    format_path(path),
                    self.file,
                    mark.line + 1,
                    mark.column + 1,
                )
            )
            return None
        self._bad_tag(node, path)
        return None


# --------------------------------------------------------------------------------------------
# extends


def load_located(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    origin: str = "--set",
    max_bytes: int = 5_000_000,
    max_nodes: int = 200_000,
) -> Located:
    """Load a scenario file, resolve ``extends:`` and apply overrides.

    ``extends: base.yaml`` (or a list of files, applied in order; paths relative to the
    including file) deep-merges the file onto its base(s): mappings merge key by key with the
    including file winning (except that a mapping with a different ``kind:`` than the base's,
    e.g. another distribution, replaces it whole). Lists whose items are all mappings with
    an ``id`` (or, for policy regimes, a ``name``), in both files, merge item by item: an
    item merges onto the inherited item with the same id, in its place; new ids are
    appended in order; ``{id: X, $remove: true}`` deletes the inherited item. Other lists
    (and an empty list, which clears) and scalars are replaced whole. Positions follow the
    winning value, so an inherited value is located in the base file. The ``extends`` key
    is removed.

    Args:
        path: The scenario file.
        overrides: ``{"dotted.path": value}`` applied last (see :func:`apply_overrides`).
        origin: Prefix naming where overrides came from in messages.
        max_bytes: Per-file size limit (see :func:`load_yaml`).
        max_nodes: Per-file node limit (see :func:`load_yaml`).

    Returns:
        The merged, overridden data with positions; ``files`` lists every file read.

    Raises:
        ScenarioError: Any file fails to load, an extends target is missing or cyclic, or an
            override path is invalid.
    """
    loc = _load_extends(str(path), [], {}, max_bytes, max_nodes)
    if overrides:
        loc = apply_overrides(loc, overrides, origin)
    return loc


def _load_extends(
    name: str,
    chain: list[tuple[str, str]],
    cache: dict[str, Located],
    max_bytes: int,
    max_nodes: int,
) -> Located:
    real = os.path.realpath(name)
    if real in cache:
        return cache[real]
    loc = load_yaml(name, max_bytes=max_bytes, max_nodes=max_nodes)
    data = loc.data
    if "extends" not in data:
        cache[real] = loc
        return loc
    chain = [*chain, (real, name)]
    value = data["extends"]
    items: list[tuple[tuple[Any, ...], Any]]
    if isinstance(value, list) and value:
        items = [(("extends", i), v) for i, v in enumerate(value)]
    else:
        items = [(("extends",), value)]
    merged: Located | None = None
    for where, target in items:
        if not isinstance(target, str) or not target.strip():
            raise ScenarioError(
                loc.problem(where, "extends must be a file name or a list of file names", target)
            )
        base_name = os.path.normpath(os.path.join(os.path.dirname(name), target))
        base_real = os.path.realpath(base_name)
        reals = [r for r, _ in chain]
        if base_real in reals:
            start = reals.index(base_real)
            names = [n for _, n in chain[start:]] + [chain[start][1]]
            raise ScenarioError(loc.problem(where, "extends cycle: " + " -> ".join(names)))
        if not os.path.isfile(base_name):
            what = "is not a file" if os.path.exists(base_name) else "file not found"
            raise ScenarioError(loc.problem(where, f"extends: {what}: {base_name}"))
        base = _load_extends(base_name, chain, cache, max_bytes, max_nodes)
        merged = base if merged is None else _merge(merged, base)
    assert merged is not None
    child = Located(
        {k: v for k, v in data.items() if k != "extends"},
        {p: v for p, v in loc.pos.items() if p[:1] != ("extends",)},
        {p: v for p, v in loc.keypos.items() if p[:1] != ("extends",)},
        loc.files,
    )
    result = _merge(merged, child)
    cache[real] = result
    return result


REMOVE = "$remove"
"""Key of a list item in an including file that deletes the inherited item with the
same id (``- {id: us_defense_prime, $remove: true}``)."""


def _merge(base: Located, child: Located) -> Located:
    """Deep-merge ``child`` onto ``base``: mappings merge key by key, lists of named
    items (every item a mapping with an ``id`` or ``name``) merge item by item, anything
    else is replaced."""
    out = Located(None, {}, {}, list(dict.fromkeys([*base.files, *child.files])))
    out.data = _merge_value(base, child, base.data, child.data, (), (), (), out)
    return out


def _merge_value(
    base: Located,
    child: Located,
    bval: Any,
    cval: Any,
    bpath: tuple[Any, ...],
    cpath: tuple[Any, ...],
    opath: tuple[Any, ...],
    out: Located,
) -> Any:
    if isinstance(bval, list) and isinstance(cval, list) and _keyed(bval) and _keyed(cval):
        return _merge_list(base, child, bval, cval, bpath, cpath, opath, out)
    if not (isinstance(bval, dict) and isinstance(cval, dict)) or _other_kind(bval, cval):
        _copy_positions(child, cval, cpath, opath, out)
        return cval
    if cpath in child.pos:
        out.pos[opath] = child.pos[cpath]
    result: dict[str, Any] = {}
    for key, value in bval.items():
        bsub, csub, osub = (*bpath, key), (*cpath, key), (*opath, key)
        if key in cval:
            if csub in child.keypos:
                out.keypos[osub] = child.keypos[csub]
            result[key] = _merge_value(base, child, value, cval[key], bsub, csub, osub, out)
        else:
            if bsub in base.keypos:
                out.keypos[osub] = base.keypos[bsub]
            _copy_positions(base, value, bsub, osub, out)
            result[key] = value
    for key, value in cval.items():
        if key not in bval:
            csub, osub = (*cpath, key), (*opath, key)
            if csub in child.keypos:
                out.keypos[osub] = child.keypos[csub]
            _copy_positions(child, value, csub, osub, out)
            result[key] = value
    return result


def _item_key(item: dict[str, Any]) -> Any:
    """The name of a list item: its ``id`` (entities) or ``name`` (policy regimes), the
    same names ``--set manufacturers[us_automaker]...`` selects by."""
    return item["id"] if "id" in item else item["name"]


def _keyed(items: list[Any]) -> bool:
    """A non-empty list whose items are all mappings with an ``id`` or a ``name``."""
    return bool(items) and all(isinstance(x, dict) and ("id" in x or "name" in x) for x in items)


def _merge_list(
    base: Located,
    child: Located,
    bval: list[Any],
    cval: list[Any],
    bpath: tuple[Any, ...],
    cpath: tuple[Any, ...],
    opath: tuple[Any, ...],
    out: Located,
) -> list[Any]:
    """Merge a list of named items: an item of the including file merges onto the
    inherited item of the same name (in the inherited position), new names are appended
    in order, and ``$remove: true`` deletes the inherited item."""
    changes: dict[Any, tuple[int, dict[str, Any]]] = {}
    for ci, item in enumerate(cval):
        key = _item_key(item)
        if key in changes:
            raise ScenarioError(
                child.problem(
                    (*cpath, ci),
                    f"a second item named {key!r} in this list; an including file names "
                    "each inherited item once",
                )
            )
        changes[key] = (ci, item)
    inherited = {_item_key(item) for item in bval}
    result: list[Any] = []
    if cpath in child.pos:
        out.pos[opath] = child.pos[cpath]
    for bi, item in enumerate(bval):
        key = _item_key(item)
        osub = (*opath, len(result))
        if key not in changes:
            _copy_positions(base, item, (*bpath, bi), osub, out)
            result.append(item)
            continue
        ci, citem = changes[key]
        if _removes(child, citem, (*cpath, ci)):
            continue
        result.append(_merge_value(base, child, item, citem, (*bpath, bi), (*cpath, ci), osub, out))
    for key, (ci, citem) in changes.items():
        if key in inherited:
            continue
        if REMOVE in citem:
            raise ScenarioError(
                child.problem(
                    (*cpath, ci, REMOVE),
                    f"nothing named {key!r} is inherited, so there is nothing to remove "
                    f"(inherited: {', '.join(str(k) for k in sorted(inherited, key=str))})",
                    key=True,
                )
            )
        _copy_positions(child, citem, (*cpath, ci), (*opath, len(result)), out)
        result.append(citem)
    return result


def _removes(child: Located, item: dict[str, Any], path: tuple[Any, ...]) -> bool:
    if REMOVE not in item:
        return False
    if item[REMOVE] is not True:
        raise ScenarioError(child.problem((*path, REMOVE), f"{REMOVE} must be true", item[REMOVE]))
    extra = sorted(k for k in item if k not in (REMOVE, "id", "name"))
    if extra:
        raise ScenarioError(
            child.problem(
                (*path, extra[0]),
                f"an item with {REMOVE}: true is deleted, so it takes only its id or name "
                f"(found {', '.join(extra)})",
                key=True,
            )
        )
    return True


def _other_kind(bval: dict[str, Any], cval: dict[str, Any]) -> bool:
    """Does the child mapping choose another ``kind:`` (distribution, policy) than the base?

    Then it replaces the base mapping whole: merging ``{kind: exponential, mean: 3}`` onto
    ``{kind: gamma, mean: 4, sd: 2}`` would keep ``sd`` and fail as an unknown key located
    in the base file, which the author of the child never wrote.
    """
    return "kind" in bval and "kind" in cval and bval["kind"] != cval["kind"]


def _copy_positions(
    src: Located, value: Any, spath: tuple[Any, ...], opath: tuple[Any, ...], out: Located
) -> None:
    """Locate ``value`` (at ``spath`` in ``src``) at ``opath`` in ``out``."""
    if spath in src.pos:
        out.pos[opath] = src.pos[spath]
    if isinstance(value, dict):
        for key, sub_value in value.items():
            ssub, osub = (*spath, key), (*opath, key)
            if ssub in src.keypos:
                out.keypos[osub] = src.keypos[ssub]
            _copy_positions(src, sub_value, ssub, osub, out)
    elif isinstance(value, list):
        for i, sub_value in enumerate(value):
            _copy_positions(src, sub_value, (*spath, i), (*opath, i), out)


# --------------------------------------------------------------------------------------------
# Overrides


def parse_set_option(text: str) -> tuple[str, Any]:
    """Parse a ``--set KEY=VALUE`` option.

    The value is read as a YAML scalar with the same safe rules as scenario files
    (``30`` -> 30, ``0.5`` -> 0.5, ``true`` -> True, ``null`` -> None, ``2025-01-01`` -> a
    date, ``"30"`` -> the string). Values starting with ``[`` or ``{`` are YAML flow lists /
    mappings; a value starting with ``!`` (a YAML tag) is refused. Anything else that is not
    a plain scalar (e.g. ``a: b``) stays a string, and an empty value is the empty string.

    Args:
        text: ``KEY=VALUE`` as typed on the command line.

    Returns:
        ``(key, value)``.

    Raises:
        ScenarioError: No ``=``, an empty key, or an unparseable flow value.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    label = f"--set {text}"
    if not sep:
        raise ScenarioError(Problem("expected KEY=VALUE, e.g. authority.reviewers=30", "", label))
    if not key:
        raise ScenarioError(Problem("the KEY in KEY=VALUE is empty", "", label))
    stripped = raw.strip()
    if not stripped:
        return key, ""
    flow = stripped[0] in "[{!"  # flow collections and tags are parsed strictly
    try:
        value = _parse_value(stripped, label)
    except ScenarioError as exc:
        if flow:  # positions inside a one-line option are noise: name the option only
            raise ScenarioError([Problem(p.message, p.path, label) for p in exc.problems]) from None
        return key, raw
    if not flow and (
        isinstance(value, dict | list) or (value is None and stripped not in _NULL_WORDS)
    ):
        return key, raw
    return key, value


def _parse_value(text: str, label: str) -> Any:
    root = _compose(text, label, 10_000)
    if root is None:
        return None
    builder = _Builder(label, 10_000, 50)
    return builder.run(root)


def apply_overrides(
    loc: Located, overrides: Mapping[str, Any], origin: str = "<override>"
) -> Located:
    """Set values by path, as from ``--set`` options; the input is not modified.

    Paths are dotted with optional list selectors: ``authority.reviewers``,
    ``manufacturers[0].initial_cover_days``, ``manufacturers.0.initial_cover_days``, or by
    element id: ``manufacturers[us_automaker].initial_cover_days`` (the list element that is a
    mapping with ``id: us_automaker``). Missing (or null) intermediate mappings are created.
    Overridden values are located at ``(f"{origin} {path}={value}", 0, 0)``, so problems print
    as ``--set authority.reviewers=abc: authority.reviewers: ...``.

    Args:
        loc: Loaded data.
        overrides: ``{"path": value}``, applied in order.
        origin: Prefix of the pseudo file name used to locate overridden values.

    Returns:
        A new Located with the overrides applied.

    Raises:
        ScenarioError: A path is malformed, an index is out of range, an id is not found, or
            the path goes through a value that is not a mapping or list.
    """
    out = Located(copy.deepcopy(loc.data), dict(loc.pos), dict(loc.keypos), list(loc.files))
    for text, value in overrides.items():
        label = f"{origin} {text}={_render(value)}" if origin else f"{text}={_render(value)}"
        _apply_one(out, text, copy.deepcopy(value), label)
    return out


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float | date):
        return str(value) if not isinstance(value, datetime) else value.isoformat()
    try:
        text = yaml.safe_dump(_plain(value), default_flow_style=True, width=10**6)
    except (yaml.YAMLError, TypeError):
        return repr(value)
    text = text.strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def _parse_override_path(text: str, label: str) -> list[str]:
    """Split ``a.b[0][x].c`` into ``["a", "b", "0", "x", "c"]``."""
    tokens: list[str] = []
    pos = 0
    expect_name = True
    bad = ScenarioError(
        Problem(
            f"cannot read the path {text!r}: use names separated by dots, with [index] or "
            "[id] for list elements, e.g. manufacturers[0].initial_cover_days",
            "",
            label,
        )
    )
    while pos < len(text):
        match = _OVERRIDE_TOKEN.match(text, pos)
        if match is None:
            raise bad
        bracket, name, dot = match.groups()
        if dot is not None:
            if expect_name:
                raise bad
            expect_name = True
        elif name is not None:
            if not expect_name:
                raise bad
            tokens.append(name.strip())
            expect_name = False
        else:
            if not tokens or expect_name or not bracket.strip():
                raise bad
            tokens.append(bracket.strip().strip("'\""))
        pos = match.end()
    if not tokens or expect_name:
        raise bad
    return tokens


def _apply_one(loc: Located, text: str, value: Any, label: str) -> None:
    tokens = _parse_override_path(text, label)
    pos: Pos = (label, 0, 0)

    def fail(path: tuple[Any, ...], message: str) -> ScenarioError:
        return ScenarioError(Problem(message, format_path(path), label))

    parent: Any = None
    node: Any = loc.data
    path: tuple[Any, ...] = ()
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if node is None and parent is not None:
            node = {}
            parent[path[-1]] = node
            loc.pos[path] = pos
        if isinstance(node, dict):
            step: Any = token
            if not last and step not in node:
                node[step] = {}
                loc.pos[(*path, step)] = pos
                loc.keypos[(*path, step)] = pos
        elif isinstance(node, list):
            if token.lstrip("-").isdigit():
                step = int(token)
                if not 0 <= step < len(node):
                    raise fail(
                        path,
                        f"index {step} is out of range ({format_path(path) or 'the list'} has "
                        f"{len(node)} item{'s' if len(node) != 1 else ''})",
                    )
            else:
                # list elements are named by `id` (entities) or `name` (regimes)
                ids = [e.get("id", e.get("name")) for e in node if isinstance(e, dict)]
                matches = [
                    j
                    for j, e in enumerate(node)
                    if isinstance(e, dict) and str(e.get("id", e.get("name"))) == token
                ]
                if not matches:
                    known = ", ".join(str(x) for x in ids if x is not None) or "none"
                    raise fail(path, f"no element with id '{token}' (ids: {known})")
                step = matches[0]
        else:
            what = _describe(node)
            raise fail(
                path,
                f"cannot set {text!r}: {format_path(path) or 'the top level'} is {what}, "
                "not a mapping or list",
            )
        parent, path = node, (*path, step)
        if last:
            # Drop positions of the replaced subtree, then locate everything new at the option.
            for table in (loc.pos, loc.keypos):
                for p in [p for p in table if p[: len(path)] == path]:
                    del table[p]
            node[step] = value
            _locate_all(loc, value, path, pos)
        else:
            node = node[step]


def _locate_all(loc: Located, value: Any, path: tuple[Any, ...], pos: Pos) -> None:
    loc.pos[path] = pos
    if path and isinstance(path[-1], str):
        loc.keypos[path] = pos
    if isinstance(value, dict):
        for key, sub in value.items():
            _locate_all(loc, sub, (*path, key), pos)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _locate_all(loc, sub, (*path, i), pos)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, date):
        return f"a date ({value})"
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------
# Validation


def validate(
    loc: Located,
    model: type[M],
    *,
    extra_checks: Callable[[Any], list[tuple[tuple[Any, ...], str, Any]]] | None = None,
) -> M:
    """Validate located data with a pydantic model, reporting every problem with its position.

    Each pydantic error becomes a :class:`Problem` at the offending value (at the key for
    unknown keys, at the enclosing mapping for missing fields), with a friendlier message:
    unknown keys get a "did you mean" suggestion and the allowed names, a bad discriminator
    tag lists the allowed tags. A :class:`~simulator.errors.FieldProblems` raised by a
    validator is expanded into one problem per entry. ``extra_checks(loc.data)`` is then run
    (even if the model failed; if it raises on data the model already rejected, that is
    ignored) and its ``(path, message, value)`` triples are added, skipping duplicates.

    Args:
        loc: Data from :func:`load_located` / :func:`load_yaml`.
        model: Any pydantic model class.
        extra_checks: Optional cross-reference checks on the raw data.

    Returns:
        The validated model instance.

    Raises:
        ScenarioError: With every problem found, sorted by file, line and column (at most
            :data:`MAX_PROBLEMS`, then one problem counting the rest).
    """
    problems: list[Problem] = []
    instance: M | None = None
    failed = False
    skipped = 0  # a file of 100,000 unknown keys must not take a minute to report
    try:
        instance = model.model_validate(loc.data)
    except ValidationError as exc:
        failed = True
        errors = exc.errors(include_url=False)
        skipped += max(0, len(errors) - MAX_PROBLEMS)
        for err in errors[:MAX_PROBLEMS]:
            problems.extend(_convert_error(loc, model, err))
    if extra_checks is not None:
        try:
            extra = extra_checks(loc.data)
        except Exception:
            if not failed:
                raise
            extra = []
        skipped += max(0, len(extra) - MAX_PROBLEMS)
        for entry in extra[:MAX_PROBLEMS]:
            path, message = tuple(entry[0]), entry[1]
            value = entry[2] if len(entry) > 2 else _MISSING
            problems.append(loc.problem(path, message, value))
    if problems:
        found = _sort_dedupe(problems, loc.files)
        skipped += max(0, len(found) - MAX_PROBLEMS)
        found = found[:MAX_PROBLEMS]
        if skipped:
            found.append(
                Problem(
                    f"{skipped:,} more problem(s) not shown (at most {MAX_PROBLEMS} are "
                    "reported at once); fix these first",
                    "",
                    loc.files[-1] if loc.files else None,
                )
            )
        raise ScenarioError(found)
    assert instance is not None
    return instance


MAX_PROBLEMS = 100
"""At most this many problems are reported per validation (then a count of the rest)."""

_MISSING_RE = re.compile(r"^required field '([^']+)' is missing")
_SUGGEST_RE = re.compile(r"did you mean '([^']+)'")


def _sort_dedupe(problems: list[Problem], files: list[str]) -> list[Problem]:
    # a misspelt key already says "did you mean 'x'": drop the echoing "x is missing"
    suggested = set()
    for p in problems:
        m = _SUGGEST_RE.search(p.message)
        if m:
            parent = p.path.rsplit(".", 1)[0] if "." in p.path else ""
            suggested.add((parent, m.group(1)))
    seen: set[tuple[str, str]] = set()
    unique: list[Problem] = []
    for p in problems:
        m = _MISSING_RE.match(p.message)
        if m and (p.path, m.group(1)) in suggested:
            continue
        if (p.path, p.message) in seen:
            continue
        seen.add((p.path, p.message))
        unique.append(p)
    rank = {name: i for i, name in enumerate(files)}

    def key(p: Problem) -> tuple[Any, ...]:
        if p.file is None:
            return (len(rank) + 1, "", 0, 0, p.path)
        return (rank.get(p.file, len(rank)), p.file, p.line or 0, p.col or 0, p.path)

    return sorted(unique, key=key)


def _data_path(data: Any, loc: Sequence[Any]) -> tuple[Any, ...]:
    """Follow a pydantic ``loc`` through the data, skipping elements that are not in it."""
    path: list[Any] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = (
            isinstance(node, list)
            and isinstance(part, int)
            and not isinstance(part, bool)
            and 0 <= part < len(node)
        )
        if in_dict or in_list:
            node = node[part]
            path.append(part)
    return tuple(path)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _convert_error(loc: Located, model: type[BaseModel], err: Mapping[str, Any]) -> list[Problem]:
    kind: str = err["type"]
    eloc: tuple[Any, ...] = tuple(err["loc"])
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    value = err.get("input", _MISSING)
    msg: str = err["msg"]

    error = ctx.get("error")
    if isinstance(error, FieldProblems):
        out = []
        for entry in error.problems:
            rel = tuple(entry[0]) if isinstance(entry[0], tuple | list) else (entry[0],)
            sub_value = entry[2] if len(entry) > 2 else _MISSING
            path = (*_data_path(loc.data, eloc), *rel)
            out.append(_located(loc, path, str(entry[1]), sub_value))
        return out

    path = _data_path(loc.data, eloc)
    if kind == "missing":
        name = eloc[-1] if eloc else "?"
        return [_located(loc, path, f"required field '{name}' is missing", _MISSING)]
    if kind == "extra_forbidden":
        name = str(eloc[-1]) if eloc else "?"
        allowed = _allowed_names(model, eloc[:-1])
        message = f"unknown key '{name}'"
        if allowed:
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=_SIMILAR)
            if close:
                message += f"; did you mean '{close[0]}'?"
            message += f" (allowed: {', '.join(allowed)})"
        return [_located(loc, path, message, value, key=True)]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        disc = str(ctx.get("discriminator", "")).strip("'\"")
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        if not tags:
            tags = _allowed_tags(model, eloc, disc)
        allowed = f" (allowed: {', '.join(repr(t) for t in tags)})" if tags else ""
        node = _get(loc.data, path)
        if kind == "union_tag_not_found" or not isinstance(node, dict) or disc not in node:
            return [_located(loc, path, f"required field '{disc}' is missing{allowed}", _MISSING)]
        tag = node[disc]
        message = f"unknown {disc} {str(tag)!r}"
        close = difflib.get_close_matches(str(tag), tags, n=1, cutoff=_SIMILAR)
        if close:
            message += f"; did you mean '{close[0]}'?"
        return [_located(loc, (*path, disc), message + allowed, tag)]

    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = "expected a mapping (key: value lines)"
    elif kind in ("literal_error", "enum") and isinstance(value, str):
        choices = [str(c) for c in _allowed_values(model, eloc)]
        close = difflib.get_close_matches(value, choices, n=1, cutoff=_SIMILAR)
        if close:
            msg += f"; did you mean '{close[0]}'?"
    if isinstance(value, dict):
        value = _MISSING  # the whole mapping is noise in a one-line message
    return [_located(loc, path, msg, value)]


def _located(
    loc: Located, path: tuple[Any, ...], message: str, value: Any, *, key: bool = False
) -> Problem:
    return _problem_at(loc.position(path, key=key), path, message, value)


# Walking the model's types along a pydantic loc, to know what is allowed there.


def _flatten(tp: Any) -> list[Any]:
    """Concrete alternatives of a type: strips Annotated / Optional, expands unions."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _flatten(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in get_args(tp):
            if arg is not type(None):
                out.extend(_flatten(arg))
        return out
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _field_type(model: type[BaseModel], name: str) -> Any:
    for fname, info in model.model_fields.items():
        aliases = {fname, info.alias, info.validation_alias}
        if name in aliases:
            return info.annotation
    return _MISSING


def _literal_values(tp: Any) -> list[Any]:
    out: list[Any] = []
    for alt in _flatten(tp):
        if get_origin(alt) is Literal:
            out.extend(get_args(alt))
        elif isinstance(alt, type) and issubclass(alt, enum.Enum):
            out.extend(m.value for m in alt)
    return out


def _matches_member(tp: Any, part: str) -> bool:
    """Is ``part`` the tag or name pydantic uses for union member ``tp``?"""
    if _is_model(tp):
        if tp.__name__ == part:
            return True
        return any(
            part in {str(v) for v in _literal_values(info.annotation)}
            for info in tp.model_fields.values()
        )
    return getattr(tp, "__name__", None) == part or str(tp) == part


def _step(cands: list[Any], part: Any) -> list[Any]:
    flat = [alt for tp in cands for alt in _flatten(tp)]
    if isinstance(part, str):
        if len(flat) > 1:
            narrowed = [alt for alt in flat if _matches_member(alt, part)]
            if narrowed:
                return narrowed
        found = [_field_type(m, part) for m in flat if _is_model(m)]
        found = [f for f in found if f is not _MISSING]
        if found:
            return found
        for alt in flat:
            if get_origin(alt) in (dict, Mapping) and len(get_args(alt)) == 2:
                return [get_args(alt)[1]]
        narrowed = [alt for alt in flat if _matches_member(alt, part)]
        return narrowed or cands
    if isinstance(part, int):
        for alt in flat:
            origin = get_origin(alt)
            args = get_args(alt)
            if origin in (list, set, frozenset, Sequence) and args:
                return [args[0]]
            if origin is tuple and args:
                if len(args) == 2 and args[1] is Ellipsis:
                    return [args[0]]
                return [args[part]] if 0 <= part < len(args) else cands
            if origin in (dict, Mapping) and len(args) == 2:
                return [args[1]]
    return cands


def _types_at(model: type[BaseModel], loc: Sequence[Any]) -> list[Any]:
    cands: list[Any] = [model]
    for part in loc:
        cands = _step(cands, part)
    return [alt for tp in cands for alt in _flatten(tp)]


def _allowed_names(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    names: list[str] = []
    for tp in _types_at(model, loc):
        if _is_model(tp):
            config = tp.model_config
            by_name = bool(config.get("populate_by_name") or config.get("validate_by_name"))
            for fname, info in tp.model_fields.items():
                valias = info.validation_alias if isinstance(info.validation_alias, str) else None
                alias = info.alias or valias
                for name in (alias, fname if by_name or not alias else None):
                    if name is not None and name not in names:
                        names.append(name)
    return names


def _allowed_tags(model: type[BaseModel], loc: Sequence[Any], disc: str) -> list[str]:
    tags: list[str] = []
    for tp in _types_at(model, loc):
        if _is_model(tp):
            ftype = _field_type(tp, disc)
            if ftype is not _MISSING:
                tags.extend(str(v) for v in _literal_values(ftype))
    return tags


def _allowed_values(model: type[BaseModel], loc: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for tp in _types_at(model, loc):
        out.extend(_literal_values(tp))
    return out


# --------------------------------------------------------------------------------------------
# Dumping


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="python", by_alias=True))
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, str | bool | int | float | date):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _plain(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return _plain(value.tolist())
    raise TypeError(f"cannot write {type(value).__name__} to YAML: {value!r}")


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe dumper (libyaml when available: several times faster) that quotes strings this
    module would read back as something else: plain ``1e3`` is a float here, not YAML 1.1's
    string."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _EXP_FLOAT.match(value):
        return dumper.represent_scalar(_STR, value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    """Dump plain data (or a pydantic model) to block-style YAML, keeping key order.

    Dates are written as ISO ``YYYY-MM-DD``; tuples/sets become lists, enums their values.
    Used for ``scenario.resolved.yaml``; the output loads back to the same data.

    Args:
        data: Plain data as produced by :func:`load_located`, or a pydantic model.

    Returns:
        YAML text.

    Raises:
        TypeError: ``data`` contains a value with no YAML form.
    """
    return yaml.dump(
        _plain(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
