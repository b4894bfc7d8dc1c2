"""The stand-in implements WeCom's enable_duplicate_check (D90236): the same request JSON from the app to the same
member within the interval is accepted and not delivered again."""

from __future__ import annotations

from bot.simulator import FakeWeCom
from tests.bot.simulator.conftest import AGENT_ID, CORP_ID, SECRET


def body(content="已收到", touser="u1", **extra):
    return {"touser": touser, "msgtype": "text", "agentid": AGENT_ID, "text": {"content": content},
            "enable_duplicate_check": 1, "duplicate_check_interval": 600, **extra}


def setup():
    clock = [1000.0]
    fake = FakeWeCom(corp_id=CORP_ID, corp_secret=SECRET, agent_id=AGENT_ID, now=lambda: clock[0])
    api = fake.test_client()
    token = api.get("/cgi-bin/gettoken", query_string={"corpid": CORP_ID, "corpsecret": SECRET}).json["access_token"]

    def send(b):
        return api.post("/cgi-bin/message/send", query_string={"access_token": token}, json=b).json
    return fake, clock, send


def test_the_same_body_within_the_interval_is_accepted_once_delivered_once():
    fake, clock, send = setup()
    first = send(body())
    clock[0] += 599
    again = send(body())
    assert first["errcode"] == again["errcode"] == 0 and again["msgid"] == first["msgid"]
    assert len(fake.messages_to("u1")) == 1 and len(fake.inbox("u1")) == 1
    assert len(fake.duplicates_dropped()) == 1
    clock[0] += 2                      # the interval is over: delivered again
    send(body())
    assert len(fake.messages_to("u1")) == 2


def test_another_member_other_content_or_no_check_are_delivered():
    fake, _clock, send = setup()
    send(body())
    send(body(touser="u2"))
    send(body(content="已收到。"))
    plain = {k: v for k, v in body().items() if k not in ("enable_duplicate_check", "duplicate_check_interval")}
    send(plain)
    send(plain)
    assert len(fake.messages_to("u1")) == 4 and len(fake.messages_to("u2")) == 1


def test_a_resent_card_is_not_delivered_twice_and_keeps_its_answer():
    fake, _clock, send = setup()
    card = {"touser": "u1", "msgtype": "template_card", "agentid": AGENT_ID, "enable_duplicate_check": 1,
            "template_card": {"card_type": "button_interaction", "task_id": "t-1", "main_title": {"title": "确认"},
                              "button_list": [{"text": "是", "key": "yes"}]}}
    first, again = send(card), send(card)
    assert again["errcode"] == 0 and again["response_code"] == first["response_code"]  # not 40xxx duplicate task
    assert len(fake.inbox("u1")) == 1


def test_the_key_is_the_whole_request_json_per_member():
    fake, _clock, send = setup()
    send(body(touser="u1|u2"))
    send(body(touser="u1|u2"))
    send(body())                       # another request JSON (touser differs): delivered
    assert len(fake.inbox("u1")) == 2 and len(fake.inbox("u2")) == 1


def test_an_interval_of_zero_checks_nothing():
    fake, _clock, send = setup()
    send(body(duplicate_check_interval=0))
    send(body(duplicate_check_interval=0))
    assert len(fake.inbox("u1")) == 2
