"""Sample steps for expert review: assignment, material scores, candidates, site scores, the committee's list."""
from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from workflows import scoring
from workflows.scoring import comments, consensus, interest, results
from workflows.core import access, people, stages
from workflows.core.errors import InvalidInput
from workflows.apply.models import Application
from workflows.core.settings import Settings

from .base import ensure_roster, sign_pledges
from .comments import item_comment, sheet_comments
from .draw import ensure_panel
from .siteissues import ensure_site_issues
from .visits import ensure_visits


def _secretariat(session: Session) -> str:
    return people.with_role(session, scoring.SECRETARIAT)[0].userid


def _leader(session: Session) -> str:
    return people.with_role(session, scoring.LEADER)[0].userid


def _inside(session: Session, settings: Settings, phase: str, now: dt.datetime) -> dt.datetime:
    """A time inside the phase even when the demo calendar has moved past its deadline."""
    return min(now, stages.deadline(session, settings, phase) - dt.timedelta(hours=1))


def _percent(number: str, expert: str, phase: str, item: str) -> int:
    """A stable, realistic percentage: an application level plus a small expert/item variation (5 % steps)."""
    base = 50 + 5 * (int(hashlib.sha256(f"{number}{phase}".encode()).hexdigest(), 16) % 7)       # 50–80 %
    jitter = int(hashlib.sha256(f"{number}{expert}{item}".encode()).hexdigest(), 16) % 3 - 1       # -1, 0, +1
    return max(0, min(100, base + 5 * jitter))


def _assign(session: Session, settings: Settings, phase: str, now: dt.datetime) -> None:
    if scoring.assignments(session, settings, phase) or not scoring.phase_applications(session, settings, phase):
        return
    actor = _secretariat(session)
    agency = people.with_role(session, "agency")
    if agency and access.allows("experts.assign", "agency", access.delegated_by(settings)):
        # §三(七) 秘书处委托…技术服务机构组织开展评审工作: the agency organises the assignment (it signs first).
        sign_pledges(session, settings, now, ("agency",))
        actor = agency[0].userid
    scoring.propose(session, settings, actor=actor, now=now, phase=phase)
    scoring.confirm(session, settings, actor=actor, now=now, phase=phase)
    _declare(session, settings, phase, now)


def _declare(session: Session, settings: Settings, phase: str, now: dt.datetime) -> None:
    """Every assigned expert declares no conflict of interest before the files open (issue 25.4)."""
    for app_id, users in scoring.assignments(session, settings, phase).items():
        number = session.get(Application, app_id).number
        for expert in users:
            if interest.declaration(session, expert, app_id) is None:
                interest.declare_none(session, settings, actor=expert, now=now, number=number)


def _score(session: Session, settings: Settings, phase: str, now: dt.datetime) -> None:
    rb = scoring.configured_rubric(settings)
    for app_id, users in scoring.assignments(session, settings, phase).items():
        number = session.get(Application, app_id).number
        for expert in users:
            sheet = scoring.open_sheet(session, settings, actor=expert, now=now, phase=phase, number=number)
            if sheet.status == "confirmed":
                continue
            text = " ".join(f"{k}={_percent(number, expert, phase, k)}%" for k in rb.item_keys)
            scoring.enter_sheet(session, settings, actor=expert, now=now, sheet_id=sheet.id, text=text)
            scoring.set_comments(session, settings, actor=expert, now=now, sheet_id=sheet.id,
                                 comments=sheet_comments(number, expert, phase, list(rb.item_keys)))
            for key in comments.missing_reasons(session, settings, sheet):
                scoring.set_reason(session, settings, actor=expert, now=now, sheet_id=sheet.id, item_key=key,
                                   reason="示例：依据申报材料中的数据和现场核实情况")
            scoring.confirm_sheet(session, settings, actor=expert, now=now, sheet_id=sheet.id)


def _settle_items(session: Session, settings: Settings, phase: str, leader: str, now: dt.datetime) -> None:
    """The group discusses, per application, the items the experts scored furthest apart (every one over the
    threshold, else up to three at ≥ 10 points) and agrees on the median, with strengths and opportunities."""
    for app_id in scoring.assignments(session, settings, phase):
        number = session.get(Application, app_id).number
        book = consensus.scorebook(session, settings, phase, session.get(Application, app_id))
        if not book["complete"] or book["settled"]:
            continue
        spread = sorted((i for i in book["items"] if i["spread"]), key=lambda i: (-i["spread"], i["key"]))
        chosen = [i for i in spread if i["flagged"]] or [i for i in spread if i["spread"] >= 10][:3]
        for item in chosen:
            values = sorted(g["percent"] for g in item["given"])
            agreed = item_comment(number, "group", phase, item["key"])
            consensus.settle_item(session, settings, actor=leader, now=now, phase=phase, number=number,
                                  item_key=item["key"], value=f"{values[len(values) // 2]}%",
                                  strengths=agreed["strengths"], opportunities=agreed["opportunities"],
                                  reason="示例：合议后取专家评分的中位数，优势和改进机会按讨论结论归纳")


def _settle(session: Session, settings: Settings, phase: str, now: dt.datetime) -> None:
    """Consensus per item where experts differ (issue 25.2), any disagreement left by its total (the mean, for the
    sample), then the leader confirms the report."""
    leader = _leader(session)
    _settle_items(session, settings, phase, leader, now)
    st = results.standing(session, settings, phase)
    for app_id in st.unresolved:
        results.record_consensus(session, settings, actor=leader, now=now, phase=phase,
                                 number=session.get(Application, app_id).number,
                                 value=results.fmt(st.aggregates[app_id]), note="示例：合议后采用平均分")
    if results.report_confirmation(session, settings, phase) is None:
        results.confirm_report(session, settings, actor=leader, now=now, phase=phase)


def _shortlist(select, session: Session, settings: Settings, now: dt.datetime) -> None:
    actor = _secretariat(session)
    try:
        select(session, settings, actor=actor, now=now)
    except InvalidInput as exc:
        if exc.code != "tie_at_cut":
            raise
        # A tie is decided by whom the rules name (the leader or the chair); the sample's decider takes the
        # tied by application number, a real one decides in a meeting.
        decider = people.with_role(session, settings.award.rules.tie_at_cut_decided_by)[0].userid
        results.break_tie(session, settings, actor=decider, now=now,
                          kind=results.SITE if select is results.select_candidates else results.VOTE,
                          picks=exc.data["tied"][: exc.data["places"]], reason="示例：会议研究决定按申报编号顺序入选")


def to_material(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Material review open; accepted applications assigned to experts, nothing scored yet."""
    ensure_roster(session, now, settings, ["material"])
    stages.open_stage(session, settings, "material", actor="sample", now=now)
    ensure_panel(session, settings, _inside(session, settings, "material", now))  # 专家抽选 and 承诺书 first
    _assign(session, settings, "material", _inside(session, settings, "material", now))


def to_site(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Material sheets scored, report confirmed, candidates selected; site visit open and assigned."""
    at = _inside(session, settings, "material", now)
    _score(session, settings, "material", at)
    if scoring.assignments(session, settings, "material"):
        _settle(session, settings, "material", at)
        if not results.shortlist(session, settings, results.SITE):
            _shortlist(results.select_candidates, session, settings, at)
    stages.close_stage(session, settings, "material", actor="sample", now=at)
    stages.open_stage(session, settings, "site", actor="sample", now=at)
    _assign(session, settings, "site", _inside(session, settings, "site", now))
    ensure_visits(session, settings, _inside(session, settings, "site", now))   # 现场评审 dates, confirmed


def to_vote(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Site sheets scored, report confirmed, the committee's top N recorded; the vote stage open."""
    at = _inside(session, settings, "site", now)
    ensure_site_issues(session, settings, at)   # 现场核实问题 and the findings at the visits (issue 25.3)
    _score(session, settings, "site", at)
    if scoring.assignments(session, settings, "site"):
        _settle(session, settings, "site", at)
        if not results.shortlist(session, settings, results.VOTE):
            _shortlist(results.select_finalists, session, settings, at)
    stages.close_stage(session, settings, "site", actor="sample", now=at)
    stages.open_stage(session, settings, "vote", actor="sample", now=at)
