"""破格 in its place: the committee admits an application below the material gate only where that means something.

`committee.admission` records the decision; this module (which knows the applications and their scores) is
the verb: the chair, for the committee, may admit an application of this edition that passed the formal
review, whose material score is final and below the gate, while the site-visit candidates are not yet
recorded (afterwards an admission would change nothing).  Each refusal says why; nothing is recorded.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from workflows import committee
from workflows.apply.models import AppStatus
from workflows.committee.models import GateAdmission
from workflows.core import access
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.settings import Settings
from workflows.scoring.experts import find_application
from workflows.scoring.results import SITE, fmt, shortlist, standing


def check_admissible(session: Session, settings: Settings, number: str, reason: str) -> tuple[int, str]:
    """Everything `admit_below_gate` checks, without changing anything: (application id, its number)."""
    reason = reason.strip()
    if len(reason) < committee.admission.REASON_MIN:
        raise InvalidInput("committee_admit_reason", min=committee.admission.REASON_MIN)
    app = find_application(session, settings, number)
    label = app.number or str(app.id)
    if app.id in committee.admitted_ids(session, settings):
        raise AlreadyDone("committee_already_admitted", number=label)
    if app.status != AppStatus.ACCEPTED:
        raise InvalidInput("committee_admit_not_accepted", number=label)
    if shortlist(session, settings, SITE):
        raise InvalidInput("committee_admit_too_late", number=label)
    st = standing(session, settings, "material")
    if app.id not in st.scores or app.id in st.unresolved:
        raise InvalidInput("committee_admit_not_scored", number=label)
    gate = settings.award.rules.material_gate
    if st.scores[app.id] >= gate:
        raise InvalidInput("committee_admit_not_below_gate", number=label, gate=gate)
    return app.id, label


@access.guarded("committee.admit")
def admit_below_gate(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str,
                     reason: str) -> GateAdmission:
    """The committee's 破格 (recorded by its chair) for an application whose state allows it; audited."""
    app_id, label = check_admissible(session, settings, number, reason)
    st = standing(session, settings, "material")
    return committee.admission.record(session, settings, actor=actor, now=now, application_id=app_id,
                                      reason=reason, number=label, score=fmt(st.scores[app_id]))
