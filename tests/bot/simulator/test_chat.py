"""The terminal chat renders what the bot sends and turns /vote, /click, /select, /file into callbacks."""

from __future__ import annotations

import xmltodict
from flask import Flask, request
from wechatpy.work.crypto import WeChatCrypto

from bot.simulator import CallbackClient, run_chat
from bot.simulator.render import render_card
from tests.bot.simulator.conftest import AES_KEY, AGENT_ID, CORP_ID, TOKEN

VOTE = {
    "card_type": "vote_interaction", "task_id": "vote-7", "source": {"desc": "质量奖评审"},
    "main_title": {"title": "第1轮投票", "desc": "请选择入围企业"},
    "horizontal_content_list": [{"keyname": "截止", "value": "6月30日"}],
    "checkbox": {"question_key": "round-1", "mode": 1, "option_list": [
        {"id": "e1", "text": "甲公司"}, {"id": "e2", "text": "乙公司", "is_checked": True},
        {"id": "e3", "text": "丙公司"}, {"id": "e4", "text": "丁公司"}]},
    "submit_button": {"text": "提交", "key": "vote:submit:1"},
}


def echo_webhook(fake) -> Flask:
    """A pretend bot: decrypts callbacks, records them, and answers texts through the fake API."""
    app = Flask("echo_bot")
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    app.received = []

    @app.post("/")
    def callback():
        a = request.args
        doc = xmltodict.parse(crypto.decrypt_message(request.get_data(), a["msg_signature"], a["timestamp"],
                                                     a["nonce"]))["xml"]
        app.received.append(doc)
        if doc["MsgType"] == "text":
            fake.send({"touser": doc["FromUserName"], "msgtype": "markdown", "agentid": AGENT_ID,
                       "markdown": {"content": f'收到 <font color="info">{doc["Content"]}</font>'}})
        return ""

    return app


def chat(fake, lines):
    bot = echo_webhook(fake)
    out: list[str] = []
    feed = iter(lines)

    def read(_prompt):
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    cb = CallbackClient(TOKEN, AES_KEY, CORP_ID, AGENT_ID, bot.test_client(), path="/")
    run_chat("u1", webhook_url="unused", api_url=fake.test_client(), token=TOKEN, encoding_aes_key=AES_KEY,
             corp_id=CORP_ID, agent_id=AGENT_ID, input=read, output=out.append, callbacks=cb,
             reply_wait=0.3, poll_interval=0.02)
    return bot.received, "\n".join(out)


def send_card(fake, card):
    return fake.send({"touser": "u1", "msgtype": "template_card", "agentid": AGENT_ID, "template_card": card})


def test_vote_card_renders_numbered_options():
    text = "\n".join(render_card(VOTE))
    for expected in ("第1轮投票", "请选择入围企业", "截止: 6月30日", "[1] [ ] 甲公司", "[2] [x] 乙公司",
                     "[4] [ ] 丁公司", "/vote"):
        assert expected in text
    assert "已投票" in "\n".join(render_card(VOTE, disabled="已投票"))
    assert "[1]" not in "\n".join(render_card(VOTE, disabled="已投票"))


def test_text_round_trip_and_markdown_cleanup(fake):
    received, out = chat(fake, ["评审进度"])
    assert received[0]["Content"] == "评审进度" and received[0]["FromUserName"] == "u1"
    assert "bot> 收到 评审进度" in out and "<font" not in out
    assert "/vote" in out  # help text


def test_vote_sends_template_card_event(fake):
    send_card(fake, VOTE)
    received, out = chat(fake, ["", "/vote 1 3", "/quit", "never read"])
    assert "[3] [ ] 丙公司" in out
    (event,) = received
    assert (event["Event"], event["EventKey"], event["TaskId"], event["CardType"]) == \
        ("template_card_event", "vote:submit:1", "vote-7", "vote_interaction")
    item = event["SelectedItems"]["SelectedItem"]
    assert item["QuestionKey"] == "round-1" and item["OptionIds"]["OptionId"] == ["e1", "e3"]
    # the click carries a fresh, usable response code
    assert fake.update_card({"agentid": AGENT_ID, "response_code": event["ResponseCode"],
                             "button": {"replace_name": "已投票"}})["errcode"] == 0


def test_replaced_card_is_shown_done_and_cannot_be_voted(fake):
    code = send_card(fake, VOTE)["response_code"]
    fake.update_card({"agentid": AGENT_ID, "response_code": code, "atall": 1, "button": {"replace_name": "已投票"}})
    received, out = chat(fake, ["", "/vote 2"])
    assert "[已投票]" in out and "(no open vote_interaction card)" in out
    assert received == []


def test_click_and_select(fake):
    send_card(fake, {"card_type": "button_interaction", "task_id": "b-1", "main_title": {"title": "材料审核"},
                     "button_selection": {"question_key": "who", "option_list": [
                         {"id": "lead", "text": "组长"}, {"id": "member", "text": "组员"}]},
                     "button_list": [{"text": "通过", "key": "review:ok"}, {"text": "退回", "key": "review:back"}]})
    send_card(fake, {"card_type": "multiple_interaction", "task_id": "m-1", "submit_button": {"key": "score:1"},
                     "select_list": [
                         {"question_key": "s1", "title": "创新", "option_list": [{"id": "1", "text": "1分"},
                                                                               {"id": "2", "text": "2分"}]},
                         {"question_key": "s2", "title": "质量", "selected_id": "y",
                          "option_list": [{"id": "x", "text": "差"}, {"id": "y", "text": "好"}]}]})
    received, out = chat(fake, ["/click 2 2", "/select 1=2", "/click 9"])
    click, select = received
    assert (click["EventKey"], click["CardType"]) == ("review:back", "button_interaction")
    assert click["SelectedItems"]["SelectedItem"]["OptionIds"]["OptionId"] == "member"
    assert select["EventKey"] == "score:1"
    chosen = {i["QuestionKey"]: i["OptionIds"]["OptionId"] for i in select["SelectedItems"]["SelectedItem"]}
    assert chosen == {"s1": "2", "s2": "y"}
    assert "[1] 通过  [2] 退回" in out and "choose a button 1..2" in out


def test_file_upload_sends_file_callback(fake, tmp_path):
    pdf = tmp_path / "自评报告.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG")
    received, _ = chat(fake, [f"/file {pdf}", f"/file {png}"])
    doc, img = received
    assert (doc["MsgType"], doc["FileName"]) == ("file", "自评报告.pdf")
    assert fake.media(doc["MediaId"]).data == b"%PDF-1.7"
    assert img["MsgType"] == "image" and fake.media(img["MediaId"]).type == "image"
