"""Validating located data with a pydantic model: every error becomes a located
:class:`~simulator.errors.Problem` in words a scenario author understands."""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from simulator.errors import (
    MISSING,
    QUOTE_CHARS,
    FieldProblems,
    Problem,
    ScenarioError,
    clean,
    did_you_mean,
)
from simulator.scenario.located import Located, problem_at

__all__ = ["MAX_PROBLEMS", "validate"]

M = TypeVar("M", bound=BaseModel)


def validate(loc: Located, model: type[M]) -> M:
    """Validate located data with a pydantic model, reporting every problem with its position.

    Each pydantic error becomes a :class:`Problem` at the offending value (at the key for
    unknown keys, at the enclosing mapping for missing fields), with a friendlier message:
    unknown keys get a "did you mean" suggestion and the allowed names, a bad discriminator
    tag lists the allowed tags. A :class:`~simulator.errors.FieldProblems` raised by a
    validator (e.g. the cross-field rules of :mod:`simulator.scenario.rules`) is expanded
    into one problem per entry.

    Args:
        loc: Data from :func:`~simulator.scenario.compose.load_located` or
            :func:`~simulator.scenario.reading.load_yaml`.
        model: Any pydantic model class.

    Returns:
        The validated model instance.

    Raises:
        ScenarioError: With every problem found, sorted by file, line and column (at most
            :data:`MAX_PROBLEMS`, then one problem counting the rest).
    """
    problems: list[Problem] = []
    instance: M | None = None
    skipped = 0  # a file of 100,000 unknown keys must not take a minute to report
    try:
        instance = model.model_validate(loc.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        skipped += max(0, len(errors) - MAX_PROBLEMS)
        for err in errors[:MAX_PROBLEMS]:
            problems.extend(_convert_error(loc, model, err))
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
    value = err.get("input", MISSING)
    msg: str = err["msg"]

    error = ctx.get("error")
    if isinstance(error, FieldProblems):
        out = []
        for entry in error.problems:
            rel = tuple(entry[0]) if isinstance(entry[0], tuple | list) else (entry[0],)
            sub_value = entry[2] if len(entry) > 2 else MISSING
            path = (*_data_path(loc.data, eloc), *rel)
            out.append(_located(loc, path, str(entry[1]), sub_value))
        return out

    path = _data_path(loc.data, eloc)
    if kind == "missing":
        name = eloc[-1] if eloc else "?"
        return [_located(loc, path, f"required field '{name}' is missing", MISSING)]
    if kind == "extra_forbidden":
        # the key is named (cut short), its value never: an unknown key's value is not
        # part of any scenario, and a file read by mistake may hold secrets there
        name = str(eloc[-1]) if eloc else "?"
        allowed = _allowed_names(model, eloc[:-1])
        message = f"unknown key '{clean(name, 40)}'"
        if allowed:
            message += did_you_mean(name, allowed) + f" (allowed: {', '.join(allowed)})"
        for tp in _types_at(model, eloc[:-1]):
            hint = getattr(tp, "unknown_key_hints", {}).get(name) if _is_model(tp) else None
            if hint:
                message += f"; {hint}"
                break
        return [_located(loc, path, message, MISSING, key=True)]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        disc = str(ctx.get("discriminator", "")).strip("'\"")
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        if not tags:
            tags = _allowed_tags(model, eloc, disc)
        allowed = f" (allowed: {', '.join(repr(t) for t in tags)})" if tags else ""
        node = _get(loc.data, path)
        if kind == "union_tag_not_found" or not isinstance(node, dict) or disc not in node:
            return [_located(loc, path, f"required field '{disc}' is missing{allowed}", MISSING)]
        tag = node[disc]
        message = f"unknown {disc} {clean(repr(str(tag)), QUOTE_CHARS)}" + did_you_mean(
            str(tag), tags
        )
        return [_located(loc, (*path, disc), message + allowed, tag)]

    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = "expected a mapping (key: value lines)"
    elif kind in ("literal_error", "enum") and isinstance(value, str):
        msg += did_you_mean(value, [str(c) for c in _allowed_values(model, eloc)])
    elif kind == "finite_number":
        msg = "must be a finite number (not .inf or .nan)"
    if isinstance(value, dict):
        value = MISSING  # the whole mapping is noise in a one-line message
    return [_located(loc, path, msg, value)]


def _located(
    loc: Located, path: tuple[Any, ...], message: str, value: Any, *, key: bool = False
) -> Problem:
    return problem_at(loc.position(path, key=key), path, message, value)


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
    return MISSING


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
        found = [f for f in found if f is not MISSING]
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
            if ftype is not MISSING:
                tags.extend(str(v) for v in _literal_values(ftype))
    return tags


def _allowed_values(model: type[BaseModel], loc: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for tp in _types_at(model, loc):
        out.extend(_literal_values(tp))
    return out
