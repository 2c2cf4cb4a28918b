"""Parameters of a sweep or a fit: scenario paths with ranges, and how a point of them
becomes a set of ``--set``-style overrides.

A :class:`Param` is a path into the scenario (as ``relsim run --set`` takes it) with a
range and a distribution over it. It comes from ``--param PATH=LOW:HIGH[:N]``
(:func:`parse_param`), from a scenario's ``uncertainties:`` block
(:func:`from_uncertainty`) or from a targets file's ``parameters:`` (:func:`from_fit_parameter`),
and is checked against the scenario by :func:`resolve`, which also reads the scenario's
own value of each path (its *nominal* value: the base of a one-at-a-time design, the
start of a fit).

Numbers are handled as *coordinates*: numbers as they are, dates as day numbers
(:meth:`datetime.date.toordinal`). Integer fields, dates and durations are rounded to
whole numbers.

Overlay windows: an overlay has ``from`` and ``until`` (inclusive) but no duration, so

* ``policy.overlays.<i>.duration_days`` (calendar days, ≥ 1) is a *derived* parameter:
  it sets ``until = from + duration − 1`` (with ``from`` as swept, or as written);
* sweeping an overlay's ``from`` alone moves the whole window: ``until`` follows so that
  the duration stays as written (sweep ``until`` or ``duration_days`` too to change it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.errors import Problem, ScenarioError
from simulator.limits import Limits
from simulator.scenario.compose import override_tokens, parse_set_option

if TYPE_CHECKING:  # pragma: no cover
    from simulator.explore.targets import Parameter
    from simulator.scenario.model import Scenario
    from simulator.scenario.uncertainties import Uncertainty

__all__ = [
    "DURATION",
    "PARAM_SYNTAX",
    "Param",
    "canonical_tokens",
    "from_fit_parameter",
    "from_uncertainty",
    "parse_param",
    "point_overrides",
    "resolve",
]

PARAM_SYNTAX = "PATH=LOW:HIGH[:N]"
"""How ``--param`` is written (``N``: levels of a grid design)."""
DURATION = "duration_days"
"""Last part of the derived path ``policy.overlays.<i>.duration_days``."""
SHAPES = ("uniform", "loguniform", "triangular", "normal")
"""Distributions over a parameter's range (see :mod:`simulator.scenario.uncertainties`)."""


@dataclass(frozen=True)
class Param:
    """A scenario value to move, with its range.

    Attributes:
        path: Dotted path as written (``--set`` syntax).
        low: Lowest value, as a coordinate (dates: day numbers).
        high: Highest value, as a coordinate, above ``low``.
        kind: ``float``, ``int`` or ``date`` (set by :func:`resolve` from the field).
        shape: ``uniform``, ``loguniform``, ``triangular`` or ``normal`` (truncated).
        mode: Mode of a triangular shape (coordinate).
        mean: Mean of a normal shape (coordinate).
        sd: Standard deviation of a normal shape.
        levels: Grid levels (None: the design's default).
        label: Label for figures ('' : the path).
        origin: Where it was declared (``--param TEXT``, ``file:line:col``), for messages.
        nominal: The scenario's own value as a coordinate (None: not set in the scenario).
        window: For an overlay's ``from`` or ``duration_days``: that overlay's ``from`` and
            ``until`` as written, as day numbers.
    """

    path: str
    low: float
    high: float
    kind: str = "float"
    shape: str = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    levels: int | None = None
    label: str = ""
    origin: str = ""
    nominal: float | None = None
    window: tuple[int, int] | None = field(default=None, compare=False)

    # ----------------------------------------------------------------------- paths
    @cached_property
    def tokens(self) -> tuple[str, ...]:
        """The path split as ``--set`` reads it."""
        return tuple(override_tokens(self.path, self.origin or self.path))

    @property
    def derived(self) -> bool:
        """Whether this is an overlay's ``duration_days`` (sets ``until``)."""
        t = self.tokens
        return len(t) == 4 and t[:2] == ("policy", "overlays") and t[3] == DURATION

    @property
    def name(self) -> str:
        """Label for figures and tables: ``label`` or the path."""
        return self.label or self.path

    # ----------------------------------------------------------------------- values
    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Map values in [0, 1] to coordinates through the inverse CDF of the shape, then
        round (:meth:`snap`).

        Args:
            u: Unit values (any shape).

        Returns:
            Coordinates, same shape.
        """
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        lo, hi = self.low, self.high
        if self.shape == "loguniform":
            x = np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        elif self.shape == "triangular":
            from scipy import stats

            c = ((self.mode if self.mode is not None else lo) - lo) / (hi - lo)
            x = stats.triang(c, loc=lo, scale=hi - lo).ppf(u)
        elif self.shape == "normal":
            from scipy import stats

            m = self.mean if self.mean is not None else (lo + hi) / 2
            s = self.sd if self.sd is not None else (hi - lo)
            x = stats.truncnorm((lo - m) / s, (hi - m) / s, loc=m, scale=s).ppf(u)
        else:
            x = lo + u * (hi - lo)
        return self.snap(x)

    def snap(self, x: np.ndarray | float) -> np.ndarray:
        """Clip to [low, high] and round whole-number kinds (int, date)."""
        x = np.clip(np.asarray(x, dtype=float), self.low, self.high)
        if self.kind in ("int", "date"):
            x = np.clip(np.round(x), math.ceil(self.low), math.floor(self.high))
        return x

    def even(self, n: int) -> np.ndarray:
        """``n`` values spread evenly over [low, high] (in log for ``loguniform``), rounded,
        duplicates (of rounding) dropped."""
        if self.shape == "loguniform":
            x = np.geomspace(self.low, self.high, n)
        else:
            x = np.linspace(self.low, self.high, n)
        return np.unique(self.snap(x))

    def value(self, x: float) -> float | int | dt.date:
        """The scenario value of coordinate ``x`` (a float, an int or a date)."""
        if self.kind == "date":
            return dt.date.fromordinal(round(float(x)))
        if self.kind == "int":
            return round(float(x))
        return float(x)

    def base(self) -> float:
        """The nominal value clipped into [low, high] (the middle when unset)."""
        if self.nominal is None:
            return float(self.snap((self.low + self.high) / 2))
        return float(self.snap(self.nominal))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description (manifests, fingerprints)."""
        out: dict[str, Any] = {
            "path": self.path,
            "low": _jsonable(self.value(self.low)),
            "high": _jsonable(self.value(self.high)),
            "kind": self.kind,
            "shape": self.shape,
        }
        for k in ("mode", "mean", "sd", "levels", "nominal"):
            v = getattr(self, k)
            if v is not None:
                out[k] = _jsonable(self.value(v)) if k in ("mode", "mean", "nominal") else v
        if self.label:
            out["label"] = self.label
        return out


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _coord(v: Any) -> float:
    return float(v.toordinal()) if isinstance(v, dt.date) else float(v)


# ----------------------------------------------------------------------------- parsing
def parse_param(text: str) -> tuple[str, Param | None]:
    """Read a ``--param`` option.

    ``PATH=LOW:HIGH[:N]`` gives a uniform range (numbers or dates, e.g.
    ``policy.overlays.0.from=2025-08-01:2025-10-01``; ``N``: grid levels); ``PATH`` alone
    selects the entry for that path in the scenario's ``uncertainties:`` block.

    Args:
        text: The option's value.

    Returns:
        ``(path, param)``; ``param`` is None for a bare ``PATH``.

    Raises:
        ScenarioError: The text cannot be read, located at ``--param TEXT``.
    """
    label = f"--param {text}"

    def bad(message: str, value: Any = None) -> ScenarioError:
        p = (
            Problem(message, "", label)
            if value is None
            else Problem(message, "", label, value=value)
        )
        return ScenarioError(p)

    if len(text) > Limits.MAX_PARAM_CHARS:
        raise bad(
            f"option too long: at most {Limits.MAX_PARAM_CHARS:,} characters "
            "(Limits.MAX_PARAM_CHARS)"
        )
    path, sep, spec = text.partition("=")
    path = path.strip()
    if not path:
        raise bad(f"the PATH is empty; write {PARAM_SYNTAX}, e.g. authority.reviewers=600:900")
    override_tokens(path, label)  # a malformed path is refused here, located at the option
    if not sep:
        return path, None
    parts = [p.strip() for p in spec.split(":")]
    if len(parts) not in (2, 3) or not all(parts):
        raise bad(
            f"expected LOW:HIGH or LOW:HIGH:N after '=' ({PARAM_SYNTAX}), "
            "e.g. policy.overlays.0.review_time_factor=1.5:3:6",
            spec,
        )
    lo, hi = (_scalar(p, label) for p in parts[:2])
    levels = None
    if len(parts) == 3:
        n = _scalar(parts[2], label)
        if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= Limits.MAX_GRID_LEVELS:
            raise bad(
                f"N (grid levels) must be a whole number from 2 to {Limits.MAX_GRID_LEVELS:,} "
                "(Limits.MAX_GRID_LEVELS)",
                parts[2],
            )
        levels = n
    for v, what in ((lo, "LOW"), (hi, "HIGH")):
        if isinstance(v, bool) or not isinstance(v, int | float | dt.date):
            raise bad(f"{what} must be a number or a date (YYYY-MM-DD)", v)
        if isinstance(v, float) and not math.isfinite(v):
            raise bad(f"{what} must be a finite number", v)
    if isinstance(lo, dt.date) != isinstance(hi, dt.date):
        raise bad("LOW and HIGH must both be dates or both numbers", spec)
    if _coord(hi) <= _coord(lo):
        raise bad("HIGH must be above LOW", spec)
    kind = "date" if isinstance(lo, dt.date) else "float"
    return path, Param(path, _coord(lo), _coord(hi), kind=kind, levels=levels, origin=label)


def _scalar(text: str, label: str) -> Any:
    try:
        return parse_set_option(f"x={text}")[1]
    except ScenarioError:
        raise ScenarioError(Problem("cannot read this value", "", label, value=text)) from None


def from_uncertainty(u: Uncertainty, origin: str) -> Param:
    """A :class:`Param` from a validated ``uncertainties:`` entry.

    Args:
        u: The entry.
        origin: Where it was declared (``file:line:col``), for messages.
    """
    shape = u.distribution
    kind = "date" if isinstance(u.low, dt.date) else ("int" if u.integer else "float")
    return Param(
        u.path,
        _coord(u.low),
        _coord(u.high),
        kind=kind,
        shape=shape.kind,
        mode=getattr(shape, "mode", None),
        mean=getattr(shape, "mean", None),
        sd=getattr(shape, "sd", None),
        levels=u.levels,
        label=u.label,
        origin=origin,
    )


def from_fit_parameter(p: Parameter, origin: str) -> Param:
    """A :class:`Param` from a targets file's ``parameters:`` entry (uniform, or
    loguniform with ``log: true``, or its ``distribution``)."""
    return Param(
        p.path,
        float(p.low),
        float(p.high),
        kind="int" if p.integer else "float",
        shape=p.distribution or ("loguniform" if p.log else "uniform"),
        mode=p.mode,
        mean=p.mean,
        sd=p.sd,
        label=p.label,
        origin=origin,
    )


# ----------------------------------------------------------------------------- resolving
def resolve(params: Sequence[Param], scenario: Scenario) -> list[Param]:
    """Check parameters against a scenario and fill in what the scenario says.

    Each path must lead to a number or a date of the scenario (or to a field it leaves
    unset); its kind (``int`` for integer fields and durations, ``date`` for dates) and
    its nominal value come from the scenario. Whether the values are allowed is checked
    later, point by point, by validating each point's scenario.

    Args:
        params: Parameters as declared.
        scenario: The validated base scenario (after ``extends:`` and ``--set``).

    Returns:
        The parameters with ``kind``, ``nominal`` and ``window`` set.

    Raises:
        ScenarioError: Every problem found, located where each parameter was declared.
    """
    from simulator.scenario.dump import plain

    if len(params) > Limits.MAX_SWEEP_PARAMS:
        raise ScenarioError(
            Problem(
                f"{len(params)} parameters; at most {Limits.MAX_SWEEP_PARAMS} "
                "(Limits.MAX_SWEEP_PARAMS)",
                "",
                params[Limits.MAX_SWEEP_PARAMS].origin or None,
            )
        )
    data = plain(scenario)
    problems: list[Problem] = []
    out: list[Param] = []
    seen: dict[tuple[str, ...], str] = {}
    for p in params:
        try:
            tokens = p.tokens
        except ScenarioError as e:
            problems.extend(_at(p, q.message) for q in e.problems)
            continue
        # one field under two spellings (manufacturers.0.x, manufacturers[m1].x) is one
        # parameter: compared by where it leads, list items by position
        key = canonical_tokens(data, tokens)
        if key in seen:
            problems.append(
                _at(p, f"the same value as {seen[key]} (a path swept twice, or spelled twice)")
            )
            continue
        seen[key] = p.origin or p.path
        r = _resolve_duration(p, data, tokens) if p.derived else _resolve_value(p, data, tokens)
        if isinstance(r, Problem):
            problems.append(r)
        else:
            out.append(r)
    for p in out:  # `until` and `duration_days` of one overlay cannot both move
        t = canonical_tokens(data, p.tokens)
        if p.derived and (*t[:3], "until") in seen:
            problems.append(
                _at(p, "sweep either `until` or `duration_days` of an overlay, not both")
            )
    if problems:
        raise ScenarioError(problems)
    return out


def _at(p: Param, message: str, value: Any = None) -> Problem:
    text = f"{p.path}: {message}"
    if value is None:
        return Problem(text, "", p.origin or None)
    return Problem(text, "", p.origin or None, value=value)


def canonical_tokens(data: Any, tokens: Sequence[str]) -> tuple[str, ...]:
    """``tokens`` with every list item named by its ``id`` or ``name`` (or a negative
    index) replaced by its position, as far as the path leads through ``data`` (plain
    scenario data): two spellings of one field give the same tuple."""
    node = data
    out: list[str] = []
    for k, tok in enumerate(tokens):
        if isinstance(node, dict) and tok in node:
            node = node[tok]
        elif isinstance(node, list):
            pos = None
            if tok.lstrip("-").isdigit():
                i = int(tok)
                pos = i if 0 <= i < len(node) else None
            else:
                pos = next(
                    (
                        j
                        for j, e in enumerate(node)
                        if isinstance(e, dict) and str(e.get("id", e.get("name"))) == tok
                    ),
                    None,
                )
            if pos is None:
                return (*out, *tokens[k:])
            node = node[pos]
            tok = str(pos)
        else:
            return (*out, *tokens[k:])
        out.append(tok)
    return tuple(out)


def _walk(data: Any, tokens: Sequence[str]) -> tuple[bool, Any]:
    """Follow an override path through plain scenario data: ``(found, value)``."""
    node = data
    for tok in tokens:
        if isinstance(node, dict):
            if tok not in node:
                return False, None
            node = node[tok]
        elif isinstance(node, list):
            if tok.lstrip("-").isdigit():
                i = int(tok)
                if not 0 <= i < len(node):
                    return False, None
                node = node[i]
            else:
                hits = [
                    e
                    for e in node
                    if isinstance(e, dict) and str(e.get("id", e.get("name"))) == tok
                ]
                if not hits:
                    return False, None
                node = hits[0]
        else:
            return False, None
    return True, node


def _resolve_value(p: Param, data: Any, tokens: tuple[str, ...]) -> Param | Problem:
    found, v = _walk(data, tokens)
    is_date_range = p.kind == "date"
    window = None
    if tokens[-1] == "from" and tokens[:2] == ("policy", "overlays") and len(tokens) == 4:
        ok, ov = _walk(data, tokens[:3])
        if ok and isinstance(ov, dict):
            window = (ov["from"].toordinal(), ov["until"].toordinal())
    if not found:
        parent_ok, parent = _walk(data, tokens[:-1])
        if not parent_ok or not isinstance(parent, dict):
            return _at(p, "no such value in the scenario (check the path as --set takes it)")
        # a key the scenario leaves out (e.g. an unset effect): allowed, validated per point
        return replace(p, nominal=None)
    if v is None:
        return replace(p, nominal=None, window=window)
    if isinstance(v, dt.date):
        if not is_date_range:
            return _at(p, "is a date: give LOW and HIGH as dates (YYYY-MM-DD)", v)
        return replace(p, nominal=float(v.toordinal()), window=window)
    if isinstance(v, bool) or not isinstance(v, int | float):
        what = "a mapping" if isinstance(v, dict) else "a list" if isinstance(v, list) else None
        what = what or f"not a number ({type(v).__name__})"
        return _at(p, f"is {what}: only numbers and dates can be swept", None)
    if is_date_range:
        return _at(p, "is a number, not a date: give LOW and HIGH as numbers", v)
    kind = "int" if isinstance(v, int) or p.kind == "int" else "float"
    if kind == "int" and math.floor(p.high) < math.ceil(p.low):
        return _at(p, "no whole number lies in the range", f"{p.low:g}:{p.high:g}")
    return replace(p, kind=kind, nominal=float(v))


def _resolve_duration(p: Param, data: Any, tokens: tuple[str, ...]) -> Param | Problem:
    ok, ov = _walk(data, tokens[:3])
    if not ok or not isinstance(ov, dict) or "until" not in ov:
        return _at(p, f"no such overlay ({DURATION} applies to policy.overlays.<index>)")
    if p.kind == "date":
        return _at(p, f"{DURATION} is a number of calendar days, not a date")
    if p.low < 1:
        return _at(p, f"{DURATION} must be at least 1 day", p.low)
    if p.high > Limits.MAX_DURATION_DAYS:
        return _at(
            p,
            f"{DURATION} exceeds the limit of {Limits.MAX_DURATION_DAYS:,} days "
            "(Limits.MAX_DURATION_DAYS)",
            p.high,
        )
    lo, hi = ov["from"].toordinal(), ov["until"].toordinal()
    return replace(p, kind="int", nominal=float(hi - lo + 1), window=(lo, hi))


# ----------------------------------------------------------------------------- points
def point_overrides(params: Sequence[Param], coords: Sequence[float]) -> dict[str, Any]:
    """The ``--set``-style overrides of one point.

    Args:
        params: Resolved parameters (:func:`resolve`).
        coords: One coordinate per parameter.

    Returns:
        ``{path: value}`` in parameter order, with each moved overlay window's ``until``
        last (see the module documentation).
    """
    out: dict[str, Any] = {}
    starts: dict[tuple[str, ...], int] = {}
    durations: dict[tuple[str, ...], int] = {}
    windows: dict[tuple[str, ...], tuple[int, int]] = {}
    untils = set()
    for p, x in zip(params, coords, strict=True):
        t = p.tokens
        if p.derived:
            durations[t[:3]] = round(float(x))
            assert p.window is not None
            windows[t[:3]] = p.window
            continue
        value = p.value(x)
        out[p.path] = value
        if p.window is not None:  # an overlay's `from`
            starts[t[:3]] = round(float(x))
            windows[t[:3]] = p.window
        if len(t) == 4 and t[:2] == ("policy", "overlays") and t[3] == "until":
            untils.add(t[:3])
    for key, (lo, hi) in windows.items():
        if key in untils:
            continue
        start = starts.get(key, lo)
        length = durations.get(key, hi - lo + 1)
        if key in starts or key in durations:
            path = ".".join((*key, "until"))
            out[path] = dt.date.fromordinal(start + length - 1)
    return out


def values_of(params: Sequence[Param], coords: Sequence[float]) -> dict[str, Any]:
    """``{path: scenario value}`` of one point (what the sweep's table shows)."""
    return {p.path: p.value(x) for p, x in zip(params, coords, strict=True)}


def merge_requests(
    requested: Sequence[tuple[str, Param | None]],
    block: Mapping[str, Param],
) -> list[Param]:
    """The parameters of a run: each ``--param`` as given, or (for a bare ``PATH``) the
    scenario's ``uncertainties:`` entry for it; no ``--param`` at all: the whole block.

    Raises:
        ScenarioError: A bare ``PATH`` has no entry in the block, or there are no
            parameters at all.
    """
    if not requested:
        if not block:
            raise ScenarioError(
                Problem(
                    f"nothing to sweep: give --param {PARAM_SYNTAX} or add an `uncertainties:` "
                    "block to the scenario"
                )
            )
        return list(block.values())
    out: list[Param] = []
    for path, param in requested:
        if param is not None:
            out.append(param)
            continue
        norm = _norm(path)
        hit = next((b for k, b in block.items() if _norm(k) == norm), None)
        if hit is None:
            known = ", ".join(block) or "none"
            raise ScenarioError(
                Problem(
                    f"{path} has no entry in the scenario's `uncertainties:` block (entries: "
                    f"{known}); give its range as {PARAM_SYNTAX}",
                    "",
                    f"--param {path}",
                )
            )
        out.append(hit)
    return out


def _norm(path: str) -> tuple[str, ...]:
    try:
        return tuple(override_tokens(path, path))
    except ScenarioError:
        return (path,)
