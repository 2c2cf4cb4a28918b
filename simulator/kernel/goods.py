"""The goods chain on arrays: :mod:`simulator.world.goods` (its semantics are stated
there), step for step.

A shipment's state lives in :data:`~simulator.kernel.layout.Ships` (``SI``/``SF`` rows);
its draws are read from the replication's inputs as it is created (customs) or used
(lead and transit times, per exporter–part and lane–part pair, in the order they are
used). Callbacks at a later time (``Goods.at``) are ``goods`` events carrying the
shipment, the action and tonnes, dispatched by :func:`event`.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.kernel import authority, plants
from simulator.kernel.heap import at, glog, inline, inner, timeout
from simulator.kernel.layout import (
    BG_CLASS,
    BG_DEST,
    CNT_LEAD,
    CNT_SHIPS,
    CNT_TRANSIT,
    E_HOLD,
    E_INSP_I,
    E_INSP_P,
    E_LICENCE,
    EV_BG,
    EX_CAP_N,
    EX_COUNTRY,
    F_NOW,
    G_ARRIVED,
    G_DENIED,
    G_DEPARTED,
    G_EXPIRED,
    G_HELD,
    G_LAPSED,
    G_ORDER,
    G_PRESENTED,
    G_RELEASED,
    GA_ARRIVE,
    GA_CLEAR,
    GA_DEPART,
    GA_LEAK,
    GA_PRESENT,
    GL_EX,
    GL_M,
    GL_T0,
    GL_T1,
    I_BGPOS,
    I_NHELD,
    I_NSHIP,
    I_STATE,
    LI_COUNTRY,
    PF_EXP_BELOW,
    PI_EXP_MODE,
    SF_EXPIRY,
    SF_TONNES,
    SF_TORDER,
    SH_CLASS,
    SH_CUSTOMS,
    SH_DEST,
    SH_DRAW,
    SH_DSRC,
    SH_EX,
    SH_INDEX,
    SH_LEAD,
    SH_MADE,
    SH_ORIGIN,
    SH_PART,
    SH_SRC,
    SRC_BACKGROUND,
    SRC_PIPELINE,
    XF_FREE_AT,
    XF_PORT_BUSY,
)
from simulator.world import arith

__all__ = ["event", "new", "recheck_holds", "start"]


@inline
def needs_licence(S, D, ev, sp, gd, inp, sh):
    """World._needs_licence: whether shipment ``sh`` needs a licence now."""
    IV, F = ev.IV, ev.F
    SI = sp.SI
    cls = SI[sh, SH_CLASS]
    if not gd.class_controlled[cls] or inp.EFF[IV[I_STATE], cls, E_LICENCE] == 0.0:
        return False
    row = SI[sh, SH_DRAW]
    if row >= 0 and inp.DF[D.o_uncontrolled + row] != 0.0:
        return False  # a grade without the controlled elements
    if SI[sh, SH_SRC] == SRC_BACKGROUND or SI[sh, SH_EX] < 0:
        return True
    t = F[F_NOW]
    ex, m = SI[sh, SH_EX], SI[sh, SH_INDEX]
    GL = gd.GL
    for g in range(S.n_gl):
        if GL[GL_EX, g] == ex and GL[GL_M, g] == m and GL[GL_T0, g] <= t < GL[GL_T1, g]:
            return False
    return True


@inline
def new(D, ev, sp, lg, inp, src, index, cls, tonnes, origin, dsrc, part, exporter, dest, lead):
    """Goods.new: a shipment now (and its row); ``dsrc`` >= 0: it goes through customs and
    reads the next shipment draws of that source."""
    IV, F = ev.IV, ev.F
    SI, SF = sp.SI, sp.SF
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
    SI[sh, SH_LEAD] = lead
    SF[sh, SF_TORDER] = F[F_NOW]
    SF[sh, SF_EXPIRY] = np.nan
    SI[sh, SH_MADE] = False
    SI[sh, SH_CUSTOMS] = dsrc >= 0
    SI[sh, SH_DSRC] = dsrc
    if dsrc >= 0:
        i = sp.CNT[CNT_SHIPS, dsrc]
        sp.CNT[CNT_SHIPS, dsrc] = i + 1
        SI[sh, SH_DRAW] = inp.DI[D.i_src_base + dsrc] + i
    else:
        SI[sh, SH_DRAW] = -1
    rows = lg.ships
    rows[sh, 0] = sh
    rows[sh, 1] = src
    rows[sh, 2] = index
    rows[sh, 3] = part
    rows[sh, 4] = exporter
    rows[sh, 5] = dest
    rows[sh, 6] = 1 if dsrc >= 0 else 0
    rows[sh, 7] = tonnes
    glog(IV, F, lg.glog, G_ORDER, sh, tonnes, 0.0)
    return sh


@inline
def start(S, D, ev, ap, sp, ln, gd, lg, inp, sh):
    """Goods.start: a new order or contract applies first if a licence is needed now, else
    it is made."""
    if sp.SI[sh, SH_CUSTOMS] and needs_licence(S, D, ev, sp, gd, inp, sh):
        authority.submit(D, ev, ap, sp, lg, inp, sh)
    else:
        produce(S, D, ev, sp, ln, gd, lg, inp, sh)


@inline
def licensed(S, D, ev, sp, ln, gd, lg, inp, sh, approved_t, validity):
    """Goods.licensed: cancel what was refused, go on with what was approved (to
    production or, if already made, to handling)."""
    IV, F = ev.IV, ev.F
    SF = sp.SF
    denied = SF[sh, SF_TONNES] - approved_t
    if denied > 1e-12:
        glog(IV, F, lg.glog, G_DENIED, sh, denied, -1.0)
        cancel(sp, ln, sh, denied)
    SF[sh, SF_TONNES] = approved_t
    if approved_t <= 0:
        return
    SF[sh, SF_EXPIRY] = F[F_NOW] + validity
    if sp.SI[sh, SH_MADE]:
        handle(S, D, ev, sp, inp, sh)
    else:
        produce(S, D, ev, sp, ln, gd, lg, inp, sh)


@inline
def produce(S, D, ev, sp, ln, gd, lg, inp, sh):
    """Goods.produce: make the goods; present them at customs (or, without customs, ship
    them)."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    SI, SF = sp.SI, sp.SF
    now = F[F_NOW]
    if SI[sh, SH_SRC] == SRC_BACKGROUND:
        if inp.DF[D.o_u_made + SI[sh, SH_DRAW]] >= arith.pace_at(
            S.paced, gd.pace, S.bg_origin, now
        ):
            glog(IV, F, lg.glog, G_LAPSED, sh, SF[sh, SF_TONNES], 0.0)
            cancel(sp, ln, sh, SF[sh, SF_TONNES])
            return  # due to be made while the makers are closed: not made
        ready = arith.paced_finish(
            S.paced,
            gd.pace_cum,
            gd.pace,
            S.bg_origin,
            now,
            inp.DF[D.o_production + SI[sh, SH_DRAW]],
        )
    else:
        ready = make(S, D, ev, sp, gd, inp, sh)
        if math.isnan(ready):
            return  # capacity never suffices: the goods stay on order at the exporter
    exp = SF[sh, SF_EXPIRY]
    if not math.isnan(exp) and ready > exp:
        glog(IV, F, lg.glog, G_EXPIRED, sh, SF[sh, SF_TONNES], 0.0)
        cancel(sp, ln, sh, SF[sh, SF_TONNES])
        return
    at(IV, F, heap, ready, sh, GA_PRESENT if SI[sh, SH_CUSTOMS] else GA_DEPART, 0.0)


@inline
def make(S, D, ev, sp, gd, inp, sh):
    """Goods._make: book the exporter's capacity; when the goods are ready (NaN: never)."""
    F = ev.F
    SI, SF, XF = sp.SI, sp.SF, sp.XF
    e = SI[sh, SH_EX]
    fin = arith.finish_time(
        gd.cap_times,
        gd.cap_rates,
        gd.EXI[EX_CAP_N, e],
        e,
        XF[XF_FREE_AT, e],
        F[F_NOW],
        SF[sh, SF_TONNES],
    )
    exp = SF[sh, SF_EXPIRY]
    if not math.isnan(exp) and fin > exp:
        return fin  # expires; capacity is not booked for goods never made
    XF[XF_FREE_AT, e] = fin
    if fin == math.inf:
        return np.nan
    pair = SI[sh, SH_LEAD]
    i = sp.CNT[CNT_LEAD, pair]
    sp.CNT[CNT_LEAD, pair] = i + 1
    lead = inp.DF[D.o_lead + inp.DI[D.i_lead_base + pair] + i]
    return arith.paced_finish(S.paced, gd.pace_cum, gd.pace, gd.EXI[EX_COUNTRY, e], fin, lead)


@inline
def present(S, D, ev, ap, sp, gd, lg, inp, sh):
    """Goods.present: the goods reach customs; a licence is checked here."""
    IV, F = ev.IV, ev.F
    sp.SI[sh, SH_MADE] = True
    glog(IV, F, lg.glog, G_PRESENTED, sh, sp.SF[sh, SF_TONNES], 0.0)
    if math.isnan(sp.SF[sh, SF_EXPIRY]) and needs_licence(S, D, ev, sp, gd, inp, sh):
        authority.submit(D, ev, ap, sp, lg, inp, sh)  # the goods wait for the decision
        return
    handle(S, D, ev, sp, inp, sh)


@inline
def handle(S, D, ev, sp, inp, sh):
    """Goods.handle: customs handling (+ inspection), then the hold check."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    j = sp.SI[sh, SH_DRAW]
    DF, EFF = inp.DF, inp.EFF
    t = DF[D.o_handling + j]
    cls = sp.SI[sh, SH_CLASS]
    st = IV[I_STATE]
    ip = EFF[st, cls, E_INSP_P]
    if ip >= 0.0 and DF[D.o_u_inspect + j] < ip:
        t += DF[D.o_inspection + j * S.n_insp_dists + int(EFF[st, cls, E_INSP_I])]
    at(IV, F, heap, F[F_NOW] + t, sh, GA_CLEAR, 0.0)


@inline
def clear(S, D, ev, sp, ln, ld, gd, lg, inp, sh):
    """Goods.clear: end of handling; held at the port, or released for departure."""
    IV, F = ev.IV, ev.F
    hold = inp.EFF[IV[I_STATE], sp.SI[sh, SH_CLASS], E_HOLD]
    if hold != 0.0 and inp.DF[D.o_u_hold + sp.SI[sh, SH_DRAW]] < hold:
        glog(IV, F, lg.glog, G_HELD, sh, sp.SF[sh, SF_TONNES], 0.0)
        sp.held[IV[I_NHELD]] = sh
        IV[I_NHELD] += 1
        d = inp.DF[D.o_hold_days + sp.SI[sh, SH_DRAW]]
        if d >= 0.0:  # the hold leaks: released after its own delay
            at(IV, F, ev.heap, F[F_NOW] + d, sh, GA_LEAK, 0.0)
        return
    release(S, D, ev, sp, ln, ld, gd, lg, inp, sh, False)


@inner
def leak(S, D, ev, sp, ln, ld, gd, lg, inp, sh):
    """Goods.leak: a held shipment's own delay is over; released if it is still held
    (the others keep their order)."""
    IV, F = ev.IV, ev.F
    held = sp.held
    n = IV[I_NHELD]
    for j in range(n):
        if held[j] == sh:
            for k in range(j, n - 1):
                held[k] = held[k + 1]
            IV[I_NHELD] = n - 1
            glog(IV, F, lg.glog, G_RELEASED, sh, sp.SF[sh, SF_TONNES], 0.0)
            release(S, D, ev, sp, ln, ld, gd, lg, inp, sh, True)
            return


@inner
def recheck_holds(S, D, ev, sp, ln, ld, gd, lg, inp):
    """Goods.recheck_holds: after a policy change, release the held shipments no longer
    held, in the order they were held (in place: a release holds nothing new)."""
    IV, F = ev.IV, ev.F
    held = sp.held
    n = IV[I_NHELD]
    if n == 0:
        return
    w = 0
    for j in range(n):
        sh = held[j]
        hold = inp.EFF[IV[I_STATE], sp.SI[sh, SH_CLASS], E_HOLD]
        if hold != 0.0 and inp.DF[D.o_u_hold + sp.SI[sh, SH_DRAW]] < hold:
            held[w] = sh
            w += 1
        else:
            glog(IV, F, lg.glog, G_RELEASED, sh, sp.SF[sh, SF_TONNES], 0.0)
            release(S, D, ev, sp, ln, ld, gd, lg, inp, sh, True)
    IV[I_NHELD] = w


@inline
def release(S, D, ev, sp, ln, ld, gd, lg, inp, sh, held):
    """Goods.release: through the port's release queue (while it drains a backlog) to
    departure."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    now = F[F_NOW]
    dest = sp.SI[sh, SH_DEST]
    rate = gd.release_rate[dest]
    busy = sp.XF[XF_PORT_BUSY, dest]
    if rate < 0.0 or (not held and busy <= now):
        depart(S, D, ev, sp, ln, ld, gd, lg, inp, sh, sp.SF[sh, SF_TONNES])
        return
    done = max(now, busy) + sp.SF[sh, SF_TONNES] / rate
    sp.XF[XF_PORT_BUSY, dest] = done
    at(IV, F, heap, done, sh, GA_DEPART, 0.0)


@inline
def depart(S, D, ev, sp, ln, ld, gd, lg, inp, sh, q):
    """Goods.depart: departure (the customs export date); a lane (by mode, with
    expedite-by-air when the part's cover is low), or the background stream's transit.
    ``q``: tonnes leaving (an upstream line ships what it has made)."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    SI, DF, DI = sp.SI, inp.DF, inp.DI
    now = F[F_NOW]
    if SI[sh, SH_SRC] == SRC_BACKGROUND:
        glog(IV, F, lg.glog, G_DEPARTED, sh, q, -1.0)
        at(IV, F, heap, now + DF[D.o_transit_bg + SI[sh, SH_DRAW]], sh, GA_ARRIVE, q)
        return
    p = SI[sh, SH_PART]
    mode = -1
    exp_mode = ld.PI[PI_EXP_MODE, p]
    if exp_mode >= 0 and plants.cover_days(ln, ld, p) < ld.PF[PF_EXP_BELOW, p]:
        mode = exp_mode
    lane = arith.pick_lane(gd.lane_of, SI[sh, SH_ORIGIN], ld.LI[LI_COUNTRY, SI[sh, SH_INDEX]], mode)
    pair = gd.transit_of[lane, p]
    i = sp.CNT[CNT_TRANSIT, pair]
    sp.CNT[CNT_TRANSIT, pair] = i + 1
    glog(IV, F, lg.glog, G_DEPARTED, sh, q, float(lane))
    at(
        IV,
        F,
        heap,
        now + DF[D.o_transit + DI[D.i_transit_base + pair] + i],
        sh,
        GA_ARRIVE,
        q,
    )


@inline
def arrive(ev, sp, ln, ld, lg, sh, tonnes):
    """Goods.arrive: a manufacturer's part stock grows (and its lead-time estimate learns,
    except from goods ordered before the start)."""
    IV, F = ev.IV, ev.F
    now = F[F_NOW]
    lead = now - sp.SF[sh, SF_TORDER]
    glog(IV, F, lg.glog, G_ARRIVED, sh, tonnes, lead)
    p = sp.SI[sh, SH_PART]
    if p >= 0:
        plants.receive(ln, ld, p, tonnes, lead, sp.SI[sh, SH_SRC] != SRC_PIPELINE)


@inline
def cancel(sp, ln, sh, tonnes):
    """Goods._cancel: part of a manufacturer's order will never come."""
    p = sp.SI[sh, SH_PART]
    if p >= 0:
        plants.cancel(ln, p, tonnes)


@inline
def event(S, D, ev, ap, sp, ln, ld, gd, lg, inp, sh, action, x):
    """A goods callback (``Goods.at``) fires."""
    if action == GA_PRESENT:
        present(S, D, ev, ap, sp, gd, lg, inp, sh)
    elif action == GA_DEPART:
        depart(S, D, ev, sp, ln, ld, gd, lg, inp, sh, sp.SF[sh, SF_TONNES])
    elif action == GA_CLEAR:
        clear(S, D, ev, sp, ln, ld, gd, lg, inp, sh)
    elif action == GA_LEAK:
        leak(S, D, ev, sp, ln, ld, gd, lg, inp, sh)
    else:
        arrive(ev, sp, ln, ld, lg, sh, x)


@inline
def background(S, D, ev, ap, sp, ln, gd, lg, inp, resumed):
    """World._background: create the contracts due now; sleep until the next (on being
    woken, the contract it slept for is created without comparing times again)."""
    IV, F, heap = ev.IV, ev.F, ev.heap
    DF, DI = inp.DF, inp.DI
    n = D.n_arr
    while IV[I_BGPOS] < n:
        i = IV[I_BGPOS]
        t = DF[D.o_bg_t + i]
        now = F[F_NOW]
        if t > now and not resumed:
            timeout(IV, F, heap, t - now, EV_BG, 0, 0, 0.0)
            return
        resumed = False
        k = DI[D.i_bg_k + i]
        IV[I_BGPOS] = i + 1
        sh = new(
            D,
            ev,
            sp,
            lg,
            inp,
            SRC_BACKGROUND,
            k,
            gd.BGI[BG_CLASS, k],
            DF[D.o_bg_tonnes + i],
            -1,
            k,
            -1,
            -1,
            gd.BGI[BG_DEST, k],
            -1,
        )
        start(S, D, ev, ap, sp, ln, gd, lg, inp, sh)
