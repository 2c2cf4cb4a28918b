"""Working-day calendar: conversions between calendar time and working time.

Conventions
-----------
* **Calendar time** ``t`` is a float number of *calendar days* since ``start`` (a
  :class:`datetime.date`, taken at 00:00). Day index ``k`` covers the half-open interval
  ``[k, k + 1)``; ``t = k`` is the start (midnight) of date ``start + k``.
* **Working time** ``w`` is a float number of *working days* elapsed since ``start``. It
  advances continuously and uniformly during working days (a working day contributes exactly
  1.0 working day spread over its 24 h) and is frozen on non-working days. Hence
  ``work_time`` is continuous, piecewise linear and non-decreasing, and flat on weekends and
  holidays.
* **Inverse.** ``calendar_time(w)`` returns the *earliest* calendar time at which ``w``
  working days have elapsed. When ``w`` is a whole number of working days this is the end
  (next midnight) of the ``w``-th working day, never the start of the next working day after
  an intervening weekend or holiday. Consequently ``add_work(t, n)`` for integer ``n`` lands
  on the midnight *ending* the n-th working day; use ``to_date(t - eps)`` to name that day.
  Working amounts within ``1e-10`` working days above a whole number are snapped down to it,
  so float rounding never throws a deadline across a weekend.
* **Chinese rule (``country="CN"``).** A date is a working day iff it is not a statutory
  public holiday of the ``holidays`` package and it is either Monday–Friday or one of the
  adjusted weekend working days (调休, ``holidays_obj.weekend_workdays``), e.g. Sunday
  2025-01-26 and Saturday 2025-02-08. ``country=None`` gives plain Monday–Friday;
  ``all_working=True`` makes every day a working day (for queueing-theory validation).
  ``extra_holidays`` / ``extra_workdays`` override the base pattern; a date in both is an
  error.
* **Estimated years.** The State Council publishes each year's holiday/调休 arrangement only
  in the preceding autumn. For years absent from
  ``holidays.countries.china.ChinaStaticHolidays.special_public_holidays`` (2001–2026 in
  holidays 0.109; later years, and years before 2001, are absent) the package lists the
  statutory holidays by rule but no 调休 weekend workdays or bridging days, so those years are
  *estimated* (see :attr:`WorkCalendar.estimated_years` and :meth:`WorkCalendar.is_estimated`).
* **Coverage.** The precomputed table spans ``start`` .. ``end + padding_days``. A
  conversion reaching beyond it silently extends the table with the plain Monday–Friday
  pattern (plus the explicit overrides); for ``country="CN"`` such extension days are flagged
  estimated. The array attributes (``working``, ``cum``, ``dates``, ``n_days``) may therefore
  grow. Times before ``start`` (negative ``t`` or ``w``) raise :class:`ValueError`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, overload

import holidays
import numpy as np
import numpy.typing as npt
from holidays.countries.china import ChinaStaticHolidays

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

__all__ = ["WorkCalendar", "build_calendar"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_SNAP_EPS = 1e-10
"""Working amounts this close (working days) above a whole number snap down to it."""

_SCALAR = (int, float, np.integer, np.floating)
"""Types taking the scalar fast path (returning Python scalars)."""

_EPOCH_WEEKDAY = 3
"""Weekday of 1970-01-01 (Thursday, Monday = 0)."""


def _weekday(dates: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """Weekday of each date, Monday = 0 .. Sunday = 6."""
    return (dates.astype(np.int64) + _EPOCH_WEEKDAY) % 7


def _to_d64(days: Iterable[date]) -> npt.NDArray[np.datetime64]:
    """Convert an iterable of dates into a ``datetime64[D]`` array."""
    return np.array(sorted(set(days)), dtype="datetime64[D]").reshape(-1)


class WorkCalendar:
    """Working-day calendar with vectorised calendar-time ⇄ working-time conversions.

    Attributes:
        start: Date at calendar time 0.0.
        end: Last date of the simulation horizon (inclusive).
        country: ``"CN"`` or ``None`` (Monday–Friday).
        all_working: Whether every day is a working day.
        estimated_years: Years intersecting ``[start, end]`` whose holiday/调休 arrangement is
            not officially known (``country="CN"`` only), ascending.
    """

    def __init__(
        self,
        start: date,
        end: date,
        *,
        country: str | None = "CN",
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        all_working: bool = False,
        padding_days: int = 800,
    ) -> None:
        """Build the calendar table.

        Args:
            start: Date at calendar time 0.0 (midnight starting that date).
            end: Last date of the horizon (inclusive); must not precede ``start``.
            country: ``"CN"`` for Chinese statutory holidays with 调休 weekend workdays, or
                ``None`` for a plain Monday–Friday week. Ignored if ``all_working``.
            extra_holidays: Dates forced to be non-working.
            extra_workdays: Dates forced to be working. Must be disjoint from
                ``extra_holidays``.
            all_working: Make every day a working day (before applying the extras).
            padding_days: Calendar days tabulated beyond ``end`` so that conversions past the
                horizon stay on the precise table.

        Raises:
            ValueError: If ``end < start``, ``padding_days < 0``, ``country`` is unsupported
                or a date is in both ``extra_holidays`` and ``extra_workdays``.
        """
        if isinstance(start, datetime) or isinstance(end, datetime):
            raise ValueError("start and end must be datetime.date, not datetime")
        if end < start:
            raise ValueError(f"end {end} precedes start {start}")
        if padding_days < 0:
            raise ValueError(f"padding_days must be >= 0, got {padding_days}")
        if country is not None and country != "CN":
            raise ValueError(f"unsupported country {country!r}; use 'CN' or None")

        self.start: date = start
        self.end: date = end
        self.country: str | None = None if all_working else country
        self.all_working: bool = all_working
        self._start64 = np.datetime64(start, "D")

        self._extra_hol = _to_d64(extra_holidays)
        self._extra_work = _to_d64(extra_workdays)
        both = np.intersect1d(self._extra_hol, self._extra_work)
        if both.size:
            raise ValueError(
                f"dates in both extra_holidays and extra_workdays: {both.astype(str).tolist()}"
            )

        n = (end - start).days + 1 + padding_days
        dates = self._start64 + np.arange(n)
        if self.all_working:
            working = np.ones(n, dtype=bool)
            estimated = np.zeros(n, dtype=bool)
        elif self.country is None:
            working = _weekday(dates) < 5
            estimated = np.zeros(n, dtype=bool)
        else:
            working, estimated = self._china(dates)
        self._set_table(dates, self._apply_extras(dates, working), estimated)

        end_k = (end - start).days
        horizon_est = dates[: end_k + 1][estimated[: end_k + 1]]
        est_years = np.unique(horizon_est.astype("datetime64[Y]").astype(np.int64) + 1970)
        self.estimated_years: tuple[int, ...] = tuple(int(y) for y in est_years)

    # ------------------------------------------------------------------ construction helpers

    @staticmethod
    def _china(dates: npt.NDArray[np.datetime64]) -> tuple[BoolArray, BoolArray]:
        """Working and estimated flags for Chinese dates.

        Args:
            dates: ``datetime64[D]`` dates, ascending.

        Returns:
            ``(working, estimated)`` boolean arrays, one entry per date.
        """
        first = dates[0].astype(date)
        last = dates[-1].astype(date)
        hol = holidays.country_holidays("CN", years=range(first.year, last.year + 1))
        hol_days = _to_d64(hol.keys())
        weekend_work = _to_d64(hol.weekend_workdays)
        weekday = _weekday(dates) < 5
        working = ~np.isin(dates, hol_days) & (weekday | np.isin(dates, weekend_work))
        known = np.array(sorted(ChinaStaticHolidays.special_public_holidays), dtype=np.int64)
        year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
        estimated = ~np.isin(year, known)
        return working, estimated

    def _apply_extras(self, dates: npt.NDArray[np.datetime64], working: BoolArray) -> BoolArray:
        """Apply ``extra_holidays`` / ``extra_workdays`` to a working-flag array (copy)."""
        working = working.copy()
        if self._extra_work.size:
            working[np.isin(dates, self._extra_work)] = True
        if self._extra_hol.size:
            working[np.isin(dates, self._extra_hol)] = False
        return working

    def _set_table(
        self, dates: npt.NDArray[np.datetime64], working: BoolArray, estimated: BoolArray
    ) -> None:
        """Store the (read-only) day tables and the derived cumulative working time."""
        cum = np.zeros(working.size + 1, dtype=np.float64)
        np.cumsum(working, out=cum[1:])
        for a in (dates, working, estimated, cum):
            a.flags.writeable = False
        self._dates = dates
        self._working = working
        self._estimated = estimated
        self._cum = cum
        self._n = int(working.size)
        # Plain-Python copies for the scalar fast paths.
        self._cum_list: list[float] = cum.tolist()
        self._working_list: list[bool] = working.tolist()

    def _ensure_days(self, n_needed: int) -> None:
        """Extend the table (Mon–Fri pattern plus extras) to at least ``n_needed`` days."""
        if n_needed <= self._n:
            return
        new_n = max(n_needed, self._n + max(366, self._n // 2))
        extra = self._start64 + np.arange(self._n, new_n)
        w = np.ones(extra.size, dtype=bool) if self.all_working else _weekday(extra) < 5
        w = self._apply_extras(extra, w)
        est = np.full(extra.size, self.country is not None, dtype=bool)
        self._set_table(
            np.concatenate([self._dates, extra]),
            np.concatenate([self._working, w]),
            np.concatenate([self._estimated, est]),
        )

    def _ensure_work(self, w_max: float) -> None:
        """Extend the table until its total working time is at least ``w_max``."""
        while w_max > self._cum_list[-1]:
            deficit = w_max - self._cum_list[-1]
            self._ensure_days(self._n + math.ceil(deficit * 7 / 5) + 7)

    # ------------------------------------------------------------------ table accessors

    @property
    def n_days(self) -> int:
        """Number of tabulated calendar days (may grow on extension)."""
        return self._n

    @property
    def dates(self) -> npt.NDArray[np.datetime64]:
        """``datetime64[D]`` date of each tabulated day index (read-only)."""
        return self._dates

    @property
    def working(self) -> BoolArray:
        """Working flag per day index, length :attr:`n_days` (read-only)."""
        return self._working

    @property
    def cum(self) -> FloatArray:
        """``cum[k]`` = working days in calendar days ``[0, k)``, length ``n_days + 1``."""
        return self._cum

    # ------------------------------------------------------------------ input checks

    @staticmethod
    def _check_scalar(x: float, name: str) -> None:
        if not math.isfinite(x) or x < 0:
            raise ValueError(f"{name} must be finite and >= 0 (days since start), got {x}")

    @staticmethod
    def _check_array(a: FloatArray, name: str) -> None:
        if a.size and not (np.all(np.isfinite(a)) and a.min() >= 0):
            raise ValueError(f"{name} must be finite and >= 0 (days since start)")

    # ------------------------------------------------------------------ conversions

    @overload
    def work_time(self, t: float) -> float: ...
    @overload
    def work_time(self, t: npt.ArrayLike) -> FloatArray: ...

    def work_time(self, t: float | npt.ArrayLike) -> float | FloatArray:
        """Cumulative working time at calendar time ``t``.

        ``work_time(t) = cum[floor(t)] + working[floor(t)] * (t - floor(t))``.

        Args:
            t: Calendar days since ``start`` (scalar or array), ``>= 0``.

        Returns:
            Working days elapsed in ``[0, t)``, same shape as ``t``.

        Raises:
            ValueError: If any ``t`` is negative or not finite.
        """
        if isinstance(t, _SCALAR):
            t = float(t)
            self._check_scalar(t, "t")
            k = math.floor(t)
            self._ensure_days(k + 1)
            if self._working_list[k]:
                return self._cum_list[k] + (t - k)
            return self._cum_list[k]
        a = np.asarray(t, dtype=np.float64)
        self._check_array(a, "t")
        if a.size == 0:
            return a.copy()
        kf = np.floor(a)
        k = kf.astype(np.intp)
        self._ensure_days(int(k.max()) + 1)
        return np.where(self._working[k], self._cum[k] + (a - kf), self._cum[k])

    @overload
    def calendar_time(self, w: float) -> float: ...
    @overload
    def calendar_time(self, w: npt.ArrayLike) -> FloatArray: ...

    def calendar_time(self, w: float | npt.ArrayLike) -> float | FloatArray:
        """Earliest calendar time at which ``w`` working days have elapsed.

        For whole ``w`` this is the midnight ending the ``w``-th working day (never the start
        of the following working day). ``calendar_time(0) == 0``.

        Args:
            w: Working days since ``start`` (scalar or array), ``>= 0``.

        Returns:
            Calendar days since ``start``, same shape as ``w``.

        Raises:
            ValueError: If any ``w`` is negative or not finite.
        """
        if isinstance(w, _SCALAR):
            w = float(w)
            self._check_scalar(w, "w")
            r = round(w)
            if 0.0 < w - r <= _SNAP_EPS:
                w = float(r)
            if w <= 0.0:
                return 0.0
            self._ensure_work(w)
            k = bisect_left(self._cum_list, w) - 1
            return k + (w - self._cum_list[k])
        a = np.asarray(w, dtype=np.float64)
        self._check_array(a, "w")
        if a.size == 0:
            return a.copy()
        r = np.round(a)
        d = a - r
        a = np.where((d > 0.0) & (d <= _SNAP_EPS), r, a)
        self._ensure_work(float(a.max()))
        k = np.searchsorted(self._cum, a, side="left") - 1
        pos = a > 0.0
        kc = np.where(pos, k, 0)
        return np.where(pos, kc + (a - self._cum[kc]), 0.0)

    @overload
    def add_work(self, t: float, w: float) -> float: ...
    @overload
    def add_work(self, t: npt.ArrayLike, w: npt.ArrayLike) -> FloatArray: ...

    def add_work(self, t: float | npt.ArrayLike, w: float | npt.ArrayLike) -> float | FloatArray:
        """Calendar time at which ``w`` working days have elapsed after calendar time ``t``.

        Equals ``max(t, calendar_time(work_time(t) + w))``; in particular ``w == 0`` returns
        ``t`` unchanged, and ``add_work(t, n)`` for whole ``n`` returns the midnight ending
        the n-th working day counted from ``t``.

        Args:
            t: Calendar days since ``start`` (scalar or array), ``>= 0``.
            w: Working days to add (scalar or array, broadcast against ``t``), ``>= 0``.

        Returns:
            Calendar days since ``start``, broadcast shape of ``t`` and ``w``.

        Raises:
            ValueError: If any ``w`` is negative, or any input is not finite.
        """
        if isinstance(t, _SCALAR) and isinstance(w, _SCALAR):
            w = float(w)
            if not math.isfinite(w) or w < 0:
                raise ValueError(f"w must be finite and >= 0 working days, got {w}")
            t = float(t)
            return max(t, self.calendar_time(self.work_time(t) + w))
        ta = np.asarray(t, dtype=np.float64)
        wa = np.asarray(w, dtype=np.float64)
        if wa.size and not (np.all(np.isfinite(wa)) and wa.min() >= 0):
            raise ValueError("w must be finite and >= 0 working days")
        ta, wa = np.broadcast_arrays(ta, wa)
        return np.maximum(ta, self.calendar_time(self.work_time(ta) + wa))

    @overload
    def working_days_between(self, t0: float, t1: float) -> float: ...
    @overload
    def working_days_between(self, t0: npt.ArrayLike, t1: npt.ArrayLike) -> FloatArray: ...

    def working_days_between(
        self, t0: float | npt.ArrayLike, t1: float | npt.ArrayLike
    ) -> float | FloatArray:
        """Working days elapsed between calendar times ``t0`` and ``t1``.

        Args:
            t0: Start, calendar days since ``start``.
            t1: End, calendar days since ``start``.

        Returns:
            ``work_time(t1) - work_time(t0)`` in working days (negative if ``t1 < t0``).
        """
        return self.work_time(t1) - self.work_time(t0)

    @overload
    def is_working(self, t: float) -> bool: ...
    @overload
    def is_working(self, t: npt.ArrayLike) -> BoolArray: ...

    def is_working(self, t: float | npt.ArrayLike) -> bool | BoolArray:
        """Whether the day containing calendar time ``t`` is a working day.

        Args:
            t: Calendar days since ``start`` (scalar or array), ``>= 0``.

        Returns:
            Working flag(s), same shape as ``t``.
        """
        if isinstance(t, _SCALAR):
            t = float(t)
            self._check_scalar(t, "t")
            k = math.floor(t)
            self._ensure_days(k + 1)
            return self._working_list[k]
        a = np.asarray(t, dtype=np.float64)
        self._check_array(a, "t")
        k = np.floor(a).astype(np.intp)
        if k.size:
            self._ensure_days(int(k.max()) + 1)
        return self._working[k]

    @overload
    def is_estimated(self, t: float) -> bool: ...
    @overload
    def is_estimated(self, t: npt.ArrayLike) -> BoolArray: ...

    def is_estimated(self, t: float | npt.ArrayLike) -> bool | BoolArray:
        """Whether the day containing ``t`` lies in a year without an official 调休 notice.

        Args:
            t: Calendar days since ``start`` (scalar or array), ``>= 0``.

        Returns:
            Estimated flag(s), same shape as ``t``; always False unless ``country="CN"``.
        """
        if isinstance(t, _SCALAR):
            t = float(t)
            self._check_scalar(t, "t")
            k = math.floor(t)
            self._ensure_days(k + 1)
            return bool(self._estimated[k])
        a = np.asarray(t, dtype=np.float64)
        self._check_array(a, "t")
        k = np.floor(a).astype(np.intp)
        if k.size:
            self._ensure_days(int(k.max()) + 1)
        return self._estimated[k]

    # ------------------------------------------------------------------ date helpers

    def to_date(self, t: float) -> date:
        """Date of the day containing calendar time ``t``.

        Args:
            t: Calendar days since ``start`` (may be negative).

        Returns:
            ``start + floor(t)`` days.
        """
        if not math.isfinite(t):
            raise ValueError(f"t must be finite, got {t}")
        return self.start + timedelta(days=math.floor(t))

    def to_time(self, d: date) -> float:
        """Calendar time of the start (midnight) of date ``d``.

        Args:
            d: A date; a naive :class:`datetime` also contributes its time of day.

        Returns:
            Calendar days since ``start`` (negative before ``start``).
        """
        if isinstance(d, datetime):
            delta = d - datetime.combine(self.start, datetime.min.time())
            return delta.total_seconds() / 86400.0
        return float((d - self.start).days)

    def working_days_in(self, year: int) -> int:
        """Number of working days in calendar year ``year``.

        Args:
            year: Calendar year; must not begin before ``start``. The table is extended
                (Mon–Fri pattern) if the year reaches beyond it.

        Returns:
            Count of working days from Jan 1 to Dec 31 of ``year``.

        Raises:
            ValueError: If Jan 1 of ``year`` precedes ``start``.
        """
        k0 = (date(year, 1, 1) - self.start).days
        if k0 < 0:
            raise ValueError(f"year {year} begins before calendar start {self.start}")
        k1 = (date(year + 1, 1, 1) - self.start).days
        self._ensure_days(k1)
        return round(self._cum_list[k1] - self._cum_list[k0])

    def __repr__(self) -> str:
        mode = "all_working" if self.all_working else f"country={self.country!r}"
        return (
            f"WorkCalendar({self.start}..{self.end}, {mode}, n_days={self._n}, "
            f"estimated_years={self.estimated_years})"
        )


def build_calendar(sc: Scenario) -> WorkCalendar:
    """The authority's working-day calendar for a scenario (its ``calendar:`` section
    over its horizon)."""
    c = sc.calendar
    return WorkCalendar(
        sc.start,
        sc.end,
        country=c.country,
        extra_holidays=c.extra_holidays,
        extra_workdays=c.extra_workdays,
        all_working=c.all_working,
    )
