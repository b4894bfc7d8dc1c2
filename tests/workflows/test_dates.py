"""The one time parser for chat and the CLI: every accepted form, and what is refused."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from workflows.core.dates import UnreadableTime, parse_day, parse_when

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.timezone.utc)  # 2026-11-30 12:00 in Shanghai


def sh(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH).astimezone(dt.timezone.utc)


@pytest.mark.parametrize("text", ["2026-12-01", "2026/12/1", "2026/12/01", "2026.12.1", "12月1日", "12月1号",
                                  "2026年12月1日", " 2026-12-01 ", "2026-12-1"])
def test_a_date_alone_is_the_end_of_that_day_in_the_award_zone(text):
    assert parse_when(text, SH, now=NOW) == sh(2026, 12, 1, 23, 59, 59)


@pytest.mark.parametrize("text", ["2026-12-01 18:00", "2026/12/1 18:00", "12月1日 18:00", "12月1日18:00",
                                  "2026年12月1日 18:00", "2026年12月1日18:00", "2026-12-01T18:00",
                                  "2026-12-01 18：00", "2026-12-01\u300018:00", "2026-12-01 18:00:00"])
def test_a_date_with_a_time_is_that_moment_in_the_award_zone(text):
    assert parse_when(text, SH, now=NOW) == sh(2026, 12, 1, 18, 0)


def test_an_explicit_offset_wins():
    assert parse_when("2026-12-01T18:00+00:00", SH, now=NOW) == dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.timezone.utc)
    assert parse_when("2026-12-01T18:00Z", SH, now=NOW) == dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.timezone.utc)
    assert parse_when("2026-12-01 18:00+0800", SH, now=NOW) == sh(2026, 12, 1, 18, 0)


def test_without_a_year_the_next_such_date_counts():
    assert parse_when("11月30日", SH, now=NOW) == sh(2026, 11, 30, 23, 59, 59)  # today
    assert parse_when("11月29日", SH, now=NOW) == sh(2027, 11, 29, 23, 59, 59)  # yesterday: next year
    assert parse_when("1月5日 9:30", SH, now=NOW) == sh(2027, 1, 5, 9, 30)


def test_the_result_is_aware_utc():
    got = parse_when("2026-12-01", SH, now=NOW)
    assert got.tzinfo is not None and got.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("text", ["", "  ", "明天", "2026-13-01", "2026-02-30", "2026-12-01 25:00",
                                  "2026-12-01 18", "12/1", "2026-12-01 18:00 extra", "1 December", "20261201",
                                  "2026-12-01T", "12月32日", "18:00"])
def test_anything_else_is_refused_with_the_text(text):
    with pytest.raises(UnreadableTime) as err:
        parse_when(text, SH, now=NOW)
    assert err.value.code == "bad_time" and err.value.data["text"] == text[:40]


@pytest.mark.parametrize("text,day", [("2019-03-20", dt.date(2019, 3, 20)), ("2019/3/20", dt.date(2019, 3, 20)),
                                      ("2019年3月20日", dt.date(2019, 3, 20)), ("3月20日", dt.date(2027, 3, 20))])
def test_a_day(text, day):
    assert parse_day(text, SH, now=NOW) == day


@pytest.mark.parametrize("text", ["2019-03-20 18:00", "2019-02-30", "March", ""])
def test_a_day_refuses_times_and_nonsense(text):
    with pytest.raises(UnreadableTime) as err:
        parse_day(text, SH, now=NOW)
    assert err.value.data["day_only"] is True
