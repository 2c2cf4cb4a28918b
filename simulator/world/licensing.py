"""The licensing authority: intake, reviewers, the statutory clock, decisions.

Semantics (the one place they are stated)
-----------------------------------------

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
           -> decision, held while suspended, and possibly parked first (a file that
              sits), at completion, or at the statutory limit as ``deadline_rule`` says
           -> callback to the owner (a shipment)

* **Statutory clock.** It runs in working days from acceptance, stops while the
  applicant answers an information request and restarts at the answer. At the limit
  (``statutory_limit_wd``) an application still waiting for a reviewer or in review is
  handled by ``deadline_rule``: ``decide`` (decided at once with the usual odds),
  ``approve``, ``deny``, ``extend`` (the limit moves once by a drawn
  ``deadline_extension_wd``, and the application is decided with the usual odds if it
  is still not done then; it keeps its place in the queue) or ``continue`` (no limit:
  the review goes on; the wait is still measured against the limit). A decision made at
  the limit is marked ``at_deadline``.
* **Suspension.** While a rule suspends decisions, reviewed applications wait; they are
  re-checked at every policy change.
* **Parking (files that sit).** When its review is done, an application matched by a
  rule's ``park`` is parked with no decision if its own uniform draw is below the
  rule's share: for a drawn ``park.days``, or, without ``days``, until a policy change
  stops parking it. Parked and suspended files are past review, so the statutory limit
  no longer decides them: this is how real waits far exceed 45 working days.
* **Batch releases.** When a change of policy brings into force, for a file, a rule's
  ``release`` it did not have before, the file is *picked* if it is waiting on the
  authority (queued for a reviewer, in review, parked or held by a suspension; not
  while the applicant answers or the file is at intake) and its own uniform draw is
  below the release's ``share``; at its own point of the window (a second draw ×
  ``within_days``) it is released if it is still waiting on the authority: it leaves
  the queue or its review (the reviewer is freed), its parking or suspension, and is
  decided at once at the release's ``approval_probability``. A file is picked at most
  once. This is how a backlog that waits comes back in a batch when politics turns.
* **Withdrawals.** A background stream's buyers may give up: at submission, a file
  whose own draws say so (``withdraw.probability``, ``withdraw.after_days``) is timed to
  be withdrawn; if it is still waiting on the authority then, it leaves as a release
  does and is decided as ``withdrawn`` (no licence; its goods are never made). A file
  that waits is not always a file that comes back.
* **Re-planning.** A policy change re-plans reviews in progress whose speed changed:
  the remaining work is kept, the time to finish it changes. Capacity changes apply to
  the next assignment (no review is pre-empted).
* **Event order.** Every wait is one event (a timeout, a reviewer's grant, a policy
  change), so the order of events at the same instant is the order SimPy schedules
  them in; the compiled kernel reproduces it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import simpy

from simulator.world.arith import add_work, decide, work_time
from simulator.world.codes import DEADLINE_RULES, WITHDRAW_P, Ev, Stage

if TYPE_CHECKING:  # pragma: no cover
    from simulator.world.policy import PolicyController, Resolved
    from simulator.world.static import Static

__all__ = ["AppKey", "Application", "LicensingAuthority", "ReviewerPool", "ScalarClock"]

AppKey = tuple[str, str, str, str, str]
"""(destination, product, end_use, exporter, applicant): what policy rules select on."""


class ScalarClock:
    """The working-day clock of the event loop (:mod:`simulator.world.arith`, shared with
    the compiled kernel) on the compiled scenario's calendar table.

    Args:
        st: The compiled scenario (its calendar table and the horizon's working time: a
            conversion landing beyond the horizon returns ``inf``, so absurd amounts of
            work never grow the table).
    """

    __slots__ = ("_cum", "_w_max", "_working", "identity")

    def __init__(self, st: Static) -> None:
        self.identity = st.identity
        self._cum, self._working, self._w_max = st.cum, st.working, st.w_max

    def work_time(self, t: float) -> float:
        """Working time elapsed at calendar time ``t``, working days."""
        return t if self.identity else work_time(False, self._cum, self._working, t)

    def add_work(self, t: float, w: float) -> float:
        """Calendar time when ``w`` working days have elapsed after ``t``."""
        if self.identity:
            return t + w
        return add_work(False, self._cum, self._working, self._w_max, t, w)


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
        """Queue for a reviewer (call when :meth:`try_acquire` failed); the returned event
        succeeds when one is assigned."""
        ev = self.env.event()
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
    """One licence application and its random attributes (read at creation from the
    replication's draws by :meth:`fill`, so the same application gets the same draws in
    every policy variant).

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
        u_release: Uniform deciding whether a batch release picks it.
        release_at: Where in a batch release's window it is decided (share).
        prepare: Days from the start of a licence requirement until the file is ready.
        on_decision: Called as ``on_decision(app, approved_tonnes, validity_days)``.
        owner: The owner's handle (an order, or a background stream index).
    """

    __slots__ = (
        "extension_wd",
        "factor",
        "id",
        "info_at",
        "info_response_days",
        "key",
        "on_decision",
        "owner",
        "park_days",
        "partial_fraction",
        "picked",
        "prepare",
        "proc",
        "release_at",
        "release_p",
        "released",
        "resubmit_days",
        "screening_wd",
        "stage",
        "tonnes",
        "u_approve",
        "u_info",
        "u_park",
        "u_partial",
        "u_release",
        "u_return",
        "wake",
        "withdraw_after",
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
        self.u_park = 1.0
        self.park_days: Sequence[float] = ()
        self.extension_wd = 0.0
        self.factor = 1.0  # review speed in use (for re-planning)
        self.u_release = 1.0
        self.release_at = 0.0
        self.prepare = 0.0
        self.withdraw_after = -1.0  # days after submission its buyer withdraws it (-1: never)
        self.stage = Stage.INTAKE  # where it is (what a batch release may act on)
        self.proc: Any = None  # its process
        self.wake: Any = None  # its reviewer request while queued
        self.picked = False  # a batch release picked it
        self.released = False  # released: decided at release_p
        self.release_p = 0.0

    def fill(self, dl: Any, d: int, st: Static) -> Application:
        """Read the application's draws: row ``d`` of the replication's application draws
        ``dl`` (:class:`~simulator.world.draws.DrawLists`); attributes that cannot matter
        in this scenario keep their defaults."""
        self.work_wd = dl.work[d]
        self.screening_wd = dl.screening[d]
        n = st.n_ret
        if n:
            self.u_return = dl.u_return[d * n : (d + 1) * n]
            self.resubmit_days = dl.resubmit[d * n : (d + 1) * n]
        n = st.n_info
        if n:
            self.u_info = dl.u_info[d * n : (d + 1) * n]
            self.info_at = dl.info_at[d * n : (d + 1) * n]
            self.info_response_days = dl.response[d * n : (d + 1) * n]
        self.u_approve = dl.u_approve[d]
        self.u_park = dl.u_park[d]
        n = st.n_park_dists
        if n:
            self.park_days = dl.park_days[d * n : (d + 1) * n]
        self.extension_wd = dl.extension[d]
        self.u_partial = dl.u_partial[d]
        self.partial_fraction = dl.partial[d]
        self.u_release = dl.u_release[d]
        self.release_at = dl.release_at[d]
        self.prepare = dl.prepare[d]
        self.withdraw_after = dl.withdraw_after[d]
        return self


class _NoPolicy:
    current = 0
    changed: Any = None


DEADLINE = object()
"""Value of the wake-up event when the statutory limit, not a reviewer, came first."""
RELEASED = object()
"""Value of the wake-up event when a batch release, not a reviewer, came first."""


class LicensingAuthority:
    """The authority's processes. Components never read YAML or print.

    Args:
        env: SimPy environment.
        st: The compiled scenario (authority settings, policy book, capacity).
        clock: Scalar working-time clock.
        log: Rows of the :data:`~simulator.world.trace.AUTHORITY` log.
    """

    def __init__(
        self,
        env: simpy.Environment,
        st: Static,
        clock: ScalarClock,
        log: list[tuple],
    ) -> None:
        cfg = st.sc.authority
        book = st.book
        self.env = env
        self.st = st
        self.cfg = cfg
        self.clock = clock
        self.book = book
        self.log = log
        self.policy: PolicyController = _NoPolicy()  # type: ignore[assignment]
        self.pool = ReviewerPool(env, cfg.reviewers)
        self.in_review: dict[simpy.Process, Application] = {}
        self.limit = st.limit
        self.rule = DEADLINE_RULES[st.rule]
        self.binding = st.binding
        self.n_submitted = 0
        self.n_decided = 0
        self.n_in_system = 0
        self.n_awaiting_decision = 0
        self._caches = book._cache
        self._p_partial = st.p_partial
        self._intake = st.intake
        self._state = -1  # the policy state in force (-1: none yet)
        self.open: dict[int, Application] = {}  # submitted, not yet decided
        # when a licence last became required for each class (-inf: from the start)
        self.required_since: dict[AppKey, float] = dict.fromkeys(st.class_keys, -math.inf)

    # -- policy hooks ----------------------------------------------------------------
    def effects(self, key: AppKey) -> Resolved:
        """Effects in force now for ``key``."""
        r = self.policy.current
        hit = self._caches[r].get(key)
        return hit if hit is not None else self.book.resolve(r, key)

    def on_regime_change(self, regime: int, reviewers: int) -> None:
        """Apply a new policy state: its ``reviewers`` now; re-plan the reviews in progress
        whose speed changed (work is conserved, time is not); others keep their
        schedule. A licence newly required for a class starts its files' preparation
        clock. Then a batch release that comes into force picks its files."""
        prev, self._state = self._state, regime
        self.pool.set_capacity(reviewers)
        resolve = self.book.resolve
        for proc, app in list(self.in_review.items()):
            if (
                resolve(regime, app.key).review_time_factor != app.factor
                and proc.is_alive
                and proc.target is not None
            ):
                proc.interrupt("policy")
        if self.st.has_prep and prev >= 0:
            for key in self.st.class_keys:
                if (
                    resolve(regime, key).licence_required
                    and not resolve(prev, key).licence_required
                ):
                    self.required_since[key] = self.env.now
        if self.st.any_release and prev >= 0:
            self._pick_releases(prev, regime)

    def on_capacity(self, reviewers: int) -> None:
        """A step of the start-up capacity ramp: ``reviewers`` in force now."""
        self.pool.set_capacity(reviewers)

    def _pick_releases(self, prev: int, regime: int) -> None:
        """Every undecided file waiting on the authority (in application order) whose
        effects now include a release they did not include before is picked if its draw
        is below the release's share; it is released at its point of the window."""
        resolve = self.book.resolve
        for app in self.open.values():
            if app.picked or app.stage not in Stage.RELEASABLE:
                continue
            rel = resolve(regime, app.key).release
            if rel is None or rel == resolve(prev, app.key).release or app.u_release >= rel.share:
                continue
            app.picked = True
            ev = self.env.timeout(app.release_at * rel.within_days)
            ev.callbacks.append(lambda _e, a=app, p=rel.approval_probability: self._release(a, p))

    def _release(self, app: Application, p: float) -> None:
        """A picked file's release: decided now at approval ``p`` if it is still waiting on
        the authority (a file with the applicant, or whose reviewer or deadline has just
        come, goes on as it was). A withdrawal by the buyer is the same path at
        ``p = WITHDRAW_P`` (decided as withdrawn); a file is released at most once."""
        if app.stage not in Stage.RELEASABLE or app.released:
            return
        if app.stage == Stage.QUEUED:
            if app.wake.triggered:
                return
            self.pool.cancel(app.wake)
            app.wake.succeed(RELEASED)
        else:
            app.proc.interrupt("release")
        app.released, app.release_p = True, p
        kind = Ev.WITHDRAW if p < 0.0 else Ev.RELEASE
        self.log.append((self.env.now, kind, app.id, 0.0, p))

    # -- applications ----------------------------------------------------------------
    def submit(self, app: Application) -> None:
        """Start an application's process now (the file is submitted once it is ready)."""
        self.open[app.id] = app
        app.proc = self.env.process(self._life(app))

    def _arm_deadline(self, app: Application, wake: simpy.Event, state: list[Any]) -> None:
        """At the limit (``state[0]``), wake an application still waiting for a reviewer:
        with ``extend``, move the limit once and keep its place in the queue."""

        def fire(_e: Any) -> None:
            if wake.triggered:
                return
            if self.rule == "extend" and not state[1]:
                state[1] = True
                state[0] = self.clock.add_work(self.env.now, app.extension_wd)
                self.log.append((self.env.now, Ev.EXTEND, app.id, 0.0, app.extension_wd))
                self._arm_deadline(app, wake, state)
                return
            self.pool.cancel(wake)
            wake.succeed(DEADLINE)

        ev = self.env.timeout(max(0.0, state[0] - self.env.now))
        ev.callbacks.append(fire)

    def _life(self, app: Application):
        env, clock, log, pool = self.env, self.clock, self.log, self.pool
        if app.prepare > 0:  # the applicant prepares the file after a requirement starts
            ready = self.required_since[app.key] + app.prepare
            if ready > env.now:
                yield env.timeout(ready - env.now)
        self.n_submitted += 1
        self.n_in_system += 1
        log.append((env.now, Ev.SUBMIT, app.id, app.tonnes, 0.0))
        if app.withdraw_after >= 0.0:  # its buyer gives up if it is still waiting then
            ev = env.timeout(app.withdraw_after)
            ev.callbacks.append(lambda _e, a=app: self._release(a, WITHDRAW_P))
        if self._intake:
            returns = 0
            while True:
                if app.screening_wd > 0:
                    yield env.timeout(clock.add_work(env.now, app.screening_wd) - env.now)
                if (
                    returns < len(app.u_return)
                    and app.u_return[returns] < self.effects(app.key).return_probability
                ):
                    log.append((env.now, Ev.RETURN, app.id, 0.0, 0.0))
                    yield env.timeout(app.resubmit_days[returns])
                    returns += 1
                    continue
                break
        t_accept = env.now
        log.append((t_accept, Ev.ACCEPT, app.id, 0.0, 0.0))
        key, ctrl = app.key, self.policy
        # effects in force: looked up again only when the policy state has changed
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
        limit = self.limit if binding else math.inf
        # [deadline, extended]: shared with the deadline timer while queueing
        state: list[Any] = [clock.add_work(t_accept, limit) if binding else math.inf, False]
        outcome_forced: str | None = None
        k_info = 0
        me = env.active_process
        in_review = self.in_review
        released = False
        while True:
            # --- wait for a reviewer (or the deadline, or a batch release)
            if not pool.try_acquire():
                if ctrl.current != r:
                    r = ctrl.current
                    eff = caches[r].get(key) or resolve(r, key)
                wake = app.wake = pool.request(eff.priority)
                app.stage = Stage.QUEUED
                if binding:
                    self._arm_deadline(app, wake, state)
                woken = yield wake
                if woken is DEADLINE:
                    outcome_forced = self.rule
                    break
                if woken is RELEASED:
                    released = True
                    break
            app.stage = Stage.REVIEW
            log.append((env.now, Ev.REVIEW_START, app.id, 0.0, 0.0))
            # --- work until the next information request, completion or deadline
            stop_frac = info_points[k_info] if k_info < n_info else 1.0
            todo = (stop_frac - done_frac) * app.work_wd
            in_review[me] = app
            hit_deadline = False
            while todo > 1e-12:
                if ctrl.current != r:
                    r = ctrl.current
                    eff = caches[r].get(key) or resolve(r, key)
                factor = app.factor = eff.review_time_factor
                t0 = env.now
                t_done = clock.add_work(t0, todo * factor)
                deadline = state[0]
                t_end = t_done if t_done < deadline else deadline
                try:
                    yield env.timeout(t_end - t0)
                except simpy.Interrupt as stop:
                    if stop.cause == "release":
                        released = True
                        break
                    todo -= (clock.work_time(env.now) - clock.work_time(t0)) / factor
                    continue
                if t_end < t_done:
                    todo -= (clock.work_time(env.now) - clock.work_time(t0)) / factor
                    if self.rule == "extend" and not state[1]:
                        state[1] = True
                        state[0] = clock.add_work(env.now, app.extension_wd)
                        log.append((env.now, Ev.EXTEND, app.id, 0.0, app.extension_wd))
                        continue
                    hit_deadline = True
                    break
                todo = 0.0
            del in_review[me]
            done_frac = stop_frac
            pool.release()
            if released:
                break
            if hit_deadline:
                outcome_forced = self.rule
                break
            if k_info < n_info:
                # stop the clock while the applicant answers
                k_info += 1
                used_wd += clock.work_time(env.now) - clock.work_time(clock_start)
                log.append((env.now, Ev.INFO_REQUEST, app.id, used_wd, 0.0))
                app.stage = Stage.APPLICANT
                yield env.timeout(app.info_response_days[k_info - 1])
                clock_start = env.now
                log.append((env.now, Ev.INFO_RESPONSE, app.id, 0.0, 0.0))
                if binding:
                    total = limit + (app.extension_wd if state[1] else 0.0)
                    state[0] = clock.add_work(env.now, total - used_wd)
                continue
            break
        # --- decision: held while suspended, parked first if a rule parks it (a batch
        # release ends either wait and decides at once)
        if ctrl.current != r:
            r = ctrl.current
            eff = caches[r].get(key) or resolve(r, key)
        parked = False  # its parking is used up (a file sits once)
        waiting = False
        while not released:
            if eff.suspend:
                if not waiting:
                    waiting = True
                    self.n_awaiting_decision += 1
                app.stage = Stage.WAITING
                try:
                    yield ctrl.changed
                except simpy.Interrupt:
                    released = True
                    break
                eff = self.effects(key)
                continue
            park = eff.park
            if parked or park is None or app.u_park >= park.probability:
                break
            parked = True
            if not waiting:
                waiting = True
                self.n_awaiting_decision += 1
            app.stage = Stage.WAITING
            try:
                if park.days is not None:
                    days = app.park_days[self.book.park_index(park.days)]
                    log.append((env.now, Ev.PARK, app.id, 0.0, days))
                    yield env.timeout(days)
                else:
                    log.append((env.now, Ev.PARK, app.id, 0.0, -1.0))
                    while True:  # until a policy change stops parking it (or suspends)
                        yield ctrl.changed
                        eff = self.effects(key)
                        park = eff.park
                        if eff.suspend or park is None or app.u_park >= park.probability:
                            break
            except simpy.Interrupt:
                released = True
                break
            eff = self.effects(key)
        if released:
            eff = self.effects(key)
        if waiting:
            self.n_awaiting_decision -= 1
        forced = -1 if outcome_forced is None else DEADLINE_RULES.index(outcome_forced)
        p_approve = app.release_p if released else float(eff.approval_probability)
        approved_t, code = decide(
            app.u_approve,
            p_approve,
            forced,
            app.u_partial,
            self._p_partial,
            app.partial_fraction,
            app.tonnes,
        )
        self.n_decided += 1
        self.n_in_system -= 1
        app.stage = Stage.DONE
        del self.open[app.id]
        log.append((env.now, Ev.DECIDE, app.id, approved_t, code))
        app.on_decision(app, approved_t, eff.licence_validity_days)
