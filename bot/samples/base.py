"""What every sample step stands on: the demo roster, the acting time, the stage bookkeeping, the run loop."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core import people, stages
from workflows.core.models import Person
from workflows.core.settings import Settings

DEMO_ROSTER = Path(__file__).resolve().parents[2] / "data" / "demo_roster.csv"
ACTOR = "sample"

Step = Callable[[Session, Settings, dt.datetime], None]
SAMPLE_STAGES = ("apply", "review", "material", "site", "vote", "publicity", "award")


def ensure_roster(session: Session, now: dt.datetime) -> None:
    """Load the demo roster unless the roster already has enough members."""
    needed = {"secretariat": 1, "recommender": 2, "expert": 5, "committee": 5}
    counts = dict(session.execute(select(Person.role, func.count()).group_by(Person.role)).all())
    if all(counts.get(role, 0) >= n for role, n in needed.items()):
        return
    result = people.import_roster(session, DEMO_ROSTER.read_text(encoding="utf-8"), actor=ACTOR, now=now)
    if result.problems:
        raise RuntimeError(f"demo roster has problems: {result.problems}")


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


def run_steps(session: Session, settings: Settings, steps: Sequence[tuple[str, Step]], until: str,
              now: dt.datetime) -> list[str]:
    """Run `steps` (stage, function; in stage order) up to and including `until`; return the stages run."""
    names = list(dict.fromkeys(name for name, _ in steps))
    if until not in names:
        raise ValueError(f"unknown stage {until!r}; choose one of {', '.join(names)}")
    limit = SAMPLE_STAGES.index(until)
    reached = {name for name in names if stages.status(session, settings, name) != "pending"}
    done: list[str] = []
    for name, fn in steps:
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
