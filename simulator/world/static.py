"""The compiled scenario: a scenario and its calendar turned, once, into the arrays and
tables both engines read.

What does not change from one replication to the next lives here: the working-day
clock's table, the authority's settings, the policy book and the application classes,
the background streams, the production lines and their parts (demand before noise,
initial stock, replenishment), suppliers, exporters' capacity profiles, lanes, the
port's release throughput, general licences and the goods in the pipeline at the start,
plus the bound on how many shipments each source can create in a run (how many draws a
replication needs). The SimPy engine (:mod:`simulator.world.world`) and the compiled
kernel (:mod:`simulator.kernel`) both build on :class:`Static`; neither derives these
from the scenario again.

Indices: countries, exporters, lanes and manufacturers in scenario order; parts in
line order (manufacturer by manufacturer, a one-part line having one part); application
classes (what policy rules select on: destination, product, end use, exporter,
applicant) numbered as first met (background streams, then suppliers, then pipeline
goods).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.world.arith import closure_delay
from simulator.world.codes import DEADLINE_RULES
from simulator.world.effects import AppKey, PolicyBook
from simulator.world.leads import expected_lead
from simulator.world.logistics import DAYS_PER_MONTH
from simulator.world.pace import licensing_country, pace_table
from simulator.world.sampling import background_names

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar

__all__ = ["MODES", "Static", "compile_scenario", "reviewer_capacity"]

MODES = ("sea", "rail", "air", "road")
"""Lane modes; a mode's code is its index (``lane_of[..., code + 1]``)."""

_CACHE: OrderedDict[int, tuple[Any, Any, Static]] = OrderedDict()
_CACHE_MAX = 8
_LOCK = threading.Lock()


def _paced_capacity(
    times: np.ndarray, rates: np.ndarray, n: np.ndarray, pace: np.ndarray, ex_country: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exporters' capacity profiles times the pace of their country's days: a breakpoint
    wherever either changes (the pace is 1 before day 0 and from the horizon on)."""
    H = pace.shape[1]
    rows: list[tuple[list[float], list[float]]] = []
    for e, c in enumerate(ex_country):
        f = np.concatenate([[1.0], pace[c], [1.0]])  # f[k + 1]: the pace of day k
        days = [float(k) for k in range(H + 1) if f[k + 1] != f[k]]
        own = [float(t) for t in times[e, 1 : n[e]]]
        ts = sorted(set(own) | set(days))
        out_t, out_r = [-math.inf], [float(rates[e, 0])]
        for t in ts:
            base = float(rates[e, np.searchsorted(times[e, : n[e]], t, side="right") - 1])
            k = math.floor(t)
            out_t.append(t)
            out_r.append(base * (float(pace[c, k]) if 0 <= k < H else 1.0))
        rows.append((out_t, out_r))
    K = max(len(t) for t, _ in rows)
    times2 = np.full((len(rows), K), np.inf)
    rates2 = np.zeros((len(rows), K))
    n2 = np.zeros(len(rows), dtype=np.int64)
    for e, (t, r) in enumerate(rows):
        times2[e, : len(t)] = t
        rates2[e, : len(r)] = r
        n2[e] = len(t)
    return times2, rates2, n2


def reviewer_capacity(reviewers: int, factor: float) -> int:
    """Reviewers in force: the baseline times the product of the capacity factors in
    force, rounded to the nearest whole reviewer (half to even)."""
    return round(reviewers * factor)


@dataclass(eq=False)
class Static:
    """A scenario compiled for simulation (see the module docstring). Arrays are
    read-only by convention; :attr:`book` grows as replications meet new policy states.

    Attributes (units in the names: ``_t`` tonnes, ``_days`` calendar days, ``_wd``
    working days; "per part" arrays have one entry per part in line order):
        sc: The scenario.
        cal: Its working-day calendar.
        H: Simulated days.
        country: Country index by id.
        limit: Statutory limit, working days (inf: none).
        binding: Whether the limit decides anything (a limit and a rule other than
            ``continue``).
        rule: ``deadline_rule`` code (index in
            :data:`~simulator.world.codes.DEADLINE_RULES`).
        intake: Whether intake does anything (screening time or returns).
        n_ret: Intake returns drawn per application (0 when none can happen).
        has_prep: Files need preparing after a licence requirement starts.
        ramp_from: The authority's capacity on a requirement's first day (share).
        ramp_days: Days until it is full (0: no ramp).
        n_info: Information requests drawn per application (0 when none can happen).
        identity: Every day is a working day (the clock is the identity).
        cum: Working time elapsed at the start of each day, working days.
        working: Whether each day is a working day.
        w_max: Working time just past the horizon; work ending later never ends.
        book: The compiled policy.
        class_keys: Application class → its key.
        class_index: Key → class.
        bg_names: Background streams' random-stream names.
        demand_base: Units each line is to make each day before demand noise, (H, M).
        part_bound: Most shipments a part's orders and pipeline can create in a run.
        lead_pairs: (exporter, part) pairs with a lead-time stream each.
        transit_pairs: (lane, part) pairs with a transit-time stream each.
    """

    sc: Any
    cal: Any
    H: int
    country: dict[str, int]
    # authority
    reviewers: int
    limit: float
    binding: bool
    rule: int
    p_partial: float
    intake: bool
    n_ret: int
    n_info: int
    any_info: bool
    any_park: bool
    any_partial: bool
    any_release: bool
    any_withdraw: bool
    has_prep: bool
    ramp_from: float
    ramp_days: float
    screening_used: bool
    has_extend: bool
    # clock
    identity: bool
    cum: np.ndarray
    working: np.ndarray
    w_max: float
    # policy and application classes
    book: PolicyBook
    class_keys: list[AppKey]
    class_index: dict[AppKey, int]
    class_controlled: np.ndarray
    # the pace of production: per country and day (simulator.world.pace)
    paced: bool
    pace: np.ndarray
    pace_cum: np.ndarray
    bg_origin: int
    # per day and part: what known closures add to an order's lead (arith.closure_delay)
    ahead: np.ndarray
    # background streams
    bg_names: list[tuple[str, ...]]
    bg_class: np.ndarray
    bg_dest: np.ndarray
    # production lines (per manufacturer) and their parts
    part_names: list[str]
    part_stream: list[tuple[str, ...]]
    part_line: np.ndarray
    first_part: np.ndarray
    t_per_unit: np.ndarray
    mean_units: np.ndarray
    mean_daily: np.ndarray
    init_inventory: np.ndarray
    lead_init: np.ndarray
    adapt: np.ndarray
    backlog_mode: np.ndarray
    is_ss: np.ndarray
    review: np.ndarray
    safety: np.ndarray
    react_gain: np.ndarray
    react_max: np.ndarray
    react_keep: np.ndarray
    order_days: np.ndarray
    out_t_per_unit: np.ndarray
    m_country: np.ndarray
    expedite_mode: np.ndarray
    expedite_below: np.ndarray
    demand_base: np.ndarray
    # suppliers: part p's are sup_start[p] .. sup_start[p + 1] - 1
    sup_start: np.ndarray
    sup_ex: np.ndarray
    sup_mfr: np.ndarray
    sup_share: np.ndarray
    sup_class: np.ndarray
    sup_lead: np.ndarray
    lead_pairs: list[tuple[int, int]]
    # exporters: capacity profile rows (cap_n entries each; times -inf first), t/day
    ex_country: np.ndarray
    ex_licensed: np.ndarray
    cap_times: np.ndarray
    cap_rates: np.ndarray
    cap_n: np.ndarray
    # lanes: lane_of[origin, destination, 0] the first lane, [.., mode + 1] by mode
    lane_of: np.ndarray
    transit_of: np.ndarray
    transit_pairs: list[tuple[int, int]]
    # the port: release throughput per destination country, t/day (-1: unlimited)
    release_rate: np.ndarray
    # general licences: exporter, customer, valid [t0, t1) in days since start
    gl_ex: np.ndarray
    gl_m: np.ndarray
    gl_t0: np.ndarray
    gl_t1: np.ndarray
    # goods in the pipeline at the start (World order)
    pipe_part: np.ndarray
    pipe_q: np.ndarray
    pipe_day: np.ndarray
    pipe_transit: np.ndarray
    pipe_ex: np.ndarray
    pipe_origin: np.ndarray
    pipe_class: np.ndarray
    pipe_customs: np.ndarray
    part_bound: np.ndarray

    @property
    def P(self) -> int:
        """Parts."""
        return int(self.part_line.size)

    @property
    def M(self) -> int:
        """Manufacturers (production lines)."""
        return int(self.mean_units.size)

    @property
    def n_park_dists(self) -> int:
        """Distinct parking-time distributions of the policy (a draw each per application)."""
        return len(self.book.park_dists)

    @property
    def n_insp_dists(self) -> int:
        """Distinct inspection-time distributions (a draw each per shipment)."""
        return len(self.book.inspection_dists)

    def capacity(self, state: int) -> int:
        """Reviewers in force in policy state ``state``."""
        return reviewer_capacity(self.reviewers, self.book.capacity_factor[state])


def compile_scenario(sc: Scenario, cal: WorkCalendar) -> Static:
    """The compiled scenario of ``sc`` on calendar ``cal``, built once and shared by
    later calls with the same objects (a few are kept; thread-safe)."""
    key = id(sc)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] is sc and hit[1] is cal:
            _CACHE.move_to_end(key)
            return hit[2]
        st = _build(sc, cal)
        _CACHE[key] = (sc, cal, st)
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
        return st


def _build(sc: Scenario, cal: WorkCalendar) -> Static:
    auth = sc.authority
    H = sc.horizon_days
    book = PolicyBook(sc.policy, auth)
    country = {c.id: i for i, c in enumerate(sc.countries)}
    ex_index = {e.id: i for i, e in enumerate(sc.exporters)}
    m_index = {m.id: i for i, m in enumerate(sc.manufacturers)}

    classes: dict[AppKey, int] = {}

    def cls(key: AppKey) -> int:
        return classes.setdefault(key, len(classes))

    # --- the working-day clock: every day up to the horizon (and one past) is known
    cal.work_time(float(H))
    identity = bool(cal.all_working and np.all(cal.working))
    w_max = float(cal.work_time(float(H))) + 1.0
    # --- the pace of production (simulator.world.pace)
    paced, pace, pace_cum = pace_table(sc, H, country)

    # --- background streams
    bg = list(auth.background)
    bg_class = np.array(
        [cls((b.destination, b.product, b.end_use, b.exporter, "background")) for b in bg],
        dtype=np.int64,
    )
    bg_dest = np.array([country[b.destination] for b in bg], dtype=np.int64)

    # --- production lines and parts
    parts: list[Any] = []
    line: list[int] = []
    for m, mfr in enumerate(sc.manufacturers):
        for part in mfr.bill():
            parts.append(part)
            line.append(m)
    P, M = len(parts), len(sc.manufacturers)
    part_line = np.array(line, dtype=np.int64)
    first_part = (
        np.searchsorted(part_line, np.arange(M)).astype(np.int64) if M else part_line.copy()
    )
    units = np.array([m.units_per_day for m in sc.manufacturers], dtype=float)
    weekdays = np.array([m.operating_days == "weekdays" for m in sc.manufacturers], dtype=bool)
    mean_units = units * np.where(weekdays, 5.0 / 7.0, 1.0)
    t_per_unit = np.array([p.kg_per_unit / 1000.0 for p in parts], dtype=float)
    mean_daily = mean_units[part_line] * t_per_unit if P else np.zeros(0)
    day_wd = (sc.start.weekday() + np.arange(H)) % 7
    operating = np.where(weekdays[None, :], (day_wd < 5)[:, None], True)
    demand_base = units[None, :] * operating if M else np.zeros((H, 0))
    pol = [p.replenishment for p in parts]
    part_names: list[str] = []
    part_stream: list[tuple[str, ...]] = []
    for p, part in enumerate(parts):
        mfr = sc.manufacturers[line[p]]
        part_names.append(mfr.id if not mfr.multi_part else f"{mfr.id}/{part.id}")
        part_stream.append((mfr.id, part.id) if mfr.multi_part else (mfr.id,))

    # --- suppliers
    sup_start = [0]
    sup_ex: list[int] = []
    sup_mfr: list[int] = []
    sup_share: list[float] = []
    sup_class: list[int] = []
    sup_lead: list[int] = []
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

    # --- lead-time estimates at the start (`expected`: the chain's own mean)
    lead_init = [
        expected_lead(sc, part, sc.manufacturers[line[p]].country, float(mean_daily[p]))
        if part.lead_time.initial_days == "expected"
        else float(part.lead_time.initial_days)
        for p, part in enumerate(parts)
    ]

    # --- buyers who anticipate their suppliers' closures: (H + 1, P) days
    ahead = np.zeros((H + 1, max(P, 1)))
    for p, part in enumerate(parts):
        if paced and part.lead_time.anticipate_closures:
            sup = sup_ex[sup_start[p] : sup_start[p + 1]]
            cs = sorted({country[sc.exporters[e].country] for e in sup if e >= 0})
            cs_arr = np.array(cs, dtype=np.int64)
            ahead[:, p] = closure_delay(True, pace_cum, pace, cs_arr, float(lead_init[p]), H)

    # --- goods in the pipeline at the start
    pipe: list[tuple[Any, ...]] = []
    for p, part in enumerate(parts):
        mfr = sc.manufacturers[line[p]]
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

    # --- lanes, and a transit stream per (lane, part) arriving where the part's line is
    C = len(sc.countries)
    lane_of = np.full((C, C, 1 + len(MODES)), -1, dtype=np.int64)
    for i, ln in enumerate(sc.lanes):
        o, d = country[ln.origin], country[ln.destination]
        if lane_of[o, d, 0] < 0:
            lane_of[o, d, 0] = i
        if lane_of[o, d, MODES.index(ln.mode) + 1] < 0:
            lane_of[o, d, MODES.index(ln.mode) + 1] = i
    transit_pairs: list[tuple[int, int]] = []
    transit_of = np.full((max(len(sc.lanes), 1), max(P, 1)), -1, dtype=np.int64)
    for p in range(P):
        dest = country[sc.manufacturers[line[p]].country]
        for i, ln in enumerate(sc.lanes):
            if country[ln.destination] == dest:
                transit_of[i, p] = len(transit_pairs)
                transit_pairs.append((i, p))

    # --- exporters' capacity profiles, tonnes per day from each date on
    X = len(sc.exporters)
    ramps = [sorted(e.ramp, key=lambda r: r.date) for e in sc.exporters]
    K = 1 + max((len(r) for r in ramps), default=0)
    cap_times = np.full((max(X, 1), K), np.inf)
    cap_rates = np.zeros((max(X, 1), K))
    cap_n = np.zeros(max(X, 1), dtype=np.int64)
    for i, e in enumerate(sc.exporters):
        cap_times[i, 0] = -math.inf
        cap_rates[i, 0] = e.capacity_t_per_month / DAYS_PER_MONTH
        for j, r in enumerate(ramps[i], start=1):
            cap_times[i, j] = float((r.date - sc.start).days)
            cap_rates[i, j] = r.capacity_t_per_month / DAYS_PER_MONTH
        cap_n[i] = 1 + len(ramps[i])
    if paced and X:
        cap_times, cap_rates, cap_n = _paced_capacity(
            cap_times, cap_rates, cap_n, pace, [country[e.country] for e in sc.exporters]
        )
    home = licensing_country(sc)

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
    # a part orders at most once a day from each supplier, plus its pipeline goods
    n_sup = np.diff(np.array(sup_start, dtype=np.int64))
    n_pipe = np.bincount([x[0] for x in pipe], minlength=P) if P else np.zeros(0, dtype=np.int64)
    part_bound = ((H + 1) * n_sup + n_pipe).astype(np.int64) if P else np.zeros(0, np.int64)

    ramp = auth.startup.capacity_ramp
    screening = auth.intake.screening_wd
    screening_used = not (screening.kind == "constant" and screening.value == 0)

    def arr(xs: list[Any], dtype: Any) -> np.ndarray:
        return np.array(xs, dtype=dtype)

    return Static(
        sc=sc,
        cal=cal,
        H=H,
        country=country,
        reviewers=int(auth.reviewers),
        limit=float(auth.statutory_limit_wd) if auth.statutory_limit_wd is not None else math.inf,
        binding=auth.statutory_limit_wd is not None and auth.deadline_rule != "continue",
        rule=DEADLINE_RULES.index(auth.deadline_rule),
        p_partial=float(auth.approval.partial_probability),
        intake=book.max_return_p > 0 or screening_used,
        n_ret=auth.intake.max_returns if book.max_return_p > 0 else 0,
        n_info=auth.information_requests.max_per_application if book.max_info_p > 0 else 0,
        any_info=book.max_info_p > 0 and auth.information_requests.max_per_application > 0,
        any_park=book.max_park_p > 0,
        any_partial=auth.approval.partial_probability > 0,
        any_release=book.any_release,
        any_withdraw=auth.withdrawal is not None and bool(auth.background),
        has_prep=auth.startup.preparation_days is not None,
        ramp_from=float(ramp.from_factor) if ramp is not None else 1.0,
        ramp_days=float(ramp.days) if ramp is not None else 0.0,
        screening_used=screening_used,
        has_extend=auth.deadline_rule == "extend",
        identity=identity,
        paced=paced,
        pace=pace,
        pace_cum=pace_cum,
        bg_origin=country.get(home, -1) if home is not None else -1,
        ahead=ahead,
        cum=np.asarray(cal.cum, dtype=np.float64),
        working=np.asarray(cal.working, dtype=np.bool_),
        w_max=w_max,
        book=book,
        class_keys=class_keys,
        class_index=dict(classes),
        class_controlled=np.array([controlled[k[1]] for k in class_keys], dtype=np.bool_),
        bg_names=background_names(bg),
        bg_class=bg_class,
        bg_dest=bg_dest,
        part_names=part_names,
        part_stream=part_stream,
        part_line=part_line,
        first_part=np.asarray(first_part, dtype=np.int64),
        t_per_unit=t_per_unit,
        mean_units=mean_units,
        mean_daily=np.asarray(mean_daily, dtype=float),
        init_inventory=np.array([p.initial_cover_days for p in parts], dtype=float) * mean_daily,
        lead_init=arr(lead_init, float),
        adapt=arr([p.lead_time.adapt for p in parts], float),
        backlog_mode=arr([m.unmet_demand == "backlog" for m in sc.manufacturers], bool),
        is_ss=arr([r.kind == "s_S" for r in pol], bool),
        review=arr([getattr(r, "review_days", 1) for r in pol], np.int64),
        safety=arr([r.safety_days for r in pol], float),
        react_gain=arr([r.react.extra_days_per_short_day if r.react else 0.0 for r in pol], float),
        react_max=arr([r.react.max_extra_days if r.react else 0.0 for r in pol], float),
        react_keep=arr(
            [0.5 ** (1.0 / r.react.half_life_days) if r.react else 1.0 for r in pol], float
        ),
        order_days=arr([getattr(r, "order_days", 0.0) for r in pol], float),
        out_t_per_unit=arr(
            [m.output_kg_per_unit / 1000.0 if m.output_product else 0.0 for m in sc.manufacturers],
            float,
        ),
        m_country=arr([country[m.country] for m in sc.manufacturers], np.int64),
        expedite_mode=arr(
            [MODES.index(p.expedite.mode) if p.expedite is not None else -1 for p in parts],
            np.int64,
        ),
        expedite_below=arr(
            [p.expedite.below_cover_days if p.expedite is not None else 0.0 for p in parts],
            float,
        ),
        demand_base=np.ascontiguousarray(demand_base, dtype=np.float64),
        sup_start=arr(sup_start, np.int64),
        sup_ex=arr(sup_ex, np.int64),
        sup_mfr=arr(sup_mfr, np.int64),
        sup_share=arr(sup_share, float),
        sup_class=arr(sup_class, np.int64),
        sup_lead=arr(sup_lead, np.int64),
        lead_pairs=lead_pairs,
        ex_country=arr([country[e.country] for e in sc.exporters], np.int64),
        ex_licensed=arr([e.licensed for e in sc.exporters], np.bool_),
        cap_times=cap_times,
        cap_rates=cap_rates,
        cap_n=cap_n,
        lane_of=lane_of,
        transit_of=transit_of,
        transit_pairs=transit_pairs,
        release_rate=release,
        gl_ex=arr([g[0] for g in gl], np.int64),
        gl_m=arr([g[1] for g in gl], np.int64),
        gl_t0=arr([g[2] for g in gl], float),
        gl_t1=arr([g[2] + g[3] for g in gl], float),
        pipe_part=arr([x[0] for x in pipe], np.int64),
        pipe_q=arr([x[1] for x in pipe], float),
        pipe_day=arr([x[2] for x in pipe], float),
        pipe_transit=arr([x[3] for x in pipe], np.bool_),
        pipe_ex=arr([x[4] for x in pipe], np.int64),
        pipe_origin=arr([x[5] for x in pipe], np.int64),
        pipe_class=arr([x[6] for x in pipe], np.int64),
        pipe_customs=arr([x[7] for x in pipe], np.bool_),
        part_bound=part_bound,
    )
