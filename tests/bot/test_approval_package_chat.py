"""`评选情况报告` in chat: the secretariat gets the Word file (a draft saying what is missing until the edition is
done); others are refused; an edition without applications gets a polite answer and no file."""
from __future__ import annotations

import datetime as dt

from bot import approval as approval_files
from tests.bot.complaint_helpers import start_notice
from tests.bot.conftest import deliver, texts
from tests.workflows.publicity_fixtures import START, make_roster


def say(cb, rt, uid, text):
    assert cb.send(cb.text(uid, text)).status == 200
    deliver(rt)


def files_to(wecom, uid) -> list[bytes]:
    return [wecom.media(m["file"]["media_id"]).data for m in wecom.messages_to(uid) if m.get("msgtype") == "file"]


def test_the_secretariat_gets_a_draft_while_the_notice_is_open(cb, rt, wecom, clock):
    start_notice(rt, clock)
    clock.set(START + dt.timedelta(days=2))
    say(cb, rt, "mishu1", "评选情况报告")
    reply = texts(wecom, "mishu1")[-1]
    assert "尚未完成" in reply and "公示期尚未结束" in reply and "核查报告尚未报送评审委员会" in reply
    [docx] = files_to(wecom, "mishu1")
    text = approval_files.docx_text(docx)
    assert "本报告尚未完成，不能作为评选结果报送" in text and "暂无报请审批的获奖企业名单" in text
    assert "共收到企业申报 5 家" in text


def test_only_the_secretariat_may_have_it(cb, rt, wecom, clock):
    start_notice(rt, clock)
    for uid in ("weiyuan1", "zhuren", "qiye1", "gongzhong1"):
        say(cb, rt, uid, "评选情况报告")
        assert files_to(wecom, uid) == []
        assert "不适用于您的身份" in texts(wecom, uid)[-1]


def test_an_empty_edition_gets_an_answer_not_a_file(cb, rt, wecom, clock):
    clock.set(START)
    with rt.sessions.begin() as s:
        make_roster(s)
    say(cb, rt, "mishu1", "评选情况报告")
    assert "还没有收到任何申报" in texts(wecom, "mishu1")[-1]
    assert files_to(wecom, "mishu1") == []
