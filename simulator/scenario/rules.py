"""Cross-field rules of the scenario format: one named function per rule, one registry.

A rule looks at a scenario whose fields have each been validated and reports what no
single field can say: a reference to an id that does not exist, two items with the same
id, a date outside the horizon, supplier shares that do not sum to 1, a supply cycle.
Each rule yields ``(path, message, value)``; the path is the data path of the offending
value (``("manufacturers", 2, "suppliers", 0, "exporter")``), which the loader turns
into ``file:line:col``. :func:`check_rules` runs every registered rule once, when
:class:`~simulator.scenario.model.Scenario` is validated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from simulator.errors import MISSING, did_you_mean
from simulator.limits import Limits

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.manufacturers import Part
    from simulator.scenario.model import Scenario

__all__ = ["RULES", "Found", "check_rules", "rule"]

Found = tuple[tuple[Any, ...], str, Any]
"""``(data path, message, offending value)``."""

RULES: dict[str, Callable[[Scenario], Iterable[Found]]] = {}
"""Every cross-field rule by name, in the order they run."""


def rule(fn: Callable[[Scenario], Iterable[Found]]) -> Callable[[Scenario], Iterable[Found]]:
    """Register ``fn`` as a cross-field rule under its name."""
    RULES[fn.__name__] = fn
    return fn


def check_rules(sc: Scenario) -> list[Found]:
    """Run every rule; return what they found (empty when all is well)."""
    out: list[Found] = []
    for fn in RULES.values():
        out.extend(fn(sc))
    return out


def _unknown(path: tuple[Any, ...], value: str, known: Iterable[str], what: str) -> Found:
    allowed = sorted(set(known))
    shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
    hint = did_you_mean(value, allowed)
    return (path, f"unknown {what}{hint} (known: {shown or 'none'})", value)


def _refs(
    path: tuple[Any, ...], values: str | list[str] | None, known: set[str], what: str
) -> Iterator[Found]:
    """Unknown references among ``values`` (one id or a list of them)."""
    if values is None:
        return
    if isinstance(values, str):
        if values not in known:
            yield _unknown(path, values, known, what)
        return
    for k, v in enumerate(values):
        if v not in known:
            yield _unknown((*path, k), v, known, what)


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle in ``graph`` (as the list of nodes, first repeated last), or None."""
    color: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        color[n] = 1
        stack.append(n)
        for nxt in graph.get(n, []):
            if color.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if color.get(nxt) is None and nxt in graph:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        color[n] = 2
        return None

    for n in graph:
        if color.get(n) is None:
            found = visit(n)
            if found:
                return found
    return None


def part_paths(sc: Scenario, i: int) -> Iterator[tuple[Part, tuple[Any, ...]]]:
    """The parts of manufacturer ``i`` with the data path of each part's fields: the
    manufacturer's own path for a one-part line, ``parts[k]`` under it otherwise."""
    m = sc.manufacturers[i]
    base = ("manufacturers", i)
    for k, part in enumerate(m.bill()):
        yield part, ((*base, "parts", k) if m.multi_part else base)


def _count(x: float) -> str:
    """A count for a message: ``12,345``, or ``3e+300`` when it has too many digits."""
    return f"{x:,.0f}" if x < 1e15 else f"{x:.3g}"


def _regime_names(sc: Scenario) -> set[str]:
    return {r.name for r in sc.policy.regimes} | {"neutral"}


def _good_horizon(sc: Scenario) -> bool:
    return sc.start <= sc.end and sc.horizon_days <= Limits.MAX_HORIZON_DAYS


def _in_horizon(sc: Scenario, path: tuple[Any, ...], d: dt.date | None) -> Iterator[Found]:
    # a reversed horizon is reported once (at `end`), not again at every dated field
    if d is not None and sc.start <= sc.end and not (sc.start <= d <= sc.end):
        yield (path, f"date outside the horizon {sc.start} .. {sc.end}", d)


# ------------------------------------------------------------------------------ rules


@rule
def horizon(sc: Scenario) -> Iterator[Found]:
    """``end`` is not before ``start``, the horizon is at most 100 years and lies
    between :attr:`Limits.EARLIEST_DATE` and :attr:`Limits.LATEST_DATE`."""
    if sc.start < Limits.EARLIEST_DATE:
        yield (
            ("start",),
            f"start is before {Limits.EARLIEST_DATE} (Limits.EARLIEST_DATE)",
            sc.start,
        )
    if sc.end > Limits.LATEST_DATE:
        yield (
            ("end",),
            f"end is after {Limits.LATEST_DATE} (Limits.LATEST_DATE): the working-day "
            "calendar must reach 100 years of working days past it",
            sc.end,
        )
    if sc.end < sc.start:
        yield (("end",), f"end is before start ({sc.start})", sc.end)
    elif sc.horizon_days > Limits.MAX_HORIZON_DAYS:
        yield (
            ("end",),
            f"horizon of {sc.horizon_days} days exceeds the limit of "
            f"{Limits.MAX_HORIZON_DAYS} days",
            sc.end,
        )


@rule
def unique_ids(sc: Scenario) -> Iterator[Found]:
    """Ids are unique within countries, products, exporters, lanes and manufacturers;
    regime names are unique and not ``neutral`` (built in)."""
    for key in ("countries", "products", "exporters", "lanes", "manufacturers"):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(sc, key)):
            if item.id in seen:
                yield ((key, i, "id"), f"duplicate id (also {key}[{seen[item.id]}])", item.id)
            seen.setdefault(item.id, i)
    seen_r: dict[str, int] = {}
    for i, r in enumerate(sc.policy.regimes):
        if r.name in seen_r:
            yield (("policy", "regimes", i, "name"), "duplicate regime name", r.name)
        elif r.name == "neutral":
            yield (
                ("policy", "regimes", i, "name"),
                "'neutral' is built in (no rules); choose another name",
                r.name,
            )
        seen_r.setdefault(r.name, i)


@rule
def calendar_overrides(sc: Scenario) -> Iterator[Found]:
    """No date is both an extra holiday and an extra working day."""
    work = set(sc.calendar.extra_workdays)
    for i, d in enumerate(sc.calendar.extra_holidays):
        if d in work:
            yield (
                ("calendar", "extra_holidays", i),
                "date is also in calendar.extra_workdays; a day is either a holiday or a "
                "working day",
                d,
            )


@rule
def goods_references(sc: Scenario) -> Iterator[Found]:
    """Lanes, exporters and background streams name known countries and products."""
    countries = {c.id for c in sc.countries}
    products = {p.id for p in sc.products}
    for i, lane in enumerate(sc.lanes):
        yield from _refs(("lanes", i, "origin"), lane.origin, countries, "country")
        yield from _refs(("lanes", i, "destination"), lane.destination, countries, "country")
    for i, ex in enumerate(sc.exporters):
        yield from _refs(("exporters", i, "country"), ex.country, countries, "country")
        yield from _refs(("exporters", i, "products"), ex.products, products, "product")
    for i, bg in enumerate(sc.authority.background):
        p = ("authority", "background", i)
        yield from _refs((*p, "destination"), bg.destination, countries, "country")
        yield from _refs((*p, "product"), bg.product, products, "product")
    for i, w in enumerate(sc.production.windows):
        yield from _refs(("production", "windows", i, "country"), w.country, countries, "country")


@rule
def general_licences(sc: Scenario) -> Iterator[Found]:
    """General licences name a known exporter and manufacturer and start in the horizon."""
    exporters = {e.id for e in sc.exporters}
    manufacturers = {m.id for m in sc.manufacturers}
    for i, gl in enumerate(sc.authority.general_licences):
        p = ("authority", "general_licences", i)
        yield from _refs((*p, "exporter"), gl.exporter, exporters, "exporter")
        yield from _refs((*p, "customer"), gl.customer, manufacturers, "manufacturer")
        yield from _in_horizon(sc, (*p, "start"), gl.start)


@rule
def supply_links(sc: Scenario) -> Iterator[Found]:
    """Manufacturers name known countries, materials and suppliers; each supplier sells
    the material; a lane exists for every supply link and expedite mode; shares sum
    to 1."""
    countries = {c.id for c in sc.countries}
    products = {p.id for p in sc.products}
    # every source by (kind, id): the country its goods leave from, what it makes
    sources: dict[tuple[str, str], tuple[str, list[str], str]] = {
        ("exporter", e.id): (e.country, list(e.products), f"sells: {', '.join(e.products)}")
        for e in sc.exporters
    }
    for u in sc.manufacturers:
        made = [u.output_product] if u.output_product else []
        sources["manufacturer", u.id] = (
            u.country,
            made,
            f"its output_product is {u.output_product!r}",
        )
    pairs = {(ln.origin, ln.destination) for ln in sc.lanes}
    for i, m in enumerate(sc.manufacturers):
        yield from _refs(("manufacturers", i, "country"), m.country, countries, "country")
        for part, p in part_paths(sc, i):
            yield from _refs((*p, "material"), part.material, products, "product")
            for j, s in enumerate(part.suppliers):
                kind = "exporter" if s.exporter is not None else "manufacturer"
                sid = str(s.exporter if s.exporter is not None else s.manufacturer)
                where = (*p, "suppliers", j, kind)
                source = sources.get((kind, sid))
                if source is None:
                    known = [k for (what, k) in sources if what == kind]
                    yield _unknown(where, sid, known, kind)
                    continue
                origin, makes, what = source
                if part.material not in makes:
                    verb = "sell" if kind == "exporter" else "make"
                    yield (where, f"{kind} does not {verb} {part.material!r} ({what})", sid)
                if (
                    origin in countries
                    and m.country in countries
                    and (origin, m.country) not in pairs
                ):
                    yield (
                        where[:-1],
                        f"no lane from {origin} to {m.country}; add one to `lanes`",
                        MISSING,
                    )
            total = sum(s.share for s in part.suppliers)
            if abs(total - 1.0) > 1e-6:
                yield (
                    (*p, "suppliers"),
                    f"supplier shares must sum to 1 (sum is {total:g})",
                    [s.share for s in part.suppliers],
                )
            if part.expedite is not None:
                modes = {ln.mode for ln in sc.lanes if ln.destination == m.country}
                if part.expedite.mode not in modes:
                    yield (
                        (*p, "expedite", "mode"),
                        f"no {part.expedite.mode} lane into {m.country}",
                        part.expedite.mode,
                    )
            own = [s.exporter for s in part.suppliers if s.exporter is not None]
            for k, ship in enumerate(part.initial_shipments):
                sp = (*p, "initial_shipments", k)
                if ship.exporter is not None and ship.exporter not in own:
                    yield _unknown((*sp, "exporter"), ship.exporter, own, "exporter of this part")
                if ship.stage == "at_exporter" and ship.exporter is None and not own:
                    yield (
                        (*sp, "stage"),
                        "goods at an exporter need a part supplied by an exporter",
                        ship.stage,
                    )
                if ship.day > sc.horizon_days and _good_horizon(sc):
                    yield ((*sp, "day"), f"after the horizon ({sc.horizon_days} days)", ship.day)


@rule
def supply_cycles(sc: Scenario) -> Iterator[Found]:
    """Multi-tier supply has no cycle (a manufacturer cannot supply itself)."""
    graph = {
        m.id: [s.manufacturer for p in m.bill() for s in p.suppliers if s.manufacturer is not None]
        for m in sc.manufacturers
    }
    cyc = _cycle(graph)
    if cyc:
        idx = [m.id for m in sc.manufacturers].index(cyc[0])
        yield (("manufacturers", idx, "suppliers"), "supply cycle: " + " -> ".join(cyc), cyc[0])


@rule
def background_rates(sc: Scenario) -> Iterator[Found]:
    """A stream's dated rate changes are in date order; customs release rates name known
    destinations."""
    for i, bg in enumerate(sc.authority.background):
        dates = [ch.date for ch in bg.rate_changes]
        for k in range(1, len(dates)):
            if dates[k] < dates[k - 1]:
                yield (
                    ("authority", "background", i, "rate_changes", k, "date"),
                    f"rate changes must be in date order (previous is {dates[k - 1]})",
                    dates[k],
                )
    countries = {c.id for c in sc.countries}
    for dest in sc.customs.release_by_destination:
        yield from _refs(("customs", "release_by_destination", dest), dest, countries, "country")


@rule
def regime_references(sc: Scenario) -> Iterator[Found]:
    """Includes, the initial regime, the timeline and the switching chain name known
    regimes; includes have no cycle."""
    pol = sc.policy
    names = _regime_names(sc)
    index = {}
    for i, r in enumerate(pol.regimes):
        index.setdefault(r.name, i)
        yield from _refs(("policy", "regimes", i, "includes"), r.includes, names, "regime")
    cyc = _cycle({r.name: list(r.includes) for r in pol.regimes})
    if cyc:
        yield (
            ("policy", "regimes", index.get(cyc[0], 0), "includes"),
            "regime include cycle: " + " -> ".join(cyc),
            cyc[0],
        )
    yield from _refs(("policy", "initial"), pol.initial, names, "regime")
    for i, ch in enumerate(pol.timeline):
        yield from _refs(("policy", "timeline", i, "regime"), ch.regime, names, "regime")
    sw = pol.switching
    if sw is not None:
        p = ("policy", "switching")
        yield from _refs((*p, "initial"), sw.initial, names, "regime")
        for name in sw.mean_duration_days:
            yield from _refs((*p, "mean_duration_days", name), name, names, "regime")
        for name, row in sw.transitions.items():
            yield from _refs((*p, "transitions", name), name, names, "regime")
            for to in row:
                yield from _refs((*p, "transitions", name, to), to, names, "regime")
        reachable = [to for row in sw.transitions.values() for to, q in row.items() if q > 0]
        for name in dict.fromkeys([*sw.transitions, sw.initial, *reachable]):
            if name in names and name not in sw.mean_duration_days:
                yield (
                    (*p, "mean_duration_days"),
                    f"no mean duration for regime {name!r} (the chain can enter it)",
                    MISSING,
                )


@rule
def policy_dates(sc: Scenario) -> Iterator[Found]:
    """Timeline dates fall in the horizon and are in order; the switching chain starts in
    the horizon."""
    prev = None
    for i, ch in enumerate(sc.policy.timeline):
        p = ("policy", "timeline", i, "date")
        yield from _in_horizon(sc, p, ch.date)
        if prev is not None and ch.date < prev:
            yield (p, f"timeline dates must be in order (previous is {prev})", ch.date)
        prev = ch.date
    sw = sc.policy.switching
    if sw is not None:
        yield from _in_horizon(sc, ("policy", "switching", "start"), sw.start)


@rule
def switching_and_dated_changes(sc: Scenario) -> Iterator[Found]:
    """Under Markov switching, no dated change of policy (a timeline entry, an overlay
    starting or ending) falls on or after the day the chain starts governing: the world
    applies every dated change first and starts the chain only after the last one (at
    the later of ``switching.start`` and that change), so a later timeline entry would be
    overridden at once and a later overlay edge would hold the chain back; both are
    refused rather than silently ignored."""
    sw = sc.policy.switching
    if sw is None or not _good_horizon(sc):
        return
    first = sw.start or sc.start
    where = "policy.switching.start" if sw.start is not None else "the scenario start"
    for i, ch in enumerate(sc.policy.timeline):
        if first <= ch.date <= sc.end:  # outside the horizon: policy_dates says so
            yield (
                ("policy", "timeline", i, "date"),
                f"a dated regime change on or after the day the Markov chain starts "
                f"({first}, {where}) never applies: the chain takes over at the last dated "
                "change and overrides it at once; date it before the chain starts, or start "
                "the chain later (policy.switching.start)",
                ch.date,
            )
    for i, ov in enumerate(sc.policy.overlays):
        edges = [("from", ov.from_)] if ov.from_ > sc.start else []
        edges += [("until", ov.until)] if ov.until < sc.end else []
        for key, d in edges:
            if d >= first:
                yield (
                    ("policy", "overlays", i, key),
                    f"an overlay that starts or ends on or after the day the Markov chain "
                    f"starts ({first}, {where}) would hold the chain back until then (the "
                    "chain starts after the last dated change); end it before the chain "
                    "starts, or use a pulse (policy.pulses)",
                    d,
                )


def _layer_extremes(sc: Scenario) -> tuple[float, float, float, int | None]:
    """Over time, the largest sum of log review-time slow-downs (factors > 1), the
    smallest sum of log speed-ups (factors < 1) and the largest sum of log capacity
    factors of the overlays and pulses in force together (pulses counted as in force over
    their whole window), and the layer whose factor is the most extreme."""
    layers = [*sc.policy.overlays, *sc.policy.pulses]
    edges: list[tuple[dt.date, int, int]] = []  # (day, 0 = leave / 1 = enter, layer)
    for k, ly in enumerate(layers):
        lo = getattr(ly, "from_", None) or sc.start
        hi = getattr(ly, "until", None) or sc.end
        lo, hi = max(lo, sc.start), min(hi, sc.end)
        if lo > hi:
            continue
        edges.append((lo, 1, k))
        edges.append((hi + dt.timedelta(days=1), 0, k))
    edges.sort()
    slow = fast = cap = 0.0
    zeros = 0
    best = [0.0, 0.0, -math.inf]
    worst: tuple[float, int] | None = None
    for _, enter, k in edges:
        ly = layers[k]
        sign = 1 if enter else -1
        f = ly.review_time_factor
        if f is not None:
            slow += sign * math.log(max(f, 1.0))
            fast += sign * math.log(min(f, 1.0))
            if worst is None or abs(math.log(f)) > worst[0]:
                worst = (abs(math.log(f)), k)
        c = ly.capacity_factor
        if c is not None:
            if c == 0:
                zeros += sign
            else:
                cap += sign * math.log(c)
            if c > 0 and (worst is None or abs(math.log(c)) > worst[0]):
                worst = (abs(math.log(c)), k)
        best[0] = max(best[0], slow)
        best[1] = min(best[1], fast)
        if enter and not zeros:
            best[2] = max(best[2], cap)
    return best[0], best[1], (best[2] if edges else 0.0), (worst[1] if worst else None)


@rule
def layered_effects(sc: Scenario) -> Iterator[Found]:
    """With the overlays and pulses that can be in force together layered over a regime,
    the review-time factors still multiply to within 1/:attr:`Limits.MAX_COMBINED_FACTOR`
    .. :attr:`Limits.MAX_COMBINED_FACTOR` and the reviewers after the capacity factors
    stay within :attr:`Limits.MAX_REVIEWERS` (finite factors whose product overflowed
    validated, then failed in run)."""
    pol = sc.policy
    if not pol.overlays and not pol.pulses:
        return
    slow_l, fast_l, cap_l, worst = _layer_extremes(sc)
    if worst is None:
        return
    n_ov = len(pol.overlays)
    path = ("policy", "overlays", worst) if worst < n_ov else ("policy", "pulses", worst - n_ov)
    top = math.log(Limits.MAX_COMBINED_FACTOR) + 1e-9  # a product at the limit is allowed
    reviewers = sc.authority.reviewers
    for name, rules in {"neutral": [], **_flat_rules(sc)}.items():
        fs = [ru.review_time_factor for _, _, ru in rules if ru.review_time_factor is not None]
        caps = [ru.capacity_factor for _, _, ru in rules if ru.capacity_factor is not None]
        slow = math.fsum(math.log(max(f, 1.0)) for f in fs)
        fast = math.fsum(math.log(min(f, 1.0)) for f in fs)
        if slow <= top and slow + slow_l > top:
            yield (
                path,
                f"with the overlays and pulses that can be in force together, reviews in "
                f"regime {name!r} would be {_exp(slow + slow_l)} times slower; the limit is "
                f"{Limits.MAX_COMBINED_FACTOR:g} (Limits.MAX_COMBINED_FACTOR)",
                MISSING,
            )
            return
        if fast >= -top and fast + fast_l < -top:
            yield (
                path,
                f"with the overlays and pulses that can be in force together, reviews in "
                f"regime {name!r} would be {_exp(-(fast + fast_l))} times faster; the limit "
                f"is {Limits.MAX_COMBINED_FACTOR:g} (Limits.MAX_COMBINED_FACTOR)",
                MISSING,
            )
            return
        if 0 in caps:
            continue
        cap = math.fsum(math.log(c) for c in caps)
        effective = math.log(reviewers) + cap + cap_l if reviewers > 0 else -math.inf
        if (
            reviewers > 0
            and math.log(reviewers) + cap <= math.log(Limits.MAX_REVIEWERS)
            and effective > math.log(Limits.MAX_REVIEWERS)
        ):
            yield (
                path,
                f"with the overlays and pulses that can be in force together, regime "
                f"{name!r} would have {_exp(effective)} reviewers ({reviewers} × the capacity "
                f"factors); the limit is {Limits.MAX_REVIEWERS:,} (Limits.MAX_REVIEWERS)",
                MISSING,
            )
            return


def _exp(x: float) -> str:
    """``e**x`` as text, ``inf`` beyond a float's range."""
    return f"{math.exp(x):.3g}" if x < 700 else "inf"


def selector_rules(sc: Scenario) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every rule with a selector, with its data path: regimes' rules, overlays, pulses."""
    for i, r in enumerate(sc.policy.regimes):
        for j, ru in enumerate(r.rules):
            yield ("policy", "regimes", i, "rules", j), ru
    for i, ov in enumerate(sc.policy.overlays):
        yield ("policy", "overlays", i), ov
    for i, pu in enumerate(sc.policy.pulses):
        yield ("policy", "pulses", i), pu


@rule
def rule_selectors(sc: Scenario) -> Iterator[Found]:
    """Rule selectors (in regimes, overlays and pulses) name known destinations, products
    and manufacturers."""
    known = {
        "destination": ({c.id for c in sc.countries}, "country"),
        "product": ({p.id for p in sc.products}, "product"),
        "applicant": ({m.id for m in sc.manufacturers} | {"background"}, "manufacturer"),
    }
    for path, ru in selector_rules(sc):
        for key, (allowed, what) in known.items():
            yield from _refs((*path, "where", key), getattr(ru.where, key), allowed, what)


@rule
def workload(sc: Scenario) -> Iterator[Found]:
    """The expected licence applications (background streams at their highest rate, and
    the most orders the manufacturers' parts can place) and the daily values per series
    of one replication stay within :attr:`Limits.MAX_APPLICATIONS` and
    :attr:`Limits.MAX_DAILY_CELLS`."""
    if not _good_horizon(sc):
        return
    days = sc.horizon_days
    # the highest rate a stream reaches: its busiest month after its largest change
    rates = [
        b.rate_per_wd
        * (max(b.month_factors) if b.month_factors else 1.0)
        * max([1.0, *(ch.factor for ch in b.rate_changes)])
        for b in sc.authority.background
    ]
    background = math.fsum(rates) * days
    orders = 0
    for m in sc.manufacturers:
        for part in m.bill():
            review = getattr(part.replenishment, "review_days", 1)
            orders += -(-days // review) * len(part.suppliers)
    expected = background + orders
    if expected > Limits.MAX_APPLICATIONS:
        where = ("authority", "background") if background >= orders else ("manufacturers",)
        yield (
            where,
            f"up to {_count(expected)} licence applications per replication ({_count(background)} "
            f"background: the streams' highest rates × {days} days; up to {orders:,} orders "
            f"of the manufacturers) exceeds the limit of {Limits.MAX_APPLICATIONS:,} "
            "(Limits.MAX_APPLICATIONS)",
            sum(rates) if background >= orders else MISSING,
        )
    width = len(sc.manufacturers) + len(sc.countries)
    if days * width > Limits.MAX_DAILY_CELLS:
        yield (
            ("end",),
            f"{days} days × {width} manufacturers and countries = {days * width:,} daily "
            f"values per series exceeds the limit of {Limits.MAX_DAILY_CELLS:,} "
            "(Limits.MAX_DAILY_CELLS); shorten the horizon",
            sc.end,
        )


@rule
def regime_changes(sc: Scenario) -> Iterator[Found]:
    """The Markov chain changes regime at most :attr:`Limits.MAX_REGIME_CHANGES` times
    per replication in expectation (days it governs / shortest mean holding time of a
    regime it can enter)."""
    sw = sc.policy.switching
    if sw is None or not _good_horizon(sc) or not sw.mean_duration_days:
        return
    first = sw.start or sc.start
    if not sc.start <= first <= sc.end:
        return  # reported by policy_dates
    days = (sc.end - first).days + 1
    states = {sw.initial, *sw.transitions}
    states |= {to for row in sw.transitions.values() for to, q in row.items() if q > 0}
    means = {n: d for n, d in sw.mean_duration_days.items() if n in states and d > 0}
    if not means:
        return
    name = min(means, key=lambda n: means[n])
    expected = days / means[name]
    if expected > Limits.MAX_REGIME_CHANGES:
        yield (
            ("policy", "switching", "mean_duration_days", name),
            f"about {_count(expected)} regime changes per replication ({days} days / this "
            f"mean holding time) exceeds the limit of {Limits.MAX_REGIME_CHANGES:,} "
            "(Limits.MAX_REGIME_CHANGES); use longer holding times",
            means[name],
        )


def _flat_rules(sc: Scenario) -> dict[str, list[tuple[int, int, Any]]]:
    """Every regime's rules as the world applies them: its includes' (recursively, in
    order) then its own, each as ``(regime index, rule index, rule)``."""
    regimes = sc.policy.regimes
    index = {r.name: i for i, r in enumerate(regimes)}

    def flat(name: str, seen: tuple[str, ...]) -> list[tuple[int, int, Any]]:
        if name in seen or name not in index:  # cycles and unknown names are reported
            return []
        i = index[name]
        out = [x for inc in regimes[i].includes for x in flat(inc, (*seen, name))]
        return out + [(i, j, ru) for j, ru in enumerate(regimes[i].rules)]

    return {r.name: flat(r.name, ()) for r in regimes}


@rule
def regime_effects(sc: Scenario) -> Iterator[Found]:
    """Multiplied over a regime's rules (its includes' too), the reviewers after
    ``capacity_factor`` stay within :attr:`Limits.MAX_REVIEWERS`, and the review-time
    factors stay within 1/:attr:`Limits.MAX_COMBINED_FACTOR` ..
    :attr:`Limits.MAX_COMBINED_FACTOR`."""
    reviewers = sc.authority.reviewers
    top = Limits.MAX_COMBINED_FACTOR
    for name, rules in _flat_rules(sc).items():
        caps = [(i, j, ru.capacity_factor) for i, j, ru in rules if ru.capacity_factor is not None]
        if caps:
            factor = math.prod(c for _, _, c in caps)
            effective = reviewers * factor if math.isfinite(factor) else math.inf
            if not math.isfinite(effective) or effective > Limits.MAX_REVIEWERS:
                i, j, c = caps[-1]
                yield (
                    ("policy", "regimes", i, "rules", j, "capacity_factor"),
                    f"regime {name!r} would have {effective:.3g} reviewers ({reviewers} × "
                    f"its capacity factors); the limit is {Limits.MAX_REVIEWERS:,} "
                    "(Limits.MAX_REVIEWERS)",
                    c,
                )
        factors = [(i, j, ru.review_time_factor) for i, j, ru in rules]
        factors = [(i, j, f) for i, j, f in factors if f is not None]
        slow = math.prod(max(f, 1.0) for _, _, f in factors)
        fast = math.prod(min(f, 1.0) for _, _, f in factors)
        if slow > top or fast < 1.0 / top:
            i, j, f = max(factors, key=lambda x: abs(math.log(x[2])))
            what = f"{slow:.3g} times slower" if slow > top else f"{1 / fast:.3g} times faster"
            yield (
                ("policy", "regimes", i, "rules", j, "review_time_factor"),
                f"the review-time factors of regime {name!r} multiply to reviews {what}; "
                f"the limit is {top:g} either way (Limits.MAX_COMBINED_FACTOR)",
                f,
            )


@rule
def quantities(sc: Scenario) -> Iterator[Found]:
    """Products of finite fields stay finite and within :attr:`Limits.MAX_TONNES`: each
    part's daily demand (``units_per_day`` × its ``kg_per_unit``) and a manufacturer's
    daily output (``units_per_day`` × ``output_kg_per_unit``)."""
    for i, m in enumerate(sc.manufacturers):
        checks = [(part.kg_per_unit, (*path, "kg_per_unit"), "demand") for part, path in
                  part_paths(sc, i)]  # fmt: skip
        if m.output_product:
            checks.append(
                (m.output_kg_per_unit, ("manufacturers", i, "output_kg_per_unit"), "output")
            )
        for per_unit, path, what in checks:
            tonnes = m.units_per_day * per_unit / 1000.0
            if not math.isfinite(tonnes) or tonnes > Limits.MAX_TONNES:
                yield (
                    path,
                    f"daily {what} of {tonnes:.3g} t (units_per_day × {path[-1]} / 1000) "
                    f"exceeds the limit of {Limits.MAX_TONNES:g} t (Limits.MAX_TONNES)",
                    per_unit,
                )
