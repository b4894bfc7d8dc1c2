"""The committee decides whether a winner is removed after an upheld complaint, and who takes the place
(seed: 秘书处受理、核查并书面报告, 评审委员会决定).

`complaints.conclude` (the secretariat) only refers the winner's removal and its place (`pending`); the winner
stays on the list meanwhile.  The committee decides, the chair confirming its recorded decision by card:
`keep` — the winner stays (the committee does not follow the proposal); or it removes the winner and then
`replace` — the next-ranked
candidate not yet proposed or removed takes the place, published with its own notice window of
`publicity_days` (complaints about it are taken during that window) — or `vacant` — or `vote`: a new sealed
vote round among the remaining ranked candidates (`voting.open_replacement_round`); when that vote is decided
(`settle_votes`, run by the scheduler's sweep and after every close or tie decision) its winner takes the place
exactly like a `replace` decision, with its own notice window.  Audited.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import committee, voting
from workflows.core import access, audit, notices, people
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.core.models import ROLES
from workflows.apply.models import Application
from workflows.core.settings import Settings
from workflows.publicity import window as publicity_window
from workflows.publicity.models import Complaint, PlaceDecision, Publicity
from workflows.publicity.record import describe, require
from workflows.publicity.window import Window, WindowState

DECISIONS = ("keep", "replace", "vacant", "vote")
APPROVAL = "approval"   # PlaceDecision.cause of a place the city's approval left out
SETTLER = "system"
REASON_MIN = 4


def decisions(session: Session, settings: Settings) -> list[PlaceDecision]:
    """Every referred place of the edition, oldest first."""
    return list(session.scalars(select(PlaceDecision).where(PlaceDecision.edition == settings.award.edition_key)
                                .order_by(PlaceDecision.id)))


def pending(session: Session, settings: Settings) -> list[PlaceDecision]:
    """Places waiting for the committee's decision (or for the replacement vote it decided to hold)."""
    return [d for d in decisions(session, settings) if d.status in ("pending", "voting")]


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
    return next(iter(remaining(pub)), None)


def remaining(pub: Publicity) -> list[int]:
    """The ranked candidates not yet proposed or removed, in ranking order (a replacement vote's candidates)."""
    taken = set(pub.winners) | set(pub.removed)
    return [i for i in pub.reserve if i not in taken]


def _redecidable(session: Session, row: PlaceDecision) -> bool:
    """A place still open to a decision: referred, or its replacement vote ended without quorum (not extended)."""
    if row.status == "pending":
        return True
    if row.status == "voting" and row.ballot_id is not None:
        outcome, _ = voting.series_result(session, row.ballot_id)
        return outcome == "no_quorum"
    return False


def find(session: Session, settings: Settings, complaint_number: str) -> PlaceDecision:
    """The referred place of a complaint, by the complaint's number; or a place the city's approval left out, by
    the number of the application left out."""
    ref = complaint_number.strip().upper()
    row = session.scalar(select(PlaceDecision).join(Complaint, Complaint.id == PlaceDecision.complaint_id)
                         .where(PlaceDecision.edition == settings.award.edition_key, Complaint.number == ref))
    if row is None:
        row = session.scalar(select(PlaceDecision).join(Application, Application.id == PlaceDecision.removed_id)
                             .where(PlaceDecision.edition == settings.award.edition_key,
                                    PlaceDecision.cause == APPROVAL, Application.number == ref))
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
    if not _redecidable(session, row):
        raise AlreadyDone("place_already_decided", number=complaint_number, status=row.status)
    if decision == "keep" and row.status != "pending":   # after a failed replacement vote it is already removed
        raise AlreadyDone("place_already_decided", number=complaint_number, status=row.status)
    if decision == "keep" and row.cause == APPROVAL:     # the city decided; the committee decides the place
        raise InvalidInput("place_keep_after_approval")
    pub = require(session, settings)
    nxt = next_reserve(pub)
    if decision in ("replace", "vote") and nxt is None:
        raise InvalidInput("complaint_no_reserve")
    if decision == "vote" and voting.open_round(session, settings) is not None:
        raise AlreadyDone("vote_already_open")
    return {"number": complaint_number.strip().upper(), "decision": decision, "reason": reason.strip(),
            "cause": row.cause or "complaint",
            "position": row.position + 1, "removed": describe(session, row.removed_id),
            "replacement": describe(session, nxt) if decision == "replace" and nxt is not None else None,
            "candidates": [describe(session, i) for i in remaining(pub)] if decision == "vote" else [],
            "days": settings.award.rules.publicity_days}


def vote_closes_at(session: Session, settings: Settings, now: dt.datetime) -> dt.datetime:
    """A replacement vote's default closing time: the 议事规则's hours for a further round (决选时长)."""
    return now + dt.timedelta(hours=committee.effective(session, settings).runoff_hours)


@access.guarded("committee.decide")
def decide(session: Session, settings: Settings, *, actor: str, now: dt.datetime, complaint_number: str,
           decision: str, reason: str, closes_at: dt.datetime | None = None) -> PlaceDecision:
    """Record the committee's decision on a referred place; a replacement gets its own notice window; `vote`
    opens a replacement vote round (closing at `closes_at`, default: the 议事规则's 决选时长 from now)."""
    shown = check_decidable(session, settings, complaint_number, decision, reason)
    row = find(session, settings, complaint_number)
    pub = require(session, settings)
    removed_now = row.status == "pending" and decision != "keep"
    if removed_now:
        _remove(pub, row)
    row.status, row.reason, row.decided_by, row.decided_at = decision, shown["reason"], actor, now
    if decision == "keep":
        row.status = "kept"
    elif decision == "replace":
        nxt = next_reserve(pub)
        assert nxt is not None
        _fill(session, settings, row, pub, nxt, now)
    elif decision == "vote":
        row.status = "voting"
        ballot = voting.open_replacement_round(
            session, settings, actor=actor, now=now, application_ids=remaining(pub),
            closes_at=closes_at or vote_closes_at(session, settings, now),
            context={"complaint": shown["number"], "cause": shown["cause"], "position": shown["position"],
                     "removed": shown["removed"]["name"], "reason": shown["reason"]})
        row.ballot_id = ballot.id
    session.flush()
    audit.record(session, actor=actor, action="committee.place_decision", subject=f"place:{row.id}", now=now,
                 complaint=shown["number"], decision=decision, reason=row.reason, removed=row.removed_id,
                 replacement=row.replacement_id, start=row.start, end=row.end, last_day=row.last_day,
                 ballot=row.ballot_id, removed_by_committee=removed_now)
    _tell(session, settings, row, now, removed_now=removed_now)
    return row


def _remove(pub: Publicity, row: PlaceDecision) -> None:
    """The committee's removal of the winner the secretariat's verification referred (its place stays known)."""
    winners = list(pub.winners)
    if row.removed_id in winners:
        row.position = winners.index(row.removed_id)
        winners.remove(row.removed_id)
    pub.winners, pub.removed = winners, [*pub.removed, row.removed_id]


def _fill(session: Session, settings: Settings, row: PlaceDecision, pub: Publicity, app_id: int,
          now: dt.datetime) -> None:
    """`app_id` takes the emptied place, with its own notice window from `now`."""
    winners = list(pub.winners)
    winners.insert(min(row.position, len(winners)), app_id)
    pub.winners = winners
    row.status, row.replacement_id = "replace", app_id
    rules = settings.award.rules
    win = publicity_window.notice_window(now, rules.publicity_days, settings.award.tz,
                                         start_day_counts=rules.publicity_start_day_counts)
    row.start, row.end, row.last_day = win.start, win.end, win.last_day.isoformat()
    complaint = session.get(Complaint, row.complaint_id) if row.complaint_id else None
    if complaint is not None:
        complaint.replacement_id = app_id


def settle_votes(session: Session, settings: Settings, *, now: dt.datetime) -> list[PlaceDecision]:
    """Places whose replacement vote is now decided: its winner takes the place with its own notice window
    (a vote that confirmed nobody leaves it vacant).  Idempotent; the scheduler's sweep runs it after the
    vote's `close_due`, and the chat and CLI run it after a close or a tie decision."""
    settled = []
    for row in session.scalars(select(PlaceDecision).where(PlaceDecision.edition == settings.award.edition_key,
                                                           PlaceDecision.status == "voting")
                               .order_by(PlaceDecision.id).with_for_update()):
        outcome, winners = voting.series_result(session, row.ballot_id) if row.ballot_id else (None, [])
        if outcome != "decided":
            continue
        pub = require(session, settings)
        if winners:
            _fill(session, settings, row, pub, winners[0], now)
        else:
            row.status = "vacant"
        session.flush()
        audit.record(session, actor=SETTLER, action="committee.place_decision", subject=f"place:{row.id}",
                     now=now, complaint=decision_data(session, row)["complaint"], decision=row.status,
                     reason=row.reason, removed=row.removed_id, replacement=row.replacement_id, start=row.start,
                     end=row.end, last_day=row.last_day, ballot=row.ballot_id, by_vote=True)
        _tell(session, settings, row, now)
        settled.append(row)
    return settled


def _tell(session: Session, settings: Settings, row: PlaceDecision, now: dt.datetime, *,
          removed_now: bool = False) -> None:
    data = decision_data(session, row)
    notices.notify(session, [p.userid for p in people.with_role(session, *ROLES)], "publicity.place_decided",
                   now=now, place=data)
    if removed_now and data["removed"]["applicant"] and row.cause != APPROVAL:   # told by the committee's decision
        # (one the city left out was told at the approval)
        complaint = session.get(Complaint, row.complaint_id)
        notices.notify(session, data["removed"]["applicant"], "publicity.removed", now=now, winner=data["removed"],
                       reason=complaint.reason if complaint else "", decision_reason=row.reason or "")
    if data["replacement"] and data["replacement"]["applicant"]:
        notices.notify(session, data["replacement"]["applicant"], "publicity.replacement", now=now,
                       winner=data["replacement"], start=data["start"], end=data["end"], last_day=data["last_day"],
                       days=settings.award.rules.publicity_days)


def decision_data(session: Session, row: PlaceDecision) -> dict[str, Any]:
    """A JSON-able view of a referred place and its decision."""
    complaint = session.get(Complaint, row.complaint_id) if row.complaint_id else None
    removed = describe(session, row.removed_id)
    return {"id": row.id, "complaint": complaint.number if complaint else "", "cause": row.cause or "complaint",
            "ref": complaint.number if complaint else removed["number"], "position": row.position + 1,
            "removed": removed, "status": row.status, "reason": row.reason or "",
            "replacement": describe(session, row.replacement_id) if row.replacement_id else None,
            "decided_by": row.decided_by or "", "ballot_id": row.ballot_id,
            "start": row.start.isoformat() if row.start else None,
            "end": row.end.isoformat() if row.end else None, "last_day": row.last_day}
