"""Complaints (投诉/异议) during the public notice, and their verification (核查).

The chat intake is the flow ``complaint`` with the steps of `Step`; a draft complaint row is created
once the target and the content are known, so evidence files sent in chat can attach to it while they
download.  Submitting gives it a number.  The secretariat concludes each complaint (upheld or not,
with findings and reasons); an upheld one may propose to remove the proposed winner.  The secretariat
verifies and reports; removing a winner, and who then takes the place (the next-ranked candidate, a new vote,
or nobody), is the committee's decision, confirmed by its chair: the place is referred to the committee
(`workflows.publicity.places`) and the winner stays on the list until the committee decides.
"""
from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, conversation, notices, numbers, people
from workflows.publicity import places
from workflows.publicity import window as publicity_window
from workflows.core.contact import PhoneError, validate_contact_phone
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.publicity.models import Complaint, ComplaintEvidence, PlaceDecision
from workflows.core.models import Conversation, OutboxMessage
from workflows.publicity.record import describe, require, window_data, window_of
from workflows.publicity.window import WindowState
from workflows.core.settings import Settings

FLOW = "complaint"
SKIP_WORD = "完成"
ANONYMOUS_WORD = "匿名"
OUTCOMES = ("keep", "remove")


class Step(StrEnum):
    """The steps of the complaint intake, in order."""

    TARGET = "target"        # which proposed winner (numbered choice)
    CONTENT = "content"      # what the complaint is
    EVIDENCE = "evidence"    # files sent in chat, or 完成
    NAME = "name"            # real name (or 匿名 where allowed)
    PHONE = "phone"          # contact phone


def require_window_open(session: Session, settings: Settings, *, now: dt.datetime) -> None:
    """Raise a refusal saying when the window is (or was) open unless complaints are accepted now."""
    if not targets(session, settings, now=now):
        pub = require(session, settings)
        state = publicity_window.state(window_of(pub), now)
        raise InvalidInput("complaint_window_closed", state=str(state), **window_data(pub))


def targets(session: Session, settings: Settings, *, now: dt.datetime) -> list[int]:
    """Whom a complaint may be about now: every proposed winner in the notice's window, else a replacement in
    its own window (`places`)."""
    pub = require(session, settings)
    if publicity_window.state(window_of(pub), now) is WindowState.OPEN:
        return list(pub.winners)
    return [d.replacement_id for d in places.open_notices(session, settings, now)
            if d.replacement_id in pub.winners]


def begin(session: Session, settings: Settings, *, userid: str, now: dt.datetime) -> list[dict[str, Any]]:
    """Start the intake for any member; return the numbered choices (who may be complained about now)."""
    require_window_open(session, settings, now=now)
    choices = targets(session, settings, now=now)
    conversation.start(session, userid, FLOW, Step.TARGET, now=now, choices=choices)
    return [describe(session, i) for i in choices]


def choose_target(session: Session, settings: Settings, conv: Conversation, text: str, *,
                  now: dt.datetime) -> dict[str, Any]:
    """Take the number of the proposed winner the complaint is about."""
    choices = list(conv.data.get("choices") or [])
    text = text.strip()
    if not text.isdigit() or not 1 <= int(text) <= len(choices):
        raise InvalidInput("complaint_bad_choice", count=len(choices))
    target = choices[int(text) - 1]
    conversation.advance(conv, Step.CONTENT, now=now, application_id=target)
    return describe(session, target)


def set_content(session: Session, settings: Settings, conv: Conversation, text: str, *,
                now: dt.datetime) -> Complaint:
    """Record what the complaint is (10–2000 characters) as a draft complaint; move to evidence."""
    text = text.strip()
    if not 10 <= len(text) <= 2000:
        raise InvalidInput("complaint_bad_content", length=len(text), min=10, max=2000)
    require_window_open(session, settings, now=now)
    pub = require(session, settings)
    draft = session.get(Complaint, conv.data.get("complaint_id") or 0)
    if draft is None or draft.status != "draft" or draft.edition != settings.award.edition_key:
        draft = Complaint(edition=settings.award.edition_key, publicity_id=pub.id,
                          application_id=int(conv.data["application_id"]), complainant=conv.userid,
                          content=text, status="draft", created_at=now)
        session.add(draft)
        session.flush()
    draft.content = text
    conversation.advance(conv, Step.EVIDENCE, now=now, complaint_id=draft.id)
    return draft


def evidence_done(session: Session, settings: Settings, conv: Conversation, *, now: dt.datetime) -> None:
    """Leave the evidence step (files are optional)."""
    conversation.advance(conv, Step.NAME, now=now)


def set_name(session: Session, settings: Settings, conv: Conversation, text: str, *,
             now: dt.datetime) -> bool:
    """Take the real name, or 匿名 where anonymous complaints are allowed; True if anonymous."""
    text = text.strip()
    if text == ANONYMOUS_WORD:
        if not settings.award.rules.anonymous_complaints:
            raise InvalidInput("complaint_real_name_required")
        conversation.advance(conv, Step.PHONE, now=now, anonymous=True, real_name=None)
        return True
    if not 2 <= len(text) <= 50 or any(ch.isdigit() for ch in text):
        raise InvalidInput("complaint_bad_name")
    conversation.advance(conv, Step.PHONE, now=now, anonymous=False, real_name=text)
    return False


def submit(session: Session, settings: Settings, conv: Conversation, phone_text: str, *,
           now: dt.datetime) -> Complaint:
    """Validate the contact phone (or 匿名 when anonymous), number the complaint and notify the secretariat."""
    anonymous = bool(conv.data.get("anonymous"))
    phone: str | None = None
    if not (anonymous and phone_text.strip() == ANONYMOUS_WORD):
        parsed = validate_contact_phone(phone_text)
        if isinstance(parsed, PhoneError):
            raise InvalidInput("complaint_bad_phone", reason=parsed.code)
        phone = str(parsed)
    require_window_open(session, settings, now=now)
    complaint = session.get(Complaint, conv.data.get("complaint_id") or 0)
    if (complaint is None or complaint.status != "draft" or complaint.complainant != conv.userid
            or complaint.edition != settings.award.edition_key):
        raise NotFound("complaint_not_found")
    complaint.real_name, complaint.phone, complaint.anonymous = conv.data.get("real_name"), phone, anonymous
    conversation.end(session, conv.userid)
    return lodge(session, settings, complaint, now=now)


def lodge(session: Session, settings: Settings, complaint: Complaint, *, now: dt.datetime) -> Complaint:
    """Number a complete draft, record it and tell the secretariat: where every channel's complaint ends up.

    The audit names who lodged it: the member (chat), `public` (the page) or the secretariat member who
    registered a letter, call or visit.
    """
    if complaint.status != "draft":
        raise NotFound("complaint_not_found")
    complaint.number = numbers.allocate(session, settings, "complaint", Complaint)
    complaint.status, complaint.submitted_at = "submitted", now
    audit.record(session, actor=complaint.registered_by or complaint.complainant, action="complaint.submit",
                 subject=f"complaint:{complaint.number}", now=now, application_id=complaint.application_id,
                 anonymous=complaint.anonymous, channel=complaint.channel, received_on=complaint.received_on)
    # Everyone in the secretariat but the member who registered it (he has it in front of him).
    secretariat = [p.userid for p in people.with_role(session, "secretariat") if p.userid != complaint.registered_by]
    notices.notify(session, secretariat, "complaint.received", now=now, complaint=complaint_data(session, complaint),
                   pending=pending_evidence(session, complaint))
    return complaint


def pending_evidence(session: Session, complaint: Complaint) -> int:
    """Evidence files sent in chat for this complaint that are still being downloaded (not counted yet)."""
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.action == "fetch_media",
                                                       OutboxMessage.status.in_(("pending", "sending")),
                                                       OutboxMessage.recipient == complaint.complainant))
    def aimed(data: dict[str, Any]) -> bool:
        if "target" in data:
            return data.get("target") == "evidence" and int(data.get("target_id") or 0) == complaint.id
        return int(data.get("complaint_id") or 0) == complaint.id
    return sum(1 for r in rows if aimed(r.data or {}))


def attach_evidence(session: Session, *, complaint_id: int, sha256: str, size: int, kind: str,
                    original_name: str, now: dt.datetime, by: str | None = None) -> ComplaintEvidence:
    """Record a stored evidence file for a complaint (the same content twice is kept once).

    `by` is who sent it (default: the complainant; the secretariat for a scanned letter). A file that
    arrives after the complaint was lodged is announced to the secretariat, so the count it was given holds.
    """
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound("complaint_not_found")
    existing = session.scalar(select(ComplaintEvidence).where(ComplaintEvidence.complaint_id == complaint_id,
                                                              ComplaintEvidence.sha256 == sha256))
    if existing is not None:
        return existing
    row = ComplaintEvidence(complaint_id=complaint_id, sha256=sha256, size=size, kind=kind,
                            original_name=original_name[:255], received_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=by or complaint.complainant, action="complaint.evidence",
                 subject=f"complaint:{complaint.number or complaint.id}", now=now, sha256=sha256, size=size)
    if complaint.status == "submitted":
        secretariat = [p.userid for p in people.with_role(session, "secretariat") if p.userid != by]
        notices.notify(session, secretariat, "complaint.evidence_added", now=now, filename=row.original_name,
                       complaint=complaint_data(session, complaint), pending=pending_evidence(session, complaint))
    return row


def find(session: Session, settings: Settings, number: str) -> Complaint:
    """A submitted complaint of this edition by its number."""
    c = session.scalar(select(Complaint).where(Complaint.edition == settings.award.edition_key,
                                               Complaint.number == number.strip().upper()))
    if c is None:
        raise NotFound("complaint_not_found", number=number)
    return c


def listing(session: Session, settings: Settings) -> list[Complaint]:
    """Every submitted complaint of the edition, oldest first."""
    return list(session.scalars(select(Complaint).where(Complaint.edition == settings.award.edition_key,
                                                        Complaint.number.is_not(None)).order_by(Complaint.id)))


def complaint_data(session: Session, c: Complaint) -> dict[str, Any]:
    """A JSON-able view of a complaint for notices and the report."""
    evidence = session.scalars(select(ComplaintEvidence).where(ComplaintEvidence.complaint_id == c.id)
                               .order_by(ComplaintEvidence.id)).all()
    return {"number": c.number or "", "target": describe(session, c.application_id), "content": c.content,
            "channel": c.channel or "chat", "received_on": c.received_on or "",
            "anonymous": c.anonymous, "real_name": c.real_name or "", "phone": c.phone or "",
            "status": c.status, "submitted_at": c.submitted_at.isoformat() if c.submitted_at else "",
            "evidence": [{"name": e.original_name, "sha256": e.sha256, "size": e.size} for e in evidence],
            "findings": c.findings or "", "upheld": c.upheld, "reason": c.reason or "", "outcome": c.outcome or "",
            "replacement": describe(session, c.replacement_id) if c.replacement_id else None}


def check_concludable(session: Session, settings: Settings, *, number: str, upheld: bool, findings: str,
                      reason: str, outcome: str | None = None) -> Complaint:
    """Everything `conclude` checks first, without changing anything (what the confirmation card shows)."""
    c = find(session, settings, number)
    if c.status == "concluded":
        raise AlreadyDone("complaint_already_concluded", number=c.number)
    if not findings.strip() or not reason.strip():
        raise InvalidInput("complaint_conclusion_incomplete")
    outcome = outcome or ("keep" if not upheld else None)
    if outcome not in OUTCOMES or (not upheld and outcome != "keep"):
        raise InvalidInput("complaint_bad_outcome", outcomes=list(OUTCOMES))
    pub = require(session, settings)
    if outcome == "remove" and c.application_id not in pub.winners:
        raise InvalidInput("complaint_target_not_winner", target=describe(session, c.application_id))
    return c


@access.guarded("complaints.conclude")
def conclude(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str,
             upheld: bool, findings: str, reason: str, outcome: str | None = None) -> Complaint:
    """Record findings and the conclusion; an upheld one keeps the winner, or refers its removal and its place
    to the committee (which decides to keep it, or to remove it and fill the place or leave it vacant:
    `places.decide`).  The secretariat alone never takes a winner off the list."""
    c = check_concludable(session, settings, number=number, upheld=upheld, findings=findings, reason=reason,
                          outcome=outcome)
    outcome = outcome or "keep"
    pub = require(session, settings)
    if outcome == "remove":
        place = list(pub.winners).index(c.application_id)
        session.add(PlaceDecision(edition=settings.award.edition_key, publicity_id=pub.id, complaint_id=c.id,
                                  position=place, removed_id=c.application_id, status="pending",
                                  referred_by=actor, referred_at=now))
    c.status, c.upheld, c.findings, c.reason, c.outcome = "concluded", upheld, findings.strip(), reason.strip(), outcome
    c.concluded_by, c.concluded_at = actor, now
    audit.record(session, actor=actor, action="complaint.conclude", subject=f"complaint:{c.number}", now=now,
                 upheld=upheld, outcome=outcome, findings=c.findings, reason=c.reason,
                 proposed_removal=c.application_id if outcome == "remove" else None, referred=outcome == "remove")
    data = complaint_data(session, c)
    if c.channel == "chat":  # the page's and offline complainants are told by the secretariat, not in WeCom
        notices.notify(session, c.complainant, "complaint.concluded", now=now, complaint=data)
    if outcome == "remove":
        committee = [p.userid for p in people.with_role(session, "committee", "committee_chair")]
        notices.notify(session, committee, "publicity.place_referred", now=now, complaint=data,
                       reserve=[describe(session, i) for i in pub.reserve
                                if i not in set(pub.winners) | set(pub.removed)])
    return c
