"""Compiling with numba: where the compiled code is cached, and the decorator of the
functions both engines call (:mod:`simulator.world.arith`) and of the kernel's own.

The compiled code is cached on disk in ``$RELSIM_CACHE_DIR/numba`` (else
``$XDG_CACHE_HOME/relsim/numba``, else ``~/.cache/relsim/numba``; a ``NUMBA_CACHE_DIR``
the user set wins), shared by every process on the machine. numba reads its cache
directory when it is first imported, so this module sets it before importing numba (and
corrects numba's configuration if numba was imported first).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["cache_dir", "shared"]


def cache_dir() -> str:
    """The directory numba caches relsim's compiled code in."""
    base = os.environ.get("RELSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "relsim",
    )
    return os.path.join(base, "numba")


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
