"""Site visits (现场评审): for each site-visit candidate, the secretariat proposes a date, time, experts and an
itinerary; the enterprise confirms it or asks for another slot (reason and preferred times) by card; experts
and the enterprise are reminded before it (the reminder providers, `visits_owed`); every change is told to
everyone concerned (experts before and after the change, and the enterprise). Audited.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.apply.models import Application
from workflows.core import access, audit, notices, people, stages
from workflows.core.errors import AlreadyDone, InvalidInput, NotAllowed, NotFound
from workflows.core.models import StageState
from workflows.core.reminders import Obligation, deadline_key
from workflows.core.settings import Settings
from workflows.scoring.assignment import AppInfo, ExpertInfo, conflict_reasons
from workflows.scoring.draw_models import SiteVisit
from workflows.scoring.experts import (
    SECRETARIAT, conflicts, find_application, phase_applications, pool_members, region_name,
)
from workflows.scoring.results import shortlist

STAGE = "site"
AHEAD = "material"   # the stage before: visits may be arranged ahead while it is still open
ITINERARY_MAX = 1000
REASON_MAX = 500
ANSWERABLE = ("proposed",)
REMINDED = ("proposed", "confirmed")


def visit_of(session: Session, settings: Settings, application_id: int) -> SiteVisit | None:
    """The application's site visit, if one was proposed."""
    return session.scalar(select(SiteVisit).where(SiteVisit.edition == settings.award.edition_key,
                                                  SiteVisit.application_id == application_id))


def all_visits(session: Session, settings: Settings) -> list[tuple[Application, SiteVisit | None]]:
    """Every site-visit candidate with its visit (None: not yet proposed)."""
    return [(app, visit_of(session, settings, app.id)) for app in phase_applications(session, settings, STAGE)]


@dataclass(frozen=True)
class Window:
    """When visits may be proposed now, and the dates a visit may take: the site stage's dates."""

    start: dt.datetime          # the site stage's first moment: its opening, or the material review's deadline
    end: dt.datetime            # the site stage's effective deadline
    open: bool                  # a proposal is accepted now (site stage open, or the material review still open)
    ahead: bool                 # open because the material review is (arranging ahead of the site stage)
    reason: str = ""            # why not: visit_no_candidates | visit_stage_not_open | visit_stage_over


def window(session: Session, settings: Settings, *, now: dt.datetime) -> Window:
    """The site stage's dates and whether a visit may be proposed now (per core/stages.py).

    The calendar gives each stage only its deadline: the site stage runs from the material review's deadline
    (or from its own opening, if the secretariat opened it earlier) to its own effective deadline. A visit is
    proposed once the candidates are recorded, while the site stage is open, or ahead of it while the material
    review is still open (the candidates are known at its end and the enterprises need notice).
    """
    end = stages.deadline(session, settings, STAGE)
    start = stages.deadline(session, settings, AHEAD)
    row = session.get(StageState, (settings.award.edition_key, STAGE))
    if row is not None and row.opened_at is not None and row.opened_at < start:
        start = row.opened_at
    site_open = stages.is_open(session, settings, STAGE, now=now)
    ahead = not site_open and stages.status(session, settings, STAGE) == "pending" \
        and stages.is_open(session, settings, AHEAD, now=now)
    reason = ""
    if not shortlist(session, settings, "site"):
        reason = "visit_no_candidates"
    elif stages.status(session, settings, STAGE) == "closed" or now > end:
        reason = "visit_stage_over"
    elif not (site_open or ahead):
        reason = "visit_stage_not_open"
    return Window(start=start, end=end, open=not reason, ahead=ahead and not reason, reason=reason)


def require_window(session: Session, settings: Settings, *, now: dt.datetime) -> Window:
    """The window, or the polite refusal saying when a proposal becomes possible (or that it no longer is)."""
    w = window(session, settings, now=now)
    if not w.open:
        raise NotAllowed(w.reason, start=w.start, end=w.end, stage=settings.award.stage(STAGE).name,
                         ahead_stage=settings.award.stage(AHEAD).name)
    return w


def view(session: Session, settings: Settings, visit: SiteVisit) -> dict:
    """A visit as template data."""
    app = session.get(Application, visit.application_id)
    names = {p.userid: p.name for p in people.with_role(session, "expert", "expert_leader")}
    return {"id": visit.id, "version": visit.version, "number": app.number, "enterprise": app.enterprise_name,
            "starts_at": visit.starts_at.isoformat(), "itinerary": visit.itinerary, "status": visit.status,
            "experts": [{"userid": u, "name": names.get(u, u)} for u in visit.experts],
            "reason": visit.reason, "preferred": visit.preferred}


def check_proposal(session: Session, settings: Settings, *, now: dt.datetime, number: str, starts_at: dt.datetime,
                   experts: list[str], itinerary: str) -> tuple[Application, list[str], str]:
    """Everything `propose` checks, read-only (offer a confirmation only when it will pass)."""
    try:
        app = find_application(session, settings, number)
    except NotFound:
        raise NotFound("visit_not_candidate", number=number) from None
    w = require_window(session, settings, now=now)
    if app.id not in {a.id for a in phase_applications(session, settings, STAGE)}:
        raise NotFound("visit_not_candidate", number=number)
    if starts_at.tzinfo is None or starts_at <= now:
        raise InvalidInput("visit_in_past", starts_at=starts_at.isoformat())
    if not (w.start <= starts_at <= w.end):
        raise InvalidInput("visit_outside_stage", starts_at=starts_at, start=w.start, end=w.end,
                           stage=settings.award.stage(STAGE).name)
    chosen = list(dict.fromkeys(e.strip() for e in experts if e.strip()))
    if not chosen:
        raise InvalidInput("visit_no_experts")
    pool = {p.userid: p for p in pool_members(session, settings)}
    unknown = [u for u in chosen if u not in pool]
    if unknown:
        raise InvalidInput("visit_unknown_expert", experts=unknown)
    info = AppInfo(str(app.id), app.enterprise_name or "", region_name(settings, app.region_code))
    declared = conflicts(session, settings)
    conflicted = [u for u in chosen if conflict_reasons(info, ExpertInfo(u, pool[u].organization, pool[u].region),
                                                        declared)]
    if conflicted:
        raise InvalidInput("visit_expert_conflict", experts=conflicted, number=app.number)
    text = " ".join(itinerary.split())
    if not text:
        raise InvalidInput("visit_no_itinerary")
    if len(text) > ITINERARY_MAX:
        raise InvalidInput("visit_itinerary_too_long", max=ITINERARY_MAX)
    return app, chosen, text


@access.guarded("visits.propose")
def propose(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str,
            starts_at: dt.datetime, experts: list[str], itinerary: str) -> SiteVisit:
    """Propose (or change) a candidate's site visit; the enterprise is asked to confirm, all concerned told."""
    app, chosen, text = check_proposal(session, settings, now=now, number=number, starts_at=starts_at,
                                       experts=experts, itinerary=itinerary)
    visit = visit_of(session, settings, app.id)
    before = view(session, settings, visit) if visit is not None else None
    if visit is None:
        visit = SiteVisit(edition=app.edition, application_id=app.id, starts_at=starts_at, experts=chosen,
                          itinerary=text, status="proposed", version=1, proposed_by=actor, proposed_at=now)
        session.add(visit)
    else:
        old_experts = list(visit.experts)
        visit.starts_at, visit.experts, visit.itinerary = starts_at, chosen, text
        visit.status, visit.version, visit.proposed_by, visit.proposed_at = "proposed", visit.version + 1, actor, now
        visit.answered_at, visit.reason, visit.preferred = None, "", ""
        removed = [u for u in old_experts if u not in chosen]
        if removed:
            notices.notify(session, removed, "visits.removed", now=now, before=before)
    session.flush()
    shown = view(session, settings, visit)
    audit.record(session, actor=actor, action="visit.change" if before else "visit.propose",
                 subject=f"application:{app.id}", now=now, number=app.number, starts_at=starts_at.isoformat(),
                 experts=chosen, itinerary=text, version=visit.version, before=before)
    notices.notify(session, chosen, "visits.expert_notice", now=now, visit=shown, before=before)
    notices.send_card(session, app.applicant, "visits.card", subject=f"visit:{visit.id}:{visit.version}", now=now,
                      visit=shown, before=before)
    return visit


def check_answerable(session: Session, settings: Settings, visit_id: int, version: int, userid: str) -> SiteVisit:
    """The visit the enterprise may answer now: its own, this version, not yet answered."""
    visit = session.get(SiteVisit, visit_id)
    if visit is None or visit.edition != settings.award.edition_key:
        raise NotFound("visit_unknown")
    app = session.get(Application, visit.application_id)
    if app is None or app.applicant != userid:
        raise NotFound("visit_unknown")
    if visit.version != version:
        raise AlreadyDone("visit_changed")
    if visit.status not in ANSWERABLE:
        raise AlreadyDone("visit_answered", status=visit.status)
    return visit


def _concerned(session: Session, visit: SiteVisit) -> list[str]:
    return [p.userid for p in people.with_role(session, SECRETARIAT)] + list(visit.experts)


@access.guarded("visits.answer")
def confirm(session: Session, settings: Settings, *, actor: str, now: dt.datetime, visit_id: int,
            version: int) -> SiteVisit:
    """The enterprise confirms the proposed visit; the secretariat and the experts are told; audited."""
    visit = check_answerable(session, settings, visit_id, version, actor)
    visit.status, visit.answered_at = "confirmed", now
    audit.record(session, actor=actor, action="visit.confirm", subject=f"application:{visit.application_id}", now=now,
                 version=visit.version)
    notices.notify(session, _concerned(session, visit), "visits.confirmed", now=now, visit=view(session, settings, visit))
    return visit


def clean(text: str, limit: int = REASON_MAX) -> str:
    """A reason or preferred times as typed: one line, at most `limit` characters."""
    return " ".join((text or "").split())[:limit]


@access.guarded("visits.answer")
def request_change(session: Session, settings: Settings, *, actor: str, now: dt.datetime, visit_id: int,
                   version: int, reason: str, preferred: str = "") -> SiteVisit:
    """The enterprise asks for another slot with a reason and preferred times; the secretariat is told; audited."""
    visit = check_answerable(session, settings, visit_id, version, actor)
    if not clean(reason):
        raise InvalidInput("visit_no_reason")
    visit.status, visit.answered_at = "change_requested", now
    visit.reason, visit.preferred = clean(reason), clean(preferred)
    audit.record(session, actor=actor, action="visit.change_request", subject=f"application:{visit.application_id}",
                 now=now, version=visit.version, reason=visit.reason, preferred=visit.preferred)
    w = window(session, settings, now=now)
    notices.notify(session, [p.userid for p in people.with_role(session, SECRETARIAT)], "visits.change_requested",
                   now=now, visit=view(session, settings, visit),
                   window={"open": w.open, "start": w.start.isoformat(), "end": w.end.isoformat(),
                           "stage": settings.award.stage(STAGE).name})
    return visit


def visits_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Each expert and the enterprise of every proposed or confirmed visit, reminded before it (1d among the offsets)."""
    for visit in session.scalars(select(SiteVisit).where(SiteVisit.edition == settings.award.edition_key,
                                                         SiteVisit.status.in_(REMINDED)).order_by(SiteVisit.id)):
        app = session.get(Application, visit.application_id)
        shown = view(session, settings, visit)
        key = deadline_key(f"visit-{visit.id}-v{visit.version}", visit.starts_at)
        for who in [*visit.experts, app.applicant]:
            yield Obligation(recipient=who, stage=STAGE, deadline_key=key, deadline=visit.starts_at,
                             kind="remind.visit", data={"visit": shown, "enterprise_side": who == app.applicant})
