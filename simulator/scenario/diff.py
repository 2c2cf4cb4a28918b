"""``diff``: what differs between two resolved scenarios, as paths with both values.

Paths are written the way ``--set`` takes them (``authority.reviewers``,
``policy.regimes.eu_rules.rules.0.approval_probability``): list items with an ``id`` or
``name`` are matched by it (so reordering them is no difference); in other lists equal
items are aligned and the rest compared by position (an entry appended to a timeline
keeps B's index). Every difference is a **leaf**: an added or removed item is listed
field by field (``policy.overlays.0.from``, ``policy.overlays.0.where.destination``),
its unset fields left out; a list of plain values (``[DE, EU]``) is one leaf. Scenarios
are compared after ``extends:``, overrides and defaults, so two files that say the same
thing differently do not differ; nor does a field one side lacks and the other leaves
unset (null, or a structure with nothing set, ``{}``), e.g. a field added to the scenario
model since one side was stored.

:meth:`ScenarioDiff.render` prints one line per leaf when it fits the width given (the
terminal's), else the path on its own line and both values wrapped under it: values are
never cut short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["ABSENT", "Difference", "ScenarioDiff", "diff", "diff_data", "format_value"]


class _Absent:
    """A value that one side does not have (an added or removed item or key)."""

    def __repr__(self) -> str:
        return "(absent)"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()
"""Stands for a value one side does not have."""


@dataclass(frozen=True)
class Difference:
    """One path whose value differs."""

    path: str
    """The field, as ``--set`` takes it."""
    a: Any
    """A's value (:data:`ABSENT` if A does not have it)."""
    b: Any
    """B's value (:data:`ABSENT` if B does not have it)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (absent values are omitted: ``{"path", "a"?, "b"?}``)."""
        out: dict[str, Any] = {"path": self.path}
        if self.a is not ABSENT:
            out["a"] = _jsonable(self.a)
        if self.b is not ABSENT:
            out["b"] = _jsonable(self.b)
        return out


class ScenarioDiff(list[Difference]):
    """The differences between two scenarios, in path order of A (B's additions last).

    A list of :class:`Difference`; ``str()`` of it is the text ``relsim diff`` prints.
    """

    a_name: str = "A"
    b_name: str = "B"

    def paths(self) -> list[str]:
        """The changed paths."""
        return [d.path for d in self]

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-friendly form."""
        return [d.to_dict() for d in self]

    def render(self, limit: int = 200, width: int | None = 100) -> str:
        """The differences as text, at most ``limit`` of them.

        Args:
            limit: Differences shown (the rest are counted).
            width: Columns to fit (None: one line per difference, however long). A
                difference that does not fit on one line gets its path on a line and
                ``A:`` and ``B:`` wrapped under it; values are never cut short.
        """
        import textwrap

        if not self:
            return f"{self.b_name} and {self.a_name} are the same scenario (resolved)"
        n = len(self)
        head = f"{n} difference{'s' * (n != 1)} ({self.a_name} → {self.b_name}): path  A → B"
        lines = textwrap.wrap(head, width) if width is not None else [head]
        shown = self[:limit]
        pw = min(48, max(len(d.path) for d in shown))
        for d in shown:
            a, b = format_value(d.a, None), format_value(d.b, None)
            one = f"  {d.path:<{pw}}  {a} → {b}"
            if width is None or len(one) <= width:
                lines.append(one)
                continue
            lines.append(f"  {d.path}")
            w = max(width - 9, 20)
            for tag, v in (("A", a), ("B", b)):
                wrapped = textwrap.wrap(v, w, break_long_words=True, break_on_hyphens=False)
                lines.append(f"      {tag}: " + "\n         ".join(wrapped or [""]))
        if n > limit:
            lines.append(f"  … {n - limit} more (relsim diff A B lists them all)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def diff(a: Scenario, b: Scenario) -> ScenarioDiff:
    """List what differs between two resolved scenarios.

    Args:
        a: First scenario (e.g. the baseline).
        b: Second scenario.

    Returns:
        A :class:`ScenarioDiff`: every leaf path whose value differs, with both values;
        items and keys only one side has appear once with :data:`ABSENT` on the other.
    """
    from simulator.scenario.dump import plain

    out = diff_data(plain(a), plain(b))
    out.a_name, out.b_name = a.name, b.name
    return out


def diff_data(a: Any, b: Any) -> ScenarioDiff:
    """:func:`diff` of two resolved scenarios given as plain data (mappings, lists and
    values, as :func:`simulator.scenario.dump.plain` or a run directory's
    ``scenario.resolved.yaml`` give them)."""
    return ScenarioDiff(_walk(a, b, ()))


_FIRST = ("id", "name", "label", "date", "from", "until", "where")
"""Fields listed first when an added or removed item is shown leaf by leaf."""


def _leaves(v: Any, path: tuple[Any, ...], side: str) -> Iterator[Difference]:
    """An item only one side has (``side``: which side has it), field by field: unset
    (null) fields, empty lists and empty text say nothing and are left out; a list of plain values
    is one leaf. The other side's value is :data:`ABSENT`."""
    if isinstance(v, dict):
        first = [k for k in _FIRST if k in v]  # what an item is, then what it does
        for k in [*first, *(k for k in v if k not in first)]:
            yield from _leaves(v[k], (*path, k), side)
    elif isinstance(v, list) and _is_item(v):
        keyed = _by_key(v)
        items = keyed.items() if keyed is not None else enumerate(v)
        for k, x in items:
            yield from _leaves(x, (*path, k), side)
    elif v is not None and v != [] and v != "":
        yield Difference(_fmt(path), *((ABSENT, v) if side == "b" else (v, ABSENT)))


def _key_of(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("id", item.get("name"))
    return None


def _by_key(items: list[Any]) -> dict[Any, Any] | None:
    """Items by their id/name, or None if any lacks one or ids repeat."""
    keys = [_key_of(x) for x in items]
    if not items or any(k is None for k in keys) or len(set(map(str, keys))) != len(keys):
        return None
    return {str(k): x for k, x in zip(keys, items, strict=True)}


def _walk(a: Any, b: Any, path: tuple[Any, ...]) -> Iterator[Difference]:
    # recursion follows the scenario model's nesting, which the schema bounds
    if (a is ABSENT and b is None) or (b is ABSENT and a is None):
        return  # unset on one side, absent on the other: neither says anything
    if a is ABSENT or b is ABSENT:
        side, v = ("b", b) if a is ABSENT else ("a", a)
        if isinstance(v, dict | list) and _is_item(v):
            yield from _added(v, path, side)
            return
        yield Difference(_fmt(path), a, b)
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b and _sets_nothing(a[k]):
                continue  # a field the other side lacks, left at an empty default here
            yield from _walk(a[k], b.get(k, ABSENT), (*path, k))
        for k in b:
            if k not in a and not _sets_nothing(b[k]):
                yield from _walk(ABSENT, b[k], (*path, k))
        return
    if isinstance(a, list) and isinstance(b, list):
        ka, kb = _by_key(a), _by_key(b)
        if ka is not None and kb is not None:
            for k, x in ka.items():
                yield from _walk(x, kb.get(k, ABSENT), (*path, k))
            for k, y in kb.items():
                if k not in ka:
                    yield from _walk(ABSENT, y, (*path, k))
            return
        if _is_item(a) or _is_item(b):
            yield from _walk_list(a, b, path)
            return
    if (a is None) != (b is None) and _is_item(a if b is None else b):
        # a structured field set on one side only (null on the other): its leaves
        side, v = ("b", b) if a is None else ("a", a)
        yield from _added(v, path, side, null=True)
        return
    if not _same(a, b):
        yield Difference(_fmt(path), a, b)


def _sets_nothing(v: Any) -> bool:
    """A field's value that says nothing: unset (null), or a structure whose every
    field is unset or empty (e.g. ``authority.startup: {}``, a model field added since a
    baseline was stored, at its default)."""
    if v is None:
        return True
    return isinstance(v, dict) and not any(True for _ in _leaves(v, (), "b"))


def _is_item(v: Any) -> bool:
    """A mapping, or a list holding mappings or lists: walked into rather than shown
    as one value (a list of plain values such as ``[DE, EU]`` is one leaf)."""
    if isinstance(v, dict):
        return True
    return isinstance(v, list) and any(isinstance(x, dict | list) for x in v)


def _added(v: Any, path: tuple[Any, ...], side: str, null: bool = False) -> Iterator[Difference]:
    """An item (or a structured field) only one side has, leaf by leaf; the other side
    is :data:`ABSENT` (``null``: ``None``, a field unset there). With no leaf set, the
    item itself is one difference."""
    other = None if null else ABSENT
    leaves = list(_leaves(v, path, side))
    if not leaves:
        yield Difference(_fmt(path), *((other, v) if side == "b" else (v, other)))
        return
    for d in leaves:
        yield Difference(d.path, *((other, d.b) if side == "b" else (d.a, other)))


def _walk_list(a: list[Any], b: list[Any], path: tuple[Any, ...]) -> Iterator[Difference]:
    """Lists without ids: items that are equal and in the same order are aligned
    (longest matching blocks), the rest compared pairwise by position within each
    changed block; the surplus of one side is absent on the other."""
    import difflib

    ra, rb = [repr(x) for x in a], [repr(x) for x in b]
    ops = difflib.SequenceMatcher(a=ra, b=rb, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        n = min(i2 - i1, j2 - j1)
        for k in range(n):
            yield from _walk(a[i1 + k], b[j1 + k], (*path, i1 + k))
        for i in range(i1 + n, i2):
            yield from _walk(a[i], ABSENT, (*path, i))
        for j in range(j1 + n, j2):
            yield from _walk(ABSENT, b[j], (*path, j))


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (
        isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool)
    ):
        return False
    return bool(a == b)


def _fmt(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):  # unset (null) fields of an added or removed item say nothing
        return {str(k): _jsonable(x) for k, x in v.items() if x is not None}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


def format_value(v: Any, width: int | None = 70) -> str:
    """A value as one-line text (YAML flow style), cut at ``width`` characters (None:
    whole)."""
    if v is ABSENT:
        return "(absent)"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):  # unset (null) fields say nothing: leave them out
        text = (
            "{"
            + ", ".join(f"{k}: {format_value(x, width)}" for k, x in v.items() if x is not None)
            + "}"
        )
    elif isinstance(v, list):
        text = "[" + ", ".join(format_value(x, width) for x in v) + "]"
    else:
        text = str(v)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"
