"""The wiring: builds one replication's world from a scenario, runs it, returns a Trace.

Everything that connects the components lives here: background contracts and
manufacturers' orders become shipments (:mod:`simulator.world.goods`), shipments that
need a licence become applications to the authority (:mod:`simulator.world.licensing`)
and its decisions come back to them, policy changes reach the authority and the port,
deliveries reach the plants (:mod:`simulator.world.manufacturing`), and upstream
manufacturers supply downstream ones. The world writes the logs declared in
:mod:`simulator.world.trace` and hands on only the
:class:`~simulator.world.trace.Trace`; the world itself is dropped after the run.

Events at the same instant run in the order of :mod:`simulator.world.events`: policy
changes, then everything else in the order it was scheduled, then the plants' daily
step.
"""

from __future__ import annotations

import gc
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulator.world.calendar import WorkCalendar, build_calendar
from simulator.world.draws import DrawLists, fill_draws
from simulator.world.events import DAILY, At
from simulator.world.goods import Goods, Shipment
from simulator.world.licensing import Application, LicensingAuthority, ScalarClock
from simulator.world.manufacturing import Plants
from simulator.world.policy import PolicyReplay
from simulator.world.static import compile_scenario
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
    G,
    Source,
    Trace,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["SparseGC", "World", "simulate"]


def simulate(
    scenario: Scenario, seed: int, rep: int = 0, calendar: WorkCalendar | None = None
) -> Trace:
    """Run replication ``rep`` of ``seed`` and return its trace.

    Args:
        scenario: A validated scenario.
        seed: Root seed.
        rep: Replication index.
        calendar: The scenario's calendar, if already built (saves rebuilding it).

    Returns:
        The replication's :class:`~simulator.world.trace.Trace`.
    """
    return World(scenario, seed, rep, calendar).run()


class World:
    """One replication's world.

    Args:
        sc: The scenario.
        seed: Root seed.
        rep: Replication index.
        cal: A prebuilt calendar for the scenario (built if None).
    """

    def __init__(self, sc: Scenario, seed: int, rep: int, cal: WorkCalendar | None = None) -> None:
        self.sc = sc
        self.env = env = simpy.Environment()
        self.cal = cal = cal if cal is not None else build_calendar(sc)
        self.horizon = H = sc.horizon_days
        self.seed, self.rep = seed, rep
        self.st = st = compile_scenario(sc, cal)
        self.book = st.book
        self.draws = dr = fill_draws(st, seed, rep)
        self.dl = dl = DrawLists(dr)
        # rows of the logs declared in simulator.world.trace, in their column order
        self.log: list[tuple] = []  # AUTHORITY
        self.glog: list[tuple] = []  # GOODS
        self.ships: list[tuple] = []  # SHIPMENTS
        self.apps: list[tuple] = []  # APPLICATIONS
        self._next_app = 0
        self._apps_of = [0] * dr.n_sources  # applications made per draw source
        self.authority = auth = LicensingAuthority(env, st, ScalarClock(st), self.log)
        self.controller = PolicyReplay(env, dr.policy, self._policy_changed, auth.on_capacity)
        auth.policy = self.controller
        auth.on_regime_change(dr.policy.state0, dr.policy.capacity0)
        # General licences indexed by (exporter, customer) so that a shipment checks only
        # its own pair's licences (bench/scaling.py: a scan of every licence per order
        # grew quadratically when manufacturers and their licences scale together).
        self._general: dict[tuple[int, int], list[tuple[float, float]]] = {}
        for g in range(st.gl_ex.size):
            self._general.setdefault((int(st.gl_ex[g]), int(st.gl_m[g])), []).append(
                (float(st.gl_t0[g]), float(st.gl_t1[g]))
            )
        M = st.M
        self.n_bg = len(st.bg_names)
        self.plants = plants = Plants(st, dr.noise, self._place_order)
        self.goods = Goods(
            env,
            st,
            self.glog,
            self.ships,
            auth.effects,
            self._needs_licence,
            self._apply,
            plants,
            dl,
        )
        self._backorders: list[deque[list[Any]]] = [deque() for _ in range(M)]
        self._out_stock = np.zeros(M)  # finished output of each line, tonnes
        self.auth_daily = np.zeros((H, len(AUTHORITY_DAILY)))
        self._pipeline()
        env.process(self._background())
        env.process(self._daily())

    # ------------------------------------------------------------------ licences
    def _needs_licence(self, sh: Shipment) -> bool:
        """Whether shipment ``sh`` needs a licence now (see :mod:`simulator.world.goods`)."""
        if (
            not self.st.class_controlled[sh.cls]
            or sh.uncontrolled
            or not self.authority.effects(sh.key).licence_required
        ):
            return False
        if sh.source == Source.BACKGROUND or sh.exporter < 0:
            return True
        t = self.env.now
        pair = (sh.exporter, sh.index)
        return not any(t0 <= t < t1 for t0, t1 in self._general.get(pair, ()))

    def _apply(self, sh: Shipment) -> None:
        """Submit an application for shipment ``sh`` (it reads the next application draws
        of the shipment's source)."""
        aid = self._next_app
        self._next_app += 1
        self.apps.append((aid, sh.source, sh.index, sh.id, sh.exporter, sh.tonnes))
        self.glog.append((self.env.now, G.APPLY, sh.id, sh.tonnes, float(aid)))
        d = self.dl.src_base[sh.src] + self._apps_of[sh.src]
        self._apps_of[sh.src] += 1
        app = Application(aid, sh.key, sh.tonnes, self._decided, sh)
        self.authority.submit(app.fill(self.dl, d, self.st))

    def _decided(self, app: Application, approved_t: float, validity: float) -> None:
        self.goods.licensed(app.owner, approved_t, validity)

    def _policy_changed(self, regime: int, reviewers: int) -> None:
        """A policy change reaches the authority (capacity, re-planned reviews) and the
        port (held goods re-checked)."""
        self.authority.on_regime_change(regime, reviewers)
        self.goods.recheck_holds()

    # ------------------------------------------------------------------ background
    def _background(self):
        """The background streams' export contracts, in time order."""
        env, st, dl = self.env, self.st, self.dl
        cls = [int(c) for c in st.bg_class]
        dest = [int(c) for c in st.bg_dest]
        goods = self.goods
        for t, k, q in zip(dl.bg_t, dl.bg_k, dl.bg_tonnes, strict=True):
            if t > env.now:
                yield env.timeout(t - env.now)
            sh = goods.new(Source.BACKGROUND, k, cls[k], q, origin=-1, dest=dest[k], src=k)
            goods.start(sh)

    # ------------------------------------------------------------------ manufacturers
    def _pipeline(self) -> None:
        """Goods ordered before the start: at the exporter (presented at customs on their
        day) or in transit (arriving on their day)."""
        st, goods, plants = self.st, self.goods, self.plants
        for j in range(st.pipe_part.size):
            p = int(st.pipe_part[j])
            m = int(st.part_line[p])
            q = float(st.pipe_q[j])
            plants.expect(p, q)
            e = int(st.pipe_ex[j])
            day = float(st.pipe_day[j])
            sh = goods.new(
                Source.PIPELINE,
                m,
                int(st.pipe_class[j]),
                q,
                origin=int(st.pipe_origin[j]),
                dest=int(st.m_country[m]),
                src=self.n_bg + p if st.pipe_customs[j] else -1,
                part=p,
                exporter=e,
            )
            if st.pipe_transit[j]:
                self.glog.append((0.0, G.DEPARTED, sh.id, q, -2.0))
                goods.at(day, lambda sh=sh, q=q: goods.arrive(sh, q))
                continue
            sh.made = True
            if st.pipe_customs[j]:
                goods.at(day, lambda sh=sh: goods.present(sh))
            else:
                goods.at(day, lambda sh=sh: goods.depart(sh))

    def _daily(self):
        env, plants, auth = self.env, self.plants, self.authority
        pool = auth.pool
        multi_tier = bool(np.any(plants.out_t_per_unit > 0))
        for d in range(self.horizon):
            yield At(env, d - env.now, DAILY)  # after every other event of instant d
            self.auth_daily[d] = (
                pool.waiting,
                pool.busy,
                auth.n_awaiting_decision,
                auth.n_in_system,
            )
            if plants.n:
                plants.step(d)
            if multi_tier:
                self._fill_backorders()

    def _place_order(self, p: int, tonnes: float) -> None:
        """Part ``p``'s order: one shipment per supplier share."""
        st, goods = self.st, self.goods
        m = int(st.part_line[p])
        dest = int(st.m_country[m])
        for s in range(int(st.sup_start[p]), int(st.sup_start[p + 1])):
            q = tonnes * float(st.sup_share[s])
            if q <= 0:
                continue
            cls = int(st.sup_class[s])
            u = int(st.sup_mfr[s])
            if u >= 0:  # an upstream manufacturer ships what it makes
                sh = goods.new(
                    Source.ORDER, m, cls, q, origin=int(st.m_country[u]), dest=dest, src=-1, part=p
                )
                self._backorders[u].append([sh, q])
                continue
            e = int(st.sup_ex[s])
            sh = goods.new(
                Source.ORDER,
                m,
                cls,
                q,
                origin=int(st.ex_country[e]),
                dest=dest,
                src=self.n_bg + p if st.ex_licensed[e] else -1,
                part=p,
                exporter=e,
                lead=int(st.sup_lead[s]),
            )
            goods.start(sh)

    def _fill_backorders(self) -> None:
        """Upstream lines ship what they made today to their customers, first come first
        served."""
        self._out_stock += self.plants.output_made
        for u in np.flatnonzero(self._out_stock > 0):
            stock = float(self._out_stock[u])
            q = self._backorders[u]
            while q and stock > 1e-12:
                sh, left = q[0]
                take = min(left, stock)
                stock -= take
                if take >= left - 1e-12:
                    q.popleft()
                else:
                    q[0][1] = left - take
                self.goods.depart(sh, take)
            self._out_stock[u] = stock

    # ------------------------------------------------------------------ run
    def run(self) -> Trace:
        """Run to the end of the horizon and return the trace. A world runs once."""
        with SparseGC():
            self.env.run(until=float(self.horizon))
        p = self.plants
        return Trace(
            seed=self.seed,
            rep=self.rep,
            horizon=self.horizon,
            authority=AUTHORITY.array(self.log),
            goods=GOODS.array(self.glog),
            shipments=SHIPMENTS.array(self.ships),
            applications=APPLICATIONS.array(self.apps),
            regimes=REGIMES.array(list(self.draws.policy.regimes)),
            overlays=OVERLAYS.array(list(self.draws.policy.layers)),
            regime_names=tuple(self.book.names),
            regime_labels=tuple(self.book.labels),
            parts={name: p.rec[name] for name, _ in PART_SERIES},
            lines={name: p.rec_line[name] for name, _ in LINE_SERIES},
            authority_daily={
                name: self.auth_daily[:, j].astype(np.int64)
                for j, (name, _) in enumerate(AUTHORITY_DAILY)
            },
            parts_end={
                "initial_inventory_t": p.initial_inventory.copy(),
                "inventory_t": p.inventory.copy(),
                "on_order_t": p.on_order.copy(),
            },
            backlog_end_units=p.backlog_units.copy(),
        )


_GC_LOCK = threading.Lock()
_GC_DEPTH = 0
_GC_SAVED: tuple[int, int, int] | None = None
_GC_THRESHOLD = (50_000, 10, 10)
"""Generation-0 threshold while replications run. The logs keep every event row
alive until the end of the run, so with CPython's default (700) most young-generation
collections scan objects that can never be garbage; collecting every 50,000
allocations instead cut the event loop's CPU by ~20% in ``bench/mmc.py``. The older
generations keep CPython's 10:10 ratios, so cycles (SimPy processes and their events
form them) are still collected, and the previous thresholds are restored
when the last concurrent run in the process ends."""


class SparseGC:
    """Raise the GC thresholds for the duration of a run; re-entrant and
    thread-safe (Dask workers may run several replications in threads)."""

    def __enter__(self) -> None:
        global _GC_DEPTH, _GC_SAVED
        with _GC_LOCK:
            if _GC_DEPTH == 0:
                _GC_SAVED = gc.get_threshold()
                gc.set_threshold(*_GC_THRESHOLD)
            _GC_DEPTH += 1

    def __exit__(self, *exc: object) -> None:
        global _GC_DEPTH, _GC_SAVED
        with _GC_LOCK:
            _GC_DEPTH -= 1
            if _GC_DEPTH == 0 and _GC_SAVED is not None:
                gc.set_threshold(*_GC_SAVED)
                _GC_SAVED = None
