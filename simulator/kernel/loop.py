"""The compiled event loop: the SimPy engine's model, event for event, on arrays.

This is a line-by-line port of :mod:`simulator.world` (licensing, goods, manufacturing,
world wiring) to numba. The SimPy engine stays the readable reference; read the
semantics there. What this module adds is the *mechanics* SimPy provides:

* one heap of events ordered by ``(time, priority, sequence)``, the sequence counting
  every event scheduled, exactly as SimPy's ``(time, priority, eid)``: policy changes
  (priority -1), process starts and interrupts (0, SimPy's URGENT), timeouts and
  succeeded events (1, NORMAL), the plants' daily step (2). Event times are computed
  with the same expressions as SimPy (``now + (t - now)``), so they are bit-identical;
* each application's process is a state machine (``pc``: where its generator is
  suspended); a timeout that an interrupt made stale carries an old token and is
  skipped, as SimPy drops the interrupted process's callback;
* the policy's ``changed`` event is a generation counter with its waiters in order.

Every number (times, draws, tonnes) follows the same arithmetic in the same order as
the reference, so the two engines' traces are identical
(``tests/kernel/test_differential.py``).

How it stays fast and cheap to compile (measure before changing any of it):

* all state is preallocated numpy arrays (:func:`simulator.kernel.engine._state`):
  the heap, the reviewers' queue, the logs; one that runs out sets a bit of
  ``IV[I_FULL]``, the loop stops, and the engine enlarges it and reruns the replication
  (same draws, same result). No lists, no tuples of arrays;
* :func:`run_loop` *borrows* every array (:func:`_borrow`: the same array without its
  owner), so passing one to a compiled function costs no atomic reference count (those
  were 60 % of the time);
* the scenario's and the draws' scalars travel as tuples of scalars, arrays as
  separate arguments; the functions on the hot path are inlined into their callers
  (:func:`_inline`), the others are compiled once for their argument types
  (:func:`_inner`: no version per constant argument, no Python wrapper).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.core import cgutils
from numba.extending import intrinsic

from simulator.world import arith
from simulator.world.codes import (
    DEADLINE_RULES,
    Ev,
    G,
    Outcome,
    Priority,
    Source,
    effect_column,
)
from simulator.world.jit import unliteral_dispatch


def _inline(fn):
    """A small compiled function inlined where it is called (numba IR inlining): no call,
    no arguments to pass, compiled only as part of its callers."""
    return njit(inline="always", no_cpython_wrapper=True)(fn)


def _inner(fn):
    """A compiled function called only from compiled code: cached on disk, no Python
    wrapper, one version per argument *types* (:func:`simulator.world.jit.unliteral_dispatch`)."""
    return unliteral_dispatch(njit(cache=True, no_cpython_wrapper=True)(fn))


# event priorities (simulator.world.codes.Priority) and kinds
P_POLICY, P_URGENT, P_NORMAL, P_DAILY = (
    Priority.POLICY,
    Priority.URGENT,
    Priority.NORMAL,
    Priority.DAILY,
)
(
    EV_UNTIL,
    EV_POLICY,
    EV_APP_INIT,
    EV_INTERRUPT,
    EV_APP_TIMEOUT,
    EV_WAKE,
    EV_DL_TIMER,
    EV_CHANGED,
    EV_BG,
    EV_DAILY,
    EV_GOODS,
    EV_BG_INIT,
    EV_DAILY_INIT,
) = range(13)
# goods actions
GA_PRESENT, GA_DEPART, GA_CLEAR, GA_ARRIVE = range(4)
# authority log kinds (simulator.world.codes.Ev) and goods log kinds (G)
EV_SUBMIT, EV_RETURN, EV_ACCEPT = Ev.SUBMIT, Ev.RETURN, Ev.ACCEPT
EV_REVIEW_START, EV_INFO_REQ, EV_INFO_RESP = Ev.REVIEW_START, Ev.INFO_REQUEST, Ev.INFO_RESPONSE
EV_DECIDE, EV_PARK, EV_EXTEND = Ev.DECIDE, Ev.PARK, Ev.EXTEND
G_ORDER, G_APPLY, G_DENIED, G_EXPIRED, G_PRESENTED = (
    G.ORDER,
    G.APPLY,
    G.DENIED,
    G.EXPIRED,
    G.PRESENTED,
)
G_HELD, G_RELEASED, G_DEPARTED, G_ARRIVED = G.HELD, G.RELEASED, G.DEPARTED, G.ARRIVED
AT_DEADLINE = Outcome.AT_DEADLINE
SRC_BACKGROUND, SRC_ORDER, SRC_PIPELINE = Source.BACKGROUND, Source.ORDER, Source.PIPELINE
# deadline rules (simulator.world.codes.DEADLINE_RULES)
R_DECIDE, R_APPROVE, R_DENY, R_EXTEND, R_CONTINUE = (
    DEADLINE_RULES.index(r) for r in ("decide", "approve", "deny", "extend", "continue")
)
# effects columns (simulator.world.codes.EFFECT_COLUMNS)
E_RTF, E_APPROVE, E_INFO, E_PRIORITY = (
    effect_column(c) for c in ("rtf", "approve", "info", "priority")
)
E_SUSPEND, E_LICENCE, E_VALIDITY = (effect_column(c) for c in ("suspend", "licence", "validity"))
E_HOLD, E_INSP_P, E_INSP_I = (effect_column(c) for c in ("hold", "insp_p", "insp_i"))
E_PARK_P, E_PARK_I = (effect_column(c) for c in ("park_p", "park_i"))
# application labels (where its process resumes)
(
    L_START,
    L_INTAKE,
    L_SCREENED,
    L_RESUBMITTED,
    L_ACCEPT,
    L_QUEUE,
    L_WOKEN,
    L_REVIEW,
    L_WORK,
    L_WORK_DONE,
    L_INTERRUPTED,
    L_AFTER_WORK,
    L_INFO_DONE,
    L_DECISION,
    L_DEC_LOOP,
    L_SUSPEND_CHANGED,
    L_PARK_WAIT,
    L_PARK_CHANGED,
    L_PARK_DONE,
    L_DECIDE,
    L_DONE,
) = range(21)

# columns of the packed state arrays (simulator.kernel.engine builds them)
(
    A_DRAW,
    A_CLASS,
    A_SHIP,
    A_PC,
    A_TOKEN,
    A_RETURNS,
    A_R,
    A_EFF,
    A_NPTS,
    A_EXTENDED,
    A_FORCED,
    A_K,
    A_INREV,
    A_INREV_ORD,
    A_HIT,
    A_PARKED,
    A_WAITING,
    A_REQ,
) = range(18)
N_AI = 18
(
    AF_TONNES,
    AF_DONE,
    AF_USED,
    AF_CSTART,
    AF_DEADLINE,
    AF_STOP,
    AF_TODO,
    AF_FACTOR,
    AF_T0,
    AF_TDONE,
    AF_TEND,
) = range(11)
N_AF = 11
R_APP, R_TRIG, R_VAL, R_CANCEL = range(4)
(
    SH_SRC,
    SH_INDEX,
    SH_CLASS,
    SH_PART,
    SH_EX,
    SH_ORIGIN,
    SH_DEST,
    SH_MADE,
    SH_CUSTOMS,
    SH_DSRC,
    SH_DRAW,
    SH_LEAD,
    SH_BO_NEXT,
) = range(13)
N_SI = 13
SF_TONNES, SF_TORDER, SF_EXPIRY, SF_BO_LEFT = range(4)
N_SF = 4

# scalar state: ints and floats
(
    I_SEQ,
    I_GEN,
    I_NAPP,
    I_NSHIP,
    I_NREQ,
    I_STATE,
    I_BUSY,
    I_CAP,
    I_NCANCEL,
    I_POOLSEQ,
    I_AWAIT,
    I_INSYS,
    I_NSUB,
    I_NDEC,
    I_BGPOS,
    I_REVSEQ,
    I_ERR,
    I_HN,
    I_PN,
    I_AN,
    I_GN,
    I_NHELD,
    I_NWAIT,
    I_FULL,
) = range(24)
N_I = 24
# IV[I_FULL] bits: which preallocated array ran out (the engine enlarges it and reruns)
FULL_HEAP, FULL_WAIT, FULL_ALOG, FULL_GLOG = 1, 2, 4, 8
# event heap rows (floats; the integers in them are exact): the key, then the payload
H_T, H_PRIO, H_SEQ, H_KIND, H_A, H_B, H_X = range(7)
N_H = 7
F_NOW = 0


# ---------------------------------------------------------------------------- borrowed arrays
@intrinsic
def _borrow(typingctx, arr):
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
@_inline
def work_time(S, D, S_cum, S_working, t):
    """ScalarClock.work_time (:func:`simulator.world.arith.work_time`)."""
    return arith.work_time(S.identity, S_cum, S_working, t)


@_inline
def add_work(S, D, S_cum, S_working, t, w):
    """ScalarClock.add_work (:func:`simulator.world.arith.add_work`)."""
    return arith.add_work(S.identity, S_cum, S_working, S.w_max, t, w)


# ---------------------------------------------------------------------------- events
@_inner
def schedule(S, D, IV, L_heap, t, prio, kind, a, b, x):
    """Push an event; the heap is ordered by ``(t, prio, seq)``, all distinct (``seq``)."""
    seq = IV[I_SEQ]
    IV[I_SEQ] = seq + 1
    n = IV[I_HN]
    if n >= L_heap.shape[0]:
        IV[I_FULL] |= FULL_HEAP
        return
    fp = float(prio)
    fs = float(seq)
    i = n
    while i > 0:
        j = (i - 1) >> 1
        pt = L_heap[j, H_T]
        if t < pt or (
            t == pt
            and (fp < L_heap[j, H_PRIO] or (fp == L_heap[j, H_PRIO] and fs < L_heap[j, H_SEQ]))
        ):
            for c in range(N_H):
                L_heap[i, c] = L_heap[j, c]
            i = j
        else:
            break
    L_heap[i, H_T] = t
    L_heap[i, H_PRIO] = fp
    L_heap[i, H_SEQ] = fs
    L_heap[i, H_KIND] = kind
    L_heap[i, H_A] = a
    L_heap[i, H_B] = b
    L_heap[i, H_X] = x
    IV[I_HN] = n + 1


@_inner
def heap_pop(IV, L_heap):
    """Remove the heap's first row (read it before)."""
    n = IV[I_HN] - 1
    IV[I_HN] = n
    if n == 0:
        return
    t = L_heap[n, H_T]
    fp = L_heap[n, H_PRIO]
    fs = L_heap[n, H_SEQ]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        r = c + 1
        if r < n:
            ct, rt = L_heap[c, H_T], L_heap[r, H_T]
            if rt < ct or (
                rt == ct
                and (
                    L_heap[r, H_PRIO] < L_heap[c, H_PRIO]
                    or (
                        L_heap[r, H_PRIO] == L_heap[c, H_PRIO]
                        and L_heap[r, H_SEQ] < L_heap[c, H_SEQ]
                    )
                )
            ):
                c = r
        ct = L_heap[c, H_T]
        if ct < t or (
            ct == t
            and (L_heap[c, H_PRIO] < fp or (L_heap[c, H_PRIO] == fp and L_heap[c, H_SEQ] < fs))
        ):
            for k in range(N_H):
                L_heap[i, k] = L_heap[c, k]
            i = c
        else:
            break
    if i != n:
        for k in range(N_H):
            L_heap[i, k] = L_heap[n, k]


@_inner
def timeout(S, D, F, IV, L_heap, delay, kind, a, b, x):
    """A NORMAL event ``delay`` after now (SimPy's ``env.timeout``); returns its seq."""
    seq = IV[I_SEQ]
    schedule(S, D, IV, L_heap, F[F_NOW] + delay, P_NORMAL, kind, a, b, x)
    return seq


@_inner
def at(S, D, F, IV, L_heap, t, a, action, x):
    """Goods.at: a callback at time ``t`` (``max(0, t - now)`` from now)."""
    now = F[F_NOW]
    timeout(S, D, F, IV, L_heap, max(0.0, t - now), EV_GOODS, a, action, x)


@_inner
def alog(S, D, F, IV, L_alog, kind, app, tonnes, detail):
    n = IV[I_AN]
    if n >= L_alog.shape[0]:
        IV[I_FULL] |= FULL_ALOG
        return
    L_alog[n, 0] = F[F_NOW]
    L_alog[n, 1] = kind
    L_alog[n, 2] = app
    L_alog[n, 3] = tonnes
    L_alog[n, 4] = detail
    IV[I_AN] = n + 1


@_inner
def glog(S, D, F, IV, L_glog, kind, sh, tonnes, detail):
    n = IV[I_GN]
    if n >= L_glog.shape[0]:
        IV[I_FULL] |= FULL_GLOG
        return
    L_glog[n, 0] = F[F_NOW]
    L_glog[n, 1] = kind
    L_glog[n, 2] = sh
    L_glog[n, 3] = tonnes
    L_glog[n, 4] = detail
    IV[I_GN] = n + 1


# ---------------------------------------------------------------------------- reviewer pool
@_inner
def pool_dispatch(S, D, F, IV, L_heap, L_pool, RQ):
    while IV[I_PN] > 0 and IV[I_BUSY] < IV[I_CAP]:
        req = L_pool[0, 2]
        pool_pop(IV, L_pool)
        if RQ[req, R_CANCEL]:
            RQ[req, R_CANCEL] = False
            IV[I_NCANCEL] -= 1
            continue
        IV[I_BUSY] += 1
        RQ[req, R_TRIG] = True
        RQ[req, R_VAL] = 0
        schedule(S, D, IV, L_heap, F[F_NOW], P_NORMAL, EV_WAKE, req, 0, 0.0)


@_inner
def pool_try_acquire(S, D, IV, L_pool):
    if IV[I_BUSY] < IV[I_CAP] and IV[I_PN] == 0:
        IV[I_BUSY] += 1
        return True
    return False


@_inner
def pool_request(S, D, IV, L_pool, RQ, a, priority):
    req = IV[I_NREQ]
    IV[I_NREQ] = req + 1
    RQ[req, R_APP] = a
    RQ[req, R_TRIG] = False
    RQ[req, R_CANCEL] = False
    IV[I_POOLSEQ] += 1
    pool_push(IV, L_pool, -priority, IV[I_POOLSEQ], req)
    return req


@_inner
def pool_push(IV, Q, k0, k1, req):
    """Push a request on the reviewers' queue, ordered by ``(-priority, seq)``."""
    n = IV[I_PN]
    i = n
    while i > 0:
        j = (i - 1) >> 1
        if k0 < Q[j, 0] or (k0 == Q[j, 0] and k1 < Q[j, 1]):
            Q[i, 0] = Q[j, 0]
            Q[i, 1] = Q[j, 1]
            Q[i, 2] = Q[j, 2]
            i = j
        else:
            break
    Q[i, 0] = k0
    Q[i, 1] = k1
    Q[i, 2] = req
    IV[I_PN] = n + 1


@_inner
def pool_pop(IV, Q):
    """Remove the queue's first row."""
    n = IV[I_PN] - 1
    IV[I_PN] = n
    if n == 0:
        return
    k0 = Q[n, 0]
    k1 = Q[n, 1]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        r = c + 1
        if r < n and (Q[r, 0] < Q[c, 0] or (Q[r, 0] == Q[c, 0] and Q[r, 1] < Q[c, 1])):
            c = r
        if Q[c, 0] < k0 or (Q[c, 0] == k0 and Q[c, 1] < k1):
            Q[i, 0] = Q[c, 0]
            Q[i, 1] = Q[c, 1]
            Q[i, 2] = Q[c, 2]
            i = c
        else:
            break
    if i != n:
        Q[i, 0] = Q[n, 0]
        Q[i, 1] = Q[n, 1]
        Q[i, 2] = Q[n, 2]


@_inner
def arm_deadline(S, D, AF, F, IV, L_heap, a, req):
    now = F[F_NOW]
    timeout(S, D, F, IV, L_heap, max(0.0, AF[a, AF_DEADLINE] - now), EV_DL_TIMER, a, req, 0.0)


@_inline
def deadline_fire(S, D, AF, AI, DF, F, IV, L_alog, L_heap, RQ, S_cum, S_working, a, req):
    if RQ[req, R_TRIG]:
        return
    if S.rule == R_EXTEND and not AI[a, A_EXTENDED]:
        AI[a, A_EXTENDED] = True
        AF[a, AF_DEADLINE] = add_work(
            S, D, S_cum, S_working, F[F_NOW], DF[D.o_extension + AI[a, A_DRAW]]
        )
        alog(S, D, F, IV, L_alog, EV_EXTEND, a, 0.0, DF[D.o_extension + AI[a, A_DRAW]])
        arm_deadline(S, D, AF, F, IV, L_heap, a, req)
        return
    RQ[req, R_CANCEL] = True
    IV[I_NCANCEL] += 1
    RQ[req, R_TRIG] = True
    RQ[req, R_VAL] = 1
    schedule(S, D, IV, L_heap, F[F_NOW], P_NORMAL, EV_WAKE, req, 0, 0.0)


# ---------------------------------------------------------------------------- policy
@_inner
def policy_changed(
    S,
    D,
    CAPV,
    AF,
    AI,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_gen_start,
    L_glog,
    L_heap,
    L_held,
    L_pool,
    L_waiters,
    PV,
    RQ,
    SF,
    SI,
    S_LI,
    S_PF,
    S_PI,
    S_lane_of,
    S_release_rate,
    S_transit_of,
    XF,
    state,
):
    """PolicyController._apply → World._policy_changed → authority and port; then the
    ``changed`` event succeeds."""
    IV[I_STATE] = state
    # authority.on_regime_change: capacity now (dispatch), then re-plan reviews
    IV[I_CAP] = CAPV[state]
    pool_dispatch(S, D, F, IV, L_heap, L_pool, RQ)
    n = IV[I_NAPP]
    m = 0
    for a in range(n):
        if AI[a, A_INREV]:
            m += 1
    if m > 0:
        order = np.empty(m, dtype=np.int64)
        apps = np.empty(m, dtype=np.int64)
        j = 0
        for a in range(n):
            if AI[a, A_INREV]:
                order[j] = AI[a, A_INREV_ORD]
                apps[j] = a
                j += 1
        idx = np.argsort(order)
        for jj in range(m):
            a = apps[idx[jj]]
            if EFF[state, AI[a, A_CLASS], E_RTF] != AF[a, AF_FACTOR]:
                schedule(S, D, IV, L_heap, F[F_NOW], P_URGENT, EV_INTERRUPT, a, 0, 0.0)
    # goods.recheck_holds
    recheck_holds(
        S,
        D,
        CNT,
        DF,
        DI,
        EFF,
        F,
        IV,
        L_glog,
        L_heap,
        L_held,
        PV,
        SF,
        SI,
        S_LI,
        S_PF,
        S_PI,
        S_lane_of,
        S_release_rate,
        S_transit_of,
        XF,
    )
    # ctrl.changed succeeds; a new one replaces it
    g = IV[I_GEN]
    schedule(S, D, IV, L_heap, F[F_NOW], P_NORMAL, EV_CHANGED, g, 0, 0.0)
    IV[I_GEN] = g + 1
    L_gen_start[g + 1] = IV[I_NWAIT]


@_inner
def wait_changed(S, D, IV, L_waiters, a):
    n = IV[I_NWAIT]
    if n >= L_waiters.size:
        IV[I_FULL] |= FULL_WAIT
        return
    L_waiters[n] = a
    IV[I_NWAIT] = n + 1


# ---------------------------------------------------------------------------- applications
@_inner
def world_apply(S, D, AF, AI, CNT, DI, F, IV, L_apps, L_glog, L_heap, SF, SI, sh):
    """World._apply: submit an application for shipment ``sh``."""
    a = IV[I_NAPP]
    IV[I_NAPP] = a + 1
    src = SI[sh, SH_DSRC]
    i = CNT[0, src]
    CNT[0, src] = i + 1
    AI[a, A_DRAW] = DI[D.i_src_base + src] + i
    AI[a, A_CLASS] = SI[sh, SH_CLASS]
    AI[a, A_SHIP] = sh
    AF[a, AF_TONNES] = SF[sh, SF_TONNES]
    L_apps[a, 0] = a
    L_apps[a, 1] = SI[sh, SH_SRC]
    L_apps[a, 2] = SI[sh, SH_INDEX]
    L_apps[a, 3] = sh
    L_apps[a, 4] = SI[sh, SH_EX]
    L_apps[a, 5] = SF[sh, SF_TONNES]
    glog(S, D, F, IV, L_glog, G_APPLY, sh, SF[sh, SF_TONNES], float(a))
    # authority.submit
    IV[I_NSUB] += 1
    IV[I_INSYS] += 1
    schedule(S, D, IV, L_heap, F[F_NOW], P_URGENT, EV_APP_INIT, a, 0, 0.0)


@_inline
def app_run(
    S,
    D,
    AF,
    AI,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_alog,
    L_glog,
    L_heap,
    L_pool,
    L_waiters,
    PTS,
    PV,
    RQ,
    SF,
    SI,
    S_EXI,
    S_cap_rates,
    S_cap_times,
    S_cum,
    S_working,
    XF,
    a,
    lab,
):
    """Resume application ``a``'s process at label ``lab`` until it waits again."""
    d = AI[a, A_DRAW]
    cls = AI[a, A_CLASS]
    n_ret = S.n_ret
    n_info = S.n_info
    while True:
        now = F[F_NOW]
        if lab == L_START:
            alog(S, D, F, IV, L_alog, EV_SUBMIT, a, AF[a, AF_TONNES], 0.0)
            if S.intake:
                AI[a, A_RETURNS] = 0
                lab = L_INTAKE
            else:
                lab = L_ACCEPT
        elif lab == L_INTAKE:
            s = DF[D.o_screening + d]
            if s > 0:
                AI[a, A_TOKEN] = timeout(
                    S,
                    D,
                    F,
                    IV,
                    L_heap,
                    add_work(S, D, S_cum, S_working, now, s) - now,
                    EV_APP_TIMEOUT,
                    a,
                    L_SCREENED,
                    0.0,
                )
                AI[a, A_PC] = L_SCREENED
                return
            lab = L_SCREENED
        elif lab == L_SCREENED:
            r = AI[a, A_RETURNS]
            if r < n_ret and DF[D.o_u_return + d * n_ret + r] < S.p_return:
                alog(S, D, F, IV, L_alog, EV_RETURN, a, 0.0, 0.0)
                AI[a, A_TOKEN] = timeout(
                    S,
                    D,
                    F,
                    IV,
                    L_heap,
                    DF[D.o_resubmit + d * n_ret + r],
                    EV_APP_TIMEOUT,
                    a,
                    L_RESUBMITTED,
                    0.0,
                )
                AI[a, A_PC] = L_RESUBMITTED
                return
            lab = L_ACCEPT
        elif lab == L_RESUBMITTED:
            AI[a, A_RETURNS] += 1
            lab = L_INTAKE
        elif lab == L_ACCEPT:
            t_accept = now
            alog(S, D, F, IV, L_alog, EV_ACCEPT, a, 0.0, 0.0)
            r = IV[I_STATE]
            AI[a, A_R] = r
            AI[a, A_EFF] = r
            npts = 0
            if n_info > 0:
                p_info = EFF[r, cls, E_INFO]
                for j in range(n_info):
                    if DF[D.o_u_info + d * n_info + j] < p_info:
                        PTS[a, npts] = DF[D.o_info_at + d * n_info + j]
                        npts += 1
                # sorted(), ascending
                for j in range(1, npts):
                    v = PTS[a, j]
                    k = j - 1
                    while k >= 0 and PTS[a, k] > v:
                        PTS[a, k + 1] = PTS[a, k]
                        k -= 1
                    PTS[a, k + 1] = v
            AI[a, A_NPTS] = npts
            AF[a, AF_DONE] = 0.0
            AF[a, AF_USED] = 0.0
            AF[a, AF_CSTART] = t_accept
            AF[a, AF_DEADLINE] = (
                add_work(S, D, S_cum, S_working, t_accept, S.limit) if S.binding else math.inf
            )
            AI[a, A_EXTENDED] = False
            AI[a, A_FORCED] = -1
            AI[a, A_K] = 0
            lab = L_QUEUE
        elif lab == L_QUEUE:
            if not pool_try_acquire(S, D, IV, L_pool):
                if IV[I_STATE] != AI[a, A_R]:
                    AI[a, A_R] = IV[I_STATE]
                    AI[a, A_EFF] = AI[a, A_R]
                req = pool_request(S, D, IV, L_pool, RQ, a, int(EFF[AI[a, A_EFF], cls, E_PRIORITY]))
                AI[a, A_REQ] = req
                if S.binding:
                    arm_deadline(S, D, AF, F, IV, L_heap, a, req)
                AI[a, A_PC] = L_WOKEN
                return  # resumed by EV_WAKE
            lab = L_REVIEW
        elif lab == L_WOKEN:
            if RQ[AI[a, A_REQ], R_VAL] == 1:
                AI[a, A_FORCED] = S.rule
                lab = L_DECISION
            else:
                lab = L_REVIEW
        elif lab == L_REVIEW:
            alog(S, D, F, IV, L_alog, EV_REVIEW_START, a, 0.0, 0.0)
            k = AI[a, A_K]
            stop = PTS[a, k] if k < AI[a, A_NPTS] else 1.0
            AF[a, AF_STOP] = stop
            AF[a, AF_TODO] = (stop - AF[a, AF_DONE]) * DF[D.o_work + d]
            AI[a, A_INREV] = True
            AI[a, A_INREV_ORD] = IV[I_REVSEQ]
            IV[I_REVSEQ] += 1
            AI[a, A_HIT] = False
            lab = L_WORK
        elif lab == L_WORK:
            if AF[a, AF_TODO] > 1e-12:
                if IV[I_STATE] != AI[a, A_R]:
                    AI[a, A_R] = IV[I_STATE]
                    AI[a, A_EFF] = AI[a, A_R]
                factor = EFF[AI[a, A_EFF], cls, E_RTF]
                AF[a, AF_FACTOR] = factor
                t0 = now
                t_done = add_work(S, D, S_cum, S_working, t0, AF[a, AF_TODO] * factor)
                deadline = AF[a, AF_DEADLINE]
                t_end = t_done if t_done < deadline else deadline
                AF[a, AF_T0] = t0
                AF[a, AF_TDONE] = t_done
                AF[a, AF_TEND] = t_end
                AI[a, A_TOKEN] = timeout(
                    S, D, F, IV, L_heap, t_end - t0, EV_APP_TIMEOUT, a, L_WORK_DONE, 0.0
                )
                AI[a, A_PC] = L_WORK_DONE
                return
            lab = L_AFTER_WORK
        elif lab == L_WORK_DONE:
            if AF[a, AF_TEND] < AF[a, AF_TDONE]:
                AF[a, AF_TODO] -= (
                    work_time(S, D, S_cum, S_working, now)
                    - work_time(S, D, S_cum, S_working, AF[a, AF_T0])
                ) / AF[a, AF_FACTOR]
                if S.rule == R_EXTEND and not AI[a, A_EXTENDED]:
                    AI[a, A_EXTENDED] = True
                    AF[a, AF_DEADLINE] = add_work(
                        S, D, S_cum, S_working, now, DF[D.o_extension + d]
                    )
                    alog(S, D, F, IV, L_alog, EV_EXTEND, a, 0.0, DF[D.o_extension + d])
                    lab = L_WORK
                    continue
                AI[a, A_HIT] = True
                lab = L_AFTER_WORK
            else:
                AF[a, AF_TODO] = 0.0
                lab = L_WORK
        elif lab == L_INTERRUPTED:
            AF[a, AF_TODO] -= (
                work_time(S, D, S_cum, S_working, now)
                - work_time(S, D, S_cum, S_working, AF[a, AF_T0])
            ) / AF[a, AF_FACTOR]
            lab = L_WORK
        elif lab == L_AFTER_WORK:
            AI[a, A_INREV] = False
            AF[a, AF_DONE] = AF[a, AF_STOP]
            # pool.release
            IV[I_BUSY] -= 1
            pool_dispatch(S, D, F, IV, L_heap, L_pool, RQ)
            if AI[a, A_HIT]:
                AI[a, A_FORCED] = S.rule
                lab = L_DECISION
                continue
            k = AI[a, A_K]
            if k < AI[a, A_NPTS]:
                AI[a, A_K] = k + 1
                AF[a, AF_USED] += work_time(S, D, S_cum, S_working, now) - work_time(
                    S, D, S_cum, S_working, AF[a, AF_CSTART]
                )
                alog(S, D, F, IV, L_alog, EV_INFO_REQ, a, AF[a, AF_USED], 0.0)
                AI[a, A_TOKEN] = timeout(
                    S,
                    D,
                    F,
                    IV,
                    L_heap,
                    DF[D.o_response + d * n_info + k],
                    EV_APP_TIMEOUT,
                    a,
                    L_INFO_DONE,
                    0.0,
                )
                AI[a, A_PC] = L_INFO_DONE
                return
            lab = L_DECISION
        elif lab == L_INFO_DONE:
            AF[a, AF_CSTART] = now
            alog(S, D, F, IV, L_alog, EV_INFO_RESP, a, 0.0, 0.0)
            if S.binding:
                total = S.limit + (DF[D.o_extension + d] if AI[a, A_EXTENDED] else 0.0)
                AF[a, AF_DEADLINE] = add_work(S, D, S_cum, S_working, now, total - AF[a, AF_USED])
            lab = L_QUEUE
        elif lab == L_DECISION:
            if IV[I_STATE] != AI[a, A_R]:
                AI[a, A_R] = IV[I_STATE]
                AI[a, A_EFF] = AI[a, A_R]
            AI[a, A_PARKED] = False
            AI[a, A_WAITING] = False
            lab = L_DEC_LOOP
        elif lab == L_DEC_LOOP:
            e = AI[a, A_EFF]
            if EFF[e, cls, E_SUSPEND] != 0.0:
                if not AI[a, A_WAITING]:
                    AI[a, A_WAITING] = True
                    IV[I_AWAIT] += 1
                AI[a, A_PC] = L_SUSPEND_CHANGED
                wait_changed(S, D, IV, L_waiters, a)
                return
            pp = EFF[e, cls, E_PARK_P]
            if AI[a, A_PARKED] or pp < 0.0 or DF[D.o_u_park + d] >= pp:
                lab = L_DECIDE
                continue
            AI[a, A_PARKED] = True
            if not AI[a, A_WAITING]:
                AI[a, A_WAITING] = True
                IV[I_AWAIT] += 1
            pi = int(EFF[e, cls, E_PARK_I])
            if pi >= 0:
                days = DF[D.o_park_days + d * S.n_park_dists + pi]
                alog(S, D, F, IV, L_alog, EV_PARK, a, 0.0, days)
                AI[a, A_TOKEN] = timeout(
                    S, D, F, IV, L_heap, days, EV_APP_TIMEOUT, a, L_PARK_DONE, 0.0
                )
                AI[a, A_PC] = L_PARK_DONE
                return
            alog(S, D, F, IV, L_alog, EV_PARK, a, 0.0, -1.0)
            lab = L_PARK_WAIT
        elif lab == L_PARK_WAIT:
            AI[a, A_PC] = L_PARK_CHANGED
            wait_changed(S, D, IV, L_waiters, a)
            return
        elif lab == L_SUSPEND_CHANGED:
            AI[a, A_EFF] = IV[I_STATE]
            lab = L_DEC_LOOP
        elif lab == L_PARK_CHANGED:
            e = IV[I_STATE]
            AI[a, A_EFF] = e
            pp = EFF[e, cls, E_PARK_P]
            if EFF[e, cls, E_SUSPEND] != 0.0 or pp < 0.0 or DF[D.o_u_park + d] >= pp:
                AI[a, A_EFF] = IV[I_STATE]
                lab = L_DEC_LOOP
            else:
                lab = L_PARK_WAIT
        elif lab == L_PARK_DONE:
            AI[a, A_EFF] = IV[I_STATE]
            lab = L_DEC_LOOP
        elif lab == L_DECIDE:
            if AI[a, A_WAITING]:
                IV[I_AWAIT] -= 1
            e = AI[a, A_EFF]
            approved_t, code = arith.decide(
                DF[D.o_u_approve + d],
                EFF[e, cls, E_APPROVE],
                AI[a, A_FORCED],
                DF[D.o_u_partial + d],
                S.p_partial,
                DF[D.o_partial + d],
                AF[a, AF_TONNES],
            )
            IV[I_NDEC] += 1
            IV[I_INSYS] -= 1
            alog(S, D, F, IV, L_alog, EV_DECIDE, a, approved_t, float(code))
            AI[a, A_PC] = L_DONE
            goods_licensed(
                S,
                D,
                CNT,
                DF,
                DI,
                EFF,
                F,
                IV,
                L_glog,
                L_heap,
                PV,
                SF,
                SI,
                S_EXI,
                S_cap_rates,
                S_cap_times,
                XF,
                AI[a, A_SHIP],
                approved_t,
                EFF[e, cls, E_VALIDITY],
            )
            return
        else:
            IV[I_ERR] += 1
            return


# ---------------------------------------------------------------------------- goods
@_inner
def needs_licence(S, D, EFF, F, IV, SI, S_GL, S_class_controlled, sh):
    cls = SI[sh, SH_CLASS]
    if not S_class_controlled[cls] or EFF[IV[I_STATE], cls, E_LICENCE] == 0.0:
        return False
    if SI[sh, SH_SRC] == SRC_BACKGROUND or SI[sh, SH_EX] < 0:
        return True
    t = F[F_NOW]
    ex, m = SI[sh, SH_EX], SI[sh, SH_INDEX]
    for g in range(S.n_gl):
        if S_GL[0, g] == ex and S_GL[1, g] == m and S_GL[2, g] <= t < S_GL[3, g]:
            return False
    return True


@_inner
def goods_new(
    S,
    D,
    CNT,
    DI,
    F,
    IV,
    L_glog,
    L_ships,
    SF,
    SI,
    src,
    index,
    cls,
    tonnes,
    origin,
    dsrc,
    part,
    exporter,
    dest,
):
    """Goods.new: a shipment now; ``dsrc`` >= 0: it goes through customs and draws."""
    sh = IV[I_NSHIP]
    IV[I_NSHIP] = sh + 1
    SI[sh, SH_SRC] = src
    SI[sh, SH_INDEX] = index
    SI[sh, SH_CLASS] = cls
    SF[sh, SF_TONNES] = tonnes
    SI[sh, SH_PART] = part
    SI[sh, SH_EX] = exporter
    SI[sh, SH_ORIGIN] = origin
    SI[sh, SH_DEST] = dest
    SF[sh, SF_TORDER] = F[F_NOW]
    SF[sh, SF_EXPIRY] = np.nan
    SI[sh, SH_MADE] = False
    SI[sh, SH_CUSTOMS] = dsrc >= 0
    SI[sh, SH_DSRC] = dsrc
    if dsrc >= 0:
        i = CNT[1, dsrc]
        CNT[1, dsrc] = i + 1
        j = DI[D.i_src_base + dsrc] + i
        SI[sh, SH_DRAW] = j
    else:
        SI[sh, SH_DRAW] = -1
    L_ships[sh, 0] = sh
    L_ships[sh, 1] = src
    L_ships[sh, 2] = index
    L_ships[sh, 3] = part
    L_ships[sh, 4] = exporter
    L_ships[sh, 5] = dest
    L_ships[sh, 6] = 1 if dsrc >= 0 else 0
    L_ships[sh, 7] = tonnes
    glog(S, D, F, IV, L_glog, G_ORDER, sh, tonnes, 0.0)
    return sh


@_inline
def goods_start(
    S,
    D,
    AF,
    AI,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_apps,
    L_glog,
    L_heap,
    PV,
    SF,
    SI,
    S_EXI,
    S_GL,
    S_cap_rates,
    S_cap_times,
    S_class_controlled,
    XF,
    sh,
):
    if SI[sh, SH_CUSTOMS] and needs_licence(S, D, EFF, F, IV, SI, S_GL, S_class_controlled, sh):
        world_apply(S, D, AF, AI, CNT, DI, F, IV, L_apps, L_glog, L_heap, SF, SI, sh)
    else:
        produce(
            S,
            D,
            CNT,
            DF,
            DI,
            F,
            IV,
            L_glog,
            L_heap,
            PV,
            SF,
            SI,
            S_EXI,
            S_cap_rates,
            S_cap_times,
            XF,
            sh,
        )


@_inline
def goods_licensed(
    S,
    D,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_glog,
    L_heap,
    PV,
    SF,
    SI,
    S_EXI,
    S_cap_rates,
    S_cap_times,
    XF,
    sh,
    approved_t,
    validity,
):
    now = F[F_NOW]
    denied = SF[sh, SF_TONNES] - approved_t
    if denied > 1e-12:
        glog(S, D, F, IV, L_glog, G_DENIED, sh, denied, -1.0)
        cancel(S, D, PV, SI, sh, denied)
    SF[sh, SF_TONNES] = approved_t
    if approved_t <= 0:
        return
    SF[sh, SF_EXPIRY] = now + validity
    if SI[sh, SH_MADE]:
        handle(S, D, DF, EFF, F, IV, L_heap, SI, sh)
    else:
        produce(
            S,
            D,
            CNT,
            DF,
            DI,
            F,
            IV,
            L_glog,
            L_heap,
            PV,
            SF,
            SI,
            S_EXI,
            S_cap_rates,
            S_cap_times,
            XF,
            sh,
        )


@_inner
def produce(
    S, D, CNT, DF, DI, F, IV, L_glog, L_heap, PV, SF, SI, S_EXI, S_cap_rates, S_cap_times, XF, sh
):
    now = F[F_NOW]
    if SI[sh, SH_SRC] == SRC_BACKGROUND:
        ready = now + DF[D.o_production + SI[sh, SH_DRAW]]
    else:
        ready = make(S, D, CNT, DF, DI, F, SF, SI, S_EXI, S_cap_rates, S_cap_times, XF, sh)
        if math.isnan(ready):
            return  # capacity never suffices
    exp = SF[sh, SF_EXPIRY]
    if not math.isnan(exp) and ready > exp:
        glog(S, D, F, IV, L_glog, G_EXPIRED, sh, SF[sh, SF_TONNES], 0.0)
        cancel(S, D, PV, SI, sh, SF[sh, SF_TONNES])
        return
    at(S, D, F, IV, L_heap, ready, sh, GA_PRESENT if SI[sh, SH_CUSTOMS] else GA_DEPART, 0.0)


@_inline
def make(S, D, CNT, DF, DI, F, SF, SI, S_EXI, S_cap_rates, S_cap_times, XF, sh):
    """Goods._make: book capacity; the ready time (NaN: never)."""
    e = SI[sh, SH_EX]
    fin = arith.finish_time(
        S_cap_times, S_cap_rates, S_EXI[2, e], e, XF[0, e], F[F_NOW], SF[sh, SF_TONNES]
    )
    exp = SF[sh, SF_EXPIRY]
    if not math.isnan(exp) and fin > exp:
        return fin
    XF[0, e] = fin
    if fin == math.inf:
        return np.nan
    pair = SI[sh, SH_LEAD]
    i = CNT[2, pair]
    CNT[2, pair] = i + 1
    return fin + DF[D.o_lead + DI[D.i_lead_base + pair] + i]


@_inline
def present(
    S,
    D,
    AF,
    AI,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_apps,
    L_glog,
    L_heap,
    SF,
    SI,
    S_GL,
    S_class_controlled,
    sh,
):
    SI[sh, SH_MADE] = True
    glog(S, D, F, IV, L_glog, G_PRESENTED, sh, SF[sh, SF_TONNES], 0.0)
    if math.isnan(SF[sh, SF_EXPIRY]) and needs_licence(
        S, D, EFF, F, IV, SI, S_GL, S_class_controlled, sh
    ):
        world_apply(S, D, AF, AI, CNT, DI, F, IV, L_apps, L_glog, L_heap, SF, SI, sh)
        return
    handle(S, D, DF, EFF, F, IV, L_heap, SI, sh)


@_inline
def handle(S, D, DF, EFF, F, IV, L_heap, SI, sh):
    j = SI[sh, SH_DRAW]
    t = DF[D.o_handling + j]
    cls = SI[sh, SH_CLASS]
    st = IV[I_STATE]
    ip = EFF[st, cls, E_INSP_P]
    if ip >= 0.0 and DF[D.o_u_inspect + j] < ip:
        t += DF[D.o_inspection + j * S.n_insp_dists + int(EFF[st, cls, E_INSP_I])]
    at(S, D, F, IV, L_heap, F[F_NOW] + t, sh, GA_CLEAR, 0.0)


@_inline
def clear(
    S,
    D,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_glog,
    L_heap,
    L_held,
    PV,
    SF,
    SI,
    S_LI,
    S_PF,
    S_PI,
    S_lane_of,
    S_release_rate,
    S_transit_of,
    XF,
    sh,
):
    hold = EFF[IV[I_STATE], SI[sh, SH_CLASS], E_HOLD]
    if hold != 0.0 and DF[D.o_u_hold + SI[sh, SH_DRAW]] < hold:
        glog(S, D, F, IV, L_glog, G_HELD, sh, SF[sh, SF_TONNES], 0.0)
        L_held[IV[I_NHELD]] = sh
        IV[I_NHELD] += 1
        return
    release(
        S,
        D,
        CNT,
        DF,
        DI,
        F,
        IV,
        L_glog,
        L_heap,
        PV,
        SF,
        SI,
        S_LI,
        S_PF,
        S_PI,
        S_lane_of,
        S_release_rate,
        S_transit_of,
        XF,
        sh,
        False,
    )


@_inner
def recheck_holds(
    S,
    D,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_glog,
    L_heap,
    L_held,
    PV,
    SF,
    SI,
    S_LI,
    S_PF,
    S_PI,
    S_lane_of,
    S_release_rate,
    S_transit_of,
    XF,
):
    n = IV[I_NHELD]
    if n == 0:
        return
    # in place, in order (a release holds nothing new)
    w = 0
    for j in range(n):
        sh = L_held[j]
        hold = EFF[IV[I_STATE], SI[sh, SH_CLASS], E_HOLD]
        if hold != 0.0 and DF[D.o_u_hold + SI[sh, SH_DRAW]] < hold:
            L_held[w] = sh
            w += 1
        else:
            glog(S, D, F, IV, L_glog, G_RELEASED, sh, SF[sh, SF_TONNES], 0.0)
            release(
                S,
                D,
                CNT,
                DF,
                DI,
                F,
                IV,
                L_glog,
                L_heap,
                PV,
                SF,
                SI,
                S_LI,
                S_PF,
                S_PI,
                S_lane_of,
                S_release_rate,
                S_transit_of,
                XF,
                sh,
                True,
            )
    IV[I_NHELD] = w


@_inline
def release(
    S,
    D,
    CNT,
    DF,
    DI,
    F,
    IV,
    L_glog,
    L_heap,
    PV,
    SF,
    SI,
    S_LI,
    S_PF,
    S_PI,
    S_lane_of,
    S_release_rate,
    S_transit_of,
    XF,
    sh,
    held,
):
    now = F[F_NOW]
    dest = SI[sh, SH_DEST]
    rate = S_release_rate[dest]
    busy = XF[1, dest]
    if rate < 0.0 or (not held and busy <= now):
        depart(
            S,
            D,
            CNT,
            DF,
            DI,
            F,
            IV,
            L_glog,
            L_heap,
            PV,
            SI,
            S_LI,
            S_PF,
            S_PI,
            S_lane_of,
            S_transit_of,
            sh,
            SF[sh, SF_TONNES],
        )
        return
    done = max(now, busy) + SF[sh, SF_TONNES] / rate
    XF[1, dest] = done
    at(S, D, F, IV, L_heap, done, sh, GA_DEPART, 0.0)


@_inline
def depart(
    S,
    D,
    CNT,
    DF,
    DI,
    F,
    IV,
    L_glog,
    L_heap,
    PV,
    SI,
    S_LI,
    S_PF,
    S_PI,
    S_lane_of,
    S_transit_of,
    sh,
    q,
):
    now = F[F_NOW]
    if SI[sh, SH_SRC] == SRC_BACKGROUND:
        glog(S, D, F, IV, L_glog, G_DEPARTED, sh, q, -1.0)
        at(S, D, F, IV, L_heap, now + DF[D.o_transit_bg + SI[sh, SH_DRAW]], sh, GA_ARRIVE, q)
        return
    p = SI[sh, SH_PART]
    mode = -1
    md = S_PF[1, p]
    cover = np.inf if md <= 0 else PV[0, p] / md
    if S_PI[3, p] >= 0 and cover < S_PF[7, p]:
        mode = S_PI[3, p]
    lane = arith.pick_lane(S_lane_of, SI[sh, SH_ORIGIN], S_LI[2, SI[sh, SH_INDEX]], mode)
    pair = S_transit_of[lane, p]
    i = CNT[3, pair]
    CNT[3, pair] = i + 1
    glog(S, D, F, IV, L_glog, G_DEPARTED, sh, q, float(lane))
    at(
        S,
        D,
        F,
        IV,
        L_heap,
        now + DF[D.o_transit + DI[D.i_transit_base + pair] + i],
        sh,
        GA_ARRIVE,
        q,
    )


@_inline
def arrive(S, D, F, IV, L_glog, PV, SF, SI, S_PF, sh, tonnes):
    now = F[F_NOW]
    glog(S, D, F, IV, L_glog, G_ARRIVED, sh, tonnes, now - SF[sh, SF_TORDER])
    p = SI[sh, SH_PART]
    if p >= 0:
        PV[0, p] += tonnes
        PV[1, p] -= tonnes
        ad = S_PF[4, p]
        if ad > 0 and SI[sh, SH_SRC] != SRC_PIPELINE:
            lead = now - SF[sh, SF_TORDER]
            PV[2, p] += ad * (lead - PV[2, p])


@_inner
def cancel(S, D, PV, SI, sh, tonnes):
    p = SI[sh, SH_PART]
    if p >= 0:
        PV[1, p] -= tonnes


# ---------------------------------------------------------------------------- manufacturers
@_inline
def goods_event(
    S,
    D,
    AF,
    AI,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_apps,
    L_glog,
    L_heap,
    L_held,
    PV,
    SF,
    SI,
    S_GL,
    S_LI,
    S_PF,
    S_PI,
    S_class_controlled,
    S_lane_of,
    S_release_rate,
    S_transit_of,
    XF,
    sh,
    action,
    x,
):
    """A goods callback (Goods.at) fires."""
    if action == GA_PRESENT:
        present(
            S,
            D,
            AF,
            AI,
            CNT,
            DF,
            DI,
            EFF,
            F,
            IV,
            L_apps,
            L_glog,
            L_heap,
            SF,
            SI,
            S_GL,
            S_class_controlled,
            sh,
        )
    elif action == GA_DEPART:
        depart(
            S,
            D,
            CNT,
            DF,
            DI,
            F,
            IV,
            L_glog,
            L_heap,
            PV,
            SI,
            S_LI,
            S_PF,
            S_PI,
            S_lane_of,
            S_transit_of,
            sh,
            SF[sh, SF_TONNES],
        )
    elif action == GA_CLEAR:
        clear(
            S,
            D,
            CNT,
            DF,
            DI,
            EFF,
            F,
            IV,
            L_glog,
            L_heap,
            L_held,
            PV,
            SF,
            SI,
            S_LI,
            S_PF,
            S_PI,
            S_lane_of,
            S_release_rate,
            S_transit_of,
            XF,
            sh,
        )
    else:
        arrive(S, D, F, IV, L_glog, PV, SF, SI, S_PF, sh, x)


@_inner
def place_order(
    S,
    D,
    AF,
    AI,
    BO,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_apps,
    L_glog,
    L_heap,
    L_ships,
    PV,
    SF,
    SI,
    S_EXI,
    S_GL,
    S_LI,
    S_PI,
    S_SUPF,
    S_SUPI,
    S_cap_rates,
    S_cap_times,
    S_class_controlled,
    S_sup_start,
    XF,
    p,
    tonnes,
):
    m = S_PI[0, p]
    for s in range(S_sup_start[p], S_sup_start[p + 1]):
        q = tonnes * S_SUPF[0, s]
        if q <= 0:
            continue
        cls = S_SUPI[2, s]
        dest = S_LI[2, m]
        if S_SUPI[1, s] >= 0:
            u = S_SUPI[1, s]
            sh = goods_new(
                S,
                D,
                CNT,
                DI,
                F,
                IV,
                L_glog,
                L_ships,
                SF,
                SI,
                SRC_ORDER,
                m,
                cls,
                q,
                S_LI[2, u],
                -1,
                p,
                -1,
                dest,
            )
            SI[sh, SH_LEAD] = -1
            bo_push(S, D, BO, SF, SI, u, sh, q)
            continue
        e = S_SUPI[0, s]
        n_bg = S.n_bgs
        dsrc = n_bg + p if S_EXI[1, e] else -1
        sh = goods_new(
            S,
            D,
            CNT,
            DI,
            F,
            IV,
            L_glog,
            L_ships,
            SF,
            SI,
            SRC_ORDER,
            m,
            cls,
            q,
            S_EXI[0, e],
            dsrc,
            p,
            e,
            dest,
        )
        SI[sh, SH_LEAD] = S_SUPI[3, s]
        goods_start(
            S,
            D,
            AF,
            AI,
            CNT,
            DF,
            DI,
            EFF,
            F,
            IV,
            L_apps,
            L_glog,
            L_heap,
            PV,
            SF,
            SI,
            S_EXI,
            S_GL,
            S_cap_rates,
            S_cap_times,
            S_class_controlled,
            XF,
            sh,
        )


@_inner
def bo_push(S, D, BO, SF, SI, u, sh, q):
    SF[sh, SF_BO_LEFT] = q
    SI[sh, SH_BO_NEXT] = -1
    if BO[1, u] < 0:
        BO[0, u] = sh
    else:
        SI[BO[1, u], SH_BO_NEXT] = sh
    BO[1, u] = sh


@_inner
def fill_backorders(
    S,
    D,
    BO,
    CNT,
    DF,
    DI,
    F,
    IV,
    L_glog,
    L_heap,
    MV,
    PV,
    SF,
    SI,
    S_LI,
    S_PF,
    S_PI,
    S_lane_of,
    S_transit_of,
):
    M = S.M
    for u in range(M):
        MV[2, u] += MV[1, u]
    for u in range(M):
        if not MV[2, u] > 0:
            continue
        stock = MV[2, u]
        while BO[0, u] >= 0 and stock > 1e-12:
            sh = BO[0, u]
            left = SF[sh, SF_BO_LEFT]
            take = min(left, stock)
            stock -= take
            if take >= left - 1e-12:
                BO[0, u] = SI[sh, SH_BO_NEXT]
                if BO[0, u] < 0:
                    BO[1, u] = -1
            else:
                SF[sh, SF_BO_LEFT] = left - take
            depart(
                S,
                D,
                CNT,
                DF,
                DI,
                F,
                IV,
                L_glog,
                L_heap,
                PV,
                SI,
                S_LI,
                S_PF,
                S_PI,
                S_lane_of,
                S_transit_of,
                sh,
                take,
            )
        MV[2, u] = stock


@_inner
def plants_step(
    S,
    D,
    AF,
    AI,
    BO,
    CNT,
    DEM,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_apps,
    L_glog,
    L_heap,
    L_ships,
    MV,
    PV,
    REC,
    RECL,
    SF,
    SI,
    S_EXI,
    S_GL,
    S_LF,
    S_LI,
    S_PF,
    S_PI,
    S_SUPF,
    S_SUPI,
    S_cap_rates,
    S_cap_times,
    S_class_controlled,
    S_sup_start,
    XF,
    d,
):
    """Plants.step for day ``d`` (:func:`simulator.world.arith.plant_day`), then the
    orders it decided, placed part by part."""
    P = S.P
    M = S.M
    qty = np.empty(P)
    arith.plant_day(
        d,
        DEM[d],
        PV[0],
        PV[1],
        PV[2],
        MV[0],
        S_PI[0],
        S_PF[0],
        S_PF[1],
        S_LI[1],
        S_PI[1],
        S_PI[2],
        S_PF[5],
        S_PF[6],
        S_LF[1],
        REC[0, d],
        REC[1, d],
        REC[2, d],
        RECL[0, d],
        RECL[1, d],
        MV[1],
        REC[5, d],
        qty,
    )
    for p in range(P):
        if qty[p] > 0.0:
            place_order(
                S,
                D,
                AF,
                AI,
                BO,
                CNT,
                DF,
                DI,
                EFF,
                F,
                IV,
                L_apps,
                L_glog,
                L_heap,
                L_ships,
                PV,
                SF,
                SI,
                S_EXI,
                S_GL,
                S_LI,
                S_PI,
                S_SUPF,
                S_SUPI,
                S_cap_rates,
                S_cap_times,
                S_class_controlled,
                S_sup_start,
                XF,
                p,
                qty[p],
            )
    for p in range(P):
        REC[3, d, p] = PV[0, p]
        REC[4, d, p] = PV[1, p]
    for m in range(M):
        RECL[2, d, m] = MV[0, m]


# ---------------------------------------------------------------------------- the run
@_inline
def background_step(
    S,
    D,
    AF,
    AI,
    CNT,
    DF,
    DI,
    EFF,
    F,
    IV,
    L_apps,
    L_glog,
    L_heap,
    L_ships,
    PV,
    SF,
    SI,
    S_BGI,
    S_EXI,
    S_GL,
    S_cap_rates,
    S_cap_times,
    S_class_controlled,
    XF,
    resumed,
):
    """World._background: create the contracts due now; sleep until the next (on being
    woken, the contract it slept for is created without comparing times again)."""
    n = D.n_arr
    while IV[I_BGPOS] < n:
        i = IV[I_BGPOS]
        t = DF[D.o_bg_t + i]
        now = F[F_NOW]
        if t > now and not resumed:
            timeout(S, D, F, IV, L_heap, t - now, EV_BG, 0, 0, 0.0)
            return
        resumed = False
        k = DI[D.i_bg_k + i]
        IV[I_BGPOS] = i + 1
        sh = goods_new(
            S,
            D,
            CNT,
            DI,
            F,
            IV,
            L_glog,
            L_ships,
            SF,
            SI,
            SRC_BACKGROUND,
            k,
            S_BGI[0, k],
            DF[D.o_bg_tonnes + i],
            -1,
            k,
            -1,
            -1,
            S_BGI[1, k],
        )
        SI[sh, SH_LEAD] = -1
        goods_start(
            S,
            D,
            AF,
            AI,
            CNT,
            DF,
            DI,
            EFF,
            F,
            IV,
            L_apps,
            L_glog,
            L_heap,
            PV,
            SF,
            SI,
            S_EXI,
            S_GL,
            S_cap_rates,
            S_cap_times,
            S_class_controlled,
            XF,
            sh,
        )


@njit(cache=True)
def run_loop(S, SA, D, DA, K):
    """Run the replication on the state ``K`` (:func:`simulator.kernel.engine.state`);
    returns the number of inconsistent events (0). ``K.IV[I_FULL]`` says which array ran out."""
    AD = _borrow(K.AD)
    AF = _borrow(K.AF)
    AI = _borrow(K.AI)
    BO = _borrow(K.BO)
    CNT = _borrow(K.CNT)
    DEM = _borrow(K.DEM)
    DF = _borrow(DA.DF)
    DI = _borrow(DA.DI)
    EFF = _borrow(DA.effects)
    F = _borrow(K.F)
    IV = _borrow(K.I)
    L_alog = _borrow(K.alog)
    L_apps = _borrow(K.apps)
    L_gen_start = _borrow(K.gen_start)
    L_glog = _borrow(K.glog)
    L_heap = _borrow(K.heap)
    L_held = _borrow(K.held)
    L_pool = _borrow(K.pool)
    L_ships = _borrow(K.ships)
    L_waiters = _borrow(K.waiters)
    MV = _borrow(K.MV)
    PTS = _borrow(K.PTS)
    PV = _borrow(K.PV)
    REC = _borrow(K.REC)
    RECL = _borrow(K.RECL)
    RQ = _borrow(K.RQ)
    SF = _borrow(K.SF)
    SI = _borrow(K.SI)
    S_BGI = _borrow(SA.BGI)
    S_EXI = _borrow(SA.EXI)
    S_GL = _borrow(SA.GL)
    S_LF = _borrow(SA.LF)
    S_LI = _borrow(SA.LI)
    S_PF = _borrow(SA.PF)
    S_PI = _borrow(SA.PI)
    S_PIPF = _borrow(SA.PIPF)
    S_PIPI = _borrow(SA.PIPI)
    S_SUPF = _borrow(SA.SUPF)
    S_SUPI = _borrow(SA.SUPI)
    S_cap_rates = _borrow(SA.cap_rates)
    S_cap_times = _borrow(SA.cap_times)
    S_class_controlled = _borrow(SA.class_controlled)
    S_cum = _borrow(SA.cum)
    S_lane_of = _borrow(SA.lane_of)
    S_release_rate = _borrow(SA.release_rate)
    S_sup_start = _borrow(SA.sup_start)
    S_transit_of = _borrow(SA.transit_of)
    S_working = _borrow(SA.working)
    XF = _borrow(K.XF)
    CAPV = _borrow(DA.capacity)
    H = S.H
    # World.__init__: the authority takes the initial policy state (no one waits yet)
    IV[I_STATE] = D.state0
    IV[I_CAP] = CAPV[D.state0]
    pool_dispatch(S, D, F, IV, L_heap, L_pool, RQ)
    # policy changes (pre-computed by the policy controller): their own priority
    for j in range(D.n_pol):
        schedule(S, D, IV, L_heap, DF[D.o_pol_t + j], DI[D.i_pol_prio + j], EV_POLICY, j, 0, 0.0)
    # World._pipeline: goods ordered before the start
    n_bg = S.n_bgs
    for j in range(S.n_pipe):
        p = S_PIPI[0, j]
        m = S_PI[0, p]
        q = S_PIPF[0, j]
        PV[1, p] += q
        e = S_PIPI[2, j]
        dest = S_LI[2, m]
        if S_PIPI[1, j]:
            sh = goods_new(
                S,
                D,
                CNT,
                DI,
                F,
                IV,
                L_glog,
                L_ships,
                SF,
                SI,
                SRC_PIPELINE,
                m,
                S_PIPI[4, j],
                q,
                S_PIPI[3, j],
                -1,
                p,
                e,
                dest,
            )
            SI[sh, SH_LEAD] = -1
            glog(S, D, F, IV, L_glog, G_DEPARTED, sh, q, -2.0)  # now = 0
            at(S, D, F, IV, L_heap, S_PIPF[1, j], sh, GA_ARRIVE, q)
            continue
        dsrc = n_bg + p if S_PIPI[5, j] else -1
        sh = goods_new(
            S,
            D,
            CNT,
            DI,
            F,
            IV,
            L_glog,
            L_ships,
            SF,
            SI,
            SRC_PIPELINE,
            m,
            S_PIPI[4, j],
            q,
            S_PIPI[3, j],
            dsrc,
            p,
            e,
            dest,
        )
        SI[sh, SH_LEAD] = -1
        SI[sh, SH_MADE] = True
        at(S, D, F, IV, L_heap, S_PIPF[1, j], sh, GA_PRESENT if S_PIPI[5, j] else GA_DEPART, 0.0)
    schedule(S, D, IV, L_heap, 0.0, P_URGENT, EV_BG_INIT, 0, 0, 0.0)
    schedule(S, D, IV, L_heap, 0.0, P_URGENT, EV_DAILY_INIT, 0, 0, 0.0)
    schedule(S, D, IV, L_heap, float(H), P_URGENT, EV_UNTIL, 0, 0, 0.0)
    multi_tier = False
    for m in range(S.M):
        if S_LF[1, m] > 0:
            multi_tier = True
    while IV[I_HN] > 0 and IV[I_FULL] == 0:
        t = L_heap[0, H_T]
        seq = int(L_heap[0, H_SEQ])
        kind = int(L_heap[0, H_KIND])
        a = int(L_heap[0, H_A])
        b = int(L_heap[0, H_B])
        x = L_heap[0, H_X]
        heap_pop(IV, L_heap)
        F[F_NOW] = t
        if kind == EV_UNTIL:
            break
        # processes resumed by this event: (application, label), one call site below
        lo, hi, lab = 0, 0, -1
        if kind == EV_APP_TIMEOUT:
            if AI[a, A_TOKEN] == seq:
                AI[a, A_TOKEN] = -1
                lab, hi = b, 1
        elif kind == EV_WAKE:
            a = RQ[a, R_APP]
            lab, hi = L_WOKEN, 1
        elif kind == EV_APP_INIT:
            lab, hi = L_START, 1
        elif kind == EV_INTERRUPT:
            if AI[a, A_PC] == L_WORK_DONE and AI[a, A_TOKEN] >= 0:
                AI[a, A_TOKEN] = -1
                lab, hi = L_INTERRUPTED, 1
            else:
                IV[I_ERR] += 1
        elif kind == EV_CHANGED:
            lo = L_gen_start[a]
            hi = L_gen_start[a + 1] if a + 1 <= IV[I_GEN] else IV[I_NWAIT]
        elif kind == EV_GOODS:
            goods_event(
                S,
                D,
                AF,
                AI,
                CNT,
                DF,
                DI,
                EFF,
                F,
                IV,
                L_apps,
                L_glog,
                L_heap,
                L_held,
                PV,
                SF,
                SI,
                S_GL,
                S_LI,
                S_PF,
                S_PI,
                S_class_controlled,
                S_lane_of,
                S_release_rate,
                S_transit_of,
                XF,
                a,
                b,
                x,
            )
        elif kind == EV_DL_TIMER:
            deadline_fire(S, D, AF, AI, DF, F, IV, L_alog, L_heap, RQ, S_cum, S_working, a, b)
        elif kind in (EV_BG, EV_BG_INIT):
            background_step(
                S,
                D,
                AF,
                AI,
                CNT,
                DF,
                DI,
                EFF,
                F,
                IV,
                L_apps,
                L_glog,
                L_heap,
                L_ships,
                PV,
                SF,
                SI,
                S_BGI,
                S_EXI,
                S_GL,
                S_cap_rates,
                S_cap_times,
                S_class_controlled,
                XF,
                kind == EV_BG,
            )
        elif kind == EV_POLICY:
            policy_changed(
                S,
                D,
                CAPV,
                AF,
                AI,
                CNT,
                DF,
                DI,
                EFF,
                F,
                IV,
                L_gen_start,
                L_glog,
                L_heap,
                L_held,
                L_pool,
                L_waiters,
                PV,
                RQ,
                SF,
                SI,
                S_LI,
                S_PF,
                S_PI,
                S_lane_of,
                S_release_rate,
                S_transit_of,
                XF,
                DI[D.i_pol_state + a],
            )
        elif kind == EV_DAILY:
            d = a
            AD[d, 0] = IV[I_PN] - IV[I_NCANCEL]
            AD[d, 1] = IV[I_BUSY]
            AD[d, 2] = IV[I_AWAIT]
            AD[d, 3] = IV[I_INSYS]
            if S.M > 0:
                plants_step(
                    S,
                    D,
                    AF,
                    AI,
                    BO,
                    CNT,
                    DEM,
                    DF,
                    DI,
                    EFF,
                    F,
                    IV,
                    L_apps,
                    L_glog,
                    L_heap,
                    L_ships,
                    MV,
                    PV,
                    REC,
                    RECL,
                    SF,
                    SI,
                    S_EXI,
                    S_GL,
                    S_LF,
                    S_LI,
                    S_PF,
                    S_PI,
                    S_SUPF,
                    S_SUPI,
                    S_cap_rates,
                    S_cap_times,
                    S_class_controlled,
                    S_sup_start,
                    XF,
                    d,
                )
            if multi_tier:
                fill_backorders(
                    S,
                    D,
                    BO,
                    CNT,
                    DF,
                    DI,
                    F,
                    IV,
                    L_glog,
                    L_heap,
                    MV,
                    PV,
                    SF,
                    SI,
                    S_LI,
                    S_PF,
                    S_PI,
                    S_lane_of,
                    S_transit_of,
                )
            if d + 1 < H:
                schedule(S, D, IV, L_heap, t + ((d + 1) - t), P_DAILY, EV_DAILY, d + 1, 0, 0.0)
        elif kind == EV_DAILY_INIT and H > 0:
            schedule(S, D, IV, L_heap, t + (0 - t), P_DAILY, EV_DAILY, 0, 0, 0.0)
        for j in range(lo, hi):
            if kind == EV_CHANGED:
                a = L_waiters[j]
                lab = AI[a, A_PC]
            app_run(
                S,
                D,
                AF,
                AI,
                CNT,
                DF,
                DI,
                EFF,
                F,
                IV,
                L_alog,
                L_glog,
                L_heap,
                L_pool,
                L_waiters,
                PTS,
                PV,
                RQ,
                SF,
                SI,
                S_EXI,
                S_cap_rates,
                S_cap_times,
                S_cum,
                S_working,
                XF,
                a,
                lab,
            )
    return IV[I_ERR]
