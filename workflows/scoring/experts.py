"""Experts: who scores what. Proposals balanced by workflows.assignment, confirmation, and 回避 declarations.

Phases are the two scoring stages, 'material' (材料评审) and 'site' (现场考评). The expert pool is
every active roster member with role `expert` or `expert_leader` (the leader scores too).
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core import access, audit, notices, people, stages
from workflows.scoring import draw as expert_draw
from workflows.scoring import interest
from workflows.scoring.assignment import AppInfo, ExpertInfo, Problem, check_assignment, propose_assignment
from workflows.core.errors import AlreadyDone, InvalidInput, NotFound
from workflows.apply.models import AppStatus, Application
from workflows.scoring.models import Assignment, AssignmentProposal, ConflictDeclaration, ScoreSheet, Shortlist
from workflows.core.models import Person
from workflows.core.settings import Settings

PHASES = ("material", "site")
EXPERT_ROLES = ("expert", "expert_leader")
SECRETARIAT = "secretariat"
LEADER = "expert_leader"


@dataclass(frozen=True)
class ProposalView:
    """A stored proposal with application numbers and expert names for display."""

    id: int
    phase: str
    rows: list[dict]
    problems: list[dict]
    loads: dict[str, int]


def check_phase(phase: str) -> str:
    """The phase itself, or InvalidInput when it is not a scoring phase."""
    if phase not in PHASES:
        raise InvalidInput("unknown_phase", phase=phase, phases=list(PHASES))
    return phase


def current_phase(session: Session, settings: Settings) -> str | None:
    """The scoring phase now open (site before material), or None."""
    for phase in reversed(PHASES):
        if stages.status(session, settings, phase) == "open":
            return phase
    return None


def normalize_number(text: str) -> str:
    """An application number as typed (full-width, lower case) in canonical form."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def find_application(session: Session, settings: Settings, number: str) -> Application:
    """The application of this edition with this number, or NotFound."""
    app = session.scalar(select(Application).where(Application.edition == settings.award.edition_key,
                                                   Application.number == normalize_number(number)))
    if app is None:
        raise NotFound("application_not_found", number=number)
    return app


def phase_applications(session: Session, settings: Settings, phase: str) -> list[Application]:
    """Applications scored in a phase: accepted ones (material) or the site-visit shortlist (site)."""
    check_phase(phase)
    q = select(Application).where(Application.edition == settings.award.edition_key)
    if phase == "material":
        q = q.where(Application.status == AppStatus.ACCEPTED)
    else:
        q = q.join(Shortlist, Shortlist.application_id == Application.id).where(
            Shortlist.edition == settings.award.edition_key, Shortlist.kind == "site")
    return list(session.scalars(q.order_by(Application.id)))


def region_name(settings: Settings, code: str | None) -> str:
    """The configured region name for a division code (roster regions are names)."""
    for region in settings.award.regions:
        if region.code == code:
            return region.name
    return code or ""


def _app_info(settings: Settings, app: Application) -> AppInfo:
    return AppInfo(str(app.id), app.enterprise_name or "", region_name(settings, app.region_code))


def pool_members(session: Session, settings: Settings) -> list[Person]:
    """Active roster experts; once the edition has a draw, only the drawn ones who accepted the 承诺书."""
    pledged = expert_draw.accepted(session, settings)
    return [p for p in people.with_role(session, *EXPERT_ROLES) if pledged is None or p.userid in pledged]


def conflicts(session: Session, settings: Settings) -> set[tuple[str, str]]:
    """Every declared (expert, application id) conflict of this edition."""
    rows = session.execute(select(ConflictDeclaration.expert, ConflictDeclaration.application_id)
                           .where(ConflictDeclaration.edition == settings.award.edition_key))
    return {(expert, str(app_id)) for expert, app_id in rows}


def assignments(session: Session, settings: Settings, phase: str) -> dict[int, list[str]]:
    """Confirmed experts per application id in a phase of this edition."""
    result: dict[int, list[str]] = {}
    for row in session.scalars(select(Assignment).where(Assignment.edition == settings.award.edition_key,
                                                        Assignment.phase == phase)
                               .order_by(Assignment.application_id, Assignment.expert)):
        result.setdefault(row.application_id, []).append(row.expert)
    return result


def assigned_to(session: Session, settings: Settings, expert: str, phase: str) -> list[Application]:
    """The applications assigned to an expert in a phase."""
    return list(session.scalars(
        select(Application).join(Assignment, Assignment.application_id == Application.id)
        .where(Assignment.edition == settings.award.edition_key, Assignment.phase == phase,
               Assignment.expert == expert).order_by(Application.id)))


def require_assigned(session: Session, settings: Settings, expert: str, number: str, phase: str) -> Application:
    """The application if it is assigned to this expert in the phase; otherwise NotFound (no hint it exists).

    Once the edition has a draw, an expert who has not accepted the 承诺书 is refused first (draw.require_pledged).
    """
    expert_draw.require_pledged(session, settings, expert)
    try:
        app = find_application(session, settings, number)
    except NotFound:
        raise NotFound("not_assigned", number=number) from None
    found = session.scalar(select(Assignment.id).where(Assignment.edition == app.edition, Assignment.phase == phase,
                                                       Assignment.expert == expert, Assignment.application_id == app.id))
    if found is None:
        raise NotFound("not_assigned", number=number)
    return app


def _view(session: Session, settings: Settings, proposal: AssignmentProposal) -> ProposalView:
    apps = {a.id: a for a in session.scalars(select(Application).where(
        Application.edition == proposal.edition, Application.id.in_([int(k) for k in proposal.assignments] or [0])))}
    names = {p.userid: p.name for p in pool_members(session, settings)}
    rows = [{"id": int(k), "number": apps[int(k)].number, "enterprise": apps[int(k)].enterprise_name,
             "experts": [{"userid": u, "name": names.get(u, u)} for u in users]}
            for k, users in sorted(proposal.assignments.items(), key=lambda p: int(p[0]))]
    problems = []
    for p in proposal.problems:
        app = apps.get(int(p["app_id"])) if str(p["app_id"]).isdigit() else None
        problems.append({**p, "number": app.number if app else p["app_id"],
                         "enterprise": app.enterprise_name if app else ""})
    loads: dict[str, int] = {}
    for users in proposal.assignments.values():
        for u in users:
            loads[names.get(u, u)] = loads.get(names.get(u, u), 0) + 1
    return ProposalView(proposal.id, proposal.phase, rows, problems, dict(sorted(loads.items())))


def _problem_dict(problem: Problem) -> dict:
    return {"app_id": problem.app_id, "code": str(problem.code), "data": problem.data}


@access.guarded("experts.assign")
def propose(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str) -> ProposalView:
    """Propose N eligible experts for every unassigned application of the phase, balancing load; audited."""
    check_phase(phase)
    done = assignments(session, settings, phase)
    apps = [a for a in phase_applications(session, settings, phase) if a.id not in done]
    if not apps:
        raise InvalidInput("nothing_to_assign", phase=phase)
    pool = pool_members(session, settings)
    existing = dict(session.execute(select(Assignment.expert, func.count())
                                    .where(Assignment.edition == settings.award.edition_key, Assignment.phase == phase)
                                    .group_by(Assignment.expert)).all())
    result = propose_assignment([_app_info(settings, a) for a in apps],
                                [ExpertInfo(p.userid, p.organization, p.region) for p in pool],
                                settings.award.rules.experts_per_application, conflicts(session, settings), existing)
    for old in session.scalars(select(AssignmentProposal).where(
            AssignmentProposal.edition == settings.award.edition_key, AssignmentProposal.phase == phase,
            AssignmentProposal.status == "pending")):
        old.status = "superseded"
    proposal = AssignmentProposal(edition=settings.award.edition_key, phase=phase,
                                  assignments=result.assignments,
                                  problems=[_problem_dict(p) for p in result.problems],
                                  status="pending", created_by=actor, created_at=now)
    session.add(proposal)
    session.flush()
    audit.record(session, actor=actor, action="assignment.propose", subject=f"proposal:{proposal.id}", now=now,
                 phase=phase, assignments=result.assignments, problems=proposal.problems)
    return _view(session, settings, proposal)


def pending_proposal(session: Session, settings: Settings, phase: str) -> AssignmentProposal:
    """The latest pending proposal of a phase, or NotFound."""
    proposal = session.scalar(select(AssignmentProposal).where(
        AssignmentProposal.edition == settings.award.edition_key, AssignmentProposal.phase == phase,
        AssignmentProposal.status == "pending").order_by(AssignmentProposal.id.desc()).limit(1))
    if proposal is None:
        raise NotFound("no_proposal", phase=phase)
    return proposal


@access.guarded("experts.assign")
def edit(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str,
         number: str, experts: list[str]) -> ProposalView:
    """Replace one application's experts in the pending proposal (checked on confirm); audited."""
    proposal = pending_proposal(session, settings, phase)
    app = find_application(session, settings, number)
    if str(app.id) not in proposal.assignments:
        raise InvalidInput("not_in_proposal", number=app.number)
    proposal.assignments = {**proposal.assignments, str(app.id): sorted(set(experts))}
    proposal.problems = [_problem_dict(p) for p in _check(session, settings, proposal)]
    audit.record(session, actor=actor, action="assignment.edit", subject=f"proposal:{proposal.id}", now=now,
                 application=app.number, experts=sorted(set(experts)))
    return _view(session, settings, proposal)


def _check(session: Session, settings: Settings, proposal: AssignmentProposal) -> list[Problem]:
    apps = [a for a in phase_applications(session, settings, proposal.phase)
            if str(a.id) in proposal.assignments]
    pool = [ExpertInfo(p.userid, p.organization, p.region) for p in pool_members(session, settings)]
    return check_assignment([_app_info(settings, a) for a in apps], pool, proposal.assignments,
                            settings.award.rules.experts_per_application, conflicts(session, settings))


@access.guarded("experts.assign")
def confirm(session: Session, settings: Settings, *, actor: str, now: dt.datetime, phase: str,
            proposal_id: int | None = None) -> ProposalView:
    """Confirm the pending proposal if it satisfies every rule; notify each expert of his list; audited."""
    proposal = pending_proposal(session, settings, phase)
    if proposal_id is not None and proposal.id != proposal_id:
        raise AlreadyDone("proposal_superseded", proposal=proposal_id)
    problems = _check(session, settings, proposal)
    if problems:
        proposal.problems = [_problem_dict(p) for p in problems]
        view = _view(session, settings, proposal)
        raise InvalidInput("assignment_invalid", problems=view.problems)
    per_expert: dict[str, list[int]] = {}
    for app_id, users in proposal.assignments.items():
        for userid in users:
            session.add(Assignment(edition=settings.award.edition_key, phase=phase, application_id=int(app_id), expert=userid,
                                   assigned_by=actor, assigned_at=now))
            per_expert.setdefault(userid, []).append(int(app_id))
    proposal.status, proposal.confirmed_by, proposal.confirmed_at = "confirmed", actor, now
    audit.record(session, actor=actor, action="assignment.confirm", subject=f"proposal:{proposal.id}", now=now,
                 phase=phase, assignments=proposal.assignments)
    deadline = stages.deadline(session, settings, phase)
    numbers = {a.id: (a.number, a.enterprise_name) for a in phase_applications(session, settings, phase)}
    for userid, app_ids in sorted(per_expert.items()):
        notices.notify(session, userid, "scoring.assigned", now=now, phase=phase, deadline=deadline.isoformat(),
                       applications=[{"number": numbers[i][0], "enterprise": numbers[i][1]} for i in sorted(app_ids)])
    return _view(session, settings, proposal)


def check_conflict(session: Session, settings: Settings, expert: str, number: str) -> Application:
    """Every check `declare_conflict` makes (an accepted application, not declared yet), so chat asks for the
    reason and the confirmation only when the declaration will be accepted."""
    app = find_application(session, settings, number)
    if app.status != AppStatus.ACCEPTED:
        raise NotFound("application_not_found", number=number)
    exists = session.scalar(select(ConflictDeclaration.id).where(ConflictDeclaration.edition == app.edition,
                                                                 ConflictDeclaration.expert == expert,
                                                                 ConflictDeclaration.application_id == app.id))
    if exists is not None:
        raise AlreadyDone("conflict_already_declared", number=app.number)
    return app


def conflict_withdraws(session: Session, settings: Settings, expert: str, app: Application) -> list[str]:
    """The phases whose assignment a 回避 would withdraw (a confirmed sheet stays on record)."""
    phases = []
    for row in session.scalars(select(Assignment).where(Assignment.edition == app.edition, Assignment.expert == expert,
                                                        Assignment.application_id == app.id)):
        sheet = session.scalar(select(ScoreSheet.status).where(ScoreSheet.edition == app.edition,
                                                               ScoreSheet.phase == row.phase,
                                                               ScoreSheet.expert == expert,
                                                               ScoreSheet.application_id == app.id))
        if sheet != "confirmed":
            phases.append(row.phase)
    return sorted(phases)


@access.guarded("experts.declare_conflict")
def declare_conflict(session: Session, settings: Settings, *, actor: str, now: dt.datetime, number: str,
                     reason: str = "", code: str = "other") -> tuple[Application, list[str]]:
    """Record an expert's 回避 with its reason code (interest.CODES) and note; unconfirmed assignments are
    withdrawn (phases returned); audited; the secretariat is told to reassign."""
    if code not in interest.CODES:
        raise InvalidInput("interest_bad_code", code=code, codes=list(interest.CODES))
    app = check_conflict(session, settings, actor, number)
    session.add(ConflictDeclaration(edition=app.edition, expert=actor, application_id=app.id, reason=reason[:500], declared_at=now))
    interest.record_conflict(session, app, actor, code=code, note=reason, now=now)
    withdrawn = []
    for row in session.scalars(select(Assignment).where(Assignment.edition == app.edition, Assignment.expert == actor,
                                                        Assignment.application_id == app.id)):
        sheet = session.scalar(select(ScoreSheet).where(ScoreSheet.edition == app.edition, ScoreSheet.phase == row.phase,
                                                        ScoreSheet.expert == actor, ScoreSheet.application_id == app.id))
        if sheet is not None and sheet.status == "confirmed":
            continue  # a confirmed sheet stays on record; the secretariat decides (notified below)
        if sheet is not None:
            session.delete(sheet)
        withdrawn.append(row.phase)
        session.delete(row)
    audit.record(session, actor=actor, action="conflict.declare", subject=f"application:{app.id}", now=now,
                 number=app.number, reason=reason[:500], code=code, withdrawn=withdrawn)
    secretariat = [p.userid for p in people.with_role(session, SECRETARIAT)]
    if secretariat:
        person = people.get(session, actor)
        notices.notify(session, secretariat, "experts.conflict_declared", now=now, expert=person.name if person else actor,
                       number=app.number, enterprise=app.enterprise_name, reason=reason[:500], code=code,
                       withdrawn=withdrawn)
    return app, withdrawn
