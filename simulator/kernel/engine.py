"""The compiled kernel's entry: scenario + seed + replication → the same
:class:`~simulator.world.trace.Trace` as the SimPy engine's :func:`simulator.world.simulate`.

The engine prepares what the compiled loop reads (the packed plan, the replication's
draws), allocates the loop's state (:data:`State`: the arrays of
:mod:`simulator.kernel.layout`, sized from the compiled scenario's bounds), runs
:func:`simulator.kernel.loop.run_loop`, and turns the state's logs and records into a
``Trace``.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.kernel import layout as L
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
    Log,
    Trace,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.kernel.pack import Plan
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar

__all__ = ["State", "simulate_kernel", "warm"]

State = namedtuple(
    "State",
    [
        "I",
        "F",
        "heap",
        "AI",
        "AF",
        "PTS",
        "RQ",
        "pool",
        "waiters",
        "gen_start",
        "TAU",
        "SI",
        "SF",
        "CNT",
        "XF",
        "held",
        "BO",
        "PV",
        "MV",
        "REC",
        "RECL",
        "DEM",
        "alog",
        "glog",
        "ships",
        "apps",
        "AD",
    ],
)
"""The kernel's mutable state (:mod:`simulator.kernel.layout` names its rows and
columns; :func:`simulator.kernel.loop.run_loop` groups it by role)."""

_FULL_BITS = ((L.FULL_HEAP, "heap"), (L.FULL_WAIT, "waiters"), (L.FULL_ALOG, "alog"))
_FULL_BITS += ((L.FULL_GLOG, "glog"),)
"""``IV[I_FULL]`` bits and the arrays they name."""
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
) -> tuple[Any, dict[str, int]]:
    """A replication's state; ``caps``: sizes of the arrays that may run out (heap,
    waiters, alog, glog), estimated if not given."""
    st = plan.static
    H, P, M = st.H, st.P, st.M
    ship_cap = n_arr + int(st.part_bound.sum()) + 1
    app_cap = ship_cap  # at most one application per shipment
    req_cap = app_cap * (1 + st.n_info) + 1  # one reviewer request per queueing
    i8, f8 = np.int64, np.float64
    AI = _scratch("AI", app_cap, L.N_AI, i8, 0)
    AI[:, L.A_TOKEN] = -1
    AF = _scratch("AF", app_cap, L.N_AF, f8, 0.0)
    AF[:, L.AF_FACTOR] = 1.0
    SI = _scratch("SI", ship_cap, L.N_SI, i8, 0)
    SI[:, L.SH_BO_NEXT] = -1
    n_cnt = max(n_sources, len(st.lead_pairs), len(st.transit_pairs), 1)
    XF = np.zeros((2, max(st.ex_country.size, st.release_rate.size, 1)))
    XF[L.XF_PORT_BUSY, :] = -np.inf  # per destination: the port's release queue is busy until
    if caps is None:
        per_app = 8 + 3 * st.n_info + 2 * st.n_ret
        caps = {
            "heap": 1024 + 2 * ship_cap + H + n_pol,
            "waiters": 64 + app_cap,
            "alog": 64 + app_cap * per_app,
            "glog": 64 + 10 * ship_cap,
        }
    PV = np.zeros((len(L.PV_NAMES), P))
    PV[L.PV_INV] = st.init_inventory
    PV[L.PV_LEAD] = st.lead_init
    return State(
        I=np.zeros(L.N_I, dtype=i8),
        F=np.zeros(1),
        heap=_scratch("heap", caps["heap"], L.N_H, f8),
        AI=AI,
        AF=AF,
        PTS=_scratch("PTS", app_cap, max(st.n_info, 1), f8, 0.0),
        RQ=_scratch("RQ", req_cap, 4, i8, 0),
        pool=_scratch("pool", req_cap, 3, i8),
        waiters=_scratch("waiters", caps["waiters"], 1, i8)[:, 0],
        gen_start=np.zeros(n_pol + 2, dtype=i8),
        TAU=np.full(max(len(st.class_keys), 1), -np.inf),
        SI=SI,
        SF=_scratch("SF", ship_cap, L.N_SF, f8, 0.0),
        CNT=np.zeros((4, n_cnt), dtype=i8),
        XF=XF,
        held=_scratch("held", ship_cap, 1, i8)[:, 0],
        BO=np.full((2, max(M, 1)), -1, dtype=i8),
        PV=PV,
        MV=np.zeros((len(L.MV_NAMES), M)),
        REC=np.zeros((len(L.REC_NAMES), H, P)),
        RECL=np.zeros((len(L.RECL_NAMES), H, M)),
        DEM=demand,
        alog=_scratch("alog", caps["alog"], 5, f8),
        glog=_scratch("glog", caps["glog"], 5, f8),
        ships=_scratch("ships", ship_cap, len(SHIPMENTS.columns), f8),
        apps=_scratch("apps", app_cap, len(APPLICATIONS.columns), f8),
        AD=np.zeros((H, len(L.AD_NAMES)), dtype=i8),
    ), caps


def log_columns(log: Log, rows: np.ndarray) -> np.ndarray:
    """The structured array :meth:`Log.array` makes of the same rows, from the kernel's
    rows: a float array with one column per column of ``log``, in order (integers in it
    are exact)."""
    out = np.zeros(rows.shape[0], dtype=log.dtype)
    for j, c in enumerate(log.columns):
        out[c.name] = rows[:, j]
    out.flags.writeable = False
    return out


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
    from simulator.kernel.loop import run_loop
    from simulator.kernel.pack import PLAN_LOCK, kernel_draws, plan_for
    from simulator.world.calendar import build_calendar
    from simulator.world.draws import fill_draws

    cal = cal if cal is not None else build_calendar(sc)
    with PLAN_LOCK:  # a plan grows its policy states as replications meet them
        plan = plan_for(sc, cal)
        dr = fill_draws(plan.static, seed, rep)
        plan.sync_states()
        D, DA = kernel_draws(plan, dr)
    st = plan.static
    H, M = st.H, st.M
    demand = st.demand_base * dr.noise if M else np.zeros((H, 0))
    demand = np.ascontiguousarray(demand, dtype=np.float64)
    S, SA = plan.kernel
    caps = None
    while True:
        K, caps = _state(plan, D.n_arr, dr.n_sources, D.n_pol, demand, caps)
        err = run_loop(S, SA, D, DA, K)
        full = int(K.I[L.I_FULL])
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
    lines = {"demand_units": demand, **{n: K.RECL[i] for i, n in enumerate(L.RECL_NAMES)}}
    parts = {"demand_t": demand[:, line] * tpu, **{n: K.REC[i] for i, n in enumerate(L.REC_NAMES)}}
    book = st.book
    return Trace(
        seed=seed,
        rep=rep,
        horizon=H,
        authority=log_columns(AUTHORITY, K.alog[: iv[L.I_AN]]),
        goods=log_columns(GOODS, K.glog[: iv[L.I_GN]]),
        shipments=log_columns(SHIPMENTS, K.ships[: iv[L.I_NSHIP]]),
        applications=log_columns(APPLICATIONS, K.apps[: iv[L.I_NAPP]]),
        regimes=REGIMES.array(list(dr.policy.regimes)),
        overlays=OVERLAYS.array(list(dr.policy.layers)),
        regime_names=tuple(book.names),
        regime_labels=tuple(book.labels),
        parts={name: parts[name] for name, _ in PART_SERIES},
        lines={name: lines[name] for name, _ in LINE_SERIES},
        authority_daily={
            name: K.AD[:, j].astype(np.int64) for j, (name, _) in enumerate(AUTHORITY_DAILY)
        },
        parts_end={
            "initial_inventory_t": st.init_inventory.copy(),
            "inventory_t": K.PV[L.PV_INV].copy(),
            "on_order_t": K.PV[L.PV_ON_ORDER].copy(),
        },
        backlog_end_units=K.MV[L.MV_BACKLOG].copy(),
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
