"""Where an application stands, stage by stage, as its applicant may see it (no scores, nobody else's results).

Composed above the stage packages (a stage never imports a later one; this module reads them all):
申报推荐 → 申报材料初审 → 材料评审 → 现场考评 → 评审委员会合议 → 公示 → 审批 → 表彰. Each step is
`done`, `current` (something is happening or owed now), `waiting` (its stage has not opened), `ended`
(the application stops here, with what it means and what can be done) or `later`. The committee's vote
is not shown before the public notice publishes it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import apply, review
from workflows.apply.models import AppStatus, Application
from workflows.core import stages
from workflows.core.settings import Settings
from workflows.publicity import award as publicity_award
from workflows.publicity import places as publicity_places
from workflows.publicity import record as publicity_record
from workflows.publicity.models import AwardRecord
from workflows.scoring import results, visits

STEPS = ("apply", "review", "material", "site", "vote", "publicity", "approval", "award")


def _step(settings: Settings, key: str, state: str, note: str = "", **data: Any) -> dict[str, Any]:
    return {"key": key, "name": settings.award.stage(key).name, "state": state, "note": note, **data}


def _stage_state(session: Session, settings: Settings, key: str, now: dt.datetime) -> str:
    """'waiting' before the stage opens, 'current' while it is open, 'closed' after."""
    status = stages.status(session, settings, key)
    if status == "pending":
        return "waiting"
    return "current" if status == "open" and now <= stages.deadline(session, settings, key) else "closed"


def _early_steps(session: Session, settings: Settings, app: Application, now: dt.datetime) -> list[dict[str, Any]]:
    """申报推荐 and 初审."""
    status = app.status
    rec = apply.current_recommendation(session, app)
    unit = apply.unit_name(settings, app)
    if status in (AppStatus.DRAFT, AppStatus.RETURNED):
        return [_step(settings, "apply", "current", "returned" if status == AppStatus.RETURNED else "filling",
                      deadline=apply.deadline_for(session, settings, app), open=stages.is_open(
                          session, settings, "apply", now=now, subject=apply.subject(app)))]
    if status == AppStatus.INELIGIBLE:
        return [_step(settings, "apply", "ended", "ineligible", reason=apply.failed_reason(settings, app))]
    if status == AppStatus.SUBMITTED:
        return [_step(settings, "apply", "current", "with_unit", unit=unit,
                      deadline=apply.deadline_for(session, settings, app))]
    if status == AppStatus.NOT_RECOMMENDED:
        changeable = stages.status(session, settings, "review") == "pending"
        return [_step(settings, "apply", "ended", "not_recommended", unit=unit, opinion=rec.opinion if rec else "",
                      changeable=changeable, review_stage=settings.award.stage("review").name)]
    steps = [_step(settings, "apply", "done", "recommended", unit=unit, opinion=rec.opinion if rec else "")]
    r = review.review_for(session, app.id)
    if status == AppStatus.RECOMMENDED:
        state = _stage_state(session, settings, "review", now)
        steps.append(_step(settings, "review", "waiting" if state == "waiting" else "current", "pending",
                           deadline=stages.deadline(session, settings, "review")))
    elif status == AppStatus.SUPPLEMENT:
        request = review.open_request(session, app.id)
        owed = review.owed(settings, request) if request is not None else ()
        steps.append(_step(settings, "review", "current", "supplement", items=[i.name for i in owed],
                           deadline=request.deadline if request is not None else None))
    elif status == AppStatus.REJECTED:
        steps.append(_step(settings, "review", "ended", "rejected", reason=r.reason if r else ""))
    else:
        steps.append(_step(settings, "review", "done", "accepted"))
    return steps


def _later_steps(session: Session, settings: Settings, app: Application, now: dt.datetime) -> list[dict[str, Any]]:
    """材料评审 to 表彰, for an accepted application."""
    steps: list[dict[str, Any]] = []
    site_list = [s.application_id for s in results.shortlist(session, settings, "site")]
    vote_list = [s.application_id for s in results.shortlist(session, settings, "vote")]
    pub = publicity_record.current(session, settings)

    def gate(key: str, decided: list[int], passed: str, failed: str) -> bool:
        if decided:
            if app.id in decided:
                steps.append(_step(settings, key, "done", passed))
                return True
            steps.append(_step(settings, key, "ended", failed))
            return False
        state = _stage_state(session, settings, key, now)
        steps.append(_step(settings, key, "current" if state in ("current", "closed") else "waiting",
                           "in_progress" if state != "waiting" else "not_started",
                           deadline=stages.deadline(session, settings, key)))
        return False

    if not gate("material", site_list, "shortlisted", "not_shortlisted"):
        return steps
    if not gate("site", vote_list, "finalist", "not_finalist"):
        if steps[-1]["state"] != "ended":
            _add_visit(session, settings, app, steps[-1], now)
        return steps
    if pub is None:
        state = _stage_state(session, settings, "vote", now)
        steps.append(_step(settings, "vote", "waiting" if state == "waiting" else "current",
                           "not_started" if state == "waiting" else "sealed",
                           deadline=stages.deadline(session, settings, "vote")))
        return steps
    left_out = any(d.removed_id == app.id and d.cause == publicity_places.APPROVAL
                   for d in publicity_places.decisions(session, settings))
    if app.id in (pub.removed or []) and not left_out:   # one the city left out: shown at the approval, below
        steps.append(_step(settings, "vote", "done", "proposed"))
        steps.append(_step(settings, "publicity", "ended", "removed"))
        return steps
    if app.id not in (pub.winners or []) and not left_out:
        steps.append(_step(settings, "vote", "ended", "not_proposed"))
        return steps
    steps.append(_step(settings, "vote", "done", "proposed"))
    start, end, last_day = pub.start, pub.end, pub.last_day
    for place in publicity_places.decisions(session, settings):
        if place.replacement_id == app.id and place.start is not None:   # its own notice, the committee's decision
            start, end, last_day = place.start, place.end, place.last_day
    window_open = now < end
    steps.append(_step(settings, "publicity", "current" if window_open else "done",
                       "in_notice" if window_open else "notice_over", start=start, last_day=last_day))
    approval = publicity_award.current_approval(session, settings)
    if approval is None:
        steps.append(_step(settings, "approval", "waiting" if window_open else "current", "not_started"))
        return steps
    if app.id not in (approval.approved or []):
        awaiting = any(d.replacement_id == app.id and d.cause == publicity_places.APPROVAL
                       for d in publicity_places.decisions(session, settings))   # the city's supplementary approval
        steps.append(_step(settings, "approval", "waiting" if window_open else "current", "not_started")
                     if awaiting else _step(settings, "approval", "ended", "not_approved"))
        return steps
    steps.append(_step(settings, "approval", "done", "approved", document=approval.document_number,
                       on=approval.approved_on))
    record = session.scalar(select(AwardRecord).where(AwardRecord.edition == settings.award.edition_key,
                                                      AwardRecord.application_id == app.id))
    steps.append(_step(settings, "award", "done" if approval.announced_at else "current",
                       "announced" if approval.announced_at else "to_announce",
                       prize=record.prize_yuan if record else settings.award.rules.prize_yuan,
                       paid=bool(record and record.payment_status == "paid")))
    return steps


def _add_visit(session: Session, settings: Settings, app: Application, step: dict[str, Any],
               now: dt.datetime) -> None:
    """The candidate's site visit on the 现场考评 step: when, how many experts, the itinerary, what to do next.

    The experts' names are not shown to the enterprise (the card shows their number): the group is bound to
    confidentiality and impartiality by its 承诺书 and the enterprise meets it on the day.
    """
    visit = visits.visit_of(session, settings, app.id)
    if visit is None:
        w = visits.window(session, settings, now=now)
        if w.reason != "visit_stage_over":
            step["visit"] = {"status": "none", "start": w.start, "end": w.end}
        return
    step["visit"] = {"status": visit.status, "starts_at": visit.starts_at, "experts": len(visit.experts),
                     "itinerary": visit.itinerary, "version": visit.version, "changed": visit.version > 1,
                     "reason": visit.reason, "preferred": visit.preferred, "past": visit.starts_at <= now}
    if visit.status == "proposed" and step["state"] == "waiting":
        step["state"] = "current"     # arranged ahead: the enterprise owes its answer now


def view(session: Session, settings: Settings, app: Application, *, now: dt.datetime) -> dict[str, Any]:
    """The applicant's `进度`: the application's facts and materials, and every stage it went through."""
    data = apply.summary(session, settings, app)
    steps = _early_steps(session, settings, app, now)
    if app.status == AppStatus.ACCEPTED:
        steps += _later_steps(session, settings, app, now)
    reached = {s["key"] for s in steps}
    ended = any(s["state"] == "ended" for s in steps)
    if not ended:
        steps += [_step(settings, k, "later") for k in STEPS if k not in reached]
    data["steps"] = steps
    data["now_step"] = next((s for s in steps if s["state"] in ("current", "waiting", "ended")), steps[-1])
    data["editable"] = app.status in apply.EDITABLE
    return data
