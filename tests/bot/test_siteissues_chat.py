"""Site-visit issues (issue 25.3) through the real encrypted webhook: the leader's `现场问题`, an expert's `核实`,
the expert's `进度` (the issue worksheet of his visits); bad input is answered politely and changes nothing."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.bot.application_helpers import say
from tests.bot.conftest import deliver
from tests.workflows.scoringdata import T_SITE, add_application, add_roster, open_phase, uniform
from workflows.core.models import AuditEntry
from workflows.scoring import visits
from workflows.scoring.models import Assignment, ItemConsensus, ScoreSheet, Shortlist, SiteFinding, SiteIssue

VISIT = dt.datetime(2019, 1, 10, 1, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def world(rt, clock):
    clock.set(T_SITE)
    with rt.sessions.begin() as s:
        add_roster(s, T_SITE)
        for n in (1, 2):
            app = add_application(s, rt.settings, n, name=f"企业{n}", now=T_SITE)
            for expert, pct in (("e1", 50), ("e2", 60), ("e3", 70)):
                s.add(ScoreSheet(edition=app.edition, phase="material", application_id=app.id, expert=expert,
                                 status="confirmed", percentages=uniform(pct), total="600", created_at=T_SITE,
                                 updated_at=T_SITE, confirmed_at=T_SITE))
            if n == 1:
                s.add(Shortlist(edition=app.edition, kind="site", application_id=app.id, position=1, score="600",
                                decided_by="mishu", decided_at=T_SITE))
                s.add(ItemConsensus(edition=app.edition, phase="material", application_id=app.id, item_key="4.2.2",
                                    percent=55, reason="合议", recorded_by="zuzhang", recorded_at=T_SITE))
        open_phase(s, rt.settings, "site", T_SITE)
        for expert in ("e1", "e2"):
            s.add(Assignment(edition=rt.settings.award.edition_key, phase="site", application_id=1, expert=expert,
                             assigned_by="mishu", assigned_at=T_SITE))
        visits.propose(s, rt.settings, actor="mishu", now=T_SITE, number="SG2018-001", starts_at=VISIT,
                       experts=["e1", "e2"], itinerary="9:00 座谈；10:30 查看现场")
    deliver(rt)
    return rt


def _count(rt, model):
    with rt.sessions() as s:
        return len(s.scalars(select(model)).all())


def test_the_leader_lists_issues_and_the_experts_record_findings(world, cb, wecom):
    rt = world
    [empty] = say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001")
    assert "还没有列出问题" in empty
    # bad input: polite, nothing recorded
    assert "不在现场评审入围名单" in say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-002 4.2.2 核实目标")[-1]
    assert "评分条款中没有“9.9”" in say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001 9.9 核实目标")[-1]
    assert "不适用于您的身份" in say(cb, rt, wecom, "e1", "现场问题 SG2018-001 4.2.2 核实目标")[-1]
    assert _count(rt, SiteIssue) == 0
    [saved] = say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001 4.2.2 核实战略目标如何分解到班组 / "
                                            "询问对象：战略发展部负责人 / 文件：年度目标责任书")
    assert "已记录第 1 个现场核实问题" in saved
    assert "询问：战略发展部负责人" in saved and "文件：年度目标责任书" in saved
    say(cb, rt, wecom, "mishu", "现场问题 SG2018-001 4.4.2 查看员工培训记录 / 人力资源部 / 培训台账")
    with rt.sessions() as s:
        second = s.scalar(select(SiteIssue).where(SiteIssue.position == 2))
        assert (second.item_key, second.ask, second.documents) == ("4.4.2", "人力资源部", "培训台账")
    # the expert's 进度: his visit and the issues he still owes
    [progress] = say(cb, rt, wecom, "e1", "进度")
    assert "SG2018-001 企业1" in progress and "您还有 2 个未记录" in progress
    assert "您目前没有安排现场评审" in say(cb, rt, wecom, "e3", "进度")[-1]
    # findings: a non-zero adjustment needs its reason; an expert not on the visit is refused
    assert "请写明理由" in say(cb, rt, wecom, "e1", "核实 SG2018-001 1 部分 -5")[-1]
    assert "不在 SG2018-001 的现场评审专家名单" in say(cb, rt, wecom, "e3", "核实 SG2018-001 1 已核实")[-1]
    assert "没能识别核实结论“也许”" in say(cb, rt, wecom, "e1", "核实 SG2018-001 1 也许")[-1]
    assert "没有序号为“9”" in say(cb, rt, wecom, "e1", "核实 SG2018-001 9 已核实")[-1]
    assert "格式" in say(cb, rt, wecom, "e1", "核实 SG2018-001")[-1]
    assert _count(rt, SiteFinding) == 0
    [done] = say(cb, rt, wecom, "e1", "核实 SG2018-001 1 部分 -5 发现：目标只分解到部门 理由：班组无量化目标")
    assert "部分核实，调整 -5" in done and "材料共识 55% −5 → 现场 50%" in done
    say(cb, rt, wecom, "e2", "核实 SG2018-001 1 部分 -10 理由：部门目标没有考核")
    [sheet] = say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001")
    assert "专家一：部分核实，调整 -5；发现：目标只分解到部门；理由：班组无量化目标" in sheet
    assert "4.2.2 战略制定：材料共识 55% −7.5 → 现场 47.5%" in sheet and "班组无量化目标；部门目标没有考核" in sheet
    [progress] = say(cb, rt, wecom, "e1", "进度")
    assert "您的核实：部分核实，调整 -5" in progress and "您还有 1 个未记录" in progress
    # the applicant's 进度 is unchanged
    assert "核实问题" not in say(cb, rt, wecom, "qiye1", "进度")[-1]
    with rt.sessions() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("site.%")))]
    assert actions == ["site.issue_add", "site.issue_add", "site.finding", "site.finding"]
    # the leader records the group's finding, which counts instead of the experts'; and edits an issue
    assert "专家组的核实结论只能由专家组组长记录" in say(cb, rt, wecom, "e1", "核实 SG2018-001 1 专家组 部分 -8 理由：合议")[-1]
    [group] = say(cb, rt, wecom, "zuzhang", "核实 SG2018-001 1 专家组 部分 -8 理由：组内合议后取 -8")
    assert "已记录专家组对 SG2018-001 第 1 个问题" in group and "材料共识 55% −8 → 现场 47%" in group
    [edited] = say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001 修改 2 4.4.3 查看培训效果评价 / 人力资源部 / 评估报告")
    assert "4.4.3" in edited and "查看培训效果评价" in edited



def test_the_site_report_carries_the_issue_worksheet(world, cb, wecom, tmp_path):
    from bot.commands.experts import write_report
    rt = world
    say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001 4.2.2 核实战略目标如何分解到班组 / 询问对象：战略发展部负责人 / "
                                  "文件：年度目标责任书")
    say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001 4.4.2 查看员工培训记录 / 人力资源部 / 培训台账")
    say(cb, rt, wecom, "e1", "核实 SG2018-001 1 部分 -5 发现：目标只分解到部门 理由：班组无量化目标")
    md, html = write_report(rt, "site", str(tmp_path))
    text = md.read_text(encoding="utf-8")
    assert "**现场核实问题**" in text
    assert ("| 1 | 4.2.2 战略制定 | 核实战略目标如何分解到班组 | 战略发展部负责人 | 年度目标责任书 | "
            "专家一：部分核实 -5，目标只分解到部门（班组无量化目标） | −5 |") in text
    assert "| 2 | 4.4.2" in text and "尚未核实" in text
    assert "| 4.2.2 战略制定 | 55% | −5 | 50%（20.00/40） | 班组无量化目标 |" in text
    page = html.read_text(encoding="utf-8")
    assert "<h4>现场核实问题" in page and "班组无量化目标" in page


def test_the_workbench_application_page_lists_the_worksheet(world, cb, wecom, http):
    from tests.bot.admin_helpers import sign_in
    rt = world
    say(cb, rt, wecom, "zuzhang", "现场问题 SG2018-001 4.2.2 核实战略目标如何分解到班组 / 询问对象：战略发展部负责人 / "
                                  "文件：年度目标责任书")
    say(cb, rt, wecom, "e2", "核实 SG2018-001 1 未核实 -10 理由：无法提供目标责任书")
    for who in ("mishu", "e1"):
        sign_in(http, wecom, who)
        html = http.get("/admin/applications/1").get_data(as_text=True)
        section = html[html.index('id="site-issues"'):]
        section = section[:section.index("</section>")]
        assert "核实战略目标如何分解到班组" in section and "专家二：未核实 -10" in section
        assert "无法提供目标责任书" in section and "55%" in section and "45%" in section
    sign_in(http, wecom, "mishu")
    assert 'id="site-issues"' not in http.get("/admin/applications/2").get_data(as_text=True)
