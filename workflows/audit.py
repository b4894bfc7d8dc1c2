"""The append-only, hash-chained audit log: who did what, when."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Mapping

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .model import AuditEntry

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash and the entry's canonical JSON."""
    body = json.dumps(_canonical(fields), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """The hashed fields of an entry."""
    return {"id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
            "subject": entry.subject, "details": entry.details}


def record(session: Session, *, actor: str, action: str, now: dt.datetime,
           subject: str = "", **details: Any) -> AuditEntry:
    """Append one audit entry in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so the chain never forks; released at commit.
        session.execute(text("SELECT pg_advisory_xact_lock(7319001)"))
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    entry = AuditEntry(id=prev_id + 1, at=now, actor=actor, action=action, subject=subject,
                       details=_canonical(details), prev_hash=prev_hash, hash="")
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
