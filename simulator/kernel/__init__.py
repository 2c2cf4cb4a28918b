"""The compiled kernel: the SimPy engine's model on arrays, compiled with numba.

:func:`simulate_kernel` returns the same :class:`~simulator.world.trace.Trace` as the
SimPy reference (:func:`simulator.world.simulate`), many times faster. The compiled code
is cached on disk (:mod:`simulator.world.jit` says where), shared by every process on the
machine; the first run on a machine compiles it (~15 s).
"""

from __future__ import annotations

from simulator.kernel.engine import simulate_kernel, warm
from simulator.world import jit as _jit  # noqa: F401  (numba's cache directory, set first)

__all__ = ["simulate_kernel", "warm"]
