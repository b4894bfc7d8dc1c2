"""Stage 8.1 公示: the public notice of the proposed winners, its window, and the verification report.

The window is `publicity_window.notice_window` over `award.rules.publicity_days` calendar days in the
award's time zone.  Role checks happen in the chat layer (router roles); the CLI is the operator's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import voting
from workflows.core import access, audit, notices, people, placeholders, stages
from workflows.publicity import window as publicity_window
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.models import ROLES
from workflows.apply.models import Application
from workflows.publicity.models import Complaint, Publicity
from workflows.publicity import places
from workflows.publicity.complaints import complaint_data
from workflows.publicity.secrecy import outgoing
from workflows.publicity.record import current, describe, require, window_data, window_of
from workflows.publicity.window import WindowState
from workflows.core.settings import Settings

STAGE = "publicity"


@dataclass(frozen=True)
class PublicityView:
    """What everyone may know about the notice: the window and the current proposed winners."""

    start: dt.datetime
    end: dt.datetime
    last_day: dt.date
    state: WindowState
    winners: tuple[dict[str, Any], ...]
    removed: tuple[dict[str, Any], ...]
    report_sent: bool


def view(session: Session, settings: Settings, *, now: dt.datetime) -> PublicityView:
    """The notice as it stands at `now`."""
    pub = require(session, settings)
    return PublicityView(pub.start, pub.end, dt.date.fromisoformat(pub.last_day),
                         publicity_window.state(window_of(pub), now),
                         tuple(describe(session, i) for i in pub.winners),
                         tuple(describe(session, i) for i in pub.removed), pub.report_sent_at is not None)


def _check_ids(session: Session, settings: Settings, ids: list[int], what: str) -> None:
    if len(set(ids)) != len(ids):
        raise InvalidInput("publicity_duplicate_ids", what=what)
    for app_id in ids:
        app = session.get(Application, app_id)
        if app is None or app.edition != settings.award.edition_key:
            raise InvalidInput("publicity_unknown_application", app_id=app_id)


def proposed(session: Session, settings: Settings) -> tuple[list[int], list[int]]:
    """The committee's result: its proposed winners (a closed, decided vote) and the next-ranked reserve."""
    winners = list(voting.proposed_winners(session, settings))
    if not winners:
        raise InvalidInput("publicity_vote_unavailable")
    return winners, [i for i in voting.ranked_candidates(session, settings) if i not in winners]


def runs_past_deadline(session: Session, settings: Settings, win: publicity_window.Window) -> dict[str, Any] | None:
    """When a notice window would end after the publicity stage's deadline (seed §三(八): 公示 before 2月25日):
    its last day and the deadline, else None."""
    deadline = stages.deadline(session, settings, STAGE)
    if win.end <= deadline:
        return None
    return {"last_day": win.last_day.isoformat(), "deadline": deadline.isoformat(),
            "days": settings.award.rules.publicity_days}


def planned_window(session: Session, settings: Settings, now: dt.datetime) -> publicity_window.Window:
    """The window a notice started at `now` would have."""
    rules = settings.award.rules
    return publicity_window.notice_window(now, rules.publicity_days, settings.award.tz,
                                          start_day_counts=rules.publicity_start_day_counts)


@access.guarded("publicity.manage")
def start_publicity(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                    accept_late: bool = False) -> Publicity:
    """Publish the committee's proposed winners (rank order) from its closed vote; compute the window, tell the
    roster and the candidates.  Nobody else's list can be published: winners come only from the committee."""
    if current(session, settings) is not None:
        raise AlreadyDone("publicity_already_started")
    winners, reserve = proposed(session, settings)
    if len(winners) > settings.award.rules.winners:
        raise InvalidInput("publicity_too_many_winners", given=len(winners), allowed=settings.award.rules.winners)
    _check_ids(session, settings, winners + reserve, "winners+reserve")
    placeholders.require_real_contacts(settings, action="publicity")
    contact = settings.award.secretariat
    if not contact.phone.strip() or not contact.address.strip():
        raise InvalidInput("publicity_contact_missing")
    if stages.status(session, settings, STAGE) == "pending":
        stages.open_stage(session, settings, STAGE, actor=actor, now=now)
    stages.require_open(session, settings, STAGE, now=now)
    rules = settings.award.rules
    win = planned_window(session, settings, now)
    late = runs_past_deadline(session, settings, win)
    if late and not accept_late:   # the operator is warned and confirms (the card, `publicity start --yes`)
        raise InvalidInput("publicity_window_past_deadline", **late)
    pub = Publicity(edition=settings.award.edition_key, start=win.start, end=win.end,
                    last_day=win.last_day.isoformat(), days=rules.publicity_days, winners=winners,
                    reserve=reserve, removed=[], started_by=actor)
    session.add(pub)
    session.flush()
    audit.record(session, actor=actor, action="publicity.start", subject=f"publicity:{pub.id}", now=now,
                 winners=winners, reserve=reserve, start=win.start, end=win.end, last_day=win.last_day,
                 **({"past_deadline": late["deadline"]} if late else {}))
    data = {"winners": [describe(session, i) for i in winners], **window_data(pub)}
    roster = [p.userid for p in people.with_role(session, *ROLES)]
    notices.notify(session, roster, "publicity.started", now=now, **data)
    for w in data["winners"]:
        if w["applicant"]:
            notices.notify(session, w["applicant"], "publicity.candidate", now=now, winner=w, **data)
    return pub


def notice_data(session: Session, settings: Settings) -> dict[str, Any]:
    """Template data for the per-channel notice texts (portal, newspaper, TV, app)."""
    pub = require(session, settings)
    return {"winners": [describe(session, i) for i in pub.winners], **window_data(pub),
            "anonymous_complaints": settings.award.rules.anonymous_complaints,
            "complaint_url": complaint_page_url(settings), "secretariat": settings.award.secretariat.model_dump()}


def complaint_page_url(settings: Settings) -> str:
    """The public complaint page's address, printed in every notice text."""
    return settings.server.public_url.rstrip("/") + "/complaints"


def verification_report(session: Session, settings: Settings, *, now: dt.datetime) -> dict[str, Any]:
    """Template data for the written verification report (核查报告) to the committee: no complainant identity."""
    pub = require(session, settings)
    rows = session.scalars(select(Complaint).where(Complaint.publicity_id == pub.id, Complaint.status != "draft")
                           .order_by(Complaint.id))
    complaints = [outgoing(complaint_data(session, c)) for c in rows]
    return {"generated_at": now.isoformat(), **window_data(pub),
            "complaints": complaints, "upheld": sum(1 for c in complaints if c["upheld"]),
            "winners": [describe(session, i) for i in pub.winners],
            "removed": [describe(session, i) for i in pub.removed],
            "places": [places.decision_data(session, d) for d in places.decisions(session, settings)]}


@access.guarded("publicity.manage")
def send_report(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> dict[str, Any]:
    """Send the verification report to the committee once the window closed and every complaint is concluded."""
    pub = require(session, settings)
    if publicity_window.state(window_of(pub), now) is not WindowState.CLOSED:
        raise InvalidInput("publicity_window_still_open", **window_data(pub))
    waiting = places.pending(session, settings)
    if waiting:
        raise InvalidInput("places_pending", count=len(waiting))
    for d in places.unfinished_notices(session, settings, now):
        raise InvalidInput("publicity_window_still_open", start=d.start.isoformat(), end=d.end.isoformat(),
                           last_day=d.last_day, days=pub.days)
    pending = session.scalars(select(Complaint.number).where(Complaint.publicity_id == pub.id,
                                                             Complaint.status == "submitted")).all()
    if pending:
        raise InvalidInput("complaints_pending", numbers=list(pending))
    data = verification_report(session, settings, now=now)
    committee = [p.userid for p in people.with_role(session, "committee", "committee_chair")]
    notices.notify(session, committee, "publicity.report", now=now, report=data)
    pub.report_sent_at, pub.report_sent_by = now, actor
    audit.record(session, actor=actor, action="publicity.report", subject=f"publicity:{pub.id}", now=now,
                 complaints=len(data["complaints"]), upheld=data["upheld"], winners=list(pub.winners),
                 recipients=committee)
    return data


def application_ids(session: Session, settings: Settings, refs: list[str]) -> list[int]:
    """Resolve application numbers (or ids) of this edition to ids, in the given order."""
    ids = []
    for ref in refs:
        ref = ref.strip()
        app = session.scalar(select(Application).where(Application.edition == settings.award.edition_key,
                                                        Application.number == ref))
        if app is None and ref.isdigit():
            app = session.get(Application, int(ref))
        if app is None or app.edition != settings.award.edition_key:
            raise InvalidInput("publicity_unknown_application", app_id=ref)
        ids.append(app.id)
    return ids
