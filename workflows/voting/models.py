"""Committee vote tables. Who voted (Participation) and what was chosen are kept apart.

While a round is open a member's paper is a SealedPaper: the choice encrypted under the round's key
FILE (not in the database), filed under an HMAC of the member id under that key.  At the final close
the papers are opened, written as plaintext Choice rows in one transaction in random order with
random ids, the sealed rows deleted and the key file shredded (docs/voting.md, 投票保密).
Choice has no member column, no timestamp and no insertion-ordered key.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.apply.models import of_application
from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class Ballot(Base):
    """One round of the committee vote (round 1, or a runoff among tied candidates)."""

    __tablename__ = "ballot"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    series_id: Mapped[int | None] = mapped_column(index=True)      # the first round's id (itself for round 1)
    round_no: Mapped[int] = mapped_column(default=1)
    runoff_of: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))
    seats: Mapped[int]
    candidates: Mapped[list[Any]]                                 # [{application_id, enterprise_name, composite, material, site}]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open|closed|no_quorum
    outcome: Mapped[str | None] = mapped_column(String(24))       # decided|runoff_needed|deadlocked|no_quorum
    result: Mapped[dict[str, Any] | None]                         # the recorded tally, sealed until close
    opened_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    opened_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    # Why the vote was held: `award` (the committee vote on the final top candidates, with its runoffs) or
    # `replacement` (a place emptied by an upheld complaint, among the remaining ranked candidates).
    purpose: Mapped[str] = mapped_column(String(16), default="award", server_default="award")
    context: Mapped[dict[str, Any] | None]                        # replacement: {complaint, position, removed}
    # The committee's own decision on a deadlocked tie (recorded by the chair): {winners, reason, by, at}.
    decision: Mapped[dict[str, Any] | None]


class Participation(Base):
    """A member's place in one round: what was offered, whether and when they voted (not for whom)."""

    __tablename__ = "ballot_participation"
    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), index=True)
    member: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    offered: Mapped[list[Any]]                                    # option ids offered to this member
    excluded: Mapped[list[Any]]                                   # application ids left out for a declared conflict
    required: Mapped[int]
    recused: Mapped[bool] = mapped_column(default=False)          # no real choice left after exclusions
    task_id: Mapped[str | None] = mapped_column(String(128))      # the member's current ballot card
    voted_at: Mapped[dt.datetime | None]
    receipt_hash: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("ballot_id", "member"),)


class Choice(Base):
    """One option marked on one anonymous ballot paper."""

    __tablename__ = "ballot_choice"
    paper_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), index=True)

    # No rowid on SQLite: rows are stored in random paper-id order, not in the order they were cast.
    __table_args__ = ({"sqlite_with_rowid": False},)


class SealedPaper(Base):
    """A member's paper while the round is open: unreadable and unlinkable without the round's key file."""

    __tablename__ = "ballot_seal"
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), primary_key=True)
    slot: Mapped[str] = mapped_column(String(64), primary_key=True)   # HMAC(round key, member id)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)                  # nonce + AES-GCM(padded choice)

    __table_args__ = ({"sqlite_with_rowid": False},)


class VoteConflict(Base):
    """A committee member's declared conflict with an application (回避), recorded by the secretariat."""

    __tablename__ = "vote_conflict"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    member: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    application_id: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    declared_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    declared_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "member", "application_id"), of_application())


class CommitteeDeclaration(Base):
    """A committee member's own declaration of interests before the vote opens (§五(三)): the candidates it
    covers and those he has a conflict with (each also a VoteConflict declared by himself)."""

    __tablename__ = "committee_declaration"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    member: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    candidates: Mapped[list[Any]] = mapped_column(default=list)   # application ids the declaration covers
    conflicts: Mapped[list[Any]] = mapped_column(default=list)    # application ids he declared a conflict with
    declared_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "member"),)
