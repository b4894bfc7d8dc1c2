"""What the scoring stages owe, for the reminder sweep: experts with assigned applications not yet scored."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core.reminders import Obligation, deadline_key
from workflows.core.settings import Settings
from workflows.scoring import sheets as scoring
from workflows.scoring.visits import visits_owed


def _apps(session: Session, ids: set[int]) -> dict[int, Application]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))}


def _unscored(session: Session, settings: Settings, phase: str) -> Iterator[Obligation]:
    owed = scoring.unscored_assignments(session, settings, phase)
    apps = _apps(session, {i for _, ids, _ in owed for i in ids})
    for expert, ids, deadline in owed:
        yield Obligation(recipient=expert, stage=phase, deadline_key=deadline_key(f"score-{phase}", deadline),
                         deadline=deadline, kind="remind.score",
                         data={"phase": phase, "count": len(ids),
                               "applications": [{"number": apps[i].number or "",
                                                 "enterprise_name": apps[i].enterprise_name or ""} for i in ids]})


def material_sheets_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Experts with assigned applications not yet scored in the material review."""
    yield from _unscored(session, settings, "material")


def site_sheets_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Experts with candidates not yet scored after the site visit."""
    yield from _unscored(session, settings, "site")


def site_visits_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Experts and enterprises of proposed or confirmed site visits (reminded the day before, among the offsets)."""
    yield from visits_owed(session, settings)
