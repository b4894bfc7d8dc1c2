"""A realistic sample edition advanced to a stage by driving the real workflow services.

`STEPS` is the whole sample in order: each step brings the edition to its stage (several steps may
serve one stage). The steps live in `bot/samples/<flow>.py`; what they share is in `bot/samples/base.py`.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from workflows.core.settings import Settings

from .samples import application, publicity, review, scoring, voting
from .samples.base import ACTOR, DEMO_ROSTER, SAMPLE_STAGES, MissingRole, Step, ensure_roster, run_steps, to_apply

__all__ = ["ACTOR", "DEMO_ROSTER", "MissingRole", "SAMPLE_STAGES", "STEPS", "ensure_roster", "run", "stage_names"]

STEPS: tuple[tuple[str, Step], ...] = (
    ("apply", to_apply),
    ("review", application.applications_endorsed),
    ("material", review.accept_recommended),
    ("material", scoring.to_material),
    ("site", scoring.to_site),
    ("vote", scoring.to_vote),
    ("publicity", voting.committee_vote),
    ("award", publicity.to_award),
)


def stage_names() -> list[str]:
    """The stages the sample can reach, in order."""
    return list(dict.fromkeys(name for name, _ in STEPS))


def run(session: Session, settings: Settings, until: str, now: dt.datetime) -> list[str]:
    """Advance the sample edition up to and including `until`; return the stages run."""
    return run_steps(session, settings, STEPS, until, now)
