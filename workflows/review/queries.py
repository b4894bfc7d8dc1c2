"""Read-only views of the formal review: what waits for the secretariat, what applicants still owe."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflows.apply.models import AppStatus, Application
from workflows.review.models import FormalReview, SupplementRequest
from workflows.review.supplement import OwedItem, owed
from workflows.core.settings import Settings


@dataclass(frozen=True)
class PendingReview:
    """An application waiting for the secretariat's decision."""

    application_id: int
    number: str | None
    enterprise_name: str | None
    status: str
    since: dt.datetime
    supplement_deadline: dt.datetime | None


@dataclass(frozen=True)
class OpenSupplement:
    """An open supplement request: who owes what by when."""

    application_id: int
    applicant: str
    deadline: dt.datetime
    items: tuple[OwedItem, ...]


def pending_for_secretariat(session: Session, settings: Settings) -> list[PendingReview]:
    """Endorsed applications of this edition without a decision (including those awaiting a supplement)."""
    rows = session.execute(
        select(Application, FormalReview).outerjoin(FormalReview, FormalReview.application_id == Application.id)
        .where(Application.edition == settings.award.edition_key,
               Application.status.in_((AppStatus.RECOMMENDED, AppStatus.SUPPLEMENT)),
               or_(FormalReview.id.is_(None), FormalReview.decision.is_(None)))
        .order_by(Application.id)).all()
    # One query for all open requests (the reminder sweep calls this for every endorsed application).
    requests = {r.application_id: r for r in session.scalars(
        select(SupplementRequest).where(SupplementRequest.edition == settings.award.edition_key,
                                        SupplementRequest.status == "open",
                                        SupplementRequest.application_id.in_([app.id for app, _ in rows] or [0])))}
    return [PendingReview(app.id, app.number, app.enterprise_name, app.status,
                          review.created_at if review else app.updated_at,
                          requests[app.id].deadline if app.id in requests else None)
            for app, review in rows]


def open_supplements(session: Session, settings: Settings) -> list[OpenSupplement]:
    """Open supplement requests of this edition: applicant, items still owed, deadline."""
    rows = session.execute(
        select(SupplementRequest, Application).join(Application, Application.id == SupplementRequest.application_id)
        .where(SupplementRequest.edition == settings.award.edition_key, SupplementRequest.status == "open")
        .order_by(SupplementRequest.deadline, SupplementRequest.id)).all()
    return [OpenSupplement(app.id, app.applicant, req.deadline, owed(settings, req)) for req, app in rows]
