"""Public notice (公示), complaints (投诉) and their verification, approval and award records."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflows.apply.models import of_application
from workflows.core.base import Base
from workflows.core.models import MEMBER_ID_MAX


class Publicity(Base):
    """The public notice of an edition's proposed winners (one per edition)."""

    __tablename__ = "publicity"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), unique=True)
    start: Mapped[dt.datetime]
    end: Mapped[dt.datetime]            # first instant after the window (half-open)
    last_day: Mapped[str] = mapped_column(String(10))   # local calendar day, ISO
    days: Mapped[int]
    winners: Mapped[list[Any]] = mapped_column(default=list)    # application ids, rank order (current)
    reserve: Mapped[list[Any]] = mapped_column(default=list)    # next-ranked application ids, in order
    removed: Mapped[list[Any]] = mapped_column(default=list)    # removed after an upheld complaint
    started_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    report_sent_at: Mapped[dt.datetime | None]
    report_sent_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))


class Complaint(Base):
    """One complaint against a proposed winner; a draft until submitted (then it has a number).

    `channel` says how it arrived: `chat` (a member, `投诉`), `web` (the public page; `complainant` is the
    reserved actor `public`), or offline — `letter`, `call`, `visit` — registered by the secretariat
    (`complainant` is `offline`, `registered_by` the member who registered it, `received_on` the day).
    """

    __tablename__ = "complaint"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[str | None] = mapped_column(String(32))  # unique per edition (workflows.core.numbers)
    publicity_id: Mapped[int] = mapped_column(ForeignKey("publicity.id"), index=True)
    application_id: Mapped[int] = mapped_column(index=True)
    complainant: Mapped[str] = mapped_column(String(MEMBER_ID_MAX), index=True)
    content: Mapped[str] = mapped_column(Text)
    real_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="draft")   # draft | submitted | concluded
    created_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None]
    findings: Mapped[str | None] = mapped_column(Text)
    upheld: Mapped[bool | None]
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))   # keep | replace | vacant (upheld only)
    replacement_id: Mapped[int | None]
    concluded_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    concluded_at: Mapped[dt.datetime | None]
    channel: Mapped[str] = mapped_column(String(16), default="chat", server_default="chat")
    received_on: Mapped[str | None] = mapped_column(String(10))        # offline: the local day it came in
    registered_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))

    __table_args__ = (UniqueConstraint("edition", "number"), of_application(), of_application("replacement_id"))


class ComplaintEvidence(Base):
    """A file sent in chat as evidence for a complaint; bytes live in the document store."""

    __tablename__ = "complaint_evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    original_name: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("complaint_id", "sha256"),)


class ComplaintAttempt(Base):
    """One submission of the public complaint page, kept to limit submissions per address and per phone.

    The address and the phone are stored only as keyed hashes (the bot's HMAC), never as they were typed.
    """

    __tablename__ = "complaint_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    ip_key: Mapped[str] = mapped_column(String(64), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(40))   # lodged | refused:<code>
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    # The served form's nonce, set only on the lodged attempt: one form lodges one complaint, even when
    # it is sent twice at once (a double tap, a reload).
    form_nonce: Mapped[str | None] = mapped_column(String(32), unique=True)


class Approval(Base):
    """The city government's approval of the winner list (one per edition)."""

    __tablename__ = "approval"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), unique=True)
    approved_on: Mapped[str] = mapped_column(String(10))   # the document's date, ISO
    document_number: Mapped[str] = mapped_column(String(100))
    approved: Mapped[list[Any]] = mapped_column(default=list)   # application ids
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]
    announced_at: Mapped[dt.datetime | None]
    announced_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))


class AwardRecord(Base):
    """What one winner receives (plaque, certificate, prize) and whether the prize is paid."""

    __tablename__ = "award_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[int]
    plaque: Mapped[bool] = mapped_column(default=True)
    certificate: Mapped[bool] = mapped_column(default=True)
    prize_yuan: Mapped[int]
    payment_status: Mapped[str] = mapped_column(String(16), default="pending")   # pending | paid
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[dt.datetime | None]
    # seed §四 颁发奖牌和证书: the day each was handed over (local ISO day; None: not yet)
    plaque_issued_on: Mapped[str | None] = mapped_column(String(10))
    certificate_issued_on: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "application_id"), of_application())


class PlaceDecision(Base):
    """A winner's removal proposed after an upheld complaint, and the committee's decision on it.

    The secretariat's 核查 only refers the winner and its place (`pending`; the winner stays listed); the
    committee decides (`kept`: the winner stays; else it is removed and the place is filled by `replace`, the
    next ranked candidate, or left `vacant`), the chair confirming by card, or holds a new vote round among the remaining
    ranked candidates (`voting`, `ballot_id`) whose winner then takes the place (`replace`).  A replacement is published with its own
    notice window (`start`..`end`, last local day `last_day`), during which complaints about it are taken.
    A place the city's approval left out (`cause = "approval"`, no complaint) is referred the same way; the
    committee decides `vacant`, `replace` or `vote` (not `kept`: the city decided), and a replacement then
    needs the city's supplementary approval.
    """

    __tablename__ = "place_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    publicity_id: Mapped[int] = mapped_column(ForeignKey("publicity.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), unique=True)   # None: approval
    cause: Mapped[str | None] = mapped_column(String(16))   # None: an upheld complaint; "approval": the city left it out
    position: Mapped[int]                                   # the place's rank (0-based) in the winner list
    removed_id: Mapped[int]                                 # the application removed from the place
    status: Mapped[str] = mapped_column(String(16), default="pending")   # pending | kept | voting | replace | vacant
    replacement_id: Mapped[int | None]
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))   # the replacement vote, if any
    reason: Mapped[str | None] = mapped_column(Text)
    referred_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    referred_at: Mapped[dt.datetime]
    decided_by: Mapped[str | None] = mapped_column(String(MEMBER_ID_MAX))
    decided_at: Mapped[dt.datetime | None]
    start: Mapped[dt.datetime | None]                       # the replacement's own notice window
    end: Mapped[dt.datetime | None]
    last_day: Mapped[str | None] = mapped_column(String(10))


class Certificate(Base):
    """A winner's numbered 证书 (由市政府表彰奖励，颁发奖牌和证书), issued once after the announcement."""

    __tablename__ = "award_certificate"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[int]
    number: Mapped[str] = mapped_column(String(32))
    issued_on: Mapped[str] = mapped_column(String(10))     # the date printed on it, ISO
    issued_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    issued_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "application_id"), UniqueConstraint("edition", "number"),
                      of_application())


class NoticePublication(Base):
    """One publication of the public notice (`what` = publicity) or of the award announcement (`award`) on a
    channel (portal, newspaper, TV, app): the day it appeared and its link; recorded by the secretariat."""

    __tablename__ = "notice_publication"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64), index=True)
    what: Mapped[str] = mapped_column(String(16))        # publicity | award
    channel: Mapped[str] = mapped_column(String(32))
    published_on: Mapped[dt.date]
    link: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    recorded_at: Mapped[dt.datetime]


class FeedbackRelease(Base):
    """An applicant's feedback report (反馈报告) released to it in chat, after the city's approval."""

    __tablename__ = "feedback_release"
    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))          # the Word file sent (in the document store)
    released_by: Mapped[str] = mapped_column(String(MEMBER_ID_MAX))
    released_at: Mapped[dt.datetime]

    __table_args__ = (UniqueConstraint("edition", "application_id"), of_application())
