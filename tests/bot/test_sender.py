"""RELIABILITY 7, 8, 9: transactional outbox, retries, bounded calls, shared token, delivery limits."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from bot.runtime import build_runtime
from workflows.core import notices
from workflows.core.models import OutboxMessage

from .conftest import deliver, texts


def queue(rt, to="qiye1", n=1, **data):
    with rt.sessions.begin() as s:
        for i in range(n):
            notices.notify(s, to, "common.card_unknown", now=rt.clock(), **data)


def row(rt, row_id=1) -> OutboxMessage:
    with rt.sessions() as s:
        return s.get(OutboxMessage, row_id)


def retry_until_done(rt, clock, limit=20) -> None:
    for _ in range(limit):
        deliver(rt)
        r = row(rt)
        if r.status in ("sent", "dead"):
            return
        clock.set(r.next_attempt_at)


def test_busy_twice_then_ok_is_delivered_exactly_once(rt, wecom, clock):
    queue(rt)
    wecom.fail_next("message/send", errcode=-1, times=2)
    retry_until_done(rt, clock)
    r = row(rt)
    assert (r.status, r.attempts) == ("sent", 3)
    assert len(wecom.messages_to("qiye1")) == 1


def test_timeout_500_limit_then_ok_after_four_attempts(rt, wecom, clock):
    queue(rt)
    wecom.fail_next("message/send", delay=3)           # longer than the 2 s client timeout
    wecom.fail_next("message/send", http_status=500)
    wecom.fail_next("message/send", errcode=45009)
    retry_until_done(rt, clock)
    r = row(rt)
    assert (r.status, r.attempts) == ("sent", 4)
    assert len(wecom.messages_to("qiye1")) == 1


def test_45009_backs_off_at_least_a_minute(rt, wecom, clock):
    queue(rt)
    wecom.fail_next("message/send", errcode=45009)
    deliver(rt)
    assert row(rt).next_attempt_at - clock() >= dt.timedelta(seconds=60)


@pytest.mark.parametrize("errcode", [81013, 40003])
def test_permanent_errors_are_dead_at_once_and_visible(rt, wecom, http, errcode):
    queue(rt)
    wecom.fail_next("message/send", errcode=errcode)
    deliver(rt)
    r = row(rt)
    assert (r.status, r.attempts) == ("dead", 1) and str(errcode) in r.last_error
    assert http.get("/healthz").get_json()["outbox"]["dead"] == 1


def test_gives_up_after_max_attempts(rt, wecom, clock):
    queue(rt)
    wecom.fail_next("message/send", errcode=-1, times=100)
    retry_until_done(rt, clock, limit=50)
    assert (row(rt).status, row(rt).attempts) == ("dead", rt.settings.sender.max_attempts)


def test_rolled_back_transaction_leaves_no_outbox_row(rt):
    with pytest.raises(RuntimeError):
        with rt.sessions.begin() as s:
            notices.notify(s, "qiye1", "common.card_unknown", now=rt.clock())
            s.flush()
            raise RuntimeError("decision failed")
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_restart_with_pending_rows_delivers_each_once(rt, wecom, clock, engine, bot_settings):
    queue(rt, n=3)
    # "Crash" after claiming: the rows are marked sending but nothing was sent.
    claimed = rt.sender.claim(clock())
    assert len(claimed) == 3
    restarted = build_runtime(bot_settings, clock=clock, engine=engine)
    assert deliver(restarted) == 0                      # lease not yet expired: nobody double-sends
    clock.advance(minutes=3)
    assert deliver(restarted) == 3
    assert deliver(restarted) == 0
    assert len(wecom.messages_to("qiye1")) == 3


def test_token_expiry_mid_run_refreshes_once(rt, wecom, clock):
    queue(rt)
    deliver(rt)
    wecom.expire_tokens()
    queue(rt, to="qiye2")
    deliver(rt)
    assert len(wecom.calls_to("gettoken")) == 2
    assert len(wecom.messages_to("qiye2")) == 1


def test_fifty_concurrent_sends_with_an_expired_token_fetch_one_token(rt, wecom):
    rt.client.send_message({"touser": "warm", "agentid": rt.settings.wecom.agent_id, "msgtype": "text", "text": {"content": "x"}})
    wecom.expire_tokens()
    errors: list[Exception] = []

    def send(i: int) -> None:
        try:
            rt.client.send_message({"touser": f"u{i}", "agentid": rt.settings.wecom.agent_id, "msgtype": "text", "text": {"content": "x"}})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=send, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(wecom.calls_to("gettoken")) == 2          # the first one, and exactly one refresh


def test_a_stand_in_that_never_answers_frees_the_worker_within_the_timeout(rt, wecom):
    rt.client.tokens.get()
    wecom.set_delay("message/send", 5)
    started = time.monotonic()
    with pytest.raises(Exception):
        rt.client.send_message({"touser": "u", "agentid": rt.settings.wecom.agent_id, "msgtype": "text", "text": {"content": "x"}})
    assert time.monotonic() - started < rt.settings.wecom.request_timeout_seconds + 1.5
    wecom.set_delay("message/send", None)


def test_no_sixty_second_window_over_thirty_messages_to_one_member(rt, wecom, clock):
    queue(rt, n=100)
    sent_times: list[dt.datetime] = []
    for _ in range(400):
        deliver(rt)
        with rt.sessions() as s:
            sent_times = sorted(s.scalars(select(OutboxMessage.sent_at).where(OutboxMessage.status == "sent")))
            nxt = s.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending"))
        if nxt is None:
            break
        clock.set(max(clock(), nxt))
    assert len(sent_times) == 100
    for i in range(len(sent_times) - 30):
        assert sent_times[i + 30] - sent_times[i] >= dt.timedelta(seconds=60)
    bodies = wecom.messages_to("qiye1")
    assert len(bodies) == 100 and all(b["enable_duplicate_check"] == 1 for b in bodies)


def test_messages_to_one_member_keep_their_order_across_retries(rt, wecom, clock):
    with rt.sessions.begin() as s:
        notices.notify(s, "qiye1", "common.cancelled", now=clock(), had_flow=True)
        notices.notify(s, "qiye1", "common.cancelled", now=clock(), had_flow=False)
    wecom.fail_next("message/send", errcode=-1)
    deliver(rt)
    assert wecom.messages_to("qiye1") == []             # the second waits for the first
    clock.advance(minutes=5)
    deliver(rt)
    got = texts(wecom, "qiye1")
    assert "已退出" in got[0] and "没有进行中" in got[1]


def test_long_text_is_split_into_parts_under_the_limit(rt, wecom):
    from bot.render import split_text
    parts = split_text("第一行\n" + "长" * 1500 + "\n结束", 2048)
    assert len(parts) >= 2 and all(len(p.encode()) <= 2048 for p in parts)
    assert "".join(parts).replace("\n", "") == ("第一行" + "长" * 1500 + "结束")


def test_a_card_closed_without_a_click_uses_the_code_from_sending(rt, wecom):
    """A decision taken on the command line still greys the member's card, once."""
    with rt.sessions.begin() as s:
        task = notices.send_card(s, "mishu", "test.card", subject="x", now=rt.clock(),
                                 **_review_card_data())
    deliver(rt)
    with rt.sessions.begin() as s:
        notices.update_card(s, s.merge(task), "test.card", response_code=None, now=rt.clock(),
                            replace_name="accepted")
    deliver(rt)
    [update] = wecom.calls_to("message/update_template_card")
    assert update.body["button"] == {"replace_name": "已受理"} and update.body["response_code"]
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "dead")) == 0


def test_a_card_never_sent_is_not_updated(rt, wecom):
    with rt.sessions.begin() as s:
        task = notices.send_card(s, "mishu", "test.card", subject="x", now=rt.clock(), **_review_card_data())
        notices.update_card(s, task, "test.card", response_code=None, now=rt.clock(), replace_name="accepted")
    wecom.fail_next("message/send", errcode=81013)   # the card itself cannot be delivered
    deliver(rt)
    assert wecom.calls_to("message/update_template_card") == []


def _review_card_data() -> dict:
    return {"title": "测试卡片"}


@pytest.fixture(autouse=True)
def _test_card_template(rt):
    """A minimal button card only these tests use."""
    from jinja2 import ChoiceLoader, DictLoader
    card = ('{"card_type": "button_interaction", "main_title": {"title": {{ title|tojson }}}, '
            '"task_id": {{ task_id|tojson }}, "button_list": [{"text": "确定", "key": "test:ok"}]}')
    rt.renderer.env.loader = ChoiceLoader([DictLoader({"cards/test/card.json.j2": card}), rt.renderer.env.loader])


def test_a_document_is_uploaded_once_and_again_after_its_media_id_ages(rt, wecom, clock):
    rt.sender.open_document = lambda sha: (b"%PDF-1.4 test", "application/pdf")
    with rt.sessions.begin() as s:
        for to in ("u1", "u2"):
            notices.send_file(s, to, sha256="a" * 64, filename="申请表.pdf", now=clock())
    deliver(rt)
    assert len(wecom.calls_to("media/upload")) == 1
    assert [m["file"]["media_id"] for m in wecom.messages_to("u1")] == [m["file"]["media_id"]
                                                                         for m in wecom.messages_to("u2")]
    clock.advance(days=3)
    with rt.sessions.begin() as s:
        notices.send_file(s, "u3", sha256="a" * 64, filename="申请表.pdf", now=clock())
    deliver(rt)
    assert len(wecom.calls_to("media/upload")) == 2


def test_a_slow_lookup_does_not_hold_back_the_members_messages(rt, wecom, clock):
    with rt.sessions.begin() as s:
        from workflows.core import people
        people.directory_name(s, "qiye1", now=clock())       # queues user/get first
        notices.notify(s, "qiye1", "common.card_unknown", now=clock())
    wecom.fail_next("user/get", errcode=-1, times=5)        # WeCom busy for the look-up
    deliver(rt)
    assert len(wecom.messages_to("qiye1")) == 1


def test_a_token_wecom_no_longer_accepts_is_replaced_once_and_the_message_goes(rt, wecom):
    """message/send goes straight through urllib3 (bot/wecom/client.py): the same token handling as wechatpy's."""
    queue(rt)
    deliver(rt)
    wecom.expire_tokens()                              # WeCom answers 42001 for the stored token
    queue(rt, to="qiye2")
    deliver(rt)
    assert row(rt, 2).status == "sent" and len(wecom.messages_to("qiye2")) == 1
    assert rt.client.tokens.fetches == 2


def test_a_gateway_error_page_is_a_retryable_failure(rt, wecom, clock):
    queue(rt)
    wecom.fail_next("message/send", http_status=502)   # a gateway's HTML page
    deliver(rt)
    r = row(rt)
    assert (r.status, r.attempts) == ("pending", 1) and "502" in r.last_error
    retry_until_done(rt, clock)
    assert row(rt).status == "sent"
