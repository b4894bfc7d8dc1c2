"""Who may do what: one table (`POLICY`), one check (`require`), applied by the verbs themselves.

Every service verb that changes state is decorated with `@guarded("<verb>")`; the decorator checks the
`actor` keyword argument against `POLICY` before the verb runs, so chat words, conversation steps,
card clicks, web pages and the CLI all pass the same gate. A verb may check more (an applicant acts
on *his own* application, an expert on an application *assigned to him*); who may call it at all is
decided here and nowhere else. The bot's router and help read the same table (`words_for`).

Actors:
- a roster member acts with his role (`committee_chair` also counts as `committee`, `expert_leader`
  as `expert`); a member who was removed from the roster (inactive) may do nothing guarded;
- anyone else is an `applicant` (enterprise contacts are not on the roster);
- the bot's own jobs and the operator's shell act as `operator` under the reserved names below;
- the public complaint page acts as `public` (the role of the same name), for people who are not
  WeCom members at all; `offline` names the complainant of a letter, call or visit, and `purged` a complainant
  whose edition's personal data was purged (neither ever acts);
- `agency` (the entrusted technical service institution, 秘书处委托…技术服务机构) holds exactly the verbs and
  views the secretariat delegates in the configuration (`[award.agency] powers`, a subset of `DELEGABLE`); a
  verb checks them from the `settings` it is called with, menus and pages from `delegate()` (set at start-up).
No WeCom member can have a reserved name (the webhook refuses callbacks from them, `roster import`
refuses them).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.errors import NotAllowed
from workflows.core.models import ConfidentialityPledge, Person

APPLICANT = "applicant"
OPERATOR = "operator"
INACTIVE = "inactive"
# The bot's own actors: the CLI's default, the scheduler's jobs, stage hand-offs, the sample edition.
SYSTEM_ACTORS = frozenset({"cli", "system", "scheduler", "sample"})
# The public complaint page's actor and role, and the complainant of an offline complaint.
PUBLIC = "public"
OFFLINE = "offline"
# What a complainant's member id becomes once his edition's personal data is purged (workflows/retention.py).
PURGED = "purged"
RESERVED_ACTORS = SYSTEM_ACTORS | {PUBLIC, OFFLINE, PURGED}
# Roles that include another one.
INCLUDES = {"committee_chair": "committee", "expert_leader": "expert"}

AGENCY = "agency"
SECRETARIAT = frozenset({"secretariat", OPERATOR})
EXPERTS = frozenset({"expert"})  # leaders included through INCLUDES
COMMITTEE = frozenset({"committee"})

# verb -> who may call it. Keep this table the one answer to "who may do what".
POLICY: dict[str, frozenset[str]] = {
    # the edition's stages and deadlines
    "stage.open": SECRETARIAT,
    "stage.close": SECRETARIAT,
    "stage.extend": SECRETARIAT,
    "roster.import": frozenset({OPERATOR}),
    "roster.remove": frozenset({OPERATOR}),
    # 2 第一次评审委员会会议: the secretariat records the meeting and its 议事规则; the chair, for the committee,
    # admits a candidate below the material gate (破格), decides a replacement, a vacancy or a replacement vote
    # after 核查, and decides a deadlocked tie of a vote (平票决定)
    "committee.rules": SECRETARIAT,
    # 1 制定实施方案: the secretariat records the city government's approval of the plan
    "plan.record": SECRETARIAT,
    "committee.appoint": SECRETARIAT,                # record a member's appointment (office, document, from when)
    "committee.admit": frozenset({"committee_chair"}),
    "committee.decide": frozenset({"committee_chair"}),
    # 3–4 征集 and 宣贯会暨培训
    "call.publish": SECRETARIAT,
    "training.manage": SECRETARIAT,
    "training.signup": frozenset({APPLICANT, "recommender"}),
    # 5 申报推荐: the applicant, the recommending unit
    "apply.start": frozenset({APPLICANT}),
    "apply.edit": frozenset({APPLICANT}),
    "apply.attach": frozenset({APPLICANT}),
    "apply.submit": frozenset({APPLICANT}),
    "apply.extend": SECRETARIAT,
    "recommend.decide": frozenset({"recommender"}),
    # 6 申报材料初审
    "review.open": SECRETARIAT,
    "review.decide": SECRETARIAT,
    "review.supplement": SECRETARIAT,
    "review.supply": frozenset({APPLICANT}),
    # 7.1–7.2 expert review
    "experts.pool": SECRETARIAT,                     # import the provincial pool (CSV)
    "experts.draw": SECRETARIAT,                     # the reproducible draw from a published seed
    "experts.enrol": SECRETARIAT,                    # link a drawn expert not yet a member to his roster userid
    "experts.leader": SECRETARIAT,                   # engage the one 组长 apart from the draw (leader.py)
    "experts.pledge": EXPERTS,                       # a drawn expert accepts or declines the 承诺书
    "experts.assign": SECRETARIAT,
    "experts.declare_conflict": EXPERTS,
    "scoring.score": EXPERTS,
    "scoring.reopen": frozenset({"expert_leader"}),
    "scoring.import": SECRETARIAT,
    "results.consensus": frozenset({"expert_leader"}),
    "results.confirm_report": frozenset({"expert_leader"}),
    "results.shortlist": SECRETARIAT,
    # a tie straddling a cut: whom `[award.rules] tie_at_cut_decided_by` names ([decision]; the verb checks it)
    "results.tie_break": frozenset({"expert_leader", "committee_chair"}),
    "visits.propose": SECRETARIAT,                   # 现场评审: date, time, experts, itinerary (and changes)
    "visits.answer": frozenset({APPLICANT}),         # the enterprise confirms or asks for another slot
    # §五(三) confidentiality: the secretariat asks; recommenders, committee members and the agency sign
    "pledges.ask": SECRETARIAT,
    "pledges.accept": frozenset({"recommender", "committee", AGENCY}),
    # 现场核实问题 (issue 25.3): the leader (or the secretariat) lists the issues to verify per candidate; the
    # experts of the visit record their findings (the leader also the group's)
    "siteissues.manage": frozenset({"expert_leader", "secretariat", OPERATOR}),
    "siteissues.finding": EXPERTS,
    # 7.3 committee vote
    "vote.manage": SECRETARIAT,
    "vote.declare": COMMITTEE,                       # a member declares his own conflicts per candidate
    "vote.cast": COMMITTEE,
    # 8–9 public notice, complaints, approval, award
    "publicity.manage": SECRETARIAT,
    "complaints.file": frozenset({PUBLIC}),          # the public page (chat complaints: the `投诉` flow)
    "complaints.register": SECRETARIAT,             # letters, calls and visits
    "complaints.conclude": SECRETARIAT,
    "award.manage": SECRETARIAT,
    "archive.export": SECRETARIAT,
    # a notice to a filtered group (all 曲江区 applicants with 补正 open, the finalists, experts who have not pledged)
    "broadcast.send": SECRETARIAT,
    # personal data of a finished, archived edition, after [retention] purge_after_days: the operator only
    "edition.purge": frozenset({OPERATOR}),
}

LEADER_AND_SECRETARIAT = frozenset({"secretariat", "expert_leader", OPERATOR})

# What may be *seen*, by whom (read-only views: results, vote status, the workbench's pages).
# A view may narrow further where it is used (an expert sees only the applications assigned to him;
# the chair sees a ranking only once the leader confirmed its report), never widen.
VIEWS: dict[str, frozenset[str]] = {
    "results.view": LEADER_AND_SECRETARIAT,
    "vote.status": frozenset({"secretariat", "committee_chair", OPERATOR}),
    "committee.rules_view": SECRETARIAT | COMMITTEE,
    # the workbench (/admin): one entry per page family
    "edition.overview": SECRETARIAT,                     # stages, counts, who owes what today
    "applications.view": SECRETARIAT | EXPERTS,          # experts: only applications assigned to them
    "assignments.view": LEADER_AND_SECRETARIAT,          # the assignment matrix, conflicts, load
    "scores.view": LEADER_AND_SECRETARIAT,               # score sheets, dispersion, consensus
    "ranking.view": LEADER_AND_SECRETARIAT | {"committee_chair"},  # the chair: after the leader confirmed
    "publicity.view": SECRETARIAT,                       # the notice and complaints (complainants named)
    "audit.view": SECRETARIAT,
    "exports.download": SECRETARIAT,
    "broadcasts.view": SECRETARIAT,                      # notices to groups and their delivery
}
# Views shown only in chat: they do not open the workbench (/admin) to a role that has no page there.
CHAT_ONLY_VIEWS = frozenset({"committee.rules_view"})
# What the secretariat may delegate to the agency: organising the expert work (assignments, enrolment of drawn
# experts, site-visit schedules, score collection from paper) and the pages that show it. Decisions (the draw,
# the leader, shortlists, votes, the notice, the award) stay the secretariat's.
DELEGABLE = frozenset({"experts.assign", "experts.enrol", "visits.propose", "scoring.import",
                       "assignments.view", "scores.view"})
_delegated: frozenset[str] = frozenset()   # what menus and pages show the agency (delegate(), at start-up)
WORKBENCH_VIEWS = frozenset(VIEWS) - CHAT_ONLY_VIEWS

F = TypeVar("F", bound=Callable[..., Any])
_GUARDED: dict[str, list[Callable[..., Any]]] = {}


def role_of(session: Session, actor: str) -> str:
    """The actor's role as the gate sees it: roster role, `applicant`, `inactive` or `operator`."""
    if actor in SYSTEM_ACTORS:
        return OPERATOR
    if actor == PUBLIC:
        return PUBLIC
    if actor in (OFFLINE, PURGED):
        return INACTIVE
    row = session.execute(select(Person.role, Person.active).where(Person.userid == actor)).first()
    if row is None:
        return APPLICANT
    return row.role if row.active else INACTIVE


def roles_of(role: str) -> frozenset[str]:
    """A role and the roles it includes (a committee chair is also a committee member)."""
    return frozenset({role, INCLUDES[role]}) if role in INCLUDES else frozenset({role})


def delegate(powers: Any) -> None:
    """Set what menus and pages show the agency (the configuration's `[award.agency] powers`)."""
    global _delegated
    _delegated = frozenset(powers) & DELEGABLE


def delegated_by(settings: Any) -> frozenset[str]:
    """The verbs and views the configuration delegates to the agency."""
    agency = getattr(getattr(settings, "award", None), "agency", None)
    return frozenset(agency.powers) & DELEGABLE if agency is not None else frozenset()


def allows(verb: str, role: str, delegated: frozenset[str] | None = None) -> bool:
    """Whether `role` may call `verb` or see view `verb` (no database: for menus and help)."""
    table = POLICY if verb in POLICY else VIEWS
    if role == AGENCY:   # its own verbs (its pledge), and what the secretariat delegates
        return AGENCY in table[verb] or verb in (_delegated if delegated is None else delegated)
    return bool(roles_of(role) & table[verb])


def may_see(role: str, view: str, delegated: frozenset[str] | None = None) -> bool:
    """Whether `role` may see `view` (a VIEWS entry; no database)."""
    if view not in VIEWS:
        raise KeyError(f"no view entry for {view!r}")
    return allows(view, role, delegated)


def require(session: Session, verb: str, actor: str | None, delegated: frozenset[str] | None = None) -> str:
    """Raise NotAllowed unless `actor` may call `verb`; return the actor's role."""
    if verb not in POLICY:
        raise KeyError(f"no policy for {verb!r}")
    role = role_of(session, actor) if actor else INACTIVE
    if not allows(verb, role, delegated):
        raise NotAllowed("not_allowed", action=verb, role=role,
                         allowed=sorted(POLICY[verb] - {OPERATOR}))
    return role


def require_pledged(session: Session, settings: Any, verb: str, actor: str | None, role: str) -> None:
    """§五(三): a member whose role signs the confidentiality pledge (`[award.pledges] roles`) acts only once he
    accepted it for this edition (`pledges.*` verbs excepted: that is how he signs)."""
    pledges = getattr(getattr(settings, "award", None), "pledges", None)
    if pledges is None or verb.startswith("pledges.") or role not in pledges.roles or not actor:
        return
    if session.scalar(select(ConfidentialityPledge.id).where(
            ConfidentialityPledge.edition == settings.award.edition_key, ConfidentialityPledge.userid == actor,
            ConfidentialityPledge.status == "accepted")) is None:
        raise NotAllowed("confidentiality_required", action=verb)


def guarded(verb: str) -> Callable[[F], F]:
    """Decorate a service verb: check its `actor` keyword against POLICY[verb] before it runs."""
    if verb not in POLICY:
        raise KeyError(f"no policy for {verb!r}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def checked(session: Session, *args: Any, **kwargs: Any) -> Any:
            settings = args[0] if args and hasattr(args[0], "award") else kwargs.get("settings")
            role = require(session, verb, kwargs.get("actor"), delegated_by(settings) if settings is not None else None)
            if settings is not None:
                require_pledged(session, settings, verb, kwargs.get("actor"), role)
            return fn(session, *args, **kwargs)

        checked.__guard__ = verb  # type: ignore[attr-defined]
        _GUARDED.setdefault(verb, []).append(checked)
        return checked  # type: ignore[return-value]
    return decorate


def guarded_verbs() -> dict[str, list[Callable[..., Any]]]:
    """Every decorated verb by policy entry (for tests and the docs)."""
    return {k: list(v) for k, v in _GUARDED.items()}
