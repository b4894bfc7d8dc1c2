"""The append-only, hash-chained audit log: who did what, when.

Appending takes one deployment-wide lock on PostgreSQL (`pg_advisory_xact_lock`, released at commit) so
the chain never forks.  Lock order (docs/reliability.md): a transaction that may audit takes that lock
*first*, before any row lock, so two auditing transactions never wait for each other's rows while
holding the audit lock (a deadlock).  `lock_first` takes it; on PostgreSQL it is taken automatically at
a transaction's first write or `SELECT … FOR UPDATE` (the listeners below), and the dispatcher takes it
before recording a callback.  A transaction that never audits (the outbox sender's claims and marks)
opts out with `exempt`.  SQLite serialises every writing transaction anyway.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import TextClause

from workflows.core.auditchain import GENESIS, ChainReport, canonical_json, entry_hash, verify_chain
from workflows.core.clock import recorded_at
from workflows.core.db import advisory_key_sql, is_postgres
from workflows.core.models import AuditEntry

log = logging.getLogger(__name__)

AUDIT_LOCK_KEY = 7319001  # the lock's namespace; the key also names the schema (db.advisory_key_sql)
_LOCKED, _EXEMPT = "audit_lock_tx", "audit_exempt_tx"  # session.info: the root transaction it applies to
_WRITES = ("INSERT", "UPDATE", "DELETE")


def _root(session: Session) -> object | None:
    return session.get_transaction()


def lock_first(session: Session) -> None:
    """Take the deployment-wide audit lock in this transaction now (PostgreSQL; once per transaction, released at
    commit or rollback). Call it at the start of a transaction that may audit, before it locks any row."""
    if not is_postgres(session):
        return
    if session.info.get(_LOCKED) is not None and session.info[_LOCKED] is _root(session):
        return
    session.connection().execute(text(f"SELECT pg_advisory_xact_lock({advisory_key_sql('k')})"), {"k": AUDIT_LOCK_KEY})
    session.info[_LOCKED] = _root(session)


def exempt(session: Session) -> None:
    """This transaction will not audit: its writes do not take the audit lock (the outbox sender's)."""
    session.info[_EXEMPT] = _root(session)


def _holds(session: Session, key: str) -> bool:
    tx = session.info.get(key)
    return tx is not None and tx is _root(session)


def _may_audit(session: Session) -> bool:
    return not _holds(session, _EXEMPT) and not _holds(session, _LOCKED) and is_postgres(session)


@event.listens_for(Session, "do_orm_execute")
def _lock_before_row_locks(state: ORMExecuteState) -> None:
    """A write or a SELECT … FOR UPDATE is a row lock: take the audit lock before the first one."""
    stmt = state.statement
    if state.is_select:
        locks = getattr(stmt, "_for_update_arg", None) is not None
    elif isinstance(stmt, TextClause):
        sql = stmt.text.lstrip().upper()
        locks = sql.startswith(_WRITES) or "FOR UPDATE" in sql
    else:
        locks = state.is_insert or state.is_update or state.is_delete
    if locks and _may_audit(state.session):
        lock_first(state.session)


@event.listens_for(Session, "before_flush")
def _lock_before_flush(session: Session, _ctx: object, _instances: object) -> None:
    """A flush writes rows: take the audit lock before it."""
    if (session.new or session.dirty or session.deleted) and _may_audit(session):
        lock_first(session)


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """The hashed fields of an entry."""
    return {"id": entry.id, "at": entry.at, "actor": entry.actor, "action": entry.action,
            "subject": entry.subject, "details": entry.details}


def record(session: Session, *, actor: str, action: str, now: dt.datetime,
           subject: str = "", **details: Any) -> AuditEntry:
    """Append one audit entry in the caller's transaction."""
    if _holds(session, _EXEMPT):
        log.warning("audit.record in a transaction marked exempt (%s): its row locks came first", action)
    # Serialise appenders so the chain never forks. Not yet taken means nothing was written or locked through the
    # session before, so this is still the first lock.
    lock_first(session)
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev_id, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
    entry = AuditEntry(id=prev_id + 1, at=recorded_at(session, now), actor=actor, action=action, subject=subject,
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
