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

# item -> what to verify; category -> (whom to ask, which documents)
VERIFY: dict[str, str] = {
    "4.1.2": "核实高层领导主持的质量经营分析会是否定期召开、决议是否跟踪到关闭",
    "4.1.3": "核实重大决策的集体审议程序和内部审计发现问题的整改闭环",
    "4.1.4": "核实安全环保投入、事故隐患整改和质量承诺公开的实际记录",
    "4.2.2": "核实战略制定中SWOT和对标分析所用数据的来源，以及战略规划的评审记录",
    "4.2.3": "核实战略目标如何分解到部门和班组，以及月度跟踪和考核是否落实",
    "4.3.2": "核实顾客细分和需求调研的方法，以及需求信息如何进入新产品开发",
    "4.3.3": "核实顾客投诉从受理到根本原因分析和改进的闭环，抽查近期三起投诉",
    "4.4.2": "核实培训需求分析和培训效果评估是否与岗位绩效挂钩",
    "4.4.3": "核实全面预算的编制、执行分析和资金风险控制",
    "4.4.4": "核实信息系统对关键业务的覆盖和知识共享平台的使用情况",
    "4.4.5": "核实研发投入、技术改造项目和专利成果的实际应用",
    "4.4.6": "核实关键设备的点检保养记录和设备综合效率的统计",
    "4.4.7": "核实对关键供应商的评价、辅导和合作改进记录",
    "4.5.2": "核实关键过程的识别依据和过程要求的确定方法",
    "4.5.3": "核实关键过程指标的监测（控制图）和改进项目的成效",
    "4.6.2": "核实关键绩效指标的数据来源、统计口径和对标数据的可靠性",
    "4.6.3": "核实QC小组和改进项目的立项、验证和推广",
    "4.7.2": "核实产品合格率、一次交验合格率等结果与原始检验记录一致",
    "4.7.3": "核实顾客满意度和市场占有率数据的来源及近三年趋势",
    "4.7.4": "核实营业收入、利润率等财务结果与审计报告一致",
    "4.7.5": "核实员工满意度、培训和流失率结果的统计依据",
    "4.7.6": "核实关键过程效率和成本指标的趋势及对比数据",
    "4.7.7": "核实安全、环保和公益结果的外部证明",
}
SOURCES: dict[str, tuple[str, str]] = {
    "4.1": ("总经理、办公室主任", "经营分析会纪要、决议跟踪表、内部审计报告"),
    "4.2": ("战略发展部负责人、两名班组长", "战略规划、年度经营计划、目标责任书、月度考核记录"),
    "4.3": ("营销部和客服中心负责人、一名客户经理", "市场调研报告、投诉台账、顾客满意度测评报告"),
    "4.4": ("人力资源、财务、设备和采购部门负责人，三名一线员工", "培训评估记录、预算执行分析、设备台账、供应商评价表"),
    "4.5": ("生产部负责人、质量部工程师", "过程清单、作业指导书、SPC控制图"),
    "4.6": ("企业管理部负责人、信息中心负责人", "绩效指标手册、经营数据报表、QC小组成果报告"),
    "4.7": ("财务部、质量部负责人", "审计报告、质量统计月报、第三方检测和测评报告"),
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
    """The items the material consensus settled (at most two), then the weakest items, one per category, three in
    all."""
    base = siteissues.material_base(session, settings, app.id)
    chosen = [k for k in consensus.settled(session, "material", app.id) if k in VERIFY][:2]
    for key in sorted(base, key=lambda k: (base[k], k)):
        if len(chosen) >= 3:
            break
        if key in VERIFY and key[:3] not in {k[:3] for k in chosen}:
            chosen.append(key)
    return chosen


def ensure_site_issues(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Issues for every visited enterprise that has none, and the experts' (and the group's) findings."""
    leader = people.with_role(session, scoring.LEADER)[0].userid
    for app, visit in visits.all_visits(session, settings):
        if visit is None or siteissues.issues_of(session, app.id):
            continue
        for key in _issue_items(session, settings, app):
            ask, documents = SOURCES[key[:3]]
            verify = VERIFY[key]
            siteissues.add_issue(session, settings, actor=leader, now=now, number=app.number, item_key=key,
                                 verify=verify, ask=ask, documents=documents)
        for issue in siteissues.issues_of(session, app.id):
            outcome = ("verified", "partly", "not_verified", "verified")[_pick(app.number, issue.item_key) % 4]
            # two experts of the visit take each issue, in turn
            team = [visit.experts[(issue.position + k) % len(visit.experts)] for k in range(min(2, len(visit.experts)))]
            for expert in team:
                options = FINDINGS[outcome]
                adjustment, finding, reason = options[_pick(app.number, issue.item_key, expert) % len(options)]
                siteissues.record_finding(session, settings, actor=expert, now=now, number=app.number,
                                          position=issue.position, outcome=outcome, adjustment=adjustment,
                                          finding=finding, reason=reason)
            if issue.position == 1 and leader:
                adjustment, finding, reason = FINDINGS[outcome][0]
                siteissues.record_finding(session, settings, actor=leader, now=now, number=app.number,
                                          position=1, outcome=outcome, adjustment=adjustment,
                                          finding=finding, reason=reason or "现场证据与材料一致",
                                          as_group=True)
