"""The workbench's read views: the edition, applications, experts and scores, ranking, vote, notice, audit log."""
from __future__ import annotations

import math
from fractions import Fraction
from flask import Response, request
from sqlalchemy import func, select

from workflows import apply, committee, publicity, scoring, voting
from workflows.apply.models import AppStatus, Application
from workflows.core import access, audit, reminders, stages
from workflows.core.errors import DomainError
from workflows.core.models import MEMBER_ID_MAX, AuditEntry, DeadlineExtension, Person, StageState
from workflows.edition import PROVIDERS
from workflows.review.queries import open_supplements, pending_for_secretariat
from workflows.scoring import consensus, overview
from workflows.scoring.models import Assignment, ScoreSheet
from workflows.publicity.models import Complaint

from .auth import Signed, now
from .gate import bp, view
from . import figures, names
from . import stages as stage_forms
from .render import env, page, rt

AUDIT_PAGE = 50


def _phase() -> str:
    phase = request.args.get("phase", "material")
    return phase if phase in scoring.PHASES else "material"


def names_of(session, userids) -> dict[str, str]:  # noqa: ANN001
    """Roster names for userids (one query)."""
    ids = sorted(set(userids))
    return dict(session.execute(select(Person.userid, Person.name).where(Person.userid.in_(ids or [""]))).all())


# -- the edition ------------------------------------------------------------------------------------------
@bp.get("/edition")
@view("edition", "edition.overview")
def edition(me: Signed) -> Response:
    """Stage timeline with deadlines and extensions, counts per stage, and who owes what today."""
    settings, t = rt().settings, now()
    with rt().sessions() as s:
        states = {r.stage: r for r in s.scalars(select(StageState).where(
            StageState.edition == settings.award.edition_key))}
        extensions = list(s.scalars(select(DeadlineExtension).where(
            DeadlineExtension.edition == settings.award.edition_key).order_by(DeadlineExtension.id)))
        timeline = []
        for st in settings.award.stages:
            row = states.get(st.key)
            timeline.append({"key": st.key, "name": st.name, "status": row.status if row else "pending",
                             "configured": st.deadline, "start": st.start, "deadline": stages.deadline(s, settings, st.key),
                             "opened_at": row.opened_at if row else None, "closed_at": row.closed_at if row else None,
                             "extensions": sum(1 for e in extensions if e.stage == st.key)})
        current = next((x for x in timeline if x["status"] == "open"), None)
        decided = committee.plan_data(s, settings)   # stages 1 and 2 are decisions: the plan's approval, the rules
        stage_actions = stage_forms.offered(s, settings, me.role, t)
        counts = {"applications": apply.status_counts(s, settings),
                  "review_pending": len(pending_for_secretariat(s, settings)),
                  "supplements_open": len(open_supplements(s, settings))}
        for phase in scoring.PHASES:
            assigned = s.scalar(select(func.count()).select_from(Assignment).join(
                Application, Application.id == Assignment.application_id).where(
                Assignment.phase == phase, Application.edition == settings.award.edition_key)) or 0
            done = s.scalar(select(func.count()).select_from(ScoreSheet).join(
                Application, Application.id == ScoreSheet.application_id).where(
                ScoreSheet.phase == phase, ScoreSheet.status == "confirmed",
                Application.edition == settings.award.edition_key)) or 0
            counts[phase] = {"assigned": assigned, "confirmed": done}
        ballot = voting.latest_round(s, settings)
        if ballot is not None:
            electors = voting.electors(s, ballot.id)
            counts["vote"] = {"round": ballot.round_no, "status": ballot.status,
                              "voted": sum(1 for p in electors if p.voted_at), "members": len(electors)}
        counts["complaints"] = dict(s.execute(select(Complaint.status, func.count()).where(
            Complaint.edition == settings.award.edition_key, Complaint.number.is_not(None))
            .group_by(Complaint.status)).all())
        counts["reached"] = reached(s, settings)
        owed = sorted(reminders.owed(s, settings, PROVIDERS), key=lambda o: (o.deadline, o.stage, o.recipient))
        apps = {a.applicant: a for a in s.scalars(select(Application).where(
            Application.edition == settings.award.edition_key,
            Application.applicant.in_({o.recipient for o in owed} or {""})))}
        names = names_of(s, [o.recipient for o in owed] + [e.by for e in extensions])
        subjects = {a.id: a for a in s.scalars(select(Application).where(Application.id.in_(
            [int(e.subject.split(":")[1]) for e in extensions if e.subject.startswith("application:")] or [0])))}
        obligations = [{"who": names.get(o.recipient) or (apps[o.recipient].enterprise_name if o.recipient in apps
                                                          else o.recipient),
                        "userid": o.recipient, "stage": settings.award.stage(o.stage).name, "kind": o.kind,
                        "deadline": o.deadline, "hours_left": (o.deadline - t).total_seconds() / 3600,
                        "data": o.data} for o in owed]
        ext_rows = [{"stage": settings.award.stage(e.stage).name, "deadline": e.deadline, "reason": e.reason,
                     "by": names.get(e.by, e.by), "at": e.at,
                     "subject": (subjects[int(e.subject.split(":")[1])].number or e.subject)
                     if e.subject.startswith("application:") and int(e.subject.split(":")[1]) in subjects
                     else e.subject} for e in extensions]
    fig = {"reached": figures.reached(counts["reached"]), "statuses": figures.statuses(counts["applications"]),
           "owed": figures.owed(obligations)}
    return page("edition", timeline=timeline, current=current, counts=counts, obligations=obligations,
                extensions=ext_rows, now=t, fig=fig, decided=decided, stage_actions=stage_actions,
                done=request.args.get("done", ""), done_stage=request.args.get("stage", ""))


def reached(s, settings) -> dict[str, int]:  # noqa: ANN001
    """How many applications got as far as each step of the edition (the funnel from submission to the award)."""
    apps = list(s.scalars(select(Application).where(Application.edition == settings.award.edition_key)))
    pub, approval = publicity.current(s, settings), publicity.current_approval(s, settings)
    return {"submitted": sum(1 for a in apps if a.submitted_at is not None),
            "recommended": sum(1 for a in apps if a.status in ("recommended", "supplement", "accepted", "rejected")),
            "accepted": sum(1 for a in apps if a.status == "accepted"),
            "site": len(scoring.shortlist(s, settings, "site")), "vote": len(scoring.shortlist(s, settings, "vote")),
            "notice": len(pub.winners) if pub else 0, "approved": len(approval.approved) if approval else 0}


# -- applications -----------------------------------------------------------------------------------------
def visible_ids(session, me: Signed) -> set[int] | None:  # noqa: ANN001
    """The applications this member may open: all (None) for the secretariat, an expert's assigned ones."""
    if access.may_see(me.role, "edition.overview"):
        return None
    return overview.assigned_ids(session, rt().settings, me.userid)


@bp.get("/applications")
@view("applications", "applications.view")
def applications(me: Signed) -> Response:
    """Applications, filtered by status, recommending unit and industry, searched by name, number or credit code."""
    settings = rt().settings
    a = request.args
    filters = {"status": a.get("status", ""), "unit": a.get("unit", ""), "industry": a.get("industry", ""),
               "q": a.get("q", "")[:100]}
    with rt().sessions() as s:
        rows = apply.search(s, settings, status=filters["status"] or None, unit=filters["unit"] or None,
                            industry=filters["industry"] or None, text=filters["q"] or None,
                            only=visible_ids(s, me))
        items = [{"id": x.id, "number": x.number, "enterprise": x.enterprise_name, "status": x.status,
                  "unit": apply.unit_name(settings, x), "industry": x.industry, "submitted_at": x.submitted_at,
                  "credit_code": x.credit_code} for x in rows]
    units = [(r.code, r.name) for r in settings.award.regions] + [(d, d) for d in settings.award.departments]
    return page("applications", items=items, filters=filters, statuses=[s.value for s in AppStatus], units=units,
                industries=settings.award.industries, expert_view=not access.may_see(me.role, "edition.overview"))


# -- experts and scores -----------------------------------------------------------------------------------
@bp.get("/experts")
@view("experts", "assignments.view")
def experts(me: Signed) -> Response:
    """The assignment matrix of a phase: who scores what, who may not (and why), each expert's load."""
    with rt().sessions() as s:
        data = overview.matrix(s, rt().settings, _phase())
        from workflows.scoring import draw   # the group: the engaged leader, the drawn, who is not yet reachable
        return page("experts", panel=draw.panel(s, rt().settings), **data)


@bp.get("/scores")
@view("scores", "scores.view")
def scores(me: Signed) -> Response:
    """Score sheets item by item and expert by expert, spreads over the thresholds, consensus values."""
    phase = _phase()
    chosen = request.args.get("app", "")
    with rt().sessions() as s:
        st = scoring.standing(s, rt().settings, phase)
        data = overview.sheets(s, rt().settings, phase, st)
        experts = overview.by_expert(s, rt().settings, phase, st)
        # Item by item for one application at a time: the one asked for, else the first with a flagged spread.
        selected = next((e for e in data["applications"] if str(e["app"].id) == chosen), None) or next(
            (e for e in data["applications"] if e["flagged_items"] or e["total_flagged"]), None)
        fig = {"totals": figures.totals(data["applications"], experts),
               "items": figures.items(selected, data["rubric"].item_keys) if selected else None}
        return page("scores", by_expert=experts, selected=selected, fig=fig, **data)


@bp.get("/scores/<int:app_id>/scorebook")
@view("scores", "scores.view")
def scorebook(me: Signed, app_id: int) -> Response:
    """The consensus scorebook of one applicant (issue 25.2): per item every expert's score and comments, the
    spread and the agreed result; the experts' totals and the consensus total."""
    with rt().sessions() as s:
        app = s.get(Application, app_id)
        if app is None or app.edition != rt().settings.award.edition_key:
            return page("missing", 404)
        return page("scorebook", book=consensus.scorebook(s, rt().settings, _phase(), app))


@bp.get("/ranking")
@view("ranking", "ranking.view")
def ranking(me: Signed) -> Response:
    """The material ranking with the gate and the cut, the composite of the site visit; sealed until confirmed."""
    settings = rt().settings
    with rt().sessions() as s:
        data = overview.ranking(s, settings)
        for phase in scoring.PHASES:
            d = data[phase]
            # The chair sees a ranking only once the leader confirmed its report; the leader and the
            # secretariat see it as it forms (marked unconfirmed).
            d["sealed"] = d["confirmation"] is None and not access.may_see(me.role, "results.view")
            d["recorded"] = [] if d["sealed"] else [
                {"position": r.position, "score": r.score, "app": s.get(Application, r.application_id)}
                for r in scoring.shortlist(s, settings, "site" if phase == "material" else "vote")]
            d["fig"] = None if d["sealed"] else (
                figures.material(d, settings.award.rules.candidates_max) if phase == "material"
                else figures.composite(d, settings.award.rules.vote_top))
            d["confirmed_by"] = (names_of(s, [d["confirmation"].confirmed_by]).get(d["confirmation"].confirmed_by, "")
                                 if d["confirmation"] else "")
        return page("ranking", phases=data, rules=settings.award.rules)


# -- the vote ---------------------------------------------------------------------------------------------
@bp.get("/vote")
@view("vote", "vote.status")
def vote(me: Signed) -> Response:
    """Who has voted (never how), the quorum, the result after closing, and the re-count."""
    settings = rt().settings
    with rt().sessions() as s:
        try:
            report = voting.report(s, settings)
        except DomainError:
            return page("vote", report=None, turnout={}, recounts=[], needed={}, participation=[])
        turnout = {r["ballot_id"]: [{"name": t.name, "voted": t.voted_at is not None, "recused": t.recused}
                                    for t in voting.turnout(s, r["ballot_id"])] for r in report["rounds"]}
        recounts = voting.verify(s, settings) if request.args.get("verify") else []
    # Each round by the quorum it is judged by (the committee's recorded 议事规则, else the config).
    needed = {r["ballot_id"]: math.ceil(Fraction(r["members"]) * Fraction(r["quorum"])) for r in report["rounds"]}
    participation = [(r["ballot_id"], figures.turnout(turnout[r["ballot_id"]])) for r in report["rounds"]]
    return page("vote", report=report, turnout=turnout, recounts=recounts, needed=needed, participation=participation,
                verified=bool(request.args.get("verify")))


# -- the audit log ----------------------------------------------------------------------------------------
@bp.get("/audit")
@view("audit", "audit.view")
def audit_log(me: Signed) -> Response:
    """The audit log, newest first, filtered by action, actor or subject; `verify=1` checks the hash chain."""
    a = request.args
    filters = {"action": a.get("action", "")[:80], "actor": a.get("actor", "")[:MEMBER_ID_MAX], "subject": a.get("subject", "")[:100]}
    try:
        number = max(1, int(a.get("page", "1")))
    except ValueError:
        number = 1
    q = select(AuditEntry)
    if filters["action"]:
        q = q.where(AuditEntry.action.startswith(filters["action"], autoescape=True))
    if filters["actor"]:   # a userid, or (part of) a member's name: a clerk knows names, not accounts
        with rt().sessions() as s:
            named = set(s.scalars(select(Person.userid).where(Person.name.contains(filters["actor"], autoescape=True))))
        q = q.where(AuditEntry.actor.in_(named | {filters["actor"]}))
    if filters["subject"]:
        q = q.where(AuditEntry.subject == filters["subject"])
    raw = bool(a.get("raw"))
    with rt().sessions() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = list(s.scalars(q.order_by(AuditEntry.id.desc()).offset((number - 1) * AUDIT_PAGE).limit(AUDIT_PAGE)))
        words = names.table(env())
        people = names.who(s, words, [r.actor for r in rows])
        subjects = names.subjects(s, words, {st.key: st.name for st in rt().settings.award.stages},
                                  [r.subject for r in rows])
        shown = names.details(s, words, [r.details for r in rows])
        report = audit.verify(s) if a.get("verify") else None
        entries = [{"id": r.id, "at": r.at, "actor": r.actor, "name": people.get(r.actor, r.actor),
                    "action": r.action, "subject": r.subject, "subject_name": subjects.get(r.subject, ""),
                    "details": shown[i], "raw": names.raw(r.details), "hash": r.hash} for i, r in enumerate(rows)]
    return page("audit", entries=entries, filters=filters, page_no=number, raw=raw,
                pages=max(1, math.ceil(total / AUDIT_PAGE)), total=total, report=report)
