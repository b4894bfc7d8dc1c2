"""Expert review end to end through the encrypted webhook: assignment, scoring in chat, confidentiality."""
import pytest
from sqlalchemy import select

from tests.bot.conftest import deliver, texts
from tests.workflows.scoringdata import (
    ITEM_KEYS, T_MATERIAL, add_application, add_roster, assign_all, open_phase, score, sheet_text, uniform,
)
from workflows.core import audit
from workflows import scoring
from workflows.scoring.models import ScoreSheet


@pytest.fixture
def world(rt, clock):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        open_phase(s, rt.settings, "material", T_MATERIAL)
        add_application(s, rt.settings, 1, name="丹霞纸业", region="440281")
        add_application(s, rt.settings, 2, name="韶钢集团", region="440281")
    return rt


def assign(rt):
    with rt.sessions.begin() as s:
        assigned = assign_all(s, rt.settings)
    deliver(rt)  # the experts' assignment notices
    return assigned


def say(cb, rt, wecom, userid, text):
    """Send one text and return the replies it produced."""
    before = len(texts(wecom, userid))
    cb.send(cb.text(userid, text))
    deliver(rt)
    return texts(wecom, userid)[before:]


def card_of(wecom, userid):
    return [b["template_card"] for b in wecom.messages_to(userid) if b.get("msgtype") == "template_card"][-1]


def click(cb, rt, wecom, userid, card, key):
    code = wecom.issue_response_code(card["task_id"], userid)
    cb.send(cb.template_card_event(userid, key, card["task_id"], card["card_type"], code, {}))
    deliver(rt)


def test_secretariat_proposes_and_confirms_by_card_and_experts_get_their_list(world, cb, wecom):
    rt = world
    proposal, card_title = say(cb, rt, wecom, "mishu", "分配专家")
    assert card_title == "专家分配方案"
    assert "专家分配方案" in proposal and "SG2018-001" in proposal and "韶钢集团" in proposal
    card = card_of(wecom, "mishu")
    click(cb, rt, wecom, "mishu", card, card["button_list"][0]["key"])
    assert "已确认" in texts(wecom, "mishu")[-1]
    assert wecom.card_updates()[-1]["button"]["replace_name"] == "已确认"
    with rt.sessions() as s:
        assigned = scoring.assignments(s, rt.settings, "material")
    expert = assigned[1][0]
    note = texts(wecom, expert)[-1]
    assert "SG2018-001" in note and "2018年12月20日 23:59" in note


def test_impossible_proposal_says_which_application_and_why(world, cb, wecom):
    rt = world
    with rt.sessions.begin() as s:
        add_application(s, rt.settings, 3, name="韶钢集团二厂", region="440204")
        for userid in ("e1", "e2"):
            scoring.declare_conflict(s, rt.settings, actor=userid, now=T_MATERIAL, number="SG2018-003")
    proposal = say(cb, rt, wecom, "mishu", "分配专家")[-1]
    assert "无法按规则分配" in proposal and "SG2018-003" in proposal
    assert "专家已声明回避" in proposal and "同一地区" in proposal
    replies = say(cb, rt, wecom, "mishu", "分配专家 确认")
    assert "不符合规则" in replies[0]
    with rt.sessions() as s:
        assert scoring.assignments(s, rt.settings, "material") == {}


def test_expert_scores_item_by_item_then_whole_sheet_with_corrections(world, cb, wecom):
    rt = world
    expert = assign(rt)[1][0]
    first = say(cb, rt, wecom, expert, "评分 sg2018-001")
    assert "开始评分" in first[0] and "4.1.2 高层领导的作用" in first[0] and "50–65%：25.00–32.50 分" in first[0]
    assert len(first[0].encode()) <= 2048
    bad = say(cb, rt, wecom, expert, "62%")
    assert "62% 不是 5% 的整数倍" in bad[0] and "60%" in bad[0] and "65%" in bad[0]
    assert "4.1.2" in say(cb, rt, wecom, expert, "abc")[0]
    nxt = say(cb, rt, wecom, expert, "30分")   # 30 of 50 points = 60 %
    assert "4.1.3 组织治理" in nxt[0]
    nxt = say(cb, rt, wecom, expert, "16分")
    assert "16分不对应" in nxt[0] and "15分" in nxt[0] and "16.5分" in nxt[0]
    assert "4.1.4" in say(cb, rt, wecom, expert, "50%")[0]
    # The rest in one message, with two mistakes …
    rest = {k: 70 for k in ITEM_KEYS[2:]}
    message = sheet_text(rest).replace("4.2.2=70%", "4.2.2=72%").replace("4.7.7=70%", "4.7.7=170%")
    replies = say(cb, rt, wecom, expert, message)
    assert "已记录 19 项" in replies[0] and "4.2.2" in replies[0] and "4.7.7" in replies[0] and "超出范围" in replies[0]
    assert "4.2.2 战略制定" in replies[1]
    # … corrected in a second message.
    replies = say(cb, rt, wecom, expert, "4.2.2=70% 4.7.7=70%")
    summary = next(r for r in replies if "评分汇总" in r)
    # 4.1.2 30 + 4.1.3 15 + 0.7 × 920 = 689
    assert "4.1 领导：66.00 / 110" in summary and "总分：689.00 / 1000" in summary
    assert "评语" in replies[-1]
    replies = say(cb, rt, wecom, expert, "4.1 优势：领导重视；改进：授权不足")
    assert "已记录 1 条评语" in replies[0]
    card = card_of(wecom, expert)
    assert card["emphasis_content"]["title"] == "689.00"
    click(cb, rt, wecom, expert, card, "score:confirm:" + card["button_list"][0]["key"].rsplit(":", 1)[1])
    assert "已提交" in texts(wecom, expert)[-1] and "689.00" in texts(wecom, expert)[-1]
    with rt.sessions() as s:
        sheet = s.scalars(select(ScoreSheet).where(ScoreSheet.expert == expert)).one()
        assert (sheet.status, sheet.total) == ("confirmed", "689")
        assert sheet.comments["4.1"] == {"strengths": "领导重视", "opportunities": "授权不足"}
        assert audit.entries(s, action="score.confirm")[0].actor == expert
    # Locked now: typing a value is not in a flow any more, and 评分 says it is confirmed.
    assert "已锁定" in say(cb, rt, wecom, expert, "评分 SG2018-001")[0]


def test_confirm_by_text_and_incomplete_sheet_cannot_be_confirmed(world, cb, wecom):
    rt = world
    expert = assign(rt)[1][0]
    say(cb, rt, wecom, expert, "评分 SG2018-001")
    replies = say(cb, rt, wecom, expert, sheet_text(uniform(50)))
    assert any("总分：500.00 / 1000" in r for r in replies)
    say(cb, rt, wecom, expert, "跳过")
    assert "已提交" in say(cb, rt, wecom, expert, "确认")[-1]


def test_unassigned_application_is_refused(world, cb, wecom):
    rt = world
    assigned = assign(rt)
    outsider = next(u for u in ("zuzhang", "e1", "e2", "e3", "e4", "e5", "e6") if u not in assigned[1])
    [reply] = say(cb, rt, wecom, outsider, "评分 SG2018-001")
    assert "没有分配给您" in reply
    [reply] = say(cb, rt, wecom, outsider, "查阅 SG2018-001")
    assert "没有分配给您" in reply
    [reply] = say(cb, rt, wecom, "qiye1", "评分 SG2018-001")
    assert "不适用于您的身份" in reply
    with rt.sessions() as s:
        assert s.scalars(select(ScoreSheet)).all() == []


def test_second_experts_scores_are_invisible_to_the_first(world, cb, wecom):
    rt = world
    first, second = assign(rt)[1][:2]
    say(cb, rt, wecom, second, "评分 SG2018-001")
    say(cb, rt, wecom, second, sheet_text(uniform(85)))   # total 850
    say(cb, rt, wecom, second, "跳过")
    say(cb, rt, wecom, second, "确认")
    seen = say(cb, rt, wecom, first, "评分")
    seen += say(cb, rt, wecom, first, "评分 SG2018-001")
    seen += say(cb, rt, wecom, first, "评审结果")
    assert seen and not any("850" in t for t in seen)
    assert "未开始" in seen[0]
    assert "不适用于您的身份" in seen[-1]
    # The leader and the secretariat may see the results.
    leader_view = say(cb, rt, wecom, "mishu", "评审结果")
    assert "未完成评分：SG2018-001" in leader_view[0]


def test_conflict_declared_in_chat_asks_a_reason_and_a_confirmation(world, cb, wecom):
    rt = world
    # Without a reason the bot asks for one; the card says what will happen; 取消 changes nothing.
    [ask] = say(cb, rt, wecom, "e3", "回避 SG2018-002")
    assert "请回复原因代码和说明" in ask and "5 亲属关系" in ask
    say(cb, rt, wecom, "e3", "   ")
    assert "请填写原因" in texts(wecom, "e3")[-1]
    say(cb, rt, wecom, "e3", "亲属在该企业任职")
    card = card_of(wecom, "e3")
    assert card["main_title"]["title"] == "确认回避 SG2018-002" and "亲属在该企业任职" in card["quote_area"]["quote_text"]
    click(cb, rt, wecom, "e3", card, card["button_list"][1]["key"])
    assert "没有做任何更改" in texts(wecom, "e3")[-1]
    with rt.sessions() as s:
        assert audit.entries(s, action="conflict.declare") == []
        assert scoring.conflicts(s, rt.settings) == set()
    # With the reason on the command line: straight to the card; 确认 records, audits and tells the secretariat.
    say(cb, rt, wecom, "e3", "回避 SG2018-002 曾为该企业提供咨询")
    card = card_of(wecom, "e3")
    assert "不再被分配" in card["sub_title_text"]
    click(cb, rt, wecom, "e3", card, card["button_list"][0]["key"])
    assert "已记录您对 SG2018-002" in texts(wecom, "e3")[-1] and "曾为该企业提供咨询" in texts(wecom, "e3")[-1]
    assert "专家 专家三 对 SG2018-002" in texts(wecom, "mishu")[-1]
    with rt.sessions() as s:
        [entry] = audit.entries(s, action="conflict.declare")
        assert entry.actor == "e3" and entry.details["reason"] == "曾为该企业提供咨询"
    [again] = say(cb, rt, wecom, "e3", "回避 SG2018-002")
    assert "无需重复" in again
    [usage] = say(cb, rt, wecom, "e3", "回避")
    assert "回避 申报编号" in usage
    [unknown] = say(cb, rt, wecom, "e3", "回避 SG2018-099 理由")
    assert "SG2018-099" in unknown


def test_after_the_deadline_only_the_leader_reopens_and_the_expert_revises(world, cb, wecom, clock):
    rt = world
    expert = assign(rt)[1][0]
    say(cb, rt, wecom, expert, "评分 SG2018-001")
    say(cb, rt, wecom, expert, sheet_text(uniform(50)))
    say(cb, rt, wecom, expert, "跳过")
    say(cb, rt, wecom, expert, "确认")
    clock.set(T_MATERIAL.replace(day=21))  # the material review deadline (20 Dec) has passed
    [closed] = say(cb, rt, wecom, expert, "评分 SG2018-001 修改")
    assert "已于 2018年12月20日 23:59 截止" in closed
    assert "不适用于您的身份" in say(cb, rt, wecom, "mishu", "重开 SG2018-001 " + expert)[0]
    [ask] = say(cb, rt, wecom, "zuzhang", f"重开 SG2018-001 {expert}")
    assert "请回复重开的原因" in ask
    with rt.sessions() as s:
        assert audit.entries(s, action="score.reopen") == []
    [done] = say(cb, rt, wecom, "zuzhang", "笔误")
    assert "已重新开放" in done and "笔误" in done and expert not in done   # the expert's name, not his id
    assert "专家组组长已重新开放" in texts(wecom, expert)[-1] and "2018年12月23日" in texts(wecom, expert)[-1]
    replies = say(cb, rt, wecom, expert, "评分 SG2018-001")
    assert any("总分：500.00 / 1000" in r for r in replies)
    say(cb, rt, wecom, expert, "4.1.2=60%")
    say(cb, rt, wecom, expert, "确认")
    with rt.sessions() as s:
        sheet = s.scalars(select(ScoreSheet).where(ScoreSheet.expert == expert)).one()
        assert (sheet.status, sheet.total) == ("confirmed", "505")
        [entry] = audit.entries(s, action="score.reopen")
        assert entry.actor == "zuzhang" and entry.details["reason"] == "笔误"


def test_leader_records_consensus_and_confirms_the_report_in_chat(world, cb, wecom):
    rt = world
    assigned = assign(rt)
    with rt.sessions.begin() as s:
        for app_id, users in assigned.items():
            for i, u in enumerate(users):
                score(s, rt.settings, u, f"SG2018-{app_id:03d}", uniform(80 if (app_id, i) == (2, 0) else 60))
    deliver(rt)
    assert "评分分歧提醒" in texts(wecom, "zuzhang")[-1] and "SG2018-002" in texts(wecom, "zuzhang")[-1]
    assert "排名尚未确定" in say(cb, rt, wecom, "zuzhang", "确认报告")[0]
    assert "已记录 SG2018-002 的合议分值 640" in say(cb, rt, wecom, "zuzhang", "共识 SG2018-002 640 统一尺度")[0]
    view = say(cb, rt, wecom, "zuzhang", "评审结果")[0]
    assert "1. `SG2018-002` 韶钢集团 640.00" in view
    assert "已确认材料评审报告" in say(cb, rt, wecom, "zuzhang", "确认报告")[0]
