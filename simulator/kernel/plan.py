"""Packing for the compiled kernel: the compiled scenario
(:class:`~simulator.world.static.Static`) as the kernel's scalars and arrays plus an
effects table per policy state (:class:`Plan`), and a replication's draws
(:mod:`simulator.world.draws`) as offsets into one float and one integer array
(:func:`kernel_draws`). Nothing here derives anything from the scenario or draws.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.world.codes import EFFECT_COLUMNS, EFFECTS_TABLE
from simulator.world.draws import FLOAT_DRAWS, INT_DRAWS, Draws
from simulator.world.effects import PolicyBook
from simulator.world.static import Static, compile_scenario

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar

__all__ = ["KDraws", "Plan", "build_plan", "kernel_draws", "pack_static"]

N_EFF = len(EFFECT_COLUMNS)
"""Columns of the effects table (:data:`simulator.world.codes.EFFECT_COLUMNS`)."""


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
DrawArrays = namedtuple("DrawArrays", ["DF", "DI", "effects", "capacity"])
"""A replication's arrays: float draws, integer inputs, effects table, capacity per state."""
KDraws = namedtuple(
    "KDraws",
    ["state0", "n_pol", "n_arr"] + [f"o_{x}" for x in FLOAT_DRAWS] + [f"i_{x}" for x in INT_DRAWS],
)
"""A replication's scalars for the kernel: the initial policy state, the number of policy
changes and of background contracts, and where each draw starts in ``DF`` / ``DI``."""


def kernel_draws(plan: Plan, dr: Draws) -> tuple[Any, Any]:
    """A replication's draws (:func:`simulator.world.draws.fill_draws`) for the kernel:
    (:data:`KDraws`, :data:`DrawArrays`). Call :meth:`Plan.sync_states` first."""
    offsets = {f"o_{x}": dr.offset[x] for x in FLOAT_DRAWS}
    offsets.update({f"i_{x}": dr.offset[x] for x in INT_DRAWS})
    D = KDraws(state0=int(dr.policy.state0), n_pol=len(dr.policy.t), n_arr=dr.n_arr, **offsets)
    return D, DrawArrays(dr.F, dr.I, plan.effects, plan.capacity)
