"""Assigning experts to applications under the impartiality (回避) rules, load balanced.

An expert is ineligible for an application when his organisation equals the
enterprise's organisation (its name), his region equals its region, or he has
declared a conflict with it. Blank organisations/regions never match anything.

The proposal starts from a greedy assignment (most constrained application
first, least loaded expert first, ties by user id) and then moves single slots
along exchange paths while some expert carries at least 2 more than another
reachable one. The loads form an M-convex set, so when no such move exists the
load vector is decreasingly minimal: the maximum load is as small as possible
(and, under it, loads are as even as possible). Everything is sorted by id
first, so the proposal does not depend on input order.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

_T = TypeVar("_T")


class Reason(StrEnum):
    """Why an expert may not score an application."""

    SAME_ORGANIZATION = "same_organization"
    SAME_REGION = "same_region"
    DECLARED_CONFLICT = "declared_conflict"


class ProblemCode(StrEnum):
    """What is wrong with (a proposed or edited) assignment of one application."""

    NOT_ENOUGH_ELIGIBLE = "not_enough_eligible"
    TOO_FEW_EXPERTS = "too_few_experts"
    TOO_MANY_EXPERTS = "too_many_experts"
    UNKNOWN_APPLICATION = "unknown_application"
    UNKNOWN_EXPERT = "unknown_expert"
    DUPLICATE_EXPERT = "duplicate_expert"
    SAME_ORGANIZATION = "same_organization"
    SAME_REGION = "same_region"
    DECLARED_CONFLICT = "declared_conflict"


@dataclass(frozen=True)
class AppInfo:
    """What assignment needs to know about an application's enterprise."""

    id: str
    organization: str
    region: str


@dataclass(frozen=True)
class ExpertInfo:
    """What assignment needs to know about an expert."""

    userid: str
    organization: str
    region: str


@dataclass(frozen=True)
class Problem:
    """A problem with one application's experts: code and JSON-friendly data."""

    app_id: str
    code: ProblemCode
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Proposal:
    """Proposed experts per application, problems, and each expert's resulting load."""

    assignments: dict[str, list[str]]
    problems: list[Problem]
    loads: dict[str, int]


def conflict_reasons(app: AppInfo, expert: ExpertInfo,
                     conflicts: Collection[tuple[str, str]]) -> list[Reason]:
    """Every reason this expert may not score this application (empty: eligible)."""
    reasons: list[Reason] = []
    organization = _norm(expert.organization)
    if organization is not None and organization == _norm(app.organization):
        reasons.append(Reason.SAME_ORGANIZATION)
    region = _norm(expert.region)
    if region is not None and region == _norm(app.region):
        reasons.append(Reason.SAME_REGION)
    if (expert.userid, app.id) in conflicts:
        reasons.append(Reason.DECLARED_CONFLICT)
    return reasons


def propose_assignment(applications: Sequence[AppInfo], experts: Sequence[ExpertInfo],
                       per_application: int, conflicts: set[tuple[str, str]],
                       existing_load: Mapping[str, int] | None = None) -> Proposal:
    """Assign per_application eligible experts to each application, balancing load."""
    if per_application < 1:
        raise ValueError("per_application must be >= 1")
    apps = _sorted_unique(applications, lambda a: a.id, "application")
    pool = _sorted_unique(experts, lambda e: e.userid, "expert")
    conflicts = set(conflicts)
    load = {e.userid: (existing_load or {}).get(e.userid, 0) for e in pool}
    eligible: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for app in apps:
        excluded = [(e.userid, conflict_reasons(app, e, conflicts)) for e in pool]
        eligible[app.id] = [userid for userid, reasons in excluded if not reasons]
        if len(eligible[app.id]) < per_application:
            problems.append(Problem(app.id, ProblemCode.NOT_ENOUGH_ELIGIBLE, {
                "required": per_application,
                "eligible": len(eligible[app.id]),
                "eligible_experts": list(eligible[app.id]),
                "excluded": [{"userid": u, "reasons": [str(r) for r in reasons]}
                             for u, reasons in excluded if reasons],
            }))
    chosen: dict[str, set[str]] = {app.id: set() for app in apps}
    # Most constrained first so scarce experts are not used up by easy applications.
    for app in sorted(apps, key=lambda a: (len(eligible[a.id]), a.id)):
        need = min(per_application, len(eligible[app.id]))
        for userid in sorted(eligible[app.id], key=lambda u: (load[u], u))[:need]:
            chosen[app.id].add(userid)
            load[userid] += 1
    _rebalance(chosen, eligible, load)
    assignments = {app.id: sorted(chosen[app.id]) for app in apps}
    return Proposal(assignments, problems, dict(sorted(load.items())))


def check_assignment(applications: Sequence[AppInfo], experts: Sequence[ExpertInfo],
                     assignments: Mapping[str, Sequence[str]], per_application: int,
                     conflicts: set[tuple[str, str]]) -> list[Problem]:
    """Every rule an edited assignment breaks, per application (empty: valid)."""
    apps = {a.id: a for a in applications}
    pool = {e.userid: e for e in experts}
    problems: list[Problem] = []
    for app_id in sorted(set(apps) | set(assignments)):
        if app_id not in apps:
            problems.append(Problem(app_id, ProblemCode.UNKNOWN_APPLICATION, {}))
            continue
        userids = list(assignments.get(app_id, ()))
        for userid in sorted(set(userids)):
            if userids.count(userid) > 1:
                problems.append(Problem(app_id, ProblemCode.DUPLICATE_EXPERT, {"userid": userid}))
            if userid not in pool:
                problems.append(Problem(app_id, ProblemCode.UNKNOWN_EXPERT, {"userid": userid}))
                continue
            for reason in conflict_reasons(apps[app_id], pool[userid], conflicts):
                problems.append(Problem(app_id, ProblemCode(reason.value), {"userid": userid}))
        count = len(set(userids))
        if count < per_application:
            problems.append(Problem(app_id, ProblemCode.TOO_FEW_EXPERTS,
                                    {"assigned": count, "required": per_application}))
        elif count > per_application:
            problems.append(Problem(app_id, ProblemCode.TOO_MANY_EXPERTS,
                                    {"assigned": count, "required": per_application}))
    return problems


def loads(assignments: Mapping[str, Sequence[str]],
          existing_load: Mapping[str, int] | None = None) -> dict[str, int]:
    """Each expert's load: existing load plus applications in this assignment."""
    result = dict(existing_load or {})
    for userids in assignments.values():
        for userid in set(userids):
            result[userid] = result.get(userid, 0) + 1
    return dict(sorted(result.items()))


def _rebalance(chosen: dict[str, set[str]], eligible: dict[str, list[str]],
               load: dict[str, int]) -> None:
    # Each move shifts one unit from an expert to one carrying >= 2 less, which
    # strictly lowers the sum of squared loads, so the loop terminates.
    while True:
        for source in sorted(load, key=lambda u: (-load[u], u)):
            path = _exchange_path(source, chosen, eligible, load)
            if path:
                for app_id, old, new in path:
                    chosen[app_id].remove(old)
                    chosen[app_id].add(new)
                load[source] -= 1
                load[path[-1][2]] += 1
                break
        else:
            return


def _exchange_path(source: str, chosen: dict[str, set[str]], eligible: dict[str, list[str]],
                   load: dict[str, int]) -> list[tuple[str, str, str]] | None:
    # Breadth-first over "hand one of my applications to an eligible expert not
    # on it"; the shortest path uses each application at most once.
    previous: dict[str, tuple[str, str]] = {source: ("", "")}
    queue = deque([source])
    reached: list[str] = []
    while queue:
        expert = queue.popleft()
        for app_id in sorted(a for a, members in chosen.items() if expert in members):
            for other in eligible[app_id]:
                if other in previous or other in chosen[app_id]:
                    continue
                previous[other] = (expert, app_id)
                queue.append(other)
                if load[other] <= load[source] - 2:
                    reached.append(other)
    if not reached:
        return None
    target = min(reached, key=lambda u: (load[u], u))
    path: list[tuple[str, str, str]] = []
    node = target
    while node != source:
        expert, app_id = previous[node]
        path.append((app_id, expert, node))
        node = expert
    return path[::-1]


def _norm(value: str | None) -> str | None:
    if value is None:
        return None
    folded = "".join(unicodedata.normalize("NFKC", value).split()).casefold()
    return folded or None


def _sorted_unique(entries: Sequence[_T], key: Callable[[_T], str], kind: str) -> list[_T]:
    ordered = sorted(entries, key=key)
    for a, b in zip(ordered, ordered[1:]):
        if key(a) == key(b):
            raise ValueError(f"duplicate {kind} id {key(a)!r}")
    return ordered
