"""An enterprise's application for an edition, and the documents it submits."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class AppStatus(StrEnum):
    """Where an application stands."""

    DRAFT = "draft"                    # being filled in by the applicant
    INELIGIBLE = "ineligible"          # ended by a must-yes eligibility answer
    SUBMITTED = "submitted"            # waiting for the recommending unit
    RETURNED = "returned"              # 退回修改: editable again
    NOT_RECOMMENDED = "not_recommended"
    RECOMMENDED = "recommended"        # waiting for the secretariat's formal review
    SUPPLEMENT = "supplement"          # 需补正: applicant owes items
    ACCEPTED = "accepted"              # 受理: goes to expert review
    REJECTED = "rejected"              # 不予受理


class Application(Base):
    """One enterprise's application (one per credit code and per applicant in an edition)."""

    __tablename__ = "application"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[str | None] = mapped_column(String(32))  # unique per edition (workflows.core.numbers)
    applicant: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    status: Mapped[str] = mapped_column(String(24), default=AppStatus.DRAFT, index=True)
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    # [seed §二 具有法人资格] the enterprise type chosen ([[award.enterprise_types]] key); legal_person follows from it
    enterprise_type: Mapped[str | None] = mapped_column(String(40))
    legal_person: Mapped[bool | None]
    region_code: Mapped[str | None] = mapped_column(String(6))
    department: Mapped[str | None] = mapped_column(String(100))
    # [seed §三(五)] a county recommends its own enterprises; a city department recommends with a recorded reason
    unit_reason: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    eligibility: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None]
    round: Mapped[int] = mapped_column(default=0)  # how many times it was submitted
    returned_reason: Mapped[str | None] = mapped_column(Text)

    documents: Mapped[list["Document"]] = relationship(back_populates="application", order_by="Document.id")

    __table_args__ = (
        UniqueConstraint("edition", "credit_code"),
        UniqueConstraint("edition", "applicant"),
        UniqueConstraint("edition", "number"),
        UniqueConstraint("id", "edition"),  # the target of of_application(): a child's edition is its application's
    )


def of_application(column: str = "application_id") -> ForeignKeyConstraint:
    """The foreign key of a row that belongs to an application: (column, edition) → (application.id, .edition).

    Every table whose rows belong to an application carries the edition itself (so every query can
    filter by it) and this key makes the database refuse a row whose edition is not its application's.
    """
    return ForeignKeyConstraint([column, "edition"], ["application.id", "application.edition"])


class DocStatus(StrEnum):
    """The state of one received file."""

    RECEIVED = "received"
    REPLACED = "replaced"    # a later upload for the same item took its place
    REJECTED = "rejected"    # refused in formal review (reason given)


class Decision(StrEnum):
    """A recommending unit's decision (推荐 / 不推荐 / 退回修改)."""

    RECOMMEND = "recommend"
    NOT_RECOMMEND = "not_recommend"
    RETURN = "return"


class Recommendation(Base):
    """The recommending unit's opinion on one submission (round) of an application."""

    __tablename__ = "recommendation"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    round: Mapped[int]
    recommender: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    unit: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(16))
    opinion: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="awaiting_opinion")  # → "done"
    decided_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]

    __table_args__ = (UniqueConstraint("application_id", "round"), of_application())


class Document(Base):
    """A file received for one material item; the bytes live in the content-addressed store."""

    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    original_name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="received")
    reason: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    uploaded_at: Mapped[dt.datetime]

    application: Mapped[Application] = relationship(back_populates="documents")

    __table_args__ = (of_application(),)
