"""Stage 8.2 报市政府审批: the 评选情况报告 to the city government (the approval package), as template data.

Seed §三(八)2: 向市政府报告评选情况，报请市政府审批获奖企业名单. The package tells the process (every stage with
its deadline and when it opened and closed, how many applications were received, recommended, accepted and
refused, how many experts scored in each phase), the ranking (scores with two decimals), the vote (turnout,
quorum, the tally and the result — never who voted what, never who recused), the public notice and the
complaints' outcome (counts and conclusions, never who complained: `secrecy.outgoing`), and the approval
once recorded. It reads every earlier stage and changes nothing; the bot renders it (Markdown, HTML, docx).

An edition part-way through gets a package that says what is still missing (`gaps`) instead of claiming a
result; an edition with no submitted application at all is refused (`package_nothing_yet`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import scoring, voting
from workflows.scoring import draw as expert_draw, interest, visits
from workflows.apply.models import Application, AppStatus
from workflows.core import access, audit, people, stages
from workflows.core.errors import InvalidInput, NotFound
from workflows.core.models import StageState
from workflows.core.settings import Settings
from workflows.publicity import places
from workflows.publicity import window as publicity_window
from workflows.publicity.award import current_approval
from workflows.publicity.complaints import complaint_data, listing
from workflows.publicity.record import current, describe, window_data, window_of
from workflows.publicity.secrecy import outgoing
from workflows.publicity.window import WindowState

# What can still be missing, in the award's order (each has a sentence in the templates).
GAPS = ("material_not_final", "site_not_final", "vote_not_decided", "publicity_not_started", "publicity_open",
        "complaints_pending", "places_pending", "replacement_notice_open", "report_not_sent")
# Never submitted: still being filled in, or ended by an eligibility answer before submission.
NOT_RECEIVED = (AppStatus.DRAFT, AppStatus.INELIGIBLE)
# Past the recommending unit: the unit recommended it (whatever the secretariat decided afterwards).
RECOMMENDED = (AppStatus.RECOMMENDED, AppStatus.SUPPLEMENT, AppStatus.ACCEPTED, AppStatus.REJECTED)


def _applications(session: Session, settings: Settings) -> dict[str, int]:
    apps = list(session.scalars(select(Application).where(Application.edition == settings.award.edition_key,
                                                          Application.status.not_in(NOT_RECEIVED))))
    by = {s: sum(1 for a in apps if a.status == s) for s in AppStatus}
    decided = by[AppStatus.ACCEPTED] + by[AppStatus.REJECTED] + by[AppStatus.NOT_RECOMMENDED]
    return {"received": len(apps), "recommended": sum(by[s] for s in RECOMMENDED),
            "not_recommended": by[AppStatus.NOT_RECOMMENDED], "accepted": by[AppStatus.ACCEPTED],
            "rejected": by[AppStatus.REJECTED], "undecided": len(apps) - decided}


def received(session: Session, settings: Settings) -> int:
    """How many applications were submitted (a package needs at least one)."""
    return session.scalar(select(func.count()).select_from(Application).where(
        Application.edition == settings.award.edition_key, Application.status.not_in(NOT_RECEIVED))) or 0


def _stages(session: Session, settings: Settings) -> list[dict[str, Any]]:
    rows = {r.stage: r for r in session.scalars(select(StageState).where(
        StageState.edition == settings.award.edition_key))}
    out = []
    for st in settings.award.stages:
        row = rows.get(st.key)
        out.append({"key": st.key, "name": st.name, "status": row.status if row else "pending",
                    "deadline": stages.deadline(session, settings, st.key).isoformat(),
                    "extended": stages.deadline(session, settings, st.key) != st.deadline,
                    "opened_at": row.opened_at.isoformat() if row and row.opened_at else None,
                    "closed_at": row.closed_at.isoformat() if row and row.closed_at else None})
    return out


def _experts(session: Session, settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for phase in scoring.PHASES:
        assigned = scoring.assignments(session, settings, phase)
        sheets = scoring.confirmed_sheets(session, settings, phase)
        out[phase] = {"experts": len({e for experts in assigned.values() for e in experts}),
                      "applications": len(assigned), "sheets": len(sheets),
                      "sheets_expected": sum(len(e) for e in assigned.values())}
    out["leader"] = bool(people.with_role(session, scoring.LEADER))
    # 利益冲突声明 per application: how many declared none, each 回避's reason code (no names)
    out["interests"] = interest.summary(session, settings)
    out["lookback_years"] = settings.award.rules.conflict_lookback_years
    row = expert_draw.recorded(session, settings)
    if row is None:
        out["draw"] = None
    else:   # 从省政府质量奖评审专家库抽选: how many, from how many, with the published seed (no names)
        panel = expert_draw.members(session, settings)
        out["draw"] = {"pool": len(expert_draw.pool(session, settings)), "count": row.count,
                       "reserves": row.reserves, "seed": row.seed, "excluded": len(row.excluded),
                       "drawn_at": row.drawn_at.isoformat(), "leader": expert_draw.leader_of(session, settings) is not None,
                       "accepted": sum(1 for m in panel if m.status == "accepted" and m.kind != expert_draw.LEADER),
                       "declined": sum(1 for m in panel if m.status == "declined")}
    return out


def _visits(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Each site-visit candidate's visit as recorded: when, its state, how many experts (no names, no itinerary)."""
    return [{**_entry(app, app.id), "starts_at": v.starts_at.isoformat() if v else None,
             "status": v.status if v else "none", "experts": len(v.experts) if v else 0}
            for app, v in visits.all_visits(session, settings)]


def _brief(d: dict[str, Any] | None) -> dict[str, Any] | None:
    """An application as the city government reads it: number and name (no member ids, no contacts)."""
    return {"number": d["number"], "name": d["name"]} if d else None


def _entry(app: Application | None, app_id: int) -> dict[str, Any]:
    return {"id": app_id, "number": (app.number if app else None) or f"#{app_id}",
            "name": (app.enterprise_name if app else None) or f"#{app_id}"}


def _apps(session: Session, ids: Any) -> dict[int, Application]:
    ids = list(ids)
    return {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids or [0])))}


def _ranking(session: Session, settings: Settings) -> dict[str, Any]:
    r = settings.award.rules
    material = scoring.standing(session, settings, "material")
    site = scoring.standing(session, settings, "site")
    site_list = [row.application_id for row in scoring.shortlist(session, settings, "site")]
    vote_list = [row.application_id for row in scoring.shortlist(session, settings, "vote")]
    comp = scoring.composite_ranking(session, settings) if site_list else None
    apps = _apps(session, set(material.scores) | set(site.scores))
    return {
        "rules": {"gate": r.material_gate, "candidates_max": r.candidates_max, "vote_top": r.vote_top,
                  "weight_material": r.weight_material_percent, "weight_site": r.weight_site_percent,
                  "aggregation": r.aggregation, "trim": r.trim, "standard": settings.award.rubric.standard},
        "material_final": material.final and bool(material.scores),
        "site_final": site.final and bool(site.scores),
        "material": [{**_entry(apps.get(e.app_id), e.app_id), "position": e.position, "tied": e.tied,
                      "score": scoring.fmt(e.score), "below_gate": e.score < r.material_gate,
                      "candidate": e.app_id in site_list}
                     for e in scoring.rank(material.scores)],
        "composite": [{**_entry(apps.get(e.app_id), e.app_id), "position": e.position, "tied": e.tied,
                       "material": scoring.fmt(e.material), "site": scoring.fmt(e.site),
                       "composite": scoring.fmt(e.composite), "finalist": e.app_id in vote_list}
                      for e in (comp.entries if comp else ())],
        "candidates": len(site_list), "finalists": len(vote_list),
    }


def _vote(session: Session, settings: Settings) -> dict[str, Any] | None:
    try:
        report = voting.report(session, settings)
    except NotFound:
        return None
    apps = _apps(session, {c["application_id"] for r in report["rounds"] for c in r["candidates"]})
    rounds = []
    for r in report["rounds"]:
        counted = not r["sealed"] and bool(r["quorum_met"])
        rounds.append({
            "round_no": r["round_no"], "seats": r["seats"], "status": r["status"], "outcome": r["outcome"],
            "opened_at": r["opened_at"], "closed_at": r["closed_at"], "members": r["members"], "voted": r["voted"],
            "quorum": r["quorum"], "needed": math.ceil(Fraction(r["members"]) * Fraction(r["quorum"])),
            "quorum_met": r["quorum_met"], "recused": len(r["recused"]), "counted": counted,
            "confirm": bool(r.get("confirm")),   # candidates ≤ seats: each confirmed yes/no by the committee
            "candidates": [{**_entry(apps.get(c["application_id"]), c["application_id"]),
                            "votes": c["votes"] if counted else None,
                            "against": c.get("against") if counted else None,
                            "confirmed": c.get("confirmed") if counted else None} for c in r["candidates"]],
            "runoff": r["runoff"]})
    winners = [{**_entry(apps.get(w["application_id"]), w["application_id"]), "rank": w["rank"]}
               for w in report["winners"]]
    return {"outcome": report["outcome"], "seats": report["seats"], "rounds": rounds, "winners": winners}


def _publicity(session: Session, settings: Settings, *, now: dt.datetime) -> dict[str, Any] | None:
    pub = current(session, settings)
    if pub is None:
        return None
    complaints = [outgoing(complaint_data(session, c)) for c in listing(session, settings)]
    names = settings.award.call.channel_names
    # Places emptied by an upheld complaint and what the committee decided (no member ids: not who decided).
    referred = {}
    for row in places.decisions(session, settings):
        d = places.decision_data(session, row)
        referred[d["complaint"]] = {"position": d["position"], "removed": _brief(d["removed"]), "status": d["status"],
                                    "replacement": _brief(d["replacement"]), "start": d["start"],
                                    "last_day": d["last_day"]}
    return {
        **window_data(pub), "state": str(publicity_window.state(window_of(pub), now)),
        "channels": [names.get(c, c) for c in settings.award.rules.publicity_channels],
        "winners": [_brief(describe(session, i)) for i in pub.winners],
        "removed": [_brief(describe(session, i)) for i in pub.removed],
        "report_sent_at": pub.report_sent_at.isoformat() if pub.report_sent_at else None,
        "complaints": [{"number": c["number"], "target": _brief(c["target"]), "channel": c["channel"],
                        "anonymous": c["anonymous"], "status": c["status"], "upheld": c["upheld"],
                        "findings": c["findings"], "reason": c["reason"], "outcome": c["outcome"],
                        "replacement": _brief(c["replacement"]), "place": referred.get(c["number"])}
                       for c in complaints],
        "places": list(referred.values()),
        "replacements_open": len(places.unfinished_notices(session, settings, now)),
        "counts": {"total": len(complaints), "upheld": sum(1 for c in complaints if c["upheld"] is True),
                   "not_upheld": sum(1 for c in complaints if c["upheld"] is False),
                   "pending": sum(1 for c in complaints if c["status"] != "concluded"),
                   "places_pending": sum(1 for p in referred.values() if p["status"] == "pending")},
    }


def package_data(session: Session, settings: Settings, *, now: dt.datetime) -> dict[str, Any]:
    """Everything the 评选情况报告 shows, as JSON-able values; `gaps` names what is not done yet."""
    applications = _applications(session, settings)
    if not applications["received"]:
        raise InvalidInput("package_nothing_yet")
    ranking = _ranking(session, settings)
    vote = _vote(session, settings)
    notice = _publicity(session, settings, now=now)
    approval = current_approval(session, settings)
    gaps = []
    if not ranking["material_final"]:
        gaps.append("material_not_final")
    if not ranking["site_final"]:
        gaps.append("site_not_final")
    if vote is None or vote["outcome"] != "decided":
        gaps.append("vote_not_decided")
    if notice is None:
        gaps.append("publicity_not_started")
    else:
        if notice["state"] != WindowState.CLOSED:
            gaps.append("publicity_open")
        if notice["counts"]["pending"]:
            gaps.append("complaints_pending")
        if notice["counts"]["places_pending"]:
            gaps.append("places_pending")
        if notice["replacements_open"]:
            gaps.append("replacement_notice_open")
        if notice["report_sent_at"] is None:
            gaps.append("report_not_sent")
    # What the city government is asked to approve: the notice's list after verification, else nothing yet.
    proposed = notice["winners"] if notice is not None and not gaps else []
    data = {
        "generated_at": now.isoformat(), "applications": applications, "stages": _stages(session, settings),
        "experts": _experts(session, settings), "visits": _visits(session, settings), "ranking": ranking,
        "vote": vote, "publicity": notice,
        "proposed": proposed,
        "approval": {"approved_on": approval.approved_on, "document_number": approval.document_number,
                     "approved": [_brief(describe(session, i)) for i in approval.approved]} if approval else None,
        "gaps": [g for g in GAPS if g in gaps], "complete": not gaps,
        # seed §四: who awards, what each winner receives, and who pays (the report's budget line)
        "award": {"signer": settings.award.signer, "prize_yuan": settings.award.rules.prize_yuan,
                  "total_yuan": settings.award.rules.prize_yuan * len(proposed),
                  "budget": settings.award.decision.budget.rstrip("。")},
    }
    data["digest"] = digest(data)
    return data


_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def _canonical(value: Any) -> Any:
    """Instants in UTC, whatever zone they were written in (a time set in this transaction keeps its zone)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, str) and _INSTANT.match(value):
        return dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc).isoformat()
    return value


def digest(data: dict[str, Any]) -> str:
    """A SHA-256 of what the package says (its generation time aside), for the audit of a recorded approval."""
    body = _canonical({k: v for k, v in data.items() if k not in ("generated_at", "digest")})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@access.guarded("award.manage")
def attach_package(session: Session, settings: Settings, *, actor: str, now: dt.datetime, data: dict[str, Any],
           files: dict[str, str]) -> None:
    """Record the package that goes with the recorded approval: its digest and each file's SHA-256, audited."""
    approval = current_approval(session, settings)
    if approval is None:
        raise InvalidInput("award_not_approved")
    audit.record(session, actor=actor, action="approval.package", subject=f"approval:{approval.id}", now=now,
                 digest=data["digest"], complete=data["complete"], gaps=list(data["gaps"]), files=dict(files))
