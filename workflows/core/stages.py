"""Stages of an edition: opening, deadlines (with audited extensions) and the gate every action passes."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import access, audit, events
from workflows.core.errors import InvalidInput, StageClosed, StageNotOpen
from workflows.core.models import DeadlineExtension, StageState, StageWaiter
from workflows.core.settings import STAGE_KEYS, Settings


def _state(session: Session, settings: Settings, stage: str) -> StageState | None:
    return session.get(StageState, (settings.award.edition_key, stage))


def _check_key(stage: str) -> None:
    if stage not in STAGE_KEYS:
        raise InvalidInput("unknown_stage", stage=stage, stages=list(STAGE_KEYS))


def status(session: Session, settings: Settings, stage: str) -> str:
    """'pending', 'open' or 'closed'."""
    _check_key(stage)
    row = _state(session, settings, stage)
    return row.status if row else "pending"


def _row(session: Session, settings: Settings, stage: str) -> StageState:
    _check_key(stage)
    row = _state(session, settings, stage)
    if row is None:
        row = StageState(edition=settings.award.edition_key, stage=stage, status="pending")
        session.add(row)
    return row


@access.guarded("stage.open")
def open_stage(session: Session, settings: Settings, stage: str, *, actor: str, now: dt.datetime) -> StageState:
    """Open a stage (idempotent); audited. Opening announces `stage.opened` (who waited, who owes, held cards)."""
    row = _row(session, settings, stage)
    if row.status != "open":
        reopened = row.status == "closed"
        row.status, row.opened_at, row.closed_at = "open", now, None
        audit.record(session, actor=actor, action="stage.open", subject=f"stage:{stage}", now=now)
        session.flush()
        events.announce(session, settings, "stage.opened", actor=actor, now=now, stage=stage, reopened=reopened)
    return row


@access.guarded("stage.close")
def close_stage(session: Session, settings: Settings, stage: str, *, actor: str, now: dt.datetime) -> StageState:
    """Close a stage (also one that never opened: it is skipped, nobody is told it opened); audited."""
    row = _row(session, settings, stage)
    if row.opened_at is None:
        row.opened_at = now
    row.status, row.closed_at = "closed", now
    audit.record(session, actor=actor, action="stage.close", subject=f"stage:{stage}", now=now)
    return row


def promise_notice(session: Session, settings: Settings, stage: str, userid: str, *, now: dt.datetime,
                   word: str = "") -> None:
    """Put `userid` on the waiting list of a stage that is not open yet (they were told "开始时我们会通知您")."""
    if status(session, settings, stage) != "pending":
        return  # only a stage that has not opened yet has a promise to keep
    row = session.scalar(select(StageWaiter).where(StageWaiter.edition == settings.award.edition_key,
                                                   StageWaiter.stage == stage, StageWaiter.userid == userid))
    if row is None:
        session.add(StageWaiter(edition=settings.award.edition_key, stage=stage, userid=userid, word=word[:40],
                                created_at=now))
    else:
        row.word, row.notified_at = word[:40] or row.word, None


def waiting(session: Session, settings: Settings, stage: str) -> list[StageWaiter]:
    """Who is still waiting to be told that a stage opened, in the order they asked."""
    return list(session.scalars(select(StageWaiter).where(StageWaiter.edition == settings.award.edition_key,
                                                          StageWaiter.stage == stage,
                                                          StageWaiter.notified_at.is_(None))
                                .order_by(StageWaiter.id)))


def is_open(session: Session, settings: Settings, stage: str, *, now: dt.datetime, subject: str | None = None) -> bool:
    """Whether actions of the stage are accepted now (open and before its effective deadline)."""
    try:
        require_open(session, settings, stage, now=now, subject=subject)
    except (StageNotOpen, StageClosed):
        return False
    return True


def deadline(session: Session, settings: Settings, stage: str, subject: str | None = None) -> dt.datetime:
    """The effective deadline of a stage, for everyone or for one subject (e.g. 'application:7')."""
    _check_key(stage)
    row = _state(session, settings, stage)
    base = row.deadline if row and row.deadline else settings.award.stage(stage).deadline
    if subject:
        ext = session.scalar(
            select(DeadlineExtension.deadline)
            .where(DeadlineExtension.edition == settings.award.edition_key, DeadlineExtension.stage == stage,
                   DeadlineExtension.subject == subject)
            .order_by(DeadlineExtension.id.desc()).limit(1))
        if ext and ext > base:
            return ext
    return base


@access.guarded("stage.extend")
def extend(session: Session, settings: Settings, stage: str, new_deadline: dt.datetime, *, actor: str,
           now: dt.datetime, subject: str | None = None, reason: str = "") -> dt.datetime:
    """Extend a stage's deadline for everyone or one subject; audited. Returns the new deadline."""
    return record_extension(session, settings, stage, new_deadline, actor=actor, now=now, subject=subject,
                            reason=reason)


def record_extension(session: Session, settings: Settings, stage: str, new_deadline: dt.datetime, *, actor: str,
                     now: dt.datetime, subject: str | None = None, reason: str = "") -> dt.datetime:
    """The extension itself, for verbs that grant one as part of their own authorised decision (not a verb)."""
    if new_deadline.tzinfo is None:
        raise InvalidInput("naive_deadline")
    current = deadline(session, settings, stage, subject)
    if new_deadline <= current:
        raise InvalidInput("deadline_not_later", current=current, requested=new_deadline)
    if subject:
        session.add(DeadlineExtension(edition=settings.award.edition_key, stage=stage, subject=subject,
                                      deadline=new_deadline, by=actor, reason=reason, at=now))
    else:
        row = _state(session, settings, stage)
        if row is None:
            row = StageState(edition=settings.award.edition_key, stage=stage, status="pending")
            session.add(row)
        row.deadline = new_deadline
    audit.record(session, actor=actor, action="deadline.extend", subject=subject or f"stage:{stage}", now=now,
                 stage=stage, old=current, new=new_deadline, reason=reason)
    return new_deadline


def require_open(session: Session, settings: Settings, stage: str, *, now: dt.datetime,
                 subject: str | None = None) -> dt.datetime:
    """Raise unless the stage is open and its (possibly extended) deadline has not passed."""
    st = status(session, settings, stage)
    stage_name = settings.award.stage(stage).name
    if st == "pending":
        raise StageNotOpen(stage=stage, stage_name=stage_name)
    limit = deadline(session, settings, stage, subject)
    if st == "closed" or now > limit:
        raise StageClosed(stage=stage, stage_name=stage_name, deadline=limit)
    return limit
