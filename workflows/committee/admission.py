"""破格: the committee admits an application below the material gate ("原则上" 450 points), with a reason.

The default stays the hard gate; only the committee chair, for the committee, records an admission,
and it counts when the site-visit candidates are selected (workflows.scoring.results).  Audited.
The verb is `workflows.scoring.admission.admit_below_gate` (guarded `committee.admit`): it checks the stage
and the application's state (this stage package comes before the applications' own) and calls `record`.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.committee.models import GateAdmission
from workflows.core import audit
from workflows.core.errors import AlreadyDone, InvalidInput
from workflows.core.settings import Settings

REASON_MIN = 4


def record(session: Session, settings: Settings, *, actor: str, now: dt.datetime, application_id: int,
           reason: str, number: str = "", score: str = "") -> GateAdmission:
    """Record the committee's admission of an application below the gate; the reason is required (called by
    the checked verb `scoring.admit_below_gate`, which the policy guards)."""
    reason = reason.strip()
    if len(reason) < REASON_MIN:
        raise InvalidInput("committee_admit_reason", min=REASON_MIN)
    if application_id in admitted_ids(session, settings):
        raise AlreadyDone("committee_already_admitted", number=number or str(application_id))
    row = GateAdmission(edition=settings.award.edition_key, application_id=application_id, reason=reason,
                        decided_by=actor, decided_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="committee.admit_below_gate", subject=f"application:{application_id}",
                 now=now, reason=reason, gate=settings.award.rules.material_gate, number=number, score=score)
    return row


def admissions(session: Session, settings: Settings) -> list[GateAdmission]:
    """This edition's admissions, oldest first."""
    return list(session.scalars(select(GateAdmission).where(GateAdmission.edition == settings.award.edition_key)
                                .order_by(GateAdmission.id)))


def admitted_ids(session: Session, settings: Settings) -> frozenset[int]:
    """Applications the committee admitted below the gate."""
    return frozenset(a.application_id for a in admissions(session, settings))
