"""Comments with scores (issue 25.1), through the encrypted webhook and the workbench: strengths and opportunities
per GB/T 19580 item beside the score, and a score far from the other experts' asks for its reason."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import sample
from tests.bot.admin_helpers import csrf, sign_in
from tests.bot.conftest import deliver, texts
from tests.workflows.scoringdata import (
    ITEM_KEYS, T_MATERIAL, add_application, add_roster, assign_all, open_phase, score, sheet_text, uniform,
)
from workflows.core.errors import InvalidInput
from workflows.scoring import sheets
from workflows.scoring.models import ScoreSheet


@pytest.fixture
def world(rt, clock):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        open_phase(s, rt.settings, "material", T_MATERIAL)
        add_application(s, rt.settings, 1, name="丹霞纸业", region="440281")
        assigned = assign_all(s, rt.settings)
    deliver(rt)
    return rt, assigned[1]


def say(cb, rt, wecom, userid, text):
    before = len(texts(wecom, userid))
    cb.send(cb.text(userid, text))
    deliver(rt)
    return texts(wecom, userid)[before:]


def _sheet(rt, expert) -> ScoreSheet:
    with rt.sessions() as s:
        return s.scalars(select(ScoreSheet).where(ScoreSheet.expert == expert)).one()


def test_strengths_and_opportunities_beside_each_score(world, cb, wecom):
    rt, experts = world
    expert = experts[0]
    first = say(cb, rt, wecom, expert, "评分 SG2018-001")
    assert "优势：…；改进：…" in first[0] and len(first[0].encode()) <= 2048
    # The score and its comment in one message (full-width punctuation kept as typed).
    [nxt] = say(cb, rt, wecom, expert, "30分 优势：高层领导每月主持质量例会；改进：授权机制有待完善")
    assert "4.1.3 组织治理" in nxt and "刚才的" not in nxt   # 4.1.2 has its comment already
    assert _sheet(rt, expert).comments["4.1.2"] == {"strengths": "高层领导每月主持质量例会",
                                                    "opportunities": "授权机制有待完善"}
    # A score alone: the next prompt offers a comment for it, which may come as its own message.
    [nxt] = say(cb, rt, wecom, expert, "15分")
    assert "刚才的 4.1.3 如需补充评语" in nxt and "4.1.4 社会责任" in nxt
    [saved] = say(cb, rt, wecom, expert, "改进：对治理有效性缺少独立评价")
    assert "已记录 4.1.3 组织治理 的评语" in saved and "4.1.4 社会责任" in saved
    assert _sheet(rt, expert).comments["4.1.3"] == {"strengths": "", "opportunities": "对治理有效性缺少独立评价"}
    # Any item by its key, at any point.
    say(cb, rt, wecom, expert, "4.1.2 优势：使命愿景已分解到部门目标")
    assert _sheet(rt, expert).comments["4.1.2"]["strengths"] == "使命愿景已分解到部门目标"
    assert _sheet(rt, expert).percentages == {"4.1.2": 60, "4.1.3": 50}   # a comment changes no score
    # The rest in one message; the closing step asks for the items still without a comment.
    replies = say(cb, rt, wecom, expert, sheet_text({k: 60 for k in ITEM_KEYS[2:]}))
    assert "还有 21 个评分项没有评语" in replies[-1]
    saved, *_ = say(cb, rt, wecom, expert, "4.7.2 优势：一次交检合格率三年上升；改进：缺少对比数据\n4.2 优势：战略制定规范")
    assert "已记录 2 条评语" in saved
    say(cb, rt, wecom, expert, "确认")
    sheet = _sheet(rt, expert)
    assert sheet.status == "confirmed" and set(sheet.comments) == {"4.1.2", "4.1.3", "4.7.2", "4.2"}


def test_a_score_far_from_the_others_asks_for_its_reason(world, cb, wecom):
    rt, experts = world
    first, second = experts[:2]
    with rt.sessions.begin() as s:
        score(s, rt.settings, first, "SG2018-001", uniform(50))
    say(cb, rt, wecom, second, "评分 SG2018-001")
    [near] = say(cb, rt, wecom, second, "70%")     # 20 points from 50: not more than the threshold
    assert "4.1.3" in near and "理由" not in near
    [asked] = say(cb, rt, wecom, second, "75%")    # 25 points from 50
    assert "4.1.3 组织治理" in asked and "相差超过 20 个百分点" in asked and "50%" not in asked   # no one's score told
    [again] = say(cb, rt, wecom, second, "80%")    # a new value instead of a reason: still far, asked again
    assert "相差超过 20 个百分点" in again
    replies = say(cb, rt, wecom, second, "现场核实了完整的董事会决议和内审报告")
    assert "已记录 4.1.3 的评分理由" in replies[0] and "4.1.4 社会责任" in replies[1]
    sheet = _sheet(rt, second)
    assert sheet.reasons == {"4.1.3": "现场核实了完整的董事会决议和内审报告"} and sheet.percentages["4.1.3"] == 80
    # A whole sheet with two far items: each is asked in turn before the confirmation.
    rest = {k: 50 for k in ITEM_KEYS[2:]} | {"4.7.2": 90, "4.7.3": 10}
    replies = say(cb, rt, wecom, second, sheet_text(rest))
    assert "4.7.2 产品和服务结果" in replies[-1] and "理由" in replies[-1]
    replies = say(cb, rt, wecom, second, "合格率数据经第三方检测报告证实")
    assert "4.7.3 顾客与市场结果" in replies[-1]
    replies = say(cb, rt, wecom, second, "满意度调查样本不足，结果不可信")
    assert any("评分汇总" in r for r in replies)
    say(cb, rt, wecom, second, "跳过")
    say(cb, rt, wecom, second, "确认")
    sheet = _sheet(rt, second)
    assert sheet.status == "confirmed" and set(sheet.reasons) == {"4.1.3", "4.7.2", "4.7.3"}


def test_a_sheet_with_an_unexplained_far_score_is_not_confirmed(world):
    rt, experts = world
    with rt.sessions.begin() as s:
        score(s, rt.settings, experts[0], "SG2018-001", uniform(50))
        sheet = sheets.open_sheet(s, rt.settings, actor=experts[1], now=T_MATERIAL, phase="material",
                                  number="SG2018-001")
        sheets.enter_sheet(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id,
                           text=sheet_text(uniform(50) | {"4.2.2": 80}))
        with pytest.raises(InvalidInput) as refused:
            sheets.confirm_sheet(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id)
        assert refused.value.code == "outlier_reason_required" and refused.value.data["items"] == ["4.2.2"]
        assert sheet.status == "draft"
        sheets.set_reason(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id, item_key="4.2.2",
                          reason="战略目标有量化分解")
        assert sheets.confirm_sheet(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id).status \
            == "confirmed"


def test_the_workbench_shows_each_experts_comments_and_reasons(world, cb, wecom, http):
    rt, experts = world
    with rt.sessions.begin() as s:
        score(s, rt.settings, experts[0], "SG2018-001", uniform(50))
        sheet = sheets.open_sheet(s, rt.settings, actor=experts[1], now=T_MATERIAL, phase="material",
                                  number="SG2018-001")
        sheets.enter_sheet(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id,
                           text=sheet_text(uniform(50) | {"4.2.2": 80}))
        sheets.set_comments(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id,
                            comments={"4.2.2": {"strengths": "战略目标量化到部门", "opportunities": "缺少对标"}})
        sheets.set_reason(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id, item_key="4.2.2",
                          reason="战略地图完整")
        sheets.confirm_sheet(s, rt.settings, actor=experts[1], now=T_MATERIAL, sheet_id=sheet.id)
        app_id = sheet.application_id
    sign_in(http, wecom, "zuzhang")
    html = http.get(f"/admin/scores?phase=material&app={app_id}").get_data(as_text=True)
    assert 'id="comments"' in html and "战略目标量化到部门" in html and "缺少对标" in html and "战略地图完整" in html


def test_the_sample_writes_realistic_comments(rt, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "site", clock())
    with rt.sessions() as s:
        sheet = s.scalars(select(ScoreSheet).where(ScoreSheet.phase == "material").order_by(ScoreSheet.id)).first()
        assert set(sheet.comments) == set(ITEM_KEYS)
        assert all(c["strengths"] and c["opportunities"] for c in sheet.comments.values())


def test_an_expert_writes_his_comments_in_the_workbench_too(world, cb, wecom, http):
    rt, experts = world
    expert, other = experts[:2]
    say(cb, rt, wecom, expert, "评分 SG2018-001")
    say(cb, rt, wecom, expert, "30分 优势：聊天里写的优势")
    with rt.sessions.begin() as s:
        score(s, rt.settings, other, "SG2018-001", uniform(50))
        s.get(ScoreSheet, s.scalar(select(ScoreSheet.id).where(ScoreSheet.expert == other))).comments = {
            "4.1.2": {"strengths": "别人的评语", "opportunities": ""}}
    sign_in(http, wecom, expert)
    page = http.get("/admin/applications/1")
    html = page.get_data(as_text=True)
    assert 'id="my-sheets"' in html and "聊天里写的优势" in html and "别人的评语" not in html
    sheet_id = _sheet(rt, expert).id
    done = http.post("/admin/applications/1/comments", data={
        "csrf": csrf(page.data), "sheet": str(sheet_id), "s_4.1.2": "", "o_4.1.2": "",
        "s_4.7.2": "合格率三年上升", "o_4.7.2": "缺少对比数据"})
    assert done.status_code == 303
    assert _sheet(rt, expert).comments == {"4.7.2": {"strengths": "合格率三年上升", "opportunities": "缺少对比数据"}}
    with rt.sessions() as s:
        theirs = s.scalar(select(ScoreSheet.id).where(ScoreSheet.expert == other))
    refused = http.post("/admin/applications/1/comments", data={"csrf": csrf(page.data), "sheet": str(theirs),
                                                                 "s_4.1.2": "篡改"})
    assert refused.status_code == 404
    with rt.sessions() as s:
        assert s.get(ScoreSheet, theirs).comments["4.1.2"]["strengths"] == "别人的评语"
