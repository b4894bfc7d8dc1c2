"""What the scoring stages owe, for the reminder sweep: experts with assigned applications not yet scored, drawn
experts who have not answered the 承诺书, and the consensus the group leader owes on a disagreement."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import people, stages
from workflows.core.reminders import Obligation, deadline_key
from workflows.core.settings import Settings
from workflows.scoring.draw import members
from workflows.scoring.experts import LEADER
from workflows.scoring.results import standing
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


def pledges_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Drawn experts asked for the 承诺书 who have not answered, by the material review's deadline ([decision]:
    the pledge comes before any material is seen; the review cannot be scored without it)."""
    asked = [m for m in members(session, settings) if m.status == "asked"]
    if not asked or stages.status(session, settings, "material") == "closed":
        return
    deadline = stages.deadline(session, settings, "material")
    for m in asked:
        yield Obligation(recipient=m.userid, stage="material", deadline_key=deadline_key("pledge", deadline),
                         deadline=deadline, kind="remind.pledge", data={"kind": m.kind})


def _consensus(session: Session, settings: Settings, phase: str) -> Iterator[Obligation]:
    st = standing(session, settings, phase)
    if not st.unresolved:
        return
    deadline = stages.deadline(session, settings, phase)
    apps = _apps(session, set(st.unresolved))
    for leader in people.with_role(session, LEADER):
        yield Obligation(recipient=leader.userid, stage=phase, deadline_key=deadline_key(f"consensus-{phase}", deadline),
                         deadline=deadline, kind="remind.consensus",
                         data={"phase": phase, "count": len(st.unresolved),
                               "applications": [{"number": apps[i].number or "",
                                                 "enterprise_name": apps[i].enterprise_name or ""}
                                                for i in st.unresolved]})


def material_consensus_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The group leader, while a material-review disagreement has no consensus value."""
    yield from _consensus(session, settings, "material")


def site_consensus_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The group leader, while a site-visit disagreement has no consensus value."""
    yield from _consensus(session, settings, "site")
