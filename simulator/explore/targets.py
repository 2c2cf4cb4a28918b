"""Calibration targets: what a scenario should reproduce, read from a file, checked.

A targets file (YAML, located errors like a scenario) lists observed facts with a
tolerance each, and optionally the free parameters a fit may move::

    scenario: ../cn-2025-april-controls.yaml      # relative to this file
    targets:
      - id: exports_2025_05
        kind: monthly_exports                      # see KINDS
        month: 2025-05
        observed: 1238                             # tonnes
        tolerance: {relative: 0.25}                # or {absolute: x} or {range: [lo, hi]}
        source: "cn_magnet_exports.csv 2025-05"
    parameters:                                    # for `relsim fit`
      - {path: authority.reviewers, low: 500, high: 900}
      - {path: "policy.regimes[slow_roll_rules].rules.0.review_time_factor",
         low: 0.8, high: 2, log: true}

Optional per target: ``used_for: target | setting`` (a figure used to set a parameter
by hand is ``setting``: shown, never counted as evidence) and ``published: YYYY-MM-DD``
(when the figure became public; default :func:`published_on`). Optional per file:
``split: {train_until: YYYY-MM-DD}``, a time split: the targets public on or before that
day are the **train** set (what ``relsim fit`` fits), the later ones the **test** set
(reported separately, never fitted; :func:`phase`).

Each target is observed in every replication (:func:`observe`); the table
(:func:`evaluate`) gives the median and 90 % band over replications, the error of the
median and whether the median is within tolerance.

Target kinds (:data:`KINDS`; destinations are country ids, none = all):

``monthly_exports`` / ``monthly_arrivals``
    Tonnes departing (customs export date) / arriving in ``month``.
``export_ratio``
    Exports of ``month`` over the mean of ``months``.
``export_share``
    Share of ``month``'s exports going to ``destinations``.
``applications``
    Applications submitted in [``submitted_from``, ``submitted_until``].
``approved_share``
    Of those, the share approved (fully or partly) by ``by``.
``over_limit_share``
    Of those, the share whose wait exceeds the statutory limit by ``by`` (decided after
    more than the limit, or still undecided with more than the limit elapsed).
``median_wait_days``
    Median calendar days from submission to decision of those decided by ``by``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from simulator.errors import FieldProblems
from simulator.scenario.base import Model
from simulator.scenario.types import Entities, Id
from simulator.stats import median, quantiles

if TYPE_CHECKING:  # pragma: no cover
    from simulator.ensemble.options import Execution
    from simulator.replication.tables import Apps
    from simulator.scenario.located import Located
    from simulator.scenario.model import Scenario
    from simulator.world.calendar import WorkCalendar
    from simulator.world.trace import Trace

__all__ = [
    "KINDS",
    "PUBLICATION_DAY",
    "Parameter",
    "Split",
    "Target",
    "Targets",
    "evaluate",
    "load_targets",
    "load_targets_located",
    "observe",
    "observe_ensemble",
    "observe_replication",
    "phase",
    "published_on",
]

KINDS = (
    "monthly_exports",
    "monthly_arrivals",
    "export_ratio",
    "export_share",
    "applications",
    "approved_share",
    "over_limit_share",
    "median_wait_days",
)


class Tolerance(Model):
    """How close the simulated median must be: give exactly one."""

    relative: float | None = Field(default=None, gt=0)
    """Within this share of the observed value (0.25 = ±25 %)."""
    absolute: float | None = Field(default=None, gt=0)
    """Within this amount of the observed value (unit of the target)."""
    range: tuple[float, float] | None = None
    """Within [low, high] (for targets given as a bound, e.g. a share below 5 %)."""

    @model_validator(mode="after")
    def _one(self) -> Tolerance:
        given = [k for k in ("relative", "absolute", "range") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `relative`, `absolute` or `range`")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range low {self.range[0]} is above high {self.range[1]}")
        return self

    def ok(self, observed: float, value: float) -> bool:
        """Whether ``value`` is within tolerance of ``observed``."""
        if not math.isfinite(value):
            return False
        if self.range is not None:
            return self.range[0] <= value <= self.range[1]
        if self.relative is not None:
            return abs(value - observed) <= self.relative * abs(observed)
        return abs(value - observed) <= float(self.absolute or 0.0)

    def text(self) -> str:
        """Short text, e.g. ``±25%``, ``±0.08``, ``[0.15, 0.40]``."""
        if self.range is not None:
            return f"[{self.range[0]:g}, {self.range[1]:g}]"
        if self.relative is not None:
            return f"±{100 * self.relative:g}%"
        return f"±{self.absolute:g}"


class Target(Model):
    """One observed fact the scenario should reproduce."""

    id: Id
    """Target id."""
    kind: Literal[KINDS]  # type: ignore[valid-type]
    """What is measured (see the module documentation)."""
    observed: float
    """The observed value (tonnes, share or days, by kind)."""
    tolerance: Tolerance
    """How close the simulated median must be."""
    month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
    """Month ``YYYY-MM`` (monthly kinds)."""
    months: list[str] | None = None
    """Base months of ``export_ratio``."""
    destinations: list[Id] | None = None
    """Destination countries (none: all)."""
    submitted_from: dt.date | None = None
    """First submission day counted (application kinds)."""
    submitted_until: dt.date | None = None
    """Last submission day counted (application kinds)."""
    by: dt.date | None = None
    """Day on which outcomes are read (application kinds)."""
    source: str = ""
    """Where the observed value comes from."""
    note: str = ""
    """How the target is read, if not obvious."""
    used_for: Literal["target", "setting"] = "target"
    """``setting``: the figure was used to set a parameter by hand, so it is not evidence
    a fit or a forecast may condition on again (``relsim forecast`` skips it)."""
    published: dt.date | None = None
    """When the figure became public (``relsim forecast --as-of`` uses only figures public
    by then). Default: :func:`published_on`."""

    @model_validator(mode="after")
    def _fields(self) -> Target:
        need = {
            "monthly_exports": ("month",),
            "monthly_arrivals": ("month",),
            "export_ratio": ("month", "months"),
            "export_share": ("month", "destinations"),
            "applications": ("submitted_from", "submitted_until"),
            "approved_share": ("submitted_from", "submitted_until", "by"),
            "over_limit_share": ("submitted_from", "submitted_until", "by"),
            "median_wait_days": ("submitted_from", "submitted_until", "by"),
        }[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.kind} target needs {', '.join(missing)}")
        return self


class Parameter(Model):
    """A free parameter a fit may move: a scenario path and its range."""

    path: str = Field(min_length=1, max_length=300)
    """Dotted path into the scenario, as for ``--set`` (e.g. ``authority.reviewers``)."""
    low: float
    """Lowest value (unit of the path)."""
    high: float
    """Highest value (unit of the path), above ``low``."""
    integer: bool = False
    """Whole numbers only (implied for integer fields)."""
    log: bool = False
    """Search on a log scale (for factors and rates spanning orders of magnitude; needs
    ``low`` > 0)."""
    label: str = Field(default="", max_length=80)
    """Short label for tables and figures (default: the path)."""
    note: str = ""
    """Why it is free and what constrains it."""

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        if self.high <= self.low:
            raise FieldProblems([(("high",), f"must be above low ({self.low:g})", self.high)])
        if self.log and self.low <= 0:
            raise FieldProblems([(("low",), "a log-scale parameter needs low > 0", self.low)])
        return self


class Split(Model):
    """A time split of a calibration: fit on what was public by a day, test on the rest."""

    train_until: dt.date
    """Targets public on or before this day (:func:`published_on`) are the train set;
    later ones the test set."""


class Targets(Model):
    """A calibration: the targets and the free parameters."""

    scenario: str | None = None
    """Scenario file the targets belong to (relative to the targets file)."""
    targets: Entities[Target] = Field(min_length=1)
    """The targets."""
    parameters: Entities[Parameter] = Field(default_factory=list)
    """Free parameters (for ``relsim fit``): at most
    :attr:`~simulator.limits.Limits.MAX_SWEEP_PARAMS`."""
    split: Split | None = None
    """A time split into train and test targets (none: every target is fitted)."""


PUBLICATION_DAY = 20
"""Monthly customs figures of a month are public on this day of the following month (the
General Administration of Customs of China releases its detailed monthly trade data
around the 20th; see docs/forecasting.md)."""


def published_on(t: Target) -> dt.date:
    """When target ``t`` became public: its ``published`` date; else for the monthly kinds
    the :data:`PUBLICATION_DAY` of the month after its (latest) month; for the
    application kinds its ``by`` date (the day the figure describes), else the end of its
    submission window."""
    if t.published is not None:
        return t.published
    if t.month is not None:
        months = [t.month, *(t.months or [])]
        y, m = (int(x) for x in max(months).split("-"))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return dt.date(y, m, PUBLICATION_DAY)
    return t.by or t.submitted_until  # type: ignore[return-value]


def phase(t: Target, split: Split | None) -> Literal["fit", "train", "test", "setting"]:
    """What a target is for in a calibration: ``setting`` (a figure a parameter was set
    from: shown, never counted), else without a split ``fit`` (every target is fitted),
    with one ``train`` (public by ``split.train_until``: fitted) or ``test`` (later: only
    reported)."""
    if t.used_for == "setting":
        return "setting"
    if split is None:
        return "fit"
    return "train" if published_on(t) <= split.train_until else "test"


def load_targets(path: str | Path) -> Targets:
    """Read and validate a targets file (problems located at ``file:line:col``)."""
    return load_targets_located(path)[0]


def load_targets_located(path: str | Path) -> tuple[Targets, Located]:
    """Read and validate a targets file, also returning its located data (for messages
    about its parameters that only a scenario can tell, e.g. a path it does not have)."""
    from simulator.scenario.reading import load_yaml
    from simulator.scenario.translate import validate

    # a file with none of the fields is refused without quoting it (it may be a secret)
    fields = [n for f, i in Targets.model_fields.items() for n in (f, i.alias) if n]
    loc = load_yaml(path, fields=fields, kind="relsim targets file")
    return validate(loc, Targets), loc


# ------------------------------------------------------------------------ observing


def _month_pos(sc: Scenario, month: str) -> int:
    y, m = (int(x) for x in month.split("-"))
    return (y - sc.start.year) * 12 + (m - sc.start.month)


def _day(sc: Scenario, d: dt.date) -> float:
    return float((d - sc.start).days)


def observe(
    sc: Scenario, trace: Trace, cal: WorkCalendar, apps: Apps, targets: list[Target]
) -> np.ndarray:
    """Each target's value in one replication (NaN where undefined)."""
    from simulator.replication.tables import flows_by_month
    from simulator.world.trace import G

    cidx = {c.id: i for i, c in enumerate(sc.countries)}
    exports = flows_by_month(sc, trace, G.DEPARTED)
    arrivals = None
    dest_of_app = trace.shipments["destination"][apps.shipment] if apps.n else np.zeros(0, int)
    out = np.full(len(targets), np.nan)
    for k, t in enumerate(targets):
        cols = (
            slice(None)
            if t.destinations is None
            else [cidx[d] for d in t.destinations if d in cidx]
        )
        if t.kind in ("monthly_exports", "export_ratio", "export_share", "monthly_arrivals"):
            m = _month_pos(sc, str(t.month))
            if t.kind == "monthly_arrivals":
                if arrivals is None:
                    arrivals = flows_by_month(sc, trace, G.ARRIVED)
                src = arrivals
            else:
                src = exports
            if not 0 <= m < src.shape[0]:
                continue
            if t.kind in ("monthly_exports", "monthly_arrivals"):
                out[k] = src[m, cols].sum()
            elif t.kind == "export_ratio":
                base = [_month_pos(sc, b) for b in t.months or []]
                base = [b for b in base if 0 <= b < src.shape[0]]
                denom = np.mean([src[b].sum() for b in base]) if base else math.nan
                out[k] = src[m].sum() / denom if denom > 0 else math.nan
            else:
                total = src[m].sum()
                out[k] = src[m, cols].sum() / total if total > 0 else math.nan
            continue
        lo, hi = _day(sc, t.submitted_from), _day(sc, t.submitted_until) + 1  # type: ignore[arg-type]
        sel = (apps.submit >= lo) & (apps.submit < hi)
        if t.destinations is not None:
            sel &= np.isin(dest_of_app, cols)
        if t.kind == "applications":
            out[k] = float(sel.sum())
            continue
        n = int(sel.sum())
        if n == 0:
            continue
        by = _day(sc, t.by) + 1  # type: ignore[arg-type]  # end of that day
        decided_by = sel & apps.decided & (apps.decide < by)
        if t.kind == "approved_share":
            approved = decided_by & (apps.code % 8 <= 1)
            out[k] = approved.sum() / n
        elif t.kind == "median_wait_days":
            waits = apps.wait_days[decided_by]
            out[k] = median(waits)
        else:  # over_limit_share
            limit = sc.authority.statutory_limit_wd
            if limit is None:
                continue
            end = np.where(decided_by, apps.decide, min(by, float(trace.horizon)))
            waited = cal.work_time(np.clip(end, 0, None)) - cal.work_time(
                np.clip(np.nan_to_num(apps.submit), 0, None)
            )
            out[k] = float(np.mean(waited[sel] > limit + 1e-9))
    return out


def evaluate(
    targets: list[Target], values: np.ndarray, split: Split | None = None
) -> list[dict[str, Any]]:
    """The calibration table: per target the observed value, simulated median, 5 % and
    95 % over replications (``values``: replications × targets), error, verdict and
    :func:`phase` (``split``: the targets file's time split, if any)."""
    rows = []
    for k, t in enumerate(targets):
        v = values[:, k]
        v = v[np.isfinite(v)]
        med = median(v)
        p5, p95 = (float(x) for x in quantiles(v, (0.05, 0.95))) if v.size else (math.nan,) * 2
        err = med - t.observed
        rows.append(
            {
                "id": t.id,
                "kind": t.kind,
                "observed": t.observed,
                "median": med,
                "p5": p5,
                "p95": p95,
                "error": err,
                "relative_error": err / t.observed if t.observed else math.nan,
                "tolerance": t.tolerance.text(),
                "ok": t.tolerance.ok(t.observed, med),
                "phase": phase(t, split),
                "published": published_on(t).isoformat(),
                "source": t.source,
            }
        )
    return rows


def observe_replication(
    sc: Scenario, trace: Trace, cal: WorkCalendar, targets: list[Target]
) -> np.ndarray:
    """Each target's value in one replication, from its trace (the ``observe`` of
    :func:`simulator.ensemble.runner.replications`)."""
    from simulator.replication.tables import Apps

    return observe(sc, trace, cal, Apps(trace, cal), targets)


def observe_ensemble(
    scenario: Scenario, targets: list[Target], reps: int, execution: Execution
) -> np.ndarray:
    """Run ``reps`` replications and observe every target in each.

    Args:
        scenario: The scenario.
        targets: What to observe.
        reps: Replications.
        execution: Engine, seed (default: the scenario's), workers, executor, scheduler
            and progress.

    Returns:
        Values, shape (replications, targets), in replication order (the same for any
        executor).
    """
    from simulator.ensemble.runner import replications

    rows = list(replications(scenario, execution, reps, observe_replication, targets))
    return np.array(rows, dtype=float).reshape(reps, len(targets))
