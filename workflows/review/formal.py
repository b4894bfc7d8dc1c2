"""Formal review (形式审查) and supplement requests (补正): the secretariat's services and their queries.

An endorsed (RECOMMENDED) application gets one `FormalReview`; the completeness rules pre-fill its
findings; the secretariat accepts it (受理 → ACCEPTED), rejects it (不予受理 → REJECTED, final) or asks
for named items by a deadline (需补正 → SUPPLEMENT).  Supplying every item returns it to the
secretariat; an unanswered request expires at its deadline (`expire_due`).  A decision is made once.
"""
from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, conversation, notices, people, stages
from workflows.apply.completeness import Receipt, checklist, material_items
from workflows.apply.conditions import type_name
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound, StageClosed
from workflows.apply.models import AppStatus, Application, Document
from workflows.apply.records import current_of, newest_documents
from workflows.core.models import CardTask, OutboxMessage
from workflows.review.models import Finding, FormalReview, ReviewStatus, SupplementRequest
from workflows.core.settings import MaterialConf, Settings

SYSTEM = "system"
STAGE = "review"
SUPPLEMENT_FLOW = "supplement"
REVIEW_FLOW = "review"
REASON_MAX = 200
SECRETARIAT_FINDINGS = ("authenticity", "note")


class ReviewStep(StrEnum):
    """The secretariat's chat after selecting items to supplement: one reason per item."""

    REASON = "reason"


# -- lookups and views ----------------------------------------------------------------------------
def applicant_items(settings: Settings) -> list[MaterialConf]:
    """The configured material items the applicant provides (the only ones a supplement can ask for)."""
    return [m for m in settings.award.materials if m.provided_by == "applicant"]


def item_name(settings: Settings, key: str | None) -> str:
    if not key:
        return ""
    try:
        return settings.award.material(key).name
    except KeyError:
        return key


def application_of(session: Session, settings: Settings, application_id: int) -> Application:
    """An application of this edition by id, or NotFound."""
    app = session.get(Application, application_id)
    if app is None or app.edition != settings.award.edition_key:
        raise NotFound(what=f"申报 {application_id}")
    return app


def find_application(session: Session, settings: Settings, ref: str) -> Application:
    """An application of this edition by number (e.g. SG2018-001) or database id."""
    ref = ref.strip()
    app = session.scalar(select(Application).where(Application.edition == settings.award.edition_key,
                                                   Application.number == ref))
    if app is None and ref.isdigit():
        app = session.get(Application, int(ref))
    if app is None or app.edition != settings.award.edition_key:
        raise NotFound(what=ref[:40])
    return app


def review_for(session: Session, application_id: int, *, lock: bool = False) -> FormalReview | None:
    """The application's formal review, if one was opened."""
    q = select(FormalReview).where(FormalReview.application_id == application_id)
    return session.scalar(q.with_for_update() if lock else q)


def open_request(session: Session, application_id: int) -> SupplementRequest | None:
    """The application's open supplement request, if any."""
    return session.scalar(select(SupplementRequest).where(SupplementRequest.application_id == application_id,
                                                          SupplementRequest.status == "open"))


def summary(settings: Settings, app: Application) -> dict[str, Any]:
    """The application's identifying facts for cards and messages."""
    regions = {r.code: r.name for r in settings.award.regions}
    return {"id": app.id, "number": app.number or f"#{app.id}", "enterprise_name": app.enterprise_name or "",
            "credit_code": app.credit_code or "", "region": regions.get(app.region_code or "", ""),
            "department": app.department or "", "unit_reason": app.unit_reason or "", "industry": app.industry or "",
            "contact_name": app.contact_name or "", "contact_phone": app.contact_phone or "",
            "enterprise_type": type_name(settings, app), "legal_person": app.legal_person,
            "status": app.status}


def findings_view(settings: Settings, review: FormalReview) -> list[dict[str, Any]]:
    """A review's findings as plain data; a past round's supplement reasons are `resolved` (history only)."""
    return [{"source": f.source, "kind": f.kind, "item_key": f.item_key or "",
             "item_name": item_name(settings, f.item_key), "detail": f.detail,
             "resolved": f.kind == "insufficient" and review.status != ReviewStatus.SUPPLEMENT}
            for f in review.findings]


# -- automatic checks -----------------------------------------------------------------------------
def documents_of(session: Session, application_id: int) -> list[Document]:
    """The application's documents in the order received (fresh from the database, not a cached collection)."""
    return list(session.scalars(select(Document).where(Document.application_id == application_id)
                                .order_by(Document.id)))


def auto_findings(settings: Settings, documents: Iterable[Document]) -> list[tuple[str, str, str]]:
    """(kind, item_key, detail) the completeness rules find: missing, rejected, wrong type, too large.

    An item's state is its newest upload's; type and size are checked on the current documents only.
    """
    documents = list(documents)
    newest = [d for d in newest_documents(documents).values() if d.status in ("received", "rejected")]
    items = [i for i in material_items(settings) if i.provided_by == "applicant"]
    result = checklist(items, [Receipt(d.item_key, "received" if d.status == "received" else "rejected", d.reason)
                               for d in newest])
    found: list[tuple[str, str, str]] = []
    for entry in result.entries:
        if entry.state == "missing" and entry.required:
            found.append(("missing", entry.key, ""))
        elif entry.state == "rejected":
            found.append(("rejected", entry.key, entry.reason or ""))
    latest = current_of(documents)
    for m in applicant_items(settings):
        doc = latest.get(m.key)
        if doc is None:
            continue
        if doc.kind not in m.kinds:
            found.append(("type", m.key, doc.kind))
        if doc.size > m.max_bytes:
            found.append(("size", m.key, str(doc.size)))
    return found


def run_checks(session: Session, settings: Settings, review: FormalReview, *, now: dt.datetime) -> list[Finding]:
    """Replace a review's automatic findings with the completeness rules' current result."""
    app = application_of(session, settings, review.application_id)
    for f in [f for f in review.findings if f.source == "auto"]:
        review.findings.remove(f)
    new = [Finding(source="auto", kind=k, item_key=key, detail=detail, created_by=SYSTEM, created_at=now)
           for k, key, detail in auto_findings(settings, documents_of(session, app.id))]
    review.findings.extend(new)
    session.flush()
    return new


def card_secretariat(session: Session, settings: Settings, app: Application, review: FormalReview, *,
                now: dt.datetime, note: str = "", to: list[str] | None = None,
                changes: list[dict[str, Any]] | None = None) -> None:
    """Give the secretariat (or only `to`) the review card, closing their older cards for this application.

    `changes` (after a 补正) lists per requested item the old and the new file and the warnings.
    """
    recipients = to if to is not None else [p.userid for p in people.with_role(session, "secretariat")]
    close_cards(session, app.id, now=now, replace_name="expired", recipients=recipients)
    data = {"app": summary(settings, app), "findings": findings_view(settings, review), "note": note,
            "changes": changes or []}
    if not stages.is_open(session, settings, STAGE, now=now, subject=f"application:{app.id}"):
        # A card whose buttons would all be refused is not sent: say why and what would make a decision possible.
        notices.notify(session, recipients, "review.held", now=now, **data,
                       status=stages.status(session, settings, STAGE),
                       deadline=stages.deadline(session, settings, STAGE, f"application:{app.id}"),
                       stage_name=settings.award.stage(STAGE).name)
        return
    for userid in recipients:
        notices.send_card(session, userid, "review.card", subject=f"review:{app.id}", now=now, **data)


def close_cards(session: Session, application_id: int, *, now: dt.datetime, replace_name: str,
                 recipients: list[str] | None = None, click: tuple[str, str] | None = None) -> None:
    """Close open review cards; grey their buttons with the send-time response code when it is known."""
    q = select(CardTask).where(CardTask.subject == f"review:{application_id}", CardTask.status == "open")
    if recipients is not None:
        q = q.where(CardTask.recipient.in_(recipients))
    for task in list(session.scalars(q)):
        sent = session.get(OutboxMessage, task.outbox_id) if task.outbox_id else None
        code = (sent.result or {}).get("response_code") if sent is not None and sent.status == "sent" else None
        if click is not None and click[0] == task.task_id:
            code = click[1]  # the click's fresh code; the send-time one may be spent
        if code:
            notices.update_card(session, task, "review.card", response_code=code, now=now, replace_name=replace_name)
        else:
            task.status, task.closed_at = "closed", now


@access.guarded("review.open")
def open_review(session: Session, settings: Settings, *, application_id: int, actor: str,
                now: dt.datetime, send_cards: bool = True, to: list[str] | None = None) -> FormalReview:
    """Open (or re-show) the formal review of an endorsed application: run the checks, card the secretariat.

    Only while the review stage accepts decisions: a card whose buttons would be refused is never sent.
    """
    require_stage(session, settings, application_id, now)
    return start_review(session, settings, application_id=application_id, actor=actor, now=now,
                        send_cards=send_cards, to=to)


def require_stage(session: Session, settings: Settings, application_id: int, now: dt.datetime) -> None:
    """Raise unless the review stage accepts decisions on this application now (open, before its deadline)."""
    try:
        stages.require_open(session, settings, STAGE, now=now, subject=f"application:{application_id}")
    except StageClosed as exc:  # notice data must be JSON: pass the deadline as ISO text
        raise StageClosed(**{**exc.data, "deadline": iso(exc.data.get("deadline"))}) from None


def start_review(session: Session, settings: Settings, *, application_id: int, actor: str,
                 now: dt.datetime, send_cards: bool = True, to: list[str] | None = None) -> FormalReview:
    """The review's opening itself, for hand-offs whose announcer was already authorised (not a verb)."""
    app = application_of(session, settings, application_id)
    review = review_for(session, app.id, lock=True)
    if review is None:
        if app.status != AppStatus.RECOMMENDED:
            raise InvalidInput("not_reviewable", number=app.number or app.id, status=app.status)
        review = FormalReview(edition=app.edition, application_id=app.id, status=ReviewStatus.OPEN, created_at=now, updated_at=now)
        session.add(review)
        session.flush()
        audit.record(session, actor=actor, action="review.open", subject=f"application:{app.id}", now=now)
    if review.decision is not None:
        raise AlreadyDone("review_decided", number=app.number or app.id, decision=review.decision,
                          by=review.decided_by, at=iso(review.decided_at))
    if review.status == ReviewStatus.OPEN:
        run_checks(session, settings, review, now=now)
    if send_cards:
        card_secretariat(session, settings, app, review, now=now, to=to)
    return review


# -- decisions ------------------------------------------------------------------------------------
def undecided(session: Session, settings: Settings, application_id: int, now: dt.datetime) -> tuple[Application, FormalReview]:
    app = application_of(session, settings, application_id)
    review = review_for(session, app.id, lock=True)
    if review is None:
        review = start_review(session, settings, application_id=app.id, actor=SYSTEM, now=now, send_cards=False)
    if review.decision is not None:
        raise AlreadyDone("review_decided", number=app.number or app.id, decision=review.decision,
                          by=review.decided_by, at=iso(review.decided_at))
    require_stage(session, settings, app.id, now)
    return app, review


def check_decidable(session: Session, settings: Settings, application_id: int, now: dt.datetime, *,
                    action: str) -> Application:
    """Raise exactly as the decision `action` (accept, reject, supplement) would, without changing anything.

    Asked before a card, a selection or a confirmation is offered, so nothing is offered that will be refused.
    """
    app = application_of(session, settings, application_id)
    review = review_for(session, app.id)
    if review is not None and review.decision is not None:
        raise AlreadyDone("review_decided", number=app.number or app.id, decision=review.decision,
                          by=review.decided_by, at=iso(review.decided_at))
    if app.status not in (AppStatus.RECOMMENDED, AppStatus.SUPPLEMENT):
        raise InvalidInput("not_reviewable", number=app.number or app.id, status=app.status)
    require_stage(session, settings, app.id, now)
    if action in ("accept", "supplement") and open_request(session, app.id) is not None:
        raise InvalidInput("awaiting_supplement", number=app.number or app.id) if action == "accept" else \
            AlreadyDone("supplement_open", number=app.number or app.id)
    return app


def _decide(session: Session, settings: Settings, app: Application, review: FormalReview, decision: str, *,
            actor: str, now: dt.datetime, reason: str | None, click: tuple[str, str] | None) -> None:
    review.decision, review.decided_by, review.decided_at, review.reason = decision, actor, now, reason
    review.status = decision
    review.updated_at = app.updated_at = now
    app.status = AppStatus.ACCEPTED if decision == ReviewStatus.ACCEPTED else AppStatus.REJECTED
    audit.record(session, actor=actor, action="review.accept" if decision == ReviewStatus.ACCEPTED else "review.reject", subject=f"application:{app.id}", now=now,
                 reason=reason)
    close_cards(session, app.id, now=now, replace_name="accepted" if decision == ReviewStatus.ACCEPTED else "rejected",
                 click=click)


@access.guarded("review.decide")
def accept(session: Session, settings: Settings, *, application_id: int, actor: str, now: dt.datetime,
           click: tuple[str, str] | None = None) -> FormalReview:
    """受理: the application goes on to expert review (ACCEPTED). `click` is (card task id, response code)."""
    app, review = undecided(session, settings, application_id, now)
    if open_request(session, app.id) is not None:
        raise InvalidInput("awaiting_supplement", number=app.number or app.id)
    _decide(session, settings, app, review, ReviewStatus.ACCEPTED, actor=actor, now=now, reason=None, click=click)
    notices.notify(session, app.applicant, "review.accepted", now=now, app=summary(settings, app))
    return review


def clean_reason(reason: str | None) -> str:
    """A reason with whitespace collapsed; InvalidInput if empty or longer than REASON_MAX."""
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput("reason_required")
    if len(text) > REASON_MAX:
        raise InvalidInput("reason_too_long", max=REASON_MAX, length=len(text))
    return text


@access.guarded("review.decide")
def reject(session: Session, settings: Settings, *, application_id: int, reason: str, actor: str,
           now: dt.datetime, click: tuple[str, str] | None = None) -> FormalReview:
    """不予受理: ends the application; the stated reason goes to the applicant."""
    text = clean_reason(reason)
    app, review = undecided(session, settings, application_id, now)
    request = open_request(session, app.id)
    if request is not None:
        request.status, request.closed_at = "cancelled", now
        leave_supplement_mode(session, app)
    _decide(session, settings, app, review, ReviewStatus.REJECTED, actor=actor, now=now, reason=text, click=click)
    notices.notify(session, app.applicant, "review.rejected", now=now, app=summary(settings, app), reason=text)
    return review


@access.guarded("review.decide")
def add_finding(session: Session, settings: Settings, *, application_id: int, kind: str, detail: str,
                actor: str, now: dt.datetime, item_key: str | None = None) -> Finding:
    """Record the secretariat's own finding (e.g. an authenticity concern) on an undecided review."""
    if kind not in SECRETARIAT_FINDINGS:
        raise InvalidInput("unknown_finding_kind", kinds=list(SECRETARIAT_FINDINGS))
    text = clean_reason(detail)
    if item_key is not None and item_key not in {m.key for m in settings.award.materials}:
        raise InvalidInput("unknown_item", item=item_key[:40])
    _, review = undecided(session, settings, application_id, now)
    finding = Finding(source="secretariat", kind=kind, item_key=item_key, detail=text, created_by=actor,
                      created_at=now)
    review.findings.append(finding)
    session.flush()
    audit.record(session, actor=actor, action=f"review.finding.{kind}", subject=f"application:{application_id}",
                 now=now, item=item_key, detail=text)
    return finding


def iso(value: dt.datetime | None) -> str | None:
    """A time as ISO text for notice data (rendered with |local)."""
    return value.isoformat() if value is not None else None


def leave_supplement_mode(session: Session, app: Application) -> None:
    conv = conversation.current(session, app.applicant)
    if conv is not None and conv.flow == SUPPLEMENT_FLOW:
        conversation.end(session, app.applicant)






def on_endorsed(session: Session, settings: Settings, *, actor: str, now: dt.datetime, application_id: int) -> None:
    """Hand-off from the application stage: an endorsed application's formal review opens with its findings.

    Before the review stage opens nothing is sent: `on_stage_opened` cards every waiting application then.
    """
    if stages.is_open(session, settings, STAGE, now=now, subject=f"application:{application_id}"):
        start_review(session, settings, application_id=application_id, actor=actor, now=now)


def on_stage_opened(session: Session, settings: Settings, *, actor: str, now: dt.datetime, stage: str,
                    **_: Any) -> None:
    """Hand-off when a stage opens: the review stage's opening cards every endorsed application waiting for it."""
    if stage != STAGE:
        return
    waiting = session.scalars(select(Application).where(Application.edition == settings.award.edition_key,
                                                        Application.status == AppStatus.RECOMMENDED)
                              .order_by(Application.id))
    for app in list(waiting):
        review = review_for(session, app.id)
        if review is not None and review.decision is not None:
            continue
        if stages.is_open(session, settings, STAGE, now=now, subject=f"application:{app.id}"):
            start_review(session, settings, application_id=app.id, actor=actor, now=now)
