"""Writing outputs atomically: whole or not at all, and only in place of relsim's own.

A directory is assembled in a hidden temporary sibling and renamed into place only
when complete (:func:`atomic_dir`), a single file is written beside its target and
renamed over it (:func:`atomic_file`), so a crash, Ctrl-C or SIGTERM never leaves an
output that looks complete (the run directory of :mod:`simulator.report.rundir` is
written this way).

What an output may replace:

* a **directory** only when it is a relsim output — its ``manifest.json`` says
  ``"tool": "relsim"`` (:func:`is_relsim_output`) — and ``force`` is given; a symbolic
  link, a file or any other directory is refused (:class:`OutputRefused`) and kept
  untouched. The final rename never replaces a directory that appeared while the run
  was being computed (another ``relsim run`` to the same place): it is kept, and this
  output is refused with :class:`OutputExists`.
* a **file** is replaced whole; a symbolic link is written through (the file it
  points to is replaced, the link stays); a character device or a named pipe (e.g.
  ``/dev/null``, ``/dev/stdout``) is written through, never replaced; a directory, a
  block device or a socket is refused.
* **never an input**: no output replaces a file the running command read (a scenario,
  what it ``extends:``, a data, targets or baseline file, the files ``relsim report``
  renders), nor a directory holding one, ``--force`` or not
  (:func:`check_not_input`; the inputs are those
  :func:`simulator.scenario.reading.track_reads` recorded, plus any named).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "COMMITTED",
    "MANIFEST",
    "TOOL",
    "OutputExists",
    "OutputRefused",
    "atomic_dir",
    "atomic_file",
    "check_dir_target",
    "check_file_target",
    "check_name",
    "check_not_input",
    "is_relsim_output",
    "write_json",
    "write_text_atomic",
]

MANIFEST = "manifest.json"
"""The file that makes a directory a relsim output."""
TOOL = "relsim"
"""The ``tool`` every relsim manifest names."""

COMMITTED: list[Path] = []
"""Directories and files :func:`atomic_dir` and :func:`atomic_file` have put in place in
this process, in order (the CLI names them when a late Ctrl-C interrupts it after an
output was committed)."""


class OutputRefused(Exception):
    """An output cannot be written where it was asked for; nothing was changed there.
    The CLI prints the message and exits 2."""


class OutputExists(OutputRefused, FileExistsError):
    """The run directory exists (or appeared meanwhile) and ``force`` was not given."""


def write_json(path: Path, data: Any) -> None:
    """Write JSON deterministically (sorted keys, 2-space indent, trailing newline)."""
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
    )


def is_relsim_output(path: Path) -> bool:
    """Whether ``path`` is a directory relsim wrote: a real directory (not a symbolic
    link) whose ``manifest.json`` is a JSON object with ``"tool": "relsim"``."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    from simulator.limits import Limits
    from simulator.scenario.reading import UnreadableFile, read_limited

    try:
        data = json.loads(read_limited(path / MANIFEST, Limits.MAX_MANIFEST_BYTES, "JSON file"))
    except (UnreadableFile, ValueError):
        return False
    return isinstance(data, dict) and data.get("tool") == TOOL


def check_dir_target(target: Path, force: bool) -> None:
    """Refuse ``target`` as an output directory unless it is free, or a relsim output
    and ``force`` is given (see the module docstring). Call it before the work.

    Raises:
        OutputExists: ``target`` exists and ``force`` is False.
        OutputRefused: ``target`` is a symbolic link, a file, or a directory relsim did
            not write.
    """
    target = Path(target)
    check_name(target)
    if target.is_symlink():
        raise OutputRefused(
            f"{target} is a symbolic link; relsim writes an output directory only where "
            "nothing is, or in place of one it wrote (--force); nothing was changed"
        )
    if not target.exists():
        return
    if not force:
        raise OutputExists(f"{target} already exists; use --force to replace it, or --out DIR")
    if not target.is_dir():
        raise OutputRefused(
            f"{target} is not a directory; --force replaces only a relsim run directory, "
            "so nothing was changed"
        )
    if not is_relsim_output(target):
        raise OutputRefused(
            f"{target} is not a relsim run directory (it has no {MANIFEST} saying "
            f'"tool": "{TOOL}"); --force replaces only those, so nothing was changed; '
            "choose another --out"
        )
    check_not_input(target)


def check_file_target(target: Path, *, update: bool = False) -> None:
    """Refuse ``target`` as an output file when it could never be written (a directory,
    a block device, a socket, or a path through a file), or when it is an input of the
    command (:func:`check_not_input`). Call it before the work.

    Args:
        target: The output file.
        update: ``target`` is read in order to be rewritten (a baseline under ``relsim
            regress --update``): it may be an input.

    Raises:
        OutputRefused: Why.
    """
    target = Path(target)
    check_name(target)
    if not update:
        check_not_input(target)
    real = Path(os.path.realpath(target))
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        parent = real.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputRefused(f"{target}: {parent} is not a directory") from None
        return
    except OSError as exc:
        raise OutputRefused(f"{target}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise OutputRefused(f"{target} is a directory; give a file name")
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise OutputRefused(
            f"{target} is not a regular file, character device or pipe; relsim does not write there"
        )


def check_name(target: Path) -> None:
    """Refuse an output whose name (the last component, which relsim creates) holds
    control characters (escape sequences, line breaks, bidirectional overrides): such a
    name would drive a terminal that lists it.

    Raises:
        OutputRefused: Naming it, escaped.
    """
    from simulator.errors import clean, has_control

    if has_control(Path(target).name):  # the name created (folders above exist already)
        raise OutputRefused(
            f"{clean(target)}: an output name may not hold control characters (escape "
            "sequences, line breaks, bidirectional overrides); nothing was written"
        )


def check_not_input(target: Path, inputs: Any = ()) -> None:
    """Refuse ``target`` as an output when it is a file the running command read, or a
    directory holding one (see the module docstring): ``--force`` replaces outputs, never
    the input being read (``relsim new base --from base.yaml --force``, ``relsim fit
    base.yaml --fitted base.yaml --force``).

    Args:
        target: The output file or directory (a link is followed, as writes follow it).
        inputs: More input files (paths) to protect besides those recorded by
            :func:`simulator.scenario.reading.track_reads`.

    Raises:
        OutputRefused: Naming the input.
    """
    from simulator.scenario.reading import files_read

    read = dict(files_read())
    for p in inputs:
        try:
            st = os.stat(p)
        except OSError:
            continue
        read.setdefault((st.st_dev, st.st_ino), os.path.abspath(p))
    if not read:
        return
    try:
        st = os.stat(target)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        hit = read.get((st.st_dev, st.st_ino))
        if hit is not None:
            raise OutputRefused(
                f"{target} is {hit}, a file this command read; relsim never writes over its "
                "own input (--force replaces outputs only), so nothing was changed: choose "
                "another file name"
            )
        return
    root = os.path.realpath(target)
    for path in read.values():
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) == root:
            raise OutputRefused(
                f"{target} holds {path}, a file this command read; relsim never replaces "
                "a directory holding its own input (--force replaces outputs only), so "
                "nothing was changed: choose another --out"
            )


def _reason(exc: OSError) -> str:
    from simulator.errors import clean

    return clean(exc.strerror or str(exc) or type(exc).__name__, 200)


@contextlib.contextmanager
def atomic_dir(target: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``target`` on success.

    Args:
        target: Final directory.
        force: Replace an existing ``target`` if it is a relsim output
            (:func:`is_relsim_output`).

    Raises:
        OutputExists: ``target`` exists and ``force`` is False, also when it appeared
            while the block ran (it is kept; the new output is dropped).
        OutputRefused: ``target`` is not a relsim output (see :func:`check_dir_target`),
            or writing failed (a full disk): ``target`` and any previous output there are
            untouched.
    """
    target = Path(target)
    check_dir_target(target, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputRefused(f"cannot create {target.parent}: {_reason(exc)}") from None
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
    except OSError as exc:
        raise OutputRefused(f"cannot write in {target.parent}: {_reason(exc)}") from None
    try:
        yield tmp
    except OSError as exc:
        with _signals_held():
            shutil.rmtree(tmp, ignore_errors=True)
        raise OutputRefused(
            f"cannot write {target}: {_reason(exc)}; nothing was written there"
        ) from exc
    except BaseException:
        with _signals_held():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    with _signals_held():
        _commit_dir(tmp, target, force)


def _commit_dir(tmp: Path, target: Path, force: bool) -> None:
    """Rename ``tmp`` to ``target`` (signals held by the caller), never over anything
    that is there. With ``force``, a relsim output found there is first moved aside (and
    removed once ``tmp`` is in place) — again if another forced run put its own there
    meanwhile; anything else found there is kept and this output refused."""
    aside: list[Path] = []
    try:
        for _ in range(_COMMIT_ATTEMPTS):
            try:
                _rename_noreplace(tmp, target)
                break
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise OutputRefused(f"cannot write {target}: {_reason(exc)}") from None
                if not force:
                    raise OutputExists(
                        f"{target} appeared while this run was computed (another relsim "
                        "run?); it was kept and this run's results were not written; use "
                        "--force to replace it, or --out DIR"
                    ) from None
            check_dir_target(target, force)  # still (or again) a relsim output?
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            try:
                target.rename(old)
            except FileNotFoundError:  # another forced run moved it meanwhile
                continue
            aside.append(old)
        else:
            raise OutputRefused(f"{target} kept changing while this run was written; retry")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    COMMITTED.append(target)
    for old in aside:
        shutil.rmtree(old, ignore_errors=True)


_COMMIT_ATTEMPTS = 20


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``, failing with ``EEXIST`` if ``dst`` exists — atomically
    on Linux (``renameat2(RENAME_NOREPLACE)``), with a check just before the rename
    where the system or file system lacks it."""
    if sys.platform.startswith("linux"):
        fn = getattr(_libc(), "renameat2", None)
        if fn is not None:
            rc = fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
            if rc == 0:
                return
            err = ctypes.get_errno()
            if err not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
                raise OSError(err, os.strerror(err), str(dst))
    if os.path.lexists(dst):
        raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)


_LIBC: list[Any] = []


def _libc() -> Any:
    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL(None, use_errno=True))
        except OSError:  # pragma: no cover - no C library to load
            _LIBC.append(None)
    return _LIBC[0]


@contextlib.contextmanager
def atomic_file(target: Path, *, update: bool = False, inside: bool = False) -> Iterator[Path]:
    """Yield a temporary path that replaces ``target`` on success.

    Whatever is written to the yielded path (text, JSON, a figure) appears at
    ``target`` whole or not at all: an error or Ctrl-C while writing removes the
    temporary file and leaves any previous ``target`` as it was. A symbolic link is
    written through (the file it points to is replaced); a character device or a named
    pipe is written through (its bytes are copied in), never replaced.

    Args:
        target: Final file; its directory is created if missing.
        update: ``target`` may be a file the command read (see
            :func:`check_file_target`).
        inside: ``target`` is relsim's own file inside a directory it keeps (a sweep's
            unfinished points): whatever is there — a symbolic link, a device — is
            replaced by a regular file, never written through.

    Raises:
        OutputRefused: ``target`` is a directory, a block device or a socket, or the
            write failed (nothing was replaced).
    """
    target = Path(target)
    check_file_target(target, update=update)
    if inside:  # the name itself is replaced (a link there is not followed)
        real = Path(os.path.abspath(target))
        through = False
    else:
        real = Path(os.path.realpath(target))
        through = real.exists() and not real.is_file()  # a device or a pipe
    try:
        if through:
            fd, name = tempfile.mkstemp(prefix="relsim-")
            os.close(fd)
            tmp = Path(name)
        else:
            real.parent.mkdir(parents=True, exist_ok=True)
            tmp = real.with_name(f".{real.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    except OSError as exc:
        raise OutputRefused(f"cannot write {target}: {_reason(exc)}") from None
    try:
        try:
            yield tmp
            with _signals_held():
                if through:
                    _copy_into(tmp, real)
                else:
                    os.replace(tmp, real)
                COMMITTED.append(target)
        except OSError as exc:
            raise OutputRefused(f"cannot write {target}: {_reason(exc)}") from exc
    finally:
        with _signals_held():
            tmp.unlink(missing_ok=True)


def _copy_into(tmp: Path, device: Path) -> None:
    """Copy ``tmp``'s bytes into a character device or a pipe (a pipe without a reader
    fails at once instead of blocking)."""
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(device, flags)
    try:
        os.set_blocking(fd, True)
        with open(tmp, "rb") as src:
            while chunk := src.read(1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_text_atomic(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` (UTF-8), whole or not at all (see
    :func:`atomic_file`)."""
    with atomic_file(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


_HUP = (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM (and SIGHUP) while directories are renamed or removed, so a second
    Ctrl-C cannot leave a half-removed temporary directory, or the old run renamed away
    with the new one not yet in its place. A signal received meanwhile is delivered
    when the block ends.

    Python-level handlers that only record the signal are swapped in: blocking the
    signals with ``pthread_sigmask`` is not enough, because it blocks them in the
    calling thread only — the kernel then hands a Ctrl-C to another thread (numpy's
    BLAS threads), whose C handler still makes the main thread raise
    ``KeyboardInterrupt`` in the middle of the block. Off the main thread (where
    handlers cannot be set, and Python never runs them) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def record(signum: int, frame: Any) -> None:
        received.append(signum)

    held = (signal.SIGINT, signal.SIGTERM, *_HUP)
    previous = {sig: signal.signal(sig, record) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for sig in dict.fromkeys(received):  # each signal once, in the order received
            signal.raise_signal(sig)
