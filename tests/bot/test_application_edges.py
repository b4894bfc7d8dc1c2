"""Bad input and interruptions in the applicant's chat: each gets a polite reply and changes nothing."""
import datetime as dt

from sqlalchemy import func, select

from bot.app import create_app
from bot.runtime import build_runtime
from bot.simulator import CallbackClient
from tests.bot.application_helpers import (
    APPLICANT, CODE_GZ, CODE_WJ, FACTS, HTML, RECOMMENDER, click, confirm_last, fill_facts, last_card, open_apply,
    pdf, recommend, say, send_file,
)
from tests.bot.conftest import deliver, texts
from workflows.apply.models import Application, Document
from workflows.core.models import InboundCallback


def test_bad_facts_get_reprompts_and_change_nothing(cb, rt, wecom):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    say(cb, rt, wecom, APPLICANT, FACTS[0])
    assert "校验码不符" in say(cb, rt, wecom, APPLICANT, CODE_WJ[:-1] + ("1" if CODE_WJ[-1] != "1" else "2"))[0]
    assert "应为 18 位" in say(cb, rt, wecom, APPLICANT, "12345")[0]
    reply = say(cb, rt, wecom, APPLICANT, CODE_GZ)[0]
    assert "440101" in reply and "不在韶关市" in reply
    assert "企业类型" in say(cb, rt, wecom, APPLICANT, CODE_WJ)[0]
    assert "序号（1–6）" in say(cb, rt, wecom, APPLICANT, "是")[0]
    say(cb, rt, wecom, APPLICANT, "有限责任公司")
    assert "序号（1–18）" in say(cb, rt, wecom, APPLICANT, "北京")[0]
    with rt.sessions() as s:
        app = s.scalar(select(Application))
        assert app.credit_code == CODE_WJ and app.region_code is None


def test_ineligible_answer_ends_politely(cb, rt, wecom):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    for answer in FACTS:
        say(cb, rt, wecom, APPLICANT, answer)
    reply = say(cb, rt, wecom, APPLICANT, "否")[-1]
    assert "暂不符合申报条件" in reply and "事故" in reply
    with rt.sessions() as s:
        assert s.scalar(select(Application)).status == "ineligible"


def test_wrong_file_type_and_unknown_media_id_by_chat(cb, rt, wecom):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    got = send_file(cb, rt, wecom, APPLICANT, "申请表.pdf", HTML)
    assert any("未被接收" in t and "无法识别文件类型" in t for t in got), got
    rt.clock.advance(seconds=10)
    cb.send(cb.file(APPLICANT, "no-such-media-id", "x.pdf"))
    deliver(rt)
    assert "没能从企业微信取回" in texts(wecom, APPLICANT)[-1] and "/upload/" in texts(wecom, APPLICANT)[-1]
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 0
    got = send_file(cb, rt, wecom, APPLICANT, "申请表.pdf", pdf("ok"))
    assert any("已收到“申报表”" in t for t in got)


def test_restart_mid_journey_continues_where_it_stopped(cb, rt, wecom, engine, clock, bot_settings):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    for answer in FACTS[:3]:
        say(cb, rt, wecom, APPLICANT, answer)
    # a new process: new runtime, new app, same database
    rt2 = build_runtime(bot_settings, clock=clock, engine=engine)
    app2 = create_app(rt2)
    w = rt2.settings.wecom
    cb2 = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, app2.test_client(),
                         now=lambda: clock().timestamp())
    reply = say(cb2, rt2, wecom, APPLICANT, "1")
    assert "所属行业" in reply[0]
    say(cb2, rt2, wecom, APPLICANT, "取消")
    reply = say(cb2, rt2, wecom, APPLICANT, "申报")
    assert "还需完成" in reply[0] and "所属行业" in reply[1]


def test_duplicate_callback_acts_once(cb, rt, wecom):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    xml = cb.text(APPLICANT, FACTS[0], msg_id=987654321)
    for _ in range(3):
        assert cb.send(xml).status == 200
    deliver(rt)
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundCallback).where(
            InboundCallback.dedupe_key == "msg:987654321")) == 1
        assert s.scalar(select(Application)).enterprise_name == FACTS[0]
    assert sum("统一社会信用代码" in t for t in texts(wecom, APPLICANT)) == 1


def test_after_deadline_nothing_is_accepted(cb, rt, wecom, clock):
    open_apply(rt)
    say(cb, rt, wecom, APPLICANT, "申报")
    clock.set(dt.datetime(2018, 11, 16, 1, 0, tzinfo=dt.timezone.utc))
    reply = say(cb, rt, wecom, APPLICANT, FACTS[0])[0]
    assert "已于 2018年11月15日 23:59 截止" in reply
    assert "截止" in say(cb, rt, wecom, "qiye2", "申报")[0]
    with rt.sessions() as s:
        assert s.scalar(select(Application)).enterprise_name is None
    # the secretariat extends for everyone in chat, after confirming what will happen; audited
    say(cb, rt, wecom, "mishu", "延期 全部 2018-11-20 18:00 系统维护")
    card = last_card(wecom, "mishu")
    assert card["main_title"]["title"] == "确认延长全部申报截止时间" and "11月20日 18:00" in str(card)
    assert "截止" in say(cb, rt, wecom, APPLICANT, FACTS[0])[0]     # nothing changed before 确认
    confirm_last(cb, rt, wecom, "mishu")
    assert "2018年11月20日 18:00" in texts(wecom, "mishu")[-1]
    assert "延长至 **2018年11月20日 18:00**" in texts(wecom, APPLICANT)[-1]   # the applicant is told
    assert "统一社会信用代码" in say(cb, rt, wecom, APPLICANT, FACTS[0])[0]
    assert "无法识别时间" in say(cb, rt, wecom, "mishu", "延期 全部 明天")[0]
    assert "不适用于您的身份" in say(cb, rt, wecom, APPLICANT, "延期 全部 2018-12-01")[0]


def test_incomplete_submit_lists_what_is_missing(cb, rt, wecom):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    send_file(cb, rt, wecom, APPLICANT, "申请表.pdf", pdf("a"))
    reply = say(cb, rt, wecom, APPLICANT, "提交")[0]
    assert "暂时不能提交" in reply and "自评报告" in reply and "申报表" not in reply
    assert not [b for b in wecom.messages_to(APPLICANT) if b["msgtype"] == "template_card"]


def test_duplicate_enterprise_is_told_who_applied(cb, rt, wecom):
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    say(cb, rt, wecom, "qiye2", "申报")
    say(cb, rt, wecom, "qiye2", "另一家公司")
    reply = say(cb, rt, wecom, "qiye2", CODE_WJ)[0]
    assert "已有申报" in reply and "张三" in reply


def test_returned_application_is_resubmitted(cb, rt, wecom):
    from tests.bot.application_helpers import REQUIRED
    open_apply(rt)
    fill_facts(cb, rt, wecom)
    for key in REQUIRED:
        send_file(cb, rt, wecom, APPLICANT, f"{key}.pdf", pdf(key))
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])
    deliver(rt)
    rec = last_card(wecom, RECOMMENDER)
    recommend(cb, rt, wecom, RECOMMENDER, "return", "请补充近三年经审计的财务报表。")
    # a later click on the same (decided) card is refused and changes nothing
    click(cb, wecom, RECOMMENDER, rec, rec["button_list"][0]["key"])
    deliver(rt)
    assert "已处理过" in texts(wecom, RECOMMENDER)[-1]
    assert "退回修改" in texts(wecom, APPLICANT)[-1]
    reply = say(cb, rt, wecom, APPLICANT, "申报")
    assert "退回修改" in reply[0] and "审计" in reply[0]
    progress = say(cb, rt, wecom, APPLICANT, "进度")[0]
    assert "5. ✓ 近三年财务报表" in progress      # the number 进度 shows is the number to reply
    assert "上传材料：近三年财务报表" in say(cb, rt, wecom, APPLICANT, "5")[0]
    send_file(cb, rt, wecom, APPLICANT, "财务报表2.pdf", pdf("fin2"))
    say(cb, rt, wecom, APPLICANT, "提交")
    card = last_card(wecom, APPLICANT)
    click(cb, wecom, APPLICANT, card, card["button_list"][0]["key"])
    deliver(rt)
    rec_cards = [b["template_card"] for b in wecom.messages_to(RECOMMENDER) if b["msgtype"] == "template_card"
                 and b["template_card"]["button_list"][0]["key"].startswith("rec:")]
    assert len(rec_cards) == 2 and rec_cards[-1]["main_title"]["title"] == "重新提交 SG2018-001"
    assert "第 2 次提交" in rec_cards[-1]["sub_title_text"]
    # the unit is told it was resubmitted and exactly what changed since it returned it
    note = next(t for t in texts(wecom, RECOMMENDER) if t.startswith("**重新提交**"))
    assert "第 2 次提交" in note and "请补充近三年经审计的财务报表" in note
    assert "更换“近三年财务报表”：financial_statements.pdf → 财务报表2.pdf" in note
    assert note.count("> ") == 1     # nothing else changed
    with rt.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "submitted" and app.round == 2 and app.number == "SG2018-001"
