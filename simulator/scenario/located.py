"""Scenario data with positions: every value and key knows its ``file:line:col``.

:class:`Located` is what the reader (:mod:`~simulator.scenario.reading`) produces and
the composer (:mod:`~simulator.scenario.compose`) merges; problems found anywhere
later are located through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import MISSING, Problem, ScenarioError, format_path

__all__ = ["Located", "Pos", "fail", "problem_at"]

Pos = tuple[str, int, int]
"""``(file, line, col)``, 1-based. ``line == 0`` means "no line" (e.g. a ``--set`` option)."""


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
        self, path: Sequence[Any], message: str, value: Any = MISSING, *, key: bool = False
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
        return problem_at(self.position(path, key=key), tuple(path), message, value)


def problem_at(pos: Pos | None, path: tuple[Any, ...], message: str, value: Any) -> Problem:
    if pos is None:
        return Problem(message, format_path(path), value=value)
    file, line, col = pos
    if line <= 0:
        return Problem(message, format_path(path), file, value=value)
    return Problem(message, format_path(path), file, line, col, value=value)


def fail(file: str, message: str, line: int | None = None, col: int | None = None) -> ScenarioError:
    return ScenarioError(Problem(message, "", file, line, col))
