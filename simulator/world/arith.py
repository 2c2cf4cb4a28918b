"""The arithmetic both engines share, compiled once: the working-day clock, an exporter's
finish time, the choice of lane, a licence decision and a plant's day.

The SimPy engine calls these from Python, the compiled kernel from compiled code, so a
quantity both compute is computed by one function (``tests/kernel/test_differential.py``
then checks only the engines' event order and state). Each function states its
semantics once; the modules that call them (:mod:`simulator.world.licensing`,
:mod:`simulator.world.goods`, :mod:`simulator.world.manufacturing`) describe where in the
model they are used.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.world.codes import AT_DEADLINE, DEADLINE_RULES, Outcome
from simulator.world.jit import shared

__all__ = [
    "SNAP_EPS",
    "add_work",
    "calendar_time",
    "closure_delay",
    "decide",
    "finish_time",
    "pace_at",
    "paced_finish",
    "pick_lane",
    "plant_day",
    "work_time",
]

SNAP_EPS = 1e-9
"""Working time within this much above a whole number of working days is that number (a
sum of fractions that should end a day exactly ends it, not a whole day later)."""
_APPROVE = DEADLINE_RULES.index("approve")
_DENY = DEADLINE_RULES.index("deny")
_APPROVED, _PARTIAL, _DENIED = Outcome.APPROVED, Outcome.PARTIAL, Outcome.DENIED
_WITHDRAWN = Outcome.WITHDRAWN


# ------------------------------------------------------------------------------ the clock
@shared
def work_time(identity: bool, cum: np.ndarray, working: np.ndarray, t: float) -> float:
    """Working time elapsed at calendar time ``t`` (days since start), working days:
    ``cum[k] + (t - k)`` on a working day ``k = floor(t)``, ``cum[k]`` on another day;
    ``t`` itself when every day is a working day (``identity``)."""
    if identity:
        return t
    k = math.floor(t)
    if working[k]:
        return cum[k] + (t - k)
    return cum[k]


@shared
def calendar_time(cum: np.ndarray, w: float) -> float:
    """The earliest calendar time at which ``w`` working days have elapsed (for whole
    ``w``, the midnight ending the ``w``-th working day)."""
    r = np.rint(w)
    if 0.0 < w - r <= SNAP_EPS:
        w = r
    if w <= 0.0:
        return 0.0
    k = np.searchsorted(cum, w) - 1
    return k + (w - cum[k])


@shared
def add_work(
    identity: bool, cum: np.ndarray, working: np.ndarray, w_max: float, t: float, w: float
) -> float:
    """Calendar time when ``w`` working days have elapsed after calendar time ``t``
    (``t`` for ``w <= 0``; inf when that is past the horizon's working time ``w_max``:
    the event does not happen within the run)."""
    if identity:
        return t + w
    if w <= 0:
        return t
    target = work_time(identity, cum, working, t) + w
    if target > w_max:
        return math.inf
    return max(t, calendar_time(cum, target))


# ------------------------------------------------------------------------------ goods
@shared
def finish_time(
    cap_times: np.ndarray,
    cap_rates: np.ndarray,
    n: int,
    e: int,
    free_at: float,
    now: float,
    tonnes: float,
) -> float:
    """When exporter ``e`` finishes ``tonnes`` ordered at ``now``, first come first served
    after what it has booked (until ``free_at``), at its piecewise-constant capacity
    (``n`` segments starting at ``cap_times[e]``, tonnes per day ``cap_rates[e]``); inf if
    capacity never suffices."""
    t = max(now, free_at)
    left = tonnes
    i = 0
    while i + 1 < n and cap_times[e, i + 1] <= t:
        i += 1
    while True:
        rate = cap_rates[e, i]
        seg_end = cap_times[e, i + 1] if i + 1 < n else math.inf
        if rate > 0:
            need = left / rate
            if t + need <= seg_end:
                return t + need
            left -= (seg_end - t) * rate
        if seg_end == math.inf:
            return math.inf
        t = seg_end
        i += 1


@shared
def pace_at(paced: bool, pace: np.ndarray, c: int, t: float) -> float:
    """The pace of production in country ``c`` at calendar time ``t`` (1 without windows,
    for no country and outside the horizon)."""
    if not paced or c < 0:
        return 1.0
    k = math.floor(t)
    if k < 0 or k >= pace.shape[1]:
        return 1.0
    return pace[c, k]


@shared
def paced_finish(
    paced: bool, cum: np.ndarray, pace: np.ndarray, c: int, t: float, p: float
) -> float:
    """When ``p`` days of normal production started at calendar time ``t`` are done in
    country ``c`` whose producers work at ``pace[c, k]`` days of normal production on day
    ``k`` (cumulative ``cum[c]``, :mod:`simulator.world.pace`); ``t + p`` when no day of
    the scenario differs from the normal pace (``paced`` false) and past the horizon."""
    if not paced or c < 0 or p <= 0.0:
        return t + p
    H = pace.shape[1]
    k = math.floor(t)
    if k >= H:
        return t + p
    done = cum[c, k] + pace[c, k] * (t - k)  # normal production days done by t
    target = done + p
    if target >= cum[c, H]:
        return max(t, H + (target - cum[c, H]))
    j = np.searchsorted(cum[c], target) - 1  # cum[c, j] < target <= cum[c, j + 1]
    return max(t, j + (target - cum[c, j]) / pace[c, j])


@shared
def closure_delay(
    paced: bool, cum: np.ndarray, pace: np.ndarray, countries: np.ndarray, lead: float, H: int
) -> np.ndarray:
    """What the known production windows add to an order placed on each day ``0..H``:
    the delay ``lead`` days of production started that day would meet in the slowest of
    ``countries`` (days, shape (H + 1,); zeros without windows). A buyer who anticipates
    closures sizes its orders for its lead-time estimate plus this."""
    out = np.zeros(H + 1)
    if not paced:
        return out
    for d in range(H + 1):
        for c in countries:
            t = float(d)
            out[d] = max(out[d], paced_finish(True, cum, pace, c, t, lead) - t - lead)
    return out


@shared
def pick_lane(lane_of: np.ndarray, origin: int, destination: int, mode: int) -> int:
    """The lane from country ``origin`` to ``destination``: the first of mode code ``mode``
    if there is one (-1: no preference), else the first for the pair."""
    if mode >= 0 and lane_of[origin, destination, mode + 1] >= 0:
        return lane_of[origin, destination, mode + 1]
    return lane_of[origin, destination, 0]


# ------------------------------------------------------------------------------ authority
@shared
def decide(
    u_approve: float,
    p_approve: float,
    forced: int,
    u_partial: float,
    p_partial: float,
    fraction: float,
    tonnes: float,
) -> tuple[float, int]:
    """A licence decision: approved if the application's uniform ``u_approve`` is below
    the approval probability in force, unless the statutory limit forced the outcome
    (``forced``: a deadline-rule code, -1 none; ``approve`` and ``deny`` decide, ``decide``
    and ``extend`` use the odds); an approval is partial, for ``fraction`` of the tonnes
    (clipped to [0, 1]), if ``u_partial`` is below ``p_partial``.

    A negative ``p_approve`` (:data:`~simulator.world.codes.WITHDRAW_P`) is a withdrawal
    by the applicant: nothing approved, code ``WITHDRAWN``.

    Returns:
        (approved tonnes, decision code: :class:`~simulator.world.codes.Outcome`, plus
        ``AT_DEADLINE`` when the limit forced the decision).
    """
    if p_approve < 0.0:
        return 0.0, _WITHDRAWN
    approve = u_approve < p_approve
    if forced == _APPROVE:
        approve = True
    elif forced == _DENY:
        approve = False
    frac = 1.0
    if approve and u_partial < p_partial:
        frac = min(1.0, max(0.0, fraction))
    code = (_APPROVED if frac >= 1.0 else _PARTIAL) if approve else _DENIED
    if forced >= 0:
        code += AT_DEADLINE
    return (tonnes * frac if approve else 0.0), code


# ------------------------------------------------------------------------------ plants
@shared
def _can_make(inv: np.ndarray, line: np.ndarray, tpu: np.ndarray, out: np.ndarray) -> None:
    """Units each line could make from stock ``inv`` into ``out`` (inf: needs nothing)."""
    for m in range(out.size):
        out[m] = np.inf
    for p in range(inv.size):
        v = inv[p] / tpu[p] if tpu[p] > 0 else np.inf
        m = line[p]
        if v < out[m]:
            out[m] = v


@shared
def plant_day(
    d: int,
    demand: np.ndarray,
    inv: np.ndarray,
    on_order: np.ndarray,
    lead_est: np.ndarray,
    ahead: np.ndarray,
    backlog: np.ndarray,
    line: np.ndarray,
    tpu: np.ndarray,
    md: np.ndarray,
    backlog_mode: np.ndarray,
    is_ss: np.ndarray,
    review: np.ndarray,
    safety: np.ndarray,
    react: np.ndarray,
    gain: np.ndarray,
    cap: np.ndarray,
    keep: np.ndarray,
    order_days: np.ndarray,
    out_tpu: np.ndarray,
    consumed: np.ndarray,
    shortfall: np.ndarray,
    stockout: np.ndarray,
    made_all: np.ndarray,
    short: np.ndarray,
    output: np.ndarray,
    backlog_t: np.ndarray,
    qty: np.ndarray,
) -> None:
    """Every production line's day ``d``: make, use stock, count shortages, decide orders.

    State (updated in place): ``inv`` (stock per part, t), ``on_order`` (per part, t:
    today's orders are added), ``backlog`` (units per line), ``react`` (extra safety
    stock per part, days: a reacting buyer's; grows by ``gain`` on a day its line is
    short, at most ``cap``, else is multiplied by ``keep``). Read: ``demand`` (units per
    line today), ``lead_est`` (lead-time estimate per part, days), ``ahead`` (per part,
    days: what the suppliers' known closures add to an order placed today; see
    :func:`closure_delay`) and the lines' settings
    (``line`` of each part, tonnes per unit ``tpu``, mean daily need ``md`` in t/day,
    ``backlog_mode``, ``is_ss`` for (s, S) parts, ``review`` and ``safety`` and
    ``order_days`` in days, output tonnes per unit ``out_tpu``). Written: per part
    ``consumed``, ``shortfall``, ``stockout``, ``backlog_t`` (t) and ``qty`` (today's
    order, t; 0 for none); per line ``made_all`` and ``short`` (units) and ``output``
    (t made for customers downstream). See :mod:`simulator.world.manufacturing`.
    """
    M = demand.size
    P = inv.size
    cm = np.empty(M)
    _can_make(inv, line, tpu, cm)
    made = np.empty(M)
    for m in range(M):
        made[m] = min(demand[m], cm[m])
        short[m] = demand[m] - made[m]
    use = np.empty(P)
    for p in range(P):
        m = line[p]
        need = demand[m] * tpu[p]
        use[p] = min(inv[p], made[m] * tpu[p])
        stockout[p] = max(need - inv[p], 0.0)
    for p in range(P):
        inv[p] -= use[p]
    # backlog lines: leftover stock makes backlog units, then today's shortfall joins
    extra = np.zeros(M)
    any_backlog = False
    for m in range(M):
        if backlog_mode[m]:
            any_backlog = True
    if any_backlog:
        _can_make(inv, line, tpu, cm)
        for m in range(M):
            extra[m] = min(backlog[m], cm[m]) if backlog_mode[m] else 0.0
    for p in range(P):
        extra_use = min(inv[p], extra[line[p]] * tpu[p])
        inv[p] -= extra_use
        consumed[p] = use[p] + extra_use
        shortfall[p] = short[line[p]] * tpu[p]
    for m in range(M):
        backlog[m] += (short[m] - extra[m]) if backlog_mode[m] else 0.0
        made_all[m] = made[m] + extra[m]
        output[m] = made_all[m] * out_tpu[m]
    # buyers who react: the safety target rises on a short day, decays otherwise
    for p in range(P):
        if gain[p] > 0.0:
            if short[line[p]] > 0.0:
                react[p] = min(cap[p], react[p] + gain[p])
            else:
                react[p] *= keep[p]
    # orders, per part: order-up-to every review_days, or (s, S) daily
    for p in range(P):
        backlog_t[p] = backlog[line[p]] * tpu[p]
        position = inv[p] + on_order[p] - backlog_t[p]
        lead = lead_est[p] + ahead[p]
        s_level = md[p] * (lead + safety[p] + react[p])
        if is_ss[p]:
            target = s_level + md[p] * order_days[p]
            due = position <= s_level
        else:
            target = md[p] * (lead + review[p] + safety[p] + react[p])
            due = (d % review[p]) == 0
        q = target - position if due else 0.0
        if q > 1e-9 * max(md[p], 1e-12):
            qty[p] = q
            on_order[p] += q
        else:
            qty[p] = 0.0
