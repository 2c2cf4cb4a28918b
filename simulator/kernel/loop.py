"""The kernel's wiring and event loop: :mod:`simulator.world.world`'s ``World``, event for
event, on arrays.

:func:`run_loop` borrows every array of the replication's state and groups them in the
named tuples of :mod:`simulator.kernel.layout`, starts what ``World.__init__`` starts
(the initial policy state, the policy path's changes, the pipeline goods, the background
and daily processes), then pops events in SimPy's order and hands each to the component
that obeys it: the authority (:mod:`simulator.kernel.authority`), the goods chain
(:mod:`simulator.kernel.goods`), the plants (:mod:`simulator.kernel.plants`) — and the
wiring between them lives here, as in ``World``: a decision goes to the goods, a policy
change to the authority and the port, a plant's order to its suppliers, an upstream
line's output to its customers.

Every number (times, draws, tonnes) follows the same arithmetic in the same order as the
reference, so the two engines' traces are identical
(``tests/kernel/test_differential.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulator.kernel import authority, goods, plants
from simulator.kernel.heap import at, borrow, glog, heap_pop, inner, schedule
from simulator.kernel.layout import (
    A_PC,
    A_TOKEN,
    A_WAITGEN,
    AD_NAMES,
    BO_HEAD,
    BO_TAIL,
    EV_APP_INIT,
    EV_APP_TIMEOUT,
    EV_BG,
    EV_BG_INIT,
    EV_CHANGED,
    EV_DAILY,
    EV_DAILY_INIT,
    EV_DL_TIMER,
    EV_GOODS,
    EV_INTERRUPT,
    EV_POLICY,
    EV_RELEASE,
    EV_UNTIL,
    EV_WAKE,
    EX_COUNTRY,
    EX_LICENSED,
    F_NOW,
    G_DEPARTED,
    GA_ARRIVE,
    GA_DEPART,
    GA_PRESENT,
    H_A,
    H_B,
    H_KIND,
    H_SEQ,
    H_T,
    H_X,
    I_AWAIT,
    I_BUSY,
    I_ERR,
    I_FULL,
    I_GEN,
    I_HN,
    I_INSYS,
    I_NCANCEL,
    I_NWAIT,
    I_PN,
    I_STATE,
    L_START,
    L_WOKEN,
    LF_OUT_TPU,
    LI_COUNTRY,
    MV_OUTPUT,
    MV_STOCK,
    P_DAILY,
    P_URGENT,
    PATH_CAPACITY,
    PI_LINE,
    PIPE_CLASS,
    PIPE_CUSTOMS,
    PIPE_DAY,
    PIPE_EX,
    PIPE_ORIGIN,
    PIPE_PART,
    PIPE_Q,
    PIPE_TRANSIT,
    PV_ON_ORDER,
    R_APP,
    SF_BO_LEFT,
    SH_BO_NEXT,
    SH_MADE,
    SRC_ORDER,
    SRC_PIPELINE,
    SUP_CLASS,
    SUP_EX,
    SUP_LEAD,
    SUP_MFR,
    SUP_SHARE,
    Apps,
    Clock,
    Events,
    GoodsData,
    Inputs,
    LineData,
    Lines,
    Logs,
    Ships,
)

__all__ = ["run_loop"]

assert len(AD_NAMES) == 4


# ---------------------------------------------------------------------------- World
@inner
def place_order(S, D, ev, ap, sp, ln, ld, gd, lg, inp, p, tonnes):
    """World._place_order: part ``p``'s order, one shipment per supplier share."""
    m = ld.PI[PI_LINE, p]
    dest = ld.LI[LI_COUNTRY, m]
    SUPI = ld.SUPI
    for s in range(ld.sup_start[p], ld.sup_start[p + 1]):
        q = tonnes * ld.SUPF[SUP_SHARE, s]
        if q <= 0:
            continue
        cls = SUPI[SUP_CLASS, s]
        u = SUPI[SUP_MFR, s]
        if u >= 0:  # an upstream manufacturer ships what it makes
            origin = ld.LI[LI_COUNTRY, u]
            sh = goods.new(D, ev, sp, lg, inp, SRC_ORDER, m, cls, q, origin, -1, p, -1, dest, -1)
            backorder(sp, u, sh, q)
            continue
        e = SUPI[SUP_EX, s]
        dsrc = S.n_bgs + p if gd.EXI[EX_LICENSED, e] else -1
        origin = gd.EXI[EX_COUNTRY, e]
        lead = SUPI[SUP_LEAD, s]
        sh = goods.new(D, ev, sp, lg, inp, SRC_ORDER, m, cls, q, origin, dsrc, p, e, dest, lead)
        goods.start(S, D, ev, ap, sp, ln, gd, lg, inp, sh)


@inner
def backorder(sp, u, sh, q):
    """``World._backorders[u].append([sh, q])``: a linked list through the shipments."""
    BO, SI = sp.BO, sp.SI
    sp.SF[sh, SF_BO_LEFT] = q
    SI[sh, SH_BO_NEXT] = -1
    if BO[BO_TAIL, u] < 0:
        BO[BO_HEAD, u] = sh
    else:
        SI[BO[BO_TAIL, u], SH_BO_NEXT] = sh
    BO[BO_TAIL, u] = sh


@inner
def fill_backorders(S, D, ev, sp, ln, ld, gd, lg, inp):
    """World._fill_backorders: upstream lines ship what they made today to their
    customers, first come first served."""
    MV, BO, SI, SF = ln.MV, sp.BO, sp.SI, sp.SF
    for u in range(S.M):
        MV[MV_STOCK, u] += MV[MV_OUTPUT, u]
    for u in range(S.M):
        if not MV[MV_STOCK, u] > 0:
            continue
        stock = MV[MV_STOCK, u]
        while BO[BO_HEAD, u] >= 0 and stock > 1e-12:
            sh = BO[BO_HEAD, u]
            left = SF[sh, SF_BO_LEFT]
            take = min(left, stock)
            stock -= take
            if take >= left - 1e-12:
                BO[BO_HEAD, u] = SI[sh, SH_BO_NEXT]
                if BO[BO_HEAD, u] < 0:
                    BO[BO_TAIL, u] = -1
            else:
                SF[sh, SF_BO_LEFT] = left - take
            goods.depart(S, D, ev, sp, ln, ld, gd, lg, inp, sh, take)
        MV[MV_STOCK, u] = stock


@inner
def daily(S, D, ev, ap, sp, ln, ld, gd, lg, inp, d, multi_tier, qty):
    """World._daily for day ``d``: the authority's counts, the plants' step and their
    orders, upstream lines' shipments."""
    IV = ev.IV
    AD = lg.AD
    AD[d, 0] = IV[I_PN] - IV[I_NCANCEL]
    AD[d, 1] = IV[I_BUSY]
    AD[d, 2] = IV[I_AWAIT]
    AD[d, 3] = IV[I_INSYS]
    if S.M > 0:
        plants.step(S, ln, ld, d, qty)
        for p in range(S.P):
            if qty[p] > 0.0:
                place_order(S, D, ev, ap, sp, ln, ld, gd, lg, inp, p, qty[p])
        plants.record_end(S, ln, d)
    if multi_tier:
        fill_backorders(S, D, ev, sp, ln, ld, gd, lg, inp)


@inner
def pipeline(S, D, ev, sp, ln, ld, gd, lg, inp):
    """World._pipeline: goods ordered before the start, at the exporter (presented at
    customs on their day) or in transit (arriving on their day)."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    PIPI, PIPF = gd.PIPI, gd.PIPF
    for j in range(S.n_pipe):
        p = PIPI[PIPE_PART, j]
        m = ld.PI[PI_LINE, p]
        q = PIPF[PIPE_Q, j]
        ln.PV[PV_ON_ORDER, p] += q  # Plants.expect
        e = PIPI[PIPE_EX, j]
        dest = ld.LI[LI_COUNTRY, m]
        cls, origin = PIPI[PIPE_CLASS, j], PIPI[PIPE_ORIGIN, j]
        customs = PIPI[PIPE_CUSTOMS, j]
        dsrc = S.n_bgs + p if customs else -1
        sh = goods.new(D, ev, sp, lg, inp, SRC_PIPELINE, m, cls, q, origin, dsrc, p, e, dest, -1)
        if PIPI[PIPE_TRANSIT, j]:
            glog(IV, F, lg.glog, G_DEPARTED, sh, q, -2.0)  # now = 0
            at(IV, F, heap, PIPF[PIPE_DAY, j], sh, GA_ARRIVE, q)
            continue
        sp.SI[sh, SH_MADE] = True
        at(IV, F, heap, PIPF[PIPE_DAY, j], sh, GA_PRESENT if customs else GA_DEPART, 0.0)


# ---------------------------------------------------------------------------- the run
@njit(cache=True)
def run_loop(S, SA, D, DA, K):
    """Run the replication on the state ``K`` (:func:`simulator.kernel.engine.simulate_kernel`);
    returns the number of inconsistent events (0). ``K.I[I_FULL]`` says which array ran
    out."""
    ev = Events(borrow(K.I), borrow(K.F), borrow(K.heap))
    ap = Apps(
        borrow(K.AI),
        borrow(K.AF),
        borrow(K.PTS),
        borrow(K.RQ),
        borrow(K.pool),
        borrow(K.waiters),
        borrow(K.gen_start),
        borrow(K.TAU),
    )
    sp = Ships(
        borrow(K.SI), borrow(K.SF), borrow(K.CNT), borrow(K.XF), borrow(K.held), borrow(K.BO)
    )
    ln = Lines(borrow(K.PV), borrow(K.MV), borrow(K.REC), borrow(K.RECL), borrow(K.DEM))
    lg = Logs(borrow(K.alog), borrow(K.glog), borrow(K.ships), borrow(K.apps), borrow(K.AD))
    inp = Inputs(borrow(DA.DF), borrow(DA.DI), borrow(DA.effects))
    ck = Clock(borrow(SA.cum), borrow(SA.working))
    gd = GoodsData(
        borrow(SA.class_controlled),
        borrow(SA.BGI),
        borrow(SA.EXI),
        borrow(SA.cap_times),
        borrow(SA.cap_rates),
        borrow(SA.pace),
        borrow(SA.pace_cum),
        borrow(SA.lane_of),
        borrow(SA.transit_of),
        borrow(SA.release_rate),
        borrow(SA.GL),
        borrow(SA.PIPI),
        borrow(SA.PIPF),
    )
    ld = LineData(
        borrow(SA.PI),
        borrow(SA.PF),
        borrow(SA.LI),
        borrow(SA.LF),
        borrow(SA.sup_start),
        borrow(SA.SUPI),
        borrow(SA.SUPF),
        borrow(SA.ahead),
    )
    IV, F, heap = ev.IV, ev.F, ev.heap
    AI = ap.AI
    H = S.H
    qty = np.empty(S.P)
    # World.__init__: the authority takes the initial policy state (no one waits yet)
    IV[I_STATE] = -1  # no state in force yet: nothing to compare a release with
    authority.regime_change(S, D, ev, ap, inp, D.state0, D.capacity0)
    # the policy path's changes, each at its time and priority
    for j in range(D.n_pol):
        t, prio = inp.DF[D.o_pol_t + j], inp.DI[D.i_pol_prio + j]
        schedule(IV, heap, t, prio, EV_POLICY, j, 0, 0.0)
    pipeline(S, D, ev, sp, ln, ld, gd, lg, inp)
    schedule(IV, heap, 0.0, P_URGENT, EV_BG_INIT, 0, 0, 0.0)
    schedule(IV, heap, 0.0, P_URGENT, EV_DAILY_INIT, 0, 0, 0.0)
    schedule(IV, heap, float(H), P_URGENT, EV_UNTIL, 0, 0, 0.0)
    multi_tier = False
    for m in range(S.M):
        if ld.LF[LF_OUT_TPU, m] > 0:
            multi_tier = True
    while IV[I_HN] > 0 and IV[I_FULL] == 0:
        t = heap[0, H_T]
        seq = int(heap[0, H_SEQ])
        kind = int(heap[0, H_KIND])
        a = int(heap[0, H_A])
        b = int(heap[0, H_B])
        x = heap[0, H_X]
        heap_pop(IV, heap)
        F[F_NOW] = t
        if kind == EV_UNTIL:
            break
        # processes resumed by this event: (application, label), one call site below
        lo, hi, lab, gen = 0, 0, -1, -1
        if kind == EV_APP_TIMEOUT:
            if AI[a, A_TOKEN] == seq:
                AI[a, A_TOKEN] = -1
                lab, hi = b, 1
        elif kind == EV_WAKE:
            a = ap.RQ[a, R_APP]
            lab, hi = L_WOKEN, 1
        elif kind == EV_APP_INIT:
            lab, hi = L_START, 1
        elif kind == EV_INTERRUPT:
            lab = authority.interrupted(ap, a, b)
            if lab >= 0:
                hi = 1
        elif kind == EV_RELEASE:
            authority.release(ev, ap, lg, a, x)
        elif kind == EV_CHANGED:
            gen = a
            lo = ap.gen_start[a]
            hi = ap.gen_start[a + 1] if a + 1 <= IV[I_GEN] else IV[I_NWAIT]
        elif kind == EV_GOODS:
            goods.event(S, D, ev, ap, sp, ln, ld, gd, lg, inp, a, b, x)
        elif kind == EV_DL_TIMER:
            authority.deadline_fire(S, ck, ev, ap, lg, inp, D, a, b)
        elif kind in (EV_BG, EV_BG_INIT):
            goods.background(S, D, ev, ap, sp, ln, gd, lg, inp, kind == EV_BG)
        elif kind == EV_POLICY:
            cap = inp.DI[D.i_pol_cap + a]
            if inp.DI[D.i_pol_kind + a] == PATH_CAPACITY:  # a step of the start-up ramp
                authority.capacity_step(ev, ap, cap)
            else:
                # World._policy_changed: the authority, then the port; then `changed`
                authority.regime_change(S, D, ev, ap, inp, inp.DI[D.i_pol_state + a], cap)
                goods.recheck_holds(S, D, ev, sp, ln, ld, gd, lg, inp)
                authority.changed_succeeds(ev, ap)
        elif kind == EV_DAILY:
            daily(S, D, ev, ap, sp, ln, ld, gd, lg, inp, a, multi_tier, qty)
            if a + 1 < H:
                schedule(IV, heap, t + ((a + 1) - t), P_DAILY, EV_DAILY, a + 1, 0, 0.0)
        elif kind == EV_DAILY_INIT and H > 0:
            schedule(IV, heap, t + (0 - t), P_DAILY, EV_DAILY, 0, 0, 0.0)
        for j in range(lo, hi):
            if kind == EV_CHANGED:
                a = ap.waiters[j]
                if AI[a, A_WAITGEN] != gen:
                    continue  # interrupted (released) since it began to wait
                lab = AI[a, A_PC]
            sh, approved_t, validity = authority.life(S, D, ck, ev, ap, lg, inp, a, lab)
            if sh >= 0:  # World._decided: the decision reaches the goods
                goods.licensed(S, D, ev, sp, ln, gd, lg, inp, sh, approved_t, validity)
    return IV[I_ERR]
