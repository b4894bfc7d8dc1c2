"""The committee's meetings, the vote rules they adopt, and its 破格 admissions below the material gate."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class CommitteeMeeting(Base):
    """A recorded committee meeting (the first one, stage 2, adopts the 议事规则): date, attendees, decisions."""

    __tablename__ = "committee_meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    held_on: Mapped[str] = mapped_column(String(10))          # local calendar day, ISO
    attendees: Mapped[list[Any]] = mapped_column(default=list)  # names (or userids) as written in the minutes
    decisions: Mapped[str] = mapped_column(Text, default="")
    minutes_ref: Mapped[str] = mapped_column(String(200), default="")  # the minutes or document adopting the rules
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]


class PlanApproval(Base):
    """Stage 1: the city government's approval of the edition's 实施方案 (报市政府批准实施): document and date."""

    __tablename__ = "plan_approval"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), unique=True)
    document_number: Mapped[str] = mapped_column(String(100))
    approved_on: Mapped[str] = mapped_column(String(10))     # local calendar day, ISO
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]


class VoteRulesRecord(Base):
    """The vote rules a meeting adopted; the newest row of an edition is in force (older ones are history)."""

    __tablename__ = "committee_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("committee_meeting.id"), index=True)
    quorum: Mapped[str] = mapped_column(String(16))
    picks: Mapped[int | None]                     # how many each member ticks in round 1 (None: the seats)
    runoff: Mapped[bool] = mapped_column(default=True)   # a tie at the last seat opens a runoff round
    runoff_hours: Mapped[int]
    conflict_policy: Mapped[str] = mapped_column(String(16))
    allow_ballot_change: Mapped[bool] = mapped_column(default=False)
    majority: Mapped[str | None] = mapped_column(String(16))    # a winner needs more than this share (None: config)
    shortfall: Mapped[str | None] = mapped_column(String(16))   # runoff | vacant (None: config)
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]


class GateAdmission(Base):
    """The committee's decision to admit an application below the material gate (破格), with its reason."""

    __tablename__ = "gate_admission"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    decided_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "application_id"),)


class CommitteeAppointment(Base):
    """A member's appointment to the committee (who, in which office, by which document, from when); the member
    whose office is the configured chair office (由分管副市长为主任) chairs it."""

    __tablename__ = "committee_appointment"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    userid: Mapped[str] = mapped_column(String(128))
    office: Mapped[str] = mapped_column(String(100))            # 分管副市长, 市市场监管局局长 …
    document: Mapped[str] = mapped_column(String(200))          # the appointing document, e.g. 韶府办函〔2018〕56号
    effective_from: Mapped[str] = mapped_column(String(10))     # local calendar day, ISO
    chair: Mapped[bool] = mapped_column(default=False)
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "userid"),)
