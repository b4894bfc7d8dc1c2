"""The sender is woken by the commit that queued messages (in-process, and by LISTEN/NOTIFY on PostgreSQL)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import insert, select

from bot.wakeup import Wakeup
from workflows.core import notices
from workflows.core.models import OutboxMessage

from .conftest import texts


def queue(rt, to="qiye1"):
    with rt.sessions.begin() as s:
        notices.notify(s, to, "common.card_unknown", now=rt.clock())


def test_commit_that_queued_a_message_wakes_the_sender(rt):
    rt.sender.wakeup.clear()
    queue(rt)
    assert rt.sender.wakeup.event.is_set()


def test_rolled_back_or_message_free_transactions_wake_nobody(rt):
    rt.sender.wakeup.clear()
    with pytest.raises(RuntimeError), rt.sessions.begin() as s:
        notices.notify(s, "qiye1", "common.card_unknown", now=rt.clock())
        s.flush()
        raise RuntimeError("rolled back")
    with rt.sessions.begin() as s:
        s.execute(select(OutboxMessage.id)).all()
    assert not rt.sender.wakeup.event.is_set()
    with rt.sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == []


def test_a_core_insert_into_the_outbox_wakes_too(rt):
    rt.sender.wakeup.clear()
    with rt.sessions.begin() as s:
        s.execute(insert(OutboxMessage), [{"recipient": "qiye1", "kind": "common.card_unknown", "data": {},
                                           "action": "send", "payload": {"body": {}}, "status": "pending",
                                           "next_attempt_at": rt.clock(), "created_at": rt.clock()}])
    assert rt.sender.wakeup.event.is_set()


def test_running_sender_delivers_on_wake_up_not_on_the_poll(rt, wecom):
    """With a poll of an hour, a queued message is still delivered: the commit woke the sender."""
    rt.sender.conf = rt.sender.conf.model_copy(update={"poll_seconds": 3600})
    stop = threading.Event()
    t = threading.Thread(target=rt.sender.run_forever, args=(stop,), daemon=True)
    t.start()
    try:
        delivered = threading.Event()
        wecom_record = wecom._record

        def record(*args, **kwargs):
            resp = wecom_record(*args, **kwargs)
            if args[0].endswith("message/send"):
                delivered.set()
            return resp
        wecom._record = record
        queue(rt)
        assert delivered.wait(30)
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()
    assert texts(wecom, "qiye1")


def test_postgres_notify_reaches_a_listener_in_another_connection(rt, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    other, stop = Wakeup(), threading.Event()
    listener = other.listen(engine, stop, timeout=0.2)
    try:
        assert other.wait(30)  # set once on connecting (rows may have been queued before)
        other.clear()
        with pytest.raises(RuntimeError), rt.sessions.begin() as s:
            notices.notify(s, "qiye1", "common.card_unknown", now=rt.clock())
            s.flush()
            raise RuntimeError("rolled back: no notification")
        queue(rt)
        assert other.wait(30)
    finally:
        stop.set()
        listener.join(5)


def test_a_savepoint_commit_waits_for_the_whole_transaction(rt):
    rt.sender.wakeup.clear()
    s = rt.sessions()
    with s.begin():
        with s.begin_nested():
            notices.notify(s, "qiye1", "common.card_unknown", now=rt.clock())
        assert not rt.sender.wakeup.event.is_set()  # released a savepoint: nothing is visible yet
    assert rt.sender.wakeup.event.is_set()
    rt.sender.wakeup.clear()
    with s.begin():  # the same session, a transaction without messages
        s.execute(select(OutboxMessage.id)).all()
    assert not rt.sender.wakeup.event.is_set()
    s.close()
