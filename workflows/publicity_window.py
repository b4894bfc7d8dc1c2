"""Calendar-day windows and quiet hours (public notice, DOMAIN §三(八)1; reminder timing).

Pure date arithmetic on aware datetimes. Days are *calendar days in the given timezone*, not
24-hour periods, so the rules hold across month ends, leap days, year ends and DST changes.
Every returned instant is an aware UTC datetime; callers store UTC and show local time.

Window convention (half-open): a window is open while ``start <= now < end``. ``end`` is the first
instant *after* the window, i.e. local midnight at the start of the day after ``last_day``; the last
open instant is therefore 23:59:59.999999 local time on ``last_day``, with no gap and no overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Window:
    """A half-open period [start, end) in UTC, with its last local calendar day for display."""

    start: datetime
    end: datetime
    last_day: date


class WindowState(StrEnum):
    """Where a moment lies relative to a window."""

    BEFORE = "before"
    OPEN = "open"
    CLOSED = "closed"


def _require_aware(value: datetime, name: str) -> None:
    """Refuse naive datetimes: a naive moment has no defined instant."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on a local day.

    A wall time skipped by a DST jump maps to the same distance past the jump (fold=0 uses the
    offset in force before it); a repeated wall time maps to its first occurrence.
    """
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=tz)
    return local.astimezone(UTC)


def add_days_local(dt: datetime, days: int, tz: ZoneInfo) -> datetime:
    """Move `dt` by `days` calendar days keeping its local wall-clock time; return UTC."""
    _require_aware(dt, "dt")
    local = dt.astimezone(tz)
    return _local_instant(local.date() + timedelta(days=days), local.time(), tz)


def notice_window(
    start: datetime, days: int, tz: ZoneInfo, *, start_day_counts: bool = True
) -> Window:
    """The public-notice window of `days` calendar days in `tz`, opening at `start`.

    With `start_day_counts` the publication day is day 1 (2019-02-01 10:00 for 10 days is open
    until the end of 2019-02-10 local); without it counting starts the next day (end of 02-11).
    """
    _require_aware(start, "start")
    if days < 1:
        raise ValueError(f"days={days} must be at least 1")
    first_day = start.astimezone(tz).date()
    last_day = first_day + timedelta(days=days - 1 if start_day_counts else days)
    end = _local_instant(last_day + timedelta(days=1), time(0), tz)
    return Window(start=start.astimezone(UTC), end=end, last_day=last_day)


def state(window: Window, now: datetime) -> WindowState:
    """Say whether `now` is before, inside or after the window."""
    _require_aware(now, "now")
    if now < window.start:
        return WindowState.BEFORE
    if now < window.end:
        return WindowState.OPEN
    return WindowState.CLOSED


def is_open(window: Window, now: datetime) -> bool:
    """True while the window is open at `now`."""
    return state(window, now) is WindowState.OPEN


def _as_time(value: str | time) -> time:
    """Accept "HH:MM" (or any ISO time) from configuration, or a time object; local wall time."""
    parsed = value if isinstance(value, time) else time.fromisoformat(value)
    return parsed.replace(tzinfo=None)


def _in_quiet(wall: time, start: time, end: time) -> bool:
    """True when a local wall time is in the quiet period [start, end), possibly over midnight."""
    if start == end:
        return False
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def quiet_hours_shift(
    when: datetime,
    *,
    tz: ZoneInfo,
    start: str | time = "22:00",
    end: str | time = "08:00",
    resume: str | time = "08:30",
) -> datetime:
    """Postpone a moment in local quiet hours [start, end) to the next local `resume` time (UTC).

    Moments outside quiet hours are returned unchanged; equal start and end mean no quiet hours.
    """
    _require_aware(when, "when")
    start_t, end_t, resume_t = _as_time(start), _as_time(end), _as_time(resume)
    if _in_quiet(resume_t, start_t, end_t):
        raise ValueError(f"resume {resume_t} lies inside the quiet hours {start_t}-{end_t}")
    local = when.astimezone(tz)
    if not _in_quiet(local.time(), start_t, end_t):
        return when
    candidate = _local_instant(local.date(), resume_t, tz)
    if candidate <= when:
        candidate = _local_instant(local.date() + timedelta(days=1), resume_t, tz)
    return candidate
