"""What the formal review owes, for the reminder sweep: applicants with an open 补正 request, and the
secretariat while endorsed applications wait for a decision."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import people, stages
from workflows.core.reminders import Obligation, deadline_key
from workflows.core.settings import Settings
from workflows.review import queries as review_queries


def _apps(session: Session, ids: set[int]) -> dict[int, Application]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))}


def supplements_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Applicants with an open supplement request: the items and reasons, by its own deadline."""
    owed = review_queries.open_supplements(session, settings)
    apps = _apps(session, {o.application_id for o in owed})
    for o in owed:
        app = apps[o.application_id]
        yield Obligation(recipient=o.applicant, stage="review",
                         deadline_key=deadline_key("supplement", o.deadline, o.application_id),
                         deadline=o.deadline, kind="remind.supplement",
                         data={"number": app.number or "", "enterprise_name": app.enterprise_name or "",
                               "items": [{"name": i.name, "reason": i.reason} for i in o.items if not i.supplied]})


def reviews_undecided(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The secretariat, while endorsed applications wait for a formal-review decision."""
    pending = [p for p in review_queries.pending_for_secretariat(session, settings) if p.supplement_deadline is None]
    if not pending:
        return
    deadline = stages.deadline(session, settings, "review")
    data = {"count": len(pending),
            "applications": [{"number": p.number or "", "enterprise_name": p.enterprise_name or ""}
                             for p in pending]}
    for person in people.with_role(session, "secretariat"):
        yield Obligation(recipient=person.userid, stage="review", deadline_key=deadline_key("review", deadline),
                         deadline=deadline, kind="remind.review", data=data)
