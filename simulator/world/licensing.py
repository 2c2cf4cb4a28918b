"""The licensing authority: intake, reviewers, the statutory clock, decisions.

Where does a review's duration come from? ``Application.work_wd`` (drawn from
``authority.review_work_wd`` when the application is created) is the reviewer effort
in working days at normal speed; the regime's ``review_time_factor`` stretches it, the
working-day calendar turns it into calendar time (:meth:`ScalarClock.add_work`), and
information requests stop the statutory clock while the applicant answers.

Life of an application (one SimPy process each)::

    submit -> intake (screening; may be returned, resubmitted after resubmit_days)
           -> accepted: statutory clock starts (working days)
           -> queue for a reviewer (priority from policy; larger first)
           -> review (work at the regime's speed; re-planned when the regime changes)
              -> information request? reviewer released, clock stopped for the
                 applicant's answer (calendar days), back to the queue
           -> decision (held while suspended) at completion, or at the statutory
              limit as ``deadline_rule`` says
           -> callback to the owner (a manufacturer's order, or background export)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulator.world.calendar import WorkCalendar
from simulator.world.trace import AT_DEADLINE, Ev

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.authority import Authority
    from simulator.world.policy import PolicyBook, PolicyController, Resolved

__all__ = ["AppKey", "Application", "LicensingAuthority", "ReviewerPool", "ScalarClock"]

AppKey = tuple[str, str, str, str, str]
"""(destination, product, end_use, exporter, applicant): what policy rules select on."""


class ScalarClock:
    """Scalar calendar/working-time conversion for the event loop: the identity when
    every day is working (queueing-theory validation), else :class:`WorkCalendar`.

    Args:
        cal: The calendar.
        horizon: Simulated days; a conversion landing beyond it returns ``inf`` (the
            event does not happen within the run), so absurd amounts of work never grow
            the calendar table.
    """

    def __init__(self, cal: WorkCalendar, horizon: float | None = None) -> None:
        self.identity = bool(cal.all_working and np.all(cal.working))
        self._cal = cal
        self._w_max = math.inf if horizon is None else cal.work_time(float(horizon)) + 1.0

    def work_time(self, t: float) -> float:
        """Working time elapsed at calendar time ``t``, working days."""
        return t if self.identity else self._cal.work_time(t)

    def add_work(self, t: float, w: float) -> float:
        """Calendar time when ``w`` working days have elapsed after ``t``."""
        if self.identity:
            return t + w
        if w <= 0:
            return t
        target = self._cal.work_time(t) + w
        if target > self._w_max:
            return math.inf
        return max(t, self._cal.calendar_time(target))


class ReviewerPool:
    """Reviewers as a priority queue with a capacity that policy may change.

    Larger priority first, FIFO within a priority. Lowering capacity never pre-empts:
    busy reviewers finish, and no one new starts until busy < capacity.
    """

    __slots__ = ("_cancelled", "_queue", "_seq", "busy", "capacity", "env")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self._queue: list[tuple[int, int, simpy.Event]] = []
        self._seq = 0
        self._cancelled: set[simpy.Event] = set()

    def try_acquire(self) -> bool:
        """Take a free reviewer at once if one is free and nobody waits."""
        if self.busy < self.capacity and not self._queue:
            self.busy += 1
            return True
        return False

    def request(self, priority: int) -> simpy.Event:
        """Return an event that succeeds when a reviewer is assigned."""
        ev = self.env.event()
        if self.busy < self.capacity and not self._queue:
            self.busy += 1
            ev.succeed()
        else:
            self._seq += 1
            heapq.heappush(self._queue, (-priority, self._seq, ev))
        return ev

    def cancel(self, ev: simpy.Event) -> None:
        """Withdraw a pending request (lazy: skipped when it reaches the front)."""
        self._cancelled.add(ev)

    def release(self) -> None:
        """Free one reviewer and assign the next waiting application."""
        self.busy -= 1
        self._dispatch()

    def set_capacity(self, capacity: int) -> None:
        """Change the number of reviewers (takes effect at the next assignment)."""
        self.capacity = capacity
        self._dispatch()

    def _dispatch(self) -> None:
        q = self._queue
        while q and self.busy < self.capacity:
            ev = heapq.heappop(q)[2]
            if ev in self._cancelled:
                self._cancelled.discard(ev)
                continue
            self.busy += 1
            ev.succeed()

    @property
    def waiting(self) -> int:
        """Applications waiting (cancelled ones may be counted until they surface)."""
        return len(self._queue) - len(self._cancelled)


class Application:
    """One licence application and its random attributes (drawn at creation by
    :meth:`~simulator.world.sampling.AppDraws.fill`, so the same application gets the same
    draws in every policy variant).

    Attributes:
        id: Application id (creation order).
        key: (destination, product, end use, exporter, applicant) for policy rules.
        tonnes: Quantity applied for, tonnes.
        work_wd: Reviewer effort at normal speed, working days.
        screening_wd: Intake screening time, working days.
        u_return: Uniforms deciding each intake return.
        resubmit_days: Applicant's resubmission delays, calendar days.
        u_info: Uniforms deciding each information request.
        info_at: Fractions of the review work at which requests are raised.
        info_response_days: Applicant's answer delays, calendar days.
        u_approve: Uniform deciding approval.
        u_partial: Uniform deciding a partial approval.
        partial_fraction: Fraction approved if partial.
        on_decision: Called as ``on_decision(app, approved_tonnes, validity_days)``.
        owner: The owner's handle (an order, or a background stream index).
    """

    __slots__ = (
        "id",
        "info_at",
        "info_response_days",
        "key",
        "on_decision",
        "owner",
        "partial_fraction",
        "resubmit_days",
        "screening_wd",
        "tonnes",
        "u_approve",
        "u_info",
        "u_partial",
        "u_return",
        "work_wd",
    )

    def __init__(
        self,
        app_id: int,
        key: AppKey,
        tonnes: float,
        on_decision: Callable[[Application, float, float], None],
        owner: Any = None,
    ) -> None:
        self.id = app_id
        self.key = key
        self.tonnes = tonnes
        self.on_decision = on_decision
        self.owner = owner
        self.work_wd = 1.0
        self.screening_wd = 0.0
        # empty until drawn (shared immutable empties: most applications draw none)
        self.u_return: Sequence[float] = ()
        self.resubmit_days: Sequence[float] = ()
        self.u_info: Sequence[float] = ()
        self.info_at: Sequence[float] = ()
        self.info_response_days: Sequence[float] = ()
        self.u_approve = 0.0
        self.u_partial = 1.0
        self.partial_fraction = 1.0


class _NoPolicy:
    current = 0


class LicensingAuthority:
    """The authority's processes. Components never read YAML or print.

    Args:
        env: SimPy environment.
        cfg: Authority settings.
        clock: Scalar working-time clock.
        book: Compiled policy.
        policy: Regime controller (current regime, change events).
        log: Rows of the :data:`~simulator.world.trace.AUTHORITY` log.
    """

    def __init__(
        self,
        env: simpy.Environment,
        cfg: Authority,
        clock: ScalarClock,
        book: PolicyBook,
        log: list[tuple],
    ) -> None:
        self.env = env
        self.cfg = cfg
        self.clock = clock
        self.book = book
        self.log = log
        self.policy: PolicyController = _NoPolicy()  # type: ignore[assignment]
        self.pool = ReviewerPool(env, cfg.reviewers)
        self.in_review: dict[simpy.Process, AppKey] = {}
        self._regime = 0
        self.limit = cfg.statutory_limit_wd
        self.rule = cfg.deadline_rule
        self.binding = self.limit is not None and self.rule != "continue"
        self.n_submitted = 0
        self.n_decided = 0
        self.n_in_system = 0
        self.n_awaiting_decision = 0
        self._caches = book._cache
        self._p_return = cfg.intake.return_probability
        self._p_partial = cfg.approval.partial_probability
        self._intake = self._p_return > 0 or not (
            cfg.intake.screening_wd.kind == "constant" and cfg.intake.screening_wd.value == 0
        )

    # -- policy hooks ----------------------------------------------------------------
    def effects(self, key: AppKey) -> Resolved:
        """Effects in force now for ``key``."""
        r = self.policy.current
        hit = self._caches[r].get(key)
        return hit if hit is not None else self.book.resolve(r, key)

    def on_regime_change(self, regime: int) -> None:
        """Apply a new regime: capacity now; re-plan the reviews in progress whose speed
        changed (work is conserved, time is not); others keep their schedule."""
        old, self._regime = self._regime, regime
        self.pool.set_capacity(round(self.cfg.reviewers * self.book.capacity_factor[regime]))
        resolve = self.book.resolve
        for proc, key in list(self.in_review.items()):
            if (
                resolve(old, key).review_time_factor != resolve(regime, key).review_time_factor
                and proc.is_alive
                and proc.target is not None
            ):
                proc.interrupt("regime")

    # -- applications ----------------------------------------------------------------
    def submit(self, app: Application) -> None:
        """Start an application's process now."""
        self.n_submitted += 1
        self.n_in_system += 1
        self.env.process(self._life(app))

    def _life(self, app: Application):
        env, clock, log, pool = self.env, self.clock, self.log, self.pool
        log.append((env.now, Ev.SUBMIT, app.id, app.tonnes, 0.0))
        if self._intake:
            returns = 0
            while True:
                if app.screening_wd > 0:
                    yield env.timeout(clock.add_work(env.now, app.screening_wd) - env.now)
                if returns < len(app.u_return) and app.u_return[returns] < self._p_return:
                    log.append((env.now, Ev.RETURN, app.id, 0.0, 0.0))
                    yield env.timeout(app.resubmit_days[returns])
                    returns += 1
                    continue
                break
        t_accept = env.now
        log.append((t_accept, Ev.ACCEPT, app.id, 0.0, 0.0))
        key, ctrl = app.key, self.policy
        # effects in force: looked up again only when the regime has changed (the
        # per-regime caches make the lookup cheap; this makes it free in steady state)
        caches, resolve = self._caches, self.book.resolve
        r = ctrl.current
        eff = caches[r].get(key) or resolve(r, key)
        info_points: list[float] = []
        if app.u_info:
            p_info = eff.information_request_probability
            info_points = sorted(
                f for u, f in zip(app.u_info, app.info_at, strict=True) if u < p_info
            )  # fractions of the work at which requests are raised
        n_info = len(info_points)
        done_frac = 0.0
        used_wd = 0.0  # statutory clock used before the last restart
        clock_start = t_accept  # when the clock (re)started
        binding = self.binding
        deadline = clock.add_work(t_accept, self.limit) if binding else math.inf
        outcome_forced: str | None = None
        k_info = 0
        me = env.active_process
        in_review = self.in_review
        while True:
            # --- wait for a reviewer (or the deadline)
            if not pool.try_acquire():
                if ctrl.current != r:
                    r = ctrl.current
                    eff = caches[r].get(key) or resolve(r, key)
                req = pool.request(eff.priority)
                if binding:
                    yield req | env.timeout(max(0.0, deadline - env.now))
                    if not req.triggered:
                        pool.cancel(req)
                        outcome_forced = self.rule
                        break
                else:
                    yield req
            log.append((env.now, Ev.REVIEW_START, app.id, 0.0, 0.0))
            # --- work until the next information request, completion or deadline
            stop_frac = info_points[k_info] if k_info < n_info else 1.0
            todo = (stop_frac - done_frac) * app.work_wd
            in_review[me] = key
            hit_deadline = False
            while todo > 1e-12:
                if ctrl.current != r:
                    r = ctrl.current
                    eff = caches[r].get(key) or resolve(r, key)
                factor = eff.review_time_factor
                t0 = env.now
                t_done = clock.add_work(t0, todo * factor)
                t_end = t_done if t_done < deadline else deadline
                try:
                    yield env.timeout(t_end - t0)
                except simpy.Interrupt:
                    todo -= (clock.work_time(env.now) - clock.work_time(t0)) / factor
                    continue
                if t_end < t_done:
                    hit_deadline = True
                    break
                todo = 0.0
            del in_review[me]
            done_frac = stop_frac
            pool.release()
            if hit_deadline:
                outcome_forced = self.rule
                break
            if k_info < n_info:
                # stop the clock while the applicant answers
                k_info += 1
                used_wd += clock.work_time(env.now) - clock.work_time(clock_start)
                log.append((env.now, Ev.INFO_REQUEST, app.id, used_wd, 0.0))
                yield env.timeout(app.info_response_days[k_info - 1])
                clock_start = env.now
                log.append((env.now, Ev.INFO_RESPONSE, app.id, 0.0, 0.0))
                if binding:
                    deadline = clock.add_work(env.now, self.limit - used_wd)
                continue
            break
        # --- decision (held while suspended)
        if ctrl.current != r:
            r = ctrl.current
            eff = caches[r].get(key) or resolve(r, key)
        if eff.suspend:
            self.n_awaiting_decision += 1
            while eff.suspend:
                yield ctrl.changed
                eff = self.effects(key)
            self.n_awaiting_decision -= 1
        approve = app.u_approve < eff.approval_probability
        if outcome_forced is not None:
            if outcome_forced == "approve":
                approve = True
            elif outcome_forced == "deny":
                approve = False
        frac = 1.0
        if approve and app.u_partial < self._p_partial:
            frac = min(1.0, max(0.0, app.partial_fraction))
        code = ((0 if frac >= 1.0 else 1) if approve else 2) + (
            AT_DEADLINE if outcome_forced is not None else 0
        )
        approved_t = app.tonnes * frac if approve else 0.0
        self.n_decided += 1
        self.n_in_system -= 1
        log.append((env.now, Ev.DECIDE, app.id, approved_t, code))
        app.on_decision(app, approved_t, eff.licence_validity_days)
