"""Tables every flow shares: people, conversations, callbacks, outbox, audit, stages, reminders."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from workflows.core.base import Base

# A member id: the corp's own UserID (≤ 64 bytes) or a linked-corp member's "CorpID/UserID".
MEMBER_ID_MAX = 128
ROLES = ("secretariat", "recommender", "expert", "expert_leader", "committee", "committee_chair", "agency")


class Person(Base):
    """A roster member (applicants are not in the roster)."""

    __tablename__ = "person"
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32), index=True)
    organization: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime]


class Conversation(Base):
    """Where a member is in a guided flow; lives in the database so restarts continue it."""

    __tablename__ = "conversation"
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime]


class InboundCallback(Base):
    """Every accepted callback, de-duplicated so WeCom's retries act once."""

    __tablename__ = "inbound_callback"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="done")  # pending|done|refused|error
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The routing worker's queue: the few callbacks recorded but not yet routed, by member and order.
        Index("ix_inbound_pending", "userid", "id", sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )


class OutboxMessage(Base):
    """A WeCom API call decided in a transaction and delivered later by the sender."""

    __tablename__ = "outbox_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    kind: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    action: Mapped[str] = mapped_column(String(24), default="send")
    payload: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_until: Mapped[dt.datetime | None]
    # Who holds the claim: the sender that claimed the row records its outcome only while this is still its token.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # A sent message's body as WeCom's duplicate check sees it (sha256 of its canonical JSON), set when claimed.
    body_key: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_sent", "recipient", "sent_at"),
    )


class CardTask(Base):
    """An interactive card we sent: its task id, what it is about, and whether it is still open."""

    __tablename__ = "card_task"
    task_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class Confirmation(Base):
    """An action a member asked for, waiting for them to confirm it on a card (see bot/confirm.py)."""

    __tablename__ = "confirmation"
    id: Mapped[int] = mapped_column(primary_key=True)
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    task_id: Mapped[str | None] = mapped_column(String(128))   # the confirmation card
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|confirmed|cancelled|superseded|failed
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]


class WecomToken(Base):
    """The shared access token cache (one row per corp/app)."""

    __tablename__ = "wecom_token"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    token: Mapped[str] = mapped_column(String(600))
    expires_at: Mapped[dt.datetime]
    generation: Mapped[int] = mapped_column(default=0)


class AuditEntry(Base):
    """One line of the append-only, hash-chained audit log."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str] = mapped_column(String(100), default="", index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class StageState(Base):
    """Whether a stage of an edition is open, and its deadline if extended for everyone."""

    __tablename__ = "stage_state"
    edition: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    opened_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    deadline: Mapped[dt.datetime | None]


class DeadlineExtension(Base):
    """A secretariat's extension of one stage's deadline for one subject (e.g. an application)."""

    __tablename__ = "deadline_extension"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(100))
    deadline: Mapped[dt.datetime]
    by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime]

    __table_args__ = (Index("ix_extension_lookup", "edition", "stage", "subject"),)


class StageWaiter(Base):
    """Someone told "开始时我们会通知您" while a stage was not open yet; told once when it opens."""

    __tablename__ = "stage_waiter"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32))
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    word: Mapped[str] = mapped_column(String(40), default="")  # what they tried (a chat word), if known
    created_at: Mapped[dt.datetime]
    notified_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("edition", "stage", "userid"),)


class ReminderSent(Base):
    """One reminder: unique per edition × deadline × offset × recipient, so it goes out once."""

    __tablename__ = "reminder_sent"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    deadline_key: Mapped[str] = mapped_column(String(160))
    offset: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    due_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "deadline_key", "offset", "recipient"),)


class NumberCounter(Base):
    """The last number handed out for one kind of record (application, complaint) in one edition."""

    __tablename__ = "number_counter"
    edition: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    issued: Mapped[int] = mapped_column(default=0)


class UploadedMedia(Base):
    """A document already uploaded to WeCom: its media_id is reused while valid (WeCom keeps it 3 days)."""

    __tablename__ = "uploaded_media"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), primary_key=True)
    media_id: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[dt.datetime]


class DirectoryName(Base):
    """A member's name from the WeCom directory (user/get), fetched once outside any request."""

    __tablename__ = "directory_name"
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[dt.datetime | None]


class ConfidentialityPledge(Base):
    """§五(三) 参与推荐和评审的人员…保守秘密: one member's confidentiality pledge for an edition (recommending
    units' contacts, committee members, the agency; drawn experts pledge through the draw)."""

    __tablename__ = "confidentiality_pledge"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    userid: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    role: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))          # asked | accepted
    asked_at: Mapped[dt.datetime]
    answered_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("edition", "userid"),)
