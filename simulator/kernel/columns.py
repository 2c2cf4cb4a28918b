"""Kernel logs (column arrays) → the structured arrays of a Trace."""

from __future__ import annotations

import numpy as np

from simulator.world.trace import Log

__all__ = ["log_columns"]


def log_columns(log: Log, rows: np.ndarray) -> np.ndarray:
    """The structured array :meth:`Log.array` makes of the same rows, from the kernel's
    rows: a float array with one column per column of ``log``, in order (integers in it
    are exact)."""
    out = np.zeros(rows.shape[0], dtype=log.dtype)
    for j, c in enumerate(log.columns):
        out[c.name] = rows[:, j]
    out.flags.writeable = False
    return out
