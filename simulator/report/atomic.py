"""Writing outputs atomically: whole or not at all.

A directory is assembled in a hidden temporary sibling and renamed into place only
when complete (:func:`atomic_dir`), a single file is written beside its target and
renamed over it (:func:`atomic_file`), so a crash, Ctrl-C or SIGTERM never leaves an
output that looks complete (the run directory of :mod:`simulator.report.rundir` is
written this way).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "COMMITTED",
    "OutputExists",
    "atomic_dir",
    "atomic_file",
    "write_json",
    "write_text_atomic",
]


COMMITTED: list[Path] = []
"""Directories and files :func:`atomic_dir` and :func:`atomic_file` have put in place in
this process, in order (the CLI names them when a late Ctrl-C interrupts it after an
output was committed)."""


class OutputExists(FileExistsError):
    """The run directory exists and ``force`` was not given."""


def write_json(path: Path, data: Any) -> None:
    """Write JSON deterministically (sorted keys, 2-space indent, trailing newline)."""
    path.write_text(
        json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
    )


@contextlib.contextmanager
def atomic_dir(target: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``target`` on success.

    Args:
        target: Final directory.
        force: Replace an existing ``target``.

    Raises:
        OutputExists: ``target`` exists and ``force`` is False.
    """
    target = Path(target)
    if target.exists() and not force:
        raise OutputExists(f"{target} already exists; use --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        with _signals_held():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    with _signals_held():
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            target.rename(old)
        tmp.rename(target)
        COMMITTED.append(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` that replaces ``target`` on success.

    Whatever is written to the yielded path (text, JSON, a figure) appears at
    ``target`` whole or not at all: an error or Ctrl-C while writing removes the
    temporary file and leaves any previous ``target`` as it was.

    Args:
        target: Final file; its directory is created if missing.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        with _signals_held():
            os.replace(tmp, target)
            COMMITTED.append(target)
    finally:
        with _signals_held():
            tmp.unlink(missing_ok=True)


def write_text_atomic(target: Path, text: str) -> None:
    """Replace ``target`` with ``text`` (UTF-8), whole or not at all (see
    :func:`atomic_file`)."""
    with atomic_file(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while directories are renamed or removed, so a second
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

    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, record) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for sig in dict.fromkeys(received):  # each signal once, in the order received
            signal.raise_signal(sig)
