"""The compiled kernel: the SimPy engine's model on arrays, compiled with numba.

:func:`simulate_kernel` returns the same :class:`~simulator.world.trace.Trace` as the
SimPy reference (:func:`simulator.world.simulate`), many times faster. The compiled code
is cached on disk in ``$RELSIM_CACHE_DIR/numba`` (else ``$XDG_CACHE_HOME/relsim/numba``,
else ``~/.cache/relsim/numba``; ``NUMBA_CACHE_DIR`` if set wins), shared by every process
on the machine; the first run on a machine compiles it (~15 s).
"""

from __future__ import annotations

import os
import sys


def _cache_dir() -> str:
    base = os.environ.get("RELSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "relsim",
    )
    return os.path.join(base, "numba")


# numba reads its cache directory when it is first imported (a NUMBA_CACHE_DIR the user
# set wins); worker processes inherit the variable or compute the same directory
os.environ.setdefault("NUMBA_CACHE_DIR", _cache_dir())
if "numba" in sys.modules:  # imported before this package: its configuration is read
    from numba.core import config as _config

    if not _config.CACHE_DIR:
        _config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]

from simulator.kernel.engine import simulate_kernel, warm  # noqa: E402

__all__ = ["simulate_kernel", "warm"]
