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

import math
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.world.background import arrival_times
from simulator.world.codes import DEADLINE_RULES, EFFECT_COLUMNS, EFFECTS_TABLE
from simulator.world.effects import PolicyBook
from simulator.world.rng import Streams
from simulator.world.sampling import BLOCK, background_names, demand_noise

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
    """A scenario compiled for the kernel (built once per scenario and reused).

    Attributes:
        sc: The scenario.
        book: Its compiled policy; states met in any replication are added to it, and
            :attr:`effects` holds one row per state and application class.
        classes: Application classes (what policy rules select on) by key.
        static: Arrays and scalars of the scenario (a namedtuple for the kernel).
    """

    sc: Any
    book: PolicyBook
    classes: dict[tuple[str, str, str, str, str], int]
    class_keys: list[tuple[str, str, str, str, str]]
    effects: np.ndarray
    capacity: np.ndarray
    static: Any
    kernel: Any
    """(KStatic, KArrays): the scalars and arrays the compiled loop reads."""
    n_states_built: int
    bg_names: list[tuple[str, ...]]
    part_names: list[str]
    lead_pairs: list[tuple[int, int]]
    transit_pairs: list[tuple[int, int]]
    part_bound: np.ndarray

    def sync_states(self) -> None:
        """Add effects rows for policy states met since the last call."""
        n = len(self.book.states)
        if n == self.n_states_built:
            return
        rows = np.zeros((n, len(self.class_keys), N_EFF))
        rows[: self.n_states_built] = self.effects
        cap = np.zeros(n, dtype=np.int64)
        cap[: self.n_states_built] = self.capacity
        for s in range(self.n_states_built, n):
            for c, key in enumerate(self.class_keys):
                rows[s, c] = _effects_row(self.book, s, key)
            cap[s] = round(self.sc.authority.reviewers * self.book.capacity_factor[s])
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


Static = namedtuple(
    "Static",
    [
        # sizes and authority
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
        "any_info",
        "any_park",
        "any_partial",
        "screening_used",
        "has_extend",
        "n_park_dists",
        "n_insp_dists",
        # calendar
        "identity",
        "cum",
        "working",
        "w_max",
        # classes
        "class_controlled",
        # background streams
        "bg_class",
        "bg_dest",
        # parts and manufacturers
        "part_line",
        "first_part",
        "t_per_unit",
        "mean_daily",
        "mean_units",
        "init_inventory",
        "lead_init",
        "adapt",
        "backlog_mode",
        "is_ss",
        "review",
        "safety",
        "order_days",
        "out_t_per_unit",
        "m_country",
        "expedite_mode",
        "expedite_below",
        # suppliers: per part, a range into the flat supplier arrays
        "sup_start",
        "sup_ex",
        "sup_mfr",
        "sup_share",
        "sup_class",
        "sup_lead",
        # exporters
        "ex_country",
        "ex_licensed",
        "cap_times",
        "cap_rates",
        "cap_n",
        # lanes: lane_of[origin, destination, mode + 1] (mode 0 = default), -1 none
        "lane_of",
        "transit_of",
        # customs
        "release_rate",
        # general licences
        "gl_ex",
        "gl_m",
        "gl_t0",
        "gl_t1",
        # pipeline goods
        "pipe_part",
        "pipe_q",
        "pipe_day",
        "pipe_transit",
        "pipe_ex",
        "pipe_origin",
        "pipe_class",
        "pipe_customs",
        # bounds
        "ship_cap",
        "app_cap",
    ],
)


def build_plan(sc: Scenario, cal: WorkCalendar) -> Plan:
    """Compile ``sc`` (and its calendar) for the kernel."""
    from simulator.world.licensing import ScalarClock

    auth = sc.authority
    H = sc.horizon_days
    book = PolicyBook(sc.policy, auth)
    clock = ScalarClock(cal, float(H))
    country = {c.id: i for i, c in enumerate(sc.countries)}
    ex_index = {e.id: i for i, e in enumerate(sc.exporters)}
    m_index = {m.id: i for i, m in enumerate(sc.manufacturers)}
    mode_code = {"sea": 0, "rail": 1, "air": 2, "road": 3}

    classes: dict[tuple[str, str, str, str, str], int] = {}

    def cls(key: tuple[str, str, str, str, str]) -> int:
        return classes.setdefault(key, len(classes))

    bg = list(auth.background)
    bg_class = np.array(
        [cls((b.destination, b.product, b.end_use, b.exporter, "background")) for b in bg],
        dtype=np.int64,
    )
    bg_dest = np.array([country[b.destination] for b in bg], dtype=np.int64)

    # parts, in Plants order
    parts: list[Any] = []
    line: list[int] = []
    for m, mfr in enumerate(sc.manufacturers):
        for part in mfr.bill():
            parts.append(part)
            line.append(m)
    P, M = len(parts), len(sc.manufacturers)
    part_line = np.array(line, dtype=np.int64)
    first_part = np.searchsorted(part_line, np.arange(M)).astype(np.int64) if M else part_line
    units = np.array([m.units_per_day for m in sc.manufacturers], dtype=float)
    weekdays = np.array([m.operating_days == "weekdays" for m in sc.manufacturers], dtype=bool)
    mean_units = units * np.where(weekdays, 5.0 / 7.0, 1.0)
    t_per_unit = np.array([p.kg_per_unit / 1000.0 for p in parts], dtype=float)
    mean_daily = mean_units[part_line] * t_per_unit if P else np.zeros(0)
    init_inv = np.array([p.initial_cover_days for p in parts], dtype=float) * mean_daily
    pol = [p.replenishment for p in parts]
    part_names = []
    for p, part in enumerate(parts):
        mfr = sc.manufacturers[line[p]]
        part_names.append(mfr.id if not mfr.multi_part else f"{mfr.id}/{part.id}")

    # suppliers
    sup_start = [0]
    sup_ex, sup_mfr, sup_share, sup_class, sup_lead = [], [], [], [], []
    lead_pairs: list[tuple[int, int]] = []
    for p, part in enumerate(parts):
        mfr = sc.manufacturers[line[p]]
        for s in part.suppliers:
            if s.manufacturer is not None:
                sup_ex.append(-1)
                sup_mfr.append(m_index[s.manufacturer])
                sup_class.append(cls((mfr.country, part.material, mfr.end_use, "", mfr.id)))
                sup_lead.append(-1)
            else:
                e = ex_index[s.exporter]
                sup_ex.append(e)
                sup_mfr.append(-1)
                sup_class.append(cls((mfr.country, part.material, mfr.end_use, s.exporter, mfr.id)))
                if (e, p) not in lead_pairs:
                    lead_pairs.append((e, p))
                sup_lead.append(lead_pairs.index((e, p)))
            sup_share.append(float(s.share))
        sup_start.append(len(sup_ex))

    # pipeline goods (World._pipeline order)
    pipe: list[tuple] = []
    for p, part in enumerate(parts):
        m = line[p]
        mfr = sc.manufacturers[m]
        for ship in part.initial_shipments:
            q = (
                ship.tonnes
                if ship.tonnes is not None
                else ((ship.days_of_demand or 0.0) * float(mean_daily[p]))
            )
            if q <= 0:
                continue
            own = [s.exporter for s in part.suppliers if s.exporter is not None]
            ex_id = ship.exporter or (own[0] if own else None)
            e = ex_index[ex_id] if ex_id is not None else -1
            ex = sc.exporters[e] if e >= 0 else None
            key = (mfr.country, part.material, mfr.end_use, ex.id if ex else "", mfr.id)
            origin = country[ex.country] if ex else country[mfr.country]
            customs = ex is not None and ex.licensed and ship.stage != "in_transit"
            pipe.append(
                (p, q, float(ship.day), ship.stage == "in_transit", e, origin, cls(key), customs)
            )

    # lanes and transit streams per (lane, part)
    C = len(sc.countries)
    lane_of = np.full((C, C, 5), -1, dtype=np.int64)
    for i, ln in enumerate(sc.lanes):
        o, d = country[ln.origin], country[ln.destination]
        if lane_of[o, d, 0] < 0:
            lane_of[o, d, 0] = i
        if lane_of[o, d, mode_code[ln.mode] + 1] < 0:
            lane_of[o, d, mode_code[ln.mode] + 1] = i
    transit_pairs: list[tuple[int, int]] = []
    transit_of = np.full((max(len(sc.lanes), 1), max(P, 1)), -1, dtype=np.int64)
    for p in range(P):
        dest = country[sc.manufacturers[line[p]].country]
        for i, ln in enumerate(sc.lanes):
            if country[ln.destination] == dest:
                transit_of[i, p] = len(transit_pairs)
                transit_pairs.append((i, p))

    # exporters' capacity profiles
    X = len(sc.exporters)
    ramps = [sorted(e.ramp, key=lambda r: r.date) for e in sc.exporters]
    K = 1 + max((len(r) for r in ramps), default=0)
    cap_times = np.full((max(X, 1), K), np.inf)
    cap_rates = np.zeros((max(X, 1), K))
    cap_n = np.zeros(max(X, 1), dtype=np.int64)
    from simulator.world.logistics import DAYS_PER_MONTH

    for i, e in enumerate(sc.exporters):
        cap_times[i, 0] = -math.inf
        cap_rates[i, 0] = e.capacity_t_per_month / DAYS_PER_MONTH
        for j, r in enumerate(ramps[i], start=1):
            cap_times[i, j] = float((r.date - sc.start).days)
            cap_rates[i, j] = r.capacity_t_per_month / DAYS_PER_MONTH
        cap_n[i] = 1 + len(ramps[i])

    release = np.full(C, -1.0)
    for c in sc.countries:
        r = sc.customs.release_rate(c.id)
        if r is not None:
            release[country[c.id]] = float(r)

    gl = [
        (ex_index[g.exporter], m_index[g.customer], float((g.start - sc.start).days), g.valid_days)
        for g in auth.general_licences
    ]

    controlled = {p.id: p.controlled for p in sc.products}
    class_keys = list(classes)
    n_sup_ex = np.diff(np.array(sup_start))  # suppliers per part
    n_pipe = np.bincount([x[0] for x in pipe], minlength=P) if P else np.zeros(0, int)
    part_bound = (H + 1) * n_sup_ex + n_pipe if P else np.zeros(0, dtype=np.int64)
    n_bg_max = 0  # background shipments are counted per replication
    static = Static(
        H=H,
        reviewers=auth.reviewers,
        limit=float(auth.statutory_limit_wd) if auth.statutory_limit_wd is not None else math.inf,
        binding=auth.statutory_limit_wd is not None and auth.deadline_rule != "continue",
        rule=DEADLINE_RULES.index(auth.deadline_rule),
        p_return=float(auth.intake.return_probability),
        p_partial=float(auth.approval.partial_probability),
        intake=auth.intake.return_probability > 0
        or not (
            auth.intake.screening_wd.kind == "constant" and auth.intake.screening_wd.value == 0
        ),
        n_ret=auth.intake.max_returns if auth.intake.return_probability > 0 else 0,
        n_info=auth.information_requests.max_per_application if book.max_info_p > 0 else 0,
        any_info=book.max_info_p > 0 and auth.information_requests.max_per_application > 0,
        any_park=book.max_park_p > 0,
        any_partial=auth.approval.partial_probability > 0,
        screening_used=not (
            auth.intake.screening_wd.kind == "constant" and auth.intake.screening_wd.value == 0
        ),
        has_extend=auth.deadline_rule == "extend",
        n_park_dists=len(book.park_dists),
        n_insp_dists=len(book.inspection_dists),
        identity=bool(clock.identity),
        cum=np.asarray(cal.cum, dtype=np.float64),
        working=np.asarray(cal.working, dtype=np.bool_),
        w_max=float(clock._w_max),
        class_controlled=np.zeros(0, dtype=np.bool_),  # filled below
        bg_class=bg_class,
        bg_dest=bg_dest,
        part_line=part_line,
        first_part=np.asarray(first_part, dtype=np.int64),
        t_per_unit=t_per_unit,
        mean_daily=np.asarray(mean_daily, dtype=float),
        mean_units=mean_units,
        init_inventory=np.asarray(init_inv, dtype=float),
        lead_init=np.array([p.lead_time.initial_days for p in parts], dtype=float),
        adapt=np.array([p.lead_time.adapt for p in parts], dtype=float),
        backlog_mode=np.array([m.unmet_demand == "backlog" for m in sc.manufacturers], dtype=bool),
        is_ss=np.array([r.kind == "s_S" for r in pol], dtype=bool),
        review=np.array([getattr(r, "review_days", 1) for r in pol], dtype=np.int64),
        safety=np.array([r.safety_days for r in pol], dtype=float),
        order_days=np.array([getattr(r, "order_days", 0.0) for r in pol], dtype=float),
        out_t_per_unit=np.array(
            [m.output_kg_per_unit / 1000.0 if m.output_product else 0.0 for m in sc.manufacturers],
            dtype=float,
        ),
        m_country=np.array([country[m.country] for m in sc.manufacturers], dtype=np.int64),
        expedite_mode=np.array(
            [mode_code[p.expedite.mode] if p.expedite is not None else -1 for p in parts],
            dtype=np.int64,
        ),
        expedite_below=np.array(
            [p.expedite.below_cover_days if p.expedite is not None else 0.0 for p in parts],
            dtype=float,
        ),
        sup_start=np.array(sup_start, dtype=np.int64),
        sup_ex=np.array(sup_ex, dtype=np.int64),
        sup_mfr=np.array(sup_mfr, dtype=np.int64),
        sup_share=np.array(sup_share, dtype=float),
        sup_class=np.array(sup_class, dtype=np.int64),
        sup_lead=np.array(sup_lead, dtype=np.int64),
        ex_country=np.array([country[e.country] for e in sc.exporters], dtype=np.int64),
        ex_licensed=np.array([e.licensed for e in sc.exporters], dtype=np.bool_),
        cap_times=cap_times,
        cap_rates=cap_rates,
        cap_n=cap_n,
        lane_of=lane_of,
        transit_of=transit_of,
        release_rate=release,
        gl_ex=np.array([g[0] for g in gl], dtype=np.int64),
        gl_m=np.array([g[1] for g in gl], dtype=np.int64),
        gl_t0=np.array([g[2] for g in gl], dtype=float),
        gl_t1=np.array([g[2] + g[3] for g in gl], dtype=float),
        pipe_part=np.array([x[0] for x in pipe], dtype=np.int64),
        pipe_q=np.array([x[1] for x in pipe], dtype=float),
        pipe_day=np.array([x[2] for x in pipe], dtype=float),
        pipe_transit=np.array([x[3] for x in pipe], dtype=np.bool_),
        pipe_ex=np.array([x[4] for x in pipe], dtype=np.int64),
        pipe_origin=np.array([x[5] for x in pipe], dtype=np.int64),
        pipe_class=np.array([x[6] for x in pipe], dtype=np.int64),
        pipe_customs=np.array([x[7] for x in pipe], dtype=np.bool_),
        ship_cap=int(part_bound.sum()) + n_bg_max,
        app_cap=0,
    )
    class_keys = list(classes)  # pipeline classes were added above
    static = static._replace(
        class_controlled=np.array([controlled[k[1]] for k in class_keys], dtype=np.bool_)
    )
    plan = Plan(
        sc=sc,
        book=book,
        classes=classes,
        class_keys=class_keys,
        effects=np.zeros((0, len(class_keys), N_EFF)),
        capacity=np.zeros(0, dtype=np.int64),
        static=static,
        kernel=pack_static(static),
        n_states_built=0,
        bg_names=background_names(bg),
        part_names=part_names,
        lead_pairs=lead_pairs,
        transit_pairs=transit_pairs,
        part_bound=np.asarray(part_bound, dtype=np.int64),
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
    names = plan.bg_names
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
    sources += [(f"mfr/{n}", ("mfr", n), -1) for n in plan.part_names]
    bounds = np.concatenate([n_bg, plan.part_bound]).astype(np.int64)
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
    for e, p in plan.lead_pairs:
        ex = sc.exporters[e]
        m = int(st.part_line[p])
        mfr = sc.manufacturers[m]
        name = (ex.id, mfr.id) + ((plan.part_names[p].split("/", 1)[1],) if mfr.multi_part else ())
        vals = draw_blocks(ex.lead_time_days, streams.get("exporter", *name), H + 1)
        lead.append(vals)
        lead_base.append(lead_base[-1] + vals.size)
    transit, transit_base = [], [0]
    for i, p in plan.transit_pairs:
        ln = sc.lanes[i]
        m = int(st.part_line[p])
        mfr = sc.manufacturers[m]
        name = (ln.id, mfr.id) + ((plan.part_names[p].split("/", 1)[1],) if mfr.multi_part else ())
        n = int(plan.part_bound[p]) + H + 1
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
