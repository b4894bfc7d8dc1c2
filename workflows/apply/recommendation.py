"""The recommending unit's side of stage 5: review card, decision, written opinion (推荐意见).

A submitted application goes to every recommender of its county/district (roster `region` equal to
the configured region name) or city department (roster `organization` equal to the department).
The first recommender to click decides for the unit; the others' cards are closed when they click.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, conversation, events, notices, people, stages
from workflows.apply.records import STAGE, current_documents, get, subject, unit_name
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.apply.models import AppStatus, Application, Decision, Recommendation
from workflows.core.models import CardTask, OutboxMessage, Person
from workflows.core.settings import Settings

CARD = "recommend.review"
FLOW = "recommend"
OPINION_STEP = "opinion"
OUTCOME = {Decision.RECOMMEND: AppStatus.RECOMMENDED, Decision.NOT_RECOMMEND: AppStatus.NOT_RECOMMENDED,
           Decision.RETURN: AppStatus.RETURNED}
OPINION_MIN, OPINION_MAX = 2, 1000


def recommenders_for(session: Session, settings: Settings, app: Application) -> list[Person]:
    """The active recommenders of the application's county/district or city department."""
    members = people.with_role(session, "recommender")
    if app.region_code:
        name = unit_name(settings, app)
        return [p for p in members if p.region == name]
    return [p for p in members if app.department and p.organization == app.department]


def may_decide(session: Session, settings: Settings, userid: str, app: Application) -> bool:
    """Whether this member recommends for the application's unit."""
    return any(p.userid == userid for p in recommenders_for(session, settings, app))


def may_view_documents(session: Session, settings: Settings, userid: str, app: Application) -> bool:
    """Whether this member may read the application's documents (applicant, secretariat, its unit, rules)."""
    if userid == app.applicant:
        return True
    person = people.get(session, userid)
    if person is not None and person.role == "secretariat":
        return True
    return person is not None and person.role == "recommender" and may_decide(session, settings, userid, app)


def card_data(settings: Settings, app: Application) -> dict[str, Any]:
    """What the review card shows: the summary and the materials."""
    docs = current_documents(app)
    materials = [{"name": m.name, "file": docs[m.key].original_name if m.key in docs else "", "size":
                  docs[m.key].size if m.key in docs else 0} for m in settings.award.materials
                 if m.provided_by == "applicant"]
    return {"application_id": app.id, "number": app.number, "enterprise": app.enterprise_name,
            "credit_code": app.credit_code, "unit": unit_name(settings, app), "industry": app.industry,
            "contact": app.contact_name, "phone": app.contact_phone, "round": app.round,
            "materials": materials, "submitted_at": app.submitted_at}


def request(session: Session, settings: Settings, app: Application, *, now: dt.datetime) -> list[CardTask]:
    """Send the review card and the files to the unit's recommenders; tell the applicant."""
    recommenders = recommenders_for(session, settings, app)
    unit = unit_name(settings, app)
    notices.notify(session, app.applicant, "apply.submitted", now=now, number=app.number, unit=unit,
                   round=app.round, has_unit=bool(recommenders))
    if not recommenders:
        # A unit without a recommender in the roster must not leave the application unseen.
        secretariat = [p.userid for p in people.with_role(session, "secretariat")]
        if secretariat:
            notices.notify(session, secretariat, "recommend.no_recommender", now=now, number=app.number,
                           enterprise=app.enterprise_name, unit=unit)
        audit.record(session, actor="system", action="recommend.no_recommender", subject=subject(app), now=now,
                     unit=unit)
        return []
    data = card_data(settings, app)
    tasks = []
    for person in recommenders:
        tasks.append(notices.send_card(session, person.userid, CARD, subject=subject(app), now=now, **data))
        for doc in current_documents(app).values():
            notices.send_file(session, person.userid, sha256=doc.sha256, filename=doc.original_name, now=now)
    audit.record(session, actor="system", action="recommend.request", subject=subject(app), now=now,
                 recommenders=[p.userid for p in recommenders], round=app.round)
    return tasks


def _card_payload(session: Session, task: CardTask) -> dict[str, Any]:
    row = session.get(OutboxMessage, task.outbox_id) if task.outbox_id else None
    data = dict(row.data) if row else {}
    data.pop("task_id", None)
    data.pop("_reply", None)
    return data


@access.guarded("recommend.decide")
def decide(session: Session, settings: Settings, *, task_id: str, decision: str, actor: str, now: dt.datetime,
           response_code: str | None) -> Recommendation:
    """Record a click on 推荐/不推荐/退回修改, close the card and ask for the written opinion."""
    if decision not in {d.value for d in Decision}:
        raise InvalidInput("bad_decision")
    task = session.get(CardTask, task_id)
    if task is None or task.kind != CARD or task.recipient != actor:
        raise NotFound(what=task_id)
    app = get(session, settings, int(task.subject.split(":", 1)[1]))
    if not may_decide(session, settings, actor, app):
        audit.record(session, actor=actor, action="recommend.refused", subject=subject(app), now=now,
                     reason="not_recommender")
        raise NotAllowed(action="recommend")
    existing = session.scalar(select(Recommendation).where(Recommendation.application_id == app.id,
                                                           Recommendation.round == app.round))
    data = _card_payload(session, task)
    if task.status != "open" or existing is not None or app.status != AppStatus.SUBMITTED:
        if task.status == "open":
            notices.update_card(session, task, CARD, response_code=response_code, now=now, **data,
                                decided=existing.decision if existing else "closed")
        audit.record(session, actor=actor, action="recommend.refused", subject=subject(app), now=now,
                     reason="already_decided")
        by = people.get(session, existing.recommender) if existing else None
        raise AlreadyDone("already_recommended", by=by.name if by else "", number=app.number)
    stages.require_open(session, settings, STAGE, now=now, subject=subject(app))
    rec = Recommendation(edition=app.edition, application_id=app.id, round=app.round, recommender=actor, unit=unit_name(settings, app),
                         decision=decision, status="awaiting_opinion", decided_at=now)
    session.add(rec)
    session.flush()
    notices.update_card(session, task, CARD, response_code=response_code, now=now, **data, decided=decision)
    # The unit's other recommenders see the decision on their own cards (their send-time codes are used).
    for other in session.scalars(select(CardTask).where(CardTask.kind == CARD, CardTask.subject == task.subject,
                                                        CardTask.status == "open", CardTask.task_id != task.task_id)):
        notices.update_card(session, other, CARD, response_code=None, now=now, **_card_payload(session, other),
                            decided=decision)
    audit.record(session, actor=actor, action="recommend.decide", subject=subject(app), now=now,
                 decision=decision, round=app.round)
    conversation.start(session, actor, FLOW, OPINION_STEP, now=now, recommendation_id=rec.id)
    return rec


@access.guarded("recommend.decide")
def give_opinion(session: Session, settings: Settings, *, recommendation_id: int, text: str, actor: str,
                 now: dt.datetime) -> Application:
    """Record the written opinion, settle the application and tell the applicant."""
    rec = session.get(Recommendation, recommendation_id)
    if rec is None or rec.recommender != actor:
        raise NotFound(what=str(recommendation_id))
    if rec.status == "done":
        raise AlreadyDone(what=rec.decision)
    opinion = (text or "").strip()
    if not OPINION_MIN <= len(opinion) <= OPINION_MAX:
        raise InvalidInput("bad_opinion", min=OPINION_MIN, max=OPINION_MAX, length=len(opinion))
    app = get(session, settings, rec.application_id)
    rec.opinion, rec.status, rec.completed_at = opinion, "done", now
    app.status, app.updated_at = OUTCOME[Decision(rec.decision)], now
    if rec.decision == Decision.RETURN:
        app.returned_reason = opinion
    audit.record(session, actor=actor, action="recommend.opinion", subject=subject(app), now=now,
                 decision=rec.decision, opinion=opinion, round=rec.round)
    notices.notify(session, app.applicant, "apply.outcome", now=now, decision=rec.decision, opinion=opinion,
                   unit=rec.unit, number=app.number)
    conversation.end(session, actor)
    if app.status == AppStatus.RECOMMENDED:
        # Endorsed: the formal review (stage 6) takes it from here.
        events.announce(session, settings, "application.endorsed", actor=actor, now=now, application_id=app.id)
    return app


def awaiting_opinion(session: Session, settings: Settings, userid: str) -> Recommendation | None:
    """A decision of this member in this edition still waiting for its written opinion."""
    return session.scalar(select(Recommendation).where(Recommendation.edition == settings.award.edition_key,
                                                       Recommendation.recommender == userid,
                                                       Recommendation.status == "awaiting_opinion")
                          .order_by(Recommendation.id).limit(1))


def pending_for(session: Session, settings: Settings, userid: str) -> list[Application]:
    """Submitted applications of this member's unit that still wait for a decision."""
    apps = session.scalars(select(Application).where(Application.edition == settings.award.edition_key,
                                                     Application.status == AppStatus.SUBMITTED)
                           .order_by(Application.number))
    return [a for a in apps if may_decide(session, settings, userid, a)]
