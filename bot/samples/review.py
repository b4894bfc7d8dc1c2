"""Sample step: formal review done — every endorsed application accepted, material review opened."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import review
from workflows.core import stages
from workflows.apply.models import AppStatus, Application
from workflows.core.settings import Settings

from .base import ACTOR


def accept_recommended(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Accept every RECOMMENDED application through the review services, then open stage "material"."""
    stages.open_stage(session, settings, "review", actor=ACTOR, now=now)
    apps = session.scalars(select(Application).where(Application.edition == settings.award.edition_key,
                                                     Application.status == AppStatus.RECOMMENDED)
                           .order_by(Application.id))
    for app in list(apps):
        if review.review_for(session, app.id) is None:
            review.open_review(session, settings, application_id=app.id, actor=ACTOR, now=now, send_cards=False)
        review.accept(session, settings, application_id=app.id, actor=ACTOR, now=now)
    stages.close_stage(session, settings, "review", actor=ACTOR, now=now)
    stages.open_stage(session, settings, "material", actor=ACTOR, now=now)
