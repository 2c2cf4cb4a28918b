"""The licensing authority on arrays: :mod:`simulator.world.licensing` (its semantics are
stated there), event for event.

Each application's SimPy process is a state machine: :func:`life` resumes it at a label
(where its generator is suspended) and runs it until it waits again. A timeout that an
interrupt made stale carries an old token and is skipped, as SimPy drops the interrupted
process's callback. The reviewers are a priority queue (``Apps.pool``) with lazy
cancellation; the policy's ``changed`` event is a generation counter with its waiters in
order. A decision is returned to the wiring (:func:`simulator.kernel.loop.run_loop`), which
hands it to the goods chain as ``World._decided`` does.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.kernel.heap import add_work, alog, glog, inline, inner, schedule, timeout, work_time
from simulator.kernel.layout import (
    A_CLASS,
    A_DRAW,
    A_EFF,
    A_EXTENDED,
    A_FORCED,
    A_HIT,
    A_INREV,
    A_INREV_ORD,
    A_K,
    A_NPTS,
    A_PARKED,
    A_PC,
    A_PICKED,
    A_R,
    A_RELEASED,
    A_REQ,
    A_RETURNS,
    A_SHIP,
    A_STAGE,
    A_TOKEN,
    A_WAITGEN,
    A_WAITING,
    AF_CSTART,
    AF_DEADLINE,
    AF_DONE,
    AF_FACTOR,
    AF_RELP,
    AF_STOP,
    AF_T0,
    AF_TDONE,
    AF_TEND,
    AF_TODO,
    AF_TONNES,
    AF_USED,
    CNT_APPS,
    E_APPROVE,
    E_INFO,
    E_LICENCE,
    E_PARK_I,
    E_PARK_P,
    E_PRIORITY,
    E_REL_DAYS,
    E_REL_P,
    E_REL_SHARE,
    E_RETURN,
    E_RTF,
    E_SUSPEND,
    E_VALIDITY,
    EV_ACCEPT,
    EV_APP_INIT,
    EV_APP_TIMEOUT,
    EV_CHANGED,
    EV_DECIDE,
    EV_DL_TIMER,
    EV_EXTEND,
    EV_INFO_REQ,
    EV_INFO_RESP,
    EV_INTERRUPT,
    EV_PARK,
    EV_RELEASE,
    EV_RELEASE_LOG,
    EV_RETURN,
    EV_REVIEW_START,
    EV_SUBMIT,
    EV_WAKE,
    EV_WITHDRAW_LOG,
    F_NOW,
    FULL_WAIT,
    G_APPLY,
    I_AWAIT,
    I_BUSY,
    I_CAP,
    I_ERR,
    I_FULL,
    I_GEN,
    I_INSYS,
    I_NAPP,
    I_NCANCEL,
    I_NDEC,
    I_NREQ,
    I_NSUB,
    I_NWAIT,
    I_PN,
    I_POOLSEQ,
    I_REVSEQ,
    I_STATE,
    INT_RELEASE,
    INT_REPLAN,
    L_ACCEPT,
    L_AFTER_WORK,
    L_DEC_LOOP,
    L_DECIDE,
    L_DECISION,
    L_DONE,
    L_INFO_DONE,
    L_INTAKE,
    L_INTERRUPTED,
    L_PARK_CHANGED,
    L_PARK_DONE,
    L_PARK_WAIT,
    L_PREPARED,
    L_QUEUE,
    L_RELEASED_DECIDE,
    L_RELEASED_REVIEW,
    L_RESUBMITTED,
    L_REVIEW,
    L_SCREENED,
    L_START,
    L_SUSPEND_CHANGED,
    L_WOKEN,
    L_WORK,
    L_WORK_DONE,
    P_NORMAL,
    P_URGENT,
    R_APP,
    R_CANCEL,
    R_EXTEND,
    R_TRIG,
    R_VAL,
    SF_TONNES,
    SH_CLASS,
    SH_DSRC,
    SH_EX,
    SH_INDEX,
    SH_SRC,
    ST_APPLICANT,
    ST_DONE,
    ST_INTAKE,
    ST_QUEUED,
    ST_REVIEW,
    ST_WAITING,
    WITHDRAW_P,
    WOKE_DEADLINE,
    WOKE_GRANTED,
    WOKE_RELEASED,
)
from simulator.world import arith

__all__ = ["arm_deadline", "deadline_fire", "life", "regime_change", "submit"]


# ---------------------------------------------------------------------------- reviewers
@inner
def pool_push(IV, Q, k0, k1, req):
    """ReviewerPool.request's heappush: ordered by ``(-priority, seq)``."""
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


@inner
def pool_pop(IV, Q):
    """ReviewerPool._dispatch's heappop: remove the queue's first row."""
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


@inner
def pool_dispatch(ev, RQ, pool):
    """ReviewerPool._dispatch: assign free reviewers to the first waiting requests."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    while IV[I_PN] > 0 and IV[I_BUSY] < IV[I_CAP]:
        req = pool[0, 2]
        pool_pop(IV, pool)
        if RQ[req, R_CANCEL]:
            RQ[req, R_CANCEL] = False
            IV[I_NCANCEL] -= 1
            continue
        IV[I_BUSY] += 1
        RQ[req, R_TRIG] = True
        RQ[req, R_VAL] = WOKE_GRANTED
        schedule(IV, heap, F[F_NOW], P_NORMAL, EV_WAKE, req, 0, 0.0)


@inline
def pool_try_acquire(ev):
    """ReviewerPool.try_acquire: a free reviewer at once if one is free and nobody waits."""
    IV = ev.IV
    if IV[I_BUSY] < IV[I_CAP] and IV[I_PN] == 0:
        IV[I_BUSY] += 1
        return True
    return False


@inner
def pool_request(ev, RQ, pool, a, priority):
    """ReviewerPool.request: queue application ``a`` for a reviewer; the request's id."""
    IV = ev.IV
    req = IV[I_NREQ]
    IV[I_NREQ] = req + 1
    RQ[req, R_APP] = a
    RQ[req, R_TRIG] = False
    RQ[req, R_CANCEL] = False
    IV[I_POOLSEQ] += 1
    pool_push(IV, pool, -priority, IV[I_POOLSEQ], req)
    return req


# ---------------------------------------------------------------------------- deadline
@inner
def arm_deadline(ev, AF, a, req):
    """LicensingAuthority._arm_deadline: the statutory limit's timer of a queued file."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    now = F[F_NOW]
    timeout(IV, F, heap, max(0.0, AF[a, AF_DEADLINE] - now), EV_DL_TIMER, a, req, 0.0)


@inline
def deadline_fire(S, ck, ev, ap, lg, inp, D, a, req):
    """LicensingAuthority._arm_deadline's ``fire``: at the limit, wake a file still queued
    (with ``extend``, move the limit once and keep its place in the queue)."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    AI, AF, RQ = ap.AI, ap.AF, ap.RQ
    if RQ[req, R_TRIG]:
        return
    if S.rule == R_EXTEND and not AI[a, A_EXTENDED]:
        AI[a, A_EXTENDED] = True
        ext = inp.DF[D.o_extension + AI[a, A_DRAW]]
        AF[a, AF_DEADLINE] = add_work(S, ck.cum, ck.working, F[F_NOW], ext)
        alog(IV, F, lg.alog, EV_EXTEND, a, 0.0, ext)
        arm_deadline(ev, ap.AF, a, req)
        return
    RQ[req, R_CANCEL] = True
    IV[I_NCANCEL] += 1
    RQ[req, R_TRIG] = True
    RQ[req, R_VAL] = WOKE_DEADLINE
    schedule(IV, heap, F[F_NOW], P_NORMAL, EV_WAKE, req, 0, 0.0)


# ---------------------------------------------------------------------------- policy
@inner
def regime_change(S, D, ev, ap, inp, state, cap):
    """LicensingAuthority.on_regime_change: the new state's reviewers (``cap``) now
    (dispatch), then re-plan the reviews in progress whose speed changed, in the order
    they started; a licence newly required for a class starts its files' preparation
    clock; then a batch release that comes into force picks its files."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    AI, AF, EFF = ap.AI, ap.AF, inp.EFF
    prev = IV[I_STATE]
    IV[I_STATE] = state
    IV[I_CAP] = cap
    pool_dispatch(ev, ap.RQ, ap.pool)
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
                schedule(IV, heap, F[F_NOW], P_URGENT, EV_INTERRUPT, a, INT_REPLAN, 0.0)
    if S.has_prep and prev >= 0:
        for c in range(EFF.shape[1]):
            if EFF[state, c, E_LICENCE] != 0.0 and EFF[prev, c, E_LICENCE] == 0.0:
                ap.TAU[c] = F[F_NOW]
    if S.any_release and prev >= 0:
        pick_releases(D, ev, ap, inp, prev, state)


@inner
def capacity_step(ev, ap, cap):
    """LicensingAuthority.on_capacity: a step of the start-up ramp, ``cap`` reviewers now."""
    ev.IV[I_CAP] = cap
    pool_dispatch(ev, ap.RQ, ap.pool)


@inner
def pick_releases(D, ev, ap, inp, prev, state):
    """LicensingAuthority._pick_releases: every undecided file waiting on the authority, in
    application order, whose effects now include a release they did not include before
    is picked if its draw is below the release's share; it is released at its point of
    the window."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    AI, EFF, DF = ap.AI, inp.EFF, inp.DF
    for a in range(IV[I_NAPP]):
        stage = AI[a, A_STAGE]
        if AI[a, A_PICKED] or stage not in (ST_QUEUED, ST_REVIEW, ST_WAITING):
            continue
        c = AI[a, A_CLASS]
        share = EFF[state, c, E_REL_SHARE]
        if share < 0.0 or (
            EFF[prev, c, E_REL_SHARE] == share
            and EFF[prev, c, E_REL_DAYS] == EFF[state, c, E_REL_DAYS]
            and EFF[prev, c, E_REL_P] == EFF[state, c, E_REL_P]
        ):
            continue
        d = AI[a, A_DRAW]
        if DF[D.o_u_release + d] >= share:
            continue
        AI[a, A_PICKED] = True
        delay = DF[D.o_release_at + d] * EFF[state, c, E_REL_DAYS]
        timeout(IV, F, heap, delay, EV_RELEASE, a, 0, EFF[state, c, E_REL_P])


@inner
def release(ev, ap, lg, a, p):
    """LicensingAuthority._release: a picked file is decided now at approval ``p`` if it is
    still waiting on the authority (it leaves the queue, or its review, parking or
    suspension is interrupted); a file with the applicant, or whose reviewer or deadline
    has just come, goes on as it was. A withdrawal is the same at ``p = WITHDRAW_P``; a
    file is released at most once."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    AI, RQ = ap.AI, ap.RQ
    if AI[a, A_RELEASED]:
        return
    stage = AI[a, A_STAGE]
    if stage == ST_QUEUED:
        req = AI[a, A_REQ]
        if RQ[req, R_TRIG]:
            return
        RQ[req, R_CANCEL] = True
        IV[I_NCANCEL] += 1
        RQ[req, R_TRIG] = True
        RQ[req, R_VAL] = WOKE_RELEASED
        schedule(IV, heap, F[F_NOW], P_NORMAL, EV_WAKE, req, 0, 0.0)
    elif stage in (ST_REVIEW, ST_WAITING):
        schedule(IV, heap, F[F_NOW], P_URGENT, EV_INTERRUPT, a, INT_RELEASE, 0.0)
    else:
        return
    AI[a, A_RELEASED] = True
    ap.AF[a, AF_RELP] = p
    alog(IV, F, lg.alog, EV_WITHDRAW_LOG if p < 0.0 else EV_RELEASE_LOG, a, 0.0, p)


@inline
def interrupted(ap, a, cause):
    """Process.interrupt reaching application ``a``'s process: the label it resumes at, or
    -1 when the interrupt finds nothing to interrupt (the process has ended, as SimPy
    ignores an interrupt of a finished process)."""
    AI = ap.AI
    pc = AI[a, A_PC]
    if cause == INT_REPLAN:
        if pc == L_WORK_DONE and AI[a, A_TOKEN] >= 0:
            AI[a, A_TOKEN] = -1
            return L_INTERRUPTED
        return -1
    if pc == L_WORK_DONE and AI[a, A_TOKEN] >= 0:  # in review
        AI[a, A_TOKEN] = -1
        return L_RELEASED_REVIEW
    if pc == L_PARK_DONE and AI[a, A_TOKEN] >= 0:  # parked for some days
        AI[a, A_TOKEN] = -1
        return L_RELEASED_DECIDE
    if (pc in (L_SUSPEND_CHANGED, L_PARK_CHANGED)) and AI[a, A_WAITGEN] >= 0:
        AI[a, A_WAITGEN] = -1  # no longer waits for `changed`
        return L_RELEASED_DECIDE
    return -1


@inner
def changed_succeeds(ev, ap):
    """PolicyReplay: the ``changed`` event succeeds (waking its waiters) and a new one
    replaces it."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    g = IV[I_GEN]
    schedule(IV, heap, F[F_NOW], P_NORMAL, EV_CHANGED, g, 0, 0.0)
    IV[I_GEN] = g + 1
    ap.gen_start[g + 1] = IV[I_NWAIT]


@inner
def wait_changed(ev, waiters, a):
    """``yield ctrl.changed``: application ``a`` waits for the next change of policy."""
    IV = ev.IV
    n = IV[I_NWAIT]
    if n >= waiters.size:
        IV[I_FULL] |= FULL_WAIT
        return
    waiters[n] = a
    IV[I_NWAIT] = n + 1


# ---------------------------------------------------------------------------- applications
@inline
def submit(D, ev, ap, sp, lg, inp, sh):
    """World._apply + LicensingAuthority.submit: an application for shipment ``sh`` (it
    reads the next application draws of the shipment's source) starts its process."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    AI, AF, SI, SF = ap.AI, ap.AF, sp.SI, sp.SF
    a = IV[I_NAPP]
    IV[I_NAPP] = a + 1
    src = SI[sh, SH_DSRC]
    i = sp.CNT[CNT_APPS, src]
    sp.CNT[CNT_APPS, src] = i + 1
    AI[a, A_DRAW] = inp.DI[D.i_src_base + src] + i
    AI[a, A_CLASS] = SI[sh, SH_CLASS]
    AI[a, A_SHIP] = sh
    AF[a, AF_TONNES] = SF[sh, SF_TONNES]
    apps = lg.apps
    apps[a, 0] = a
    apps[a, 1] = SI[sh, SH_SRC]
    apps[a, 2] = SI[sh, SH_INDEX]
    apps[a, 3] = sh
    apps[a, 4] = SI[sh, SH_EX]
    apps[a, 5] = SF[sh, SF_TONNES]
    glog(IV, F, lg.glog, G_APPLY, sh, SF[sh, SF_TONNES], float(a))
    schedule(IV, heap, F[F_NOW], P_URGENT, EV_APP_INIT, a, 0, 0.0)


@inline
def life(S, D, ck, ev, ap, lg, inp, a, lab):
    """LicensingAuthority._life: resume application ``a``'s process at label ``lab`` until
    it waits again. Returns ``(shipment, approved tonnes, licence validity in days)`` when
    it was decided now, else ``(-1, 0, 0)``."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    AI, AF, PTS, RQ = ap.AI, ap.AF, ap.PTS, ap.RQ
    DF, EFF = inp.DF, inp.EFF
    d = AI[a, A_DRAW]
    cls = AI[a, A_CLASS]
    n_ret = S.n_ret
    n_info = S.n_info
    while True:
        now = F[F_NOW]
        if lab == L_START:
            AI[a, A_STAGE] = ST_INTAKE
            prep = DF[D.o_prepare + d]
            if prep > 0.0:  # the applicant prepares the file after a requirement starts
                ready = ap.TAU[cls] + prep
                if ready > now:
                    AI[a, A_TOKEN] = timeout(
                        IV, F, heap, ready - now, EV_APP_TIMEOUT, a, L_PREPARED, 0.0
                    )
                    AI[a, A_PC] = L_PREPARED
                    return -1, 0.0, 0.0
            lab = L_PREPARED
        elif lab == L_PREPARED:
            IV[I_NSUB] += 1
            IV[I_INSYS] += 1
            alog(IV, F, lg.alog, EV_SUBMIT, a, AF[a, AF_TONNES], 0.0)
            w = DF[D.o_withdraw_after + d]
            if w >= 0.0:  # its buyer gives up if it is still waiting then
                timeout(IV, F, heap, w, EV_RELEASE, a, 0, WITHDRAW_P)
            if S.intake:
                AI[a, A_RETURNS] = 0
                lab = L_INTAKE
            else:
                lab = L_ACCEPT
        elif lab == L_INTAKE:
            s = DF[D.o_screening + d]
            if s > 0:
                delay = add_work(S, ck.cum, ck.working, now, s) - now
                AI[a, A_TOKEN] = timeout(IV, F, heap, delay, EV_APP_TIMEOUT, a, L_SCREENED, 0.0)
                AI[a, A_PC] = L_SCREENED
                return -1, 0.0, 0.0
            lab = L_SCREENED
        elif lab == L_SCREENED:
            r = AI[a, A_RETURNS]
            p_return = EFF[IV[I_STATE], cls, E_RETURN]
            if r < n_ret and DF[D.o_u_return + d * n_ret + r] < p_return:
                alog(IV, F, lg.alog, EV_RETURN, a, 0.0, 0.0)
                delay = DF[D.o_resubmit + d * n_ret + r]
                AI[a, A_TOKEN] = timeout(IV, F, heap, delay, EV_APP_TIMEOUT, a, L_RESUBMITTED, 0.0)
                AI[a, A_PC] = L_RESUBMITTED
                return -1, 0.0, 0.0
            lab = L_ACCEPT
        elif lab == L_RESUBMITTED:
            AI[a, A_RETURNS] += 1
            lab = L_INTAKE
        elif lab == L_ACCEPT:
            t_accept = now
            alog(IV, F, lg.alog, EV_ACCEPT, a, 0.0, 0.0)
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
                for j in range(1, npts):  # sorted(), ascending
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
                add_work(S, ck.cum, ck.working, t_accept, S.limit) if S.binding else math.inf
            )
            AI[a, A_EXTENDED] = False
            AI[a, A_FORCED] = -1
            AI[a, A_K] = 0
            lab = L_QUEUE
        elif lab == L_QUEUE:
            if not pool_try_acquire(ev):
                if IV[I_STATE] != AI[a, A_R]:
                    AI[a, A_R] = IV[I_STATE]
                    AI[a, A_EFF] = AI[a, A_R]
                req = pool_request(ev, RQ, ap.pool, a, int(EFF[AI[a, A_EFF], cls, E_PRIORITY]))
                AI[a, A_REQ] = req
                AI[a, A_STAGE] = ST_QUEUED
                if S.binding:
                    arm_deadline(ev, ap.AF, a, req)
                AI[a, A_PC] = L_WOKEN
                return -1, 0.0, 0.0  # resumed by EV_WAKE
            lab = L_REVIEW
        elif lab == L_WOKEN:
            woke = RQ[AI[a, A_REQ], R_VAL]
            if woke == WOKE_DEADLINE:
                AI[a, A_FORCED] = S.rule
                lab = L_DECISION
            elif woke == WOKE_RELEASED:
                lab = L_DECISION
            else:
                lab = L_REVIEW
        elif lab == L_REVIEW:
            AI[a, A_STAGE] = ST_REVIEW
            alog(IV, F, lg.alog, EV_REVIEW_START, a, 0.0, 0.0)
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
                t_done = add_work(S, ck.cum, ck.working, t0, AF[a, AF_TODO] * factor)
                deadline = AF[a, AF_DEADLINE]
                t_end = t_done if t_done < deadline else deadline
                AF[a, AF_T0] = t0
                AF[a, AF_TDONE] = t_done
                AF[a, AF_TEND] = t_end
                AI[a, A_TOKEN] = timeout(
                    IV, F, heap, t_end - t0, EV_APP_TIMEOUT, a, L_WORK_DONE, 0.0
                )
                AI[a, A_PC] = L_WORK_DONE
                return -1, 0.0, 0.0
            lab = L_AFTER_WORK
        elif lab == L_WORK_DONE:
            if AF[a, AF_TEND] < AF[a, AF_TDONE]:
                AF[a, AF_TODO] -= (
                    work_time(S, ck.cum, ck.working, now)
                    - work_time(S, ck.cum, ck.working, AF[a, AF_T0])
                ) / AF[a, AF_FACTOR]
                if S.rule == R_EXTEND and not AI[a, A_EXTENDED]:
                    AI[a, A_EXTENDED] = True
                    ext = DF[D.o_extension + d]
                    AF[a, AF_DEADLINE] = add_work(S, ck.cum, ck.working, now, ext)
                    alog(IV, F, lg.alog, EV_EXTEND, a, 0.0, ext)
                    lab = L_WORK
                    continue
                AI[a, A_HIT] = True
                lab = L_AFTER_WORK
            else:
                AF[a, AF_TODO] = 0.0
                lab = L_WORK
        elif lab == L_INTERRUPTED:
            AF[a, AF_TODO] -= (
                work_time(S, ck.cum, ck.working, now)
                - work_time(S, ck.cum, ck.working, AF[a, AF_T0])
            ) / AF[a, AF_FACTOR]
            lab = L_WORK
        elif lab == L_AFTER_WORK:
            AI[a, A_INREV] = False
            AF[a, AF_DONE] = AF[a, AF_STOP]
            IV[I_BUSY] -= 1  # pool.release
            pool_dispatch(ev, ap.RQ, ap.pool)
            if AI[a, A_HIT]:
                AI[a, A_FORCED] = S.rule
                lab = L_DECISION
                continue
            k = AI[a, A_K]
            if k < AI[a, A_NPTS]:
                # stop the clock while the applicant answers
                AI[a, A_K] = k + 1
                AF[a, AF_USED] += work_time(S, ck.cum, ck.working, now) - work_time(
                    S, ck.cum, ck.working, AF[a, AF_CSTART]
                )
                alog(IV, F, lg.alog, EV_INFO_REQ, a, AF[a, AF_USED], 0.0)
                AI[a, A_STAGE] = ST_APPLICANT
                delay = DF[D.o_response + d * n_info + k]
                AI[a, A_TOKEN] = timeout(IV, F, heap, delay, EV_APP_TIMEOUT, a, L_INFO_DONE, 0.0)
                AI[a, A_PC] = L_INFO_DONE
                return -1, 0.0, 0.0
            lab = L_DECISION
        elif lab == L_INFO_DONE:
            AF[a, AF_CSTART] = now
            alog(IV, F, lg.alog, EV_INFO_RESP, a, 0.0, 0.0)
            if S.binding:
                total = S.limit + (DF[D.o_extension + d] if AI[a, A_EXTENDED] else 0.0)
                AF[a, AF_DEADLINE] = add_work(S, ck.cum, ck.working, now, total - AF[a, AF_USED])
            lab = L_QUEUE
        elif lab == L_DECISION:
            if IV[I_STATE] != AI[a, A_R]:
                AI[a, A_R] = IV[I_STATE]
                AI[a, A_EFF] = AI[a, A_R]
            AI[a, A_PARKED] = False
            AI[a, A_WAITING] = False
            lab = L_RELEASED_DECIDE if AI[a, A_RELEASED] else L_DEC_LOOP
        elif lab == L_DEC_LOOP:  # held while suspended, parked first if a rule parks it
            e = AI[a, A_EFF]
            if EFF[e, cls, E_SUSPEND] != 0.0:
                if not AI[a, A_WAITING]:
                    AI[a, A_WAITING] = True
                    IV[I_AWAIT] += 1
                AI[a, A_STAGE] = ST_WAITING
                AI[a, A_PC] = L_SUSPEND_CHANGED
                AI[a, A_WAITGEN] = IV[I_GEN]
                wait_changed(ev, ap.waiters, a)
                return -1, 0.0, 0.0
            pp = EFF[e, cls, E_PARK_P]
            if AI[a, A_PARKED] or pp < 0.0 or DF[D.o_u_park + d] >= pp:
                lab = L_DECIDE
                continue
            AI[a, A_PARKED] = True
            if not AI[a, A_WAITING]:
                AI[a, A_WAITING] = True
                IV[I_AWAIT] += 1
            AI[a, A_STAGE] = ST_WAITING
            pi = int(EFF[e, cls, E_PARK_I])
            if pi >= 0:
                days = DF[D.o_park_days + d * S.n_park_dists + pi]
                alog(IV, F, lg.alog, EV_PARK, a, 0.0, days)
                AI[a, A_TOKEN] = timeout(IV, F, heap, days, EV_APP_TIMEOUT, a, L_PARK_DONE, 0.0)
                AI[a, A_PC] = L_PARK_DONE
                return -1, 0.0, 0.0
            alog(IV, F, lg.alog, EV_PARK, a, 0.0, -1.0)
            lab = L_PARK_WAIT
        elif lab == L_PARK_WAIT:
            AI[a, A_PC] = L_PARK_CHANGED
            AI[a, A_WAITGEN] = IV[I_GEN]
            wait_changed(ev, ap.waiters, a)
            return -1, 0.0, 0.0
        elif lab == L_SUSPEND_CHANGED:
            AI[a, A_EFF] = IV[I_STATE]
            lab = L_DEC_LOOP
        elif lab == L_PARK_CHANGED:
            e = IV[I_STATE]
            AI[a, A_EFF] = e
            pp = EFF[e, cls, E_PARK_P]
            if EFF[e, cls, E_SUSPEND] != 0.0 or pp < 0.0 or DF[D.o_u_park + d] >= pp:
                lab = L_DEC_LOOP
            else:
                lab = L_PARK_WAIT
        elif lab == L_PARK_DONE:
            AI[a, A_EFF] = IV[I_STATE]
            lab = L_DEC_LOOP
        elif lab == L_RELEASED_REVIEW:  # a release interrupted the review
            AI[a, A_INREV] = False
            AF[a, AF_DONE] = AF[a, AF_STOP]
            IV[I_BUSY] -= 1  # pool.release
            pool_dispatch(ev, RQ, ap.pool)
            lab = L_DECISION
        elif lab == L_RELEASED_DECIDE:  # released: decided now, effects as they are now
            AI[a, A_EFF] = IV[I_STATE]
            lab = L_DECIDE
        elif lab == L_DECIDE:
            if AI[a, A_WAITING]:
                IV[I_AWAIT] -= 1
            e = AI[a, A_EFF]
            p_approve = AF[a, AF_RELP] if AI[a, A_RELEASED] else EFF[e, cls, E_APPROVE]
            approved_t, code = arith.decide(
                DF[D.o_u_approve + d],
                p_approve,
                AI[a, A_FORCED],
                DF[D.o_u_partial + d],
                S.p_partial,
                DF[D.o_partial + d],
                AF[a, AF_TONNES],
            )
            IV[I_NDEC] += 1
            IV[I_INSYS] -= 1
            alog(IV, F, lg.alog, EV_DECIDE, a, approved_t, float(code))
            AI[a, A_STAGE] = ST_DONE
            AI[a, A_PC] = L_DONE
            return AI[a, A_SHIP], approved_t, EFF[e, cls, E_VALIDITY]
        else:
            IV[I_ERR] += 1
            return -1, 0.0, 0.0
