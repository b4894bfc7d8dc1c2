"""Read-only views of the vote: who has voted (never for whom), and who still owes a ballot."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.voting.models import Ballot, CommitteeDeclaration, Participation
from workflows.core.models import Person
from workflows.core.settings import Settings


@dataclass(frozen=True)
class NonVoter:
    """A member who has not voted in an open round yet (for reminders)."""

    member: str
    ballot_id: int
    closes_at: dt.datetime


def non_voters(session: Session, settings: Settings) -> list[NonVoter]:
    """Members who still owe a ballot in an open round, with that round's closing time."""
    rows = session.execute(
        select(Participation.member, Ballot.id, Ballot.closes_at)
        .join(Ballot, Ballot.id == Participation.ballot_id)
        .where(Ballot.edition == settings.award.edition_key, Ballot.status == "open",
               Participation.recused.is_(False), Participation.voted_at.is_(None))
        .order_by(Ballot.id, Participation.member))
    return [NonVoter(member, ballot_id, closes_at) for member, ballot_id, closes_at in rows]


@dataclass(frozen=True)
class MemberTurnout:
    """One member's participation in a round, as the secretariat sees it."""

    member: str
    name: str
    voted_at: dt.datetime | None
    recused: bool
    excluded: tuple[int, ...]


def turnout(session: Session, ballot_id: int) -> list[MemberTurnout]:
    """Who has voted in a round and when (the secretariat chases non-voters with it)."""
    rows = session.execute(
        select(Participation, Person.name).join(Person, Person.userid == Participation.member, isouter=True)
        .where(Participation.ballot_id == ballot_id).order_by(Participation.member))
    return [MemberTurnout(p.member, name or p.member, p.voted_at, p.recused, tuple(p.excluded)) for p, name in rows]


def undeclared(session: Session, settings: Settings, members: list[str], candidate_ids: list[int]) -> list[str]:
    """The members whose own declaration of interests does not cover every one of these candidates."""
    rows = {d.member: set(d.candidates) for d in session.scalars(select(CommitteeDeclaration).where(
        CommitteeDeclaration.edition == settings.award.edition_key))}
    return [m for m in members if not set(candidate_ids) <= rows.get(m, set())]
