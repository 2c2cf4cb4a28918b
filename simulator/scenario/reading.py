"""Safe, located YAML reading of scenario files.

Users write scenarios as YAML; every defect must be reported at ``file:line:col`` with the
field path, what was found and what is allowed. This module:

* loads YAML safely (plain data only, no tags beyond the standard scalar/collection ones),
  remembering the position of every value and key (:func:`load_yaml`);
* refuses hostile or broken input with a located message: files over a size limit, alias
  bombs, duplicate keys, non-UTF-8 bytes, tab indentation, syntax errors;
* leaves ``extends:`` and ``--set`` to :mod:`~simulator.scenario.compose` and validation
  to :mod:`~simulator.scenario.translate`.

Scalar rules differ from PyYAML's YAML 1.1 defaults in a few user-friendly ways: only
``true``/``false`` (any case) are booleans, so ``NO`` or ``on`` stay strings (pydantic still
accepts ``yes``/``no``/``on``/``off`` for bool fields); ``1:30`` and leading-zero numbers like
``0755`` stay strings rather than becoming sexagesimal/octal integers; plain ``1e3`` or
``2.5e-3`` are floats. Mapping keys are always strings (the key's text). YAML merge keys
(``<<: *defaults``) are supported with standard semantics (explicit keys win); values reached
through an alias are located at the anchored node.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Collection, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.errors import Problem, ScenarioError, format_path
from simulator.limits import Limits
from simulator.scenario.located import Located, Pos, fail

__all__ = [
    "NULL_WORDS",
    "Builder",
    "UnreadableFile",
    "compose_text",
    "files_read",
    "load_yaml",
    "parse_json",
    "read_inside",
    "read_limited",
    "track_reads",
]

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_T = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
_TIMESTAMP, _VALUE, _MERGE = _T + "timestamp", _T + "value", _T + "merge"
_MAP, _SEQ = _T + "map", _T + "seq"
_KEY_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP, _VALUE})

_ALLOWED = "only plain YAML: mappings, lists, strings, numbers, booleans, dates, null"
_EXP_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$")
_OCTAL = re.compile(r"^[-+]?0[0-9_]+$")
NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

# --------------------------------------------------------------------------------------------
# Loading one file


class UnreadableFile(ValueError):
    """A file relsim refuses to read (missing, not a regular file, too large); the
    message says why without quoting anything from the file."""


_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def read_limited(
    path: str | Path, max_bytes: int, what: str = "file", *, track: bool = False
) -> bytes:
    """Read a regular file of at most ``max_bytes`` bytes.

    Devices (``/dev/zero`` reads without end), named pipes (opening one blocks until a
    writer comes), sockets and directories are refused before anything is read; so is
    a file over the size limit, also when its size is not known in advance (``/proc``).

    Args:
        path: The file.
        max_bytes: Largest size accepted, bytes.
        what: What the file should be, for messages (``"YAML file"``).
        track: The file is an input of the command (a scenario, a data file, a
            baseline): record it (:func:`track_reads`), so that no output replaces it.

    Returns:
        The file's bytes.

    Raises:
        UnreadableFile: Why it was refused (the message names no content).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UnreadableFile("file not found") from None
    except IsADirectoryError:
        raise UnreadableFile(f"is a directory, not a {what}") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
    except OSError as exc:  # pragma: no cover - defensive
        os.close(fd)
        raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UnreadableFile(f"is a directory, not a {what}")
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise UnreadableFile(f"is {kind}, not a {what}; relsim reads regular files only")
    if track:
        _note_read(st, os.path.abspath(path))
    return _read_fd(fd, st, max_bytes)


def _read_fd(fd: int, st: os.stat_result, max_bytes: int) -> bytes:
    """Read the regular file open as ``fd`` (closed here), at most ``max_bytes``."""
    with os.fdopen(fd, "rb", buffering=0) as fh:
        size = st.st_size
        if size > max_bytes:
            raise UnreadableFile(f"file is {size:,} bytes; the limit is {max_bytes:,} bytes")
        chunks: list[bytes] = []
        total = 0
        try:
            while total <= max_bytes:
                chunk = fh.read(min(1 << 20, max_bytes + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise UnreadableFile(f"cannot read file: {exc.strerror or exc}") from None
    if total > max_bytes:
        raise UnreadableFile(f"file is over {max_bytes:,} bytes; the limit is {max_bytes:,} bytes")
    return b"".join(chunks)


def read_inside(
    root: str | Path, relpath: str, max_bytes: int, what: str = "file", *, track: bool = True
) -> bytes:
    """Read ``root/relpath``, a regular file *inside* ``root``, of at most ``max_bytes``.

    For files relsim reads back from a directory it wrote (a run directory, a sweep's
    unfinished points): no component of ``relpath`` may be a symbolic link (a link could
    lead anywhere: a credentials file, ``/dev/zero``), nor ``..``; ``root`` itself is
    taken as given. Devices, pipes and oversized files are refused as by
    :func:`read_limited`.

    Args:
        root: The directory.
        relpath: ``/``-separated path below it, e.g. ``figures/p_shortage.png``.
        max_bytes: Largest size accepted, bytes.
        what: What the file should be, for messages.
        track: Record it as an input of the command (:func:`track_reads`).

    Raises:
        UnreadableFile: Why it was refused (naming no content).
    """
    parts = PurePosixPath(relpath).parts
    if (
        not parts
        or any(p in ("..", "/", "") for p in parts)
        or PurePosixPath(relpath).is_absolute()
    ):
        raise UnreadableFile(f"{relpath!r} is not a path inside the directory")
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    base = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    fds: list[int] = []
    try:
        try:
            fds.append(os.open(root, base | getattr(os, "O_DIRECTORY", 0)))
        except OSError as exc:
            raise UnreadableFile(f"cannot read directory: {exc.strerror or exc}") from None
        for k, name in enumerate(parts):
            last = k == len(parts) - 1
            here = "/".join(parts[: k + 1])
            try:
                st = os.stat(name, dir_fd=fds[-1], follow_symlinks=False)
            except FileNotFoundError:
                raise UnreadableFile(f"{here}: file not found") from None
            except OSError as exc:
                raise UnreadableFile(f"{here}: cannot read: {exc.strerror or exc}") from None
            if stat.S_ISLNK(st.st_mode):
                raise UnreadableFile(
                    f"{here} is a symbolic link; relsim reads only regular files inside the "
                    "directory, never through links"
                )
            if not last:
                if not stat.S_ISDIR(st.st_mode):
                    raise UnreadableFile(f"{here} is not a directory")
                flags = base | getattr(os, "O_DIRECTORY", 0) | nofollow
            else:
                if stat.S_ISDIR(st.st_mode):
                    raise UnreadableFile(f"{here} is a directory, not a {what}")
                if not stat.S_ISREG(st.st_mode):
                    kind = next((n for test, n in _KINDS if test(st.st_mode)), "not a regular file")
                    raise UnreadableFile(f"{here} is {kind}, not a {what}")
                flags = base | nofollow | getattr(os, "O_NONBLOCK", 0)
            try:
                fds.append(os.open(name, flags, dir_fd=fds[-1]))
            except OSError as exc:
                raise UnreadableFile(f"{here}: cannot read: {exc.strerror or exc}") from None
        fd = fds.pop()
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # changed between the look and the open
            os.close(fd)
            raise UnreadableFile(f"{relpath} is not a regular file")
        if track:
            _note_read(st, os.path.join(os.path.abspath(root), *parts))
        try:
            return _read_fd(fd, st, max_bytes)
        except UnreadableFile as exc:
            raise UnreadableFile(f"{relpath}: {exc}") from None
    finally:
        for f in fds:
            os.close(f)


class _NotANumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotANumber(name)


def parse_json(raw: bytes) -> Any:
    """JSON from bytes a file gave, strictly: UTF-8, no ``NaN``/``Infinity``, no number
    of more than 4,300 digits, no nesting too deep for the parser.

    Raises:
        UnreadableFile: Why (``line:col`` of a syntax error; nothing quoted).
    """
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise UnreadableFile("is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise UnreadableFile(
            f"is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    except _NotANumber as e:
        raise UnreadableFile(f"holds {e} (not a number)") from None
    except (ValueError, RecursionError):  # a 5,000-digit number, 100,000 nested lists
        raise UnreadableFile("holds a number too long or nesting too deep") from None


# Inputs read by the command that is running (see track_reads)
_SCOPES: list[dict[tuple[int, int], str]] = []


def _note_read(st: os.stat_result, path: str) -> None:
    for scope in _SCOPES:
        scope.setdefault((st.st_dev, st.st_ino), path)


@contextlib.contextmanager
def track_reads() -> Iterator[dict[tuple[int, int], str]]:
    """Within the block, record every input read (scenario files and what they
    ``extends:``, data files, targets files, baselines, the files of a run directory
    ``relsim report`` renders) as ``(device, inode) -> path``: no output of the command
    may replace one (:func:`simulator.report.atomic.check_not_input`). The command line
    runs each command inside one."""
    scope: dict[tuple[int, int], str] = {}
    _SCOPES.append(scope)
    try:
        yield scope
    finally:
        _SCOPES.remove(scope)


def files_read() -> dict[tuple[int, int], str]:
    """``(device, inode) -> path`` of every input read within the active
    :func:`track_reads` blocks (empty outside them)."""
    out: dict[tuple[int, int], str] = {}
    for scope in _SCOPES:
        out.update(scope)
    return out


def load_yaml(
    path: str | Path,
    *,
    max_bytes: int = Limits.MAX_SCENARIO_BYTES,
    max_nodes: int = Limits.MAX_YAML_NODES,
    max_depth: int = Limits.MAX_YAML_DEPTH,
    fields: Collection[str] | None = None,
    kind: str = "relsim scenario",
    raw: bytes | None = None,
) -> Located:
    """Load one YAML file as plain data with the position of every value and key.

    ``extends`` is not interpreted here (see :func:`simulator.scenario.compose.load_located`).

    Args:
        path: The YAML file.
        max_bytes: Refuse larger files before parsing.
        max_nodes: Refuse documents with more nodes than this, counting every repetition
            through aliases (defends against "billion laughs" alias bombs).
        max_depth: Refuse documents nested deeper than this.
        fields: Top-level keys of the format (scenario fields). When given, a mapping
            none of whose keys is one of them (or ``extends``) is refused as "not a
            relsim scenario" with no key or value quoted: it is some other file (a
            credentials file, a kubeconfig), whose contents must not reach a terminal.
        kind: What the file should be, for that message.
        raw: The file's bytes, already read (e.g. by :func:`read_inside`); None: read
            ``path`` (:func:`read_limited`).

    Returns:
        The located data; its top level is always a mapping.

    Raises:
        ScenarioError: The file is missing, not a regular file, too large, not UTF-8,
            empty, not valid YAML, uses tags or duplicate keys, exceeds a limit, its top
            level is not a mapping or it does not look like a scenario.
    """
    name = str(path)
    if raw is None:
        try:
            raw = read_limited(path, max_bytes, "YAML file", track=True)
        except UnreadableFile as exc:
            raise fail(name, str(exc)) from None
    elif len(raw) > max_bytes:
        raise fail(name, f"file is {len(raw):,} bytes; the limit is {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise fail(
            name,
            f"file is not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            line,
            col,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    builder = Builder(name, max_nodes, max_depth)
    root = compose_text(text, name, max_nodes)
    if root is None or (
        isinstance(root, ScalarNode) and root.tag == _NULL and root.value in NULL_WORDS
    ):
        raise fail(name, "the file is empty: expected a mapping (key: value lines)")
    if not isinstance(root, MappingNode):
        builder.run(root)  # reports a disallowed tag, if that is the problem
        kind = "a list" if isinstance(root, SequenceNode) else "a single value"
        raise fail(
            name,
            f"the top level must be a mapping (key: value lines), not {kind}",
            root.start_mark.line + 1,
            root.start_mark.column + 1,
        )
    builder.check(root)
    if fields is not None:
        _looks_like(root, name, fields, kind)
    data = builder.build(root)
    return Located(data, builder.pos, builder.keypos, [name])


def _looks_like(root: MappingNode, name: str, fields: Collection[str], kind: str) -> None:
    """Refuse a mapping none of whose top-level keys is a field of the format."""
    keys = [k.value for k, _ in root.value if isinstance(k, ScalarNode)]
    known = set(fields) | {"extends"}
    if any(k in known for k in keys):
        return
    usual = [f for f in ("name", "start", "end", "authority", "extends") if f in known]
    shown = ", ".join(usual if len(usual) > 1 else sorted(known)[:5])
    raise fail(
        name,
        f"does not look like a {kind}: none of its {len(keys)} top-level key(s) is one of "
        f"its fields (such as {shown}); its contents are not shown",
    )


_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def compose_text(text: str, name: str, max_nodes: int) -> Node | None:
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
                    raise fail(
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
            raise fail(name, message) from None
        raise fail(name, message, mark.line + 1, mark.column + 1) from None
    except yaml.reader.ReaderError as exc:
        offset = min(max(exc.position, 0), len(text))
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise fail(
            name, f"character #x{char:04x} is not allowed in YAML ({exc.reason})", line, col
        ) from None
    except yaml.YAMLError:  # pragma: no cover - defensive
        raise fail(name, "YAML error (unreadable document)") from None
    except RecursionError:  # pragma: no cover - only with the pure-Python parser
        raise fail(name, "YAML is nested too deeply") from None


_QUOTED = re.compile(r"'([^']*)'")


def _redact(text: str) -> str:
    """PyYAML quotes what it found (an alias name, a tag, an escape); keep single
    characters, escapes and token names, drop anything longer: a file that failed to
    parse is not necessarily a scenario, and its text must not reach a terminal."""

    def keep(m: re.Match[str]) -> str:
        inner = m.group(1)
        if len(inner) <= 1 or inner.startswith(("\\", "<")):
            return m.group(0)
        return m.group(0) if not any(c.isalnum() for c in inner) else "'…'"

    return _QUOTED.sub(keep, text)


def _syntax_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    problem = _redact((exc.problem or "invalid YAML").strip())
    context = _redact(exc.context) if exc.context else None
    message = f"YAML syntax error: {problem}"
    cmark, pmark = exc.context_mark, exc.problem_mark
    if context:
        if problem.startswith("but "):
            message = f"YAML syntax error: {context}, {problem}"
        elif cmark is not None and (pmark is None or cmark.line != pmark.line):
            message += f" ({context} at line {cmark.line + 1}, column {cmark.column + 1})"
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


class Builder:
    """Turn a composed node graph into plain data, recording positions and problems."""

    def __init__(self, file: str, max_nodes: int, max_depth: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.pos: dict[tuple[Any, ...], Pos] = {}
        self.keypos: dict[tuple[Any, ...], Pos] = {}
        self.problems: list[Problem] = []
        self._sizes: dict[int, tuple[int, int]] = {}
        self._active: set[int] = set()

    def run(self, root: Node) -> Any:
        """Check the size of ``root`` (:meth:`check`), then build its data."""
        self.check(root)
        return self.build(root)

    def check(self, root: Node) -> None:
        """Refuse a document too large or too deep once aliases are expanded (nothing
        of the document is quoted)."""
        try:
            self._size(root, 0)
        except RecursionError:  # pragma: no cover - guarded by max_depth
            raise fail(self.file, "YAML is nested too deeply") from None
        self._sizes.clear()

    def build(self, root: Node) -> Any:
        """Plain data of a checked document, or every problem found in it."""
        data = self._build(root, ())
        if self.problems:
            raise ScenarioError(self.problems)
        return data

    def _error(self, node: Node, message: str) -> ScenarioError:
        mark = node.start_mark
        return fail(self.file, message, mark.line + 1, mark.column + 1)

    def _size(self, node: Node, depth: int) -> int:
        """Count nodes as the build will visit them (aliases repeat), memoised per node.

        The memo also keeps each node's height, so a node reached again through an
        alias at a greater depth is still refused when depth + height exceeds the limit
        (a chain of aliases to deep lists must not reach the builder's recursion)."""
        key = id(node)
        hit = self._sizes.get(key)
        if hit is not None:
            size, height = hit
            if depth + height > self.max_depth:
                raise self._error(
                    node, f"YAML is nested more than {self.max_depth} levels deep (the limit)"
                )
            return size
        height = 0
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
            children = (
                node.value
                if isinstance(node, SequenceNode)
                else [n for pair in node.value for n in pair]
            )
            for child in children:
                size += self._size(child, depth + 1)
                height = max(height, 1 + self._sizes[id(child)][1])
            self._active.discard(key)
        if size > self.max_nodes:
            raise self._error(
                node,
                f"document is too large: more than {self.max_nodes:,} YAML nodes once aliases "
                f"(*name) are expanded; the limit is {self.max_nodes:,} nodes",
            )
        self._sizes[key] = (size, height)
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
