"""A linked-corp member (互联企业 / 上下游, "CorpID/UserID") applies like anyone else, through the stand-in.

The member is reached through linkedcorp/message/send; the confirmation card, which that endpoint cannot
carry, arrives as a textcard whose signed page does what the card's buttons do (docs/reach.md).
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

from sqlalchemy import select

from bot.simulator import CallbackClient
from tests.bot.application_helpers import (
    ELIGIBILITY, FACTS, REQUIRED, open_apply, page_upload, pdf, say, send_file, upload_path,
)
from tests.bot.conftest import deliver, texts
from workflows.apply.models import Application
from workflows.core import audit
from workflows.core.models import CardTask, DirectoryName, InboundCallback

LINKED = "wwlinkedqiye0001/lisi"


def _client(rt, http, clock, **kw) -> CallbackClient:
    w = rt.settings.wecom
    return CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, http,
                          now=lambda: clock().timestamp(), **kw)


def _card_path(message: str) -> str:
    m = re.search(r"(https?://\S+?(/card/[A-Za-z0-9_.\-]+))", message)
    assert m, message
    return m.group(2)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def test_a_linked_corp_applicant_goes_from_apply_to_submitted(cb, rt, wecom, http, clock, monkeypatch):
    open_apply(rt)
    wecom.set_linked_users({LINKED: "李四"})
    first = say(cb, rt, wecom, LINKED, "申报")
    assert "截止时间" in first[0] and "企业名称" in first[1]
    for answer in FACTS + ELIGIBILITY:
        replies = say(cb, rt, wecom, LINKED, answer)
    assert "上传材料：申报表" in replies[-1]
    got = send_file(cb, rt, wecom, LINKED, "申请表.pdf", pdf("form"))
    assert any("已收到“申报表”：申请表.pdf" in t for t in got), got
    path = upload_path(got[-1])
    assert page_upload(http, path, "自评报告.pdf", pdf("self")).status_code == 200
    deliver(rt)
    for key in REQUIRED[2:]:
        got = send_file(cb, rt, wecom, LINKED, f"{key}.pdf", pdf(key))
    assert "必需材料已经齐全" in got[-1]

    # 提交: the card cannot go to a linked member; a textcard links to its page instead.
    got = say(cb, rt, wecom, LINKED, "提交")
    [textcard] = [b for b in wecom.messages_to(LINKED) if b["msgtype"] == "textcard"]
    assert textcard["touser"] == [LINKED] and textcard["textcard"]["title"] == "确认提交申报"
    assert "韶关市武江精工制造有限公司" in textcard["textcard"]["description"]
    assert len(textcard["textcard"]["description"].encode()) <= 512 and textcard["textcard"]["btntxt"] == "去处理"
    card_path = _card_path(got[-1])
    page = http.get(card_path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "确认提交申报" in html and "确认提交" in html and "再检查" in html
    with rt.sessions() as s:
        app = s.scalar(select(Application))
        assert app.applicant == LINKED and app.status == "draft"
    with monkeypatch.context() as m:          # no routing worker behind the page: it routes the click itself
        m.setattr(rt.dispatcher.worker, "drain", lambda *a, **k: None)
        resp = http.post(card_path, data={"csrf": _csrf(html), "key": f"apply:confirm:{app.id}"})
        assert resp.status_code == 303 and resp.headers["Location"].endswith("?done=1")
        with rt.sessions() as s:
            assert s.scalar(select(Application)).status == "submitted"   # before the redirect is followed
    deliver(rt)
    assert any("申报编号 **SG2018-001**" in t for t in texts(wecom, LINKED))
    done = http.get(card_path).get_data(as_text=True)
    assert "已提交" in done and 'name="key"' not in done
    again = http.post(card_path, data={"csrf": _csrf(html), "key": f"apply:confirm:{app.id}"})
    assert again.status_code == 409

    # Everything went through linkedcorp/message/send; nothing tried message/send or a card update for him.
    sent = [c for c in wecom.calls if c.path == "message/send" and LINKED in str(c.body.get("touser"))]
    assert sent == [] and wecom.card_updates() == []
    assert all(c.response["errcode"] == 0 for c in wecom.calls_to("linkedcorp/message/send"))
    # The member's name comes from linkedcorp/user/get (user/get knows only the corp's own members).
    assert [c.body for c in wecom.calls_to("linkedcorp/user/get")] == [{"userid": LINKED}]
    assert not [c for c in wecom.calls_to("user/get") if LINKED in str(c.params)]
    with rt.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "submitted" and app.number == "SG2018-001"
        [submit] = [e for e in audit.entries(s, subject=f"application:{app.id}") if e.action == "application.submit"]
        assert submit.actor == LINKED
        assert s.scalar(select(CardTask).where(CardTask.recipient == LINKED)).status == "closed"
        assert s.get(DirectoryName, LINKED).name == "李四"


def test_both_callback_forms_name_the_same_member(rt, wecom, http, clock):
    open_apply(rt)
    by_id = _client(rt, http, clock)                        # FromUserName = CorpID/UserID
    by_corp = _client(rt, http, clock, linked_form="corp")  # FromUserName = UserID, ToUserName = CorpID
    assert "<ToUserName><![CDATA[wwlinkedqiye0001]]></ToUserName><FromUserName><![CDATA[lisi]]>" \
        in by_corp.text(LINKED, "x")
    say(by_id, rt, wecom, LINKED, "申报")
    got = say(by_corp, rt, wecom, LINKED, FACTS[0])  # the same conversation continues
    assert "统一社会信用代码" in got[-1], got
    with rt.sessions() as s:
        assert {r.userid for r in s.scalars(select(InboundCallback))} == {LINKED}
        assert s.scalar(select(Application)).enterprise_name == FACTS[0]
    # Our own corp written in the long form is the plain member.
    own = rt.settings.wecom.corp_id
    assert by_id.send(by_id.text(f"{own}/qiye7", "进度")).status == 200
    deliver(rt)
    assert any("还没有" in t or "申报" in t for t in texts(wecom, "qiye7"))


def test_a_callback_encrypted_for_a_linked_corp_needs_that_corp_configured(rt, wecom, http, clock, app):
    open_apply(rt)
    foreign = _client(rt, http, clock, linked_form="corp", linked_receive_id="member")
    assert foreign.send(foreign.text(LINKED, "申报")).status == 400
    with rt.sessions() as s:
        assert s.scalars(select(InboundCallback)).all() == []
    from bot.wecom.crypto import Verifier
    w = rt.settings.wecom
    rt.verifier = Verifier(w.token, w.encoding_aes_key, w.corp_id, w.timestamp_tolerance_seconds,
                           ("wwlinkedqiye0001",))
    assert foreign.send(foreign.text(LINKED, "申报")).status == 200
    deliver(rt)
    assert any("企业名称" in t for t in texts(wecom, LINKED))
    # Another corp's receive-id is still refused.
    assert foreign.send(foreign.text("wwsomeoneelse001/x", "申报")).status == 400


def test_the_card_page_refuses_what_the_card_would(cb, rt, wecom, http, clock):
    open_apply(rt)
    for answer in ["申报", *FACTS, *ELIGIBILITY]:
        say(cb, rt, wecom, LINKED, answer)
    for key in REQUIRED:
        send_file(cb, rt, wecom, LINKED, f"{key}.pdf", pdf(key))
    card_path = _card_path(say(cb, rt, wecom, LINKED, "提交")[-1])
    html = http.get(card_path).get_data(as_text=True)
    with rt.sessions() as s:
        app_id = s.scalar(select(Application)).id
    assert http.post(card_path, data={"csrf": "0" * 64, "key": f"apply:confirm:{app_id}"}).status_code == 403
    assert http.post(card_path, data={"csrf": _csrf(html), "key": "apply:confirm:999"}).status_code == 400
    assert http.get(card_path[:-3] + "abc").status_code == 403
    token = urlparse(card_path).path.rsplit("/", 1)[1]
    assert http.get(f"/card/x{token}").status_code == 403
    # 再检查 on the page is the card's 再检查: the progress comes back in chat, the card is closed.
    assert http.post(card_path, data={"csrf": _csrf(html), "key": f"apply:recheck:{app_id}"}).status_code == 303
    deliver(rt)
    assert "✓" in texts(wecom, LINKED)[-1]
    assert "已返回检查" in http.get(card_path).get_data(as_text=True)
    with rt.sessions() as s:
        assert s.scalar(select(Application)).status == "draft"


def test_member_ids_from_either_callback_form():
    from bot.wecom import members
    own = "wwgov"
    assert members.from_callback("wwx/lisi", own, own) == "wwx/lisi"
    assert members.from_callback("lisi", "wwx", own) == "wwx/lisi"
    assert members.from_callback("lisi", own, own) == "lisi"
    assert members.from_callback(f"{own}/lisi", own, own) == "lisi"
    assert members.addressed("wwx/lisi", 7) == {"touser": ["wwx/lisi"], "agentid": 7}
    assert members.addressed("lisi", 7) == {"touser": "lisi", "agentid": 7}


def test_a_card_for_a_linked_member_becomes_a_textcard_within_wecoms_limits(rt):
    long = "很长的企业名称<b>" * 80
    body = rt.renderer.message(LINKED, "apply.confirm", {
        "task_id": "t1", "enterprise": long, "deadline": "2018-11-15T15:59:59+00:00", "credit_code": "9144",
        "unit": "武江区", "contact": "李四", "phone": "13800138000", "entries": [], "application_id": 1})
    [msg] = body
    card = msg["textcard"]
    assert msg["msgtype"] == "textcard" and msg["touser"] == [LINKED] and "enable_duplicate_check" not in msg
    assert len(card["title"].encode()) <= 128 and len(card["description"].encode()) <= 512
    assert "<b>" not in card["description"] and "&lt;b&gt;" in card["description"]  # escaped, whole lines only
    assert "/card/" in card["url"] and card["btntxt"] == "去处理"
    plain = rt.renderer.message("qiye1", "apply.confirm", {**{"task_id": "t2"}, **{
        "enterprise": "x", "deadline": "2018-11-15T15:59:59+00:00", "credit_code": "9144", "unit": "u",
        "contact": "c", "phone": "p", "entries": [], "application_id": 1}})
    assert plain[0]["msgtype"] == "template_card" and plain[0]["touser"] == "qiye1"


def test_reserved_and_overlong_senders_are_refused(cb, rt, wecom):
    from sqlalchemy import func
    assert cb.send(cb.text("public", "投诉")).status == 200  # recorded and ignored: a reserved name
    assert cb.send(cb.text("wwlinkedqiye0001/" + "x" * 120, "申报")).status == 400
    deliver(rt)
    assert wecom.calls_to("message/send") == [] and wecom.calls_to("linkedcorp/message/send") == []
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundCallback).where(
            InboundCallback.status == "refused")) == 1


def test_the_stand_in_keeps_linked_ids_off_message_send(wecom):
    import pytest as _pytest
    from bot.simulator.state import ApiError
    body = {"agentid": wecom.agent_id, "msgtype": "text", "text": {"content": "hi"}}
    with _pytest.raises(ApiError):
        wecom.send({**body, "touser": LINKED})
    with _pytest.raises(ApiError) as err:
        wecom.send_linked({**body, "msgtype": "template_card", "template_card": {}, "touser": [LINKED]})
    assert err.value.body["errcode"] == 40008
    wecom.set_linked_users({LINKED: "李四"})
    ok = wecom.send_linked({**body, "touser": [LINKED, "wwother/x"]})
    assert ok["invaliduser"] == ["wwother/x"]
