"""Personal data has an end: purging a finished, archived edition's personal data after the retention period.

An edition is *finished* when every one of its stages is closed (for the configured edition: every configured
stage), and *archived* when an `archive.export` of it was made after its last stage closed: that archive (the
zip and its manifest, kept off the server) is the edition's full record, personal data included.
`[retention] purge_after_days` after that archive, `purge` blanks in the live database what identifies or
reaches a person and the record does not need:

- the callback log: the payload (what a member sent: texts, complaints, file names) of every callback settled
  up to the edition's end, and its error text beyond the exception's type;
- the outbox: the data and rendered body of every finished row (sent, dead, cancelled) made up to the end,
  and its body hash;
- complaints: the complainant's name and phone, his member id (→ ``purged``), the text of drafts never lodged,
  the evidence files' original names (a file may be named after its sender; the files stay, by SHA-256);
  the public page's attempts (keyed hashes of addresses and phones) up to the end;
- applications: the contact person's name and phone; training sign-ups: the name of who signed up; the
  expert pool: the experts' contacts;
- conversations (dialog state, drafts) last touched up to the end.

Kept: the audit log (hash-chained: the record of every decision), the applications' facts, scores, papers,
complaints' content, findings and conclusions, stored files, and the archive itself.  The shared tables
(callbacks, outbox, conversations) are not per edition: the purge takes their rows up to the edition's end,
whichever edition they served.  Refused (and nothing changed) for an edition that is not finished, not
archived after its end, or still inside its retention period.  Audited (`edition.purge`, with the counts).
docs/reliability.md, "Personal data: retention and purge".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.call.models import TrainingEvent, TrainingSignup
from workflows.core import access, audit
from workflows.core.errors import InvalidInput, NotFound
from workflows.core.models import AuditEntry, Conversation, InboundCallback, OutboxMessage, StageState
from workflows.core.settings import Settings
from workflows.publicity.models import Complaint, ComplaintAttempt, ComplaintEvidence
from workflows.scoring.draw_models import PoolEntry

PURGED = {"purged": True}
PURGED_MEMBER = access.PURGED


@dataclass(frozen=True)
class Plan:
    """What a purge of one edition covers: its end, its archive, when the purge is allowed, and row counts."""

    edition: str
    finished_at: dt.datetime
    archived_at: dt.datetime
    allowed_from: dt.datetime
    counts: dict[str, int]


def finished_at(session: Session, settings: Settings, edition: str) -> dt.datetime | None:
    """When the edition's last stage closed; None while any stage is not closed (or none was ever opened)."""
    rows = list(session.scalars(select(StageState).where(StageState.edition == edition)))
    if not rows or any(r.status != "closed" or r.closed_at is None for r in rows):
        return None
    if edition == settings.award.edition_key and {r.stage for r in rows} < {s.key for s in settings.award.stages}:
        return None  # a configured stage never opened: the edition is not over
    return max(r.closed_at for r in rows if r.closed_at is not None)


def archived_at(session: Session, edition: str, since: dt.datetime) -> dt.datetime | None:
    """The time of the latest archive of the edition made at or after `since`, if any."""
    return session.scalar(select(AuditEntry.at).where(AuditEntry.action == "archive.export",
                                                      AuditEntry.subject == f"edition:{edition}",
                                                      AuditEntry.at >= since)
                          .order_by(AuditEntry.id.desc()).limit(1))


def plan(session: Session, settings: Settings, edition: str, *, now: dt.datetime) -> Plan:
    """What `purge` would do now; refuses (InvalidInput, NotFound) what it would refuse."""
    if not session.scalar(select(StageState.edition).where(StageState.edition == edition).limit(1)):
        raise NotFound(what=f"届次 {edition}")
    end = finished_at(session, settings, edition)
    if end is None:
        raise InvalidInput("retention_not_finished", edition=edition)
    archive = archived_at(session, edition, end)
    if archive is None:
        raise InvalidInput("retention_not_archived", edition=edition, finished_at=end.isoformat())
    allowed = archive + dt.timedelta(days=settings.retention.purge_after_days)
    if now < allowed:
        raise InvalidInput("retention_too_early", edition=edition, archived_at=archive.isoformat(),
                           allowed_from=allowed.isoformat(), days=settings.retention.purge_after_days)
    return Plan(edition, end, archive, allowed, _counts(session, edition, end))


def _complaints(edition: str):  # noqa: ANN202
    return select(Complaint.id).where(Complaint.edition == edition)


def _targets(edition: str, end: dt.datetime) -> dict[str, tuple]:
    """Per kind of personal data: (table, the condition of the rows that still hold it)."""
    return {
        "callbacks": (InboundCallback, (InboundCallback.status != "pending") & (InboundCallback.received_at <= end)),
        "outbox": (OutboxMessage, OutboxMessage.status.not_in(("pending", "sending"))
                   & (OutboxMessage.created_at <= end)),
        "complainants": (Complaint, (Complaint.edition == edition)
                         & (Complaint.real_name.is_not(None) | Complaint.phone.is_not(None)
                            | (Complaint.complainant != PURGED_MEMBER))),
        "complaint_drafts": (Complaint, (Complaint.edition == edition) & (Complaint.status == "draft")
                             & (Complaint.content != "")),
        "evidence_names": (ComplaintEvidence, ComplaintEvidence.complaint_id.in_(_complaints(edition))
                           & (ComplaintEvidence.original_name != "")),
        "complaint_attempts": (ComplaintAttempt, (ComplaintAttempt.at <= end)
                               | ComplaintAttempt.complaint_id.in_(_complaints(edition))),
        "contacts": (Application, (Application.edition == edition)
                     & (Application.contact_name.is_not(None) | Application.contact_phone.is_not(None))),
        "training_names": (TrainingSignup, TrainingSignup.event_id.in_(
            select(TrainingEvent.id).where(TrainingEvent.edition == edition)) & (TrainingSignup.name != "")),
        "pool_contacts": (PoolEntry, (PoolEntry.edition == edition) & (PoolEntry.contact != "")),
        "conversations": (Conversation, Conversation.updated_at <= end),
    }


def _counts(session: Session, edition: str, end: dt.datetime) -> dict[str, int]:
    return {kind: session.scalar(select(func.count()).select_from(table).where(where)) or 0
            for kind, (table, where) in _targets(edition, end).items()}


@access.guarded("edition.purge")
def purge(session: Session, settings: Settings, *, actor: str, now: dt.datetime, edition: str) -> Plan:
    """Blank the personal data of a finished, archived edition past its retention period (see the module)."""
    p = plan(session, settings, edition, now=now)
    targets = _targets(edition, p.finished_at)

    def where(kind: str):  # noqa: ANN202
        return targets[kind][1]

    session.execute(update(InboundCallback).where(where("callbacks"))
                    .values(payload=PURGED, error=None).execution_options(synchronize_session=False))
    session.execute(update(OutboxMessage).where(where("outbox"))
                    .values(data=PURGED, payload=PURGED, body_key=None).execution_options(synchronize_session=False))
    session.execute(update(Complaint).where(where("complaint_drafts"))
                    .values(content="").execution_options(synchronize_session=False))
    session.execute(update(Complaint).where(where("complainants"))
                    .values(real_name=None, phone=None, complainant=PURGED_MEMBER)
                    .execution_options(synchronize_session=False))
    session.execute(update(ComplaintEvidence).where(where("evidence_names"))
                    .values(original_name="").execution_options(synchronize_session=False))
    session.execute(delete(ComplaintAttempt).where(where("complaint_attempts"))
                    .execution_options(synchronize_session=False))
    session.execute(update(Application).where(where("contacts"))
                    .values(contact_name=None, contact_phone=None).execution_options(synchronize_session=False))
    session.execute(update(TrainingSignup).where(where("training_names"))
                    .values(name="").execution_options(synchronize_session=False))
    session.execute(update(PoolEntry).where(where("pool_contacts"))
                    .values(contact="").execution_options(synchronize_session=False))
    session.execute(delete(Conversation).where(where("conversations")).execution_options(synchronize_session=False))
    session.expire_all()
    audit.record(session, actor=actor, action="edition.purge", subject=f"edition:{edition}", now=now,
                 finished_at=p.finished_at.isoformat(), archived_at=p.archived_at.isoformat(), **p.counts)
    return p
