"""Sample step for the site visits: one visit per candidate, proposed by the secretariat, confirmed by the enterprise."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from workflows import scoring
from workflows.core import dates, people
from workflows.core.settings import Settings
from workflows.scoring import visits

ITINERARY = "09:00 首次会议与企业汇报；10:00 查看生产和服务现场；14:00 查阅资料、访谈员工；16:30 末次会议"


def ensure_visits(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Each site-visit candidate with assigned experts gets a visit (days after `now`, 09:00) the enterprise confirmed."""
    actor = people.with_role(session, "secretariat")[0].userid
    assigned = scoring.assignments(session, settings, visits.STAGE)
    today = now.astimezone(settings.award.tz).date()
    for i, (app, visit) in enumerate(visits.all_visits(session, settings)):
        if visit is not None or app.id not in assigned:
            continue
        starts_at = dates.local_instant(today + dt.timedelta(days=2 + i), dt.time(9, 0), settings.award.tz)
        visit = visits.propose(session, settings, actor=actor, now=now, number=app.number, starts_at=starts_at,
                               experts=assigned[app.id], itinerary=ITINERARY)
        visits.confirm(session, settings, actor=app.applicant, now=now, visit_id=visit.id, version=visit.version)
