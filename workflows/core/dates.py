"""The award's calendar: local days, quiet hours (pure date arithmetic on aware datetimes).

Days are *calendar days in the given timezone*, not 24-hour periods, so the rules hold across month
ends, leap days, year ends and DST changes. Every returned instant is an aware UTC datetime.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from workflows.core.errors import InvalidInput


def require_aware(value: datetime, name: str) -> None:
    """Refuse naive datetimes: a naive moment has no defined instant."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on a local day.

    A wall time skipped by a DST jump maps to the same distance past the jump (fold=0 uses the
    offset in force before it); a repeated wall time maps to its first occurrence.
    """
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=tz)
    return local.astimezone(UTC)


def add_days_local(dt: datetime, days: int, tz: ZoneInfo) -> datetime:
    """Move `dt` by `days` calendar days keeping its local wall-clock time; return UTC."""
    require_aware(dt, "dt")
    local = dt.astimezone(tz)
    return local_instant(local.date() + timedelta(days=days), local.time(), tz)


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
    require_aware(when, "when")
    start_t, end_t, resume_t = _as_time(start), _as_time(end), _as_time(resume)
    if _in_quiet(resume_t, start_t, end_t):
        raise ValueError(f"resume {resume_t} lies inside the quiet hours {start_t}-{end_t}")
    local = when.astimezone(tz)
    if not _in_quiet(local.time(), start_t, end_t):
        return when
    candidate = local_instant(local.date(), resume_t, tz)
    if candidate <= when:
        candidate = local_instant(local.date() + timedelta(days=1), resume_t, tz)
    return candidate


# -- what people type -------------------------------------------------------------------------------
# One grammar for chat and the CLI. A date alone means the end of that day (23:59:59) in the award's
# time zone, as deadlines in the configuration do; a time of day may follow the date.
_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})\.(?P<m>\d{1,2})\.(?P<d>\d{1,2})$"),
    re.compile(r"^(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]$"),
)
_TIME_FORM = re.compile(r"^(?P<h>\d{1,2})[:：](?P<mi>\d{2})(?:[:：](?P<s>\d{2}))?$")
END_OF_DAY = time(23, 59, 59)


class UnreadableTime(InvalidInput):
    """Text that is not a date (or date and time) in any accepted form; the reply lists the forms."""

    code = "bad_time"

    def __init__(self, text: str, *, day_only: bool = False) -> None:
        super().__init__(text=(text or "")[:40], day_only=day_only)


def _split(text: str) -> tuple[str, str]:
    text = " ".join(text.replace("\u3000", " ").split())
    if "T" in text and not text.startswith("T"):  # ISO 8601: 2026-12-01T18:00
        day, _, rest = text.partition("T")
        return day, rest or "T"  # a dangling T is not a date alone
    day, _, rest = text.partition(" ")
    if not rest:  # "12月1日18:00" or "2026年12月1日18:00" without a space
        m = re.match(r"^(.*?[日号])(\d.*)$", text)
        if m:
            return m.group(1), m.group(2)
    return day, rest


def _date(text: str, today: date) -> date:
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            year = int(m.group("y")) if m.group("y") else None
            month, day = int(m.group("m")), int(m.group("d"))
            try:
                if year is not None:
                    return date(year, month, day)
                # No year: the next such date, today included.
                candidate = date(today.year, month, day)
                return candidate if candidate >= today else date(today.year + 1, month, day)
            except ValueError:
                raise UnreadableTime(text) from None
    raise UnreadableTime(text)


def _time(text: str) -> tuple[time, tzinfo | None]:
    zone: tzinfo | None = None
    m = re.search(r"(Z|[+-]\d{2}:?\d{2})$", text)
    if m:
        spec = m.group(1)
        text = text[: m.start()]
        if spec == "Z":
            zone = UTC
        else:
            sign = 1 if spec[0] == "+" else -1
            digits = spec[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    m = _TIME_FORM.match(text)
    if not m:
        raise UnreadableTime(text)
    try:
        return time(int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0)), zone
    except ValueError:
        raise UnreadableTime(text) from None


def parse_when(text: str, tz: ZoneInfo, *, now: datetime) -> datetime:
    """A moment typed by a person, as aware UTC.

    Accepts `2026-12-01`, `2026/12/1`, `12月1日`, `2026年12月1日`, each optionally followed by a time
    `18:00` (or `18:00:30`), and ISO 8601 (`2026-12-01T18:00+08:00`). A date alone is 23:59:59 that day
    in `tz`; without a year it is the next such date from `now`; without an offset the time is `tz`'s.
    Raises UnreadableTime.
    """
    day_text, time_text = _split((text or "").strip())
    try:
        if not day_text:
            raise UnreadableTime(text)
        day = _date(day_text, now.astimezone(tz).date())
        if not time_text:
            return local_instant(day, END_OF_DAY, tz)
        wall, zone = _time(time_text)
    except UnreadableTime:
        raise UnreadableTime(text) from None
    if zone is not None:
        return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
    return local_instant(day, wall, tz)


def parse_day(text: str, tz: ZoneInfo, *, now: datetime) -> date:
    """A calendar day typed by a person (the date forms of `parse_when`, no time). Raises UnreadableTime."""
    day_text, time_text = _split((text or "").strip())
    try:
        if time_text or not day_text:
            raise UnreadableTime(text)
        return _date(day_text, now.astimezone(tz).date())
    except UnreadableTime:
        raise UnreadableTime(text, day_only=True) from None
