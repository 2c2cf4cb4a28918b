"""Goods on their way: one physical chain for every export, modelled or background.

Semantics (the one place they are stated)
-----------------------------------------
A **shipment** is a manufacturer's order to one supplier, a background export contract,
or goods already in the pipeline at the start. A shipment from a *licensed* exporter
(in China) lives this chain::

    order ─▶ [licence, if one is needed now] ─▶ production ─▶ presented at customs
          ─▶ [licence, if one is needed now and the goods have none] ─▶ handling
          (+ inspection) ─▶ [customs hold] ─▶ [release queue] ─▶ departure ─▶ transit
          ─▶ arrival

* **Licence at customs.** A licence is needed when the goods are *presented at
  customs* for export, whatever the date of their order: goods ordered before controls
  begin but presented after them join the licence queue and wait at the exporter for the
  decision. An exporter that knows at ordering time that a licence will be needed applies
  then and makes the goods once approved. A licence is needed when the product is
  controlled, the policy in force requires one for the shipment's (destination, product,
  end use, exporter, applicant), and no general licence covers the exporter–customer
  pair at that moment.
* **Licence validity.** Goods must be presented at customs before the licence expires:
  licensed tonnes not made in time expire (cancelled). Goods presented in time may leave
  later (handling, holds).
* **Production.** Modelled exporters make orders first come, first served at their
  capacity (:mod:`simulator.world.logistics`), then take their lead time; background
  contracts take their stream's ``production_days``; pipeline goods are presented on
  their declared day.
* **Customs.** Handling takes ``customs.handling_days``; a rule's ``inspection`` delays a
  share of matching shipments further. At the end of handling, a rule's
  ``customs_hold`` holds a share of matching shipments at the port (each shipment draws
  one uniform when it is created and is held while that draw is below the share in
  force); held goods are re-checked at every policy change and released when no longer
  held — or, with ``customs.hold_days``, after their own drawn delay (holds that leak).
* **Release throughput.** Per destination, the port releases held goods first come,
  first served at ``customs.release_t_per_day`` (or its per-destination override): a
  released backlog drains at that pace, and goods reaching the port while it drains
  queue behind it. With no backlog, goods depart at the end of handling.
* **Departure** is the customs export date: monthly exports are counted here. Modelled
  goods take a lane (by mode, with expedite-by-air when the part's cover is low);
  background goods take their stream's ``transit_days``.
* Goods from unlicensed exporters (alternative suppliers outside China) and from
  upstream manufacturers skip Chinese customs: order → production → departure →
  transit → arrival.

Random draws of a shipment (customs handling time, hold and inspection uniforms, and a
background shipment's production and transit times) are read when it is created, from
the replication's draws of its source (:mod:`simulator.world.draws`), so the same
shipment draws the same in every policy variant (common random numbers); lead and
transit times are read per exporter–part and lane–part pair in the order they are used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import simpy

from simulator.world.arith import pace_at, paced_finish, pick_lane
from simulator.world.codes import G, Source
from simulator.world.logistics import CapacityQueue

if TYPE_CHECKING:  # pragma: no cover
    from simulator.world.licensing import AppKey
    from simulator.world.manufacturing import Plants
    from simulator.world.static import Static

__all__ = ["Goods", "Shipment"]


class Shipment:
    """One shipment and its state.

    Attributes:
        id: Shipment id (creation order).
        source: A :class:`~simulator.world.trace.Source` kind.
        index: Stream or manufacturer index.
        cls: Its application class (:attr:`~simulator.world.static.Static.class_keys`).
        key: What policy rules select on (destination, product, end use, exporter,
            applicant).
        tonnes: Quantity still on its way (after partial approvals), tonnes.
        part: Part index (-1: background).
        exporter: Exporter index (-1: background or an upstream manufacturer).
        origin: Country it leaves from (index).
        dest: Country it goes to (index).
        customs: Whether it goes through Chinese customs.
        t_order: When it was ordered, calendar days (0 for pipeline goods).
        expiry: Expiry of its licence, calendar days (None: it has none).
        made: Whether it has been made (at or past customs).
        src: Its draw source (background stream, or background streams + part), -1 when
            it does not go through customs.
        lead: Its exporter–part lead-time pair (-1: none).
        inspection: Inspection times, one per distinct inspection distribution.
        handling: Customs handling time, calendar days.
        u_hold: Uniform deciding customs holds.
        hold_days: Days it stays held at most (``customs.hold_days``; -1: until the hold
            ends).
        uncontrolled: Its grade needs no licence (the product's ``controlled_share``).
        u_inspect: Uniform deciding inspections.
        production: Background: production time, calendar days.
        u_made: Background: uniform deciding whether it is made on a day of slow pace.
        transit: Background: transit time, calendar days.
    """

    __slots__ = (
        "cls",
        "customs",
        "dest",
        "expiry",
        "exporter",
        "handling",
        "hold_days",
        "id",
        "index",
        "inspection",
        "key",
        "lead",
        "made",
        "origin",
        "part",
        "production",
        "source",
        "src",
        "t_order",
        "tonnes",
        "transit",
        "u_hold",
        "u_inspect",
        "u_made",
        "uncontrolled",
    )

    def __init__(
        self, sid: int, source: int, index: int, cls: int, key: AppKey, tonnes: float
    ) -> None:
        self.id = sid
        self.source = source
        self.index = index
        self.cls = cls
        self.key = key
        self.tonnes = tonnes
        self.part = -1
        self.exporter = -1
        self.origin = -1
        self.dest = -1
        self.customs = False
        self.t_order = 0.0
        self.expiry: float | None = None
        self.made = False
        self.src = -1
        self.lead = -1
        self.handling = 0.0
        self.u_hold = 1.0
        self.hold_days = -1.0  # held this long at most (-1: until the hold ends)
        self.uncontrolled = False  # a grade that needs no licence (controlled_share)
        self.u_inspect = 1.0
        self.production = 0.0
        self.u_made = 0.0
        self.transit = 0.0
        self.inspection: list[float] = []


class Goods:
    """The goods chain of one replication (see the module docstring).

    Args:
        env: SimPy environment.
        st: The compiled scenario.
        log: Rows of the :data:`~simulator.world.trace.GOODS` log.
        shipments: Rows of the :data:`~simulator.world.trace.SHIPMENTS` table.
        effects: ``effects(key)`` → the policy effects in force now.
        needs_licence: ``needs_licence(shipment)`` → whether it needs a licence now.
        apply: ``apply(shipment)`` submits a licence application for it; the decision
            comes back through :meth:`licensed`.
        plants: The manufacturers (deliveries, cancellations, cover).
        dl: The replication's draws (:class:`~simulator.world.draws.DrawLists`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        st: Static,
        log: list[tuple],
        shipments: list[tuple],
        effects: Callable[[AppKey], Any],
        needs_licence: Callable[[Shipment], bool],
        apply: Callable[[Shipment], None],
        plants: Plants,
        dl: Any,
    ) -> None:
        self.env, self.st, self.sc, self.dl, self.book = env, st, st.sc, dl, st.book
        self.log, self.rows = log, shipments
        self.effects, self.needs_licence, self.apply = effects, needs_licence, apply
        self.plants = plants
        self.capacity = [CapacityQueue(st, e) for e in range(len(st.sc.exporters))]
        self._next = 0
        self._ships_of = [0] * dl.n_sources  # customs shipments created per draw source
        self._leads = [0] * len(st.lead_pairs)  # lead times used per exporter-part pair
        self._transits = [0] * len(st.transit_pairs)  # transit times used per lane-part
        self.held: list[Shipment] = []
        self._port_free: dict[int, float] = {}  # per destination: release queue busy until

    # ------------------------------------------------------------------ creation
    def new(
        self,
        source: int,
        index: int,
        cls: int,
        tonnes: float,
        *,
        origin: int,
        dest: int,
        src: int,
        part: int = -1,
        exporter: int = -1,
        lead: int = -1,
    ) -> Shipment:
        """Create a shipment of application class ``cls`` now (and log it); a draw source
        ``src`` >= 0 means it goes through customs and reads its customs draws now."""
        sh = Shipment(self._next, source, index, cls, self.st.class_keys[cls], tonnes)
        self._next += 1
        sh.part, sh.exporter, sh.origin, sh.dest, sh.lead = part, exporter, origin, dest, lead
        sh.t_order = self.env.now
        if src >= 0:
            dl = self.dl
            j = dl.src_base[src] + self._ships_of[src]
            self._ships_of[src] += 1
            sh.customs, sh.src = True, src
            sh.handling = dl.handling[j]
            sh.u_hold = dl.u_hold[j]
            sh.hold_days = dl.hold_days[j]
            sh.uncontrolled = dl.uncontrolled[j] != 0.0
            sh.u_inspect = dl.u_inspect[j]
            sh.production = dl.production[j]
            sh.u_made = dl.u_made[j]
            sh.transit = dl.transit_bg[j]
            n = self.st.n_insp_dists
            sh.inspection = dl.inspection[j * n : (j + 1) * n]
        self.rows.append((sh.id, source, index, part, exporter, dest, int(sh.customs), tonnes))
        self.log.append((self.env.now, G.ORDER, sh.id, tonnes, 0.0))
        return sh

    # ------------------------------------------------------------------ the chain
    def at(self, t: float, fn: Callable[[], None]) -> None:
        """Call ``fn`` at time ``t`` (a timeout with a callback; no process)."""
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _e: fn())

    def start(self, sh: Shipment) -> None:
        """A new order or contract: apply first if a licence is needed now, else make it."""
        if sh.customs and self.needs_licence(sh):
            self.apply(sh)
        else:
            self.produce(sh)

    def licensed(self, sh: Shipment, approved_t: float, validity_days: float) -> None:
        """The authority decided ``sh``'s application: cancel what was refused, go on
        with what was approved (to production or, if already made, to handling)."""
        denied = sh.tonnes - approved_t
        if denied > 1e-12:
            self.log.append((self.env.now, G.DENIED, sh.id, denied, -1.0))
            self._cancel(sh, denied)
        sh.tonnes = approved_t
        if approved_t <= 0:
            return
        sh.expiry = self.env.now + validity_days
        if sh.made:
            self.handle(sh)
        else:
            self.produce(sh)

    def produce(self, sh: Shipment) -> None:
        """Make the goods; present them at customs (or, without customs, ship them)."""
        now = self.env.now
        if sh.source == Source.BACKGROUND:
            st = self.st
            if st.paced and sh.u_made >= pace_at(st.paced, st.pace, st.bg_origin, now):
                self.log.append((now, G.LAPSED, sh.id, sh.tonnes, 0.0))
                self._cancel(sh, sh.tonnes)
                return  # due to be made while the makers are closed: not made
            ready: float | None = paced_finish(
                st.paced, st.pace_cum, st.pace, st.bg_origin, now, sh.production
            )
        else:
            ready = self._make(sh)
        if ready is None:
            return  # capacity never suffices: the goods stay on order at the exporter
        if sh.expiry is not None and ready > sh.expiry:
            self.log.append((now, G.EXPIRED, sh.id, sh.tonnes, 0.0))
            self._cancel(sh, sh.tonnes)
            return
        self.at(ready, (lambda: self.present(sh)) if sh.customs else (lambda: self.depart(sh)))

    def _make(self, sh: Shipment) -> float | None:
        """Book the exporter's capacity; when the goods are ready (None: never)."""
        cq = self.capacity[sh.exporter]
        finish = cq.finish_time(self.env.now, sh.tonnes)
        if sh.expiry is not None and finish > sh.expiry:
            return finish  # expires; capacity is not booked for goods never made
        cq.commit(finish)
        if finish == math.inf:
            return None
        pair = sh.lead
        i = self._leads[pair]
        self._leads[pair] = i + 1
        st = self.st
        c = int(st.ex_country[sh.exporter])
        return paced_finish(
            st.paced, st.pace_cum, st.pace, c, finish, self.dl.lead[self.dl.lead_base[pair] + i]
        )

    def present(self, sh: Shipment) -> None:
        """The goods reach customs: a licence is checked here, then they are handled."""
        sh.made = True
        self.log.append((self.env.now, G.PRESENTED, sh.id, sh.tonnes, 0.0))
        if sh.expiry is None and self.needs_licence(sh):
            self.apply(sh)  # the goods wait at the exporter for the decision
            return
        self.handle(sh)

    def handle(self, sh: Shipment) -> None:
        """Customs handling (+ inspection), then the hold check."""
        t = sh.handling
        insp = self.effects(sh.key).inspection
        if insp is not None and sh.u_inspect < insp.probability:
            t += sh.inspection[self.book.inspection_index(insp.days)]
        self.at(self.env.now + t, lambda: self.clear(sh))

    def clear(self, sh: Shipment) -> None:
        """End of handling: held at the port, or released for departure."""
        hold = self.effects(sh.key).customs_hold
        if hold and sh.u_hold < hold:
            self.log.append((self.env.now, G.HELD, sh.id, sh.tonnes, 0.0))
            self.held.append(sh)
            if sh.hold_days >= 0.0:  # the hold leaks: released after its own delay
                self.at(self.env.now + sh.hold_days, lambda: self.leak(sh))
            return
        self.release(sh, held=False)

    def leak(self, sh: Shipment) -> None:
        """A held shipment's own delay is over: released if it is still held."""
        for i, x in enumerate(self.held):
            if x is sh:
                del self.held[i]
                self.log.append((self.env.now, G.RELEASED, sh.id, sh.tonnes, 0.0))
                self.release(sh, held=True)
                return

    def recheck_holds(self) -> None:
        """After a policy change: release the held shipments no longer held, in the order
        they were held."""
        if not self.held:
            return
        keep: list[Shipment] = []
        for sh in self.held:
            hold = self.effects(sh.key).customs_hold
            if hold and sh.u_hold < hold:
                keep.append(sh)
            else:
                self.log.append((self.env.now, G.RELEASED, sh.id, sh.tonnes, 0.0))
                self.release(sh, held=True)
        self.held = keep

    def release(self, sh: Shipment, held: bool) -> None:
        """Through the port's release queue (while it drains a backlog) to departure."""
        now = self.env.now
        dest = sh.dest
        rate = float(self.st.release_rate[dest])
        busy = self._port_free.get(dest, -math.inf)
        if rate < 0 or (not held and busy <= now):
            self.depart(sh)
            return
        done = max(now, busy) + sh.tonnes / rate
        self._port_free[dest] = done
        self.at(done, lambda: self.depart(sh))

    def depart(self, sh: Shipment, tonnes: float | None = None) -> None:
        """Departure (the customs export date): take a lane, or the stream's transit.
        ``tonnes``: a part of the shipment (an upstream plant ships what it has made)."""
        now = self.env.now
        q = sh.tonnes if tonnes is None else tonnes
        if sh.source == Source.BACKGROUND:
            self.log.append((now, G.DEPARTED, sh.id, q, -1.0))
            self.at(now + sh.transit, lambda: self.arrive(sh, q))
            return
        st, p = self.st, sh.part
        mode = -1
        if st.expedite_mode[p] >= 0 and self.plants.cover_days(p) < st.expedite_below[p]:
            mode = int(st.expedite_mode[p])
        lane = pick_lane(st.lane_of, sh.origin, sh.dest, mode)
        pair = int(st.transit_of[lane, p])
        i = self._transits[pair]
        self._transits[pair] = i + 1
        self.log.append((now, G.DEPARTED, sh.id, q, float(lane)))
        self.at(now + self.dl.transit[self.dl.transit_base[pair] + i], lambda: self.arrive(sh, q))

    def arrive(self, sh: Shipment, tonnes: float) -> None:
        """Arrival: a manufacturer's part stock grows."""
        now = self.env.now
        self.log.append((now, G.ARRIVED, sh.id, tonnes, now - sh.t_order))
        if sh.part >= 0:
            # pipeline goods were ordered before the start: no lead time to learn from
            lead = None if sh.source == Source.PIPELINE else now - sh.t_order
            self.plants.receive(sh.part, tonnes, lead)

    def _cancel(self, sh: Shipment, tonnes: float) -> None:
        if sh.part >= 0:
            self.plants.cancel(sh.part, tonnes)
