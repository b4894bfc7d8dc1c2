"""The simulator page's endpoints: what a member does reaches the bot as WeCom's encrypted callback, what the page
shows is what the bot sent the stand-in, and what the real client would never let through is refused."""

from __future__ import annotations

import io
import threading

import pytest
import xmltodict
from flask import Flask, request
from wechatpy.work.crypto import WeChatCrypto

from bot.simulator import FakeWeCom
from tests.bot.simulator.conftest import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN
from tests.bot.simulator.test_chat import VOTE

BUTTONS = {"card_type": "button_interaction", "task_id": "b-1", "main_title": {"title": "确认提交申报"},
           "button_selection": {"question_key": "who", "option_list": [{"id": "lead", "text": "负责人"},
                                                                        {"id": "member", "text": "联系人"}]},
           "button_list": [{"text": "确认提交", "style": 1, "key": "apply:confirm:1"},
                           {"text": "官网", "type": 1, "url": "https://example.com", "key": ""}]}


def bot(fake: FakeWeCom, reply: str = "") -> Flask:
    """A pretend bot behind the encrypted callback: records what it decrypted, answers texts through the API."""
    app = Flask("phone_bot")
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    app.received = []

    @app.post("/wecom/callback")
    def callback():
        a = request.args
        doc = xmltodict.parse(crypto.decrypt_message(request.get_data(), a["msg_signature"], a["timestamp"],
                                                     a["nonce"]))["xml"]
        app.received.append(doc)
        if doc["MsgType"] == "text":
            fake.send({"touser": doc["FromUserName"], "msgtype": "markdown", "agentid": AGENT_ID,
                       "markdown": {"content": f"**收到**：{doc['Content']}"}})
        return crypto.encrypt_message(reply, a["nonce"], a["timestamp"]) if reply else ""

    return app


@pytest.fixture
def fake() -> FakeWeCom:
    f = FakeWeCom(corp_id=CORP_ID, corp_secret=SECRET, agent_id=AGENT_ID)
    f.set_directory([{"userid": "qiye1", "name": "林志明", "department": "新申报企业", "position": "企业联系人"},
                     {"userid": "mishu", "name": "秘书处·李敏", "department": "秘书处", "position": "市直"}])
    return f


@pytest.fixture
def wired(fake):
    """The stand-in's page connected to the pretend bot (in process); returns (page client, bot app)."""
    app = bot(fake)
    fake.phone.connect(app.test_client(), token=TOKEN, encoding_aes_key=AES_KEY, path="/wecom/callback")
    return fake.test_client(), app


def card(fake, tc, to="qiye1"):
    return fake.send({"touser": to, "msgtype": "template_card", "agentid": AGENT_ID, "template_card": tc})


def test_the_page_is_served_from_the_stand_in_without_outside_assets(fake):
    page = fake.test_client().get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "企业微信（模拟）" in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "http" not in html.replace('"http', "").split("<body>")[0]      # no CDN: own scripts and styles only
    for asset in ("phone.js", "draw.js", "phone.css"):
        assert fake.test_client().get(f"/_sim/static/{asset}").status_code == 200


def test_a_typed_message_goes_through_the_encrypted_callback_and_both_sides_show(wired, fake):
    page, app = wired
    assert page.post("/_sim/say", json={"userid": "qiye1", "text": "申报"}).json["ok"]
    (doc,) = app.received
    assert (doc["MsgType"], doc["Content"], doc["FromUserName"], doc["ToUserName"]) == \
        ("text", "申报", "qiye1", CORP_ID)
    mine, reply = page.get("/_sim/inbox/qiye1").json
    assert (mine["kind"], mine["content"]) == ("sent", "申报")
    assert reply["body"]["markdown"]["content"] == "**收到**：申报" and reply["seq"] > mine["seq"]
    assert fake.calls == []            # the member's side is not a WeCom API call (tests count the bot's)


@pytest.mark.parametrize("body, code", [({"userid": "qiye1", "text": "  "}, "empty_text"),
                                        ({"userid": "qiye1", "text": "字" * 700}, "text_too_long"),
                                        ({"userid": "", "text": "hi"}, "no_member"),
                                        ({"text": "hi"}, "no_member")])
def test_what_the_client_never_sends_is_refused_and_nothing_reaches_the_bot(wired, fake, body, code):
    page, app = wired
    resp = page.post("/_sim/say", json=body)
    assert resp.status_code == 400 and resp.json["error"] == code
    assert app.received == [] and fake.inbox("qiye1") == []


def test_a_button_press_carries_a_fresh_response_code_and_the_selector(wired, fake):
    page, app = wired
    sent_code = card(fake, BUTTONS)["response_code"]
    assert page.post("/_sim/card", json={"userid": "qiye1", "task_id": "b-1", "key": "apply:confirm:1",
                                         "selected": {"who": ["member"]}}).json["ok"]
    (doc,) = app.received
    assert (doc["Event"], doc["EventKey"], doc["TaskId"], doc["CardType"]) == \
        ("template_card_event", "apply:confirm:1", "b-1", "button_interaction")
    assert doc["SelectedItems"]["SelectedItem"]["OptionIds"]["OptionId"] == "member"
    assert doc["ResponseCode"] != sent_code
    assert fake.update_card({"agentid": AGENT_ID, "response_code": doc["ResponseCode"],
                             "button": {"replace_name": "已提交"}})["errcode"] == 0
    last = page.get("/_sim/inbox/qiye1").json
    assert last[0]["disabled"] == "已提交" and last[-1]["kind"] == "card_update"
    again = page.post("/_sim/card", json={"userid": "qiye1", "task_id": "b-1", "key": "apply:confirm:1"})
    assert again.status_code == 409 and again.json["error"] == "card_done" and len(app.received) == 1


@pytest.mark.parametrize("body, status, code", [
    ({"task_id": "b-1", "key": "nope"}, 400, "bad_button"),
    ({"task_id": "b-1", "key": ""}, 400, "bad_button"),                  # the link button opens a page instead
    ({"task_id": "b-1", "key": "apply:confirm:1", "selected": {"who": ["boss"]}}, 400, "bad_choice"),
    ({"task_id": "x-9", "key": "apply:confirm:1"}, 404, "no_card"),
    ({"task_id": "b-1", "key": "apply:confirm:1", "userid": "mishu"}, 404, "no_card"),   # not his card
])
def test_a_press_the_client_would_not_allow_is_refused(wired, fake, body, status, code):
    page, app = wired
    card(fake, BUTTONS)
    resp = page.post("/_sim/card", json={"userid": "qiye1", **body})
    assert (resp.status_code, resp.json["error"]) == (status, code) and app.received == []


def test_a_vote_card_sends_the_ticked_options_and_checks_them(wired, fake):
    page, app = wired
    card(fake, VOTE)
    vote = {"userid": "qiye1", "task_id": "vote-7", "key": "vote:submit:1"}
    for picked in ([], ["e1", "e1"], ["e1", "zz"], "e1"):
        resp = page.post("/_sim/card", json={**vote, "selected": {"round-1": picked}})
        assert resp.json["error"] == "bad_choice"
    assert page.post("/_sim/card", json={**vote, "key": "vote:submit:2", "selected": {"round-1": ["e1"]}}) \
        .json["error"] == "bad_button"
    assert app.received == []
    assert page.post("/_sim/card", json={**vote, "selected": {"round-1": ["e1", "e3"]}}).json["ok"]
    item = app.received[0]["SelectedItems"]["SelectedItem"]
    assert item["QuestionKey"] == "round-1" and item["OptionIds"]["OptionId"] == ["e1", "e3"]
    single = dict(VOTE, task_id="vote-8", checkbox=dict(VOTE["checkbox"], mode=0))
    card(fake, single)
    assert page.post("/_sim/card", json={**vote, "task_id": "vote-8", "selected": {"round-1": ["e1", "e2"]}}) \
        .json["error"] == "bad_choice"
    greyed = dict(VOTE, task_id="vote-9", checkbox=dict(VOTE["checkbox"], disable=True))
    card(fake, greyed)
    assert page.post("/_sim/card", json={**vote, "task_id": "vote-9", "selected": {"round-1": ["e1"]}}) \
        .status_code == 409


def test_a_multiple_choice_card_sends_every_selector(wired, fake):
    page, app = wired
    card(fake, {"card_type": "multiple_interaction", "task_id": "m-1", "submit_button": {"key": "score:1"},
                "select_list": [{"question_key": "s1", "option_list": [{"id": "1", "text": "1"}, {"id": "2", "text": "2"}]},
                                {"question_key": "s2", "selected_id": "y",
                                 "option_list": [{"id": "x", "text": "差"}, {"id": "y", "text": "好"}]}]})
    assert page.post("/_sim/card", json={"userid": "qiye1", "task_id": "m-1", "key": "score:1",
                                         "selected": {"s1": ["2"]}}).json["ok"]
    items = app.received[0]["SelectedItems"]["SelectedItem"]
    assert {i["QuestionKey"]: i["OptionIds"]["OptionId"] for i in items} == {"s1": "2", "s2": "y"}


def test_files_go_as_file_or_image_callbacks_and_download_again(wired, fake):
    page, app = wired
    pdf = b"%PDF-1.4 the application form"
    resp = page.post("/_sim/send-file", data={"userid": "qiye1", "file": (io.BytesIO(pdf), "申请表.pdf")})
    assert resp.json["ok"]
    png = b"\x89PNG\r\n\x1a\n...."
    assert page.post("/_sim/send-file", data={"userid": "qiye1", "file": (io.BytesIO(png), "执照.png")}).json["ok"]
    doc, img = app.received
    assert (doc["MsgType"], doc["FileName"]) == ("file", "申请表.pdf") and fake.media(doc["MediaId"]).data == pdf
    assert img["MsgType"] == "image" and fake.media(img["MediaId"]).type == "image"
    shown = page.get("/_sim/inbox/qiye1").json
    assert [(e["kind"], e["media"]["filename"]) for e in shown] == [("sent", "申请表.pdf"), ("sent", "执照.png")]
    got = page.get(f"/_sim/media/{doc['MediaId']}")
    assert got.data == pdf and got.headers["Content-Disposition"].startswith("attachment;")
    assert page.get(f"/_sim/media/{img['MediaId']}?inline=1").headers["Content-Disposition"].startswith("inline;")
    assert page.get("/_sim/media/nope").status_code == 404
    tiny = page.post("/_sim/send-file", data={"userid": "qiye1", "file": (io.BytesIO(b"x"), "a.pdf")})
    nothing = page.post("/_sim/send-file", data={"userid": "qiye1"})
    assert (tiny.json["error"], nothing.json["error"]) == ("file_empty", "no_file") and len(app.received) == 2


def test_opening_the_app_greets_once_and_the_menu_sends_its_keys(wired, fake):
    page, app = wired
    fake.phone.menu = [{"name": "申报", "type": "click", "key": "apply"},
                       {"name": "更多", "sub_button": [{"name": "帮助", "type": "click", "key": "help"}]}]
    assert page.post("/_sim/event", json={"userid": "qiye1", "event": "enter_agent"}).json["ok"]
    assert page.post("/_sim/event", json={"userid": "qiye1", "event": "enter_agent"}).json["sent"] is False
    assert page.post("/_sim/event", json={"userid": "qiye1", "event": "click", "key": "help"}).json["ok"]
    assert page.post("/_sim/event", json={"userid": "qiye1", "event": "click", "key": "admin"}).json["error"] == \
        "bad_event"
    assert [(d["Event"], d["EventKey"] or "") for d in app.received] == [("enter_agent", ""), ("click", "help")]


def test_a_bot_that_does_not_answer_is_shown_as_not_delivered(fake):
    page = fake.test_client()
    assert page.post("/_sim/say", json={"userid": "qiye1", "text": "hi"}).json["error"] == "no_bot"
    fake.phone.connect("http://127.0.0.1:9", token=TOKEN, encoding_aes_key=AES_KEY)   # nothing listens there
    resp = page.post("/_sim/say", json={"userid": "qiye1", "text": "申报"})
    assert resp.status_code == 502 and resp.json["error"] == "bot_unreachable"
    mine, failed = page.get("/_sim/inbox/qiye1").json
    assert (failed["kind"], failed["ref"], failed["reason"]) == ("failed", mine["seq"], "bot_unreachable")


def test_a_passive_text_reply_joins_the_chat(fake):
    app = bot(fake, reply="<xml><ToUserName>qiye1</ToUserName><FromUserName>corp</FromUserName>"
                          "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>被动回复</Content></xml>")
    fake.phone.connect(app.test_client(), token=TOKEN, encoding_aes_key=AES_KEY, path="/wecom/callback")
    fake.test_client().post("/_sim/say", json={"userid": "qiye1", "text": "hi"})
    assert [e["body"]["text"]["content"] for e in fake.inbox("qiye1") if e.get("passive")] == ["被动回复"]


def test_the_directory_lists_members_with_their_newest_message(wired, fake):
    page, _ = wired
    fake.signin.choices = [("mishu", "秘书处·李敏")]
    fake.phone.workbench_url = "http://127.0.0.1:8800/admin/login/start?via=oauth"
    fake.send({"touser": "qiye1", "msgtype": "markdown", "agentid": AGENT_ID,
               "markdown": {"content": "**第一步：企业名称**\n请输入 [全称](http://x) <font color=\"info\">ok</font>"}})
    fake.send({"touser": "zhangsan", "msgtype": "text", "agentid": AGENT_ID, "text": {"content": "hi"}})
    d = page.get("/_sim/directory").json
    assert [(m["userid"], m["department"]) for m in d["members"]] == \
        [("qiye1", "新申报企业"), ("mishu", "秘书处"), ("zhangsan", "")]
    assert d["members"][0]["last"]["text"] == "第一步：企业名称 请输入 全称 ok"
    assert [m["workbench"] for m in d["members"]] == [False, True, False] and d["connected"]


def test_the_page_waits_for_news_instead_of_polling_fast(wired, fake):
    page, _ = wired
    seq = page.get("/_sim/directory").json["seq"]
    timer = threading.Timer(0.2, lambda: fake.send({"touser": "qiye1", "msgtype": "text", "agentid": AGENT_ID,
                                                    "text": {"content": "来了"}}))
    timer.start()
    later = page.get("/_sim/inbox/qiye1", query_string={"after": 0, "wait": 10}).json
    timer.join()
    assert [e["body"]["text"]["content"] for e in later] == ["来了"]
    assert page.get("/_sim/directory", query_string={"after": seq, "wait": 10}).json["seq"] > seq


def test_a_link_opened_on_a_phone_signs_that_member_in_without_asking(fake):
    page = fake.test_client()
    back = "http://127.0.0.1:8800/admin/auth/callback"
    oauth = {"appid": CORP_ID, "redirect_uri": back, "response_type": "code", "scope": "snsapi_base",
             "state": "s1", "agentid": str(AGENT_ID)}
    assert "请选择以谁的身份登录" in page.get("/connect/oauth2/authorize", query_string=oauth).get_data(as_text=True)
    fake.phone.workbench_url = "http://127.0.0.1:8800/admin/login/start?via=oauth"
    opened = page.get("/_sim/open", query_string={"userid": "mishu", "to": "workbench"})
    assert opened.status_code == 302 and opened.headers["Location"] == fake.phone.workbench_url
    signed = page.get("/connect/oauth2/authorize", query_string=oauth)
    code = signed.headers["Location"].split("code=")[1].split("&")[0]
    assert signed.headers["Location"].startswith(back + "?code=") and "state=s1" in signed.headers["Location"]
    assert fake.signin.getuserinfo(code)["userid"] == "mishu"
    assert "请选择" in page.get("/connect/oauth2/authorize", query_string=oauth).get_data(as_text=True)  # once
    assert page.get("/_sim/open", query_string={"userid": "mishu", "url": "javascript:alert(1)"}).status_code == 400


def test_the_terminal_chat_shows_what_was_sent_from_the_page(wired, fake):
    from bot.simulator.render import render_entry
    page, _ = wired
    page.post("/_sim/say", json={"userid": "qiye1", "text": "进度"})
    assert render_entry(fake.inbox("qiye1")[0]) == "you (browser)> 进度"


def test_a_page_opened_before_the_directory_lists_the_members_once_it_is_set():
    fake = FakeWeCom(corp_id=CORP_ID, corp_secret=SECRET, agent_id=AGENT_ID)
    page = fake.test_client()
    early = page.get("/_sim/directory").json
    assert early["members"] == []
    timer = threading.Timer(0.2, lambda: fake.set_directory([{"userid": "qiye1", "name": "林志明",
                                                              "department": "", "position": ""}]))
    timer.start()
    later = page.get("/_sim/directory", query_string={"after": early["seq"], "wait": 10}).json
    timer.join()
    assert [m["name"] for m in later["members"]] == ["林志明"]
