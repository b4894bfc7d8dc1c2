"""补正: the secretariat's supplement requests and the applicant's answers.

需补正 asks for named items by a deadline (the application goes to SUPPLEMENT); supplying every item
returns it to the secretariat; an unanswered request expires at its deadline (`expire_due`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply import application
from workflows.apply.models import AppStatus, Application, Document
from workflows.apply.records import current_of
from workflows.core import access, audit, conversation, notices, stages
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound, StageClosed
from workflows.core.settings import Settings
from workflows.documents.store import StoredDocument
from workflows.review.formal import (
    STAGE, SUPPLEMENT_FLOW, SYSTEM, applicant_items, application_of, clean_reason, close_cards, documents_of, iso,
    item_name, leave_supplement_mode, open_request, run_checks, card_secretariat, summary, undecided,
)
from workflows.review.models import Finding, ReviewStatus, SupplementItem, SupplementRequest


class SupplementStep(StrEnum):
    """The applicant's supplement mode: choose an item, then send its file."""

    CHOOSE = "choose"
    UPLOAD = "upload"

@dataclass(frozen=True)
class OwedItem:
    """An item the applicant still owes (or has supplied) in a supplement request."""

    key: str
    name: str
    reason: str
    supplied: bool = False

@dataclass(frozen=True)
class SupplyResult:
    """What supplying one item changed."""

    application_id: int
    item_key: str
    remaining: tuple[OwedItem, ...]
    deadline: dt.datetime

    @property
    def complete(self) -> bool:
        """True when nothing is owed any more (the application went back to the secretariat)."""
        return not self.remaining

def owed(settings: Settings, request: SupplementRequest, *, pending_only: bool = True) -> tuple[OwedItem, ...]:
    """A request's items as views, optionally only those still owed."""
    return tuple(OwedItem(i.item_key, item_name(settings, i.item_key), i.reason, i.status == "supplied")
                 for i in request.items if not pending_only or i.status != "supplied")

def supplement_deadline(session: Session, settings: Settings, application_id: int, now: dt.datetime) -> tuple[dt.datetime, bool]:
    """The deadline for a new request (end of day, `supplement_days` on) and whether the stage deadline capped it."""
    tz = settings.award.tz
    day = (now.astimezone(tz) + dt.timedelta(days=settings.award.rules.supplement_days)).date()
    wanted = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)
    limit = stages.deadline(session, settings, STAGE, f"application:{application_id}")
    return (limit, True) if wanted > limit else (wanted, False)

@access.guarded("review.supplement")
def request_supplement(session: Session, settings: Settings, *, application_id: int, items: dict[str, str],
                       actor: str, now: dt.datetime) -> SupplementRequest:
    """需补正: ask the applicant for the named items (item key → reason) by a capped deadline."""
    if not items:
        raise InvalidInput("no_items")
    allowed = {m.key for m in applicant_items(settings)}
    unknown = [k for k in items if k not in allowed]
    if unknown:
        raise InvalidInput("unknown_item", item=unknown[0][:40], items=sorted(allowed))
    reasons = {k: clean_reason(r) for k, r in items.items()}
    app, review = undecided(session, settings, application_id, now)
    if open_request(session, app.id) is not None:
        raise AlreadyDone("supplement_open", number=app.number or app.id)
    deadline, capped = supplement_deadline(session, settings, app.id, now)
    request = SupplementRequest(review_id=review.id, edition=app.edition, application_id=app.id, round=len(review.requests) + 1,
                                status="open", deadline=deadline, requested_by=actor, created_at=now,
                                items=[SupplementItem(item_key=k, reason=r) for k, r in reasons.items()])
    session.add(request)
    for key, reason in reasons.items():
        review.findings.append(Finding(source="secretariat", kind="insufficient", item_key=key, detail=reason,
                                       created_by=actor, created_at=now))
        doc = current_of(documents_of(session, app.id)).get(key)
        if doc is not None:  # the current document of a requested item is no longer current
            doc.status, doc.reason = "rejected", reason
    review.status, review.updated_at = ReviewStatus.SUPPLEMENT, now
    app.status, app.updated_at = AppStatus.SUPPLEMENT, now
    session.flush()
    audit.record(session, actor=actor, action="review.supplement", subject=f"application:{app.id}", now=now,
                 round=request.round, items=reasons, deadline=deadline, capped=capped)
    close_cards(session, app.id, now=now, replace_name="supplement_requested")
    conversation.start(session, app.applicant, SUPPLEMENT_FLOW, SupplementStep.CHOOSE, now=now, application_id=app.id)
    notices.notify(session, app.applicant, "supplement.notice", now=now, app=summary(settings, app),
                   items=[vars_of(i) for i in owed(settings, request)], deadline=iso(deadline), capped=capped)
    return request

def vars_of(item: OwedItem) -> dict[str, Any]:
    """An owed item as template data."""
    return {"key": item.key, "name": item.name, "reason": item.reason, "supplied": item.supplied}

@access.guarded("review.supply")
def supply_item(session: Session, settings: Settings, *, application_id: int, item_key: str, document_id: int,
                actor: str, now: dt.datetime) -> SupplyResult:
    """Mark a requested item supplied by a received document; the last one returns the application."""
    app = application_of(session, settings, application_id)
    if actor != app.applicant:
        raise NotFound(what="补正事项")
    request = open_request(session, app.id)
    if request is None or app.status != AppStatus.SUPPLEMENT:
        raise InvalidInput("not_in_supplement", number=app.number or app.id)
    if now > request.deadline:
        raise StageClosed("supplement_expired", deadline=iso(request.deadline))
    item = next((i for i in request.items if i.item_key == item_key), None)
    if item is None:
        raise InvalidInput("item_not_requested", item=item_name(settings, item_key),
                           items=[o.name for o in owed(settings, request)])
    doc = session.get(Document, document_id)
    if doc is None or doc.application_id != app.id or doc.item_key != item_key or doc.status != "received":
        raise InvalidInput("document_mismatch")
    item.status, item.document_id, item.supplied_at = "supplied", doc.id, now
    app.updated_at = now
    audit.record(session, actor=actor, action="supplement.supply", subject=f"application:{app.id}", now=now,
                 item=item_key, document=doc.id, sha256=doc.sha256)
    remaining = owed(settings, request)
    if not remaining:
        _return_to_secretariat(session, settings, app, request, now=now)
    return SupplyResult(app.id, item_key, remaining, request.deadline)

def _replaced_document(session: Session, request: SupplementRequest, item_key: str,
                       before: Document | None = None) -> Document | None:
    """The document the request found wanting for an item (the one current when it was made), if any."""
    q = select(Document).where(Document.application_id == request.application_id, Document.item_key == item_key,
                               Document.uploaded_at <= request.created_at)
    if before is not None:
        q = q.where(Document.id < before.id)
    return session.scalar(q.order_by(Document.id.desc()).limit(1))


def supplement_changes(session: Session, settings: Settings, application_id: int) -> list[dict[str, Any]]:
    """What the latest 补正 round changed, per requested item: the file found wanting and the new one, with
    warnings when the new file is byte-identical (same SHA-256) to the old one or is also given for another item."""
    request = session.scalar(select(SupplementRequest).where(SupplementRequest.application_id == application_id)
                             .order_by(SupplementRequest.round.desc()).limit(1))
    if request is None:
        return []
    current = {d.item_key: d for d in documents_of(session, application_id) if d.status == "received"}
    out = []
    for item in request.items:
        new = session.get(Document, item.document_id) if item.document_id else None
        old = _replaced_document(session, request, item.item_key, before=new)
        others = [item_name(settings, k) for k, d in current.items()
                  if new is not None and k != item.item_key and d.sha256 == new.sha256]
        out.append({"item": item_name(settings, item.item_key), "reason": item.reason, "supplied": new is not None,
                    "old": old.original_name if old else "", "new": new.original_name if new else "",
                    "identical": bool(new and old and new.sha256 == old.sha256), "also_for": others})
    return out


def _return_to_secretariat(session: Session, settings: Settings, app: Application, request: SupplementRequest, *,
                           now: dt.datetime) -> None:
    request.status, request.closed_at = "supplied", now
    review = request.review
    review.status, review.updated_at = ReviewStatus.OPEN, now
    app.status = AppStatus.RECOMMENDED
    audit.record(session, actor=SYSTEM, action="supplement.complete", subject=f"application:{app.id}", now=now,
                 round=request.round)
    leave_supplement_mode(session, app)
    run_checks(session, settings, review, now=now)
    notices.notify(session, app.applicant, "supplement.complete", now=now, app=summary(settings, app))
    card_secretariat(session, settings, app, review, now=now, note="supplied",
                     changes=supplement_changes(session, settings, app.id))

def expire_due(session: Session, settings: Settings, *, now: dt.datetime) -> list[int]:
    """Expire open supplement requests past their deadline; tell applicant and secretariat. Idempotent."""
    due = list(session.scalars(select(SupplementRequest).where(SupplementRequest.edition == settings.award.edition_key,
                                                               SupplementRequest.status == "open",
                                                               SupplementRequest.deadline < now)
                               .order_by(SupplementRequest.id).with_for_update()))
    for request in due:
        app = application_of(session, settings, request.application_id)
        missing = owed(settings, request)
        request.status, request.closed_at = "expired", now
        request.review.status, request.review.updated_at = ReviewStatus.OPEN, now
        app.status, app.updated_at = AppStatus.RECOMMENDED, now
        audit.record(session, actor=SYSTEM, action="supplement.expire", subject=f"application:{app.id}", now=now,
                     round=request.round, missing=[i.key for i in missing])
        leave_supplement_mode(session, app)
        items = [vars_of(i) for i in missing]
        notices.notify(session, app.applicant, "supplement.expired", now=now, app=summary(settings, app),
                       items=items, deadline=iso(request.deadline))
        card_secretariat(session, settings, app, request.review, now=now, note="expired")
    return [r.application_id for r in due]


def require_uploadable(session: Session, settings: Settings, app: Application, item_key: str,
                       now: dt.datetime) -> dt.datetime:
    """Raise unless this item is requested in the application's open 补正 request and its deadline is ahead.

    An item already supplied may be sent again while the request is open (the new file replaces it).
    """
    request = open_request(session, app.id)
    owed_keys = [o.key for o in owed(settings, request, pending_only=False)] if request else []
    if app.status != AppStatus.SUPPLEMENT or request is None:
        raise InvalidInput("not_in_supplement", number=app.number or app.id)
    if item_key not in owed_keys:
        raise InvalidInput("item_not_requested", item=item_name(settings, item_key),
                           items=[item_name(settings, k) for k in owed_keys])
    if now > request.deadline:
        raise StageClosed("supplement_expired", deadline=iso(request.deadline))
    return request.deadline


@access.guarded("review.supply")
def supply_document(session: Session, settings: Settings, *, application_id: int, item_key: str,
                    stored: StoredDocument, source: str, actor: str, now: dt.datetime) -> Document:
    """Record a stored file as the answer to a requested item and tell the applicant what is still owed."""
    app = application_of(session, settings, application_id)
    require_uploadable(session, settings, app, item_key, now)
    request = open_request(session, app.id)
    old = _replaced_document(session, request, item_key) if request is not None else None
    doc, _ = application.record_document(session, settings, app, item_key=item_key, stored=stored, source=source,
                                         actor=actor, now=now)
    identical = old is not None and old.sha256 == doc.sha256
    also_for = [item_name(settings, d.item_key) for d in documents_of(session, app.id)
                if d.status == "received" and d.item_key != item_key and d.sha256 == doc.sha256]
    remaining = [i for i in owed(settings, request) if i.key != item_key] if request is not None else []
    if remaining or identical or also_for:
        # Told before the item is marked (the last one's "complete" notice follows this one).
        notices.notify(session, app.applicant, "supplement.received", now=now, _reply=True,
                       name=item_name(settings, item_key), filename=doc.original_name, identical=identical,
                       also_for=also_for, items=[vars_of(i) for i in owed(settings, request, pending_only=False)],
                       remaining=[vars_of(i) for i in remaining], deadline=request.deadline)
    supply_item(session, settings, application_id=app.id, item_key=item_key, document_id=doc.id,
                actor=actor, now=now)
    return doc
