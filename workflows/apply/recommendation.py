"""The recommending unit's side of stage 5: review card, decision with its written opinion (推荐意见), changes.

A submitted application goes to every recommender of its county/district (roster `region` equal to
the configured region name) or city department (roster `organization` equal to the department).
A click on 推荐 / 不推荐 / 退回修改 only starts the dialog (the bot asks for the written opinion, then
for a confirmation that says what will happen); `decide` records the confirmed decision for the unit.
The unit may change it until the formal review starts (the review stage opens), audited
(`recommend.change`); the applicant is told each time.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply import changes
from workflows.apply.models import AppStatus, Application, Decision, Recommendation
from workflows.apply.records import STAGE, current_documents, get, subject, unit_name
from workflows.core import access, audit, conversation, events, notices, people, stages
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed
from workflows.core.models import CardTask, OutboxMessage, Person
from workflows.core.settings import Settings

CARD = "recommend.review"
FLOW = "recommend"
OPINION_STEP = "opinion"
OUTCOME = {Decision.RECOMMEND: AppStatus.RECOMMENDED, Decision.NOT_RECOMMEND: AppStatus.NOT_RECOMMENDED,
           Decision.RETURN: AppStatus.RETURNED}
OPINION_MIN, OPINION_MAX = 2, 1000
REVIEW_STAGE = "review"  # the formal review: once it opens, a unit's decision is final


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


def current(session: Session, app: Application) -> Recommendation | None:
    """The unit's decision on the application's current submission (round), if it gave one."""
    rec = session.scalar(select(Recommendation).where(Recommendation.application_id == app.id,
                                                      Recommendation.round == app.round))
    return rec if rec is not None and rec.status == "done" else None


def changeable(session: Session, settings: Settings) -> bool:
    """Whether a unit may still change a decision (the formal review has not started: its stage not opened)."""
    return stages.status(session, settings, REVIEW_STAGE) == "pending"


def version(rec: Recommendation | None) -> str:
    """What a confirmation was based on (the decision it changes, or '' for none), to catch a race."""
    return f"{rec.id}:{rec.decided_at.isoformat()}" if rec is not None else ""


def clean_opinion(text: str | None) -> str:
    """The written opinion, trimmed; InvalidInput unless 2–1000 characters."""
    opinion = (text or "").strip()
    if not OPINION_MIN <= len(opinion) <= OPINION_MAX:
        raise InvalidInput("bad_opinion", min=OPINION_MIN, max=OPINION_MAX, length=len(opinion))
    return opinion


def check_decidable(session: Session, settings: Settings, app: Application, *, actor: str, now: dt.datetime,
                    decision: str | None = None) -> Recommendation | None:
    """Raise unless `actor` may now give (or change) the unit's decision; the decision a change would replace.

    A first decision needs the application submitted and the application stage open for it. A change needs
    the decision to be the current one (not resubmitted since) and the formal review not started (the review
    stage not opened); 退回修改 also needs the application stage open, so the enterprise can still edit.
    """
    if decision is not None and decision not in {d.value for d in Decision}:
        raise InvalidInput("bad_decision")
    if not may_decide(session, settings, actor, app):
        raise NotAllowed(action="recommend")
    rec = current(session, app)
    if rec is None:
        if app.status != AppStatus.SUBMITTED:
            raise AlreadyDone("already_recommended", by="", number=app.number or "")
        stages.require_open(session, settings, STAGE, now=now, subject=subject(app))
        return None
    if app.status != OUTCOME[Decision(rec.decision)] or not changeable(session, settings):
        by = people.get(session, rec.recommender)
        raise AlreadyDone("recommendation_final", number=app.number or "", decision=rec.decision,
                          by=by.name if by else rec.recommender,
                          review=settings.award.stage(REVIEW_STAGE).name)
    if decision == Decision.RETURN:
        stages.require_open(session, settings, STAGE, now=now, subject=subject(app))
    return rec


def card_data(session: Session, settings: Settings, app: Application) -> dict[str, Any]:
    """What the review card shows: the summary, the materials, the submission round and the unit's decision."""
    docs = current_documents(app)
    materials = [{"name": m.name, "file": docs[m.key].original_name if m.key in docs else "", "size":
                  docs[m.key].size if m.key in docs else 0} for m in settings.award.materials
                 if m.provided_by == "applicant"]
    rec = current(session, app)
    return {"application_id": app.id, "number": app.number, "enterprise": app.enterprise_name,
            "credit_code": app.credit_code, "unit": unit_name(settings, app), "industry": app.industry,
            "contact": app.contact_name, "phone": app.contact_phone, "round": app.round,
            "unit_reason": app.unit_reason or "",
            "materials": materials, "submitted_at": app.submitted_at,
            "current": rec.decision if rec else "", "review_stage": settings.award.stage(REVIEW_STAGE).name}


def offer(session: Session, settings: Settings, app: Application, userid: str, *, now: dt.datetime) -> CardTask:
    """Send one recommender a fresh review card (closing their older open one for this application)."""
    for old in session.scalars(select(CardTask).where(CardTask.kind == CARD, CardTask.subject == subject(app),
                                                      CardTask.recipient == userid, CardTask.status == "open")):
        notices.update_card(session, old, CARD, response_code=None, now=now, **_card_payload(session, old),
                            decided="replaced")
    return notices.send_card(session, userid, CARD, subject=subject(app), now=now,
                             **card_data(session, settings, app))


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
    previous = changes.previous_snapshot(session, app)
    changed = changes.diff(settings, previous, changes.snapshot(settings, app)) if previous else None
    tasks = []
    for person in recommenders:
        if app.round > 1:
            # A resubmission says so, and says what the enterprise changed since the unit returned it.
            notices.notify(session, person.userid, "recommend.resubmitted", now=now, number=app.number,
                           enterprise=app.enterprise_name, round=app.round, changes=changed,
                           returned_reason=app.returned_reason or "")
        tasks.append(offer(session, settings, app, person.userid, now=now))
        for doc in current_documents(app).values():
            notices.send_file(session, person.userid, sha256=doc.sha256, filename=doc.original_name, now=now)
    audit.record(session, actor="system", action="recommend.request", subject=subject(app), now=now,
                 recommenders=[p.userid for p in recommenders], round=app.round)
    return tasks


def _card_payload(session: Session, task: CardTask) -> dict[str, Any]:
    row = session.get(OutboxMessage, task.outbox_id) if task.outbox_id else None
    data = dict(row.data) if row else {}
    for key in ("task_id", "_reply", "decided", "response_code"):
        data.pop(key, None)
    return data


@access.guarded("recommend.decide")
def decide(session: Session, settings: Settings, *, application_id: int, decision: str, opinion: str,
           actor: str, now: dt.datetime, based_on: str | None = None,
           click: tuple[str, str] | None = None) -> Recommendation:
    """Record the unit's confirmed decision with its written opinion, or a change of it; tell the applicant.

    `based_on` is the `version` the member saw when confirming (None: no check); if another recommender of
    the unit decided in between, nothing changes and the member is told. `click` is (card task id, the
    click's response code) to grey the card that was clicked.
    """
    app = get(session, settings, application_id)
    text = clean_opinion(opinion)
    rec = check_decidable(session, settings, app, actor=actor, now=now, decision=decision)
    if based_on is not None and version(rec) != based_on:
        by = people.get(session, rec.recommender) if rec else None
        raise AlreadyDone("already_recommended", by=by.name if by else "", number=app.number or "")
    old = {"decision": rec.decision, "opinion": rec.opinion, "by": rec.recommender} if rec else None
    if rec is None:
        rec = session.scalar(select(Recommendation).where(Recommendation.application_id == app.id,
                                                          Recommendation.round == app.round))
        if rec is None:  # (a row left "awaiting_opinion" by an older version is completed in place)
            rec = Recommendation(edition=app.edition, application_id=app.id, round=app.round)
            session.add(rec)
    rec.recommender, rec.unit, rec.decision, rec.opinion = actor, unit_name(settings, app), decision, text
    rec.status, rec.decided_at, rec.completed_at = "done", now, now
    was_endorsed = app.status == AppStatus.RECOMMENDED
    app.status, app.updated_at = OUTCOME[Decision(decision)], now
    app.returned_reason = text if decision == Decision.RETURN else None
    session.flush()
    if old is None:
        audit.record(session, actor=actor, action="recommend.decide", subject=subject(app), now=now,
                     decision=decision, opinion=text, round=rec.round)
    else:
        audit.record(session, actor=actor, action="recommend.change", subject=subject(app), now=now,
                     decision=decision, opinion=text, round=rec.round, previous=old)
    _close_cards(session, app, decision, now=now, click=click)
    notices.notify(session, app.applicant, "apply.outcome", now=now, decision=decision, opinion=text,
                   unit=rec.unit, number=app.number, changed_from=old["decision"] if old else "",
                   review_stage=settings.award.stage(REVIEW_STAGE).name, changeable=changeable(session, settings))
    if conversation.current(session, actor) is not None and conversation.current(session, actor).flow == FLOW:
        conversation.end(session, actor)
    if app.status == AppStatus.RECOMMENDED and not was_endorsed:
        # Endorsed: the formal review (stage 6) takes it from here (when its stage is open).
        events.announce(session, settings, "application.endorsed", actor=actor, now=now, application_id=app.id)
    return rec


def _close_cards(session: Session, app: Application, decision: str, *, now: dt.datetime,
                 click: tuple[str, str] | None) -> None:
    """Every open review card of the application shows the decision (the clicked one with its click's code)."""
    for task in list(session.scalars(select(CardTask).where(CardTask.kind == CARD, CardTask.subject == subject(app),
                                                            CardTask.status == "open"))):
        code = click[1] if click is not None and click[0] == task.task_id else None
        notices.update_card(session, task, CARD, response_code=code, now=now, **_card_payload(session, task),
                            decided=decision)


def pending_for(session: Session, settings: Settings, userid: str) -> list[Application]:
    """Submitted applications of this member's unit that still wait for a decision."""
    apps = session.scalars(select(Application).where(Application.edition == settings.award.edition_key,
                                                     Application.status == AppStatus.SUBMITTED)
                           .order_by(Application.number))
    return [a for a in apps if may_decide(session, settings, userid, a)]


def changeable_for(session: Session, settings: Settings, userid: str, *, now: dt.datetime) -> list[Application]:
    """Applications of this member's unit whose decision the unit may still change (before the formal review)."""
    if not changeable(session, settings):
        return []
    decided = (AppStatus.RECOMMENDED, AppStatus.NOT_RECOMMENDED, AppStatus.RETURNED)
    apps = session.scalars(select(Application).where(Application.edition == settings.award.edition_key,
                                                     Application.status.in_(decided))
                           .order_by(Application.number))
    return [a for a in apps if may_decide(session, settings, userid, a) and current(session, a) is not None]


def has_open_card(session: Session, app: Application, userid: str) -> bool:
    """Whether the member still has a clickable review card for the application."""
    return session.scalar(select(CardTask.task_id).where(CardTask.kind == CARD, CardTask.subject == subject(app),
                                                         CardTask.recipient == userid, CardTask.status == "open")
                          .limit(1)) is not None
