"""Complaints by letter, call or visit, registered by the secretariat (chat or CLI); and evidence counts
that are true whichever way a complaint arrives."""
from __future__ import annotations

import datetime as dt

import click
from click.testing import CliRunner
from sqlalchemy import select

from tests.bot.complaint_helpers import PDF, complaint_form, start_notice
from tests.bot.application_helpers import confirm_last
from tests.bot.conftest import deliver, texts
from tests.bot.test_complaint_page import _post
from tests.workflows.publicity_fixtures import START
from workflows.core.models import OutboxMessage, Person
from workflows.publicity.models import Complaint, ComplaintEvidence

LETTER = "登记投诉 来信 2019-02-03 SG2018-002 张三 13800138000 来信反映：该企业申报的主要产品近两年抽检不合格。"


def _say(cb, rt, uid, text):
    assert cb.send(cb.text(uid, text)).status == 200
    deliver(rt)


def _second_secretary(rt):
    with rt.sessions.begin() as s:
        s.add(Person(userid="mishu2", name="秘书乙", role="secretariat", organization="", region="",
                     updated_at=rt.clock()))


def test_a_letter_registered_in_chat_with_its_scans(cb, rt, wecom, clock):
    ids = start_notice(rt, clock)
    _second_secretary(rt)
    clock.advance(days=3)  # 2019-02-04: the letter came in yesterday
    _say(cb, rt, "qiye5", LETTER)
    assert "不适用于您的身份" in texts(wecom, "qiye5")[-1]
    _say(cb, rt, "mishu1", "登记投诉 来信 2019-02-03")
    assert "登记投诉 来信|来电|来访" in texts(wecom, "mishu1")[-1]
    _say(cb, rt, "mishu1", LETTER.replace("2019-02-03", "2019-01-20"))
    assert "不在公示期内" in texts(wecom, "mishu1")[-1]
    _say(cb, rt, "mishu1", LETTER)
    mine = texts(wecom, "mishu1")
    assert "已登记投诉 **TS2018-001**。\n来源：来信（2019年2月3日收到）" in mine[-1], mine[-3:]
    assert not any("收到新的公示投诉" in t for t in mine)  # he registered it; the rest of the secretariat is told
    notice = texts(wecom, "mishu2")[-1]
    assert "收到新的公示投诉 TS2018-001" in notice and "来源：来信（2019年2月3日收到）" in notice
    assert "证据：0 份" in notice and "正在保存" not in notice and "后续文件" not in notice
    media = wecom.store_media("file", "来信扫描.pdf", "application/pdf", PDF)
    assert cb.send(cb.file("mishu1", media.media_id, "来信扫描.pdf")).status == 200
    deliver(rt)
    assert any("来信扫描.pdf" in t and "已保存" in t for t in texts(wecom, "mishu1"))
    added = texts(wecom, "mishu2")[-1]
    assert "TS2018-001" in added and "补充了证据“来信扫描.pdf”" in added and "现有证据：1 份" in added
    _say(cb, rt, "mishu1", "完成")
    assert "登记完毕" in texts(wecom, "mishu1")[-1]
    with rt.sessions() as s:
        c = s.scalar(select(Complaint))
        assert (c.channel, c.complainant, c.registered_by, c.received_on) == ("letter", "offline", "mishu1",
                                                                              "2019-02-03")
        assert c.application_id == ids[1]
        [ev] = s.scalars(select(ComplaintEvidence)).all()
        assert ev.original_name == "来信扫描.pdf"
    # The conclusion is recorded; the letter writer is told by the secretariat, not through WeCom.
    _say(cb, rt, "mishu1", "核查 TS2018-001 不成立 抽检复核合格｜反映情况与事实不符")
    confirm_last(cb, rt, wecom, "mishu1")
    with rt.sessions() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "offline")).all() == []
        assert s.scalar(select(Complaint)).status == "concluded"


def test_one_numbering_for_chat_page_and_offline(cb, rt, wecom, clock, http):
    start_notice(rt, clock)
    for text in ("投诉", "1", "该企业的自评报告有大量与事实不符的内容，请核查。", "完成", "王小明", "13912345678"):
        _say(cb, rt, "gongzhong1", text)
    assert _post(http, complaint_form(http, phone="13700137000")).status_code == 303
    _say(cb, rt, "mishu1", LETTER.replace("来信 2019-02-03", "来电 2019-02-01"))
    with rt.sessions() as s:
        got = [(c.number, c.channel) for c in s.scalars(select(Complaint).order_by(Complaint.id))]
    assert got == [("TS2018-001", "chat"), ("TS2018-002", "web"), ("TS2018-003", "call")]
    _say(cb, rt, "mishu1", "投诉列表")
    listing = texts(wecom, "mishu1")[-1]
    assert all(n in listing for n in ("TS2018-001", "TS2018-002", "TS2018-003"))


def test_evidence_still_downloading_is_said_so_and_counted_when_it_arrives(cb, rt, wecom, clock):
    start_notice(rt, clock)
    for text in ("投诉", "1", "该企业的自评报告有大量与事实不符的内容，请核查。"):
        _say(cb, rt, "gongzhong1", text)
    media = wecom.store_media("file", "照片.pdf", "application/pdf", PDF)
    for xml in (cb.file("gongzhong1", media.media_id, "照片.pdf"), cb.text("gongzhong1", "完成"),
                cb.text("gongzhong1", "王小明"), cb.text("gongzhong1", "13912345678")):
        assert cb.send(xml).status == 200  # the sender has not downloaded the file yet
    deliver(rt)
    received, added = [t for t in texts(wecom, "mishu1") if "TS2018-001" in t][-2:]
    assert "证据：0 份，另有 1 份正在保存" in received
    assert "补充了证据“照片.pdf”" in added and "现有证据：1 份" in added


def test_the_cli_registers_a_call_with_scans_and_refuses_a_bad_file(rt, wecom, clock, tmp_path):
    from bot.commands import publicity as commands
    from tests.bot.test_publicity import _Obj
    start_notice(rt, clock)
    main = click.Group("bot")
    commands.register(main)
    note = tmp_path / "通话记录.pdf"
    note.write_bytes(PDF)
    bad = tmp_path / "伪装.pdf"
    bad.write_bytes(b"<html><script>x</script></html>")
    common = ["complaints", "register", "--via", "call", "--received", "2019-02-01", "--enterprise", "SG2018-003",
              "--content", "来电反映：该企业在申报材料中虚报了研发投入。", "--name", "李雷", "--phone", "0751-8888888",
              "--now", "2019-02-02 09:00"]
    runner = CliRunner()
    refused = runner.invoke(main, [*common, "--evidence", str(bad)], obj=_Obj(rt))
    assert refused.exit_code != 0 and "未能保存" in refused.output
    with rt.sessions() as s:
        assert s.scalars(select(Complaint)).all() == []
    done = runner.invoke(main, [*common, "--evidence", str(note)], obj=_Obj(rt), catch_exceptions=False)
    assert done.exit_code == 0 and "TS2018-001 registered (call, received 2019-02-01)" in done.output
    assert "evidence: 1 file" in done.output
    late = runner.invoke(main, [*common[:-2], "--now", "2019-02-12 09:00", "--received", "2019-02-11"], obj=_Obj(rt))
    assert late.exit_code == 1 and "不在公示期内" in late.output
    clock.set(START + dt.timedelta(days=1))  # the notice was queued for --now 2019-02-02 09:00
    deliver(rt)
    assert "来源：来电（2019年2月1日收到）" in texts(wecom, "mishu1")[-1]
    assert "证据：1 份" in texts(wecom, "mishu1")[-1]
