"""What the committee vote owes, for the reminder sweep: members who have not voted in an open round."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy.orm import Session

from workflows.core.reminders import Obligation, deadline_key
from workflows.core.settings import Settings
from workflows.voting.queries import non_voters


def ballots_owed(session: Session, settings: Settings) -> Iterator[Obligation]:
    """Committee members who have not voted in an open round, by its closing time."""
    for nv in non_voters(session, settings):
        yield Obligation(recipient=nv.member, stage="vote",
                         deadline_key=deadline_key("ballot", nv.closes_at, nv.ballot_id),
                         deadline=nv.closes_at, kind="remind.vote", data={"ballot_id": nv.ballot_id})
