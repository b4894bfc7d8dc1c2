"""Stages 8.2 and 9: the city government's approval (报市政府审批) and the award (表彰奖励).

Nothing is announced before the approval is recorded; the approval is only possible after the
notice window closed and the verification report went to the committee.  The city may approve fewer winners
than proposed (issue 23.11): each place left out is then the committee's to decide, as after a complaint
(`places`, cause `approval`), the enterprise left out is told, and a replacement the committee names gets its
own notice window and then the city's supplementary approval (`record_approval` again, for it alone).  The
award is announced once no such place waits.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people, stages
from workflows.publicity import window as publicity_window
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound, StageClosed
from workflows.core.models import ROLES
from workflows.publicity import places
from workflows.publicity.models import Approval, AwardRecord, PlaceDecision
from workflows.publicity.record import describe, require, window_data, window_of
from workflows.publicity.window import WindowState
from workflows.core.settings import Settings

PAYMENT_STATES = ("pending", "paid")


def current_approval(session: Session, settings: Settings) -> Approval | None:
    """The edition's recorded approval, if any."""
    return session.scalar(select(Approval).where(Approval.edition == settings.award.edition_key))


def approval_late(session: Session, settings: Settings, now: dt.datetime) -> dict[str, Any] | None:
    """When recording the approval at `now` is after the approval stage's deadline (seed §三(八)2: 报市政府审批
    3月30日前): the deadline, else None."""
    deadline = stages.deadline(session, settings, "approval")
    return {"deadline": deadline.isoformat()} if now > deadline else None


@access.guarded("award.manage")
def record_approval(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                    approved_on: dt.date, document_number: str, approved: list[int],
                    accept_late: bool = False) -> Approval:
    """Record the city government's approval: its date, document number and the approved winners.

    Only after the notice (its window over, the verification report sent), dated after the notice's last day;
    after the approval stage's deadline only once the operator accepted the delay (`accept_late`, audited)."""
    pub = require(session, settings)
    existing = current_approval(session, settings)
    if existing is not None:
        return _supplement(session, settings, existing, actor=actor, now=now, approved_on=approved_on,
                           document_number=document_number, approved=[int(i) for i in approved])
    if publicity_window.state(window_of(pub), now) is not WindowState.CLOSED:
        raise InvalidInput("publicity_window_still_open", **window_data(pub))
    if pub.report_sent_at is None:
        raise InvalidInput("approval_report_not_sent")
    document_number = document_number.strip()
    if not document_number or len(document_number) > 100:
        raise InvalidInput("approval_bad_document_number")
    if approved_on > now.astimezone(settings.award.tz).date() or approved_on <= dt.date.fromisoformat(pub.last_day):
        raise InvalidInput("approval_bad_date", approved_on=approved_on.isoformat(), last_day=pub.last_day)
    late = approval_late(session, settings, now)
    if late and not accept_late:
        raise InvalidInput("approval_past_deadline", **late)
    approved = [int(i) for i in approved]
    not_proposed = [i for i in approved if i not in pub.winners]
    if not approved or not_proposed or len(set(approved)) != len(approved):
        raise InvalidInput("approval_not_proposed", ids=not_proposed,
                           winners=[describe(session, i) for i in pub.winners])
    row = Approval(edition=settings.award.edition_key, approved_on=approved_on.isoformat(),
                   document_number=document_number, approved=approved, recorded_by=actor, recorded_at=now)
    session.add(row)
    session.flush()
    left_out = [i for i in pub.winners if i not in approved]
    audit.record(session, actor=actor, action="approval.record", subject=f"approval:{row.id}", now=now,
                 approved_on=approved_on, document_number=document_number, approved=approved, left_out=left_out,
                 **({"past_deadline": late["deadline"]} if late else {}))
    for app_id in left_out:   # an enterprise the city did not approve hears it at that gate (issue 23.13)
        w = describe(session, app_id)
        if w["applicant"]:
            notices.notify(session, w["applicant"], "publicity.not_approved", now=now, winner=w,
                           document_number=document_number, approved_on=approved_on.isoformat())
        # ... and its place is the committee's to decide, as after a complaint (issue 23.11)
        session.add(PlaceDecision(edition=settings.award.edition_key, publicity_id=pub.id, complaint_id=None,
                                  cause=places.APPROVAL, position=list(pub.winners).index(app_id), removed_id=app_id,
                                  status="pending", referred_by=actor, referred_at=now))
    if left_out:
        session.flush()
        committee = [p.userid for p in people.with_role(session, "committee", "committee_chair")]
        notices.notify(session, committee, "publicity.place_referred_approval", now=now,
                       document_number=document_number, left_out=[describe(session, i) for i in left_out],
                       reserve=[describe(session, i) for i in places.remaining(pub)])
    return row


def _approval_places(session: Session, settings: Settings) -> list[PlaceDecision]:
    return [d for d in places.decisions(session, settings) if d.cause == places.APPROVAL]


def _supplement(session: Session, settings: Settings, approval: Approval, *, actor: str, now: dt.datetime,
                approved_on: dt.date, document_number: str, approved: list[int]) -> Approval:
    """The city's supplementary approval of replacements the committee named for places it left out, once their
    own notice window closed; anything else is refused as already recorded."""
    ready = {d.replacement_id: d for d in _approval_places(session, settings)
             if d.status == "replace" and d.replacement_id not in approval.approved}
    if not approved or any(i not in ready for i in approved) or len(set(approved)) != len(approved):
        raise AlreadyDone("approval_already_recorded")
    for i in approved:
        d = ready[i]
        if d.end is not None and now < d.end:
            raise InvalidInput("publicity_window_still_open", start=d.start.isoformat() if d.start else "",
                               end=d.end.isoformat(), last_day=d.last_day, days=settings.award.rules.publicity_days)
    document_number = document_number.strip()
    if not document_number or len(document_number) > 100:
        raise InvalidInput("approval_bad_document_number")
    approval.approved = [*approval.approved, *approved]
    audit.record(session, actor=actor, action="approval.supplement", subject=f"approval:{approval.id}", now=now,
                 approved_on=approved_on, document_number=document_number, approved=approved)
    return approval


def places_waiting(session: Session, settings: Settings) -> list[PlaceDecision]:
    """Places the city's approval left out that still wait: for the committee, its vote, or the city's
    supplementary approval of the replacement it named."""
    approval = current_approval(session, settings)
    approved = set(approval.approved) if approval else set()
    return [d for d in _approval_places(session, settings)
            if d.status in ("pending", "voting") or (d.status == "replace" and d.replacement_id not in approved)]


def announcement_data(session: Session, settings: Settings) -> dict[str, Any]:
    """Template data for the per-channel award announcement texts."""
    approval = current_approval(session, settings)
    if approval is None:
        raise InvalidInput("award_not_approved")
    announced = approval.announced_at.astimezone(settings.award.tz).date().isoformat() if approval.announced_at \
        else None
    return {"winners": [describe(session, i) for i in approval.approved], "approved_on": approval.approved_on,
            "document_number": approval.document_number, "prize_yuan": settings.award.rules.prize_yuan,
            "announced_on": announced}


@access.guarded("award.manage")
def announce(session: Session, settings: Settings, *, actor: str, now: dt.datetime) -> list[AwardRecord]:
    """Announce the approved winners, congratulate each winner and open an award record per winner."""
    data = announcement_data(session, settings)
    approval = current_approval(session, settings)
    assert approval is not None
    if approval.announced_at is not None:
        raise AlreadyDone("award_already_announced")
    waiting = places_waiting(session, settings)
    if waiting:
        raise InvalidInput("award_places_pending", count=len(waiting))
    # Seed §三(九): the award follows the city's approval; its stage opens with the announcement if still pending.
    if stages.status(session, settings, "award") == "pending":
        stages.open_stage(session, settings, "award", actor=actor, now=now)
    elif stages.status(session, settings, "award") == "closed":
        raise StageClosed(stage="award", stage_name=settings.award.stage("award").name,
                          deadline=stages.deadline(session, settings, "award"))
    records = []
    for app_id in approval.approved:
        rec = AwardRecord(edition=settings.award.edition_key, application_id=app_id, plaque=True, certificate=True,
                          prize_yuan=settings.award.rules.prize_yuan, payment_status="pending",
                          created_at=now, updated_at=now)
        session.add(rec)
        records.append(rec)
    approval.announced_at, approval.announced_by = now, actor
    session.flush()
    audit.record(session, actor=actor, action="award.announce", subject=f"approval:{approval.id}", now=now,
                 winners=list(approval.approved), prize_yuan=settings.award.rules.prize_yuan)
    notices.notify(session, [p.userid for p in people.with_role(session, *ROLES)], "award.announced", now=now, **data)
    for w in data["winners"]:
        if w["applicant"]:
            notices.notify(session, w["applicant"], "award.congratulations", now=now, winner=w, **data)
    return records


def records(session: Session, settings: Settings) -> list[AwardRecord]:
    """The award records of the edition."""
    return list(session.scalars(select(AwardRecord).where(AwardRecord.edition == settings.award.edition_key)
                                .order_by(AwardRecord.id)))


def find_record(session: Session, settings: Settings, ref: str) -> AwardRecord:
    """An award record by application number or id."""
    for rec in records(session, settings):
        d = describe(session, rec.application_id)
        if ref.strip() in (d["number"], str(rec.application_id)):
            return rec
    raise NotFound("award_record_not_found", ref=ref)


def check_payment(session: Session, settings: Settings, *, ref: str, status: str, reference: str = "",
                  replace_reason: str | None = None) -> AwardRecord:
    """The checks of `set_payment` without changing anything: a payment already recorded as paid is not
    overwritten without a reason (the correction keeps the old reference in the audit)."""
    if status not in PAYMENT_STATES:
        raise InvalidInput("award_bad_payment_status", states=list(PAYMENT_STATES))
    rec = find_record(session, settings, ref)
    if rec.payment_status == "paid" and (status, reference.strip() or None) != ("paid", rec.payment_reference):
        winner = describe(session, rec.application_id)
        if replace_reason is None:
            raise AlreadyDone("award_already_paid", number=winner["number"], enterprise=winner["name"],
                              reference=rec.payment_reference or "", paid_at=rec.paid_at)
        if not replace_reason.strip():
            raise InvalidInput("award_payment_replace_no_reason", number=winner["number"])
    return rec


@access.guarded("award.manage")
def set_payment(session: Session, settings: Settings, *, actor: str, now: dt.datetime, ref: str,
                status: str, reference: str = "", replace_reason: str | None = None) -> AwardRecord:
    """Update a winner's prize payment status (pending or paid, with a payment reference); audited.

    A payment already recorded as paid is changed only with `replace_reason` (a correction: the old status,
    reference and payment time stay in the audit); recording the same payment again changes nothing."""
    rec = check_payment(session, settings, ref=ref, status=status, reference=reference,
                        replace_reason=replace_reason)
    reference = reference.strip()
    if (rec.payment_status, rec.payment_reference) == (status, reference or None) and status == "paid":
        return rec
    old, old_reference, old_paid_at = rec.payment_status, rec.payment_reference, rec.paid_at
    correction = old == "paid"
    rec.payment_status, rec.payment_reference = status, reference or None
    rec.paid_at = now if status == "paid" else None
    rec.updated_at = now
    extra = {"old_reference": old_reference or "", "old_paid_at": old_paid_at,
             "reason": (replace_reason or "").strip()} if correction else {}
    audit.record(session, actor=actor, action="award.payment_corrected" if correction else "award.payment",
                 subject=f"application:{rec.application_id}", now=now, old=old, new=status, reference=reference,
                 prize_yuan=rec.prize_yuan, **extra)
    winner = describe(session, rec.application_id)
    if status == "paid" and not correction and winner["applicant"]:
        notices.notify(session, winner["applicant"], "award.paid", now=now, winner=winner,
                       prize_yuan=rec.prize_yuan, reference=reference)
    return rec


ITEMS = ("plaque", "certificate")


@access.guarded("award.manage")
def record_issue(session: Session, settings: Settings, *, actor: str, now: dt.datetime, ref: str, items: list[str],
                 issued_on: dt.date) -> AwardRecord:
    """Record that a winner's plaque and/or certificate (seed §四 颁发奖牌和证书) was handed over on a day; audited.
    Each is issued once: a second record of the same item is refused (nothing changes)."""
    unknown = [i for i in items if i not in ITEMS]
    if not items or unknown:
        raise InvalidInput("award_bad_issue_item", items=list(ITEMS))
    rec = find_record(session, settings, ref)
    winner = describe(session, rec.application_id)
    approval = current_approval(session, settings)
    tz = settings.award.tz
    first = approval.announced_at.astimezone(tz).date() if approval and approval.announced_at else None
    if first is None or not first <= issued_on <= now.astimezone(tz).date():
        raise InvalidInput("award_bad_issue_day", day=issued_on.isoformat(),
                           first=first.isoformat() if first else "", today=now.astimezone(tz).date().isoformat())
    done = [i for i in items if getattr(rec, f"{i}_issued_on")]
    if done:
        raise AlreadyDone("award_already_issued", number=winner["number"], enterprise=winner["name"],
                          items=done, days=[getattr(rec, f"{i}_issued_on") for i in done])
    for item in dict.fromkeys(items):
        setattr(rec, f"{item}_issued_on", issued_on.isoformat())
    rec.updated_at = now
    audit.record(session, actor=actor, action="award.issued", subject=f"application:{rec.application_id}", now=now,
                 items=list(dict.fromkeys(items)), day=issued_on.isoformat())
    return rec
