"""Stages 3–4: where the call for applications was published; the training event, its sign-ups and attendance."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class CallPublication(Base):
    """One publication of the call for applications (征集公告): channel, day, link; recorded by the secretariat."""

    __tablename__ = "call_publication"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    published_on: Mapped[dt.date]
    link: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]


class TrainingEvent(Base):
    """The 宣贯会暨培训 of an edition (one per edition)."""

    __tablename__ = "training_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime]
    place: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    created_at: Mapped[dt.datetime]


class TrainingSignup(Base):
    """A member's sign-up for the training: who, for which unit, how many people; attendance when recorded."""

    __tablename__ = "training_signup"
    __table_args__ = (UniqueConstraint("event_id", "userid", name="uq_training_signup"),
                      Index("ix_training_signup_event", "event_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("training_event.id"))
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))    # a linked-corp contact is CorpID/UserID
    name: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")      # enterprise or recommending unit
    area: Mapped[str] = mapped_column(String(100), default="")      # region or department (for the report)
    count: Mapped[int] = mapped_column(default=0)                   # 0: declined
    signed_at: Mapped[dt.datetime]
    attended: Mapped[int | None] = mapped_column(default=None)      # people who came (None: not recorded)
    attended_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class TrainingMaterial(Base):
    """A course file sent to the people signed up (stored in the document store under its SHA-256)."""

    __tablename__ = "training_material"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("training_event.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    sent_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    sent_at: Mapped[dt.datetime]
