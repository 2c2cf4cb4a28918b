"""Compiling with numba: where the compiled code is cached, and the decorator of the
functions both engines call (:mod:`simulator.world.arith`) and of the kernel's own.

The compiled code is cached on disk in ``$RELSIM_CACHE_DIR/numba/<digest>`` (else
``$XDG_CACHE_HOME/relsim/numba/<digest>``, else ``~/.cache/relsim/numba/<digest>``; the
digest is of the compiled sources, so an edited callee is never run from a stale
cache; a ``NUMBA_CACHE_DIR`` the user set wins), shared by every process on the
machine. numba reads its cache
directory when it is first imported, so this module sets it before importing numba (and
corrects numba's configuration if numba was imported first).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["cache_dir", "shared", "source_digest"]


def source_digest() -> str:
    """A digest of the compiled code's sources (``kernel/*.py`` and this package's
    ``arith``, ``codes`` and ``jit``), 16 hex digits. numba checks only the file that
    defines a function before it loads that function's cached code, while the kernel's
    cached loop holds the code of every function it calls, in other files: a changed
    callee would be run stale. Keying the cache directory by the sources' content makes
    any change a fresh directory."""
    import contextlib
    import hashlib

    here = os.path.dirname(os.path.abspath(__file__))
    kernel = os.path.join(os.path.dirname(here), "kernel")
    files = [os.path.join(here, f) for f in ("arith.py", "codes.py", "jit.py")]
    with contextlib.suppress(OSError):  # an installation without the kernel
        files += sorted(os.path.join(kernel, f) for f in os.listdir(kernel) if f.endswith(".py"))
    h = hashlib.sha256()
    for f in files:
        try:
            with open(f, "rb") as fh:
                h.update(os.path.basename(f).encode() + b"\0" + fh.read() + b"\0")
        except OSError:  # pragma: no cover
            continue
    return h.hexdigest()[:16]


def cache_dir() -> str:
    """The directory numba caches relsim's compiled code in: one per content of the
    compiled sources (:func:`source_digest`)."""
    base = os.environ.get("RELSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "relsim",
    )
    return os.path.join(base, "numba", source_digest())


# numba reads its cache directory when it is first imported (a NUMBA_CACHE_DIR the user
# set wins); worker processes inherit the variable or compute the same directory
os.environ.setdefault("NUMBA_CACHE_DIR", cache_dir())
if "numba" in sys.modules:  # imported before this module: its configuration is read
    from numba.core import config as _config

    if not _config.CACHE_DIR:
        _config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

from numba import njit, types  # noqa: E402


def unliteral_dispatch(disp: Any) -> Any:
    """Make ``disp`` compile one version per argument *types*: a constant argument does not
    make a version of its own, as numba's literal dispatch otherwise would (a third of the
    kernel's compile time)."""
    get_template = disp.get_call_template

    def get_call_template(args: Any, kws: Any) -> Any:
        return get_template(tuple(types.unliteral(a) for a in args), kws)

    disp.get_call_template = get_call_template
    return disp


def shared(fn: Callable[..., Any]) -> Any:
    """A function compiled once and called by both engines: from Python by the SimPy
    engine, from compiled code by the kernel (cached on disk; one version per argument
    types)."""
    return unliteral_dispatch(njit(cache=True)(fn))
