"""The production lines on arrays: :mod:`simulator.world.manufacturing`'s ``Plants``.

State lives in :data:`~simulator.kernel.layout.Lines` (``PV`` per part: inventory, on
order, lead-time estimate; ``MV`` per line: backlog, today's output, finished output not
yet shipped; ``REC``/``RECL`` the daily records). A plant's day is the shared
:func:`simulator.world.arith.plant_day`; the orders it decides are placed by the wiring
(:func:`simulator.kernel.loop.place_order`), as ``Plants`` calls back ``World``.
"""

from __future__ import annotations

import numpy as np

from simulator.kernel.heap import inline, inner
from simulator.kernel.layout import (
    LF_OUT_TPU,
    LI_BACKLOG,
    MV_BACKLOG,
    MV_OUTPUT,
    PF_ADAPT,
    PF_MD,
    PF_ORDER_DAYS,
    PF_REACT_GAIN,
    PF_REACT_KEEP,
    PF_REACT_MAX,
    PF_SAFETY,
    PF_TPU,
    PI_IS_SS,
    PI_LINE,
    PI_REVIEW,
    PV_EXTRA,
    PV_INV,
    PV_LEAD,
    PV_ON_ORDER,
    REC_BACKLOG,
    REC_CONSUMED,
    REC_INVENTORY,
    REC_ON_ORDER,
    REC_SHORTFALL,
    REC_STOCKOUT,
    RECL_BACKLOG,
    RECL_MADE,
    RECL_SHORT,
)
from simulator.world import arith

__all__ = ["cancel", "cover_days", "receive", "step"]


@inline
def cover_days(ln, ld, p):
    """Plants.cover_days: days of mean need part ``p``'s stock covers."""
    md = ld.PF[PF_MD, p]
    return np.inf if md <= 0 else ln.PV[PV_INV, p] / md


@inline
def receive(ln, ld, p, tonnes, lead_days, learn):
    """Plants.receive: goods delivered for part ``p``; its lead-time estimate moves towards
    the observed order-to-delivery time (``learn`` False: nothing to learn)."""
    PV = ln.PV
    PV[PV_INV, p] += tonnes
    PV[PV_ON_ORDER, p] -= tonnes
    ad = ld.PF[PF_ADAPT, p]
    if ad > 0 and learn:
        PV[PV_LEAD, p] += ad * (lead_days - PV[PV_LEAD, p])


@inline
def cancel(ln, p, tonnes):
    """Plants.cancel: part of part ``p``'s order will never come."""
    ln.PV[PV_ON_ORDER, p] -= tonnes


@inner
def step(S, ln, ld, d, qty):
    """Plants.step: make, record and decide orders for day ``d``
    (:func:`simulator.world.arith.plant_day`); ``qty`` receives each part's order
    (0: none), already counted on order; the caller places them."""
    PV, MV, REC, RECL = ln.PV, ln.MV, ln.REC, ln.RECL
    PI, PF = ld.PI, ld.PF
    arith.plant_day(
        d,
        ln.DEM[d],
        PV[PV_INV],
        PV[PV_ON_ORDER],
        PV[PV_LEAD],
        ld.ahead[d],
        MV[MV_BACKLOG],
        PI[PI_LINE],
        PF[PF_TPU],
        PF[PF_MD],
        ld.LI[LI_BACKLOG],
        PI[PI_IS_SS],
        PI[PI_REVIEW],
        PF[PF_SAFETY],
        PV[PV_EXTRA],
        PF[PF_REACT_GAIN],
        PF[PF_REACT_MAX],
        PF[PF_REACT_KEEP],
        PF[PF_ORDER_DAYS],
        ld.LF[LF_OUT_TPU],
        REC[REC_CONSUMED, d],
        REC[REC_SHORTFALL, d],
        REC[REC_STOCKOUT, d],
        RECL[RECL_MADE, d],
        RECL[RECL_SHORT, d],
        MV[MV_OUTPUT],
        REC[REC_BACKLOG, d],
        qty,
    )


@inner
def record_end(S, ln, d):
    """The end of Plants.step, after the orders: stock, on order and backlog of day ``d``."""
    PV, REC, RECL, MV = ln.PV, ln.REC, ln.RECL, ln.MV
    for p in range(S.P):
        REC[REC_INVENTORY, d, p] = PV[PV_INV, p]
        REC[REC_ON_ORDER, d, p] = PV[PV_ON_ORDER, p]
    for m in range(S.M):
        RECL[RECL_BACKLOG, d, m] = MV[MV_BACKLOG, m]
