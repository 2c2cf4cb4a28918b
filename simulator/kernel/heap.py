"""The kernel's core, like SimPy's: the event heap, timeouts and callbacks, the logs, the
working-day clock — and how compiled functions are declared and arrays borrowed.

One heap of events ordered by ``(time, priority, sequence)``, the sequence counting every
event scheduled, exactly as SimPy's ``(time, priority, event id)``: policy changes
(priority -1), process starts and interrupts (0, SimPy's URGENT), timeouts and succeeded
events (1, NORMAL), the plants' daily step (2). Event times are computed with the same
expressions as SimPy (``now + delay``), so they are bit-identical.

How it stays fast and cheap to compile (measure before changing any of it):

* all state is preallocated numpy arrays (:func:`simulator.kernel.engine.simulate_kernel`):
  the heap, the reviewers' queue, the logs; one that runs out sets a bit of
  ``IV[I_FULL]``, the loop stops, and the engine enlarges it and reruns the replication
  (same draws, same result);
* :func:`simulator.kernel.loop.run_loop` *borrows* every array (:func:`borrow`: the same
  array without its owner) before grouping them in the named tuples of
  :mod:`simulator.kernel.layout`, so passing one to a compiled function costs no atomic
  reference count (those were 60 % of the time);
* the functions on the hot path are inlined into their callers (:func:`inline`), the
  others are compiled once for their argument types (:func:`inner`: no version per
  constant argument, no Python wrapper). A call to an ``inner`` function passes every
  array and scalar of its named-tuple arguments one by one: one taking the draws'
  offsets (``D``) and several groups of arrays costs ~1,000 cycles a call, so those on
  the path of every contract, application and shipment (``goods.new``,
  ``goods.needs_licence``, ``goods.produce``, ``authority.submit``) are inlined (the
  case study's loop 2.4× faster in cycles, no clear change in compile time); the heap's
  and the logs' take a few arrays and stay ``inner``.
"""

from __future__ import annotations

from numba import njit
from numba.core import cgutils
from numba.extending import intrinsic

from simulator.kernel.layout import (
    EV_GOODS,
    F_NOW,
    FULL_ALOG,
    FULL_GLOG,
    FULL_HEAP,
    H_A,
    H_B,
    H_KIND,
    H_PRIO,
    H_SEQ,
    H_T,
    H_X,
    I_AN,
    I_FULL,
    I_GN,
    I_HN,
    I_SEQ,
    N_H,
    P_NORMAL,
)
from simulator.world import arith
from simulator.world.jit import unliteral_dispatch

__all__ = [
    "add_work",
    "alog",
    "at",
    "borrow",
    "glog",
    "heap_pop",
    "inline",
    "inner",
    "schedule",
    "timeout",
    "work_time",
]


def inline(fn):
    """A small compiled function inlined where it is called (numba IR inlining): no call,
    no arguments to pass, compiled only as part of its callers."""
    return njit(inline="always", no_cpython_wrapper=True)(fn)


def inner(fn):
    """A compiled function called only from compiled code: cached on disk, no Python
    wrapper, one version per argument *types* (:func:`simulator.world.jit.unliteral_dispatch`)."""
    return unliteral_dispatch(njit(cache=True, no_cpython_wrapper=True)(fn))


@intrinsic
def borrow(typingctx, arr):
    """The same array without its owner (a null meminfo): passing it to a compiled call
    costs no atomic reference count. Valid while the caller holds the original."""

    def codegen(context, builder, sig, args):
        src = context.make_array(sig.args[0])(context, builder, args[0])
        out = context.make_array(sig.return_type)(context, builder)
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        out.nitems = src.nitems
        out.itemsize = src.itemsize
        out.data = src.data
        out.shape = src.shape
        out.strides = src.strides
        return out._getvalue()

    return arr(arr), codegen


# ---------------------------------------------------------------------------- clock
@inner
def work_time(S, cum, working, t):
    """ScalarClock.work_time (:func:`simulator.world.arith.work_time`)."""
    return arith.work_time(S.identity, cum, working, t)


@inner
def add_work(S, cum, working, t, w):
    """ScalarClock.add_work (:func:`simulator.world.arith.add_work`)."""
    return arith.add_work(S.identity, cum, working, S.w_max, t, w)


# ---------------------------------------------------------------------------- events
@inner
def schedule(IV, heap, t, prio, kind, a, b, x):
    """Environment.schedule: push an event; the heap is ordered by ``(t, prio, seq)``, all
    distinct (``seq``)."""
    seq = IV[I_SEQ]
    IV[I_SEQ] = seq + 1
    n = IV[I_HN]
    if n >= heap.shape[0]:
        IV[I_FULL] |= FULL_HEAP
        return
    fp = float(prio)
    fs = float(seq)
    i = n
    while i > 0:
        j = (i - 1) >> 1
        pt = heap[j, H_T]
        if t < pt or (
            t == pt and (fp < heap[j, H_PRIO] or (fp == heap[j, H_PRIO] and fs < heap[j, H_SEQ]))
        ):
            for c in range(N_H):
                heap[i, c] = heap[j, c]
            i = j
        else:
            break
    heap[i, H_T] = t
    heap[i, H_PRIO] = fp
    heap[i, H_SEQ] = fs
    heap[i, H_KIND] = kind
    heap[i, H_A] = a
    heap[i, H_B] = b
    heap[i, H_X] = x
    IV[I_HN] = n + 1


@inner
def heap_pop(IV, heap):
    """Environment.step's pop: remove the heap's first row (read it before)."""
    n = IV[I_HN] - 1
    IV[I_HN] = n
    if n == 0:
        return
    t = heap[n, H_T]
    fp = heap[n, H_PRIO]
    fs = heap[n, H_SEQ]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        r = c + 1
        if r < n:
            ct, rt = heap[c, H_T], heap[r, H_T]
            if rt < ct or (
                rt == ct
                and (
                    heap[r, H_PRIO] < heap[c, H_PRIO]
                    or (heap[r, H_PRIO] == heap[c, H_PRIO] and heap[r, H_SEQ] < heap[c, H_SEQ])
                )
            ):
                c = r
        ct = heap[c, H_T]
        if ct < t or (
            ct == t and (heap[c, H_PRIO] < fp or (heap[c, H_PRIO] == fp and heap[c, H_SEQ] < fs))
        ):
            for k in range(N_H):
                heap[i, k] = heap[c, k]
            i = c
        else:
            break
    if i != n:
        for k in range(N_H):
            heap[i, k] = heap[n, k]


@inner
def timeout(IV, F, heap, delay, kind, a, b, x):
    """Environment.timeout: a NORMAL event ``delay`` after now; returns its sequence."""
    seq = IV[I_SEQ]
    schedule(IV, heap, F[F_NOW] + delay, P_NORMAL, kind, a, b, x)
    return seq


@inner
def at(IV, F, heap, t, sh, action, x):
    """Goods.at: a goods callback at time ``t`` (``max(0, t - now)`` from now)."""
    timeout(IV, F, heap, max(0.0, t - F[F_NOW]), EV_GOODS, sh, action, x)


@inner
def log_row(IV, F, log, counter, full_bit, kind, who, tonnes, detail):
    """A row (time, kind, application or shipment, tonnes, detail) of a log whose row count
    is ``IV[counter]`` (a full log sets ``full_bit``)."""
    n = IV[counter]
    if n >= log.shape[0]:
        IV[I_FULL] |= full_bit
        return
    log[n, 0] = F[F_NOW]
    log[n, 1] = kind
    log[n, 2] = who
    log[n, 3] = tonnes
    log[n, 4] = detail
    IV[counter] = n + 1


@inner
def alog(IV, F, log, kind, app, tonnes, detail):
    """A row of the authority log (``LicensingAuthority.log.append``)."""
    log_row(IV, F, log, I_AN, FULL_ALOG, kind, app, tonnes, detail)


@inner
def glog(IV, F, log, kind, sh, tonnes, detail):
    """A row of the goods log (``Goods.log.append``)."""
    log_row(IV, F, log, I_GN, FULL_GLOG, kind, sh, tonnes, detail)
