"""Consensus per item (issue 25.2), through the encrypted webhook and the workbench: the leader settles each item
whose spread exceeds the threshold — agreed score, strengths, opportunities, a reason for the change — recorded,
audited, shown as a scorebook; the application's consensus total is the sum of the items."""
from __future__ import annotations

from fractions import Fraction

import pytest
from sqlalchemy import select

from bot import sample
from tests.bot.admin_helpers import sign_in
from tests.bot.conftest import deliver, texts
from tests.workflows.scoringdata import T_MATERIAL, add_application, add_roster, assign_all, open_phase, score, uniform
from workflows.apply.models import Application
from workflows.core import audit
from workflows.scoring import consensus, results
from workflows.scoring.models import Consensus, ItemConsensus


@pytest.fixture
def world(rt, clock):
    clock.set(T_MATERIAL)
    with rt.sessions.begin() as s:
        add_roster(s, T_MATERIAL)
        open_phase(s, rt.settings, "material", T_MATERIAL)
        add_application(s, rt.settings, 1, name="丹霞纸业", region="440281")
        experts = assign_all(s, rt.settings)[1]
    deliver(rt)
    return rt, experts


def _score_all(rt, experts, high=80):
    """Every expert scores 50 % everywhere, the first gives 4.2.2 (40 points) `high` %: a spread on one item."""
    with rt.sessions.begin() as s:
        for i, expert in enumerate(experts):
            score(s, rt.settings, expert, "SG2018-001", uniform(50) | ({"4.2.2": high} if i == 0 else {}))
    deliver(rt)


def say(cb, rt, wecom, userid, text):
    before = len(texts(wecom, userid))
    cb.send(cb.text(userid, text))
    deliver(rt)
    return texts(wecom, userid)[before:]


def test_the_leader_settles_the_disputed_item_and_the_total_follows(world, cb, wecom):
    rt, experts = world
    _score_all(rt, experts)
    assert "合议 SG2018-001" in texts(wecom, "zuzhang")[-1]   # the disagreement notice says how
    [overview] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001")
    assert "⚑ 4.2.2 战略制定：50%–80%" in overview and "待合议" in overview and "已合议 0 项" in overview
    # A result that differs from the experts' scores needs a reason: nothing is recorded without one.
    [refused] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.2.2 60%")
    assert "请写明理由" in refused
    with rt.sessions() as s:
        assert s.scalars(select(ItemConsensus)).all() == [] and s.scalars(select(Consensus)).all() == []
    [done] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.2.2 60% 优势：战略目标已量化到部门；"
                                          "改进：缺少与标杆的对比 理由：材料中的战略地图只覆盖两年，取中间值")
    assert "4.2.2 战略制定" in done and "60%，24.00 分" in done and "合议总分 **504.00**" in done
    with rt.sessions() as s:
        row = s.scalar(select(ItemConsensus))
        assert (row.percent, row.strengths, row.opportunities) == (60, "战略目标已量化到部门", "缺少与标杆的对比")
        assert row.reason == "材料中的战略地图只覆盖两年，取中间值"
        [entry] = audit.entries(s, action="score.item_consensus")
        assert entry.details["given"][experts[0]] == 80 and entry.details["percent"] == 60
        st = results.standing(s, rt.settings, "material")
        assert st.final and st.scores[1] == Fraction(504)   # 500 − 0.3 × 40 / 5 … the sum of the agreed items
    # Any item may be settled; the same score as every expert's needs no reason, and the total is kept in step.
    [done] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.1.2 50%")
    assert "合议总分 **504.00**" in done
    # A recorded result is never replaced silently.
    [refused] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.2.2 65% 优势：战略目标已量化到部门")
    assert "将替换已记录的结果" in refused
    say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.2.2 65% 理由：复核后认可战略部署的展开")
    with rt.sessions() as s:
        assert results.standing(s, rt.settings, "material").scores[1] == Fraction(506)
        replaced = audit.entries(s, action="score.item_consensus")[-1]
        assert replaced.details["previous"]["percent"] == 60


def test_only_the_leader_settles_and_only_when_every_sheet_is_in(world, cb, wecom):
    rt, experts = world
    with rt.sessions.begin() as s:
        score(s, rt.settings, experts[0], "SG2018-001", uniform(50))
    [missing] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.2.2 60% 理由：…")
    assert "未交" in missing
    [refused] = say(cb, rt, wecom, experts[1], "合议 SG2018-001 4.2.2 60% 理由：…")
    assert "不适用于您的身份" in refused
    with rt.sessions.begin() as s:
        for expert in experts[1:]:
            score(s, rt.settings, expert, "SG2018-001", uniform(50))
    [bad] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.9.9 60%")
    assert "没有“4.9.9”" in bad
    [bad] = say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.2.2 62% 理由：…")
    assert "62% 不是 5% 的整数倍" in bad
    with rt.sessions() as s:
        assert s.scalars(select(ItemConsensus)).all() == []


def test_the_total_path_still_works_beside_the_items(world, cb, wecom):
    rt, experts = world
    _score_all(rt, experts, high=90)
    replies = say(cb, rt, wecom, "zuzhang", "共识 SG2018-001 510 合议后确定")
    assert "已记录 SG2018-001 的合议分值 510.00" in replies[-1]
    with rt.sessions() as s:
        assert results.standing(s, rt.settings, "material").scores[1] == Fraction(510)


def test_the_workbench_scorebook_shows_every_expert_the_spread_and_the_result(world, cb, wecom, http):
    rt, experts = world
    _score_all(rt, experts)
    say(cb, rt, wecom, "zuzhang", "合议 SG2018-001 4.2.2 60% 优势：战略目标已量化 改进：缺少对标 理由：取中间值")
    sign_in(http, wecom, "zuzhang")
    scores = http.get("/admin/scores?phase=material").get_data(as_text=True)
    assert "/admin/scores/1/scorebook?phase=material" in scores
    page = http.get("/admin/scores/1/scorebook?phase=material")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="scorebook"' in html
    row = html[html.index('id="item-4.2.2"'):html.index('id="item-4.2.3"')]
    assert "50%–80%" in row and "30 个百分点" in row and "60%（24.00 分）" in row and "取中间值" in row
    assert "依据现场核实的事实" in row   # the first expert's reason for his far score
    assert 'id="consensus-total">504.00' in html
    assert http.get("/admin/scores/999/scorebook").status_code == 404
    sign_in(http, wecom, experts[1])   # an expert has no scores page
    assert http.get("/admin/scores/1/scorebook").status_code == 403


def test_the_sample_settles_items_with_realistic_words(rt, clock):
    with rt.sessions.begin() as s:
        sample.run(s, rt.settings, "site", clock())
    with rt.sessions() as s:
        rows = s.scalars(select(ItemConsensus).where(ItemConsensus.phase == "material")).all()
        assert rows and all(r.strengths and r.opportunities and r.reason for r in rows)
        app = rows[0].application_id
        book = consensus.scorebook(s, rt.settings, "material", s.get(Application, app))
        assert book["consensus_total"] and book["recorded"]["from_items"]
