"""Formal review (形式审查) of an application: the review, its findings, and supplement requests (补正)."""
from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.apply.models import of_application
from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class ReviewStatus(StrEnum):
    """Where a formal review stands."""

    OPEN = "open"              # waiting for the secretariat
    SUPPLEMENT = "supplement"  # a supplement request is open
    ACCEPTED = "accepted"      # 受理 (final)
    REJECTED = "rejected"      # 不予受理 (final)


class FormalReview(Base):
    """The secretariat's formal review of one application; decided once."""

    __tablename__ = "formal_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.OPEN, index=True)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    decided_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    findings: Mapped[list["Finding"]] = relationship(back_populates="review", order_by="Finding.id",
                                                     cascade="all, delete-orphan")
    requests: Mapped[list["SupplementRequest"]] = relationship(back_populates="review",
                                                               order_by="SupplementRequest.round")

    __table_args__ = (of_application(),)


class Finding(Base):
    """One observation on an application: automatic (completeness rules) or by the secretariat."""

    __tablename__ = "review_finding"
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("formal_review.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))      # "auto" or "secretariat"
    kind: Mapped[str] = mapped_column(String(24))        # missing, rejected, type, size, insufficient, authenticity
    item_key: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    created_at: Mapped[dt.datetime]

    review: Mapped[FormalReview] = relationship(back_populates="findings")


class SupplementRequest(Base):
    """A request to supplement (补正) named items by a deadline; one per review round."""

    __tablename__ = "supplement_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("formal_review.id"), index=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    round: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open, supplied, expired, cancelled
    deadline: Mapped[dt.datetime]
    requested_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]

    review: Mapped[FormalReview] = relationship(back_populates="requests")
    items: Mapped[list["SupplementItem"]] = relationship(back_populates="request", order_by="SupplementItem.id",
                                                        cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("application_id", "round"), of_application())


class SupplementItem(Base):
    """One material item the applicant owes, with the secretariat's reason."""

    __tablename__ = "supplement_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("supplement_request.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, supplied
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    supplied_at: Mapped[dt.datetime | None]

    request: Mapped[SupplementRequest] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("request_id", "item_key"),)
