"""Queueing in bulk (reminders) and the reply's Core insert give the same rows as the ORM path, in order."""
from __future__ import annotations

from sqlalchemy import select

from workflows.core import notices
from workflows.core.db import make_session_factory
from workflows.core.models import OutboxMessage


def rows(rt):
    with rt.sessions() as s:
        return [(r.recipient, r.kind, r.data, r.payload) for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_bulk_rows_equal_the_orm_rows(rt):
    with rt.sessions.begin() as s:
        notices.notify(s, "qiye1", "common.card_unknown", now=rt.clock())
    with rt.sessions.begin() as s:
        assert notices.notify_many(s, [("qiye2", "common.card_unknown", {})], now=rt.clock()) == 1
    one, two = rows(rt)
    assert one[1:3] == two[1:3] and one[3]["body"]["touser"] == "qiye1" and two[3]["body"]["touser"] == "qiye2"
    assert {k: v for k, v in one[3]["body"].items() if k != "touser"} == \
        {k: v for k, v in two[3]["body"].items() if k != "touser"}


def test_bulk_queue_keeps_the_transactions_order_and_wakes_the_sender(rt):
    rt.sender.wakeup.clear()
    with rt.sessions.begin() as s:
        notices.notify(s, "qiye1", "common.card_unknown", now=rt.clock())  # pending, not yet flushed
        notices.notify_many(s, [("qiye1", "common.hint", {"text": "x", "commands": ["帮助"]}), ("qiye2", "common.card_unknown", {})],
                            now=rt.clock())
    assert [(r[0], r[1]) for r in rows(rt)] == [("qiye1", "common.card_unknown"), ("qiye1", "common.hint"),
                                               ("qiye2", "common.card_unknown")]
    assert all(r[3] and r[3]["body"] for r in rows(rt))
    assert rt.sender.wakeup.event.is_set()


def test_without_the_bots_renderer_rows_are_queued_one_by_one(rt):
    plain = make_session_factory(rt.engine)  # no render hook: the rows wait unrendered, as notify() leaves them
    with plain.begin() as s:
        notices.notify_many(s, [("qiye1", "common.card_unknown", {})], now=rt.clock())
    assert rows(rt) == [("qiye1", "common.card_unknown", {}, None)]


def test_a_long_reply_is_split_into_parts_in_bulk_too(rt):
    from bot import outbox
    with rt.sessions.begin() as s:
        outbox.queue_rendered(s, rt.renderer, "qiye1", "common.hint", now=rt.clock(), text="长" * 1500,
                              commands=["帮助"])
    got = rows(rt)
    assert len(got) >= 2 and all(r[3]["body"]["touser"] == "qiye1" for r in got)
    assert [r[2].get("_part") for r in got][1:] == list(range(2, len(got) + 1))
