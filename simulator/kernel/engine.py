"""The compiled kernel's entry: scenario + seed + replication → the same
:class:`~simulator.world.trace.Trace` as the SimPy engine's :func:`simulator.world.simulate`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.world.trace import (
    APPLICATIONS,
    AUTHORITY,
    AUTHORITY_DAILY,
    GOODS,
    LINE_SERIES,
    OVERLAYS,
    PART_SERIES,
    REGIMES,
    SHIPMENTS,
    Trace,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.kernel.plan import Plan
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar

__all__ = ["simulate_kernel", "warm"]

_PLANS: OrderedDict[int, tuple[Any, Any, Plan]] = OrderedDict()
_MAX_PLANS = 8

State = namedtuple(
    "State",
    [
        "I",
        "F",
        "AI",
        "AF",
        "PTS",
        "RQ",
        "SI",
        "SF",
        "CNT",
        "XF",
        "PV",
        "MV",
        "BO",
        "REC",
        "RECL",
        "DEM",
        "AD",
        "heap",
        "pool",
        "alog",
        "glog",
        "ships",
        "apps",
        "held",
        "waiters",
        "gen_start",
    ],
)
"""The kernel's mutable state, packed by dimension (columns: :mod:`simulator.kernel.loop`)."""


def _plan(sc: Scenario, cal: WorkCalendar) -> Plan:
    from simulator.kernel.plan import build_plan

    key = id(sc)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is sc and hit[1] is cal:
        _PLANS.move_to_end(key)
        return hit[2]
    plan = build_plan(sc, cal)
    _PLANS[key] = (sc, cal, plan)
    while len(_PLANS) > _MAX_PLANS:
        _PLANS.popitem(last=False)
    return plan


_FULL_BITS = ((1, "heap"), (2, "waiters"), (4, "alog"), (8, "glog"))
"""``I[I_FULL]`` bits (:mod:`simulator.kernel.loop`) and the arrays they name."""


_PLAN_LOCK = threading.Lock()
"""Held while a replication reads or grows the shared plans (threads of a Dask worker
may run replications side by side; the compiled loop itself touches nothing shared)."""
_SCRATCH = threading.local()


def _scratch(name: str, rows: int, cols: int, dtype: Any, fill: float | None = None) -> np.ndarray:
    """A replication's working array of ``rows`` × ``cols``, reused by the next
    replication in this thread (fresh memory costs the process a page fault per 4 kB it
    touches: ~15 % of a case-study replication); filled with ``fill`` unless None. Only
    arrays whose contents are copied out of the kernel's state may be scratch."""
    d = _SCRATCH.__dict__.setdefault("arrays", {})
    a = d.get(name)
    if a is None or a.shape[0] < rows or a.shape[1] != cols or a.dtype != dtype:
        a = np.empty((max(rows, 1), cols), dtype=dtype)
        d[name] = a
    out = a[:rows]
    if fill is not None:
        out.fill(fill)
    return out


def _state(
    plan: Plan,
    n_arr: int,
    n_sources: int,
    n_pol: int,
    demand: np.ndarray,
    caps: dict[str, int] | None = None,
) -> Any:
    """A replication's state; ``caps``: sizes of the arrays that may run out (heap,
    waiters, alog, glog), estimated if not given."""
    from simulator.kernel import loop as lp

    st = plan.static
    H = st.H
    P = st.part_line.size
    M = st.mean_units.size
    ship_cap = n_arr + int(st.part_bound.sum()) + 1
    app_cap = ship_cap  # at most one application per shipment
    req_cap = app_cap * (1 + st.n_info) + 1  # one reviewer request per queueing
    i8, f8 = np.int64, np.float64
    AI = _scratch("AI", app_cap, lp.N_AI, i8, 0)
    AI[:, lp.A_TOKEN] = -1
    AF = _scratch("AF", app_cap, lp.N_AF, f8, 0.0)
    AF[:, lp.AF_FACTOR] = 1.0
    SI = _scratch("SI", ship_cap, lp.N_SI, i8, 0)
    SI[:, lp.SH_BO_NEXT] = -1
    n_cnt = max(n_sources, len(st.lead_pairs), len(st.transit_pairs), 1)
    XF = np.zeros((2, max(st.ex_country.size, st.release_rate.size, 1)))
    XF[1, :] = -np.inf  # per destination: the port's release queue is busy until
    if caps is None:
        per_app = 8 + 3 * st.n_info + 2 * st.n_ret
        caps = {
            "heap": 1024 + 2 * ship_cap + H + n_pol,
            "waiters": 64 + app_cap,
            "alog": 64 + app_cap * per_app,
            "glog": 64 + 10 * ship_cap,
        }
    PV = np.zeros((3, P))
    PV[0] = st.init_inventory
    PV[2] = st.lead_init
    return State(
        I=np.zeros(lp.N_I, dtype=i8),
        F=np.zeros(1),
        AI=AI,
        AF=AF,
        PTS=_scratch("PTS", app_cap, max(st.n_info, 1), f8, 0.0),
        RQ=_scratch("RQ", req_cap, 4, i8, 0),
        SI=SI,
        SF=_scratch("SF", ship_cap, lp.N_SF, f8, 0.0),
        CNT=np.zeros((4, n_cnt), dtype=i8),
        XF=XF,
        PV=PV,
        MV=np.zeros((3, M)),
        BO=np.full((2, max(M, 1)), -1, dtype=i8),
        REC=np.zeros((6, H, P)),
        RECL=np.zeros((3, H, M)),
        DEM=demand,
        AD=np.zeros((H, 4), dtype=i8),
        heap=_scratch("heap", caps["heap"], lp.N_H, f8),
        pool=_scratch("pool", req_cap, 3, i8),
        alog=_scratch("alog", caps["alog"], 5, f8),
        glog=_scratch("glog", caps["glog"], 5, f8),
        ships=_scratch("ships", ship_cap, 8, f8),
        apps=_scratch("apps", app_cap, 6, f8),
        held=_scratch("held", ship_cap, 1, i8)[:, 0],
        waiters=_scratch("waiters", caps["waiters"], 1, i8)[:, 0],
        gen_start=np.zeros(n_pol + 2, dtype=i8),
    ), caps


def simulate_kernel(
    sc: Scenario, seed: int, rep: int = 0, cal: WorkCalendar | None = None
) -> Trace:
    """Run replication ``rep`` of ``seed`` on the compiled kernel.

    Args:
        sc: A validated scenario.
        seed: Root seed.
        rep: Replication index.
        cal: The scenario's calendar, if already built.

    Returns:
        The replication's :class:`~simulator.world.trace.Trace`, identical to the SimPy
        engine's.
    """
    from simulator.kernel import loop as lp
    from simulator.kernel.columns import log_columns
    from simulator.kernel.loop import run_loop
    from simulator.kernel.plan import kernel_draws
    from simulator.world.calendar import build_calendar
    from simulator.world.draws import fill_draws

    cal = cal if cal is not None else build_calendar(sc)
    with _PLAN_LOCK:  # a plan grows its policy states as replications meet them
        plan = _plan(sc, cal)
        dr = fill_draws(plan.static, seed, rep)
        plan.sync_states()
        D, DA = kernel_draws(plan, dr)
    regimes, layers = list(dr.policy.regimes), list(dr.policy.layers)
    st = plan.static
    H = st.H
    M = st.mean_units.size
    # demand per day and line
    demand = st.demand_base * dr.noise if M else np.zeros((H, 0))
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    S, SA = plan.kernel
    caps = None
    while True:
        K, caps = _state(plan, D.n_arr, dr.n_sources, D.n_pol, demand, caps)
        err = run_loop(S, SA, D, DA, K)
        full = int(K.I[lp.I_FULL])
        if not full:
            break
        # an array ran out: enlarge it and run again (same draws, same result)
        for bit, name in _FULL_BITS:
            if full & bit:
                caps[name] *= 2
    if err:
        raise RuntimeError(f"kernel: {err} inconsistent event(s); please report this scenario")
    iv = K.I
    line, tpu = st.part_line, st.t_per_unit
    lines = {
        "demand_units": demand,
        "made_units": K.RECL[0],
        "short_units": K.RECL[1],
        "backlog_units": K.RECL[2],
    }
    parts = {
        "demand_t": demand[:, line] * tpu,
        "consumed_t": K.REC[0],
        "shortfall_t": K.REC[1],
        "stockout_t": K.REC[2],
        "inventory_t": K.REC[3],
        "on_order_t": K.REC[4],
        "backlog_t": K.REC[5],
    }
    book = plan.book
    return Trace(
        seed=seed,
        rep=rep,
        horizon=H,
        authority=log_columns(AUTHORITY, K.alog[: iv[lp.I_AN]]),
        goods=log_columns(GOODS, K.glog[: iv[lp.I_GN]]),
        shipments=log_columns(SHIPMENTS, K.ships[: iv[lp.I_NSHIP]]),
        applications=log_columns(APPLICATIONS, K.apps[: iv[lp.I_NAPP]]),
        regimes=REGIMES.array(regimes),
        overlays=OVERLAYS.array(layers),
        regime_names=tuple(book.names),
        regime_labels=tuple(book.labels),
        parts={name: parts[name] for name, _ in PART_SERIES},
        lines={name: lines[name] for name, _ in LINE_SERIES},
        authority_daily={
            name: K.AD[:, j].astype(np.int64) for j, (name, _) in enumerate(AUTHORITY_DAILY)
        },
        parts_end={
            "initial_inventory_t": st.init_inventory.copy(),
            "inventory_t": K.PV[0].copy(),
            "on_order_t": K.PV[1].copy(),
        },
        backlog_end_units=K.MV[0].copy(),
    )


_WARM: list[bool] = []


def warm() -> None:
    """Compile the kernel, or load it from the on-disk cache, once per process: runs a
    two-day scenario of one background stream (its arrays have the same types as any
    scenario's, so this is the one compiled version every scenario uses)."""
    if _WARM:
        return
    from simulator.scenario.load import scenario_from_dict

    sc = scenario_from_dict(
        {
            "name": "warm-up",
            "start": "2025-01-01",
            "end": "2025-01-02",
            "calendar": {"all_working": True},
            "countries": [{"id": "XX"}],
            "products": [{"id": "p"}],
            "authority": {
                "reviewers": 1,
                "review_work_wd": {"kind": "exponential", "mean": 0.5},
                "background": [{"destination": "XX", "product": "p", "rate_per_wd": 1.0}],
            },
        }
    )
    simulate_kernel(sc, 0, 0)
    _WARM.append(True)
