"""Composing a scenario from files: ``extends:`` and ``--set`` overrides, positions kept.

``extends: base.yaml`` (or a list of files) deep-merges a file onto its base(s); lists of
named items (with an ``id``, or a ``name`` for regimes) merge item by item. ``--set
key.path=value`` options set values by dotted path, with ``[index]`` or ``[id]`` for
list items. Every value keeps the position it came from, so a problem found after
composing is still reported at ``file:line:col`` (or at the ``--set`` option).

Containment: every file ``extends:`` names must resolve (symbolic links followed)
inside the folder of the scenario file named on the command line, or inside a folder
allowed explicitly (``--allow-path``, ``allow=``); anything else is refused with a
located problem naming the path, before it is opened (:func:`scenario_roots`,
:func:`outside_roots`). Chains are at most :attr:`Limits.MAX_EXTENDS_DEPTH` deep and
:attr:`Limits.MAX_EXTENDS_FILES` files wide.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import Problem, ScenarioError, clean, format_path
from simulator.limits import Limits
from simulator.scenario.dump import plain
from simulator.scenario.located import Located, Pos
from simulator.scenario.reading import NULL_WORDS, Builder, compose_text, load_yaml

__all__ = [
    "EXTENSION_PREFIX",
    "REMOVE",
    "apply_overrides",
    "drop_extensions",
    "load_located",
    "outside_roots",
    "override_tokens",
    "parse_set_option",
    "scenario_roots",
]

LABEL_CHARS = 200
"""A ``--set`` option is named in messages by at most this many characters."""


# --------------------------------------------------------------------------------------------
# Containment


def scenario_roots(path: str | Path, allow: Sequence[str | Path] = ()) -> list[str]:
    """Folders a scenario may read files from: its own folder (of the file as named,
    not of a symbolic link's target), then the allowed ones; each fully resolved.

    Args:
        path: The scenario file named on the command line.
        allow: Further folders (``--allow-path``).
    """
    own = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    return list(dict.fromkeys([own, *(os.path.realpath(a) for a in allow)]))


def outside_roots(path: str | Path, roots: Sequence[str]) -> str | None:
    """None when ``path`` (symbolic links resolved) lies inside one of ``roots``; else
    a sentence saying where it leads, for a message.

    Args:
        path: A file a scenario refers to.
        roots: From :func:`scenario_roots`.
    """
    real = os.path.realpath(path)
    for root in roots:
        prefix = root if root.endswith(os.sep) else root + os.sep
        if real == root or real.startswith(prefix):
            return None
    via = "" if real == os.path.abspath(path) else f" (a symbolic link to {real})"
    allowed = " or ".join(roots)
    return (
        f"{path}{via} is outside {allowed}; a scenario reads files only under its own "
        "folder (add one with --allow-path DIR)"
    )


_OVERRIDE_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)|(\.)")


# --------------------------------------------------------------------------------------------
# extends


@dataclass
class _Reader:
    """What every step of one ``extends:`` resolution shares."""

    roots: list[str]
    fields: Collection[str] | None
    max_bytes: int
    max_nodes: int
    cache: dict[str, Located] = field(default_factory=dict)


def load_located(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    origin: str = "--set",
    max_bytes: int = Limits.MAX_SCENARIO_BYTES,
    max_nodes: int = Limits.MAX_YAML_NODES,
    allow: Sequence[str | Path] = (),
    fields: Collection[str] | None = None,
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
        allow: Folders besides the scenario's own that ``extends:`` may reach.
        fields: Top-level keys of the format; a file with none of them is refused
            without quoting it (see :func:`load_yaml`).

    Returns:
        The merged, overridden data with positions; ``files`` lists every file read.

    Raises:
        ScenarioError: Any file fails to load, an extends target is outside the allowed
            folders, missing or cyclic, the chain is too long, or an override path is
            invalid.
    """
    reader = _Reader(scenario_roots(path, allow), fields, max_bytes, max_nodes)
    loc = drop_extensions(_load_extends(str(path), [], reader))
    if overrides:
        loc = apply_overrides(loc, overrides, origin)
    return loc


def _load_extends(name: str, chain: list[tuple[str, str]], reader: _Reader) -> Located:
    real = os.path.realpath(name)
    cache = reader.cache
    if real in cache:
        return cache[real]
    loc = load_yaml(
        name, max_bytes=reader.max_bytes, max_nodes=reader.max_nodes, fields=reader.fields
    )
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
    if len(items) > Limits.MAX_EXTENDS_FILES:
        raise ScenarioError(
            loc.problem(
                ("extends",),
                f"extends lists {len(items)} files; at most {Limits.MAX_EXTENDS_FILES} "
                "(Limits.MAX_EXTENDS_FILES)",
            )
        )
    if len(chain) >= Limits.MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            loc.problem(
                ("extends",),
                f"extends chain is more than {Limits.MAX_EXTENDS_DEPTH} files deep "
                "(Limits.MAX_EXTENDS_DEPTH)",
            )
        )
    for where, target in items:
        if not isinstance(target, str) or not target.strip():
            raise ScenarioError(
                loc.problem(where, "extends must be a file name or a list of file names", target)
            )
        if len(cache) + len(chain) >= Limits.MAX_EXTENDS_FILES:
            raise ScenarioError(
                loc.problem(
                    where,
                    f"extends reaches more than {Limits.MAX_EXTENDS_FILES} files "
                    "(Limits.MAX_EXTENDS_FILES)",
                )
            )
        base_name = os.path.normpath(os.path.join(os.path.dirname(name), target))
        away = outside_roots(base_name, reader.roots)
        if away is not None:
            raise ScenarioError(loc.problem(where, f"extends: {away}"))
        base_real = os.path.realpath(base_name)
        reals = [r for r, _ in chain]
        if base_real in reals:
            start = reals.index(base_real)
            names = [n for _, n in chain[start:]] + [chain[start][1]]
            raise ScenarioError(loc.problem(where, "extends cycle: " + " -> ".join(names)))
        if not os.path.isfile(base_name):
            what = "is not a file" if os.path.exists(base_name) else "file not found"
            raise ScenarioError(loc.problem(where, f"extends: {what}: {base_name}"))
        base = _load_extends(base_name, chain, reader)
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


EXTENSION_PREFIX = "x-"
"""Top-level keys starting with this are not part of the scenario: a place to define YAML
anchors shared by several items (``x-defaults: &bg {...}`` then ``<<: *bg``)."""


def drop_extensions(loc: Located) -> Located:
    """The data without its top-level ``x-`` keys (and their positions)."""
    if not isinstance(loc.data, dict) or not any(
        isinstance(k, str) and k.startswith(EXTENSION_PREFIX) for k in loc.data
    ):
        return loc

    def keep(p: tuple[Any, ...]) -> bool:
        return not (p and isinstance(p[0], str) and p[0].startswith(EXTENSION_PREFIX))

    return Located(
        {k: v for k, v in loc.data.items() if keep((k,))},
        {p: v for p, v in loc.pos.items() if keep(p)},
        {p: v for p, v in loc.keypos.items() if keep(p)},
        loc.files,
    )


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
    label = f"--set {clean(text, LABEL_CHARS)}"
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
        isinstance(value, dict | list) or (value is None and stripped not in NULL_WORDS)
    ):
        return key, raw
    return key, value


def _parse_value(text: str, label: str) -> Any:
    root = compose_text(text, label, Limits.MAX_SET_VALUE_NODES)
    if root is None:
        return None
    builder = Builder(label, Limits.MAX_SET_VALUE_NODES, Limits.MAX_SET_VALUE_DEPTH)
    return builder.run(root)


def apply_overrides(
    loc: Located, overrides: Mapping[str, Any], origin: str = "<override>", *, share: bool = False
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
        share: Copy only the mappings and lists on the overridden paths; the rest of the
            result is the input's own (cheaper when the data is large and the result is
            only validated: the caller must not modify it in place off those paths).

    Returns:
        A new Located with the overrides applied.

    Raises:
        ScenarioError: A path is malformed, an index is out of range, an id is not found, or
            the path goes through a value that is not a mapping or list.
    """
    data = copy.copy(loc.data) if share else copy.deepcopy(loc.data)
    copied = {id(data)} if share else None
    out = Located(data, dict(loc.pos), dict(loc.keypos), list(loc.files))
    for text, value in overrides.items():
        label = clean(f"{text}={_render(value)}", LABEL_CHARS)
        label = f"{origin} {label}" if origin else label
        _apply_one(out, text, copy.deepcopy(value), label, copied)
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
        text = yaml.safe_dump(plain(value), default_flow_style=True, width=10**6)
    except (yaml.YAMLError, TypeError):
        return repr(value)
    text = text.strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def override_tokens(text: str, label: str) -> list[str]:
    """Split an override path as :func:`apply_overrides` reads it: ``a.b[0][x].c`` ->
    ``["a", "b", "0", "x", "c"]`` (list selectors stay text: an index or an id).

    Args:
        text: The dotted path.
        label: Where the path came from, used as the location of a problem.

    Raises:
        ScenarioError: The path cannot be read.
    """
    return _parse_override_path(text, label)


def _parse_override_path(text: str, label: str) -> list[str]:
    """Split ``a.b[0][x].c`` into ``["a", "b", "0", "x", "c"]`` (at most
    :attr:`Limits.MAX_SET_PATH_PARTS` parts of :attr:`Limits.MAX_SET_PATH_CHARS`
    characters in all)."""
    if len(text) > Limits.MAX_SET_PATH_CHARS:
        raise ScenarioError(
            Problem(
                f"the path is {len(text):,} characters long; at most "
                f"{Limits.MAX_SET_PATH_CHARS} (Limits.MAX_SET_PATH_CHARS)",
                "",
                label,
            )
        )
    tokens: list[str] = []
    pos = 0
    expect_name = True
    bad = ScenarioError(
        Problem(
            f"cannot read the path {clean(repr(text), 80)}: use names separated by dots, "
            "with [index] or [id] for list elements, e.g. manufacturers[0].initial_cover_days",
            "",
            label,
        )
    )
    while pos < len(text):
        match = _OVERRIDE_TOKEN.match(text, pos)
        if match is None:
            raise bad
        if len(tokens) > Limits.MAX_SET_PATH_PARTS:
            raise ScenarioError(
                Problem(
                    f"the path has more than {Limits.MAX_SET_PATH_PARTS} parts "
                    "(Limits.MAX_SET_PATH_PARTS); no scenario field is nested that deep",
                    "",
                    label,
                )
            )
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


def _apply_one(
    loc: Located, text: str, value: Any, label: str, copied: set[int] | None = None
) -> None:
    """Set ``text`` to ``value`` in ``loc``; ``copied``: the ids of the containers of
    ``loc.data`` that are copies (:func:`apply_overrides` with ``share``): the others on
    the path are copied before they are changed."""
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
            n, head = len(path), path[0]
            for table in (loc.pos, loc.keypos):
                for p in [p for p in table if p and p[0] == head and p[:n] == path]:
                    del table[p]
            node[step] = value
            _locate_all(loc, value, path, pos)
        else:
            child = node[step]
            if copied is not None and isinstance(child, dict | list) and id(child) not in copied:
                child = node[step] = copy.copy(child)
                copied.add(id(child))
            node = child


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
