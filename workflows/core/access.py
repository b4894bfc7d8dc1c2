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
  WeCom members at all; `offline` names the complainant of a letter, call or visit (it never acts).
No WeCom member can have a reserved name (the webhook refuses callbacks from them, `roster import`
refuses them).
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.errors import NotAllowed
from workflows.core.models import Person

APPLICANT = "applicant"
OPERATOR = "operator"
INACTIVE = "inactive"
# The bot's own actors: the CLI's default, the scheduler's jobs, stage hand-offs, the sample edition.
SYSTEM_ACTORS = frozenset({"cli", "system", "scheduler", "sample"})
# The public complaint page's actor and role, and the complainant of an offline complaint.
PUBLIC = "public"
OFFLINE = "offline"
RESERVED_ACTORS = SYSTEM_ACTORS | {PUBLIC, OFFLINE}
# Roles that include another one.
INCLUDES = {"committee_chair": "committee", "expert_leader": "expert"}

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
    "experts.leader": SECRETARIAT,                   # appoint the one 组长 among the drawn experts
    "experts.pledge": EXPERTS,                       # a drawn expert accepts or declines the 承诺书
    "experts.assign": SECRETARIAT,
    "experts.declare_conflict": EXPERTS,
    "scoring.score": EXPERTS,
    "scoring.reopen": frozenset({"expert_leader"}),
    "scoring.import": SECRETARIAT,
    "results.consensus": frozenset({"expert_leader"}),
    "results.confirm_report": frozenset({"expert_leader"}),
    "results.shortlist": SECRETARIAT,
    "visits.propose": SECRETARIAT,                   # 现场评审: date, time, experts, itinerary (and changes)
    "visits.answer": frozenset({APPLICANT}),         # the enterprise confirms or asks for another slot
    # 现场核实问题 (issue 25.3): the leader (or the secretariat) lists the issues to verify per candidate; the
    # experts of the visit record their findings (the leader also the group's)
    "siteissues.manage": frozenset({"expert_leader", "secretariat", OPERATOR}),
    "siteissues.finding": EXPERTS,
    # 7.3 committee vote
    "vote.manage": SECRETARIAT,
    "vote.cast": COMMITTEE,
    # 8–9 public notice, complaints, approval, award
    "publicity.manage": SECRETARIAT,
    "complaints.file": frozenset({PUBLIC}),          # the public page (chat complaints: the `投诉` flow)
    "complaints.register": SECRETARIAT,             # letters, calls and visits
    "complaints.conclude": SECRETARIAT,
    "award.manage": SECRETARIAT,
    "archive.export": SECRETARIAT,
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
}
# Views shown only in chat: they do not open the workbench (/admin) to a role that has no page there.
CHAT_ONLY_VIEWS = frozenset({"committee.rules_view"})
WORKBENCH_VIEWS = frozenset(VIEWS) - CHAT_ONLY_VIEWS

F = TypeVar("F", bound=Callable[..., Any])
_GUARDED: dict[str, list[Callable[..., Any]]] = {}


def role_of(session: Session, actor: str) -> str:
    """The actor's role as the gate sees it: roster role, `applicant`, `inactive` or `operator`."""
    if actor in SYSTEM_ACTORS:
        return OPERATOR
    if actor == PUBLIC:
        return PUBLIC
    if actor == OFFLINE:
        return INACTIVE
    row = session.execute(select(Person.role, Person.active).where(Person.userid == actor)).first()
    if row is None:
        return APPLICANT
    return row.role if row.active else INACTIVE


def roles_of(role: str) -> frozenset[str]:
    """A role and the roles it includes (a committee chair is also a committee member)."""
    return frozenset({role, INCLUDES[role]}) if role in INCLUDES else frozenset({role})


def allows(verb: str, role: str) -> bool:
    """Whether `role` may call `verb` or see view `verb` (no database: for menus and help)."""
    table = POLICY if verb in POLICY else VIEWS
    return bool(roles_of(role) & table[verb])


def may_see(role: str, view: str) -> bool:
    """Whether `role` may see `view` (a VIEWS entry; no database)."""
    if view not in VIEWS:
        raise KeyError(f"no view entry for {view!r}")
    return bool(roles_of(role) & VIEWS[view])


def require(session: Session, verb: str, actor: str | None) -> str:
    """Raise NotAllowed unless `actor` may call `verb`; return the actor's role."""
    if verb not in POLICY:
        raise KeyError(f"no policy for {verb!r}")
    role = role_of(session, actor) if actor else INACTIVE
    if not allows(verb, role):
        raise NotAllowed("not_allowed", action=verb, role=role,
                         allowed=sorted(POLICY[verb] - {OPERATOR}))
    return role


def guarded(verb: str) -> Callable[[F], F]:
    """Decorate a service verb: check its `actor` keyword against POLICY[verb] before it runs."""
    if verb not in POLICY:
        raise KeyError(f"no policy for {verb!r}")

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def checked(session: Session, *args: Any, **kwargs: Any) -> Any:
            require(session, verb, kwargs.get("actor"))
            return fn(session, *args, **kwargs)

        checked.__guard__ = verb  # type: ignore[attr-defined]
        _GUARDED.setdefault(verb, []).append(checked)
        return checked  # type: ignore[return-value]
    return decorate


def guarded_verbs() -> dict[str, list[Callable[..., Any]]]:
    """Every decorated verb by policy entry (for tests and the docs)."""
    return {k: list(v) for k, v in _GUARDED.items()}
