"""Reminder provider of stage 2: the secretariat owes the record of the committee's first meeting (议事规则)."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy.orm import Session

from workflows.committee.rules import latest_meeting
from workflows.core.reminders import Obligation, milestone
from workflows.core.settings import Settings


def meeting_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """The secretariat, until a committee meeting (and its 议事规则) is recorded, by the stage's deadline."""
    if latest_meeting(session, settings) is None:
        yield from milestone(session, settings, "committee_meeting", "committee_meeting")
