"""Stages 3–4 through the webhook: the call's texts and publication log; the training's sign-up, attendance,
reminders, materials and report."""
from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import func, select

from bot.handlers.publicity import publications_dir
from bot.scheduler import remind
from tests.conftest import CALL_CONTACT
from tests.bot.application_helpers import click, last_card, open_apply, say
from tests.bot.conftest import deliver, texts
from workflows import call
from workflows.call.models import CallPublication, TrainingSignup
from workflows.core import audit, people
from workflows.documents.filetypes import KINDS, AllowedTypes

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def test_the_call_texts_carry_the_editions_data_on_every_channel(cb, rt, wecom):
    open_apply(rt)
    reply = "".join(say(cb, rt, wecom, "mishu", "征集"))
    assert "尚未登记任何发布记录" in reply
    out = publications_dir(rt.settings)
    for channel in ("portal", "newspaper", "tv", "app"):
        body = (out / f"shaoguan-2018-call-{channel}.md").read_text(encoding="utf-8")
        assert "2018年11月15日 23:59" in body and "发送“申报”" in body and CALL_CONTACT["phone"] in body
    portal = (out / "shaoguan-2018-call-portal.md").read_text(encoding="utf-8")
    assert "申报条件" in portal and "近三年未发生重大质量、安全、环保事故" in portal
    assert "README" not in portal and "武江区" in portal and "韶关市人民政府门户网站" in portal


def test_every_channel_states_the_plans_conditions_standard_process_prize_and_how_to_apply(cb, rt, wecom):
    """[seed §三(三) 公布申报条件] each channel's text words the conditions as the plan's §二 does (not the chat's
    yes/no questions), names GB/T 19580-2012, the evaluation's stages with their dates, the prize, and how an
    enterprise takes part, in words for the public."""
    open_apply(rt)
    say(cb, rt, wecom, "mishu", "征集")
    out = publications_dir(rt.settings)
    seed_words = ("在韶关市登记注册", "具有法人资格", "质量管理成效显著", "自主创新能力和市场竞争力等在我市处于领先地位",
                  "对全市经济社会发展作出卓越贡献")
    for channel in ("portal", "newspaper", "tv", "app"):
        body = (out / f"shaoguan-2018-call-{channel}.md").read_text(encoding="utf-8").replace("**", "")
        for words in seed_words:
            assert words in body, (channel, words)
        assert "是否" not in body and "？" not in body, channel           # no yes/no question is a condition
        assert "分公司或其他分支机构、个人独资企业、合伙企业不具有法人资格" in body, channel
        assert "GB/T 19580-2012《卓越绩效评价准则》" in body, channel
        for stage, day in (("申报推荐", "2018年11月15日"), ("申报材料初审", "2018年11月30日"),
                           ("材料评审", "2018年12月20日"), ("现场考评", "2019年01月20日"),
                           ("评审委员会合议推荐", "2019年01月30日"), ("公示", "2019年02月25日"),
                           ("报市政府审批", "2019年03月30日"), ("表彰奖励", "2019年04月30日")):
            assert f"{stage}（{day}前）" in body, (channel, stage)
        assert "不超过 3 家" in body and "500,000 元" in body and "奖牌和证书" in body, channel
        assert "政务企业微信" in body and "发送“申报”" in body and "推荐单位" in body, channel
        assert "README" not in body and "python" not in body and "docs/" not in body, channel
    portal = (out / "shaoguan-2018-call-portal.md").read_text(encoding="utf-8")
    # the written channels say what each stage means, with the rules' numbers
    assert "GB/Z 19579-2012" in portal and "满分 1000 分" in portal
    assert "前 6 名" in portal and "450 分以上" in portal and "40%、60%" in portal and "前 5 名" in portal
    assert "公示期 10 天" in portal and "近三年未发生重大质量、安全、环保事故" in portal
    assert "统一社会信用代码第 3–8 位" in portal and "须在申报时说明理由" in portal
    assert "企业类型" in portal and "安装“企业微信”" in portal


def test_publications_are_logged_and_bad_input_changes_nothing(cb, rt, wecom):
    open_apply(rt)
    ok = say(cb, rt, wecom, "mishu", "征集 发布 韶关日报 2018-09-20 https://rb.example/call")[-1]
    assert "已登记：2018-09-20 在韶关日报发布" in ok
    assert "没有“人民日报”这个发布渠道" in say(cb, rt, wecom, "mishu", "征集 发布 人民日报 2018-09-20")[-1]
    assert "还没到" in say(cb, rt, wecom, "mishu", "征集 发布 portal 2019-09-20")[-1]
    assert "不是有效的网址" in say(cb, rt, wecom, "mishu", "征集 发布 tv 2018-09-21 javascript:x")[-1]
    assert "不适用" in say(cb, rt, wecom, "qiye1", "征集 发布 tv 2018-09-21")[-1]
    with rt.sessions() as s:
        assert [(p.channel, p.link) for p in s.scalars(select(CallPublication))] == [
            ("newspaper", "https://rb.example/call")]
        assert len(audit.entries(s, action="call.published")) == 1


def test_training_sign_up_by_card_attendance_reminders_materials_and_report(cb, rt, wecom, clock):
    clock.set(dt.datetime(2018, 9, 10, 2, 0, tzinfo=dt.timezone.utc))   # inside stage 4 (by 9-30)
    open_apply(rt)
    say(cb, rt, wecom, "qiye1", "申报")                             # an enterprise already applying
    starts = "2018-09-25T09:30"
    reply = say(cb, rt, wecom, "mishu", f"培训 发布 {starts} 市民服务中心报告厅 首届质量奖宣贯会暨培训")[-1]
    assert "已发布“首届质量奖宣贯会暨培训”" in reply
    for member in ("tuijian-wj", "tuijian-qj", "qiye1"):
        assert last_card(wecom, member)["main_title"]["title"] == "首届质量奖宣贯会暨培训"
    assert wecom.messages_to("qiye9") == []
    # a unit signs up for 2, changes to 3; an enterprise not yet applying asks for the card and signs up
    card = last_card(wecom, "tuijian-wj")
    click(cb, wecom, "tuijian-wj", card, f"train:2:{card['button_list'][0]['key'].split(':')[2]}")
    deliver(rt)
    assert "2 人" in texts(wecom, "tuijian-wj")[-1]
    event_id = card["button_list"][0]["key"].split(":")[2]
    click(cb, wecom, "tuijian-wj", card, f"train:3:{event_id}")
    say(cb, rt, wecom, "qiye9", "培训")
    click(cb, wecom, "qiye9", last_card(wecom, "qiye9"), f"train:1:{event_id}")
    click(cb, wecom, "tuijian-qj", last_card(wecom, "tuijian-qj"), f"train:0:{event_id}")   # declines
    click(cb, wecom, "tuijian-qj", last_card(wecom, "tuijian-qj"), f"train:99:{event_id}")  # not an option
    deliver(rt)
    assert "人数不正确" in texts(wecom, "tuijian-qj")[-1]
    with rt.sessions() as s:
        rows = {r.userid: (r.count, r.area) for r in s.scalars(select(TrainingSignup))}
    assert rows == {"tuijian-wj": (3, "武江区"), "qiye9": (1, ""), "tuijian-qj": (0, "曲江区")}
    # the day before, those signed up (and only they) are reminded
    with rt.sessions() as s:
        ev = call.require_event(s, rt.settings)
    sent = remind(rt, now=clock.set(ev.starts_at - dt.timedelta(hours=23)))
    assert sorted(p.obligation.recipient for p in sent if p.obligation.kind == "remind.training") == ["qiye9", "tuijian-wj"]
    # attendance; a removed member's click is refused
    assert "到场 2 人" in say(cb, rt, wecom, "mishu", "培训 签到 tuijian-wj 2")[-1]
    assert "没有报名" in say(cb, rt, wecom, "mishu", "培训 签到 nobody 1")[-1]
    with rt.sessions.begin() as s:
        people.remove_member(s, "tuijian-qj", actor="cli", now=rt.clock())
    click(cb, wecom, "tuijian-qj", last_card(wecom, "tuijian-qj"), f"train:1:{event_id}")
    deliver(rt)
    assert "已不在" in texts(wecom, "tuijian-qj")[-1]
    report = say(cb, rt, wecom, "mishu", "培训 统计")[-1]
    assert "武江区：报名 1 个单位 3 人，到场 1 个单位 2 人" in report and "曲江区" not in report
    # course materials go to everyone signed up, as files
    store = rt.services["documents"]
    doc = store.store(io.BytesIO(PDF), original_name="课件.pdf", allowed=AllowedTypes.from_config(KINDS),
                      max_bytes=1 << 20)
    with rt.sessions.begin() as s:
        got = call.send_materials(s, rt.settings, actor="cli", now=rt.clock(),
                                  files=[call.Material(doc.sha256, "课件.pdf", doc.size, doc.kind)])
    assert sorted(got) == ["qiye9", "tuijian-wj"]
    clock.advance(minutes=5)
    deliver(rt)
    files = [c for c in wecom.calls_to("message/send") if c.body.get("msgtype") == "file"]
    assert sorted(c.body["touser"] for c in files) == ["qiye9", "tuijian-wj"]


def test_training_bad_input_is_refused_politely(cb, rt, wecom, clock):
    clock.set(dt.datetime(2018, 9, 10, 2, 0, tzinfo=dt.timezone.utc))
    open_apply(rt)
    assert "还没有发布宣贯会" in say(cb, rt, wecom, "qiye1", "培训")[-1]
    assert "必须晚于现在" in say(cb, rt, wecom, "mishu", "培训 发布 2018-01-01T09:00 某地 某培训")[-1]
    assert "培训指令" in say(cb, rt, wecom, "mishu", "培训 乱写")[-1]
    with rt.sessions() as s:
        assert call.event(s, rt.settings) is None
        assert s.scalar(select(func.count()).select_from(TrainingSignup)) == 0
