"""§五(一) "成立由分管副市长为主任的首届韶关市政府质量奖评审委员会": the committee's appointment, recorded.

The roster makes a member reachable (role `committee`); `appoint` records *why he sits*: his office, the
appointing document, from which day. Who chairs is decided by office, not by the roster: the member appointed
in the configured chair office (`[award.committee] chair_office`, the seed's 分管副市长) becomes
`committee_chair`, and any other chair becomes a member (one chair). Re-appointing a member (a new office or
document) replaces his record. Audited `committee.appoint`; the member is told.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.committee.models import CommitteeAppointment
from workflows.core import access, audit, notices, people
from workflows.core.errors import InvalidInput, NotFound
from workflows.core.models import Person
from workflows.core.settings import Settings

ELECTORATE = ("committee", "committee_chair")
OFFICE_MAX, DOCUMENT_MAX = 100, 200


def _norm(value: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def _member(session: Session, who: str) -> Person:
    """The active committee member named by userid, or by a name exactly one active member bears."""
    who = who.strip()
    person = people.get(session, who) if who else None
    if person is None and who:
        named = [p for p in session.scalars(select(Person).where(Person.active.is_(True))) if _norm(p.name) == _norm(who)]
        person = named[0] if len(named) == 1 else None
    if person is None:
        raise NotFound("appoint_unknown", userid=who)
    if person.role not in ELECTORATE:
        raise InvalidInput("appoint_not_committee", userid=person.userid, role=person.role)
    return person


def appointments(session: Session, settings: Settings) -> list[CommitteeAppointment]:
    """The edition's appointments, the chair first, then by userid."""
    rows = session.scalars(select(CommitteeAppointment).where(CommitteeAppointment.edition == settings.award.edition_key))
    return sorted(rows, key=lambda a: (not a.chair, a.userid))


def composition(session: Session, settings: Settings) -> dict[str, Any]:
    """For display: each appointment with the member's name and whether he is still active, the chair office, and
    the active committee members with no appointment recorded."""
    rows = appointments(session, settings)
    shown = []
    for a in rows:
        p = session.get(Person, a.userid)
        shown.append({"userid": a.userid, "name": p.name if p else a.userid, "office": a.office,
                      "document": a.document, "from": a.effective_from, "chair": a.chair,
                      "active": bool(p and p.active and p.role in ELECTORATE)})
    recorded = {a.userid for a in rows}
    missing = [{"userid": p.userid, "name": p.name} for p in people.with_role(session, *ELECTORATE)
               if p.userid not in recorded]
    return {"appointments": shown, "missing": missing, "chair_office": settings.award.committee.chair_office}


@access.guarded("committee.appoint")
def appoint(session: Session, settings: Settings, *, actor: str, now: dt.datetime, who: str, office: str,
            document: str, effective_from: dt.date) -> CommitteeAppointment:
    """Record a committee member's appointment; the chair office makes him the chair (the previous chair a
    member); audited, the member told."""
    office, document = " ".join(office.split()), " ".join(document.split())
    if not office or len(office) > OFFICE_MAX:
        raise InvalidInput("appoint_bad_office", max=OFFICE_MAX)
    if not document or len(document) > DOCUMENT_MAX:
        raise InvalidInput("appoint_bad_document", max=DOCUMENT_MAX)
    person = _member(session, who)
    chair = _norm(office) == _norm(settings.award.committee.chair_office)
    edition = settings.award.edition_key
    row = session.scalar(select(CommitteeAppointment).where(CommitteeAppointment.edition == edition,
                                                            CommitteeAppointment.userid == person.userid))
    previous = None if row is None else {"office": row.office, "document": row.document, "from": row.effective_from}
    if row is None:
        row = CommitteeAppointment(edition=edition, userid=person.userid)
        session.add(row)
    row.office, row.document, row.effective_from, row.chair = office, document, effective_from.isoformat(), chair
    row.recorded_by, row.recorded_at = actor, now
    stepped_down = []
    if chair:
        for other in appointments(session, settings):
            if other.userid != person.userid and other.chair:
                other.chair = False
        for p in people.with_role(session, "committee_chair"):
            if p.userid != person.userid:
                p.role, p.updated_at = "committee", now
                stepped_down.append(p.userid)
        person.role, person.updated_at = "committee_chair", now
    elif person.role == "committee_chair":
        person.role, person.updated_at = "committee", now    # the chair is whoever holds the chair office
        stepped_down.append(person.userid)
    session.flush()
    audit.record(session, actor=actor, action="committee.appoint", subject=f"appointment:{row.id}", now=now,
                 userid=person.userid, office=office, document=document, effective_from=row.effective_from,
                 chair=chair, previous=previous, chairs_stepped_down=stepped_down)
    notices.notify(session, person.userid, "committee.appointed", now=now, name=person.name, office=office,
                   document=document, effective_from=row.effective_from, chair=chair)
    return row
