"""The append-only, hash-chained audit log: who did what, when."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from workflows.core.auditchain import GENESIS, ChainReport, canonical_json, entry_hash, verify_chain
from workflows.core.db import is_postgres
from workflows.core.models import AuditEntry

def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """The hashed fields of an entry."""
    return {"id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
            "subject": entry.subject, "details": entry.details}


def record(session: Session, *, actor: str, action: str, now: dt.datetime,
           subject: str = "", **details: Any) -> AuditEntry:
    """Append one audit entry in the caller's transaction."""
    if is_postgres(session):
        # Serialise appenders so the chain never forks; released at commit.
        session.execute(text("SELECT pg_advisory_xact_lock(7319001)"))
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    entry = AuditEntry(id=prev_id + 1, at=now, actor=actor, action=action, subject=subject,
                       details=json.loads(canonical_json(details)), prev_hash=prev_hash, hash="")
    entry.hash = entry_hash(prev_hash, entry_fields(entry))
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, *, subject: str | None = None, action: str | None = None) -> list[AuditEntry]:
    """Audit entries, oldest first, optionally for one subject or action."""
    q = select(AuditEntry).order_by(AuditEntry.id)
    if subject is not None:
        q = q.where(AuditEntry.subject == subject)
    if action is not None:
        q = q.where(AuditEntry.action == action)
    return list(session.scalars(q))


def verify(session: Session) -> ChainReport:
    """Check the whole audit log's hash chain."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return verify_chain((e.id, e.prev_hash, e.hash, entry_fields(e)) for e in rows)
