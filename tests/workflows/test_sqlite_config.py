"""RELIABILITY 14: SQLite in WAL with a busy timeout, foreign keys and immediate write locks — no 'locked'."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import text

from workflows.core.db import make_engine
from workflows.tables import Base

from ..conftest import ROOT

WORKER = textwrap.dedent("""
    import sys, threading, datetime as dt
    from sqlalchemy import select, func
    from workflows.core.db import make_engine, make_session_factory
    from workflows.core.models import StageState
    url, proc = sys.argv[1], sys.argv[2]
    sessions = make_session_factory(make_engine(url))
    errors = []
    def work(t):
        for i in range(40):
            try:
                with sessions.begin() as s:   # read, then write: the pattern that fails under a plain BEGIN
                    n = s.scalar(select(func.count()).select_from(StageState))
                    s.add(StageState(edition=f"p{proc}t{t}", stage=f"s{i}", status=str(n)))
            except Exception as exc:
                errors.append(repr(exc))
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    [t.start() for t in threads]; [t.join() for t in threads]
    print(len(errors)); print("\\n".join(errors[:3]))
""")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'contention.sqlite3'}"


def test_pragmas_on_a_pooled_connection(sqlite_url):
    engine = make_engine(sqlite_url)
    for _ in range(3):  # the same answers from every pooled connection
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_four_processes_of_four_threads_never_see_database_is_locked(sqlite_url):
    engine = make_engine(sqlite_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, sqlite_url, str(p)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for out, err in outputs:
        assert out.splitlines()[0] == "0", out + err
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stage_state")).scalar() == 4 * 4 * 40
    engine.dispose()
