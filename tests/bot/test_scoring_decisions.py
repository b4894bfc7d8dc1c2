"""Issue 11 (4, 5, 6, 8, 9) and 14.7 through the encrypted webhook: scores are never guessed and always
echoed, 共识 with sheets missing says who, a second 共识 shows both and asks why, reports name people and
use one precision, applicants hear each gate without scores, experts are not promised what will not come."""
import re

import pytest
from sqlalchemy import select

from tests.bot.conftest import deliver, texts
from tests.bot.test_scoring import assign, card_of, click, say
from tests.workflows.scoringdata import (
    ITEM_KEYS, T_MATERIAL, T_SITE, add_application, add_roster, open_phase, score, sheet_text, uniform,
)
from workflows import scoring
from workflows.core import audit, people, stages
from workflows.core.models import StageWaiter
from workflows.scoring.models import Consensus, ScoreSheet


@pytest.fixture
def world(rt, clock):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        open_phase(s, rt.settings, "material", T_MATERIAL)
        add_application(s, rt.settings, 1, name="丹霞纸业", region="440281")
        add_application(s, rt.settings, 2, name="韶钢集团", region="440281")
    return rt


def test_a_bare_number_is_points_a_percent_sign_a_percentage_and_every_entry_is_echoed(world, cb, wecom):
    rt = world
    expert = assign(rt)[1][0]
    [first] = say(cb, rt, wecom, expert, "评分 SG2018-001")
    assert "不带 % 的数字是**分值**" in first and "带 % 的是**百分比**" in first
    assert "GB/T 19580-2012" in first and "GB/Z 19579-2012" in first
    assert "过程类条款" in first and all(w in first for w in ("**方法**", "**展开**", "**学习**", "**整合**"))
    [reply] = say(cb, rt, wecom, expert, "30")            # 4.1.2, 50 points: 30 points = 60 %
    assert "已记录 **4.1.2 高层领导的作用：60%，30.00 分**（满分 50 分，评分区间 50–65%）" in reply
    assert "本表累计 30.00 分（已填 1/23 项" in reply and "**4.1.3 组织治理**" in reply
    [reply] = say(cb, rt, wecom, expert, "15")            # 4.1.3, 30 points: 15 points = 50 %, not 15 %
    assert "4.1.3 组织治理：50%，15.00 分" in reply and "本表累计 45.00 分" in reply
    [asked] = say(cb, rt, wecom, expert, "60")            # 4.1.4, 30 points: 60 is not guessed
    assert "“60”超过本项满分 30 分" in asked and "`60%`" in asked and "本项未记录" in asked
    with rt.sessions() as s:
        assert "4.1.4" not in s.scalars(select(ScoreSheet)).one().percentages
    [reply] = say(cb, rt, wecom, expert, "60%")
    assert "4.1.4 社会责任：60%，18.00 分" in reply and "本表累计 63.00 分（已填 3/23 项" in reply
    # A whole-sheet message: each recorded entry echoed with its points; the next item is a results item.
    rest = {k: 50 for k in ITEM_KEYS[3:17]}
    replies = say(cb, rt, wecom, expert, sheet_text(rest))
    assert "已记录 14 项" in replies[0] and "4.4.3 50% = 7.50 分" in replies[0]
    assert "本表累计 308.00 分（已填 17/23 项" in replies[0]   # 63 + 0.5 × 490
    assert "**4.7.2 产品和服务结果**" in replies[1] and "结果类条款" in replies[1]
    assert all(w in replies[1] for w in ("**水平**", "**趋势**", "**对比**", "**整合**"))
    bad, again = say(cb, rt, wecom, expert, "4.7.2=90 4.7.3=40")   # 4.7.2 has 80 points: 90 is asked back
    assert "**4.7.2 产品和服务结果**" in again
    assert "**4.7.2**：“90”超过本项满分 80 分" in bad and "已记录 **4.7.3 顾客与市场结果：50%，40.00 分**" in bad


def test_consensus_with_one_sheet_in_says_who_has_not_scored(world, cb, wecom):
    rt = world
    experts = assign(rt)[1]
    with rt.sessions.begin() as s:
        score(s, rt.settings, experts[0], "SG2018-001", uniform(60))
    [reply] = say(cb, rt, wecom, "zuzhang", "共识 SG2018-001 600 统一")
    assert "尚未收齐" in reply and "已交 1/5 份" in reply and "没有超出分歧阈值" not in reply
    with rt.sessions() as s:
        missing = [people.get(s, e).name for e in experts[1:]]
        assert s.scalars(select(Consensus)).all() == []
    assert all(name in reply for name in missing) and experts[1] not in reply


def _disputed(rt):
    """Both applications scored; SG2018-002's experts disagree (one at 80 %, the rest at 60 %)."""
    assigned = assign(rt)
    with rt.sessions.begin() as s:
        for app_id, users in assigned.items():
            for i, u in enumerate(users):
                score(s, rt.settings, u, f"SG2018-{app_id:03d}", uniform(80 if (app_id, i) == (2, 0) else 60))
    deliver(rt)


def test_a_second_consensus_shows_both_asks_why_and_is_confirmed(world, cb, wecom):
    rt = world
    _disputed(rt)
    [done] = say(cb, rt, wecom, "zuzhang", "共识 SG2018-002 625 统一尺度")
    assert "已记录 SG2018-002 的合议分值 625.00" in done
    [shown] = say(cb, rt, wecom, "zuzhang", "共识 SG2018-002 630.5 复核后")
    assert "已有合议分值" in shown and "625.00" in shown and "630.50" in shown and "组长·周立平" in shown
    assert "请回复更改的理由" in shown
    say(cb, rt, wecom, "zuzhang", "4.7 条款复核后上调")
    card = card_of(wecom, "zuzhang")
    assert card["main_title"]["title"] == "更改合议分值 SG2018-002"
    assert "由 625.00 改为 630.50" in card["sub_title_text"]
    click(cb, rt, wecom, "zuzhang", card, card["button_list"][1]["key"])    # 取消: the first value stays
    with rt.sessions() as s:
        assert s.scalars(select(Consensus)).one().value == "625"
    say(cb, rt, wecom, "zuzhang", "共识 SG2018-002 630.5 复核后")
    say(cb, rt, wecom, "zuzhang", "4.7 条款复核后上调")
    card = card_of(wecom, "zuzhang")
    click(cb, rt, wecom, "zuzhang", card, card["button_list"][0]["key"])
    assert "替换原分值 625.00（理由：4.7 条款复核后上调）" in texts(wecom, "zuzhang")[-1]
    with rt.sessions() as s:
        row = s.scalars(select(Consensus)).one()
        assert (row.value, row.note) == ("630.5", "复核后")
        last = audit.entries(s, action="score.consensus")[-1]
        assert last.details["previous"]["value"] == "625" and last.details["reason"] == "4.7 条款复核后上调"
    # The ranking and the report: one precision, names not ids.
    view = say(cb, rt, wecom, "zuzhang", "评审结果")[0]
    assert "`SG2018-002` 韶钢集团 630.50" in view and "`SG2018-001` 丹霞纸业 600.00" in view
    say(cb, rt, wecom, "zuzhang", "确认报告")
    with rt.sessions() as s:
        report = rt.renderer.text("reports/material.md.j2", **scoring.report_data(s, rt.settings, "material"))
    assert "组长确认：组长·周立平" in report and "zuzhang" not in report
    assert "合议结果 630.50（组长·周立平" in report and "GB/Z 19579-2012" in report
    keys = {c.key for c in scoring.configured_rubric(rt.settings).categories}
    numbers = [n for n in re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", report) if n not in keys]
    assert numbers and all(len(n.split(".")[1]) == 2 for n in numbers), [n for n in numbers if len(n.split(".")[1]) != 2]


def test_applicants_hear_whether_they_go_on_without_any_score(world, cb, wecom):
    rt = world
    assigned = assign(rt)
    with rt.sessions.begin() as s:
        add_application(s, rt.settings, 3, name="乳源铝业", region="440281")
    with rt.sessions.begin() as s:
        scoring.propose(s, rt.settings, actor="mishu", now=T_MATERIAL, phase="material")
        scoring.confirm(s, rt.settings, actor="mishu", now=T_MATERIAL, phase="material")
        assigned = scoring.assignments(s, rt.settings, "material")
        for app_id, percent in ((1, 70), (2, 40), (3, 55)):
            for u in assigned[app_id]:
                score(s, rt.settings, u, f"SG2018-{app_id:03d}", uniform(percent))
        scoring.confirm_report(s, rt.settings, actor="zuzhang", now=T_MATERIAL, phase="material")
        scoring.select_candidates(s, rt.settings, actor="mishu", now=T_MATERIAL)
    deliver(rt)
    went_on, below = texts(wecom, "qiye1")[-1], texts(wecom, "qiye2")[-1]
    assert "**进入现场考评**" in went_on and "丹霞纸业" in went_on
    assert "**未进入现场考评**" in below and "达到 450 分以上" in below
    for text in (went_on, below, texts(wecom, "qiye3")[-1]):
        assert not re.search(r"700|400|550", text)      # no score, neither its own nor another's
        assert "乳源铝业" not in text or text == texts(wecom, "qiye3")[-1]


def test_experts_are_promised_a_notice_only_when_one_will_come(rt, cb, wecom, clock):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
    before = say(cb, rt, wecom, "e1", "评分")[-1]
    assert "材料评审尚未开始" in before and "阶段开始时我会通知您" in before
    with rt.sessions() as s:
        assert [w.userid for w in s.scalars(select(StageWaiter))] == ["e1"]
    with rt.sessions.begin() as s:
        stages.open_stage(s, rt.settings, "material", actor="mishu", now=T_MATERIAL)
        stages.close_stage(s, rt.settings, "material", actor="mishu", now=T_MATERIAL)
    *opened, between = say(cb, rt, wecom, "e1", "评分")
    assert opened and "开始" in opened[0]          # the promise was kept: the opening notice came
    assert "材料评审已经结束" in between and "我会通知您" not in between
    with rt.sessions.begin() as s:
        stages.open_stage(s, rt.settings, "site", actor="mishu", now=T_SITE)
        stages.close_stage(s, rt.settings, "site", actor="mishu", now=T_SITE)
    over = say(cb, rt, wecom, "e1", "查阅 SG2018-001")[-1]
    assert "专家评审（材料评审和现场考评）已经结束" in over and "我会通知您" not in over


def test_reopen_names_the_expert_by_name_and_asks_the_reason(world, cb, wecom):
    rt = world
    expert = assign(rt)[1][0]
    with rt.sessions.begin() as s:
        score(s, rt.settings, expert, "SG2018-001", uniform(60))
        name = people.get(s, expert).name
    [unknown] = say(cb, rt, wecom, "zuzhang", "重开 SG2018-001 无此人 笔误")
    assert "没有“无此人”已提交的评分表" in unknown
    [ask] = say(cb, rt, wecom, "zuzhang", f"重开 SG2018-001 {name}")
    assert f"重新开放 {name} 对 SG2018-001" in ask and "请回复重开的原因" in ask
    [empty] = say(cb, rt, wecom, "zuzhang", "  ")
    assert "请填写原因" in empty
    with rt.sessions() as s:
        assert s.scalars(select(ScoreSheet)).one().status == "confirmed"
    [done] = say(cb, rt, wecom, "zuzhang", "4.1.2 笔误")
    assert f"已重新开放 {name} 对 SG2018-001 的评分表（原因：4.1.2 笔误）" in done
    assert "4.1.2 笔误" in texts(wecom, expert)[-1]
    with rt.sessions() as s:
        assert s.scalars(select(ScoreSheet)).one().status == "draft"
        [entry] = audit.entries(s, action="score.reopen")
        assert entry.details["expert"] == expert and entry.details["reason"] == "4.1.2 笔误"


def test_a_tie_at_the_cut_is_decided_in_chat_by_the_leader_not_the_secretariat(world, cb, wecom):
    """Issue 21.4: `并列决定` — the rules name the expert group's leader; the secretariat cannot."""
    rt = world
    with rt.sessions.begin() as s:
        for i in range(3, 8):
            add_application(s, rt.settings, i, name=f"企业{i}", region="440281")
    with rt.sessions.begin() as s:
        scoring.propose(s, rt.settings, actor="mishu", now=T_MATERIAL, phase="material")
        scoring.confirm(s, rt.settings, actor="mishu", now=T_MATERIAL, phase="material")
        assigned = scoring.assignments(s, rt.settings, "material")
        for app_id, percent in ((1, 80), (2, 75), (3, 70), (4, 65), (5, 60), (6, 55), (7, 55)):
            for u in assigned[app_id]:
                score(s, rt.settings, u, f"SG2018-{app_id:03d}", uniform(percent))
        scoring.confirm_report(s, rt.settings, actor="zuzhang", now=T_MATERIAL, phase="material")
    say(cb, rt, wecom, "mishu", "并列决定 候选 SG2018-007 秘书处决定")
    assert "不适用于您的身份" in texts(wecom, "mishu")[-1]
    say(cb, rt, wecom, "zuzhang", "并列决定 候选 SG2018-007")
    assert "并列决定 候选|名单" in texts(wecom, "zuzhang")[-1]
    say(cb, rt, wecom, "zuzhang", "并列决定 候选 SG2018-007 专家组会议研究决定")
    reply = texts(wecom, "zuzhang")[-1]
    assert "已记录并列决定" in reply and "6. SG2018-007" in reply and "SG2018-006" not in reply
    with rt.sessions() as s:
        [entry] = audit.entries(s, action="shortlist.site")
        assert entry.actor == "zuzhang" and entry.details["tie_reason"] == "专家组会议研究决定"
