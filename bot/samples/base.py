"""What every sample step stands on: the demo roster, the acting time, the stage bookkeeping, the run loop."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import committee
from workflows.core import access, people, stages
from workflows.core.models import Person
from workflows.core.settings import Settings

DEMO_ROSTER = Path(__file__).resolve().parents[2] / "data" / "demo_roster.csv"
ACTOR = "sample"

Step = Callable[[Session, Settings, dt.datetime], None]
SAMPLE_STAGES = ("apply", "review", "material", "site", "vote", "publicity", "award")


class MissingRole(Exception):
    """The imported roster lacks a role the sample needs at this stage (the message says which)."""


# Who each sample step acts as (the step named for the stage it brings the edition to).
STEP_ROLES: dict[str, tuple[str, ...]] = {
    "review": ("recommender",), "material": ("secretariat", "expert_leader", "expert"),
    "site": ("secretariat", "expert_leader", "expert"), "vote": ("secretariat",), "publicity": ("committee",),
    "award": ("secretariat",),
}


def _needs(settings: Settings, steps: list[str]) -> dict[str, int]:
    """How many active members of each role the sample steps `steps` act as."""
    per_app = settings.award.rules.experts_per_application
    return {role: per_app if role == "expert" else 1 for step in steps for role in STEP_ROLES.get(step, ())}


def ensure_roster(session: Session, now: dt.datetime, settings: Settings | None = None,
                  steps: list[str] | None = None) -> None:
    """Load the demo roster into an empty roster; an imported roster is used as it is, or refused.

    The sample never mixes its demo members into a real roster: if members are there, each role the
    sample's `steps` act as must be among them (experts counting group leaders, committee members
    counting the chair, recommenders only for a configured region or department), else `MissingRole`.
    """
    if session.scalar(select(func.count()).select_from(Person).where(Person.active.is_(True))) == 0:
        result = people.import_roster(session, DEMO_ROSTER.read_text(encoding="utf-8"), actor=ACTOR, now=now,
                                      settings=settings)
        if result.problems:
            raise RuntimeError(f"demo roster has problems: {result.problems}")
        return
    if settings is None:
        return
    counts = {role: len(people.with_role(session, role, *[r for r, inc in access.INCLUDES.items() if inc == role]))
              for role in ("secretariat", "expert_leader", "expert", "committee")}
    counts["recommender"] = len(recommending_units(session, settings))
    missing = [f"{role} (needs {n}, has {counts.get(role, 0)})" for role, n in _needs(settings, steps or []).items()
               if counts.get(role, 0) < n]
    if missing:
        raise MissingRole(f"for {', '.join(steps or [])} the roster lacks active members of role " + ", ".join(missing)
                          + " (a recommender counts only for a configured region or department)")


def recommending_units(session: Session, settings: Settings) -> dict[str, str]:
    """Configured units that have an active recommender: unit name -> the first recommender's userid."""
    regions = {r.name for r in settings.award.regions}
    units: dict[str, str] = {}
    for p in people.with_role(session, "recommender"):
        unit = p.region if p.region in regions else p.organization
        if unit in regions or unit in settings.award.departments:
            units.setdefault(unit, p.userid)
    return units


def to_apply(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Roster loaded; stages 1–2 decided (the city approved the plan, the committee adopted its 议事规则); the call,
    training and application stages open."""
    ensure_roster(session, now, settings)
    decide_plan_and_rules(session, settings, now)
    for key in ("plan", "committee_meeting"):
        if stages.status(session, settings, key) != "closed":
            stages.close_stage(session, settings, key, actor=ACTOR, now=now)
    for key in ("call", "training", "apply"):
        stages.open_stage(session, settings, key, actor=ACTOR, now=now)


def decide_plan_and_rules(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Stages 1 and 2 as decisions: the city's approval of the 实施方案 and the 议事规则 (the configured defaults)."""
    day = now.astimezone(settings.award.tz).date()
    if committee.plan_approval(session, settings) is None:
        committee.record_plan_approval(session, settings, actor=ACTOR, now=now, approved_on=day,
                                       document_number="韶府函〔示例〕0号")
    if committee.latest_meeting(session, settings) is None:
        members = [p.name or p.userid for p in people.with_role(session, "committee", "committee_chair")]
        committee.record_meeting(session, settings, actor=ACTOR, now=now, held_on=day, attendees=members or [ACTOR],
                                 decisions="审议通过评审委员会议事规则（示例）：按配置的投票规则进行无记名投票。",
                                 minutes_ref="评审委员会第1次会议纪要（示例）")


def sign_pledges(session: Session, settings: Settings, now: dt.datetime, roles: Sequence[str]) -> None:
    """§五(三): when the sample's work reaches them, the members of `roles` who sign the confidentiality pledge
    (a committee's chair with its members) are sent it and accept it."""
    from workflows.core import pledges
    wanted = {*roles, *(("committee_chair",) if "committee" in roles else ())} & set(settings.award.pledges.roles)
    for person in people.with_role(session, *wanted):
        pledges.ask(session, settings, person.userid, now)
        row = pledges.of(session, settings, person.userid)
        if row is not None and row.status != "accepted":
            pledges.accept(session, settings, actor=person.userid, now=now)


def acting_time(session: Session, settings: Settings, stage: str, now: dt.datetime) -> dt.datetime:
    """When a step that opens `stage` acts: a day before the preceding sample stage's deadline (never after now)."""
    i = SAMPLE_STAGES.index(stage)
    keys = [s.key for s in settings.award.stages]
    previous = SAMPLE_STAGES[i - 1] if i else keys[keys.index(stage) - 1]
    return min(now, stages.deadline(session, settings, previous) - dt.timedelta(days=1))


def run_steps(session: Session, settings: Settings, steps: Sequence[tuple[str, Step]], until: str,
              now: dt.datetime) -> list[str]:
    """Run `steps` (stage, function; in stage order) up to and including `until`; return the stages run."""
    names = list(dict.fromkeys(name for name, _ in steps))
    if until not in names:
        raise ValueError(f"unknown stage {until!r}; choose one of {', '.join(names)}")
    limit = SAMPLE_STAGES.index(until)
    reached = {name for name in names if stages.status(session, settings, name) != "pending"}
    todo = [name for name in names if name not in reached and SAMPLE_STAGES.index(name) <= limit]
    ensure_roster(session, now, settings, todo)  # refuses before anything is done if a role is missing
    done: list[str] = []
    for name, fn in steps:
        if SAMPLE_STAGES.index(name) > limit:
            break
        if name in reached:  # already there: running a step twice would duplicate the sample
            continue
        at = acting_time(session, settings, name, now)
        sign_pledges(session, settings, at, STEP_ROLES.get(name, ()))
        fn(session, settings, at)
        if name not in done:
            done.append(name)
        _close_earlier(session, settings, name, at)
    return done


def _close_earlier(session: Session, settings: Settings, stage: str, now: dt.datetime) -> None:
    """Close the stages before `stage` that are still open (the sample moved past them)."""
    keys = [s.key for s in settings.award.stages]
    for key in keys[: keys.index(stage)]:
        if stages.status(session, settings, key) == "open":
            stages.close_stage(session, settings, key, actor=ACTOR, now=now)
