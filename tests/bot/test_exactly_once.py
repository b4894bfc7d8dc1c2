"""Issue 12.10: exactly once for the member, under faults (docs/reliability.md).

A sender killed after WeCom accepted a message and before recording it: another sender re-sends the row after
the lease, WeCom's duplicate check drops it, the member sees one message. A different message that reads the same
is still delivered (with a repeat mark). A sender that lost its claim never overwrites the new holder's outcome."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select, update

from bot.runtime import build_runtime
from bot.outbox import queue_rendered
from workflows.core import notices
from workflows.core.models import OutboxMessage

from .conftest import deliver, texts


def queue(rt, to="qiye1", kind="common.card_unknown", n=1, **data):
    with rt.sessions.begin() as s:
        for _ in range(n):
            notices.notify(s, to, kind, now=rt.clock(), **data)


def rows(rt) -> list[OutboxMessage]:
    with rt.sessions() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def killed_after_wecom_accepted(rt) -> list[OutboxMessage]:
    """Sender A claims and sends, then dies before recording anything."""
    claimed = rt.sender.claim(rt.clock())
    for row in claimed:
        assert rt.sender.client.send_message(row.payload["body"])["errcode"] == 0
    return claimed


def test_a_sender_killed_before_recording_does_not_deliver_twice(rt, wecom, clock, engine, bot_settings):
    queue(rt)
    killed_after_wecom_accepted(rt)
    other = build_runtime(bot_settings, clock=clock, engine=engine)
    assert deliver(other) == 0                       # the claim holds until its lease expires
    clock.advance(minutes=3)
    assert deliver(other) == 1                       # re-claimed and re-sent ...
    assert len(wecom.calls_to("message/send")) == 2 and len(wecom.duplicates_dropped()) == 1
    assert len(wecom.messages_to("qiye1")) == 1      # ... but the member sees it once
    (row,) = rows(rt)
    assert (row.status, row.attempts, row.claim_token) == ("sent", 1, None)


def test_a_sender_that_lost_its_claim_does_not_overwrite(rt, wecom, clock, engine, bot_settings):
    queue(rt)
    (stale,) = rt.sender.claim(clock())
    clock.advance(minutes=3)                         # A stalls past its lease
    other = build_runtime(bot_settings, clock=clock, engine=engine)
    (mine,) = other.sender.claim(clock())
    assert mine.claim_token != stale.claim_token
    assert rt.sender.deliver(stale)                  # A wakes up and sends: WeCom drops nothing yet ...
    before = rows(rt)[0]
    assert (before.status, before.claim_token) == ("sending", mine.claim_token)  # ... and records nothing
    wecom.fail_next("message/send", errcode=-1)
    rt.sender.deliver(stale)                          # nor does a failure of A's move the row back
    assert rows(rt)[0].status == "sending"
    assert other.sender.deliver(mine)                 # B's re-send of the same row is dropped by WeCom
    row = rows(rt)[0]
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(wecom.messages_to("qiye1")) == 1
    clock.advance(minutes=3)
    assert deliver(rt) == 0                           # nothing left to send


def test_a_different_message_that_reads_the_same_is_delivered_with_a_mark(rt, wecom, clock):
    queue(rt)
    deliver(rt)
    clock.advance(minutes=1)
    queue(rt, n=2)                                    # the same notice twice more within the interval
    deliver(rt)
    got = texts(wecom, "qiye1")
    assert len(got) == 3 and len(set(got)) == 3 and wecom.duplicates_dropped() == []
    assert "第2次发送" in got[1] and "第3次发送" in got[2] and got[1].startswith(got[0])
    assert [r.payload.get("repeat") for r in rows(rt)] == [None, 2, 3]


def test_bodies_are_compared_by_their_stored_key_and_an_unkeyed_older_row_by_its_body(rt, wecom, clock):
    queue(rt)
    deliver(rt)
    (first,) = rows(rt)
    assert first.body_key == rt.sender._key(first.payload["body"])   # stored when it was claimed
    with rt.sessions.begin() as s:                    # as if sent before body keys were stored
        s.execute(update(OutboxMessage).values(body_key=None))
    clock.advance(minutes=1)
    queue(rt)
    deliver(rt)
    got = texts(wecom, "qiye1")
    assert len(got) == 2 and "第2次发送" in got[1] and wecom.duplicates_dropped() == []


def test_a_marked_repeat_killed_before_recording_is_still_delivered_once(rt, wecom, clock, engine, bot_settings):
    queue(rt)
    deliver(rt)
    queue(rt)
    killed_after_wecom_accepted(rt)                   # the repeat's mark is stored with its claim ...
    clock.advance(minutes=3)
    other = build_runtime(bot_settings, clock=clock, engine=engine)
    assert deliver(other) == 1                        # ... so its re-send is the same body, dropped by WeCom
    assert len(wecom.messages_to("qiye1")) == 2 and len(wecom.duplicates_dropped()) == 1


def test_after_the_interval_the_same_text_needs_no_mark(rt, wecom, clock):
    queue(rt)
    deliver(rt)
    clock.advance(seconds=rt.settings.sender.duplicate_check_interval + 1)
    queue(rt)
    deliver(rt)
    got = texts(wecom, "qiye1")
    assert len(got) == 2 and got[0] == got[1]


def test_replies_carry_the_duplicate_check_too(rt, wecom, cb):
    assert cb.send(cb.text("qiye1", "帮助")).status == 200
    assert cb.send(cb.text("qiye1", "帮助")).status == 200
    deliver(rt)
    bodies = wecom.messages_to("qiye1")
    assert len(bodies) == 2 and all(b["enable_duplicate_check"] == 1 for b in bodies)
    assert "第2次发送" in texts(wecom, "qiye1")[1]


def card_row(rt, task_id: str) -> None:
    body = {"touser": "qiye1", "agentid": rt.settings.wecom.agent_id, "msgtype": "template_card",
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800,
            "template_card": {"card_type": "button_interaction", "task_id": task_id, "main_title": {"title": "确认"},
                              "button_list": [{"text": "是", "key": "yes"}]}}
    with rt.sessions.begin() as s:
        s.add(OutboxMessage(recipient="qiye1", kind="test.card", data={}, action="send", payload={"body": body},
                            next_attempt_at=rt.clock(), created_at=rt.clock()))


def test_a_card_resent_after_a_crash_is_one_card_with_its_response_code(rt, wecom, clock, engine, bot_settings):
    card_row(rt, "t-1")
    card_row(rt, "t-2")                               # another card reads differently: its own task_id
    killed_after_wecom_accepted(rt)
    clock.advance(minutes=3)
    deliver(build_runtime(bot_settings, clock=clock, engine=engine))
    assert len(wecom.inbox("qiye1")) == 2
    assert all(r.status == "sent" and r.result["response_code"] for r in rows(rt))
    assert all("第" not in str(r.payload) for r in rows(rt))


def file_rows(rt, n=1) -> None:
    with rt.sessions.begin() as s:
        for _ in range(n):
            notices.send_file(s, "qiye1", sha256="ab" * 32, filename="申请表.pdf", now=rt.clock())


def with_document(rt):
    rt.sender.open_document = lambda sha256: (b"%PDF-1.4 test", "application/pdf")
    return rt


def test_the_same_file_twice_is_delivered_twice_and_a_resend_once(rt, wecom, clock, engine, bot_settings):
    with_document(rt)
    file_rows(rt)
    deliver(rt)
    file_rows(rt)                                     # asked for again within the interval: a new upload
    killed_after_wecom_accepted_files(rt)
    clock.advance(minutes=3)
    deliver(with_document(build_runtime(bot_settings, clock=clock, engine=engine)))
    files = [b for b in wecom.messages_to("qiye1") if b["msgtype"] == "file"]
    assert len(files) == 2 and files[0]["file"]["media_id"] != files[1]["file"]["media_id"]
    assert all(b["enable_duplicate_check"] == 1 for b in files) and len(wecom.duplicates_dropped()) == 1
    assert len(wecom.calls_to("media/upload")) == 2


def killed_after_wecom_accepted_files(rt) -> None:
    """A file row: the sender uploads, stores the body it sends, sends, and dies before recording."""
    (row,) = rt.sender.claim(rt.clock())
    rt.sender._send_file(row)  # noqa: SLF001 - the crash window itself


def test_claims_carry_a_token_and_expire(rt, clock):
    queue(rt, n=2)
    claimed = rt.sender.claim(clock())
    assert {r.claim_token for r in claimed} and all(r.claimed_until == clock() + dt.timedelta(minutes=2)
                                                    for r in claimed)
    assert rt.sender.claim(clock()) == []


def test_senders_killed_with_sigkill_deliver_every_message_exactly_once(engine, db_url):
    """Real processes: two senders, one killed with SIGKILL after a quarter and another after half of the rows
    (each replaced), WeCom calls in flight; the survivors re-send after the lease (bench/faults.py, smaller)."""
    from bench.faults import run

    out = run(members=45, senders=2, database_url=db_url, delay=0.03, lease=1.0, interval=1800)
    assert out["sent_rows"] == out["rows"] == 60 and out["sigkills"] == 2
    assert out["members_with_a_duplicate"] == 0 and out["members_missing_a_message"] == 0


def test_a_batch_of_sent_messages_is_recorded_in_one_transaction(rt, wecom, engine):
    queue(rt, to="qiye0")
    deliver(rt)                                       # the access token is fetched (and stored) once, here
    for member in ("qiye1", "qiye2", "qiye3"):
        queue(rt, to=member)
    commits = []

    def count(_conn) -> None:
        commits.append(1)

    event.listen(engine, "commit", count)
    try:
        assert rt.sender.run_once() == 3
    finally:
        event.remove(engine, "commit", count)
    assert len(commits) == 2                          # the claim and the three outcomes: not one per row
    sent = {c.body["touser"]: c.response["msgid"] for c in wecom.calls_to("message/send")}
    for row in rows(rt)[1:]:
        assert (row.status, row.attempts, row.claim_token) == ("sent", 1, None)
        assert row.result["msgid"] == sent[row.recipient]   # each row keeps its own answer


def test_a_batch_records_only_the_rows_whose_claim_still_holds(rt, wecom, clock):
    for member in ("qiye1", "qiye2"):
        queue(rt, to=member)
    stale = rt.sender.claim(clock())
    with rt.sessions.begin() as s:                    # A stalled past its lease on qiye2's row; B took it over
        s.execute(update(OutboxMessage).where(OutboxMessage.recipient == "qiye2").values(claim_token="b" * 32))
    sent: list = []
    for row in stale:
        assert rt.sender.deliver(row, sent)           # A's sends go through; their outcomes wait for the batch
    assert len(sent) == 2 and all(r.status == "sending" for r in rows(rt))
    rt.sender.record_sent(sent)
    assert sent == []
    mine, theirs = rows(rt)
    assert (mine.status, mine.attempts, mine.claim_token) == ("sent", 1, None) and mine.result["msgid"]
    assert (theirs.status, theirs.attempts, theirs.claim_token, theirs.result) == ("sending", 0, "b" * 32, None)


def test_a_second_sender_cannot_take_over_the_rows_of_a_slow_batch(rt, wecom, clock, engine, bot_settings):
    """Issue 22.9: a batch of 20 whose every call takes 10 s (200 s, longer than the two minutes' lease):
    the rest of the batch is renewed, and what went through recorded, before the lease could run out."""
    members = [f"m{i:02d}" for i in range(20)]
    for member in members:
        queue(rt, to=member)
    other = build_runtime(bot_settings, clock=clock, engine=engine)
    real_send = rt.sender.client.send_message
    taken_over: list[int] = []

    def slow_send(body):
        clock.advance(seconds=10)               # each call takes 10 s (the production timeout; here a row's budget)
        taken_over.append(deliver(other))       # meanwhile a second sender looks for rows whose lease ran out
        return real_send(body)
    rt.sender.client.send_message = slow_send
    assert rt.sender.run_once() == 20
    assert sum(taken_over) == 0
    sends = [c.body["touser"] for c in wecom.calls_to("message/send")]
    assert sorted(sends) == members and not wecom.duplicates_dropped()   # each row sent once, by one sender
    assert all((r.status, r.attempts) == ("sent", 1) for r in rows(rt))


def test_a_stalled_sender_leaves_the_rows_another_took_over_unsent(rt, wecom, clock, engine, bot_settings):
    """A sender that stalls past its lease in its first call finds, renewing, that the rest of its batch was taken
    over, and sends none of it (only the row in flight is sent twice, and WeCom drops that repeat)."""
    members = [f"m{i:02d}" for i in range(5)]
    for member in members:
        queue(rt, to=member)
    other = build_runtime(bot_settings, clock=clock, engine=engine)
    real_send = rt.sender.client.send_message
    calls = []

    def stalled_send(body):
        calls.append(body["touser"])
        if len(calls) == 1:
            clock.advance(minutes=3)            # stalled past the lease ...
            assert deliver(other) == 5          # ... while another sender took the batch over
        return real_send(body)
    rt.sender.client.send_message = stalled_send
    rt.sender.run_once()
    assert calls == ["m00"]
    assert len(wecom.calls_to("message/send")) == 6 and len(wecom.duplicates_dropped()) == 1
    assert all((r.status, r.attempts) == ("sent", 1) for r in rows(rt))


def test_a_claim_whose_rows_changed_after_its_select_takes_nothing(rt, clock, monkeypatch):
    """The claim is Core statements: SELECT the due rows, then `UPDATE … WHERE id IN (…) AND <still due>
    RETURNING id`. A row changed in between (no row lock on SQLite) undoes the whole claim, parking included."""
    queue(rt, n=2)
    queue(rt, to="qiye2")
    real = type(rt.sender)._recent_sends

    def meanwhile(s, recipients, now):  # another sender takes qiye2's row between the SELECT and the UPDATE
        s.connection().execute(update(OutboxMessage).where(OutboxMessage.recipient == "qiye2")
                               .values(status="sending", claim_token="x" * 32, claimed_until=now
                                       + dt.timedelta(minutes=2)))
        return real(s, recipients, now)

    monkeypatch.setattr(type(rt.sender), "_recent_sends", staticmethod(meanwhile))
    assert rt.sender.claim(clock()) == []
    assert [(r.status, r.claim_token) for r in rows(rt)] == [("pending", None)] * 3   # all rolled back
    monkeypatch.setattr(type(rt.sender), "_recent_sends", staticmethod(real))
    claimed = rt.sender.claim(clock())
    assert [r.recipient for r in claimed] == ["qiye1", "qiye1", "qiye2"]   # in order, one token
    assert all(r.claim_token == claimed[0].claim_token for r in claimed)


def test_a_row_is_keyed_when_it_is_queued_and_the_claim_does_not_hash_it_again(rt, wecom, clock, monkeypatch):
    queue(rt)                                                        # the ORM path (render hook)
    with rt.sessions.begin() as s:                                   # the Core path every reply takes
        queue_rendered(s, rt.renderer, "qiye2", "common.card_unknown", now=clock())
    keyed = rows(rt)
    assert [r.body_key for r in keyed] == [rt.sender._key(r.payload["body"]) for r in keyed]
    hashed = []
    monkeypatch.setattr(type(rt.sender), "_key", staticmethod(lambda body: hashed.append(body) or "x"))
    assert deliver(rt) == 2 and hashed == []
    assert [r.body_key for r in rows(rt)] == [r.body_key for r in keyed]
