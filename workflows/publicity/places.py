"""The committee decides who takes a place emptied by an upheld complaint (seed: 秘书处受理、核查并书面报告,
评审委员会决定).

`complaints.conclude` (the secretariat) only removes the winner and refers the place (`pending`).  The
committee decides, the chair confirming its recorded decision by card: `replace` — the next-ranked
candidate not yet proposed or removed takes the place, published with its own notice window of
`publicity_days` (complaints about it are taken during that window) — or `vacant`.  Audited.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.models import ROLES
from workflows.core.settings import Settings
from workflows.publicity import window as publicity_window
from workflows.publicity.models import Complaint, PlaceDecision, Publicity
from workflows.publicity.record import describe, require
from workflows.publicity.window import Window, WindowState

DECISIONS = ("replace", "vacant")
REASON_MIN = 4


def decisions(session: Session, settings: Settings) -> list[PlaceDecision]:
    """Every referred place of the edition, oldest first."""
    return list(session.scalars(select(PlaceDecision).where(PlaceDecision.edition == settings.award.edition_key)
                                .order_by(PlaceDecision.id)))


def pending(session: Session, settings: Settings) -> list[PlaceDecision]:
    """Places waiting for the committee's decision."""
    return [d for d in decisions(session, settings) if d.status == "pending"]


def window_of(d: PlaceDecision) -> Window | None:
    """A replacement's own notice window."""
    if d.start is None or d.end is None or d.last_day is None:
        return None
    return Window(start=d.start, end=d.end, last_day=dt.date.fromisoformat(d.last_day))


def open_notices(session: Session, settings: Settings, now: dt.datetime) -> list[PlaceDecision]:
    """Replacements whose own notice window is open at `now`."""
    return [d for d in decisions(session, settings)
            if (w := window_of(d)) is not None and publicity_window.state(w, now) is WindowState.OPEN]


def unfinished_notices(session: Session, settings: Settings, now: dt.datetime) -> list[PlaceDecision]:
    """Replacements whose window has not closed yet."""
    return [d for d in decisions(session, settings)
            if (w := window_of(d)) is not None and publicity_window.state(w, now) is not WindowState.CLOSED]


def next_reserve(pub: Publicity) -> int | None:
    """The next-ranked candidate not yet proposed or removed."""
    taken = set(pub.winners) | set(pub.removed)
    return next((i for i in pub.reserve if i not in taken), None)


def find(session: Session, settings: Settings, complaint_number: str) -> PlaceDecision:
    """The referred place of a complaint, by the complaint's number."""
    row = session.scalar(select(PlaceDecision).join(Complaint, Complaint.id == PlaceDecision.complaint_id)
                         .where(PlaceDecision.edition == settings.award.edition_key,
                                Complaint.number == complaint_number.strip().upper()))
    if row is None:
        raise NotFound("place_not_referred", number=complaint_number)
    return row


def check_decidable(session: Session, settings: Settings, complaint_number: str, decision: str,
                    reason: str) -> dict[str, Any]:
    """Everything `decide` checks, without changing anything: what the confirmation card shows."""
    if decision not in DECISIONS:
        raise InvalidInput("place_bad_decision")
    if len(reason.strip()) < REASON_MIN:
        raise InvalidInput("place_reason_missing", min=REASON_MIN)
    row = find(session, settings, complaint_number)
    if row.status != "pending":
        raise AlreadyDone("place_already_decided", number=complaint_number, status=row.status)
    pub = require(session, settings)
    nxt = next_reserve(pub)
    if decision == "replace" and nxt is None:
        raise InvalidInput("complaint_no_reserve")
    return {"number": complaint_number.strip().upper(), "decision": decision, "reason": reason.strip(),
            "position": row.position + 1, "removed": describe(session, row.removed_id),
            "replacement": describe(session, nxt) if decision == "replace" and nxt is not None else None,
            "days": settings.award.rules.publicity_days}


@access.guarded("committee.decide")
def decide(session: Session, settings: Settings, *, actor: str, now: dt.datetime, complaint_number: str,
           decision: str, reason: str) -> PlaceDecision:
    """Record the committee's decision on a referred place; a replacement gets its own notice window."""
    shown = check_decidable(session, settings, complaint_number, decision, reason)
    row = find(session, settings, complaint_number)
    pub = require(session, settings)
    row.status, row.reason, row.decided_by, row.decided_at = decision, shown["reason"], actor, now
    if decision == "replace":
        nxt = next_reserve(pub)
        assert nxt is not None
        winners = list(pub.winners)
        winners.insert(min(row.position, len(winners)), nxt)
        pub.winners = winners
        row.replacement_id = nxt
        rules = settings.award.rules
        win = publicity_window.notice_window(now, rules.publicity_days, settings.award.tz,
                                             start_day_counts=rules.publicity_start_day_counts)
        row.start, row.end, row.last_day = win.start, win.end, win.last_day.isoformat()
        complaint = session.get(Complaint, row.complaint_id)
        assert complaint is not None
        complaint.replacement_id = nxt
    session.flush()
    audit.record(session, actor=actor, action="committee.place_decision", subject=f"place:{row.id}", now=now,
                 complaint=shown["number"], decision=decision, reason=row.reason, removed=row.removed_id,
                 replacement=row.replacement_id, start=row.start, end=row.end, last_day=row.last_day)
    data = decision_data(session, row)
    notices.notify(session, [p.userid for p in people.with_role(session, *ROLES)], "publicity.place_decided",
                   now=now, place=data)
    if data["replacement"] and data["replacement"]["applicant"]:
        notices.notify(session, data["replacement"]["applicant"], "publicity.replacement", now=now,
                       winner=data["replacement"], start=data["start"], end=data["end"], last_day=data["last_day"],
                       days=settings.award.rules.publicity_days)
    return row


def decision_data(session: Session, row: PlaceDecision) -> dict[str, Any]:
    """A JSON-able view of a referred place and its decision."""
    complaint = session.get(Complaint, row.complaint_id)
    return {"id": row.id, "complaint": complaint.number if complaint else "", "position": row.position + 1,
            "removed": describe(session, row.removed_id), "status": row.status, "reason": row.reason or "",
            "replacement": describe(session, row.replacement_id) if row.replacement_id else None,
            "decided_by": row.decided_by or "", "start": row.start.isoformat() if row.start else None,
            "end": row.end.isoformat() if row.end else None, "last_day": row.last_day}
