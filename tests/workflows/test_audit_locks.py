"""Issue 12.13: the audit lock comes before any row lock, so auditing transactions never deadlock (PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from sqlalchemy import select, text

from workflows.core import audit
from workflows.core.models import AuditEntry, DirectoryName

T = dt.datetime(2018, 10, 20, 2, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def pg(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's locks (SQLite serialises every writing transaction)")
    return engine


def seed(sessions, n=3):
    with sessions.begin() as s:
        for i in range(n):
            s.add(DirectoryName(userid=f"u{i}", name="", fetched_at=T))


def touch(s, i: int, who: str) -> None:
    """Lock a row (SELECT … FOR UPDATE) and change it."""
    row = s.get(DirectoryName, f"u{i}", with_for_update=True)
    row.name = who
    s.flush()


def soft_meet(barrier: threading.Barrier) -> None:
    """Meet the other transaction if it can get here (it cannot once the audit lock orders them)."""
    try:
        barrier.wait(timeout=1)
    except threading.BrokenBarrierError:
        pass


def test_row_then_audit_against_audit_then_row_does_not_deadlock(pg, sessions):
    seed(sessions)
    barrier, errors = threading.Barrier(2), []

    def row_first() -> None:
        try:
            with sessions.begin() as s:
                touch(s, 0, "a")
                soft_meet(barrier)
                audit.record(s, actor="a", action="test.row_first", now=T)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def audit_first() -> None:
        try:
            with sessions.begin() as s:
                audit.record(s, actor="b", action="test.audit_first", now=T)
                soft_meet(barrier)
                touch(s, 0, "b")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=row_first), threading.Thread(target=audit_first)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        assert audit.verify(s).ok and len(audit.entries(s)) == 2


def test_many_auditing_transactions_in_random_orders(pg, sessions):
    seed(sessions)
    errors: list[Exception] = []

    def work(seed_: int) -> None:
        rng = random.Random(seed_)
        for k in range(12):
            steps = [("row", 0), ("row", 1), ("row", 2), ("audit", 0)]
            rng.shuffle(steps)
            try:
                with sessions.begin() as s:
                    for what, i in steps:
                        if what == "row":
                            touch(s, i, f"t{seed_}")
                        else:
                            audit.record(s, actor=f"t{seed_}", action="test.mixed", now=T, k=k)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as s:
        assert audit.verify(s).ok and len(audit.entries(s)) == 72


def holders(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                                 "WHERE d.datname = current_database() AND l.locktype = 'advisory' "
                                 "AND l.classid = :k AND l.objid = (CAST(hashtext(current_schema()) AS bigint) & 4294967295) "
                                 "AND l.granted"), {"k": audit.AUDIT_LOCK_KEY}).scalar()


def test_the_first_write_takes_the_audit_lock_and_exempt_transactions_do_not(pg, sessions):
    seed(sessions)
    with sessions.begin() as s:
        s.scalars(select(DirectoryName)).all()
        assert holders(pg) == 0                      # reading takes nothing
        touch(s, 0, "x")
        assert holders(pg) == 1                      # the first row lock came after the audit lock
        audit.record(s, actor="x", action="test.once", now=T)
    assert holders(pg) == 0                          # released at commit
    with sessions.begin() as s:
        audit.exempt(s)
        touch(s, 1, "y")
        assert holders(pg) == 0
    with sessions.begin() as s:
        audit.lock_first(s)
        audit.lock_first(s)                          # once per transaction
        assert holders(pg) == 1
    with sessions() as s:
        assert s.scalar(select(AuditEntry.action)) == "test.once"
