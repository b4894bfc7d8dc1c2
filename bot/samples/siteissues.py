"""Sample step for the site-visit issues (issue 25.3): from the material consensus the group leader lists, per visited
enterprise, the issues to verify on site — the items the group settled and the weakest item —; every expert of the
visit records a finding per issue, and the group's finding settles the first. Sample data, not user-facing text."""
from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from workflows import scoring
from workflows.apply.models import Application
from workflows.core import people
from workflows.core.settings import Settings
from workflows.scoring import consensus, siteissues, visits

# category -> (what to verify, whom to ask, which documents)
ISSUES: dict[str, tuple[str, str, str]] = {
    "4.1": ("核实高层领导主持的质量经营分析会是否定期召开、决议是否跟踪到关闭", "总经理、办公室主任",
            "近一年质量经营分析会纪要及决议跟踪表"),
    "4.2": ("核实战略目标如何分解到部门和班组，以及月度跟踪和考核是否落实", "战略发展部负责人、两名班组长",
            "年度经营计划、目标责任书、月度绩效考核记录"),
    "4.3": ("核实顾客投诉从受理到根本原因分析和改进的闭环，抽查近期三起投诉", "客服中心负责人、一名客户经理",
            "投诉台账、8D报告、顾客满意度测评报告"),
    "4.4": ("核实培训需求分析和培训效果评估是否与岗位绩效挂钩", "人力资源部负责人、三名一线员工",
            "年度培训计划、培训效果评估记录、岗位技能矩阵"),
    "4.5": ("核实关键过程的识别、过程指标的监测和改进项目的成效", "生产部负责人、质量部工程师",
            "过程清单、SPC控制图、QC小组成果报告"),
    "4.6": ("核实关键绩效指标的数据来源、统计口径和对标数据的可靠性", "企业管理部负责人、信息中心负责人",
            "绩效指标手册、经营数据报表、对标分析报告"),
    "4.7": ("核实申报材料所列结果数据与原始记录一致，并查看近三年趋势", "财务部负责人、质量部负责人",
            "财务报表、质量统计月报、第三方检测报告"),
}
# outcome -> (adjustment, finding, reason); two wordings each
FINDINGS: dict[str, tuple[tuple[int, str, str], ...]] = {
    "verified": ((0, "现场记录与申报材料一致，抽查样本均可追溯", ""),
                 (5, "现场记录完整，并看到材料中未写的改进成效", "现场证据优于材料所述，展开程度较好")),
    "partly": ((-5, "制度和记录齐全，但只覆盖到部门一级，班组层面未见落实", "展开不充分，低于材料所述"),
               (-5, "抽查的三项中两项闭环，一项未见改进措施的验证", "闭环管理不完整")),
    "not_verified": ((-10, "现场未能提供相关记录，访谈人员对该做法不了解", "材料所述做法在现场未得到证实"),),
}


def _pick(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest(), 16)


def _issue_items(session: Session, settings: Settings, app: Application) -> list[str]:
    """The items the material consensus settled (at most two), then the weakest item, without repeats."""
    base = siteissues.material_base(session, settings, app.id)
    chosen = list(consensus.settled(session, "material", app.id))[:2]
    weakest = sorted(base, key=lambda k: (base[k], k))
    for key in weakest:
        if len(chosen) >= 3:
            break
        if key not in chosen:
            chosen.append(key)
    return chosen


def ensure_site_issues(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Issues for every visited enterprise that has none, and the experts' (and the group's) findings."""
    leader = people.with_role(session, scoring.LEADER)[0].userid
    for app, visit in visits.all_visits(session, settings):
        if visit is None or siteissues.issues_of(session, app.id):
            continue
        for key in _issue_items(session, settings, app):
            verify, ask, documents = ISSUES.get(key[:3]) or ISSUES["4.1"]
            siteissues.add_issue(session, settings, actor=leader, now=now, number=app.number, item_key=key,
                                 verify=verify, ask=ask, documents=documents)
        for issue in siteissues.issues_of(session, app.id):
            outcome = ("verified", "partly", "not_verified", "verified")[_pick(app.number, issue.item_key) % 4]
            for expert in visit.experts:
                options = FINDINGS[outcome]
                adjustment, finding, reason = options[_pick(app.number, issue.item_key, expert) % len(options)]
                siteissues.record_finding(session, settings, actor=expert, now=now, number=app.number,
                                          position=issue.position, outcome=outcome, adjustment=adjustment,
                                          finding=finding, reason=reason)
            if issue.position == 1 and leader:
                adjustment, finding, reason = FINDINGS[outcome][0]
                siteissues.record_finding(session, settings, actor=leader, now=now, number=app.number,
                                          position=1, outcome=outcome, adjustment=adjustment,
                                          finding=f"专家组合议：{finding}", reason=reason or "现场证据与材料一致",
                                          as_group=True)
