"""The draw table: every source of randomness of a replication, declared once, and the one
function that fills a replication's draws.

Both engines read the same arrays: the SimPy engine (:mod:`simulator.world.world`) and the
compiled kernel (:mod:`simulator.kernel`) draw nothing themselves. "Same streams, same
blocks" is therefore true by construction, and a new source of randomness is one row of
:data:`DRAWS` (plus the code that reads it).

Streams. Every draw comes from a named generator of the replication
(:class:`~simulator.world.rng.Streams`): the name is the *source* (a background stream, a
manufacturer's part, an exporter–part pair, a lane–part pair, a manufacturer, the regime
chain, a pulse) and the *attribute*, never a position, so two scenarios that share a
source see the same draws for it (common random numbers) whatever else differs. Values
are drawn in blocks of :data:`~simulator.world.sampling.BLOCK` and handed out in order.

Families (what a draw is made per):

* ``application`` — each licence application of a *source*: a background stream or a
  part (its orders and pipeline goods), from ``app/<source>/<attribute>``; the i-th
  application of source ``s`` reads row ``src_base[s] + i``;
* ``shipment`` — each shipment of a source that goes through Chinese customs, from
  ``goods/<source>/<attribute>``; the i-th such shipment reads row ``src_base[s] + i``;
* ``lead`` — each order an exporter makes for a part (``exporter/<exporter>/<part>``);
* ``transit`` — each departure on a lane for a part (``transit/<lane>/<part>``);
* ``background`` — a background stream's contract times and tonnes;
* ``demand`` — a manufacturer's daily demand multiplier;
* ``policy`` — the regime chain and the pulses: the *policy path*, every change of
  policy state with its time (:func:`simulator.world.policy.policy_path`).

A source has at most :attr:`~simulator.world.static.Static.part_bound` applications and
shipments (background: its contracts), so each block of draws is drawn up to that bound;
an attribute whose probability is zero everywhere is not drawn (its default is used; each
attribute has its own stream, so skipping one never shifts another).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from simulator.world.background import arrival_times, restocked
from simulator.world.policy import STATE, PolicyPath, policy_path
from simulator.world.rng import Streams
from simulator.world.sampling import demand_noise, draw_blocks, uniform_blocks

if TYPE_CHECKING:  # pragma: no cover
    from simulator.world.static import Static

__all__ = ["DRAWS", "FLOAT_DRAWS", "INT_DRAWS", "Draw", "DrawLists", "Draws", "fill_draws"]

Family = Literal["application", "shipment", "lead", "transit", "background", "demand", "policy"]


@dataclass(frozen=True)
class Draw:
    """One source of randomness.

    Attributes:
        name: Its name in a replication's :class:`Draws`.
        family: What it is drawn per (see the module docstring).
        stream: The stream's name under the source (``u_approve``, ...); for a family
            with one stream per distribution, the prefix (``park_days`` →
            ``park_days/0``, ``park_days/1``, ...).
        dist: The distribution, given the compiled scenario and the source (None: a
            uniform on [0, 1)); for a per-distribution draw, the list of them.
        width: Values per application or shipment (1; the most intake returns; the most
            information requests; one per distribution).
        used: Whether it can matter (else it is not drawn and ``default`` is used).
        default: Its value when not drawn.
        doc: What it decides, with its unit.
    """

    name: str
    family: Family
    stream: str
    dist: Callable[[Static, int], Any] | None
    width: Callable[[Static], int]
    used: Callable[[Static, int], bool]
    default: float
    doc: str
    per_distribution: bool = False


def _one(st: Static) -> int:
    return 1


def _always(st: Static, k: int) -> bool:
    return True


def _auth(path: str) -> Callable[[Static, int], Any]:
    def get(st: Static, k: int) -> Any:
        obj: Any = st.sc.authority
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj

    return get


def _share_controlled(st: Static, k: int) -> float:
    """The share of background stream ``k``'s shipments that need a licence."""
    b = st.sc.authority.background[k]
    return next(float(p.controlled_share) for p in st.sc.products if p.id == b.product)


def _partly_controlled(st: Static, k: int) -> bool:
    """Whether background stream ``k`` (``k`` >= 0) ships grades without a licence."""
    return k >= 0 and _share_controlled(st, k) < 1.0


def _withdraws(st: Static, k: int) -> bool:
    """Whether source ``k``'s buyers may withdraw files (a background stream, when the
    authority declares ``withdrawal``; parts never: the modelled plants keep their
    orders)."""
    return k >= 0 and st.any_withdraw


def _bg(field: str) -> Callable[[Static, int], Any]:
    return lambda st, k: getattr(st.sc.authority.background[k], field)


DRAWS: tuple[Draw, ...] = (
    # --- per application (authority.*)
    Draw(
        "work",
        "application",
        "work",
        _auth("review_work_wd"),
        _one,
        _always,
        1.0,
        "reviewer effort at normal speed, working days",
    ),
    Draw(
        "screening",
        "application",
        "screening",
        _auth("intake.screening_wd"),
        _one,
        lambda st, k: st.screening_used,
        0.0,
        "intake screening, working days",
    ),
    Draw(
        "u_return",
        "application",
        "u_return",
        None,
        lambda st: st.n_ret,
        _always,
        0.0,
        "decides each intake return",
    ),
    Draw(
        "resubmit",
        "application",
        "resubmit",
        _auth("intake.resubmit_days"),
        lambda st: st.n_ret,
        _always,
        0.0,
        "the applicant's resubmission delays, days",
    ),
    Draw(
        "u_info",
        "application",
        "u_info",
        None,
        lambda st: st.n_info,
        _always,
        0.0,
        "decides each information request",
    ),
    Draw(
        "info_at",
        "application",
        "info_at",
        None,
        lambda st: st.n_info,
        _always,
        0.0,
        "share of the review work done when each request is raised",
    ),
    Draw(
        "response",
        "application",
        "response",
        _auth("information_requests.response_days"),
        lambda st: st.n_info,
        _always,
        0.0,
        "the applicant's answer delays, days",
    ),
    Draw("u_approve", "application", "u_approve", None, _one, _always, 0.0, "decides approval"),
    Draw(
        "u_park",
        "application",
        "u_park",
        None,
        _one,
        lambda st, k: st.any_park,
        1.0,
        "decides parking",
    ),
    Draw(
        "park_days",
        "application",
        "park_days",
        lambda st, k: st.book.park_dists,
        lambda st: st.n_park_dists,
        lambda st, k: st.any_park,
        0.0,
        "how long a parked file sits, per parking distribution, days",
        per_distribution=True,
    ),
    Draw(
        "extension",
        "application",
        "extension",
        _auth("deadline_extension_wd"),
        _one,
        lambda st, k: st.has_extend,
        0.0,
        "extension of the statutory limit, working days",
    ),
    Draw(
        "u_partial",
        "application",
        "u_partial",
        None,
        _one,
        lambda st, k: st.any_partial,
        1.0,
        "decides a partial approval",
    ),
    Draw(
        "partial",
        "application",
        "partial_fraction",
        _auth("approval.partial_fraction"),
        _one,
        lambda st, k: st.any_partial,
        1.0,
        "share approved if partial",
    ),
    Draw(
        "prepare",
        "application",
        "prepare",
        _auth("startup.preparation_days"),
        _one,
        lambda st, k: st.has_prep,
        0.0,
        "days from the start of a licence requirement until the applicant's file is ready",
    ),
    Draw(
        "u_release",
        "application",
        "u_release",
        None,
        _one,
        lambda st, k: st.any_release,
        1.0,
        "decides whether a batch release picks the file",
    ),
    Draw(
        "release_at",
        "application",
        "release_at",
        None,
        _one,
        lambda st, k: st.any_release,
        0.0,
        "where in a batch release's window the file is decided (share of the window)",
    ),
    Draw(
        "u_withdraw",
        "application",
        "u_withdraw",
        None,
        _one,
        lambda st, k: _withdraws(st, k),
        1.0,
        "decides whether the buyer withdraws a file still waiting (authority.withdrawal)",
    ),
    Draw(
        "withdraw_after",
        "application",
        "withdraw_after",
        _auth("withdrawal.after_days"),
        _one,
        lambda st, k: _withdraws(st, k),
        -1.0,
        "days from submission until the buyer withdraws a waiting file; after the fill, "
        "-1 where the buyer does not (its u_withdraw not below the probability)",
    ),
    # --- per shipment through Chinese customs
    Draw(
        "handling",
        "shipment",
        "handling",
        lambda st, k: st.sc.customs.handling_days,
        _one,
        _always,
        0.0,
        "customs handling, days",
    ),
    Draw("u_hold", "shipment", "u_hold", None, _one, _always, 0.0, "decides customs holds"),
    Draw(
        "hold_days",
        "shipment",
        "hold_days",
        lambda st, k: st.sc.customs.hold_days,
        _one,
        lambda st, k: st.sc.customs.hold_days is not None,
        -1.0,
        "days a held shipment stays held before it leaks out (customs.hold_days; -1: "
        "until the hold ends)",
    ),
    Draw(
        "uncontrolled",
        "shipment",
        "u_controlled",
        None,
        _one,
        lambda st, k: _partly_controlled(st, k),
        0.0,
        "decides whether a background shipment's grade needs a licence (product "
        "controlled_share); after the fill, 1 where it needs none, else 0",
    ),
    Draw("u_inspect", "shipment", "u_inspect", None, _one, _always, 0.0, "decides inspections"),
    Draw(
        "production",
        "shipment",
        "production",
        _bg("production_days"),
        _one,
        lambda st, k: k >= 0,
        0.0,
        "a background contract's production time, days",
    ),
    Draw(
        "u_made",
        "shipment",
        "u_made",
        None,
        _one,
        lambda st, k: k >= 0 and st.paced,
        0.0,
        "decides whether a background contract due to be made on a day of pace below 1 is "
        "made (production.windows); the rest lapse",
    ),
    Draw(
        "transit_bg",
        "shipment",
        "transit",
        _bg("transit_days"),
        _one,
        lambda st, k: k >= 0,
        0.0,
        "a background contract's transit time, days",
    ),
    Draw(
        "inspection",
        "shipment",
        "inspection",
        lambda st, k: st.book.inspection_dists,
        lambda st: st.n_insp_dists,
        _always,
        0.0,
        "extra time at customs if inspected, per inspection distribution, days",
        per_distribution=True,
    ),
    # --- per exporter-part and lane-part pair, background stream, manufacturer, policy
    Draw(
        "lead",
        "lead",
        "exporter",
        None,
        _one,
        _always,
        0.0,
        "an exporter's lead time after production, days (exporters.lead_time_days)",
    ),
    Draw(
        "transit",
        "transit",
        "transit",
        None,
        _one,
        _always,
        0.0,
        "a lane's transit time, days (lanes.transit_days)",
    ),
    Draw(
        "bg_t",
        "background",
        "arrivals",
        None,
        _one,
        _always,
        0.0,
        "background contract times, days since start (Poisson in working time)",
    ),
    Draw(
        "bg_tonnes",
        "background",
        "tonnes",
        None,
        _one,
        _always,
        0.0,
        "background contract sizes, tonnes (background.tonnes)",
    ),
    Draw(
        "noise",
        "demand",
        "demand",
        None,
        _one,
        _always,
        1.0,
        "daily demand multiplier, gamma with mean 1 and cv demand_cv",
    ),
    Draw(
        "pol_t",
        "policy",
        "regime, pulse/<k>/off, pulse/<k>/on",
        None,
        _one,
        _always,
        0.0,
        "times of the changes of policy state, days since start",
    ),
)
"""Every source of randomness of a replication."""

FLOAT_DRAWS: tuple[str, ...] = tuple(d.name for d in DRAWS if d.family != "demand")
"""Float draws, concatenated in this order in :attr:`Draws.F` (demand noise apart)."""
INT_DRAWS = (
    "src_base",
    "lead_base",
    "transit_base",
    "bg_k",
    "pol_prio",
    "pol_kind",
    "pol_state",
    "pol_cap",
)
"""Integer inputs, concatenated in :attr:`Draws.I`: each source's first row of
application and shipment draws, each lead and transit pair's first draw, the stream of
each background contract (in time order), and the priority, kind, new state and
reviewers in force of each policy change."""

_BY_FAMILY = {f: [d for d in DRAWS if d.family == f] for f in ("application", "shipment")}
_LOCK = threading.Lock()
"""Held while a replication's policy path is computed (it adds states to the shared
policy book)."""


@dataclass
class Draws:
    """One replication's draws (see the module docstring).

    Attributes:
        F: Float draws, :data:`FLOAT_DRAWS` concatenated.
        I: Integer inputs, :data:`INT_DRAWS` concatenated.
        offset: Where each name starts in ``F`` or ``I``.
        noise: Daily demand multipliers, (days, manufacturers).
        policy: The policy path.
        n_sources: Background streams + parts.
        n_arr: Background contracts.
    """

    F: np.ndarray
    I: np.ndarray  # noqa: E741
    offset: dict[str, int]
    size: dict[str, int]
    noise: np.ndarray
    policy: PolicyPath
    n_sources: int
    n_arr: int

    def f(self, name: str) -> np.ndarray:
        """The float draws ``name`` (a view)."""
        o = self.offset[name]
        return self.F[o : o + self.size[name]]

    def i(self, name: str) -> np.ndarray:
        """The integer inputs ``name`` (a view)."""
        o = self.offset[name]
        return self.I[o : o + self.size[name]]


class DrawLists:
    """A replication's draws as Python lists, one attribute per name of
    :data:`FLOAT_DRAWS` and :data:`INT_DRAWS` (the SimPy engine reads them one value at a
    time, and list items are plain floats: faster than numpy scalars).

    Args:
        dr: The replication's draws.
    """

    def __init__(self, dr: Draws) -> None:
        for name in FLOAT_DRAWS:
            setattr(self, name, dr.f(name).tolist())
        for name in INT_DRAWS:
            setattr(self, name, dr.i(name).tolist())
        self.n_sources = dr.n_sources
        self.n_arr = dr.n_arr

    def __getattr__(self, name: str) -> Any:  # for type checkers: every name is set above
        raise AttributeError(name)


def _source_block(d: Draw, st: Static, streams: Streams, name: Any, k: int, n: int) -> np.ndarray:
    """Draw ``d`` for ``n`` applications or shipments of one source (``k``: background
    stream index, -1 for a part)."""
    w = d.width(st)
    if not d.used(st, k):
        return np.full(n * w, d.default)

    def gen(attr: str) -> Callable[[], np.random.Generator]:
        if d.family == "application":
            return lambda: streams.get("app", name, attr)
        return lambda: streams.get("goods", *name, attr)

    if d.per_distribution:
        out = np.zeros((n, w))
        for j, dist in enumerate(d.dist(st, k)):  # type: ignore[misc]
            out[:, j] = draw_blocks(dist, gen(f"{d.stream}/{j}"), n)
        return out.ravel()
    if d.dist is None:
        return uniform_blocks(gen(d.stream), n * w)
    return draw_blocks(d.dist(st, k), gen(d.stream), n * w)


def _demand_by_day(st: Static, path: Any, H: int) -> list[np.ndarray]:
    """Per background stream, the policy's ``demand_factor`` in force on each day (the
    state at the day's start, from the replication's policy path), with what its
    ``restock`` brings back (:func:`simulator.world.background.restocked`)."""
    changes = [(t, s) for t, k, s in zip(path.t, path.kind, path.state, strict=True) if k == STATE]
    t = np.array([c[0] for c in changes], dtype=np.float64)
    s = np.array([c[1] for c in changes], dtype=np.int64)
    i = np.searchsorted(t, np.arange(H, dtype=np.float64), side="right") - 1
    state = np.where(i < 0, path.state0, s[np.clip(i, 0, None)] if s.size else path.state0)
    states, which = np.unique(state, return_inverse=True)
    out = []
    bg = st.sc.authority.background
    for k in range(len(st.bg_names)):
        key = st.class_keys[int(st.bg_class[k])]
        res = [st.book.resolve(int(x), key) for x in states]
        factor = np.array([r.demand_factor for r in res], dtype=np.float64)[which]
        if any(r.restock is not None for r in res):
            share = np.array(
                [float(r.restock.share) if r.restock else 0.0 for r in res], dtype=np.float64
            )[which]
            over = np.array(
                [float(r.restock.over_days) if r.restock else 1.0 for r in res],
                dtype=np.float64,
            )[which]
            factor = restocked(bg[k], st.cal, H, factor, share, over)
        out.append(factor)
    return out


def fill_draws(st: Static, seed: int, rep: int) -> Draws:
    """Every draw of replication ``rep`` of ``seed`` (see the module docstring)."""
    sc = st.sc
    H = st.H
    streams = Streams(seed, rep)
    streams.prepare(_paths(st))
    bg = list(sc.authority.background)

    # --- the policy path (regime chain, pulses): changes of state and their times
    with _LOCK:
        path = policy_path(st, streams.get)

    # --- background contracts: times (all streams merged, stable) and tonnes
    times, idx = [], []
    demand = _demand_by_day(st, path, H) if st.book.any_demand else [None] * len(bg)
    for k, b in enumerate(bg):
        g = streams.get("background", *st.bg_names[k], "arrivals")
        t = arrival_times(b, st.cal, H, g, demand[k])
        times.append(t)
        idx.append(np.full(t.size, k, dtype=np.int64))
    if times and sum(t.size for t in times):
        t_all, k_all = np.concatenate(times), np.concatenate(idx)
        order = np.argsort(t_all, kind="stable")
        bg_t, bg_k = t_all[order], k_all[order]
    else:
        bg_t, bg_k = np.zeros(0), np.zeros(0, dtype=np.int64)
    n_bg = np.array([t.size for t in times], dtype=np.int64)
    bg_tonnes = np.zeros(bg_t.size)
    for k, b in enumerate(bg):
        g = streams.get("background", *st.bg_names[k], "tonnes")
        bg_tonnes[bg_k == k] = draw_blocks(b.tonnes, g, int(n_bg[k]))  # in arrival order

    # --- per application and per shipment, source by source
    sources: list[tuple[str, tuple[str, ...], int]] = [
        ("bg/" + "/".join(n), ("bg", *n), k) for k, n in enumerate(st.bg_names)
    ]
    sources += [(f"mfr/{n}", ("mfr", n), -1) for n in st.part_names]
    bounds = np.concatenate([n_bg, st.part_bound]).astype(np.int64)
    src_base = np.concatenate([[0], np.cumsum(bounds)]).astype(np.int64)
    floats: dict[str, np.ndarray] = {}
    for fam in ("application", "shipment"):
        for d in _BY_FAMILY[fam]:
            blocks = [
                _source_block(d, st, streams, app if fam == "application" else ship, k, int(n))
                for (app, ship, k), n in zip(sources, bounds, strict=True)
            ]
            floats[d.name] = np.concatenate(blocks) if blocks else np.zeros(0)

    # --- withdrawals: one value per file, -1 where its buyer does not withdraw
    if st.any_withdraw:
        p = float(sc.authority.withdrawal.probability)  # type: ignore[union-attr]
        p_row = np.repeat(np.array([p] * len(bg) + [0.0] * len(st.part_names)), bounds)
        floats["withdraw_after"] = np.where(
            floats["u_withdraw"] < p_row, floats["withdraw_after"], -1.0
        )

    # --- grades without the controlled elements: 1 where a shipment needs no licence
    share = [_share_controlled(st, k) for k in range(len(bg))]
    if any(x < 1.0 for x in share):
        share_row = np.repeat(np.array(share + [1.0] * len(st.part_names)), bounds)
        u = floats["uncontrolled"]
        floats["uncontrolled"] = np.where(u < share_row, 0.0, 1.0)

    # --- lead times per (exporter, part); transit times per (lane, part)
    lead, lead_base = [], [0]
    for e, p in st.lead_pairs:
        ex = sc.exporters[e]
        g = _lazy(streams, "exporter", ex.id, *st.part_stream[p])
        lead.append(draw_blocks(ex.lead_time_days, g, H + 1))
        lead_base.append(lead_base[-1] + H + 1)
    transit, transit_base = [], [0]
    for i, p in st.transit_pairs:
        ln = sc.lanes[i]
        n = int(st.part_bound[p]) + H + 1
        transit.append(
            draw_blocks(ln.transit_days, _lazy(streams, "transit", ln.id, *st.part_stream[p]), n)
        )
        transit_base.append(transit_base[-1] + n)

    floats.update(
        lead=_cat(lead),
        transit=_cat(transit),
        bg_t=np.asarray(bg_t, dtype=np.float64),
        bg_tonnes=bg_tonnes,
        pol_t=np.array(path.t, dtype=np.float64),
    )
    ints = {
        "src_base": src_base,
        "lead_base": np.array(lead_base, dtype=np.int64),
        "transit_base": np.array(transit_base, dtype=np.int64),
        "bg_k": np.asarray(bg_k, dtype=np.int64),
        "pol_prio": np.array(path.prio, dtype=np.int64),
        "pol_kind": np.array(path.kind, dtype=np.int64),
        "pol_state": np.array(path.state, dtype=np.int64),
        "pol_cap": np.array(path.capacity, dtype=np.int64),
    }
    offset: dict[str, int] = {}
    size: dict[str, int] = {}
    for names, values in ((FLOAT_DRAWS, floats), (INT_DRAWS, ints)):
        pos = 0
        for name in names:
            offset[name] = pos
            size[name] = int(values[name].size)
            pos += size[name]
    F = np.concatenate([np.asarray(floats[n], dtype=np.float64).ravel() for n in FLOAT_DRAWS])
    I = np.concatenate([np.asarray(ints[n], dtype=np.int64).ravel() for n in INT_DRAWS])  # noqa: E741
    return Draws(
        F=F,
        I=I,
        offset=offset,
        size=size,
        noise=demand_noise(sc.manufacturers, streams, H),
        policy=path,
        n_sources=int(src_base.size - 1),
        n_arr=int(bg_t.size),
    )


def _paths(st: Static) -> list[tuple[str, ...]]:
    """The streams :func:`fill_draws` may draw from (seeded together by
    :meth:`~simulator.world.rng.Streams.prepare`; one not listed is seeded on its own,
    one listed and not drawn from costs nothing else): the names of
    :func:`_source_block` for every source and draw in use, the background streams'
    arrivals and tonnes, the lead-time and transit streams and the demand noise."""
    sc = st.sc
    out: list[tuple[str, ...]] = []
    sources = [
        (("app", "bg/" + "/".join(n)), ("goods", "bg", *n), k) for k, n in enumerate(st.bg_names)
    ]
    sources += [(("app", f"mfr/{n}"), ("goods", "mfr", n), -1) for n in st.part_names]
    for fam in ("application", "shipment"):
        for d in _BY_FAMILY[fam]:
            for app, ship, k in sources:
                if not d.used(st, k):
                    continue
                head = app if fam == "application" else ship
                if d.per_distribution:
                    n = len(d.dist(st, k))  # type: ignore[misc]
                    out += [(*head, f"{d.stream}/{j}") for j in range(n)]
                else:
                    out.append((*head, d.stream))
    for names in st.bg_names:
        out += [("background", *names, "arrivals"), ("background", *names, "tonnes")]
    out += [("exporter", sc.exporters[e].id, *st.part_stream[p]) for e, p in st.lead_pairs]
    out += [("transit", sc.lanes[i].id, *st.part_stream[p]) for i, p in st.transit_pairs]
    out += [("demand", m.id) for m in sc.manufacturers if m.demand_cv > 0]
    return out


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


def _lazy(streams: Streams, *names: str) -> Callable[[], np.random.Generator]:
    """A generator made only if something is drawn from it (seeding one costs ~20 µs)."""
    return lambda: streams.get(*names)


def describe() -> list[dict[str, str]]:
    """The draw table as rows (name, family, stream, what it decides) for documentation."""
    return [{"name": d.name, "family": d.family, "stream": d.stream, "doc": d.doc} for d in DRAWS]
