"""Errors relsim raises: bad scenario input, and a failed replication.

A :class:`ScenarioError` carries one :class:`Problem` per defect found, each located
at ``file:line:col`` with the dotted field path, the offending value and what is
allowed. The CLI prints ``str(error)`` (one line per problem) and exits 2.

Text that came from a user's file (names, keys, values, file names) may hold escape
sequences or other control characters; :func:`clean` shows them as ``\\x1b``-style
escapes, so a message can never drive the terminal it is printed on. Quoted values are
cut to :data:`QUOTE_CHARS` characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MISSING: Any = object()
"""A problem's ``value`` when there is none to quote (a missing field, a whole
mapping): distinct from ``None``, which a file may give."""

QUOTE_CHARS = 60
"""Quoted values in messages are cut to this many characters."""

# C0 and C1 controls (ESC, CR, BEL, newline, ...), DEL, the Unicode line separators and
# the bidirectional formatting characters that reorder what a terminal shows
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
# the same, but for the line breaks JSON itself writes between values
_UNSAFE_JSON = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str, limit: int | None = None) -> str:
    """``text`` safe to print on a terminal: control characters (escape sequences, carriage
    returns, bidirectional overrides) shown as ``\\x1b``-style escapes, and cut to
    ``limit`` characters (with ``...``) when given.

    Args:
        text: Anything that may hold text from a user's file or command line.
        limit: Longest result, characters (None: no limit).
    """
    text = _UNSAFE.sub(_escape, str(text))
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return text


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`clean` would escape (a control
    character, a line break, a bidirectional override)."""
    return _UNSAFE.search(str(text)) is not None


def clean_lines(text: str) -> str:
    """:func:`clean` each line of a multi-line message (the line breaks are kept)."""
    return "\n".join(clean(line) for line in str(text).split("\n"))


def clean_json(text: str) -> str:
    """JSON text safe to print: the characters :func:`clean` escapes are written as JSON
    ``\\uXXXX`` escapes (they can only occur inside strings, where those escapes mean the
    same characters, so the text stays valid JSON with the same content); line breaks
    between values are kept."""
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))


@dataclass(frozen=True)
class Problem:
    """One located defect in a scenario.

    Attributes:
        message: What is wrong and what is allowed.
        path: Dotted field path, e.g. ``authority.reviewers`` or ``lanes[2].destination``.
        file: File the value came from, or None when it came from code.
        line: 1-based line, or None.
        col: 1-based column, or None.
        value: The offending value (omitted from the text when missing).
    """

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    col: int | None = None
    value: Any = field(default=MISSING, compare=False)

    def location(self) -> str:
        """Return ``file:line:col`` (as much of it as is known)."""
        if self.file is None:
            return "<scenario>"
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.col or 1}"

    def __str__(self) -> str:
        text = f"{self.location()}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.value is not MISSING:
            text += f" (got {_short_repr(self.value)})"
        return clean(text)


def _short_repr(value: Any, limit: int = QUOTE_CHARS) -> str:
    # spelled as in YAML where Python's repr would puzzle a scenario author
    if value is None:
        return "null"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return clean(repr(value), limit)


def format_path(path: tuple[Any, ...] | list[Any]) -> str:
    """Render a data path as text, e.g. ``("lanes", 2, "destination")`` -> ``lanes[2].destination``.

    Args:
        path: Mapping keys (str) and list indices (int), outermost first.

    Returns:
        Dotted text with ``[i]`` for indices; keys that are not simple names are quoted.
    """
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            name = str(part)
            simple = name != "" and all(c.isalnum() or c in "_-" for c in name)
            if not simple:
                text += f"[{name!r}]"
            else:
                text += f".{name}" if text else name
    return text


class ScenarioError(ValueError):
    """A scenario could not be loaded or validated.

    Attributes:
        problems: Every defect found, in file order.
    """

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class FieldProblems(ValueError):
    """Raised inside pydantic ``model_validator``s to report problems at sub-paths.

    The YAML layer expands each entry into a located :class:`Problem`.

    Attributes:
        problems: ``(relative path tuple, message, value)`` triples.
    """

    def __init__(self, problems: list[tuple[tuple, str, Any]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m, _ in self.problems))


def did_you_mean(value: Any, choices: Iterable[Any]) -> str:
    """The one "did you mean" of every message: ``"; did you mean 'x'?"`` or ``""``.

    A choice is suggested when it is within a few edits of ``value`` (insertions,
    deletions, substitutions and swaps of neighbours; at most 30 % of the longer word's
    letters, at least one): ``reviewrs`` → ``reviewers``, ``cn2`` → ``cn1``, but not
    ``kind`` → ``id``. Among equally close choices the first wins.

    Args:
        value: What was written (anything but a string gets no suggestion).
        choices: What is allowed, in the order to prefer.
    """
    if not isinstance(value, str) or not value:
        return ""
    best: tuple[int, str] | None = None
    for c in dict.fromkeys(str(c) for c in choices):
        if c == value:
            continue
        limit = max(1, int(0.3 * max(len(c), len(value))))
        if abs(len(c) - len(value)) > limit:
            continue
        d = _edits(value.lower(), c.lower())
        if d <= limit and (best is None or d < best[0]):
            best = (d, c)
    return f"; did you mean '{best[1]}'?" if best else ""


def _edits(a: str, b: str) -> int:
    """Optimal-string-alignment distance (Levenshtein plus adjacent swaps)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


class ReplicationError(RuntimeError):
    """A replication failed; re-run it alone with ``relsim run FILE --rep-index I``.

    Attributes:
        rep: Replication index.
        seed: Root seed.
        detail: The worker's traceback text.
    """

    def __init__(self, rep: int, seed: int, detail: str) -> None:
        self.rep, self.seed, self.detail = rep, seed, detail
        last = detail.strip().splitlines()[-1] if detail.strip() else "error"
        super().__init__(
            f"replication {rep} (seed {seed}) failed: {last}; re-run it alone with "
            f"`relsim run FILE --seed {seed} --rep-index {rep} --debug`"
        )


class ClusterLost(RuntimeError):
    """The Dask cluster lost its workers (or its scheduler) before every replication
    ran; the CLI prints the message and exits 1.

    Attributes:
        done: Replications finished (``0 .. done - 1``, in order).
        reps: Replications asked for.
    """

    def __init__(self, done: int, reps: int, cause: str) -> None:
        self.done, self.reps = done, reps
        missing = f"replication {done}" if done == reps - 1 else f"replications {done}..{reps - 1}"
        super().__init__(
            f"the Dask cluster stopped answering ({clean(cause, 120)}): {missing} of {reps} "
            "did not run, nothing was written; restart the workers and run again"
        )


class SchedulerUnreachable(ValueError):
    """A Dask scheduler address is malformed or does not answer in time (the CLI exits 2
    naming ``--scheduler``)."""


class InputRefused(ValueError):
    """A file or directory relsim reads back failed a check (a run directory for
    ``relsim report``, a sweep's unfinished points, the compiled-code cache directory):
    the message names it, the field and what is allowed, never quoting its contents
    unchecked. The CLI prints it and exits 2."""
