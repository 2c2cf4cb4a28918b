"""Tests for :mod:`simulator.world.calendar`."""

from __future__ import annotations

import time
from datetime import date, timedelta

import holidays
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.world.calendar import WorkCalendar

START = date(2025, 1, 1)
END = date(2027, 12, 31)
CAL = WorkCalendar(START, END)
HORIZON = float((END - START).days + 1)  # calendar days in [START, END]
W_MAX = float(CAL.work_time(HORIZON))

times = st.floats(min_value=0.0, max_value=HORIZON, allow_nan=False, allow_infinity=False)
works = st.floats(min_value=0.0, max_value=W_MAX, allow_nan=False, allow_infinity=False)
spans = st.floats(min_value=0.0, max_value=300.0, allow_nan=False, allow_infinity=False)


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# ---------------------------------------------------------------- known 2025 facts


def test_45_working_days_from_qingming() -> None:
    """45 working days counted from the start (00:00) of Fri 2025-04-04.

    Apr 4 is itself a holiday (Qingming, Apr 4-6), so the first working day is Mon Apr 7;
    with Sun Apr 27 worked (调休) and the Labour Day (May 1-5) and Dragon Boat (May 31-Jun 2)
    breaks, the 45th full working day is Wed 2025-06-11. ``add_work`` returns the moment the
    work completes, i.e. the midnight *ending* that day (t = start of Jun 12), so the day is
    named with ``to_date(t - eps)``.
    """
    t0 = CAL.to_time(date(2025, 4, 4))
    t1 = CAL.add_work(t0, 45)
    assert CAL.to_date(t1 - 1e-9) == date(2025, 6, 11)
    assert t1 == CAL.to_time(date(2025, 6, 12))
    assert CAL.working_days_between(t0, t1) == pytest.approx(45.0)
    # Working 44.5 days ends at noon of the 45th working day.
    assert CAL.add_work(t0, 44.5) == pytest.approx(CAL.to_time(date(2025, 6, 11)) + 0.5)


def test_whole_days_end_before_weekend() -> None:
    """A deadline falling at the end of a Friday is that Friday's midnight, not Monday's."""
    fri = CAL.to_time(date(2025, 3, 7))
    assert CAL.add_work(fri, 1.0) == fri + 1.0
    assert CAL.calendar_time(CAL.work_time(fri + 1.0)) == fri + 1.0
    # Starting on Saturday, one working day ends at the end of Monday.
    sat = CAL.to_time(date(2025, 3, 8))
    assert CAL.add_work(sat, 1.0) == CAL.to_time(date(2025, 3, 11))


def test_rounding_does_not_jump_weekend() -> None:
    """Float rounding just above a whole working day snaps to the end of that day."""
    fri = CAL.to_time(date(2025, 3, 7))
    t1 = CAL.add_work(fri, 0.4)
    w = CAL.work_time(fri + 1.0)
    assert CAL.work_time(t1) + 0.6 > w  # rounds up by one ulp...
    assert CAL.add_work(t1, 0.6) == fri + 1.0  # ...yet still ends Friday, not Monday
    assert CAL.calendar_time(w + 1e-12) == fri + 1.0
    assert CAL.calendar_time(w + 1e-6) == pytest.approx(fri + 3.0 + 1e-6)  # Monday


def test_spring_festival_2025() -> None:
    assert CAL.is_working(CAL.to_time(date(2025, 1, 26)))  # Sunday, 调休 workday
    for day in range(28, 32):
        assert not CAL.is_working(CAL.to_time(date(2025, 1, day)))
    assert not CAL.is_working(CAL.to_time(date(2025, 2, 1)))
    assert CAL.is_working(CAL.to_time(date(2025, 2, 8)))  # Saturday, 调休 workday
    assert not CAL.is_working(CAL.to_time(date(2025, 2, 9)))  # ordinary Sunday


def test_working_days_2025() -> None:
    assert CAL.working_days_in(2025) == 248
    cal = WorkCalendar(date(2024, 6, 1), date(2024, 12, 31))
    assert cal.working_days_in(2025) == 248  # year lying in the padding
    with pytest.raises(ValueError):
        cal.working_days_in(2024)  # begins before start


@pytest.mark.parametrize("year", [2025, 2026])
def test_agrees_with_holidays_package(year: int) -> None:
    hol = holidays.country_holidays("CN", years=[year])
    days = _dates(date(year, 1, 1), date(year, 12, 31))
    got = CAL.is_working(np.array([CAL.to_time(d) for d in days]))
    for d, g in zip(days, got, strict=True):
        expected = d not in hol and (d.weekday() < 5 or d in hol.weekend_workdays)
        assert bool(g) == expected, d
        assert bool(g) == hol.is_working_day(d), d


def test_estimated_years() -> None:
    assert CAL.estimated_years == (2027,)
    assert not CAL.is_estimated(CAL.to_time(date(2025, 6, 1)))
    assert not CAL.is_estimated(CAL.to_time(date(2026, 12, 31)))
    assert CAL.is_estimated(CAL.to_time(date(2027, 1, 1)))
    flags = CAL.is_estimated(np.array([0.0, CAL.to_time(date(2027, 3, 1))]))
    assert flags.tolist() == [False, True]
    # Padding reaches 2028 but only the horizon counts for estimated_years.
    short = WorkCalendar(date(2025, 1, 1), date(2025, 12, 31))
    assert short.estimated_years == ()
    assert short.is_estimated(short.to_time(date(2027, 6, 1)))
    assert WorkCalendar(START, END, country=None).estimated_years == ()


def test_table_arrays() -> None:
    assert CAL.n_days == CAL.working.size == CAL.dates.size == CAL.cum.size - 1
    assert CAL.dates[0] == np.datetime64("2025-01-01")
    assert CAL.dates.dtype == np.dtype("datetime64[D]")
    assert CAL.cum[0] == 0.0
    np.testing.assert_array_equal(np.diff(CAL.cum), CAL.working.astype(float))
    assert CAL.n_days >= (END - START).days + 1 + 800


# ---------------------------------------------------------------- variants


def test_extra_overrides() -> None:
    strike = date(2025, 3, 12)  # Wednesday
    make_up = date(2025, 3, 15)  # Saturday
    cal = WorkCalendar(START, END, extra_holidays=[strike], extra_workdays=[make_up])
    assert not cal.is_working(cal.to_time(strike))
    assert cal.is_working(cal.to_time(make_up))
    assert cal.working_days_in(2025) == 248
    # Overrides win over the package: a statutory holiday made working.
    cal2 = WorkCalendar(START, END, extra_workdays=[date(2025, 10, 1)])
    assert cal2.is_working(cal2.to_time(date(2025, 10, 1)))
    assert cal2.working_days_in(2025) == 249
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(START, END, extra_holidays=[strike], extra_workdays=[strike])


def test_all_working_identity() -> None:
    cal = WorkCalendar(START, END, all_working=True)
    t = np.linspace(0.0, 2000.0, 4001)  # also beyond the padded table
    np.testing.assert_array_equal(cal.work_time(t), t)
    np.testing.assert_allclose(cal.calendar_time(t), t, atol=1e-12)
    assert cal.add_work(3.25, 10.5) == pytest.approx(13.75)
    assert cal.estimated_years == ()


def test_country_none_is_mon_fri() -> None:
    cal = WorkCalendar(START, END, country=None)
    days = _dates(START, END)
    got = cal.is_working(np.array([cal.to_time(d) for d in days]))
    assert got.tolist() == [d.weekday() < 5 for d in days]
    assert cal.is_working(cal.to_time(date(2025, 1, 1)))  # New Year is just a Wednesday


def test_extension_beyond_table() -> None:
    cal = WorkCalendar(date(2025, 1, 1), date(2025, 1, 31), padding_days=0)
    n0 = cal.n_days
    t = cal.add_work(0.0, 500.0)  # far beyond 31 tabulated days
    assert cal.n_days > n0
    assert cal.work_time(t) == pytest.approx(500.0)
    far = cal.to_time(date(2030, 3, 4))  # Monday, Mon-Fri pattern beyond the table
    assert cal.is_working(far) and not cal.is_working(far + 5)
    assert cal.is_estimated(far)


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        CAL.work_time(-0.5)
    with pytest.raises(ValueError):
        CAL.calendar_time(np.array([1.0, -1.0]))
    with pytest.raises(ValueError):
        CAL.add_work(1.0, -1.0)
    with pytest.raises(ValueError):
        CAL.work_time(float("nan"))
    with pytest.raises(ValueError):
        WorkCalendar(END, START)
    with pytest.raises(ValueError):
        WorkCalendar(START, END, country="US")


def test_date_helpers() -> None:
    assert CAL.to_time(START) == 0.0
    assert CAL.to_date(0.999) == START
    assert CAL.to_date(CAL.to_time(date(2026, 7, 9)) + 0.3) == date(2026, 7, 9)
    assert CAL.calendar_time(0.0) == 0.0
    assert CAL.add_work(7.3, 0.0) == 7.3


def test_construction_fast() -> None:
    t = time.perf_counter()
    WorkCalendar(date(2025, 1, 1), date(2027, 12, 31))
    assert time.perf_counter() - t < 0.05


# ---------------------------------------------------------------- properties


@given(times, times)
def test_work_time_monotone(a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    assert CAL.work_time(lo) <= CAL.work_time(hi)
    assert 0.0 <= CAL.work_time(hi) - CAL.work_time(lo) <= hi - lo + 1e-9


@given(times)
def test_calendar_time_left_inverse(t: float) -> None:
    assert CAL.calendar_time(CAL.work_time(t)) <= t + 1e-9


@given(works)
def test_calendar_time_right_inverse(w: float) -> None:
    t = CAL.calendar_time(w)
    assert CAL.work_time(t) == pytest.approx(w, abs=1e-9)
    # Earliest: just before t strictly less work had elapsed (when w > 0).
    if w > 1e-6 and t > 1e-6:
        assert CAL.work_time(t - 1e-6) < w


@given(times, spans, spans)
def test_add_work_additive(t: float, a: float, b: float) -> None:
    """add_work(t, a + b) == add_work(add_work(t, a), b), up to a zero-work stretch.

    ``calendar_time`` jumps across non-working stretches, so when rounding (or amounts below
    the 1e-10 snap resolution) puts the two sides on either side of a whole working day,
    one side is the end of a working day and the other a moment later after the weekend /
    holiday: they still agree in working time and no work lies between them.
    """
    lhs = CAL.add_work(t, a + b)
    rhs = CAL.add_work(CAL.add_work(t, a), b)
    assert lhs >= t
    if lhs != pytest.approx(rhs, abs=1e-6):
        lo, hi = min(lhs, rhs), max(lhs, rhs)
        assert CAL.working_days_between(lo, hi) == pytest.approx(0.0, abs=1e-9)
        assert not CAL.is_working(lo + 1e-6)
    assert CAL.working_days_between(t, lhs) == pytest.approx(a + b, abs=1e-9)


@settings(max_examples=50)
@given(
    st.lists(times, min_size=1, max_size=30),
    st.lists(works, min_size=1, max_size=30),
    spans,
)
def test_vectorised_equals_scalar(ts: list[float], ws: list[float], span: float) -> None:
    ta, wa = np.array(ts), np.array(ws)
    assert CAL.work_time(ta).tolist() == [CAL.work_time(t) for t in ts]
    assert CAL.calendar_time(wa).tolist() == [CAL.calendar_time(w) for w in ws]
    assert CAL.add_work(ta, span).tolist() == [CAL.add_work(t, span) for t in ts]
    assert CAL.is_working(ta).tolist() == [CAL.is_working(t) for t in ts]
    assert CAL.is_estimated(ta).tolist() == [CAL.is_estimated(t) for t in ts]
    assert CAL.work_time(ta.reshape(-1, 1)).shape == (len(ts), 1)
