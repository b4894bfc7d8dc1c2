"""A realistic sample edition advanced to a stage by driving the real workflow services."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import people, stages
from workflows.model import Person
from workflows.settings import Settings

DEMO_ROSTER = Path(__file__).resolve().parent.parent / "data" / "demo_roster.csv"
ACTOR = "sample"

# Each step brings the edition to its stage; steps run in stage order (then `order`) up to the
# stage asked for.  Several modules may contribute steps to one stage.
Step = Callable[[Session, Settings, dt.datetime], None]
STEPS: list[tuple[str, int, Step]] = []
SAMPLE_STAGES = ("apply", "review", "material", "site", "vote", "publicity", "award")


def step(stage: str, order: int = 0) -> Callable[[Step], Step]:
    """Register a function that advances the sample edition towards `stage`."""
    if stage not in SAMPLE_STAGES:
        raise ValueError(f"unknown sample stage {stage!r}")

    def register(fn: Step) -> Step:
        STEPS.append((stage, order, fn))
        STEPS.sort(key=lambda s: (SAMPLE_STAGES.index(s[0]), s[1]))
        return fn
    return register


def ensure_roster(session: Session, now: dt.datetime) -> None:
    """Load the demo roster unless the roster already has enough members."""
    needed = {"secretariat": 1, "recommender": 2, "expert": 5, "committee": 5}
    counts = dict(session.execute(select(Person.role, func.count()).group_by(Person.role)).all())
    if all(counts.get(role, 0) >= n for role, n in needed.items()):
        return
    result = people.import_roster(session, DEMO_ROSTER.read_text(encoding="utf-8"), actor=ACTOR, now=now)
    if result.problems:
        raise RuntimeError(f"demo roster has problems: {result.problems}")


@step("apply")
def to_apply(session: Session, settings: Settings, now: dt.datetime) -> None:
    """Roster loaded; the call, training and application stages open."""
    ensure_roster(session, now)
    for key in ("plan", "committee_meeting"):
        if stages.status(session, settings, key) != "closed":
            stages.close_stage(session, settings, key, actor=ACTOR, now=now)
    for key in ("call", "training", "apply"):
        stages.open_stage(session, settings, key, actor=ACTOR, now=now)


def acting_time(session: Session, settings: Settings, stage: str, now: dt.datetime) -> dt.datetime:
    """When a step that opens `stage` acts: a day before the preceding sample stage's deadline (never after now)."""
    i = SAMPLE_STAGES.index(stage)
    keys = [s.key for s in settings.award.stages]
    previous = SAMPLE_STAGES[i - 1] if i else keys[keys.index(stage) - 1]
    return min(now, stages.deadline(session, settings, previous) - dt.timedelta(days=1))


def stage_names() -> list[str]:
    """The stages the sample can reach, in order."""
    return list(dict.fromkeys(name for name, _, _ in STEPS))


def run(session: Session, settings: Settings, until: str, now: dt.datetime) -> list[str]:
    """Advance the sample edition up to and including `until`; return the stages run."""
    if until not in stage_names():
        raise ValueError(f"unknown stage {until!r}; choose one of {', '.join(stage_names())}")
    limit = SAMPLE_STAGES.index(until)
    reached = {name for name in stage_names() if stages.status(session, settings, name) != "pending"}
    done: list[str] = []
    for name, _, fn in STEPS:
        if SAMPLE_STAGES.index(name) > limit:
            break
        if name in reached:  # already there: running a step twice would duplicate the sample
            continue
        at = acting_time(session, settings, name, now)
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


def _load_steps() -> None:
    """Import each flow's sample steps (bot/samples/<flow>.py registers itself with @step)."""
    from .samples import application, publicity, review, scoring, voting  # noqa: F401


_load_steps()
