"""Where and when the public notice (公示) and the award announcement (表彰公告) appeared, channel by channel.

Seed §三(八)1: 通过市政府门户网站、韶关日报、韶关电视台、韶关发布等媒体公示（10天）. The notice's window starts when
the secretariat starts it; each medium publishes on its own day. The log (like the call's, `workflows.call.
publication`) records each channel's day and link; the public complaint page says from when the notice runs in
each channel, and `publicity log` names a channel whose notice runs fewer days than the rules ask.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit
from workflows.core.errors import InvalidInput
from workflows.core.settings import Settings
from workflows.publicity.award import current_approval
from workflows.publicity.models import NoticePublication
from workflows.publicity.record import current

WHAT = ("publicity", "award")
LINK_MAX = 500


def channel_names(settings: Settings) -> dict[str, str]:
    """The configured publicity channels with their names (the call's names for the same keys)."""
    names = settings.award.call.channel_names
    return {c: names.get(c, c) for c in settings.award.rules.publicity_channels}


def _first_day(session: Session, settings: Settings, what: str) -> dt.date | None:
    """The first day anything of `what` can have appeared: the notice's start, the announcement's day."""
    tz = settings.award.tz
    if what == "publicity":
        pub = current(session, settings)
        return pub.start.astimezone(tz).date() if pub else None
    approval = current_approval(session, settings)
    return approval.announced_at.astimezone(tz).date() if approval and approval.announced_at else None


@access.guarded("publicity.manage")
def record_publication(session: Session, settings: Settings, *, actor: str, now: dt.datetime, what: str,
                       channel: str, published_on: dt.date, link: str = "") -> NoticePublication:
    """Record that the notice (`publicity`) or the award announcement (`award`) appeared on `channel` on a day
    (with its link); audited. Only after the notice was started / the award announced, never for a future day."""
    if what not in WHAT:
        raise ValueError(f"what must be one of {WHAT}")
    names = channel_names(settings)
    if channel not in names:
        raise InvalidInput("notice_bad_channel", channel=channel, channels=list(names), names=names)
    link = link.strip()
    if len(link) > LINK_MAX or (link and not link.startswith(("http://", "https://"))):
        raise InvalidInput("call_bad_link", link=link[:80])
    first = _first_day(session, settings, what)
    if first is None:
        raise InvalidInput("notice_not_yet" if what == "publicity" else "award_not_announced_yet")
    today = now.astimezone(settings.award.tz).date()
    if not first <= published_on <= today:
        raise InvalidInput("notice_bad_day", day=published_on.isoformat(), first=first.isoformat(),
                           today=today.isoformat())
    row = NoticePublication(edition=settings.award.edition_key, what=what, channel=channel,
                            published_on=published_on, link=link, recorded_by=actor, recorded_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action=f"{what}.published", subject=f"notice_publication:{row.id}", now=now,
                 channel=channel, day=published_on.isoformat(), link=link)
    return row


def publications(session: Session, settings: Settings, what: str) -> list[NoticePublication]:
    """The publication log of the notice or the announcement, by day."""
    return list(session.scalars(select(NoticePublication).where(
        NoticePublication.edition == settings.award.edition_key, NoticePublication.what == what)
        .order_by(NoticePublication.published_on, NoticePublication.id)))


def by_channel(session: Session, settings: Settings, what: str) -> list[dict[str, Any]]:
    """Every configured channel with the first day `what` appeared there (None: not yet), its link, and for the
    notice how many of its days it runs there before the window ends (fewer than the rules ask: `short`)."""
    first: dict[str, NoticePublication] = {}
    for row in publications(session, settings, what):
        first.setdefault(row.channel, row)
    pub = current(session, settings) if what == "publicity" else None
    out = []
    for key, name in channel_names(settings).items():
        row = first.get(key)
        entry: dict[str, Any] = {"channel": key, "name": name, "since": row.published_on.isoformat() if row else None,
                                 "link": row.link if row else ""}
        if pub is not None and row is not None:
            last = dt.date.fromisoformat(pub.last_day)
            entry["days"] = max(0, (last - row.published_on).days + 1)
            entry["short"] = entry["days"] < pub.days
        out.append(entry)
    return out
