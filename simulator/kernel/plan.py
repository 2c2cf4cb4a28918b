"""What the compiled kernel needs, as arrays: the scenario compiled once (:class:`Plan`)
and one replication's random draws and policy path (:func:`replication_inputs`).

Nothing here simulates. The draws come from the same named streams, in the same
blocks, as the SimPy engine's samplers (:mod:`simulator.world.sampling`), so each
consumer sees the same sequence of values; the policy path (regime changes, overlays,
pulses, the Markov chain) is computed by the SimPy engine's own
:class:`~simulator.world.policy.PolicyController` on an environment of its own (policy
changes do not depend on anything else that happens in a run).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.world.background import arrival_times
from simulator.world.codes import EFFECT_COLUMNS, EFFECTS_TABLE
from simulator.world.effects import PolicyBook
from simulator.world.rng import Streams
from simulator.world.sampling import BLOCK, demand_noise
from simulator.world.static import Static, compile_scenario

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.distributions import Distribution
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar

__all__ = ["Plan", "build_plan", "pack_static", "replication_inputs"]

N_EFF = len(EFFECT_COLUMNS)
"""Columns of the effects table (:data:`simulator.world.codes.EFFECT_COLUMNS`)."""


# ---------------------------------------------------------------------------- draws
Rng = np.random.Generator | Callable[[], np.random.Generator]
"""A generator, or a function making it (a generator costs ~20 µs to seed: made only
when something is drawn from it)."""


def _gen(rng: Rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else rng()


def draw_blocks(dist: Distribution, rng: Rng, n: int) -> np.ndarray:
    """The first ``n`` values a :class:`~simulator.world.sampling.Sampler` of ``dist`` on
    ``rng`` hands out (drawn in the same blocks; constants are not drawn). ``rng``: a
    generator, or a function making it (called only if something is drawn)."""
    if dist.kind == "constant":
        return np.full(n, float(dist.value))
    if n <= 0:
        return np.zeros(0)
    rng = _gen(rng)
    blocks = [dist.draw(rng, BLOCK) for _ in range(-(-n // BLOCK))]
    return np.asarray(np.concatenate(blocks)[:n], dtype=np.float64)


def uniform_blocks(rng: Rng, n: int) -> np.ndarray:
    """The first ``n`` values a :class:`~simulator.world.sampling.Uniforms` hands out."""
    if n <= 0:
        return np.zeros(0)
    rng = _gen(rng)
    return np.concatenate([rng.random(BLOCK) for _ in range(-(-n // BLOCK))])[:n]


# ---------------------------------------------------------------------------- plan
@dataclass
class Plan:
    """A compiled scenario packed for the kernel (built once per scenario and reused).

    Attributes:
        static: The compiled scenario (:class:`~simulator.world.static.Static`).
        effects: Effects table, one row per policy state met so far and application
            class (columns :data:`~simulator.world.codes.EFFECT_COLUMNS`).
        capacity: Reviewers in force per policy state.
        kernel: (KStatic, KArrays): the scalars and arrays the compiled loop reads.
    """

    static: Static
    effects: np.ndarray
    capacity: np.ndarray
    kernel: Any
    n_states_built: int

    @property
    def sc(self) -> Any:
        """The scenario."""
        return self.static.sc

    @property
    def book(self) -> PolicyBook:
        """The compiled policy (grows as replications meet new states)."""
        return self.static.book

    def sync_states(self) -> None:
        """Add effects rows for policy states met since the last call."""
        st = self.static
        n = len(st.book.states)
        if n == self.n_states_built:
            return
        rows = np.zeros((n, len(st.class_keys), N_EFF))
        rows[: self.n_states_built] = self.effects
        cap = np.zeros(n, dtype=np.int64)
        cap[: self.n_states_built] = self.capacity
        for s in range(self.n_states_built, n):
            for c, key in enumerate(st.class_keys):
                rows[s, c] = _effects_row(st.book, s, key)
            cap[s] = st.capacity(s)
        self.effects, self.capacity, self.n_states_built = rows, cap, n


def _effects_row(book: PolicyBook, state: int, key: tuple[str, ...]) -> np.ndarray:
    """One row of the effects table: every effect of
    :data:`~simulator.world.codes.EFFECTS_TABLE` with kernel columns, for ``key`` in
    policy state ``state`` (an effect object with a distribution fills its probability
    and the distribution's index; none: -1, -1)."""
    r = book.resolve(state, key)  # type: ignore[arg-type]
    row = np.zeros(N_EFF)
    for e in EFFECTS_TABLE:
        if not e.columns:
            continue
        v = getattr(r, e.name)
        j = EFFECT_COLUMNS.index(e.columns[0])
        if len(e.columns) == 1:
            row[j] = float(v or 0)
        elif v is None:
            row[j], row[j + 1] = -1.0, -1
        else:
            days = v.days
            index = book.park_index if e.name == "park" else book.inspection_index
            row[j] = v.probability
            row[j + 1] = index(days) if days is not None else -1
    return row


def build_plan(sc: Scenario, cal: WorkCalendar) -> Plan:
    """Pack the compiled scenario of ``sc`` (and its calendar) for the kernel."""
    st = compile_scenario(sc, cal)
    plan = Plan(
        static=st,
        effects=np.zeros((0, len(st.class_keys), N_EFF)),
        capacity=np.zeros(0, dtype=np.int64),
        kernel=pack_static(st),
        n_states_built=0,
    )
    plan.sync_states()
    return plan


KStatic = namedtuple(
    "KStatic",
    [
        "H",
        "reviewers",
        "limit",
        "binding",
        "rule",
        "p_return",
        "p_partial",
        "intake",
        "n_ret",
        "n_info",
        "any_park",
        "any_partial",
        "screening_used",
        "has_extend",
        "n_park_dists",
        "n_insp_dists",
        "identity",
        "w_max",
        "P",
        "M",
        "n_bgs",
        "n_gl",
        "n_pipe",
    ],
)
"""The kernel's scalars of the scenario (no arrays: a tuple holding arrays costs a
reference count per array at every compiled call it is passed to)."""
KArrays = namedtuple(
    "KArrays",
    [
        "cum",
        "working",
        "class_controlled",
        "BGI",
        "PI",
        "PF",
        "LI",
        "LF",
        "sup_start",
        "SUPI",
        "SUPF",
        "EXI",
        "cap_times",
        "cap_rates",
        "lane_of",
        "transit_of",
        "release_rate",
        "GL",
        "PIPI",
        "PIPF",
    ],
)


def _rows(arrays: list[np.ndarray], dtype: Any, n: int) -> np.ndarray:
    out = np.zeros((len(arrays), n), dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, : a.size] = a
    return out


def pack_static(st: Any) -> Any:
    """The kernel's view of :class:`Static`: scalars, and arrays packed by dimension
    (few arrays: each array a compiled function touches costs a reference count)."""
    P, M = st.part_line.size, st.mean_units.size
    i8, f8 = np.int64, np.float64
    return KStatic(
        H=int(st.H),
        reviewers=int(st.reviewers),
        limit=float(st.limit),
        binding=bool(st.binding),
        rule=int(st.rule),
        p_return=float(st.p_return),
        p_partial=float(st.p_partial),
        intake=bool(st.intake),
        n_ret=int(st.n_ret),
        n_info=int(st.n_info),
        any_park=bool(st.any_park),
        any_partial=bool(st.any_partial),
        screening_used=bool(st.screening_used),
        has_extend=bool(st.has_extend),
        n_park_dists=int(st.n_park_dists),
        n_insp_dists=int(st.n_insp_dists),
        identity=bool(st.identity),
        w_max=float(st.w_max),
        P=int(P),
        M=int(M),
        n_bgs=int(st.bg_class.size),
        n_gl=int(st.gl_ex.size),
        n_pipe=int(st.pipe_part.size),
    ), KArrays(
        cum=st.cum,
        working=st.working,
        class_controlled=st.class_controlled,
        BGI=_rows([st.bg_class, st.bg_dest], i8, st.bg_class.size),
        PI=_rows([st.part_line, st.is_ss.astype(i8), st.review, st.expedite_mode], i8, P),
        PF=_rows(
            [
                st.t_per_unit,
                st.mean_daily,
                st.init_inventory,
                st.lead_init,
                st.adapt,
                st.safety,
                st.order_days,
                st.expedite_below,
            ],
            f8,
            P,
        ),
        LI=_rows([st.first_part, st.backlog_mode.astype(i8), st.m_country], i8, M),
        LF=_rows([st.mean_units, st.out_t_per_unit], f8, M),
        sup_start=st.sup_start,
        SUPI=_rows([st.sup_ex, st.sup_mfr, st.sup_class, st.sup_lead], i8, st.sup_ex.size),
        SUPF=_rows([st.sup_share], f8, st.sup_ex.size),
        EXI=_rows([st.ex_country, st.ex_licensed.astype(i8), st.cap_n], i8, st.cap_n.size),
        cap_times=st.cap_times,
        cap_rates=st.cap_rates,
        lane_of=st.lane_of,
        transit_of=st.transit_of,
        release_rate=st.release_rate,
        GL=_rows([st.gl_ex.astype(f8), st.gl_m.astype(f8), st.gl_t0, st.gl_t1], f8, st.gl_ex.size),
        PIPI=_rows(
            [
                st.pipe_part,
                st.pipe_transit.astype(i8),
                st.pipe_ex,
                st.pipe_origin,
                st.pipe_class,
                st.pipe_customs.astype(i8),
            ],
            i8,
            st.pipe_part.size,
        ),
        PIPF=_rows([st.pipe_q, st.pipe_day], f8, st.pipe_part.size),
    )


# ---------------------------------------------------------------------------- per replication
FLOAT_DRAWS = (
    "work",
    "screening",
    "u_return",
    "resubmit",
    "u_info",
    "info_at",
    "response",
    "u_approve",
    "u_park",
    "park_days",
    "extension",
    "u_partial",
    "partial",
    "handling",
    "u_hold",
    "u_inspect",
    "production",
    "transit_bg",
    "inspection",
    "lead",
    "transit",
    "bg_t",
    "bg_tonnes",
    "pol_t",
)
"""Float draws of a replication, concatenated in this order in ``DF`` (offset ``o_<name>``)."""
INT_DRAWS = (
    "app_base",
    "ship_base",
    "lead_base",
    "transit_base",
    "bg_k",
    "pol_prio",
    "pol_state",
)
"""Integer inputs, concatenated in ``DI`` (offset ``i_<name>``)."""
DrawArrays = namedtuple("DrawArrays", ["DF", "DI", "effects", "capacity"])
"""A replication's arrays: float draws, integer inputs, effects table, capacity per state."""
Draws = namedtuple(
    "Draws",
    ["state0", "n_pol", "n_arr"] + [f"o_{x}" for x in FLOAT_DRAWS] + [f"i_{x}" for x in INT_DRAWS],
)


def pack_draws(floats: dict[str, np.ndarray], ints: dict[str, np.ndarray], **scalars: Any) -> Any:
    """Concatenate a replication's inputs into the kernel's :data:`Draws`."""
    fo, io = {}, {}
    pos = 0
    for name in FLOAT_DRAWS:
        fo[f"o_{name}"] = pos
        pos += floats[name].size
    pos = 0
    for name in INT_DRAWS:
        io[f"i_{name}"] = pos
        pos += ints[name].size
    DF = np.concatenate([np.asarray(floats[n], dtype=np.float64).ravel() for n in FLOAT_DRAWS])
    DI = np.concatenate([np.asarray(ints[n], dtype=np.int64).ravel() for n in INT_DRAWS])
    effects = scalars.pop("effects")
    capacity = scalars.pop("capacity")
    return Draws(**scalars, **fo, **io), DrawArrays(DF, DI, effects, capacity)


def replication_inputs(plan: Plan, cal: WorkCalendar, seed: int, rep: int) -> tuple[Any, Any]:
    """One replication's draws and policy path.

    Returns:
        ``(draws, {"n_sources", "noise"}, (regimes log rows, overlays log rows))``.
    """
    sc = plan.sc
    st = plan.static
    auth = sc.authority
    streams = Streams(seed, rep)
    H = st.H
    book = plan.book

    # --- the policy path, by the SimPy engine's own controller
    pol_t, pol_prio, pol_state, regimes, layers, state0 = _policy_path(plan, streams)
    plan.sync_states()

    # --- background arrivals (World._background)
    bg = list(auth.background)
    names = st.bg_names
    times, idx = [], []
    for k, b in enumerate(bg):
        rng = streams.get("background", *names[k], "arrivals")
        t = arrival_times(b, cal, H, rng)
        times.append(t)
        idx.append(np.full(t.size, k, dtype=np.int64))
    if times and sum(t.size for t in times):
        t_all = np.concatenate(times)
        k_all = np.concatenate(idx)
        order = np.argsort(t_all, kind="stable")
        bg_t, bg_k = t_all[order], k_all[order]
    else:
        bg_t, bg_k = np.zeros(0), np.zeros(0, dtype=np.int64)
    n_bg = np.array([t.size for t in times], dtype=np.int64)
    bg_tonnes = np.zeros(bg_t.size)
    for k, b in enumerate(bg):
        vals = draw_blocks(b.tonnes, streams.get("background", *names[k], "tonnes"), n_bg[k])
        bg_tonnes[bg_k == k] = vals  # the k-th stream's shipments in arrival order

    # --- application and customs draws per source
    sources = [("bg/" + "/".join(n), ("bg", *n), k) for k, n in enumerate(names)]
    sources += [(f"mfr/{n}", ("mfr", n), -1) for n in st.part_names]
    bounds = np.concatenate([n_bg, st.part_bound]).astype(np.int64)
    base = np.concatenate([[0], np.cumsum(bounds)]).astype(np.int64)
    n_tot = int(base[-1])

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0)

    # the per-application draws: FLOAT_DRAWS up to the background's inspection delay
    A: dict[str, list[np.ndarray]] = {
        k: [] for k in FLOAT_DRAWS[: FLOAT_DRAWS.index("inspection") + 1]
    }
    n_ret, n_info = st.n_ret, st.n_info
    n_pd, n_id = st.n_park_dists, st.n_insp_dists
    for s, (app_name, ship_name, k) in enumerate(sources):
        n = int(bounds[s])

        def g(attr: str, app_name: str = app_name) -> Callable[[], np.random.Generator]:
            return lambda: streams.get("app", app_name, attr)

        A["work"].append(draw_blocks(auth.review_work_wd, g("work"), n))
        A["screening"].append(
            draw_blocks(auth.intake.screening_wd, g("screening"), n)
            if st.screening_used
            else np.zeros(n)
        )
        A["u_return"].append(uniform_blocks(g("u_return"), n * n_ret))
        A["resubmit"].append(draw_blocks(auth.intake.resubmit_days, g("resubmit"), n * n_ret))
        A["u_info"].append(uniform_blocks(g("u_info"), n * n_info))
        A["info_at"].append(uniform_blocks(g("info_at"), n * n_info))
        A["response"].append(
            draw_blocks(auth.information_requests.response_days, g("response"), n * n_info)
        )
        A["u_approve"].append(uniform_blocks(g("u_approve"), n))
        if st.any_park:
            A["u_park"].append(uniform_blocks(g("u_park"), n))
            pd = np.zeros((n, n_pd))
            for j, d in enumerate(book.park_dists):
                pd[:, j] = draw_blocks(d, g(f"park_days/{j}"), n)
            A["park_days"].append(pd.ravel())
        else:
            A["u_park"].append(np.ones(n))
            A["park_days"].append(np.zeros(n * n_pd))
        A["extension"].append(
            draw_blocks(auth.deadline_extension_wd, g("extension"), n)
            if st.has_extend
            else np.zeros(n)
        )
        if st.any_partial:
            A["u_partial"].append(uniform_blocks(g("u_partial"), n))
            A["partial"].append(
                draw_blocks(auth.approval.partial_fraction, g("partial_fraction"), n)
            )
        else:
            A["u_partial"].append(np.ones(n))
            A["partial"].append(np.ones(n))

        def gg(
            attr: str, ship_name: tuple[str, ...] = ship_name
        ) -> Callable[[], np.random.Generator]:
            return lambda: streams.get("goods", *ship_name, attr)

        A["handling"].append(draw_blocks(sc.customs.handling_days, gg("handling"), n))
        A["u_hold"].append(uniform_blocks(gg("u_hold"), n))
        A["u_inspect"].append(uniform_blocks(gg("u_inspect"), n))
        if k >= 0:
            A["production"].append(draw_blocks(bg[k].production_days, gg("production"), n))
            A["transit_bg"].append(draw_blocks(bg[k].transit_days, gg("transit"), n))
        else:
            A["production"].append(np.zeros(n))
            A["transit_bg"].append(np.zeros(n))
        ins = np.zeros((n, n_id))
        for j, d in enumerate(book.inspection_dists):
            ins[:, j] = draw_blocks(d, gg(f"inspection/{j}"), n)
        A["inspection"].append(ins.ravel())

    # --- lead times per (exporter, part), transit per (lane, part)
    lead, lead_base = [], [0]
    for e, p in st.lead_pairs:
        ex = sc.exporters[e]
        name = (ex.id, *st.part_stream[p])
        vals = draw_blocks(ex.lead_time_days, streams.get("exporter", *name), H + 1)
        lead.append(vals)
        lead_base.append(lead_base[-1] + vals.size)
    transit, transit_base = [], [0]
    for i, p in st.transit_pairs:
        ln = sc.lanes[i]
        name = (ln.id, *st.part_stream[p])
        n = int(st.part_bound[p]) + H + 1
        vals = draw_blocks(ln.transit_days, streams.get("transit", *name), n)
        transit.append(vals)
        transit_base.append(transit_base[-1] + vals.size)

    # --- demand noise (World.__init__)
    noise = demand_noise(sc.manufacturers, streams, H)

    floats = {
        "bg_t": np.asarray(bg_t, dtype=np.float64),
        "bg_tonnes": bg_tonnes,
        "lead": cat(lead),
        "transit": cat(transit),
        "pol_t": np.array(pol_t, dtype=np.float64),
        **{k: cat(v) for k, v in A.items()},
    }
    ints = {
        "app_base": base,
        "ship_base": base,
        "lead_base": np.array(lead_base, dtype=np.int64),
        "transit_base": np.array(transit_base, dtype=np.int64),
        "bg_k": np.asarray(bg_k, dtype=np.int64),
        "pol_prio": np.array(pol_prio, dtype=np.int64),
        "pol_state": np.array(pol_state, dtype=np.int64),
    }
    draws = pack_draws(
        floats,
        ints,
        effects=plan.effects,
        capacity=plan.capacity,
        state0=int(state0),
        n_pol=len(pol_t),
        n_arr=int(bg_t.size),
    )
    sizes = {"n_sources": int(base.size - 1), "noise": noise}
    assert n_tot == int(base[-1])
    return draws, sizes, (regimes, layers)


def _policy_path(plan: Plan, streams: Streams) -> tuple:
    """Run the SimPy engine's policy controller alone; record every change of state it
    makes (time, the priority of the event that made it, the new state)."""
    import simpy

    from simulator.world.events import POLICY
    from simulator.world.policy import PolicyController

    sc = plan.sc
    env = simpy.Environment()
    regimes: list[tuple[float, int]] = []
    layers: list[tuple[float, int, int]] = []
    t_, prio_, state_ = [], [], []

    def changed(sid: int) -> None:
        t_.append(env.now)
        # at time 0: the controller's start (an URGENT process start: dated changes at or
        # before the start, a chain that starts at once); later: the POLICY-priority
        # event that woke the controller
        prio_.append(0 if env.now == 0.0 else POLICY)
        state_.append(sid)

    ctrl = PolicyController(
        env,
        plan.book,
        sc.policy,
        sc.start,
        float(sc.horizon_days),
        streams.get,
        changed,
        regimes,
        layers,
    )
    state0 = ctrl.current

    env.run(until=float(sc.horizon_days))
    return t_, prio_, state_, regimes, layers, state0
