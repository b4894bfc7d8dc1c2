"""What the later stages owe, for the reminder sweep (the application stage's are in reminders.py).

Each provider reads the state in bulk through its stage's own query and yields one Obligation
per person who still owes something; nobody who is done appears.
"""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import people, review_queries, scoring, stages, voting
from .model import Application
from .reminders import Obligation, deadline_key, obligations
from .settings import Settings


def _apps(session: Session, ids: set[int]) -> dict[int, Application]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))}


@obligations("review")
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


@obligations("review")
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


def _unscored(session: Session, settings: Settings, phase: str) -> Iterator[Obligation]:
    owed = scoring.unscored_assignments(session, settings, phase)
    apps = _apps(session, {i for _, ids, _ in owed for i in ids})
    for expert, ids, deadline in owed:
        yield Obligation(recipient=expert, stage=phase, deadline_key=deadline_key(f"score-{phase}", deadline),
                         deadline=deadline, kind="remind.score",
                         data={"phase": phase, "count": len(ids),
                               "applications": [{"number": apps[i].number or "",
                                                 "enterprise_name": apps[i].enterprise_name or ""} for i in ids]})


@obligations("material")
def material_sheets_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Experts with assigned applications not yet scored in the material review."""
    yield from _unscored(session, settings, "material")


@obligations("site")
def site_sheets_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Experts with candidates not yet scored after the site visit."""
    yield from _unscored(session, settings, "site")


@obligations("vote")
def ballots_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Committee members who have not voted in an open round, by its closing time."""
    for nv in voting.non_voters(session, settings):
        yield Obligation(recipient=nv.member, stage="vote",
                         deadline_key=deadline_key("ballot", nv.closes_at, nv.ballot_id),
                         deadline=nv.closes_at, kind="remind.vote", data={"ballot_id": nv.ballot_id})
