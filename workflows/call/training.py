"""Stage 4 (宣贯会暨培训, by 9-30): the event, its notice, sign-up by card, attendance, materials and the report.

The notice goes to the recommending units and to the enterprises already known (any application of the
edition); anyone else who is not on the roster can ask for the card with `培训`. The bot tells the verb who
signs up for which unit and area (region or department), so this stage needs nothing of the later ones.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people, stages
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.models import CardTask
from workflows.core.settings import Settings

from .models import TrainingEvent, TrainingMaterial, TrainingSignup

CARD = "training.invite"
TITLE_MAX, PLACE_MAX = 200, 200


def event(session: Session, settings: Settings) -> TrainingEvent | None:
    """This edition's training event, if one was announced."""
    return session.scalar(select(TrainingEvent).where(TrainingEvent.edition == settings.award.edition_key))


def require_event(session: Session, settings: Settings, *, managing: bool = False) -> TrainingEvent:
    """The training event, or NotFound: `training_none` tells whoever would sign up that the cards will come,
    `training_not_announced` (`managing`) tells the secretariat there is nothing to record or count yet."""
    ev = event(session, settings)
    if ev is None:
        raise NotFound("training_not_announced" if managing else "training_none")
    return ev


def event_data(ev: TrainingEvent) -> dict:
    """What notices and cards show of the event."""
    return {"event_id": ev.id, "title": ev.title, "starts_at": ev.starts_at, "place": ev.place}


@access.guarded("training.manage")
def announce(session: Session, settings: Settings, *, actor: str, now: dt.datetime, title: str, starts_at: dt.datetime,
             place: str, invite: list[str]) -> TrainingEvent:
    """Announce the training and send the sign-up card to the recommending units and to `invite` (enterprises)."""
    title, place = title.strip(), place.strip()
    if not title or len(title) > TITLE_MAX or not place or len(place) > PLACE_MAX:
        raise InvalidInput("training_bad_text")
    if starts_at <= now:
        raise InvalidInput("training_in_past", starts_at=starts_at)
    if event(session, settings) is not None:
        raise AlreadyDone("training_exists")
    stages.require_open(session, settings, "training", now=now)
    ev = TrainingEvent(edition=settings.award.edition_key, title=title, starts_at=starts_at, place=place,
                       created_by=actor, created_at=now)
    session.add(ev)
    session.flush()
    units = [p.userid for p in people.with_role(session, "recommender")]
    for userid in dict.fromkeys([*units, *invite]):
        invite_card(session, settings, ev, userid, now=now)
    audit.record(session, actor=actor, action="training.announced", subject=f"training:{ev.id}", now=now,
                 title=title, starts_at=starts_at.isoformat(), place=place, invited=len(set(units) | set(invite)))
    return ev


def invite_card(session: Session, settings: Settings, ev: TrainingEvent, userid: str, *, now: dt.datetime) -> CardTask:
    """Send (or send again) the sign-up card to one member."""
    return notices.send_card(session, userid, CARD, subject=f"training:{ev.id}", now=now,
                             options=list(range(1, settings.award.call.training_signup_max + 1)), **event_data(ev))


@access.guarded("training.signup")
def sign_up(session: Session, settings: Settings, *, actor: str, now: dt.datetime, count: int, name: str, unit: str,
            area: str) -> TrainingSignup:
    """Sign up (or change the sign-up: 0 declines) for the training until it starts; audited."""
    ev = require_event(session, settings)
    if now >= ev.starts_at:
        raise InvalidInput("training_started", starts_at=ev.starts_at)
    if not 0 <= count <= settings.award.call.training_signup_max:
        raise InvalidInput("training_bad_count", max=settings.award.call.training_signup_max)
    row = session.scalar(select(TrainingSignup).where(TrainingSignup.event_id == ev.id, TrainingSignup.userid == actor))
    if row is None:
        row = TrainingSignup(event_id=ev.id, userid=actor, signed_at=now)
        session.add(row)
    row.name, row.unit, row.area, row.count, row.signed_at = name[:100], unit[:200], area[:100], count, now
    session.flush()
    audit.record(session, actor=actor, action="training.signup", subject=f"training:{ev.id}", now=now, count=count)
    return row


@access.guarded("training.manage")
def record_attendance(session: Session, settings: Settings, *, actor: str, now: dt.datetime, userid: str,
                      attended: int) -> TrainingSignup:
    """Record how many of a signed-up unit's people came (0: nobody); audited. Walk-ins sign up first."""
    ev = require_event(session, settings, managing=True)
    row = session.scalar(select(TrainingSignup).where(TrainingSignup.event_id == ev.id, TrainingSignup.userid == userid))
    if row is None:
        raise NotFound("training_not_signed_up", userid=userid)
    if not 0 <= attended <= 50:
        raise InvalidInput("training_bad_count", max=50)
    row.attended, row.attended_at = attended, now
    audit.record(session, actor=actor, action="training.attendance", subject=f"training:{ev.id}", now=now,
                 userid=userid, attended=attended)
    return row


def signups(session: Session, settings: Settings, *, attending: bool = True) -> list[TrainingSignup]:
    """The sign-ups of this edition's training (only those coming, unless `attending` is False)."""
    ev = require_event(session, settings, managing=True)
    q = select(TrainingSignup).where(TrainingSignup.event_id == ev.id)
    if attending:
        q = q.where(TrainingSignup.count > 0)
    return list(session.scalars(q.order_by(TrainingSignup.area, TrainingSignup.unit, TrainingSignup.id)))


@dataclass(frozen=True)
class Material:
    """A course file already checked and stored in the document store."""

    sha256: str
    filename: str
    size: int
    kind: str


@access.guarded("training.manage")
def send_materials(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                   files: list[Material]) -> list[str]:
    """Send course materials to everyone signed up (recorded, so the sender can read them back); audited."""
    ev = require_event(session, settings, managing=True)
    if not files:
        raise InvalidInput("training_no_files")
    recipients = [s.userid for s in signups(session, settings)]
    if not recipients:
        raise NotFound("training_nobody")
    for f in files:
        session.add(TrainingMaterial(event_id=ev.id, sha256=f.sha256, filename=f.filename, size=f.size, kind=f.kind,
                                     sent_by=actor, sent_at=now))
    session.flush()
    for userid in recipients:
        notices.notify(session, userid, "training.materials", now=now, names=[f.filename for f in files],
                       **event_data(ev))
        for f in files:
            notices.send_file(session, userid, sha256=f.sha256, filename=f.filename, now=now)
    audit.record(session, actor=actor, action="training.materials", subject=f"training:{ev.id}", now=now,
                 files=[f.filename for f in files], recipients=len(recipients))
    return recipients


@dataclass(frozen=True)
class AreaRow:
    """One line of the attendance report: a region or department."""

    area: str
    units: int
    signed_up: int
    attended: int
    units_attended: int


def attendance_report(session: Session, settings: Settings) -> list[AreaRow]:
    """Sign-ups and attendance by region and department (configured order first, then the rest)."""
    by: dict[str, list[TrainingSignup]] = defaultdict(list)
    for row in signups(session, settings):
        by[row.area].append(row)
    order = [r.name for r in settings.award.regions] + list(settings.award.departments)
    keys = [a for a in order if a in by] + sorted(a for a in by if a not in order)
    return [AreaRow(area=a, units=len(by[a]), signed_up=sum(r.count for r in by[a]),
                    attended=sum(r.attended or 0 for r in by[a]),
                    units_attended=sum(1 for r in by[a] if r.attended)) for a in keys]
