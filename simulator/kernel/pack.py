"""Packing for the compiled kernel: the compiled scenario
(:class:`~simulator.world.static.Static`) as the kernel's scalars and arrays plus an
effects table per policy state (:class:`Plan`), and a replication's draws
(:mod:`simulator.world.draws`) as offsets into one float and one integer array
(:func:`kernel_draws`). Nothing here derives anything from the scenario or the draws:
rows are packed by the names in :mod:`simulator.kernel.layout`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, namedtuple
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.kernel import layout as L
from simulator.world.codes import EFFECT_COLUMNS, EFFECTS_TABLE
from simulator.world.draws import FLOAT_DRAWS, INT_DRAWS, Draws
from simulator.world.effects import PolicyBook
from simulator.world.static import Static, compile_scenario

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar

__all__ = ["KDraws", "KStatic", "Plan", "kernel_draws", "pack_static", "plan_for"]

N_EFF = len(EFFECT_COLUMNS)
"""Columns of the effects table (:data:`simulator.world.codes.EFFECT_COLUMNS`)."""

KStatic = namedtuple(
    "KStatic",
    [
        "H",
        "reviewers",
        "limit",
        "binding",
        "rule",
        "p_partial",
        "intake",
        "n_ret",
        "n_info",
        "any_park",
        "any_partial",
        "any_release",
        "has_prep",
        "screening_used",
        "has_extend",
        "n_park_dists",
        "n_insp_dists",
        "identity",
        "paced",
        "bg_origin",
        "w_max",
        "P",
        "M",
        "n_bgs",
        "n_gl",
        "n_pipe",
    ],
)
"""The kernel's scalars of the scenario (read from :class:`Static` by these names, or
sizes of its arrays)."""
_SCALAR_TYPES: dict[str, Any] = {
    **dict.fromkeys(("H", "reviewers", "rule", "n_ret", "n_info", "bg_origin"), int),
    **dict.fromkeys(("n_park_dists", "n_insp_dists"), int),
    **dict.fromkeys(("limit", "p_partial", "w_max"), float),
    **dict.fromkeys(("binding", "intake", "any_park", "any_partial", "any_release"), bool),
    **dict.fromkeys(("has_prep",), bool),
    **dict.fromkeys(("screening_used", "has_extend", "identity", "paced"), bool),
}
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
        "pace",
        "pace_cum",
        "lane_of",
        "transit_of",
        "release_rate",
        "GL",
        "PIPI",
        "PIPF",
        "ahead",
    ],
)
"""The kernel's arrays of the scenario; the packed ones hold the :class:`Static` arrays
named by :mod:`simulator.kernel.layout`'s ``*_ROWS`` tuples, one per row."""
KDraws = namedtuple(
    "KDraws",
    ["state0", "capacity0", "n_pol", "n_arr"]
    + [f"o_{x}" for x in FLOAT_DRAWS]
    + [f"i_{x}" for x in INT_DRAWS],
)
"""A replication's scalars for the kernel: the initial policy state and reviewers, the
number of policy changes and of background contracts, and where each draw starts in
``DF`` / ``DI``."""
DrawArrays = namedtuple("DrawArrays", ["DF", "DI", "effects"])
"""A replication's arrays: float draws, integer inputs, effects table."""


@dataclass
class Plan:
    """A compiled scenario packed for the kernel (built once per scenario and reused).

    Attributes:
        static: The compiled scenario.
        effects: Effects table, one row per policy state met so far and application
            class (columns :data:`~simulator.world.codes.EFFECT_COLUMNS`).
        kernel: (KStatic, KArrays): the scalars and arrays the compiled loop reads.
    """

    static: Static
    effects: np.ndarray
    kernel: Any
    n_states_built: int
    _packed: dict[int, tuple[Any, np.ndarray]] = field(default_factory=dict)
    """Packed effects rows by the resolved effects they pack (``id`` → (effects, row))."""

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
        packed = self._packed
        for s in range(self.n_states_built, n):
            for c, key in enumerate(st.class_keys):
                r = st.book.resolve(s, key)  # type: ignore[arg-type]
                hit = packed.get(id(r))
                if hit is None or hit[0] is not r:  # states often share their effects
                    hit = packed[id(r)] = (r, effects_row(st.book, s, key))
                rows[s, c] = hit[1]
        self.effects, self.n_states_built = rows, n


def effects_row(book: PolicyBook, state: int, key: tuple[str, ...]) -> np.ndarray:
    """One row of the effects table: every effect of
    :data:`~simulator.world.codes.EFFECTS_TABLE` with kernel columns, for ``key`` in
    policy state ``state``, packed by the effect's own ``pack``."""
    r = book.resolve(state, key)  # type: ignore[arg-type]
    row = np.zeros(N_EFF)
    for name, j, k, pack in _PACKED:
        row[j:k] = pack(getattr(r, name), book)
    return row


_PACKED = tuple(
    (
        e.name,
        EFFECT_COLUMNS.index(e.columns[0]),
        EFFECT_COLUMNS.index(e.columns[0]) + len(e.columns),
        e.pack,
    )
    for e in EFFECTS_TABLE
    if e.columns
)
"""Each effect with kernel columns: (name, first column, end column, its ``pack``)."""


_PLANS: OrderedDict[int, tuple[Any, Any, Plan]] = OrderedDict()
_MAX_PLANS = 8
PLAN_LOCK = threading.Lock()
"""Held while a replication reads or grows the shared plans (threads of a Dask worker may
run replications side by side; the compiled loop itself touches nothing shared)."""


def plan_for(sc: Scenario, cal: WorkCalendar) -> Plan:
    """The packed plan of ``sc`` on ``cal``, built once and reused (a few are kept; call
    under :data:`PLAN_LOCK`)."""
    key = id(sc)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is sc and hit[1] is cal:
        _PLANS.move_to_end(key)
        return hit[2]
    st = compile_scenario(sc, cal)
    plan = Plan(
        static=st,
        effects=np.zeros((0, len(st.class_keys), N_EFF)),
        kernel=pack_static(st),
        n_states_built=0,
    )
    plan.sync_states()
    _PLANS[key] = (sc, cal, plan)
    while len(_PLANS) > _MAX_PLANS:
        _PLANS.popitem(last=False)
    return plan


def _rows(st: Static, names: tuple[str, ...], dtype: Any, n: int) -> np.ndarray:
    """The arrays of ``st`` named ``names``, one per row, as ``dtype``."""
    out = np.zeros((len(names), n), dtype=dtype)
    for i, name in enumerate(names):
        a = np.asarray(getattr(st, name))
        out[i, : a.size] = a
    return out


def pack_static(st: Static) -> tuple[Any, Any]:
    """The kernel's view of ``st``: scalars, and arrays packed by dimension (few arrays:
    each array a compiled function takes costs its passing)."""
    P, M = st.P, st.M
    i8, f8 = np.int64, np.float64
    # one Python type per field, whatever the scenario: one compiled version of the loop
    scalars = {
        f: _SCALAR_TYPES[f](getattr(st, f))
        for f in KStatic._fields
        if f not in ("P", "M", "n_bgs", "n_gl", "n_pipe")
    }
    return KStatic(
        **scalars,
        P=P,
        M=M,
        n_bgs=int(st.bg_class.size),
        n_gl=int(st.gl_ex.size),
        n_pipe=int(st.pipe_part.size),
    ), KArrays(
        cum=st.cum,
        working=st.working,
        class_controlled=st.class_controlled,
        BGI=_rows(st, L.BG_ROWS, i8, st.bg_class.size),
        PI=_rows(st, L.PI_ROWS, i8, P),
        PF=_rows(st, L.PF_ROWS, f8, P),
        LI=_rows(st, L.LI_ROWS, i8, M),
        LF=_rows(st, L.LF_ROWS, f8, M),
        sup_start=st.sup_start,
        SUPI=_rows(st, L.SUPI_ROWS, i8, st.sup_ex.size),
        SUPF=_rows(st, L.SUPF_ROWS, f8, st.sup_ex.size),
        EXI=_rows(st, L.EXI_ROWS, i8, st.cap_n.size),
        cap_times=st.cap_times,
        cap_rates=st.cap_rates,
        pace=st.pace,
        pace_cum=st.pace_cum,
        lane_of=st.lane_of,
        transit_of=st.transit_of,
        release_rate=st.release_rate,
        GL=_rows(st, L.GL_ROWS, f8, st.gl_ex.size),
        PIPI=_rows(st, L.PIPI_ROWS, i8, st.pipe_part.size),
        PIPF=_rows(st, L.PIPF_ROWS, f8, st.pipe_part.size),
        ahead=st.ahead,
    )


def kernel_draws(plan: Plan, dr: Draws) -> tuple[Any, Any]:
    """A replication's draws (:func:`simulator.world.draws.fill_draws`) for the kernel:
    (:data:`KDraws`, :data:`DrawArrays`). Call :meth:`Plan.sync_states` first."""
    offsets = {f"o_{x}": dr.offset[x] for x in FLOAT_DRAWS}
    offsets.update({f"i_{x}": dr.offset[x] for x in INT_DRAWS})
    D = KDraws(
        state0=int(dr.policy.state0),
        capacity0=int(dr.policy.capacity0),
        n_pol=len(dr.policy.t),
        n_arr=dr.n_arr,
        **offsets,
    )
    return D, DrawArrays(dr.F, dr.I, plan.effects)
