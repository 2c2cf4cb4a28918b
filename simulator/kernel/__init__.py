"""The compiled kernel: the SimPy engine's model on arrays, compiled with numba.

:func:`simulate_kernel` returns the same :class:`~simulator.world.trace.Trace` as the
SimPy reference (:func:`simulator.world.simulate`), many times faster. The compiled code
is cached on disk (``RELSIM_CACHE_DIR``, default ``~/.cache/relsim``; ``numba/`` in it),
shared by worker processes; the first run on a machine compiles it.
"""

from __future__ import annotations

import os


def _cache_dir() -> str:
    base = os.environ.get("RELSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "relsim",
    )
    return os.path.join(base, "numba")


# numba reads its cache directory when it is first imported
os.environ.setdefault("NUMBA_CACHE_DIR", _cache_dir())

from simulator.kernel.engine import simulate_kernel, warm  # noqa: E402

__all__ = ["simulate_kernel", "warm"]
