"""The wiring: builds one replication's world from a scenario, runs it, returns a Trace.

Everything that connects the components lives here: background load feeding the
authority, manufacturers' orders becoming applications (or going straight to an
exporter when no licence is needed), decisions releasing goods to exporters,
exporters to lanes, lanes to inventories, and upstream manufacturers supplying
downstream ones. The world writes the logs declared in :mod:`simulator.world.trace`
and hands on only the :class:`~simulator.world.trace.Trace`; the world itself (SimPy
environment, processes, components) is dropped after the run.
"""

from __future__ import annotations

import gc
import math
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulator.world.calendar import WorkCalendar, build_calendar
from simulator.world.licensing import AppKey, Application, LicensingAuthority, ScalarClock
from simulator.world.logistics import CapacityQueue, LaneTable
from simulator.world.manufacturing import Plants
from simulator.world.policy import PolicyBook, PolicyController
from simulator.world.rng import Streams
from simulator.world.sampling import AppDraws, Sampler, background_names
from simulator.world.trace import (
    APPLICATIONS,
    AUTHORITY,
    AUTHORITY_DAILY,
    GOODS,
    PLANT_SERIES,
    REGIMES,
    G,
    Trace,
)

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["World", "simulate"]


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


class _Order:
    __slots__ = ("id", "m", "sup", "t", "tonnes")

    def __init__(self, oid: int, m: int, sup: int, tonnes: float, t: float) -> None:
        self.id = oid
        self.m = m
        self.sup = sup
        self.tonnes = tonnes
        self.t = t


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
        self.streams = streams = Streams(seed, rep)
        self.cal = cal = cal if cal is not None else build_calendar(sc)
        self.horizon = H = sc.horizon_days
        self.seed, self.rep = seed, rep
        # rows of the logs declared in simulator.world.trace, in their column order
        self.log: list[tuple] = []  # AUTHORITY
        self.glog: list[tuple] = []  # GOODS
        self.apps: list[tuple] = []  # APPLICATIONS
        self.regimes: list[tuple[float, int]] = []  # REGIMES
        self._next_app = 0
        self._next_order = 0
        self.book = book = PolicyBook(sc.policy, sc.authority)
        self.authority = auth = LicensingAuthority(
            env, sc.authority, ScalarClock(cal, float(H)), book, self.log
        )
        self.controller = PolicyController(
            env,
            book,
            sc.policy,
            sc.start,
            float(H),
            streams.get("regime"),
            auth.on_regime_change,
            self.regimes,
        )
        auth.policy = self.controller
        auth.on_regime_change(self.controller.current)
        # goods
        self.products = {p.id: p for p in sc.products}
        self.ex_index = {e.id: i for i, e in enumerate(sc.exporters)}
        self.m_index = {m.id: i for i, m in enumerate(sc.manufacturers)}
        self.capacity = [CapacityQueue(e, sc.start) for e in sc.exporters]
        self.lanes = LaneTable(sc.lanes)
        self.countries = {c.id: i for i, c in enumerate(sc.countries)}
        self._lane_samplers: dict[tuple[int, int], Sampler] = {}
        self._lead_samplers: dict[tuple[int, int], Sampler] = {}
        self._max_info_p = max(
            [sc.authority.information_requests.probability]
            + [
                r.information_request_probability or 0.0
                for reg in sc.policy.regimes
                for r in reg.rules
            ]
        )
        self._mdraws = [
            AppDraws(streams, f"mfr/{m.id}", sc.authority, self._max_info_p)
            for m in sc.manufacturers
        ]
        # General licences indexed by (exporter, customer) so that an order checks only
        # its own pair's licences (bench/scaling.py: a scan of every licence per order
        # grew quadratically when manufacturers and their licences scale together).
        self._general: dict[tuple[int, int], list[tuple[float, float]]] = {}
        for g in sc.authority.general_licences:
            t0 = float((g.start - sc.start).days)
            self._general.setdefault(
                (self.ex_index[g.exporter], self.m_index[g.customer]), []
            ).append((t0, t0 + g.valid_days))
        self._backorders: list[deque[list[Any]]] = [deque() for _ in sc.manufacturers]
        self._out_stock = np.zeros(len(sc.manufacturers))  # finished output, tonnes
        noise = np.ones((H, len(sc.manufacturers)))
        for i, m in enumerate(sc.manufacturers):
            if m.demand_cv > 0:
                k = 1.0 / m.demand_cv**2
                noise[:, i] = streams.get("demand", m.id).gamma(k, 1.0 / k, H)
        self.plants = Plants(sc.manufacturers, H, sc.start.weekday(), noise, self._place_order)
        self.auth_daily = np.zeros((H, 4))  # queue, in review, awaiting decision, in system
        env.process(self._background())
        env.process(self._daily())

    # ------------------------------------------------------------------ background
    def _background(self):
        sc, env, cal = self.sc, self.env, self.cal
        w_end = float(cal.work_time(float(self.horizon)))
        times, idx = [], []
        names = background_names(sc.authority.background)
        for k, bg in enumerate(sc.authority.background):
            if bg.rate_per_wd <= 0:
                continue
            rng = self.streams.get("background", *names[k], "arrivals")
            mean = 1.0 / bg.rate_per_wd
            n = int(bg.rate_per_wd * w_end + 6 * math.sqrt(bg.rate_per_wd * w_end) + 16)
            w = np.cumsum(rng.exponential(mean, n))
            while w[-1] < w_end:
                w = np.concatenate([w, w[-1] + np.cumsum(rng.exponential(mean, n))])
            w = w[w < w_end]
            times.append(cal.calendar_time(w) if not cal.all_working else w)
            idx.append(np.full(w.size, k))
        if not times:
            return
        t_all = np.concatenate(times)
        k_all = np.concatenate(idx)
        order = np.argsort(t_all, kind="stable")
        streams = sc.authority.background
        draws = [
            AppDraws(self.streams, "bg/" + "/".join(names[k]), sc.authority, self._max_info_p)
            for k in range(len(streams))
        ]
        tonnes = [
            Sampler(b.tonnes, self.streams.get("background", *names[k], "tonnes"))
            for k, b in enumerate(streams)
        ]
        keys: list[AppKey] = [
            (b.destination, b.product, b.end_use, b.exporter, "background") for b in streams
        ]
        auth, glog, apps = self.authority, self.glog, self.apps
        on_decision = self._bg_decided
        for t, k in zip(t_all[order].tolist(), k_all[order].tolist(), strict=True):
            if t > env.now:
                yield env.timeout(t - env.now)
            q = tonnes[k]()
            key = keys[k]
            if not auth.effects(key).licence_required:
                glog.append((env.now, G.BG_EXPORT, -1, -1, q, k))
                continue
            aid = self._next_app
            self._next_app = aid + 1
            apps.append((aid, 0, k, -1, -1, q))
            auth.submit(draws[k].fill(Application(aid, key, q, on_decision, k)))

    def _bg_decided(self, app: Application, approved_t: float, validity: float) -> None:
        if approved_t > 0:
            self.glog.append((self.env.now, G.BG_EXPORT, -1, -1, approved_t, app.owner))

    # ------------------------------------------------------------------ manufacturers
    def _daily(self):
        env, plants, pool, auth = self.env, self.plants, self.authority.pool, self.authority
        multi_tier = bool(np.any(plants.out_factor > 0))
        for d in range(self.horizon):
            if d > env.now:
                yield env.timeout(d - env.now)
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

    def _place_order(self, m: int, tonnes: float) -> None:
        sc, env = self.sc, self.env
        mfr = sc.manufacturers[m]
        for j, sup in enumerate(mfr.suppliers):
            q = tonnes * sup.share
            if q <= 0:
                continue
            oid = self._next_order
            self._next_order += 1
            order = _Order(oid, m, j, q, env.now)
            self.glog.append((env.now, G.ORDER, oid, m, q, j))
            if sup.manufacturer is not None:
                self._backorders[self.m_index[sup.manufacturer]].append([order, q])
                continue
            e = self.ex_index[sup.exporter]
            ex = sc.exporters[e]
            key: AppKey = (mfr.country, mfr.material, mfr.end_use, ex.id, mfr.id)
            needs = (
                ex.licensed
                and self.products[mfr.material].controlled
                and self.authority.effects(key).licence_required
                and not self._general_covers(e, m, env.now)
            )
            if needs:
                aid = self._next_app
                self._next_app += 1
                self.apps.append((aid, 1, m, oid, e, q))
                app = Application(aid, key, q, self._order_decided, order)
                self.authority.submit(self._mdraws[m].fill(app))
            else:
                self._produce(order, e, q, math.inf)

    def _general_covers(self, e: int, m: int, t: float) -> bool:
        return any(t0 <= t < t1 for t0, t1 in self._general.get((e, m), ()))

    def _order_decided(self, app: Application, approved_t: float, validity: float) -> None:
        order: _Order = app.owner
        denied = order.tonnes - approved_t
        if denied > 1e-12:
            self.glog.append((self.env.now, G.DENIED, order.id, order.m, denied, app.id))
            self.plants.cancel(order.m, denied)
        if approved_t > 0:
            e = self.ex_index[self.sc.manufacturers[order.m].suppliers[order.sup].exporter]
            self._produce(order, e, approved_t, self.env.now + validity)

    def _produce(self, order: _Order, e: int, tonnes: float, expiry: float) -> None:
        env = self.env
        cq = self.capacity[e]
        finish = cq.finish_time(env.now, tonnes)
        if finish > expiry:
            self.glog.append((env.now, G.EXPIRED, order.id, order.m, tonnes, e))
            self.plants.cancel(order.m, tonnes)
            return
        cq.commit(finish)
        if finish == math.inf:
            return  # capacity never suffices: goods stay on order at the exporter
        key = (e, order.m)
        lead = self._lead_samplers.get(key)
        if lead is None:
            ex, mfr = self.sc.exporters[e], self.sc.manufacturers[order.m]
            lead = self._lead_samplers[key] = Sampler(
                ex.lead_time_days, self.streams.get("exporter", ex.id, mfr.id)
            )
        ready = finish + lead()
        origin = self.sc.exporters[e].country
        self._at(ready, lambda: self._depart(order, origin, tonnes))

    def _at(self, t: float, fn: Any) -> None:
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _e: fn())

    def _depart(self, order: _Order, origin: str, tonnes: float) -> None:
        m = order.m
        mfr = self.sc.manufacturers[m]
        mode = None
        if mfr.expedite is not None and self.plants.cover_days(m) < mfr.expedite.below_cover_days:
            mode = mfr.expedite.mode
        lane = self.lanes.pick(origin, mfr.country, mode)
        key = (lane, m)
        s = self._lane_samplers.get(key)
        if s is None:
            s = self._lane_samplers[key] = Sampler(
                self.sc.lanes[lane].transit_days,
                self.streams.get("transit", self.sc.lanes[lane].id, mfr.id),
            )
        transit = s()
        now = self.env.now
        self.glog.append((now, G.SHIPPED, order.id, m, tonnes, lane))
        self._at(now + transit, lambda: self._arrive(order, tonnes))

    def _arrive(self, order: _Order, tonnes: float) -> None:
        now = self.env.now
        self.glog.append((now, G.DELIVERED, order.id, order.m, tonnes, now - order.t))
        self.plants.receive(order.m, tonnes, now - order.t)

    def _fill_backorders(self) -> None:
        self._out_stock += self.plants.output_made
        for u in np.flatnonzero(self._out_stock > 0):
            stock = float(self._out_stock[u])
            q = self._backorders[u]
            while q and stock > 1e-12:
                order, left = q[0]
                take = min(left, stock)
                stock -= take
                if take >= left - 1e-12:
                    q.popleft()
                else:
                    q[0][1] = left - take
                self._depart(order, self.sc.manufacturers[u].country, take)
            self._out_stock[u] = stock

    # ------------------------------------------------------------------ run
    def run(self) -> Trace:
        """Run to the end of the horizon and return the trace. A world runs once."""
        with _SparseGC():
            self.env.run(until=float(self.horizon))
        p = self.plants
        return Trace(
            seed=self.seed,
            rep=self.rep,
            horizon=self.horizon,
            authority=AUTHORITY.array(self.log),
            goods=GOODS.array(self.glog),
            applications=APPLICATIONS.array(self.apps),
            regimes=REGIMES.array(self.regimes),
            regime_names=tuple(self.book.names),
            regime_labels=tuple(self.book.labels),
            plants={name: getattr(p, "rec_" + name[:-2]) for name, _ in PLANT_SERIES},
            authority_daily={
                name: self.auth_daily[:, j].astype(np.int64)
                for j, (name, _) in enumerate(AUTHORITY_DAILY)
            },
            plants_end={
                "initial_inventory_t": p.initial_inventory.copy(),
                "inventory_t": p.inventory.copy(),
                "on_order_t": p.on_order.copy(),
                "backlog_t": p.backlog.copy(),
            },
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


class _SparseGC:
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
