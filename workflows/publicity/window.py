"""Calendar-day windows of the public notice (DOMAIN §三(八)1); the date arithmetic is in core.dates.

Window convention (half-open): a window is open while ``start <= now < end``. ``end`` is the first
instant *after* the window, i.e. local midnight at the start of the day after ``last_day``; the last
open instant is therefore 23:59:59.999999 local time on ``last_day``, with no gap and no overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from workflows.core.dates import local_instant, require_aware


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


def notice_window(
    start: datetime, days: int, tz: ZoneInfo, *, start_day_counts: bool = True
) -> Window:
    """The public-notice window of `days` calendar days in `tz`, opening at `start`.

    With `start_day_counts` the publication day is day 1 (2019-02-01 10:00 for 10 days is open
    until the end of 2019-02-10 local); without it counting starts the next day (end of 02-11).
    """
    require_aware(start, "start")
    if days < 1:
        raise ValueError(f"days={days} must be at least 1")
    first_day = start.astimezone(tz).date()
    last_day = first_day + timedelta(days=days - 1 if start_day_counts else days)
    end = local_instant(last_day + timedelta(days=1), time(0), tz)
    return Window(start=start.astimezone(UTC), end=end, last_day=last_day)


def state(window: Window, now: datetime) -> WindowState:
    """Say whether `now` is before, inside or after the window."""
    require_aware(now, "now")
    if now < window.start:
        return WindowState.BEFORE
    if now < window.end:
        return WindowState.OPEN
    return WindowState.CLOSED


def is_open(window: Window, now: datetime) -> bool:
    """True while the window is open at `now`."""
    return state(window, now) is WindowState.OPEN
