"""Kernel logs (column arrays) → the structured arrays of a Trace."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.world.trace import Log

__all__ = ["log_columns"]


def log_columns(log: Log, cols: Any) -> np.ndarray:
    """The structured array :meth:`Log.array` makes of the same rows, from the kernel's
    columns: five arrays (time, kind, id, tonnes, detail), or ``(ints, last)`` with the
    integer columns side by side and the last (float) column."""
    names = [c.name for c in log.columns]
    if len(cols) == 2:
        ints, last = cols
        cols = [ints[:, j] for j in range(ints.shape[1])] + [last]
    n = len(cols[0])
    out = np.zeros(n, dtype=log.dtype)
    for name, col in zip(names, cols, strict=True):
        out[name] = col
    out.flags.writeable = False
    return out
