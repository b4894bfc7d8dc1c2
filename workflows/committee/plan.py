"""Stage 1 (制定实施方案, 报市政府批准实施): the city government's approval of the edition's 实施方案.

The plan is a decision, not a date: the secretariat records the approving document's number and date (audited);
the call for applications does not open before it (`workflows.stage_order`).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.committee.models import PlanApproval
from workflows.committee.rules import latest_meeting
from workflows.core import access, audit
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.settings import Settings


def plan_approval(session: Session, settings: Settings) -> PlanApproval | None:
    """The recorded approval of this edition's 实施方案, if any."""
    return session.scalar(select(PlanApproval).where(PlanApproval.edition == settings.award.edition_key))


@access.guarded("plan.record")
def record_plan_approval(session: Session, settings: Settings, *, actor: str, now: dt.datetime,
                         approved_on: dt.date, document_number: str) -> PlanApproval:
    """Record the city's approval of the 实施方案: its document number and date (once per edition; audited)."""
    if plan_approval(session, settings) is not None:
        raise AlreadyDone("plan_already_approved")
    document_number = document_number.strip()
    if not document_number or len(document_number) > 100:
        raise InvalidInput("plan_bad_document_number")
    if approved_on > now.astimezone(settings.award.tz).date():
        raise InvalidInput("plan_bad_date", approved_on=approved_on.isoformat())
    row = PlanApproval(edition=settings.award.edition_key, document_number=document_number,
                       approved_on=approved_on.isoformat(), recorded_by=actor, recorded_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="plan.approval", subject=f"plan_approval:{row.id}", now=now,
                 approved_on=row.approved_on, document_number=document_number)
    return row


def plan_data(session: Session, settings: Settings) -> dict[str, Any]:
    """The plan's approval and the 议事规则's adoption, as template data (stages 1 and 2)."""
    row = plan_approval(session, settings)
    meeting = latest_meeting(session, settings)
    return {"plan": None if row is None else {"document_number": row.document_number, "approved_on": row.approved_on,
                                              "recorded_by": row.recorded_by},
            "rules": None if meeting is None else {"held_on": meeting.held_on, "minutes_ref": meeting.minutes_ref,
                                                   "decisions": meeting.decisions}}
