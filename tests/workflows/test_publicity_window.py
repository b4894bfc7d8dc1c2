"""Public-notice windows in calendar days, local-day arithmetic and reminder quiet hours."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.core.dates import add_days_local, quiet_hours_shift
from workflows.publicity.window import WindowState, is_open, notice_window, state

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
US = timedelta(microseconds=1)


def sh(*args: int) -> datetime:
    """A Shanghai local time (test helper)."""
    return datetime(*args, tzinfo=SH)


def utc(*args: int) -> datetime:
    """A UTC time (test helper)."""
    return datetime(*args, tzinfo=UTC)


# --- notice_window --------------------------------------------------------------------


def test_publication_day_counts_as_day_one():
    window = notice_window(sh(2019, 2, 1, 10, 0), 10, SH)
    assert window.last_day == date(2019, 2, 10)
    assert window.start == utc(2019, 2, 1, 2, 0)
    assert window.end == utc(2019, 2, 10, 16, 0)  # 2019-02-11 00:00 Shanghai
    assert window.start.tzinfo is UTC and window.end.tzinfo is UTC


def test_counting_from_the_day_after_publication():
    window = notice_window(sh(2019, 2, 1, 10, 0), 10, SH, start_day_counts=False)
    assert window.last_day == date(2019, 2, 11)
    assert window.end == utc(2019, 2, 11, 16, 0)


@pytest.mark.parametrize(
    ("start", "counts", "last_day"),
    [
        (sh(2019, 2, 25, 9, 0), True, date(2019, 3, 6)),  # February has 28 days in 2019
        (sh(2019, 2, 25, 9, 0), False, date(2019, 3, 7)),
        (sh(2020, 2, 25, 9, 0), True, date(2020, 3, 5)),  # leap year: 2020-02-29 is a day
        (sh(2020, 2, 25, 9, 0), False, date(2020, 3, 6)),
        (sh(2019, 12, 28, 9, 0), True, date(2020, 1, 6)),  # across the year end
        (sh(2019, 12, 28, 9, 0), False, date(2020, 1, 7)),
        (sh(2019, 1, 31, 9, 0), True, date(2019, 2, 9)),
    ],
)
def test_window_across_month_leap_and_year_ends(start, counts, last_day):
    window = notice_window(start, 10, SH, start_day_counts=counts)
    assert window.last_day == last_day
    last_instant = (window.end - US).astimezone(SH)
    assert last_instant.date() == last_day
    assert (last_instant.hour, last_instant.minute, last_instant.second) == (23, 59, 59)
    assert last_instant.microsecond == 999999


def test_start_day_is_the_local_day_not_the_utc_day():
    # 20:00 UTC on 31 January is already 1 February in Shanghai.
    window = notice_window(utc(2019, 1, 31, 20, 0), 10, SH)
    assert window.last_day == date(2019, 2, 10)


def test_window_in_a_dst_zone_ends_at_local_midnight():
    # New York springs forward on 2019-03-10: the window is one hour shorter than 10 x 24 h.
    start = datetime(2019, 3, 5, 12, 0, tzinfo=NY)
    window = notice_window(start, 10, NY)
    assert window.last_day == date(2019, 3, 14)
    assert window.end == utc(2019, 3, 15, 4, 0)  # 00:00 EDT
    assert window.end.astimezone(NY).hour == 0


def test_window_ending_after_fall_back():
    window = notice_window(datetime(2019, 11, 1, 9, 0, tzinfo=NY), 3, NY)
    assert window.end == utc(2019, 11, 4, 5, 0)  # 00:00 EST


def test_window_ending_on_a_day_whose_midnight_does_not_exist():
    # Sao Paulo skipped 2018-11-04 00:00-01:00; the next day begins at 01:00 local.
    tz = ZoneInfo("America/Sao_Paulo")
    window = notice_window(datetime(2018, 11, 2, 10, 0, tzinfo=tz), 2, tz)
    assert window.end == utc(2018, 11, 4, 3, 0)
    assert (window.end - US).astimezone(tz).date() == date(2018, 11, 3)
    assert window.end.astimezone(tz).date() == date(2018, 11, 4)


def test_state_at_the_edges():
    window = notice_window(sh(2019, 2, 1, 10, 0), 10, SH)
    assert state(window, sh(2019, 2, 1, 9, 59, 59)) is WindowState.BEFORE
    assert state(window, sh(2019, 2, 1, 10, 0)) == "open"
    assert state(window, sh(2019, 2, 10, 23, 59, 59, 999999)) is WindowState.OPEN
    assert state(window, sh(2019, 2, 11, 0, 0)) == "closed"
    assert is_open(window, sh(2019, 2, 5, 3, 0))
    assert not is_open(window, sh(2019, 2, 11, 0, 0))


def test_naive_or_empty_windows_are_refused():
    with pytest.raises(ValueError):
        notice_window(datetime(2019, 2, 1, 10, 0), 10, SH)
    with pytest.raises(ValueError):
        notice_window(sh(2019, 2, 1, 10, 0), 0, SH)
    window = notice_window(sh(2019, 2, 1, 10, 0), 10, SH)
    with pytest.raises(ValueError):
        state(window, datetime(2019, 2, 5, 10, 0))


# --- add_days_local -------------------------------------------------------------------


def test_add_days_keeps_local_wall_time_across_month_end():
    assert add_days_local(sh(2019, 1, 31, 10, 0), 1, SH) == utc(2019, 2, 1, 2, 0)
    assert add_days_local(sh(2020, 2, 28, 10, 0), 1, SH) == utc(2020, 2, 29, 2, 0)
    assert add_days_local(sh(2020, 3, 1, 10, 0), -1, SH) == utc(2020, 2, 29, 2, 0)


def test_add_days_across_dst_is_a_calendar_day_not_24_hours():
    before = datetime(2019, 3, 9, 12, 0, tzinfo=NY)
    after = add_days_local(before, 1, NY)
    assert after == utc(2019, 3, 10, 16, 0)
    assert after - before == timedelta(hours=23)


def test_add_days_onto_a_skipped_or_repeated_wall_time():
    # 02:30 does not exist on 2019-03-10 in New York: it lands at 03:30 EDT.
    assert add_days_local(datetime(2019, 3, 9, 2, 30, tzinfo=NY), 1, NY) == utc(2019, 3, 10, 7, 30)
    # 01:30 happens twice on 2019-11-03: the first (EDT) one is chosen.
    assert add_days_local(datetime(2019, 11, 2, 1, 30, tzinfo=NY), 1, NY) == utc(2019, 11, 3, 5, 30)


# --- quiet_hours_shift ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (sh(2019, 2, 1, 21, 59), sh(2019, 2, 1, 21, 59)),
        (sh(2019, 2, 1, 22, 0), sh(2019, 2, 2, 8, 30)),
        (sh(2019, 2, 2, 0, 0), sh(2019, 2, 2, 8, 30)),
        (sh(2019, 2, 2, 7, 59), sh(2019, 2, 2, 8, 30)),
        (sh(2019, 2, 2, 8, 0), sh(2019, 2, 2, 8, 0)),
        (sh(2019, 2, 28, 23, 30), sh(2019, 3, 1, 8, 30)),
        (sh(2019, 12, 31, 23, 0), sh(2020, 1, 1, 8, 30)),
    ],
)
def test_quiet_hours_postpone_to_the_morning(when, expected):
    assert quiet_hours_shift(when, tz=SH) == expected


def test_quiet_hours_are_judged_in_local_time_and_returned_in_utc():
    shifted = quiet_hours_shift(utc(2019, 2, 1, 14, 0), tz=SH)  # 22:00 in Shanghai
    assert shifted == utc(2019, 2, 2, 0, 30)
    assert shifted.tzinfo is UTC
    awake = utc(2019, 2, 1, 13, 59)
    assert quiet_hours_shift(awake, tz=SH) is awake


def test_quiet_hours_come_from_configuration():
    lunch = {"start": "12:00", "end": "14:00", "resume": "14:00"}
    assert quiet_hours_shift(sh(2019, 2, 1, 12, 30), tz=SH, **lunch) == sh(2019, 2, 1, 14, 0)
    assert quiet_hours_shift(sh(2019, 2, 1, 23, 0), tz=SH, **lunch) == sh(2019, 2, 1, 23, 0)
    off = {"start": "22:00", "end": "22:00", "resume": "08:30"}
    assert quiet_hours_shift(sh(2019, 2, 1, 23, 0), tz=SH, **off) == sh(2019, 2, 1, 23, 0)


def test_quiet_hours_in_a_dst_zone():
    # The night New York springs forward: resume at 08:30 EDT.
    night = datetime(2019, 3, 9, 23, 0, tzinfo=NY)
    assert quiet_hours_shift(night, tz=NY) == utc(2019, 3, 10, 12, 30)


def test_resume_inside_quiet_hours_is_a_configuration_error():
    with pytest.raises(ValueError):
        quiet_hours_shift(sh(2019, 2, 1, 23, 0), tz=SH, resume="07:00")
