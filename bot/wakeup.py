"""Waking the outbox sender as soon as a transaction that queued messages commits.

In-process: a session that added outbox rows sets a `threading.Event` from its `after_commit` hook
(a rolled-back transaction wakes nobody). Across processes on PostgreSQL: the same transaction runs
`pg_notify` (delivered only if it commits), and each sender process LISTENs on a dedicated connection
and sets its event. Polling (`[sender] poll_seconds`) stays the fallback for everything else: rows
queued outside a session, retries whose backoff ends, a lost listener connection.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from workflows.core.models import OutboxMessage

log = logging.getLogger(__name__)

CHANNEL = "awardbot_outbox"
_QUEUED = "awardbot_outbox_queued"       # session.info: this transaction added outbox rows
_NOTIFIED = "awardbot_outbox_notified"   # session.info: and already sent pg_notify (once is enough)
OUTBOX_TABLE = OutboxMessage.__tablename__
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")


def queued(session: Session) -> None:
    """Note that this session's transaction queued outbox rows: its commit wakes the sender (and, on
    PostgreSQL, notifies the other processes' senders; the notification is dropped if it rolls back)."""
    session.info[_QUEUED] = True
    if session.info.get(_NOTIFIED) or session.get_bind().dialect.name != "postgresql":
        return
    session.info[_NOTIFIED] = True
    session.connection().execute(_NOTIFY)


class Wakeup:
    """An event the sender waits on, set when outbox rows are committed here or (PostgreSQL) elsewhere."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def set(self) -> None:
        """Wake the sender now."""
        self.event.set()

    def clear(self) -> None:
        """Forget earlier wake-ups (the sender is about to look at the outbox)."""
        self.event.clear()

    def wait(self, timeout: float) -> bool:
        """Wait for a wake-up or the timeout; True if woken."""
        return self.event.wait(timeout)

    # -- producers ------------------------------------------------------------------------
    def install(self, sessions: sessionmaker[Session]) -> None:
        """Watch the factory's sessions for outbox rows; wake on commit, notify other processes on PostgreSQL."""

        @event.listens_for(sessions, "after_flush")
        def _after_flush(session: Session, _ctx: object) -> None:
            if any(isinstance(obj, OutboxMessage) for obj in session.new):
                queued(session)

        @event.listens_for(sessions, "do_orm_execute")
        def _core_insert(state: ORMExecuteState) -> None:
            if state.is_insert and getattr(getattr(state.statement, "table", None), "name", None) == OUTBOX_TABLE:
                queued(state.session)

        @event.listens_for(sessions, "after_commit")
        def _after_commit(session: Session) -> None:
            if not session.in_nested_transaction() and session.info.pop(_QUEUED, False):  # not a savepoint
                self.event.set()

        @event.listens_for(sessions, "after_transaction_end")
        def _after_end(session: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is None:  # committed (the sender was woken above) or rolled back: forget
                session.info.pop(_QUEUED, None)
                session.info.pop(_NOTIFIED, None)

    # -- consumer across processes --------------------------------------------------------
    def listen(self, engine: Engine, stop: threading.Event, *, timeout: float = 1.0) -> threading.Thread | None:
        """On PostgreSQL, LISTEN in a daemon thread and set the event on each notification; else None."""
        if engine.dialect.name != "postgresql":
            return None
        t = threading.Thread(target=self._listen, args=(engine, stop, timeout), name="outbox-listen", daemon=True)
        t.start()
        return t

    def _listen(self, engine: Engine, stop: threading.Event, timeout: float) -> None:
        import psycopg
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.event.set()  # rows may have been queued while we were not listening
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=timeout, stop_after=1):
                            self.event.set()
            except Exception:  # the database went away: polling covers the gap, reconnect
                log.warning("outbox listener lost its connection; polling until it is back", exc_info=True)
                stop.wait(5.0)
