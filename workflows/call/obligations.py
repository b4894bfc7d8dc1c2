"""Reminder providers of stages 3–4: people signed up for the training are reminded before it starts; the
secretariat is reminded to publish the call and to schedule the training."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.reminders import Obligation, deadline_key, milestone
from workflows.core.settings import Settings

from .models import CallPublication, TrainingEvent, TrainingSignup


def training_attendees(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Everyone signed up (count > 0) for the edition's training, until it starts."""
    ev = session.scalar(select(TrainingEvent).where(TrainingEvent.edition == settings.award.edition_key))
    if ev is None:
        return
    for row in session.scalars(select(TrainingSignup).where(TrainingSignup.event_id == ev.id, TrainingSignup.count > 0)
                               .order_by(TrainingSignup.userid)):
        yield Obligation(recipient=row.userid, stage="training", deadline_key=deadline_key("training", ev.starts_at, ev.id),
                         deadline=ev.starts_at, kind="remind.training",
                         data={"title": ev.title, "place": ev.place, "starts_at": ev.starts_at.isoformat(),
                               "count": row.count})


def call_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The secretariat, until the call is published in at least one channel (by the call stage's deadline)."""
    if session.scalar(select(CallPublication.id).where(CallPublication.edition == settings.award.edition_key)
                      .limit(1)) is None:
        yield from milestone(session, settings, "call", "publish_call")


def training_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The secretariat, until the training (宣贯会暨培训) is scheduled (by the training stage's deadline)."""
    if session.scalar(select(TrainingEvent.id).where(TrainingEvent.edition == settings.award.edition_key)) is None:
        yield from milestone(session, settings, "training", "training")
