"""The fake WeCom API behaves like the real one where the bot depends on it."""

from __future__ import annotations

import io
import threading
import time
from urllib.parse import unquote

import pytest

from bot.simulator import FakeWeCom
from bot.simulator import errcodes as E
from tests.bot.simulator.conftest import AGENT_ID, CORP_ID, SECRET

VOTE_CARD = {
    "card_type": "vote_interaction", "main_title": {"title": "第1轮投票"}, "task_id": "vote-1",
    "checkbox": {"question_key": "q", "mode": 1,
                 "option_list": [{"id": "a", "text": "甲"}, {"id": "b", "text": "乙"}]},
    "submit_button": {"text": "提交", "key": "vote:submit:1"},
}


def send(api, token, body):
    return api.post("/cgi-bin/message/send", query_string={"access_token": token}, json=body).json


def card(**overrides):
    return {"touser": "u1", "msgtype": "template_card", "agentid": AGENT_ID,
            "template_card": dict(VOTE_CARD, **overrides)}


def text(content="hi", touser="u1"):
    return {"touser": touser, "msgtype": "text", "agentid": AGENT_ID, "text": {"content": content}}


def test_gettoken_checks_credentials(api):
    ok = api.get("/cgi-bin/gettoken", query_string={"corpid": CORP_ID, "corpsecret": SECRET}).json
    assert ok["errcode"] == 0 and ok["expires_in"] == 7200 and len(ok["access_token"]) > 20
    bad_corp = api.get("/cgi-bin/gettoken", query_string={"corpid": "x", "corpsecret": SECRET}).json
    bad_secret = api.get("/cgi-bin/gettoken", query_string={"corpid": CORP_ID, "corpsecret": "x"}).json
    assert (bad_corp["errcode"], bad_secret["errcode"]) == (E.INVALID_CORPID, E.INVALID_SECRET)


def test_token_required_unknown_and_expired(fake, api, token):
    assert send(api, None, text())["errcode"] == E.MISSING_ACCESS_TOKEN
    assert send(api, "nope", text())["errcode"] == E.INVALID_ACCESS_TOKEN
    assert send(api, token, text())["errcode"] == 0
    fake.expire_tokens()
    assert send(api, token, text())["errcode"] == E.ACCESS_TOKEN_EXPIRED
    fresh = api.get("/cgi-bin/gettoken", query_string={"corpid": CORP_ID, "corpsecret": SECRET}).json
    assert send(api, fresh["access_token"], text())["errcode"] == 0


def test_token_expires_after_7200s_of_fake_time():
    clock = [1000.0]
    fake = FakeWeCom(corp_id=CORP_ID, corp_secret=SECRET, agent_id=AGENT_ID, now=lambda: clock[0])
    api = fake.test_client()
    tok = api.get("/cgi-bin/gettoken", query_string={"corpid": CORP_ID, "corpsecret": SECRET}).json["access_token"]
    clock[0] += 7199
    assert send(api, tok, text())["errcode"] == 0
    clock[0] += 1
    assert send(api, tok, text())["errcode"] == E.ACCESS_TOKEN_EXPIRED


def test_send_validates_body(api, token):
    assert send(api, token, dict(text(), agentid=1))["errcode"] == E.INVALID_AGENTID
    assert send(api, token, {k: v for k, v in text().items() if k != "msgtype"})["errcode"] == E.INVALID_MSGTYPE
    assert send(api, token, text(touser=""))["errcode"] == E.INVALID_USERID_LIST
    assert send(api, token, text(content=""))["errcode"] == E.EMPTY_TEXT_CONTENT
    resp = api.post("/cgi-bin/message/send", query_string={"access_token": token}, data=b"{not json")
    assert resp.json["errcode"] == E.INVALID_JSON


def test_response_code_only_for_interactive_cards(api, token):
    plain = send(api, token, text())
    assert plain["errcode"] == 0 and plain["invaliduser"] == "" and plain["msgid"]
    assert "response_code" not in plain
    notice = send(api, token, card(card_type="text_notice", task_id="n-1", card_action={"type": 1, "url": "x"}))
    assert "response_code" not in notice
    codes = {send(api, token, card(card_type=t, task_id=f"t-{t}"))["response_code"]
             for t in ("button_interaction", "vote_interaction", "multiple_interaction")}
    assert len(codes) == 3 and all(codes)
    assert send(api, token, card(card_type="vote_interaction", task_id="t-vote_interaction"))["errcode"] == \
        E.DUPLICATE_TASK_ID


def test_unknown_users_are_reported(fake, api, token):
    fake.set_users({"u1": "张三"})
    assert send(api, token, text(touser="u1|ghost"))["invaliduser"] == "ghost"
    assert send(api, token, text(touser="ghost"))["errcode"] == E.ALL_RECIPIENTS_INVALID
    assert len(fake.messages_to("u1")) == 1 and fake.messages_to("ghost") == []
    user = api.get("/cgi-bin/user/get", query_string={"access_token": token, "userid": "u1"}).json
    assert (user["errcode"], user["name"]) == (0, "张三")
    missing = api.get("/cgi-bin/user/get", query_string={"access_token": token, "userid": "ghost"}).json
    assert missing["errcode"] == E.USER_NOT_FOUND


def update(api, token, code, **body):
    return api.post("/cgi-bin/message/update_template_card", query_string={"access_token": token},
                    json=dict({"agentid": AGENT_ID, "response_code": code, "userids": ["u1"]}, **body)).json


def test_response_code_is_single_use_and_click_codes_are_fresh(fake, api, token):
    code = send(api, token, card())["response_code"]
    assert update(api, token, code, button={"replace_name": "已投票"}) == \
        {"errcode": 0, "errmsg": "ok", "invaliduser": []}
    assert update(api, token, code, button={"replace_name": "again"})["errcode"] == E.INVALID_RESPONSE_CODE
    assert update(api, token, "made-up", button={"replace_name": "x"})["errcode"] == E.INVALID_RESPONSE_CODE
    click = api.post("/_sim/click", json={"task_id": "vote-1", "userid": "u1"}).json["response_code"]
    assert update(api, token, click, template_card=dict(VOTE_CARD, replace_text="已提交"))["errcode"] == 0
    assert [u.get("button", {}).get("replace_name") for u in fake.card_updates()] == ["已投票", None]


def test_inbox_after_and_card_updates(api, token):
    send(api, token, text("one"))
    code = send(api, token, card())["response_code"]
    first = api.get("/_sim/inbox/u1").json
    assert [e["msgtype"] for e in first] == ["text", "template_card"]
    assert first[1]["response_code"] == code and first[1]["task_id"] == "vote-1"
    assert first[0]["seq"] < first[1]["seq"]
    assert api.get("/_sim/inbox/u1", query_string={"after": first[1]["seq"]}).json == []
    update(api, token, code, button={"replace_name": "已投票"})
    later = api.get("/_sim/inbox/u1", query_string={"after": first[1]["seq"]}).json
    assert [(e["kind"], e["replace_name"]) for e in later] == [("card_update", "已投票")]
    assert api.get("/_sim/inbox/u1").json[1]["replace_name"] == "已投票"  # original card shows as replaced
    assert api.get("/_sim/inbox/u2").json == []


def upload(api, token, name, data, ctype, media_type="file"):
    return api.post("/cgi-bin/media/upload", query_string={"access_token": token, "type": media_type},
                    data={"media": (io.BytesIO(data), name, ctype)}).json


def test_media_round_trip_with_non_ascii_name(api, token):
    up = upload(api, token, "申报书 v2.pdf", b"%PDF-1.4 data", "application/pdf")
    assert up["errcode"] == 0 and up["type"] == "file" and up["created_at"].isdigit()
    got = api.get("/cgi-bin/media/get", query_string={"access_token": token, "media_id": up["media_id"]})
    assert got.data == b"%PDF-1.4 data" and got.mimetype == "application/pdf"
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "申报书 v2.pdf"
    ascii_up = upload(api, token, "a.png", b"\x89PNG....", "image/png", "image")
    got = api.get("/cgi-bin/media/get", query_string={"access_token": token, "media_id": ascii_up["media_id"]})
    assert got.headers["Content-Disposition"] == 'attachment; filename="a.png"'


def test_media_errors(api, token):
    missing = api.get("/cgi-bin/media/get", query_string={"access_token": token, "media_id": "nope"})
    assert missing.json == {"errcode": 40007, "errmsg": "invalid media_id"}
    assert upload(api, token, "x.bin", b"12345", "application/octet-stream", "pdf")["errcode"] == \
        E.INVALID_MEDIA_TYPE
    sim = api.post("/_sim/media", data={"media": (io.BytesIO(b"jpegdata"), "p.jpg", "image/jpeg")}).json
    assert sim["type"] == "image"
    got = api.get("/cgi-bin/media/get", query_string={"access_token": token, "media_id": sim["media_id"]})
    assert got.data == b"jpegdata"


def test_fault_injection(fake, api, token):
    fake.fail_next("message/send", errcode=45009, times=2)
    fake.fail_next("/cgi-bin/media/get", http_status=500)
    assert send(api, token, text())["errcode"] == 45009
    assert send(api, token, text())["errcode"] == 45009
    assert send(api, token, text())["errcode"] == 0
    assert api.get("/cgi-bin/media/get", query_string={"access_token": token, "media_id": "x"}).status_code == 500
    assert [c.response["errcode"] for c in fake.calls_to("message/send")] == [45009, 45009, 0]
    assert len(fake.messages_to("u1")) == 1


def test_delays(fake, api, token):
    fake.fail_next("message/send", delay=0.3)
    start = time.monotonic()
    assert send(api, token, text())["errcode"] == 0
    assert time.monotonic() - start >= 0.3
    fake.set_delay("message/send", 0.2)
    start = time.monotonic()
    send(api, token, text())
    send(api, token, text())
    assert time.monotonic() - start >= 0.4
    fake.set_delay("message/send", None)
    start = time.monotonic()
    send(api, token, text())
    assert time.monotonic() - start < 0.2


def test_calls_are_recorded_and_reset(fake, api, token):
    send(api, token, text("记录"))
    call = fake.calls_to("message/send")[0]
    assert call.params["access_token"] == token and call.body["text"]["content"] == "记录"
    assert call.status == 200 and call.response["errcode"] == 0 and call.timestamp > 0
    with pytest.raises(AttributeError):
        call.path = "x"
    fake.reset()
    assert fake.calls == [] and api.get("/_sim/inbox/u1").json == []
    assert send(api, token, text())["errcode"] == 0  # tokens survive reset


def test_thread_safe_under_http(fake, served):
    import requests

    tok = requests.get(served.url + "/cgi-bin/gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET},
                       timeout=5).json()["access_token"]

    def worker(i):
        requests.post(served.url + "/cgi-bin/message/send", params={"access_token": tok},
                      json=text(f"m{i}"), timeout=5)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [e["seq"] for e in fake.inbox("u1")]
    assert len(seqs) == 20 and len(set(seqs)) == 20
    assert len(fake.calls_to("message/send")) == 20


def test_serve_refuses_non_loopback(fake):
    from bot.simulator import serve_in_thread

    with pytest.raises(ValueError):
        serve_in_thread(fake, host="0.0.0.0")
