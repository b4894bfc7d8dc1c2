"""Engine and session set-up: SQLite in WAL mode with immediate write locks, or PostgreSQL."""
from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10000


def make_engine(url: str) -> Engine:
    """Create an engine configured for safe concurrent use. Statement parameters (a token, a ballot's choice, a
    complainant's name) never appear in its error messages or logs (`hide_parameters`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
                           hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001
        # Driver-level autocommit so that SQLAlchemy's BEGIN below is the only transaction start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    # Threads of one process queue on a Python lock instead of SQLite's sleeping busy handler
    # (which adds tens of milliseconds of tail latency); other processes still meet busy_timeout.
    writer = threading.RLock()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):  # noqa: ANN001
        # Take the write lock up front: read-then-write under a deferred BEGIN fails with "database is locked".
        writer.acquire()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn):  # noqa: ANN001
        try:
            writer.release()
        except RuntimeError:  # a rollback with no transaction of ours begun in this thread
            pass

    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def advisory_key_sql(param: str) -> str:
    """SQL for this deployment's advisory-lock key in a namespace: the namespace (a 32-bit constant, bound as
    `:param`) in the high half and the schema in the low half, so two deployments in one database (or two test
    processes, each in its own schema) never share a lock."""
    return f"((CAST(:{param} AS bigint) << 32) | (CAST(hashtext(current_schema()) AS bigint) & 4294967295))"


def is_postgres(session_or_engine: Session | Engine) -> bool:
    """Whether this is PostgreSQL (for SKIP LOCKED and advisory locks)."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"
